// Connection pool, transactions with retry, and the translation of MariaDB errors.
#include "yizhan/store/database.hpp"

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "translate.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/store/database_error.hpp"

namespace yizhan::store {

using domain::Error;
using domain::ErrorCode;
using Clock = std::chrono::steady_clock;

/// Hashes a query as a string or a view of one, so that looking a statement up by its text
/// builds no std::string (a sale asks for ~17 statements of a few hundred characters each).
struct QueryHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view query) const noexcept {
    return std::hash<std::string_view>{}(query);
  }
};

/// A connection and the statements prepared on it; statements die before their connection.
struct PooledConnection {
  std::unique_ptr<sql::Connection> connection;
  std::unordered_map<std::string, std::unique_ptr<sql::PreparedStatement>, QueryHash,
                     std::equal_to<>>
      statements;
  Clock::time_point last_used = Clock::now();

  ~PooledConnection() { statements.clear(); }
};

sql::Connection& UnitOfWork::connection() const {
  return *connection_.connection;
}

sql::PreparedStatement& UnitOfWork::statement(std::string_view query) const {
  auto& statements = connection_.statements;
  auto found = statements.find(query);
  if (found == statements.end()) {
    std::unique_ptr<sql::PreparedStatement> prepared(
        connection_.connection->prepareStatement(std::string(query)));
    found = statements.emplace(std::string(query), std::move(prepared)).first;
  }
  found->second->clearParameters();
  return *found->second;
}

namespace {

// Settings every connection starts with: UTC storage, strict values, READ COMMITTED so that
// locking reads take no gap locks (fewer deadlocks, and Galera-friendly), and a lock wait
// shorter than the client read timeout, so a wait on a hot row ends as a retryable 1205 rather
// than a dropped connection whose orphaned transaction keeps holding its locks.
std::string session_setup(const DatabaseConfig& config) {
  return "SET SESSION time_zone = '+00:00', SESSION tx_isolation = 'READ-COMMITTED', "
         "SESSION innodb_lock_wait_timeout = " +
         std::to_string(config.lock_wait_timeout.count()) +
         ", SESSION sql_mode = 'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,"
         "ERROR_FOR_DIVISION_BY_ZERO,NO_ENGINE_SUBSTITUTION'";
}

// A connection idle longer than this is pinged before it is lent again.
constexpr auto kValidateAfterIdle = std::chrono::seconds(5);

// Set while this thread runs a unit of work: a second one inside it would wait for a pool
// connection that the first holds, and with a full pool that is a deadlock.
thread_local bool t_in_unit_of_work = false;

class UnitOfWorkMark {
 public:
  UnitOfWorkMark() {
    if (t_in_unit_of_work) {
      spdlog::error("programming error: a unit of work was started inside another one");
      throw Error(ErrorCode::internal, "internal error", {},
                  "nested unit of work on one thread (it can deadlock the pool)");
    }
    t_in_unit_of_work = true;
  }
  ~UnitOfWorkMark() { release(); }
  UnitOfWorkMark(const UnitOfWorkMark&) = delete;
  UnitOfWorkMark& operator=(const UnitOfWorkMark&) = delete;
  void release() { t_in_unit_of_work = false; }
};

int whole_seconds(std::chrono::milliseconds ms) {
  return std::max(1, static_cast<int>((ms.count() + 999) / 1000));
}

}  // namespace

struct Database::Pool {
  DatabaseConfig config;
  sql::mysql::MySQL_Driver* driver = nullptr;

  mutable std::mutex mutex;
  std::condition_variable released;
  std::deque<std::unique_ptr<PooledConnection>> idle;
  int open = 0;  // connections that exist or are being opened, idle or lent
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::uint64_t> retries{0};

  /// A connection on loan; returned to the pool, or closed when broken, at scope exit.
  class Lease {
   public:
    Lease(Pool& pool, std::unique_ptr<PooledConnection> connection)
        : pool_(pool), connection_(std::move(connection)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease() { pool_.give_back(std::move(connection_), broken_); }
    PooledConnection& operator*() { return *connection_; }
    void mark_broken() { broken_ = true; }

   private:
    Pool& pool_;
    std::unique_ptr<PooledConnection> connection_;
    bool broken_ = false;
  };

  std::unique_ptr<PooledConnection> connect() {
    sql::ConnectOptionsMap options;
    options["hostName"] = sql::SQLString(config.socket.empty() ? "tcp://" + config.host + ":" +
                                                                     std::to_string(config.port)
                                                               : "unix://" + config.socket);
    options["userName"] = sql::SQLString(config.user);
    options["password"] = sql::SQLString(config.password);
    if (!config.schema.empty()) options["schema"] = sql::SQLString(config.schema);
    options["OPT_CONNECT_TIMEOUT"] = whole_seconds(config.connect_timeout);
    options["OPT_READ_TIMEOUT"] = static_cast<int>(config.read_timeout.count());
    options["OPT_WRITE_TIMEOUT"] = static_cast<int>(config.read_timeout.count());
    options["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
    options["OPT_RECONNECT"] = false;  // a silent reconnect would lose a transaction

    auto pooled = std::make_unique<PooledConnection>();
    try {
      pooled->connection.reset(driver->connect(options));
      std::unique_ptr<sql::PreparedStatement> setup(
          pooled->connection->prepareStatement(session_setup(config)));
      setup->execute();
      // Every use of a connection ends in commit or rollback; a transaction starts implicitly.
      pooled->connection->setAutoCommit(false);
    } catch (const sql::SQLException& e) {
      ++errors;
      throw Error(ErrorCode::unavailable, "database unavailable", {},
                  "connect: " + std::to_string(e.getErrorCode()) + " " + e.what());
    }
    return pooled;
  }

  Lease acquire() {
    std::unique_lock lock(mutex);
    const auto deadline = Clock::now() + config.acquire_timeout;
    while (true) {
      if (!idle.empty()) {
        auto pooled = std::move(idle.back());
        idle.pop_back();
        lock.unlock();
        if (Clock::now() - pooled->last_used < kValidateAfterIdle || is_alive(*pooled)) {
          return Lease(*this, std::move(pooled));
        }
        pooled.reset();
        lock.lock();
        --open;
        continue;
      }
      if (open < config.pool_size) {
        ++open;
        lock.unlock();
        try {
          return Lease(*this, connect());
        } catch (...) {
          lock.lock();
          --open;
          released.notify_one();
          throw;
        }
      }
      if (released.wait_until(lock, deadline) == std::cv_status::timeout && idle.empty() &&
          open >= config.pool_size) {
        throw Error(ErrorCode::unavailable, "database busy", {},
                    "no free connection within acquire_timeout");
      }
    }
  }

  bool is_alive(PooledConnection& pooled) {
    try {
      return pooled.connection->isValid();
    } catch (const sql::SQLException&) {
      return false;
    }
  }

  void give_back(std::unique_ptr<PooledConnection> pooled, bool broken) {
    std::lock_guard lock(mutex);
    if (broken) {
      --open;
    } else {
      pooled->last_used = Clock::now();
      idle.push_back(std::move(pooled));
    }
    released.notify_one();
  }

  /// After a lost connection the others are likely dead too (server restarted): drop the idle.
  void discard_idle() {
    std::deque<std::unique_ptr<PooledConnection>> doomed;
    {
      std::lock_guard lock(mutex);
      doomed.swap(idle);
      open -= static_cast<int>(doomed.size());
    }
    released.notify_all();
  }
};

void commit(sql::Connection& connection) {
  std::unique_ptr<sql::Statement> statement(connection.createStatement());
  statement->execute("COMMIT");
}

Database::Database(const DatabaseConfig& config, RetryPolicy retry)
    : pool_(std::make_unique<Pool>()), retry_(retry) {
  pool_->config = config;
  pool_->driver = sql::mysql::get_mysql_driver_instance();
}

Database::~Database() = default;

namespace {

/// Rolls back, swallowing errors: the connection is then marked broken and closed.
void roll_back(sql::Connection& connection, auto& lease) {
  try {
    connection.rollback();
  } catch (const sql::SQLException&) {
    lease.mark_broken();
  }
}

std::chrono::milliseconds backoff(const RetryPolicy& policy, int attempt) {
  thread_local std::mt19937 random{std::random_device{}()};
  const auto ceiling = std::min<long long>(policy.max_backoff.count(),
                                           policy.base_backoff.count() << std::min(attempt, 16));
  std::uniform_int_distribution<long long> jitter(ceiling / 2, std::max<long long>(ceiling, 1));
  return std::chrono::milliseconds(jitter(random));
}

}  // namespace

void Database::run_transaction(const std::function<void(UnitOfWork&)>& work) {
  UnitOfWorkMark mark;
  for (int attempt = 1;; ++attempt) {
    std::vector<std::function<void()>> effects;
    bool again = false;
    {
      auto lease = pool_->acquire();
      auto& pooled = *lease;
      bool committing = false;
      try {
        UnitOfWork unit(pooled);
        work(unit);
        committing = true;
        commit(*pooled.connection);
        effects = std::move(unit.after_commit_);
      } catch (const sql::SQLException& e) {
        ++pool_->errors;
        const auto kind = classify(e.getErrorCode());
        if (kind == FailureKind::connection_lost || kind == FailureKind::node_unavailable) {
          lease.mark_broken();
          pool_->discard_idle();
          if (committing && kind == FailureKind::connection_lost) {
            // COMMIT was sent and no answer came: the work may or may not have landed. Running
            // it again could do it twice; the caller's idempotency key resolves it.
            spdlog::error("database connection lost during COMMIT; outcome unknown: {} {}",
                          e.getErrorCode(), e.what());
            throw Error(ErrorCode::commit_unknown,
                        "the outcome of this request is unknown (the database connection was "
                        "lost while committing); retrying with the same Idempotency-Key is safe",
                        {{"retry_with_same_idempotency_key", "true"}},
                        "lost during COMMIT: " + std::to_string(e.getErrorCode()) + " " + e.what());
          }
          // Lost before COMMIT was sent: the server rolled back, so running again is safe.
          again = kind == FailureKind::connection_lost && attempt < retry_.max_attempts;
          if (again) spdlog::warn("database connection lost, retrying unit of work: {}", e.what());
        } else {
          roll_back(*pooled.connection, lease);
          again = kind == FailureKind::retry && attempt < retry_.max_attempts;
        }
        if (!again) {
          if (kind == FailureKind::retry) {
            spdlog::warn("unit of work gave up after {} attempts: {}", attempt, e.what());
          }
          throw translate(e);
        }
      } catch (...) {
        if (!committing) roll_back(*pooled.connection, lease);
        throw;
      }
    }  // the connection goes back to the pool here, before any backoff
    if (!again) {
      mark.release();  // effects may start units of work of their own
      for (auto& effect : effects) {
        try {
          effect();
        } catch (const std::exception& e) {
          spdlog::error("after-commit effect failed: {}", e.what());
        }
      }
      return;
    }
    ++pool_->retries;
    std::this_thread::sleep_for(backoff(retry_, attempt));
  }
}

void Database::with_connection(const std::function<void(UnitOfWork&)>& work) {
  UnitOfWorkMark mark;
  auto lease = pool_->acquire();
  auto& pooled = *lease;
  try {
    UnitOfWork unit(pooled);
    work(unit);
    commit(*pooled.connection);
  } catch (const sql::SQLException& e) {
    ++pool_->errors;
    const auto kind = classify(e.getErrorCode());
    if (kind == FailureKind::connection_lost || kind == FailureKind::node_unavailable) {
      lease.mark_broken();
      pool_->discard_idle();
    } else {
      roll_back(*pooled.connection, lease);
    }
    throw translate(e);
  } catch (...) {
    roll_back(*pooled.connection, lease);
    throw;
  }
}

bool Database::ping() {
  try {
    return transact([](UnitOfWork& unit) {
      std::unique_ptr<sql::ResultSet> rows(unit.statement("SELECT 1").executeQuery());
      return rows->next();
    });
  } catch (const Error&) {
    return false;
  }
}

PoolStats Database::stats() const {
  std::lock_guard lock(pool_->mutex);
  const int idle = static_cast<int>(pool_->idle.size());
  return PoolStats{pool_->config.pool_size, pool_->open - idle, idle, pool_->errors.load(),
                   pool_->retries.load()};
}

}  // namespace yizhan::store
