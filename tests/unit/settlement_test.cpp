// Settlement rules: the period, the states, the totals, payouts and adjustments, and the
// statement's CSV and printable page.
#include <gtest/gtest.h>

#include <random>

#include "yizhan/domain/error.hpp"
#include "yizhan/domain/settlement.hpp"

using namespace yizhan::domain;
using namespace std::chrono;

namespace {

year_month_day date(int y, unsigned m, unsigned d) {
  return year(y) / month(m) / day(d);
}

/// The field a 422 names, or the code's name for any other error.
template <class F>
std::string refusal(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    if (e.code() == ErrorCode::invalid) return "invalid:" + e.details().at("field");
    return std::string(to_string(e.code()));
  }
  return "accepted";
}

StatementLine line(StatementLineKind kind, std::int64_t id, std::int64_t gross, std::int64_t fee) {
  StatementLine l;
  l.kind = kind;
  l.line_id = id;
  l.business_day = "2026-11-03";
  l.document = "S20261103-1-0001";
  l.description = "瑶前乌龙茶";
  l.unit = Unit::piece;
  l.quantity = gross < 0 ? -1 : 1;
  l.gross = Fen(gross);
  l.fee = Fen(fee);
  l.share = Fen(gross - fee);
  return l;
}

}  // namespace

TEST(SettlementPeriod, ADateRangeUpToTodayIsAPeriod) {
  const auto period = settlement_period("2026-11-01", "2026-11-30", date(2026, 12, 2));
  EXPECT_EQ(period.from, date(2026, 11, 1));
  EXPECT_EQ(period.to, date(2026, 11, 30));
  // One day, and a period ending today, are periods too.
  EXPECT_EQ(refusal([] { settlement_period("2026-12-02", "2026-12-02", date(2026, 12, 2)); }),
            "accepted");
}

TEST(SettlementPeriod, BadPeriodsNameTheirField) {
  const auto today = date(2026, 12, 2);
  EXPECT_EQ(refusal([&] { settlement_period("2026-11-30", "2026-11-01", today); }), "invalid:to");
  EXPECT_EQ(refusal([&] { settlement_period("2026-11-01", "2026-12-03", today); }), "invalid:to")
      << "a period cannot end in the future";
  EXPECT_EQ(refusal([&] { settlement_period("2025-01-01", "2026-11-30", today); }), "invalid:to")
      << "at most 366 days";
  EXPECT_EQ(refusal([&] { settlement_period("2026-11-31", "2026-11-30", today); }), "invalid:from");
  EXPECT_EQ(refusal([&] { settlement_period("2026-11-1", "2026-11-30", today); }), "invalid:from");
  EXPECT_EQ(refusal([&] { settlement_period("1999-12-01", "1999-12-31", today); }), "invalid:from");
  EXPECT_EQ(refusal([&] { settlement_period("2026-11-01", "soon", today); }), "invalid:to");
}

TEST(SettlementPeriod, AMonthIsItsFirstToItsLastDay) {
  EXPECT_EQ(month_period(year(2026) / February).to, date(2026, 2, 28));
  EXPECT_EQ(month_period(year(2028) / February).to, date(2028, 2, 29));
  EXPECT_EQ(month_period(year(2026) / December).from, date(2026, 12, 1));
  EXPECT_EQ(month_period(year(2026) / December).to, date(2026, 12, 31));
}

TEST(SettlementPeriod, APeriodMustStartAfterTheLastSettledDay) {
  const SettlementPeriod december{date(2026, 12, 1), date(2026, 12, 31)};
  EXPECT_EQ(refusal([&] { require_after_settled(december, std::nullopt); }), "accepted");
  EXPECT_EQ(refusal([&] { require_after_settled(december, date(2026, 11, 30)); }), "accepted");
  EXPECT_EQ(refusal([&] { require_after_settled(december, date(2026, 12, 1)); }), "conflict");
  try {
    require_after_settled(december, date(2026, 12, 15));
  } catch (const Error& e) {
    EXPECT_EQ(e.details().at("field"), "from");
    EXPECT_EQ(e.details().at("settled_to"), "2026-12-15");
  }
}

TEST(SettlementState, OnlyDraftToConfirmedToPaid) {
  const SettlementState all[] = {SettlementState::draft, SettlementState::confirmed,
                                 SettlementState::paid};
  for (const auto from : all) {
    for (const auto to : all) {
      const bool legal = (from == SettlementState::draft && to == SettlementState::confirmed) ||
                         (from == SettlementState::confirmed && to == SettlementState::paid);
      try {
        require_settlement_transition(from, to);
        EXPECT_TRUE(legal) << to_string(from) << " → " << to_string(to);
      } catch (const Error& e) {
        EXPECT_FALSE(legal) << to_string(from) << " → " << to_string(to);
        EXPECT_EQ(e.code(), ErrorCode::invalid_state);
        // Both states are named: where it is and where it was asked to go.
        EXPECT_EQ(e.details().at("state"), to_string(from));
        EXPECT_EQ(e.details().at("to"), to_string(to));
      }
    }
  }
  EXPECT_EQ(parse_settlement_state("paid"), SettlementState::paid);
  EXPECT_FALSE(parse_settlement_state("void"));
}

TEST(SettlementTotals, SalesRefundsAndAdjustmentsAddUpToWhatIsOwed) {
  std::vector<StatementLine> lines{line(StatementLineKind::sale, 1, 10000, 1500),
                                   line(StatementLineKind::order, 2, 3000, 450),
                                   line(StatementLineKind::refund, 3, -2000, -300)};
  auto packaging = line(StatementLineKind::adjustment, 4, -500, 0);
  packaging.unit.reset();
  packaging.quantity = 0;
  lines.push_back(packaging);
  const auto t = totals_of(lines);
  EXPECT_EQ(t.line_count, 4);
  EXPECT_EQ(t.sales_gross, Fen(13000));
  EXPECT_EQ(t.sales_fee, Fen(1950));
  EXPECT_EQ(t.sales_share, Fen(11050));
  EXPECT_EQ(t.refund_gross, Fen(-2000));
  EXPECT_EQ(t.refund_share, Fen(-1700));
  EXPECT_EQ(t.adjustments, Fen(-500));
  EXPECT_EQ(t.total, Fen(11050 - 1700 - 500));
  EXPECT_EQ(totals_of({}), SettlementTotals{});
}

TEST(SettlementTotals, TheTotalIsAlwaysTheSumOfTheSharesInAnyOrder) {
  std::mt19937_64 random(20261202);
  for (int round = 0; round < 200; ++round) {
    std::vector<StatementLine> lines;
    Fen shares;
    const int count = static_cast<int>(random() % 40);
    for (int i = 0; i < count; ++i) {
      const auto kind = static_cast<StatementLineKind>(random() % 4);
      const std::int64_t gross = static_cast<std::int64_t>(random() % 100000) *
                                 (kind == StatementLineKind::refund ? -1 : 1);
      const std::int64_t fee = kind == StatementLineKind::adjustment ? 0 : gross / 7;
      lines.push_back(line(kind, i, gross, fee));
      shares += Fen(gross - fee);
    }
    const auto in_order = totals_of(lines);
    std::shuffle(lines.begin(), lines.end(), random);
    EXPECT_EQ(totals_of(lines), in_order);
    EXPECT_EQ(in_order.total, shares);
    EXPECT_EQ(in_order.sales_gross - in_order.sales_fee, in_order.sales_share);
    EXPECT_EQ(in_order.refund_gross - in_order.refund_fee, in_order.refund_share);
  }
}

TEST(SettlementTotals, ALineWhoseSplitDoesNotMakeItsGrossIsABug) {
  auto broken = line(StatementLineKind::sale, 1, 1000, 150);
  broken.share = Fen(851);
  EXPECT_EQ(refusal([&] { totals_of(std::vector{broken}); }), "internal");
}

TEST(Payout, PaysTheWholeTotalOrPartOfWhatRemains) {
  EXPECT_TRUE(require_payout_amount(Fen(9350), Fen(9350), Fen(0))) << "all at once covers it";
  EXPECT_FALSE(require_payout_amount(Fen(5000), Fen(9350), Fen(0))) << "a part leaves the rest";
  EXPECT_FALSE(require_payout_amount(Fen(1), Fen(9350), Fen(5000)));
  EXPECT_TRUE(require_payout_amount(Fen(4350), Fen(9350), Fen(5000))) << "the rest covers it";
  EXPECT_EQ(parse_payout_method("bank"), PayoutMethod::bank);
  EXPECT_FALSE(parse_payout_method("wechat"));
}

TEST(Payout, NeverZeroNegativeOrMoreThanRemains) {
  EXPECT_EQ(refusal([] { require_payout_amount(Fen(0), Fen(9350), Fen(0)); }),
            "invalid:amount_fen");
  EXPECT_EQ(refusal([] { require_payout_amount(Fen(-1), Fen(9350), Fen(0)); }),
            "invalid:amount_fen");
  EXPECT_EQ(refusal([] { require_payout_amount(Fen(9351), Fen(9350), Fen(0)); }),
            "invalid:amount_fen");
  EXPECT_EQ(refusal([] { require_payout_amount(Fen(4351), Fen(9350), Fen(5000)); }),
            "invalid:amount_fen");
  // The refusal says what remains, so that the client can offer it.
  try {
    require_payout_amount(Fen(5000), Fen(9350), Fen(5000));
    ADD_FAILURE() << "overpaying was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::invalid);
    EXPECT_EQ(e.details().at("field"), "amount_fen");
    EXPECT_EQ(e.details().at("remaining_fen"), "4350");
    EXPECT_EQ(e.details().at("paid_fen"), "5000");
    EXPECT_EQ(e.details().at("total_fen"), "9350");
  }
}

TEST(Payout, NothingToPayWhenNothingIsOwedOrAllIsPaid) {
  EXPECT_EQ(refusal([] { require_payout_amount(Fen(0), Fen(0), Fen(0)); }), "conflict");
  EXPECT_EQ(refusal([] { require_payout_amount(Fen(-10), Fen(-10), Fen(0)); }), "conflict");
  EXPECT_EQ(refusal([] { require_payout_amount(Fen(1), Fen(9350), Fen(9350)); }), "conflict");
}

TEST(Payout, PaidExactlyWhenThePayoutsCoverSomethingOwed) {
  EXPECT_TRUE(payouts_cover(Fen(9350), Fen(9350)));
  EXPECT_FALSE(payouts_cover(Fen(9350), Fen(9349)));
  EXPECT_FALSE(payouts_cover(Fen(9350), Fen(0)));
  EXPECT_FALSE(payouts_cover(Fen(0), Fen(0))) << "nothing owed is never paid";
  EXPECT_FALSE(payouts_cover(Fen(-500), Fen(0)));
}

TEST(Payout, PartsAddUpToTheTotalWhateverTheSplit) {
  // Random splits of random totals: each part accepted, the last one covers, one fen more is
  // refused.
  std::mt19937_64 random(20261206);
  for (int round = 0; round < 500; ++round) {
    const Fen total(std::uniform_int_distribution<std::int64_t>(1, 5'000'000)(random));
    Fen paid;
    int parts = 0;
    while (paid < total) {
      const auto remaining = (total - paid).value();
      const Fen part(std::uniform_int_distribution<std::int64_t>(1, remaining)(random));
      const bool covers = require_payout_amount(part, total, paid);
      paid += part;
      ++parts;
      ASSERT_EQ(covers, paid == total);
      ASSERT_LE(parts, 100000);
    }
    ASSERT_EQ(paid, total);
    ASSERT_EQ(refusal([&] { require_payout_amount(Fen(1), total, paid); }), "conflict");
  }
}

TEST(Payout, PostsThePayableAgainstBankOrCashAndBalances) {
  const auto bank = payout_postings(7, PayoutMethod::bank, Fen(9350));
  ASSERT_EQ(bank.size(), 2u);
  EXPECT_EQ(bank[0], (Posting{"village_payable:7", Fen(9350)}));
  EXPECT_EQ(bank[1], (Posting{"station_bank", Fen(-9350)}));
  EXPECT_TRUE(balances(bank));
  const auto cash = payout_postings(7, PayoutMethod::cash, Fen(100));
  EXPECT_EQ(cash[1].account, "station_cash");
  EXPECT_TRUE(balances(cash));
}

TEST(Adjustment, ChargesBackOrAddsAndBalances) {
  const auto charge = adjustment_postings(3, Fen(-800));
  EXPECT_EQ(charge[1], (Posting{"village_payable:3", Fen(800)})) << "the station owes less";
  EXPECT_TRUE(balances(charge));
  EXPECT_EQ(refusal([] { adjustment_postings(3, Fen(0)); }), "invalid:amount_fen");
  EXPECT_EQ(refusal([] { require_adjustment_amount(Fen(kMaxAdjustmentFen + 1)); }),
            "invalid:amount_fen");
  EXPECT_EQ(refusal([] { require_adjustment_amount(Fen(-kMaxAdjustmentFen)); }), "accepted");
}

namespace {

StatementView sample_statement() {
  StatementView s;
  s.station_name = "安海镇乡村联盟驿站";
  s.settlement_id = 12;
  s.village_name = "瑶前村";
  s.village_code = "yaoqian";
  s.period = {date(2026, 11, 1), date(2026, 11, 30)};
  s.state = SettlementState::confirmed;
  s.confirmed_at = "2026-12-01 09:30";
  s.lines = {line(StatementLineKind::sale, 1, 12345, 1852),
             line(StatementLineKind::refund, 2, -2000, -300)};
  auto adjustment = line(StatementLineKind::adjustment, 3, -500, 0);
  adjustment.unit.reset();
  adjustment.quantity = 0;
  adjustment.document = "A3";
  adjustment.description = "=HYPERLINK(\"http://x\"),包装费";
  s.lines.push_back(adjustment);
  s.totals = totals_of(s.lines);
  return s;
}

std::vector<std::string> rows_of(const std::string& csv) {
  std::vector<std::string> rows;
  std::size_t start = 0;
  for (auto end = csv.find("\r\n"); end != std::string::npos; end = csv.find("\r\n", start)) {
    rows.push_back(csv.substr(start, end - start));
    start = end + 2;
  }
  EXPECT_EQ(start, csv.size()) << "every row ends in CRLF";
  return rows;
}

}  // namespace

TEST(StatementCsv, OpensInExcelWithYuanAndTotals) {
  const auto csv = statement_csv(sample_statement());
  ASSERT_TRUE(csv.starts_with("\xEF\xBB\xBF")) << "the BOM makes Excel read UTF-8";
  const auto rows = rows_of(csv.substr(3));
  ASSERT_EQ(rows.size(), 1u + 3u + 4u) << "header, one row per line, four totals";
  EXPECT_TRUE(rows[0].starts_with("序号 No.,日期 Date,类型 Kind")) << rows[0];
  EXPECT_EQ(rows[1],
            "1,2026-11-03,柜台销售 Counter sale,S20261103-1-0001,瑶前乌龙茶,1,件 pcs,"
            "123.45,18.52,104.93");
  EXPECT_EQ(rows[2],
            "2,2026-11-03,退款 Refund,S20261103-1-0001,瑶前乌龙茶,-1,件 pcs,-20.00,-3.00,"
            "-17.00");
  // A formula in a reason is text in the spreadsheet, and a comma or quote is quoted.
  EXPECT_EQ(rows[3],
            "3,2026-11-03,调整 Adjustment,A3,\"'=HYPERLINK(\"\"http://x\"\"),包装费\",,,"
            "-5.00,0.00,-5.00");
  EXPECT_EQ(rows[4], ",,销售合计 Sales,,,,,123.45,18.52,104.93");
  EXPECT_EQ(rows[5], ",,退款合计 Refunds,,,,,-20.00,-3.00,-17.00");
  EXPECT_EQ(rows[6], ",,调整合计 Adjustments,,,,,-5.00,0.00,-5.00");
  EXPECT_EQ(rows[7], ",,本期应付 Total payable,,,,,98.45,15.52,82.93")
      << "the total row is the sum of each amount column";
}

TEST(StatementCsv, ListsEveryPayoutThenWhatWasPaidAndWhatRemains) {
  auto statement = sample_statement();
  statement.payouts = {{PayoutMethod::bank, "=ICBC 0042", "2026-12-05", Fen(5000)},
                       {PayoutMethod::cash, "", "2026-12-06", Fen(1000)}};
  const auto rows = rows_of(statement_csv(statement).substr(3));
  ASSERT_EQ(rows.size(), 1u + 3u + 4u + 2u + 2u) << "then two payouts, paid and remaining";
  EXPECT_EQ(rows[7], ",,本期应付 Total payable,,,,,98.45,15.52,82.93");
  EXPECT_EQ(rows[8], ",2026-12-05,付款 Payout,银行转账 Bank transfer,'=ICBC 0042,,,,,50.00");
  EXPECT_EQ(rows[9], ",2026-12-06,付款 Payout,现金 Cash,,,,,,10.00");
  EXPECT_EQ(rows[10], ",,已付合计 Paid,,,,,,,60.00");
  EXPECT_EQ(rows[11], ",,未付 Remaining,,,,,,,22.93");
}

TEST(StatementHtml, IsAPrintablePageWithBothSignaturesAndEscapedText) {
  auto statement = sample_statement();
  statement.payouts = {{PayoutMethod::bank, "<b>ICBC</b> 0042", "2026-12-05", Fen(5000)},
                       {PayoutMethod::cash, "", "2026-12-06", statement.totals.total - Fen(5000)}};
  statement.state = SettlementState::paid;
  const auto html = statement_html(statement, "/assets/css/statement.css");
  EXPECT_NE(html.find("<html lang=\"zh-CN\">"), std::string::npos);
  EXPECT_NE(html.find("href=\"/assets/css/statement.css\""), std::string::npos);
  EXPECT_EQ(html.find("<style"), std::string::npos) << "no inline style under the CSP";
  EXPECT_NE(html.find("驿站经办人（签字）"), std::string::npos);
  EXPECT_NE(html.find("村集体负责人（签字）"), std::string::npos);
  EXPECT_NE(html.find("瑶前村"), std::string::npos);
  EXPECT_NE(html.find("2026-11-01 ~ 2026-11-30"), std::string::npos);
  EXPECT_NE(html.find("82.93"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;ICBC&lt;/b&gt; 0042"), std::string::npos);
  EXPECT_EQ(html.find("<b>ICBC"), std::string::npos);
  EXPECT_EQ(html.find("草稿"), std::string::npos) << "a paid statement is not marked draft";
  // Both payouts, then what was paid and what remains.
  EXPECT_NE(html.find("<td>2026-12-05</td><td>银行转账 Bank transfer</td>"), std::string::npos);
  EXPECT_NE(html.find("<td>2026-12-06</td><td>现金 Cash</td><td></td><td class=\"num\">32.93"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("已付合计 Paid</td><td class=\"num\">82.93"), std::string::npos);
  EXPECT_NE(html.find("未付 Remaining</td><td class=\"num\">0.00"), std::string::npos);
  statement.state = SettlementState::draft;
  EXPECT_NE(statement_html(statement, "/s.css").find("草稿"), std::string::npos);
}
