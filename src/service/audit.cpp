// Audit log pages, by key: each page starts below the last id of the one before.
#include "yizhan/service/audit.hpp"

#include "yizhan/store/audit.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::service {

AuditPage AuditService::list(std::optional<std::int64_t> before, int limit) {
  return database_.transact([&](store::UnitOfWork& unit) {
    AuditPage result;
    // One row more than asked tells whether an older page exists, without a COUNT(*).
    for (auto& row : store::list_audit(unit, limit + 1, before)) {
      result.items.push_back({row.id, row.occurred_at_us, row.entry.user_id,
                              std::move(row.entry.actor), std::move(row.entry.action),
                              std::move(row.entry.entity_type), std::move(row.entry.entity_id),
                              std::move(row.before_json), std::move(row.after_json),
                              std::move(row.entry.client_address)});
    }
    if (static_cast<int>(result.items.size()) > limit) {
      result.items.pop_back();
      result.next_before = result.items.back().id;
    }
    return result;
  });
}

}  // namespace yizhan::service
