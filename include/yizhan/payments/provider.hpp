// The one interface behind which WeChat Pay, Alipay and the payment simulator sit (issue 9).
// Services speak only this; the providers' signatures, JSON, forms and HTTPS stay in payments/.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "yizhan/domain/money.hpp"

namespace yizhan::payments {

using Clock = std::chrono::system_clock;

/// How the customer pays online: WeChat Native (QR on a desktop), JSAPI (inside WeChat), H5
/// (another phone browser); Alipay precreate (QR) or wap pay (phone browser).
enum class Channel { wechat_native, wechat_jsapi, wechat_h5, alipay_qr, alipay_wap };

/// What a merchant asks a provider to collect.
struct PaymentRequest {
  std::string out_trade_no;  ///< our order number (unique per merchant)
  domain::Fen amount;
  std::string description;  ///< shown to the payer, e.g. "驿站订单 20261202-0001"
  Channel channel = Channel::wechat_native;
  std::optional<std::string> payer_openid;  ///< JSAPI only
  std::string client_ip;                    ///< H5 / wap: the payer's address
  Clock::time_point expires_at;             ///< time_expire / timeout_express
};

/// The JSAPI parameters the page hands to WeixinJSBridge (paySign over them).
struct JsapiParameters {
  std::string app_id, time_stamp, nonce_str, package, sign_type, pay_sign;
};

/// What the page shows to collect a payment: a QR to scan, a page to go to, or JSAPI parameters.
struct PaymentStart {
  std::optional<std::string> qr_content;    ///< WeChat code_url / Alipay qr_code
  std::optional<std::string> redirect_url;  ///< WeChat h5_url / Alipay wap page
  std::optional<JsapiParameters> jsapi;
};

/// A payment's state as the provider reports it (query, notification, code pay).
struct PaymentState {
  enum class State { not_paid, paying, paid, closed, refunded, failed };
  State state = State::not_paid;
  std::string out_trade_no;
  std::string transaction_id;  ///< the provider's id, empty until paid
  std::string merchant_id;     ///< mchid / seller_id (+ app id) the provider says it paid to
  std::string app_id;
  std::optional<domain::Fen> amount;  ///< total the payer paid, when known (and readable)
  std::string currency = "CNY";       ///< of the amount, as the provider said
  std::optional<Clock::time_point> paid_at;
  std::string raw_state;  ///< SUCCESS, NOTPAY, USERPAYING, TRADE_SUCCESS … for the log
};

struct RefundRequest {
  std::string out_trade_no;
  std::string out_refund_no;  ///< ours, unique: a retry with the same one is one refund
  domain::Fen refund;
  domain::Fen total;  ///< the whole payment's amount, as WeChat requires
  std::string reason;
};

struct RefundState {
  enum class State { processing, succeeded, failed };
  State state = State::processing;
  std::string refund_id;  ///< the provider's
  std::string raw_state;
};

/// An incoming notification exactly as it arrived: headers by lower-case name, raw body.
struct Notification {
  std::map<std::string, std::string> headers;
  std::string body;
};

/// Why a call to a provider failed. `unreachable` (timeout, connection refused, 5xx) means the
/// outcome is unknown and the caller must query; `refused` means the provider said no.
struct ProviderError : std::runtime_error {
  enum class Kind { unreachable, refused, bad_answer };
  Kind kind;
  std::string provider_code;  ///< e.g. ORDERPAID, ACQ.TRADE_HAS_SUCCESS
  ProviderError(Kind k, const std::string& message, std::string code = {})
      : std::runtime_error(message), kind(k), provider_code(std::move(code)) {}
};

/// A notification that failed verification: forged or unknown signature, stale timestamp,
/// undecryptable resource, malformed body. Nothing may change when this is thrown.
struct RejectedNotification : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// One payment provider (WeChat Pay v3, Alipay). Thread-safe; calls block on the network
/// with the configured timeouts, so run them on worker threads.
class Provider {
 public:
  virtual ~Provider() = default;
  /// "wechat" or "alipay".
  virtual std::string name() const = 0;
  /// Creates the provider's order and returns what the page shows.
  virtual PaymentStart start(const PaymentRequest& request) = 0;
  /// Asks the provider for the payment's state (on a timeout, or a sweep before expiring).
  virtual PaymentState query(const std::string& out_trade_no) = 0;
  /// Closes an unpaid payment so it can no longer be paid (expiry, cancellation).
  virtual void close(const std::string& out_trade_no) = 0;
  /// Refunds part or all of a paid payment; idempotent on out_refund_no.
  virtual RefundState refund(const RefundRequest& request) = 0;
  /// What became of a refund asked with `out_refund_no` (WeChat: GET /v3/refund/domestic/
  /// refunds/{no}; Alipay: alipay.trade.fastpay.refund.query): succeeded or processing, or
  /// failed with raw_state NOT_FOUND when the provider never made it. Throws ProviderError
  /// when it cannot tell. For a retried refund whose first answer was lost, a refusal of the
  /// retry alone does not prove that nothing was refunded; this does.
  virtual RefundState query_refund(const std::string& out_trade_no,
                                   const std::string& out_refund_no) {
    (void)out_trade_no;
    (void)out_refund_no;
    throw ProviderError(ProviderError::Kind::unreachable, name() + " cannot look up refunds");
  }
  /// Verifies a payment notification (signature, timestamp within 5 minutes of `now`,
  /// decryption) and returns what it says; throws RejectedNotification otherwise.
  virtual PaymentState verify_notification(const Notification& notification,
                                           Clock::time_point now) = 0;
  /// The HTTP status and body the provider expects in answer to a notification.
  virtual std::pair<int, std::string> notification_answer(bool accepted) const = 0;
  /// Counter 付款码: charges the payer's scanned code. Returns paid, paying (the payer is
  /// entering a password: poll with query_code), or failed.
  virtual PaymentState pay_with_code(const std::string& out_trade_no, const std::string& auth_code,
                                     domain::Fen amount, const std::string& description) = 0;
  /// Cancels a code payment whose outcome never came (撤销 / reverse).
  virtual void reverse(const std::string& out_trade_no) = 0;
  /// Asks for a counter code payment's state through the API that charged it (WeChat v2
  /// micropay is polled with v2 orderquery); `query` for the providers with one API.
  virtual PaymentState query_code(const std::string& out_trade_no) { return query(out_trade_no); }

  /// JSAPI needs the payer's openid, which only a WeChat sign-in (网页授权, snsapi_base) gives:
  /// where to send the payer's browser to sign in, coming back to the configured redirect with
  /// `?code=…&state=state`. Empty when this provider cannot sign payers in (not configured).
  virtual std::string sign_in_url(const std::string& state) const {
    (void)state;
    return {};
  }
  /// Exchanges a sign-in's code for the payer's openid (one use per code). Throws
  /// ProviderError: refused for a bad or used code, unreachable when the outcome is unknown.
  virtual std::string openid_for_code(const std::string& code) {
    (void)code;
    throw ProviderError(ProviderError::Kind::refused, name() + " cannot sign payers in");
  }
};

/// Where and how to reach a provider, and the merchant's keys (read from files outside the repo).
struct WechatPaySettings {
  std::string base_url = "https://api.mch.weixin.qq.com";
  std::string mch_id, app_id;
  std::string merchant_serial;       ///< serial number of the merchant's API certificate
  std::string merchant_private_key;  ///< PEM
  std::string api_v3_key;            ///< 32 bytes
  std::string
      platform_public_key;      ///< PEM: platform certificate's key or the WeChat Pay public key
  std::string platform_serial;  ///< its serial / public key id (PUB_KEY_ID_…)
  std::string notify_url;
  bool code_pay_v2 = false;  ///< counter codes through v2 micropay/orderquery/reverse (XML, MD5)
  std::string api_v2_key;
  // JSAPI (inside WeChat): the official account's secret for 网页授权, WeChat's sign-in and API
  // hosts, and where WeChat sends the payer back (our GET /api/v1/payments/wechat/sign-in).
  std::string app_secret;
  std::string sign_in_base_url = "https://open.weixin.qq.com";
  std::string sns_base_url = "https://api.weixin.qq.com";
  std::string sign_in_redirect_url;
  std::chrono::milliseconds timeout{5000};
};

struct AlipaySettings {
  std::string gateway_url = "https://openapi.alipay.com/gateway.do";
  std::string app_id, seller_id;
  std::string app_private_key;    ///< PEM
  std::string alipay_public_key;  ///< PEM
  std::string notify_url;
  std::string return_url;
  std::chrono::milliseconds timeout{5000};
};

std::unique_ptr<Provider> make_wechat_pay(const WechatPaySettings& settings);
std::unique_ptr<Provider> make_alipay(const AlipaySettings& settings);

}  // namespace yizhan::payments
