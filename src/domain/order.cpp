// Online order rules: the state table and the checks a checkout and the counter make on an
// order's fee, phone number, payment code, pickup code, number and total.
#include "yizhan/domain/order.hpp"

#include <cstdio>
#include <string>

#include "yizhan/domain/error.hpp"
#include "yizhan/domain/time.hpp"

namespace yizhan::domain {
namespace {

// Which kinds of order a row of the table applies to (cash on pickup is always a pickup).
constexpr unsigned kOnlinePickup = 1;
constexpr unsigned kOnlineDelivery = 2;
constexpr unsigned kCashOnPickup = 4;
constexpr unsigned kOnline = kOnlinePickup | kOnlineDelivery;

struct Row {
  OrderState from;
  OrderEvent event;
  unsigned kinds;
  OrderState to;
};

using S = OrderState;
using E = OrderEvent;

constexpr Row kTable[] = {
    // Online: paid at checkout, then fulfilled.
    {S::pending_payment, E::pay, kOnline, S::paid},
    {S::pending_payment, E::cancel, kOnline, S::cancelled},
    {S::pending_payment, E::expire, kOnline, S::expired},
    {S::paid, E::start_picking, kOnline, S::picking},
    {S::picking, E::mark_ready, kOnlinePickup, S::ready},
    {S::picking, E::ship, kOnlineDelivery, S::shipped},
    {S::ready, E::hand_over, kOnlinePickup, S::completed},
    {S::shipped, E::hand_over, kOnlineDelivery, S::completed},
    // Staff cancel a paid order only while the goods are still here; the money goes back.
    {S::paid, E::cancel, kOnline, S::refunded},
    {S::picking, E::cancel, kOnline, S::refunded},
    {S::ready, E::cancel, kOnlinePickup, S::refunded},
    {S::paid, E::refund_all, kOnline, S::refunded},
    {S::picking, E::refund_all, kOnline, S::refunded},
    {S::ready, E::refund_all, kOnlinePickup, S::refunded},
    {S::shipped, E::refund_all, kOnlineDelivery, S::refunded},
    {S::completed, E::refund_all, kOnline, S::refunded},
    // Money that arrives after the order was given up: kept if the stock could be reserved
    // again (issue 9), else sent back.
    {S::expired, E::late_payment, kOnline, S::paid},
    {S::expired, E::refund_all, kOnline, S::refunded},
    {S::cancelled, E::refund_all, kOnline, S::refunded},
    // Cash on pickup: reserved at checkout, paid at the counter at handover.
    {S::confirmed, E::start_picking, kCashOnPickup, S::picking},
    {S::picking, E::mark_ready, kCashOnPickup, S::ready},
    {S::ready, E::hand_over, kCashOnPickup, S::completed},
    {S::confirmed, E::cancel, kCashOnPickup, S::cancelled},
    {S::picking, E::cancel, kCashOnPickup, S::cancelled},
    {S::ready, E::cancel, kCashOnPickup, S::cancelled},
    {S::confirmed, E::expire, kCashOnPickup, S::expired},
    {S::picking, E::expire, kCashOnPickup, S::expired},
    {S::ready, E::expire, kCashOnPickup, S::expired},
    {S::completed, E::refund_all, kCashOnPickup, S::refunded},
};

unsigned kind_of(Fulfilment fulfilment, PaymentMode payment) {
  if (payment == PaymentMode::cash_on_pickup)
    return fulfilment == Fulfilment::pickup ? kCashOnPickup : 0;
  return fulfilment == Fulfilment::pickup ? kOnlinePickup : kOnlineDelivery;
}

std::string_view label(OrderState state) {
  switch (state) {
    case S::pending_payment: return "待付款";
    case S::confirmed: return "已确认（到店付款）";
    case S::paid: return "已付款";
    case S::picking: return "拣货中";
    case S::ready: return "待取货";
    case S::shipped: return "已发货";
    case S::completed: return "已完成";
    case S::cancelled: return "已取消";
    case S::expired: return "已过期";
    case S::refunded: return "已退款";
  }
  return "";
}

std::string_view label(OrderEvent event) {
  switch (event) {
    case E::pay: return "付款";
    case E::start_picking: return "开始拣货";
    case E::mark_ready: return "备好待取";
    case E::ship: return "发货";
    case E::hand_over: return "交付";
    case E::cancel: return "取消";
    case E::expire: return "过期";
    case E::refund_all: return "全额退款";
    case E::late_payment: return "接受迟到的付款";
  }
  return "";
}

// What the English message says an order cannot do.
std::string_view phrase(OrderEvent event) {
  switch (event) {
    case E::pay: return "be paid";
    case E::start_picking: return "start picking";
    case E::mark_ready: return "be marked ready";
    case E::ship: return "be shipped";
    case E::hand_over: return "be handed over";
    case E::cancel: return "be cancelled";
    case E::expire: return "expire";
    case E::refund_all: return "be refunded in full";
    case E::late_payment: return "take a late payment";
  }
  return "";
}

// The state an event aims at, for the error's "to".
OrderState aim_of(OrderEvent event) {
  switch (event) {
    case E::pay: return S::paid;
    case E::start_picking: return S::picking;
    case E::mark_ready: return S::ready;
    case E::ship: return S::shipped;
    case E::hand_over: return S::completed;
    case E::cancel: return S::cancelled;
    case E::expire: return S::expired;
    case E::refund_all: return S::refunded;
    case E::late_payment: return S::paid;
  }
  return S::cancelled;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool all_digits(std::string_view text) {
  for (char c : text)
    if (!is_digit(c)) return false;
  return true;
}

int two_digit_prefix(std::string_view digits) {
  return (digits[0] - '0') * 10 + (digits[1] - '0');
}

// Spaces around an area name: ASCII, and the ideographic space (U+3000) of Chinese keyboards.
std::string_view trim_spaces(std::string_view text) {
  constexpr std::string_view kIdeographicSpace = "\xE3\x80\x80";
  for (bool trimmed = true; trimmed;) {
    trimmed = false;
    if (text.starts_with(' ') || text.starts_with('\t')) {
      text.remove_prefix(1), trimmed = true;
    } else if (text.starts_with(kIdeographicSpace)) {
      text.remove_prefix(kIdeographicSpace.size()), trimmed = true;
    }
    if (text.ends_with(' ') || text.ends_with('\t')) {
      text.remove_suffix(1), trimmed = true;
    } else if (text.ends_with(kIdeographicSpace)) {
      text.remove_suffix(kIdeographicSpace.size()), trimmed = true;
    }
  }
  return text;
}

}  // namespace

std::string_view to_string(OrderState state) {
  switch (state) {
    case S::pending_payment: return "pending_payment";
    case S::confirmed: return "confirmed";
    case S::paid: return "paid";
    case S::picking: return "picking";
    case S::ready: return "ready";
    case S::shipped: return "shipped";
    case S::completed: return "completed";
    case S::cancelled: return "cancelled";
    case S::expired: return "expired";
    case S::refunded: return "refunded";
  }
  return "cancelled";
}

std::optional<OrderState> parse_order_state(std::string_view text) {
  for (OrderState state : kOrderStates)
    if (text == to_string(state)) return state;
  return std::nullopt;
}

std::string_view to_string(OrderEvent event) {
  switch (event) {
    case E::pay: return "pay";
    case E::start_picking: return "start_picking";
    case E::mark_ready: return "mark_ready";
    case E::ship: return "ship";
    case E::hand_over: return "hand_over";
    case E::cancel: return "cancel";
    case E::expire: return "expire";
    case E::refund_all: return "refund_all";
    case E::late_payment: return "late_payment";
  }
  return "cancel";
}

std::optional<OrderEvent> parse_order_event(std::string_view text) {
  for (OrderEvent event : kOrderEvents)
    if (text == to_string(event)) return event;
  return std::nullopt;
}

std::string_view to_string(Fulfilment fulfilment) {
  return fulfilment == Fulfilment::pickup ? "pickup" : "delivery";
}

std::optional<Fulfilment> parse_fulfilment(std::string_view text) {
  if (text == "pickup") return Fulfilment::pickup;
  if (text == "delivery") return Fulfilment::delivery;
  return std::nullopt;
}

OrderState initial_order_state(Fulfilment fulfilment, PaymentMode payment) {
  if (payment == PaymentMode::online) return S::pending_payment;
  if (fulfilment == Fulfilment::delivery) {
    throw Error::invalid_field("payment",
                               "到店付款只能自提 / cash on pickup is only for orders picked up "
                               "at the station");
  }
  return S::confirmed;
}

std::optional<OrderState> next_order_state(OrderState state, OrderEvent event,
                                           Fulfilment fulfilment, PaymentMode payment) {
  const unsigned kind = kind_of(fulfilment, payment);
  for (const Row& row : kTable)
    if (row.from == state && row.event == event && (row.kinds & kind) != 0) return row.to;
  return std::nullopt;
}

OrderState transition(OrderState state, OrderEvent event, Fulfilment fulfilment,
                      PaymentMode payment) {
  if (const auto next = next_order_state(state, event, fulfilment, payment)) return *next;
  throw Error(ErrorCode::invalid_state,
              "订单" + std::string(label(state)) + "，不能" + std::string(label(event)) +
                  " / an order that is " + std::string(to_string(state)) + " cannot " +
                  std::string(phrase(event)),
              {{"state", std::string(to_string(state))},
               {"event", std::string(to_string(event))},
               {"to", std::string(to_string(aim_of(event)))}});
}

std::optional<OrderEvent> staff_event_for(OrderState target) {
  switch (target) {
    case S::picking: return E::start_picking;
    case S::ready: return E::mark_ready;
    case S::shipped: return E::ship;
    case S::completed: return E::hand_over;
    default: return std::nullopt;
  }
}

bool holds_reservation(OrderState state) {
  switch (state) {
    case S::pending_payment:
    case S::confirmed:
    case S::paid:
    case S::picking:
    case S::ready: return true;
    default: return false;
  }
}

bool is_terminal(OrderState state) {
  return state == S::completed || state == S::cancelled || state == S::expired ||
         state == S::refunded;
}

bool holds_payment(OrderState state, PaymentMode payment) {
  if (payment == PaymentMode::cash_on_pickup) return state == S::completed;
  return state == S::paid || state == S::picking || state == S::ready || state == S::shipped ||
         state == S::completed;
}

bool customer_may_cancel(OrderState state, PaymentMode payment) {
  if (payment == PaymentMode::online) return state == S::pending_payment;
  return state == S::confirmed || state == S::picking || state == S::ready;
}

Fen delivery_fee(const DeliveryFeeRule& rule, Fen subtotal, Fulfilment fulfilment,
                 std::string_view area) {
  if (fulfilment == Fulfilment::pickup) return Fen(0);
  if (!rule.areas.empty()) {
    const std::string_view wanted = trim_spaces(area);
    bool served = false;
    std::string allowed;
    for (const std::string& name : rule.areas) {
      served = served || (!wanted.empty() && wanted == name);
      if (!allowed.empty()) allowed += "、";
      allowed += name;
    }
    if (!served) {
      throw Error::invalid_field("address.area",
                                 wanted.empty() ? "请选择配送区域 / choose the area to deliver to"
                                                : "不在配送范围内 / we do not deliver to this area")
          .with_detail("areas", allowed);
    }
  }
  if (rule.free_above && subtotal >= *rule.free_above) return Fen(0);
  return rule.flat_fee;
}

void check_cash_on_pickup_quantity(const CashOnPickupLimits& limits, Unit unit,
                                   std::int64_t quantity, const std::string& field) {
  const auto most = unit == Unit::gram ? limits.max_grams : limits.max_pieces;
  if (most <= 0 || quantity <= most) return;
  const auto amount = std::to_string(most) + (unit == Unit::gram ? " g" : "");
  throw Error::invalid_field(field, "到店付款每种商品最多 " + amount +
                                        "，更多请在线支付 / cash on pickup takes at most " +
                                        amount + " of a product: pay online for more")
      .with_detail("max", std::to_string(most));
}

void check_cash_on_pickup_total(const CashOnPickupLimits& limits, Fen total) {
  if (limits.max_total <= Fen(0) || total <= limits.max_total) return;
  throw Error::invalid_field("payment", "到店付款订单金额最多 ¥" + limits.max_total.format() +
                                            "，请在线支付 / cash on pickup is for orders up to ¥" +
                                            limits.max_total.format() + ": please pay online")
      .with_detail("max_total_fen", std::to_string(limits.max_total.value()));
}

void check_open_cash_on_pickup(const CashOnPickupLimits& limits, std::int64_t open_for_phone,
                               std::int64_t open_for_address) {
  if (limits.open_per_phone > 0 && open_for_phone >= limits.open_per_phone)
    throw Error::invalid_field(
        "contact.phone", "这个手机号已有 " + std::to_string(open_for_phone) +
                             " 个到店付款订单待取，请先取货或在线支付 / this number already has " +
                             std::to_string(open_for_phone) +
                             " cash-on-pickup orders waiting: collect them first or pay online")
        .with_detail("max", std::to_string(limits.open_per_phone));
  if (limits.open_per_address > 0 && open_for_address >= limits.open_per_address)
    throw Error::invalid_field("payment",
                               "此网络的到店付款订单太多，请在线支付或到驿站购买 / too many "
                               "cash-on-pickup orders from this network: pay online or buy at "
                               "the station")
        .with_detail("max", std::to_string(limits.open_per_address));
}

void check_order_goods_total(Fen subtotal) {
  if (subtotal >= Fen(1)) return;
  throw Error::invalid_field("lines",
                             "订单金额须至少 0.01 元，请多买一些 / the order must come to at least "
                             "¥0.01: add a little more");
}

std::string normalize_mobile_number(std::string_view text, std::string_view field) {
  std::string digits;
  bool plus = false;
  for (char c : text) {
    if (c == ' ' || c == '-') continue;
    if (c == '+' && digits.empty() && !plus) {
      plus = true;
    } else if (is_digit(c)) {
      digits += c;
    } else {
      digits.clear(), plus = false;
      break;
    }
  }
  // A "+" must be followed by the country code; "86" then eleven digits is the same number.
  if ((plus || digits.size() == 13) && digits.starts_with("86"))
    digits.erase(0, 2);
  else if (plus)
    digits.clear();
  if (digits.size() != 11 || digits[0] != '1' || digits[1] < '3') {
    throw Error::invalid_field(std::string(field),
                               "请填写 11 位大陆手机号 / enter an 11-digit mainland mobile number");
  }
  return digits;
}

PaymentCodeKind classify_payment_code(std::string_view code) {
  if (code.size() < 16 || code.size() > 24 || !all_digits(code)) return PaymentCodeKind::unknown;
  const int prefix = two_digit_prefix(code);
  if (code.size() == 18 && prefix >= 10 && prefix <= 15) return PaymentCodeKind::wechat;
  if (prefix >= 25 && prefix <= 30) return PaymentCodeKind::alipay;
  return PaymentCodeKind::unknown;
}

bool is_pickup_code(std::string_view code) {
  return code.size() == 6 && all_digits(code);
}

std::string format_order_number(std::chrono::year_month_day business_day, std::int64_t sequence) {
  if (sequence < 1 || !business_day.ok()) {
    throw Error(ErrorCode::internal, "internal error", {},
                "format_order_number: sequence " + std::to_string(sequence));
  }
  std::string day = format_iso_date(business_day);
  std::erase(day, '-');
  char number[48];
  std::snprintf(number, sizeof number, "W%s-%04lld", day.c_str(), static_cast<long long>(sequence));
  return number;
}

bool is_order_number(std::string_view text) {
  // "W" + YYYYMMDD + "-" + at least four digits, at most what an int64 sequence prints.
  if (text.size() < 14 || text.size() > 29 || text[0] != 'W' || text[9] != '-') return false;
  const std::string_view day = text.substr(1, 8);
  const std::string_view sequence = text.substr(10);
  if (!all_digits(day) || !all_digits(sequence)) return false;
  if (sequence.find_first_not_of('0') == std::string_view::npos) return false;
  if (sequence.size() > 4 && sequence[0] == '0') return false;
  const std::string iso = std::string(day.substr(0, 4)) + "-" + std::string(day.substr(4, 2)) +
                          "-" + std::string(day.substr(6, 2));
  return parse_iso_date(iso).has_value();
}

std::string trade_number(std::string_view order_number, int trade) {
  if (!is_order_number(order_number) || trade < 1 || trade > kMaxTradesPerOrder)
    throw Error(
        ErrorCode::internal, "internal error", {},
        "trade_number: trade " + std::to_string(trade) + " of " + std::string(order_number));
  if (trade == 1) return std::string(order_number);
  return std::string(order_number) + "-" + std::to_string(trade);
}

std::optional<std::string> order_of_trade(std::string_view text) {
  if (is_order_number(text)) return std::string(text);
  if (text.size() < 16 || text[text.size() - 2] != '-') return std::nullopt;
  const char trade = text.back();
  const auto number = text.substr(0, text.size() - 2);
  if (trade < '2' || trade > '0' + kMaxTradesPerOrder || !is_order_number(number))
    return std::nullopt;
  return std::string(number);
}

TotalCheck check_total_seen(std::span<const Fen> line_totals, Fen delivery_fee, Fen total_seen) {
  TotalCheck check;
  for (const Fen line : line_totals)
    check.subtotal += line;
  check.total = check.subtotal + delivery_fee;
  check.price_changed = check.total != total_seen;
  return check;
}

}  // namespace yizhan::domain
