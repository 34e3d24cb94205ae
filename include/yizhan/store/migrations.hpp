// Schema migrations: numbered SQL files applied once each, recorded with a checksum.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "yizhan/domain/embedded_file.hpp"

namespace yizhan::store {

class Database;

/// One migration, e.g. version 1 named "init" from sql/001_init.sql.
struct Migration {
  int version = 0;
  std::string name;
  std::string sql;
};

/// What `migrate` did.
struct MigrationReport {
  std::vector<std::string> applied;  ///< "001_init" … newly applied this time
  int already_applied = 0;
};

/// The migrations compiled into the binary from sql/, ordered by version. Throws on a file name
/// not of the form NNN_name.sql or a version used twice.
std::vector<Migration> bundled_migrations();

/// Parses "001_init.sql" into a migration. Throws std::invalid_argument on another form.
Migration migration_from_file(const domain::EmbeddedFile& file);

/// Splits a migration into statements at semicolons outside quotes and comments.
std::vector<std::string> split_statements(std::string_view sql);

/// Hex SHA-256 of a migration's text, as recorded in schema_migrations.
std::string checksum(std::string_view sql);

/// Applies the migrations not yet recorded, in version order; idempotent. Refuses (throws
/// std::runtime_error naming the file) when an applied migration's text has since changed.
MigrationReport migrate(Database& database, const std::vector<Migration>& migrations);

}  // namespace yizhan::store
