// The real binary on its own MariaDB: 503 while the database is down, recovery without a
// restart, and graceful shutdown with a request in flight.
#include "harness.hpp"

using namespace yizhan::e2e;

namespace {

/// A MariaDB of this test's own (deploy/mariadb-private), so it can be stopped and paused.
class PrivateMariaDb {
 public:
  explicit PrivateMariaDb(const fs::path& dir) : dir_(dir), port_(free_port()) { start(); }
  ~PrivateMariaDb() {
    try {
      run("stop");
    } catch (...) {
    }
  }
  void start() {
    socket_ = shell(script() + " start '" + dir_.string() + "' " + std::to_string(port_));
    while (!socket_.empty() && (socket_.back() == '\n'))
      socket_.pop_back();
  }
  void run(const std::string& command) {
    shell(script() + " " + command + " '" + dir_.string() + "'");
  }
  [[nodiscard]] const std::string& socket() const { return socket_; }

 private:
  static std::string script() { return source_dir() + "/deploy/mariadb-private 2>/dev/null"; }
  fs::path dir_;
  int port_;
  std::string socket_;
};

}  // namespace

TEST(DatabaseOutage, ReadyzIs503QuicklyWhileDownAndRecoversWhenBack) {
  TempDir dir;
  fs::create_directories(dir.path() / "web");
  std::ofstream(dir.path() / "web" / "index.html") << "<h1>驿站</h1>";
  PrivateMariaDb database(dir.path() / "db");
  create_schema(database.socket(), "yizhan");
  ServerProcess server(dir.path(), dir.path() / "web", database.socket(), "yizhan", "",
                       "connect_timeout_ms = 1000\nread_timeout_seconds = 3\n");
  ASSERT_EQ(fetch(server.port(), "GET", "/readyz").status, 200);

  database.run("stop");
  for (int i = 0; i < 3; ++i) {
    const auto started = std::chrono::steady_clock::now();
    const auto down = fetch(server.port(), "GET", "/readyz");
    EXPECT_EQ(down.status, 503);
    EXPECT_NE(down.body.find(R"("code":"unavailable")"), std::string::npos);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 1500ms) << "no hang while down";
  }
  EXPECT_EQ(fetch(server.port(), "GET", "/healthz").status, 200) << "the process is alive";
  EXPECT_EQ(fetch(server.port(), "GET", "/").status, 200) << "static files do not need the DB";

  database.start();
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + 15s;
  while (status != 200 && std::chrono::steady_clock::now() < deadline) {
    status = fetch(server.port(), "GET", "/readyz").status;
    if (status != 200) std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(status, 200) << "served again without a restart";
}

TEST(GracefulShutdown, FinishesTheRequestInFlightThenExitsZero) {
  TempDir dir;
  fs::create_directories(dir.path() / "web");
  std::ofstream(dir.path() / "web" / "index.html") << "<h1>驿站</h1>";
  PrivateMariaDb database(dir.path() / "db");
  create_schema(database.socket(), "yizhan");
  ServerProcess server(dir.path(), dir.path() / "web", database.socket(), "yizhan",
                       "shutdown_grace_ms = 10000\n", "read_timeout_seconds = 30\n");
  ASSERT_EQ(fetch(server.port(), "GET", "/readyz").status, 200);

  // Freeze the database so that the next request stays in flight inside the server.
  database.run("pause");
  Connection in_flight(server.port(), 15000ms);
  in_flight.send("GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n");
  Connection idle(server.port(), 5000ms);  // keep-alive connection waiting for a request
  std::this_thread::sleep_for(300ms);
  server.signal(SIGTERM);
  std::this_thread::sleep_for(500ms);

  EXPECT_TRUE(idle.closed_by_server()) << "idle connections are closed at once";
  EXPECT_FALSE(Connection(server.port(), 500ms).connected()) << "no new connections";
  database.run("resume");

  const auto response = in_flight.read_response();
  ASSERT_TRUE(response) << server.log();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->header("connection"), "close");
  EXPECT_EQ(server.wait_for_exit(), 0) << server.log();
}
