// `yizhan seed-history` (issue 10): a year (or any number of days) of realistic demo history —
// counter sales, online orders and refunds across every active product and village, with the
// festival weeks before Spring Festival and Mid-Autumn at thousands of sales a day — written in
// bulk so that every invariant `yizhan check` verifies holds afterwards: stock levels = ledger =
// lots, every journal entry balanced, village payables = shares − refunded shares.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "yizhan/domain/time.hpp"

namespace yizhan::store {
class Database;
}

namespace yizhan::service {

struct HistoryOptions {
  int days = 365;                 ///< business days of history, ending the day before `today`
  double scale = 1.0;             ///< volume factor: 1 = a busy station, 0.01 for tests
  std::uint64_t seed = 20261206;  ///< the same seed, database and days give the same history
  /// The day history ends before (exclusive); unset = today's business day.
  std::optional<std::chrono::year_month_day> today;
  domain::TimeZone zone = domain::TimeZone::shanghai();
};

/// What seed-history wrote.
struct HistoryReport {
  std::string from;  ///< the first business day of history
  std::string to;    ///< the last
  std::int64_t sales = 0;
  std::int64_t sale_lines = 0;
  std::int64_t refunds = 0;
  std::int64_t orders = 0;
  std::int64_t order_refunds = 0;
  std::int64_t receipts = 0;  ///< village deliveries that kept the shelves stocked
  std::int64_t busiest_day_sales = 0;
  std::string busiest_day;
};

/// Writes the history, one transaction per business day (a day is all there or not at all).
/// Refuses (409 conflict) when any sale, refund or order already has a business day in the
/// period, so it never runs twice over the same days; 422 for days outside 1–800 or scale
/// outside (0, 10]; 409 when there are no products, registers or cashier to sell with.
/// Run it on a quiet station (ids are chosen up front).
HistoryReport seed_history(store::Database& database, const HistoryOptions& options);

}  // namespace yizhan::service
