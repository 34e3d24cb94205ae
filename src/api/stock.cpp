// Stock (API.md "Stock"): receiving and its printable note, levels, lots, the ledger, counts,
// write-offs and returns to villages.
#include "stock.hpp"

#include <string>
#include <vector>

#include "idempotency.hpp"
#include "json.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/stock.hpp"

namespace yizhan::api {
namespace {

using domain::Error;
using domain::ErrorCode;

// --- reading requests -----------------------------------------------------------------------

/// Runs `read` on line `index`; a 422 it throws names the field as "lines[index].field".
template <class Read>
auto in_line(std::size_t index, Read&& read) {
  try {
    return read();
  } catch (const Error& error) {
    if (error.code() != ErrorCode::invalid) throw;
    auto details = error.details();
    const auto field = "lines[" + std::to_string(index) + "]." + details["field"];
    details["field"] = field;
    throw Error(ErrorCode::invalid, field + ": " + error.what(), std::move(details));
  }
}

/// The body's "lines": an array of objects (missing = empty, which the service refuses).
std::vector<json> lines_of(const json& body) {
  const auto found = body.find("lines");
  if (found == body.end()) return {};
  if (!found->is_array()) throw Error::invalid_field("lines", "lines must be an array");
  std::vector<json> lines;
  for (std::size_t i = 0; i < found->size(); ++i) {
    if (!(*found)[i].is_object()) {
      const auto field = "lines[" + std::to_string(i) + "]";
      throw Error::invalid_field(field, field + " must be an object");
    }
    lines.push_back((*found)[i]);
  }
  return lines;
}

std::string note_of(const json& body) {
  return string_field(body, "note").value_or("");
}

service::ReceiptRequest receipt_request(const json& body) {
  reject_unknown_fields(body, {"village_id", "note", "lines"});
  service::ReceiptRequest request;
  request.village_id = integer_field(body, "village_id");
  request.note = note_of(body);
  const auto lines = lines_of(body);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    request.lines.push_back(in_line(i, [&] {
      const auto& line = lines[i];
      reject_unknown_fields(
          line, {"product_id", "quantity", "lot", "produced_on", "expires_on", "certificate"});
      service::ReceiptLineRequest out;
      out.product_id = integer_field(line, "product_id");
      out.quantity = integer_field(line, "quantity");
      out.lot = string_field(line, "lot");
      // null = not given, for the dates and the certificate a form may leave empty.
      out.produced_on = nullable_string_field(line, "produced_on").value_or(std::nullopt);
      out.expires_on = nullable_string_field(line, "expires_on").value_or(std::nullopt);
      out.certificate = nullable_string_field(line, "certificate").value_or(std::nullopt);
      return out;
    }));
  }
  return request;
}

std::vector<service::LotLineRequest> lot_lines(const json& body, bool write_off) {
  std::vector<service::LotLineRequest> out;
  const auto lines = lines_of(body);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out.push_back(in_line(i, [&] {
      const auto& line = lines[i];
      if (write_off) {
        reject_unknown_fields(line, {"product_id", "lot_id", "quantity", "reason", "note"});
      } else {
        reject_unknown_fields(line, {"product_id", "lot_id", "quantity", "note"});
      }
      service::LotLineRequest request;
      request.product_id = integer_field(line, "product_id");
      request.lot_id = integer_field(line, "lot_id");
      request.quantity = integer_field(line, "quantity");
      request.reason = string_field(line, "reason");
      request.note = string_field(line, "note");
      return request;
    }));
  }
  return out;
}

service::CountRequest count_request(const json& body) {
  reject_unknown_fields(body, {"note", "lines"});
  service::CountRequest request;
  request.note = note_of(body);
  const auto lines = lines_of(body);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    request.lines.push_back(in_line(i, [&] {
      reject_unknown_fields(lines[i], {"product_id", "counted"});
      return service::CountLineRequest{integer_field(lines[i], "product_id"),
                                       integer_field(lines[i], "counted")};
    }));
  }
  return request;
}

std::optional<std::int64_t> id_query(const Request& request, const char* name) {
  const auto found = request.query.find(name);
  if (found == request.query.end() || found->second.empty()) return std::nullopt;
  const auto id = positive_integer(found->second);
  if (!id) throw Error::invalid_field(name, std::string(name) + " must be a positive integer");
  return id;
}

std::optional<std::string> text_query(const Request& request, const char* name) {
  const auto found = request.query.find(name);
  if (found == request.query.end() || found->second.empty()) return std::nullopt;
  return found->second;
}

// --- writing responses ----------------------------------------------------------------------

json lot_json(const service::Lot& lot) {
  return {{"lot_id", lot.lot_id},
          {"lot", lot.lot},
          {"quantity", lot.remaining},
          {"received", lot.received},
          {"produced_on", nullable(lot.produced_on)},
          {"expires_on", nullable(lot.expires_on)},
          {"certificate", lot.certificate},
          {"receipt_id", nullable(lot.receipt_id)},
          {"expired", lot.expired}};
}

json receipt_json(const service::Receipt& receipt, bool with_lines) {
  json out = {{"id", receipt.id},
              {"village_id", receipt.village_id},
              {"village_name", receipt.village_name},
              {"note", receipt.note},
              {"created_by", receipt.created_by},
              {"created_at", time_json(receipt.created_at_us)},
              {"line_count", receipt.line_count}};
  if (with_lines) {
    json lines = json::array();
    for (const auto& line : receipt.lines) {
      lines.push_back({{"product_id", line.lot.product_id},
                       {"product_name", line.product_name},
                       {"sku", line.sku},
                       {"unit", domain::to_string(line.unit)},
                       {"lot_id", line.lot.lot_id},
                       {"lot", line.lot.lot},
                       {"quantity", line.lot.received},
                       {"remaining", line.lot.remaining},
                       {"produced_on", nullable(line.lot.produced_on)},
                       {"expires_on", nullable(line.lot.expires_on)},
                       {"certificate", line.lot.certificate}});
    }
    out["lines"] = std::move(lines);
  }
  return out;
}

json level_json(const service::StockLevel& level, bool with_lots) {
  json out = {{"product_id", level.product_id},
              {"sku", level.sku},
              {"name", level.name},
              {"unit", domain::to_string(level.unit)},
              {"village_id", level.village_id},
              {"village_name", level.village_name},
              {"category_id", level.category_id},
              {"category_name", level.category_name},
              {"active", level.active},
              {"on_hand", level.on_hand},
              {"reserved", level.reserved},
              {"available", level.available},
              {"low_stock", nullable(level.low_stock)},
              {"low", level.low},
              {"next_expiry", nullable(level.next_expiry)}};
  if (with_lots) {
    json lots = json::array();
    for (const auto& lot : level.lots)
      lots.push_back(lot_json(lot));
    out["lots"] = std::move(lots);
  }
  return out;
}

json move_json(const service::Move& move) {
  return {{"id", move.id},
          {"kind", move.kind},
          {"quantity", move.quantity},
          {"balance", move.balance},
          {"reserved", move.reserved},
          {"document", {{"kind", move.document_kind}, {"id", move.document_id}}},
          {"lot_id", nullable(move.lot_id)},
          {"lot", move.lot_id ? json(move.lot) : json(nullptr)},
          {"at", time_json(move.at_us)},
          {"by", move.by.empty() ? json(nullptr) : json(move.by)}};
}

json document_json(const service::StockDocument& document) {
  json lines = json::array();
  for (const auto& line : document.lines) {
    json lots = json::array();
    for (const auto& lot : line.lots)
      lots.push_back({{"lot_id", lot.lot_id}, {"quantity", lot.quantity}});
    json out = {{"product_id", line.product_id},
                {"product_name", line.product_name},
                {"unit", domain::to_string(line.unit)},
                {"quantity", line.quantity},
                {"note", line.note},
                {"lots", std::move(lots)}};
    if (document.kind == "count") {
      out["expected"] = nullable(line.expected);
      out["counted"] = nullable(line.counted);
      out["difference"] = line.quantity;
    }
    if (document.kind == "write_off") out["reason"] = nullable(line.reason);
    if (line.lots.size() == 1 && document.kind != "count") out["lot_id"] = line.lots[0].lot_id;
    lines.push_back(std::move(out));
  }
  return {{"id", document.id},
          {"kind", document.kind},
          {"village_id", nullable(document.village_id)},
          {"note", document.note},
          {"created_by", document.created_by},
          {"created_at", time_json(document.created_at_us)},
          {"lines", std::move(lines)}};
}

// --- the printable receiving note ------------------------------------------------------------

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

/// "2026-12-01 09:30" in the station's time.
std::string local_minute(std::int64_t unix_microseconds) {
  auto text = domain::format_shanghai_time(unix_microseconds);
  return text.substr(0, 10) + " " + text.substr(11, 5);
}

/// An A4 page both parties sign: the station's receiver and the village's deliverer. The style
/// sheet is a file (the pages' Content-Security-Policy allows no inline style).
std::string receiving_note(const service::Receipt& receipt, const std::string& station_name) {
  std::string rows;
  int number = 0;
  for (const auto& line : receipt.lines) {
    const bool grams = line.unit == domain::Unit::gram;
    rows += "<tr><td class=\"num\">" + std::to_string(++number) + "</td><td>" +
            html_escape(line.product_name) + "<br><small>" + html_escape(line.sku) +
            "</small></td><td>" + html_escape(line.lot.lot) + "</td><td>" +
            html_escape(line.lot.produced_on.value_or("—")) + "</td><td>" +
            html_escape(line.lot.expires_on.value_or("—")) + "</td><td>" +
            html_escape(line.lot.certificate.empty() ? "—" : line.lot.certificate) +
            "</td><td class=\"num\">" + std::to_string(line.lot.received) + "</td><td>" +
            (grams ? "克 g" : "件 pcs") + "</td></tr>\n";
  }
  const auto title = "入库单 Receiving note R" + std::to_string(receipt.id);
  return "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         html_escape(title) +
         "</title>\n<link rel=\"stylesheet\" href=\"/admin/stock-note.css\">\n</head>\n<body "
         "class=\"note\">\n<header>\n<h1>" +
         html_escape(station_name) +
         " · 入库单 <small>Receiving note</small></h1>\n<dl>\n<dt>单号 No.</dt><dd>R" +
         std::to_string(receipt.id) + "</dd>\n<dt>供货村 Village</dt><dd>" +
         html_escape(receipt.village_name) + "</dd>\n<dt>入库时间 Received</dt><dd>" +
         local_minute(receipt.created_at_us) + "</dd>\n<dt>经办 Entered by</dt><dd>" +
         html_escape(receipt.created_by.empty() ? "—" : receipt.created_by) +
         "</dd>\n</dl>\n</header>\n<table>\n<thead><tr><th>#</th><th>商品 Product</th><th>批号 "
         "Lot</th><th>生产日期 Produced</th><th>到期日 Expires</th><th>合格证/追溯码 "
         "Certificate</th><th>数量 Qty</th><th>单位 Unit</th></tr></thead>\n<tbody>\n" +
         rows + "</tbody>\n</table>\n<p class=\"count\">共 " +
         std::to_string(receipt.lines.size()) + " 行 · " + std::to_string(receipt.lines.size()) +
         " line(s)</p>\n" +
         (receipt.note.empty()
              ? std::string()
              : "<p class=\"remark\">备注 Note: " + html_escape(receipt.note) + "</p>\n") +
         "<section class=\"signatures\">\n<div><p>驿站收货人（签字） Received for the "
         "station</p><p class=\"line\"></p><p>日期 Date</p><p class=\"line\"></p></div>\n"
         "<div><p>村方交货人（签字） Delivered for the village</p><p class=\"line\"></p><p>日期 "
         "Date</p><p class=\"line\"></p></div>\n</section>\n<p "
         "class=\"hint\">一式两份，双方各执一份"
         "。按 Ctrl+P 打印。 Two copies, one for each party. Press Ctrl+P to print.</p>\n"
         "</body>\n</html>\n";
}

}  // namespace

void add_stock_routes(Router& router, service::StockService& stock) {
  // The fixed paths first: "/api/v1/stock/{id}" would match "receipts" or "counts" too.

  // POST /api/v1/stock/receipts
  router.add({"POST", "/api/v1/stock/receipts", Access::admin, Executor::database,
              [&stock](const Request& request) {
                return from_stored(stock.receive(
                    receipt_request(parse_object(request)), actor_of(request),
                    idempotency_key(request, "POST /api/v1/stock/receipts"),
                    [](const service::Receipt& receipt) {
                      return to_stored(json_response(201, receipt_json(receipt, true)));
                    }));
              }});

  // GET /api/v1/stock/receipts
  router.add({"GET", "/api/v1/stock/receipts", Access::village, Executor::database,
              [&stock](const Request& request) {
                const auto page = parse_page(request);
                service::ReceiptQuery query;
                query.village_id = id_query(request, "village_id");
                query.from = text_query(request, "from");
                query.to = text_query(request, "to");
                query.limit = page.page_size;
                query.offset = page.offset();
                const auto result = stock.receipts(*request.principal, query);
                json items = json::array();
                for (const auto& receipt : result.items)
                  items.push_back(receipt_json(receipt, false));
                return json_response(200, {{"items", items},
                                           {"total", result.total},
                                           {"page", page.page},
                                           {"page_size", page.page_size}});
              }});

  // GET /api/v1/stock/receipts/{id}
  router.add({"GET", "/api/v1/stock/receipts/{id}", Access::village, Executor::database,
              [&stock](const Request& request) {
                return json_response(
                    200, receipt_json(stock.receipt(*request.principal, path_id(request)), true));
              }});

  // GET /api/v1/stock/receipts/{id}/note
  router.add({"GET", "/api/v1/stock/receipts/{id}/note", Access::village, Executor::database,
              [&stock](const Request& request) {
                const auto receipt = stock.receipt(*request.principal, path_id(request));
                Response response;
                response.content_type = "text/html; charset=utf-8";
                response.headers.emplace_back("Cache-Control", "no-store");
                response.body = receiving_note(receipt, stock.settings().station_name);
                return response;
              }});

  // POST /api/v1/stock/counts
  router.add({"POST", "/api/v1/stock/counts", Access::admin, Executor::database,
              [&stock](const Request& request) {
                return from_stored(
                    stock.count(count_request(parse_object(request)), actor_of(request),
                                idempotency_key(request, "POST /api/v1/stock/counts"),
                                [](const service::StockDocument& document) {
                                  return to_stored(json_response(201, document_json(document)));
                                }));
              }});

  // POST /api/v1/stock/write-offs
  router.add({"POST", "/api/v1/stock/write-offs", Access::admin, Executor::database,
              [&stock](const Request& request) {
                const auto body = parse_object(request);
                reject_unknown_fields(body, {"note", "lines"});
                service::WriteOffRequest write_off{note_of(body), lot_lines(body, true)};
                return from_stored(
                    stock.write_off(write_off, actor_of(request),
                                    idempotency_key(request, "POST /api/v1/stock/write-offs"),
                                    [](const service::StockDocument& document) {
                                      return to_stored(json_response(201, document_json(document)));
                                    }));
              }});

  // POST /api/v1/stock/returns
  router.add({"POST", "/api/v1/stock/returns", Access::admin, Executor::database,
              [&stock](const Request& request) {
                const auto body = parse_object(request);
                reject_unknown_fields(body, {"village_id", "note", "lines"});
                service::ReturnRequest sent_back{integer_field(body, "village_id"), note_of(body),
                                                 lot_lines(body, false)};
                return from_stored(stock.return_to_village(
                    sent_back, actor_of(request),
                    idempotency_key(request, "POST /api/v1/stock/returns"),
                    [](const service::StockDocument& document) {
                      return to_stored(json_response(201, document_json(document)));
                    }));
              }});

  // GET /api/v1/stock
  router.add({"GET", "/api/v1/stock", Access::signed_in, Executor::database,
              [&stock](const Request& request) {
                const auto page = parse_page(request);
                service::StockQuery query;
                query.village_id = id_query(request, "village_id");
                query.category_id = id_query(request, "category_id");
                query.low_only = query_flag(request, "low");
                if (const auto days = text_query(request, "expiring_days")) {
                  const auto value =
                      *days == "0" ? std::optional<std::int64_t>(0) : positive_integer(*days);
                  if (!value) {
                    throw Error::invalid_field("expiring_days",
                                               "expiring_days must be a number of days");
                  }
                  query.expiring_days = value;
                }
                query.limit = page.page_size;
                query.offset = page.offset();
                const auto result = stock.levels(*request.principal, query);
                json items = json::array();
                for (const auto& level : result.items)
                  items.push_back(level_json(level, false));
                return json_response(200, {{"items", items},
                                           {"total", result.total},
                                           {"page", page.page},
                                           {"page_size", page.page_size}});
              }});

  // GET /api/v1/stock/shortfalls
  router.add({"GET", "/api/v1/stock/shortfalls", Access::admin, Executor::database,
              [&stock](const Request& request) {
                int limit = 50;
                if (const auto value = text_query(request, "limit")) {
                  const auto parsed = positive_integer(*value);
                  if (!parsed || *parsed > 100)
                    throw Error::invalid_field("limit", "limit must be 1 to 100");
                  limit = static_cast<int>(*parsed);
                }
                std::optional<std::int64_t> before;
                if (const auto value = text_query(request, "before")) {
                  before = positive_integer(*value);
                  if (!before) throw Error::invalid_field("before", "before must be a move id");
                }
                const auto result = stock.shortfalls(before, limit);
                json items = json::array();
                for (const auto& move : result.items) {
                  auto item = move_json(move);
                  item.erase("balance");
                  item.erase("reserved");
                  item["product_id"] = move.product_id;
                  item["product_name"] = move.product_name;
                  items.push_back(std::move(item));
                }
                return json_response(
                    200, {{"items", items}, {"next_before", nullable(result.next_before)}});
              }});

  // GET /api/v1/stock/{id}
  router.add({"GET", "/api/v1/stock/{id}", Access::signed_in, Executor::database,
              [&stock](const Request& request) {
                return json_response(
                    200, level_json(stock.level(*request.principal, path_id(request)), true));
              }});

  // GET /api/v1/stock/{id}/moves
  router.add({"GET", "/api/v1/stock/{id}/moves", Access::admin, Executor::database,
              [&stock](const Request& request) {
                int limit = 50;
                for (const char* name : {"page_size", "limit"}) {
                  if (const auto value = text_query(request, name)) {
                    const auto parsed = positive_integer(*value);
                    if (!parsed || *parsed > 100) {
                      throw Error::invalid_field(name, std::string(name) + " must be 1 to 100");
                    }
                    limit = static_cast<int>(*parsed);
                  }
                }
                std::optional<std::int64_t> before;
                if (const auto value = text_query(request, "before")) {
                  before = positive_integer(*value);
                  if (!before) throw Error::invalid_field("before", "before must be a move id");
                }
                const auto result = stock.moves(path_id(request), before, limit);
                json items = json::array();
                for (const auto& move : result.items)
                  items.push_back(move_json(move));
                return json_response(200, {{"items", items},
                                           {"next_before", nullable(result.next_before)},
                                           {"limit", limit}});
              }});
}

}  // namespace yizhan::api
