// Settlement use cases: each runs the domain rules and the store calls in one transaction, with
// its audit entry; a payout posts its journal entry in the same transaction as the state change.
#include "yizhan/service/settlements.hpp"

#include <algorithm>
#include <string_view>

#include "audit_entry.hpp"
#include "yizhan/domain/catalog.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/text.hpp"
#include "yizhan/store/audit.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/journal.hpp"
#include "yizhan/store/settlements.hpp"
#include "yizhan/store/villages.hpp"

namespace yizhan::service {

using domain::Error;
using domain::ErrorCode;
using domain::Fen;
using domain::SettlementState;

namespace {

template <class T>
const T& required(const std::optional<T>& value, const std::string& field) {
  if (!value) throw Error::invalid_field(field, field + " 必填 / " + field + " is required");
  return *value;
}

/// One line: reasons and references are printed in statements and exported to CSV.
void check_text(const std::string& text, const std::string& field, std::size_t min_characters,
                std::size_t max_characters) {
  if (!domain::is_valid_utf8(text))
    throw Error::invalid_field(field, field + " 不是有效的 UTF-8 / is not valid UTF-8");
  if (const auto problem = domain::line_problem(text, min_characters, max_characters))
    throw Error::invalid_field(field, field + " " + *problem);
}

/// Whether `text` holds nothing but spaces (ASCII whitespace or the ideographic space U+3000).
bool is_blank(std::string_view text) {
  while (!text.empty()) {
    if (text.front() == ' ' || text.front() == '\t' || text.front() == '\r' ||
        text.front() == '\n') {
      text.remove_prefix(1);
    } else if (text.starts_with("\xE3\x80\x80")) {
      text.remove_prefix(3);
    } else {
      return false;
    }
  }
  return true;
}

Error no_such_settlement() {
  return Error(ErrorCode::not_found, "没有这张结算单 / no such settlement");
}

/// "2026-12-01 09:30" in the station's time.
std::string local_minute(std::int64_t unix_microseconds) {
  auto text = domain::format_shanghai_time(unix_microseconds);
  return text.substr(0, 10) + " " + text.substr(11, 5);
}

std::chrono::year_month_day stored_date(const std::string& text) {
  const auto date = domain::parse_iso_date(text);
  if (!date) throw Error(ErrorCode::internal, "internal error", {}, "bad stored date " + text);
  return *date;
}

Settlement to_settlement(const store::SettlementRecord& r) {
  Settlement s;
  s.id = r.id;
  s.village_id = r.village_id;
  s.village_name = r.village_name;
  s.village_code = r.village_code;
  s.from = r.period_from;
  s.to = r.period_to;
  s.state = domain::parse_settlement_state(r.state).value_or(SettlementState::draft);
  s.totals = r.totals;
  s.created_at_us = r.created_at_us;
  s.confirmed_at_us = r.confirmed_at_us;
  return s;
}

std::vector<Payout> to_payouts(const std::vector<store::PayoutRecord>& records) {
  std::vector<Payout> out;
  out.reserve(records.size());
  for (const auto& p : records)
    out.push_back({p.id, p.amount_fen, p.method, p.reference, p.paid_on, p.created_at_us});
  return out;
}

/// One settlement with its lines and payouts, read in `unit`.
Settlement load(store::UnitOfWork& unit, std::int64_t id) {
  const auto record = store::find_settlement(unit, id);
  if (!record) throw no_such_settlement();
  auto settlement = to_settlement(*record);
  settlement.lines = store::settlement_lines(unit, id);
  settlement.payouts = to_payouts(store::list_payouts(unit, id));
  return settlement;
}

Adjustment to_adjustment(const store::AdjustmentRecord& r) {
  return {r.id,           r.village_id,    r.amount_fen,   r.reason,
          r.business_day, r.created_at_us, r.settlement_id};
}

store::AuditState totals_state(const domain::SettlementTotals& t) {
  return {{"line_count", std::to_string(t.line_count)},
          {"sales_share_fen", std::to_string(t.sales_share.value())},
          {"refund_share_fen", std::to_string(t.refund_share.value())},
          {"adjustments_fen", std::to_string(t.adjustments.value())},
          {"total_fen", std::to_string(t.total.value())}};
}

/// Whether a village account may see the village's data (staff see every village).
bool visible_to(const domain::Principal& caller, std::int64_t village_id) {
  return caller.role == domain::Role::admin || domain::may_read_village(caller, village_id);
}

}  // namespace

std::int64_t Settlement::paid_fen() const {
  std::int64_t paid = 0;
  for (const auto& payout : payouts)
    paid += payout.amount_fen;
  return paid;
}

std::int64_t Settlement::remaining_fen() const {
  return std::max<std::int64_t>(totals.total.value() - paid_fen(), 0);
}

SettlementService::SettlementService(store::Database& database, SettlementSettings settings,
                                     int idempotency_retention_days)
    : database_(database),
      settings_(std::move(settings)),
      idempotency_(database, idempotency_retention_days) {}

std::chrono::year_month_day SettlementService::today() const {
  const auto now = settings_.clock ? settings_.clock() : std::chrono::system_clock::now();
  return domain::business_day(now, settings_.zone);
}

// --- drafts -------------------------------------------------------------------------------------

StoredReply SettlementService::create_draft(const DraftRequest& request, const Actor& actor,
                                            const std::optional<IdempotencyKey>& key,
                                            const Render<Settlement>& render) {
  const auto village_id = required(request.village_id, "village_id");
  const auto period = domain::settlement_period(required(request.from, "from"),
                                                required(request.to, "to"), today());
  const auto from = domain::format_iso_date(period.from);
  const auto to = domain::format_iso_date(period.to);
  return idempotency_.run(key, [&](store::UnitOfWork& unit) {
    const auto village = store::find_village(unit, village_id);
    if (!village)
      throw Error::invalid_field("village_id", "没有这个村 / village_id names no village");
    if (const auto settled = store::settled_to(unit, village_id))
      domain::require_after_settled(period, stored_date(*settled));
    const auto lines = store::unsettled_lines(unit, village_id, to);
    const auto totals = domain::totals_of(lines);
    const auto id =
        store::insert_settlement(unit, village_id, from, to, lines, totals, actor.user_id);
    auto entry = audit_entry(actor, "settlement", id);
    entry.after = totals_state(totals);
    entry.after->insert(entry.after->begin(), {{"village_id", std::to_string(village_id)},
                                               {"from", from},
                                               {"to", to},
                                               {"state", "draft"}});
    store::record_audit(unit, entry);
    return render(load(unit, id));
  });
}

Settlement SettlementService::create_draft(const DraftRequest& request, const Actor& actor) {
  Settlement created;
  create_draft(request, actor, std::nullopt, [&created](const Settlement& settlement) {
    created = settlement;
    return StoredReply{201, "", "", false};
  });
  return created;
}

// --- confirming
// -----------------------------------------------------------------------------------

Settlement SettlementService::confirm(std::int64_t id, const Actor& actor) {
  return database_.transact([&](store::UnitOfWork& unit) {
    const auto seen = store::find_settlement(unit, id);
    if (!seen) throw no_such_settlement();
    // One confirmation of a village at a time: the village row, then the settlement's.
    store::lock_village(unit, seen->village_id);
    const auto record = store::find_settlement(unit, id, true);
    if (!record) throw no_such_settlement();
    const auto state =
        domain::parse_settlement_state(record->state).value_or(SettlementState::draft);
    domain::require_settlement_transition(state, SettlementState::confirmed);
    if (const auto settled = store::settled_to(unit, record->village_id)) {
      domain::require_after_settled(
          {stored_date(record->period_from), stored_date(record->period_to)},
          stored_date(*settled));
    }
    // Its lines are settled here; a line another confirmation took is refused by the schema.
    store::confirm_settlement(unit, id, actor.user_id);
    auto entry = audit_entry(actor, "settlement", id);
    entry.before = store::AuditState{{"state", "draft"}};
    entry.after = totals_state(record->totals);
    entry.after->insert(entry.after->begin(), store::AuditState::value_type{"state", "confirmed"});
    store::record_audit(unit, entry);
    return load(unit, id);
  });
}

// --- payouts ------------------------------------------------------------------------------------

StoredReply SettlementService::pay(std::int64_t id, const PayoutRequest& request,
                                   const Actor& actor, const std::optional<IdempotencyKey>& key,
                                   const Render<Settlement>& render) {
  const Fen amount(required(request.amount_fen, "amount_fen"));
  const auto method = domain::parse_payout_method(required(request.method, "method"));
  if (!method)
    throw Error::invalid_field("method", "付款方式应为 bank 或 cash / method must be bank or cash");
  const auto reference = request.reference.value_or("");
  check_text(reference, "reference", *method == domain::PayoutMethod::bank ? 1 : 0, 100);
  // A transfer's reference is what finds it on the bank statement: blanks are no reference.
  if (*method == domain::PayoutMethod::bank && is_blank(reference))
    throw Error::invalid_field("reference", "reference is required");
  const auto& paid_on_text = required(request.paid_on, "paid_on");
  const auto paid_on =
      paid_on_text.size() == 10 ? domain::parse_iso_date(paid_on_text) : std::nullopt;
  if (!paid_on || paid_on->year() < std::chrono::year(2000))
    throw Error::invalid_field("paid_on",
                               "paid_on 应为日期 YYYY-MM-DD / must be a date YYYY-MM-DD");
  if (*paid_on > today())
    throw Error::invalid_field("paid_on", "付款日期不能在未来 / paid_on cannot be in the future");

  return idempotency_.run(key, [&](store::UnitOfWork& unit) {
    // The settlement's row first: concurrent payouts of it wait here, one at a time, and each
    // then sees the payouts committed before it (a locking read, not the snapshot).
    const auto record = store::find_settlement(unit, id, true);
    if (!record) throw no_such_settlement();
    const auto state =
        domain::parse_settlement_state(record->state).value_or(SettlementState::draft);
    domain::require_settlement_transition(state, SettlementState::paid);
    if (*paid_on < stored_date(record->period_to))
      throw Error::invalid_field("paid_on",
                                 "付款日期早于结算期结束 / paid_on is before the period ends");
    Fen paid_before;
    for (const auto& earlier : store::list_payouts(unit, id, true))
      paid_before += Fen(earlier.amount_fen);
    const bool covers = domain::require_payout_amount(amount, record->totals.total, paid_before);
    store::PayoutRecord payout;
    payout.settlement_id = id;
    payout.village_id = record->village_id;
    payout.amount_fen = amount.value();
    payout.method = std::string(domain::to_string(*method));
    payout.reference = reference;
    payout.paid_on = paid_on_text;
    payout.created_by = actor.user_id;
    const auto payout_id = store::insert_payout(unit, payout);
    store::post_entry(unit, "payout", payout_id, paid_on_text,
                      domain::payout_postings(record->village_id, *method, amount),
                      "结算付款 S" + std::to_string(id) + " / settlement payout");
    if (covers) store::mark_settlement_paid(unit, id);
    const auto paid_after = paid_before + amount;
    auto entry = audit_entry(actor, "settlement", id);
    entry.before = store::AuditState{{"state", "confirmed"},
                                     {"paid_fen", std::to_string(paid_before.value())}};
    entry.after = store::AuditState{
        {"state", covers ? "paid" : "confirmed"},
        {"paid_fen", std::to_string(paid_after.value())},
        {"remaining_fen", std::to_string((record->totals.total - paid_after).value())},
        {"payout_id", std::to_string(payout_id)},
        {"amount_fen", std::to_string(amount.value())},
        {"method", payout.method},
        {"reference", reference},
        {"paid_on", paid_on_text}};
    store::record_audit(unit, entry);
    return render(load(unit, id));
  });
}

// --- reading ------------------------------------------------------------------------------------

SettlementList SettlementService::list(const domain::Principal& caller,
                                       std::optional<std::int64_t> village_id,
                                       std::optional<std::string> state, int limit, int offset) {
  if (caller.role == domain::Role::village) {
    if (village_id && !domain::may_read_village(caller, *village_id))
      throw Error(ErrorCode::forbidden,
                  "只能查看本村的数据 / this village's data belongs to that village");
    village_id = caller.village_id.value_or(0);
  }
  if (state && !domain::parse_settlement_state(*state))
    throw Error::invalid_field("state",
                               "state 应为 draft、confirmed 或 paid / state must be "
                               "draft, confirmed or paid");
  return database_.transact([&](store::UnitOfWork& unit) {
    const auto page = store::list_settlements(unit, village_id, state, limit, offset);
    SettlementList out;
    out.total = page.total;
    for (const auto& record : page.items)
      out.items.push_back(to_settlement(record));
    // The payouts of the confirmed and paid ones, so that a list shows what was paid, when
    // and how, and what remains.
    for (auto& item : out.items) {
      if (item.state == SettlementState::draft) continue;
      item.payouts = to_payouts(store::list_payouts(unit, item.id));
    }
    return out;
  });
}

Settlement SettlementService::get(const domain::Principal& caller, std::int64_t id) {
  auto settlement = database_.transact([&](store::UnitOfWork& unit) { return load(unit, id); });
  // Another village's settlement does not exist for a village account.
  if (!visible_to(caller, settlement.village_id)) throw no_such_settlement();
  return settlement;
}

domain::StatementView SettlementService::statement(const domain::Principal& caller,
                                                   std::int64_t id) {
  const auto s = get(caller, id);
  domain::StatementView view;
  view.station_name = settings_.station_name;
  view.settlement_id = s.id;
  view.village_name = s.village_name;
  view.village_code = s.village_code;
  view.period = {stored_date(s.from), stored_date(s.to)};
  view.state = s.state;
  if (s.confirmed_at_us) view.confirmed_at = local_minute(*s.confirmed_at_us);
  view.lines = s.lines;
  view.totals = s.totals;
  for (const auto& payout : s.payouts) {
    view.payouts.push_back(domain::StatementView::Payout{
        domain::parse_payout_method(payout.method).value_or(domain::PayoutMethod::bank),
        payout.reference, payout.paid_on, Fen(payout.amount_fen)});
  }
  return view;
}

// --- adjustments --------------------------------------------------------------------------------

StoredReply SettlementService::adjust(std::int64_t village_id, const AdjustmentRequest& request,
                                      const Actor& actor, const std::optional<IdempotencyKey>& key,
                                      const Render<Adjustment>& render) {
  const Fen amount(required(request.amount_fen, "amount_fen"));
  domain::require_adjustment_amount(amount);
  const auto& reason = required(request.reason, "reason");
  check_text(reason, "reason", 1, 200);
  const auto day = domain::format_iso_date(today());
  return idempotency_.run(key, [&](store::UnitOfWork& unit) {
    if (!store::find_village(unit, village_id))
      throw Error(ErrorCode::not_found, "没有这个村 / no such village");
    store::AdjustmentRecord adjustment;
    adjustment.village_id = village_id;
    adjustment.amount_fen = amount.value();
    adjustment.reason = reason;
    adjustment.business_day = day;
    adjustment.created_by = actor.user_id;
    const auto id = store::insert_adjustment(unit, adjustment);
    store::post_entry(unit, "adjustment", id, day, domain::adjustment_postings(village_id, amount),
                      "结算调整 / settlement adjustment");
    auto entry = audit_entry(actor, "village_adjustment", id);
    entry.after = store::AuditState{{"village_id", std::to_string(village_id)},
                                    {"amount_fen", std::to_string(amount.value())},
                                    {"reason", reason},
                                    {"business_day", day}};
    store::record_audit(unit, entry);
    return render(to_adjustment(*store::find_adjustment(unit, id)));
  });
}

std::vector<Adjustment> SettlementService::adjustments(const domain::Principal& caller,
                                                       std::int64_t village_id) {
  if (!visible_to(caller, village_id))
    throw Error(ErrorCode::forbidden,
                "只能查看本村的数据 / this village's data belongs to that village");
  return database_.transact([&](store::UnitOfWork& unit) {
    if (!store::find_village(unit, village_id))
      throw Error(ErrorCode::not_found, "没有这个村 / no such village");
    std::vector<Adjustment> out;
    for (const auto& record : store::list_adjustments(unit, village_id, 200))
      out.push_back(to_adjustment(record));
    return out;
  });
}

}  // namespace yizhan::service
