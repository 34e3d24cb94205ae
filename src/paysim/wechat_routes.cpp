// Simulated WeChat Pay API v3 (and v2 micropay, orderquery, reverse): requests checked like the
// real ones (signature, serial, 5-minute timestamp, mchid/appid), answers signed with the WeChat
// Pay key (v2: with the APIv2 key, in the request's sign_type).
#include <cctype>

#include "routes.hpp"
#include "yizhan/payments/form.hpp"
#include "yizhan/payments/wechat_pay_protocol.hpp"

namespace yizhan::paysim {
namespace {

using nlohmann::json;
namespace wechat = payments::wechat;

constexpr std::int64_t kMaxTotal = 100'000'000'00;  // fen

std::string text(const json& object, const char* name) {
  const auto at = object.find(name);
  return at != object.end() && at->is_string() ? at->get<std::string>() : std::string{};
}

bool valid_out_trade_no(const std::string& no) {
  if (no.size() < 6 || no.size() > 32) return false;
  for (char c : no)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '|' &&
        c != '*')
      return false;
  return true;
}

std::optional<std::int64_t> amount_total(const json& body) {
  const auto amount = body.find("amount");
  if (amount == body.end() || !amount->is_object()) return std::nullopt;
  const auto total = amount->find("total");
  if (total == amount->end() || !total->is_number_integer()) return std::nullopt;
  const auto value = total->get<std::int64_t>();
  if (value <= 0 || value > kMaxTotal) return std::nullopt;
  return value;
}

std::string trade_type(const std::string& channel) {
  if (channel == "native") return "NATIVE";
  if (channel == "jsapi") return "JSAPI";
  if (channel == "h5") return "MWEB";
  return "MICROPAY";
}

// "…/out-trade-no/{no}" or "…/out-trade-no/{no}/close": the number, percent-decoded.
std::optional<std::string> segment(const std::string& path, const std::string& prefix,
                                   const std::string& suffix) {
  if (!path.starts_with(prefix) || !path.ends_with(suffix) ||
      path.size() <= prefix.size() + suffix.size())
    return std::nullopt;
  const std::string raw = path.substr(prefix.size(), path.size() - prefix.size() - suffix.size());
  if (raw.find('/') != std::string::npos) return std::nullopt;
  return payments::url_decode(raw, false);
}

}  // namespace

bool is_v2_path(const std::string& path) {
  return path == "/pay/micropay" || path == "/pay/orderquery" || path == "/secapi/pay/reverse";
}

bool is_wechat_code(const std::string& code) {
  if (code.size() != 18) return false;
  for (char c : code)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return code[0] == '1' && code[1] >= '0' && code[1] <= '5';
}

json WechatRoutes::transaction(const SimOrder& order) {
  json body = {
      {"appid", order.app_id},
      {"mchid", order.merchant_id},
      {"out_trade_no", order.out_trade_no},
      {"trade_type", trade_type(order.channel)},
      {"trade_state", wechat_trade_state(order)},
      {"trade_state_desc", order.failure.empty() ? wechat_trade_state(order) : order.failure},
      {"amount", {{"total", order.total}, {"currency", "CNY"}}}};
  if (order.state == SimOrder::State::paid) {
    body["transaction_id"] = order.transaction_id;
    body["bank_type"] = "OTHERS";
    body["success_time"] = wechat::rfc3339_beijing(*order.paid_at);
    body["payer"] = {{"openid", order.payer_openid.empty() ? simulated_openid(order.app_id)
                                                           : order.payer_openid}};
    body["amount"]["payer_total"] = order.total;
    body["amount"]["payer_currency"] = "CNY";
  }
  return body;
}

std::map<std::string, std::string> WechatRoutes::v2_order(const SimOrder& order) {
  const std::string state = wechat_trade_state(order);
  std::map<std::string, std::string> fields = {
      {"return_code", "SUCCESS"},
      {"result_code", "SUCCESS"},
      {"out_trade_no", order.out_trade_no},
      {"trade_state", state},
      {"trade_state_desc", order.failure.empty() ? state : order.failure}};
  // As WeChat Pay does, the payment's details only once it was paid.
  if (order.state == SimOrder::State::paid) {
    fields["transaction_id"] = order.transaction_id;
    fields["total_fee"] = std::to_string(order.total);
    fields["cash_fee"] = std::to_string(order.total);
    fields["fee_type"] = "CNY";
    fields["trade_type"] = trade_type(order.channel);
    fields["bank_type"] = "OTHERS";
    fields["is_subscribe"] = "N";
    fields["openid"] =
        order.payer_openid.empty() ? simulated_openid(order.app_id) : order.payer_openid;
    fields["time_end"] = wechat::v2_time_beijing(*order.paid_at);
  }
  return fields;
}

SimResponse WechatRoutes::handle(const SimRequest& request, const std::string& path) {
  if (is_v2_path(path))
    return request.method == "POST" ? v2(request, path)
                                    : wechat_error(405, "METHOD_NOT_ALLOWED", "POST only");
  if (auto refused = refuse_unsigned(request)) return *refused;
  const bool post = request.method == "POST";
  for (const std::string kind : {"native", "jsapi", "h5"})
    if (post && path == "/v3/pay/transactions/" + kind) return create(request, kind);
  if (post && path == "/v3/pay/transactions/codepay") return codepay(request);
  if (post && path == "/v3/refund/domestic/refunds") return refund(request);
  const std::string by_number = "/v3/pay/transactions/out-trade-no/";
  if (auto no = segment(path, by_number, "/close"); post && no) return close(request, *no);
  if (auto no = segment(path, by_number, "/reverse"); post && no) return reverse(*no);
  if (auto no = segment(path, by_number, ""); !post && no) return query(*no);
  if (auto no = segment(path, "/v3/refund/domestic/refunds/", ""); !post && no)
    return refund_query(*no);
  return wechat_error(404, "NOT_FOUND", "no such WeChat Pay endpoint: " + path);
}

// Authorization: WECHATPAY2-SHA256-RSA2048 … checked as WeChat does (401 SIGN_ERROR otherwise).
std::optional<SimResponse> WechatRoutes::refuse_unsigned(const SimRequest& request) {
  const auto header = request.headers.find("authorization");
  if (header == request.headers.end())
    return wechat_error(401, "SIGN_ERROR", "缺少Authorization / Authorization missing");
  const auto items = wechat::parse_authorization(header->second);
  if (!items) return wechat_error(401, "SIGN_ERROR", "Authorization格式错误 / malformed");
  if (items->mchid != sim.keys_.mch_id)
    return wechat_error(401, "SIGN_ERROR", "商户号不存在 / unknown mchid");
  if (items->serial_no != sim.keys_.merchant_serial)
    return wechat_error(401, "SIGN_ERROR", "证书序列号错误 / unknown serial_no");
  long long seconds = 0;
  try {
    seconds = std::stoll(items->timestamp);
  } catch (const std::exception&) {
    return wechat_error(401, "SIGN_ERROR", "时间戳错误 / bad timestamp");
  }
  const auto now =
      std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
  if (seconds < now - 300 || seconds > now + 300)
    return wechat_error(401, "SIGN_ERROR", "时间戳过期 / timestamp outside 5 minutes");
  if (!sim.merchant_key_.verify_sha256(
          wechat::request_message(request.method, request.target, items->timestamp,
                                  items->nonce_str, request.body),
          items->signature))
    return wechat_error(401, "SIGN_ERROR", "签名错误 / signature does not verify");
  return std::nullopt;
}

SimResponse WechatRoutes::signed_json(int status, const std::string& body) {
  SimResponse response{status, "application/json", {}, body};
  response.headers =
      wechat::sign_answer(sim.wechat_pay_key_, sim.keys_.wechat_pay_serial, body, Clock::now());
  return response;
}

// POST /v3/pay/transactions/{native,jsapi,h5}
SimResponse WechatRoutes::create(const SimRequest& request, const std::string& kind) {
  const json body = json::parse(request.body, nullptr, false);
  if (!body.is_object())
    return wechat_error(400, "PARAM_ERROR", "请求体不是JSON / body is not JSON");
  const std::string out_trade_no = text(body, "out_trade_no");
  const auto total = amount_total(body);
  if (text(body, "appid") != sim.keys_.wechat_app_id || text(body, "mchid") != sim.keys_.mch_id)
    return wechat_error(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配");
  if (!valid_out_trade_no(out_trade_no))
    return wechat_error(400, "PARAM_ERROR", "out_trade_no 格式错误 / 6-32 chars [0-9A-Za-z_-|*]");
  if (!total) return wechat_error(400, "PARAM_ERROR", "amount.total 错误 / bad amount");
  const std::string description = text(body, "description");
  if (description.empty() || description.size() > 127 * 3)
    return wechat_error(400, "PARAM_ERROR", "description 错误 / bad description");
  const std::string notify_url = text(body, "notify_url");
  if (!payments::parse_url(notify_url))
    return wechat_error(400, "PARAM_ERROR", "notify_url 错误 / bad notify_url");
  std::optional<Clock::time_point> expires;
  if (body.contains("time_expire")) {
    expires = wechat::parse_rfc3339(text(body, "time_expire"));
    if (!expires) return wechat_error(400, "PARAM_ERROR", "time_expire 格式错误");
  }
  std::string openid;
  if (kind == "jsapi") {
    if (body.contains("payer") && body["payer"].is_object()) openid = text(body["payer"], "openid");
    if (openid.empty()) return wechat_error(400, "PARAM_ERROR", "payer.openid 缺失");
  }
  if (SimOrder* existing = sim.find("wechat", out_trade_no)) {
    if (existing->state == SimOrder::State::paid)
      return wechat_error(400, "ORDERPAID", "该订单已支付 / order already paid");
    if (existing->state != SimOrder::State::unpaid)
      return wechat_error(400, "ORDER_CLOSED", "订单已关闭 / order closed");
    if (existing->total != *total || existing->channel != kind)
      return wechat_error(400, "INVALID_REQUEST", "订单号重复 / out_trade_no reused");
  } else {
    SimOrder order;
    order.provider = "wechat";
    order.channel = kind;
    order.out_trade_no = out_trade_no;
    order.description = description;
    order.app_id = sim.keys_.wechat_app_id;
    order.merchant_id = sim.keys_.mch_id;
    order.total = *total;
    order.notify_url = notify_url;
    order.created = Clock::now();
    order.expires_at = expires;
    sim.orders_[{"wechat", out_trade_no}] = order;
  }
  const std::string page =
      sim.public_url_ + "/sim/pay/wechat/" + payments::url_encode(out_trade_no);
  if (kind == "native") return signed_json(200, json{{"code_url", page}}.dump());
  if (kind == "h5") return signed_json(200, json{{"h5_url", page}}.dump());
  if (SimOrder* order = sim.find("wechat", out_trade_no)) order->payer_openid = openid;
  return signed_json(200, json{{"prepay_id", simulated_prepay_id(out_trade_no)}}.dump());
}

// GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=…
SimResponse WechatRoutes::query(const std::string& out_trade_no) {
  SimOrder* order = sim.find("wechat", out_trade_no);
  if (!order) return wechat_error(404, "ORDER_NOT_EXIST", "订单不存在");
  ++order->queries["v3"];
  return signed_json(200, transaction(*order).dump());
}

// POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close
SimResponse WechatRoutes::close(const SimRequest& request, const std::string& out_trade_no) {
  const json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || text(body, "mchid") != sim.keys_.mch_id)
    return wechat_error(400, "PARAM_ERROR", "mchid 错误");
  SimOrder* order = sim.find("wechat", out_trade_no);
  if (!order) return wechat_error(404, "ORDER_NOT_EXIST", "订单不存在");
  if (order->state == SimOrder::State::paid)
    return wechat_error(400, "ORDERPAID", "订单已支付 / order already paid");
  if (order->state == SimOrder::State::unpaid || order->state == SimOrder::State::paying)
    order->state = SimOrder::State::closed;
  return signed_json(204, "");
}

// POST /v3/pay/transactions/out-trade-no/{out_trade_no}/reverse: a paid code payment is
// refunded, an unpaid one closed.
SimResponse WechatRoutes::reverse(const std::string& out_trade_no) {
  SimOrder* order = sim.find("wechat", out_trade_no);
  if (!order) return wechat_error(404, "ORDER_NOT_EXIST", "订单不存在");
  if (order->state == SimOrder::State::paid && order->refunded == 0) order->refunded = order->total;
  if (order->state != SimOrder::State::paid) order->state = SimOrder::State::reversed;
  return signed_json(200, "{}");
}

// POST /v3/pay/transactions/codepay: 18-digit codes 10–15…; …0000 asks for a password first
// (USERPAYING, paid a few seconds later), …9999 has no money.
SimResponse WechatRoutes::codepay(const SimRequest& request) {
  const json body = json::parse(request.body, nullptr, false);
  if (!body.is_object()) return wechat_error(400, "PARAM_ERROR", "请求体不是JSON");
  if (text(body, "appid") != sim.keys_.wechat_app_id || text(body, "mchid") != sim.keys_.mch_id)
    return wechat_error(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配");
  const std::string out_trade_no = text(body, "out_trade_no");
  const auto total = amount_total(body);
  std::string auth_code;
  if (body.contains("payer") && body["payer"].is_object())
    auth_code = text(body["payer"], "auth_code");
  if (!valid_out_trade_no(out_trade_no) || !total)
    return wechat_error(400, "PARAM_ERROR", "out_trade_no 或 amount 错误");
  if (!is_wechat_code(auth_code))
    return wechat_error(400, "PARAM_ERROR", "付款码无效 / not a WeChat payment code");
  if (SimOrder* existing = sim.find("wechat", out_trade_no)) {
    if (existing->state == SimOrder::State::paid)
      return signed_json(200, transaction(*existing).dump());
    return wechat_error(400, "INVALID_REQUEST", "订单号重复 / out_trade_no reused");
  }
  SimOrder order;
  order.provider = "wechat";
  order.channel = "codepay";
  order.out_trade_no = out_trade_no;
  order.description = text(body, "description");
  order.app_id = sim.keys_.wechat_app_id;
  order.merchant_id = sim.keys_.mch_id;
  order.total = *total;
  order.created = Clock::now();
  SimOrder& stored = sim.orders_[{"wechat", out_trade_no}] = order;
  if (auth_code.ends_with("9999")) {
    stored.state = SimOrder::State::failed;
    stored.failure = "NOT_ENOUGH";
    return wechat_error(403, "NOT_ENOUGH", "用户余额不足 / balance not enough");
  }
  if (auth_code.ends_with("0000")) {
    stored.state = SimOrder::State::paying;
    stored.completes_at = Clock::now() + std::chrono::seconds(5);
    return wechat_error(202, "USERPAYING", "需要用户输入支付密码 / waiting for the password");
  }
  sim.mark_paid(stored, Clock::now());
  return signed_json(200, transaction(stored).dump());
}

// POST /v3/refund/domestic/refunds: one refund per out_refund_no.
SimResponse WechatRoutes::refund(const SimRequest& request) {
  const json body = json::parse(request.body, nullptr, false);
  if (!body.is_object() || !body.contains("amount") || !body["amount"].is_object())
    return wechat_error(400, "PARAM_ERROR", "请求体错误");
  const json& amount = body["amount"];
  const std::string out_refund_no = text(body, "out_refund_no");
  if (out_refund_no.empty() || !amount.contains("refund") ||
      !amount["refund"].is_number_integer() || !amount.contains("total") ||
      !amount["total"].is_number_integer())
    return wechat_error(400, "PARAM_ERROR", "out_refund_no / amount.refund / amount.total 缺失");
  SimOrder* order = sim.find("wechat", text(body, "out_trade_no"));
  if (!order) return wechat_error(404, "RESOURCE_NOT_EXISTS", "订单不存在");
  auto answer = [&](const SimRefund& refund) {
    return signed_json(200, json{{"refund_id", refund.refund_id},
                                 {"out_refund_no", refund.out_refund_no},
                                 {"transaction_id", order->transaction_id},
                                 {"out_trade_no", order->out_trade_no},
                                 {"channel", "ORIGINAL"},
                                 {"user_received_account", "支付用户零钱"},
                                 {"status", "SUCCESS"},
                                 {"create_time", wechat::rfc3339_beijing(refund.at)},
                                 {"success_time", wechat::rfc3339_beijing(refund.at)},
                                 {"amount",
                                  {{"refund", refund.amount},
                                   {"total", order->total},
                                   {"currency", "CNY"},
                                   {"payer_refund", refund.amount},
                                   {"payer_total", order->total}}}}
                                .dump());
  };
  for (const SimRefund& earlier : order->refunds)
    if (earlier.out_refund_no == out_refund_no) return answer(earlier);
  if (order->state != SimOrder::State::paid)
    return wechat_error(400, "INVALID_REQUEST", "订单未支付 / order not paid");
  const auto refund_fen = amount["refund"].get<std::int64_t>();
  if (amount["total"].get<std::int64_t>() != order->total)
    return wechat_error(400, "INVALID_REQUEST", "订单金额不一致 / amount.total differs");
  if (refund_fen <= 0 || refund_fen > order->total - order->refunded)
    return wechat_error(403, "NOT_ENOUGH", "可退金额不足 / more than what is left");
  SimRefund refund{out_refund_no,
                   "5030" + std::to_string(100000000 + order->refunds.size()) +
                       order->transaction_id.substr(0, 8),
                   refund_fen, Clock::now()};
  order->refunds.push_back(refund);
  order->refunded += refund_fen;
  return answer(refund);
}

// GET /v3/refund/domestic/refunds/{out_refund_no}
SimResponse WechatRoutes::refund_query(const std::string& out_refund_no) {
  for (auto& [key, order] : sim.orders_)
    for (const SimRefund& refund : order.refunds)
      if (key.first == "wechat" && refund.out_refund_no == out_refund_no)
        return signed_json(200,
                           json{{"refund_id", refund.refund_id},
                                {"out_refund_no", refund.out_refund_no},
                                {"out_trade_no", order.out_trade_no},
                                {"status", "SUCCESS"},
                                {"amount", {{"refund", refund.amount}, {"total", order.total}}}}
                               .dump());
  return wechat_error(404, "RESOURCE_NOT_EXISTS", "退款单不存在");
}

// POST /pay/micropay, /pay/orderquery and /secapi/pay/reverse (v2 XML, MD5 or HMAC-SHA256 with
// the APIv2 key; the answer signed the same way as the request).
SimResponse WechatRoutes::v2(const SimRequest& request, const std::string& path) {
  bool hmac = false;
  auto xml_answer = [&](std::map<std::string, std::string> fields) {
    fields["appid"] = sim.keys_.wechat_app_id;
    fields["mch_id"] = sim.keys_.mch_id;
    fields["nonce_str"] = payments::random_token(16);
    fields["sign"] = wechat::v2_sign(fields, sim.keys_.api_v2_key, hmac);
    return SimResponse{200, "text/xml; charset=utf-8", {}, wechat::v2_xml(fields)};
  };
  auto fail = [](const std::string& message) {
    return SimResponse{200,
                       "text/xml; charset=utf-8",
                       {},
                       wechat::v2_xml({{"return_code", "FAIL"}, {"return_msg", message}})};
  };
  auto fields = wechat::parse_v2_xml(request.body);
  if (!fields) return fail("XML格式错误");
  hmac = (*fields)["sign_type"] == "HMAC-SHA256";
  if ((*fields)["mch_id"] != sim.keys_.mch_id || (*fields)["appid"] != sim.keys_.wechat_app_id)
    return fail("appid和mch_id不匹配");
  if (!payments::constant_time_equal((*fields)["sign"],
                                     wechat::v2_sign(*fields, sim.keys_.api_v2_key, hmac)))
    return fail("签名错误");
  const std::string out_trade_no = (*fields)["out_trade_no"];
  if (path == "/pay/orderquery") {
    SimOrder* order = sim.find("wechat", out_trade_no);
    if (!order)
      return xml_answer({{"return_code", "SUCCESS"},
                         {"result_code", "FAIL"},
                         {"err_code", "ORDERNOTEXIST"},
                         {"err_code_des", "此交易订单号不存在"}});
    ++order->queries["v2"];
    return xml_answer(v2_order(*order));
  }
  if (path == "/secapi/pay/reverse") {
    SimOrder* order = sim.find("wechat", out_trade_no);
    if (!order)
      return xml_answer(
          {{"return_code", "SUCCESS"}, {"result_code", "FAIL"}, {"err_code", "ORDERNOTEXIST"}});
    if (order->state == SimOrder::State::paid && order->refunded == 0)
      order->refunded = order->total;
    if (order->state != SimOrder::State::paid) order->state = SimOrder::State::reversed;
    return xml_answer({{"return_code", "SUCCESS"}, {"result_code", "SUCCESS"}, {"recall", "N"}});
  }
  std::int64_t total = 0;
  try {
    total = std::stoll((*fields)["total_fee"]);
  } catch (const std::exception&) {
  }
  const std::string auth_code = (*fields)["auth_code"];
  if (!valid_out_trade_no(out_trade_no) || total <= 0 || total > kMaxTotal ||
      !is_wechat_code(auth_code))
    return xml_answer({{"return_code", "SUCCESS"},
                       {"result_code", "FAIL"},
                       {"err_code", "PARAM_ERROR"},
                       {"err_code_des", "参数错误"}});
  if (sim.find("wechat", out_trade_no))
    return xml_answer(
        {{"return_code", "SUCCESS"}, {"result_code", "FAIL"}, {"err_code", "OUT_TRADE_NO_USED"}});
  SimOrder order;
  order.provider = "wechat";
  order.channel = "micropay";
  order.out_trade_no = out_trade_no;
  order.description = (*fields)["body"];
  order.app_id = sim.keys_.wechat_app_id;
  order.merchant_id = sim.keys_.mch_id;
  order.total = total;
  order.created = Clock::now();
  SimOrder& stored = sim.orders_[{"wechat", out_trade_no}] = order;
  if (auth_code.ends_with("9999")) {
    stored.state = SimOrder::State::failed;
    stored.failure = "NOTENOUGH";
    return xml_answer({{"return_code", "SUCCESS"},
                       {"result_code", "FAIL"},
                       {"err_code", "NOTENOUGH"},
                       {"err_code_des", "余额不足"}});
  }
  if (auth_code.ends_with("0000")) {
    stored.state = SimOrder::State::paying;
    stored.completes_at = Clock::now() + std::chrono::seconds(5);
    return xml_answer({{"return_code", "SUCCESS"},
                       {"result_code", "FAIL"},
                       {"err_code", "USERPAYING"},
                       {"err_code_des", "需要用户输入支付密码"}});
  }
  sim.mark_paid(stored, Clock::now());
  return xml_answer({{"return_code", "SUCCESS"},
                     {"result_code", "SUCCESS"},
                     {"out_trade_no", out_trade_no},
                     {"transaction_id", stored.transaction_id},
                     {"total_fee", std::to_string(total)},
                     {"fee_type", "CNY"},
                     {"trade_type", "MICROPAY"}});
}

}  // namespace yizhan::paysim
