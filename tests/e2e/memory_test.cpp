// Resident memory and the catalog under a sign-in flood, on the real binary with the demo data.
#include <dirent.h>

#include <algorithm>
#include <atomic>
#include <optional>

#include "harness.hpp"

using namespace yizhan::e2e;

namespace {

#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

/// The pid of the `yizhan serve` whose command line names `config` (each test has its own).
pid_t server_pid(const fs::path& config) {
  DIR* proc = ::opendir("/proc");
  pid_t found = -1;
  while (dirent* entry = ::readdir(proc)) {
    const pid_t pid = std::atoi(entry->d_name);
    if (pid <= 0) continue;
    std::ifstream file("/proc/" + std::string(entry->d_name) + "/cmdline");
    std::string cmdline(std::istreambuf_iterator<char>(file), {});
    if (cmdline.find("serve") != std::string::npos &&
        cmdline.find(config.string()) != std::string::npos) {
      found = pid;
    }
  }
  ::closedir(proc);
  return found;
}

/// VmRSS of `pid` in MiB.
double resident_mib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stod(line.substr(6)) / 1024.0;
  }
  return -1;
}

struct DemoServer {
  explicit DemoServer(const std::string& schema) : server(schema) {
    const auto password_file = server.dir() / "demo-password";
    (void)server.process().command("seed-demo --password-file '" + password_file.string() + "'");
    std::getline(std::ifstream(password_file), password);
    pid = server_pid(server.dir() / "yizhan.toml");
  }
  TestServer server;
  std::string password;
  pid_t pid = -1;
};

const std::vector<std::string> kJson{"Content-Type: application/json", "X-Requested-With: yizhan"};

int login(int port, const std::string& username, const std::string& password) {
  return fetch(port, "POST", "/api/v1/auth/login", kJson,
               R"({"username":")" + username + R"(","password":")" + password + R"("})")
      .status;
}

double catalog_ms(int port) {
  const auto started = std::chrono::steady_clock::now();
  const auto response = fetch(port, "GET", "/api/v1/products?page_size=20");
  EXPECT_EQ(response.status, 200);
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
      .count();
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

TEST(ResidentMemory, FortySignInsAndCatalogLoadLeaveItBounded) {
  DemoServer demo("yz_e2e_memory");
  ASSERT_GT(demo.pid, 0) << "cannot find the server process";
  const int port = demo.server.port();
  const double at_start = resident_mib(demo.pid);
  // Warm up: every code path once, so the baseline holds the caches and pools.
  ASSERT_EQ(login(port, "admin", demo.password), 200);
  for (int i = 0; i < 100; ++i)
    (void)catalog_ms(port);
  const double baseline = resident_mib(demo.pid);

  // 40 sign-ins, 8 at a time (32 right, 8 wrong), with catalog reads in between.
  const std::vector<std::string> users{"admin",   "cashier1", "yaoqian", "renshou",
                                       "xingcuo", "dongli",   "anping",  "batou"};
  std::vector<std::thread> clients;
  std::atomic<int> unexpected{0};
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 5; ++i) {
        const bool wrong = i == 4;
        const int status = login(port, users[c], wrong ? "not the password" : demo.password);
        if (status != (wrong ? 401 : 200) && status != 503) ++unexpected;
        (void)fetch(port, "GET", "/api/v1/products?page_size=20");
      }
    });
  }
  for (auto& client : clients)
    client.join();
  EXPECT_EQ(unexpected.load(), 0);
  const double after = resident_mib(demo.pid);
  std::printf("resident memory: %.1f MiB at start, %.1f MiB warm, %.1f MiB after 40 sign-ins%s\n",
              at_start, baseline, after, kAddressSanitizer ? " (AddressSanitizer build)" : "");
  // Each argon2id hash takes 19 MiB; from the heap it stayed in the hashing thread's arena.
  if (kAddressSanitizer) {
    // ASan keeps up to 256 MiB of freed heap in its quarantine: the 19 MiB hash blocks filled
    // it (+250 MiB); ordinary request churn of 40 sign-ins is about 45 MiB. The 64 MiB bound is
    // for the release binary (tests/bench/memory.sh, or this test in a release build).
    EXPECT_LT(after - baseline, 100.0) << "grew by " << after - baseline << " MiB";
  } else {
    EXPECT_LT(after - baseline, 20.0) << "grew by " << after - baseline << " MiB";
    EXPECT_LT(after, 64.0);
  }
}

TEST(LoginFlood, TheCatalogStaysFastWhileSixtyFourClientsAttack) {
  DemoServer demo("yz_e2e_login_flood");
  const int port = demo.server.port();
  std::vector<double> quiet;
  for (int i = 0; i < 30; ++i)
    quiet.push_back(catalog_ms(port));

  std::atomic<bool> stop{false};
  std::atomic<int> attempts{0};
  std::atomic<int> server_errors{0};
  std::vector<std::thread> attackers;
  for (int a = 0; a < 64; ++a) {
    attackers.emplace_back([&, a] {
      // Keep-alive, as a scripted attacker would: one connection, request after request.
      std::optional<Connection> connection;
      for (int i = 0; !stop; ++i) {
        if (!connection) connection.emplace(port, 10000ms);
        const std::string body = R"({"username":")" +
                                 (a % 2 ? std::string("admin") : "guess" + std::to_string(i)) +
                                 R"(","password":"wrong password"})";
        connection->send(
            "POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\n"
            "Content-Type: application/json\r\nX-Requested-With: yizhan\r\n"
            "Content-Length: " +
            std::to_string(body.size()) + "\r\n\r\n" + body);
        const auto response = connection->read_response();
        if (!response || response->header("connection") == "close") connection.reset();
        if (response && response->status >= 500 && response->status != 503) ++server_errors;
        ++attempts;
      }
    });
  }
  while (attempts < 200)
    std::this_thread::sleep_for(10ms);
  std::vector<double> attacked;
  for (int i = 0; i < 30; ++i)
    attacked.push_back(catalog_ms(port));
  stop = true;
  for (auto& attacker : attackers)
    attacker.join();
  std::printf("catalog median %.1f ms quiet, %.1f ms while 64 clients sign in wrongly (%d tries)\n",
              median(quiet), median(attacked), attempts.load());
  EXPECT_EQ(server_errors.load(), 0);
  // Before: 2 ms quiet, ~925 ms under attack (hashes on the database workers). Release now:
  // 0.5 ms quiet, 6 ms under a 20k req/s flood (tests/bench/memory.sh). Under ASan the 64
  // instrumented client threads and the server share two cores, so the bound is looser there.
  EXPECT_LT(median(attacked), kAddressSanitizer ? 300.0 : 50.0);
}
