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
