// Partial refunds of a sale line: the cumulative rule that makes every sequence of refunds
// sum exactly to the line, with no negative part.
#include <gtest/gtest.h>

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

LineAmounts line_of(std::int64_t quantity, std::int64_t gross, int bps) {
  const auto split = commission(Fen(gross), bps);
  return {quantity, Fen(gross), split.fee, split.share};
}

LineAmounts add(const LineAmounts& a, const LineAmounts& b) {
  return {a.quantity + b.quantity, a.gross + b.gross, a.fee + b.fee, a.share + b.share};
}

TEST(RefundSplit, RefundingTheWholeLineAtOnceGivesBackExactlyTheLine) {
  const auto line = line_of(3, 1000, 800);
  EXPECT_EQ(refund_part(line, {}, 3), line);
}

TEST(RefundSplit, ThirdsOfAnUnevenLineSumToTheLine) {
  // 1000 fen over 3 units: 333, 334 (cumulative 667), 333 (cumulative 1000).
  const auto line = line_of(3, 1000, 800);  // fee 80, share 920
  const auto first = refund_part(line, {}, 1);
  EXPECT_EQ(first.gross, Fen(333));
  const auto second = refund_part(line, first, 1);
  EXPECT_EQ(second.gross, Fen(334));
  const auto both = add(first, second);
  const auto third = refund_part(line, both, 1);
  EXPECT_EQ(third.gross, Fen(333));
  EXPECT_EQ(add(both, third), line);
  for (const auto& part : {first, second, third}) {
    EXPECT_EQ(part.fee + part.share, part.gross);
    EXPECT_GE(part.fee, Fen(0));
    EXPECT_GE(part.share, Fen(0));
  }
}

TEST(RefundSplit, TheRefundOfTheFirstNUnitsDoesNotDependOnHowTheyWereSplit) {
  const auto line = line_of(7, 1999, 1250);
  const auto at_once = refund_part(line, {}, 5);
  LineAmounts piecewise{};
  for (std::int64_t q : {2, 1, 2})
    piecewise = add(piecewise, refund_part(line, piecewise, q));
  EXPECT_EQ(piecewise, at_once);
}

TEST(RefundSplit, AWeighedLineRefundsByTheGram) {
  // 433 fen for 333 g at 10 %: refunding 111 g then the other 222 g.
  const auto line = line_of(333, 433, 1000);
  const auto first = refund_part(line, {}, 111);
  EXPECT_EQ(first.quantity, 111);
  EXPECT_EQ(first.gross, Fen(144));  // 433 × 111 / 333 = 144.33 → 144
  const auto rest = refund_part(line, first, 222);
  EXPECT_EQ(add(first, rest), line);
}

TEST(RefundSplit, AZeroGrossLineRefundsZero) {
  const auto line = line_of(4, 0, 800);
  const auto part = refund_part(line, {}, 2);
  EXPECT_EQ(part, (LineAmounts{2, Fen(0), Fen(0), Fen(0)}));
}

TEST(RefundSplit, AllFeeAndNoFeeLinesStayWhole) {
  const auto all_fee = line_of(3, 1001, 10000);
  const auto part = refund_part(all_fee, {}, 1);
  EXPECT_EQ(part.fee, part.gross);
  EXPECT_EQ(part.share, Fen(0));
  const auto no_fee = line_of(3, 1001, 0);
  EXPECT_EQ(refund_part(no_fee, {}, 2).fee, Fen(0));
}

TEST(RefundSplit, MoreThanWhatIsLeftIsRefundExceedsSale) {
  const auto line = line_of(3, 900, 800);
  const auto first = refund_part(line, {}, 2);
  const auto e = error_of([&] { refund_part(line, first, 2); });
  EXPECT_EQ(e.code(), ErrorCode::refund_exceeds_sale);
  EXPECT_EQ(e.details().at("line_quantity"), "3");
  EXPECT_EQ(e.details().at("refunded"), "2");
  EXPECT_EQ(e.details().at("asked"), "2");
  EXPECT_EQ(error_of([&] { refund_part(line, {}, 4); }).code(), ErrorCode::refund_exceeds_sale);
  const auto all = refund_part(line, {}, 3);
  EXPECT_EQ(error_of([&] { refund_part(line, all, 1); }).code(), ErrorCode::refund_exceeds_sale);
}

TEST(RefundSplit, ANonPositiveQuantityIs422) {
  const auto line = line_of(3, 900, 800);
  for (std::int64_t q : {0, -1}) {
    const auto e = error_of([&] { refund_part(line, {}, q); });
    EXPECT_EQ(e.code(), ErrorCode::invalid);
    EXPECT_EQ(e.details().at("field"), "quantity");
  }
}

TEST(RefundSplit, LargeLinesDoNotOverflow) {
  // gross × n would overflow int64 without a 128-bit intermediate.
  const auto line = line_of(1'000'000, 4'000'000'000'000'000, 333);  // 4e15 fen
  const auto first = refund_part(line, {}, 999'999);
  const auto rest = refund_part(line, first, 1);
  EXPECT_EQ(add(first, rest), line);
  EXPECT_EQ(rest.gross, Fen(4'000'000'000));
}

TEST(RefundSplit, RandomSequencesOfPartialRefundsSumExactlyToTheLine) {
  std::mt19937_64 random(2026);
  for (int round = 0; round < 10000; ++round) {
    const bool weighed = random() % 3 == 0;
    const std::int64_t quantity = weighed ? static_cast<std::int64_t>(random() % 100'000) + 1
                                          : static_cast<std::int64_t>(random() % 30) + 1;
    const std::int64_t gross =
        random() % 10 == 0 ? 0 : static_cast<std::int64_t>(random() % 2'000'000);
    const int bps =
        random() % 5 == 0 ? (random() % 2 == 0 ? 0 : 10'000) : static_cast<int>(random() % 10'001);
    const auto line = line_of(quantity, gross, bps);

    LineAmounts refunded{};
    while (refunded.quantity < quantity) {
      const std::int64_t left = quantity - refunded.quantity;
      // Often a single unit, sometimes a chunk, sometimes all that is left.
      const auto pick = random() % 4;
      const std::int64_t q =
          pick == 0   ? 1
          : pick == 3 ? left
                      : static_cast<std::int64_t>(random() % static_cast<std::uint64_t>(left)) + 1;
      const auto part = refund_part(line, refunded, q);
      ASSERT_EQ(part.quantity, q);
      ASSERT_GE(part.gross, Fen(0));
      ASSERT_GE(part.fee, Fen(0));
      ASSERT_GE(part.share, Fen(0));
      ASSERT_EQ(part.fee + part.share, part.gross);
      // The cumulative rule: what was refunded so far equals refunding it at once.
      refunded = add(refunded, part);
      ASSERT_EQ(refunded, refund_part(line, {}, refunded.quantity));
    }
    ASSERT_EQ(refunded, line) << "quantity " << quantity << " gross " << gross << " bps " << bps;
    EXPECT_THROW(refund_part(line, refunded, 1), Error);
  }
}

}  // namespace
}  // namespace yizhan::domain
