// Audit log pages.
#include "yizhan/service/audit.hpp"

#include "yizhan/store/database.hpp"

namespace yizhan::service {

AuditPage AuditService::list(int page, int page_size) {
  return database_.transact([&](store::Session& session) {
    AuditPage result;
    result.total = store::count_audit(session);
    result.items = store::list_audit(session, page_size, (page - 1) * page_size);
    return result;
  });
}

}  // namespace yizhan::service
