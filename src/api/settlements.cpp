// Settlements (API.md "Revenue"): drafts, confirmation, payouts, the statement as CSV or a
// printable page, and a village's manual adjustments.
#include "settlements.hpp"

#include <string>

#include "idempotency.hpp"
#include "json.hpp"
#include "yizhan/domain/settlement.hpp"
#include "yizhan/service/settlements.hpp"

namespace yizhan::api {
namespace {

using domain::Error;
using domain::ErrorCode;

/// The statement's style sheet (the pages' Content-Security-Policy allows no inline style).
constexpr const char* kStatementStylesheet = "/assets/css/statement.css";

json line_json(const domain::StatementLine& line) {
  return {{"kind", domain::to_string(line.kind)},
          {"line_id", line.line_id},
          {"business_day", line.business_day},
          {"document", line.document},
          {"description", line.description},
          {"unit", line.unit ? json(domain::to_string(*line.unit)) : json(nullptr)},
          {"quantity", line.quantity},
          {"gross_fen", line.gross.value()},
          {"fee_fen", line.fee.value()},
          {"share_fen", line.share.value()}};
}

json settlement_json(const service::Settlement& s, bool with_lines) {
  const auto& t = s.totals;
  json out = {{"id", s.id},
              {"village_id", s.village_id},
              {"village_name", s.village_name},
              {"village_code", s.village_code},
              {"from", s.from},
              {"to", s.to},
              {"state", domain::to_string(s.state)},
              {"line_count", t.line_count},
              {"sales_gross_fen", t.sales_gross.value()},
              {"sales_fee_fen", t.sales_fee.value()},
              {"sales_share_fen", t.sales_share.value()},
              {"refund_gross_fen", t.refund_gross.value()},
              {"refund_fee_fen", t.refund_fee.value()},
              {"refund_share_fen", t.refund_share.value()},
              {"adjustments_fen", t.adjustments.value()},
              // What the station owes the village for the period (API.md calls it share_fen).
              {"share_fen", t.total.value()},
              {"total_fen", t.total.value()},
              {"created_at", time_json(s.created_at_us)},
              {"confirmed_at", s.confirmed_at_us ? time_json(*s.confirmed_at_us) : json(nullptr)},
              {"paid_fen", s.paid_fen()},
              {"remaining_fen", s.remaining_fen()}};
  json payouts = json::array();
  for (const auto& p : s.payouts) {
    payouts.push_back({{"id", p.id},
                       {"amount_fen", p.amount_fen},
                       {"method", p.method},
                       {"reference", p.reference},
                       {"paid_on", p.paid_on},
                       {"created_at", time_json(p.created_at_us)}});
  }
  out["payouts"] = std::move(payouts);
  if (with_lines) {
    json lines = json::array();
    for (const auto& line : s.lines)
      lines.push_back(line_json(line));
    out["lines"] = std::move(lines);
  }
  return out;
}

json adjustment_json(const service::Adjustment& a) {
  return {{"id", a.id},
          {"village_id", a.village_id},
          {"amount_fen", a.amount_fen},
          {"reason", a.reason},
          {"business_day", a.business_day},
          {"created_at", time_json(a.created_at_us)},
          {"settlement_id", nullable(a.settlement_id)}};
}

service::IdempotencyKey required_key(const Request& request, std::string_view route) {
  auto key = idempotency_key(request, route);
  if (!key)
    throw Error(ErrorCode::idempotency_key_required,
                "需要 Idempotency-Key 请求头 / the Idempotency-Key header is required");
  return *key;
}

std::optional<std::string> text_query(const Request& request, const char* name) {
  const auto found = request.query.find(name);
  if (found == request.query.end() || found->second.empty()) return std::nullopt;
  return found->second;
}

/// Letters, digits, '-' and '_' only: safe in a Content-Disposition file name.
std::string file_name_part(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_')
      out += c;
  }
  return out.empty() ? "village" : out;
}

}  // namespace

void add_settlement_routes(Router& router, service::SettlementService& settlements) {
  // POST /api/v1/settlements
  router.add({"POST", "/api/v1/settlements", Access::admin, Executor::database,
              [&settlements](const Request& request) {
                const auto body = parse_object(request);
                reject_unknown_fields(body, {"village_id", "from", "to"});
                service::DraftRequest draft{integer_field(body, "village_id"),
                                            string_field(body, "from"), string_field(body, "to")};
                return from_stored(settlements.create_draft(
                    draft, actor_of(request), idempotency_key(request, "POST /api/v1/settlements"),
                    [](const service::Settlement& settlement) {
                      return to_stored(json_response(201, settlement_json(settlement, true)));
                    }));
              }});

  // GET /api/v1/settlements
  router.add({"GET", "/api/v1/settlements", Access::village, Executor::database,
              [&settlements](const Request& request) {
                const auto page = parse_page(request);
                std::optional<std::int64_t> village_id;
                if (const auto text = text_query(request, "village_id")) {
                  village_id = positive_integer(*text);
                  if (!village_id)
                    throw Error::invalid_field("village_id",
                                               "village_id must be a positive integer");
                }
                const auto result =
                    settlements.list(*request.principal, village_id, text_query(request, "state"),
                                     page.page_size, page.offset());
                json items = json::array();
                for (const auto& settlement : result.items)
                  items.push_back(settlement_json(settlement, false));
                return json_response(200, {{"items", items},
                                           {"total", result.total},
                                           {"page", page.page},
                                           {"page_size", page.page_size}});
              }});

  // GET /api/v1/settlements/{id}
  router.add({"GET", "/api/v1/settlements/{id}", Access::village, Executor::database,
              [&settlements](const Request& request) {
                return json_response(
                    200,
                    settlement_json(settlements.get(*request.principal, path_id(request)), true));
              }});

  // POST /api/v1/settlements/{id}/confirm
  router.add(
      {"POST", "/api/v1/settlements/{id}/confirm", Access::admin, Executor::database,
       [&settlements](const Request& request) {
         expect_no_fields(request);
         return json_response(
             200, settlement_json(settlements.confirm(path_id(request), actor_of(request)), true));
       }});

  // POST /api/v1/settlements/{id}/payouts
  router.add({"POST", "/api/v1/settlements/{id}/payouts", Access::admin, Executor::database,
              [&settlements](const Request& request) {
                const auto id = path_id(request);
                const auto key = required_key(request, "POST /api/v1/settlements/{id}/payouts");
                const auto body = parse_object(request);
                reject_unknown_fields(body, {"amount_fen", "method", "reference", "paid_on"});
                service::PayoutRequest payout{
                    integer_field(body, "amount_fen"), string_field(body, "method"),
                    string_field(body, "reference"), string_field(body, "paid_on")};
                return from_stored(settlements.pay(
                    id, payout, actor_of(request), key, [](const service::Settlement& settlement) {
                      return to_stored(json_response(201, settlement_json(settlement, true)));
                    }));
              }});

  // GET /api/v1/settlements/{id}/statement
  router.add({"GET", "/api/v1/settlements/{id}/statement", Access::village, Executor::database,
              [&settlements](const Request& request) {
                const auto format = text_query(request, "format").value_or("html");
                if (format != "html" && format != "csv")
                  throw Error::invalid_field("format",
                                             "format 应为 csv 或 html / format must be "
                                             "csv or html");
                const auto statement = settlements.statement(*request.principal, path_id(request));
                Response response;
                response.headers.emplace_back("Cache-Control", "no-store");
                if (format == "csv") {
                  response.content_type = "text/csv; charset=utf-8";
                  response.headers.emplace_back(
                      "Content-Disposition",
                      "attachment; filename=\"statement-S" +
                          std::to_string(statement.settlement_id) + "-" +
                          file_name_part(statement.village_code) + "-" +
                          domain::format_iso_date(statement.period.from) + "-" +
                          domain::format_iso_date(statement.period.to) + ".csv\"");
                  response.body = domain::statement_csv(statement);
                } else {
                  response.content_type = "text/html; charset=utf-8";
                  response.body = domain::statement_html(statement, kStatementStylesheet);
                }
                return response;
              }});

  // POST /api/v1/villages/{id}/adjustments
  router.add(
      {"POST", "/api/v1/villages/{id}/adjustments", Access::admin, Executor::database,
       [&settlements](const Request& request) {
         const auto village_id = path_id(request);
         const auto key = required_key(request, "POST /api/v1/villages/{id}/adjustments");
         const auto body = parse_object(request);
         reject_unknown_fields(body, {"amount_fen", "reason"});
         service::AdjustmentRequest adjustment{integer_field(body, "amount_fen"),
                                               string_field(body, "reason")};
         return from_stored(settlements.adjust(
             village_id, adjustment, actor_of(request), key, [](const service::Adjustment& made) {
               return to_stored(json_response(201, adjustment_json(made)));
             }));
       }});

  // GET /api/v1/villages/{id}/adjustments
  router.add({"GET", "/api/v1/villages/{id}/adjustments", Access::village, Executor::database,
              [&settlements](const Request& request) {
                json items = json::array();
                for (const auto& adjustment :
                     settlements.adjustments(*request.principal, path_id(request)))
                  items.push_back(adjustment_json(adjustment));
                return json_response(200, {{"items", items}});
              }});
}

}  // namespace yizhan::api
