// Simulated 网页授权 (WeChat's silent snsapi_base sign-in inside its browser) and the WeChat
// client's side of a JSAPI payment: what a payer's phone does between our order page and the
// WeChat Pay servers, so that JSAPI runs end to end on one machine.
#include <nlohmann/json.hpp>

#include "routes.hpp"
#include "yizhan/payments/form.hpp"

namespace yizhan::paysim {
namespace {

using nlohmann::json;

constexpr auto kCodeLifetime = std::chrono::minutes(5);

/// WeChat answers the SNS API's errors with HTTP 200 and {"errcode","errmsg"}.
SimResponse sns_error(int errcode, const std::string& errmsg) {
  return SimResponse{
      200, "application/json", {}, json{{"errcode", errcode}, {"errmsg", errmsg}}.dump()};
}

std::map<std::string, std::string> query_of(const std::string& target) {
  std::map<std::string, std::string> fields;
  const auto question = target.find('?');
  if (question == std::string::npos) return fields;
  std::string query = target.substr(question + 1);
  if (const auto hash = query.find('#'); hash != std::string::npos) query.resize(hash);
  if (const auto parsed = payments::parse_form(query))
    for (const auto& [name, value] : *parsed)
      fields.emplace(name, value);
  return fields;
}

}  // namespace

std::string simulated_openid(const std::string& app_id) {
  // 28 characters like WeChat's: "o" + a stable value per app.
  return ("oSim" + payments::hex_lower(app_id) + "000000000000000000000000").substr(0, 28);
}

std::string simulated_prepay_id(const std::string& out_trade_no) {
  return "wx" + payments::hex_lower(out_trade_no).substr(0, 30);
}

// GET /connect/oauth2/authorize?appid=…&redirect_uri=…&response_type=code&scope=snsapi_base
// &state=…: WeChat signs the payer in without asking (snsapi_base) and sends the browser back.
SimResponse Simulator::sign_in(const SimRequest& request) {
  auto fields = query_of(request.target);
  if (fields["appid"] != keys_.wechat_app_id)
    return SimResponse{400, "text/plain; charset=utf-8", {}, "appid 错误 / unknown appid\n"};
  if (fields["response_type"] != "code" ||
      (fields["scope"] != "snsapi_base" && fields["scope"] != "snsapi_userinfo"))
    return SimResponse{400,
                       "text/plain; charset=utf-8",
                       {},
                       "scope 或 response_type 错误 / bad scope or response_type\n"};
  const std::string redirect = fields["redirect_uri"];
  if (!payments::parse_url(redirect))
    return SimResponse{400, "text/plain; charset=utf-8", {}, "redirect_uri 错误\n"};
  const std::string& state = fields["state"];
  if (state.size() > 128)
    return SimResponse{400, "text/plain; charset=utf-8", {}, "state 过长 / state too long\n"};
  const auto now = Clock::now();
  std::erase_if(sign_in_codes_, [now](const auto& entry) { return entry.second.expires < now; });
  const std::string code = payments::random_token(32);
  sign_in_codes_[code] = SignIn{simulated_openid(keys_.wechat_app_id), now + kCodeLifetime};
  const std::string location = redirect + (redirect.find('?') == std::string::npos ? "?" : "&") +
                               "code=" + code + "&state=" + payments::url_encode(state);
  SimResponse response{302, "text/plain; charset=utf-8", {}, "\n"};
  response.headers["Location"] = location;
  return response;
}

// GET /sns/oauth2/access_token?appid=…&secret=…&code=…&grant_type=authorization_code
SimResponse Simulator::sns_access_token(const SimRequest& request) {
  auto fields = query_of(request.target);
  if (fields["appid"] != keys_.wechat_app_id) return sns_error(40013, "invalid appid");
  if (keys_.wechat_app_secret.empty() ||
      !payments::constant_time_equal(fields["secret"], keys_.wechat_app_secret))
    return sns_error(40125, "invalid appsecret");
  if (fields["grant_type"] != "authorization_code") return sns_error(40002, "invalid grant_type");
  const auto at = sign_in_codes_.find(fields["code"]);
  if (at == sign_in_codes_.end() || at->second.expires < Clock::now())
    return sns_error(40029, "invalid code");
  const SignIn signed_in = at->second;
  sign_in_codes_.erase(at);  // one use, as WeChat's codes
  return SimResponse{200,
                     "application/json",
                     {},
                     json{{"access_token", payments::random_token(64)},
                          {"expires_in", 7200},
                          {"refresh_token", payments::random_token(64)},
                          {"openid", signed_in.openid},
                          {"scope", "snsapi_base"}}
                         .dump()};
}

// POST /sim/jsapi {appId, timeStamp, nonceStr, package, signType, paySign}: what WeChat's
// getBrandWCPayRequest does with the page's parameters. The paySign is verified against the
// merchant's key as WeChat does, then the payer confirms and the order is paid (and notified).
SimResponse Simulator::jsapi_pay(const SimRequest& request) {
  const json body = json::parse(request.body, nullptr, false);
  const auto field = [&body](const char* name) {
    const auto at = body.is_object() ? body.find(name) : body.end();
    return body.is_object() && at != body.end() && at->is_string() ? at->get<std::string>()
                                                                   : std::string{};
  };
  if (field("appId") != keys_.wechat_app_id)
    return SimResponse{400,
                       "application/json",
                       {},
                       json{{"err_msg", "get_brand_wcpay_request:fail"}, {"why", "appId"}}.dump()};
  if (field("signType") != "RSA" ||
      !merchant_key_.verify_sha256(field("appId") + "\n" + field("timeStamp") + "\n" +
                                       field("nonceStr") + "\n" + field("package") + "\n",
                                   field("paySign")))
    return SimResponse{
        400,
        "application/json",
        {},
        json{{"err_msg", "get_brand_wcpay_request:fail"}, {"why", "paySign"}}.dump()};
  const std::string package = field("package");
  SimOrder* paying = nullptr;
  for (auto& [key, order] : orders_)
    if (order.provider == "wechat" && order.channel == "jsapi" &&
        package == "prepay_id=" + simulated_prepay_id(order.out_trade_no))
      paying = find("wechat", order.out_trade_no);
  if (!paying)
    return SimResponse{
        404,
        "application/json",
        {},
        json{{"err_msg", "get_brand_wcpay_request:fail"}, {"why", "prepay_id"}}.dump()};
  if (paying->state != SimOrder::State::unpaid)
    return SimResponse{
        409,
        "application/json",
        {},
        json{{"err_msg", "get_brand_wcpay_request:fail"}, {"why", wechat_trade_state(*paying)}}
            .dump()};
  mark_paid(*paying, Clock::now());
  return SimResponse{200,
                     "application/json",
                     {},
                     json{{"err_msg", "get_brand_wcpay_request:ok"},
                          {"out_trade_no", paying->out_trade_no},
                          {"openid", paying->payer_openid}}
                         .dump()};
}

}  // namespace yizhan::paysim
