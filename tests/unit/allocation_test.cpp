// Largest-remainder allocation: parts always sum to the whole, for any weights and totals.
#include <gtest/gtest.h>

#include <numeric>
#include <random>

#include "yizhan/domain/allocation.hpp"
#include "yizhan/domain/error.hpp"

using yizhan::domain::allocate;
using yizhan::domain::Fen;

namespace {
Fen sum(const std::vector<Fen>& parts) {
  return std::accumulate(parts.begin(), parts.end(), Fen(0));
}
std::vector<std::int64_t> values(const std::vector<Fen>& parts) {
  std::vector<std::int64_t> out;
  for (auto part : parts)
    out.push_back(part.value());
  return out;
}
}  // namespace

TEST(Allocate, SplitsProportionallyWhenExact) {
  const std::vector<std::int64_t> weights{1, 1, 2};
  EXPECT_EQ(values(allocate(Fen(100), weights)), (std::vector<std::int64_t>{25, 25, 50}));
}

TEST(Allocate, GivesLeftoverFenToLargestRemaindersFirstThenEarlierWeights) {
  const std::vector<std::int64_t> thirds{1, 1, 1};
  EXPECT_EQ(values(allocate(Fen(100), thirds)), (std::vector<std::int64_t>{34, 33, 33}));
  // 10 by 3:7 → 3 and 7 exactly; 11 by 3:7 → 3.3 and 7.7 → remainder goes to the 7.7.
  const std::vector<std::int64_t> three_seven{3, 7};
  EXPECT_EQ(values(allocate(Fen(11), three_seven)), (std::vector<std::int64_t>{3, 8}));
}

TEST(Allocate, NegativeTotalIsTheMirrorOfThePositive) {
  const std::vector<std::int64_t> weights{1, 1, 1};
  EXPECT_EQ(values(allocate(Fen(-100), weights)), (std::vector<std::int64_t>{-34, -33, -33}));
}

TEST(Allocate, ZeroWeightsGetNothingUnlessAllAreZero) {
  const std::vector<std::int64_t> some_zero{0, 5, 0, 5};
  EXPECT_EQ(values(allocate(Fen(101), some_zero)), (std::vector<std::int64_t>{0, 51, 0, 50}));
  const std::vector<std::int64_t> all_zero{0, 0, 0};
  EXPECT_EQ(values(allocate(Fen(10), all_zero)), (std::vector<std::int64_t>{4, 3, 3}));
}

TEST(Allocate, RejectsNoWeightsAndNegativeWeightsAsOurBugWithTheDomainError) {
  // Weights are our own list prices, never a client's: a bad one is a logged 500.
  auto code_of = [](std::span<const std::int64_t> weights) {
    try {
      allocate(Fen(10), weights);
    } catch (const yizhan::domain::Error& error) {
      return error.code();
    }
    return yizhan::domain::ErrorCode::invalid;  // nothing thrown: fails below
  };
  EXPECT_EQ(code_of(std::vector<std::int64_t>{}), yizhan::domain::ErrorCode::internal);
  EXPECT_EQ(code_of(std::vector<std::int64_t>{1, -1}), yizhan::domain::ErrorCode::internal);
}

TEST(Allocate, HugeAmountsAndWeightsDoNotOverflow) {
  const std::vector<std::int64_t> weights{INT64_MAX, INT64_MAX, 1};
  const auto parts = allocate(Fen(INT64_MAX), weights);
  EXPECT_EQ(sum(parts), Fen(INT64_MAX));
}

TEST(Allocate, RandomCasesAlwaysSumToTotalAndStayWithinOneFenOfExactShare) {
  std::mt19937_64 random(2026);
  std::uniform_int_distribution<int> count(1, 12);
  std::uniform_int_distribution<std::int64_t> weight(0, 100'000);
  std::uniform_int_distribution<std::int64_t> total(-10'000'000, 10'000'000);
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::int64_t> weights(static_cast<std::size_t>(count(random)));
    for (auto& w : weights)
      w = i % 7 == 0 ? weight(random) % 3 : weight(random);
    const Fen whole(total(random));
    const auto parts = allocate(whole, weights);
    ASSERT_EQ(parts.size(), weights.size());
    ASSERT_EQ(sum(parts), whole);
    long double weight_sum = 0;
    bool all_zero = true;
    for (auto w : weights) {
      weight_sum += w;
      all_zero = all_zero && w == 0;
    }
    for (std::size_t k = 0; k < parts.size(); ++k) {
      const long double exact =
          all_zero ? static_cast<long double>(whole.value()) / weights.size()
                   : static_cast<long double>(whole.value()) * weights[k] / weight_sum;
      ASSERT_LT(std::abs(static_cast<long double>(parts[k].value()) - exact), 1.0L)
          << "case " << i << " part " << k;
      if (!all_zero && weights[k] == 0) {
        ASSERT_EQ(parts[k], Fen(0));
      }
    }
    // Refunding the whole amount reverses every part exactly.
    const auto reversed = allocate(-whole, weights);
    for (std::size_t k = 0; k < parts.size(); ++k)
      ASSERT_EQ(reversed[k], -parts[k]);
  }
}
