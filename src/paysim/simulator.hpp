// The payment simulator's logic: WeChat Pay v3 (and v2 micropay) and the Alipay gateway as a
// merchant sees them, orders in memory, payment pages and test controls. A request in, a
// response out: no sockets here (server.cpp carries them), notifications go to a Notifier.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "keys.hpp"
#include "yizhan/payments/crypto.hpp"

namespace yizhan::paysim {

using Clock = std::chrono::system_clock;

struct SimRequest {
  std::string method;                          ///< "GET", "POST"
  std::string target;                          ///< path and query as sent
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string body;
};

struct SimResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  std::string body;
};

/// A notification to deliver: POST `body` to `url` until `acknowledged` says so.
struct Delivery {
  std::string provider, out_trade_no;
  std::string url;
  std::map<std::string, std::string> headers;
  std::string body;
  /// WeChat: any 2xx; Alipay: the body is exactly "success".
  std::function<bool(int status, const std::string& body)> acknowledged;
};

/// Where the simulator hands its notifications (notifier.cpp delivers with retries).
using Deliver = std::function<void(Delivery)>;

struct SimRefund {
  std::string out_refund_no, refund_id;
  std::int64_t amount = 0;
  Clock::time_point at;
};

struct SimOrder {
  enum class State { unpaid, paying, paid, closed, reversed, failed };
  std::string provider;  ///< "wechat" or "alipay"
  std::string channel;   ///< native, jsapi, h5, codepay, micropay, precreate, wap, barcode
  std::string out_trade_no, transaction_id, description;
  std::string app_id, merchant_id;
  std::int64_t total = 0, refunded = 0;
  State state = State::unpaid;
  std::string failure;  ///< provider code when failed
  std::string notify_url, return_url;
  std::string payer_openid;  ///< JSAPI: who pays
  Clock::time_point created;
  std::optional<Clock::time_point> expires_at, paid_at, completes_at;
  std::vector<SimRefund> refunds;
  int notifications_sent = 0, notifications_acknowledged = 0;
  std::map<std::string, int> queries;  ///< queries about it by API ("v3", "v2"), for tests
};

class Simulator {
 public:
  /// `public_url` is how browsers reach this simulator (for code_url, h5_url, qr_code).
  Simulator(SimKeys keys, std::string public_url, Deliver deliver);

  /// Answers one request; never throws (a bad request is a 4xx, a bug a 500).
  SimResponse handle(const SimRequest& request);
  /// Completes code payments whose payer has "entered the password" by now.
  void tick(Clock::time_point now);
  /// The notifier's report on one delivery.
  void delivered(const std::string& provider, const std::string& out_trade_no, bool acknowledged);

 private:
  friend struct WechatRoutes;
  friend struct AlipayRoutes;

  SimResponse route(const SimRequest& request);
  SimResponse control_pay(const SimRequest& request);
  SimResponse list_orders();
  SimResponse pay_page(const std::string& provider, const std::string& out_trade_no, bool pay_now);
  // 网页授权 and the WeChat client's JSAPI payment (wechat_sign_in.cpp).
  SimResponse sign_in(const SimRequest& request);
  SimResponse sns_access_token(const SimRequest& request);
  SimResponse jsapi_pay(const SimRequest& request);

  // With mutex_ held.
  SimOrder* find(const std::string& provider, const std::string& out_trade_no);
  void settle(SimOrder& order, Clock::time_point now);  ///< expire, complete pending codes
  /// Paid; its notification is sent unless `notify` is false (a notification lost on the way).
  void mark_paid(SimOrder& order, Clock::time_point now, bool notify = true);
  void notify_paid(const SimOrder& order, Clock::time_point now);

  SimKeys keys_;
  std::string public_url_;
  Deliver deliver_;
  payments::PrivateKey wechat_pay_key_, alipay_key_;
  payments::PublicKey merchant_key_, alipay_app_key_;
  std::mutex mutex_;
  std::map<std::pair<std::string, std::string>, SimOrder> orders_;
  std::uint64_t sequence_ = 0;
  struct SignIn {
    std::string openid;
    Clock::time_point expires;
  };
  std::map<std::string, SignIn> sign_in_codes_;  ///< one use each, 5 minutes
};

/// The openid of the simulated payer for an app (stable, like WeChat's per-app openid).
std::string simulated_openid(const std::string& app_id);
/// The JSAPI prepay_id the simulator gives an order.
std::string simulated_prepay_id(const std::string& out_trade_no);

/// WeChat's trade_state and Alipay's trade_status for an order.
std::string wechat_trade_state(const SimOrder& order);
std::string alipay_trade_status(const SimOrder& order);

/// A JSON error body {"code","message"} with a status.
SimResponse wechat_error(int status, const std::string& code, const std::string& message);

/// The HTML payment page and its result.
std::string render_pay_page(const SimOrder& order, const std::string& pay_action,
                            const std::string& return_link);

}  // namespace yizhan::paysim
