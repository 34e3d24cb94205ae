// Integration tests: each test gets its own schema on the MariaDB that deploy/test started.
#pragma once

#include <gtest/gtest.h>

#include <unistd.h>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include <cppconn/connection.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include "yizhan/config.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::test_support {

/// The first column of the first row of `query` (a count, a sum), in a transaction of its own.
inline std::int64_t scalar(store::Database& database, const std::string& query) {
  return database.transact([&](store::UnitOfWork& unit) {
    std::unique_ptr<sql::Statement> statement(unit.connection().createStatement());
    std::unique_ptr<sql::ResultSet> rows(statement->executeQuery(query));
    rows->next();
    return rows->getInt64(1);
  });
}

/// Connection settings for the test server (root over the socket deploy/test exported).
inline DatabaseConfig test_database_config(const std::string& schema) {
  DatabaseConfig config;
  const char* socket = std::getenv("YIZHAN_TEST_DB_SOCKET");
  if (!socket) throw std::runtime_error("YIZHAN_TEST_DB_SOCKET is not set: run ./deploy/test");
  config.socket = socket;
  const char* user = std::getenv("YIZHAN_TEST_DB_USER");
  config.user = user ? user : "root";
  config.schema = schema;
  config.pool_size = 4;
  return config;
}

/// Runs one statement as root outside any schema (CREATE/DROP DATABASE, KILL …).
inline void admin_execute(const std::string& statement) {
  store::Database admin(test_database_config(""));
  admin.with_connection([&](store::UnitOfWork& unit) {
    std::unique_ptr<sql::Statement> s(unit.connection().createStatement());
    s->execute(statement);
  });
}

/// A temporary folder, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "yizhan-it.XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

/// A schema of its own for one test, dropped afterwards.
class FreshSchema {
 public:
  FreshSchema() {
    static std::atomic<int> counter{0};
    name_ = "yz_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    admin_execute("DROP DATABASE IF EXISTS " + name_);
    admin_execute("CREATE DATABASE " + name_ + " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci");
  }
  ~FreshSchema() {
    try {
      admin_execute("DROP DATABASE IF EXISTS " + name_);
    } catch (...) {
    }
  }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] DatabaseConfig config() const { return test_database_config(name_); }

 private:
  std::string name_;
};

}  // namespace yizhan::test_support
