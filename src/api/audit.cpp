// GET /api/v1/audit: the audit log, newest first, for admins; paged by key (`before`).
#include "audit.hpp"

#include "json.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/audit.hpp"

namespace yizhan::api {
namespace {

/// `limit` (1–100, default 20; `page_size` is its older name) and the `before` cursor.
struct AuditQuery {
  std::optional<std::int64_t> before;
  int limit = 20;
};

AuditQuery parse_audit_query(const Request& request) {
  AuditQuery query;
  for (const char* name : {"page_size", "limit"}) {
    if (const auto found = request.query.find(name); found != request.query.end()) {
      const auto value = positive_integer(found->second);
      if (!value || *value > 100) {
        throw domain::Error::invalid_field(name, std::string(name) + " must be 1 to 100");
      }
      query.limit = static_cast<int>(*value);
    }
  }
  if (const auto found = request.query.find("before"); found != request.query.end()) {
    query.before = positive_integer(found->second);
    if (!query.before) throw domain::Error::invalid_field("before", "before must be an entry id");
  }
  // Numbered pages were an OFFSET scan; the first page is still asked for as page=1.
  if (const auto found = request.query.find("page");
      found != request.query.end() && found->second != "1") {
    throw domain::Error::invalid_field(
        "page", "the audit log pages by key: pass before=<next_before of the previous page>");
  }
  return query;
}

/// A state as stored (a JSON object of strings), or null. Bad stored JSON is our bug: a 500.
json stored_state(const std::string& text) {
  if (text.empty()) return nullptr;
  auto state = json::parse(text, nullptr, false);
  if (state.is_discarded()) {
    throw domain::Error(domain::ErrorCode::internal, "internal error", {},
                        "audit_log holds a state that is not JSON");
  }
  return state;
}

}  // namespace

void add_audit_routes(Router& router, service::AuditService& audit) {
  // GET /api/v1/audit
  router.add(
      {"GET", "/api/v1/audit", Access::admin, Executor::database, [&audit](const Request& request) {
         const auto query = parse_audit_query(request);
         const auto result = audit.list(query.before, query.limit);
         json items = json::array();
         for (const auto& row : result.items) {
           const auto& e = row;
           items.push_back({{"id", row.id},
                            {"occurred_at", domain::format_shanghai_time(row.occurred_at_us)},
                            {"user_id", e.user_id ? json(*e.user_id) : json(nullptr)},
                            {"actor", e.actor},
                            {"action", e.action},
                            {"entity_type", e.entity_type},
                            {"entity_id", e.entity_id},
                            {"before", stored_state(row.before_json)},
                            {"after", stored_state(row.after_json)},
                            {"client_address", e.client_address}});
         }
         return json_response(
             200, {{"items", items},
                   {"next_before", result.next_before ? json(*result.next_before) : json(nullptr)},
                   {"limit", query.limit},
                   {"page_size", query.limit}});
       }});
}

}  // namespace yizhan::api
