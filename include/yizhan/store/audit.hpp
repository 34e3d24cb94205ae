// The audit log: who did what to which entity, with its state before and after.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace yizhan::store {

class UnitOfWork;

/// Field name → value as text; stored as a JSON object of strings.
using AuditState = std::vector<std::pair<std::string, std::string>>;

/// One audit entry. `action` is the route ("POST /api/v1/villages") or command ("user add").
struct AuditEntry {
  std::optional<std::int64_t> user_id;
  std::string actor;  ///< username, or "cli" / "anonymous"
  std::string action;
  std::string entity_type;
  std::string entity_id;
  std::optional<AuditState> before;
  std::optional<AuditState> after;
  std::string client_address;
};

/// A stored entry with its id and time (microseconds since the epoch, UTC).
struct AuditRow {
  std::int64_t id = 0;
  std::int64_t occurred_at_us = 0;
  AuditEntry entry;
  std::string before_json;  ///< as stored, or empty
  std::string after_json;
};

/// Appends an entry inside the caller's transaction, so it commits with the change it records.
/// Text fields are made valid UTF-8 and cut by characters to their columns' lengths.
void record_audit(UnitOfWork& unit, const AuditEntry& entry);

/// Up to `limit` entries newest first, only those with an id below `before_id` when given:
/// paging by key, so a deep page costs what the first one does (no OFFSET scan).
std::vector<AuditRow> list_audit(UnitOfWork& unit, int limit,
                                 std::optional<std::int64_t> before_id);

/// Encodes state as a JSON object of strings (exposed for tests).
std::string audit_state_json(const AuditState& state);

}  // namespace yizhan::store
