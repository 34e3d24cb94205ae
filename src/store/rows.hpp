// Private to src/store: reading result rows and generated ids.
#pragma once

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <cstdint>
#include <istream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "yizhan/domain/time.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::store {

/// The id the last INSERT of this unit of work generated.
inline std::int64_t last_insert_id(UnitOfWork& unit) {
  std::unique_ptr<sql::ResultSet> id(unit.statement("SELECT LAST_INSERT_ID()").executeQuery());
  id->next();
  return id->getInt64(1);
}

/// The first column of every row of `query`, as text (the checks' lists of differences).
inline std::vector<std::string> lines_of(UnitOfWork& unit, const char* query) {
  std::unique_ptr<sql::ResultSet> rows(unit.statement(query).executeQuery());
  std::vector<std::string> lines;
  while (rows->next())
    lines.push_back(rows->getString(1));
  return lines;
}

/// The first column of every row the prepared `statement` answers, as ids (the sweeps' batches).
inline std::vector<std::int64_t> ids_of(sql::PreparedStatement& statement) {
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  std::vector<std::int64_t> ids;
  while (rows->next())
    ids.push_back(rows->getInt64(1));
  return ids;
}

/// The placeholders of a multi-row INSERT: `rows` groups of `columns` "?", e.g. "(?, ?), (?, ?)".
inline std::string value_rows(std::size_t rows, std::size_t columns) {
  std::string group = "(";
  for (std::size_t c = 0; c < columns; ++c)
    group += c == 0 ? "?" : ", ?";
  group += ")";
  std::string out;
  for (std::size_t r = 0; r < rows; ++r)
    out += r == 0 ? group : ", " + group;
  return out;
}

/// A UTC DATETIME column as microseconds since the epoch.
inline std::int64_t micros(sql::ResultSet& row, int column) {
  return domain::parse_utc_datetime(std::string(row.getString(column))).value_or(0);
}

/// A nullable BIGINT column.
inline std::optional<std::int64_t> optional_int64(sql::ResultSet& row, int column) {
  if (row.isNull(column)) return std::nullopt;
  return row.getInt64(column);
}

/// A BINARY / BLOB column's bytes.
inline std::string read_bytes(sql::ResultSet& row, int column) {
  std::unique_ptr<std::istream> stream(row.getBlob(column));
  std::ostringstream bytes;
  if (stream) bytes << stream->rdbuf();
  return bytes.str();
}

/// Binds a nullable BIGINT parameter.
inline void set_optional(sql::PreparedStatement& statement, int index,
                         std::optional<std::int64_t> value) {
  if (value)
    statement.setInt64(index, *value);
  else
    statement.setNull(index, 0);
}

}  // namespace yizhan::store
