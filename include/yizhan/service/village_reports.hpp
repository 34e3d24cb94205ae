// The village portal's figures (issue 10): what a village's goods sold today and this month, its
// sales per day or per product, what the station owes it now, and its goods on the shelf with
// the lots near expiry. Read only; a village account reads its own village, an admin any.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/domain/access.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/quantity.hpp"
#include "yizhan/domain/revenue.hpp"
#include "yizhan/domain/time.hpp"

namespace yizhan::store {
class Database;
}

namespace yizhan::service {

/// What the village reports need from configuration.
struct VillageReportSettings {
  domain::TimeZone zone = domain::TimeZone::shanghai();  ///< the business day's zone
  /// The current time; unset = the system clock (tests set it to move "today").
  std::function<std::chrono::system_clock::time_point()> clock;
};

/// Today and this month at a glance.
struct VillageSummary {
  std::int64_t village_id = 0;
  std::string village_name;
  std::string village_name_en;
  std::string today;       ///< the business day, "YYYY-MM-DD"
  std::string month_from;  ///< the first day of its month
  domain::RevenueTotals today_totals;
  domain::RevenueTotals month_totals;  ///< from month_from to today
  domain::Fen balance;                 ///< what the station owes the village now (its payable)
};

/// A revenue query as the client sent it; unset = the default (this month so far, by day).
struct RevenueQuery {
  std::optional<std::string> from;   ///< "YYYY-MM-DD", a business day
  std::optional<std::string> to;     ///< inclusive; at most 366 days after from
  std::optional<std::string> group;  ///< "day" or "product"
};

/// One day's or one product's net figures.
struct RevenueItem {
  std::string day;              ///< group "day": every day of the period, in order, zeros included
  std::int64_t product_id = 0;  ///< group "product": the products sold, by gross descending
  std::string name;
  std::string name_en;
  domain::Unit unit = domain::Unit::piece;
  domain::RevenueFigures figures;
};

struct RevenueReport {
  std::int64_t village_id = 0;
  std::string from;
  std::string to;
  std::string group;
  domain::RevenueTotals totals;
  std::vector<RevenueItem> items;
};

/// A product of the village on the station's shelf.
struct VillageStockItem {
  std::int64_t product_id = 0;
  std::string name;
  std::string name_en;
  domain::Unit unit = domain::Unit::piece;
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;   ///< held for online orders
  std::int64_t available = 0;  ///< on_hand − reserved
  std::optional<std::int64_t> low_stock;
  bool low = false;  ///< available at or below low_stock: time to bring more
  std::optional<std::string> next_expiry;
};

/// A lot near (or past) its expiry with goods left.
struct ExpiringLot {
  std::int64_t lot_id = 0;
  std::int64_t product_id = 0;
  std::string product_name;
  std::string product_name_en;
  domain::Unit unit = domain::Unit::piece;
  std::string lot;
  std::string expires_on;
  std::int64_t remaining = 0;
  std::int64_t days_left = 0;  ///< negative: expired that many days ago
};

struct VillageStock {
  std::int64_t village_id = 0;
  std::string today;
  std::int64_t expiring_days = 0;
  std::vector<VillageStockItem> items;  ///< active products, and inactive ones still on hand
  std::vector<ExpiringLot> expiring;    ///< expiring within expiring_days of today, FEFO
};

class VillageReportService {
 public:
  explicit VillageReportService(store::Database& database, VillageReportSettings settings = {});

  /// Today and this month. 403 when the caller may not read the village, 404 when none.
  VillageSummary summary(const domain::Principal& caller, std::int64_t village_id);
  /// Net sales per day or per product; 422 naming `from`, `to` or `group` when bad.
  RevenueReport revenue(const domain::Principal& caller, std::int64_t village_id,
                        const RevenueQuery& query);
  /// What the station owes the village now: the balance of its payable account.
  domain::Fen balance(const domain::Principal& caller, std::int64_t village_id);
  /// Its goods on the shelf and the lots expiring within `expiring_days` (0–365, default 30).
  VillageStock stock(const domain::Principal& caller, std::int64_t village_id,
                     std::optional<std::int64_t> expiring_days);

  /// The longest period a revenue query may cover, in days.
  static constexpr int kMaxDays = 366;

 private:
  [[nodiscard]] std::chrono::year_month_day today() const;

  store::Database& database_;
  VillageReportSettings settings_;
};

}  // namespace yizhan::service
