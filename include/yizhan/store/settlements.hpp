// SQL for settlements, their frozen lines, payouts and village adjustments, and the checks
// `yizhan check` runs over them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/domain/settlement.hpp"

namespace yizhan::store {

class UnitOfWork;

/// A row of `settlements`, with its village's name and code.
struct SettlementRecord {
  std::int64_t id = 0;
  std::int64_t village_id = 0;
  std::string village_name;
  std::string village_code;
  std::string period_from;  ///< "YYYY-MM-DD"
  std::string period_to;
  std::string state;
  domain::SettlementTotals totals;
  std::optional<std::int64_t> created_by;
  std::int64_t created_at_us = 0;
  std::optional<std::int64_t> confirmed_by;
  std::optional<std::int64_t> confirmed_at_us;
};

/// A row of `settlement_payouts`.
struct PayoutRecord {
  std::int64_t id = 0;
  std::int64_t settlement_id = 0;
  std::int64_t village_id = 0;
  std::int64_t amount_fen = 0;
  std::string method;
  std::string reference;
  std::string paid_on;  ///< "YYYY-MM-DD"
  std::optional<std::int64_t> created_by;
  std::int64_t created_at_us = 0;
};

/// A row of `village_adjustments`, with the confirmed settlement that holds it, if any.
struct AdjustmentRecord {
  std::int64_t id = 0;
  std::int64_t village_id = 0;
  std::int64_t amount_fen = 0;
  std::string reason;
  std::string business_day;
  std::optional<std::int64_t> created_by;
  std::int64_t created_at_us = 0;
  std::optional<std::int64_t> settlement_id;
};

/// The village's lines that no confirmed settlement holds, of business days up to `to_day`:
/// counter sale lines, counter refund lines (negated), lines of paid online orders (on the day
/// of their payment's journal entry) and adjustments; by day and id.
std::vector<domain::StatementLine> unsettled_lines(UnitOfWork& unit, std::int64_t village_id,
                                                   const std::string& to_day);

/// The last day of the village's confirmed (or paid) settlements; nothing when none.
std::optional<std::string> settled_to(UnitOfWork& unit, std::int64_t village_id);

/// Inserts a draft with its lines and totals; returns its id.
std::int64_t insert_settlement(UnitOfWork& unit, std::int64_t village_id,
                               const std::string& period_from, const std::string& period_to,
                               const std::vector<domain::StatementLine>& lines,
                               const domain::SettlementTotals& totals,
                               std::optional<std::int64_t> created_by);

std::optional<SettlementRecord> find_settlement(UnitOfWork& unit, std::int64_t id,
                                                bool for_update = false);

/// A settlement's lines in statement order.
std::vector<domain::StatementLine> settlement_lines(UnitOfWork& unit, std::int64_t settlement_id);

/// Settlements newest first, optionally of one village and in one state; and how many match.
struct SettlementPage {
  std::vector<SettlementRecord> items;
  std::int64_t total = 0;
};
SettlementPage list_settlements(UnitOfWork& unit, std::optional<std::int64_t> village_id,
                                std::optional<std::string> state, int limit, int offset);

/// Freezes a draft: state confirmed, and every line settled. A line already settled in another
/// settlement is refused by the schema's unique key: domain::Error conflict naming the line.
void confirm_settlement(UnitOfWork& unit, std::int64_t id, std::optional<std::int64_t> by);

/// Marks a confirmed settlement paid.
void mark_settlement_paid(UnitOfWork& unit, std::int64_t id);

std::int64_t insert_payout(UnitOfWork& unit, const PayoutRecord& payout);
/// A settlement's payouts in the order they were recorded. `for_update` reads them with a
/// locking read (the latest committed rows, whatever the transaction's snapshot).
std::vector<PayoutRecord> list_payouts(UnitOfWork& unit, std::int64_t settlement_id,
                                       bool for_update = false);

std::int64_t insert_adjustment(UnitOfWork& unit, const AdjustmentRecord& adjustment);
std::optional<AdjustmentRecord> find_adjustment(UnitOfWork& unit, std::int64_t id);
/// A village's adjustments, newest first (at most `limit`).
std::vector<AdjustmentRecord> list_adjustments(UnitOfWork& unit, std::int64_t village_id,
                                               int limit);

/// Locks the village's row (FOR UPDATE): confirmations of one village run one at a time.
bool lock_village(UnitOfWork& unit, std::int64_t village_id);

// --- yizhan check ------------------------------------------------------------------------------

/// Lines (kind, id) held by more than one confirmed or paid settlement, and lines whose
/// `settled` flag disagrees with their settlement's state.
std::vector<std::string> lines_settled_twice(UnitOfWork& unit);

/// Confirmed or paid settlements whose stored totals are not the sums of their frozen lines.
std::vector<std::string> settlement_total_differences(UnitOfWork& unit);

/// Settlements whose payouts sum to more than their total, paid ones that their payouts do not
/// cover, confirmed ones that they do, drafts with payouts, and payouts booked to another
/// village than their settlement's.
std::vector<std::string> payout_differences(UnitOfWork& unit);

/// Per village: the payable's balance against shares − refunded shares + adjustments − payouts,
/// where the shares part is the payable's postings from sales, refunds and orders (checked
/// against the lines by village_payable_differences) and adjustments and payouts come from their
/// tables; so a payout or adjustment whose journal entry is missing or wrong shows here.
std::vector<std::string> village_balance_differences(UnitOfWork& unit);

}  // namespace yizhan::store
