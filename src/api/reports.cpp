// The manager's reports (issue 10), admin only: each as JSON, or with format=csv as a CSV file
// that Excel opens (UTF-8 with a BOM, yuan with two decimals: domain::report_csv).
#include "reports.hpp"

#include "json.hpp"
#include "yizhan/domain/report.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/reports.hpp"

namespace yizhan::api {
namespace {

using domain::CellKind;
using domain::Error;
using domain::ReportCell;
using domain::ReportTable;
using domain::SalesGroup;

std::optional<std::string> text_query(const Request& request, const char* name) {
  const auto found = request.query.find(name);
  if (found == request.query.end() || found->second.empty()) return std::nullopt;
  return found->second;
}

service::ReportQuery query_of(const Request& request) {
  return {text_query(request, "from"),  text_query(request, "to"),
          text_query(request, "group"), text_query(request, "limit"),
          text_query(request, "days"),  text_query(request, "provider")};
}

/// True for CSV, false for JSON; 422 naming `format` for anything else.
bool wants_csv(const Request& request) {
  const auto format = text_query(request, "format").value_or("json");
  if (format != "json" && format != "csv")
    throw Error::invalid_field("format", "format 应为 json 或 csv / format must be json or csv");
  return format == "csv";
}

/// A CSV file to download as `name`.csv.
Response csv_file(std::string body, const std::string& name) {
  Response response;
  response.content_type = "text/csv; charset=utf-8";
  response.headers.emplace_back("Cache-Control", "no-store");
  response.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + ".csv\"");
  response.body = std::move(body);
  return response;
}

Response csv_response(const ReportTable& table, const std::string& name) {
  return csv_file(domain::report_csv(table), name);
}

json figures_json(const domain::RevenueFigures& f) {
  return {{"gross_fen", f.gross.value()},
          {"fee_fen", f.fee.value()},
          {"share_fen", f.share.value()},
          {"refund_fen", f.refund_gross.value()},
          {"refund_share_fen", f.refund_share.value()},
          {"pieces", f.pieces},
          {"grams", f.grams},
          {"sales_count", f.sales},
          {"effective_bps", domain::effective_bps(f.fee, f.gross)}};
}

json totals_json(const domain::RevenueTotals& totals, std::int64_t refunds) {
  auto out = figures_json(totals.all);
  out["refund_count"] = refunds;
  out["channels"] = {{"counter", figures_json(totals.counter)},
                     {"online", figures_json(totals.online)}};
  return out;
}

json sales_json(const service::SalesReport& report) {
  auto out = totals_json(report.totals, report.refunds);
  out["from"] = report.from;
  out["to"] = report.to;
  out["group"] = domain::to_string(report.group);
  json items = json::array();
  for (const auto& item : report.items) {
    auto row = totals_json(item.figures, item.refunds);
    row["key"] = item.key;
    if (item.id) row["id"] = *item.id;
    if (!item.name.empty() || item.id) {
      row["code"] = item.code;
      row["name"] = item.name;
      row["name_en"] = item.name_en;
    }
    if (item.village_id) row["village_id"] = *item.village_id;
    if (item.unit) {
      row["unit"] = domain::to_string(*item.unit);
      row["quantity"] =
          *item.unit == domain::Unit::gram ? item.figures.all.grams : item.figures.all.pieces;
    }
    items.push_back(std::move(row));
  }
  out["items"] = std::move(items);
  return out;
}

std::string group_header(SalesGroup group) {
  switch (group) {
    case SalesGroup::day: return "日期 Day";
    case SalesGroup::month: return "月份 Month";
    case SalesGroup::village: return "村 Village";
    case SalesGroup::product: return "商品 Product";
    case SalesGroup::category: return "品类 Category";
    case SalesGroup::channel: return "渠道 Channel";
    case SalesGroup::method: return "支付方式 Payment method";
  }
  return "";
}

std::string item_label(const service::SalesItem& item) {
  if (item.name.empty()) {
    if (item.key == "counter") return "柜台 Counter";
    if (item.key == "online") return "网店 Online";
    return item.key;
  }
  return item.name_en.empty() ? item.name : item.name + " " + item.name_en;
}

/// The sales (or commission) report as a table: one row per group, then the totals.
ReportTable sales_table(const service::SalesReport& report) {
  ReportTable table;
  table.columns = {{group_header(report.group), CellKind::text},
                   {"编码 Code", CellKind::text},
                   {"销售额(元) Gross (yuan)", CellKind::money},
                   {"其中退款(元) Refunded (yuan)", CellKind::money},
                   {"佣金(元) Commission (yuan)", CellKind::money},
                   {"村集体所得(元) Village share (yuan)", CellKind::money},
                   {"佣金率 Commission rate", CellKind::basis_points},
                   {"柜台(元) Counter (yuan)", CellKind::money},
                   {"网店(元) Online (yuan)", CellKind::money},
                   {"件数 Pieces", CellKind::integer},
                   {"克 Grams", CellKind::integer},
                   {"笔数 Sales", CellKind::integer},
                   {"退款笔数 Refunds", CellKind::integer}};
  auto row = [](std::string label, std::string code, const domain::RevenueTotals& f,
                std::int64_t refunds) {
    return std::vector<ReportCell>{std::move(label),
                                   std::move(code),
                                   f.all.gross.value(),
                                   f.all.refund_gross.value(),
                                   f.all.fee.value(),
                                   f.all.share.value(),
                                   domain::effective_bps(f.all.fee, f.all.gross),
                                   f.counter.gross.value(),
                                   f.online.gross.value(),
                                   f.all.pieces,
                                   f.all.grams,
                                   f.all.sales,
                                   refunds};
  };
  for (const auto& item : report.items)
    table.rows.push_back(row(item_label(item), item.code, item.figures, item.refunds));
  table.rows.push_back(row("合计 Total", "", report.totals, report.refunds));
  return table;
}

Response sales_response(const Request& request, const service::SalesReport& report,
                        const std::string& name) {
  if (wants_csv(request))
    return csv_response(sales_table(report), name + "-" +
                                                 std::string(domain::to_string(report.group)) +
                                                 "-" + report.from + "-" + report.to);
  return json_response(200, sales_json(report));
}

json payment_totals_json(const domain::PaymentTotals& totals) {
  return {{"received_fen", totals.received.value()},
          {"refunded_fen", totals.refunded.value()},
          {"net_fen", totals.net().value()},
          {"received_count", totals.received_count},
          {"refunded_count", totals.refunded_count}};
}

/// What a movement was, as the station says it (Chinese first).
std::string movement_label(const std::string& kind) {
  if (kind == "sale") return "柜台销售 Counter sale";
  if (kind == "refund") return "柜台退款 Counter refund";
  if (kind == "refund_failed") return "退款未成功，冲回 Refund not paid, reversed";
  if (kind == "order_payment") return "网店付款 Online payment";
  if (kind == "order_refund") return "网店退款 Online refund";
  if (kind == "surplus_payment") return "重复付款 Second payment";
  if (kind == "surplus_return") return "重复付款退回 Second payment returned";
  return kind;
}

std::string provider_label(const std::string& provider) {
  if (provider == "wechat") return "微信支付 WeChat Pay";
  if (provider == "alipay") return "支付宝 Alipay";
  if (provider == "card") return "银行卡 Card";
  if (provider == "other") return "其他 Other";
  return provider;
}

/// The payments reconciliation. Its movements (a busy month: ~30 000) are written out one by
/// one rather than built as a table or a JSON document first, which took several times the
/// answer's size.
Response payments_response(const Request& request, const service::PaymentsReport& report) {
  if (wants_csv(request)) {
    const std::vector<domain::ReportColumn> columns = {
        {"业务日 Business day", CellKind::text},
        {"记账时间 Booked at", CellKind::text},
        {"支付渠道 Provider", CellKind::text},
        {"方式 Method", CellKind::text},
        {"类型 Kind", CellKind::text},
        {"单据 Document", CellKind::text},
        {"商户单号 Merchant trade no.", CellKind::text},
        {"渠道单号 Provider's no.", CellKind::text},
        {"收入(元) In (yuan)", CellKind::money},
        {"支出(元) Out (yuan)", CellKind::money},
        {"笔数 Count", CellKind::integer}};
    const auto money = [](domain::Fen fen) {
      return fen > domain::Fen(0) ? ReportCell(fen.value()) : ReportCell();
    };
    std::string body = domain::report_csv_header(columns);
    for (const auto& item : report.items)
      body += domain::report_csv_row(
          columns, {item.business_day, domain::format_shanghai_time(item.at_us),
                    provider_label(item.provider), item.method, movement_label(item.kind),
                    item.document, item.trade_no, item.transaction_id, money(item.amount),
                    money(-item.amount), std::monostate{}});
    const auto total_row = [&](std::string label, const domain::PaymentTotals& t) {
      return domain::report_csv_row(
          columns, {std::move(label), std::string(), std::string(), std::string(), std::string(),
                    std::string(), std::string(), std::string(), t.received.value(),
                    t.refunded.value(), t.received_count + t.refunded_count});
    };
    for (const auto& [provider, totals] : report.providers)
      body += total_row("小计 Subtotal " + provider_label(provider), totals);
    body += total_row("合计 Total", report.totals);
    return csv_file(std::move(body), "payments-" + report.provider.value_or("all") + "-" +
                                         report.from + "-" + report.to);
  }
  json out = payment_totals_json(report.totals);
  out["from"] = report.from;
  out["to"] = report.to;
  out["provider"] = report.provider ? json(*report.provider) : json(nullptr);
  json providers = json::array();
  for (const auto& [provider, totals] : report.providers) {
    auto row = payment_totals_json(totals);
    row["provider"] = provider;
    providers.push_back(std::move(row));
  }
  out["providers"] = std::move(providers);
  json days = json::array();
  for (const auto& day : report.days) {
    auto row = payment_totals_json(day.totals);
    row["business_day"] = day.business_day;
    row["provider"] = day.provider;
    days.push_back(std::move(row));
  }
  out["days"] = std::move(days);
  out["items"] = json::array();
  // Everything but the items, then the items one by one into the empty array's place (no other
  // key or value can read "items":[]: the others are numbers, dates and fixed names).
  std::string body = out.dump();
  constexpr std::string_view kItems = R"("items":[)";
  const auto place = body.find(std::string(kItems) + "]") + kItems.size();
  std::string items;
  for (const auto& item : report.items) {
    items += items.empty() ? "" : ",";
    items += json{{"business_day", item.business_day},
                  {"booked_at", domain::format_shanghai_time(item.at_us)},
                  {"provider", item.provider},
                  {"method", item.method},
                  {"kind", item.kind},
                  {"amount_fen", item.amount.value()},
                  {"document", item.document},
                  {"trade_no", item.trade_no},
                  {"transaction_id", item.transaction_id}}
                 .dump();
  }
  body.insert(place, items);
  Response response;
  response.status = 200;
  response.body = std::move(body);
  return response;
}

}  // namespace

void add_report_routes(Router& router, service::ReportService& reports) {
  // GET /api/v1/reports/sales
  router.add({"GET", "/api/v1/reports/sales", Access::admin, Executor::database,
              [&reports](const Request& request) {
                wants_csv(request);
                return sales_response(request, reports.sales(query_of(request)), "sales");
              }});

  // GET /api/v1/reports/top-sellers
  router.add({"GET", "/api/v1/reports/top-sellers", Access::admin, Executor::database,
              [&reports](const Request& request) {
                wants_csv(request);
                return sales_response(request, reports.top_sellers(query_of(request)),
                                      "top-sellers");
              }});

  // GET /api/v1/reports/commission
  router.add({"GET", "/api/v1/reports/commission", Access::admin, Executor::database,
              [&reports](const Request& request) {
                wants_csv(request);
                return sales_response(request, reports.commission(query_of(request)), "commission");
              }});

  // GET /api/v1/reports/payments
  router.add({"GET", "/api/v1/reports/payments", Access::admin, Executor::database,
              [&reports](const Request& request) {
                wants_csv(request);
                return payments_response(request, reports.payments(query_of(request)));
              }});

  // GET /api/v1/reports/stock-value
  router.add({"GET", "/api/v1/reports/stock-value", Access::admin, Executor::database,
              [&reports](const Request& request) {
                const bool csv = wants_csv(request);
                const auto report = reports.stock_value();
                if (csv) {
                  ReportTable table;
                  table.columns = {{"村 Village", CellKind::text},
                                   {"编码 Code", CellKind::text},
                                   {"有货商品 Products", CellKind::integer},
                                   {"件数 Pieces", CellKind::integer},
                                   {"克 Grams", CellKind::integer},
                                   {"货值(元) Value (yuan)", CellKind::money}};
                  for (const auto& item : report.items)
                    table.rows.push_back(
                        {item.name_en.empty() ? item.name : item.name + " " + item.name_en,
                         item.code, item.products, item.pieces, item.grams, item.value.value()});
                  table.rows.push_back({std::string("合计 Total"), std::string(), std::monostate{},
                                        report.pieces, report.grams, report.value.value()});
                  return csv_response(table, "stock-value-" + report.business_day);
                }
                json items = json::array();
                for (const auto& item : report.items) {
                  items.push_back({{"village_id", item.village_id},
                                   {"code", item.code},
                                   {"name", item.name},
                                   {"name_en", item.name_en},
                                   {"products", item.products},
                                   {"pieces", item.pieces},
                                   {"grams", item.grams},
                                   {"reserved_pieces", item.reserved_pieces},
                                   {"reserved_grams", item.reserved_grams},
                                   {"value_fen", item.value.value()}});
                }
                return json_response(200, {{"business_day", report.business_day},
                                           {"value_fen", report.value.value()},
                                           {"pieces", report.pieces},
                                           {"grams", report.grams},
                                           {"items", items}});
              }});

  // GET /api/v1/reports/slow-movers
  router.add(
      {"GET", "/api/v1/reports/slow-movers", Access::admin, Executor::database,
       [&reports](const Request& request) {
         const bool csv = wants_csv(request);
         const auto report = reports.slow_movers(query_of(request));
         if (csv) {
           ReportTable table;
           table.columns = {{"商品 Product", CellKind::text},
                            {"编码 SKU", CellKind::text},
                            {"村 Village", CellKind::text},
                            {"单位 Unit", CellKind::text},
                            {"库存 On hand", CellKind::integer},
                            {"期间销量 Sold", CellKind::integer},
                            {"可售天数 Days of cover", CellKind::integer},
                            {"货值(元) Value (yuan)", CellKind::money}};
           for (const auto& item : report.items) {
             table.rows.push_back(
                 {item.name, item.sku, item.village_name,
                  std::string(item.unit == domain::Unit::gram ? "克 g" : "件 pcs"), item.on_hand,
                  item.sold, item.days_of_cover ? ReportCell(*item.days_of_cover) : ReportCell(),
                  item.value.value()});
           }
           return csv_response(table, "slow-movers-" + report.from + "-" + report.to);
         }
         json items = json::array();
         for (const auto& item : report.items) {
           items.push_back({{"product_id", item.product_id},
                            {"sku", item.sku},
                            {"name", item.name},
                            {"name_en", item.name_en},
                            {"village_id", item.village_id},
                            {"village_name", item.village_name},
                            {"unit", domain::to_string(item.unit)},
                            {"on_hand", item.on_hand},
                            {"sold", item.sold},
                            {"days_of_cover", nullable(item.days_of_cover)},
                            {"value_fen", item.value.value()}});
         }
         return json_response(
             200,
             {{"from", report.from}, {"to", report.to}, {"days", report.days}, {"items", items}});
       }});

  // GET /api/v1/reports/expiring
  router.add(
      {"GET", "/api/v1/reports/expiring", Access::admin, Executor::database,
       [&reports](const Request& request) {
         const bool csv = wants_csv(request);
         const auto report = reports.expiring(query_of(request));
         if (csv) {
           ReportTable table;
           table.columns = {
               {"商品 Product", CellKind::text},      {"编码 SKU", CellKind::text},
               {"村 Village", CellKind::text},        {"批次 Lot", CellKind::text},
               {"到期日 Expires", CellKind::text},    {"剩余天数 Days left", CellKind::integer},
               {"剩余 Remaining", CellKind::integer}, {"货值(元) Value (yuan)", CellKind::money}};
           for (const auto& item : report.items)
             table.rows.push_back({item.name, item.sku, item.village_name, item.lot,
                                   item.expires_on, item.days_left, item.remaining,
                                   item.value.value()});
           return csv_response(table, "expiring-" + report.business_day);
         }
         json items = json::array();
         for (const auto& item : report.items) {
           items.push_back({{"lot_id", item.lot_id},
                            {"lot", item.lot},
                            {"product_id", item.product_id},
                            {"sku", item.sku},
                            {"name", item.name},
                            {"name_en", item.name_en},
                            {"village_id", item.village_id},
                            {"village_name", item.village_name},
                            {"unit", domain::to_string(item.unit)},
                            {"expires_on", item.expires_on},
                            {"days_left", item.days_left},
                            {"remaining", item.remaining},
                            {"value_fen", item.value.value()}});
         }
         return json_response(200, {{"business_day", report.business_day},
                                    {"days", report.within_days},
                                    {"value_fen", report.value.value()},
                                    {"items", items}});
       }});
}

}  // namespace yizhan::api
