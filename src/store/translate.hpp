// Private to src/store: Connector/C++ exceptions to domain errors.
#pragma once

#include <string>

#include "yizhan/domain/error.hpp"

namespace sql {
class Connection;
class SQLException;
}  // namespace sql

namespace yizhan::store {

/// The domain error a MariaDB failure means for a client; SQL text only in `cause`.
domain::Error translate(const sql::SQLException& e);

/// Commits the connection's transaction, throwing sql::SQLException when that fails.
/// Connector/C++ 1.1's Connection::commit() drops mysql_commit's result, so a connection lost
/// during COMMIT looked like success; a COMMIT statement reports it.
void commit(sql::Connection& connection);

/// The column (or the field a CHECK constraint guards) that a MariaDB value error names; empty
/// when the message names none.
std::string refused_field(const std::string& message);

}  // namespace yizhan::store
