// The HTTP(S) server: accepts connections, reads requests, runs routes, serves static files.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "yizhan/api/router.hpp"
#include "yizhan/config.hpp"

namespace yizhan::http {

class Metrics;
class StaticFiles;

/// Everything the server serves; owned by main and outliving the server. /metrics and /media
/// are routes of the router (see metrics_endpoint, media_endpoint).
struct ServerParts {
  const api::Router& router;
  StaticFiles& static_files;  ///< the web root, for every path no route could match
  Metrics& metrics;
  int database_threads = 8;  ///< workers for routes that touch the database
};

/// GET /metrics: the request metrics, then whatever `extra` adds (pool gauges …).
api::Handler metrics_endpoint(const Metrics& metrics, std::function<std::string()> extra = {});

/// GET /media/{file...}: a file below `media` with its validators (path parameter "file").
api::Handler media_endpoint(StaticFiles& media);

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
