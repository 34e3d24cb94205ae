// Applies sql/NNN_name.sql in order and records each with its checksum.
#include "yizhan/store/migrations.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <stdexcept>
#include <thread>

#include "yizhan/store/database.hpp"
#include "translate.hpp"
#include "yizhan/store/digest.hpp"

namespace yizhan::store {

std::vector<domain::EmbeddedFile> embedded_migrations();

namespace {

constexpr const char* kCreateMigrationsTable =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version INT NOT NULL PRIMARY KEY,"
    " name VARCHAR(200) NOT NULL,"
    " checksum CHAR(64) NOT NULL,"
    " applied_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";
// How far a migration that has not finished got: a rerun resumes after the statements done,
// provided their text is unchanged (done_checksum covers exactly those statements).
constexpr const char* kCreateStepsTable =
    "CREATE TABLE IF NOT EXISTS schema_migration_steps ("
    " version INT NOT NULL PRIMARY KEY,"
    " statements_done INT NOT NULL,"
    " done_checksum CHAR(64) NOT NULL,"
    " updated_at DATETIME(6) NOT NULL DEFAULT UTC_TIMESTAMP(6)"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";
// One row: who migrates now. A lease written and committed (so every Galera node sees it),
// not GET_LOCK (not replicated) nor a lock held across DDL (DDL commits, which releases it).
constexpr const char* kCreateLockTable =
    "CREATE TABLE IF NOT EXISTS schema_migration_lock ("
    " id TINYINT NOT NULL PRIMARY KEY,"
    " holder VARCHAR(100) NULL,"
    " renewed_at DATETIME(6) NULL"
    ") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci";
constexpr const char* kSeedLock = "INSERT IGNORE INTO schema_migration_lock (id) VALUES (1)";
constexpr const char* kTakeLock =
    "UPDATE schema_migration_lock SET holder = ?, renewed_at = UTC_TIMESTAMP(6) "
    "WHERE id = 1 AND (holder IS NULL OR holder = ? OR "
    "renewed_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND)";
constexpr const char* kReleaseLock =
    "UPDATE schema_migration_lock SET holder = NULL, renewed_at = NULL WHERE id = 1 AND holder = ?";
constexpr const char* kSelectApplied = "SELECT version, name, checksum FROM schema_migrations";
constexpr const char* kRecordApplied =
    "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)";
constexpr const char* kSelectSteps =
    "SELECT statements_done, done_checksum FROM schema_migration_steps WHERE version = ?";
constexpr const char* kRecordStep =
    "INSERT INTO schema_migration_steps (version, statements_done, done_checksum) "
    "VALUES (?, ?, ?) ON DUPLICATE KEY UPDATE statements_done = VALUES(statements_done), "
    "done_checksum = VALUES(done_checksum), updated_at = UTC_TIMESTAMP(6)";
constexpr const char* kDeleteSteps = "DELETE FROM schema_migration_steps WHERE version = ?";

// A holder that stopped renewing for this long (crashed) loses the lease.
constexpr int kLeaseSeconds = 600;
constexpr auto kLockWait = std::chrono::minutes(10);

/// The checksum of the first `count` statements: what a resumed run must find unchanged.
std::string prefix_checksum(const std::vector<std::string>& statements, std::size_t count) {
  std::string text;
  for (std::size_t i = 0; i < count && i < statements.size(); ++i) {
    text += statements[i];
    text += '\0';
  }
  return checksum(text);
}

/// Takes or renews the migration lease; false when another holder has it.
bool take_lock(UnitOfWork& unit, const std::string& holder) {
  auto& take = unit.statement(kTakeLock);
  take.setString(1, holder);
  take.setString(2, holder);
  take.setInt(3, kLeaseSeconds);
  const bool taken = take.executeUpdate() == 1;
  commit(unit.connection());
  return taken;
}

std::string file_name(const Migration& m) {
  char prefix[16];
  std::snprintf(prefix, sizeof prefix, "%03d_", m.version);
  return prefix + m.name + ".sql";
}

}  // namespace

Migration migration_from_file(const domain::EmbeddedFile& file) {
  const std::string_view name = file.name;
  const auto underscore = name.find('_');
  const bool well_formed = underscore != std::string_view::npos && underscore > 0 &&
                           name.size() > underscore + 5 && name.ends_with(".sql") &&
                           std::all_of(name.begin(), name.begin() + underscore,
                                       [](char c) { return c >= '0' && c <= '9'; });
  if (!well_formed) {
    throw std::invalid_argument("migration file name must be NNN_name.sql: " + std::string(name));
  }
  return Migration{std::stoi(std::string(name.substr(0, underscore))),
                   std::string(name.substr(underscore + 1, name.size() - underscore - 5)),
                   std::string(file.content)};
}

std::vector<Migration> bundled_migrations() {
  std::vector<Migration> migrations;
  for (const auto& file : embedded_migrations())
    migrations.push_back(migration_from_file(file));
  std::sort(migrations.begin(), migrations.end(),
            [](const Migration& a, const Migration& b) { return a.version < b.version; });
  for (std::size_t i = 1; i < migrations.size(); ++i) {
    if (migrations[i].version == migrations[i - 1].version) {
      throw std::invalid_argument("two migrations share version " +
                                  std::to_string(migrations[i].version));
    }
  }
  return migrations;
}

std::vector<std::string> split_statements(std::string_view sql) {
  std::vector<std::string> statements;
  std::string current;
  char quote = 0;
  for (std::size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    const char next = i + 1 < sql.size() ? sql[i + 1] : '\0';
    if (quote) {
      current += c;
      if (c == '\\' && quote != '`' && i + 1 < sql.size()) {
        current += sql[++i];
      } else if (c == quote) {
        quote = 0;
      }
    } else if (c == '\'' || c == '"' || c == '`') {
      quote = c;
      current += c;
    } else if ((c == '-' && next == '-') || c == '#') {
      while (i < sql.size() && sql[i] != '\n')
        ++i;
      current += '\n';
    } else if (c == '/' && next == '*') {
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 1;
      current += ' ';
    } else if (c == ';') {
      statements.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  statements.push_back(current);
  std::erase_if(statements, [](const std::string& s) {
    return s.find_first_not_of(" \t\r\n") == std::string::npos;
  });
  return statements;
}

std::string checksum(std::string_view sql) {
  return sha256_hex(sql);
}

MigrationReport migrate(Database& database, const std::vector<Migration>& migrations) {
  MigrationReport report;
  const std::string holder =
      "migrate " +
      sha256_hex(std::to_string(::getpid()) + ' ' +
                 std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))
          .substr(0, 16);
  database.with_connection([&](UnitOfWork& unit) {
    std::unique_ptr<sql::Statement> ddl(unit.connection().createStatement());
    ddl->execute(kCreateMigrationsTable);
    ddl->execute(kCreateStepsTable);
    ddl->execute(kCreateLockTable);
    ddl->execute(kSeedLock);
    commit(unit.connection());

    // Two `yizhan migrate` at once (two hosts starting): the second waits for the first.
    const auto give_up = std::chrono::steady_clock::now() + kLockWait;
    bool announced = false;
    while (!take_lock(unit, holder)) {
      if (std::chrono::steady_clock::now() > give_up) {
        throw std::runtime_error("another yizhan migrate holds the migration lock; gave up");
      }
      if (!announced) spdlog::info("waiting for another yizhan migrate to finish");
      announced = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    struct Release {
      UnitOfWork& unit;
      const std::string& holder;
      ~Release() {
        try {
          auto& release = unit.statement(kReleaseLock);
          release.setString(1, holder);
          release.executeUpdate();
          commit(unit.connection());
        } catch (...) {
          // The lease expires on its own.
        }
      }
    } release{unit, holder};

    // Read what is applied only now, under the lock: the other run may just have applied it.
    std::map<int, std::string> applied;
    {
      std::unique_ptr<sql::ResultSet> rows(unit.statement(kSelectApplied).executeQuery());
      while (rows->next())
        applied[rows->getInt(1)] = rows->getString(3);
    }
    commit(unit.connection());

    for (const auto& migration : migrations) {
      const auto sum = checksum(migration.sql);
      if (auto found = applied.find(migration.version); found != applied.end()) {
        if (found->second != sum) {
          throw std::runtime_error(
              "migration " + file_name(migration) +
              " was changed after it was applied (checksum differs); add a new migration "
              "instead of editing an applied one");
        }
        ++report.already_applied;
        continue;
      }
      const auto statements = split_statements(migration.sql);
      std::size_t done = 0;
      {
        auto& steps = unit.statement(kSelectSteps);
        steps.setInt(1, migration.version);
        std::unique_ptr<sql::ResultSet> row(steps.executeQuery());
        if (row->next()) {
          done = static_cast<std::size_t>(row->getInt(1));
          if (done > statements.size() ||
              prefix_checksum(statements, done) != std::string(row->getString(2))) {
            throw std::runtime_error(
                "migration " + file_name(migration) + " was partly applied (" +
                std::to_string(done) +
                " statements) and those statements have changed since; repair the schema by "
                "hand, then delete its row from schema_migration_steps");
          }
          spdlog::info("resuming migration {} after statement {}", file_name(migration), done);
        }
      }
      commit(unit.connection());
      // DDL commits implicitly in MariaDB, so a migration cannot be one transaction. Each
      // statement's progress is recorded as soon as it succeeded (in the same transaction for
      // DML), so a failed or interrupted run resumes at the statement that did not finish.
      for (std::size_t i = done; i < statements.size(); ++i) {
        if (!take_lock(unit, holder)) throw std::runtime_error("lost the migration lock");
        ddl->execute(statements[i]);
        auto& step = unit.statement(kRecordStep);
        step.setInt(1, migration.version);
        step.setInt(2, static_cast<int>(i + 1));
        step.setString(3, prefix_checksum(statements, i + 1));
        step.execute();
        commit(unit.connection());
      }
      auto& record = unit.statement(kRecordApplied);
      record.setInt(1, migration.version);
      record.setString(2, migration.name);
      record.setString(3, sum);
      record.execute();
      auto& forget = unit.statement(kDeleteSteps);
      forget.setInt(1, migration.version);
      forget.execute();
      commit(unit.connection());
      report.applied.push_back(file_name(migration).substr(0, file_name(migration).size() - 4));
    }
  });
  return report;
}

}  // namespace yizhan::store
