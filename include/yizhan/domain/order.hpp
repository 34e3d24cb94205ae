// Online order rules (issue 9): the state table, the delivery fee, mainland mobile numbers, the
// counter's payment codes, pickup codes and order numbers, and the total the customer saw.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "yizhan/domain/money.hpp"
#include "yizhan/domain/quantity.hpp"

namespace yizhan::domain {

/// Where an order's life stands (API.md "States").
enum class OrderState {
  pending_payment,  ///< online payment awaited; stock reserved until it expires
  confirmed,        ///< cash on pickup: stock reserved, paid at the counter at handover
  paid,
  picking,
  ready,      ///< pickup: waiting at the station
  shipped,    ///< delivery: with the carrier
  completed,  ///< in the customer's hands (and, for cash on pickup, paid)
  cancelled,  ///< by the customer before payment, or by staff before any payment
  expired,    ///< unpaid in time, or a cash-on-pickup order not collected by its deadline
  refunded,   ///< the whole of it paid back (a partial refund keeps the state)
};

/// What happens to an order.
enum class OrderEvent {
  pay,            ///< the provider confirms the online payment
  start_picking,  ///< staff begin to pick and pack
  mark_ready,     ///< pickup: packed and waiting at the station
  ship,           ///< delivery: handed to the carrier
  hand_over,      ///< pickup: given over at the counter; delivery: delivered
  cancel,         ///< customer (before payment) or staff; a paid order is refunded
  expire,         ///< the sweep: payment or pickup deadline passed
  refund_all,     ///< the whole order paid back
  late_payment,   ///< a payment for an expired order whose stock the caller could reserve again
};

/// How the goods reach the customer.
enum class Fulfilment { pickup, delivery };

/// How the order is paid: online (WeChat Pay, Alipay) at checkout, or cash at the counter when
/// it is picked up.
enum class PaymentMode { online, cash_on_pickup };

inline constexpr std::array kOrderStates{
    OrderState::pending_payment, OrderState::confirmed, OrderState::paid,
    OrderState::picking,         OrderState::ready,     OrderState::shipped,
    OrderState::completed,       OrderState::cancelled, OrderState::expired,
    OrderState::refunded};
inline constexpr std::array kOrderEvents{
    OrderEvent::pay,    OrderEvent::start_picking, OrderEvent::mark_ready,
    OrderEvent::ship,   OrderEvent::hand_over,     OrderEvent::cancel,
    OrderEvent::expire, OrderEvent::refund_all,    OrderEvent::late_payment};

std::string_view to_string(OrderState state);  ///< "pending_payment", "paid", …
std::optional<OrderState> parse_order_state(std::string_view text);
std::string_view to_string(OrderEvent event);  ///< "pay", "start_picking", …
std::optional<OrderEvent> parse_order_event(std::string_view text);
std::string_view to_string(Fulfilment fulfilment);  ///< "pickup", "delivery"
std::optional<Fulfilment> parse_fulfilment(std::string_view text);

/// The state a new order starts in: pending_payment (online) or confirmed (cash on pickup).
/// Cash on pickup with delivery is 422 naming "payment": cash is only taken at the counter.
OrderState initial_order_state(Fulfilment fulfilment, PaymentMode payment);

/// The state table: where `event` takes an order in `state`, or nothing when it may not happen.
///   online:  pending_payment -pay-> paid -start_picking-> picking -mark_ready-> ready (pickup)
///            or -ship-> shipped (delivery) -hand_over-> completed;
///            pending_payment -cancel-> cancelled, -expire-> expired;
///            paid, picking, ready -cancel-> refunded (staff; the payment goes back);
///            paid … completed -refund_all-> refunded;
///            expired -late_payment-> paid; expired, cancelled -refund_all-> refunded (a payment
///            that arrived after the order was given up is sent back).
///   cash on pickup: confirmed -start_picking-> picking -mark_ready-> ready -hand_over->
///            completed; confirmed, picking, ready -cancel-> cancelled, -expire-> expired;
///            completed -refund_all-> refunded.
/// Cash on pickup with delivery has no transitions.
std::optional<OrderState> next_order_state(OrderState state, OrderEvent event,
                                           Fulfilment fulfilment, PaymentMode payment);

/// next_order_state, or 409 invalid_state with details "state" (the current one), "event" and
/// "to" (the state the event aims at: pay → paid, cancel → cancelled, …).
OrderState transition(OrderState state, OrderEvent event, Fulfilment fulfilment,
                      PaymentMode payment);

/// The event that takes an order to `target` through staff's "transition" endpoint: picking,
/// ready, shipped, completed; nothing for any other state.
std::optional<OrderEvent> staff_event_for(OrderState target);

/// Whether the order's stock is reserved (not yet sold, not released): pending_payment,
/// confirmed, paid, picking, ready. Shipping and handover sell it; the other states released it.
bool holds_reservation(OrderState state);

/// Whether the order is done with: completed, cancelled, expired, refunded. Staff no longer
/// work on it; only money arriving or going back later moves it (late_payment, refund_all).
bool is_terminal(OrderState state);

/// Whether the order holds the customer's money, so that a refund (partial or whole) can be
/// made: online paid, picking, ready, shipped, completed; cash on pickup completed.
bool holds_payment(OrderState state, PaymentMode payment);

/// Whether the customer (with the tracking token) may cancel: only while nothing is paid —
/// online pending_payment; cash on pickup confirmed, picking, ready. Staff may cancel whatever
/// next_order_state allows.
bool customer_may_cancel(OrderState state, PaymentMode payment);

/// The delivery fee rule from configuration.
struct DeliveryFeeRule {
  Fen flat_fee;                    ///< charged on every delivery not free
  std::optional<Fen> free_above;   ///< 满 X 包邮: free when the subtotal is at least this
  std::vector<std::string> areas;  ///< the 区/镇 delivered to; empty: anywhere
};

/// The station's fee for an order: nothing for pickup; for delivery the flat fee, or nothing
/// when the subtotal reaches free_above. An area (spaces around it ignored) not in a non-empty
/// `areas` is 422 naming "address.area", with details "areas" (the allowed ones, joined by 、).
Fen delivery_fee(const DeliveryFeeRule& rule, Fen subtotal, Fulfilment fulfilment,
                 std::string_view area);

/// Limits on cash-on-pickup orders, which reserve goods for days with nothing paid and no
/// account behind them (probe 2, P1). 0 is no limit.
struct CashOnPickupLimits {
  Fen max_total{200'000};              ///< an order's total (¥2000); above it, pay online
  std::int64_t max_pieces = 20;        ///< per product (one line each), pieces or boxes
  std::int64_t max_grams = 5'000;      ///< per weighed product
  std::int64_t open_per_phone = 3;     ///< open orders (confirmed, picking, ready) per number
  std::int64_t open_per_address = 10;  ///< the same per client address (shared NATs: be kind)
};

/// 422 naming `field` (lines[i].quantity) when a cash-on-pickup line asks for more than the
/// limit of its unit.
void check_cash_on_pickup_quantity(const CashOnPickupLimits& limits, Unit unit,
                                   std::int64_t quantity, const std::string& field);

/// 422 naming `payment` when a cash-on-pickup order's total is above the limit.
void check_cash_on_pickup_total(const CashOnPickupLimits& limits, Fen total);

/// 422 naming `contact.phone`, or `payment` for the client address, when a new cash-on-pickup
/// order would exceed the open orders allowed (`open_*`: those there are already).
void check_open_cash_on_pickup(const CashOnPickupLimits& limits, std::int64_t open_for_phone,
                               std::int64_t open_for_address);

/// 422 naming `lines` when the goods come to less than 1 fen (a few grams of a cheap weighed
/// product): such an order cannot be paid online, and a payment of nothing cannot be booked.
void check_order_goods_total(Fen subtotal);

/// A mainland mobile number as 11 digits "1[3-9]xxxxxxxxx". Accepts a leading "+86" or "86"
/// and spaces or dashes anywhere; anything else is 422 naming `field`.
std::string normalize_mobile_number(std::string_view text, std::string_view field);

/// Whose 付款码 the cashier scanned: WeChat 18 digits starting 10–15; Alipay 16–24 digits
/// starting 25–30; unknown otherwise. Only for the payment step: an 18-digit scale label with
/// flag 25–29 has an Alipay code's shape.
enum class PaymentCodeKind { unknown, wechat, alipay };
PaymentCodeKind classify_payment_code(std::string_view code);

/// Whether `code` has the shape of a pickup code: exactly 6 digits.
bool is_pickup_code(std::string_view code);

/// An online order's number: "W" (网店), the business day, the day's sequence of at least four
/// digits — "W20261202-0007", beside the counter's "20261202-1-0007". `sequence` must be ≥ 1.
std::string format_order_number(std::chrono::year_month_day business_day, std::int64_t sequence);

/// Whether `text` has the shape format_order_number gives (a real date, a sequence ≥ 1), so a
/// bad number in a URL is a 404 without a query.
bool is_order_number(std::string_view text);

/// How many trades (payment starts at a provider) an order may have: each channel asked gets its
/// own, and a channel asked again after its trade was closed a new one.
inline constexpr int kMaxTradesPerOrder = 9;

/// The provider's out_trade_no of an order's `trade`-th trade (1 … kMaxTradesPerOrder): the
/// order number for the first, "<number>-<trade>" after it ("W20261202-0007-2"). WeChat takes 6–32
/// characters of [A-Za-z0-9_|*-] and refuses a number reused for another trade type; Alipay
/// takes up to 64; the longest order number (29) plus "-9" fits both.
std::string trade_number(std::string_view order_number, int trade);

/// The order number a trade number belongs to (trade_number's inverse), or nothing when `text`
/// is not one.
std::optional<std::string> order_of_trade(std::string_view text);

/// The server's total against the total the customer saw at checkout.
struct TotalCheck {
  Fen subtotal;                ///< the lines as the server prices them now
  Fen total;                   ///< subtotal + delivery fee
  bool price_changed = false;  ///< the customer saw another total: answer 409 price_changed
                               ///< with the new lines and `total`, and change nothing
};
TotalCheck check_total_seen(std::span<const Fen> line_totals, Fen delivery_fee, Fen total_seen);

}  // namespace yizhan::domain
