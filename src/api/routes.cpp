// The endpoint table: one line per resource module.
#include "yizhan/api/routes.hpp"

#include "audit.hpp"
#include "auth.hpp"
#include "catalog.hpp"
#include "operations.hpp"
#include "orders.hpp"
#include "pos.hpp"
#include "receipts.hpp"
#include "reports.hpp"
#include "settlements.hpp"
#include "stock.hpp"
#include "village.hpp"
#include "yizhan/api/error.hpp"
#include "yizhan/service/accounts.hpp"

namespace yizhan::api {

Router build_router(const Services& services, ServerEndpoints endpoints) {
  Router router;
  router.set_authenticator([&accounts = services.accounts](std::string_view token) {
    return accounts.authenticate(token);
  });
  add_operations_routes(router, services.health);
  add_auth_routes(router, services.accounts);
  add_audit_routes(router, services.audit);
  add_catalog_routes(router, services.catalog);
  if (services.counter) {
    add_pos_routes(router, *services.counter);
    add_owed_refund_routes(router, *services.counter);
  }
  if (services.counter) add_receipt_routes(router, *services.counter);
  if (services.stock) add_stock_routes(router, *services.stock);
  if (services.orders) add_order_routes(router, *services.orders);
  if (services.settlements) add_settlement_routes(router, *services.settlements);
  if (services.village_reports) add_village_routes(router, *services.village_reports);
  if (services.reports) add_report_routes(router, *services.reports);

  // GET /metrics
  if (!endpoints.metrics) {
    endpoints.metrics = [](const Request&) {
      Response response;
      response.content_type = "text/plain; version=0.0.4; charset=utf-8";
      return response;
    };
  }
  router.add(
      {"GET", "/metrics", Access::anyone, Executor::inline_io, std::move(endpoints.metrics)});

  // GET /media/{file...}
  if (!endpoints.media) {
    endpoints.media = [](const Request&) -> Response {
      return error_response(domain::Error(domain::ErrorCode::not_found, "no such file"));
    };
  }
  router.add(
      {"GET", "/media/{file...}", Access::anyone, Executor::inline_io, std::move(endpoints.media)});
  return router;
}

}  // namespace yizhan::api
