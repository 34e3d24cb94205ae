// Simulated Alipay gateway: every call's RSA2 signature checked against the app's public key,
// every answer's node signed with the Alipay key, codes 10000/10003/40004 as the real one.
#include <cctype>
#include <variant>

#include "routes.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/payments/alipay_protocol.hpp"
#include "yizhan/payments/form.hpp"

namespace yizhan::paysim {
namespace {

using nlohmann::json;
namespace alipay = payments::alipay;

std::string text(const json& object, const char* name) {
  const auto at = object.find(name);
  return at != object.end() && at->is_string() ? at->get<std::string>() : std::string{};
}

std::optional<std::int64_t> yuan(const std::string& amount) {
  const auto fen = domain::Fen::parse(amount);
  if (!fen || fen->value() <= 0 || fen->value() > 100'000'000'00) return std::nullopt;
  return fen->value();
}

json business_failure(const std::string& sub_code, const std::string& sub_msg) {
  return {
      {"code", "40004"}, {"msg", "Business Failed"}, {"sub_code", sub_code}, {"sub_msg", sub_msg}};
}

SimResponse unsigned_error(const std::string& sub_code, const std::string& sub_msg) {
  return SimResponse{200,
                     "application/json;charset=utf-8",
                     {},
                     json{{"error_response",
                           {{"code", "40002"},
                            {"msg", "Invalid Arguments"},
                            {"sub_code", sub_code},
                            {"sub_msg", sub_msg}}}}
                         .dump()};
}

}  // namespace

bool is_alipay_code(const std::string& code) {
  if (code.size() < 16 || code.size() > 24) return false;
  for (char c : code)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return (code[0] == '2' && code[1] >= '5') || (code[0] == '3' && code[1] == '0');
}

SimResponse AlipayRoutes::handle(const SimRequest& request) {
  // The form comes in the body (POST) or, for the wap page the browser is sent to, the query.
  const auto question = request.target.find('?');
  const std::string query =
      question == std::string::npos ? "" : request.target.substr(question + 1);
  const auto form = payments::parse_form(request.method == "POST" && !request.body.empty()
                                             ? std::string_view(request.body)
                                             : std::string_view(query));
  if (!form) return unsigned_error("isv.invalid-parameter", "参数格式错误");
  std::map<std::string, std::string> fields;
  for (const auto& [name, value] : *form)
    fields[name] = value;
  const std::string method = fields["method"];
  if (fields["app_id"] != sim.keys_.alipay_app_id)
    return unsigned_error("isv.invalid-app-id", "无效的AppID参数");
  if (fields["sign_type"] != "RSA2")
    return unsigned_error("isv.invalid-signature-type", "无效的签名类型");
  if (!alipay::verify_request(fields, sim.alipay_app_key_))
    return unsigned_error("isv.invalid-signature", "验签出错");
  const json biz = json::parse(fields["biz_content"], nullptr, false);
  if (!biz.is_object()) return unsigned_error("isv.invalid-parameter", "biz_content 不是JSON");

  const auto answer = [&](const json& node) {
    return SimResponse{200,
                       "application/json;charset=utf-8",
                       {},
                       alipay::signed_answer(sim.alipay_key_, method, node.dump())};
  };
  const auto success = [](json node) {
    node["code"] = "10000";
    node["msg"] = "Success";
    return node;
  };
  const std::string out_trade_no = text(biz, "out_trade_no");
  const auto create = [&](const std::string& channel) -> std::variant<SimOrder*, json> {
    const auto total = yuan(text(biz, "total_amount"));
    if (out_trade_no.empty() || out_trade_no.size() > 64 || !total)
      return business_failure("ACQ.INVALID_PARAMETER", "out_trade_no 或 total_amount 无效");
    if (SimOrder* existing = sim.find("alipay", out_trade_no)) {
      if (existing->state == SimOrder::State::paid)
        return business_failure("ACQ.TRADE_HAS_SUCCESS", "交易已被支付");
      if (existing->state != SimOrder::State::unpaid)
        return business_failure("ACQ.TRADE_HAS_CLOSE", "交易已经关闭");
      if (existing->total != *total)
        return business_failure("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改");
      return existing;
    }
    SimOrder order;
    order.provider = "alipay";
    order.channel = channel;
    order.out_trade_no = out_trade_no;
    order.description = text(biz, "subject");
    order.app_id = sim.keys_.alipay_app_id;
    order.merchant_id = sim.keys_.alipay_seller_id;
    order.total = *total;
    order.notify_url = fields["notify_url"];
    order.return_url = fields["return_url"];
    order.created = Clock::now();
    if (biz.contains("time_expire"))
      order.expires_at = alipay::parse_beijing_time(text(biz, "time_expire"));
    return &(sim.orders_[{"alipay", out_trade_no}] = order);
  };

  if (method == "alipay.trade.precreate") {
    auto created = create("precreate");
    if (auto* failure = std::get_if<json>(&created)) return answer(*failure);
    return answer(success(
        {{"out_trade_no", out_trade_no},
         {"qr_code", sim.public_url_ + "/sim/pay/alipay/" + payments::url_encode(out_trade_no)}}));
  }
  if (method == "alipay.trade.wap.pay") {
    auto created = create("wap");
    if (auto* failure = std::get_if<json>(&created))
      return SimResponse{
          400,
          "text/html; charset=utf-8",
          {},
          "<!doctype html><meta charset=utf-8><p>" + text(*failure, "sub_msg") + "</p>"};
    return sim.pay_page("alipay", out_trade_no, false);
  }
  if (method == "alipay.trade.pay") {
    const std::string auth_code = text(biz, "auth_code");
    if (!is_alipay_code(auth_code))
      return answer(
          business_failure("ACQ.PAYMENT_AUTH_CODE_INVALID", "支付失败，获取顾客账户信息失败"));
    if (SimOrder* existing = sim.find("alipay", out_trade_no);
        existing && existing->state == SimOrder::State::paid)
      return answer(business_failure("ACQ.TRADE_HAS_SUCCESS", "交易已被支付"));
    else if (existing)
      return answer(business_failure("ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改"));
    auto created = create("barcode");
    if (auto* failure = std::get_if<json>(&created)) return answer(*failure);
    SimOrder& order = *std::get<SimOrder*>(created);
    if (auth_code.ends_with("9999")) {
      order.state = SimOrder::State::failed;
      order.failure = "ACQ.BUYER_BALANCE_NOT_ENOUGH";
      return answer(business_failure("ACQ.BUYER_BALANCE_NOT_ENOUGH", "买家余额不足"));
    }
    if (auth_code.ends_with("0000")) {
      order.state = SimOrder::State::paying;
      order.completes_at = Clock::now() + std::chrono::seconds(5);
      return answer({{"code", "10003"},
                     {"msg", "order success pay inprocess"},
                     {"out_trade_no", out_trade_no},
                     {"total_amount", domain::Fen(order.total).format()}});
    }
    sim.mark_paid(order, Clock::now());
    return answer(success({{"out_trade_no", out_trade_no},
                           {"trade_no", order.transaction_id},
                           {"buyer_logon_id", "sim***@example.com"},
                           {"total_amount", domain::Fen(order.total).format()},
                           {"receipt_amount", domain::Fen(order.total).format()},
                           {"gmt_payment", alipay::beijing_time(*order.paid_at)}}));
  }

  SimOrder* order = sim.find("alipay", out_trade_no);
  if (method == "alipay.trade.query") {
    if (!order) return answer(business_failure("ACQ.TRADE_NOT_EXIST", "交易不存在"));
    json node = success({{"out_trade_no", out_trade_no},
                         {"trade_status", alipay_trade_status(*order)},
                         {"total_amount", domain::Fen(order->total).format()}});
    if (order->state == SimOrder::State::paid) {
      node["trade_no"] = order->transaction_id;
      node["send_pay_date"] = alipay::beijing_time(*order->paid_at);
      node["buyer_logon_id"] = "sim***@example.com";
    }
    return answer(node);
  }
  if (method == "alipay.trade.close") {
    if (!order) return answer(business_failure("ACQ.TRADE_NOT_EXIST", "交易不存在"));
    if (order->state == SimOrder::State::paid)
      return answer(business_failure("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"));
    order->state = SimOrder::State::closed;
    return answer(success({{"out_trade_no", out_trade_no}}));
  }
  if (method == "alipay.trade.cancel") {
    if (!order) return answer(business_failure("ACQ.TRADE_NOT_EXIST", "交易不存在"));
    std::string action = "close";
    if (order->state == SimOrder::State::paid) {
      action = "refund";
      if (order->refunded == 0) order->refunded = order->total;
    } else {
      order->state = SimOrder::State::reversed;
    }
    return answer(
        success({{"out_trade_no", out_trade_no}, {"retry_flag", "N"}, {"action", action}}));
  }
  if (method == "alipay.trade.refund") {
    if (!order) return answer(business_failure("ACQ.TRADE_NOT_EXIST", "交易不存在"));
    const std::string request_no =
        text(biz, "out_request_no").empty() ? out_trade_no : text(biz, "out_request_no");
    const auto amount = yuan(text(biz, "refund_amount"));
    for (const SimRefund& earlier : order->refunds)
      if (earlier.out_refund_no == request_no)
        return answer(success({{"out_trade_no", out_trade_no},
                               {"trade_no", order->transaction_id},
                               {"refund_fee", domain::Fen(order->refunded).format()},
                               {"fund_change", "N"}}));
    if (order->state != SimOrder::State::paid)
      return answer(business_failure("ACQ.TRADE_STATUS_ERROR", "交易状态不合法"));
    if (!amount || *amount > order->total - order->refunded)
      return answer(business_failure("ACQ.REFUND_AMT_NOT_EQUAL_TOTAL", "退款金额超限"));
    order->refunds.push_back(SimRefund{request_no, request_no, *amount, Clock::now()});
    order->refunded += *amount;
    return answer(success({{"out_trade_no", out_trade_no},
                           {"trade_no", order->transaction_id},
                           {"refund_fee", domain::Fen(order->refunded).format()},
                           {"gmt_refund_pay", alipay::beijing_time(Clock::now())},
                           {"fund_change", "Y"}}));
  }
  if (method == "alipay.trade.fastpay.refund.query") {
    if (!order) return answer(business_failure("ACQ.TRADE_NOT_EXIST", "交易不存在"));
    const std::string request_no =
        text(biz, "out_request_no").empty() ? out_trade_no : text(biz, "out_request_no");
    for (const SimRefund& earlier : order->refunds)
      if (earlier.out_refund_no == request_no)
        return answer(success({{"out_trade_no", out_trade_no},
                               {"trade_no", order->transaction_id},
                               {"out_request_no", request_no},
                               {"total_amount", domain::Fen(order->total).format()},
                               {"refund_amount", domain::Fen(earlier.amount).format()},
                               {"refund_status", "REFUND_SUCCESS"}}));
    return answer(success({{"out_trade_no", out_trade_no}, {"out_request_no", request_no}}));
  }
  return unsigned_error("isv.invalid-method", "不存在的方法名 " + method);
}

std::map<std::string, std::string> AlipayRoutes::notification_fields(Simulator& sim,
                                                                     const SimOrder& order,
                                                                     Clock::time_point now) {
  const std::string amount = domain::Fen(order.total).format();
  return {{"notify_time", alipay::beijing_time(now)},
          {"notify_type", "trade_status_sync"},
          {"notify_id", payments::random_token(32)},
          {"charset", "utf-8"},
          {"version", "1.0"},
          {"sign_type", "RSA2"},
          {"app_id", sim.keys_.alipay_app_id},
          {"auth_app_id", sim.keys_.alipay_app_id},
          {"seller_id", sim.keys_.alipay_seller_id},
          {"trade_no", order.transaction_id},
          {"out_trade_no", order.out_trade_no},
          {"trade_status", "TRADE_SUCCESS"},
          {"total_amount", amount},
          {"receipt_amount", amount},
          {"buyer_pay_amount", amount},
          {"subject", order.description},
          {"gmt_create", alipay::beijing_time(order.created)},
          {"gmt_payment", alipay::beijing_time(order.paid_at.value_or(now))}};
}

std::string AlipayRoutes::return_link(Simulator& sim, const SimOrder& order) {
  std::map<std::string, std::string> fields = {{"app_id", sim.keys_.alipay_app_id},
                                               {"method", "alipay.trade.wap.pay.return"},
                                               {"charset", "utf-8"},
                                               {"sign_type", "RSA2"},
                                               {"version", "1.0"},
                                               {"timestamp", alipay::beijing_time(Clock::now())},
                                               {"out_trade_no", order.out_trade_no},
                                               {"trade_no", order.transaction_id},
                                               {"total_amount", domain::Fen(order.total).format()},
                                               {"seller_id", sim.keys_.alipay_seller_id}};
  fields["sign"] = sim.alipay_key_.sign_sha256(alipay::sign_content(fields, true));
  return order.return_url + (order.return_url.find('?') == std::string::npos ? "?" : "&") +
         payments::build_form(fields);
}

}  // namespace yizhan::paysim
