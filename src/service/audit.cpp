// Audit log pages, by key: each page starts below the last id of the one before.
#include "yizhan/service/audit.hpp"

#include "yizhan/store/database.hpp"

namespace yizhan::service {

AuditPage AuditService::list(std::optional<std::int64_t> before, int limit) {
  return database_.transact([&](store::UnitOfWork& unit) {
    AuditPage result;
    // One row more than asked tells whether an older page exists, without a COUNT(*).
    result.items = store::list_audit(unit, limit + 1, before);
    if (static_cast<int>(result.items.size()) > limit) {
      result.items.pop_back();
      result.next_before = result.items.back().id;
    }
    return result;
  });
}

}  // namespace yizhan::service
