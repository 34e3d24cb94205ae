// kill -9 of the real server in the middle of a stream of counter sales: after a restart, every
// key whose answer was lost is retried with the same body; each sale then exists exactly once,
// every answered key replays its first answer, and `yizhan check` finds the books in agreement.
#include <gtest/gtest.h>

#include <atomic>
#include <csignal>
#include <mutex>
#include <nlohmann/json.hpp>

#include "harness.hpp"

using namespace yizhan::e2e;
using nlohmann::json;

namespace {

constexpr const char* kSchema = "yz_e2e_crash";

std::string sql_value(const std::string& query) {
  auto out = shell("mariadb --no-defaults -uroot -N -B --socket='" +
                   std::string(std::getenv("YIZHAN_TEST_DB_SOCKET")) + "' " + kSchema + " -e \"" +
                   query + "\"");
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r'))
    out.pop_back();
  return out;
}

struct Attempt {
  std::string key;
  std::string body;
  int status = 0;  ///< 0: no answer reached the client
  std::string answer;
};

HttpResponse sell(int port, const std::string& cookie, const Attempt& attempt) {
  return fetch(port, "POST", "/api/v1/pos/sales",
               {"X-Requested-With: yizhan", "Content-Type: application/json", cookie,
                "Idempotency-Key: " + attempt.key},
               attempt.body);
}

}  // namespace

TEST(Crash, SalesCutOffByKillNineExistOnceAfterRetriesAndTheBooksAgree) {
  TempDir dir;
  fs::create_directories(dir.path() / "web");
  std::ofstream(dir.path() / "web" / "index.html") << "<h1>驿站</h1>";
  const char* socket = std::getenv("YIZHAN_TEST_DB_SOCKET");
  ASSERT_NE(socket, nullptr);
  create_schema(socket, kSchema);

  auto server = std::make_unique<ServerProcess>(dir.path(), dir.path() / "web", socket, kSchema);
  const auto password_file = dir.path() / "demo-password";
  (void)server->command("seed-demo --password-file '" + password_file.string() + "'");
  std::string password;
  std::getline(std::ifstream(password_file), password);

  const auto login = fetch(server->port(), "POST", "/api/v1/auth/login",
                           {"Content-Type: application/json", "X-Requested-With: yizhan"},
                           json{{"username", "cashier1"}, {"password", password}}.dump());
  ASSERT_EQ(login.status, 200) << login.body;
  const auto set_cookie = login.header("set-cookie");
  const std::string cookie = "Cookie: " + set_cookie.substr(0, set_cookie.find(';'));
  const auto shift = fetch(server->port(), "POST", "/api/v1/pos/shifts",
                           {"X-Requested-With: yizhan", "Content-Type: application/json", cookie},
                           json{{"register", "柜台1"}, {"float_fen", 10000}}.dump());
  ASSERT_EQ(shift.status, 201) << shift.body;

  // The piece product with the most stock, so the stream never runs out.
  const auto product = sql_value(
      "SELECT CONCAT(p.id, ' ', p.price_fen) FROM products p JOIN stock_levels s ON "
      "s.product_id = p.id JOIN villages v ON v.id = p.village_id WHERE p.unit = 'piece' AND "
      "p.active AND v.active AND NOT EXISTS (SELECT 1 FROM stock_lots l WHERE l.product_id = "
      "p.id AND l.remaining > 0 AND l.expires_on < CURDATE()) ORDER BY s.on_hand DESC LIMIT 1");
  const auto space = product.find(' ');
  ASSERT_NE(space, std::string::npos) << product;
  const auto product_id = std::stoll(product.substr(0, space));
  const auto price = std::stoll(product.substr(space + 1));

  // Four counters ring up sales until the server dies under them.
  std::vector<Attempt> attempts;
  std::mutex mutex;
  std::atomic<bool> dead{false};
  std::atomic<int> answered{0};
  std::vector<std::thread> counters;
  const int port = server->port();
  for (int c = 0; c < 4; ++c)
    counters.emplace_back([&, c] {
      for (int i = 0; !dead.load(); ++i) {
        Attempt attempt;
        attempt.key = "crash-" + std::to_string(c) + "-" + std::to_string(i);
        attempt.body = json{{"lines", {{{"product_id", product_id}, {"quantity", 1}}}},
                            {"tenders", {{{"method", "cash"}, {"amount_fen", price}}}}}
                           .dump();
        try {
          const auto reply = sell(port, cookie, attempt);
          attempt.status = reply.status;
          attempt.answer = reply.body;
          if (reply.status == 201) ++answered;
        } catch (const std::exception&) {
          attempt.status = 0;  // cut off: the outcome is unknown to the client
        }
        const std::lock_guard lock(mutex);
        attempts.push_back(std::move(attempt));
        if (attempts.back().status == 0 && dead.load()) return;
      }
    });
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (answered.load() < 40 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  server->signal(SIGKILL);
  dead = true;
  for (auto& counter : counters)
    counter.join();
  EXPECT_EQ(server->wait_for_exit(), 128 + SIGKILL);
  ASSERT_GE(answered.load(), 40);

  // Restart on the same database; the session survives (it lives there too).
  server.reset();
  server = std::make_unique<ServerProcess>(dir.path(), dir.path() / "web", socket, kSchema);
  int retried = 0;
  for (auto& attempt : attempts) {
    if (attempt.status != 0 && attempt.status != 201) {
      ADD_FAILURE() << attempt.key << " answered " << attempt.status << ": " << attempt.answer;
      continue;
    }
    const auto again = sell(server->port(), cookie, attempt);
    EXPECT_EQ(again.status, 201) << attempt.key << ": " << again.body;
    if (attempt.status == 201) {
      EXPECT_EQ(again.body, attempt.answer) << attempt.key << " must replay its first answer";
      EXPECT_EQ(again.header("idempotent-replayed"), "true") << attempt.key;
    } else {
      ++retried;
    }
  }
  std::cout << attempts.size() << " sales, " << retried << " cut off by kill -9 and retried\n";

  // Exactly one sale per key, whatever happened to its first attempt.
  EXPECT_EQ(std::stoll(sql_value("SELECT COUNT(*) FROM sales")),
            static_cast<long long>(attempts.size()));
  EXPECT_EQ(std::stoll(sql_value("SELECT COUNT(*) FROM idempotency_keys WHERE scope LIKE "
                                 "'POST /api/v1/pos/sales%'")),
            static_cast<long long>(attempts.size()));
  const auto check = shell(std::string(YIZHAN_BINARY) + " check --config '" +
                           (dir.path() / "yizhan.toml").string() + "' 2>&1; echo \"exit=$?\"");
  EXPECT_NE(check.find("exit=0"), std::string::npos) << check;
}
