// The online-payment station of the e2e tests: yizhan-paysim with freshly generated keys and the
// real yizhan serving the demo station with those merchant accounts configured.
#pragma once

#include <nlohmann/json.hpp>

#include <mutex>

#include "harness.hpp"

namespace yizhan::e2e {

using nlohmann::json;

inline std::string read_text(const fs::path& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), {});
}

inline std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
  return text;
}

/// A child process whose output goes to a log file; killed and reaped at scope exit.
class Child {
 public:
  Child(const std::vector<std::string>& arguments, const fs::path& log)
      : pid_(spawn(arguments, log)) {}
  ~Child() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(20ms);
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  /// kill -9 and reap; returns the wait status.
  int kill_now() {
    int status = 0;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
};

inline void wait_for_port(int port, const std::string& what, const fs::path& log) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    if (Connection(port, 1000ms).connected()) return;
    std::this_thread::sleep_for(50ms);
  }
  throw std::runtime_error(what + " did not start; log:\n" + read_text(log));
}

struct Reply {
  int status = 0;
  json body;
  std::string raw;
};

/// yizhan-paysim (keys generated here) and yizhan on the demo station, its [payments.*] the
/// toml that keygen wrote with the callbacks pointed at this yizhan. `extra_toml` is appended
/// to the configuration (e.g. an [orders] section); `wechat_code_pay_v2` charges WeChat codes
/// through v2 micropay/orderquery.
class PaymentStation {
 public:
  explicit PaymentStation(const std::string& schema_prefix = "yz_e2e_order_payment",
                          const std::string& extra_toml = {}, bool wechat_code_pay_v2 = false)
      : schema_(schema_prefix + "_" + std::to_string(::getpid())) {
    const char* socket = std::getenv("YIZHAN_TEST_DB_SOCKET");
    if (!socket) throw std::runtime_error("YIZHAN_TEST_DB_SOCKET is not set: run ./deploy/test");
    socket_ = socket;
    keys_ = dir_.path() / "keys";
    shell(std::string(YIZHAN_PAYSIM_BINARY) + " keygen '" + keys_.string() + "' --port " +
          std::to_string(sim_port_) + " 2>&1");
    simulator_.emplace(
        std::vector<std::string>{YIZHAN_PAYSIM_BINARY, "serve", "--keys", keys_.string(), "--port",
                                 std::to_string(sim_port_)},
        dir_.path() / "paysim.log");
    wait_for_port(sim_port_, "yizhan-paysim", dir_.path() / "paysim.log");

    // The simulator's toml says where its callbacks go: to this server, not to :8080.
    auto payments = replace_all(read_text(keys_ / "yizhan-payments.toml"), "http://127.0.0.1:8080/",
                                "http://127.0.0.1:" + std::to_string(port_) + "/");
    EXPECT_NE(payments.find("/api/v1/payments/wechat/notify"), std::string::npos) << payments;
    if (wechat_code_pay_v2) {
      EXPECT_NE(payments.find("code_pay_v2 = false"), std::string::npos) << payments;
      payments = replace_all(payments, "code_pay_v2 = false", "code_pay_v2 = true");
    }
    fs::create_directories(dir_.path() / "web");
    std::ofstream(dir_.path() / "web" / "index.html") << "<h1>驿站</h1>";
    config_ = dir_.path() / "yizhan.toml";
    std::ofstream(config_) << "[http]\naddress = \"127.0.0.1\"\nport = " << port_
                           << "\nweb_root = \"" << (dir_.path() / "web").string()
                           << "\"\n\n[database]\nsocket = \"" << socket_
                           << "\"\nuser = \"root\"\nschema = \"" << schema_ << "\"\n\n"
                           << payments << "\n"
                           << extra_toml << "\n";
    create_schema(socket_, schema_);
    command("migrate");
    const auto password_file = dir_.path() / "demo-password";
    command("seed-demo --password-file '" + password_file.string() + "'");
    std::getline(std::ifstream(password_file), password_);
    start_server();
  }

  ~PaymentStation() {
    server_.reset();
    try {
      shell("mariadb --no-defaults -uroot --socket='" + socket_ + "' -e 'DROP DATABASE IF EXISTS " +
            schema_ + "'");
    } catch (const std::exception&) {
    }
  }

  /// kill -9 of the server, then a fresh one on the same port and database.
  /// A server that does not come back fails the test and answers false, rather than throwing
  /// past the caller's running threads (std::terminate).
  bool kill_and_restart() {
    server_->kill_now();
    server_.reset();
    try {
      start_server();
      return true;
    } catch (const std::exception& error) {
      ADD_FAILURE() << error.what();
      return false;
    }
  }

  std::string command(const std::string& arguments) {
    return shell(std::string(YIZHAN_BINARY) + " " + arguments + " --config '" + config_.string() +
                 "' 2>&1");
  }

  /// `yizhan check`: its output and exit code.
  std::pair<std::string, int> check() {
    const auto output = shell(std::string(YIZHAN_BINARY) + " check --config '" + config_.string() +
                              "' 2>&1; echo \"exit=$?\"");
    const auto at = output.rfind("exit=");
    return {output.substr(0, at), std::stoi(output.substr(at + 5))};
  }

  void sql(const std::string& statement) {
    shell("mariadb --no-defaults -uroot --socket='" + socket_ + "' " + schema_ + " -e \"" +
          statement + "\"");
  }

  /// A query's rows, tab-separated, without headers.
  std::string query(const std::string& statement) {
    auto out = shell("mariadb --no-defaults -uroot -N -B --socket='" + socket_ + "' " + schema_ +
                     " -e \"" + statement + "\"");
    while (!out.empty() && out.back() == '\n')
      out.pop_back();
    return out;
  }

  Reply call(const std::string& method, const std::string& target, const std::string& as = "",
             const std::string& body = {}, std::vector<std::string> headers = {}) {
    headers.emplace_back("X-Requested-With: yizhan");
    if (!as.empty()) headers.push_back(cookie(as));
    if (!body.empty()) headers.emplace_back("Content-Type: application/json");
    return to_reply(fetch(port_, method, target, headers, body));
  }

  /// The simulator's control API.
  Reply simulator(const std::string& method, const std::string& target, const json& body = {}) {
    return to_reply(fetch(sim_port_, method, target, {"Content-Type: application/json"},
                          body.is_null() ? std::string() : body.dump()));
  }

  /// The simulator's record of a trade.
  json simulated(const std::string& out_trade_no) {
    for (const auto& order : simulator("GET", "/sim/orders").body)
      if (order["out_trade_no"] == out_trade_no) return order;
    return nullptr;
  }

  std::string log() { return read_text(dir_.path() / "yizhan.log"); }
  [[nodiscard]] const std::string& socket() const { return socket_; }
  [[nodiscard]] const std::string& schema() const { return schema_; }
  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] int simulator_port() const { return sim_port_; }

 private:
  void start_server() {
    server_.emplace(std::vector<std::string>{YIZHAN_BINARY, "serve", "--config", config_.string()},
                    dir_.path() / "yizhan.log");
    wait_for_port(port_, "yizhan", dir_.path() / "yizhan.log");
  }

  static Reply to_reply(const HttpResponse& response) {
    return {response.status, json::parse(response.body, nullptr, false), response.body};
  }

  std::string cookie(const std::string& username) {
    std::lock_guard lock(cookies_mutex_);
    auto& cookie = cookies_[username];
    if (cookie.empty()) {
      const auto login = fetch(port_, "POST", "/api/v1/auth/login",
                               {"Content-Type: application/json", "X-Requested-With: yizhan"},
                               json{{"username", username}, {"password", password_}}.dump());
      EXPECT_EQ(login.status, 200) << login.body;
      const auto header = login.header("set-cookie");
      cookie = "Cookie: " + header.substr(0, header.find(';'));
    }
    return cookie;
  }

  TempDir dir_;
  int sim_port_ = free_port();
  int port_ = free_port();
  std::string socket_;
  // A schema per process: ctest may run these tests side by side.
  std::string schema_;
  fs::path keys_;
  fs::path config_;
  std::string password_;
  std::mutex cookies_mutex_;
  std::map<std::string, std::string> cookies_;
  std::optional<Child> simulator_;
  std::optional<Child> server_;
};

}  // namespace yizhan::e2e
