// Online orders (issue 9): checkout with stock reserved in the same transaction, the customer's
// tracking token, the order's life through the domain state table, payments through WeChat Pay
// and Alipay (payments::Provider) with verified notifications, and the expiry sweep.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "yizhan/domain/access.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/order.hpp"
#include "yizhan/domain/quantity.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/accounts.hpp"
#include "yizhan/service/idempotency.hpp"

namespace yizhan::store {
class Database;
class UnitOfWork;
struct OrderRecord;
struct OrderRefundRecord;
struct OrderPaymentRecord;
}  // namespace yizhan::store
namespace yizhan::payments {
class Provider;
enum class Channel;
struct PaymentState;
}  // namespace yizhan::payments

namespace yizhan::service {

struct OrderSettings {
  domain::TimeZone zone = domain::TimeZone::shanghai();
  int unpaid_minutes = 30;
  int pickup_days = 2;
  domain::DeliveryFeeRule delivery{domain::Fen(800), domain::Fen(9900), {}};
  std::string pickup_address = "安海镇乡村联盟驿站";
  std::string pickup_hours = "每天 08:30–20:30";
  domain::CashOnPickupLimits cash_on_pickup;
};

/// A provider and the merchant it must be paid to (checked on every notification).
struct PaymentAccount {
  payments::Provider* provider = nullptr;
  std::string merchant_id;  ///< WeChat mch_id / Alipay seller_id (empty: not checked)
  std::string app_id;
};

struct CheckoutLine {
  std::int64_t product_id = 0;
  std::int64_t quantity = 0;
};

struct CheckoutRequest {
  std::vector<CheckoutLine> lines;
  std::string fulfilment;  ///< pickup, delivery
  std::string contact_name;
  std::string contact_phone;
  std::optional<std::string> address_area;
  std::optional<std::string> address_detail;
  std::string note;
  std::string payment;  ///< wechat, alipay, cash_on_pickup
  std::optional<std::int64_t> expected_total_fen;
  std::string client_address;  ///< who sent it (counted for cash-on-pickup limits)
};

struct OrderLine {
  int line_no = 0;
  std::int64_t product_id = 0;
  std::string name;
  std::int64_t village_id = 0;
  std::string village_name;
  domain::Unit unit = domain::Unit::piece;
  std::int64_t quantity = 0;
  domain::Fen unit_price;
  domain::Fen gross;
  std::int64_t refunded_quantity = 0;  ///< held by refunds succeeded or in progress (staff)
  /// A component line of a gift box: the box, its name, how many boxes, the box's first line.
  /// Refunding any line of a box refunds that many boxes of every line of it.
  std::optional<std::int64_t> bundle_product_id;
  std::string bundle_name;
  std::int64_t bundle_quantity = 0;
  int bundle_group = 0;
};

struct OrderHistoryEntry {
  std::string state;
  std::string by;
  std::string note;
  std::int64_t at = 0;
};

struct OrderPayment {
  std::string provider;
  std::string channel;
  std::optional<std::string> qr_content;
  std::optional<std::string> redirect_url;
  std::optional<std::string> jsapi;  ///< JSON text of the JSAPI parameters
  std::string state;
};

struct OrderRefundLine {
  int line_no = 0;
  std::string name;
  std::int64_t quantity = 0;
  domain::Fen gross;
  std::string stock;  ///< release (not handed over), return (brought back), none (kept)
};

/// A refund of an order, as the staff see it.
struct OrderRefund {
  std::int64_t id = 0;
  std::string out_refund_no;
  std::string method;  ///< wechat, alipay, cash
  std::string state;   ///< processing, succeeded, failed
  std::string origin;  ///< staff, cancel, late_payment
  domain::Fen goods, delivery_fee, amount;
  std::string reason;
  std::optional<std::string> failure;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> finished_at;
  std::vector<OrderRefundLine> lines;
};

/// A second trade of an order paid after the order was: its money is sent back.
struct SurplusPayment {
  std::string out_trade_no;
  std::string provider;
  std::int64_t amount_fen = 0;
  std::string state;                   ///< surplus (held, being sent back), returned
  std::optional<std::string> failure;  ///< the provider refused to send it back (asked hourly)
};

struct Order {
  std::string number;
  std::optional<std::string> token;  ///< only in the checkout's answer
  std::string state;
  std::string fulfilment;
  std::string payment_method;
  std::string contact_name;
  std::string contact_phone;
  std::optional<std::string> address_area;
  std::optional<std::string> address_detail;
  std::string note;
  domain::Fen subtotal, delivery_fee, total, paid, refunded;
  std::optional<std::string> pickup_code;  ///< to its customer and the staff
  std::optional<std::string> carrier, waybill;
  std::optional<std::int64_t> expires_at;
  std::optional<std::string> attention;  ///< for the staff only
  std::int64_t created_at = 0;
  std::vector<OrderLine> lines;
  std::vector<OrderHistoryEntry> history;
  std::optional<OrderPayment> payment;
  /// Staff only: paid − what refunds succeeded or in progress hold, and the refunds.
  std::optional<domain::Fen> refundable;
  bool delivery_fee_refunded = false;
  std::vector<OrderRefund> refunds;
  /// Staff only (set: shown): second trades paid after the order was, held or sent back.
  std::optional<std::vector<SurplusPayment>> surplus_payments;
};

struct OrderRefundLineRequest {
  int line_no = 0;
  std::int64_t quantity = 0;
  bool returned = false;  ///< handed-over goods brought back: into stock again
};

/// What the staff ask to refund: lines and/or the delivery fee, or everything left.
struct OrderRefundRequest {
  std::vector<OrderRefundLineRequest> lines;
  bool delivery_fee = false;
  bool all = false;
  std::optional<std::string> method;  ///< "original" (the provider paid with; default) or "cash"
  std::string reason;
};

struct OrderRefundResult {
  OrderRefund refund;
  Order order;
  bool replayed = false;  ///< the same Idempotency-Key asked before: its refund, as it is now
};

struct OrderPage {
  std::vector<Order> items;
  int page = 1;
  int pages = 1;
  std::int64_t total = 0;  ///< orders that pass the filter, on all pages
};

/// A payment notification's answer, as the provider expects it.
struct NotificationAnswer {
  int status = 200;
  std::string body;
};

class OrderService {
 public:
  OrderService(store::Database& database, OrderSettings settings,
               std::map<std::string, PaymentAccount> providers, int idempotency_retention_days = 7);

  [[nodiscard]] const OrderSettings& settings() const { return settings_; }
  /// The payment methods customers may choose: cash on pickup and each configured provider.
  [[nodiscard]] std::vector<std::string> payment_methods() const;

  /// Checks and prices the cart on the server, refuses 409 price_changed when the total
  /// differs from what the customer saw, reserves every line's stock (ascending product id; 409
  /// out_of_stock naming the product and what is left) and creates the order with a fresh
  /// tracking token: one transaction, idempotent on `key`.
  StoredReply checkout(const CheckoutRequest& request, const IdempotencyKey& key,
                       const std::function<StoredReply(const Order&)>& render);

  /// The order for the holder of its token (404 for a wrong number or token alike).
  Order for_customer(const std::string& number, const std::string& token);
  /// The order for the staff.
  Order for_staff(const std::string& number);
  /// Orders newest first (or `oldest_first`): of one state, and/or (`attention`) only those
  /// that need the staff.
  OrderPage list(const std::optional<std::string>& state, bool attention, int page, int page_size,
                 bool oldest_first = false);

  /// A member of staff records how what the order needed them for (`seen`: the attention text
  /// they were shown) was handled: the attention is cleared and the note kept in the order's
  /// history. An expired or cancelled order's trade still unconfirmed is taken as settled
  /// outside (checked in the merchant console). Retried after it took effect: the order as it
  /// is. 409 conflict when the order now needs something else (`attention`: what).
  Order resolve_attention(const std::string& number, const std::string& seen,
                          const std::string& note, const domain::Principal& staff);

  /// The customer cancels before payment (cash on pickup: before handover); the staff cancel
  /// any order not yet gone (a paid one is refunded). Reservations are released.
  Order cancel(const std::string& number, const std::optional<std::string>& token,
               const std::optional<domain::Principal>& staff);

  /// Staff moves: picking, ready, shipped (carrier, waybill), completed (a pickup order's code
  /// checked by check_pickup_code). The goods leave at shipped (delivery) or completed (pickup):
  /// stock sold FEFO.
  Order transition(const std::string& number, const std::string& to,
                   const std::optional<std::string>& pickup_code,
                   const std::optional<std::string>& carrier,
                   const std::optional<std::string>& waybill, const domain::Principal& staff);

  /// Asks the order's provider for a payment through `channel` (or returns the one asked
  /// before): the provider is called outside any transaction.
  Order start_payment(const std::string& number, const std::string& token,
                      const std::string& channel, const std::string& client_address);

  /// Where a WeChat sign-in starts: WeChat's address, and the nonce the browser keeps (in a
  /// cookie) to show on the way back, so that the state works only in the browser it was made
  /// for (OAuth's login CSRF: a victim's browser finishing an attacker's sign-in).
  struct WechatSignIn {
    std::string url;
    std::string browser_nonce;
  };
  /// JSAPI inside WeChat: where to send the customer's browser to sign in with WeChat (a
  /// redirect that comes back to finish_wechat_sign_in). 503 when no sign-in is configured.
  WechatSignIn wechat_sign_in(const std::string& number, const std::string& token);
  /// WeChat's redirect back with `code` and our `state`: the state is checked against the order
  /// and the browser's nonce, the code exchanged for the payer's openid and the JSAPI payment
  /// started (once). Returns the order's number, for the page to show.
  std::string finish_wechat_sign_in(const std::string& code, const std::string& state,
                                    const std::string& browser_nonce,
                                    const std::string& client_address);
  /// The order number a sign-in's state names (not yet checked against the order), when the
  /// state is well formed.
  static std::optional<std::string> order_of_sign_in_state(std::string_view state);

  /// A provider's notification: verified before anything is read from it; a verified payment
  /// of the right amount to the right merchant pays the order once.
  NotificationAnswer notify(const std::string& provider,
                            const std::map<std::string, std::string>& headers,
                            const std::string& body);

  /// The customer (token) or the staff ask whether an unpaid order's trade was paid after all
  /// (its notification late or lost): the provider is asked, at most once per order every
  /// kPaymentCheckSeconds, and a payment it confirms pays the order as its notification would.
  /// Returns the order as for_customer / for_staff do.
  Order check_payment(const std::string& number, const std::string& token, bool staff);
  static constexpr int kPaymentCheckSeconds = 5;

  /// Expired or cancelled orders whose trade was never confirmed closed (the provider did not
  /// answer, or the close failed) are asked about again: paid late, the payment is settled
  /// (the order restored, or its money sent back); unpaid, the trade is closed. Trades of
  /// orders moved more than kUnsettledDays ago are no longer asked about: those orders are
  /// flagged for the staff (需要处理) instead. Returns how many were settled or flagged.
  int settle_unsettled(int limit = 20);
  static constexpr int kUnsettledDays = 7;
  /// How often the server's sweep runs (src/main.cpp): settle_unsettled asks about one trade at
  /// most once a round, whichever process sweeps.
  static constexpr int kSweepSeconds = 20;

  /// Expires due orders (unpaid past their time, cash on pickup not collected): each its own
  /// conditional update, so several processes may sweep at once. A trade still open at the
  /// provider is asked about first (paid: the order is paid instead) and closed before its order
  /// expires. Returns how many expired.
  int expire_due(int limit = 100);

  /// Staff refund part or all of a paid order, through the provider it was paid with or in
  /// cash from the caller's open-shift drawer (idempotent on `key`). The refund is recorded
  /// `processing` in one transaction (what is left to refund is held by it), the provider is
  /// asked outside any transaction with an out_refund_no derived from the order, and a second
  /// transaction marks it `succeeded` and moves stock and journal (or `failed`, changing
  /// nothing else). A cash refund is all one transaction. An answer that never came leaves it
  /// processing for finish_refunds.
  OrderRefundResult refund(const std::string& number, const OrderRefundRequest& request,
                           const std::optional<IdempotencyKey>& key,
                           const domain::Principal& staff);

  /// The sweep: asks the provider again (same out_refund_no) about refunds left processing
  /// for `idle_seconds`, and finishes them by conditional updates, so several processes may
  /// sweep at once. Returns how many were finished (succeeded or failed).
  int finish_refunds(int limit = 50, int idle_seconds = 30);

  /// An admin records that a surplus payment (held: its return refused) was sent back by hand in
  /// the merchant console: booked as returned, the sweep stops asking. 422 naming note or
  /// out_trade_no (not a trade of this order); 409 invalid_state when it is not held; a repeat
  /// of one already returned answers the order as it is.
  Order record_surplus_returned(const std::string& number, const std::string& out_trade_no,
                                const std::string& note, const domain::Principal& staff);

  /// The sweep: sends back (again, same out_refund_no) surplus payments, a second trade of an
  /// order paid after the first, whose return was not finished for `idle_seconds`; each ended
  /// by a conditional update, so several processes may sweep at once. Returns how many ended.
  int return_surplus_payments(int limit = 50, int idle_seconds = 30);

 private:
  /// A pickup order's code before its handover, counted: 422 when wrong (details.attempts_left),
  /// 429 while locked after 5 wrong in a row. A delivery order needs none.
  void check_pickup_code(const std::string& number, const std::optional<std::string>& pickup_code);

  /// What asking the provider about a trade came to: paid (and now settled here), open (not
  /// paid, not closed), absent (no trade at the provider: a code nobody scanned, which stays
  /// payable until the order's own time), closed (or failed, or refunded there: nothing to
  /// book), flagged (paid, but the amount or merchant did not match: recorded and flagged,
  /// never paid), unanswered (unreachable: its provider is skipped for the rest of the pass),
  /// unclear (an answer that could not be read: only this trade is skipped).
  enum class TradeAnswer { paid, open, absent, closed, flagged, unanswered, unclear };
  /// A verified payment (notification or query answer) applied to its order in one
  /// transaction: paid once, checked for amount and merchant (a mismatch is recorded and
  /// flagged), a late one restored or refunded. `how` prefixes the recorded reason. False when
  /// it did not pay anything (not paid, no such payment, mismatch).
  bool settle_payment(const std::string& provider_name, const PaymentAccount& account,
                      const payments::PaymentState& paid, const std::string& how);
  /// Queries the provider about `payment`'s trade and settles it when paid.
  TradeAnswer settle_by_query(const store::OrderPaymentRecord& payment);
  /// settle_by_query, and an open trade closed at the provider (asked once more when the close
  /// is refused: paid in between). Open means the close did not get through.
  TradeAnswer resolve_trade(const store::OrderPaymentRecord& payment);
  /// Records a refund (processing; a cash one succeeds at once) of the locked `order`; its id.
  std::int64_t open_refund(store::UnitOfWork& unit, const store::OrderRecord& order,
                           const OrderRefundRequest& request, const std::string& origin,
                           const std::optional<domain::Principal>& staff);
  /// The refund's effects once certain: stock, journal, refunded_fen, the order's state.
  void apply_refund(store::UnitOfWork& unit, const store::OrderRecord& order,
                    const store::OrderRefundRecord& refund);
  /// Asks the provider about a processing refund and finishes it when the answer is certain;
  /// true when it finished.
  bool drive_refund(std::int64_t refund_id);
  /// Asks the provider to pay a surplus payment back through its own trade (out_refund_no
  /// `<out_trade_no>-D`) and books it when the answer is certain; true when it ended.
  bool return_surplus(std::int64_t payment_id);
  Order staff_view(store::UnitOfWork& unit, const store::OrderRecord& record);
  /// 409 invalid_state unless the order awaits payment (past its time too); 422 channel unless
  /// it is paid online (WeChat Pay or Alipay, either of which may start its payment).
  void require_awaiting(const Order& order) const;
  /// The configured provider; 503 unavailable when there is none.
  payments::Provider& provider_for(const std::string& provider_name) const;
  /// Asks the provider for a payment through `channel` outside any transaction and records it
  /// (once per channel: a second ask keeps the first).
  void begin_payment(const std::string& number, const std::string& channel,
                     const std::string& provider_name, payments::Channel provider_channel,
                     const std::string& client_address,
                     const std::optional<std::string>& payer_openid);

  store::Database& database_;
  OrderSettings settings_;
  std::map<std::string, PaymentAccount> providers_;
  Idempotency idempotency_;
};

}  // namespace yizhan::service
