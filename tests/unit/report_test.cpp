// The reports' pure rules: periods and limits (422 naming the field), the effective commission
// rate, stock value, days of cover, and CSV for Excel.
#include <gtest/gtest.h>

#include "yizhan/domain/error.hpp"
#include "yizhan/domain/report.hpp"
#include "yizhan/domain/time.hpp"

using namespace yizhan::domain;

namespace {

std::chrono::year_month_day date(const char* text) {
  return *parse_iso_date(text);
}

std::string field_of(const std::function<void()>& call) {
  try {
    call();
  } catch (const Error& error) {
    const auto found = error.details().find("field");
    return found == error.details().end() ? "(no field)" : found->second;
  }
  return "(accepted)";
}

}  // namespace

TEST(ReportPeriod, DefaultsToThirtyDaysUpToToday) {
  const auto period = report_period(std::nullopt, std::nullopt, date("2026-03-10"), 30);
  EXPECT_EQ(format_iso_date(period.from), "2026-02-09");
  EXPECT_EQ(format_iso_date(period.to), "2026-03-10");
  EXPECT_EQ(period.days(), 30);
}

TEST(ReportPeriod, RefusesBadDatesReversedAndLongPeriodsNamingTheField) {
  const auto today = date("2026-12-06");
  EXPECT_EQ(field_of([&] { report_period("2026-02-30", std::nullopt, today, 30); }), "from");
  EXPECT_EQ(field_of([&] { report_period(std::nullopt, "12/06/2026", today, 30); }), "to");
  EXPECT_EQ(field_of([&] { report_period("2026-12-06", "2026-12-05", today, 30); }), "from");
  EXPECT_EQ(field_of([&] { report_period("2025-10-31", "2026-12-05", today, 30); }), "to");
  EXPECT_EQ(field_of([&] { report_period("2025-11-01", "2026-12-05", today, 30); }), "(accepted)")
      << "exactly 400 days";
  EXPECT_EQ(report_period("2025-11-01", "2026-12-05", today, 30).days(), kMaxReportDays);
}

TEST(ReportPeriod, RefusesDaysBeforeTheYear2000NamingTheField) {
  // Year 0 once reached MariaDB (report_days) and came back as 422 naming business_day.
  const auto today = date("2026-12-06");
  EXPECT_EQ(field_of([&] { report_period("0000-01-01", "2000-01-02", today, 30); }), "from");
  EXPECT_EQ(field_of([&] { report_period("1999-12-31", "2000-01-05", today, 30); }), "from");
  EXPECT_EQ(field_of([&] { report_period(std::nullopt, "0000-01-05", today, 30); }), "to");
  EXPECT_EQ(field_of([&] { report_period("2000-01-01", "2000-01-30", today, 30); }), "(accepted)");
}

TEST(ReportParameters, WholeNumbersWithinBounds) {
  EXPECT_EQ(bounded_parameter(std::nullopt, "limit", 1, 100, 10), 10);
  EXPECT_EQ(bounded_parameter(std::string("100"), "limit", 1, 100, 10), 100);
  for (const char* bad : {"0", "101", "-1", "1.5", "ten", "10 ", "99999999999999999999"})
    EXPECT_EQ(field_of([&] { bounded_parameter(std::string(bad), "limit", 1, 100, 10); }), "limit")
        << bad;
}

TEST(SalesGroup, ParsesEveryNameAndNothingElse) {
  for (const char* name : {"day", "month", "village", "product", "category", "channel", "method"})
    EXPECT_EQ(to_string(*parse_sales_group(name)), name);
  EXPECT_FALSE(parse_sales_group("week"));
  EXPECT_FALSE(parse_sales_group("Day"));
}

TEST(PaymentReconciliation, EachClearingMethodBelongsToItsProviderAndCashToNone) {
  EXPECT_EQ(payment_provider("wechat"), "wechat");
  EXPECT_EQ(payment_provider("wechat_code"), "wechat") << "付款码 is WeChat Pay too";
  EXPECT_EQ(payment_provider("alipay"), "alipay");
  EXPECT_EQ(payment_provider("alipay_code"), "alipay");
  EXPECT_EQ(payment_provider("card"), "card");
  EXPECT_EQ(payment_provider("other"), "other");
  EXPECT_FALSE(payment_provider("cash"));
  EXPECT_FALSE(payment_provider("cash_on_pickup"));
  EXPECT_FALSE(payment_provider("WeChat"));
  for (const char* name : {"wechat", "alipay", "card", "other"})
    EXPECT_TRUE(is_payment_provider(name)) << name;
  for (const char* name : {"", "cash", "wechat_code", "Alipay", "wechat "})
    EXPECT_FALSE(is_payment_provider(name)) << name;
}

TEST(PaymentReconciliation, PostingsInAndOutAreCountedApartAndNetted) {
  PaymentTotals totals;
  totals.add(Fen(700));
  totals.add(Fen(700));
  totals.add(Fen(-700));
  totals.add(Fen(-1));
  totals.add(Fen(0));  // no posting is ever 0 (a CHECK): counted nowhere
  EXPECT_EQ(totals.received, Fen(1400));
  EXPECT_EQ(totals.refunded, Fen(701));
  EXPECT_EQ(totals.received_count, 2);
  EXPECT_EQ(totals.refunded_count, 2);
  EXPECT_EQ(totals.net(), Fen(699));
}

TEST(ReportFigures, EffectiveRateStockValueAndCover) {
  EXPECT_EQ(effective_bps(Fen(600), Fen(4000)), 1500);
  EXPECT_EQ(effective_bps(Fen(1), Fen(3)), 3333);
  EXPECT_EQ(effective_bps(Fen(2), Fen(3)), 6667) << "half-up";
  EXPECT_EQ(effective_bps(Fen(-2), Fen(-3)), 6667);
  EXPECT_EQ(effective_bps(Fen(5), Fen(0)), 0);
  EXPECT_EQ(stock_value(Unit::piece, Fen(1999), 3), Fen(5997));
  EXPECT_EQ(stock_value(Unit::gram, Fen(36000), 1250), Fen(45000)) << "per kg";
  EXPECT_EQ(stock_value(Unit::gram, Fen(1999), 1), Fen(2)) << "rounded half-up";
  EXPECT_EQ(days_of_cover(19, 1, 30), 570);
  EXPECT_EQ(days_of_cover(10, 20, 30), 15);
  EXPECT_FALSE(days_of_cover(10, 0, 30));
  EXPECT_FALSE(days_of_cover(10, -2, 30)) << "more came back than sold";
}

TEST(ReportCsv, BomHeaderYuanPercentQuotingAndFormulaSafety) {
  ReportTable table;
  table.columns = {{"村 Village", CellKind::text},
                   {"销售额(元) Gross (yuan)", CellKind::money},
                   {"佣金率 Rate", CellKind::basis_points},
                   {"笔数 Sales", CellKind::integer}};
  table.rows.push_back(
      {std::string("甲村, \"东\""), std::int64_t{-5}, std::int64_t{1500}, std::int64_t{3}});
  table.rows.push_back(
      {std::string("=HYPERLINK()"), std::int64_t{123456}, std::monostate{}, std::int64_t{0}});
  const auto csv = report_csv(table);
  EXPECT_EQ(csv,
            "\xEF\xBB\xBF"
            "村 Village,销售额(元) Gross (yuan),佣金率 Rate,笔数 Sales\r\n"
            "\"甲村, \"\"东\"\"\",-0.05,15.00%,3\r\n"
            "'=HYPERLINK(),1234.56,,0\r\n");
}
