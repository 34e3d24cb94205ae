// Order refund planning (pure): lines through refund_part, the fee, what is left, the fields
// named when refused, and the journal that reverses exactly the parts refunded.
#include <gtest/gtest.h>

#include "yizhan/domain/error.hpp"
#include "yizhan/domain/order_refund.hpp"

using namespace yizhan::domain;

namespace {

// Three teas at 3.33 (15 %: fee 149 of 999) and one box at 10.01 (12 %: fee 120), fee 8.00.
OrderRefundInput order() {
  OrderRefundInput input;
  input.lines = {{1, 7, {3, Fen(999), Fen(149), Fen(850)}, 0},
                 {2, 8, {1, Fen(1001), Fen(120), Fen(881)}, 0}};
  input.delivery_fee = Fen(800);
  input.refundable = Fen(2800);
  return input;
}

std::string field_of(const OrderRefundInput& input) {
  try {
    plan_order_refund(input);
  } catch (const Error& error) {
    const auto found = error.details().find("field");
    return found == error.details().end() ? "" : found->second;
  }
  return "(none)";
}

ErrorCode code_of(const OrderRefundInput& input) {
  try {
    plan_order_refund(input);
  } catch (const Error& error) {
    return error.code();
  }
  return ErrorCode::internal;
}

}  // namespace

TEST(OrderRefundPlan, EverythingIsEveryLineAndTheFeeAndCompletesTheOrder) {
  auto input = order();
  input.everything = true;
  const auto plan = plan_order_refund(input);
  ASSERT_EQ(plan.lines.size(), 2u);
  EXPECT_EQ(plan.goods, Fen(2000));
  EXPECT_EQ(plan.delivery_fee, Fen(800));
  EXPECT_EQ(plan.total, Fen(2800));
  EXPECT_TRUE(plan.completes);
  EXPECT_EQ(plan.lines[0].part, (LineAmounts{3, Fen(999), Fen(149), Fen(850)}));
}

TEST(OrderRefundPlan, PartialRefundsOneUnitAtATimeSumExactlyToTheLineAndTheOrder) {
  auto input = order();
  Fen gross, fee, share, total;
  for (int i = 0; i < 3; ++i) {
    input.asks = {{1, 1, false}};
    const auto plan = plan_order_refund(input);
    gross += plan.lines[0].part.gross;
    fee += plan.lines[0].part.fee;
    share += plan.lines[0].part.share;
    total += plan.total;
    EXPECT_EQ(plan.lines[0].part.fee + plan.lines[0].part.share, plan.lines[0].part.gross);
    input.lines[0].refunded_quantity += 1;
    input.refundable = input.refundable - plan.total;
    EXPECT_FALSE(plan.completes);
  }
  EXPECT_EQ(gross, Fen(999));
  EXPECT_EQ(fee, Fen(149));
  EXPECT_EQ(share, Fen(850));
  input.asks = {{2, 1, true}};
  input.refund_fee = true;
  const auto last = plan_order_refund(input);
  EXPECT_TRUE(last.completes);
  EXPECT_TRUE(last.lines[0].returned);
  EXPECT_EQ(total + last.total, Fen(2800));
}

TEST(OrderRefundPlan, AsksOfOneLineAddUpAndMerge) {
  auto input = order();
  input.asks = {{1, 1, false}, {1, 1, false}};
  const auto plan = plan_order_refund(input);
  ASSERT_EQ(plan.lines.size(), 1u);
  EXPECT_EQ(plan.lines[0].part.quantity, 2);
  EXPECT_EQ(plan.lines[0].part.gross, Fen(666));
  // One returned, one kept: two parts, the money still cumulative.
  input.asks = {{1, 1, true}, {1, 1, false}};
  const auto split = plan_order_refund(input);
  ASSERT_EQ(split.lines.size(), 2u);
  EXPECT_TRUE(split.lines[0].returned);
  EXPECT_FALSE(split.lines[1].returned);
  EXPECT_EQ(split.lines[0].part.gross + split.lines[1].part.gross, Fen(666));
  input.asks = {{1, 2, false}, {1, 2, false}};
  EXPECT_EQ(field_of(input), "lines[1].quantity");
  EXPECT_EQ(code_of(input), ErrorCode::refund_exceeds_sale);
}

TEST(OrderRefundPlan, RefusalsNameTheField) {
  auto input = order();
  EXPECT_EQ(field_of(input), "lines");
  input.asks = {{9, 1, false}};
  EXPECT_EQ(field_of(input), "lines[0].line_no");
  EXPECT_EQ(code_of(input), ErrorCode::invalid);
  input.asks = {{1, 0, false}};
  EXPECT_EQ(field_of(input), "lines[0].quantity");
  input.asks = {{1, 4, false}};
  EXPECT_EQ(field_of(input), "lines[0].quantity");
  EXPECT_EQ(code_of(input), ErrorCode::refund_exceeds_sale);
  input.asks = {};
  input.refund_fee = true;
  input.fee_refunded = true;
  EXPECT_EQ(field_of(input), "delivery_fee");
  input.fee_refunded = false;
  input.delivery_fee = Fen(0);
  EXPECT_EQ(field_of(input), "delivery_fee");
  // More than refundable (a payment smaller than the lines): refused on the amount.
  input = order();
  input.refundable = Fen(500);
  input.asks = {{2, 1, false}};
  EXPECT_EQ(field_of(input), "amount");
  // Everything already refunded.
  input = order();
  input.lines[0].refunded_quantity = 3;
  input.lines[1].refunded_quantity = 1;
  input.fee_refunded = true;
  input.refundable = Fen(0);
  input.everything = true;
  EXPECT_EQ(code_of(input), ErrorCode::refund_exceeds_sale);
}

TEST(OrderRefundJournal, ReversesThePaymentOfThePartsExactly) {
  const std::vector<VillageSplit> lines{{7, Fen(149), Fen(850)}, {8, Fen(120), Fen(881)}};
  const auto paid = order_payment_postings(TenderMethod::wechat, 0, lines, Fen(800));
  const auto back = order_refund_postings(TenderMethod::wechat, 0, lines, Fen(800));
  ASSERT_EQ(paid.size(), back.size());
  for (std::size_t i = 0; i < paid.size(); ++i) {
    EXPECT_EQ(back[i].account, paid[i].account);
    EXPECT_EQ(back[i].amount, -paid[i].amount);
  }
  const auto cash = order_refund_postings(TenderMethod::cash, 3, lines, Fen(0));
  EXPECT_TRUE(balances(cash));
  bool drawer = false;
  for (const auto& p : cash)
    drawer = drawer || (p.account == "cash_drawer:3" && p.amount == Fen(-2000));
  EXPECT_TRUE(drawer);
}

TEST(OrderRefundJournal, AnUnsoldPaymentIsHeldForRefundAndOwedToNoVillage) {
  const auto in = unsold_payment_postings(TenderMethod::alipay, Fen(300));
  EXPECT_EQ(in, (std::vector<Posting>{{"tender_clearing:alipay", Fen(300)},
                                      {kOrderRefundsDue, Fen(-300)}}));
  const auto out = unsold_refund_postings(TenderMethod::alipay, 0, Fen(300));
  EXPECT_EQ(out, (std::vector<Posting>{{kOrderRefundsDue, Fen(300)},
                                       {"tender_clearing:alipay", Fen(-300)}}));
  EXPECT_THROW(unsold_payment_postings(TenderMethod::wechat, Fen(0)), Error);
}
