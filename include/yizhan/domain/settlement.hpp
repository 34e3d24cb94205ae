// Settlements (结算) with the villages: the period a settlement covers, its states, its lines
// and totals, payouts, and the statement as CSV (for Excel) and as a printable A4 page.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "yizhan/domain/journal.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/quantity.hpp"

namespace yizhan::domain {

/// draft → confirmed (frozen) → paid.
enum class SettlementState { draft, confirmed, paid };

std::string_view to_string(SettlementState state);
std::optional<SettlementState> parse_settlement_state(std::string_view text);

/// Refuses any change but draft → confirmed and confirmed → paid: 409 invalid_state whose
/// details name both states ("state": where it is, "to": where it was asked to go).
void require_settlement_transition(SettlementState from, SettlementState to);

/// The period of business days a settlement covers, both ends included.
struct SettlementPeriod {
  std::chrono::year_month_day from;
  std::chrono::year_month_day to;
  friend bool operator==(const SettlementPeriod&, const SettlementPeriod&) = default;
};

/// The longest period one settlement may cover.
inline constexpr int kMaxSettlementDays = 366;

/// A client's period: "YYYY-MM-DD" dates (2000–2099), `to` not before `from`, not after
/// `today` (the business day now) and at most kMaxSettlementDays long. 422 naming "from" or
/// "to" otherwise.
SettlementPeriod settlement_period(std::string_view from, std::string_view to,
                                   std::chrono::year_month_day today);

/// The calendar month as a period: its first to its last day.
SettlementPeriod month_period(std::chrono::year_month month);

/// A village's settlements never overlap: a new period must start after the last day already
/// settled (confirmed or paid) for it. 409 conflict naming "from" otherwise.
void require_after_settled(const SettlementPeriod& period,
                           const std::optional<std::chrono::year_month_day>& settled_to);

/// What a statement line was copied from.
enum class StatementLineKind {
  sale,          ///< a counter sale line (sale_lines)
  refund,        ///< a counter refund line (refund_lines), negative
  order,         ///< an online order line (order_lines), once the order is paid
  order_refund,  ///< an online order refund line (order_refund_lines), once it succeeded, negative
  adjustment,    ///< a manager's adjustment (village_adjustments)
};

std::string_view to_string(StatementLineKind kind);
std::optional<StatementLineKind> parse_statement_line_kind(std::string_view text);
/// "销售 Sale", "退款 Refund", "线上订单 Online order", "调整 Adjustment".
std::string_view label(StatementLineKind kind);

/// One line of a statement: amounts as frozen in the source line (a refund's negated).
struct StatementLine {
  StatementLineKind kind = StatementLineKind::sale;
  std::int64_t line_id = 0;
  std::string business_day;  ///< "YYYY-MM-DD"
  std::string document;      ///< sale or order number, "R<refund id>", "A<adjustment id>"
  std::string description;   ///< product name or the adjustment's reason
  std::optional<Unit> unit;  ///< none for adjustments
  std::int64_t quantity = 0;
  Fen gross;
  Fen fee;
  Fen share;
  friend bool operator==(const StatementLine&, const StatementLine&) = default;
};

/// A statement's totals. Sales are sale and order lines; refunds the refund lines (negative);
/// total = sales share + refund share + adjustments: what the station owes for the period.
struct SettlementTotals {
  std::int64_t line_count = 0;
  Fen sales_gross;
  Fen sales_fee;
  Fen sales_share;
  Fen refund_gross;
  Fen refund_fee;
  Fen refund_share;
  Fen adjustments;
  Fen total;
  friend bool operator==(const SettlementTotals&, const SettlementTotals&) = default;
};

/// The totals of `lines`. A line whose fee and share do not make its gross is a bug (internal).
SettlementTotals totals_of(std::span<const StatementLine> lines);

/// How a payout left the station.
enum class PayoutMethod { bank, cash };

std::string_view to_string(PayoutMethod method);
std::optional<PayoutMethod> parse_payout_method(std::string_view text);

/// A confirmed settlement's total is paid in one payout or several (partial payouts). Given what
/// earlier payouts paid (`paid`): a total of zero or less, or one already covered, has nothing
/// to pay (409 conflict with total_fen, paid_fen and remaining_fen); an amount of zero or less,
/// or more than the remaining total − paid, is 422 naming "amount_fen" with remaining_fen in the
/// details. Returns whether the payout covers the total (the settlement becomes paid).
bool require_payout_amount(Fen amount, Fen total, Fen paid);

/// Whether payouts of `paid` cover a settlement of `total`: something was owed and all of it
/// is paid. A confirmed settlement is paid exactly when its payouts cover it.
bool payouts_cover(Fen total, Fen paid);

/// A payout: the village's payable is debited (the station owes that much less) against the
/// station's bank account or its cash.
std::vector<Posting> payout_postings(std::int64_t village_id, PayoutMethod method, Fen amount);

inline constexpr const char* kStationBank = "station_bank";
inline constexpr const char* kVillageAdjustments = "village_adjustments";

/// The largest adjustment either way (one hundred million yuan).
inline constexpr std::int64_t kMaxAdjustmentFen = 10'000'000'000;

/// An adjustment's amount: not zero, at most kMaxAdjustmentFen either way; 422 "amount_fen".
void require_adjustment_amount(Fen amount);

/// A manual adjustment: the village's payable is credited with `amount` (> 0: the station owes
/// more; < 0: a charge such as packaging taken back) against the adjustments account.
std::vector<Posting> adjustment_postings(std::int64_t village_id, Fen amount);

/// Everything a statement shows.
struct StatementView {
  std::string station_name;
  std::int64_t settlement_id = 0;
  std::string village_name;
  std::string village_code;
  SettlementPeriod period;
  SettlementState state = SettlementState::draft;
  std::string confirmed_at;  ///< "YYYY-MM-DD HH:MM" (station time), or empty for a draft
  std::vector<StatementLine> lines;
  SettlementTotals totals;
  struct Payout {
    PayoutMethod method = PayoutMethod::bank;
    std::string reference;
    std::string paid_on;  ///< "YYYY-MM-DD"
    Fen amount;
  };
  std::vector<Payout> payouts;  ///< in the order they were recorded
};

/// The statement as CSV that Excel opens correctly: UTF-8 with a BOM, CRLF rows, a header row
/// (Chinese first), one row per line, then the totals ("本期应付 Total payable" last of them);
/// when something was paid, a row per payout, then what was paid and what remains; amounts as
/// yuan with two decimals.
/// Text that a spreadsheet would run as a formula (=, +, -, @ first) is prefixed with '.
std::string statement_csv(const StatementView& statement);

/// The statement as an A4 page for the village notice board (村务公开), with the station's and
/// the village's signature lines. `stylesheet` is its style sheet's URL (no inline style: CSP).
std::string statement_html(const StatementView& statement, std::string_view stylesheet);

}  // namespace yizhan::domain
