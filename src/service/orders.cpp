// Online orders: checkout, the order's life, payments and the expiry sweep (issue 9).
#include "yizhan/service/orders.hpp"
#include "drawer.hpp"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <initializer_list>
#include <map>
#include <set>

#include "yizhan/domain/bundle.hpp"
#include "yizhan/domain/catalog.hpp"
#include "yizhan/domain/commission.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/journal.hpp"
#include "yizhan/domain/order_refund.hpp"
#include "yizhan/domain/sale.hpp"
#include "yizhan/domain/stock.hpp"
#include "yizhan/domain/text.hpp"
#include "yizhan/payments/crypto.hpp"
#include "yizhan/payments/provider.hpp"
#include "yizhan/payments/wechat_pay_protocol.hpp"
#include "yizhan/service/credentials.hpp"
#include "yizhan/store/counter.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/journal.hpp"
#include "yizhan/store/orders.hpp"
#include "yizhan/store/products.hpp"
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
                       l.quantity, Fen(l.unit_price_fen), Fen(l.gross_fen), 0, l.bundle_product_id,
                       l.bundle_name, l.bundle_quantity, l.bundle_group});
  for (const auto& e : r.events)
    if (for_staff || !e.internal) o.history.push_back({e.state, e.by_kind, e.note, e.at});
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

/// A provider as the staff call it.
std::string_view provider_title(std::string_view provider) {
  return provider == "wechat" ? "微信支付" : provider == "alipay" ? "支付宝" : provider;
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
/// Goods in lots past their date on `day` are not there for an order: the handover could not
/// give them (FEFO takes no expired lot), so they are left out of what can be reserved.
void reserve_all(store::UnitOfWork& unit, std::int64_t order_id,
                 const std::map<std::int64_t, std::int64_t>& quantities,
                 std::optional<std::int64_t> by, const std::string& day) {
  std::vector<store::LedgerEntry> moves;
  for (const auto& [product_id, quantity] : quantities) {
    if (!store::reserve_stock(unit, product_id, quantity,
                              store::expired_stock(unit, product_id, day))) {
      const auto available = store::available_stock(unit, product_id, day);
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

/// reserve_all's out_of_stock said in the checkout's terms: the line to change (a box when the
/// short product is only inside one), and what is left for that line in its own units once the
/// order's other lines that take the product have theirs (domain::short_line), so the page's
/// "take what is left" fits; the short product is named too when it is a box's component.
Error short_line_error(const Error& error, std::span<const domain::AskedLine> asked) {
  const std::int64_t product_id = std::stoll(error.details().at("product_id"));
  const std::int64_t available = std::stoll(error.details().at("available"));
  const auto line = domain::short_line(asked, product_id, available);
  if (!line) return error;
  const auto& named = asked[line->index];
  std::map<std::string, std::string> details{
      {"field", "lines[" + std::to_string(line->index) + "].quantity"},
      {"product_id", std::to_string(named.product_id)},
      {"available", std::to_string(line->left)}};
  if (named.product_id != product_id) {
    details["component_product_id"] = std::to_string(product_id);
    details["component_available"] = std::to_string(std::max<std::int64_t>(0, available));
  }
  return Error(ErrorCode::out_of_stock, error.what(), std::move(details));
}

domain::TenderMethod tender_of(const std::string& provider) {
  return provider == "alipay" ? domain::TenderMethod::alipay : domain::TenderMethod::wechat;
}

/// The goods leave the shelf: the reservation becomes a sale, lots taken FEFO. Units a refund
/// released before (the customer no longer wanted them) do not leave.
void goods_leave(store::UnitOfWork& unit, store::OrderRecord order,
                 std::chrono::year_month_day today, std::int64_t by) {
  const auto released = store::released_by_refunds(unit, order.id);
  for (auto& line : order.lines)
    if (const auto found = released.find(line.id); found != released.end())
      line.quantity -= found->second;
  std::erase_if(order.lines, [](const auto& line) { return line.quantity <= 0; });
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

std::string yuan(std::int64_t fen) {
  return "¥" + Fen(fen).format();
}

/// Whether the caller may act on the order as its owner: the staff, or whoever holds its
/// tracking token.
bool may_act(const store::OrderRecord& order, const std::optional<std::string>& token, bool staff) {
  return staff || (token && order.token_hash == token_digest(*token));
}

/// The staff's note while a surplus payment (a second trade paid) is being sent back.
std::string surplus_note(const std::string& out_trade_no) {
  return "重复付款：" + out_trade_no + " 也已付款，正在原路自动退回 / paid twice: " + out_trade_no +
         " was paid as well and is being sent back automatically";
}

/// The staff's note when the provider refused to send it back (asked again every hour).
std::string surplus_refused_note(const std::string& out_trade_no) {
  return "重复付款 " + out_trade_no +
         " 退回被拒，每小时重试，请查看商户平台余额 / paid twice: " + "sending " + out_trade_no +
         " back was refused, asked again hourly: check the balance";
}

std::vector<SurplusPayment> surplus_payments_view(store::UnitOfWork& unit, std::int64_t order_id) {
  std::vector<SurplusPayment> out;
  for (const auto& row : store::order_payments(unit, order_id))
    if (row.state == "surplus" || row.state == "returned")
      out.push_back(
          {row.out_trade_no, row.provider, row.amount_fen, row.state, row.return_failure});
  return out;
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
  if (auto problem = domain::line_problem(request.contact_name, 1, 50))
    throw Error::invalid_field("contact.name", *problem);
  const auto phone = domain::normalize_mobile_number(request.contact_phone, "contact.phone");
  if (auto problem = domain::text_problem(request.note, 0, 200))
    throw Error::invalid_field("note", *problem);
  std::optional<std::string> area, detail;
  if (*fulfilment == domain::Fulfilment::delivery) {
    area = request.address_area.value_or("");
    if (auto problem = domain::line_problem(*area, 1, 50))
      throw Error::invalid_field("address.area", *problem);
    detail = request.address_detail.value_or("");
    if (auto problem = domain::line_problem(*detail, 1, 200))
      throw Error::invalid_field("address.detail", *problem);
  }
  for (std::size_t i = 0; i < request.lines.size(); ++i) {
    const std::string at = "lines[" + std::to_string(i) + "]";
    if (request.lines[i].product_id <= 0)
      throw Error::invalid_field(at + ".product_id", "没有这个商品 / no such product");
    // One line per product, so that a per-product limit cannot be split over lines.
    for (std::size_t j = 0; j < i; ++j)
      if (request.lines[j].product_id == request.lines[i].product_id)
        throw Error::invalid_field(at + ".product_id",
                                   "与第 " + std::to_string(j + 1) +
                                       " 行是同一商品，请合并为一行 / the same product as lines[" +
                                       std::to_string(j) + "]: put it on one line");
  }
  const auto client_address = domain::storable_text(request.client_address, 64);
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
    std::vector<store::OrderableProduct> products;
    std::vector<std::vector<store::ComponentRecord>> contents;  // a box's, per asked line
    for (std::size_t i = 0; i < request.lines.size(); ++i) {
      const auto& asked = request.lines[i];
      const std::string at = "lines[" + std::to_string(i) + "]";
      const auto product = store::orderable_product(unit, asked.product_id, order.business_day);
      if (!product || !product->offered)
        throw Error::invalid_field(at + ".product_id", "该商品不在网店出售 / not sold online");
      const auto quantity =
          domain::Quantity::from_client(product->unit, asked.quantity, at + ".quantity");
      if (mode == domain::PaymentMode::cash_on_pickup)
        domain::check_cash_on_pickup_quantity(settings_.cash_on_pickup, product->unit,
                                              quantity.amount(), at + ".quantity");
      std::vector<store::ComponentRecord> components;
      if (product->kind == domain::ProductKind::bundle) {
        components = store::bundle_components(unit, product->id, order.business_day);
        if (components.empty())
          throw Error::invalid_field(at + ".product_id", "礼盒是空的 / the bundle is empty");
        for (const auto& c : components)
          if (!c.active || !c.village_active)
            throw Error::invalid_field(
                at + ".product_id", "礼盒里的" + c.name + "已下架 / a component is not for sale");
      }
      domain::SaleLineInput input;
      input.quantity = quantity;
      input.unit_price = product->price;
      input.commission_bps = domain::rate_in_force(product->rates);
      inputs.push_back(input);
      products.push_back(*product);
      contents.push_back(std::move(components));
    }
    const auto priced = domain::price_sale(inputs, Fen(0), domain::Rounding::none);
    domain::check_order_goods_total(priced.total);
    std::vector<Fen> totals;
    // One order line per product line, and one per component of a gift box with its part of
    // the box's price (split by the components' list prices, each part by its own rate).
    std::map<std::int64_t, std::int64_t> quantities;
    for (std::size_t i = 0; i < priced.lines.size(); ++i) {
      const auto& product = products[i];
      const auto& p = priced.lines[i];
      totals.push_back(p.gross);
      if (contents[i].empty()) {
        store::OrderLineRecord line;
        line.line_no = static_cast<int>(order.lines.size() + 1);
        line.product_id = product.id;
        line.village_id = product.village_id;
        line.village_name = product.village_name;
        line.name = product.name;
        line.unit = product.unit;
        line.quantity = inputs[i].quantity.amount();
        line.unit_price_fen = product.price.value();
        line.gross_fen = p.gross.value();
        line.commission_bps = p.commission_bps;
        line.fee_fen = p.split.fee.value();
        line.share_fen = p.split.share.value();
        quantities[line.product_id] += line.quantity;
        order.lines.push_back(std::move(line));
        continue;
      }
      const std::int64_t boxes = inputs[i].quantity.amount();
      std::vector<domain::BundleComponentTerms> terms;
      for (const auto& c : contents[i])
        terms.push_back({c.quantity, c.price, domain::rate_in_force(c.rates)});
      const auto parts = domain::split_bundle_line(p, boxes, terms);
      const int group = static_cast<int>(order.lines.size() + 1);
      for (std::size_t k = 0; k < parts.size(); ++k) {
        const auto& c = contents[i][k];
        store::OrderLineRecord line;
        line.line_no = static_cast<int>(order.lines.size() + 1);
        line.product_id = c.product_id;
        line.village_id = c.village_id;
        line.village_name = c.village_name;
        line.name = c.name;
        line.unit = c.unit;
        line.quantity = parts[k].quantity;
        line.unit_price_fen = c.price.value();
        line.gross_fen = parts[k].gross.value();
        line.commission_bps = parts[k].commission_bps;
        line.fee_fen = parts[k].split.fee.value();
        line.share_fen = parts[k].split.share.value();
        line.bundle_product_id = product.id;
        line.bundle_name = product.name;
        line.bundle_quantity = boxes;
        line.bundle_group = group;
        quantities[line.product_id] += line.quantity;
        order.lines.push_back(std::move(line));
      }
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
    order.client_address = client_address;
    if (mode == domain::PaymentMode::cash_on_pickup) {
      const auto& limits = settings_.cash_on_pickup;
      domain::check_cash_on_pickup_total(limits, Fen(order.total_fen));
      // Counted under the guards' locks (number first, then address: one order for all), so
      // that a burst of parallel checkouts is counted one by one.
      std::int64_t for_phone = 0, from_address = 0;
      if (limits.open_per_phone > 0) {
        store::lock_checkout_guard(unit, "phone:" + phone);
        for_phone = store::count_open_cash_on_pickup_for_phone(unit, phone);
      }
      if (limits.open_per_address > 0 && !client_address.empty()) {
        store::lock_checkout_guard(unit, "address:" + client_address);
        from_address = store::count_open_cash_on_pickup_from(unit, client_address);
      }
      domain::check_open_cash_on_pickup(limits, for_phone, from_address);
    }

    // The readable number comes from the id: no sequence row that every checkout would update.
    store::insert_order(unit, order, expires_in,
                        [&](std::int64_t id) { return domain::format_order_number(day, id); });
    const auto at =
        store::record_order_event(unit, order.id, order.state, "customer", std::nullopt, "");
    // The stock last: its rows are the ones other buyers of the product wait for, so they are
    // held only from here to the commit.
    try {
      reserve_all(unit, order.id, quantities, std::nullopt, order.business_day);
    } catch (const Error& error) {
      if (error.code() != ErrorCode::out_of_stock) throw;
      std::vector<domain::AskedLine> asked;
      for (std::size_t i = 0; i < inputs.size(); ++i) {
        asked.push_back({products[i].id, inputs[i].quantity.amount(), {}});
        for (const auto& c : contents[i])
          asked.back().components.push_back({c.product_id, c.quantity});
      }
      throw short_line_error(error, asked);
    }
    // The answer is what was written, not read back: four statements fewer per checkout
    // (OrdersTest.TheCheckoutAnswerIsExactlyWhatReadingItBackGives keeps them equal).
    order.events.push_back({order.state, "customer", std::nullopt, "", at});
    auto answer = to_order(order, true, false);
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
    return staff_view(unit, *order);
  });
}

OrderPage OrderService::list(const std::optional<std::string>& state, bool attention, int page,
                             int page_size, bool oldest_first) {
  if (state && !domain::parse_order_state(*state))
    throw Error::invalid_field("state", "没有这种订单状态 / unknown state " + *state);
  const store::OrderFilter filter{state, attention, oldest_first};
  return database_.transact([&](store::UnitOfWork& unit) {
    OrderPage result;
    result.page = page;
    result.total = store::count_orders(unit, filter);
    result.pages =
        static_cast<int>(std::max<std::int64_t>(1, (result.total + page_size - 1) / page_size));
    for (const auto& r : store::list_orders(unit, filter, (page - 1) * page_size, page_size)) {
      result.items.push_back(to_order(r, true, true));
      // What the staff must act on: an order that asks for them shows its surplus payments.
      if (r.attention) result.items.back().surplus_payments = surplus_payments_view(unit, r.id);
    }
    return result;
  });
}

Order OrderService::resolve_attention(const std::string& number, const std::string& seen,
                                      const std::string& note, const domain::Principal& staff) {
  if (!domain::is_order_number(number)) throw no_such_order();
  if (auto problem = domain::text_problem(seen, 1, 200))
    throw Error::invalid_field("attention", *problem);
  if (auto problem = domain::text_problem(note, 1, 150))
    throw Error::invalid_field("note", *problem);
  return database_.transact([&](store::UnitOfWork& unit) {
    auto order = store::find_order(unit, number, true);
    if (!order) throw no_such_order();
    if (!order->attention) return staff_view(unit, *order);  // handled already (a retry)
    if (!store::clear_order_attention(unit, order->id, seen))
      throw Error(ErrorCode::conflict,
                  "这个订单又有新的待处理事项，请先查看 / the order needs something else now",
                  {{"field", "attention"}, {"attention", *order->attention}});
    // A trade nobody could confirm is settled outside now (the staff checked the merchant
    // console): the sweep stops asking about it.
    if (order->state == "expired" || order->state == "cancelled")
      store::close_order_payments(unit, order->id);
    store::record_order_event(unit, order->id, order->state, "staff", staff.user_id,
                              "已处理 / handled: " + note + " (" + seen + ")", /*internal=*/true);
    return staff_view(unit, *store::find_order_by_id(unit, order->id));
  });
}

Order OrderService::record_surplus_returned(const std::string& number,
                                            const std::string& out_trade_no,
                                            const std::string& note,
                                            const domain::Principal& staff) {
  if (!domain::is_order_number(number)) throw no_such_order();
  if (auto problem = domain::text_problem(note, 1, 150))
    throw Error::invalid_field("note", *problem);
  if (auto problem = domain::text_problem(out_trade_no, 1, 32))
    throw Error::invalid_field("out_trade_no", *problem);
  const auto day = domain::business_day(std::chrono::system_clock::now(), settings_.zone);
  return database_.transact([&](store::UnitOfWork& unit) {
    // The order's lock, as everywhere: its payments change only under it.
    const auto order = store::find_order(unit, number, true);
    if (!order) throw no_such_order();
    std::optional<store::OrderPaymentRecord> payment;
    for (auto& row : store::order_payments(unit, order->id))
      if (row.out_trade_no == out_trade_no) payment = std::move(row);
    if (!payment)
      throw Error::invalid_field("out_trade_no",
                                 "这个订单没有这笔付款 / no such payment of this order");
    if (payment->state == "returned") return staff_view(unit, *order);  // a repeat
    if (payment->state != "surplus")
      throw Error(ErrorCode::invalid_state,
                  "这笔付款不是待退回的重复付款 / this payment is not one held to send back",
                  {{"field", "out_trade_no"}, {"state", payment->state}});
    if (!store::finish_surplus_return(unit, payment->id, true, "manual", std::nullopt))
      throw Error(ErrorCode::internal, "internal error", {}, "surplus payment changed under lock");
    store::post_entry(
        unit, "surplus_return", payment->id, domain::format_iso_date(day),
        domain::unsold_refund_postings(tender_of(payment->provider), 0, Fen(payment->amount_fen)),
        out_trade_no + " manual");
    store::record_order_event(unit, order->id, order->state, "staff", staff.user_id,
                              "重复付款 " + yuan(payment->amount_fen) +
                                  " 已原路退回 / paid-twice " + "payment sent back");
    store::record_order_event(unit, order->id, order->state, "staff", staff.user_id,
                              "商户平台人工退回 / sent back by hand: " + out_trade_no + ": " + note,
                              /*internal=*/true);
    store::clear_order_attention(unit, order->id, surplus_note(out_trade_no));
    store::clear_order_attention(unit, order->id, surplus_refused_note(out_trade_no));
    return staff_view(unit, *store::find_order_by_id(unit, order->id));
  });
}

Order OrderService::cancel(const std::string& number, const std::optional<std::string>& token,
                           const std::optional<domain::Principal>& staff) {
  if (!domain::is_order_number(number)) throw no_such_order();
  // An unpaid order's open trade is settled first, so that a cancel never answers "cancelled"
  // while the provider holds the customer's money (paid a moment ago, notification not yet
  // here): the order is then paid, and the cancel answers as for any paid order. A trade found
  // closed is marked so; a provider that does not answer leaves it to the close after the
  // cancel and to the sweep, as before.
  const auto open = database_.transact([&](store::UnitOfWork& unit) {
    std::optional<store::OrderPaymentRecord> trade;
    const auto order = store::find_order(unit, number, false);
    if (order && may_act(*order, token, staff.has_value()) && order->state == "pending_payment" &&
        order->payment && order->payment->state == "started")
      trade = order->payment;
    return trade;
  });
  if (open && resolve_trade(*open) == TradeAnswer::closed)
    database_.transact([&](store::UnitOfWork& unit) { store::close_payment(unit, open->id); });
  std::optional<store::OrderPaymentRecord> to_close;
  std::vector<std::int64_t> to_drive;
  auto order = database_.transact([&](store::UnitOfWork& unit) {
    to_close.reset();
    to_drive.clear();
    auto order = store::find_order(unit, number, true);
    if (!order) throw no_such_order();
    if (!may_act(*order, token, staff.has_value())) throw no_such_order();
    const auto mode = mode_of(order->payment_method);
    if (!staff && !domain::customer_may_cancel(state_of(order->state), mode)) {
      const bool over = order->state == "cancelled" || order->state == "expired" ||
                        order->state == "refunded" || order->state == "completed";
      throw Error(ErrorCode::invalid_state,
                  over ? "订单已结束，无需取消 / the order is already over: nothing to cancel"
                       : "订单已付款或已在备货，请联系驿站取消并退款 / the order is paid or being "
                         "prepared: the station cancels and refunds it",
                  {{"state", order->state}});
    }
    if (order->paid_fen > order->refunded_fen) {
      // Staff cancel a paid order: everything left is refunded through the provider it was
      // paid with, and the refund's success cancels it. Whatever refunds already hold (a retry
      // of this cancel) is not asked twice: those are only asked about again.
      // 409 invalid_state when the goods are gone (shipped): refund those instead.
      next_state(*order, OrderEvent::cancel);
      std::int64_t held = 0;
      for (const auto& refund : store::order_refunds(unit, order->id)) {
        if (refund.state == "failed") continue;
        held += refund.amount_fen;
        if (refund.state == "processing") to_drive.push_back(refund.id);
      }
      if (held < order->paid_fen) {
        OrderRefundRequest everything;
        everything.all = true;
        everything.reason = "订单取消 / order cancelled";
        to_drive.push_back(open_refund(unit, *order, everything, "cancel", staff));
      }
      return *store::find_order_by_id(unit, order->id);
    }
    const auto next = next_state(*order, OrderEvent::cancel);
    if (!store::move_order(unit, order->id, order->state, std::string(domain::to_string(next)),
                           staff ? "staff" : "customer",
                           staff ? std::optional(staff->user_id) : std::nullopt, ""))
      throw Error(ErrorCode::conflict, "订单刚被改变，请重试 / the order just changed: retry");
    if (domain::holds_reservation(state_of(order->state))) release_all(unit, *order);
    if (order->payment && order->payment->state == "started") to_close = order->payment;
    return *store::find_order_by_id(unit, order->id);
  });
  for (const auto id : to_drive)
    drive_refund(id);
  if (!to_drive.empty()) {
    // A refund the provider refused leaves the order paid (and flagged for the staff): the
    // cancel did not happen, and the answer says so instead of a 200 with the order unchanged.
    // One still processing is 202 (the API's): the sweep finishes it and the order then cancels.
    const auto refused = database_.transact([&](store::UnitOfWork& unit) {
      std::optional<store::OrderRefundRecord> found;
      for (const auto id : to_drive) {
        auto refund = store::find_order_refund(unit, id);
        if (refund && refund->state == "failed") found = std::move(refund);
      }
      return found;
    });
    if (refused)
      throw Error(ErrorCode::payment_declined,
                  "支付渠道拒绝了退款，订单仍为已付款；可改为现金退款 / the provider refused the "
                  "refund: the order is still paid (refund in cash instead)",
                  {{"field", "refund"},
                   {"out_refund_no", refused->out_refund_no},
                   {"provider", refused->method},
                   {"provider_code", refused->provider_state.value_or("refused")},
                   {"reason", refused->failure.value_or("")}});
  }
  // An unpaid provider order is closed so it can no longer be paid. Its payment stays `started`
  // for settle_unsettled to confirm (an Alipay code nobody scanned has no trade to close and
  // stays payable until the order's own time; a payment made just before is found there and
  // handled as a late one).
  if (to_close) {
    const auto found = providers_.find(to_close->provider);
    if (found != providers_.end() && found->second.provider) try {
        found->second.provider->close(to_close->out_trade_no);
      } catch (const std::exception& e) {
        spdlog::warn("closing payment {} failed: {}", to_close->out_trade_no, e.what());
      }
  }
  if (staff) return for_staff(number);
  return to_order(order, pickup_code_visible(order), false);
}

void OrderService::check_pickup_code(const std::string& number,
                                     const std::optional<std::string>& pickup_code) {
  // The code proves the person at the counter owns a pickup order. Each wrong one is counted in
  // its own transaction (the handover's would roll the count back): 5 in a row lock the
  // handover for 15 minutes, so a million codes cannot be tried from a signed-in till (P7).
  constexpr int kLimit = 5;
  constexpr int kLockSeconds = 15 * 60;
  const auto wrong = database_.transact([&](store::UnitOfWork& unit) -> std::optional<int> {
    const auto found = store::pickup_guard(unit, number);
    if (!found || !found->pickup) return std::nullopt;  // a delivery needs none
    const auto& guard = *found;
    if (guard.locked_seconds > 0)
      throw Error(ErrorCode::too_many_attempts,
                  "取货码错误次数太多，请 " + std::to_string((guard.locked_seconds + 59) / 60) +
                      " 分钟后再试 / too many wrong pickup codes: try again later",
                  {{"field", "pickup_code"},
                   {"retry_after_seconds", std::to_string(guard.locked_seconds)}});
    if (!pickup_code)
      throw Error::invalid_field("pickup_code", "取货码为 6 位数字 / the pickup code has 6 digits");
    if (*pickup_code == guard.pickup_code) {
      store::clear_pickup_failures(unit, guard.order_id);
      return std::nullopt;
    }
    const auto now = store::record_pickup_failure(unit, guard.order_id, kLimit, kLockSeconds);
    return now.locked_seconds > 0 ? 0 : kLimit - now.failures;
  });
  if (wrong)
    throw Error(ErrorCode::invalid,
                *wrong > 0
                    ? "取货码不对，还可试 " + std::to_string(*wrong) + " 次 / wrong pickup code"
                    : "取货码不对，已锁定 15 分钟 / wrong pickup code: locked for 15 "
                      "minutes",
                {{"field", "pickup_code"}, {"attempts_left", std::to_string(*wrong)}});
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
      if (auto problem = domain::line_problem(value.value_or(""), 1, 50))
        throw Error::invalid_field(field, *problem);
  }
  if (*event == OrderEvent::hand_over && pickup_code && !domain::is_pickup_code(*pickup_code))
    throw Error::invalid_field("pickup_code", "取货码为 6 位数字 / the pickup code has 6 digits");
  if (*event == OrderEvent::hand_over) check_pickup_code(number, pickup_code);
  const auto day = domain::business_day(std::chrono::system_clock::now(), settings_.zone);
  return database_.transact([&](store::UnitOfWork& unit) {
    auto order = store::find_order(unit, number, true);
    if (!order) throw no_such_order();
    const auto next = next_state(*order, *event);
    if (*event == OrderEvent::hand_over && order->fulfilment == "pickup" &&
        pickup_code != order->pickup_code)
      throw Error(ErrorCode::invalid, "取货码不对 / wrong pickup code", {{"field", "pickup_code"}});
    if (*event == OrderEvent::ship) store::set_order_shipping(unit, order->id, *carrier, *waybill);
    // The goods leave when shipped (delivery) or handed over (pickup).
    const bool leaves = *event == OrderEvent::ship ||
                        (*event == OrderEvent::hand_over && order->fulfilment == "pickup");
    if (leaves) {
      for (const auto& refund : store::order_refunds(unit, order->id))
        if (refund.state == "processing")
          throw Error(ErrorCode::conflict,
                      "退款处理中，请稍后再交付 / a refund of this order is in progress",
                      {{"refund", refund.out_refund_no}});
      goods_leave(unit, *order, day, staff.user_id);
    }
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
    return staff_view(unit, *store::find_order_by_id(unit, order->id));
  });
}

namespace {

/// The state of a WeChat sign-in: the order number in hex, then a MAC keyed by the order's
/// token digest (which only the server holds) over the number and the browser's nonce, so that
/// the answer names the order it began for, nobody without the order's token can make one, and
/// it works only in the browser that began it. [0-9a-z] only, as WeChat requires.
std::string sign_in_state(const std::string& number, const std::string& token_hash,
                          const std::string& browser_nonce) {
  return payments::hex_lower(number) + "z" +
         payments::hmac_sha256_upper_hex(token_hash,
                                         "wechat-sign-in|" + number + "|" + browser_nonce)
             .substr(0, 32);
}

}  // namespace

std::optional<std::string> OrderService::order_of_sign_in_state(std::string_view state) {
  const auto z = state.find('z');
  if (z == std::string_view::npos || z == 0 || z % 2 != 0 || z > 64 || state.size() != z + 1 + 32)
    return std::nullopt;
  std::string number;
  for (std::size_t i = 0; i < z; i += 2) {
    int value = 0;
    for (const char c : state.substr(i, 2)) {
      value *= 16;
      if (c >= '0' && c <= '9')
        value += c - '0';
      else if (c >= 'a' && c <= 'f')
        value += c - 'a' + 10;
      else
        return std::nullopt;
    }
    number.push_back(static_cast<char>(value));
  }
  if (!domain::is_order_number(number)) return std::nullopt;
  return number;
}

namespace {

bool plain_code(std::string_view code) {
  return !code.empty() && code.size() <= 128 && std::all_of(code.begin(), code.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  });
}

/// The order's latest trade is through `channel`, open and shown: a second ask keeps it (one
/// whose start had no answer is asked again).
bool showing(const Order& order, const std::string& channel) {
  return order.payment && order.payment->channel == channel && order.payment->state == "started" &&
         (order.payment->qr_content || order.payment->redirect_url || order.payment->jsapi);
}

}  // namespace

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
  require_awaiting(order);
  if (showing(order, channel)) return order;
  auto& provider = provider_for(provider_name);
  if (provider_channel == payments::Channel::wechat_jsapi) {
    // JSAPI pays as a WeChat user: the page first signs the payer in (GET …/wechat-sign-in),
    // which comes back through finish_wechat_sign_in and starts the payment there.
    if (provider.sign_in_url("x").empty())
      throw Error::invalid_field("channel",
                                 "公众号支付需要微信登录 / JSAPI needs a WeChat sign-in");
    throw Error(
        ErrorCode::invalid, "请先微信授权 / sign in with WeChat first",
        {{"field", "channel"}, {"sign_in", "/api/v1/orders/" + number + "/wechat-sign-in"}});
  }
  begin_payment(number, channel, provider_name, provider_channel, client_address, std::nullopt);
  return for_customer(number, token);
}

void OrderService::require_awaiting(const Order& order) const {
  if (order.state != "pending_payment")
    throw Error(ErrorCode::invalid_state, "订单不在待支付状态 / the order is not awaiting payment",
                {{"state", order.state}});
  // WeChat Pay and Alipay are interchangeable until the order is paid (a customer who chose one
  // at checkout may pay with the other); an order to be paid in cash at pickup is not paid here.
  if (mode_of(order.payment_method) != domain::PaymentMode::online)
    throw Error::invalid_field("channel", "本单在取货时付款 / this order is paid at pickup");
  // Past its time, though the sweep (every 20 s) has not moved it yet: no new trade for it
  // (probe-2 P13); a trade already shown may still be paid, and the sweep settles it.
  const auto now = std::chrono::duration_cast<std::chrono::microseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  if (order.expires_at && *order.expires_at <= now)
    throw Error(ErrorCode::invalid_state,
                "订单已过期，请重新下单 / the order has expired: order again",
                {{"state", "expired"}});
}

payments::Provider& OrderService::provider_for(const std::string& provider_name) const {
  const auto account = providers_.find(provider_name);
  if (account == providers_.end() || !account->second.provider)
    throw Error(ErrorCode::unavailable, "支付暂不可用 / payments are not available");
  return *account->second.provider;
}

OrderService::WechatSignIn OrderService::wechat_sign_in(const std::string& number,
                                                        const std::string& token) {
  const auto order = for_customer(number, token);
  require_awaiting(order);
  WechatSignIn sign_in{.url = {}, .browser_nonce = payments::random_token(22)};  // 130 bits
  sign_in.url = provider_for("wechat").sign_in_url(
      sign_in_state(number, token_digest(token), sign_in.browser_nonce));
  if (sign_in.url.empty())
    throw Error(ErrorCode::unavailable, "本站未开通公众号支付 / WeChat sign-in is not configured");
  return sign_in;
}

std::string OrderService::finish_wechat_sign_in(const std::string& code, const std::string& state,
                                                const std::string& browser_nonce,
                                                const std::string& client_address) {
  const auto number = order_of_sign_in_state(state);
  if (!number) throw Error::invalid_field("state", "微信授权参数无效 / malformed state");
  if (!plain_code(code)) throw Error::invalid_field("code", "微信授权码无效 / malformed code");
  const auto order = database_.transact([&](store::UnitOfWork& unit) {
    auto found = store::find_order(unit, *number);
    if (!found || browser_nonce.empty() ||
        !payments::constant_time_equal(sign_in_state(*number, found->token_hash, browser_nonce),
                                       state))
      throw Error::invalid_field("state", "微信授权参数无效 / the state does not match an order");
    return to_order(*found, false, false);
  });
  require_awaiting(order);
  // Asked again (a reload of WeChat's redirect): the payment started the first time stands.
  if (showing(order, "wechat_jsapi")) return *number;
  std::string openid;
  try {
    openid = provider_for("wechat").openid_for_code(code);
  } catch (const payments::ProviderError& e) {
    spdlog::warn("WeChat sign-in for {} failed: {}", *number, e.what());
    if (e.kind == payments::ProviderError::Kind::refused)
      throw Error::invalid_field("code", "微信授权已失效，请重试 / the sign-in code was refused");
    throw Error(ErrorCode::unavailable,
                "微信暂不可用，请稍后再试 / WeChat did not answer: try again");
  }
  begin_payment(*number, "wechat_jsapi", "wechat", payments::Channel::wechat_jsapi, client_address,
                openid);
  return *number;
}

void OrderService::begin_payment(const std::string& number, const std::string& channel,
                                 const std::string& provider_name,
                                 payments::Channel provider_channel,
                                 const std::string& client_address,
                                 const std::optional<std::string>& payer_openid) {
  auto& provider = provider_for(provider_name);
  // Each trade is recorded (`started`) before it is asked of the provider, so the server never
  // loses track of one it asked for (a timeout, a crash, a cancel in between): the sweep and a
  // cancel find it. A channel's open trade is asked again under its own out_trade_no (a retry
  // makes no second trade); another channel gets a new trade only once the order's other open
  // trade is confirmed closed, so at most one trade of an order can be paid.
  struct Ask {
    std::optional<store::OrderPaymentRecord> trade;  ///< this channel's open trade, to ask for
    std::optional<store::OrderPaymentRecord> other;  ///< another open trade, to close first
    std::int64_t expires_at = 0;
  };
  std::optional<store::OrderPaymentRecord> trade;
  std::int64_t expires_at = 0;
  for (int attempt = 0; !trade; ++attempt) {
    const auto ask = database_.transact([&](store::UnitOfWork& unit) {
      Ask ask;
      const auto order = store::find_order(unit, number, true);
      if (!order) throw no_such_order();
      require_awaiting(to_order(*order, false, false));
      ask.expires_at = order->expires_at.value_or(0);
      const auto trades = store::order_payments(unit, order->id);
      for (const auto& row : trades)
        if (row.state == "started") (row.channel == channel ? ask.trade : ask.other) = row;
      if (ask.trade) return ask;
      // Checked before another channel's open trade is closed: past the limit that trade stays
      // open, so the code or link the customer already has still pays.
      if (static_cast<int>(trades.size()) >= domain::kMaxTradesPerOrder)
        throw Error(ErrorCode::conflict,
                    "本单换支付方式次数过多，请用已给出的二维码或链接付款，或重新下单 / too many "
                    "payment starts for this order: pay with the code or link already given, or "
                    "order again",
                    {{"field", "channel"}});
      if (ask.other) return ask;
      store::OrderPaymentRecord payment;
      payment.order_id = order->id;
      payment.provider = provider_name;
      payment.channel = channel;
      payment.out_trade_no = domain::trade_number(number, static_cast<int>(trades.size()) + 1);
      payment.amount_fen = order->total_fen;
      payment.state = "started";
      payment.id = store::insert_order_payment(unit, payment);
      ask.trade = payment;
      return ask;
    });
    expires_at = ask.expires_at;
    if (ask.trade) {
      // Already shown (a second device on the same channel, a reload): the same trade stands.
      if (ask.trade->qr_content || ask.trade->redirect_url || ask.trade->jsapi) return;
      trade = ask.trade;
      break;
    }
    if (attempt > 0)
      throw Error(ErrorCode::conflict, "订单刚被改变，请重试 / the order just changed: retry");
    switch (resolve_trade(*ask.other)) {
      case TradeAnswer::closed:
      case TradeAnswer::absent:  // no trade was made (an Alipay code nobody scanned yet)
        database_.transact(
            [&](store::UnitOfWork& unit) { store::close_payment(unit, ask.other->id); });
        break;
      case TradeAnswer::paid:
      case TradeAnswer::flagged:
        throw Error(ErrorCode::invalid_state,
                    "订单已通过另一种方式付款 / the order was paid another way",
                    {{"field", "channel"}});
      case TradeAnswer::open:
      case TradeAnswer::unanswered:
      case TradeAnswer::unclear:
        throw Error(
            ErrorCode::unavailable,
            "支付渠道暂不可用，请稍后再试 / the payment provider did not answer: try again");
    }
  }
  payments::PaymentRequest ask;
  ask.out_trade_no = trade->out_trade_no;
  ask.amount = Fen(trade->amount_fen);
  ask.description = "乡村联盟驿站订单 " + number;
  ask.channel = provider_channel;
  ask.client_ip = client_address;
  ask.payer_openid = payer_openid;
  ask.expires_at = std::chrono::system_clock::time_point(std::chrono::microseconds(expires_at));
  payments::PaymentStart started;
  try {
    started = provider.start(ask);
  } catch (const payments::ProviderError& e) {
    spdlog::warn("starting payment {} of {} with {} failed: {}", trade->out_trade_no, number,
                 provider_name, e.what());
    if (e.kind != payments::ProviderError::Kind::refused)
      // No answer (or one that cannot be read): the trade may exist; it stays `started`, a retry
      // asks again under the same out_trade_no and the sweep settles it.
      throw Error(ErrorCode::unavailable,
                  "支付渠道暂不可用，请稍后再试 / the payment provider did not answer: try again");
    // A definite refusal: no trade was made (or it was paid or closed: its notification, or
    // the sweep's question, still finds this row), so the next start asks for a new one.
    database_.transact([&](store::UnitOfWork& unit) { store::close_payment(unit, trade->id); });
    throw Error(ErrorCode::conflict,
                "支付渠道拒绝了这笔付款，请换一种方式付款或重新下单 / the payment provider "
                "refused this payment: pay another way or order again",
                {{"field", "channel"}, {"provider_code", e.provider_code}});
  }
  trade->qr_content = started.qr_content;
  trade->redirect_url = started.redirect_url;
  if (started.jsapi) trade->jsapi = payments::wechat::jsapi_json(*started.jsapi);
  const bool stands = database_.transact([&](store::UnitOfWork& unit) {
    const auto current = store::find_order(unit, number, true);
    if (!current || current->state != "pending_payment") return false;
    for (const auto& row : store::order_payments(unit, current->id))
      if (row.id == trade->id && row.state == "started") {
        store::show_payment(unit, *trade);
        if (current->payment_method != provider_name) {
          // Switched provider (the other's trade confirmed closed, this one shown): the order
          // is this provider's now; its refunds follow the trade that gets paid.
          store::set_order_payment_method(unit, current->id, provider_name);
          store::record_order_event(unit, current->id, current->state, "customer", std::nullopt,
                                    "改用" + std::string(provider_title(provider_name)) +
                                        "付款 / switched to " + provider_name,
                                    true);
        }
        return true;
      }
    return false;
  });
  if (stands) return;
  // Cancelled, expired or paid while the provider was asked (or its row closed by a start of
  // another channel): the new trade is closed so it cannot be paid as well. One that cannot be
  // closed now stays `started` for the sweep; one paid meanwhile is settled as a late payment.
  const auto answer = resolve_trade(*trade);
  if (answer == TradeAnswer::closed || answer == TradeAnswer::absent)
    database_.transact([&](store::UnitOfWork& unit) { store::close_payment(unit, trade->id); });
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
  const auto [status, answer] = provider.notification_answer(true);
  settle_payment(provider_name, account->second, paid, "");
  return {status, answer};
}

bool OrderService::settle_payment(const std::string& provider_name, const PaymentAccount& account,
                                  const payments::PaymentState& paid, const std::string& how) {
  const std::optional<std::int64_t> amount =
      paid.amount ? std::optional(paid.amount->value()) : std::nullopt;
  const std::optional<std::string> transaction =
      paid.transaction_id.empty() ? std::nullopt : std::optional(paid.transaction_id);
  if (paid.state != payments::PaymentState::State::paid) {
    database_.transact([&](store::UnitOfWork& unit) {
      store::record_notification(unit, provider_name, "ignored", paid.out_trade_no, transaction,
                                 amount, how + "state " + paid.raw_state);
    });
    return false;
  }
  const auto day = domain::business_day(std::chrono::system_clock::now(), settings_.zone);
  std::optional<std::int64_t> auto_refund;
  std::optional<std::int64_t> surplus;
  bool settled = true;
  database_.transact([&](store::UnitOfWork& unit) {
    auto_refund.reset();
    surplus.reset();
    settled = true;
    const auto payment = store::find_payment_by_trade(unit, provider_name, paid.out_trade_no, true);
    if (!payment) {
      store::record_notification(unit, provider_name, "mismatch", paid.out_trade_no, transaction,
                                 amount, how + "no such payment");
      settled = false;
      // Money taken for a trade of one of our orders that this server has no row of: the staff
      // must see it (and send it back through the merchant console).
      const auto number = domain::order_of_trade(paid.out_trade_no);
      if (const auto order = number ? store::find_order(unit, *number, true) : std::nullopt)
        store::set_order_attention(
            unit, order->id,
            "收到本站未记录的付款 " + paid.out_trade_no + "（" +
                std::to_string(amount.value_or(0)) +
                " 分），请在商户平台核对并退款 / a payment this server has no record of: check and "
                "refund it in the merchant console");
      return;
    }
    auto order = store::find_order_by_id(unit, payment->order_id, true, store::OrderDetail::lines);
    std::string problem;
    if (!paid.amount)
      problem = "amount unreadable, expected " + std::to_string(payment->amount_fen);
    else if (paid.amount->value() != payment->amount_fen)
      problem =
          "amount " + std::to_string(*amount) + " is not " + std::to_string(payment->amount_fen);
    else if (paid.currency != "CNY")
      problem = "currency " + paid.currency.substr(0, 16) + " is not CNY";
    else if (!account.merchant_id.empty() && paid.merchant_id != account.merchant_id)
      problem = "merchant " + paid.merchant_id + " is not ours";
    else if (!account.app_id.empty() && paid.app_id != account.app_id)
      // Every notification and query answer names the app (Alipay's query: ours, see alipay.cpp).
      problem =
          "app " + (paid.app_id.empty() ? std::string("(none)") : paid.app_id) + " is not ours";
    if (!problem.empty()) {
      store::record_notification(unit, provider_name, "mismatch", paid.out_trade_no, transaction,
                                 amount, how + problem);
      store::set_order_attention(unit, order->id, "支付通知不符 / payment mismatch: " + problem);
      settled = false;
      return;
    }
    if (payment->state == "paid" || payment->state == "surplus" || payment->state == "returned") {
      store::record_notification(unit, provider_name, "duplicate", paid.out_trade_no, transaction,
                                 amount, how);
      return;
    }
    const auto state = state_of(order->state);
    if (state != OrderState::pending_payment) {
      // A second trade of the order paid too (two devices, a close that did not get through):
      // the goods are paid once. The second payment is surplus: held for refund on the books
      // and sent back through its own trade at once (the staff see that it happened).
      const auto first = store::find_paid_payment(unit, order->id);
      if (first && first->state == "paid" && first->id != payment->id) {
        if (!store::mark_payment_surplus(unit, payment->id, transaction)) {
          store::record_notification(unit, provider_name, "mismatch", paid.out_trade_no,
                                     transaction, amount,
                                     how + "paid twice, but the trade is " + payment->state);
          store::set_order_attention(
              unit, order->id,
              "重复付款：" + paid.out_trade_no + " 也已付款，请在商户平台退回这笔 / paid twice: " +
                  paid.out_trade_no + " was paid as well, refund it in the merchant console");
          settled = false;
          return;
        }
        store::post_entry(
            unit, "surplus_payment", payment->id, domain::format_iso_date(day),
            domain::unsold_payment_postings(tender_of(provider_name), Fen(payment->amount_fen)),
            paid.out_trade_no + " surplus");
        surplus = payment->id;
        store::record_notification(
            unit, provider_name, "mismatch", paid.out_trade_no, transaction, amount,
            how + "paid twice: " + first->out_trade_no + " was paid first; this one is sent back");
        // The customer sees it in the order's history; the staff's note is not overwritten.
        store::record_order_event(unit, order->id, order->state, "provider", std::nullopt,
                                  "重复付款 " + yuan(payment->amount_fen) +
                                      "，正在原路退回 / paid twice: " + yuan(payment->amount_fen) +
                                      " is being sent back");
        store::flag_order(unit, order->id, surplus_note(paid.out_trade_no));
        settled = false;
        return;
      }
    }
    store::mark_payment_paid(unit, payment->id, order->id, transaction);
    // The provider that took the money is the order's from now on (refunds go back through it),
    // even when it was a trade of the provider the customer had switched away from.
    if (order->payment_method != provider_name)
      store::set_order_payment_method(unit, order->id, provider_name);
    // The goods are paid for (and the villages owed their shares) unless they are gone.
    const auto paid_for_goods = [&] {
      store::post_entry(
          unit, "order_payment", order->id, domain::format_iso_date(day),
          domain::order_payment_postings(tender_of(provider_name), 0, splits_of(*order),
                                         Fen(order->delivery_fee_fen)),
          order->number);
    };
    if (state == OrderState::pending_payment) {
      paid_for_goods();
      store::move_order_paid(unit, order->id, order->state, payment->amount_fen,
                             transaction.value_or(""));
      store::record_notification(unit, provider_name, "accepted", paid.out_trade_no, transaction,
                                 amount, how);
      return;
    }
    store::add_order_paid(unit, order->id, payment->amount_fen);
    // Paid after it expired or was cancelled: kept when the stock is still there.
    std::string verdict = "late";
    if (state == OrderState::expired || state == OrderState::cancelled) {
      try {
        reserve_all(unit, order->id, per_product(*order), std::nullopt,
                    domain::format_iso_date(day));
        paid_for_goods();
        store::move_order(unit, order->id, order->state, "paid", "provider", std::nullopt,
                          "迟到的付款，库存仍在 / late payment, stock still there");
        store::set_order_attention(unit, order->id,
                                   "过期后付款，已恢复订单 / paid after expiry: order restored");
      } catch (const Error& error) {
        if (error.code() != ErrorCode::out_of_stock) throw;
        // Nothing was sold: the money is held for refund, owed to no village, and sent back
        // at once through the same provider (issue 9).
        store::set_order_unsold(unit, order->id);
        store::post_entry(
            unit, "order_payment", order->id, domain::format_iso_date(day),
            domain::unsold_payment_postings(tender_of(provider_name), Fen(payment->amount_fen)),
            order->number + " unsold");
        store::set_order_attention(
            unit, order->id,
            "过期后付款但库存已无，已自动退款 / paid after expiry, stock gone: refunded "
            "automatically");
        const auto unsold = store::find_order_by_id(unit, order->id, false);
        OrderRefundRequest everything;
        everything.all = true;
        everything.reason = "订单已过期，库存已无 / order expired, goods gone";
        auto_refund = open_refund(unit, *unsold, everything, "late_payment", std::nullopt);
      }
    } else {
      paid_for_goods();
    }
    store::record_notification(unit, provider_name, verdict, paid.out_trade_no, transaction, amount,
                               how + "order was " + order->state);
  });
  // Outside the transaction: a crash before the answer leaves it for finish_refunds.
  if (auto_refund) drive_refund(*auto_refund);
  if (surplus) return_surplus(*surplus);
  return settled;
}

OrderService::TradeAnswer OrderService::settle_by_query(const store::OrderPaymentRecord& payment) {
  const auto account = providers_.find(payment.provider);
  if (account == providers_.end() || !account->second.provider) return TradeAnswer::unanswered;
  payments::PaymentState state;
  try {
    state = account->second.provider->query(payment.out_trade_no);
  } catch (const payments::ProviderError& e) {
    spdlog::warn("asking {} about {} failed: {}", payment.provider, payment.out_trade_no, e.what());
    return e.kind == payments::ProviderError::Kind::unreachable ? TradeAnswer::unanswered
                                                                : TradeAnswer::unclear;
  } catch (const std::exception& e) {
    spdlog::warn("asking {} about {} failed: {}", payment.provider, payment.out_trade_no, e.what());
    return TradeAnswer::unclear;
  }
  using State = payments::PaymentState::State;
  switch (state.state) {
    case State::not_paid:
      // No trade yet (an Alipay code nobody scanned, a prepay that never happened): nothing to
      // close, but a code shown may still be paid until the order's own time is up.
      if (state.raw_state == "ACQ.TRADE_NOT_EXIST" || state.raw_state == "ORDER_NOT_EXIST")
        return TradeAnswer::absent;
      return TradeAnswer::open;
    case State::paying: return TradeAnswer::open;
    case State::closed:
    case State::failed: return TradeAnswer::closed;
    case State::refunded:
      // Paid and given back at the provider, never booked here: nothing to book, nothing to
      // close; the log says so.
      spdlog::warn("{} says {} was refunded ({}), though it was never booked as paid",
                   payment.provider, payment.out_trade_no, state.raw_state);
      return TradeAnswer::closed;
    case State::paid: break;
  }
  // Its notification is late or lost: the answer pays the order as the notification would
  // (same checks of amount and merchant; a notification that still comes is a duplicate; an
  // expired or cancelled order is restored, or its money sent back).
  if (state.out_trade_no.empty()) state.out_trade_no = payment.out_trade_no;
  spdlog::info("{} says {} is paid ({}): settled by query", payment.provider, payment.out_trade_no,
               state.raw_state);
  return settle_payment(payment.provider, account->second, state, "查询 / by query: ")
             ? TradeAnswer::paid
             : TradeAnswer::flagged;
}

OrderService::TradeAnswer OrderService::resolve_trade(const store::OrderPaymentRecord& payment) {
  const auto answer = settle_by_query(payment);
  if (answer != TradeAnswer::open) return answer;
  const auto account = providers_.find(payment.provider);
  try {
    account->second.provider->close(payment.out_trade_no);
    return TradeAnswer::closed;
  } catch (const payments::ProviderError& e) {
    if (e.provider_code == "ORDER_CLOSED") return TradeAnswer::closed;  // closed by someone else
    spdlog::warn("closing payment {} failed: {}", payment.out_trade_no, e.what());
  } catch (const std::exception& e) {
    spdlog::warn("closing payment {} failed: {}", payment.out_trade_no, e.what());
  }
  // Refused because it was paid in between (ORDERPAID), or closed by another process: asked
  // once more. Still open (the close did not get through) is left for the next sweep.
  return settle_by_query(payment);
}

namespace {

/// The order's payment while its trade is `started` and the order in one of `states`.
std::optional<store::OrderPaymentRecord> open_trade(
    const std::optional<store::OrderRecord>& order,
    std::initializer_list<std::string_view> states) {
  if (!order || !order->payment || order->payment->state != "started") return std::nullopt;
  if (std::find(states.begin(), states.end(), order->state) == states.end()) return std::nullopt;
  return order->payment;
}

/// Alipay trades of the order closed here, older than its latest: one closed while Alipay had no
/// trade yet (a code nobody had scanned when the customer switched channel or provider) stays
/// payable until the order's own time is up, so they are asked about with its open trade.
std::vector<store::OrderPaymentRecord> closed_alipay_trades(store::UnitOfWork& unit,
                                                            const store::OrderRecord& order) {
  std::vector<store::OrderPaymentRecord> found;
  auto trades = store::order_payments(unit, order.id);  // by id: the latest last
  if (!trades.empty()) trades.pop_back();
  for (auto& trade : trades)
    if (trade.provider == "alipay" && trade.state == "closed") found.push_back(std::move(trade));
  return found;
}

}  // namespace

Order OrderService::check_payment(const std::string& number, const std::string& token, bool staff) {
  if (!domain::is_order_number(number) || (!staff && (token.empty() || token.size() > 100)))
    throw no_such_order();
  // At most one question to the provider per order every few seconds, however many pages (or
  // processes) ask: the claim is a conditional update. An expired or cancelled order whose
  // trade was never confirmed closed is asked about too: a payment found pays it late.
  struct Ask {
    std::optional<store::OrderPaymentRecord> open;
    std::vector<store::OrderPaymentRecord> closed;  ///< Alipay codes maybe still payable
  };
  const auto ask = database_.transact([&](store::UnitOfWork& unit) {
    const auto order = store::find_order(unit, number);
    if (!order || !may_act(*order, token, staff)) throw no_such_order();
    Ask ask{open_trade(order, {"pending_payment", "expired", "cancelled"}), {}};
    if (order->state == "pending_payment") ask.closed = closed_alipay_trades(unit, *order);
    if ((ask.open || !ask.closed.empty()) &&
        !store::claim_payment_check(unit, order->id, kPaymentCheckSeconds))
      ask = {};
    return ask;
  });
  bool paid = ask.open && settle_by_query(*ask.open) == TradeAnswer::paid;
  for (const auto& trade : ask.closed)
    if (!paid) paid = settle_by_query(trade) == TradeAnswer::paid;
  return staff ? for_staff(number) : for_customer(number, token);
}

int OrderService::settle_unsettled(int limit) {
  const auto ids = database_.transact([&](store::UnitOfWork& unit) {
    return store::orders_with_unsettled_payments(unit, kUnsettledDays, limit);
  });
  int settled = 0;
  std::set<std::string> unanswered;  // providers that did not answer in this pass
  const auto now_micros = std::chrono::duration_cast<std::chrono::microseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  for (const auto id : ids) {
    try {
      struct Unsettled {
        store::OrderPaymentRecord payment;
        bool code_expired = true;  ///< past the order's own time: a code shown is dead
      };
      // Claimed like 我已支付 (so two processes do not ask about one trade in one pass, and the
      // order goes to the back of the queue); a leftover `started` row beside a settled one
      // (two channels, one trade) is closed here.
      const auto ask = database_.transact([&](store::UnitOfWork& unit) -> std::optional<Unsettled> {
        const auto order = store::find_order_by_id(unit, id, false);
        if (!order || (order->state != "expired" && order->state != "cancelled") || !order->payment)
          return std::nullopt;
        if (order->payment->state != "started") {
          store::close_order_payments(unit, id);
          return std::nullopt;
        }
        if (unanswered.contains(order->payment->provider) ||
            !store::claim_payment_check(unit, id, kSweepSeconds - 5))
          return std::nullopt;
        return Unsettled{*order->payment, order->expires_at.value_or(0) < now_micros};
      });
      if (!ask) continue;
      switch (resolve_trade(ask->payment)) {
        case TradeAnswer::paid: ++settled; break;
        case TradeAnswer::absent:
          if (!ask->code_expired) break;  // asked again until the code is dead
          [[fallthrough]];
        case TradeAnswer::closed:
        case TradeAnswer::flagged:  // recorded and flagged for the staff: not asked again
          database_.transact(
              [&](store::UnitOfWork& unit) { store::close_order_payments(unit, id); });
          ++settled;
          break;
        case TradeAnswer::unanswered: unanswered.insert(ask->payment.provider); break;
        case TradeAnswer::open:
        case TradeAnswer::unclear: break;
      }
    } catch (const std::exception& e) {
      // One order's trouble does not stop the others (it goes to the back of the queue).
      spdlog::warn("settling the trade of order {} failed: {}", id, e.what());
    }
  }
  // Asked about for kUnsettledDays without an answer either way: the staff check it in the
  // merchant console (需要处理), since money may have been taken that nobody booked.
  const auto stale = database_.transact([&](store::UnitOfWork& unit) {
    return store::orders_never_confirmed(unit, kUnsettledDays, limit);
  });
  for (const auto id : stale)
    database_.transact([&](store::UnitOfWork& unit) {
      const auto order = store::find_order_by_id(unit, id, false);
      if (!order || !order->payment) return;
      if (store::flag_order(
              unit, id,
              fmt::format("{} 天未能向{}确认是否付款，请在商户平台核对 / payment never confirmed "
                          "in {} days: check the merchant console ({})",
                          kUnsettledDays, provider_title(order->payment->provider), kUnsettledDays,
                          order->payment->out_trade_no))) {
        spdlog::warn("order {}: trade {} never confirmed in {} days; flagged for the staff",
                     order->number, order->payment->out_trade_no, kUnsettledDays);
        ++settled;
      }
    });
  return settled;
}

int OrderService::expire_due(int limit) {
  const auto due = database_.transact(
      [&](store::UnitOfWork& unit) { return store::due_to_expire(unit, limit); });
  int expired = 0;
  std::set<std::string> unanswered;  // providers that did not answer in this pass
  for (const auto id : due)
    try {
      // A trade still open at the provider is asked about first: a payment whose notification
      // is late or lost pays the order instead of letting it expire, and an unpaid trade is
      // closed before the order expires, so that nobody pays an expired order. A provider that
      // does not answer is not asked again in this pass: its orders expire with their trades
      // unsettled, for settle_unsettled to ask about later.
      const auto [started, older] = database_.transact([&](store::UnitOfWork& unit) {
        const auto order = store::find_order_by_id(unit, id, false);
        return std::pair{open_trade(order, {"pending_payment"}),
                         order && order->state == "pending_payment"
                             ? closed_alipay_trades(unit, *order)
                             : std::vector<store::OrderPaymentRecord>{}};
      });
      // An Alipay code left behind by a switch may have been paid with its notification lost:
      // asked (and closed at Alipay when scanned and unpaid) before the order expires.
      // One that cannot be confirmed dead now keeps the order for the next pass (the sweep that
      // asks about expired orders' trades asks about their latest only).
      bool keep = false;
      for (const auto& trade : older) {
        if (keep) break;
        const auto answer =
            unanswered.contains(trade.provider) ? TradeAnswer::unanswered : resolve_trade(trade);
        if (answer == TradeAnswer::unanswered) unanswered.insert(trade.provider);
        keep = answer == TradeAnswer::paid || answer == TradeAnswer::open ||
               answer == TradeAnswer::unanswered || answer == TradeAnswer::unclear;
      }
      if (keep) continue;
      bool closed = false;
      if (started && !unanswered.contains(started->provider)) {
        const auto answer = resolve_trade(*started);
        if (answer == TradeAnswer::paid) continue;
        if (answer == TradeAnswer::unanswered) unanswered.insert(started->provider);
        // No trade at the provider, and the order's time (the code's too) is up: nothing left
        // to pay.
        closed = answer == TradeAnswer::closed || answer == TradeAnswer::flagged ||
                 answer == TradeAnswer::absent;
      }
      const bool moved = database_.transact([&](store::UnitOfWork& unit) {
        auto order = store::find_order_by_id(unit, id, true);
        if (!order || (order->state != "pending_payment" && order->state != "confirmed"))
          return false;
        if (!store::move_order(unit, order->id, order->state, "expired", "sweep", std::nullopt, ""))
          return false;
        release_all(unit, *order);
        if (closed) store::close_order_payments(unit, order->id);
        return true;
      });
      if (moved) ++expired;
    } catch (const std::exception& e) {
      // One order's trouble does not stop the others.
      spdlog::warn("expiring order {} failed: {}", id, e.what());
    }
  return expired;
}

namespace {

OrderRefund to_refund(const store::OrderRefundRecord& r, const store::OrderRecord& order) {
  OrderRefund out;
  out.id = r.id;
  out.out_refund_no = r.out_refund_no;
  out.method = r.method;
  out.state = r.state;
  out.origin = r.origin;
  out.goods = Fen(r.goods_fen);
  out.delivery_fee = Fen(r.delivery_fee_fen);
  out.amount = Fen(r.amount_fen);
  out.reason = r.reason;
  out.failure = r.failure;
  out.created_at = r.created_at;
  out.finished_at = r.finished_at;
  for (const auto& l : r.lines) {
    std::string name;
    for (const auto& line : order.lines)
      if (line.id == l.order_line_id) name = line.name;
    out.lines.push_back({l.line_no, name, l.quantity, Fen(l.gross_fen), l.stock});
  }
  return out;
}

/// What refunds succeeded or still processing hold of the order: they bound any new refund.
struct Held {
  std::int64_t amount = 0;
  bool fee = false;
  std::map<std::int64_t, std::int64_t> quantity;  ///< per order line id
};

Held held_by(const std::vector<store::OrderRefundRecord>& refunds) {
  Held held;
  for (const auto& refund : refunds) {
    if (refund.state == "failed") continue;
    held.amount += refund.amount_fen;
    held.fee = held.fee || refund.delivery_fee_fen > 0;
    for (const auto& line : refund.lines)
      held.quantity[line.order_line_id] += line.quantity;
  }
  return held;
}

domain::TenderMethod refund_tender(const std::string& method) {
  if (method == "cash") return domain::TenderMethod::cash;
  return tender_of(method);
}

}  // namespace

Order OrderService::staff_view(store::UnitOfWork& unit, const store::OrderRecord& record) {
  auto order = to_order(record, true, true);
  const auto refunds = store::order_refunds(unit, record.id);
  const auto held = held_by(refunds);
  for (std::size_t i = 0; i < record.lines.size() && i < order.lines.size(); ++i) {
    const auto found = held.quantity.find(record.lines[i].id);
    order.lines[i].refunded_quantity = found == held.quantity.end() ? 0 : found->second;
  }
  order.refundable = Fen(std::max<std::int64_t>(0, record.paid_fen - held.amount));
  order.delivery_fee_refunded = held.fee;
  for (const auto& refund : refunds)
    order.refunds.push_back(to_refund(refund, record));
  order.surplus_payments = surplus_payments_view(unit, record.id);
  return order;
}

std::int64_t OrderService::open_refund(store::UnitOfWork& unit, const store::OrderRecord& order,
                                       const OrderRefundRequest& request, const std::string& origin,
                                       const std::optional<domain::Principal>& staff) {
  const auto state = state_of(order.state);
  const auto mode = mode_of(order.payment_method);
  if (!order.unsold_payment && !domain::holds_payment(state, mode))
    throw Error(ErrorCode::invalid_state, "订单没有可退的付款 / the order holds no payment",
                {{"state", order.state}, {"event", "refund"}});
  const auto refunds = store::order_refunds(unit, order.id);
  const auto held = held_by(refunds);

  // Through the provider it was paid with (settle_payment makes the paid trade's provider the
  // order's, though the customer may have switched between WeChat Pay and Alipay before), or
  // cash at the counter.
  const std::string original =
      order.payment_method == "cash_on_pickup" ? "cash" : order.payment_method;
  std::string method = original;
  if (request.method && *request.method == "cash")
    method = "cash";
  else if (request.method && *request.method != "original")
    throw Error::invalid_field("method", "退款方式为 original 或 cash / original or cash");
  if (method != "cash") {
    const auto account = providers_.find(method);
    if (account == providers_.end() || !account->second.provider)
      throw Error(ErrorCode::unavailable,
                  "支付渠道未配置，请用现金退款 / the provider is not configured: refund in cash",
                  {{"field", "method"}});
  }
  std::optional<store::ShiftRecord> shift;
  if (method == "cash") {
    // Locked: two cash refunds cannot both pay out the same cash (check_drawer_pays below).
    if (staff) shift = store::open_shift_of(unit, staff->user_id, store::RowLock::update);
    if (!shift)
      throw Error(ErrorCode::no_open_shift, "现金退款需要开班 / a cash refund needs an open shift");
  }

  store::OrderRefundRecord refund;
  refund.order_id = order.id;
  refund.seq = static_cast<int>(refunds.size()) + 1;
  refund.out_refund_no = order.number + "-R" + std::to_string(refund.seq);
  refund.method = method;
  refund.state = "processing";
  refund.origin = origin;
  refund.reason = request.reason;
  if (shift) {
    refund.shift_id = shift->id;
    refund.register_id = shift->register_id;
  }
  if (staff) refund.created_by = staff->user_id;

  const Fen refundable(order.paid_fen - held.amount);
  if (order.unsold_payment) {
    // Nothing was sold: the whole payment goes back, owed to no village. Lines asked for are
    // not quietly taken as "all": the staff member who meant one line is told (probe P8).
    if (!request.lines.empty() || (request.delivery_fee && !request.all))
      throw Error::invalid_field(request.lines.empty() ? "delivery_fee" : "lines",
                                 "这笔付款没有买到商品，只能全额退款（all: true）/ this payment "
                                 "bought nothing: refund all of it (all: true)");
    if (refundable <= Fen(0))
      throw Error(ErrorCode::refund_exceeds_sale,
                  "这个订单已全部退款 / everything was refunded already", {{"field", "amount"}});
    refund.unsold = true;
    refund.amount_fen = refundable.value();
  } else {
    domain::OrderRefundInput input;
    for (const auto& line : order.lines) {
      const auto found = held.quantity.find(line.id);
      input.lines.push_back(
          {line.line_no,
           line.village_id,
           {line.quantity, Fen(line.gross_fen), Fen(line.fee_fen), Fen(line.share_fen)},
           found == held.quantity.end() ? 0 : found->second});
    }
    input.delivery_fee = Fen(order.delivery_fee_fen);
    input.fee_refunded = held.fee;
    input.refundable = refundable;
    // Goods still here give their reservation back whatever `returned` says.
    const bool reserved = domain::holds_reservation(state);
    for (std::size_t i = 0; i < request.lines.size(); ++i) {
      const auto& ask = request.lines[i];
      // A line of a gift box stands for the whole box: that many boxes of each of its lines.
      const auto box = std::find_if(order.lines.begin(), order.lines.end(), [&](const auto& l) {
        return l.line_no == ask.line_no && l.bundle_product_id;
      });
      if (box == order.lines.end() || ask.quantity <= 0) {
        input.asks.push_back({ask.line_no, ask.quantity, ask.returned && !reserved});
        continue;
      }
      if (ask.quantity > box->bundle_quantity)
        throw Error(ErrorCode::refund_exceeds_sale,
                    "退款盒数超过所购盒数 / more boxes than were bought",
                    {{"field", "lines[" + std::to_string(i) + "].quantity"},
                     {"line_quantity", std::to_string(box->bundle_quantity)},
                     {"asked", std::to_string(ask.quantity)}});
      for (const auto& line : order.lines)
        if (line.bundle_product_id && line.bundle_group == box->bundle_group)
          input.asks.push_back({line.line_no, ask.quantity * (line.quantity / line.bundle_quantity),
                                ask.returned && !reserved});
    }
    input.refund_fee = request.delivery_fee;
    input.everything = request.all;
    const auto plan = domain::plan_order_refund(input);
    // Goods gone come back only when returned.
    for (const auto& part : plan.lines) {
      const auto line = std::find_if(order.lines.begin(), order.lines.end(),
                                     [&](const auto& l) { return l.line_no == part.line_no; });
      if (!reserved && part.returned) {
        const auto product = store::find_product(unit, line->product_id);
        domain::check_restock(line->village_id, product ? product->village_id : 0,
                              line->village_name, "lines");
      }
      refund.lines.push_back({line->id, line->line_no, line->product_id, line->village_id,
                              part.part.quantity, part.part.gross.value(), part.part.fee.value(),
                              part.part.share.value(),
                              reserved ? "release" : (part.returned ? "return" : "none")});
    }
    refund.goods_fen = plan.goods.value();
    refund.delivery_fee_fen = plan.delivery_fee.value();
    refund.amount_fen = plan.total.value();
  }
  if (origin == "cancel" && refund.amount_fen != refundable.value())
    throw Error(ErrorCode::internal, "internal error", {}, "a cancel refunds everything");
  if (method == "cash" && shift && refund.amount_fen > 0)
    check_drawer_pays(unit, *shift, Fen(refund.amount_fen), "method");  // probe P11
  store::insert_order_refund(unit, refund);
  if (method == "cash") {
    // The cash leaves the drawer now: certain at once, so it succeeds in this transaction.
    if (!store::finish_order_refund(unit, refund.id, "succeeded", std::nullopt, "cash",
                                    std::nullopt))
      throw Error(ErrorCode::internal, "internal error", {}, "a new refund is not processing");
    refund.state = "succeeded";
    apply_refund(unit, order, refund);
  } else {
    store::record_order_event(unit, order.id, order.state, staff ? "staff" : "provider",
                              staff ? std::optional(staff->user_id) : std::nullopt,
                              "退款处理中 " + yuan(refund.amount_fen) + " / refund " +
                                  refund.out_refund_no + " processing");
  }
  return refund.id;
}

void OrderService::apply_refund(store::UnitOfWork& unit, const store::OrderRecord& order,
                                const store::OrderRefundRecord& refund) {
  const auto day = domain::business_day(std::chrono::system_clock::now(), settings_.zone);
  const std::optional<std::int64_t> by = refund.created_by;
  // Stock rows in ascending product id, each product's release and return together.
  std::map<std::int64_t, std::vector<const store::OrderRefundLineRecord*>> by_product;
  for (const auto& line : refund.lines)
    if (line.stock != "none") by_product[line.product_id].push_back(&line);
  std::vector<store::LedgerEntry> moves;
  for (const auto& [product_id, lines] : by_product) {
    for (const auto* line : lines) {
      if (line->stock == "release") {
        store::release_stock(unit, product_id, line->quantity);
        moves.push_back(
            {product_id, std::nullopt, "release", -line->quantity, "order", order.id, by});
      } else if (const auto lot = store::last_lot_of_line(unit, line->order_line_id)) {
        // Brought back: into the lot the line's goods came from last.
        store::add_on_hand(unit, product_id, line->quantity);
        store::add_to_lot(unit, *lot, line->quantity);
        moves.push_back({product_id, *lot, "refund", line->quantity, "order", order.id, by});
      }
    }
  }
  if (!moves.empty()) store::append_to_ledger(unit, moves);

  const auto tender = refund_tender(refund.method);
  const std::int64_t register_id = refund.register_id.value_or(0);
  std::vector<domain::Posting> postings;
  if (refund.unsold) {
    postings = domain::unsold_refund_postings(tender, register_id, Fen(refund.amount_fen));
  } else {
    std::vector<domain::VillageSplit> splits;
    for (const auto& line : refund.lines)
      splits.push_back({line.village_id, Fen(line.fee_fen), Fen(line.share_fen)});
    postings =
        domain::order_refund_postings(tender, register_id, splits, Fen(refund.delivery_fee_fen));
  }
  store::post_entry(unit, "order_refund", refund.id, domain::format_iso_date(day), postings,
                    refund.out_refund_no);
  if (refund.method == "cash" && refund.shift_id && by)
    store::insert_cash_movement(unit, *refund.shift_id, -refund.amount_fen,
                                "订单退款 " + order.number + " / order refund", *by);
  store::add_order_refunded(unit, order.id, refund.amount_fen);

  const std::string by_kind = by ? "staff" : "provider";
  const std::string note = "退款 " + yuan(refund.amount_fen) + " / refunded " +
                           refund.out_refund_no + (refund.reason.empty() ? "" : ": ") +
                           refund.reason;
  if (order.refunded_fen + refund.amount_fen >= order.paid_fen) {
    // Everything paid went back: the order is refunded (a staff cancel by its own event).
    const auto fulfilment = fulfilment_of(order.fulfilment);
    const auto mode = mode_of(order.payment_method);
    auto to = domain::next_order_state(
        state_of(order.state),
        refund.origin == "cancel" ? OrderEvent::cancel : OrderEvent::refund_all, fulfilment, mode);
    if (!to)
      to =
          domain::next_order_state(state_of(order.state), OrderEvent::refund_all, fulfilment, mode);
    if (!to || !store::move_order(unit, order.id, order.state, std::string(domain::to_string(*to)),
                                  by_kind, by, note))
      throw Error(ErrorCode::internal, "internal error", {},
                  "order " + order.number + " in " + order.state + " cannot become refunded");
  } else {
    store::record_order_event(unit, order.id, order.state, by_kind, by, "部分" + note);
  }
  if (refund.origin == "late_payment")
    store::set_order_attention(unit, order.id,
                               "过期后付款但库存已无，已自动退款 / paid after expiry, stock gone: "
                               "refunded automatically");
}

namespace {

/// What asking a provider to pay a refund came to.
struct RefundAsked {
  std::optional<payments::RefundState> answer;  ///< the provider's word, by the ask or a lookup
  std::string failure;                          ///< refused and never made, or not succeeded: why
  std::optional<std::string> retry;  ///< set: no certain answer (noted as this); ask again later
};

/// Asks for the refund; an unknown outcome is to be asked again later with the same
/// out_refund_no. A refusal is not proof that nothing went back: an earlier ask under this number
/// whose answer was lost, or another process's ask right now, may have made it. Only the
/// provider's refund lookup says it was never made.
RefundAsked ask_refund(payments::Provider& provider, const payments::RefundRequest& request) {
  RefundAsked out;
  try {
    out.answer = provider.refund(request);
  } catch (const payments::ProviderError& e) {
    if (e.kind != payments::ProviderError::Kind::refused) {
      spdlog::warn("refund {}: {}", request.out_refund_no, e.what());
      out.retry = "unanswered";
      return out;
    }
    out.failure = std::string(e.what()).substr(0, 250);
    try {
      const auto found = provider.query_refund(request.out_trade_no, request.out_refund_no);
      if (found.state != payments::RefundState::State::failed || found.raw_state != "NOT_FOUND")
        out.answer = found;
    } catch (const std::exception& lookup) {
      spdlog::warn("refund {}: refused ({}), and its lookup failed: {}", request.out_refund_no,
                   out.failure, lookup.what());
      out.retry = "unanswered";
      return out;
    }
  } catch (const std::exception& e) {
    spdlog::warn("refund {}: {}", request.out_refund_no, e.what());
    out.retry = "error";
    return out;
  }
  if (out.answer && out.answer->state == payments::RefundState::State::processing)
    out.retry = out.answer->raw_state;
  else if (out.answer && out.answer->state != payments::RefundState::State::succeeded)
    out.failure = "provider says " + out.answer->raw_state;
  return out;
}

}  // namespace

bool OrderService::drive_refund(std::int64_t refund_id) {
  struct Ask {
    store::OrderRefundRecord refund;
    std::string out_trade_no;
    std::int64_t payment_total = 0;
  };
  const auto ask = database_.transact([&](store::UnitOfWork& unit) -> std::optional<Ask> {
    auto refund = store::find_order_refund(unit, refund_id);
    if (!refund || refund->state != "processing" || refund->method == "cash") return std::nullopt;
    const auto order = store::find_order_by_id(unit, refund->order_id);
    const auto payment = store::find_paid_payment(unit, order->id);
    if (!payment) return std::nullopt;
    return Ask{*refund, payment->out_trade_no, payment->amount_fen};
  });
  if (!ask) return false;
  const auto account = providers_.find(ask->refund.method);
  if (account == providers_.end() || !account->second.provider) {
    spdlog::warn("refund {}: {} is not configured", ask->refund.out_refund_no, ask->refund.method);
    return false;
  }
  payments::RefundRequest request;
  request.out_trade_no = ask->out_trade_no;
  request.out_refund_no = ask->refund.out_refund_no;
  request.refund = Fen(ask->refund.amount_fen);
  request.total = Fen(ask->payment_total);
  request.reason = ask->refund.reason;

  const auto asked = ask_refund(*account->second.provider, request);
  if (asked.retry) {
    database_.transact([&](store::UnitOfWork& unit) {
      store::note_refund_attempt(unit, refund_id, *asked.retry);
    });
    return false;
  }
  const auto& answer = asked.answer;
  const auto& failure = asked.failure;
  const bool succeeded = answer && answer->state == payments::RefundState::State::succeeded;
  return database_.transact([&](store::UnitOfWork& unit) {
    // The order first, as everywhere, then the refund by a conditional update: whoever moves
    // it out of processing applies it, once.
    const auto order = store::find_order_by_id(unit, ask->refund.order_id, true);
    const std::optional<std::string> refund_id_at_provider =
        answer && !answer->refund_id.empty() ? std::optional(answer->refund_id) : std::nullopt;
    if (!store::finish_order_refund(unit, refund_id, succeeded ? "succeeded" : "failed",
                                    refund_id_at_provider,
                                    answer ? answer->raw_state : std::string("refused"),
                                    succeeded ? std::nullopt : std::optional(failure)))
      return false;
    if (succeeded) {
      apply_refund(unit, *order, *store::find_order_refund(unit, refund_id));
    } else {
      // Nothing moved while it was processing: only the refund and the staff's note change.
      store::set_order_attention(
          unit, order->id,
          "退款失败，请处理 / refund " + ask->refund.out_refund_no + " failed: " + failure);
      store::record_order_event(unit, order->id, order->state, "provider", std::nullopt,
                                "退款失败 / refund " + ask->refund.out_refund_no + " failed");
    }
    return true;
  });
}

OrderRefundResult OrderService::refund(const std::string& number, const OrderRefundRequest& request,
                                       const std::optional<IdempotencyKey>& key,
                                       const domain::Principal& staff) {
  if (!domain::is_order_number(number)) throw no_such_order();
  // One line: it goes to the provider (the payer sees it) and onto the staff's lists.
  if (auto problem = domain::line_problem(request.reason, 0, 200))
    throw Error::invalid_field("reason", *problem);
  if (request.lines.size() > static_cast<std::size_t>(kMaxLines))
    throw Error::invalid_field("lines", "商品行太多 / at most 50 lines");
  if (request.all && (!request.lines.empty() || request.delivery_fee))
    throw Error::invalid_field("all", "全部退款不再列商品 / all needs no lines or fee");
  const auto stored = idempotency_.run(key, [&](store::UnitOfWork& unit) {
    auto order = store::find_order(unit, number, true);
    if (!order) throw no_such_order();
    const auto id = open_refund(unit, *order, request, "staff", staff);
    return StoredReply{201, "text/plain", std::to_string(id)};
  });
  const std::int64_t refund_id = std::stoll(stored.body);
  drive_refund(refund_id);
  return database_.transact([&](store::UnitOfWork& unit) {
    const auto refund = store::find_order_refund(unit, refund_id);
    const auto order = store::find_order_by_id(unit, refund->order_id);
    OrderRefundResult result;
    result.refund = to_refund(*refund, *order);
    result.order = staff_view(unit, *order);
    result.replayed = stored.replayed;
    return result;
  });
}

bool OrderService::return_surplus(std::int64_t payment_id) {
  const auto payment = database_.transact(
      [&](store::UnitOfWork& unit) { return store::find_payment(unit, payment_id, false); });
  if (!payment || payment->state != "surplus") return false;
  const auto account = providers_.find(payment->provider);
  if (account == providers_.end() || !account->second.provider) {
    spdlog::warn("surplus payment {}: {} is not configured", payment->out_trade_no,
                 payment->provider);
    return false;
  }
  payments::RefundRequest request;
  request.out_trade_no = payment->out_trade_no;
  request.out_refund_no = payment->out_trade_no + "-D";
  request.refund = Fen(payment->amount_fen);
  request.total = Fen(payment->amount_fen);
  request.reason = "重复付款退回 / paid twice";

  const auto asked = ask_refund(*account->second.provider, request);
  if (asked.retry) {
    database_.transact([&](store::UnitOfWork& unit) {
      store::note_return_attempt(unit, payment_id, *asked.retry);
    });
    return false;
  }
  const bool returned =
      asked.answer && asked.answer->state == payments::RefundState::State::succeeded;
  const auto day = domain::business_day(std::chrono::system_clock::now(), settings_.zone);
  return database_.transact([&](store::UnitOfWork& unit) {
    // The order first, as everywhere, then the payment by a conditional update: whoever ends
    // the return books it, once.
    const auto order = store::find_order_by_id(unit, payment->order_id, true);
    const auto locked = store::find_payment(unit, payment_id, true);
    const bool refused_before = locked && locked->return_failure;
    if (!store::finish_surplus_return(unit, payment_id, returned,
                                      asked.answer ? asked.answer->raw_state : "refused",
                                      returned ? std::nullopt : std::optional(asked.failure)))
      return false;
    if (returned) {
      store::post_entry(
          unit, "surplus_return", payment_id, domain::format_iso_date(day),
          domain::unsold_refund_postings(tender_of(payment->provider), 0, Fen(payment->amount_fen)),
          request.out_refund_no);
      store::record_order_event(unit, order->id, order->state, "provider", std::nullopt,
                                "重复付款已原路退回 " + yuan(payment->amount_fen) +
                                    " / paid-twice payment sent back: " + request.out_refund_no);
      // Our own notes give way to the outcome; a note about something else stays.
      if (store::clear_order_attention(unit, order->id, surplus_note(payment->out_trade_no)) ||
          store::clear_order_attention(unit, order->id,
                                       surplus_refused_note(payment->out_trade_no)))
        store::flag_order(unit, order->id,
                          "重复付款 " + payment->out_trade_no + " 已自动原路退回 / paid twice: " +
                              payment->out_trade_no + " was sent back automatically");
    } else if (!refused_before) {
      // The reason is the provider's (e.g. the merchant's balance is short): for the staff only.
      store::record_order_event(
          unit, order->id, order->state, "provider", std::nullopt,
          "重复付款退回被拒 / sending back " + payment->out_trade_no + " refused: " + asked.failure,
          true);
      store::clear_order_attention(unit, order->id, surplus_note(payment->out_trade_no));
      store::flag_order(unit, order->id, surplus_refused_note(payment->out_trade_no));
      spdlog::warn("surplus payment {}: sending it back refused: {}", payment->out_trade_no,
                   asked.failure);
    }
    return true;
  });
}

namespace {

/// Drives each of `due` in turn (one failing does not stop the others): how many finished.
template <class Drive>
int drive_each(const std::vector<std::int64_t>& due, std::string_view what, Drive drive) {
  int finished = 0;
  for (const auto id : due) {
    try {
      if (drive(id)) ++finished;
    } catch (const std::exception& e) {
      spdlog::warn("{} {} failed: {}", what, id, e.what());
    }
  }
  return finished;
}

}  // namespace

int OrderService::return_surplus_payments(int limit, int idle_seconds) {
  const auto due = database_.transact([&](store::UnitOfWork& unit) {
    return store::surplus_payments_to_return(unit, idle_seconds, limit);
  });
  return drive_each(due, "returning surplus payment",
                    [this](std::int64_t id) { return return_surplus(id); });
}

int OrderService::finish_refunds(int limit, int idle_seconds) {
  const auto due = database_.transact(
      [&](store::UnitOfWork& unit) { return store::refunds_to_finish(unit, idle_seconds, limit); });
  return drive_each(due, "finishing refund", [this](std::int64_t id) { return drive_refund(id); });
}

}  // namespace yizhan::service
