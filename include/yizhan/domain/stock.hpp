// Stock rules: which lots a sale takes (FEFO), what a level allows, count differences.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace yizhan::domain {

/// A lot as the picker sees it.
struct LotStock {
  std::int64_t lot_id = 0;
  std::optional<std::chrono::year_month_day> expires_on;  ///< nothing: does not expire
  std::int64_t remaining = 0;
  std::string lot;  ///< its label as received (e.g. the village's batch number)
};

/// A quantity taken from one lot.
struct LotTake {
  std::int64_t lot_id = 0;
  std::int64_t quantity = 0;
  friend bool operator==(const LotTake&, const LotTake&) = default;
};

/// Takes `quantity` (> 0) from `lots` first-expiry-first-out: earliest expires_on first, lots
/// without expiry last, ties by lot id. A lot whose expires_on is before `today` is expired and
/// never taken (a lot expiring today still sells today). Throws domain::Error:
///   expired (409) when the unexpired lots cannot cover it but all lots together could,
///   out_of_stock (409) when all lots together cannot;
/// details carry "available" (unexpired quantity) and "requested". A quantity ≤ 0 is 422
/// naming "quantity"; lots with remaining ≤ 0 are ignored.
std::vector<LotTake> pick_lots_fefo(std::span<const LotStock> lots, std::int64_t quantity,
                                    std::chrono::year_month_day today);

/// What can be sold or reserved of a product: on_hand − reserved, never below zero.
std::int64_t available(std::int64_t on_hand, std::int64_t reserved);

/// Goods a customer brings back go back on the shelf only while their product still belongs
/// to the village that delivered them (`sold_for`, frozen on the sale's line): consigned goods
/// are that village's, and on the shelf under the product's new village (`belongs_to`) they
/// would be paid to the wrong village when sold again. Otherwise 409 conflict naming `field`,
/// saying to refund without restock and give the goods back to `village` (sold_for's name).
void check_restock(std::int64_t sold_for, std::int64_t belongs_to, const std::string& village,
                   const std::string& field);

}  // namespace yizhan::domain
