// Online orders (API.md "Online orders"): checkout, tracking, the staff queue, payments.
#include "orders.hpp"

#include "idempotency.hpp"
#include "json.hpp"
#include "yizhan/domain/order.hpp"
#include "yizhan/service/orders.hpp"
#include "yizhan/service/qr.hpp"

namespace yizhan::api {
namespace {

using domain::Error;
using domain::ErrorCode;

/// The payment's QR (libqrencode) as inline SVG with a 4-module quiet zone, for the page to show.
std::string qr_svg(std::string_view content) {
  const auto qr = service::encode_qr(content);
  const std::string side = std::to_string(qr.size + 8);
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + side + " " + side +
                    "\" shape-rendering=\"crispEdges\" role=\"img\" " +
                    "aria-label=\"付款二维码 / payment QR\"><rect width=\"" + side +
                    "\" height=\"" + side + "\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  service::append_svg_path(out, qr);
  return out + "\"/></svg>";
}

std::int64_t required_integer(const json& body, const char* field) {
  const auto value = integer_field(body, field);
  if (!value) throw Error::invalid_field(field, std::string(field) + " is required");
  return *value;
}

/// 302 to `location`, never cached (the sign-in's steps are one-off).
/// The browser's half of a WeChat sign-in (OrderService::WechatSignIn), sent back only to the
/// sign-in's return address. Lax: WeChat's redirect back is a top-level navigation from its site.
constexpr std::string_view kSignInCookie = "yizhan_wechat_sign_in";
std::string sign_in_cookie(const std::string& nonce, int max_age, bool tls) {
  return set_cookie(kSignInCookie, nonce, "/api/v1/payments/wechat/sign-in", max_age, "Lax", tls);
}

Response redirect_to(const std::string& location) {
  Response response;
  response.status = 302;
  response.headers.emplace_back("Location", location);
  response.headers.emplace_back("Cache-Control", "no-store");
  response.body = json{{"location", location}}.dump();
  return response;
}

json refund_json(const service::OrderRefund& r) {
  json lines = json::array();
  for (const auto& l : r.lines)
    lines.push_back({{"line_no", l.line_no},
                     {"name", l.name},
                     {"quantity", l.quantity},
                     {"gross_fen", l.gross.value()},
                     {"stock", l.stock}});
  return {{"id", r.id},
          {"out_refund_no", r.out_refund_no},
          {"method", r.method},
          {"state", r.state},
          {"origin", r.origin},
          {"goods_fen", r.goods.value()},
          {"delivery_fee_fen", r.delivery_fee.value()},
          {"amount_fen", r.amount.value()},
          {"reason", r.reason},
          {"failure", nullable(r.failure)},
          {"created_at", time_json(r.created_at)},
          {"finished_at", r.finished_at ? time_json(*r.finished_at) : json(nullptr)},
          {"lines", lines}};
}

json order_line_json(const service::OrderLine& l) {
  return {{"line_no", l.line_no},
          {"kind", "item"},
          {"product_id", l.product_id},
          {"name", l.name},
          {"village_id", l.village_id},
          {"village_name", l.village_name},
          {"unit", std::string(domain::to_string(l.unit))},
          {"quantity", l.quantity},
          {"unit_price_fen", l.unit_price.value()},
          {"gross_fen", l.gross.value()},
          {"refunded_quantity", l.refunded_quantity}};
}

/// A gift box's lines as one line of the order (its line_no is its first line's, which a refund
/// takes for the whole box; quantities count boxes), its contents under "components".
json order_bundle_json(const std::vector<const service::OrderLine*>& parts) {
  const auto& first = *parts.front();
  domain::Fen gross;
  std::string villages;
  json components = json::array();
  for (const auto* part : parts) {
    gross += part->gross;
    auto component = order_line_json(*part);
    component["quantity_per_box"] = part->quantity / part->bundle_quantity;
    components.push_back(std::move(component));
    if (villages.find(part->village_name) == std::string::npos)
      villages += (villages.empty() ? "" : "、") + part->village_name;
  }
  const std::int64_t per_box = first.quantity / first.bundle_quantity;
  return {{"line_no", first.line_no},
          {"kind", "bundle"},
          {"product_id", *first.bundle_product_id},
          {"name", first.bundle_name},
          {"village_id", nullptr},
          {"village_name", villages},
          {"unit", "piece"},
          {"quantity", first.bundle_quantity},
          {"unit_price_fen", gross.value() / first.bundle_quantity},
          {"gross_fen", gross.value()},
          {"refunded_quantity", first.refunded_quantity / per_box},
          {"components", components}};
}

json order_json(const service::Order& o) {
  const json lines = lines_with_boxes(o.lines, order_line_json, order_bundle_json);
  json history = json::array();
  for (const auto& e : o.history)
    history.push_back(
        {{"state", e.state}, {"by", e.by}, {"note", e.note}, {"at", time_json(e.at)}});
  json payment = nullptr;
  if (o.payment) {
    json jsapi = nullptr;
    if (o.payment->jsapi) jsapi = json::parse(*o.payment->jsapi, nullptr, false);
    payment = {
        {"provider", o.payment->provider},
        {"channel", o.payment->channel},
        {"state", o.payment->state},
        {"qr_content", nullable(o.payment->qr_content)},
        {"qr_svg", o.payment->qr_content ? json(qr_svg(*o.payment->qr_content)) : json(nullptr)},
        {"redirect_url", nullable(o.payment->redirect_url)},
        {"jsapi", jsapi.is_discarded() ? json(nullptr) : jsapi}};
  }
  json out = {{"number", o.number},
              {"state", o.state},
              {"fulfilment", o.fulfilment},
              {"payment_method", o.payment_method},
              {"contact", {{"name", o.contact_name}, {"phone", o.contact_phone}}},
              {"address", o.address_area ? json{{"area", *o.address_area},
                                                {"detail", o.address_detail.value_or("")}}
                                         : json(nullptr)},
              {"note", o.note},
              {"subtotal_fen", o.subtotal.value()},
              {"delivery_fee_fen", o.delivery_fee.value()},
              {"total_fen", o.total.value()},
              {"paid_fen", o.paid.value()},
              {"refunded_fen", o.refunded.value()},
              {"created_at", time_json(o.created_at)},
              {"expires_at", o.expires_at ? time_json(*o.expires_at) : json(nullptr)},
              {"pickup_code", nullable(o.pickup_code)},
              {"carrier", nullable(o.carrier)},
              {"waybill", nullable(o.waybill)},
              {"lines", lines},
              {"history", history},
              {"payment", payment}};
  if (o.token) out["token"] = *o.token;
  if (o.attention) out["attention"] = *o.attention;
  if (o.refundable) {
    out["refundable_fen"] = o.refundable->value();
    out["delivery_fee_refunded"] = o.delivery_fee_refunded;
    json refunds = json::array();
    for (const auto& r : o.refunds)
      refunds.push_back(refund_json(r));
    out["refunds"] = refunds;
  }
  if (o.surplus_payments) {
    json surplus = json::array();
    for (const auto& p : *o.surplus_payments)
      surplus.push_back({{"out_trade_no", p.out_trade_no},
                         {"provider", p.provider},
                         {"amount_fen", p.amount_fen},
                         {"state", p.state},
                         {"failure", nullable(p.failure)}});
    out["surplus_payments"] = surplus;
  }
  return out;
}

service::OrderRefundRequest refund_request(const json& body) {
  reject_unknown_fields(body, {"lines", "delivery_fee", "all", "method", "reason"});
  service::OrderRefundRequest request;
  if (const auto lines = body.find("lines"); lines != body.end() && !lines->is_null()) {
    if (!lines->is_array()) throw Error::invalid_field("lines", "lines is an array");
    if (lines->size() > 50) throw Error::invalid_field("lines", "at most 50 lines");
    for (std::size_t i = 0; i < lines->size(); ++i) {
      const auto& line = (*lines)[i];
      const std::string at = "lines[" + std::to_string(i) + "]";
      if (!line.is_object()) throw Error::invalid_field(at, "a line is an object");
      try {
        reject_unknown_fields(line, {"line_no", "quantity", "returned"});
        const auto line_no = required_integer(line, "line_no");
        if (line_no < 1 || line_no > 1000)
          throw Error::invalid_field("line_no", "订单没有这一行 / no such line in the order");
        request.lines.push_back({static_cast<int>(line_no), required_integer(line, "quantity"),
                                 boolean_field(line, "returned").value_or(false)});
      } catch (const Error& error) {
        throw error.within(at);
      }
    }
  }
  request.delivery_fee = boolean_field(body, "delivery_fee").value_or(false);
  request.all = boolean_field(body, "all").value_or(false);
  request.method = string_field(body, "method");
  request.reason = string_field(body, "reason").value_or("");
  return request;
}

service::CheckoutRequest checkout_request(const json& body) {
  reject_unknown_fields(body, {"lines", "fulfilment", "contact", "address", "note", "payment",
                               "channel", "expected_total_fen"});
  service::CheckoutRequest request;
  const auto lines = body.find("lines");
  if (lines == body.end() || !lines->is_array())
    throw Error::invalid_field("lines", "lines is required (an array)");
  if (lines->size() > 50) throw Error::invalid_field("lines", "at most 50 lines");
  for (std::size_t i = 0; i < lines->size(); ++i) {
    const auto& line = (*lines)[i];
    const std::string at = "lines[" + std::to_string(i) + "]";
    if (!line.is_object()) throw Error::invalid_field(at, "a line is an object");
    try {
      reject_unknown_fields(line, {"product_id", "quantity"});
      request.lines.push_back(
          {required_integer(line, "product_id"), required_integer(line, "quantity")});
    } catch (const Error& error) {
      throw error.within(at);
    }
  }
  request.fulfilment = required_string(body, "fulfilment", 20);
  const auto contact = body.find("contact");
  if (contact == body.end() || !contact->is_object())
    throw Error::invalid_field("contact", "contact is required ({name, phone})");
  try {
    reject_unknown_fields(*contact, {"name", "phone"});
    request.contact_name = required_string(*contact, "name", 200);
    request.contact_phone = required_string(*contact, "phone", 40);
  } catch (const Error& error) {
    throw error.within("contact");
  }
  if (const auto address = body.find("address"); address != body.end() && !address->is_null()) {
    if (!address->is_object()) throw Error::invalid_field("address", "address is {area, detail}");
    try {
      reject_unknown_fields(*address, {"area", "detail"});
      request.address_area = string_field(*address, "area");
      request.address_detail = string_field(*address, "detail");
    } catch (const Error& error) {
      throw error.within("address");
    }
  }
  request.note = string_field(body, "note").value_or("");
  request.payment = required_string(body, "payment", 20);
  request.expected_total_fen = integer_field(body, "expected_total_fen");
  return request;
}

std::string query_value(const Request& request, const char* name) {
  const auto found = request.query.find(name);
  return found == request.query.end() ? std::string() : found->second;
}

}  // namespace

void add_order_routes(Router& router, service::OrderService& orders) {
  const auto db = Executor::database;
  const auto quick = Executor::quick;
  // Routes that ask a payment provider (start, check, refund, cancel with its refund or close,
  // WeChat's sign-in) run on the server's provider pool: a slow provider then holds none of the
  // database workers the counter and the storefront need (probe P12).
  const auto asks_provider = [](const Request&) { return true; };

  // GET /api/v1/orders/config
  router.add(
      {"GET", "/api/v1/orders/config", Access::anyone, db, [&orders](const Request&) {
         const auto& s = orders.settings();
         json areas = s.delivery.areas;
         return json_response(
             200, {{"delivery",
                    {{"flat_fee_fen", s.delivery.flat_fee.value()},
                     {"free_above_fen",
                      s.delivery.free_above ? json(s.delivery.free_above->value()) : json(nullptr)},
                     {"areas", areas}}},
                   {"pickup", {{"address", s.pickup_address}, {"hours", s.pickup_hours}}},
                   {"payments", orders.payment_methods()},
                   {"unpaid_minutes", s.unpaid_minutes}});
       }});

  // POST /api/v1/orders
  router.add({"POST", "/api/v1/orders", Access::anyone, quick, [&orders](const Request& request) {
                auto key = idempotency_key(request, "POST /api/v1/orders");
                if (!key)
                  throw Error(
                      ErrorCode::idempotency_key_required,
                      "需要 Idempotency-Key 请求头 / the Idempotency-Key header is required");
                auto checkout = checkout_request(parse_object(request));
                checkout.client_address = request.client_address;
                return from_stored(orders.checkout(checkout, *key, [](const service::Order& o) {
                  return to_stored(json_response(201, order_json(o)));
                }));
              }});

  // GET /api/v1/orders
  router.add({"GET", "/api/v1/orders", Access::staff, db, [&orders](const Request& request) {
                const auto page = parse_page(request);
                const auto state = query_value(request, "state");
                const auto sort = query_value(request, "sort");
                if (!sort.empty() && sort != "newest" && sort != "oldest")
                  throw Error::invalid_field("sort",
                                             "sort 应为 newest 或 oldest / sort must be "
                                             "newest or oldest");
                const auto result = orders.list(state.empty() ? std::nullopt : std::optional(state),
                                                query_flag(request, "attention"), page.page,
                                                page.page_size, sort == "oldest");
                json items = json::array();
                for (const auto& o : result.items)
                  items.push_back(order_json(o));
                return json_response(200, {{"items", items},
                                           {"page", result.page},
                                           {"pages", result.pages},
                                           {"total", result.total}});
              }});

  // POST /api/v1/orders/{number}/attention/resolve
  router.add({"POST", "/api/v1/orders/{number}/attention/resolve", Access::staff, db,
              [&orders](const Request& request) {
                const auto body = parse_object(request);
                reject_unknown_fields(body, {"attention", "note"});
                const auto order = orders.resolve_attention(
                    request.path_parameters.at("number"), required_string(body, "attention", 1000),
                    required_string(body, "note", 1000), *request.principal);
                return json_response(200, order_json(order));
              }});

  // POST /api/v1/orders/{number}/surplus-returned
  router.add({"POST", "/api/v1/orders/{number}/surplus-returned", Access::admin, db,
              [&orders](const Request& request) {
                const auto body = parse_object(request);
                reject_unknown_fields(body, {"out_trade_no", "note"});
                const auto order = orders.record_surplus_returned(
                    request.path_parameters.at("number"),
                    required_string(body, "out_trade_no", 1000),
                    required_string(body, "note", 1000), *request.principal);
                return json_response(200, order_json(order));
              }});

  // GET /api/v1/orders/{number}
  router.add(
      {"GET", "/api/v1/orders/{number}", Access::anyone, quick, [&orders](const Request& request) {
         const auto& number = request.path_parameters.at("number");
         const auto token = query_value(request, "token");
         // Staff see any order; everyone else needs the order's token.
         const bool staff = request.principal && (request.principal->role == domain::Role::admin ||
                                                  request.principal->role == domain::Role::cashier);
         return json_response(
             200, order_json(staff && token.empty() ? orders.for_staff(number)
                                                    : orders.for_customer(number, token)));
       }});

  // POST /api/v1/orders/{number}/cancel
  router.add({"POST", "/api/v1/orders/{number}/cancel", Access::anyone, db,
              [&orders](const Request& request) {
                expect_no_fields(request);
                const auto& number = request.path_parameters.at("number");
                const auto token = query_value(request, "token");
                const bool staff =
                    request.principal && (request.principal->role == domain::Role::admin ||
                                          request.principal->role == domain::Role::cashier);
                const auto order =
                    orders.cancel(number, token.empty() ? std::nullopt : std::optional(token),
                                  staff && token.empty() ? request.principal : std::nullopt);
                // A paid order cancels when its refund succeeds: 202 while that is pending.
                const auto state = domain::parse_order_state(order.state);
                const bool over = state && domain::is_terminal(*state);
                return json_response(over ? 200 : 202, order_json(order));
              },
              BodyLimit::standard, asks_provider});

  // POST /api/v1/orders/{number}/transition
  router.add({"POST", "/api/v1/orders/{number}/transition", Access::staff, db,
              [&orders](const Request& request) {
                const auto body = parse_object(request);
                reject_unknown_fields(body, {"to", "pickup_code", "carrier", "waybill"});
                const auto order = orders.transition(
                    request.path_parameters.at("number"), required_string(body, "to", 20),
                    string_field(body, "pickup_code"), string_field(body, "carrier"),
                    string_field(body, "waybill"), *request.principal);
                return json_response(200, order_json(order));
              }});

  // POST /api/v1/orders/{number}/refunds
  router.add(
      {"POST", "/api/v1/orders/{number}/refunds", Access::staff, db,
       [&orders](const Request& request) {
         auto key = idempotency_key(request, "POST /api/v1/orders/{number}/refunds");
         if (!key)
           throw Error(ErrorCode::idempotency_key_required,
                       "需要 Idempotency-Key 请求头 / the Idempotency-Key header is required");
         const auto asked = refund_request(parse_object(request));
         const auto result =
             orders.refund(request.path_parameters.at("number"), asked, key, *request.principal);
         // 201 made (succeeded or failed), 202 still processing, 200 a repeat of the key.
         const int status = result.replayed ? 200 : result.refund.state == "processing" ? 202 : 201;
         auto response = json_response(
             status, {{"refund", refund_json(result.refund)}, {"order", order_json(result.order)}});
         if (result.replayed) response.headers.emplace_back("Idempotent-Replayed", "true");
         return response;
       },
       BodyLimit::standard, asks_provider});

  // POST /api/v1/orders/{number}/payment
  router.add({"POST", "/api/v1/orders/{number}/payment", Access::anyone, db,
              [&orders](const Request& request) {
                const auto body = parse_object(request);
                reject_unknown_fields(body, {"channel"});
                const auto order = orders.start_payment(
                    request.path_parameters.at("number"), query_value(request, "token"),
                    required_string(body, "channel", 20), request.client_address);
                return json_response(200, order_json(order));
              },
              BodyLimit::standard, asks_provider});

  // POST /api/v1/orders/{number}/payment/check (?token=… or staff): "I have paid" — the
  // provider is asked about the trade when its notification has not come.
  router.add({"POST", "/api/v1/orders/{number}/payment/check", Access::anyone, db,
              [&orders](const Request& request) {
                expect_no_fields(request);
                const auto token = query_value(request, "token");
                const bool staff =
                    request.principal && (request.principal->role == domain::Role::admin ||
                                          request.principal->role == domain::Role::cashier);
                return json_response(
                    200, order_json(orders.check_payment(request.path_parameters.at("number"),
                                                         token, staff && token.empty())));
              },
              BodyLimit::standard, asks_provider});

  // GET /api/v1/orders/{number}/wechat-sign-in?token=…: the browser, inside WeChat, goes on to
  // WeChat's sign-in (snsapi_base), which comes back to /api/v1/payments/wechat/sign-in.
  router.add({"GET", "/api/v1/orders/{number}/wechat-sign-in", Access::anyone, db,
              [&orders](const Request& request) {
                const auto sign_in = orders.wechat_sign_in(request.path_parameters.at("number"),
                                                           query_value(request, "token"));
                auto response = redirect_to(sign_in.url);
                response.headers.emplace_back(
                    "Set-Cookie", sign_in_cookie(sign_in.browser_nonce, 600, request.tls));
                return response;
              }});

  // GET /api/v1/payments/wechat/sign-in?code=…&state=…: WeChat's redirect back. The JSAPI
  // payment is started and the browser returns to the order's page, which offers 微信支付;
  // when the sign-in failed after the order was known, the page is told so and shows the QR.
  router.add({"GET", "/api/v1/payments/wechat/sign-in", Access::anyone, db,
              [&orders](const Request& request) {
                const auto state = query_value(request, "state");
                const auto number = service::OrderService::order_of_sign_in_state(state);
                if (!number)
                  throw Error::invalid_field("state", "微信授权参数无效 / malformed state");
                const std::string page = "/order.html?no=" + *number;
                const auto nonce = cookie(request, kSignInCookie).value_or("");
                // The nonce is used up either way; a retry begins a new sign-in.
                const auto answer = [&](const std::string& location) {
                  auto response = redirect_to(location);
                  response.headers.emplace_back("Set-Cookie", sign_in_cookie("", 0, request.tls));
                  return response;
                };
                try {
                  orders.finish_wechat_sign_in(query_value(request, "code"), state, nonce,
                                               request.client_address);
                  return answer(page);
                } catch (const Error& e) {
                  if (e.code() == ErrorCode::invalid_state) return answer(page);
                  return answer(page + "&sign_in=failed");
                }
              },
              BodyLimit::standard, asks_provider});

  // POST /api/v1/payments/wechat/notify, POST /api/v1/payments/alipay/notify
  for (const char* provider : {"wechat", "alipay"}) {
    router.add({"POST", std::string("/api/v1/payments/") + provider + "/notify", Access::anyone,
                quick, [&orders, provider](const Request& request) {
                  const auto answer = orders.notify(provider, request.headers, request.body);
                  Response response;
                  response.status = answer.status;
                  response.body = answer.body;
                  response.content_type = std::string(provider) == "alipay"
                                              ? "text/plain; charset=utf-8"
                                              : "application/json; charset=utf-8";
                  return response;
                }});
  }
}

}  // namespace yizhan::api
