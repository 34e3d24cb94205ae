// The append-only audit log in MariaDB.
#include "yizhan/store/audit.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <cstdint>
#include <cstdio>
#include <memory>

#include "yizhan/domain/text.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::store {
namespace {

void append_json_string(std::string& out, std::string_view raw) {
  out += '"';
  for (unsigned char c : domain::replace_invalid_utf8(raw)) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
          out += escaped;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void bind_state(sql::PreparedStatement& statement, int index,
                const std::optional<AuditState>& state) {
  if (state) {
    statement.setString(index, audit_state_json(*state));
  } else {
    statement.setNull(index, 0);
  }
}

}  // namespace

std::string audit_state_json(const AuditState& state) {
  std::string out = "{";
  for (const auto& [name, value] : state) {
    if (out.size() > 1) out += ',';
    append_json_string(out, name);
    out += ':';
    append_json_string(out, value);
  }
  return out + "}";
}

void record_audit(UnitOfWork& unit, const AuditEntry& entry) {
  auto& statement = unit.statement(
      "INSERT INTO audit_log (user_id, actor, action, entity_type, entity_id, before_state, "
      "after_state, client_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  if (entry.user_id) {
    statement.setInt64(1, *entry.user_id);
  } else {
    statement.setNull(1, 0);
  }
  // VARCHAR(n) counts characters: a byte cut inside a hanzi would be MariaDB error 1366.
  statement.setString(2, domain::storable_text(entry.actor, 64));
  statement.setString(3, domain::storable_text(entry.action, 200));
  statement.setString(4, domain::storable_text(entry.entity_type, 64));
  statement.setString(5, domain::storable_text(entry.entity_id, 64));
  bind_state(statement, 6, entry.before);
  bind_state(statement, 7, entry.after);
  statement.setString(8, domain::storable_text(entry.client_address, 64));
  statement.executeUpdate();
}

std::vector<AuditRow> list_audit(UnitOfWork& unit, int limit,
                                 std::optional<std::int64_t> before_id) {
  auto& statement = unit.statement(
      "SELECT id, occurred_at, user_id, actor, action, entity_type, entity_id, "
      "       COALESCE(before_state, ''), COALESCE(after_state, ''), client_address "
      "FROM audit_log WHERE id < ? ORDER BY id DESC LIMIT ?");
  statement.setInt64(1, before_id.value_or(INT64_MAX));
  statement.setInt(2, limit);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  std::vector<AuditRow> result;
  while (rows->next()) {
    AuditRow row;
    row.id = rows->getInt64(1);
    row.occurred_at_us = domain::parse_utc_datetime(std::string(rows->getString(2))).value_or(0);
    if (!rows->isNull(3)) row.entry.user_id = rows->getInt64(3);
    row.entry.actor = rows->getString(4);
    row.entry.action = rows->getString(5);
    row.entry.entity_type = rows->getString(6);
    row.entry.entity_id = rows->getString(7);
    row.before_json = rows->getString(8);
    row.after_json = rows->getString(9);
    row.entry.client_address = rows->getString(10);
    result.push_back(std::move(row));
  }
  return result;
}

}  // namespace yizhan::store
