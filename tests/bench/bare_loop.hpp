// Shared by the bare Connector/C++ reference loops of tests/bench (pos_sale_bare, checkout_bare):
// a connection set up and used as the server's pool does, and the small helpers around it.
#pragma once

#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>
#include <openssl/evp.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace bench {

using Clock = std::chrono::steady_clock;
using Rows = std::unique_ptr<sql::ResultSet>;

// store/database.cpp: what every connection of the pool runs first.
constexpr const char* kSessionSetup =
    "SET SESSION time_zone = '+00:00', SESSION tx_isolation = 'READ-COMMITTED', "
    "SESSION innodb_lock_wait_timeout = 3, SESSION sql_mode = "
    "'STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION'";

inline std::string sha256(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("EVP_Digest failed");
  return std::string(reinterpret_cast<const char*>(digest), length);
}

/// The business day in Asia/Shanghai (UTC+8 all year), as YYYY-MM-DD.
inline std::string business_day() {
  using namespace std::chrono;
  const auto day = floor<days>(system_clock::now() + hours(8));
  const year_month_day date{day};
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

/// Binary parameters go as blobs, as store/idempotency.cpp sends them.
class Blobs {
 public:
  std::istream* operator()(const std::string& bytes) {
    holders_.push_back(std::make_unique<std::istringstream>(bytes));
    return holders_.back().get();
  }

 private:
  std::vector<std::unique_ptr<std::istringstream>> holders_;
};

/// One connection with its statements prepared once, as the server's pool keeps them.
class Connection {
 public:
  template <class Address>  // anything with socket, user, password and schema
  explicit Connection(const Address& options) {
    sql::ConnectOptionsMap map;
    map["hostName"] = sql::SQLString("unix://" + options.socket);
    map["userName"] = sql::SQLString(options.user);
    map["password"] = sql::SQLString(options.password);
    map["schema"] = sql::SQLString(options.schema);
    map["OPT_CONNECT_TIMEOUT"] = 2;
    map["OPT_READ_TIMEOUT"] = 10;
    map["OPT_WRITE_TIMEOUT"] = 10;
    map["OPT_CHARSET_NAME"] = sql::SQLString("utf8mb4");
    map["OPT_RECONNECT"] = false;
    connection_.reset(sql::mysql::get_mysql_driver_instance()->connect(map));
    std::unique_ptr<sql::PreparedStatement> setup(connection_->prepareStatement(kSessionSetup));
    setup->execute();
    connection_->setAutoCommit(false);
  }
  ~Connection() { statements_.clear(); }

  /// The prepared statement for `query`, parameters cleared (UnitOfWork::statement).
  sql::PreparedStatement& statement(const std::string& query) {
    auto found = statements_.find(query);
    if (found == statements_.end()) {
      std::unique_ptr<sql::PreparedStatement> prepared(connection_->prepareStatement(query));
      found = statements_.emplace(query, std::move(prepared)).first;
    }
    found->second->clearParameters();
    return *found->second;
  }

  /// COMMIT as store/database.cpp sends it: a text statement.
  void commit() {
    std::unique_ptr<sql::Statement> statement(connection_->createStatement());
    statement->execute("COMMIT");
  }
  void rollback() { connection_->rollback(); }

 private:
  std::unique_ptr<sql::Connection> connection_;
  std::unordered_map<std::string, std::unique_ptr<sql::PreparedStatement>> statements_;
};

[[noreturn]] inline void fail(const std::string& what) {
  throw std::runtime_error(what);
}

inline std::vector<std::int64_t> id_list(const std::string& text) {
  std::vector<std::int64_t> ids;
  std::stringstream in(text);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) ids.push_back(std::stoll(item));
  return ids;
}

inline double percentile_ms(const std::vector<std::uint32_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1));
  return sorted[index] / 1000.0;
}

}  // namespace bench
