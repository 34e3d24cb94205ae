// The manager's reports (issue 10): what a report query may ask (period, grouping, limits), the
// small rules the reports apply (effective commission rate, stock value, days of cover), and a
// report as a table that becomes CSV for Excel.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "yizhan/domain/money.hpp"
#include "yizhan/domain/quantity.hpp"

namespace yizhan::domain {

/// How a sales report groups its lines.
enum class SalesGroup { day, month, village, product, category, channel, method };

std::string_view to_string(SalesGroup group);
std::optional<SalesGroup> parse_sales_group(std::string_view text);

/// The longest period a report may cover, in days (a year and a month: a year against the last).
inline constexpr int kMaxReportDays = 400;

/// A report's period: business days [from, to], both included.
struct ReportPeriod {
  std::chrono::year_month_day from;
  std::chrono::year_month_day to;

  [[nodiscard]] std::int64_t days() const;  ///< how many business days, ≥ 1
};

/// The period a client asked for: `to` defaults to `today`, `from` to `default_days` − 1 days
/// before `to`. 422 naming `from` or `to` for a bad date, `from` after `to`, or a period longer
/// than kMaxReportDays.
ReportPeriod report_period(const std::optional<std::string>& from,
                           const std::optional<std::string>& to, std::chrono::year_month_day today,
                           int default_days);

/// A whole number query parameter in [low, high], or `fallback` when absent; 422 naming `field`.
std::int64_t bounded_parameter(const std::optional<std::string>& text, std::string_view field,
                               std::int64_t low, std::int64_t high, std::int64_t fallback);

/// The commission actually earned as basis points of gross, rounded half-up; 0 when no gross.
std::int64_t effective_bps(Fen fee, Fen gross);

/// What `quantity` (pieces, or grams) is worth at `price` (per piece, or per kilogram).
Fen stock_value(Unit unit, Fen price, std::int64_t quantity);

/// How many days the stock on hand lasts at the period's pace of sales; nothing when nothing
/// sold (it does not move at all). Rounded down.
std::optional<std::int64_t> days_of_cover(std::int64_t on_hand, std::int64_t sold,
                                          std::int64_t period_days);

/// The payments reconciliation (对账): what went through one provider's clearing account, to
/// tick off against its statement. `method` is the clearing account's (tender_clearing:<method>):
/// wechat and wechat_code are WeChat Pay, alipay and alipay_code Alipay, card the bank's
/// terminal, other whatever the station takes besides; cash has no provider (nothing).
std::optional<std::string_view> payment_provider(std::string_view method);

/// A provider named in a query: wechat, alipay, card or other.
bool is_payment_provider(std::string_view provider);

/// Money in (debits to the clearing account: payments, and refunds the provider ended unpaid)
/// and out (credits: refunds, returns) with their counts.
struct PaymentTotals {
  Fen received;
  Fen refunded;  ///< positive
  std::int64_t received_count = 0;
  std::int64_t refunded_count = 0;

  /// Adds one posting to the clearing account: positive in, negative out.
  void add(Fen posting);
  [[nodiscard]] Fen net() const { return received - refunded; }
};

/// A report as a table: what CSV (and a generic viewer) needs.
enum class CellKind { text, money, integer, basis_points };

struct ReportColumn {
  std::string header;  ///< Chinese first, then English: "销售额(元) Gross (yuan)"
  CellKind kind = CellKind::text;
};

/// A cell: text, or a number whose meaning its column's kind gives; monostate = empty.
using ReportCell = std::variant<std::monostate, std::string, std::int64_t>;

struct ReportTable {
  std::vector<ReportColumn> columns;
  std::vector<std::vector<ReportCell>> rows;
};

/// The table as CSV that Excel opens correctly: UTF-8 with a BOM, CRLF rows, the header row,
/// money as yuan with two decimals, basis points as a percentage with two decimals.
std::string report_csv(const ReportTable& table);

/// report_csv in parts, for a table too long to hold as cells: the BOM and the header row, then
/// each row as it comes.
std::string report_csv_header(const std::vector<ReportColumn>& columns);
std::string report_csv_row(const std::vector<ReportColumn>& columns,
                           const std::vector<ReportCell>& row);

}  // namespace yizhan::domain
