// The village portal (issue 10): one village's figures, read only. Access::village lets village
// accounts and admins in; the service then refuses a village account any village but its own.
#include "village.hpp"

#include "json.hpp"
#include "yizhan/service/village_reports.hpp"

namespace yizhan::api {
namespace {

using domain::Error;

std::optional<std::string> text_query(const Request& request, const char* name) {
  const auto found = request.query.find(name);
  if (found == request.query.end() || found->second.empty()) return std::nullopt;
  return found->second;
}

json figures_json(const domain::RevenueFigures& f) {
  return {{"gross_fen", f.gross.value()},
          {"fee_fen", f.fee.value()},
          {"share_fen", f.share.value()},
          {"refund_fen", f.refund_gross.value()},
          {"refund_share_fen", f.refund_share.value()},
          {"pieces", f.pieces},
          {"grams", f.grams},
          {"sales_count", f.sales}};
}

json totals_json(const domain::RevenueTotals& totals) {
  auto out = figures_json(totals.all);
  out["channels"] = {{"counter", figures_json(totals.counter)},
                     {"online", figures_json(totals.online)}};
  return out;
}

json revenue_item_json(const service::RevenueItem& item, const std::string& group) {
  auto out = figures_json(item.figures);
  if (group == "day") {
    out["day"] = item.day;
  } else {
    out["product_id"] = item.product_id;
    out["name"] = item.name;
    out["name_en"] = item.name_en;
    out["unit"] = domain::to_string(item.unit);
    out["quantity"] = item.unit == domain::Unit::gram ? item.figures.grams : item.figures.pieces;
  }
  return out;
}

}  // namespace

void add_village_routes(Router& router, service::VillageReportService& reports) {
  // GET /api/v1/villages/{id}/summary
  router.add({"GET", "/api/v1/villages/{id}/summary", Access::village, Executor::database,
              [&reports](const Request& request) {
                const auto s = reports.summary(*request.principal, path_id(request));
                auto today = totals_json(s.today_totals);
                today["from"] = s.today;
                today["to"] = s.today;
                auto month = totals_json(s.month_totals);
                month["from"] = s.month_from;
                month["to"] = s.today;
                return json_response(200, {{"village_id", s.village_id},
                                           {"village_name", s.village_name},
                                           {"village_name_en", s.village_name_en},
                                           {"business_day", s.today},
                                           {"today", today},
                                           {"month", month},
                                           {"balance_fen", s.balance.value()}});
              }});

  // GET /api/v1/villages/{id}/revenue
  router.add({"GET", "/api/v1/villages/{id}/revenue", Access::village, Executor::database,
              [&reports](const Request& request) {
                service::RevenueQuery query;
                query.from = text_query(request, "from");
                query.to = text_query(request, "to");
                query.group = text_query(request, "group");
                const auto report = reports.revenue(*request.principal, path_id(request), query);
                auto out = totals_json(report.totals);
                out["village_id"] = report.village_id;
                out["from"] = report.from;
                out["to"] = report.to;
                out["group"] = report.group;
                json items = json::array();
                for (const auto& item : report.items)
                  items.push_back(revenue_item_json(item, report.group));
                out["items"] = std::move(items);
                return json_response(200, out);
              }});

  // GET /api/v1/villages/{id}/balance
  router.add({"GET", "/api/v1/villages/{id}/balance", Access::village, Executor::database,
              [&reports](const Request& request) {
                const auto id = path_id(request);
                const auto balance = reports.balance(*request.principal, id);
                return json_response(200, {{"village_id", id}, {"balance_fen", balance.value()}});
              }});

  // GET /api/v1/villages/{id}/stock
  router.add({"GET", "/api/v1/villages/{id}/stock", Access::village, Executor::database,
              [&reports](const Request& request) {
                std::optional<std::int64_t> within;
                if (const auto days = text_query(request, "expiring_days")) {
                  within = *days == "0" ? std::optional<std::int64_t>(0) : positive_integer(*days);
                  if (!within || *within > 365)
                    throw Error::invalid_field(
                        "expiring_days", "expiring_days 须为 0 到 365 / expiring_days is 0 to 365");
                }
                const auto stock = reports.stock(*request.principal, path_id(request), within);
                json items = json::array();
                for (const auto& item : stock.items) {
                  items.push_back({{"product_id", item.product_id},
                                   {"name", item.name},
                                   {"name_en", item.name_en},
                                   {"unit", domain::to_string(item.unit)},
                                   {"on_hand", item.on_hand},
                                   {"reserved", item.reserved},
                                   {"available", item.available},
                                   {"low_stock", nullable(item.low_stock)},
                                   {"low", item.low},
                                   {"next_expiry", nullable(item.next_expiry)}});
                }
                json expiring = json::array();
                for (const auto& lot : stock.expiring) {
                  expiring.push_back({{"lot_id", lot.lot_id},
                                      {"product_id", lot.product_id},
                                      {"name", lot.product_name},
                                      {"name_en", lot.product_name_en},
                                      {"unit", domain::to_string(lot.unit)},
                                      {"lot", lot.lot},
                                      {"expires_on", lot.expires_on},
                                      {"remaining", lot.remaining},
                                      {"days_left", lot.days_left}});
                }
                return json_response(200, {{"village_id", stock.village_id},
                                           {"business_day", stock.today},
                                           {"expiring_days", stock.expiring_days},
                                           {"items", items},
                                           {"expiring", expiring}});
              }});
}

}  // namespace yizhan::api
