// Reading the audit log (administrators).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace yizhan::store {
class Database;
}

namespace yizhan::service {

/// One audit entry as the service tells it: who did what to which entity, before and after.
struct AuditRecord {
  std::int64_t id = 0;
  std::int64_t occurred_at_us = 0;  ///< microseconds since the epoch, UTC
  std::optional<std::int64_t> user_id;
  std::string actor;  ///< username, or "cli" / "anonymous"
  std::string action;
  std::string entity_type;
  std::string entity_id;
  std::string before_json;  ///< the state before, a JSON object as stored, or empty
  std::string after_json;
  std::string client_address;
};

/// One page of audit entries, newest first, and the cursor of the next (older) page.
struct AuditPage {
  std::vector<AuditRecord> items;
  std::optional<std::int64_t> next_before;  ///< pass as `before` for the next page; none at the end
};

class AuditService {
 public:
  explicit AuditService(store::Database& database) : database_(database) {}
  /// Up to `limit` (1–100, checked by the caller) entries with ids below `before` (all when
  /// none), newest first.
  AuditPage list(std::optional<std::int64_t> before, int limit);

 private:
  store::Database& database_;
};

}  // namespace yizhan::service
