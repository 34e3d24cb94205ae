// Online orders in MariaDB (sql/008_orders.sql): orders with their frozen lines, history,
// payments asked of providers, notifications received, and the reservation of stock.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/domain/bundle.hpp"
#include "yizhan/domain/commission.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/quantity.hpp"

namespace yizhan::store {

class UnitOfWork;

struct OrderLineRecord {
  std::int64_t id = 0;
  int line_no = 0;
  std::int64_t product_id = 0;
  std::int64_t village_id = 0;
  std::string village_name;
  std::string name;
  domain::Unit unit = domain::Unit::piece;
  std::int64_t quantity = 0;
  std::int64_t unit_price_fen = 0;
  std::int64_t gross_fen = 0;
  int commission_bps = 0;
  std::int64_t fee_fen = 0;
  std::int64_t share_fen = 0;
  /// A component line of a gift box (as on sale_lines): the box, its name, how many boxes,
  /// and the line number of the box's first line.
  std::optional<std::int64_t> bundle_product_id;
  std::string bundle_name;
  std::int64_t bundle_quantity = 0;
  int bundle_group = 0;
};

struct OrderEventRecord {
  std::string state;
  std::string by_kind;  ///< customer, staff, provider, sweep
  std::optional<std::int64_t> by_user;
  std::string note;
  std::int64_t at = 0;    ///< unix microseconds
  bool internal = false;  ///< a note by the staff for the staff: not in the customer's view
};

struct OrderPaymentRecord {
  std::int64_t id = 0;
  std::int64_t order_id = 0;
  std::string provider;  ///< wechat, alipay
  std::string channel;
  std::string out_trade_no;
  std::int64_t amount_fen = 0;
  std::string state;  ///< started, paid, closed, refunded, surplus, returned
  std::optional<std::string> transaction_id;
  std::optional<std::string> qr_content;
  std::optional<std::string> redirect_url;
  std::optional<std::string> jsapi;  ///< the JSAPI parameters as JSON text
  /// A surplus payment whose return the provider refused: why (it is asked again hourly).
  std::optional<std::string> return_failure;
};

struct OrderRecord {
  std::int64_t id = 0;
  std::string number;
  std::string token_hash;  ///< 32 bytes
  std::string state;
  std::string fulfilment;
  std::string payment_method;
  std::string contact_name;
  std::string contact_phone;
  std::string client_address;  ///< written at checkout only (not read back)
  std::optional<std::string> address_area;
  std::optional<std::string> address_detail;
  std::string note;
  std::string business_day;
  std::int64_t subtotal_fen = 0;
  std::int64_t delivery_fee_fen = 0;
  std::int64_t total_fen = 0;
  std::int64_t paid_fen = 0;
  std::int64_t refunded_fen = 0;
  std::string pickup_code;
  std::optional<std::string> carrier;
  std::optional<std::string> waybill;
  std::optional<std::int64_t> expires_at;  ///< unix microseconds
  std::optional<std::string> attention;
  std::int64_t created_at = 0;
  bool unsold_payment = false;  ///< paid after it was given up, goods gone: held for refund
  std::vector<OrderLineRecord> lines;
  std::vector<OrderEventRecord> events;
  std::optional<OrderPaymentRecord> payment;  ///< the latest one asked of a provider
};

/// A product as the online shop sells it: price, unit, village and its commission rates.
struct OrderableProduct {
  std::int64_t id = 0;
  std::string name;
  domain::Unit unit = domain::Unit::piece;
  domain::Fen price;
  domain::RatesInForce rates;  ///< the commission terms in force on the day asked
  std::int64_t village_id = 0;
  std::string village_name;
  bool offered = false;  ///< listed, shown online, its village active
  domain::ProductKind kind = domain::ProductKind::item;
};
/// The product with the commission terms in force on `day` ("YYYY-MM-DD", the order's
/// business day), in one statement.
std::optional<OrderableProduct> orderable_product(UnitOfWork& unit, std::int64_t id,
                                                  const std::string& day);

/// The register of the cashier's open shift, if any.
std::optional<std::int64_t> open_shift_register(UnitOfWork& unit, std::int64_t cashier_id);

/// Locks the checkout guard row `guard` (made on first use) until the transaction ends, so that
/// checkouts counting the same number's or address's orders run one after the other.
void lock_checkout_guard(UnitOfWork& unit, const std::string& guard);
/// Cash-on-pickup orders still holding goods unpaid (confirmed, picking, ready) for a mobile
/// number, or placed from a client address.
std::int64_t count_open_cash_on_pickup_for_phone(UnitOfWork& unit, const std::string& phone);
std::int64_t count_open_cash_on_pickup_from(UnitOfWork& unit, const std::string& client_address);

/// Inserts the order (id, created_at and its number, `number_for(id)`, filled in) and its
/// lines (ids filled in).
void insert_order(UnitOfWork& unit, OrderRecord& order, std::int64_t expires_in_seconds,
                  const std::function<std::string(std::int64_t)>& number_for);
/// How much of an order a read brings: all of it, or the order and its lines (what the
/// payment notification needs: two statements fewer on the busiest write after checkout).
enum class OrderDetail { whole, lines };

/// The order with its lines, history and latest payment; its row locked FOR UPDATE when asked.
std::optional<OrderRecord> find_order(UnitOfWork& unit, const std::string& number,
                                      bool lock = false);
std::optional<OrderRecord> find_order_by_id(UnitOfWork& unit, std::int64_t id, bool lock = false,
                                            OrderDetail detail = OrderDetail::whole);
/// Which orders a list shows: of one state, and/or only those that need the staff.
struct OrderFilter {
  std::optional<std::string> state;
  bool attention = false;     ///< only orders whose `attention` is set
  bool oldest_first = false;  ///< the staff's queue: who has waited longest first
};
/// Orders newest (or oldest) first (lines included, no history) that pass `filter`.
std::vector<OrderRecord> list_orders(UnitOfWork& unit, const OrderFilter& filter, int offset,
                                     int limit);
std::int64_t count_orders(UnitOfWork& unit, const OrderFilter& filter);

/// Moves the order from `from` to `to` only if it is still in `from` (the sweep and the
/// notifications race the staff): false when it was not. Records the event.
bool move_order(UnitOfWork& unit, std::int64_t order_id, const std::string& from,
                const std::string& to, const std::string& by_kind,
                std::optional<std::int64_t> by_user, const std::string& note);
/// Paid: the payment's amount added and the order moved from `from` to paid in one update,
/// only if it is still in `from`; false when it was not. Records the event.
bool move_order_paid(UnitOfWork& unit, std::int64_t order_id, const std::string& from,
                     std::int64_t amount_fen, const std::string& note);
/// Records an event in the order's history; returns its time (unix microseconds). `internal`:
/// a note by the staff for the staff, left out of the customer's view.
std::int64_t record_order_event(UnitOfWork& unit, std::int64_t order_id, const std::string& state,
                                const std::string& by_kind, std::optional<std::int64_t> by_user,
                                const std::string& note, bool internal = false);
/// How many wrong pickup codes were tried for the order in a row, and for how many more seconds
/// its handover is locked (0: not locked). Locks the order's row.
struct PickupGuard {
  std::int64_t order_id = 0;
  bool pickup = false;      ///< fulfilment pickup (a delivery order has no code to check)
  std::string pickup_code;  ///< the code to compare
  int failures = 0;
  std::int64_t locked_seconds = 0;
};
/// The guard of the order with `number` (nothing when there is none), its row locked: one
/// statement, not the whole order.
std::optional<PickupGuard> pickup_guard(UnitOfWork& unit, const std::string& number);
/// Counts a wrong pickup code; the `limit`-th in a row locks the handover for `lock_seconds`
/// (and starts the count again). Returns the guard as it is now.
PickupGuard record_pickup_failure(UnitOfWork& unit, std::int64_t order_id, int limit,
                                  int lock_seconds);
/// A right code: the count starts again.
void clear_pickup_failures(UnitOfWork& unit, std::int64_t order_id);

void set_order_shipping(UnitOfWork& unit, std::int64_t order_id, const std::string& carrier,
                        const std::string& waybill);
void add_order_paid(UnitOfWork& unit, std::int64_t order_id, std::int64_t amount_fen);
void add_order_refunded(UnitOfWork& unit, std::int64_t order_id, std::int64_t amount_fen);
void set_order_attention(UnitOfWork& unit, std::int64_t order_id, const std::string& attention);
/// Sets `attention` only if nothing else is waiting for the staff on this order: true if set.
bool flag_order(UnitOfWork& unit, std::int64_t order_id, const std::string& attention);
/// Clears `attention` only if it still reads `seen` (what the staff looked at): true if cleared.
bool clear_order_attention(UnitOfWork& unit, std::int64_t order_id, const std::string& seen);
/// Claims the right to ask the provider about the order's trade now: true (and the time
/// recorded) unless it was asked within the last `seconds`.
bool claim_payment_check(UnitOfWork& unit, std::int64_t order_id, int seconds);
/// The order's trade is closed at its provider: its `started` payments become `closed`.
void close_order_payments(UnitOfWork& unit, std::int64_t order_id);
/// Expired or cancelled orders (moved within the last `days`) whose payment is still `started`:
/// nobody knows yet whether it was paid. Those never asked first, then the longest since.
std::vector<std::int64_t> orders_with_unsettled_payments(UnitOfWork& unit, int days, int limit);
/// Expired or cancelled orders moved `days` ago or longer whose payment is still `started` and
/// that do not yet ask for the staff: the sweep stopped asking about them.
std::vector<std::int64_t> orders_never_confirmed(UnitOfWork& unit, int days, int limit);
/// Orders due to expire: unpaid (pending_payment) or uncollected (confirmed) past expires_at.
std::vector<std::int64_t> due_to_expire(UnitOfWork& unit, int limit);

/// What of a product lies in lots past their date on business day `day` ("YYYY-MM-DD"; a lot
/// expiring today still sells today): on hand, but nobody can be handed it (no lock: a consistent
/// read, which only a write-off, taking it off on_hand too, can make stale).
std::int64_t expired_stock(UnitOfWork& unit, std::int64_t product_id, const std::string& day);
/// Reserves `quantity` of a product only if what can be handed over (on_hand − reserved −
/// `unusable`, the expired_stock) covers it.
bool reserve_stock(UnitOfWork& unit, std::int64_t product_id, std::int64_t quantity,
                   std::int64_t unusable);
/// Gives a reservation back.
void release_stock(UnitOfWork& unit, std::int64_t product_id, std::int64_t quantity);
/// The goods of a reservation leave: on_hand and reserved both fall by `quantity`.
void sell_reserved(UnitOfWork& unit, std::int64_t product_id, std::int64_t quantity);
/// What a product has available now to hand over on business day `day`: on hand, less what is
/// reserved and what lies in expired lots (no lock).
std::int64_t available_stock(UnitOfWork& unit, std::int64_t product_id, const std::string& day);
void insert_order_line_lots(UnitOfWork& unit, std::int64_t order_line_id, std::int64_t lot_id,
                            std::int64_t quantity);

/// Every trade an order asked of its provider, oldest first.
std::vector<OrderPaymentRecord> order_payments(UnitOfWork& unit, std::int64_t order_id);
/// The order's paid trade when it has one (refunds go back through it), else its latest.
std::optional<OrderPaymentRecord> find_paid_payment(UnitOfWork& unit, std::int64_t order_id);
/// The payment row of a provider's trade, by exactly that number (not another case or trailing
/// spaces): its paid row when it has one (a trade is paid once, whichever channel's row), else
/// the latest.
std::optional<OrderPaymentRecord> find_payment_by_trade(UnitOfWork& unit,
                                                        const std::string& provider,
                                                        const std::string& out_trade_no, bool lock);
/// Records a trade (`started`) before it is asked of the provider: its id.
std::int64_t insert_order_payment(UnitOfWork& unit, const OrderPaymentRecord& payment);
/// What the provider answered a start with (QR, link, JSAPI parameters), kept while the trade is
/// still `started`.
void show_payment(UnitOfWork& unit, const OrderPaymentRecord& payment);
/// One trade is closed at its provider: `started` becomes `closed`.
void close_payment(UnitOfWork& unit, std::int64_t payment_id);
/// The payment is paid; the order's other `started` rows (the same trade asked for through
/// another channel) are closed in the same statement.
void mark_payment_paid(UnitOfWork& unit, std::int64_t payment_id, std::int64_t order_id,
                       const std::optional<std::string>& transaction_id);
/// A trade paid after another trade of its order was: `started` or `closed` becomes `surplus`
/// (to be sent back). False when the row was in neither state (a replay, or another process).
bool mark_payment_surplus(UnitOfWork& unit, std::int64_t payment_id,
                          const std::optional<std::string>& transaction_id);
std::optional<OrderPaymentRecord> find_payment(UnitOfWork& unit, std::int64_t payment_id,
                                               bool lock);
/// Notes one more question to the provider about sending a surplus payment back.
void note_return_attempt(UnitOfWork& unit, std::int64_t payment_id,
                         const std::string& provider_state);
/// Ends one ask to return a surplus payment, only if it is still surplus: `returned` when the
/// provider paid it back, else it stays surplus with the failure kept (asked again later).
bool finish_surplus_return(UnitOfWork& unit, std::int64_t payment_id, bool returned,
                           const std::string& provider_state,
                           const std::optional<std::string>& failure);
/// A refused return (say the merchant's balance was short) is asked again this often.
inline constexpr int kRefusedReturnRetrySeconds = 3600;
/// Surplus payments still to be sent back, not asked about for `idle_seconds` (an hour at least
/// after a refusal), oldest first.
std::vector<std::int64_t> surplus_payments_to_return(UnitOfWork& unit, int idle_seconds, int limit);

/// Every payment notification that reached us, with what became of it.
void record_notification(UnitOfWork& unit, const std::string& provider, const std::string& verdict,
                         const std::optional<std::string>& out_trade_no,
                         const std::optional<std::string>& transaction_id,
                         std::optional<std::int64_t> amount_fen, const std::string& reason);

struct OrderRefundLineRecord {
  std::int64_t order_line_id = 0;
  int line_no = 0;
  std::int64_t product_id = 0;
  std::int64_t village_id = 0;
  std::int64_t quantity = 0;
  std::int64_t gross_fen = 0;
  std::int64_t fee_fen = 0;
  std::int64_t share_fen = 0;
  std::string stock;  ///< release, return, none
};

/// A refund of an order (sql/009_order_refunds.sql).
struct OrderRefundRecord {
  std::int64_t id = 0;
  std::int64_t order_id = 0;
  int seq = 0;
  std::string out_refund_no;
  std::string method;  ///< wechat, alipay, cash
  std::string state;   ///< processing, succeeded, failed
  std::string origin;  ///< staff, cancel, late_payment
  std::int64_t goods_fen = 0;
  std::int64_t delivery_fee_fen = 0;
  std::int64_t amount_fen = 0;
  bool unsold = false;
  std::string reason;
  std::optional<std::int64_t> shift_id;
  std::optional<std::int64_t> register_id;
  std::optional<std::int64_t> created_by;
  std::optional<std::string> provider_refund_id;
  std::optional<std::string> provider_state;
  std::optional<std::string> failure;
  int attempts = 0;
  std::int64_t created_at = 0;
  std::optional<std::int64_t> finished_at;
  std::vector<OrderRefundLineRecord> lines;
};

/// Inserts the refund and its lines (id filled in); a second refund with the same
/// out_refund_no or sequence is domain::Error duplicate.
void insert_order_refund(UnitOfWork& unit, OrderRefundRecord& refund);
/// The order's refunds, oldest first, with their lines.
std::vector<OrderRefundRecord> order_refunds(UnitOfWork& unit, std::int64_t order_id);
std::optional<OrderRefundRecord> find_order_refund(UnitOfWork& unit, std::int64_t id);
/// Moves a refund out of `processing` to `succeeded` or `failed` only if it is still
/// processing (the request, the sweep and other processes race): false when it was not.
bool finish_order_refund(UnitOfWork& unit, std::int64_t id, const std::string& state,
                         const std::optional<std::string>& provider_refund_id,
                         const std::string& provider_state,
                         const std::optional<std::string>& failure);
/// Notes one more question to the provider about a refund still processing.
void note_refund_attempt(UnitOfWork& unit, std::int64_t id, const std::string& provider_state);
/// Provider refunds still processing and untouched for `idle_seconds`, oldest first.
std::vector<std::int64_t> refunds_to_finish(UnitOfWork& unit, int idle_seconds, int limit);
/// Per order line: what succeeded refunds released from its reservation.
std::map<std::int64_t, std::int64_t> released_by_refunds(UnitOfWork& unit, std::int64_t order_id);
/// The lot a line's goods came from last (the one that expires latest), if they left.
std::optional<std::int64_t> last_lot_of_line(UnitOfWork& unit, std::int64_t order_line_id);
void set_order_unsold(UnitOfWork& unit, std::int64_t order_id);
/// The provider an unpaid order is paid with (a customer switching WeChat Pay ↔ Alipay), or the
/// one that took its money; only while the order is awaiting payment or holds it (not cash).
void set_order_payment_method(UnitOfWork& unit, std::int64_t order_id, const std::string& method);

}  // namespace yizhan::store
