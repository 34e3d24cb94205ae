// The commission split: fee rounded half-up from basis points, share the rest, always summing.
#include <gtest/gtest.h>

#include <random>

#include "yizhan/domain/commission.hpp"
#include "yizhan/domain/error.hpp"

using namespace yizhan::domain;

TEST(Commission, FeeIsGrossTimesBasisPointsRoundedHalfUp) {
  // 15 % of ¥100.00
  EXPECT_EQ(commission(Fen(10000), 1500), (CommissionSplit{Fen(1500), Fen(8500)}));
  // 15 % of 3 fen = 0.45 → 0; of 4 fen = 0.6 → 1
  EXPECT_EQ(commission(Fen(3), 1500).fee, Fen(0));
  EXPECT_EQ(commission(Fen(4), 1500).fee, Fen(1));
  // exactly half a fen rounds up: 50 % of 1 fen
  EXPECT_EQ(commission(Fen(1), 5000), (CommissionSplit{Fen(1), Fen(0)}));
  // 12.5 % of 1 fen = 0.125 → 0; of 4 fen = 0.5 → 1
  EXPECT_EQ(commission(Fen(1), 1250).fee, Fen(0));
  EXPECT_EQ(commission(Fen(4), 1250).fee, Fen(1));
  EXPECT_EQ(commission(Fen(9999), 0), (CommissionSplit{Fen(0), Fen(9999)}));
  EXPECT_EQ(commission(Fen(9999), 10000), (CommissionSplit{Fen(9999), Fen(0)}));
  EXPECT_EQ(commission(Fen(0), 1500), (CommissionSplit{Fen(0), Fen(0)}));
}

TEST(Commission, FeePlusShareIsGrossAndARefundMirrorsItsSale) {
  std::mt19937_64 random(3);
  std::uniform_int_distribution<std::int64_t> gross(0, 1'000'000'000);
  std::uniform_int_distribution<int> bps(0, 10000);
  for (int i = 0; i < 20000; ++i) {
    const Fen g(gross(random));
    const int rate = bps(random);
    const auto sale = commission(g, rate);
    ASSERT_EQ(sale.fee + sale.share, g) << g.value() << " at " << rate;
    ASSERT_GE(sale.fee, Fen(0));
    ASSERT_GE(sale.share, Fen(0));
    const auto refund = commission(-g, rate);
    ASSERT_EQ(refund.fee, -sale.fee) << g.value() << " at " << rate;
    ASSERT_EQ(refund.share, -sale.share);
  }
}

TEST(Commission, ExtremeAmountsDoNotOverflow) {
  for (const int rate : {0, 1, 1500, 9999, 10000}) {
    for (const auto gross : {INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1}) {
      const auto split = commission(Fen(gross), rate);
      EXPECT_EQ(split.fee + split.share, Fen(gross)) << gross << " at " << rate;
    }
  }
  // INT64_MAX × 1 bp / 10 000 = 922337203685477.5807 → 922337203685478
  EXPECT_EQ(commission(Fen(INT64_MAX), 1).fee, Fen(922337203685478));
  EXPECT_EQ(commission(Fen(INT64_MAX), 10000).share, Fen(0));
}

TEST(Commission, ARateOutsideZeroToTenThousandIs422NamingTheField) {
  for (const int rate : {-1, 10001}) {
    try {
      commission(Fen(100), rate);
      FAIL() << "expected a domain::Error for " << rate;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::invalid);
      EXPECT_EQ(error.details().at("field"), "commission_bps");
    }
  }
}

TEST(Commission, AProductsOwnRateOverridesItsVillages) {
  EXPECT_EQ(effective_commission_bps(std::nullopt, 1500), 1500);
  EXPECT_EQ(effective_commission_bps(800, 1500), 800);
  EXPECT_EQ(effective_commission_bps(0, 1500), 0) << "zero is a rate, not 'unset'";
}

// --- effective-dated terms ------------------------------------------------------------------

namespace {

std::chrono::year_month_day day(int y, unsigned m, unsigned d) {
  return std::chrono::year_month_day{std::chrono::year{y}, std::chrono::month{m},
                                     std::chrono::day{d}};
}

CommissionTerm term(std::int64_t id, std::optional<std::int64_t> product, std::optional<int> bps,
                    std::chrono::year_month_day from) {
  return {id, product, bps, from};
}

}  // namespace

TEST(CommissionTerms, TheTermInForceIsTheLatestStartedOnOrBeforeTheDay) {
  const std::vector<CommissionTerm> terms = {
      term(1, std::nullopt, 1500, day(2000, 1, 1)),
      term(2, std::nullopt, 1200, day(2026, 12, 10)),
      term(3, 7, 800, day(2026, 12, 1)),
  };
  EXPECT_EQ(term_in_force(terms, std::nullopt, day(2026, 12, 9)), 0u);
  // From its first day on, not a day before.
  EXPECT_EQ(term_in_force(terms, std::nullopt, day(2026, 12, 10)), 1u);
  EXPECT_EQ(term_in_force(terms, std::nullopt, day(2027, 3, 1)), 1u);
  // Scopes do not mix: the product's override is its own history.
  EXPECT_EQ(term_in_force(terms, 7, day(2026, 11, 30)), std::nullopt);
  EXPECT_EQ(term_in_force(terms, 7, day(2026, 12, 1)), 2u);
  EXPECT_EQ(term_in_force(terms, 8, day(2026, 12, 1)), std::nullopt);
  // Before any term: none.
  EXPECT_EQ(term_in_force(terms, std::nullopt, day(1999, 12, 31)), std::nullopt);
}

TEST(CommissionTerms, OfTwoTermsOnOneDayTheLaterSetWinsWhateverTheOrder) {
  const std::vector<CommissionTerm> terms = {
      term(9, std::nullopt, 1300, day(2026, 12, 10)),
      term(4, std::nullopt, 1100, day(2026, 12, 10)),
  };
  EXPECT_EQ(term_in_force(terms, std::nullopt, day(2026, 12, 10)), 0u);
}

TEST(CommissionTerms, StatusesMarkOneCurrentTermPerScopeAndTheScheduledOnes) {
  const std::vector<CommissionTerm> terms = {
      term(5, std::nullopt, 1200, day(2026, 12, 10)),  // tomorrow
      term(4, 7, std::nullopt, day(2026, 12, 9)),      // the override ends today
      term(3, 7, 800, day(2026, 12, 1)),
      term(2, std::nullopt, 1500, day(2026, 12, 1)),
      term(1, std::nullopt, 1400, day(2000, 1, 1)),
  };
  const auto statuses = term_statuses(terms, day(2026, 12, 9));
  EXPECT_EQ(statuses,
            (std::vector<TermStatus>{TermStatus::scheduled, TermStatus::current, TermStatus::past,
                                     TermStatus::current, TermStatus::past}));
  EXPECT_STREQ(to_string(TermStatus::scheduled), "scheduled");
}

TEST(CommissionTerms, AChangeMayStartTodayOrLaterButNeverInThePast) {
  EXPECT_NO_THROW(check_effective_from(day(2026, 12, 9), day(2026, 12, 9)));
  EXPECT_NO_THROW(check_effective_from(day(2027, 1, 1), day(2026, 12, 9)));
  try {
    check_effective_from(day(2026, 12, 8), day(2026, 12, 9));
    FAIL() << "a past day was accepted";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::invalid);
    EXPECT_EQ(error.details().at("field"), "effective_from");
  }
  EXPECT_NO_THROW(check_effective_from(day(2029, 12, 9), day(2026, 12, 9))) << "three years on";
  EXPECT_THROW(check_effective_from(day(2031, 1, 1), day(2026, 12, 9)), Error);
  EXPECT_THROW(check_effective_from(day(9999, 12, 31), day(2026, 12, 9)), Error);
}

TEST(CommissionTerms, ARateIsZeroToTenThousandAndOnlyAProductsOverrideMayEnd) {
  EXPECT_NO_THROW(check_term_rate(0, false));
  EXPECT_NO_THROW(check_term_rate(10000, true));
  EXPECT_NO_THROW(check_term_rate(std::nullopt, true));
  for (const auto& [bps, product] : std::vector<std::pair<std::optional<std::int64_t>, bool>>{
           {-1, false}, {10001, true}, {std::nullopt, false}}) {
    try {
      check_term_rate(bps, product);
      FAIL() << "accepted bps " << bps.value_or(-999);
    } catch (const Error& error) {
      EXPECT_EQ(error.details().at("field"), "bps");
    }
  }
}

TEST(CommissionTerms, ASaleTakesTheProductsTermElseTheVillagesWithDatedTermsBeatingOldColumns) {
  RatesInForce rates;
  rates.village_column = 1500;
  EXPECT_EQ(rate_in_force(rates), 1500);  // nothing dated: the stored village rate
  rates.product_column = 900;
  EXPECT_EQ(rate_in_force(rates), 900);  // the stored override
  rates.village_term = 1200;
  EXPECT_EQ(rate_in_force(rates), 900);  // an override beats the village's default
  rates.product_term = std::optional<int>(700);
  EXPECT_EQ(rate_in_force(rates), 700);  // the dated override beats the stored one
  rates.product_term = std::optional<int>();
  EXPECT_EQ(rate_in_force(rates), 1200);  // the override ended: the village's dated default
  EXPECT_EQ(product_override_in_force(rates), std::nullopt);
  rates.village_term.reset();
  EXPECT_EQ(rate_in_force(rates), 1500);
}
