// The MariaDB connection pool and the unit-of-work helper every write goes through.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <type_traits>
#include <vector>

#include "yizhan/config.hpp"

namespace sql {
class Connection;
class PreparedStatement;
}  // namespace sql

namespace yizhan::store {

struct PooledConnection;

/// A pooled connection lent to one unit of work. Store code (src/store only) runs statements
/// on it; everything else only passes it along.
class UnitOfWork {
 public:
  explicit UnitOfWork(PooledConnection& connection) : connection_(connection) {}
  /// The Connector/C++ connection, for store code.
  [[nodiscard]] sql::Connection& connection() const;
  /// The server-side prepared statement for `query`, prepared once per connection and kept
  /// (placeholders only, never concatenation). Its parameters are cleared.
  [[nodiscard]] sql::PreparedStatement& statement(std::string_view query) const;

  /// Runs `effect` once, after this unit of work has committed (cache invalidation, version
  /// bumps, notifications). Dropped when the attempt rolls back or is retried, so effects never
  /// run for work that did not happen, nor twice. An effect that throws is logged, not rethrown.
  void after_commit(std::function<void()> effect) { after_commit_.push_back(std::move(effect)); }

 private:
  friend class Database;
  PooledConnection& connection_;
  std::vector<std::function<void()>> after_commit_;
};

/// Pool occupancy and error counts, for /metrics.
struct PoolStats {
  int capacity = 0;
  int in_use = 0;
  int idle = 0;
  std::uint64_t errors = 0;   ///< database errors seen, of any kind
  std::uint64_t retries = 0;  ///< units of work retried after a deadlock or lock wait timeout
};

/// How often and how long a unit of work is retried on deadlock (1213) or lock wait (1205).
struct RetryPolicy {
  int max_attempts = 6;
  std::chrono::milliseconds base_backoff{4};
  std::chrono::milliseconds max_backoff{200};
};

/// A bounded pool of MariaDB connections. Thread-safe. Connections are checked before reuse and
/// replaced when the server dropped them, so a restarted database is picked up without a restart.
/// Every failure reaches callers as domain::Error (unavailable, duplicate, invalid, internal).
class Database {
 public:
  explicit Database(const DatabaseConfig& config, RetryPolicy retry = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  /// Runs `work` inside one transaction and commits; rolls back on any exception. Deadlocks and
  /// lock wait timeouts retry the whole of `work` with jittered backoff, so `work` must have no
  /// effects outside the database. Returns what `work` returns.
  template <class Work>
  auto transact(Work&& work) -> std::invoke_result_t<Work&, UnitOfWork&> {
    using Result = std::invoke_result_t<Work&, UnitOfWork&>;
    if constexpr (std::is_void_v<Result>) {
      run_transaction([&](UnitOfWork& unit) { work(unit); });
    } else {
      std::optional<Result> result;
      run_transaction([&](UnitOfWork& unit) { result.emplace(work(unit)); });
      return std::move(*result);
    }
  }

  /// Runs `work` on a connection in autocommit mode (DDL, migrations). Not retried.
  void with_connection(const std::function<void(UnitOfWork&)>& work);

  /// True when a connection can be had and answers a trivial query.
  bool ping();

  [[nodiscard]] PoolStats stats() const;

 private:
  void run_transaction(const std::function<void(UnitOfWork&)>& work);

  struct Pool;
  std::unique_ptr<Pool> pool_;
  RetryPolicy retry_;
};

}  // namespace yizhan::store
