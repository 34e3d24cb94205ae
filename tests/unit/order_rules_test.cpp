// Online order rules: every (state, event, fulfilment, payment) against a table written out here
// by hand from issue 9 and API.md, then the fee, phone number, payment code, pickup code, order
// number and seen-total rules with their edges.
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "yizhan/domain/error.hpp"
#include "yizhan/domain/order.hpp"

namespace yizhan::domain {
namespace {

using namespace std::chrono;

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

// One kind of order and every move it may make, as "from event to". Anything not listed is
// refused.
struct Kind {
  std::string name;
  Fulfilment fulfilment;
  PaymentMode payment;
  std::vector<std::string> legal;
};

const std::vector<Kind>& kinds() {
  static const std::vector<Kind> all{
      {"online pickup",
       Fulfilment::pickup,
       PaymentMode::online,
       {
           "pending_payment pay paid",
           "pending_payment cancel cancelled",
           "pending_payment expire expired",
           "paid start_picking picking",
           "paid cancel refunded",
           "paid refund_all refunded",
           "picking mark_ready ready",
           "picking cancel refunded",
           "picking refund_all refunded",
           "ready hand_over completed",
           "ready cancel refunded",
           "ready refund_all refunded",
           "completed refund_all refunded",
           "expired late_payment paid",
           "expired refund_all refunded",
           "cancelled refund_all refunded",
       }},
      {"online delivery",
       Fulfilment::delivery,
       PaymentMode::online,
       {
           "pending_payment pay paid",
           "pending_payment cancel cancelled",
           "pending_payment expire expired",
           "paid start_picking picking",
           "paid cancel refunded",
           "paid refund_all refunded",
           "picking ship shipped",
           "picking cancel refunded",
           "picking refund_all refunded",
           "shipped hand_over completed",
           "shipped refund_all refunded",
           "completed refund_all refunded",
           "expired late_payment paid",
           "expired refund_all refunded",
           "cancelled refund_all refunded",
       }},
      {"cash on pickup",
       Fulfilment::pickup,
       PaymentMode::cash_on_pickup,
       {
           "confirmed start_picking picking",
           "confirmed cancel cancelled",
           "confirmed expire expired",
           "picking mark_ready ready",
           "picking cancel cancelled",
           "picking expire expired",
           "ready hand_over completed",
           "ready cancel cancelled",
           "ready expire expired",
           "completed refund_all refunded",
       }},
      {"cash on delivery (not offered)", Fulfilment::delivery, PaymentMode::cash_on_pickup, {}},
  };
  return all;
}

using Move = std::pair<OrderState, OrderEvent>;

std::map<Move, OrderState> expected_moves(const Kind& kind) {
  std::map<Move, OrderState> moves;
  for (const std::string& line : kind.legal) {
    std::istringstream in(line);
    std::string from, event, to;
    in >> from >> event >> to;
    const auto parsed_from = parse_order_state(from);
    const auto parsed_event = parse_order_event(event);
    const auto parsed_to = parse_order_state(to);
    if (!parsed_from || !parsed_event || !parsed_to) {
      ADD_FAILURE() << "bad expectation: " << line;
      continue;
    }
    moves[{*parsed_from, *parsed_event}] = *parsed_to;
  }
  return moves;
}

// The states an order of this kind can ever be in, following the table from its first state.
std::set<OrderState> reachable(const Kind& kind) {
  if (kind.payment == PaymentMode::cash_on_pickup && kind.fulfilment == Fulfilment::delivery)
    return {};
  std::set<OrderState> seen{initial_order_state(kind.fulfilment, kind.payment)};
  for (bool grew = true; grew;) {
    grew = false;
    for (OrderState state : std::set<OrderState>(seen))
      for (OrderEvent event : kOrderEvents)
        if (auto next = next_order_state(state, event, kind.fulfilment, kind.payment))
          grew = seen.insert(*next).second || grew;
  }
  return seen;
}

TEST(OrderStates, EveryCombinationMatchesTheWrittenOutTable) {
  int checked = 0, legal = 0;
  for (const Kind& kind : kinds()) {
    const auto expected = expected_moves(kind);
    for (OrderState state : kOrderStates) {
      for (OrderEvent event : kOrderEvents) {
        SCOPED_TRACE(kind.name + ": " + std::string(to_string(state)) + " + " +
                     std::string(to_string(event)));
        ++checked;
        const auto next = next_order_state(state, event, kind.fulfilment, kind.payment);
        const auto it = expected.find({state, event});
        if (it == expected.end()) {
          if (next) {
            ADD_FAILURE() << "allowed, to " << to_string(*next);
            continue;
          }
          const Error error =
              error_of([&] { transition(state, event, kind.fulfilment, kind.payment); });
          EXPECT_EQ(error.code(), ErrorCode::invalid_state);
          EXPECT_EQ(error.details().at("state"), to_string(state));
          EXPECT_EQ(error.details().at("event"), to_string(event));
          EXPECT_TRUE(error.details().contains("to"));
        } else {
          ++legal;
          if (!next) {
            ADD_FAILURE() << "refused";
            continue;
          }
          EXPECT_EQ(*next, it->second);
          EXPECT_EQ(transition(state, event, kind.fulfilment, kind.payment), it->second);
        }
      }
    }
  }
  EXPECT_EQ(checked, 4 * 10 * 9);
  EXPECT_EQ(legal, 16 + 15 + 10);
}

TEST(OrderStates, RefusalNamesTheStateTheEventAndItsAimInBothLanguages) {
  const Error error = error_of([] {
    transition(OrderState::paid, OrderEvent::ship, Fulfilment::pickup, PaymentMode::online);
  });
  EXPECT_EQ(error.code(), ErrorCode::invalid_state);
  EXPECT_EQ(error.details().at("state"), "paid");
  EXPECT_EQ(error.details().at("event"), "ship");
  EXPECT_EQ(error.details().at("to"), "shipped");
  EXPECT_EQ(std::string(error.what()),
            "订单已付款，不能发货 / an order that is paid cannot be shipped");
  const Error cancel = error_of([] {
    transition(OrderState::shipped, OrderEvent::cancel, Fulfilment::delivery, PaymentMode::online);
  });
  EXPECT_EQ(cancel.details().at("to"), "cancelled");
}

TEST(OrderStates, NewOrdersStartPendingOnlineAndConfirmedForCash) {
  EXPECT_EQ(initial_order_state(Fulfilment::pickup, PaymentMode::online),
            OrderState::pending_payment);
  EXPECT_EQ(initial_order_state(Fulfilment::delivery, PaymentMode::online),
            OrderState::pending_payment);
  EXPECT_EQ(initial_order_state(Fulfilment::pickup, PaymentMode::cash_on_pickup),
            OrderState::confirmed);
  const Error error =
      error_of([] { initial_order_state(Fulfilment::delivery, PaymentMode::cash_on_pickup); });
  EXPECT_EQ(error.code(), ErrorCode::invalid);
  EXPECT_EQ(error.details().at("field"), "payment");
}

TEST(OrderStates, EachKindReachesExactlyItsOwnStates) {
  using S = OrderState;
  const std::vector<std::set<S>> expected{
      {S::pending_payment, S::paid, S::picking, S::ready, S::completed, S::cancelled, S::expired,
       S::refunded},
      {S::pending_payment, S::paid, S::picking, S::shipped, S::completed, S::cancelled, S::expired,
       S::refunded},
      {S::confirmed, S::picking, S::ready, S::completed, S::cancelled, S::expired, S::refunded},
      {},
  };
  for (std::size_t i = 0; i < kinds().size(); ++i) {
    SCOPED_TRACE(kinds()[i].name);
    EXPECT_EQ(reachable(kinds()[i]), expected[i]);
  }
}

TEST(OrderStates, ReservationIsHeldUntilSoldOrReleased) {
  const std::set<OrderState> holding{OrderState::pending_payment, OrderState::confirmed,
                                     OrderState::paid, OrderState::picking, OrderState::ready};
  for (OrderState state : kOrderStates)
    EXPECT_EQ(holds_reservation(state), holding.contains(state)) << to_string(state);
}

TEST(OrderStates, TerminalStatesMoveOnlyByMoneyArrivingOrGoingBack) {
  const std::set<OrderState> terminal{OrderState::completed, OrderState::cancelled,
                                      OrderState::expired, OrderState::refunded};
  for (OrderState state : kOrderStates)
    EXPECT_EQ(is_terminal(state), terminal.contains(state)) << to_string(state);
  for (const Kind& kind : kinds()) {
    for (OrderState state : terminal) {
      for (OrderEvent event : kOrderEvents) {
        if (!next_order_state(state, event, kind.fulfilment, kind.payment)) continue;
        EXPECT_TRUE(event == OrderEvent::late_payment || event == OrderEvent::refund_all)
            << kind.name << ": " << to_string(state) << " + " << to_string(event);
      }
    }
  }
  for (const Kind& kind : kinds())
    for (OrderEvent event : kOrderEvents)
      EXPECT_FALSE(next_order_state(OrderState::refunded, event, kind.fulfilment, kind.payment));
}

TEST(OrderStates, RefundInFullIsForOrdersHoldingMoneyOrMoneyThatCameLate) {
  for (const Kind& kind : kinds()) {
    for (OrderState state : reachable(kind)) {
      const bool late = kind.payment == PaymentMode::online &&
                        (state == OrderState::expired || state == OrderState::cancelled);
      EXPECT_EQ(next_order_state(state, OrderEvent::refund_all, kind.fulfilment, kind.payment)
                    .has_value(),
                holds_payment(state, kind.payment) || late)
          << kind.name << ": " << to_string(state);
    }
  }
  EXPECT_TRUE(holds_payment(OrderState::completed, PaymentMode::cash_on_pickup));
  EXPECT_FALSE(holds_payment(OrderState::ready, PaymentMode::cash_on_pickup));
  EXPECT_TRUE(holds_payment(OrderState::ready, PaymentMode::online));
  EXPECT_FALSE(holds_payment(OrderState::pending_payment, PaymentMode::online));
}

TEST(OrderStates, CustomerCancelsOnlyUnpaidOrdersAndStaffCancelsPaidOnesWithARefund) {
  for (const Kind& kind : kinds()) {
    for (OrderState state : reachable(kind)) {
      const auto next = next_order_state(state, OrderEvent::cancel, kind.fulfilment, kind.payment);
      SCOPED_TRACE(kind.name + ": " + std::string(to_string(state)));
      if (customer_may_cancel(state, kind.payment)) {
        EXPECT_EQ(next, OrderState::cancelled);
        EXPECT_FALSE(holds_payment(state, kind.payment));
      } else if (next) {
        EXPECT_EQ(*next, OrderState::refunded);
        EXPECT_TRUE(holds_payment(state, kind.payment));
      }
    }
  }
  EXPECT_TRUE(customer_may_cancel(OrderState::pending_payment, PaymentMode::online));
  EXPECT_FALSE(customer_may_cancel(OrderState::paid, PaymentMode::online));
  EXPECT_TRUE(customer_may_cancel(OrderState::ready, PaymentMode::cash_on_pickup));
  EXPECT_FALSE(customer_may_cancel(OrderState::completed, PaymentMode::cash_on_pickup));
}

TEST(OrderStates, StaffTargetsMapToTheirEvents) {
  EXPECT_EQ(staff_event_for(OrderState::picking), OrderEvent::start_picking);
  EXPECT_EQ(staff_event_for(OrderState::ready), OrderEvent::mark_ready);
  EXPECT_EQ(staff_event_for(OrderState::shipped), OrderEvent::ship);
  EXPECT_EQ(staff_event_for(OrderState::completed), OrderEvent::hand_over);
  for (OrderState state : {OrderState::pending_payment, OrderState::confirmed, OrderState::paid,
                           OrderState::cancelled, OrderState::expired, OrderState::refunded})
    EXPECT_FALSE(staff_event_for(state)) << to_string(state);
}

TEST(OrderStates, NamesRoundTripAndNothingElseParses) {
  const std::vector<std::string> states{"pending_payment", "confirmed", "paid",      "picking",
                                        "ready",           "shipped",   "completed", "cancelled",
                                        "expired",         "refunded"};
  const std::vector<std::string> events{"pay",    "start_picking", "mark_ready",
                                        "ship",   "hand_over",     "cancel",
                                        "expire", "refund_all",    "late_payment"};
  ASSERT_EQ(kOrderStates.size(), states.size());
  ASSERT_EQ(kOrderEvents.size(), events.size());
  for (std::size_t i = 0; i < states.size(); ++i) {
    EXPECT_EQ(to_string(kOrderStates[i]), states[i]);
    EXPECT_EQ(parse_order_state(states[i]), kOrderStates[i]);
  }
  for (std::size_t i = 0; i < events.size(); ++i) {
    EXPECT_EQ(to_string(kOrderEvents[i]), events[i]);
    EXPECT_EQ(parse_order_event(events[i]), kOrderEvents[i]);
  }
  for (const char* bad : {"", "Paid", " paid", "paid ", "unknown", "pending"}) {
    EXPECT_FALSE(parse_order_state(bad)) << bad;
    EXPECT_FALSE(parse_order_event(bad)) << bad;
  }
  EXPECT_EQ(parse_fulfilment("pickup"), Fulfilment::pickup);
  EXPECT_EQ(parse_fulfilment("delivery"), Fulfilment::delivery);
  EXPECT_EQ(to_string(Fulfilment::delivery), "delivery");
  EXPECT_FALSE(parse_fulfilment("Pickup"));
  EXPECT_FALSE(parse_fulfilment(""));
}

// Delivery fee: ¥8 flat, 满 ¥99 包邮, two towns.
DeliveryFeeRule anhai_rule() {
  return {Fen(800), Fen(9900), {"安海镇", "东石镇"}};
}

TEST(DeliveryFee, PickupIsFreeWhateverTheArea) {
  EXPECT_EQ(delivery_fee(anhai_rule(), Fen(100), Fulfilment::pickup, ""), Fen(0));
  EXPECT_EQ(delivery_fee(anhai_rule(), Fen(100), Fulfilment::pickup, "厦门市"), Fen(0));
}

TEST(DeliveryFee, FlatBelowTheThresholdAndFreeFromIt) {
  EXPECT_EQ(delivery_fee(anhai_rule(), Fen(0), Fulfilment::delivery, "安海镇"), Fen(800));
  EXPECT_EQ(delivery_fee(anhai_rule(), Fen(9899), Fulfilment::delivery, "安海镇"), Fen(800));
  EXPECT_EQ(delivery_fee(anhai_rule(), Fen(9900), Fulfilment::delivery, "东石镇"), Fen(0));
  EXPECT_EQ(delivery_fee(anhai_rule(), Fen(10000), Fulfilment::delivery, "东石镇"), Fen(0));
  const DeliveryFeeRule never_free{Fen(600), std::nullopt, {}};
  EXPECT_EQ(delivery_fee(never_free, Fen(1'000'000'00), Fulfilment::delivery, "安海镇"), Fen(600));
  const DeliveryFeeRule always_free{Fen(0), std::nullopt, {}};
  EXPECT_EQ(delivery_fee(always_free, Fen(1), Fulfilment::delivery, "安海镇"), Fen(0));
}

TEST(DeliveryFee, AreaIsMatchedExactlyIgnoringSurroundingSpaces) {
  EXPECT_EQ(delivery_fee(anhai_rule(), Fen(100), Fulfilment::delivery, " 安海镇\t"), Fen(800));
  EXPECT_EQ(delivery_fee(anhai_rule(), Fen(100), Fulfilment::delivery, "\u3000安海镇\u3000"),
            Fen(800));
  for (const char* area : {"", "  ", "安海", "安海镇1", "晋江市", "安 海镇"}) {
    const Error error =
        error_of([&] { delivery_fee(anhai_rule(), Fen(100), Fulfilment::delivery, area); });
    EXPECT_EQ(error.code(), ErrorCode::invalid) << area;
    EXPECT_EQ(error.details().at("field"), "address.area") << area;
    EXPECT_EQ(error.details().at("areas"), "安海镇、东石镇") << area;
  }
}

TEST(DeliveryFee, NoAreaListDeliversAnywhere) {
  const DeliveryFeeRule anywhere{Fen(800), Fen(9900), {}};
  EXPECT_EQ(delivery_fee(anywhere, Fen(100), Fulfilment::delivery, "厦门市思明区"), Fen(800));
  EXPECT_EQ(delivery_fee(anywhere, Fen(100), Fulfilment::delivery, ""), Fen(800));
}

TEST(MobileNumber, AcceptsElevenDigitsWithCountryCodeSpacesAndDashes) {
  for (const char* text :
       {"13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "+8613800138000",
        "8613800138000", "86-138-0013-8000", "+86-138-0013-8000", " 13800138000 "}) {
    EXPECT_EQ(normalize_mobile_number(text, "contact.phone"), "13800138000") << text;
  }
  for (const char* text : {"13012345678", "14712345678", "15912345678", "16612345678",
                           "17712345678", "18812345678", "19912345678"})
    EXPECT_EQ(normalize_mobile_number(text, "contact.phone"), text);
}

TEST(MobileNumber, RefusesAnythingElseNamingTheField) {
  for (const char* text : {"",
                           "+86",
                           "86",
                           "1380013800",
                           "138001380000",
                           "12800138000",
                           "11800138000",
                           "10800138000",
                           "23800138000",
                           "03800138000",
                           "861380013800",
                           "86138001380001",
                           "+85213800138000",
                           "+1 650 253 0000",
                           "++8613800138000",
                           "86+13800138000",
                           "138+0013-8000",
                           "138.0013.8000",
                           "(138)00138000",
                           "138 0013 800a",
                           "+8623800138000",
                           "0086 138 0013 8000",
                           "１３８００１３８０００",
                           "13800138000\n"}) {
    const Error error = error_of([&] { normalize_mobile_number(text, "contact.phone"); });
    EXPECT_EQ(error.code(), ErrorCode::invalid) << text;
    EXPECT_EQ(error.details().at("field"), "contact.phone") << text;
  }
}

TEST(PaymentCode, WeChatIsEighteenDigitsFromTenToFifteen) {
  for (const char* code : {"100000000000000000", "134567890123456789", "159999999999999999"})
    EXPECT_EQ(classify_payment_code(code), PaymentCodeKind::wechat) << code;
  for (const char* code : {"094567890123456789", "164567890123456789", "13456789012345678",
                           "1345678901234567890", "13456789012345678X"})
    EXPECT_EQ(classify_payment_code(code), PaymentCodeKind::unknown) << code;
}

TEST(PaymentCode, AlipayIsSixteenToTwentyFourDigitsFromTwentyFiveToThirty) {
  for (const char* code : {"2500000000000000", "2812345678901234", "288888888888888888",
                           "300000000000000000000000", "27123456789012345678"})
    EXPECT_EQ(classify_payment_code(code), PaymentCodeKind::alipay) << code;
  for (const char* code : {"281234567890123", "3000000000000000000000000", "2412345678901234",
                           "3112345678901234", "28 12345678901234", "-2812345678901234"})
    EXPECT_EQ(classify_payment_code(code), PaymentCodeKind::unknown) << code;
}

TEST(PaymentCode, AnEighteenDigitScaleLabelShapeWithFlagTwentySixReadsAsAlipay) {
  // "26" + PLU + amount + weight + check: the payment step alone decides what a code is.
  EXPECT_EQ(classify_payment_code("260000101234005008"), PaymentCodeKind::alipay);
  EXPECT_EQ(classify_payment_code("2110007035207"), PaymentCodeKind::unknown);
  EXPECT_EQ(classify_payment_code(""), PaymentCodeKind::unknown);
}

TEST(PickupCode, IsExactlySixAsciiDigits) {
  EXPECT_TRUE(is_pickup_code("012345"));
  EXPECT_TRUE(is_pickup_code("999999"));
  for (const char* code : {"", "12345", "1234567", "12345a", "12 345", " 12345", "１２３４５６"})
    EXPECT_FALSE(is_pickup_code(code)) << code;
}

TEST(OrderNumber, IsWTheBusinessDayAndTheDaysSequence) {
  const year_month_day day{year{2026}, December, std::chrono::day{2}};
  EXPECT_EQ(format_order_number(day, 7), "W20261202-0007");
  EXPECT_EQ(format_order_number(day, 1), "W20261202-0001");
  EXPECT_EQ(format_order_number(day, 9999), "W20261202-9999");
  EXPECT_EQ(format_order_number(day, 10000), "W20261202-10000");
  EXPECT_EQ(format_order_number(year_month_day{year{2027}, January, std::chrono::day{9}}, 42),
            "W20270109-0042");
  for (std::int64_t bad : {0, -1})
    EXPECT_EQ(error_of([&] { format_order_number(day, bad); }).code(), ErrorCode::internal);
}

TEST(OrderNumber, ShapeCheckAcceptsWhatFormatGivesAndNothingElse) {
  for (std::int64_t sequence : {1, 7, 9999, 10000, 123456})
    for (const auto day : {year_month_day{year{2026}, December, std::chrono::day{2}},
                           year_month_day{year{2028}, February, std::chrono::day{29}}})
      EXPECT_TRUE(is_order_number(format_order_number(day, sequence)));
  EXPECT_TRUE(is_order_number("W20261202-9223372036854775807"));
  for (const char* text : {"", "W", "20261202-0007", "w20261202-0007", "W2026120-0007",
                           "W20261302-0007", "W20270229-0001", "W20261232-0001", "W20261202-007",
                           "W20261202-0000", "W20261202-00010", "W20261202_0007", "W20261202-0007 ",
                           "W20261202-00a7", "W20261202-92233720368547758070", "20261202-1-0007"})
    EXPECT_FALSE(is_order_number(text)) << text;
}

TEST(TotalSeen, MatchesWhenLinesPlusFeeEqualWhatTheCustomerSaw) {
  const std::vector<Fen> lines{Fen(1050), Fen(1200)};
  const auto same = check_total_seen(lines, Fen(800), Fen(3050));
  EXPECT_FALSE(same.price_changed);
  EXPECT_EQ(same.subtotal, Fen(2250));
  EXPECT_EQ(same.total, Fen(3050));
}

TEST(TotalSeen, AnyDifferenceIsPriceChangedCarryingTheNewTotal) {
  const std::vector<Fen> lines{Fen(1050), Fen(1200)};
  for (std::int64_t seen : {3049, 3051, 2250, 0, -3050}) {
    const auto check = check_total_seen(lines, Fen(800), Fen(seen));
    EXPECT_TRUE(check.price_changed) << seen;
    EXPECT_EQ(check.total, Fen(3050));
  }
  const auto empty = check_total_seen({}, Fen(0), Fen(0));
  EXPECT_FALSE(empty.price_changed);
  EXPECT_EQ(empty.total, Fen(0));
}

TEST(TradeNumber, IsTheOrderNumberThenOneSuffixPerTradeWithinWechatsLimits) {
  EXPECT_EQ(trade_number("W20261202-0007", 1), "W20261202-0007");
  EXPECT_EQ(trade_number("W20261202-0007", 2), "W20261202-0007-2");
  const std::string longest = "W20261202-9223372036854775807";
  const auto last = trade_number(longest, kMaxTradesPerOrder);
  EXPECT_LE(last.size(), 32u) << "WeChat's out_trade_no holds 6 to 32 characters";
  for (int trade = 1; trade <= kMaxTradesPerOrder; ++trade) {
    const auto number = trade_number("W20261202-0007", trade);
    EXPECT_EQ(order_of_trade(number), "W20261202-0007") << number;
    EXPECT_EQ(number.find_first_not_of("W0123456789-"), std::string::npos) << number;
  }
  EXPECT_EQ(order_of_trade(last), longest);
  for (int bad : {0, kMaxTradesPerOrder + 1})
    EXPECT_EQ(error_of([&] { trade_number("W20261202-0007", bad); }).code(), ErrorCode::internal);
  for (const char* text : {"", "W20261202-0007-1", "W20261202-0007-0", "W20261202-0007-10",
                           "W20261202-0007-a", "W20261202-0007--2", "x-2", "W20261302-0007-2"})
    EXPECT_EQ(order_of_trade(text), std::nullopt) << text;
}

}  // namespace
}  // namespace yizhan::domain
