// The counter (API.md "Counter"): registers, shifts, sales, refunds and held carts.
#include "pos.hpp"

#include <algorithm>
#include <chrono>

#include "idempotency.hpp"
#include "json.hpp"
#include "yizhan/domain/sale.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/counter.hpp"

namespace yizhan::api {
namespace {

using domain::Error;
using domain::ErrorCode;
using domain::Fen;

json register_json(const service::Register& r) {
  return {{"id", r.id},
          {"name", r.name},
          {"printer", r.printer_host ? json(*r.printer_host + ":" +
                                            std::to_string(r.printer_port.value_or(9100)))
                                     : json(nullptr)},
          {"receipt_columns", r.receipt_columns}};
}

json shift_json(const service::Shift& s) {
  return {{"id", s.id},
          {"register", s.register_.name},
          {"register_id", s.register_.id},
          {"cashier", s.cashier},
          {"cashier_id", s.cashier_id},
          {"state", s.state},
          {"float_fen", s.float_amount.value()},
          {"opened_at", time_json(s.opened_at)},
          {"closed_at", s.closed_at ? time_json(*s.closed_at) : json(nullptr)}};
}

json report_json(const service::ShiftReport& r) {
  json by_method = json::array();
  for (const auto& m : r.by_method)
    by_method.push_back({{"method", m.method},
                         {"amount_fen", m.net.value()},
                         {"sales_fen", m.sales.value()},
                         {"refunds_fen", m.refunds.value()}});
  json by_village = json::array();
  for (const auto& v : r.by_village)
    by_village.push_back({{"village_id", v.village_id},
                          {"village_name", v.village_name},
                          {"gross_fen", v.gross.value()},
                          {"fee_fen", v.fee.value()},
                          {"share_fen", v.share.value()}});
  json out = {{"shift", shift_json(r.shift)},
              {"sales_count", r.sales_count},
              {"refunds_count", r.refunds_count},
              {"gross_fen", r.gross.value()},
              {"discount_fen", r.discount.value()},
              {"refund_fen", r.refunds.value()},
              {"float_fen", r.shift.float_amount.value()},
              {"cash_in_fen", r.cash_in.value()},
              {"cash_out_fen", r.cash_out.value()},
              {"orders_paid_count", r.orders_paid_count},
              {"orders_paid_fen", r.orders_paid.value()},
              {"owed_repaid_count", r.owed_repaid_count},
              {"owed_repaid_fen", r.owed_repaid.value()},
              {"by_method", by_method},
              {"by_village", by_village},
              {"expected_cash_fen", r.expected_cash.value()}};
  if (r.counted_cash) {
    out["counted_cash_fen"] = r.counted_cash->value();
    out["difference_fen"] = r.difference ? r.difference->value() : 0;
  }
  return out;
}

json tender_json(const domain::Tender& t) {
  return {{"method", domain::to_string(t.method)},
          {"amount_fen", t.amount.value()},
          {"tendered_fen", t.tendered ? json(t.tendered->value()) : json(nullptr)},
          {"reference", t.reference}};
}

json sale_line_json(const service::SaleLine& l) {
  json lots = json::array();
  for (const auto& lot : l.lots)
    lots.push_back({{"lot_id", lot.lot_id}, {"lot", lot.lot}, {"quantity", lot.quantity}});
  return {{"id", l.id},
          {"line_no", l.line_no},
          {"kind", "item"},
          {"product_id", l.product_id},
          {"name", l.name},
          {"village_id", l.village_id},
          {"village_name", l.village_name},
          {"unit", domain::to_string(l.unit)},
          {"quantity", l.quantity},
          {"unit_price_fen", l.unit_price.value()},
          {"list_fen", l.list.value()},
          {"discount_fen", l.line_discount.value()},
          {"sale_discount_fen", l.sale_discount.value()},
          {"gross_fen", l.gross.value()},
          {"commission_bps", l.commission_bps},
          {"fee_fen", l.fee.value()},
          {"share_fen", l.share.value()},
          {"refunded_quantity", l.refunded_quantity},
          {"code", nullable(l.code)},
          {"lots", lots}};
}

/// A gift box's lines as one line of the sale: its amounts are the sums of its component
/// lines (each in its own village, listed under "components"); its id is its first line's,
/// which refunds take for the whole box, and its quantities count boxes.
json bundle_line_json(const std::vector<const service::SaleLine*>& parts) {
  const auto& first = *parts.front();
  domain::Fen list, line_discount, sale_discount, gross, fee, share;
  json components = json::array();
  std::string villages;
  for (const auto* part : parts) {
    list += part->list;
    line_discount += part->line_discount;
    sale_discount += part->sale_discount;
    gross += part->gross;
    fee += part->fee;
    share += part->share;
    auto component = sale_line_json(*part);
    component["quantity_per_box"] = part->quantity / part->bundle_quantity;
    components.push_back(std::move(component));
    if (villages.find(part->village_name) == std::string::npos)
      villages += (villages.empty() ? "" : "、") + part->village_name;
  }
  const std::int64_t per_box = first.quantity / first.bundle_quantity;
  return {{"id", first.id},
          {"line_no", first.line_no},
          {"kind", "bundle"},
          {"product_id", *first.bundle_product_id},
          {"name", first.bundle_name},
          {"village_id", nullptr},
          {"village_name", villages},
          {"unit", "piece"},
          {"quantity", first.bundle_quantity},
          {"unit_price_fen", list.value() / first.bundle_quantity},
          {"list_fen", list.value()},
          {"discount_fen", line_discount.value()},
          {"sale_discount_fen", sale_discount.value()},
          {"gross_fen", gross.value()},
          {"commission_bps", nullptr},
          {"fee_fen", fee.value()},
          {"share_fen", share.value()},
          {"refunded_quantity", first.refunded_quantity / per_box},
          {"code", nullable(first.code)},
          {"lots", json::array()},
          {"components", components}};
}

json sale_json(const service::Sale& s) {
  const json lines = lines_with_boxes(s.lines, sale_line_json, bundle_line_json);
  json tenders = json::array();
  for (const auto& t : s.tenders)
    tenders.push_back(tender_json(t));
  json refunds = json::array();
  for (const auto& r : s.refunds)
    refunds.push_back({{"id", r.id},
                       {"method", r.method},
                       {"total_fen", r.total.value()},
                       {"created_at", time_json(r.created_at)}});
  return {{"id", s.id},
          {"number", s.number},
          {"shift_id", s.shift_id},
          {"register", s.register_.name},
          {"register_id", s.register_.id},
          {"cashier", s.cashier},
          {"cashier_id", s.cashier_id},
          {"subtotal_fen", s.subtotal.value()},
          {"discount_fen", s.discount.value()},
          {"rounding_fen", s.rounding.value()},
          {"total_fen", s.total.value()},
          {"change_fen", s.change.value()},
          {"offline", s.offline},
          {"created_at", time_json(s.created_at)},
          {"lines", lines},
          {"tenders", tenders},
          {"refunds", refunds}};
}

json refund_json(const service::Refund& r) {
  json lines = json::array();
  for (const auto& l : r.lines)
    lines.push_back({{"line_id", l.line_id},
                     {"quantity", l.quantity},
                     {"gross_fen", l.gross.value()},
                     {"fee_fen", l.fee.value()},
                     {"share_fen", l.share.value()},
                     {"restock", l.restock}});
  json out = {{"id", r.id},         {"sale_id", r.sale_id},         {"sale_number", r.sale_number},
              {"method", r.method}, {"total_fen", r.total.value()}, {"lines", lines}};
  if (!r.provider_state.empty()) {  // a refund to a scanned code: what its provider said
    out["provider_state"] = r.provider_state;
    out["provider_refund_id"] = r.provider_refund_id;
  }
  return out;
}

json held_json(const service::HeldCart& h) {
  json cart = json::parse(h.cart, nullptr, false);
  return {{"id", h.id},
          {"register_id", h.register_id},
          {"cashier", h.cashier},
          {"label", h.label},
          {"cart", cart.is_discarded() ? json(nullptr) : cart},
          {"created_at", time_json(h.created_at)}};
}

// --- reading requests -----------------------------------------------------------------------

/// A held cart nests at most this deep (the page's has 4 levels); MariaDB's JSON stops at 32.
constexpr int kMaxCartDepth = 16;

/// Whether `value` nests more than `levels` deep (a scalar is 0, `{}` 1); stops at the limit.
bool deeper_than(const json& value, int levels) {
  if (!value.is_structured()) return false;
  if (levels == 0) return true;
  for (const auto& item : value)
    if (deeper_than(item, levels - 1)) return true;
  return false;
}

/// An array field of objects, at most `max` of them; 422 naming the field otherwise.
const json& object_array(const json& body, const char* field, std::size_t max, bool required) {
  static const json kEmpty = json::array();
  const auto found = body.find(field);
  if (found == body.end()) {
    if (required) throw Error::invalid_field(field, std::string(field) + " is required");
    return kEmpty;
  }
  if (!found->is_array()) throw Error::invalid_field(field, std::string(field) + " must be a list");
  if (found->size() > max)
    throw Error::invalid_field(field, std::string(field) + " has too many entries");
  for (std::size_t i = 0; i < found->size(); ++i)
    if (!(*found)[i].is_object())
      throw Error::invalid_field(std::string(field) + "[" + std::to_string(i) + "]",
                                 "each entry must be an object");
  return *found;
}

/// Re-throws a field error of an array element with the element's path ("lines[2].quantity").
template <class Read>
auto at_index(const char* array, std::size_t index, Read&& read) {
  try {
    return read();
  } catch (const Error& error) {
    throw error.within(std::string(array) + "[" + std::to_string(index) + "]");
  }
}

std::int64_t required_integer(const json& body, const char* field) {
  const auto value = integer_field(body, field);
  if (!value) throw Error::invalid_field(field, std::string(field) + " is required");
  return *value;
}

/// A scanned code as ASCII digits: full-width ones (what a Chinese IME types into the field,
/// "２１１…") are the same digits; anything else is not a barcode or scale label.
std::string scanned_code(const std::string& code) {
  std::string digits;
  for (std::size_t i = 0; i < code.size() && digits.size() <= 32;) {
    const auto c = static_cast<unsigned char>(code[i]);
    if (c >= '0' && c <= '9') {
      digits += static_cast<char>(c);
      ++i;
    } else if (c == 0xEF && i + 2 < code.size() &&
               static_cast<unsigned char>(code[i + 1]) == 0xBC &&
               static_cast<unsigned char>(code[i + 2]) >= 0x90 &&
               static_cast<unsigned char>(code[i + 2]) <= 0x99) {  // U+FF10–U+FF19
      digits += static_cast<char>('0' + (static_cast<unsigned char>(code[i + 2]) - 0x90));
      i += 3;
    } else {
      throw Error::invalid_field("code", "条码只能是数字 / a code is digits only");
    }
  }
  if (digits.empty() || digits.size() > 32)
    throw Error::invalid_field("code", "条码须为 1 到 32 位数字 / a code is 1 to 32 digits");
  return digits;
}

service::SaleRequest sale_request(const json& body) {
  reject_unknown_fields(body,
                        {"lines", "discount_fen", "rounding", "tenders", "offline", "rung_at"});
  service::SaleRequest request;
  const auto& lines = object_array(body, "lines", 200, true);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    request.lines.push_back(at_index("lines", i, [&] {
      const auto& line = lines[i];
      reject_unknown_fields(line,
                            {"product_id", "code", "quantity", "discount_fen", "unit_price_fen"});
      service::SaleLineRequest out;
      out.product_id = integer_field(line, "product_id");
      if (const auto code = string_field(line, "code")) out.code = scanned_code(*code);
      out.quantity = integer_field(line, "quantity");
      out.discount = Fen(integer_field(line, "discount_fen").value_or(0));
      if (const auto price = integer_field(line, "unit_price_fen")) {
        if (*price < 1 || *price > 10'000'000)
          throw Error::invalid_field("unit_price_fen",
                                     "单价须在 1 分到 10 万元之间 / unit_price_fen must be 1 to "
                                     "10000000");
        out.unit_price = Fen(*price);
      }
      return out;
    }));
  }
  request.discount = Fen(integer_field(body, "discount_fen").value_or(0));
  if (const auto rounding = string_field(body, "rounding")) {
    const auto parsed = domain::parse_rounding(*rounding);
    if (!parsed) throw Error::invalid_field("rounding", "rounding is none, jiao or yuan");
    request.rounding = *parsed;
  }
  const auto& tenders = object_array(body, "tenders", 10, false);
  for (std::size_t i = 0; i < tenders.size(); ++i) {
    request.tenders.push_back(at_index("tenders", i, [&] {
      const auto& tender = tenders[i];
      reject_unknown_fields(tender,
                            {"method", "amount_fen", "tendered_fen", "reference", "auth_code"});
      domain::TenderInput out;
      const auto method = required_string(tender, "method", 32);
      const auto parsed = domain::parse_tender_method(method);
      if (!parsed) throw Error::invalid_field("method", "unknown tender method " + method);
      // A scanned 付款码 is charged through its provider before the sale is written.
      const auto code = string_field(tender, "auth_code");
      if (domain::is_code_method(*parsed)) {
        if (!code || code->empty())
          throw Error::invalid_field("auth_code",
                                     "请扫顾客的付款码 / scan the customer's payment code");
        if (code->size() > 32)
          throw Error::invalid_field("auth_code", "付款码太长 / payment code too long");
        if (auto problem = domain::payment_code_problem(*parsed, *code))
          throw Error::invalid_field("auth_code", *problem);
        request.payment_codes[i] = *code;
      } else if (code) {
        throw Error::invalid_field("auth_code",
                                   "该付款方式不收付款码 / this tender takes no payment code");
      }
      out.method = *parsed;
      out.amount = Fen(required_integer(tender, "amount_fen"));
      if (const auto tendered = integer_field(tender, "tendered_fen"))
        out.tendered = Fen(*tendered);
      out.reference = string_field(tender, "reference").value_or("");
      return out;
    }));
  }
  request.offline = boolean_field(body, "offline").value_or(false);
  if (const auto rung_at = string_field(body, "rung_at")) {
    // An offline till's clock, RFC 3339 (ISO 8601 with an offset); kept for the record only.
    const auto micros = domain::parse_iso8601(*rung_at);
    if (!micros)
      throw Error::invalid_field("rung_at",
                                 "rung_at 须为带时区的时间，如 2026-12-02T10:15:00+08:00 / rung_at "
                                 "must be an RFC 3339 date-time with an offset");
    const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count();
    if (const auto problem = domain::rung_at_problem(*micros, now))
      throw Error::invalid_field("rung_at", *problem);
    request.rung_at = *micros;
  }
  return request;
}

service::RefundRequest refund_request(const json& body) {
  reject_unknown_fields(body, {"sale_id", "lines", "method", "reason"});
  service::RefundRequest request;
  const auto sale_id = integer_field(body, "sale_id");
  if (!sale_id || *sale_id < 1) throw Error::invalid_field("sale_id", "sale_id is required");
  request.sale_id = *sale_id;
  const auto& lines = object_array(body, "lines", 200, false);
  // Left out, the whole sale goes back; an empty list is more likely a client's bug than a
  // wish to refund everything, so it is refused rather than read as "all".
  if (body.contains("lines") && lines.empty())
    throw Error::invalid_field("lines",
                               "lines must not be empty (leave it out to refund the whole sale)");
  for (std::size_t i = 0; i < lines.size(); ++i) {
    request.lines.push_back(at_index("lines", i, [&] {
      const auto& line = lines[i];
      reject_unknown_fields(line, {"line_id", "quantity", "restock"});
      service::RefundLineRequest out;
      out.line_id = required_integer(line, "line_id");
      out.quantity = required_integer(line, "quantity");
      out.restock = boolean_field(line, "restock").value_or(true);
      return out;
    }));
  }
  if (const auto method = string_field(body, "method")) {
    const auto parsed = domain::parse_tender_method(*method);
    if (!parsed) throw Error::invalid_field("method", "unknown tender method " + *method);
    request.method = *parsed;
  }
  request.reason = string_field(body, "reason").value_or("");
  return request;
}

service::IdempotencyKey required_key(const Request& request, std::string_view route) {
  auto key = idempotency_key(request, route);
  if (!key)
    throw Error(ErrorCode::idempotency_key_required,
                "需要 Idempotency-Key 请求头 / the Idempotency-Key header is required");
  return *key;
}

std::optional<std::int64_t> id_query(const Request& request, const char* name) {
  const auto found = request.query.find(name);
  if (found == request.query.end() || found->second.empty()) return std::nullopt;
  const auto id = positive_integer(found->second);
  if (!id) throw Error::invalid_field(name, std::string(name) + " must be a positive integer");
  return id;
}

/// Whether a sale pays with a scanned code (a tender whose method is wechat_code or
/// alipay_code): charging it waits for the payer, so it runs on the server's provider pool.
/// Only a glance at the body, on the I/O thread: anything it cannot read is left to the handler
/// (on a database worker), which answers the 400 or 422.
bool pays_with_code(const Request& request) {
  // Most sales are cash, card or WeChat/Alipay by QR: no parse for them. (A method spelled
  // with escapes, "wechat\u005fcode", is only run on a database worker, as all sales once were.)
  if (request.body.find("_code") == std::string::npos) return false;
  const auto body = json::parse(request.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return false;
  const auto tenders = body.find("tenders");
  if (tenders == body.end() || !tenders->is_array()) return false;
  return std::any_of(tenders->begin(), tenders->end(), [](const json& tender) {
    if (!tender.is_object()) return false;
    const auto method = tender.find("method");
    if (method == tender.end() || !method->is_string()) return false;
    const auto parsed = domain::parse_tender_method(method->get_ref<const std::string&>());
    return parsed && domain::is_code_method(*parsed);
  });
}

}  // namespace

void add_pos_routes(Router& router, service::CounterService& counter) {
  const auto staff = Access::staff;
  const auto db = Executor::database;
  const auto quick = Executor::quick;  // the counter's hot path: no hand-off

  // GET /api/v1/pos/registers
  router.add({"GET", "/api/v1/pos/registers", staff, db, [&counter](const Request&) {
                json items = json::array();
                for (const auto& r : counter.registers())
                  items.push_back(register_json(r));
                return json_response(200, {{"items", items}});
              }});

  // POST /api/v1/pos/shifts
  router.add({"POST", "/api/v1/pos/shifts", staff, db, [&counter](const Request& request) {
                const auto body = parse_object(request);
                reject_unknown_fields(body, {"register", "float_fen"});
                const auto name = required_string(body, "register", 100);
                const auto float_fen = integer_field(body, "float_fen").value_or(0);
                const auto shift =
                    counter.open_shift(*request.principal, name, Fen(float_fen), actor_of(request));
                return json_response(201, shift_json(shift));
              }});

  // GET /api/v1/pos/shifts/current
  router.add({"GET", "/api/v1/pos/shifts/current", staff, db, [&counter](const Request& request) {
                return json_response(200, shift_json(counter.current_shift(*request.principal)));
              }});

  // POST /api/v1/pos/shifts/{id}/cash
  router.add(
      {"POST", "/api/v1/pos/shifts/{id}/cash", staff, db, [&counter](const Request& request) {
         const auto body = parse_object(request);
         reject_unknown_fields(body, {"amount_fen", "reason"});
         const auto amount = required_integer(body, "amount_fen");
         const auto reason = required_string(body, "reason", 800);
         return from_stored(counter.move_cash(
             *request.principal, path_id(request), Fen(amount), reason, actor_of(request),
             idempotency_key(request, "POST /api/v1/pos/shifts/{id}/cash"),
             [](const service::CashMovement& m) {
               return to_stored(json_response(201, {{"id", m.id},
                                                    {"shift_id", m.shift_id},
                                                    {"amount_fen", m.amount.value()},
                                                    {"reason", m.reason}}));
             }));
       }});

  // GET /api/v1/pos/shifts/{id}/report
  router.add(
      {"GET", "/api/v1/pos/shifts/{id}/report", staff, db, [&counter](const Request& request) {
         return json_response(
             200, report_json(counter.shift_report(*request.principal, path_id(request))));
       }});

  // POST /api/v1/pos/shifts/{id}/close
  router.add(
      {"POST", "/api/v1/pos/shifts/{id}/close", staff, db, [&counter](const Request& request) {
         const auto body = parse_object(request);
         reject_unknown_fields(body, {"counted_cash_fen"});
         const auto counted = required_integer(body, "counted_cash_fen");
         const auto report = counter.close_shift(*request.principal, path_id(request), Fen(counted),
                                                 actor_of(request));
         return json_response(200, report_json(report));
       }});

  // POST /api/v1/pos/sales
  router.add({"POST", "/api/v1/pos/sales", staff, quick,
              [&counter](const Request& request) {
                const auto key = required_key(request, "POST /api/v1/pos/sales");
                const auto sale = sale_request(parse_object(request));
                return from_stored(
                    counter.sell(*request.principal, sale, key, [](const service::Sale& s) {
                      return to_stored(json_response(201, sale_json(s)));
                    }));
              },
              BodyLimit::standard, pays_with_code});

  // POST /api/v1/pos/quote
  router.add({"POST", "/api/v1/pos/quote", staff, quick, [&counter](const Request& request) {
                const auto sale = sale_request(parse_object(request));
                return json_response(200, sale_json(counter.quote(sale)));
              }});

  // GET /api/v1/pos/sales
  router.add({"GET", "/api/v1/pos/sales", staff, db, [&counter](const Request& request) {
                service::SaleQuery query;
                query.shift_id = id_query(request, "shift_id");
                query.before_id = id_query(request, "before");
                if (const auto date = request.query.find("date"); date != request.query.end()) {
                  query.day = domain::parse_iso_date(date->second);
                  if (!query.day) throw Error::invalid_field("date", "date is YYYY-MM-DD");
                }
                if (const auto limit = id_query(request, "limit"))
                  query.limit = static_cast<int>(std::min<std::int64_t>(*limit, 100));
                // A cashier lists their own sales; an admin anyone's.
                if (request.principal->role != domain::Role::admin)
                  query.cashier_id = request.principal->user_id;
                else
                  query.cashier_id = id_query(request, "cashier_id");
                const auto sales = counter.sales(query);
                json items = json::array();
                for (const auto& s : sales)
                  items.push_back(sale_json(s));
                json out = {{"items", items}};
                out["next_before"] = static_cast<int>(sales.size()) == query.limit && !sales.empty()
                                         ? json(sales.back().id)
                                         : json(nullptr);
                return json_response(200, out);
              }});

  // GET /api/v1/pos/sales/by-number/{number}
  router.add({"GET", "/api/v1/pos/sales/by-number/{number}", staff, db,
              [&counter](const Request& request) {
                const auto& number = request.path_parameters.at("number");
                if (number.size() > 32) throw Error(ErrorCode::not_found, "no such sale");
                return json_response(200, sale_json(counter.sale_by_number(number)));
              }});

  // GET /api/v1/pos/sales/{id}
  router.add({"GET", "/api/v1/pos/sales/{id}", staff, quick, [&counter](const Request& request) {
                return json_response(200, sale_json(counter.sale(path_id(request))));
              }});

  // POST /api/v1/pos/refunds
  router.add({"POST", "/api/v1/pos/refunds", staff, db, [&counter](const Request& request) {
                const auto key = required_key(request, "POST /api/v1/pos/refunds");
                const auto refund = refund_request(parse_object(request));
                return from_stored(
                    counter.refund(*request.principal, refund, key, [](const service::Refund& r) {
                      return to_stored(json_response(201, refund_json(r)));
                    }));
              }});

  // POST /api/v1/pos/held-carts
  router.add({"POST", "/api/v1/pos/held-carts", staff, db, [&counter](const Request& request) {
                const auto body = parse_object(request);
                reject_unknown_fields(body, {"label", "cart"});
                const auto label = string_field(body, "label").value_or("");
                const auto cart = body.find("cart");
                if (cart == body.end() || !cart->is_object())
                  throw Error::invalid_field("cart", "cart must be an object");
                if (deeper_than(*cart, kMaxCartDepth))
                  throw Error::invalid_field("cart", "挂单内容嵌套过深 / cart nests more than " +
                                                         std::to_string(kMaxCartDepth) +
                                                         " levels deep");
                return json_response(
                    201, held_json(counter.hold_cart(*request.principal, label, cart->dump())));
              }});

  // GET /api/v1/pos/held-carts
  router.add({"GET", "/api/v1/pos/held-carts", staff, db, [&counter](const Request& request) {
                json items = json::array();
                for (const auto& h : counter.held_carts(*request.principal))
                  items.push_back(held_json(h));
                return json_response(200, {{"items", items}});
              }});

  // POST /api/v1/pos/held-carts/{id}/resume
  router.add(
      {"POST", "/api/v1/pos/held-carts/{id}/resume", staff, db, [&counter](const Request& request) {
         expect_no_fields(request);
         return json_response(200,
                              held_json(counter.resume_cart(*request.principal, path_id(request))));
       }});
}

}  // namespace yizhan::api

// --- refunds owed to customers ------------------------------------------------------------

namespace yizhan::api {
namespace {

json owed_refund_json(const service::OwedRefund& r) {
  json repayment = nullptr;
  if (r.repayment)
    repayment = {{"id", r.repayment->id},
                 {"shift_id", r.repayment->shift_id},
                 {"register_id", r.repayment->register_id},
                 {"cashier", r.repayment->cashier},
                 {"method", r.repayment->method},
                 {"amount_fen", r.repayment->amount.value()},
                 {"created_at", time_json(r.repayment->created_at)}};
  return {{"id", r.refund_id},
          {"sale_id", r.sale_id},
          {"sale_number", r.sale_number},
          {"method", r.method},
          {"total_fen", r.amount.value()},
          {"owed", r.state},
          {"owed_fen", r.state == "owed" ? r.amount.value() : 0},
          {"provider_state", r.provider_state},
          {"out_refund_no", r.out_refund_no},
          {"refunded_at", time_json(r.refunded_at)},
          {"owed_at", time_json(r.owed_at)},
          {"repayment", repayment}};
}

}  // namespace

void add_owed_refund_routes(Router& router, service::CounterService& counter) {
  const auto staff = Access::staff;
  const auto db = Executor::database;

  // GET /api/v1/pos/refunds?owed=true (or owed=all: with those paid back)
  router.add({"GET", "/api/v1/pos/refunds", staff, db, [&counter](const Request& request) {
                const auto owed = request.query.find("owed");
                if (owed == request.query.end() ||
                    (owed->second != "true" && owed->second != "all"))
                  throw Error::invalid_field(
                      "owed",
                      "请用 owed=true（应退未退）或 owed=all（含已补退）/ list refunds owed to "
                      "customers with owed=true, or owed=all to include those paid back");
                const auto before = id_query(request, "before");
                int limit = 50;
                if (const auto asked = id_query(request, "limit"))
                  limit = static_cast<int>(std::min<std::int64_t>(*asked, 100));
                const auto refunds = counter.owed_refunds(owed->second == "all", before, limit);
                json items = json::array();
                for (const auto& r : refunds)
                  items.push_back(owed_refund_json(r));
                return json_response(200, {{"items", items},
                                           {"next_before", static_cast<int>(refunds.size()) == limit
                                                               ? json(refunds.back().refund_id)
                                                               : json(nullptr)}});
              }});

  // POST /api/v1/pos/refunds/{id}/repay
  router.add(
      {"POST", "/api/v1/pos/refunds/{id}/repay", staff, db, [&counter](const Request& request) {
         const auto key = required_key(request, "POST /api/v1/pos/refunds/{id}/repay");
         const auto body = parse_object(request);
         reject_unknown_fields(body, {"method"});
         const auto method = required_string(body, "method", 32);
         return from_stored(
             counter.repay_owed_refund(*request.principal, path_id(request), method,
                                       actor_of(request), key, [](const service::OwedRefund& r) {
                                         return to_stored(json_response(200, owed_refund_json(r)));
                                       }));
       }});
}

}  // namespace yizhan::api
