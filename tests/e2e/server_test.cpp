// The real binary over HTTP: static files, validators, gzip, traversal, limits, garbage, slow
// clients, the operations endpoints and the error envelope.
#include <atomic>

#include "harness.hpp"

using namespace yizhan::e2e;

namespace {

const std::string kPage = "<!doctype html><html lang=\"zh-CN\"><title>驿站</title><body>" +
                          std::string(2000, 'x') + "</body></html>";

/// One server for the whole suite, on the shared test database, with a crafted web root.
class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir();
    const auto web = dir_->path() / "web";
    fs::create_directories(web / "css");
    std::ofstream(web / "index.html") << kPage;
    std::ofstream(web / "css" / "site.css") << "body { color: #333; }";
    std::ofstream(dir_->path() / "secret.txt") << "TOP-SECRET";
    fs::create_symlink(dir_->path() / "secret.txt", web / "leak.txt");
    const char* socket = std::getenv("YIZHAN_TEST_DB_SOCKET");
    if (!socket) throw std::runtime_error("YIZHAN_TEST_DB_SOCKET is not set: run ./deploy/test");
    create_schema(socket, "yz_e2e_server");
    server_ = new ServerProcess(dir_->path(), web, socket, "yz_e2e_server",
                                "request_timeout_ms = 1500\nheader_limit_bytes = 8192\n"
                                "body_limit_bytes = 65536\n");
  }
  static void TearDownTestSuite() {
    delete server_;
    delete dir_;
  }
  static int port() { return server_->port(); }

  static TempDir* dir_;
  static ServerProcess* server_;
};
TempDir* ServerTest::dir_ = nullptr;
ServerProcess* ServerTest::server_ = nullptr;

}  // namespace

TEST_F(ServerTest, ServesStaticFilesWithTypeAndValidators) {
  const auto page = fetch(port(), "GET", "/");
  EXPECT_EQ(page.status, 200);
  EXPECT_EQ(page.body, kPage);
  EXPECT_EQ(page.header("content-type"), "text/html; charset=utf-8");
  EXPECT_FALSE(page.header("etag").empty());
  EXPECT_FALSE(page.header("last-modified").empty());
  EXPECT_EQ(page.header("cache-control"), "no-cache");
  EXPECT_EQ(page.header("x-content-type-options"), "nosniff");
  const auto css = fetch(port(), "GET", "/css/site.css");
  EXPECT_EQ(css.header("content-type"), "text/css; charset=utf-8");
  EXPECT_NE(css.header("cache-control").find("max-age"), std::string::npos);
}

TEST_F(ServerTest, AnswersNotModifiedToMatchingValidators) {
  const auto page = fetch(port(), "GET", "/index.html");
  const auto by_etag =
      fetch(port(), "GET", "/index.html", {"If-None-Match: " + page.header("etag")});
  EXPECT_EQ(by_etag.status, 304);
  EXPECT_TRUE(by_etag.body.empty());
  const auto by_date =
      fetch(port(), "GET", "/index.html", {"If-Modified-Since: " + page.header("last-modified")});
  EXPECT_EQ(by_date.status, 304);
  const auto stale = fetch(port(), "GET", "/index.html", {"If-None-Match: \"nope\""});
  EXPECT_EQ(stale.status, 200);
}

TEST_F(ServerTest, CompressesWithGzipWhenTheClientAcceptsIt) {
  const auto zipped = fetch(port(), "GET", "/", {"Accept-Encoding: gzip, deflate, br"});
  EXPECT_EQ(zipped.status, 200);
  EXPECT_EQ(zipped.header("content-encoding"), "gzip");
  EXPECT_EQ(zipped.header("vary"), "Accept-Encoding");
  EXPECT_LT(zipped.body.size(), kPage.size());
  EXPECT_EQ(gunzip(zipped.body), kPage);
  const auto refused = fetch(port(), "GET", "/", {"Accept-Encoding: gzip;q=0"});
  EXPECT_EQ(refused.header("content-encoding"), "");
  EXPECT_EQ(refused.body, kPage);
  const auto revalidated = fetch(
      port(), "GET", "/", {"Accept-Encoding: gzip", "If-None-Match: " + zipped.header("etag")});
  EXPECT_EQ(revalidated.status, 304);
}

TEST_F(ServerTest, HeadSendsHeadersOnly) {
  Connection connection(port());
  connection.send("HEAD / HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto head = connection.read_response(true);
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->header("content-length"), std::to_string(kPage.size()));
  const auto next = connection.read_response();  // would be garbled had HEAD sent a body
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
  EXPECT_EQ(next->body, R"({"status":"ok"})");
}

TEST_F(ServerTest, NoPathLeavesTheWebRoot) {
  for (const char* target :
       {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt", "/..%2fsecret.txt",
        "/css/../../secret.txt", "/leak.txt", "//etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
        "/..\\secret.txt", "/index.html%00.txt"}) {
    Connection connection(port());
    connection.send(std::string("GET ") + target + " HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto response = connection.read_response();
    ASSERT_TRUE(response) << target;
    EXPECT_TRUE(response->status == 404 || response->status == 400)
        << target << " " << response->status;
    EXPECT_EQ(response->body.find("TOP-SECRET"), std::string::npos) << target;
    EXPECT_EQ(response->body.find("root:"), std::string::npos) << target;
  }
}

TEST_F(ServerTest, OversizedHeadersAndBodiesGet413AndALongTarget414) {
  Connection big_header(port());
  big_header.send("GET / HTTP/1.1\r\nHost: x\r\nX-Filler: " + std::string(20000, 'a') + "\r\n\r\n");
  const auto header_response = big_header.read_response();
  ASSERT_TRUE(header_response);
  EXPECT_EQ(header_response->status, 413);
  EXPECT_NE(header_response->body.find("\"too_large\""), std::string::npos);

  // A request line longer than the header limit: its target is what is too long.
  Connection long_target(port());
  long_target.send("GET /api/v1/products?q=" + std::string(20000, 'a') +
                   " HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto target_response = long_target.read_response();
  ASSERT_TRUE(target_response);
  EXPECT_EQ(target_response->status, 414);
  EXPECT_NE(target_response->body.find("\"uri_too_long\""), std::string::npos);

  Connection big_body(port());
  big_body.send("POST /api/v1/anything HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n");
  const auto body_response = big_body.read_response();
  ASSERT_TRUE(body_response);
  EXPECT_EQ(body_response->status, 413);
}

TEST_F(ServerTest, GarbageGets400AndTheServerCarriesOn) {
  for (const std::string& garbage :
       {std::string("GARBAGE\r\n\r\n"), std::string("GET / HTTP/9.9\r\n\r\n"),
        std::string("GET nothing HTTP/1.1\r\nHost: x\r\n\r\n"),
        std::string("GET / HTTP/1.1\r\nBad Header Line\r\n\r\n"),
        std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + std::string(300, '\xee') +
            "\r\n\r\n",
        std::string("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n")}) {
    Connection connection(port());
    connection.send(garbage);
    const auto response = connection.read_response();
    if (response) {
      EXPECT_EQ(response->status, 400) << garbage;
    }
  }
  EXPECT_EQ(fetch(port(), "GET", "/healthz").status, 200);
}

TEST_F(ServerTest, ASlowClientIsDroppedWhileOthersAreServed) {
  Connection slow(port(), 4000ms);
  std::atomic<bool> dropped{false};
  std::thread trickle([&] {
    const std::string request = "GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ";
    for (int i = 0; i < 60 && !dropped; ++i) {
      if (!slow.send(std::string(1, request[static_cast<std::size_t>(i) % request.size()]))) break;
      std::this_thread::sleep_for(100ms);
    }
  });
  // Meanwhile others are served promptly.
  for (int i = 0; i < 10; ++i) {
    const auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(fetch(port(), "GET", "/healthz").status, 200);
    EXPECT_LT(std::chrono::steady_clock::now() - started, 500ms);
  }
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(slow.closed_by_server());
  dropped = true;
  trickle.join();
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3000ms)
      << "request_timeout is 1.5 s: the trickling client must be cut off";
}

TEST_F(ServerTest, KeepsConnectionsAlive) {
  Connection connection(port());
  for (int i = 0; i < 3; ++i) {
    connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    const auto response = connection.read_response();
    ASSERT_TRUE(response) << i;
    EXPECT_EQ(response->status, 200);
  }
}

TEST_F(ServerTest, UnknownApiPathsAnswerTheJsonEnvelope) {
  const auto missing = fetch(port(), "GET", "/api/v1/no-such-thing");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.header("content-type").find("application/json"), std::string::npos);
  EXPECT_NE(missing.body.find(R"("code":"not_found")"), std::string::npos);
  const auto wrong_method = fetch(port(), "DELETE", "/healthz");
  EXPECT_EQ(wrong_method.status, 405);
  const auto static_post = fetch(port(), "POST", "/index.html");
  EXPECT_EQ(static_post.status, 405);
}

TEST_F(ServerTest, OperationsEndpointsAnswer) {
  EXPECT_EQ(fetch(port(), "GET", "/healthz").status, 200);
  const auto ready = fetch(port(), "GET", "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  const auto openapi = fetch(port(), "GET", "/api/openapi.json");
  EXPECT_EQ(openapi.status, 200);
  EXPECT_NE(openapi.body.find("\"openapi\""), std::string::npos);
  const auto metrics = fetch(port(), "GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find(
                "yizhan_http_requests_total{route=\"/readyz\",method=\"GET\",status=\"200\"}"),
            std::string::npos);
  EXPECT_NE(metrics.body.find("yizhan_http_request_duration_seconds_bucket"), std::string::npos);
  EXPECT_NE(metrics.body.find("yizhan_db_pool_connections{state=\"idle\"}"), std::string::npos);
  EXPECT_NE(metrics.body.find("yizhan_db_errors_total"), std::string::npos);
}

TEST_F(ServerTest, EveryResponseCarriesItsOwnRequestId) {
  const auto page = fetch(port(), "GET", "/");
  const auto probe = fetch(port(), "GET", "/healthz");
  const auto missing = fetch(port(), "GET", "/api/v1/no-such-thing");
  EXPECT_FALSE(page.header("x-request-id").empty());
  EXPECT_FALSE(probe.header("x-request-id").empty());
  EXPECT_NE(page.header("x-request-id"), probe.header("x-request-id"));
  EXPECT_NE(probe.header("x-request-id"), missing.header("x-request-id"));
}

TEST_F(ServerTest, MediaAndMetricsAreRoutesOfTheRouter) {
  const auto media = fetch(port(), "GET", "/media/no-such-photo.webp");
  EXPECT_EQ(media.status, 404);
  EXPECT_NE(media.body.find(R"("code":"not_found")"), std::string::npos);
  const auto post = fetch(port(), "POST", "/metrics");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(post.header("allow"), "GET, HEAD");
}

TEST(ConnectionCap, ConnectionsOverTheCapAreRefusedAndTheServerRecovers) {
  TestServer test_server("yz_e2e_cap", "max_connections = 4\nrequest_timeout_ms = 5000\n");
  auto& server = test_server.process();
  std::vector<std::unique_ptr<Connection>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<Connection>(server.port(), 2000ms));
    held.back()->send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(held.back()->read_response()) << "connection " << i << " is served";
  }
  Connection over(server.port(), 2000ms);
  over.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_FALSE(over.read_response()) << "the fifth connection is closed unanswered";
  held.pop_back();
  std::this_thread::sleep_for(200ms);
  EXPECT_EQ(fetch(server.port(), "GET", "/healthz").status, 200) << "a freed slot is usable again";
}

TEST(Compression, ApiResponsesAreGzippedAndStillRevalidate) {
  TestServer test_server("yz_e2e_gzip");
  (void)test_server.process().command("seed-demo --password-file '" +
                                      (test_server.dir() / "pw").string() + "'");
  const std::string target = "/api/v1/products?page_size=20";
  const auto plain = fetch(test_server.port(), "GET", target);
  ASSERT_EQ(plain.status, 200);
  EXPECT_EQ(plain.header("content-encoding"), "");
  ASSERT_GT(plain.body.size(), 1024u);
  const auto zipped = fetch(test_server.port(), "GET", target, {"Accept-Encoding: gzip"});
  EXPECT_EQ(zipped.header("content-encoding"), "gzip");
  EXPECT_EQ(zipped.header("vary"), "Accept-Encoding");
  EXPECT_LT(zipped.body.size() * 3, plain.body.size()) << "JSON compresses well";
  EXPECT_EQ(gunzip(zipped.body), plain.body);
  const auto etag = zipped.header("etag");
  EXPECT_TRUE(etag.starts_with("W/")) << etag;
  EXPECT_EQ(
      fetch(test_server.port(), "GET", target, {"Accept-Encoding: gzip", "If-None-Match: " + etag})
          .status,
      304);
  const auto small = fetch(test_server.port(), "GET", "/healthz", {"Accept-Encoding: gzip"});
  EXPECT_EQ(small.header("content-encoding"), "") << "tiny bodies are sent as they are";
}
