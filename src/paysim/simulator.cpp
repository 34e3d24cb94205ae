// The simulator's dispatch, its orders and the test controls (POST /sim/pay, GET /sim/orders).
#include "simulator.hpp"

#include <nlohmann/json.hpp>

#include "routes.hpp"
#include "yizhan/payments/alipay_protocol.hpp"
#include "yizhan/payments/form.hpp"
#include "yizhan/payments/wechat_pay_protocol.hpp"

namespace yizhan::paysim {

using nlohmann::json;

Simulator::Simulator(SimKeys keys, std::string public_url, Deliver deliver)
    : keys_(std::move(keys)),
      public_url_(std::move(public_url)),
      deliver_(std::move(deliver)),
      wechat_pay_key_(payments::PrivateKey::parse(keys_.wechat_pay_private_key)),
      alipay_key_(payments::PrivateKey::parse(keys_.alipay_private_key)),
      merchant_key_(payments::PublicKey::parse(keys_.merchant_public_key)),
      alipay_app_key_(payments::PublicKey::parse(keys_.alipay_app_public_key)) {
  while (public_url_.ends_with('/'))
    public_url_.pop_back();
}

SimResponse Simulator::handle(const SimRequest& request) {
  try {
    std::lock_guard lock(mutex_);
    return route(request);
  } catch (const std::exception& error) {
    return wechat_error(500, "SYSTEM_ERROR", std::string("simulator error: ") + error.what());
  }
}

SimResponse Simulator::route(const SimRequest& request) {
  const std::string path = request.target.substr(0, request.target.find('?'));
  if (path.starts_with("/v3/") || is_v2_path(path))
    return WechatRoutes{*this}.handle(request, path);
  if (path == "/gateway.do") return AlipayRoutes{*this}.handle(request);
  // GET|POST /sim/pay/{wechat|alipay}/{out_trade_no}: the payer's page and its 确认支付 button
  for (const std::string provider : {"wechat", "alipay"}) {
    const std::string prefix = "/sim/pay/" + provider + "/";
    if (path.starts_with(prefix) && path.size() > prefix.size()) {
      const auto out_trade_no = payments::url_decode(path.substr(prefix.size()), false);
      if (!out_trade_no) break;
      return pay_page(provider, *out_trade_no, request.method == "POST");
    }
  }
  if (path == "/connect/oauth2/authorize" && request.method == "GET") return sign_in(request);
  if (path == "/sns/oauth2/access_token" && request.method == "GET")
    return sns_access_token(request);
  if (path == "/sim/jsapi" && request.method == "POST") return jsapi_pay(request);
  if (path == "/sim/pay" && request.method == "POST") return control_pay(request);
  if (path == "/sim/orders" && request.method == "GET") return list_orders();
  if (path == "/healthz") return SimResponse{200, "text/plain", {}, "ok\n"};
  return wechat_error(404, "NOT_FOUND", "no such endpoint: " + path);
}

SimOrder* Simulator::find(const std::string& provider, const std::string& out_trade_no) {
  const auto at = orders_.find({provider, out_trade_no});
  if (at == orders_.end()) return nullptr;
  settle(at->second, Clock::now());
  return &at->second;
}

void Simulator::settle(SimOrder& order, Clock::time_point now) {
  if (order.state == SimOrder::State::unpaid && order.expires_at && now > *order.expires_at)
    order.state = SimOrder::State::closed;
  if (order.state == SimOrder::State::paying && order.completes_at && now >= *order.completes_at)
    mark_paid(order, now);
}

void Simulator::tick(Clock::time_point now) {
  std::lock_guard lock(mutex_);
  for (auto& [key, order] : orders_)
    settle(order, now);
}

void Simulator::mark_paid(SimOrder& order, Clock::time_point now, bool notify) {
  order.state = SimOrder::State::paid;
  order.paid_at = now;
  order.completes_at.reset();
  ++sequence_;
  const std::string serial = std::to_string(100000 + sequence_);
  order.transaction_id =
      order.provider == "wechat"
          ? "4200002026" + payments::hex_lower(payments::random_token(4)).substr(0, 8) + serial
          : "2026" + serial + "22001400" + std::to_string(sequence_ % 10);
  if (notify && !order.notify_url.empty()) notify_paid(order, now);
}

void Simulator::notify_paid(const SimOrder& order, Clock::time_point now) {
  Delivery delivery;
  delivery.provider = order.provider;
  delivery.out_trade_no = order.out_trade_no;
  delivery.url = order.notify_url;
  if (order.provider == "wechat") {
    const std::string plaintext = WechatRoutes::transaction(order).dump();
    delivery.body = payments::wechat::seal_notification(
        payments::random_token(8) + "-" + payments::random_token(4), "TRANSACTION.SUCCESS",
        "支付成功", "transaction", plaintext, keys_.api_v3_key, now);
    delivery.headers =
        payments::wechat::sign_answer(wechat_pay_key_, keys_.wechat_pay_serial, delivery.body, now);
    delivery.headers["Content-Type"] = "application/json";
    delivery.acknowledged = [](int status, const std::string&) {
      return status >= 200 && status < 300;
    };
  } else {
    std::map<std::string, std::string> fields =
        AlipayRoutes::notification_fields(*this, order, now);
    fields["sign"] =
        alipay_key_.sign_sha256(payments::alipay::sign_content(fields, /*without_sign_type=*/true));
    delivery.body = payments::build_form(fields);
    delivery.headers["Content-Type"] = "application/x-www-form-urlencoded; charset=utf-8";
    delivery.acknowledged = [](int, const std::string& body) { return body == "success"; };
  }
  deliver_(std::move(delivery));
}

void Simulator::delivered(const std::string& provider, const std::string& out_trade_no,
                          bool acknowledged) {
  std::lock_guard lock(mutex_);
  const auto at = orders_.find({provider, out_trade_no});
  if (at == orders_.end()) return;
  ++at->second.notifications_sent;
  if (acknowledged) ++at->second.notifications_acknowledged;
}

// POST /sim/pay {"provider":"wechat"|"alipay","out_trade_no":"…"[,"notify":false]}: paid, and
// notified unless "notify" is false (the notification lost: only a query finds the payment).
SimResponse Simulator::control_pay(const SimRequest& request) {
  const json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("provider") || !body["provider"].is_string() ||
      !body.contains("out_trade_no") || !body["out_trade_no"].is_string())
    return wechat_error(400, "PARAM_ERROR", "expected {\"provider\",\"out_trade_no\"}");
  if (body.contains("notify") && !body["notify"].is_boolean())
    return wechat_error(400, "PARAM_ERROR", "notify must be true or false");
  const bool notify = body.value("notify", true);
  SimOrder* order = find(body["provider"], body["out_trade_no"]);
  if (!order) return wechat_error(404, "ORDER_NOT_EXIST", "订单不存在 / no such order");
  if (order->state != SimOrder::State::unpaid && order->state != SimOrder::State::paying)
    return wechat_error(409, "ORDER_NOT_PAYABLE",
                        "订单不可支付 / order is " + wechat_trade_state(*order));
  mark_paid(*order, Clock::now(), notify);
  return SimResponse{200,
                     "application/json",
                     {},
                     json{{"provider", order->provider},
                          {"out_trade_no", order->out_trade_no},
                          {"transaction_id", order->transaction_id},
                          {"state", order->provider == "wechat" ? wechat_trade_state(*order)
                                                                : alipay_trade_status(*order)}}
                         .dump()};
}

// GET /sim/orders
SimResponse Simulator::list_orders() {
  json list = json::array();
  const auto now = Clock::now();
  for (auto& [key, order] : orders_) {
    settle(order, now);
    list.push_back({{"provider", order.provider},
                    {"channel", order.channel},
                    {"out_trade_no", order.out_trade_no},
                    {"transaction_id", order.transaction_id},
                    {"description", order.description},
                    {"total_fen", order.total},
                    {"refunded_fen", order.refunded},
                    {"state", order.provider == "wechat" ? wechat_trade_state(order)
                                                         : alipay_trade_status(order)},
                    {"notify_url", order.notify_url},
                    {"notifications_sent", order.notifications_sent},
                    {"notifications_acknowledged", order.notifications_acknowledged},
                    {"queries", order.queries}});
  }
  return SimResponse{200, "application/json", {}, list.dump()};
}

// GET /sim/pay/{provider}/{out_trade_no} shows the page; POST pays and shows the result.
SimResponse Simulator::pay_page(const std::string& provider, const std::string& out_trade_no,
                                bool pay_now) {
  SimOrder* order = find(provider, out_trade_no);
  if (!order)
    return SimResponse{404,
                       "text/html; charset=utf-8",
                       {},
                       "<!doctype html><meta charset=utf-8><p>订单不存在 / No such order</p>"};
  if (pay_now &&
      (order->state == SimOrder::State::unpaid || order->state == SimOrder::State::paying))
    mark_paid(*order, Clock::now());
  const std::string action =
      "/sim/pay/" + provider + "/" + payments::url_encode(order->out_trade_no);
  std::string back;
  if (provider == "alipay" && !order->return_url.empty() && order->state == SimOrder::State::paid)
    back = AlipayRoutes::return_link(*this, *order);
  return SimResponse{200, "text/html; charset=utf-8", {}, render_pay_page(*order, action, back)};
}

std::string wechat_trade_state(const SimOrder& order) {
  switch (order.state) {
    case SimOrder::State::unpaid: return "NOTPAY";
    case SimOrder::State::paying: return "USERPAYING";
    case SimOrder::State::paid: return order.refunded > 0 ? "REFUND" : "SUCCESS";
    case SimOrder::State::closed: return "CLOSED";
    case SimOrder::State::reversed: return "REVOKED";
    case SimOrder::State::failed: return "PAYERROR";
  }
  return "NOTPAY";
}

std::string alipay_trade_status(const SimOrder& order) {
  switch (order.state) {
    case SimOrder::State::unpaid:
    case SimOrder::State::paying: return "WAIT_BUYER_PAY";
    case SimOrder::State::paid:
      return order.refunded >= order.total ? "TRADE_CLOSED" : "TRADE_SUCCESS";
    default: return "TRADE_CLOSED";
  }
}

SimResponse wechat_error(int status, const std::string& code, const std::string& message) {
  return SimResponse{
      status, "application/json", {}, json{{"code", code}, {"message", message}}.dump()};
}

}  // namespace yizhan::paysim
