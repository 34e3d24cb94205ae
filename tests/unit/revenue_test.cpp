// Net revenue figures: refunds subtract exactly what they gave back, per channel and in all.
#include <gtest/gtest.h>

#include "yizhan/domain/revenue.hpp"

using namespace yizhan::domain;

TEST(Revenue, ARefundSubtractsItsPartsAndIsCountedApart) {
  RevenueTotals totals;
  totals.add({Channel::counter, false, Unit::piece, Fen(3000), Fen(450), Fen(2550), 3});
  totals.add({Channel::online, false, Unit::gram, Fen(1999), Fen(300), Fen(1699), 750});
  totals.add({Channel::counter, true, Unit::piece, Fen(1000), Fen(150), Fen(850), 1});
  totals.add_sales(Channel::counter, 1);
  totals.add_sales(Channel::online, 2);
  EXPECT_EQ(totals.all.gross, Fen(3999));
  EXPECT_EQ(totals.all.fee, Fen(600));
  EXPECT_EQ(totals.all.share, Fen(3399));
  EXPECT_EQ(totals.all.fee + totals.all.share, totals.all.gross);
  EXPECT_EQ(totals.all.refund_gross, Fen(1000));
  EXPECT_EQ(totals.all.refund_share, Fen(850));
  EXPECT_EQ(totals.all.pieces, 2);
  EXPECT_EQ(totals.all.grams, 750);
  EXPECT_EQ(totals.all.sales, 3);
  EXPECT_EQ(totals.counter.share, Fen(1700));
  EXPECT_EQ(totals.online.share, Fen(1699));
  EXPECT_EQ(totals.online.refund_gross, Fen(0));
}

TEST(Revenue, ChannelNamesRoundTrip) {
  EXPECT_EQ(to_string(Channel::counter), "counter");
  EXPECT_EQ(parse_channel("online"), Channel::online);
  EXPECT_FALSE(parse_channel("shop").has_value());
}
