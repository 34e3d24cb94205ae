// The HTTP(S) server: accepts connections, reads requests, runs routes, serves static files.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "yizhan/config.hpp"

namespace yizhan::api {
class Router;
}

namespace yizhan::http {

class Metrics;
class StaticFiles;

/// Everything the server serves; owned by main and outliving the server.
struct ServerParts {
  const api::Router& router;
  StaticFiles& static_files;
  StaticFiles* media = nullptr;  ///< uploads, served under /media/ when set
  Metrics& metrics;
  int database_threads = 8;                    ///< workers for routes that touch the database
  std::function<std::string()> extra_metrics;  ///< appended to /metrics (pool gauges …)
};

/// Beast HTTP/1.1 server with keep-alive, limits, timeouts, optional TLS and graceful shutdown.
class Server {
 public:
  Server(const HttpConfig& config, ServerParts parts);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Binds the listener; throws std::runtime_error when the address cannot be bound.
  void listen();
  /// Serves until SIGINT/SIGTERM or stop(), then drains in-flight requests (bounded) and returns.
  void run();
  /// Asks run() to shut down gracefully; safe from any thread.
  void stop();
  /// The bound port (after listen()).
  [[nodiscard]] unsigned short port() const;

  struct Impl;  ///< defined in server.cpp, where Beast lives

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace yizhan::http
