// Online orders: checkout, the order's life, payments and the expiry sweep (issue 9).
#include "yizhan/service/orders.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "yizhan/domain/catalog.hpp"
#include "yizhan/domain/commission.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/journal.hpp"
#include "yizhan/domain/sale.hpp"
#include "yizhan/domain/stock.hpp"
#include "yizhan/domain/text.hpp"
#include "yizhan/payments/provider.hpp"
#include "yizhan/service/credentials.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/journal.hpp"
#include "yizhan/store/orders.hpp"
#include "yizhan/store/stock.hpp"

namespace yizhan::service {
namespace {

using domain::Error;
using domain::ErrorCode;
using domain::Fen;
using domain::OrderEvent;
using domain::OrderState;

constexpr int kMaxLines = 50;

domain::PaymentMode mode_of(const std::string& payment_method) {
  return payment_method == "cash_on_pickup" ? domain::PaymentMode::cash_on_pickup
                                            : domain::PaymentMode::online;
}

domain::Fulfilment fulfilment_of(const std::string& text) {
  return domain::parse_fulfilment(text).value_or(domain::Fulfilment::pickup);
}

OrderState state_of(const std::string& text) {
  const auto state = domain::parse_order_state(text);
  if (!state) throw Error(ErrorCode::internal, "internal error", {}, "order state " + text);
  return *state;
}

/// The state an event takes the order to, or 409 invalid_state naming both.
OrderState next_state(const store::OrderRecord& order, OrderEvent event) {
  return domain::transition(state_of(order.state), event, fulfilment_of(order.fulfilment),
                            mode_of(order.payment_method));
}

std::string six_digits() {
  unsigned char bytes[4];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw Error(ErrorCode::internal, "internal error", {}, "RAND_bytes failed");
  std::uint32_t value = 0;
  for (unsigned char b : bytes)
    value = value << 8 | b;
  char text[8];
  std::snprintf(text, sizeof text, "%06u", value % 1'000'000u);
  return text;
}

Order to_order(const store::OrderRecord& r, bool show_pickup_code, bool for_staff) {
  Order o;
  o.number = r.number;
  o.state = r.state;
  o.fulfilment = r.fulfilment;
  o.payment_method = r.payment_method;
  o.contact_name = r.contact_name;
  o.contact_phone = r.contact_phone;
  o.address_area = r.address_area;
  o.address_detail = r.address_detail;
  o.note = r.note;
  o.subtotal = Fen(r.subtotal_fen);
  o.delivery_fee = Fen(r.delivery_fee_fen);
  o.total = Fen(r.total_fen);
  o.paid = Fen(r.paid_fen);
  o.refunded = Fen(r.refunded_fen);
  if (show_pickup_code) o.pickup_code = r.pickup_code;
  o.carrier = r.carrier;
  o.waybill = r.waybill;
  if (r.state == "pending_payment" || r.state == "confirmed") o.expires_at = r.expires_at;
  if (for_staff) o.attention = r.attention;
  o.created_at = r.created_at;
  for (const auto& l : r.lines)
    o.lines.push_back({l.line_no, l.product_id, l.name, l.village_id, l.village_name, l.unit,
                       l.quantity, Fen(l.unit_price_fen), Fen(l.gross_fen)});
  for (const auto& e : r.events)
    o.history.push_back({e.state, e.by_kind, e.note, e.at});
  if (r.payment)
    o.payment = OrderPayment{r.payment->provider,     r.payment->channel, r.payment->qr_content,
                             r.payment->redirect_url, r.payment->jsapi,   r.payment->state};
  return o;
}

/// The customer's pickup code shows once the order is theirs to collect (paid or confirmed).
bool pickup_code_visible(const store::OrderRecord& r) {
  return r.fulfilment == "pickup" && r.state != "pending_payment" && r.state != "expired" &&
         r.state != "cancelled";
}

Error no_such_order() {
  return Error(ErrorCode::not_found, "没有这个订单 / no such order");
}

std::vector<domain::VillageSplit> splits_of(const store::OrderRecord& order) {
  std::vector<domain::VillageSplit> splits;
  for (const auto& l : order.lines)
    splits.push_back({l.village_id, Fen(l.fee_fen), Fen(l.share_fen)});
  return splits;
}

/// The order's lines summed per product, in ascending product id (the lock order).
std::map<std::int64_t, std::int64_t> per_product(const store::OrderRecord& order) {
  std::map<std::int64_t, std::int64_t> quantities;
  for (const auto& l : order.lines)
    quantities[l.product_id] += l.quantity;
  return quantities;
}

void release_all(store::UnitOfWork& unit, const store::OrderRecord& order) {
  std::vector<store::LedgerEntry> moves;
  for (const auto& [product_id, quantity] : per_product(order)) {
    store::release_stock(unit, product_id, quantity);
    moves.push_back({product_id, std::nullopt, "release", -quantity, "order", order.id, {}});
  }
  store::append_to_ledger(unit, moves);
}

/// Reserves every line (ascending product id) or throws 409 out_of_stock naming the product.
void reserve_all(store::UnitOfWork& unit, std::int64_t order_id,
                 const std::map<std::int64_t, std::int64_t>& quantities,
                 std::optional<std::int64_t> by) {
  std::vector<store::LedgerEntry> moves;
  for (const auto& [product_id, quantity] : quantities) {
    if (!store::reserve_stock(unit, product_id, quantity)) {
      const auto available = store::available_stock(unit, product_id);
      // A late payment catches this and commits: the lines reserved so far are given back.
      for (const auto& move : moves)
        store::release_stock(unit, move.product_id, move.quantity);
      throw Error(
          ErrorCode::out_of_stock, "库存不足 / not enough in stock",
          {{"product_id", std::to_string(product_id)}, {"available", std::to_string(available)}});
    }
    moves.push_back({product_id, std::nullopt, "reserve", quantity, "order", order_id, by});
  }
  store::append_to_ledger(unit, moves);
}

domain::TenderMethod tender_of(const std::string& provider) {
  return provider == "alipay" ? domain::TenderMethod::alipay : domain::TenderMethod::wechat;
}

/// The goods leave the shelf: the reservation becomes a sale, lots taken FEFO.
void goods_leave(store::UnitOfWork& unit, const store::OrderRecord& order,
                 std::chrono::year_month_day today, std::int64_t by) {
  std::vector<store::LedgerEntry> moves;
  for (const auto& [product_id, quantity] : per_product(order)) {
    store::sell_reserved(unit, product_id, quantity);
    moves.push_back({product_id, std::nullopt, "release", -quantity, "order", order.id, by});
    auto lots = store::lock_lots(unit, product_id);
    std::vector<domain::LotTake> taken;
    try {
      taken = domain::pick_lots_fefo(lots, quantity, today);
    } catch (const Error& error) {
      throw error.with_detail("product_id", std::to_string(product_id));
    }
    for (const auto& take : taken) {
      if (!store::take_from_lot(unit, take.lot_id, product_id, take.quantity))
        throw Error(ErrorCode::internal, "internal error", {}, "lot changed under its lock");
      moves.push_back({product_id, take.lot_id, "sale", -take.quantity, "order", order.id, by});
    }
    // Each line's part of the lots, in FEFO order.
    for (const auto& line : order.lines) {
      if (line.product_id != product_id) continue;
      std::int64_t need = line.quantity;
      for (auto& take : taken) {
        if (need == 0) break;
        const auto q = std::min(need, take.quantity);
        if (q == 0) continue;
        store::insert_order_line_lots(unit, line.id, take.lot_id, q);
        take.quantity -= q;
        need -= q;
      }
    }
  }
  store::append_to_ledger(unit, moves);
}

}  // namespace

OrderService::OrderService(store::Database& database, OrderSettings settings,
                           std::map<std::string, PaymentAccount> providers,
                           int idempotency_retention_days)
    : database_(database),
      settings_(std::move(settings)),
      providers_(std::move(providers)),
      idempotency_(database, idempotency_retention_days) {}

std::vector<std::string> OrderService::payment_methods() const {
  std::vector<std::string> methods;
  for (const char* name : {"wechat", "alipay"})
    if (providers_.contains(name) && providers_.at(name).provider) methods.emplace_back(name);
  methods.emplace_back("cash_on_pickup");
  return methods;
}

StoredReply OrderService::checkout(const CheckoutRequest& request, const IdempotencyKey& key,
                                   const std::function<StoredReply(const Order&)>& render) {
  // Everything about the request itself is checked before the transaction.
  if (request.lines.empty())
    throw Error::invalid_field("lines", "购物车是空的 / the cart is empty");
  if (static_cast<int>(request.lines.size()) > kMaxLines)
    throw Error::invalid_field("lines", "商品行太多 / at most 50 lines");
  const auto fulfilment = domain::parse_fulfilment(request.fulfilment);
  if (!fulfilment)
    throw Error::invalid_field("fulfilment", "取货方式为 pickup 或 delivery / pickup or delivery");
  const auto methods = payment_methods();
  if (std::find(methods.begin(), methods.end(), request.payment) == methods.end())
    throw Error(ErrorCode::invalid, "不支持这种付款方式 / this payment method is not offered",
                {{"field", "payment"}, {"offered", [&] {
                                          std::string all;
                                          for (const auto& m : methods)
                                            all += (all.empty() ? "" : ",") + m;
                                          return all;
                                        }()}});
  const auto mode = mode_of(request.payment);
  const auto initial = domain::initial_order_state(*fulfilment, mode);
  if (auto problem = domain::text_problem(request.contact_name, 1, 50))
    throw Error::invalid_field("contact.name", *problem);
  const auto phone = domain::normalize_mobile_number(request.contact_phone, "contact.phone");
  if (auto problem = domain::text_problem(request.note, 0, 200))
    throw Error::invalid_field("note", *problem);
  std::optional<std::string> area, detail;
  if (*fulfilment == domain::Fulfilment::delivery) {
    area = request.address_area.value_or("");
    if (auto problem = domain::text_problem(*area, 1, 50))
      throw Error::invalid_field("address.area", *problem);
    detail = request.address_detail.value_or("");
    if (auto problem = domain::text_problem(*detail, 1, 200))
      throw Error::invalid_field("address.detail", *problem);
  }
  for (std::size_t i = 0; i < request.lines.size(); ++i) {
    const std::string at = "lines[" + std::to_string(i) + "]";
    if (request.lines[i].product_id <= 0)
      throw Error::invalid_field(at + ".product_id", "没有这个商品 / no such product");
  }
  const auto day = domain::business_day(std::chrono::system_clock::now(), settings_.zone);
  const std::int64_t expires_in = mode == domain::PaymentMode::online
                                      ? settings_.unpaid_minutes * 60LL
                                      : settings_.pickup_days * 86400LL;
  const std::string token = new_session_token();

  return idempotency_.run(key, [&](store::UnitOfWork& unit) {
    store::OrderRecord order;
    order.token_hash = token_digest(token);
    order.state = std::string(domain::to_string(initial));
    order.fulfilment = request.fulfilment;
    order.payment_method = request.payment;
    order.contact_name = request.contact_name;
    order.contact_phone = phone;
    order.address_area = area;
    order.address_detail = detail;
    order.note = request.note;
    order.business_day = domain::format_iso_date(day);
    order.pickup_code = six_digits();

    std::vector<domain::SaleLineInput> inputs;
    std::map<std::int64_t, std::int64_t> quantities;
    for (std::size_t i = 0; i < request.lines.size(); ++i) {
      const auto& asked = request.lines[i];
      const std::string at = "lines[" + std::to_string(i) + "]";
      const auto product = store::orderable_product(unit, asked.product_id);
      if (!product || !product->offered)
        throw Error::invalid_field(at + ".product_id", "该商品不在网店出售 / not sold online");
      const auto quantity =
          domain::Quantity::from_client(product->unit, asked.quantity, at + ".quantity");
      domain::SaleLineInput input;
      input.quantity = quantity;
      input.unit_price = product->price;
      input.commission_bps = domain::effective_commission_bps(product->commission_bps,
                                                              product->village_commission_bps);
      inputs.push_back(input);
      store::OrderLineRecord line;
      line.line_no = static_cast<int>(i + 1);
      line.product_id = product->id;
      line.village_id = product->village_id;
      line.village_name = product->village_name;
      line.name = product->name;
      line.unit = product->unit;
      line.quantity = quantity.amount();
      line.unit_price_fen = product->price.value();
      order.lines.push_back(std::move(line));
      quantities[product->id] += quantity.amount();
    }
    const auto priced = domain::price_sale(inputs, Fen(0), domain::Rounding::none);
    std::vector<Fen> totals;
    for (std::size_t i = 0; i < priced.lines.size(); ++i) {
      auto& line = order.lines[i];
      line.gross_fen = priced.lines[i].gross.value();
      line.commission_bps = priced.lines[i].commission_bps;
      line.fee_fen = priced.lines[i].split.fee.value();
      line.share_fen = priced.lines[i].split.share.value();
      totals.push_back(priced.lines[i].gross);
    }
    const Fen fee =
        domain::delivery_fee(settings_.delivery, priced.total, *fulfilment, area.value_or(""));
    if (request.expected_total_fen) {
      const auto check = domain::check_total_seen(totals, fee, Fen(*request.expected_total_fen));
      if (check.price_changed)
        throw Error(ErrorCode::price_changed,
                    "价格有变化，请确认新的总价 / prices changed: please confirm the new total",
                    {{"total_fen", std::to_string(check.total.value())},
                     {"expected_total_fen", std::to_string(*request.expected_total_fen)}});
    }
    order.subtotal_fen = priced.total.value();
    order.delivery_fee_fen = fee.value();
    order.total_fen = (priced.total + fee).value();

    // The readable number comes from the id: no sequence row that every checkout would update.
    store::insert_order(unit, order, expires_in,
                        [&](std::int64_t id) { return domain::format_order_number(day, id); });
    reserve_all(unit, order.id, quantities, std::nullopt);
    store::record_order_event(unit, order.id, order.state, "customer", std::nullopt, "");
    auto created = store::find_order_by_id(unit, order.id);
    auto answer = to_order(*created, true, false);
    answer.token = token;
    return render(answer);
  });
}

Order OrderService::for_customer(const std::string& number, const std::string& token) {
  if (!domain::is_order_number(number) || token.empty() || token.size() > 100)
    throw no_such_order();
  return database_.transact([&](store::UnitOfWork& unit) {
    auto order = store::find_order(unit, number);
    if (!order || order->token_hash != token_digest(token)) throw no_such_order();
    return to_order(*order, pickup_code_visible(*order), false);
  });
}

Order OrderService::for_staff(const std::string& number) {
  if (!domain::is_order_number(number)) throw no_such_order();
  return database_.transact([&](store::UnitOfWork& unit) {
    auto order = store::find_order(unit, number);
    if (!order) throw no_such_order();
    return to_order(*order, true, true);
  });
}

OrderPage OrderService::list(const std::optional<std::string>& state, int page, int page_size) {
  if (state && !domain::parse_order_state(*state))
    throw Error::invalid_field("state", "没有这种订单状态 / unknown state " + *state);
  return database_.transact([&](store::UnitOfWork& unit) {
    OrderPage result;
    result.page = page;
    const auto total = store::count_orders(unit, state);
    result.pages = static_cast<int>(std::max<std::int64_t>(1, (total + page_size - 1) / page_size));
    for (const auto& r : store::list_orders(unit, state, (page - 1) * page_size, page_size))
      result.items.push_back(to_order(r, true, true));
    return result;
  });
}

Order OrderService::cancel(const std::string& number, const std::optional<std::string>& token,
                           const std::optional<domain::Principal>& staff) {
  if (!domain::is_order_number(number)) throw no_such_order();
  std::optional<store::OrderPaymentRecord> to_close;
  auto order = database_.transact([&](store::UnitOfWork& unit) {
    auto order = store::find_order(unit, number, true);
    if (!order) throw no_such_order();
    if (!staff && (!token || order->token_hash != token_digest(*token))) throw no_such_order();
    const auto mode = mode_of(order->payment_method);
    if (!staff && !domain::customer_may_cancel(state_of(order->state), mode))
      throw Error(ErrorCode::invalid_state,
                  "订单已付款，请联系驿站退款 / paid orders are cancelled by the station",
                  {{"state", order->state}});
    if (order->paid_fen > order->refunded_fen)
      throw Error(ErrorCode::invalid_state,
                  "已付款的订单需先退款 / refund the payment first (not yet supported online)",
                  {{"state", order->state}});
    const auto next = next_state(*order, OrderEvent::cancel);
    if (!store::move_order(unit, order->id, order->state, std::string(domain::to_string(next)),
                           staff ? "staff" : "customer",
                           staff ? std::optional(staff->user_id) : std::nullopt, ""))
      throw Error(ErrorCode::conflict, "订单刚被改变，请重试 / the order just changed: retry");
    if (domain::holds_reservation(state_of(order->state))) release_all(unit, *order);
    if (order->payment && order->payment->state == "started") to_close = order->payment;
    return *store::find_order_by_id(unit, order->id);
  });
  // An unpaid provider order is closed so it can no longer be paid (best effort: a payment
  // that still arrives is handled as a late one).
  if (to_close) {
    const auto found = providers_.find(to_close->provider);
    if (found != providers_.end() && found->second.provider) try {
        found->second.provider->close(to_close->out_trade_no);
      } catch (const std::exception& e) {
        spdlog::warn("closing payment {} failed: {}", to_close->out_trade_no, e.what());
      }
  }
  return to_order(order, staff.has_value() || pickup_code_visible(order), staff.has_value());
}

Order OrderService::transition(const std::string& number, const std::string& to,
                               const std::optional<std::string>& pickup_code,
                               const std::optional<std::string>& carrier,
                               const std::optional<std::string>& waybill,
                               const domain::Principal& staff) {
  if (!domain::is_order_number(number)) throw no_such_order();
  const auto target = domain::parse_order_state(to);
  const auto event = target ? domain::staff_event_for(*target) : std::nullopt;
  if (!event)
    throw Error::invalid_field("to",
                               "可改为 picking、ready、shipped 或 completed / "
                               "to is picking, ready, shipped or completed");
  if (*event == OrderEvent::ship) {
    for (const auto& [field, value] : {std::pair{"carrier", carrier}, {"waybill", waybill}})
      if (auto problem = domain::text_problem(value.value_or(""), 1, 50))
        throw Error::invalid_field(field, *problem);
  }
  if (*event == OrderEvent::hand_over && (!pickup_code || !domain::is_pickup_code(*pickup_code)))
    throw Error::invalid_field("pickup_code", "取货码为 6 位数字 / the pickup code has 6 digits");
  const auto day = domain::business_day(std::chrono::system_clock::now(), settings_.zone);
  auto order = database_.transact([&](store::UnitOfWork& unit) {
    auto order = store::find_order(unit, number, true);
    if (!order) throw no_such_order();
    const auto next = next_state(*order, *event);
    if (*event == OrderEvent::hand_over && order->fulfilment == "pickup" &&
        *pickup_code != order->pickup_code)
      throw Error(ErrorCode::invalid, "取货码不对 / wrong pickup code", {{"field", "pickup_code"}});
    if (*event == OrderEvent::ship) store::set_order_shipping(unit, order->id, *carrier, *waybill);
    // The goods leave when shipped (delivery) or handed over (pickup).
    const bool leaves = *event == OrderEvent::ship ||
                        (*event == OrderEvent::hand_over && order->fulfilment == "pickup");
    if (leaves) goods_leave(unit, *order, day, staff.user_id);
    if (*event == OrderEvent::hand_over && order->payment_method == "cash_on_pickup") {
      // Paid now, in cash, into the drawer of the cashier's open shift.
      const auto shift = store::open_shift_register(unit, staff.user_id);
      if (!shift)
        throw Error(ErrorCode::no_open_shift, "请先开班再收款 / open a shift to take the cash");
      store::add_order_paid(unit, order->id, order->total_fen);
      const auto splits = splits_of(*order);
      store::post_entry(unit, "order_payment", order->id, domain::format_iso_date(day),
                        domain::order_payment_postings(domain::TenderMethod::cash, *shift, splits,
                                                       Fen(order->delivery_fee_fen)),
                        order->number);
    }
    if (!store::move_order(unit, order->id, order->state, std::string(domain::to_string(next)),
                           "staff", staff.user_id, ""))
      throw Error(ErrorCode::conflict, "订单刚被改变，请重试 / the order just changed: retry");
    return *store::find_order_by_id(unit, order->id);
  });
  return to_order(order, true, true);
}

Order OrderService::start_payment(const std::string& number, const std::string& token,
                                  const std::string& channel, const std::string& client_address) {
  static const std::map<std::string, std::pair<std::string, payments::Channel>> kChannels{
      {"wechat_native", {"wechat", payments::Channel::wechat_native}},
      {"wechat_jsapi", {"wechat", payments::Channel::wechat_jsapi}},
      {"wechat_h5", {"wechat", payments::Channel::wechat_h5}},
      {"alipay_qr", {"alipay", payments::Channel::alipay_qr}},
      {"alipay_wap", {"alipay", payments::Channel::alipay_wap}}};
  const auto found_channel = kChannels.find(channel);
  if (found_channel == kChannels.end())
    throw Error::invalid_field("channel", "不支持的支付渠道 / unknown channel " + channel);
  const auto& [provider_name, provider_channel] = found_channel->second;
  auto order = for_customer(number, token);
  if (order.state != "pending_payment")
    throw Error(ErrorCode::invalid_state, "订单不在待支付状态 / the order is not awaiting payment",
                {{"state", order.state}});
  if (order.payment_method != provider_name)
    throw Error::invalid_field("channel", "渠道与付款方式不符 / the channel is not the order's");
  if (order.payment && order.payment->channel == channel) return order;
  const auto account = providers_.find(provider_name);
  if (account == providers_.end() || !account->second.provider)
    throw Error(ErrorCode::unavailable, "支付暂不可用 / payments are not available");
  if (provider_channel == payments::Channel::wechat_jsapi)
    throw Error::invalid_field("channel", "公众号支付需要微信登录 / JSAPI needs a WeChat sign-in");

  payments::PaymentRequest ask;
  ask.out_trade_no = number;
  ask.amount = order.total;
  ask.description = "乡村联盟驿站订单 " + number;
  ask.channel = provider_channel;
  ask.client_ip = client_address;
  ask.expires_at = std::chrono::system_clock::time_point(
      std::chrono::microseconds(order.expires_at.value_or(0)));
  payments::PaymentStart started;
  try {
    started = account->second.provider->start(ask);
  } catch (const payments::ProviderError& e) {
    spdlog::warn("starting payment of {} with {} failed: {}", number, provider_name, e.what());
    throw Error(ErrorCode::unavailable,
                "支付渠道暂不可用，请稍后再试 / the payment provider did "
                "not answer: try again");
  }
  database_.transact([&](store::UnitOfWork& unit) {
    auto current = store::find_order(unit, number, true);
    if (!current) throw no_such_order();
    if (store::find_order_payment(unit, current->id, channel)) return;
    store::OrderPaymentRecord payment;
    payment.order_id = current->id;
    payment.provider = provider_name;
    payment.channel = channel;
    payment.out_trade_no = number;
    payment.amount_fen = current->total_fen;
    payment.qr_content = started.qr_content;
    payment.redirect_url = started.redirect_url;
    store::insert_order_payment(unit, payment);
  });
  return for_customer(number, token);
}

NotificationAnswer OrderService::notify(const std::string& provider_name,
                                        const std::map<std::string, std::string>& headers,
                                        const std::string& body) {
  const auto account = providers_.find(provider_name);
  if (account == providers_.end() || !account->second.provider)
    throw Error(ErrorCode::not_found, "no such payment provider");
  auto& provider = *account->second.provider;
  payments::PaymentState paid;
  try {
    paid = provider.verify_notification({headers, body}, payments::Clock::now());
  } catch (const std::exception& e) {
    // Unverified: nothing changes; the log keeps what came.
    spdlog::warn("{} notification rejected: {} ({} bytes)", provider_name, e.what(), body.size());
    const auto [status, answer] = provider.notification_answer(false);
    return {status >= 500 ? 401 : status, answer};
  }
  const auto ok = [&] {
    const auto [status, answer] = provider.notification_answer(true);
    return NotificationAnswer{status, answer};
  };
  const std::optional<std::int64_t> amount =
      paid.amount ? std::optional(paid.amount->value()) : std::nullopt;
  const std::optional<std::string> transaction =
      paid.transaction_id.empty() ? std::nullopt : std::optional(paid.transaction_id);
  if (paid.state != payments::PaymentState::State::paid) {
    database_.transact([&](store::UnitOfWork& unit) {
      store::record_notification(unit, provider_name, "ignored", paid.out_trade_no, transaction,
                                 amount, "state " + paid.raw_state);
    });
    return ok();
  }
  const auto day = domain::business_day(std::chrono::system_clock::now(), settings_.zone);
  database_.transact([&](store::UnitOfWork& unit) {
    const auto payment = store::find_payment_by_trade(unit, provider_name, paid.out_trade_no, true);
    if (!payment) {
      store::record_notification(unit, provider_name, "mismatch", paid.out_trade_no, transaction,
                                 amount, "no such payment");
      return;
    }
    auto order = store::find_order_by_id(unit, payment->order_id, true);
    std::string problem;
    if (!paid.amount || paid.amount->value() != payment->amount_fen)
      problem = "amount " + std::to_string(amount.value_or(-1)) + " is not " +
                std::to_string(payment->amount_fen);
    else if (!account->second.merchant_id.empty() &&
             paid.merchant_id != account->second.merchant_id)
      problem = "merchant " + paid.merchant_id + " is not ours";
    else if (!account->second.app_id.empty() && !paid.app_id.empty() &&
             paid.app_id != account->second.app_id)
      problem = "app " + paid.app_id + " is not ours";
    if (!problem.empty()) {
      store::record_notification(unit, provider_name, "mismatch", paid.out_trade_no, transaction,
                                 amount, problem);
      store::set_order_attention(unit, order->id, "支付通知不符 / payment mismatch: " + problem);
      return;
    }
    if (payment->state == "paid") {
      store::record_notification(unit, provider_name, "duplicate", paid.out_trade_no, transaction,
                                 amount, "");
      return;
    }
    store::mark_payment(unit, payment->id, "paid", transaction);
    store::add_order_paid(unit, order->id, payment->amount_fen);
    store::post_entry(unit, "order_payment", order->id, domain::format_iso_date(day),
                      domain::order_payment_postings(tender_of(provider_name), 0, splits_of(*order),
                                                     Fen(order->delivery_fee_fen)),
                      order->number);
    const auto state = state_of(order->state);
    if (state == OrderState::pending_payment) {
      store::move_order(unit, order->id, order->state, "paid", "provider", std::nullopt,
                        transaction.value_or(""));
      store::record_notification(unit, provider_name, "accepted", paid.out_trade_no, transaction,
                                 amount, "");
      return;
    }
    // Paid after it expired or was cancelled: kept when the stock is still there.
    std::string verdict = "late";
    if (state == OrderState::expired || state == OrderState::cancelled) {
      try {
        reserve_all(unit, order->id, per_product(*order), std::nullopt);
        store::move_order(unit, order->id, order->state, "paid", "provider", std::nullopt,
                          "迟到的付款，库存仍在 / late payment, stock still there");
        store::set_order_attention(unit, order->id,
                                   "过期后付款，已恢复订单 / paid after expiry: order restored");
      } catch (const Error& error) {
        if (error.code() != ErrorCode::out_of_stock) throw;
        store::set_order_attention(
            unit, order->id,
            "过期后付款但库存不足，请退款 / paid after expiry, stock gone: refund");
      }
    }
    store::record_notification(unit, provider_name, verdict, paid.out_trade_no, transaction, amount,
                               "order was " + order->state);
  });
  return ok();
}

int OrderService::expire_due(int limit) {
  const auto due = database_.transact(
      [&](store::UnitOfWork& unit) { return store::due_to_expire(unit, limit); });
  int expired = 0;
  for (const auto id : due) {
    std::optional<store::OrderPaymentRecord> to_close;
    const bool moved = database_.transact([&](store::UnitOfWork& unit) {
      auto order = store::find_order_by_id(unit, id, true);
      if (!order || (order->state != "pending_payment" && order->state != "confirmed"))
        return false;
      if (!store::move_order(unit, order->id, order->state, "expired", "sweep", std::nullopt, ""))
        return false;
      release_all(unit, *order);
      if (order->payment && order->payment->state == "started") to_close = order->payment;
      return true;
    });
    if (!moved) continue;
    ++expired;
    if (to_close) {
      const auto found = providers_.find(to_close->provider);
      if (found != providers_.end() && found->second.provider) try {
          found->second.provider->close(to_close->out_trade_no);
        } catch (const std::exception& e) {
          spdlog::warn("closing expired payment {} failed: {}", to_close->out_trade_no, e.what());
        }
    }
  }
  return expired;
}

}  // namespace yizhan::service
