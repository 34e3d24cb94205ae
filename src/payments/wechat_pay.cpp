// WeChat Pay API v3 as a Provider: signed JSON requests over a Transport, verified answers,
// notifications checked and decrypted, code payments through v3 codepay or v2 micropay (polled
// with v2 orderquery).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <string_view>

#include "yizhan/domain/text.hpp"
#include "yizhan/payments/form.hpp"
#include "yizhan/payments/transport.hpp"
#include "yizhan/payments/wechat_pay_protocol.hpp"

namespace yizhan::payments {
namespace {

using nlohmann::json;
using Kind = ProviderError::Kind;

std::string unix_seconds(Clock::time_point now) {
  return std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
}

std::string text(const json& object, const char* name) {
  const auto at = object.find(name);
  return at != object.end() && at->is_string() ? at->get<std::string>() : std::string{};
}

/// A 付款码 charge's refusals (v3 codepay, v2 micropay) that are the payer's or the request's
/// final no: no money moved. Any other (ORDERPAID, OUT_TRADE_NO_USED, a code new to us) says
/// nothing sure about the money: only a query does.
bool payer_declined(std::string_view code) {
  static constexpr std::string_view kDeclines[] = {
      "AUTH_CODE_INVALID",
      "AUTH_CODE_ERROR",
      "AUTHCODEEXPIRE",
      "NOT_ENOUGH",
      "NOTENOUGH",
      "NOTSUPORTCARD",
      "BUYER_MISMATCH",
      "PARAM_ERROR",
      "INVALID_REQUEST",
      "ORDERCLOSED",
      "ORDER_CLOSED",
      "ORDERREVERSED",
      "NOAUTH",
      "NO_AUTH",
      "RULE_LIMIT",
      "TRADE_ERROR",
      "ACCOUNT_ERROR",
      "PAYER_ACCOUNT_ABNORMAL",
      "APPID_MCHID_NOT_MATCH",
      "MCH_NOT_EXISTS",
      "MCHID_NOT_EXIST",
      "APPID_NOT_EXIST",
      "SIGN_ERROR",
      "SIGNERROR",
      "LACK_PARAMS",
  };
  return std::find(std::begin(kDeclines), std::end(kDeclines), code) != std::end(kDeclines);
}

bool has_expiry(Clock::time_point at) {
  return at.time_since_epoch().count() != 0;
}

class WechatPay final : public Provider {
 public:
  WechatPay(const WechatPaySettings& settings, std::shared_ptr<Transport> transport)
      : settings_(settings),
        merchant_key_(PrivateKey::parse(settings.merchant_private_key)),
        platform_key_(PublicKey::parse(settings.platform_public_key)),
        transport_(std::move(transport)) {
    for (std::string* url :
         {&settings_.base_url, &settings_.sign_in_base_url, &settings_.sns_base_url})
      while (url->ends_with('/'))
        url->pop_back();
    if (settings_.api_v3_key.size() != 32)
      throw CryptoError("the WeChat Pay APIv3 key must be 32 characters");
  }

  std::string name() const override { return "wechat"; }

  // POST /v3/pay/transactions/{native,jsapi,h5}
  PaymentStart start(const PaymentRequest& request) override {
    json body = order_body(request);
    std::string path;
    switch (request.channel) {
      case Channel::wechat_native: path = "/v3/pay/transactions/native"; break;
      case Channel::wechat_jsapi:
        if (!request.payer_openid || request.payer_openid->empty())
          throw ProviderError(Kind::refused, "JSAPI needs the payer's openid", "PARAM_ERROR");
        path = "/v3/pay/transactions/jsapi";
        body["payer"] = {{"openid", *request.payer_openid}};
        break;
      case Channel::wechat_h5:
        path = "/v3/pay/transactions/h5";
        body["scene_info"] = {{"payer_client_ip", request.client_ip},
                              {"h5_info", {{"type", "Wap"}}}};
        break;
      default: throw ProviderError(Kind::refused, "WeChat Pay cannot collect through this channel");
    }
    const json answer = parse(call("POST", path, body.dump()));
    PaymentStart start;
    if (request.channel == Channel::wechat_native) {
      start.qr_content = required(answer, "code_url");
    } else if (request.channel == Channel::wechat_h5) {
      start.redirect_url = required(answer, "h5_url");
    } else {
      start.jsapi =
          wechat::jsapi_parameters(merchant_key_, settings_.app_id, required(answer, "prepay_id"),
                                   unix_seconds(Clock::now()), random_token(32));
    }
    return start;
  }

  // GET /v3/pay/transactions/out-trade-no/{out_trade_no}?mchid=…
  PaymentState query(const std::string& out_trade_no) override {
    const HttpResponse response =
        exchange("GET",
                 "/v3/pay/transactions/out-trade-no/" + url_encode(out_trade_no) +
                     "?mchid=" + url_encode(settings_.mch_id),
                 "");
    if (response.status == 404 && error_code(response) == "ORDER_NOT_EXIST") {
      PaymentState state;
      state.out_trade_no = out_trade_no;
      state.raw_state = "ORDER_NOT_EXIST";
      return state;
    }
    return wechat::parse_transaction(checked(response));
  }

  // POST /v3/pay/transactions/out-trade-no/{out_trade_no}/close
  void close(const std::string& out_trade_no) override {
    call("POST", "/v3/pay/transactions/out-trade-no/" + url_encode(out_trade_no) + "/close",
         json{{"mchid", settings_.mch_id}}.dump());
  }

  // POST /v3/refund/domestic/refunds (WeChat keys refunds by out_refund_no: a retry is one refund)
  RefundState refund(const RefundRequest& request) override {
    json body = {{"out_trade_no", request.out_trade_no},
                 {"out_refund_no", request.out_refund_no},
                 {"amount",
                  {{"refund", request.refund.value()},
                   {"total", request.total.value()},
                   {"currency", "CNY"}}}};
    // WeChat takes at most 80 characters of reason (the payer sees it); ours may be longer.
    if (!request.reason.empty())
      body["reason"] = std::string(domain::truncate_characters(request.reason, 80));
    if (!settings_.notify_url.empty()) body["notify_url"] = settings_.notify_url;
    const json answer = parse(call("POST", "/v3/refund/domestic/refunds", body.dump()));
    RefundState state;
    state.refund_id = text(answer, "refund_id");
    state.raw_state = text(answer, "status");
    if (state.raw_state == "SUCCESS")
      state.state = RefundState::State::succeeded;
    else if (state.raw_state == "PROCESSING")
      state.state = RefundState::State::processing;
    else
      state.state = RefundState::State::failed;  // CLOSED, ABNORMAL
    return state;
  }

  // GET /v3/refund/domestic/refunds/{out_refund_no}
  RefundState query_refund(const std::string& /*out_trade_no*/,
                           const std::string& out_refund_no) override {
    const HttpResponse response =
        exchange("GET", "/v3/refund/domestic/refunds/" + url_encode(out_refund_no), "");
    RefundState state;
    if (response.status == 404 && error_code(response) == "RESOURCE_NOT_EXISTS") {
      state.state = RefundState::State::failed;
      state.raw_state = "NOT_FOUND";
      return state;
    }
    const json answer = parse(checked(response));
    if (text(answer, "out_refund_no") != out_refund_no)
      throw ProviderError(Kind::bad_answer, "WeChat Pay answered about another refund");
    state.refund_id = text(answer, "refund_id");
    state.raw_state = text(answer, "status");
    state.state = state.raw_state == "SUCCESS"      ? RefundState::State::succeeded
                  : state.raw_state == "PROCESSING" ? RefundState::State::processing
                                                    : RefundState::State::failed;
    return state;
  }

  PaymentState verify_notification(const Notification& notification,
                                   Clock::time_point now) override {
    if (auto why = wechat::check_signature(notification.headers, notification.body, platform_key_,
                                           settings_.platform_serial, now))
      throw RejectedNotification("WeChat Pay notification refused: " + *why);
    const auto envelope = wechat::open_notification(notification.body, settings_.api_v3_key);
    try {
      if (envelope.original_type == "refund" || envelope.event_type.starts_with("REFUND.")) {
        const json refund = json::parse(envelope.plaintext);
        PaymentState state;
        state.out_trade_no = text(refund, "out_trade_no");
        state.transaction_id = text(refund, "transaction_id");
        state.merchant_id = text(refund, "mchid");
        state.raw_state = text(refund, "refund_status");
        // A refund that closed or went wrong leaves the payment as it was: never "paid" news.
        state.state = state.raw_state == "SUCCESS" ? PaymentState::State::refunded
                                                   : PaymentState::State::failed;
        return state;
      }
      return wechat::parse_transaction(envelope.plaintext);
    } catch (const std::exception& error) {
      throw RejectedNotification(std::string("WeChat Pay notification unreadable: ") +
                                 error.what());
    }
  }

  std::pair<int, std::string> notification_answer(bool accepted) const override {
    // A refusal is a 5xx so that WeChat sends it again: it may have failed on our side.
    if (accepted) return {200, R"({"code":"SUCCESS"})"};
    return {500, R"({"code":"FAIL","message":"失败"})"};
  }

  PaymentState pay_with_code(const std::string& out_trade_no, const std::string& auth_code,
                             domain::Fen amount, const std::string& description) override {
    if (settings_.code_pay_v2) return micropay(out_trade_no, auth_code, amount, description);
    // POST /v3/pay/transactions/codepay
    json body = {{"appid", settings_.app_id},
                 {"mchid", settings_.mch_id},
                 {"description", description},
                 {"out_trade_no", out_trade_no},
                 {"payer", {{"auth_code", auth_code}}},
                 {"amount", {{"total", amount.value()}, {"currency", "CNY"}}},
                 {"scene_info", {{"store_info", {{"out_id", "yizhan"}}}}}};
    const HttpResponse response = exchange("POST", "/v3/pay/transactions/codepay", body.dump());
    const std::string code = error_code(response);
    if (code == "USERPAYING" || response.status == 202) {
      PaymentState state;
      state.state = PaymentState::State::paying;
      state.out_trade_no = out_trade_no;
      state.raw_state = "USERPAYING";
      return state;
    }
    // A bank or system error says nothing about the payment: only a query tells (WeChat's
    // advice for both), so it is no answer rather than a refusal.
    if (code == "SYSTEM_ERROR" || code == "BANK_ERROR" || code == "BANKERROR")
      throw ProviderError(Kind::unreachable, "WeChat Pay codepay: " + code, code);
    if (response.status >= 400 && response.status != 401 && !code.empty()) {
      if (!payer_declined(code))
        throw ProviderError(Kind::refused, "WeChat Pay codepay refused: " + code, code);
      PaymentState state;  // the payer's side said no: no money moved
      state.state = PaymentState::State::failed;
      state.out_trade_no = out_trade_no;
      state.raw_state = code;
      return state;
    }
    return ours(wechat::parse_transaction(checked(response)));
  }

  // POST /pay/orderquery (v2) for codes charged through v2 micropay, else the v3 query
  PaymentState query_code(const std::string& out_trade_no) override {
    if (!settings_.code_pay_v2) return ours(query(out_trade_no));
    return ours(wechat::parse_v2_order(v2_call("/pay/orderquery", {{"out_trade_no", out_trade_no}}),
                                       out_trade_no));
  }

  /// A 付款码 answer about another merchant or app is no answer about our trade: the counter has
  /// no attention flag to raise, so it is refused here and the charge stays unknown (polled,
  /// then reversed) rather than taken as paid. Online orders compare in the service, which
  /// records and flags a mismatch.
  PaymentState ours(PaymentState state) const {
    if (!state.merchant_id.empty() && state.merchant_id != settings_.mch_id)
      throw ProviderError(Kind::bad_answer,
                          "WeChat Pay answered for merchant " + state.merchant_id.substr(0, 40));
    if (!state.app_id.empty() && !settings_.app_id.empty() && state.app_id != settings_.app_id)
      throw ProviderError(Kind::bad_answer,
                          "WeChat Pay answered for app " + state.app_id.substr(0, 40));
    return state;
  }

  // POST /v3/pay/transactions/out-trade-no/{out_trade_no}/reverse, or v2 /secapi/pay/reverse
  void reverse(const std::string& out_trade_no) override {
    if (settings_.code_pay_v2) {
      auto answer = v2_call("/secapi/pay/reverse", {{"out_trade_no", out_trade_no}});
      // recall=Y: WeChat asks for the reverse again, so it is not done yet.
      if (answer["recall"] == "Y")
        throw ProviderError(Kind::unreachable, "WeChat Pay v2 reverse: call again (recall=Y)");
      // Not reversed (ORDERNOTEXIST, REVERSE_EXPIRE …): only a query tells what became of it.
      if (answer["result_code"] != "SUCCESS")
        throw ProviderError(Kind::refused, "WeChat Pay v2 reverse refused: " + answer["err_code"],
                            answer["err_code"]);
      return;
    }
    call("POST", "/v3/pay/transactions/out-trade-no/" + url_encode(out_trade_no) + "/reverse",
         json{{"appid", settings_.app_id}, {"mchid", settings_.mch_id}}.dump());
  }

  // 网页授权: BASE/connect/oauth2/authorize?…&scope=snsapi_base…#wechat_redirect
  std::string sign_in_url(const std::string& state) const override {
    if (settings_.app_secret.empty() || settings_.sign_in_redirect_url.empty()) return {};
    return wechat::sign_in_url(settings_.sign_in_base_url, settings_.app_id,
                               settings_.sign_in_redirect_url, state);
  }

  // GET SNS/sns/oauth2/access_token?appid=…&secret=…&code=…&grant_type=authorization_code
  std::string openid_for_code(const std::string& code) override {
    if (settings_.app_secret.empty())
      throw ProviderError(Kind::refused, "no WeChat official account secret configured");
    HttpRequest request;
    request.method = "GET";
    request.url = settings_.sns_base_url +
                  wechat::sns_access_token_path(settings_.app_id, settings_.app_secret, code);
    request.headers["Accept"] = "application/json";
    request.headers["User-Agent"] = "Yizhan/0.1";
    const HttpResponse response = transport_->send(request, settings_.timeout);
    if (response.status >= 500 || response.status == 0)
      throw ProviderError(Kind::unreachable,
                          "WeChat sign-in answered " + std::to_string(response.status));
    return wechat::parse_sns_openid(response.body);
  }

 private:
  json order_body(const PaymentRequest& request) const {
    json body = {{"appid", settings_.app_id},
                 {"mchid", settings_.mch_id},
                 {"description", request.description},
                 {"out_trade_no", request.out_trade_no},
                 {"notify_url", settings_.notify_url},
                 {"amount", {{"total", request.amount.value()}, {"currency", "CNY"}}}};
    if (has_expiry(request.expires_at))
      body["time_expire"] = wechat::rfc3339_beijing(request.expires_at);
    return body;
  }

  // One signed exchange; transport failures and 5xx are `unreachable`.
  HttpResponse exchange(const std::string& method, const std::string& path,
                        const std::string& body) {
    HttpRequest request;
    request.method = method;
    request.url = settings_.base_url + path;
    request.body = body;
    request.headers["Authorization"] =
        wechat::sign_request(merchant_key_, settings_.mch_id, settings_.merchant_serial, method,
                             path, body, unix_seconds(Clock::now()), random_token(32));
    request.headers["Accept"] = "application/json";
    if (method != "GET") request.headers["Content-Type"] = "application/json";
    request.headers["User-Agent"] = "Yizhan/0.1";
    HttpResponse response = transport_->send(request, settings_.timeout);
    // 5xx, and 429 (FREQUENCY_LIMITED: too many requests now), say nothing about the request:
    // asked again later, never taken as a refusal of it.
    if (response.status >= 500 || response.status == 429)
      throw ProviderError(Kind::unreachable,
                          "WeChat Pay answered " + std::to_string(response.status),
                          error_code(response));
    return response;
  }

  // A 2xx answer whose signature verifies, or a ProviderError.
  std::string checked(const HttpResponse& response) {
    if (response.status < 200 || response.status >= 300) {
      const json error = json::parse(response.body, nullptr, false);
      const std::string message = error.is_object() ? text(error, "message") : response.body;
      throw ProviderError(
          Kind::refused,
          "WeChat Pay refused (" + std::to_string(response.status) + "): " + message.substr(0, 200),
          error_code(response));
    }
    if (auto why = wechat::check_signature(response.headers, response.body, platform_key_,
                                           settings_.platform_serial, Clock::now()))
      throw ProviderError(Kind::bad_answer, "WeChat Pay answer not trusted: " + *why);
    return response.body;
  }

  std::string call(const std::string& method, const std::string& path, const std::string& body) {
    return checked(exchange(method, path, body));
  }

  static std::string error_code(const HttpResponse& response) {
    const json error = json::parse(response.body, nullptr, false);
    return error.is_object() ? text(error, "code") : std::string{};
  }

  static json parse(const std::string& body) {
    json document = json::parse(body, nullptr, false);
    if (!document.is_object())
      throw ProviderError(Kind::bad_answer, "WeChat Pay answered no JSON object");
    return document;
  }

  static std::string required(const json& answer, const char* field) {
    std::string value = text(answer, field);
    if (value.empty())
      throw ProviderError(Kind::bad_answer, std::string("WeChat Pay answer lacks ") + field);
    return value;
  }

  // The v2 XML API (micropay, orderquery, reverse): MD5-signed with the APIv2 key, and so is
  // the answer, whose sign is checked before its result is read.
  std::map<std::string, std::string> v2_call(const std::string& path,
                                             std::map<std::string, std::string> fields) {
    fields["appid"] = settings_.app_id;
    fields["mch_id"] = settings_.mch_id;
    fields["nonce_str"] = random_token(32);
    fields["sign"] = wechat::v2_sign(fields, settings_.api_v2_key, false);
    HttpRequest request;
    request.method = "POST";
    request.url = settings_.base_url + path;
    request.body = wechat::v2_xml(fields);
    request.headers["Content-Type"] = "text/xml; charset=utf-8";
    const HttpResponse response = transport_->send(request, settings_.timeout);
    if (response.status >= 500 || response.status == 0)
      throw ProviderError(Kind::unreachable,
                          "WeChat Pay answered " + std::to_string(response.status));
    auto answer = wechat::parse_v2_xml(response.body);
    if (!answer) throw ProviderError(Kind::bad_answer, "WeChat Pay v2 answered no XML");
    if ((*answer)["return_code"] != "SUCCESS")
      throw ProviderError(Kind::refused, "WeChat Pay v2 refused: " + (*answer)["return_msg"]);
    const auto sign = answer->find("sign");
    if (sign == answer->end() ||
        !constant_time_equal(sign->second, wechat::v2_sign(*answer, settings_.api_v2_key, false)))
      throw ProviderError(Kind::bad_answer, "WeChat Pay v2 answer not trusted: bad sign");
    // SYSTEMERROR and BANKERROR say nothing about the payment: WeChat's advice is to query.
    if (const auto& error = (*answer)["err_code"];
        (*answer)["result_code"] != "SUCCESS" && (error == "SYSTEMERROR" || error == "BANKERROR"))
      throw ProviderError(Kind::unreachable, "WeChat Pay v2: " + error, error);
    return *answer;
  }

  // POST /pay/micropay (v2)
  PaymentState micropay(const std::string& out_trade_no, const std::string& auth_code,
                        domain::Fen amount, const std::string& description) {
    auto answer = v2_call("/pay/micropay", {{"body", description},
                                            {"out_trade_no", out_trade_no},
                                            {"total_fee", std::to_string(amount.value())},
                                            {"spbill_create_ip", "127.0.0.1"},
                                            {"auth_code", auth_code}});
    PaymentState state;
    state.out_trade_no = out_trade_no;
    state.merchant_id = answer["mch_id"];
    state.app_id = answer["appid"];
    if (answer["result_code"] == "SUCCESS") {
      if (answer["out_trade_no"] != out_trade_no)
        throw ProviderError(Kind::bad_answer,
                            "WeChat Pay v2 micropay answered about another trade");
      ours(state);
      state.state = PaymentState::State::paid;
      state.raw_state = "SUCCESS";
      state.transaction_id = answer["transaction_id"];
      const std::string& total = answer["total_fee"];
      std::int64_t fen = 0;
      if (auto [end, error] = std::from_chars(total.data(), total.data() + total.size(), fen);
          error == std::errc{} && end == total.data() + total.size())
        state.amount = domain::Fen(fen);
      return state;
    }
    state.raw_state = answer["err_code"];
    if (state.raw_state != "USERPAYING" && !payer_declined(state.raw_state))
      throw ProviderError(Kind::refused, "WeChat Pay v2 micropay refused: " + state.raw_state,
                          state.raw_state);
    state.state =
        state.raw_state == "USERPAYING" ? PaymentState::State::paying : PaymentState::State::failed;
    return state;
  }

  WechatPaySettings settings_;
  PrivateKey merchant_key_;
  PublicKey platform_key_;
  std::shared_ptr<Transport> transport_;
};

}  // namespace

std::unique_ptr<Provider> make_wechat_pay(const WechatPaySettings& settings,
                                          std::shared_ptr<Transport> transport) {
  return std::make_unique<WechatPay>(settings, std::move(transport));
}

std::unique_ptr<Provider> make_wechat_pay(const WechatPaySettings& settings) {
  return make_wechat_pay(settings, make_https_transport());
}

}  // namespace yizhan::payments
