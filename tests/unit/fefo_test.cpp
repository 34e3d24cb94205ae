// First-expiry-first-out lot picking: order, lots without expiry, expired lots, errors.
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <vector>

#include "yizhan/domain/error.hpp"
#include "yizhan/domain/stock.hpp"

namespace yizhan::domain {
namespace {

using std::chrono::day;
using std::chrono::month;
using std::chrono::year;
using std::chrono::year_month_day;

constexpr year_month_day kToday{year{2026}, month{5}, day{14}};

year_month_day days_from_today(int days) {
  return year_month_day{std::chrono::sys_days{kToday} + std::chrono::days{days}};
}

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

TEST(Fefo, TakesTheEarliestExpiryFirstWhateverTheInputOrder) {
  const std::vector<LotStock> lots{{1, days_from_today(30), 10, "L1"},
                                   {2, days_from_today(3), 4, "L2"},
                                   {3, days_from_today(10), 5, "L3"}};
  EXPECT_EQ(pick_lots_fefo(lots, 3, kToday), (std::vector<LotTake>{{2, 3}}));
  EXPECT_EQ(pick_lots_fefo(lots, 4, kToday), (std::vector<LotTake>{{2, 4}}));
  EXPECT_EQ(pick_lots_fefo(lots, 7, kToday), (std::vector<LotTake>{{2, 4}, {3, 3}}));
  EXPECT_EQ(pick_lots_fefo(lots, 19, kToday), (std::vector<LotTake>{{2, 4}, {3, 5}, {1, 10}}));
}

TEST(Fefo, LotsWithoutExpiryAreTakenLast) {
  const std::vector<LotStock> lots{{1, std::nullopt, 10, "L1"}, {2, days_from_today(365), 2, "L2"}};
  EXPECT_EQ(pick_lots_fefo(lots, 5, kToday), (std::vector<LotTake>{{2, 2}, {1, 3}}));
}

TEST(Fefo, TiesAreBrokenByLotId) {
  const std::vector<LotStock> lots{{9, days_from_today(5), 2, "L9"},
                                   {4, days_from_today(5), 2, "L4"},
                                   {7, std::nullopt, 2, "L7"},
                                   {5, std::nullopt, 2, "L5"}};
  EXPECT_EQ(pick_lots_fefo(lots, 8, kToday),
            (std::vector<LotTake>{{4, 2}, {9, 2}, {5, 2}, {7, 2}}));
}

TEST(Fefo, ExpiredLotsAreSkipped) {
  const std::vector<LotStock> lots{{1, days_from_today(-1), 100, "L1"},
                                   {2, days_from_today(2), 5, "L2"}};
  EXPECT_EQ(pick_lots_fefo(lots, 5, kToday), (std::vector<LotTake>{{2, 5}}));
}

TEST(Fefo, ALotExpiringTodayStillSellsToday) {
  const std::vector<LotStock> lots{{1, days_from_today(1), 5, "L1"}, {2, kToday, 3, "L2"}};
  EXPECT_EQ(pick_lots_fefo(lots, 4, kToday), (std::vector<LotTake>{{2, 3}, {1, 1}}));
  // The next day the same lot is expired.
  EXPECT_EQ(pick_lots_fefo(lots, 4, days_from_today(1)), (std::vector<LotTake>{{1, 4}}));
}

TEST(Fefo, EmptyLotsAreNeverTaken) {
  const std::vector<LotStock> lots{{1, days_from_today(1), 0, "L1"},
                                   {2, days_from_today(2), 3, "L2"}};
  EXPECT_EQ(pick_lots_fefo(lots, 3, kToday), (std::vector<LotTake>{{2, 3}}));
}

TEST(Fefo, WhenOnlyExpiredLotsCouldCoverItTheErrorIsExpired) {
  const std::vector<LotStock> lots{{1, days_from_today(-3), 10, "L1"},
                                   {2, days_from_today(3), 2, "L2"}};
  const auto e = error_of([&] { pick_lots_fefo(lots, 5, kToday); });
  EXPECT_EQ(e.code(), ErrorCode::expired);
  EXPECT_EQ(e.details().at("available"), "2");
}

TEST(Fefo, WhenAllLotsTogetherCannotCoverItTheErrorIsOutOfStock) {
  const std::vector<LotStock> lots{{1, days_from_today(-3), 1, "L1"},
                                   {2, days_from_today(3), 2, "L2"}};
  const auto e = error_of([&] { pick_lots_fefo(lots, 5, kToday); });
  EXPECT_EQ(e.code(), ErrorCode::out_of_stock);
  EXPECT_EQ(e.details().at("available"), "2");
  const auto none = error_of([] { pick_lots_fefo({}, 1, kToday); });
  EXPECT_EQ(none.code(), ErrorCode::out_of_stock);
  EXPECT_EQ(none.details().at("available"), "0");
}

TEST(Fefo, ANonPositiveQuantityIs422) {
  const std::vector<LotStock> lots{{1, std::nullopt, 10, "L1"}};
  EXPECT_EQ(error_of([&] { pick_lots_fefo(lots, 0, kToday); }).code(), ErrorCode::invalid);
  EXPECT_EQ(error_of([&] { pick_lots_fefo(lots, -1, kToday); }).code(), ErrorCode::invalid);
}

TEST(Fefo, RandomPicksTakeExactlyTheQuantityInExpiryOrderFromUnexpiredLots) {
  std::mt19937_64 random(20260514);
  for (int round = 0; round < 2000; ++round) {
    std::vector<LotStock> lots;
    const int count = static_cast<int>(random() % 6);
    std::int64_t sellable = 0;
    for (int i = 0; i < count; ++i) {
      // Unique ids in random order.
      LotStock lot{static_cast<std::int64_t>(random() % 100) * 10 + i, std::nullopt,
                   static_cast<std::int64_t>(random() % 8), "random"};
      if (random() % 4 != 0) lot.expires_on = days_from_today(static_cast<int>(random() % 7) - 3);
      if (!lot.expires_on || *lot.expires_on >= kToday) sellable += lot.remaining;
      lots.push_back(lot);
    }
    const std::int64_t quantity = static_cast<std::int64_t>(random() % 20) + 1;
    if (quantity > sellable) {
      EXPECT_THROW(pick_lots_fefo(lots, quantity, kToday), Error);
      continue;
    }
    const auto takes = pick_lots_fefo(lots, quantity, kToday);
    std::int64_t taken = 0;
    std::optional<year_month_day> previous_expiry;
    bool seen_no_expiry = false;
    for (const auto& take : takes) {
      EXPECT_GT(take.quantity, 0);
      taken += take.quantity;
      // The lot taken from is unexpired and had at least that much.
      bool found = false;
      for (const auto& lot : lots) {
        if (lot.lot_id != take.lot_id || lot.remaining < take.quantity) continue;
        if (lot.expires_on && *lot.expires_on < kToday) continue;
        found = true;
        if (lot.expires_on) {
          EXPECT_FALSE(seen_no_expiry);
          if (previous_expiry) {
            EXPECT_LE(*previous_expiry, *lot.expires_on);
          }
          previous_expiry = lot.expires_on;
        } else {
          seen_no_expiry = true;
        }
        break;
      }
      EXPECT_TRUE(found) << "lot " << take.lot_id;
    }
    EXPECT_EQ(taken, quantity);
  }
}

TEST(Available, IsOnHandMinusReservedNeverBelowZero) {
  EXPECT_EQ(available(10, 3), 7);
  EXPECT_EQ(available(3, 3), 0);
  EXPECT_EQ(available(3, 5), 0);
  EXPECT_EQ(available(0, 0), 0);
  EXPECT_EQ(available(-2, 0), 0);
  EXPECT_EQ(available(INT64_MAX, INT64_MIN), INT64_MAX);
}

}  // namespace
}  // namespace yizhan::domain
