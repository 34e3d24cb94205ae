// The server's configuration: one typed struct, loaded once from TOML then the environment.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace yizhan {

/// How to reach MariaDB.
struct DatabaseConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3306;
  std::string socket;  ///< unix socket path; used instead of host and port when set
  std::string user = "yizhan";
  std::string password;
  std::string schema = "yizhan";
  int pool_size = 8;  ///< connections, and threads running database work
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds acquire_timeout{2000};  ///< waiting for a free connection
  std::chrono::seconds read_timeout{10};            ///< one query, then the server is "down"
};

/// The HTTP listener and its limits.
struct HttpConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;
  int io_threads = 0;           ///< 0 = one per core
  std::string tls_certificate;  ///< PEM chain; with tls_key, the server speaks HTTPS only
  std::string tls_key;
  std::string web_root = "web";
  std::string media_root = "var/media";  ///< uploaded product photos, served under /media/
  std::size_t header_limit_bytes = 16 * 1024;
  std::size_t body_limit_bytes = 4 * 1024 * 1024;    ///< photos are up to 2 MiB
  std::chrono::milliseconds request_timeout{10000};  ///< read one whole request, or idle
  int max_connections = 10000;
  int max_queued_requests = 1024;  ///< waiting for a database thread, then 503
  std::chrono::milliseconds shutdown_grace{10000};
};

/// Everything `yizhan serve` needs.
struct Config {
  HttpConfig http;
  DatabaseConfig database;
  std::string log_level = "info";
};

/// Loads `path` (TOML; empty = defaults only), then applies YIZHAN_* environment variables.
/// Throws std::runtime_error naming the file, key and problem on a bad value.
Config load_config(const std::optional<std::string>& path);

}  // namespace yizhan
