// Pricing a counter sale: line and sale discounts, 抹零, the commission split, the discount
// limit and tenders; and randomised invariants over thousands of sales.
#include <gtest/gtest.h>

#include <numeric>
#include <random>
#include <vector>

#include "yizhan/domain/error.hpp"
#include "yizhan/domain/sale.hpp"

namespace yizhan::domain {
namespace {

template <class F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no domain::Error thrown";
  return Error(ErrorCode::internal, "none");
}

SaleLineInput piece_line(std::int64_t price, std::int64_t count, std::int64_t discount = 0,
                         int bps = 0) {
  SaleLineInput line;
  line.quantity = Quantity::pieces(count);
  line.unit_price = Fen(price);
  line.discount = Fen(discount);
  line.commission_bps = bps;
  return line;
}

SaleLineInput weighed_line(std::int64_t price_per_kg, std::int64_t grams, int bps = 0) {
  SaleLineInput line;
  line.quantity = Quantity::grams(grams);
  line.unit_price = Fen(price_per_kg);
  line.commission_bps = bps;
  return line;
}

Fen sum_gross(const PricedSale& sale) {
  Fen sum;
  for (const auto& line : sale.lines)
    sum += line.gross;
  return sum;
}

TEST(SalePricing, ListIsPriceTimesQuantityWithoutDiscounts) {
  const std::vector<SaleLineInput> lines{piece_line(350, 3), piece_line(1200, 1)};
  const auto sale = price_sale(lines, Fen(0), Rounding::none);
  ASSERT_EQ(sale.lines.size(), 2u);
  EXPECT_EQ(sale.lines[0].list, Fen(1050));
  EXPECT_EQ(sale.lines[0].gross, Fen(1050));
  EXPECT_EQ(sale.lines[1].gross, Fen(1200));
  EXPECT_EQ(sale.subtotal, Fen(2250));
  EXPECT_EQ(sale.total, Fen(2250));
  EXPECT_EQ(sale.discount, Fen(0));
  EXPECT_EQ(sale.rounding, Fen(0));
}

TEST(SalePricing, WeighedLineIsPricePerKgTimesGramsOverThousandHalfUpOnce) {
  // ¥12.99/kg × 333 g = 432.567 → 433; ¥1.00/kg × 1 005 g = 100.5 → 101; ¥0.01/kg × 499 g → 0.
  const std::vector<SaleLineInput> lines{weighed_line(1299, 333), weighed_line(100, 1005),
                                         weighed_line(1, 499)};
  const auto sale = price_sale(lines, Fen(0), Rounding::none);
  EXPECT_EQ(sale.lines[0].list, Fen(433));
  EXPECT_EQ(sale.lines[1].list, Fen(101));
  EXPECT_EQ(sale.lines[2].list, Fen(0));
  EXPECT_EQ(sale.total, Fen(534));
}

TEST(SalePricing, LabelTotalIsTheListAmount) {
  auto line = weighed_line(1299, 333);
  line.label_total = Fen(434);
  const std::vector<SaleLineInput> lines{line};
  EXPECT_EQ(price_sale(lines, Fen(0), Rounding::none).lines[0].list, Fen(434));
}

TEST(SalePricing, LineDiscountComesOffItsLineOnly) {
  const std::vector<SaleLineInput> lines{piece_line(1000, 1, 150), piece_line(500, 2)};
  const auto sale = price_sale(lines, Fen(0), Rounding::none);
  EXPECT_EQ(sale.lines[0].line_discount, Fen(150));
  EXPECT_EQ(sale.lines[0].gross, Fen(850));
  EXPECT_EQ(sale.lines[1].gross, Fen(1000));
  EXPECT_EQ(sale.discount, Fen(150));
  EXPECT_EQ(sale.total, Fen(1850));
}

TEST(SalePricing, MolingToTheJiaoDropsTheFen) {
  const std::vector<SaleLineInput> lines{piece_line(1234, 1), piece_line(1, 3)};
  const auto sale = price_sale(lines, Fen(0), Rounding::jiao);
  EXPECT_EQ(sale.subtotal, Fen(1237));
  EXPECT_EQ(sale.rounding, Fen(7));
  EXPECT_EQ(sale.discount, Fen(7));
  EXPECT_EQ(sale.total, Fen(1230));
  EXPECT_EQ(sum_gross(sale), sale.total);
}

TEST(SalePricing, MolingToTheYuanDropsJiaoAndFen) {
  const std::vector<SaleLineInput> lines{piece_line(1299, 1), piece_line(250, 2)};
  const auto sale = price_sale(lines, Fen(0), Rounding::yuan);
  EXPECT_EQ(sale.subtotal, Fen(1799));
  EXPECT_EQ(sale.rounding, Fen(99));
  EXPECT_EQ(sale.total, Fen(1700));
  EXPECT_EQ(sum_gross(sale), sale.total);
}

TEST(SalePricing, MolingOfARoundTotalIsZero) {
  const std::vector<SaleLineInput> lines{piece_line(1500, 2)};
  EXPECT_EQ(price_sale(lines, Fen(0), Rounding::yuan).rounding, Fen(0));
  EXPECT_EQ(price_sale(lines, Fen(0), Rounding::jiao).rounding, Fen(0));
}

TEST(SalePricing, MolingAppliesAfterTheSaleDiscount) {
  // 2000 − 155 = 1845 → jiao: 1840, rounding 5; discount total 160.
  const std::vector<SaleLineInput> lines{piece_line(1000, 2)};
  const auto sale = price_sale(lines, Fen(155), Rounding::jiao);
  EXPECT_EQ(sale.rounding, Fen(5));
  EXPECT_EQ(sale.discount, Fen(160));
  EXPECT_EQ(sale.total, Fen(1840));
}

TEST(SalePricing, SaleDiscountIsSpreadByAmountAfterLineDiscounts) {
  // After line discounts: 600, 300, 100 → a 100 fen sale discount splits 60/30/10.
  const std::vector<SaleLineInput> lines{piece_line(700, 1, 100), piece_line(300, 1),
                                         piece_line(100, 1)};
  const auto sale = price_sale(lines, Fen(100), Rounding::none);
  EXPECT_EQ(sale.lines[0].sale_discount, Fen(60));
  EXPECT_EQ(sale.lines[1].sale_discount, Fen(30));
  EXPECT_EQ(sale.lines[2].sale_discount, Fen(10));
  EXPECT_EQ(sale.lines[0].gross, Fen(540));
  EXPECT_EQ(sale.total, Fen(900));
  EXPECT_EQ(sale.discount, Fen(200));
}

TEST(SalePricing, SaleDiscountSpreadSumsExactlyWithLargestRemainder) {
  // 100 fen over three equal lines: 33.33 each → 34, 33, 33 (ties: the earlier line).
  const std::vector<SaleLineInput> lines{piece_line(333, 1), piece_line(333, 1),
                                         piece_line(333, 1)};
  const auto sale = price_sale(lines, Fen(100), Rounding::none);
  EXPECT_EQ(sale.lines[0].sale_discount, Fen(34));
  EXPECT_EQ(sale.lines[1].sale_discount, Fen(33));
  EXPECT_EQ(sale.lines[2].sale_discount, Fen(33));
  EXPECT_EQ(sale.total, Fen(899));
  EXPECT_EQ(sum_gross(sale), sale.total);
}

TEST(SalePricing, AFullyDiscountedLineTakesNoSaleDiscount) {
  const std::vector<SaleLineInput> lines{piece_line(500, 1, 500), piece_line(999, 1)};
  const auto sale = price_sale(lines, Fen(0), Rounding::yuan);
  EXPECT_EQ(sale.lines[0].gross, Fen(0));
  EXPECT_EQ(sale.lines[0].sale_discount, Fen(0));
  EXPECT_EQ(sale.lines[1].sale_discount, Fen(99));
  EXPECT_EQ(sale.total, Fen(900));
}

TEST(SalePricing, TheWholeTotalMayBeDiscountedToZero) {
  const std::vector<SaleLineInput> lines{piece_line(300, 1), piece_line(200, 1)};
  const auto sale = price_sale(lines, Fen(500), Rounding::yuan);
  EXPECT_EQ(sale.total, Fen(0));
  EXPECT_EQ(sale.lines[0].gross, Fen(0));
  EXPECT_EQ(sale.lines[1].gross, Fen(0));
  EXPECT_EQ(sale.discount, Fen(500));
}

TEST(SalePricing, EachLineIsSplitByItsCommissionRate) {
  // 1000 at 8 % = 80 fee; 333 at 15 % = 49.95 → 50 fee (half up), share 283.
  const std::vector<SaleLineInput> lines{piece_line(1000, 1, 0, 800), piece_line(333, 1, 0, 1500)};
  const auto sale = price_sale(lines, Fen(0), Rounding::none);
  EXPECT_EQ(sale.lines[0].split, (CommissionSplit{Fen(80), Fen(920)}));
  EXPECT_EQ(sale.lines[1].split, (CommissionSplit{Fen(50), Fen(283)}));
  EXPECT_EQ(sale.lines[1].commission_bps, 1500);
}

TEST(SalePricing, ErrorsName422Fields) {
  EXPECT_EQ(error_of([] { price_sale({}, Fen(0), Rounding::none); }).details().at("field"),
            "lines");
  const std::vector<SaleLineInput> over{piece_line(100, 1), piece_line(100, 1, 101)};
  auto e = error_of([&] { price_sale(over, Fen(0), Rounding::none); });
  EXPECT_EQ(e.code(), ErrorCode::invalid);
  EXPECT_EQ(e.details().at("field"), "lines[1].discount_fen");
  const std::vector<SaleLineInput> negative{piece_line(100, 1, -1)};
  e = error_of([&] { price_sale(negative, Fen(0), Rounding::none); });
  EXPECT_EQ(e.details().at("field"), "lines[0].discount_fen");
  const std::vector<SaleLineInput> two{piece_line(100, 1, 10), piece_line(100, 1)};
  e = error_of([&] { price_sale(two, Fen(191), Rounding::none); });
  EXPECT_EQ(e.details().at("field"), "discount_fen");
  e = error_of([&] { price_sale(two, Fen(-1), Rounding::none); });
  EXPECT_EQ(e.details().at("field"), "discount_fen");
  // Exactly the remaining total is allowed.
  EXPECT_EQ(price_sale(two, Fen(190), Rounding::none).total, Fen(0));
}

TEST(LinePrice, WithoutAShownPriceOrWithTheSameTheLineIsPricedNow) {
  EXPECT_EQ(line_price(std::nullopt, Fen(1200), {}, false, "f"), Fen(1200));
  EXPECT_EQ(line_price(std::nullopt, Fen(1200), {}, true, "f"), Fen(1200));
  EXPECT_EQ(line_price(Fen(1200), Fen(1200), {}, false, "f"), Fen(1200));
  EXPECT_EQ(line_price(Fen(1200), Fen(1200), {}, true, "f"), Fen(1200));
}

TEST(LinePrice, AStaleTillAtTheCounterIsToldThePriceChanged) {
  const std::vector<Fen> earlier{Fen(1100)};
  const auto e = error_of([&] { line_price(Fen(1100), Fen(1200), earlier, false, "lines[2].x"); });
  EXPECT_EQ(e.code(), ErrorCode::price_changed);
  EXPECT_EQ(e.details().at("field"), "lines[2].x");
  EXPECT_EQ(e.details().at("unit_price_fen"), "1200");
}

TEST(LinePrice, AnOfflineSaleStandsAtAPriceTheProductHadLately) {
  const std::vector<Fen> earlier{Fen(900), Fen(1100)};
  EXPECT_EQ(line_price(Fen(1100), Fen(1200), earlier, true, "f"), Fen(1100));
  EXPECT_EQ(line_price(Fen(900), Fen(1200), earlier, true, "f"), Fen(900));
  // A price the product never had (lately) is not the till's catalog: refused, naming the line.
  auto e = error_of([&] { line_price(Fen(1000), Fen(1200), earlier, true, "lines[0].p"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid);
  EXPECT_EQ(e.details().at("field"), "lines[0].p");
  e = error_of([&] { line_price(Fen(1100), Fen(1200), {}, true, "f"); });
  EXPECT_EQ(e.code(), ErrorCode::invalid);
}

TEST(SalePricing, ParsesRoundingNames) {
  EXPECT_EQ(parse_rounding("none"), Rounding::none);
  EXPECT_EQ(parse_rounding("jiao"), Rounding::jiao);
  EXPECT_EQ(parse_rounding("yuan"), Rounding::yuan);
  EXPECT_FALSE(parse_rounding("Yuan").has_value());
  EXPECT_FALSE(parse_rounding("").has_value());
}

// --- the discount limit -------------------------------------------------------------------

TEST(DiscountLimit, AtTheLimitIsAllowedAndOneFenMoreIsRefused) {
  // 10 % of 1000 = 100.
  const std::vector<SaleLineInput> lines{piece_line(1000, 1)};
  EXPECT_NO_THROW(check_discount_limit(price_sale(lines, Fen(100), Rounding::none), 1000));
  const auto e =
      error_of([&] { check_discount_limit(price_sale(lines, Fen(101), Rounding::none), 1000); });
  EXPECT_EQ(e.code(), ErrorCode::discount_limit);
  EXPECT_EQ(e.details().at("discount_fen"), "101");
  EXPECT_EQ(e.details().at("limit_fen"), "100");
}

TEST(DiscountLimit, MolingDoesNotCountTowardsTheLimit) {
  // 1099 − 100 = 999 → yuan: 900 (rounding 99). Only the 100 counts against 10 % of 1099.
  const std::vector<SaleLineInput> lines{piece_line(1099, 1)};
  const auto sale = price_sale(lines, Fen(100), Rounding::yuan);
  EXPECT_EQ(sale.discount, Fen(199));
  EXPECT_NO_THROW(check_discount_limit(sale, 1000));
}

TEST(DiscountLimit, LineDiscountsCountTowardsTheLimit) {
  const std::vector<SaleLineInput> lines{piece_line(1000, 1, 60), piece_line(1000, 1, 60)};
  const auto sale = price_sale(lines, Fen(0), Rounding::none);
  EXPECT_NO_THROW(check_discount_limit(sale, 600));
  EXPECT_EQ(error_of([&] { check_discount_limit(sale, 599); }).code(), ErrorCode::discount_limit);
}

TEST(DiscountLimit, AZeroLimitAllowsOnlyMoling) {
  const std::vector<SaleLineInput> lines{piece_line(1234, 1)};
  EXPECT_NO_THROW(check_discount_limit(price_sale(lines, Fen(0), Rounding::yuan), 0));
  EXPECT_THROW(check_discount_limit(price_sale(lines, Fen(1), Rounding::yuan), 0), Error);
}

// --- tenders --------------------------------------------------------------------------------

TenderInput tender(TenderMethod method, std::int64_t amount,
                   std::optional<std::int64_t> tendered = std::nullopt,
                   std::string reference = {}) {
  TenderInput input;
  input.method = method;
  input.amount = Fen(amount);
  if (tendered) input.tendered = Fen(*tendered);
  input.reference = std::move(reference);
  return input;
}

TEST(Tenders, CashTenderedAboveTheAmountGivesChange) {
  const std::vector<TenderInput> tenders{tender(TenderMethod::cash, 1230, 2000)};
  const auto settled = settle_tenders(Fen(1230), tenders);
  EXPECT_EQ(settled.change, Fen(770));
  ASSERT_EQ(settled.tenders.size(), 1u);
  EXPECT_EQ(settled.tenders[0].amount, Fen(1230));
  EXPECT_EQ(settled.tenders[0].tendered, Fen(2000));
}

TEST(Tenders, SplitAcrossCashAndWechatPaysExactly) {
  const std::vector<TenderInput> tenders{tender(TenderMethod::wechat, 1000),
                                         tender(TenderMethod::cash, 230, 500)};
  const auto settled = settle_tenders(Fen(1230), tenders);
  EXPECT_EQ(settled.change, Fen(270));
  EXPECT_EQ(settled.tenders[0].method, TenderMethod::wechat);
  EXPECT_FALSE(settled.tenders[0].tendered.has_value());
}

TEST(Tenders, CashWithoutTenderedGivesNoChange) {
  const std::vector<TenderInput> tenders{tender(TenderMethod::cash, 500)};
  const auto settled = settle_tenders(Fen(500), tenders);
  EXPECT_EQ(settled.change, Fen(0));
  EXPECT_EQ(settled.tenders[0].tendered, Fen(500));
}

TEST(Tenders, AmountsMustSumExactlyToTheTotal) {
  const std::vector<TenderInput> under{tender(TenderMethod::alipay, 999)};
  auto e = error_of([&] { settle_tenders(Fen(1000), under); });
  EXPECT_EQ(e.code(), ErrorCode::invalid);
  EXPECT_EQ(e.details().at("field"), "tenders");
  const std::vector<TenderInput> over{tender(TenderMethod::cash, 1001, 2000)};
  e = error_of([&] { settle_tenders(Fen(1000), over); });
  EXPECT_EQ(e.details().at("field"), "tenders");
}

TEST(Tenders, AmountsThatOverflowTogetherAreTheTendersNotPayingTheTotal) {
  // Four amounts whose sum is above INT64_MAX: told as any other wrong sum, naming the field.
  const std::int64_t big = 4'611'686'018'427'387'904;  // 2^62
  const std::vector<TenderInput> tenders{
      tender(TenderMethod::wechat, big), tender(TenderMethod::card, big),
      tender(TenderMethod::alipay, big), tender(TenderMethod::other, big + 3880, {}, "x")};
  const auto e = error_of([&] { settle_tenders(Fen(1880), tenders); });
  EXPECT_EQ(e.code(), ErrorCode::invalid);
  EXPECT_EQ(e.details().at("field"), "tenders");
  EXPECT_EQ(e.details().at("total_fen"), "1880");
  EXPECT_EQ(e.details().at("paid_fen"), "18446744073709555496");  // 2^64 + 3880
}

TEST(Tenders, ARefundThroughAMethodGivesBackAtMostWhatThatMethodTook) {
  const std::vector<MethodAmount> tenders{{TenderMethod::wechat, Fen(100)},
                                          {TenderMethod::cash, Fen(1780)},
                                          {TenderMethod::wechat, Fen(50)}};
  EXPECT_EQ(refundable_through(TenderMethod::wechat, tenders, {}), Fen(150));
  EXPECT_EQ(refundable_through(TenderMethod::cash, tenders, {}), std::nullopt) << "the drawer";
  EXPECT_EQ(refundable_through(TenderMethod::card, tenders, {}), Fen(0));
  const std::vector<MethodAmount> refunds{{TenderMethod::wechat, Fen(120)},
                                          {TenderMethod::cash, Fen(900)}};
  EXPECT_EQ(refundable_through(TenderMethod::wechat, tenders, refunds), Fen(30));
  const std::vector<MethodAmount> over{{TenderMethod::wechat, Fen(400)}};  // booked before the rule
  EXPECT_EQ(refundable_through(TenderMethod::wechat, tenders, over), Fen(0));
}

TEST(Tenders, ARefundGoesBackThroughATenderOfTheSaleOrInCash) {
  const std::vector<TenderMethod> card_only{TenderMethod::card};
  EXPECT_TRUE(refund_method_allowed(TenderMethod::card, card_only));
  EXPECT_TRUE(refund_method_allowed(TenderMethod::cash, card_only));
  for (const auto other : {TenderMethod::other, TenderMethod::alipay, TenderMethod::wechat,
                           TenderMethod::wechat_code, TenderMethod::alipay_code})
    EXPECT_FALSE(refund_method_allowed(other, card_only)) << to_string(other);
  // A scanned code and the QR method of the same provider are different accounts.
  const std::vector<TenderMethod> code_and_cash{TenderMethod::wechat_code, TenderMethod::cash};
  EXPECT_TRUE(refund_method_allowed(TenderMethod::wechat_code, code_and_cash));
  EXPECT_FALSE(refund_method_allowed(TenderMethod::wechat, code_and_cash));
  // A sale of 0 has no tenders: cash (of nothing) is the only way back.
  EXPECT_TRUE(refund_method_allowed(TenderMethod::cash, {}));
  EXPECT_FALSE(refund_method_allowed(TenderMethod::card, {}));
}

TEST(Tenders, AmountsMustBeAboveZero) {
  const std::vector<TenderInput> tenders{tender(TenderMethod::card, 1000),
                                         tender(TenderMethod::wechat, 0)};
  const auto e = error_of([&] { settle_tenders(Fen(1000), tenders); });
  EXPECT_EQ(e.details().at("field"), "tenders[1].amount_fen");
  const std::vector<TenderInput> negative{tender(TenderMethod::card, 1100),
                                          tender(TenderMethod::wechat, -100)};
  EXPECT_EQ(error_of([&] { settle_tenders(Fen(1000), negative); }).details().at("field"),
            "tenders[1].amount_fen");
}

TEST(Tenders, CashTenderedBelowTheAmountIsRefused) {
  const std::vector<TenderInput> tenders{tender(TenderMethod::cash, 1000, 999)};
  EXPECT_EQ(error_of([&] { settle_tenders(Fen(1000), tenders); }).details().at("field"),
            "tenders[0].tendered_fen");
}

TEST(Tenders, AtMostOneCashTender) {
  const std::vector<TenderInput> tenders{tender(TenderMethod::cash, 500),
                                         tender(TenderMethod::cash, 500)};
  EXPECT_EQ(error_of([&] { settle_tenders(Fen(1000), tenders); }).details().at("field"),
            "tenders[1].method");
}

TEST(Tenders, OnlyCashGivesChange) {
  const std::vector<TenderInput> tenders{tender(TenderMethod::card, 1000, 1200)};
  EXPECT_EQ(error_of([&] { settle_tenders(Fen(1000), tenders); }).details().at("field"),
            "tenders[0].tendered_fen");
}

TEST(Tenders, OtherNeedsAReferenceAndReferencesAreAtMost100Characters) {
  const std::vector<TenderInput> missing{tender(TenderMethod::other, 1000)};
  EXPECT_EQ(error_of([&] { settle_tenders(Fen(1000), missing); }).details().at("field"),
            "tenders[0].reference");
  const std::vector<TenderInput> given{
      tender(TenderMethod::other, 1000, std::nullopt, "赊账 张三")};
  EXPECT_EQ(settle_tenders(Fen(1000), given).tenders[0].reference, "赊账 张三");
  std::string hundred_hanzi;
  for (int i = 0; i < 100; ++i)
    hundred_hanzi += "票";
  const std::vector<TenderInput> at_limit{
      tender(TenderMethod::wechat, 1000, std::nullopt, hundred_hanzi)};
  EXPECT_NO_THROW(settle_tenders(Fen(1000), at_limit));
  const std::vector<TenderInput> too_long{
      tender(TenderMethod::wechat, 1000, std::nullopt, hundred_hanzi + "x")};
  EXPECT_EQ(error_of([&] { settle_tenders(Fen(1000), too_long); }).details().at("field"),
            "tenders[0].reference");
}

TEST(Tenders, AZeroTotalNeedsNoTenderButAnyOtherTotalDoes) {
  EXPECT_EQ(settle_tenders(Fen(0), {}).change, Fen(0));
  EXPECT_EQ(error_of([] { settle_tenders(Fen(100), {}); }).details().at("field"), "tenders");
}

TEST(Tenders, MethodNamesRoundTripExactly) {
  for (const char* name :
       {"cash", "wechat", "alipay", "card", "other", "wechat_code", "alipay_code"}) {
    const auto method = parse_tender_method(name);
    ASSERT_TRUE(method.has_value()) << name;
    EXPECT_EQ(to_string(*method), name);
  }
  EXPECT_FALSE(parse_tender_method("Cash").has_value());
  EXPECT_FALSE(parse_tender_method("weixin").has_value());
  EXPECT_FALSE(parse_tender_method("").has_value());
}

TEST(Tenders, RandomSplitsThatPayTheTotalSettleWithTheCashOverpaymentAsChange) {
  std::mt19937_64 random(1230);
  const TenderMethod non_cash[] = {TenderMethod::wechat, TenderMethod::alipay, TenderMethod::card,
                                   TenderMethod::wechat_code, TenderMethod::alipay_code};
  for (int round = 0; round < 5000; ++round) {
    const std::int64_t total = static_cast<std::int64_t>(random() % 100000) + 1;
    std::vector<TenderInput> tenders;
    std::int64_t left = total;
    std::int64_t change = 0;
    bool cash_used = false;
    while (left > 0) {
      const std::int64_t amount =
          random() % 3 == 0
              ? left
              : static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(left)) + 1;
      if (!cash_used && random() % 2 == 0) {
        cash_used = true;
        const std::int64_t over = static_cast<std::int64_t>(random() % 10000);
        tenders.push_back(tender(TenderMethod::cash, amount, amount + over));
        change += over;
      } else {
        tenders.push_back(tender(non_cash[random() % 5], amount, std::nullopt, "ref"));
      }
      left -= amount;
    }
    const auto settled = settle_tenders(Fen(total), tenders);
    EXPECT_EQ(settled.change, Fen(change));
    ASSERT_EQ(settled.tenders.size(), tenders.size());
    Fen paid;
    for (const auto& t : settled.tenders)
      paid += t.amount;
    EXPECT_EQ(paid, Fen(total));
    // One fen less or more on any tender is refused.
    auto wrong = tenders;
    const std::size_t i = random() % wrong.size();
    wrong[i].amount += Fen(random() % 2 == 0 ? 1 : -1);
    if (wrong[i].tendered && *wrong[i].tendered < wrong[i].amount)
      wrong[i].tendered = wrong[i].amount;
    EXPECT_THROW(settle_tenders(Fen(total), wrong), Error);
  }
}

// --- randomised invariants -------------------------------------------------------------------

TEST(SalePricing, RandomSalesAlwaysSumToTheTotalWithNothingNegative) {
  std::mt19937_64 random(8);
  const Rounding roundings[] = {Rounding::none, Rounding::jiao, Rounding::yuan};
  for (int round = 0; round < 5000; ++round) {
    std::vector<SaleLineInput> lines(random() % 8 + 1);
    Fen after_line_discounts;
    for (auto& line : lines) {
      if (random() % 3 == 0) {
        line.quantity = Quantity::grams(static_cast<std::int64_t>(random() % 5000) + 1);
        line.unit_price = Fen(static_cast<std::int64_t>(random() % 20000));
      } else {
        line.quantity = Quantity::pieces(static_cast<std::int64_t>(random() % 20) + 1);
        line.unit_price = Fen(static_cast<std::int64_t>(random() % 5000));
      }
      const Fen list = line_total(line.unit_price, line.quantity);
      line.discount = random() % 3 == 0
                          ? Fen(static_cast<std::int64_t>(random() % (list.value() + 1)))
                          : Fen(0);
      line.commission_bps = static_cast<int>(random() % 10001);
      after_line_discounts += list - line.discount;
    }
    const Fen sale_discount =
        random() % 2 == 0
            ? Fen(static_cast<std::int64_t>(random() % (after_line_discounts.value() + 1)))
            : Fen(0);
    const Rounding rounding = roundings[random() % 3];
    const auto sale = price_sale(lines, sale_discount, rounding);

    Fen gross;
    Fen list;
    Fen spread;
    for (std::size_t i = 0; i < sale.lines.size(); ++i) {
      const auto& line = sale.lines[i];
      EXPECT_GE(line.gross, Fen(0));
      EXPECT_GE(line.sale_discount, Fen(0));
      EXPECT_GE(line.split.fee, Fen(0));
      EXPECT_GE(line.split.share, Fen(0));
      EXPECT_EQ(line.split.fee + line.split.share, line.gross);
      EXPECT_EQ(line.list - line.line_discount - line.sale_discount, line.gross);
      EXPECT_EQ(line.split, commission(line.gross, lines[i].commission_bps));
      gross += line.gross;
      list += line.list;
      spread += line.sale_discount;
    }
    ASSERT_EQ(gross, sale.total);
    EXPECT_EQ(list, sale.subtotal);
    EXPECT_EQ(spread, sale_discount + sale.rounding);
    EXPECT_EQ(sale.discount, sale.subtotal - sale.total);
    EXPECT_GE(sale.rounding, Fen(0));
    if (rounding == Rounding::none) {
      EXPECT_EQ(sale.rounding, Fen(0));
    }
    if (rounding == Rounding::jiao) {
      EXPECT_LT(sale.rounding, Fen(10));
      EXPECT_EQ(sale.total.value() % 10, 0);
    }
    if (rounding == Rounding::yuan) {
      EXPECT_LT(sale.rounding, Fen(100));
      EXPECT_EQ(sale.total.value() % 100, 0);
    }
    EXPECT_EQ(sale.total + sale_discount + sale.rounding, after_line_discounts);
  }
}

TEST(Tenders, ChangeAboveTenThousandYuanIsRefusedAsATypingMistake) {
  const TenderInput at_limit{TenderMethod::cash, Fen(500), Fen(500 + 1'000'000), ""};
  EXPECT_EQ(settle_tenders(Fen(500), std::span(&at_limit, 1)).change, Fen(1'000'000));
  const TenderInput beyond{TenderMethod::cash, Fen(500), Fen(9'223'372'036'854'775'807), ""};
  try {
    (void)settle_tenders(Fen(500), std::span(&beyond, 1));
    FAIL() << "accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.details().at("field"), "tenders[0].tendered_fen");
  }
}

TEST(RungAt, AnOfflineTillsClockIsBelievedFrom2020ToADayAheadOfTheServer) {
  constexpr std::int64_t kSecond = 1'000'000;
  constexpr std::int64_t now = 1'796'601'600 * kSecond;  // 2026-12-07T00:00:00Z
  EXPECT_FALSE(rung_at_problem(now, now));
  EXPECT_FALSE(rung_at_problem(now - 400LL * 86400 * kSecond, now)) << "a year old queue";
  EXPECT_FALSE(rung_at_problem(1'577'836'800 * kSecond, now)) << "2020-01-01T00:00:00Z";
  EXPECT_FALSE(rung_at_problem(now + 86400 * kSecond, now)) << "a till clock a day fast";
  EXPECT_TRUE(rung_at_problem(1'577'836'800 * kSecond - 1, now));
  EXPECT_TRUE(rung_at_problem(-kSecond, now)) << "1969";
  EXPECT_TRUE(rung_at_problem(now + 86400 * kSecond + 1, now));
  EXPECT_TRUE(rung_at_problem(4'102'444'800 * kSecond, now)) << "2100";
}

}  // namespace
}  // namespace yizhan::domain
