// The manager's reports: query rules, small figures and CSV.
#include "yizhan/domain/report.hpp"

#include <charconv>

#include "yizhan/domain/csv.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/time.hpp"

namespace yizhan::domain {

using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

namespace {

// 128 bits: fee × 10 000 and on hand × days must not overflow (as in commission.cpp).
__extension__ typedef __int128 Wide;

constexpr std::pair<SalesGroup, std::string_view> kGroups[] = {
    {SalesGroup::day, "day"},           {SalesGroup::month, "month"},
    {SalesGroup::village, "village"},   {SalesGroup::product, "product"},
    {SalesGroup::category, "category"}, {SalesGroup::channel, "channel"},
    {SalesGroup::method, "method"}};

year_month_day date_field(const std::optional<std::string>& text, const std::string& field,
                          year_month_day fallback) {
  if (!text || text->empty()) return fallback;
  const auto day = parse_iso_date(*text);
  if (!day)
    throw Error::invalid_field(
        field, field + " 须为日期 YYYY-MM-DD / " + field + " must be a date YYYY-MM-DD");
  // The station's books start this century; year 0 or earlier is no business day (MariaDB's
  // DATE refuses some, and the days before `to` would run past year 0).
  if (day->year() < std::chrono::year(2000))
    throw Error::invalid_field(
        field, field + " 须在 2000-01-01 之后 / " + field + " must be 2000-01-01 or later");
  return *day;
}

}  // namespace

std::string_view to_string(SalesGroup group) {
  for (const auto& [value, name] : kGroups)
    if (value == group) return name;
  return "day";
}

std::optional<SalesGroup> parse_sales_group(std::string_view text) {
  for (const auto& [value, name] : kGroups)
    if (name == text) return value;
  return std::nullopt;
}

std::optional<std::string_view> payment_provider(std::string_view method) {
  if (method == "wechat" || method == "wechat_code") return "wechat";
  if (method == "alipay" || method == "alipay_code") return "alipay";
  if (method == "card") return "card";
  if (method == "other") return "other";
  return std::nullopt;
}

bool is_payment_provider(std::string_view provider) {
  return provider == "wechat" || provider == "alipay" || provider == "card" || provider == "other";
}

void PaymentTotals::add(Fen posting) {
  if (posting > Fen(0)) {
    received += posting;
    ++received_count;
  } else if (posting < Fen(0)) {
    refunded -= posting;
    ++refunded_count;
  }
}

std::int64_t ReportPeriod::days() const {
  return (sys_days(to) - sys_days(from)).count() + 1;
}

ReportPeriod report_period(const std::optional<std::string>& from,
                           const std::optional<std::string>& to, year_month_day today,
                           int default_days) {
  const auto last = date_field(to, "to", today);
  const auto first =
      date_field(from, "from", year_month_day{sys_days(last) - days(default_days - 1)});
  if (sys_days(first) > sys_days(last))
    throw Error::invalid_field("from", "from 不能晚于 to / from must not be after to");
  if (sys_days(last) - sys_days(first) >= days(kMaxReportDays))
    throw Error::invalid_field("to", "查询期间最长" + std::to_string(kMaxReportDays) +
                                         "天 / the period is at most " +
                                         std::to_string(kMaxReportDays) + " days");
  return {first, last};
}

std::int64_t bounded_parameter(const std::optional<std::string>& text, std::string_view field,
                               std::int64_t low, std::int64_t high, std::int64_t fallback) {
  if (!text || text->empty()) return fallback;
  std::int64_t value = 0;
  const auto* end = text->data() + text->size();
  const auto [at, error] = std::from_chars(text->data(), end, value);
  if (error != std::errc() || at != end || value < low || value > high) {
    const std::string name(field);
    const auto range = std::to_string(low) + " – " + std::to_string(high);
    throw Error::invalid_field(
        name, name + " 须为 " + range + " 的整数 / " + name + " must be a whole number " + range);
  }
  return value;
}

std::int64_t effective_bps(Fen fee, Fen gross) {
  if (gross.value() == 0) return 0;
  // Half-up on the magnitude; both signs alike (a period of refunds only is negative).
  const Wide scaled = static_cast<Wide>(fee.value()) * 10000;
  const Wide whole = gross.value();
  const bool negative = (scaled < 0) != (whole < 0);
  const Wide a = scaled < 0 ? -scaled : scaled;
  const Wide b = whole < 0 ? -whole : whole;
  const auto rounded = static_cast<std::int64_t>((2 * a + b) / (2 * b));
  return negative ? -rounded : rounded;
}

Fen stock_value(Unit unit, Fen price, std::int64_t quantity) {
  return unit == Unit::gram ? weighed_line_total(price, quantity) : price * quantity;
}

std::optional<std::int64_t> days_of_cover(std::int64_t on_hand, std::int64_t sold,
                                          std::int64_t period_days) {
  if (sold <= 0 || period_days <= 0) return std::nullopt;
  return static_cast<std::int64_t>(static_cast<Wide>(on_hand) * period_days / sold);
}

std::string report_csv_row(const std::vector<ReportColumn>& columns,
                           const std::vector<ReportCell>& row) {
  std::vector<std::string> fields;
  fields.reserve(columns.size());
  for (std::size_t i = 0; i < columns.size(); ++i) {
    const auto& cell = i < row.size() ? row[i] : ReportCell{};
    if (const auto* text = std::get_if<std::string>(&cell)) {
      fields.push_back(csv_text(*text));
    } else if (const auto* number = std::get_if<std::int64_t>(&cell)) {
      switch (columns[i].kind) {
        case CellKind::money: fields.push_back(Fen(*number).format()); break;
        case CellKind::basis_points: fields.push_back(Fen(*number).format() + "%"); break;
        default: fields.push_back(std::to_string(*number)); break;
      }
    } else {
      fields.emplace_back();
    }
  }
  return csv_row(fields);
}

std::string report_csv_header(const std::vector<ReportColumn>& columns) {
  std::string out(kCsvBom);
  std::vector<std::string> fields;
  for (const auto& column : columns)
    fields.push_back(csv_text(column.header));
  return out + csv_row(fields);
}

std::string report_csv(const ReportTable& table) {
  auto out = report_csv_header(table.columns);
  for (const auto& row : table.rows)
    out += report_csv_row(table.columns, row);
  return out;
}

}  // namespace yizhan::domain
