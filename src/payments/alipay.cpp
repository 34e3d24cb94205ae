// Alipay as a Provider: RSA2-signed gateway calls over a Transport, the signed node of every
// answer verified, asynchronous notifications verified over their sorted fields.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <iterator>
#include <string_view>

#include "yizhan/payments/alipay_protocol.hpp"
#include "yizhan/payments/form.hpp"
#include "yizhan/payments/transport.hpp"

namespace yizhan::payments {
namespace {

using nlohmann::json;
using Kind = ProviderError::Kind;

std::string text(const json& object, const char* name) {
  const auto at = object.find(name);
  return at != object.end() && at->is_string() ? at->get<std::string>() : std::string{};
}

bool has_expiry(Clock::time_point at) {
  return at.time_since_epoch().count() != 0;
}

bool trade_missing(const json& node) {
  return text(node, "sub_code") == "ACQ.TRADE_NOT_EXIST";
}

/// A 付款码 charge's refusals that are the payer's final no: the code, the account or its
/// balance. Any other refusal (ACQ.TRADE_HAS_SUCCESS, ACQ.CONTEXT_INCONSISTENT, a code new to
/// us) says nothing sure about the money: only a query does.
bool payer_declined(std::string_view sub_code) {
  static constexpr std::string_view kDeclines[] = {
      "ACQ.PAYMENT_AUTH_CODE_INVALID",
      "ACQ.BUYER_BALANCE_NOT_ENOUGH",
      "ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH",
      "ACQ.BUYER_ENABLE_STATUS_FORBID",
      "ACQ.BUYER_SELLER_EQUAL",
      "ACQ.BUYER_PAYMENT_AMOUNT_DAY_LIMIT_ERROR",
      "ACQ.BUYER_PAYMENT_AMOUNT_MONTH_LIMIT_ERROR",
      "ACQ.BEYOND_PAY_RESTRICTION",
      "ACQ.BEYOND_PER_RECEIPT_RESTRICTION",
      "ACQ.ERROR_BUYER_CERTIFY_LEVEL_LIMIT",
      "ACQ.PAYMENT_FAIL",
      "ACQ.PAYMENT_REQUEST_HAS_RISK",
      "ACQ.NO_PAYMENT_INSTRUMENTS_AVAILABLE",
      "ACQ.TRADE_BUYER_NOT_MATCH",
      "ACQ.TOTAL_FEE_EXCEED",
  };
  return std::find(std::begin(kDeclines), std::end(kDeclines), sub_code) != std::end(kDeclines);
}

// The fields a trade answer or notification carries, as a PaymentState (state left to caller).
PaymentState trade_fields(const json& node) {
  PaymentState state;
  state.out_trade_no = text(node, "out_trade_no");
  state.transaction_id = text(node, "trade_no");
  state.raw_state = text(node, "trade_status");
  if (auto amount = alipay::parse_amount(text(node, "total_amount"))) state.amount = amount;
  if (auto paid = alipay::parse_beijing_time(text(node, "gmt_payment"))) state.paid_at = paid;
  return state;
}

class Alipay final : public Provider {
 public:
  Alipay(const AlipaySettings& settings, std::shared_ptr<Transport> transport)
      : settings_(settings),
        app_key_(PrivateKey::parse(settings.app_private_key)),
        alipay_key_(PublicKey::parse(settings.alipay_public_key)),
        transport_(std::move(transport)) {}

  std::string name() const override { return "alipay"; }

  PaymentStart start(const PaymentRequest& request) override {
    json biz = {{"out_trade_no", request.out_trade_no},
                {"total_amount", request.amount.format()},
                {"subject", request.description}};
    if (has_expiry(request.expires_at))
      biz["time_expire"] = alipay::beijing_time(request.expires_at);
    PaymentStart start;
    if (request.channel == Channel::alipay_qr) {
      // alipay.trade.precreate: the shop shows the QR, the payer scans it
      const json node = call("alipay.trade.precreate", biz.dump(), settings_.notify_url);
      start.qr_content = text(node, "qr_code");
      if (start.qr_content->empty())
        throw ProviderError(Kind::bad_answer, "Alipay precreate answer lacks qr_code");
    } else if (request.channel == Channel::alipay_wap) {
      // alipay.trade.wap.pay is a page: the payer's browser goes to the gateway with the
      // signed parameters, no call from here.
      biz["product_code"] = "QUICK_WAP_WAY";
      // Backing out returns to the order's page: the return_url names out_trade_no as Alipay's
      // return does (the page finds the order and this browser's token from it).
      if (!settings_.return_url.empty())
        biz["quit_url"] = settings_.return_url +
                          (settings_.return_url.find('?') == std::string::npos ? "?" : "&") +
                          "out_trade_no=" + request.out_trade_no;
      const auto fields =
          alipay::signed_request(app_key_, settings_.app_id, "alipay.trade.wap.pay", biz.dump(),
                                 settings_.notify_url, settings_.return_url, Clock::now());
      start.redirect_url = settings_.gateway_url + "?" + build_form(fields);
    } else {
      throw ProviderError(Kind::refused, "Alipay cannot collect through this channel");
    }
    return start;
  }

  // alipay.trade.query
  PaymentState query(const std::string& out_trade_no) override {
    const json node = call("alipay.trade.query", json{{"out_trade_no", out_trade_no}}.dump(), "",
                           /*missing_is_answer=*/true);
    if (trade_missing(node)) {
      // A precreated trade exists at Alipay only once the payer has scanned the code.
      PaymentState state;
      state.out_trade_no = out_trade_no;
      state.raw_state = "ACQ.TRADE_NOT_EXIST";
      return state;
    }
    PaymentState state = trade_fields(node);
    const auto known = alipay::state_of(state.raw_state);
    if (!known)
      throw ProviderError(Kind::bad_answer,
                          "Alipay answered an unknown trade_status '" + state.raw_state + "'");
    state.state = *known;
    // trade.query names neither: the answer to our own signed question is about our trade.
    state.app_id = settings_.app_id;
    if (state.merchant_id.empty()) state.merchant_id = settings_.seller_id;
    return state;
  }

  // alipay.trade.close (a trade nobody scanned does not exist, and its code expires by itself)
  void close(const std::string& out_trade_no) override {
    call("alipay.trade.close", json{{"out_trade_no", out_trade_no}}.dump(), "",
         /*missing_is_answer=*/true);
  }

  // alipay.trade.refund, out_request_no = our out_refund_no: Alipay refunds once per number
  RefundState refund(const RefundRequest& request) override {
    json biz = {{"out_trade_no", request.out_trade_no},
                {"refund_amount", request.refund.format()},
                {"out_request_no", request.out_refund_no}};
    if (!request.reason.empty()) biz["refund_reason"] = request.reason;
    const json node = call("alipay.trade.refund", biz.dump(), "");
    RefundState state;
    state.state = RefundState::State::succeeded;
    state.refund_id = request.out_refund_no;
    state.raw_state = "fund_change=" + text(node, "fund_change");
    return state;
  }

  // alipay.trade.fastpay.refund.query: an answer without refund_amount is a refund never made.
  RefundState query_refund(const std::string& out_trade_no,
                           const std::string& out_refund_no) override {
    const json node =
        call("alipay.trade.fastpay.refund.query",
             json{{"out_trade_no", out_trade_no}, {"out_request_no", out_refund_no}}.dump(), "",
             /*missing_is_answer=*/true);
    RefundState state;
    state.refund_id = out_refund_no;
    const std::string status = text(node, "refund_status");
    if (trade_missing(node) || (text(node, "refund_amount").empty() && status.empty())) {
      state.state = RefundState::State::failed;
      state.raw_state = "NOT_FOUND";
      return state;
    }
    if (!status.empty() && status != "REFUND_SUCCESS")
      throw ProviderError(Kind::bad_answer, "Alipay answered refund_status '" + status + "'");
    state.state = RefundState::State::succeeded;
    state.raw_state = "REFUND_SUCCESS";
    return state;
  }

  PaymentState verify_notification(const Notification& notification,
                                   Clock::time_point /*now*/) override {
    const auto form = parse_form(notification.body);
    if (!form) throw RejectedNotification("Alipay notification is not a form");
    std::map<std::string, std::string> fields;
    for (auto& [name, value] : *form)
      if (!fields.emplace(name, value).second)
        throw RejectedNotification("Alipay notification repeats field " + name);
    if (!alipay::verify_notification(fields, alipay_key_))
      throw RejectedNotification("Alipay notification signature does not verify");
    json node(fields);
    PaymentState state = trade_fields(node);
    state.merchant_id = fields["seller_id"];
    state.app_id = fields["app_id"];
    const auto known = alipay::state_of(state.raw_state);
    if (!known) throw RejectedNotification("Alipay notification without a known trade_status");
    state.state = *known;
    return state;
  }

  std::pair<int, std::string> notification_answer(bool accepted) const override {
    return {200, accepted ? "success" : "fail"};
  }

  // alipay.trade.pay with scene bar_code
  PaymentState pay_with_code(const std::string& out_trade_no, const std::string& auth_code,
                             domain::Fen amount, const std::string& description) override {
    json biz = {{"out_trade_no", out_trade_no},    {"scene", "bar_code"},
                {"auth_code", auth_code},          {"subject", description},
                {"total_amount", amount.format()}, {"timeout_express", "2m"}};
    const json node = call("alipay.trade.pay", biz.dump(), settings_.notify_url,
                           /*missing_is_answer=*/false, /*refusal_is_answer=*/true);
    const std::string code = text(node, "code");
    if (code != "10000" && code != "10003" && !payer_declined(text(node, "sub_code")))
      throw ProviderError(Kind::refused,
                          "Alipay refused: " + text(node, "msg") + " " + text(node, "sub_msg"),
                          text(node, "sub_code").empty() ? code : text(node, "sub_code"));
    PaymentState state = trade_fields(node);
    state.out_trade_no = out_trade_no;
    state.app_id = settings_.app_id;
    if (code == "10000") {
      state.state = PaymentState::State::paid;
      state.raw_state = "TRADE_SUCCESS";
    } else if (code == "10003") {
      state.state = PaymentState::State::paying;
      state.raw_state = "WAIT_BUYER_PAY";
    } else {
      state.state = PaymentState::State::failed;
      state.raw_state = text(node, "sub_code");
    }
    return state;
  }

  // alipay.trade.cancel: closes an unpaid trade, refunds a paid one
  void reverse(const std::string& out_trade_no) override {
    call("alipay.trade.cancel", json{{"out_trade_no", out_trade_no}}.dump(), "");
  }

 private:
  // One gateway call; returns the verified response node. Code 20000 and 5xx are unreachable;
  // other business failures throw refused unless the caller asked to see them.
  json call(const std::string& method, const std::string& biz_content,
            const std::string& notify_url, bool missing_is_answer = false,
            bool refusal_is_answer = false) {
    const auto fields = alipay::signed_request(app_key_, settings_.app_id, method, biz_content,
                                               notify_url, "", Clock::now());
    HttpRequest request;
    request.method = "POST";
    request.url = settings_.gateway_url;
    request.headers["Content-Type"] = "application/x-www-form-urlencoded;charset=utf-8";
    request.headers["User-Agent"] = "Yizhan/0.1";
    request.body = build_form(fields);
    const HttpResponse response = transport_->send(request, settings_.timeout);
    if (response.status >= 500)
      throw ProviderError(Kind::unreachable, "Alipay answered " + std::to_string(response.status));
    if (response.status != 200)
      throw ProviderError(Kind::bad_answer, "Alipay answered " + std::to_string(response.status));
    const auto signed_node = alipay::find_signed_node(response.body, method);
    if (!signed_node) throw ProviderError(Kind::bad_answer, "Alipay answer has no response node");
    json node = json::parse(signed_node->node, nullptr, false);
    if (!node.is_object()) throw ProviderError(Kind::bad_answer, "Alipay answer is not JSON");
    const std::string code = text(node, "code");
    // The gateway leaves some refusals (bad app_id, bad signature) unsigned; a success never.
    if (signed_node->sign.empty()
            ? code == "10000" || code == "10003"
            : !alipay_key_.verify_sha256(signed_node->node, signed_node->sign))
      throw ProviderError(Kind::bad_answer, "Alipay answer not trusted: bad or missing sign");
    if (code == "10000" || code == "10003") return node;
    // 20000 (service unavailable) and 40004 ACQ.SYSTEM_ERROR are Alipay's "unknown: ask again"
    // (query the trade, or repeat the same request number): never a refusal of it.
    if (code == "20000" || text(node, "sub_code") == "ACQ.SYSTEM_ERROR")
      throw ProviderError(Kind::unreachable, "Alipay: " + text(node, "sub_msg"),
                          text(node, "sub_code"));
    if ((missing_is_answer && trade_missing(node)) || refusal_is_answer) return node;
    throw ProviderError(Kind::refused,
                        "Alipay refused: " + text(node, "msg") + " " + text(node, "sub_msg"),
                        text(node, "sub_code").empty() ? code : text(node, "sub_code"));
  }

  AlipaySettings settings_;
  PrivateKey app_key_;
  PublicKey alipay_key_;
  std::shared_ptr<Transport> transport_;
};

}  // namespace

std::unique_ptr<Provider> make_alipay(const AlipaySettings& settings,
                                      std::shared_ptr<Transport> transport) {
  return std::make_unique<Alipay>(settings, std::move(transport));
}

std::unique_ptr<Provider> make_alipay(const AlipaySettings& settings) {
  return make_alipay(settings, make_https_transport());
}

}  // namespace yizhan::payments
