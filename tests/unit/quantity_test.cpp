// Quantities carry their unit; a line's total from its price and quantity.
#include <gtest/gtest.h>

#include <random>

#include "yizhan/domain/error.hpp"
#include "yizhan/domain/quantity.hpp"

using namespace yizhan::domain;

namespace {
/// The domain::Error that `f` throws; fails the test when it throws nothing.
template <class F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& error) {
    return error;
  }
  ADD_FAILURE() << "no domain::Error thrown";
  return Error(ErrorCode::internal, "none");
}
}  // namespace

TEST(Quantity, KnowsItsUnit) {
  EXPECT_EQ(Quantity::pieces(3).unit(), Unit::piece);
  EXPECT_EQ(Quantity::grams(250).unit(), Unit::gram);
  EXPECT_EQ(Quantity::grams(250).amount(), 250);
  EXPECT_NE(Quantity::pieces(3), Quantity::grams(3)) << "3 pieces are not 3 grams";
  EXPECT_EQ(Quantity::grams(250) + Quantity::grams(750), Quantity::grams(1000));
  EXPECT_EQ(Quantity::pieces(5) - Quantity::pieces(7), Quantity::pieces(-2));
  EXPECT_EQ(-Quantity::pieces(2), Quantity::pieces(-2));
  EXPECT_TRUE(Quantity::pieces(1) < Quantity::pieces(2));
}

TEST(Quantity, MixingUnitsIsOurBugNotTheClients) {
  EXPECT_EQ(error_of([] { return Quantity::pieces(1) + Quantity::grams(1); }).code(),
            ErrorCode::internal);
  EXPECT_EQ(error_of([] { return Quantity::pieces(1) < Quantity::grams(1); }).code(),
            ErrorCode::internal);
}

TEST(Quantity, FromClientIsPositiveAndBoundedPerUnitElse422NamingTheField) {
  EXPECT_EQ(Quantity::from_client(Unit::piece, 1, "quantity"), Quantity::pieces(1));
  EXPECT_EQ(Quantity::from_client(Unit::piece, kMaxPieces, "quantity").amount(), kMaxPieces);
  EXPECT_EQ(Quantity::from_client(Unit::gram, kMaxGrams, "quantity").amount(), kMaxGrams);
  for (const auto& [unit, amount] :
       std::vector<std::pair<Unit, std::int64_t>>{{Unit::piece, 0},
                                                  {Unit::piece, -1},
                                                  {Unit::piece, kMaxPieces + 1},
                                                  {Unit::gram, kMaxGrams + 1},
                                                  {Unit::gram, INT64_MIN}}) {
    const auto error =
        error_of([&] { return Quantity::from_client(unit, amount, "lines[2].quantity"); });
    EXPECT_EQ(error.code(), ErrorCode::invalid) << amount;
    EXPECT_EQ(error.details().at("field"), "lines[2].quantity") << amount;
  }
  EXPECT_EQ(error_of([] { return Quantity::grams(INT64_MAX) + Quantity::grams(1); }).code(),
            ErrorCode::invalid);
}

TEST(LineTotal, PiecesMultiplyAndGramsRoundHalfUpOnce) {
  EXPECT_EQ(line_total(Fen(1880), Quantity::pieces(3)), Fen(5640));
  // ¥360.00/kg × 125 g = ¥45.00
  EXPECT_EQ(line_total(Fen(36000), Quantity::grams(125)), Fen(4500));
  // ¥12.34/kg × 123 g = 151.782 fen → 152; half a fen rounds up
  EXPECT_EQ(line_total(Fen(1234), Quantity::grams(123)), Fen(152));
  EXPECT_EQ(line_total(Fen(100), Quantity::grams(5)), Fen(1));
}

TEST(LineTotal, ARefundIsExactlyTheNegatedSale) {
  std::mt19937_64 random(11);
  std::uniform_int_distribution<std::int64_t> price(1, 10'000'000);
  std::uniform_int_distribution<std::int64_t> amount(1, kMaxGrams);
  for (int i = 0; i < 5000; ++i) {
    const Fen p(price(random));
    const auto n = amount(random);
    EXPECT_EQ(line_total(p, -Quantity::grams(n)), -line_total(p, Quantity::grams(n)));
    EXPECT_EQ(line_total(p, -Quantity::pieces(n)), -line_total(p, Quantity::pieces(n)));
  }
}

TEST(LineTotal, OverflowIs422NamingTheQuantity) {
  for (const auto quantity : {Quantity::pieces(INT64_MAX), Quantity::grams(INT64_MAX)}) {
    const auto error = error_of([&] { return line_total(Fen(INT64_MAX), quantity); });
    EXPECT_EQ(error.code(), ErrorCode::invalid);
    EXPECT_EQ(error.details().at("field"), "quantity");
  }
}
