// Counter use cases: each is one unit of work with its stock moves and journal entry; sales and
// refunds run exactly once per Idempotency-Key.
#include "yizhan/service/counter.hpp"
#include "audit_entry.hpp"
#include "drawer.hpp"

#include <algorithm>
#include <cstdio>
#include <map>

#include "yizhan/domain/catalog.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/journal.hpp"
#include "yizhan/domain/stock.hpp"
#include "yizhan/store/audit.hpp"
#include "yizhan/store/code_payments.hpp"
#include "yizhan/store/code_refunds.hpp"
#include "yizhan/store/counter.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/journal.hpp"
#include "yizhan/store/products.hpp"
#include "yizhan/store/stock.hpp"

namespace yizhan::service {
namespace {

using domain::Error;
using domain::ErrorCode;
using domain::Fen;

std::string iso_date(std::chrono::year_month_day day) {
  return domain::format_iso_date(day);
}

std::chrono::year_month_day today(const domain::TimeZone& zone) {
  return domain::business_day(std::chrono::system_clock::now(), zone);
}

Register to_register(const store::RegisterRecord& r) {
  return {r.id, r.name, r.printer_host, r.printer_port, r.receipt_columns};
}

Shift to_shift(const store::ShiftRecord& s, const store::RegisterRecord& r) {
  Shift shift;
  shift.id = s.id;
  shift.register_ = to_register(r);
  shift.cashier_id = s.cashier_id;
  shift.cashier = s.cashier;
  shift.state = s.state;
  shift.float_amount = Fen(s.float_fen);
  shift.opened_at = s.opened_at;
  shift.closed_at = s.closed_at;
  if (s.expected_cash_fen) shift.expected_cash = Fen(*s.expected_cash_fen);
  if (s.counted_cash_fen) shift.counted_cash = Fen(*s.counted_cash_fen);
  return shift;
}

store::RegisterRecord register_of(store::UnitOfWork& unit, std::int64_t id) {
  auto r = store::find_register(unit, id);
  if (!r)
    throw Error(ErrorCode::internal, "internal error", {},
                "register " + std::to_string(id) + " is gone");
  return *r;
}

domain::TenderMethod method_of(const std::string& text) {
  return domain::parse_tender_method(text).value_or(domain::TenderMethod::other);
}

Sale to_sale(const store::SaleRecord& s, const store::RegisterRecord& r) {
  Sale sale;
  sale.id = s.id;
  sale.number = s.number;
  sale.shift_id = s.shift_id;
  sale.register_ = to_register(r);
  sale.cashier_id = s.cashier_id;
  sale.cashier = s.cashier;
  sale.subtotal = Fen(s.subtotal_fen);
  sale.discount = Fen(s.discount_fen);
  sale.rounding = Fen(s.rounding_fen);
  sale.total = Fen(s.total_fen);
  sale.change = Fen(s.change_fen);
  sale.offline = s.offline;
  sale.created_at = s.created_at;
  for (const auto& l : s.lines) {
    SaleLine line;
    line.id = l.id;
    line.line_no = l.line_no;
    line.product_id = l.product_id;
    line.name = l.name;
    line.village_id = l.village_id;
    line.village_name = l.village_name;
    line.unit = l.unit;
    line.quantity = l.quantity;
    line.unit_price = Fen(l.unit_price_fen);
    line.list = Fen(l.list_fen);
    line.line_discount = Fen(l.line_discount_fen);
    line.sale_discount = Fen(l.sale_discount_fen);
    line.gross = Fen(l.gross_fen);
    line.commission_bps = l.commission_bps;
    line.fee = Fen(l.fee_fen);
    line.share = Fen(l.share_fen);
    line.refunded_quantity = l.refunded_quantity;
    line.code = l.code;
    line.bundle_product_id = l.bundle_product_id;
    line.bundle_name = l.bundle_name;
    line.bundle_quantity = l.bundle_quantity;
    line.bundle_group = l.bundle_group;
    for (const auto& lot : l.lots)
      line.lots.push_back({lot.lot_id, lot.lot, lot.quantity});
    sale.lines.push_back(std::move(line));
  }
  for (const auto& t : s.tenders) {
    domain::Tender tender;
    tender.method = method_of(t.method);
    tender.amount = Fen(t.amount_fen);
    if (t.tendered_fen) tender.tendered = Fen(*t.tendered_fen);
    tender.reference = t.reference;
    sale.tenders.push_back(std::move(tender));
  }
  for (const auto& r2 : s.refunds)
    sale.refunds.push_back({r2.id, r2.method, Fen(r2.total_fen), r2.created_at});
  return sale;
}

/// 422 naming `method` unless the refund goes back through a tender of the sale or in cash
/// (domain::refund_method_allowed); `details.allowed` lists the methods that may.
void check_refund_method(const store::SaleRecord& sale, domain::TenderMethod method) {
  std::vector<domain::TenderMethod> paid_with;
  for (const auto& tender : sale.tenders)
    paid_with.push_back(method_of(tender.method));
  if (domain::refund_method_allowed(method, paid_with)) return;
  std::string allowed = "cash";
  for (std::size_t i = 0; i < paid_with.size(); ++i)
    if (paid_with[i] != domain::TenderMethod::cash &&
        std::find(paid_with.begin(), paid_with.begin() + i, paid_with[i]) == paid_with.begin() + i)
      allowed += ", " + std::string(domain::to_string(paid_with[i]));
  throw Error(ErrorCode::invalid,
              "这笔销售没有用这种方式付款，请原路退回或退现金 / the sale was not paid this way: "
              "refund through its own tender or in cash",
              {{"field", "method"}, {"allowed", allowed}});
}

/// 409 refund_exceeds_sale naming `method` when the refund would give back through a method
/// more than that method took (domain::refundable_through); `refundable_fen` says how much
/// it still may, the rest goes back in cash.
void check_method_holds(const store::SaleRecord& sale, domain::TenderMethod method,
                        std::int64_t total_fen) {
  std::vector<domain::MethodAmount> tenders, refunds;
  for (const auto& tender : sale.tenders)
    tenders.push_back({method_of(tender.method), Fen(tender.amount_fen)});
  for (const auto& refund : sale.refunds)
    refunds.push_back({method_of(refund.method), Fen(refund.total_fen)});
  const auto most = domain::refundable_through(method, tenders, refunds);
  if (!most || Fen(total_fen) <= *most) return;
  const std::string most_text = "¥" + most->format();
  throw Error(ErrorCode::refund_exceeds_sale,
              "这种付款方式最多还能退 " + most_text +
                  "，其余请退现金 / this payment method can take back at most " + most_text +
                  ": refund the rest in cash",
              {{"field", "method"},
               {"refundable_fen", std::to_string(most->value())},
               {"asked_fen", std::to_string(total_fen)}});
}

Sale load_sale(store::UnitOfWork& unit, std::int64_t id) {
  auto record = store::find_sale(unit, id);
  if (!record) throw Error(ErrorCode::not_found, "没有这笔销售 / no such sale");
  return to_sale(*record, register_of(unit, record->register_id));
}

/// A shift the caller may act on: their own, or any for an admin; 404 otherwise.
store::ShiftRecord shift_for(store::UnitOfWork& unit, const domain::Principal& caller,
                             std::int64_t shift_id, store::RowLock lock) {
  auto shift = store::find_shift(unit, shift_id, lock);
  if (!shift || (caller.role != domain::Role::admin && shift->cashier_id != caller.user_id))
    throw Error(ErrorCode::not_found, "没有这个班次 / no such shift");
  return *shift;
}

ShiftReport report_of(store::UnitOfWork& unit, const store::ShiftRecord& shift) {
  const auto totals =
      store::shift_totals(unit, shift.id, domain::cash_drawer_account(shift.register_id));
  ShiftReport report;
  report.shift = to_shift(shift, register_of(unit, shift.register_id));
  report.sales_count = totals.sales_count;
  report.refunds_count = totals.refunds_count;
  report.gross = Fen(totals.gross_fen);
  report.discount = Fen(totals.discount_fen);
  report.refunds = Fen(totals.refund_fen);
  Fen cash_sales, cash_refunds;
  for (const auto& m : totals.by_method) {
    report.by_method.push_back(
        {m.method, Fen(m.sales_fen), Fen(m.refunds_fen), Fen(m.sales_fen) - Fen(m.refunds_fen)});
    if (m.method == "cash") {
      cash_sales = Fen(m.sales_fen);
      cash_refunds = Fen(m.refunds_fen);
    }
  }
  for (const auto& v : totals.by_village)
    report.by_village.push_back(
        {v.village_id, v.village_name, Fen(v.gross_fen), Fen(v.fee_fen), Fen(v.share_fen)});
  // The float is itself a cash movement (journalled as one) but reported on its own.
  report.cash_in = Fen(totals.cash_in_fen);
  report.cash_out = Fen(totals.cash_out_fen);
  report.orders_paid_count = totals.orders_paid_count;
  report.orders_paid = Fen(totals.orders_paid_fen);
  report.owed_repaid_count = totals.owed_repaid_count;
  report.owed_repaid = Fen(totals.owed_repaid_fen);
  report.expected_cash = Fen(shift.float_fen) + cash_sales - cash_refunds + report.cash_in -
                         report.cash_out + report.orders_paid - report.owed_repaid;
  if (shift.counted_cash_fen) {
    report.counted_cash = Fen(*shift.counted_cash_fen);
    report.difference = *report.counted_cash - report.expected_cash;
  }
  return report;
}

/// The most cash one movement puts in or takes out (¥1,000,000), as for a float or a count.
constexpr Fen kMaxCashMovement{100'000'000};

void check_amount(Fen amount, const char* field, bool allow_zero = true) {
  if (amount < Fen(0) || (!allow_zero && amount == Fen(0)) || amount > Fen(100'000'000))
    throw Error::invalid_field(field, "金额不正确 / amount out of range");
}

std::string checked_text(const std::string& text, const char* field, std::size_t max_chars,
                         bool required) {
  if (auto problem = domain::text_problem(text, required ? 1 : 0, max_chars))
    throw Error::invalid_field(field, *problem);
  return text;
}

HeldCart to_held(const store::HeldCartRecord& h) {
  return {h.id, h.register_id, h.cashier, h.label, h.cart, h.created_at};
}

Error shift_open_error(const std::string& register_name) {
  return Error(ErrorCode::shift_open,
               "已有未结班次 / this cashier or register already has an open shift",
               {{"register", register_name}});
}

/// A line resolved to its product, quantity and price; a gift box with its components.
struct ResolvedLine {
  store::SellableProduct product;
  domain::SaleLineInput input;
  std::optional<std::string> code;
  std::vector<store::ComponentRecord> components;
};

/// Each asked line resolved to its product, quantity and price (a scanned code by its EAN-13
/// or as a scale label's PLU); 422 naming the line's field for anything unknown or not for sale.
std::vector<ResolvedLine> resolve_lines(store::UnitOfWork& unit, const SaleRequest& request,
                                        const std::vector<domain::ScaleLabelFormat>& formats,
                                        const std::string& day) {
  // Resolve each line to a product, a quantity and a price.
  const std::int64_t rung_at =
      request.rung_at.value_or(std::chrono::duration_cast<std::chrono::microseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
  std::vector<ResolvedLine> lines;
  lines.reserve(request.lines.size());
  for (std::size_t i = 0; i < request.lines.size(); ++i) {
    const auto& asked = request.lines[i];
    const std::string at = "lines[" + std::to_string(i) + "]";
    ResolvedLine line;
    std::optional<domain::ScaleLabel> label;
    std::optional<store::SellableProduct> product;
    // A scanned code names its product (and a label its amount): with a product_id beside it,
    // one of the two would be dropped without a word.
    if (asked.product_id && asked.code)
      throw Error::invalid_field(at + ".code",
                                 "商品和条码只能给一个 / give product_id or code, not both");
    if (asked.product_id) {
      product = store::sellable_by_id(unit, *asked.product_id, day);
      if (!product)
        throw Error::invalid_field(at + ".product_id", "没有这个商品 / no such product");
    } else if (asked.code) {
      const std::string& code = *asked.code;
      line.code = code;
      label = domain::parse_scale_label(code, formats, at + ".code");
      if (label) {
        product = store::sellable_by_plu(unit, label->plu, day);
      } else if (!domain::ean13_problem(code)) {
        product = store::sellable_by_barcode(unit, code, day);
      }
      if (!product)
        throw Error::invalid_field(at + ".code", "无法识别的条码 / unknown code " + code);
    } else {
      throw Error::invalid_field(at + ".product_id", "需要商品或条码 / product_id or code");
    }
    // An offline sale already happened: what the till sold has left even if it was taken off
    // sale (下架) while the till was offline.
    if (!request.offline && !domain::is_offered({product->active, true, product->village_active},
                                                domain::Channel::counter))
      throw Error::invalid_field(at + ".product_id", "该商品已下架 / the product is not for sale");
    if (product->kind == domain::ProductKind::bundle) {
      if (label)
        throw Error::invalid_field(at + ".code", "礼盒不称重 / a bundle has no scale label");
      line.components = store::bundle_components(unit, product->id, day);
      if (line.components.empty())
        throw Error::invalid_field(at + ".product_id", "礼盒是空的 / the bundle is empty");
      for (const auto& c : line.components)
        if (!request.offline &&
            !domain::is_offered({c.active, true, c.village_active}, domain::Channel::counter))
          throw Error::invalid_field(at + ".product_id",
                                     "礼盒里的" + c.name + "已下架 / a component is not for sale");
    }
    line.product = *product;
    std::vector<domain::Fen> earlier;
    if (request.offline && asked.unit_price && *asked.unit_price != product->price)
      earlier = store::prices_in_force_between(unit, product->id,
                                               rung_at - domain::kOfflinePriceWindow, rung_at);
    line.input.unit_price = domain::line_price(asked.unit_price, product->price, earlier,
                                               request.offline, at + ".unit_price_fen");
    line.input.commission_bps = domain::rate_in_force(product->rates);
    if (asked.discount < Fen(0))
      throw Error::invalid_field(at + ".discount_fen", "折扣不能为负 / discount below zero");
    line.input.discount = asked.discount;
    if (label) {
      // A label sells what the scale weighed, once: a quantity other than 1 (three labels, or
      // none) was quietly sold as one.
      if (asked.quantity && *asked.quantity != 1)
        throw Error::invalid_field(at + ".quantity",
                                   "一张秤签只能卖一次，请逐张扫描 / a scale label sells once: "
                                   "give no quantity (or 1) and scan each label");
      const auto resolved = [&] {
        try {
          return domain::resolve_scale_label(*label, product->unit, line.input.unit_price);
        } catch (const Error& error) {
          throw error.within(at);
        }
      }();
      line.input.quantity = resolved.quantity;
      line.input.label_total = resolved.total;
    } else {
      if (!asked.quantity)
        throw Error::invalid_field(at + ".quantity", "需要数量 / quantity is required");
      line.input.quantity =
          domain::Quantity::from_client(product->unit, *asked.quantity, at + ".quantity");
    }
    lines.push_back(std::move(line));
  }

  return lines;
}

/// The sale's lines as written: one per product line, and one per component for a gift box,
/// each with its part of the box's price split by the components' list prices (domain::
/// split_bundle_line) and that part split by the component's own commission rate. Numbered
/// from 1; the lines of a box share the number of its first line as their group.
std::vector<store::SaleLineRecord> sale_lines_of(const std::vector<ResolvedLine>& lines,
                                                 const domain::PricedSale& priced) {
  std::vector<store::SaleLineRecord> records;
  records.reserve(lines.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    const auto& p = priced.lines[i];
    if (line.components.empty()) {
      store::SaleLineRecord l;
      l.line_no = static_cast<int>(records.size() + 1);
      l.product_id = line.product.id;
      l.village_id = line.product.village_id;
      l.village_name = line.product.village_name;
      l.name = line.product.name;
      l.unit = line.product.unit;
      l.quantity = line.input.quantity.amount();
      l.unit_price_fen = line.input.unit_price.value();
      l.list_fen = p.list.value();
      l.line_discount_fen = p.line_discount.value();
      l.sale_discount_fen = p.sale_discount.value();
      l.gross_fen = p.gross.value();
      l.commission_bps = p.commission_bps;
      l.fee_fen = p.split.fee.value();
      l.share_fen = p.split.share.value();
      l.code = line.code;
      records.push_back(std::move(l));
      continue;
    }
    const std::int64_t boxes = line.input.quantity.amount();
    std::vector<domain::BundleComponentTerms> terms;
    terms.reserve(line.components.size());
    for (const auto& c : line.components)
      terms.push_back({c.quantity, c.price, domain::rate_in_force(c.rates)});
    const auto parts = domain::split_bundle_line(p, boxes, terms);
    const int group = static_cast<int>(records.size() + 1);
    for (std::size_t k = 0; k < parts.size(); ++k) {
      const auto& c = line.components[k];
      const auto& part = parts[k];
      store::SaleLineRecord l;
      l.line_no = static_cast<int>(records.size() + 1);
      l.product_id = c.product_id;
      l.village_id = c.village_id;
      l.village_name = c.village_name;
      l.name = c.name;
      l.unit = c.unit;
      l.quantity = part.quantity;
      l.unit_price_fen = c.price.value();
      l.list_fen = part.list.value();
      l.line_discount_fen = part.line_discount.value();
      l.sale_discount_fen = part.sale_discount.value();
      l.gross_fen = part.gross.value();
      l.commission_bps = part.commission_bps;
      l.fee_fen = part.split.fee.value();
      l.share_fen = part.split.share.value();
      l.code = line.code;
      l.bundle_product_id = line.product.id;
      l.bundle_name = line.product.name;
      l.bundle_quantity = boxes;
      l.bundle_group = group;
      records.push_back(std::move(l));
    }
  }
  return records;
}

/// What the lines take from the shelf, by product (a box: each component × the boxes).
std::map<std::int64_t, std::int64_t> wanted_stock(const std::vector<store::SaleLineRecord>& lines) {
  std::map<std::int64_t, std::int64_t> wanted;
  for (const auto& line : lines)
    wanted[line.product_id] += line.quantity;
  return wanted;
}

}  // namespace

domain::Fen expected_cash(store::UnitOfWork& unit, const store::ShiftRecord& shift) {
  return report_of(unit, shift).expected_cash;
}

void check_drawer_pays(store::UnitOfWork& unit, const store::ShiftRecord& shift, Fen amount,
                       const std::string& field) {
  const Fen expected = expected_cash(unit, shift);
  if (amount > expected)
    throw Error(ErrorCode::conflict,
                "钱箱现金不够（应有 " + expected.format() +
                    "），请先存入现金或换一种方式 / the drawer holds less cash than this: put "
                    "cash in first or pay another way",
                {{"field", field}, {"expected_cash_fen", std::to_string(expected.value())}});
}

CounterService::CounterService(store::Database& database, CounterSettings settings,
                               int idempotency_retention_days,
                               std::map<std::string, payments::Provider*> payment_providers)
    : database_(database),
      settings_(std::move(settings)),
      idempotency_(database, idempotency_retention_days),
      payment_providers_(std::move(payment_providers)) {}

std::vector<Register> CounterService::registers() {
  const auto records =
      database_.transact([](store::UnitOfWork& unit) { return store::list_registers(unit); });
  std::vector<Register> registers;
  for (const auto& r : records)
    registers.push_back(to_register(r));
  return registers;
}

Shift CounterService::open_shift(const domain::Principal& caller, const std::string& register_name,
                                 Fen float_amount, const Actor& actor) {
  check_amount(float_amount, "float_fen");
  const std::string day = iso_date(today(settings_.zone));
  try {
    return open_shift_once(caller, register_name, float_amount, actor, day);
  } catch (const Error& error) {
    // A second open shift of the cashier or register hits a unique key over open shifts.
    if (error.code() == ErrorCode::duplicate) throw shift_open_error(register_name);
    throw;
  }
}

Shift CounterService::open_shift_once(const domain::Principal& caller,
                                      const std::string& register_name, Fen float_amount,
                                      const Actor& actor, const std::string& day) {
  return database_.transact([&](store::UnitOfWork& unit) {
    auto r = store::find_register_by_name(unit, register_name);
    if (!r) throw Error::invalid_field("register", "没有这个收银台 / no such register");
    // The unique keys over open shifts decide a race; the answer names the usual case.
    if (store::open_shift_of(unit, caller.user_id, store::RowLock::none))
      throw shift_open_error(register_name);
    const auto id = store::insert_shift(unit, r->id, caller.user_id, float_amount.value());
    if (float_amount > Fen(0)) {
      const auto postings = domain::cash_movement_postings(r->id, float_amount);
      store::post_entry(unit, "shift_open", id, day, postings, "备用金 / float");
    }
    auto entry = audit_entry(actor, "shift", id);
    entry.after = store::AuditState{{"register", r->name},
                                    {"float_fen", std::to_string(float_amount.value())}};
    store::record_audit(unit, entry);
    auto shift = store::find_shift(unit, id, store::RowLock::none);
    return to_shift(*shift, *r);
  });
}

Shift CounterService::current_shift(const domain::Principal& caller) {
  return database_.transact([&](store::UnitOfWork& unit) {
    auto shift = store::open_shift_of(unit, caller.user_id, store::RowLock::none);
    if (!shift) throw Error(ErrorCode::not_found, "没有未结班次 / no open shift");
    return to_shift(*shift, register_of(unit, shift->register_id));
  });
}

StoredReply CounterService::move_cash(
    const domain::Principal& caller, std::int64_t shift_id, Fen amount, const std::string& reason,
    const Actor& actor, const std::optional<IdempotencyKey>& key,
    const std::function<StoredReply(const CashMovement&)>& render) {
  if (amount == Fen(0))
    throw Error::invalid_field("amount_fen", "金额不能为零 / amount must be non-zero");
  if (amount > kMaxCashMovement || amount < Fen(0) - kMaxCashMovement)
    throw Error::invalid_field("amount_fen",
                               "金额超出范围，最多一百万元 / amount must be within ±¥1,000,000");
  // One line: it is a row of the shift report and the printed X/Z slip.
  if (auto problem = domain::line_problem(reason, 1, 200))
    throw Error::invalid_field("reason", *problem);
  const std::string day = iso_date(today(settings_.zone));
  return idempotency_.run(key, [&](store::UnitOfWork& unit) {
    // A cash out locks the shift so that two of them cannot both take the same cash.
    const bool out = amount < Fen(0);
    auto shift =
        shift_for(unit, caller, shift_id, out ? store::RowLock::update : store::RowLock::share);
    if (shift.state != "open")
      throw Error(ErrorCode::no_open_shift, "班次已结 / the shift is closed");
    if (out) {
      check_drawer_pays(unit, shift, Fen(0) - amount, "amount_fen");
    }
    const auto id =
        store::insert_cash_movement(unit, shift_id, amount.value(), reason, caller.user_id);
    store::post_entry(unit, "cash_movement", id, day,
                      domain::cash_movement_postings(shift.register_id, amount), reason);
    auto entry = audit_entry(actor, "shift", shift_id);
    entry.after =
        store::AuditState{{"cash_fen", std::to_string(amount.value())}, {"reason", reason}};
    store::record_audit(unit, entry);
    return render(CashMovement{id, shift_id, amount, reason});
  });
}

ShiftReport CounterService::shift_report(const domain::Principal& caller, std::int64_t shift_id) {
  return database_.transact([&](store::UnitOfWork& unit) {
    return report_of(unit, shift_for(unit, caller, shift_id, store::RowLock::none));
  });
}

ShiftReport CounterService::close_shift(const domain::Principal& caller, std::int64_t shift_id,
                                        Fen counted_cash, const Actor& actor) {
  check_amount(counted_cash, "counted_cash_fen");
  const std::string day = iso_date(today(settings_.zone));
  return database_.transact([&](store::UnitOfWork& unit) {
    // FOR UPDATE waits for sales in flight (they hold the shift in share mode).
    auto shift = shift_for(unit, caller, shift_id, store::RowLock::update);
    if (shift.state != "open")
      throw Error(ErrorCode::invalid_state, "班次已结 / the shift is already closed",
                  {{"state", shift.state}});
    auto report = report_of(unit, shift);
    if (!store::close_shift(unit, shift_id, report.expected_cash.value(), counted_cash.value()))
      throw Error(ErrorCode::invalid_state, "班次已结 / the shift is already closed");
    const auto postings =
        domain::shift_close_postings(shift.register_id, report.expected_cash, counted_cash);
    if (!postings.empty())
      store::post_entry(unit, "shift_close", shift_id, day, postings, "交班 / shift close");
    auto entry = audit_entry(actor, "shift", shift_id);
    entry.after =
        store::AuditState{{"state", "closed"},
                          {"expected_cash_fen", std::to_string(report.expected_cash.value())},
                          {"counted_cash_fen", std::to_string(counted_cash.value())}};
    store::record_audit(unit, entry);
    return report_of(unit, *store::find_shift(unit, shift_id, store::RowLock::none));
  });
}

StoredReply CounterService::sell(const domain::Principal& caller, const SaleRequest& request,
                                 const IdempotencyKey& key,
                                 const std::function<StoredReply(const Sale&)>& render) {
  if (request.lines.empty()) throw Error::invalid_field("lines", "没有商品 / a sale needs lines");
  if (request.lines.size() > 200)
    throw Error::invalid_field("lines", "商品行太多 / at most 200 lines");
  if (request.tenders.size() > 10)
    throw Error::invalid_field("tenders", "支付方式太多 / at most 10 tenders");
  for (std::size_t i = 0; i < request.tenders.size(); ++i)
    if (domain::is_code_method(request.tenders[i].method))
      return sell_with_codes(caller, request, key, render);
  return idempotency_.run(key, [&](store::UnitOfWork& unit) {
    // The answer from what was just written (GET …/sales/{id} reads the same back).
    return render(write_sale(unit, caller, request));
  });
}

void CounterService::check_sale(store::UnitOfWork& unit, const domain::Principal& caller,
                                const SaleRequest& request) {
  if (!store::open_shift_of(unit, caller.user_id, store::RowLock::none))
    throw Error(ErrorCode::no_open_shift, "请先开班 / open a shift first");
  const auto lines =
      resolve_lines(unit, request, settings_.label_formats, iso_date(today(settings_.zone)));
  std::vector<domain::SaleLineInput> inputs;
  for (const auto& line : lines)
    inputs.push_back(line.input);
  const auto priced = domain::price_sale(inputs, request.discount, request.rounding);
  if (caller.role != domain::Role::admin)
    domain::check_discount_limit(priced, settings_.cashier_discount_limit_bps);
  domain::settle_tenders(priced.total, request.tenders);
  const auto wanted = wanted_stock(sale_lines_of(lines, priced));
  // A first look, without locks: the sale's own transaction takes the stock for real.
  for (const auto& [product_id, quantity] : wanted)
    if (const auto available = store::available_to_sell(unit, product_id); available < quantity)
      throw Error(
          ErrorCode::out_of_stock, "库存不足 / not enough in stock",
          {{"product_id", std::to_string(product_id)}, {"available", std::to_string(available)}});
}

Sale CounterService::write_sale(store::UnitOfWork& unit, const domain::Principal& caller,
                                const SaleRequest& request) {
  const auto day = today(settings_.zone);
  const std::string day_text = iso_date(day);
  {
    auto shift = store::open_shift_of(unit, caller.user_id, store::RowLock::share);
    if (!shift) throw Error(ErrorCode::no_open_shift, "请先开班 / open a shift first");

    auto lines = resolve_lines(unit, request, settings_.label_formats, day_text);
    std::vector<domain::SaleLineInput> inputs;
    for (const auto& line : lines)
      inputs.push_back(line.input);
    const auto priced = domain::price_sale(inputs, request.discount, request.rounding);
    if (caller.role != domain::Role::admin)
      domain::check_discount_limit(priced, settings_.cashier_discount_limit_bps);
    const auto settled = domain::settle_tenders(priced.total, request.tenders);

    auto line_records = sale_lines_of(lines, priced);
    store::SaleRecord record;
    auto numbered = store::next_sale_number(unit, shift->register_id, day_text);
    record.number = std::move(numbered.number);
    record.shift_id = shift->id;
    record.register_id = shift->register_id;
    record.cashier_id = caller.user_id;
    record.cashier = caller.username;
    record.business_day = day_text;
    record.subtotal_fen = priced.subtotal.value();
    record.discount_fen = priced.discount.value();
    record.rounding_fen = priced.rounding.value();
    record.total_fen = priced.total.value();
    record.change_fen = settled.change.value();
    record.offline = request.offline;
    record.rung_at = request.rung_at;
    std::vector<domain::VillageSplit> splits;
    for (const auto& l : line_records)
      splits.push_back({l.village_id, Fen(l.fee_fen), Fen(l.share_fen)});
    record.lines = std::move(line_records);
    for (const auto& t : settled.tenders)
      record.tenders.push_back({std::string(domain::to_string(t.method)), t.amount.value(),
                                t.tendered ? std::optional(t.tendered->value()) : std::nullopt,
                                t.reference});
    const auto sale_id = store::insert_sale(unit, record);
    // A sale that comes to 0 (抹零 of a few grams, a 100 % discount) moves goods but no money:
    // it has no journal entry, as an entry needs postings.
    const auto postings = domain::sale_postings(shift->register_id, settled.tenders, splits);
    if (!postings.empty())
      store::post_entry(unit, "sale", sale_id, day_text, postings, record.number);

    // The stock last: its rows are the ones other counters wait for (every sale of a
    // product locks the same level and lots), so they are held only from here to the commit.
    // Taken in ascending product id, so concurrent sales never deadlock each other. A shortage
    // or an expired lot rolls back everything above with it.
    const auto wanted = wanted_stock(record.lines);
    std::map<std::int64_t, std::vector<domain::LotTake>> taken;
    std::map<std::int64_t, std::string> lot_names;
    for (const auto& [product_id, quantity] : wanted) {
      auto result =
          store::take_stock(unit, product_id, quantity, day, request.offline, caller.user_id);
      taken[product_id] = std::move(result.lots);
      lot_names.merge(result.lot_names);
    }
    for (auto& l : record.lines) {
      // This line's part of what was taken from the product's lots, in FEFO order.
      std::int64_t need = l.quantity;
      for (auto& lot : taken[l.product_id]) {
        if (need == 0) break;
        const std::int64_t q = std::min(need, lot.quantity);
        if (q == 0) continue;
        l.lots.push_back({lot.lot_id, lot_names[lot.lot_id], q});
        lot.quantity -= q;
        need -= q;
      }
    }
    store::insert_sale_lots(unit, record);

    std::vector<store::LedgerEntry> moves;
    for (const auto& line : record.lines)
      for (const auto& lot : line.lots)
        moves.push_back(
            {line.product_id, lot.lot_id, "sale", -lot.quantity, "sale", sale_id, caller.user_id});
    store::append_to_ledger(unit, moves);
    auto sale = to_sale(record, numbered.register_);
    sale.id = sale_id;
    return sale;
  }
}

Sale CounterService::quote(const SaleRequest& request) {
  if (request.lines.empty()) throw Error::invalid_field("lines", "没有商品 / a sale needs lines");
  if (request.lines.size() > 200)
    throw Error::invalid_field("lines", "商品行太多 / at most 200 lines");
  return database_.transact([&](store::UnitOfWork& unit) {
    const auto lines =
        resolve_lines(unit, request, settings_.label_formats, iso_date(today(settings_.zone)));
    std::vector<domain::SaleLineInput> inputs;
    for (const auto& line : lines)
      inputs.push_back(line.input);
    const auto priced = domain::price_sale(inputs, request.discount, request.rounding);
    Sale sale;
    sale.subtotal = priced.subtotal;
    sale.discount = priced.discount;
    sale.rounding = priced.rounding;
    sale.total = priced.total;
    store::SaleRecord record;
    record.lines = sale_lines_of(lines, priced);
    sale.lines = to_sale(record, {}).lines;
    return sale;
  });
}

Sale CounterService::sale(std::int64_t id) {
  return database_.transact([&](store::UnitOfWork& unit) { return load_sale(unit, id); });
}

Sale CounterService::sale_by_number(const std::string& number) {
  return database_.transact([&](store::UnitOfWork& unit) {
    const auto id = store::find_sale_id_by_number(unit, number);
    if (!id) throw Error(ErrorCode::not_found, "没有这笔销售 / no such sale");
    return load_sale(unit, *id);
  });
}

std::vector<Sale> CounterService::sales(const SaleQuery& query) {
  return database_.transact([&](store::UnitOfWork& unit) {
    const auto records =
        store::list_sales(unit, query.shift_id, query.cashier_id,
                          query.day ? std::optional(iso_date(*query.day)) : std::nullopt,
                          query.before_id, std::clamp(query.limit, 1, 100));
    std::map<std::int64_t, store::RegisterRecord> registers;
    std::vector<Sale> sales;
    for (const auto& record : records) {
      auto found = registers.find(record.register_id);
      if (found == registers.end())
        found = registers.emplace(record.register_id, register_of(unit, record.register_id)).first;
      sales.push_back(to_sale(record, found->second));
    }
    return sales;
  });
}

StoredReply CounterService::refund(const domain::Principal& caller, const RefundRequest& request,
                                   const IdempotencyKey& key,
                                   const std::function<StoredReply(const Refund&)>& render) {
  // One line: it is printed on the refund slip and sent to the provider of a code refund.
  if (auto problem = domain::line_problem(request.reason, 0, 200))
    throw Error::invalid_field("reason", *problem);
  if (request.lines.size() > 200) throw Error::invalid_field("lines", "at most 200 lines");
  // Money paid by a scanned code goes back through its provider, asked outside any transaction.
  auto method = request.method;
  if (!method)
    method = database_.transact([&](store::UnitOfWork& unit) {
      const auto first = store::sale_first_tender(unit, request.sale_id);
      if (!first) throw Error(ErrorCode::not_found, "没有这笔销售 / no such sale");
      return method_of(*first);
    });
  if (domain::is_code_method(*method)) {
    // A refund that gives back nothing (lines sold for 0) has nothing to ask a provider for:
    // it only brings the goods back, booked as a cash refund of 0. Anything this first look
    // cannot plan (a replay of this key, a refusal) is answered by the code path as always.
    const bool gives_nothing = database_.transact([&](store::UnitOfWork& unit) {
      const auto sale = store::find_sale(unit, request.sale_id);
      if (!sale) return false;
      check_refund_method(*sale, *method);  // before asking whether the provider is set up
      try {
        return plan_refund(caller, request, *sale, *method).total_fen == 0;
      } catch (const Error&) {
        return false;
      }
    });
    if (!gives_nothing) return refund_to_code(caller, request, *method, key, render);
    method = domain::TenderMethod::cash;
  }

  return idempotency_.run(key, [&](store::UnitOfWork& unit) {
    // Locking the sale's lines serialises refunds of one sale.
    auto sale = store::find_sale(unit, request.sale_id, true);
    if (!sale) throw Error(ErrorCode::not_found, "没有这笔销售 / no such sale");
    check_refund_allowed(unit, caller, *sale);
    // A cash refund locks the shift: two of them cannot both pay out the same cash.
    const bool cash = *method == domain::TenderMethod::cash;
    auto shift = store::open_shift_of(unit, caller.user_id,
                                      cash ? store::RowLock::update : store::RowLock::share);
    auto refund = plan_refund(caller, request, *sale, *method);
    check_method_holds(*sale, *method, refund.total_fen);
    // The drawer pays a cash refund out; one of 0 (goods back, no money) needs no drawer.
    if (cash && !shift && refund.total_fen > 0)
      throw Error(ErrorCode::no_open_shift, "现金退款需要开班 / a cash refund needs an open shift");
    if (cash && shift) check_drawer_pays(unit, *shift, Fen(refund.total_fen), "method");
    if (shift) refund.shift_id = shift->id;
    return render(book_refund(unit, caller.user_id, *sale, refund,
                              shift ? shift->register_id : sale->register_id));
  });
}

void CounterService::check_refund_allowed(store::UnitOfWork& unit, const domain::Principal& caller,
                                          const store::SaleRecord& sale) {
  if (caller.role != domain::Role::admin && sale.business_day != iso_date(today(settings_.zone)))
    throw Error(ErrorCode::forbidden,
                "只能退当天的销售，更早的需要店长 / cashiers refund same-day sales only",
                {{"sale_day", sale.business_day}});
  // What a refund to a code will give back is booked only once its provider accepted it.
  if (store::code_refund_in_flight(unit, sale.id))
    throw Error(ErrorCode::conflict,
                "这笔销售有一笔付款码退款正在处理，请稍后再试 / a refund of this sale to its "
                "payment code is in progress: try again shortly",
                {{"sale_id", std::to_string(sale.id)}});
}

store::RefundRecord CounterService::plan_refund(const domain::Principal& caller,
                                                const RefundRequest& request,
                                                const store::SaleRecord& sale,
                                                domain::TenderMethod method) const {
  check_refund_method(sale, method);
  store::RefundRecord refund;
  refund.sale_id = sale.id;
  refund.cashier_id = caller.user_id;
  refund.method = std::string(domain::to_string(method));
  refund.business_day = iso_date(today(settings_.zone));
  refund.reason = request.reason;

  std::vector<RefundLineRequest> asked = request.lines;
  if (asked.empty()) {  // the whole sale: everything not refunded yet
    for (const auto& line : sale.lines) {
      if (line.quantity <= line.refunded_quantity) continue;
      if (!line.bundle_product_id) {
        asked.push_back({line.id, line.quantity - line.refunded_quantity, true});
      } else if (line.line_no == line.bundle_group) {  // a box: once, in boxes
        const std::int64_t per_box = line.quantity / line.bundle_quantity;
        asked.push_back({line.id, (line.quantity - line.refunded_quantity) / per_box, true});
      }
    }
    if (asked.empty())
      throw Error(ErrorCode::refund_exceeds_sale, "这笔销售已全部退货 / already fully refunded");
  }
  // A gift box goes back whole: a line of a box stands for every line of that box, and its
  // quantity counts boxes. Each component line then refunds its own part (refund_part), so
  // the box's refunds reverse exactly the parts its sale gave each village.
  std::vector<std::pair<std::size_t, RefundLineRequest>> per_line;
  for (std::size_t i = 0; i < asked.size(); ++i) {
    const auto& a = asked[i];
    const auto line = std::find_if(sale.lines.begin(), sale.lines.end(),
                                   [&](const auto& l) { return l.id == a.line_id; });
    if (line == sale.lines.end() || !line->bundle_product_id) {
      per_line.emplace_back(i, a);
      continue;
    }
    if (a.quantity <= 0)
      throw Error::invalid_field("lines[" + std::to_string(i) + "].quantity",
                                 "数量须大于零 / quantity > 0");
    if (a.quantity > line->bundle_quantity)
      throw Error(ErrorCode::refund_exceeds_sale,
                  "退货盒数超过售出盒数 / more boxes than were sold",
                  {{"field", "lines[" + std::to_string(i) + "].quantity"},
                   {"line_quantity", std::to_string(line->bundle_quantity)},
                   {"asked", std::to_string(a.quantity)}});
    for (const auto& component : sale.lines)
      if (component.bundle_group == line->bundle_group && component.bundle_product_id)
        per_line.emplace_back(
            i, RefundLineRequest{component.id,
                                 a.quantity * (component.quantity / component.bundle_quantity),
                                 a.restock});
  }
  std::map<std::int64_t, std::int64_t> asked_per_line;
  for (const auto& [index, a] : per_line) {
    const std::string at = "lines[" + std::to_string(index) + "]";
    const auto line = std::find_if(sale.lines.begin(), sale.lines.end(),
                                   [&](const auto& l) { return l.id == a.line_id; });
    if (line == sale.lines.end())
      throw Error::invalid_field(at + ".line_id", "这笔销售没有这一行 / no such line in the sale");
    if (a.quantity <= 0)
      throw Error::invalid_field(at + ".quantity", "数量须大于零 / quantity > 0");
    const domain::LineAmounts whole{line->quantity, Fen(line->gross_fen), Fen(line->fee_fen),
                                    Fen(line->share_fen)};
    const std::int64_t before = line->refunded_quantity + asked_per_line[line->id];
    // Not `before + quantity`: a quantity near INT64_MAX would overflow past the check.
    if (a.quantity > line->quantity - before)
      throw Error(ErrorCode::refund_exceeds_sale, "退货数量超过售出数量 / more than was sold",
                  {{"field", at + ".quantity"}, {"left", std::to_string(line->quantity - before)}});
    const auto already =
        before == 0 ? domain::LineAmounts{} : domain::refund_part(whole, {}, before);
    const auto part = domain::refund_part(whole, already, a.quantity);
    if (a.restock)
      domain::check_restock(line->village_id, line->product_village_id, line->village_name,
                            at + ".restock");
    asked_per_line[line->id] += a.quantity;
    refund.lines.push_back({line->id, a.quantity, part.gross.value(), part.fee.value(),
                            part.share.value(), a.restock});
    refund.total_fen += part.gross.value();
  }
  // A refund of 0 (a line sold for 0, or its last fen already given back) is allowed: the
  // goods still come back into stock or are written off, and no money moves.
  return refund;
}

Refund CounterService::book_refund(store::UnitOfWork& unit, std::int64_t user_id,
                                   const store::SaleRecord& sale, store::RefundRecord& refund,
                                   std::int64_t register_id) {
  if (!store::insert_refund(unit, refund))
    throw Error(ErrorCode::refund_exceeds_sale, "退货数量超过售出数量 / more than was sold");
  std::vector<domain::VillageSplit> splits;
  std::vector<store::LedgerEntry> moves;
  for (const auto& part : refund.lines) {
    const auto line = std::find_if(sale.lines.begin(), sale.lines.end(),
                                   [&](const auto& l) { return l.id == part.sale_line_id; });
    if (line == sale.lines.end())
      throw Error(ErrorCode::internal, "internal error", {},
                  "refund line of another sale: " + std::to_string(part.sale_line_id));
    splits.push_back({line->village_id, Fen(part.fee_fen), Fen(part.share_fen)});
    if (line->lots.empty()) continue;
    // Back into the lot the line took last (the one of its lots that expires latest).
    const std::int64_t lot_id = line->lots.back().lot_id;
    moves.push_back(
        {line->product_id, lot_id, "refund", part.quantity, "refund", refund.id, user_id});
    if (part.restock) {
      store::add_on_hand(unit, line->product_id, part.quantity);
      store::add_to_lot(unit, lot_id, part.quantity);
    } else {
      // Damaged: it came back and is written off at once; the shelf does not change.
      moves.push_back(
          {line->product_id, lot_id, "write_off", -part.quantity, "refund", refund.id, user_id});
    }
  }
  store::append_to_ledger(unit, moves);
  // A refund that gives back nothing (a line sold for 0) still brings the goods back.
  const auto postings = domain::refund_postings(register_id, method_of(refund.method), splits);
  if (!postings.empty())
    store::post_entry(unit, "refund", refund.id, refund.business_day, postings, sale.number);

  Refund result;
  result.id = refund.id;
  result.sale_id = sale.id;
  result.sale_number = sale.number;
  result.method = refund.method;
  result.total = Fen(refund.total_fen);
  for (const auto& l : refund.lines)
    result.lines.push_back({l.sale_line_id, l.quantity, Fen(l.gross_fen), Fen(l.fee_fen),
                            Fen(l.share_fen), l.restock});
  return result;
}

HeldCart CounterService::hold_cart(const domain::Principal& caller, const std::string& label,
                                   const std::string& cart_json) {
  checked_text(label, "label", 100, false);
  if (cart_json.size() > 32 * 1024)
    throw Error::invalid_field("cart", "购物车太大 / cart too large");
  return database_.transact([&](store::UnitOfWork& unit) {
    auto shift = store::open_shift_of(unit, caller.user_id, store::RowLock::share);
    if (!shift) throw Error(ErrorCode::no_open_shift, "请先开班 / open a shift first");
    const auto id =
        store::insert_held_cart(unit, shift->register_id, caller.user_id, label, cart_json);
    return to_held(*store::find_held_cart(unit, shift->register_id, id));
  });
}

std::vector<HeldCart> CounterService::held_carts(const domain::Principal& caller) {
  return database_.transact([&](store::UnitOfWork& unit) {
    auto shift = store::open_shift_of(unit, caller.user_id, store::RowLock::none);
    if (!shift) throw Error(ErrorCode::no_open_shift, "请先开班 / open a shift first");
    std::vector<HeldCart> carts;
    for (const auto& h : store::list_held_carts(unit, shift->register_id))
      carts.push_back(to_held(h));
    return carts;
  });
}

HeldCart CounterService::resume_cart(const domain::Principal& caller, std::int64_t id) {
  return database_.transact([&](store::UnitOfWork& unit) {
    auto shift = store::open_shift_of(unit, caller.user_id, store::RowLock::share);
    if (!shift) throw Error(ErrorCode::no_open_shift, "请先开班 / open a shift first");
    auto h = store::take_held_cart(unit, shift->register_id, id);
    if (!h) throw Error(ErrorCode::not_found, "挂单已取走 / the held cart is gone");
    return to_held(*h);
  });
}

}  // namespace yizhan::service
