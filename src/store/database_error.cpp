// MariaDB error numbers to failure kinds, and Connector/C++ exceptions to domain errors.
#include "yizhan/store/database_error.hpp"

#include <cppconn/exception.h>

#include <regex>
#include <string>

#include "translate.hpp"

namespace yizhan::store {

FailureKind classify(int error_number) {
  switch (error_number) {
    case 1213:  // ER_LOCK_DEADLOCK, also Galera certification failure
    case 1205:  // ER_LOCK_WAIT_TIMEOUT
      return FailureKind::retry;
    case 1040:  // too many connections
    case 1053:  // server shutdown in progress
    case 1927:  // connection killed
    case 2002:  // cannot connect through socket
    case 2003:  // cannot connect to TCP server
    case 2006:  // server has gone away
    case 2013:  // lost connection during query
    case 2026:  // TLS connection error
    case 2055:  // lost connection at system error
      return FailureKind::connection_lost;
    case 1062: return FailureKind::duplicate;
    case 1452: return FailureKind::invalid_reference;
    case 1451: return FailureKind::still_referenced;
    case 1264:  // out of range
    case 1406:  // data too long
    case 1366:  // incorrect value
      return FailureKind::invalid_value;
    default: return FailureKind::other;
  }
}

domain::Error translate(const sql::SQLException& e) {
  using domain::Error;
  using domain::ErrorCode;
  const std::string cause = std::to_string(e.getErrorCode()) + " " + e.what();
  switch (classify(e.getErrorCode())) {
    case FailureKind::duplicate: {
      // "Duplicate entry 'X' for key 'uq_products_sku'": the key name tells the service which
      // field collided; the value itself is not repeated to the client.
      static const std::regex key_pattern("for key '(?:[^'.]*\\.)?([^']+)'");
      std::smatch match;
      const std::string message = e.what();
      std::map<std::string, std::string> details;
      if (std::regex_search(message, match, key_pattern)) details["key"] = match[1];
      return Error(ErrorCode::duplicate, "already exists", std::move(details), cause);
    }
    case FailureKind::invalid_reference:
      return Error(ErrorCode::invalid, "refers to something that does not exist", {}, cause);
    case FailureKind::still_referenced:
      return Error(ErrorCode::conflict, "still in use", {}, cause);
    case FailureKind::invalid_value:
      return Error(ErrorCode::invalid, "a value is out of range or too long", {}, cause);
    case FailureKind::retry:
      return Error(ErrorCode::unavailable, "database busy, try again", {}, cause);
    case FailureKind::connection_lost:
      return Error(ErrorCode::unavailable, "database unavailable", {}, cause);
    case FailureKind::other: break;
  }
  return Error(ErrorCode::internal, "internal error", {}, cause);
}

}  // namespace yizhan::store
