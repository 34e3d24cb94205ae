// The HTTP server in this process with routes made for the test: deadlines, body limits and the
// upload route, RFC 9112 strictness, request ids, access logs and trusted proxies.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "e2e/harness.hpp"
#include "yizhan/api/error.hpp"
#include "yizhan/api/router.hpp"
#include "yizhan/http/metrics.hpp"
#include "yizhan/http/server.hpp"
#include "yizhan/http/static_files.hpp"

using namespace yizhan;
using namespace std::chrono_literals;
using e2e::Connection;
using e2e::fetch;

namespace {

/// Log lines written while a test runs.
class CapturedLog {
 public:
  CapturedLog() {
    previous_ = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(stream_, true);
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_pattern("%v");
    logger->set_level(spdlog::level::info);
    spdlog::set_default_logger(logger);
  }
  ~CapturedLog() { spdlog::set_default_logger(previous_); }
  std::string text() {
    spdlog::default_logger()->flush();
    return stream_.str();
  }

 private:
  std::ostringstream stream_;
  std::shared_ptr<spdlog::logger> previous_;
};

/// Routes for the tests. The authenticator knows one admin session, "admin-token".
api::Router test_router(std::atomic<int>& started) {
  api::Router router;
  router.set_authenticator([](std::string_view token) -> std::optional<domain::Principal> {
    if (token != "admin-token") return std::nullopt;
    return domain::Principal{1, "admin", domain::Role::admin, std::nullopt};
  });
  using api::Access;
  using api::Executor;
  router.add({"GET", "/healthz", Access::anyone, Executor::inline_io, [](const api::Request&) {
                api::Response response;
                response.body = R"({"status":"ok"})";
                return response;
              }});
  router.add({"GET", "/api/slow", Access::anyone, Executor::database, [](const api::Request&) {
                std::this_thread::sleep_for(700ms);
                api::Response response;
                response.body = std::string(256 * 1024, 's');
                return response;
              }});
  router.add({"GET", "/api/big", Access::anyone, Executor::database, [](const api::Request&) {
                api::Response response;
                response.content_type = "application/octet-stream";
                response.body = std::string(64 * 1024 * 1024, 'b');
                return response;
              }});
  router.add({"GET", "/api/block", Access::anyone, Executor::database, [](const api::Request&) {
                std::this_thread::sleep_for(1000ms);
                return api::Response{};
              }});
  router.add(
      {"GET", "/api/count", Access::anyone, Executor::database, [&started](const api::Request&) {
         ++started;
         return api::Response{};
       }});
  router.add({"POST", "/api/echo-size", Access::anyone, Executor::database,
              [](const api::Request& request) {
                api::Response response;
                response.body = std::to_string(request.body.size());
                return response;
              }});
  router.add({"POST", "/api/upload", Access::admin, Executor::database,
              [](const api::Request& request) {
                api::Response response;
                response.body = std::to_string(request.body.size());
                return response;
              },
              api::BodyLimit::upload});
  router.add(
      {"GET", "/api/whoami", Access::anyone, Executor::inline_io, [](const api::Request& request) {
         api::Response response;
         response.body =
             request.client_address + (request.tls ? " tls" : " plain") + " " + request.request_id;
         return response;
       }});
  // A quick route answers the thread it ran on, so tests can see where connections live.
  router.add(
      {"POST", "/api/quick", Access::anyone, Executor::quick, [](const api::Request& request) {
         std::ostringstream thread;
         thread << std::this_thread::get_id();
         api::Response response;
         response.body = std::to_string(request.body.size()) + " " + thread.str();
         return response;
       }});
  router.add({"GET", "/api/quick-slow", Access::anyone, Executor::quick, [](const api::Request&) {
                std::this_thread::sleep_for(400ms);
                return api::Response{};
              }});
  router.add({"GET", "/api/quick-throws", Access::anyone, Executor::quick,
              [](const api::Request&) -> api::Response { throw 42; }});
  router.add({"GET", "/api/throws", Access::anyone, Executor::database,
              [](const api::Request&) -> api::Response { throw 42; }});
  router.add({"GET", "/api/throws-inline", Access::anyone, Executor::inline_io,
              [](const api::Request&) -> api::Response { throw 42; }});
  return router;
}

/// A server on a free port, serving a one-page web root and the routes above.
class InProcessServer {
 public:
  explicit InProcessServer(HttpConfig config = {}, int workers = 2)
      : router_(test_router(started_)), files_(make_root(dir_), {}, config.static_cache_bytes) {
    config.address = "127.0.0.1";
    config.port = 0;
    config.io_threads = 2;
    config.shutdown_grace = 2000ms;
    server_.emplace(config, http::ServerParts{router_, files_, metrics_, workers});
    server_->listen();
    thread_ = std::thread([this] { server_->run(); });
  }
  ~InProcessServer() {
    server_->stop();
    thread_.join();
  }
  [[nodiscard]] int port() const { return server_->port(); }
  [[nodiscard]] int started() const { return started_; }
  http::Metrics& metrics() { return metrics_; }

 private:
  static std::filesystem::path make_root(const e2e::TempDir& dir) {
    std::ofstream(dir.path() / "index.html") << "<h1>驿站</h1>";
    return dir.path();
  }

  std::atomic<int> started_{0};
  e2e::TempDir dir_;
  api::Router router_;
  http::StaticFiles files_;
  http::Metrics metrics_;
  std::optional<http::Server> server_;
  std::thread thread_;
};

std::string request(const std::string& method, const std::string& target,
                    const std::string& extra_headers = {}) {
  return method + " " + target + " HTTP/1.1\r\nHost: x\r\n" + extra_headers + "\r\n";
}

}  // namespace

// --- deadlines --------------------------------------------------------------------------------

TEST(Deadlines, ARequestArrivingJustBeforeTheReadDeadlineGetsItsWholeResponse) {
  HttpConfig config;
  config.request_timeout = 1000ms;
  InProcessServer server(config);
  Connection connection(server.port(), 10000ms);
  std::this_thread::sleep_for(700ms);            // idle, 300 ms of the read deadline left
  connection.send(request("GET", "/api/slow"));  // takes 700 ms to answer
  const auto response = connection.read_response();
  ASSERT_TRUE(response) << "the read deadline must not fire while the request is handled";
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body.size(), 256u * 1024);
}

TEST(Deadlines, AClientThatStopsReadingIsCutAfterTheWriteDeadline) {
  HttpConfig config;
  config.request_timeout = 30000ms;
  config.write_timeout = 500ms;
  InProcessServer server(config);
  Connection connection(server.port(), 10000ms);
  connection.send(request("GET", "/api/big"));
  std::this_thread::sleep_for(2000ms);  // reads nothing, well past the write deadline
  const auto received = connection.drain(10000ms);
  EXPECT_LT(received, 64u * 1024 * 1024) << "the server must have given up writing";
}

TEST(Deadlines, WorkThatWaitedInTheQueuePastItsDeadlineIsNotStarted) {
  HttpConfig config;
  config.handler_timeout = 300ms;
  InProcessServer server(config, 1);  // one worker
  Connection blocker(server.port(), 10000ms);
  blocker.send(request("GET", "/api/block"));  // holds the only worker for a second
  std::this_thread::sleep_for(100ms);
  const auto queued = fetch(server.port(), "GET", "/api/count");
  EXPECT_EQ(queued.status, 503);
  EXPECT_NE(queued.body.find("\"unavailable\""), std::string::npos);
  EXPECT_EQ(server.started(), 0) << "work past its deadline must not run";
  ASSERT_TRUE(blocker.read_response());
  EXPECT_EQ(fetch(server.port(), "GET", "/api/count").status, 200);
  EXPECT_EQ(server.started(), 1);
}

// --- body limits ------------------------------------------------------------------------------

TEST(BodyLimit, AClientThatWritesAWholeOversizedBodyStillReadsThe413) {
  InProcessServer server;  // 64 KiB by default
  Connection connection(server.port(), 10000ms);
  const std::string body(1024 * 1024, 'x');
  connection.send(
      request("POST", "/api/echo-size", "Content-Length: " + std::to_string(body.size()) + "\r\n") +
      body);
  const auto response = connection.read_response();
  ASSERT_TRUE(response) << "the client must see the 413, not a reset";
  EXPECT_EQ(response->status, 413);
  EXPECT_NE(response->body.find("\"too_large\""), std::string::npos);
  EXPECT_EQ(response->body.back(), '}') << "the whole JSON body arrives";
}

TEST(BodyLimit, TheDefaultIs64KiB) {
  InProcessServer server;
  EXPECT_EQ(fetch(server.port(), "POST", "/api/echo-size", {}, std::string(64 * 1024, 'x')).body,
            "65536");
  EXPECT_EQ(
      fetch(server.port(), "POST", "/api/echo-size", {}, std::string(64 * 1024 + 1, 'x')).status,
      413);
}

TEST(BodyLimit, AnonymousUploadIsRefusedBeforeItsBodyIsRead) {
  InProcessServer server;
  Connection connection(server.port(), 5000ms);
  // Announces 3 MiB and sends none of it: only an answer without reading can arrive.
  connection.send(request("POST", "/api/upload", "Content-Length: 3145728\r\n"));
  const auto response = connection.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 401);
}

TEST(BodyLimit, TheUploadRouteAloneTakesALargeBodyFromASignedInAdmin) {
  InProcessServer server;
  const std::string photo(1024 * 1024, 'p');
  const std::vector<std::string> admin{"Cookie: yz_session=admin-token",
                                       "X-Requested-With: yizhan"};
  const auto uploaded = fetch(server.port(), "POST", "/api/upload", admin, photo);
  EXPECT_EQ(uploaded.status, 200);
  EXPECT_EQ(uploaded.body, std::to_string(photo.size()));
  EXPECT_EQ(fetch(server.port(), "POST", "/api/echo-size", admin, photo).status, 413);
  const auto too_big = fetch(server.port(), "POST", "/api/upload", admin,
                             std::string(HttpConfig{}.upload_body_limit_bytes + 1, 'p'));
  EXPECT_EQ(too_big.status, 413);
}

// --- RFC 9112 ---------------------------------------------------------------------------------

TEST(Strictness, TransferEncodingThatDoesNotEndInChunkedIs400AndCloses) {
  InProcessServer server;
  for (const std::string coding : {"gzip", "chunked, gzip", "identity"}) {
    Connection connection(server.port());
    connection.send(request("POST", "/api/echo-size", "Transfer-Encoding: " + coding + "\r\n") +
                    "5\r\nhello\r\n0\r\n\r\n");
    const auto response = connection.read_response();
    ASSERT_TRUE(response) << coding;
    EXPECT_EQ(response->status, 400) << coding;
    EXPECT_EQ(response->header("connection"), "close") << coding;
  }
  Connection chunked(server.port());
  chunked.send(request("POST", "/api/echo-size", "Transfer-Encoding: chunked\r\n") +
               "5\r\nhello\r\n0\r\n\r\n");
  const auto response = chunked.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->body, "5");
}

TEST(Strictness, MissingOrDuplicateHostIs400) {
  InProcessServer server;
  for (const std::string& raw : {std::string("GET /healthz HTTP/1.1\r\n\r\n"),
                                 std::string("GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
                                 std::string("GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n")}) {
    Connection connection(server.port());
    connection.send(raw);
    const auto response = connection.read_response();
    ASSERT_TRUE(response) << raw;
    EXPECT_EQ(response->status, 400) << raw;
  }
  Connection old(server.port());
  old.send("GET /healthz HTTP/1.0\r\n\r\n");
  const auto response = old.read_response();
  ASSERT_TRUE(response);
  EXPECT_EQ(response->status, 200) << "HTTP/1.0 needs no Host";
}

TEST(Strictness, ObsoleteLineFoldingIs400) {
  InProcessServer server;
  for (const std::string& fold : {std::string(" folded"), std::string("\tfolded")}) {
    Connection connection(server.port());
    connection.send("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Note: a\r\n" + fold + "\r\n\r\n");
    const auto response = connection.read_response();
    ASSERT_TRUE(response);
    EXPECT_EQ(response->status, 400);
  }
}

TEST(Strictness, MethodNotAllowedNamesTheAllowedMethods) {
  InProcessServer server;
  const auto api = fetch(server.port(), "DELETE", "/api/whoami");
  EXPECT_EQ(api.status, 405);
  EXPECT_EQ(api.header("allow"), "GET, HEAD");
  const auto file = fetch(server.port(), "POST", "/index.html");
  EXPECT_EQ(file.status, 405);
  EXPECT_EQ(file.header("allow"), "GET, HEAD");
}

// --- request ids, logs, proxies ---------------------------------------------------------------

TEST(RequestId, EveryResponseCarriesItsOwnAndUntrustedPeersCannotChooseIt) {
  InProcessServer server;
  const auto first = fetch(server.port(), "GET", "/", {"X-Request-Id: chosen-by-client"});
  const auto second = fetch(server.port(), "GET", "/api/whoami");
  EXPECT_FALSE(first.header("x-request-id").empty());
  EXPECT_NE(first.header("x-request-id"), "chosen-by-client");
  EXPECT_NE(first.header("x-request-id"), second.header("x-request-id"));
  EXPECT_NE(second.body.find(second.header("x-request-id")), std::string::npos)
      << "handlers see the same id";
}

TEST(AccessLog, ControlCharactersInPathsAreEscapedAndTheLineNamesTheRequestId) {
  CapturedLog log;
  HttpConfig config;
  config.access_log = "all";
  InProcessServer server(config);
  const auto response =
      fetch(server.port(), "GET", "/nothing%0a2026-01-01T00:00:00%20info%20forged%1b[31m");
  EXPECT_EQ(response.status, 404);
  const auto text = log.text();
  EXPECT_NE(text.find("/nothing\\x0a2026-01-01T00:00:00 info forged\\x1b[31m"), std::string::npos)
      << text;
  EXPECT_EQ(text.find("\n2026-01-01T00:00:00 info forged"), std::string::npos) << text;
  EXPECT_NE(text.find("request " + response.header("x-request-id")), std::string::npos) << text;
}

TEST(AccessLog, TheDefaultLogsErrorsButNotEverySuccessfulHit) {
  CapturedLog log;
  InProcessServer server;  // access_log = "errors"
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(fetch(server.port(), "GET", "/").status, 200);
  const auto missing = fetch(server.port(), "GET", "/api/none");
  const auto text = log.text();
  EXPECT_EQ(text.find("\"GET /\""), std::string::npos) << text;
  EXPECT_NE(text.find(missing.header("x-request-id")), std::string::npos) << text;
}

TEST(AccessLog, SampledLogsOneRequestInN) {
  CapturedLog log;
  HttpConfig config;
  config.access_log = "sampled";
  config.access_log_sample = 4;
  InProcessServer server(config);
  Connection connection(server.port());
  for (int i = 0; i < 8; ++i) {
    connection.send(request("GET", "/"));
    ASSERT_TRUE(connection.read_response());
  }
  const auto text = log.text();
  std::size_t lines = 0;
  for (auto at = text.find("\"GET /\""); at != std::string::npos;
       at = text.find("\"GET /\"", at + 1))
    ++lines;
  EXPECT_EQ(lines, 2u) << text;
}

TEST(TrustedProxy, ForwardedHeadersAreBelievedFromATrustedPeer) {
  HttpConfig config;
  config.trusted_proxies = {"127.0.0.1", "10.0.0.2"};
  InProcessServer server(config);
  const auto response = fetch(server.port(), "GET", "/api/whoami",
                              {"X-Forwarded-For: 198.51.100.7, 203.0.113.9, 10.0.0.2",
                               "X-Forwarded-Proto: https", "X-Request-Id: edge-42"});
  EXPECT_TRUE(response.body.starts_with("203.0.113.9 tls edge-42")) << response.body;
  EXPECT_EQ(response.header("x-request-id"), "edge-42");
  EXPECT_FALSE(response.header("strict-transport-security").empty());
  const auto page = fetch(server.port(), "GET", "/", {"X-Forwarded-Proto: https"});
  EXPECT_FALSE(page.header("strict-transport-security").empty()) << "static files too";
}

TEST(TrustedProxy, ForwardedHeadersFromAnUntrustedPeerAreIgnored) {
  HttpConfig config;
  config.trusted_proxies = {"192.0.2.1"};
  InProcessServer server(config);
  const auto response = fetch(server.port(), "GET", "/api/whoami",
                              {"X-Forwarded-For: 203.0.113.9", "X-Forwarded-Proto: https"});
  EXPECT_TRUE(response.body.starts_with("127.0.0.1 plain")) << response.body;
  EXPECT_TRUE(response.header("strict-transport-security").empty());
}

// --- quick routes: connections move to a database loop --------------------------------------

namespace {
std::string quick(std::string_view body) {
  return "POST /api/quick HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + std::string(body);
}
}  // namespace

TEST(QuickRoutes, RequestsPipelinedAcrossTheMoveAreAllAnsweredInOrder) {
  InProcessServer server;
  Connection connection(server.port(), 10000ms);
  // A file, then the first quick route (the connection moves with the bytes already read), then
  // a file, a database route, another quick route, all in one write.
  ASSERT_TRUE(connection.send(request("GET", "/index.html") + quick("abc") +
                              request("GET", "/index.html") + request("GET", "/api/count") +
                              quick("hello")));
  const auto file = connection.read_response();
  ASSERT_TRUE(file);
  EXPECT_EQ(file->status, 200);
  const auto first = connection.read_response();
  ASSERT_TRUE(first);
  EXPECT_EQ(first->status, 200);
  EXPECT_TRUE(first->body.starts_with("3 ")) << first->body;
  const auto file_again = connection.read_response();
  ASSERT_TRUE(file_again);
  EXPECT_NE(file_again->body.find("驿站"), std::string::npos);
  const auto counted = connection.read_response();
  ASSERT_TRUE(counted);
  EXPECT_EQ(counted->status, 200);
  const auto second = connection.read_response();
  ASSERT_TRUE(second);
  EXPECT_TRUE(second->body.starts_with("5 ")) << second->body;
  EXPECT_EQ(first->body.substr(2), second->body.substr(2)) << "it stays on its database loop";
  EXPECT_EQ(server.started(), 1);
  // And the connection goes on afterwards.
  ASSERT_TRUE(connection.send(quick("")));
  const auto third = connection.read_response();
  ASSERT_TRUE(third);
  EXPECT_EQ(third->body, "0 " + first->body.substr(2));
}

TEST(QuickRoutes, EachLoopHasOneConnectionAndTheRestAreAnsweredByTheWorkers) {
  InProcessServer server({}, 4);  // four database loops, four workers
  constexpr int kClients = 12;
  constexpr int kRequests = 25;
  std::atomic<int> answered{0};
  std::mutex mutex;
  std::vector<std::set<std::string>> threads(kClients);  // per connection
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      Connection connection(server.port(), 10000ms);
      for (int i = 0; i < kRequests; ++i) {
        if (!connection.send(quick("xy"))) return;
        const auto response = connection.read_response();
        if (!response || response->status != 200 || !response->body.starts_with("2 ")) return;
        ++answered;
        std::lock_guard lock(mutex);
        threads[c].insert(response->body.substr(2));
      }
    });
  }
  for (auto& client : clients)
    client.join();
  EXPECT_EQ(answered, kClients * kRequests);
  // Four connections have a loop each; the other eight go through the four workers.
  std::set<std::string> all;
  for (const auto& seen : threads)
    all.insert(seen.begin(), seen.end());
  EXPECT_GE(all.size(), 5u) << "the four loops' threads and at least one worker";
}

TEST(QuickRoutes, AMovedConnectionKeepsItsReadDeadline) {
  HttpConfig config;
  config.request_timeout = 500ms;
  InProcessServer server(config);
  Connection connection(server.port(), 5000ms);
  ASSERT_TRUE(connection.send(quick("a")));
  ASSERT_TRUE(connection.read_response());
  std::this_thread::sleep_for(1200ms);  // idle past the read deadline on its new loop
  EXPECT_TRUE(connection.closed_by_server());
}

TEST(QuickRoutes, AConnectionLeftWithTheWorkersKeepsItsReadDeadline) {
  HttpConfig config;
  config.request_timeout = 500ms;
  InProcessServer server(config, 1);  // one loop
  Connection first(server.port(), 5000ms);
  ASSERT_TRUE(first.send(quick("a")));
  ASSERT_TRUE(first.read_response());  // has the loop
  Connection second(server.port(), 5000ms);
  ASSERT_TRUE(second.send(quick("b")));
  const auto answered = second.read_response();  // by a worker
  ASSERT_TRUE(answered);
  EXPECT_EQ(answered->status, 200);
  std::this_thread::sleep_for(1200ms);  // both idle past the read deadline
  EXPECT_TRUE(second.closed_by_server());
  EXPECT_TRUE(first.closed_by_server());
}

TEST(QuickRoutes, ShutdownAnswersTheRequestInFlightAndClosesMovedConnections) {
  std::optional<InProcessServer> server;
  server.emplace();
  Connection idle(server->port(), 5000ms);
  Connection busy(server->port(), 5000ms);
  for (auto* connection : {&idle, &busy}) {
    ASSERT_TRUE(connection->send(quick("a")));
    ASSERT_TRUE(connection->read_response());
  }
  ASSERT_TRUE(busy.send(request("GET", "/api/quick-slow")));
  std::this_thread::sleep_for(100ms);
  const auto begun = std::chrono::steady_clock::now();
  std::thread stopper([&server] { server.reset(); });
  const auto answer = busy.read_response();
  ASSERT_TRUE(answer) << "the request in flight is answered";
  EXPECT_EQ(answer->status, 200);
  EXPECT_TRUE(busy.closed_by_server());
  EXPECT_TRUE(idle.closed_by_server());
  stopper.join();
  EXPECT_LT(std::chrono::steady_clock::now() - begun, 1500ms) << "within the 2 s grace";
}

TEST(QuickRoutes, AQuickRouteThatThrowsIs500AndTheConnectionGoesOn) {
  InProcessServer server;
  Connection connection(server.port(), 10000ms);
  ASSERT_TRUE(connection.send(request("GET", "/api/quick-throws")));
  const auto failed = connection.read_response();
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);
  ASSERT_TRUE(connection.send(quick("ok")));
  const auto next = connection.read_response();
  ASSERT_TRUE(next);
  EXPECT_EQ(next->status, 200);
}

// --- failures ---------------------------------------------------------------------------------

TEST(CatchAll, AHandlerThatThrowsAnythingIs500AndTheServerGoesOn) {
  InProcessServer server;
  EXPECT_EQ(fetch(server.port(), "GET", "/api/throws").status, 500);
  EXPECT_EQ(fetch(server.port(), "GET", "/api/throws-inline").status, 500);
  EXPECT_EQ(fetch(server.port(), "GET", "/healthz").status, 200);
}

TEST(MetricsLabels, UnknownMethodsAreCountedAsOther) {
  InProcessServer server;
  for (const char* method : {"BREW", "PROPFIND", "GET"}) {
    Connection connection(server.port());
    connection.send(std::string(method) + " /api/whoami HTTP/1.1\r\nHost: x\r\n\r\n");
    ASSERT_TRUE(connection.read_response());
  }
  const auto text = server.metrics().render();
  EXPECT_EQ(text.find("BREW"), std::string::npos) << text;
  EXPECT_EQ(text.find("PROPFIND"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(route="unmatched",method="OTHER",status="405")"), std::string::npos)
      << text;
}
