// Stock rules: first-expiry-first-out picking over lots, and what a level allows.
#include "yizhan/domain/stock.hpp"

#include <algorithm>
#include <string>

#include "yizhan/domain/error.hpp"

namespace yizhan::domain {
namespace {

// 128-bit sums: remaining quantities come from the database and are never trusted to fit.
__extension__ typedef __int128 Wide;

std::string decimal(Wide value) {
  // Sums of int64 remainings over a realistic number of lots fit int64; clamp rather than wrap.
  if (value > INT64_MAX) value = INT64_MAX;
  return std::to_string(static_cast<std::int64_t>(value));
}

}  // namespace

std::vector<LotTake> pick_lots_fefo(std::span<const LotStock> lots, std::int64_t quantity,
                                    std::chrono::year_month_day today) {
  if (quantity <= 0)
    throw Error::invalid_field("quantity", "数量须大于零 / quantity must be at least 1");

  std::vector<const LotStock*> sellable;
  Wide available_total = 0;
  Wide all_total = 0;
  for (const auto& lot : lots) {
    if (lot.remaining <= 0) continue;
    all_total += lot.remaining;
    // A lot expiring today still sells today; from tomorrow it is expired.
    if (lot.expires_on && *lot.expires_on < today) continue;
    available_total += lot.remaining;
    sellable.push_back(&lot);
  }
  if (available_total < quantity) {
    std::map<std::string, std::string> details{{"available", decimal(available_total)},
                                               {"requested", std::to_string(quantity)}};
    if (all_total >= quantity) {
      throw Error(ErrorCode::expired,
                  "只剩过期批次，请先报损 / only expired lots are left: write them off first",
                  std::move(details));
    }
    throw Error(ErrorCode::out_of_stock, "库存不足 / not enough in stock", std::move(details));
  }

  std::sort(sellable.begin(), sellable.end(), [](const LotStock* a, const LotStock* b) {
    // Lots with an expiry date first (earliest first), lots that never expire last.
    if (a->expires_on.has_value() != b->expires_on.has_value()) return a->expires_on.has_value();
    if (a->expires_on && *a->expires_on != *b->expires_on) return *a->expires_on < *b->expires_on;
    return a->lot_id < b->lot_id;
  });

  std::vector<LotTake> takes;
  std::int64_t left = quantity;
  for (const LotStock* lot : sellable) {
    if (left == 0) break;
    const std::int64_t take = std::min(left, lot->remaining);
    takes.push_back({lot->lot_id, take});
    left -= take;
  }
  return takes;
}

std::int64_t available(std::int64_t on_hand, std::int64_t reserved) {
  const Wide difference = Wide{on_hand} - reserved;
  if (difference <= 0) return 0;
  return difference > INT64_MAX ? INT64_MAX : static_cast<std::int64_t>(difference);
}

void check_restock(std::int64_t sold_for, std::int64_t belongs_to, const std::string& village,
                   const std::string& field) {
  if (sold_for == belongs_to) return;
  throw Error(ErrorCode::conflict,
              "该商品已改由别的村供货，退回的货不能再上架：请选不上架，并把货还给" + village +
                  " / the product has moved to another village since: refund it without "
                  "restock and give the goods back to " +
                  village,
              {{"field", field}, {"village", village}});
}

}  // namespace yizhan::domain
