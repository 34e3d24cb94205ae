// MariaDB error numbers to failure kinds, and Connector/C++ exceptions to domain errors.
#include "yizhan/store/database_error.hpp"

#include <cppconn/exception.h>

#include <map>
#include <regex>
#include <string>

#include "translate.hpp"

namespace yizhan::store {

FailureKind classify(int error_number) {
  switch (error_number) {
    case 1213:  // ER_LOCK_DEADLOCK, also Galera certification failure
    case 1205:  // ER_LOCK_WAIT_TIMEOUT
      return FailureKind::retry;
    case 1047:  // ER_UNKNOWN_COM_ERROR: a Galera node not ready for application use
    case 1053:  // server shutdown in progress
      return FailureKind::node_unavailable;
    case 1040:  // too many connections
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
    case 1048:  // column cannot be null
    case 1264:  // out of range
    case 1265:  // data truncated (e.g. not one of an ENUM's values)
    case 1292:  // incorrect date/time value
    case 1366:  // incorrect value (a string that is not a number, bytes that are not UTF-8)
    case 1406:  // data too long
    case 4025:  // CHECK constraint failed
      return FailureKind::invalid_value;
    default: return FailureKind::other;
  }
}

std::string refused_field(const std::string& message) {
  // "Column 'name' cannot be null", "Data too long for column 'name' at row 1",
  // "Incorrect integer value: 'x' for column `db`.`t`.`name` at row 1",
  // "CONSTRAINT `ck_products_price` failed for `db`.`products`".
  static const std::regex column_pattern("[Cc]olumn (?:'([^']+)'|(?:`[^`]*`\\.)*`([^`]+)`)");
  static const std::regex constraint_pattern(
      "CONSTRAINT `([^`]+)` failed(?: for (?:`[^`]*`\\.)?`([^`]+)`)?");
  std::smatch match;
  if (std::regex_search(message, match, column_pattern)) {
    return match[1].matched ? match[1].str() : match[2].str();
  }
  if (std::regex_search(message, match, constraint_pattern)) {
    // Constraints are named ck_<table>_<what>; the few whose <what> is not the column:
    static const std::map<std::string, std::string> kFields{
        {"ck_villages_commission", "commission_bps"},
        {"ck_products_price", "price_fen"},
        {"ck_products_commission", "commission_bps"},
        {"ck_users_village_role", "village_id"},
        {"ck_held_carts_json", "cart"},
    };
    const std::string name = match[1];
    if (const auto found = kFields.find(name); found != kFields.end()) return found->second;
    // The table's own name may hold '_' (ck_sale_lines_split): cut it whole when it is known.
    if (match[2].matched) {
      const std::string prefix = "ck_" + match[2].str() + "_";
      if (name.starts_with(prefix) && name.size() > prefix.size())
        return name.substr(prefix.size());
    }
    const auto second = name.find('_', 3);
    return name.starts_with("ck_") && second != std::string::npos ? name.substr(second + 1) : name;
  }
  return {};
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
    case FailureKind::invalid_value: {
      const std::string field = refused_field(e.what());
      std::map<std::string, std::string> details;
      if (!field.empty()) details["field"] = field;
      return Error(
          ErrorCode::invalid,
          field.empty() ? "a value is not allowed" : field + " has a value that is not allowed",
          std::move(details), cause);
    }
    case FailureKind::node_unavailable:
      return Error(ErrorCode::unavailable, "database not ready, try again", {}, cause);
    case FailureKind::retry:
      return Error(ErrorCode::unavailable, "database busy, try again", {}, cause);
    case FailureKind::connection_lost:
      return Error(ErrorCode::unavailable, "database unavailable", {}, cause);
    case FailureKind::other: break;
  }
  return Error(ErrorCode::internal, "internal error", {}, cause);
}

}  // namespace yizhan::store
