// Fen arithmetic, parsing, formatting and weighed-line rounding.
#include <gtest/gtest.h>

#include <random>

#include "yizhan/domain/error.hpp"
#include "yizhan/domain/money.hpp"

using yizhan::domain::Error;
using yizhan::domain::ErrorCode;
using yizhan::domain::Fen;
using yizhan::domain::weighed_line_total;

TEST(Fen, ParsesYuanWithUpToTwoDecimals) {
  EXPECT_EQ(Fen::parse("12.30"), Fen(1230));
  EXPECT_EQ(Fen::parse("12.3"), Fen(1230));
  EXPECT_EQ(Fen::parse("12"), Fen(1200));
  EXPECT_EQ(Fen::parse("0.05"), Fen(5));
  EXPECT_EQ(Fen::parse("-0.05"), Fen(-5));
  EXPECT_EQ(Fen::parse("+1.00"), Fen(100));
}

TEST(Fen, RejectsAnythingElse) {
  for (const char* bad : {"", "-", ".5", "1.", "1.234", "1,00", "1e3", "abc", "1.2a", " 1",
                          "99999999999999999999", "NaN", "--1"}) {
    EXPECT_FALSE(Fen::parse(bad).has_value()) << bad;
  }
}

TEST(Fen, FormatsWithTwoDecimals) {
  EXPECT_EQ(Fen(1230).format(), "12.30");
  EXPECT_EQ(Fen(5).format(), "0.05");
  EXPECT_EQ(Fen(-5).format(), "-0.05");
  EXPECT_EQ(Fen(0).format(), "0.00");
  EXPECT_EQ(Fen(INT64_MIN).format(), "-92233720368547758.08");
}

TEST(Fen, FormatThenParseIsIdentityForRandomAmounts) {
  std::mt19937_64 random(42);
  std::uniform_int_distribution<std::int64_t> amount(-1'000'000'000'000, 1'000'000'000'000);
  for (int i = 0; i < 10000; ++i) {
    const Fen fen(amount(random));
    EXPECT_EQ(Fen::parse(fen.format()), fen);
  }
}

namespace {
/// The code of the domain::Error that `f` throws (fails the test if it throws anything else).
template <class F>
ErrorCode error_code_of(F&& f) {
  try {
    f();
  } catch (const Error& error) {
    return error.code();
  }
  ADD_FAILURE() << "no domain::Error thrown";
  return ErrorCode::internal;
}
}  // namespace

TEST(Fen, ArithmeticThrowsTheDomainErrorInsteadOfOverflowing) {
  EXPECT_EQ(Fen(100) + Fen(23), Fen(123));
  EXPECT_EQ(Fen(100) - Fen(123), Fen(-23));
  EXPECT_EQ(Fen(250) * 3, Fen(750));
  EXPECT_EQ(-Fen(5), Fen(-5));
  // Amounts that overflow come from clients (quantity × price): a 422, never a 500.
  EXPECT_EQ(error_code_of([] { return Fen(INT64_MAX) + Fen(1); }), ErrorCode::invalid);
  EXPECT_EQ(error_code_of([] { return Fen(INT64_MIN) - Fen(1); }), ErrorCode::invalid);
  EXPECT_EQ(error_code_of([] { return Fen(INT64_MAX / 2 + 1) * 2; }), ErrorCode::invalid);
  EXPECT_EQ(error_code_of([] { return -Fen(INT64_MIN); }), ErrorCode::invalid);
}

TEST(Fen, ParseFieldNamesTheFieldOfBadText) {
  EXPECT_EQ(Fen::parse_field("12.30", "amount"), Fen(1230));
  try {
    Fen::parse_field("99999999999999999999", "tendered");
    FAIL() << "expected a domain::Error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::invalid);
    EXPECT_EQ(error.details().at("field"), "tendered");
  }
}

TEST(WeighedLine, RoundsHalfUpToTheFenOnce) {
  // ¥88.00/kg × 500 g = ¥44.00
  EXPECT_EQ(weighed_line_total(Fen(8800), 500), Fen(4400));
  // ¥12.34/kg × 123 g = 151.782 fen → 152
  EXPECT_EQ(weighed_line_total(Fen(1234), 123), Fen(152));
  // exactly half a fen rounds up: ¥1.00/kg × 5 g = 0.5 fen → 1
  EXPECT_EQ(weighed_line_total(Fen(100), 5), Fen(1));
  EXPECT_EQ(weighed_line_total(Fen(100), 4), Fen(0));
  EXPECT_EQ(weighed_line_total(Fen(8800), 0), Fen(0));
}

TEST(WeighedLine, AnOverflowingTotalIs422NamingTheQuantity) {
  try {
    weighed_line_total(Fen(INT64_MAX), INT64_MAX);
    FAIL() << "expected a domain::Error";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::invalid);
    EXPECT_EQ(error.details().at("field"), "quantity");
  }
}

TEST(WeighedLine, RefundIsExactlyTheNegatedSale) {
  std::mt19937_64 random(7);
  std::uniform_int_distribution<std::int64_t> price(1, 1'000'000);
  std::uniform_int_distribution<std::int64_t> grams(1, 100'000);
  for (int i = 0; i < 10000; ++i) {
    const Fen per_kg(price(random));
    const auto g = grams(random);
    EXPECT_EQ(weighed_line_total(per_kg, -g), -weighed_line_total(per_kg, g));
  }
}
