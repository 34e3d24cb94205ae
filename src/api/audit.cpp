// GET /api/v1/audit: the audit log, newest first, for admins.
#include "audit.hpp"

#include "json.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/audit.hpp"

namespace yizhan::api {

void add_audit_routes(Router& router, service::AuditService& audit) {
  // GET /api/v1/audit
  router.add(
      {"GET", "/api/v1/audit", Access::admin, Executor::database, [&audit](const Request& request) {
         const auto page = parse_page(request);
         const auto result = audit.list(page.page, page.page_size);
         json items = json::array();
         for (const auto& row : result.items) {
           const auto& e = row.entry;
           items.push_back(
               {{"id", row.id},
                {"occurred_at", domain::format_shanghai_time(row.occurred_at_us)},
                {"user_id", e.user_id ? json(*e.user_id) : json(nullptr)},
                {"actor", e.actor},
                {"action", e.action},
                {"entity_type", e.entity_type},
                {"entity_id", e.entity_id},
                {"before", row.before_json.empty() ? json(nullptr) : json::parse(row.before_json)},
                {"after", row.after_json.empty() ? json(nullptr) : json::parse(row.after_json)},
                {"client_address", e.client_address}});
         }
         return json_response(200, {{"items", items},
                                    {"total", result.total},
                                    {"page", page.page},
                                    {"page_size", page.page_size}});
       }});
}

}  // namespace yizhan::api
