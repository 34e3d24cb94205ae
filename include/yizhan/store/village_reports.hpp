// SQL for what a village sees of its own business: its frozen sale, refund and order lines summed
// per business day and product, its goods on the shelf and its lots near expiry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/domain/revenue.hpp"

namespace yizhan::store {

class UnitOfWork;

/// One village's lines of one business day, product, channel and kind, summed.
struct RevenueRow {
  std::string day;  ///< "YYYY-MM-DD": the sale's or refund's day; an order's payment day
  std::int64_t product_id = 0;
  domain::RevenueLines lines;
};

/// The village's counter sales, counter refunds and paid online orders with business days in
/// [from, to] ("YYYY-MM-DD"), summed per day, product, channel and kind.
std::vector<RevenueRow> village_revenue(UnitOfWork& unit, std::int64_t village_id,
                                        const std::string& from, const std::string& to);

/// How many counter sales and paid orders of a day and channel had the village's goods.
struct SalesCountRow {
  std::string day;
  domain::Channel channel = domain::Channel::counter;
  std::int64_t count = 0;
};

std::vector<SalesCountRow> village_sales_counts(UnitOfWork& unit, std::int64_t village_id,
                                                const std::string& from, const std::string& to);

/// A product of the village: names as now in the catalog.
struct VillageProductRow {
  std::int64_t id = 0;
  std::string name;
  std::string name_en;
  domain::Unit unit = domain::Unit::piece;
  bool active = true;
  std::optional<std::int64_t> low_stock;
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;
  std::optional<std::string> next_expiry;  ///< the earliest expiry of a lot with goods left
};

/// Every product of the village (inactive ones too: their past sales still need a name), by id.
std::vector<VillageProductRow> village_products(UnitOfWork& unit, std::int64_t village_id);

/// A lot of the village's goods with something left.
struct VillageLotRow {
  std::int64_t lot_id = 0;
  std::int64_t product_id = 0;
  std::string lot;
  std::string expires_on;  ///< "YYYY-MM-DD"
  std::int64_t remaining = 0;
};

/// The village's lots with goods left that expire on or before `until` ("YYYY-MM-DD"; expired
/// lots included), first expiry first.
std::vector<VillageLotRow> village_lots_expiring(UnitOfWork& unit, std::int64_t village_id,
                                                 const std::string& until);

}  // namespace yizhan::store
