// Applies sql/NNN_name.sql in order and records each with its checksum.
#include "yizhan/store/migrations.hpp"

#include <cppconn/connection.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <memory>
#include <stdexcept>

#include "yizhan/store/database.hpp"

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
constexpr const char* kSelectApplied = "SELECT version, name, checksum FROM schema_migrations";
constexpr const char* kRecordApplied =
    "INSERT INTO schema_migrations (version, name, checksum) VALUES (?, ?, ?)";

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
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(sql.data(), sql.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

MigrationReport migrate(Database& database, const std::vector<Migration>& migrations) {
  MigrationReport report;
  database.with_session([&](Session& session) {
    std::unique_ptr<sql::Statement> ddl(session.connection().createStatement());
    ddl->execute(kCreateMigrationsTable);

    std::map<int, std::string> applied;
    {
      std::unique_ptr<sql::ResultSet> rows(session.statement(kSelectApplied).executeQuery());
      while (rows->next())
        applied[rows->getInt(1)] = rows->getString(3);
    }
    session.connection().commit();

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
      // DDL commits implicitly in MariaDB, so a migration is not atomic; record it only after
      // every statement succeeded so that a failed one is retried whole on the next run.
      for (const auto& statement : split_statements(migration.sql))
        ddl->execute(statement);
      auto& record = session.statement(kRecordApplied);
      record.setInt(1, migration.version);
      record.setString(2, migration.name);
      record.setString(3, sum);
      record.execute();
      session.connection().commit();
      report.applied.push_back(file_name(migration).substr(0, file_name(migration).size() - 4));
    }
  });
  return report;
}

}  // namespace yizhan::store
