// The station's commission on a sale line: the one function that splits gross into fee + share.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "yizhan/domain/money.hpp"

namespace yizhan::domain {

/// A gross amount split between the station (fee) and the village (share).
struct CommissionSplit {
  Fen fee;    ///< the station's commission
  Fen share;  ///< what the village is owed
  friend bool operator==(const CommissionSplit&, const CommissionSplit&) = default;
};

/// The commission rate in force for a product: its own override, else its village's default.
int effective_commission_bps(std::optional<int> product_bps, int village_bps);

/// Splits `gross` at `basis_points` (0–10 000; 1 bp = 0.01 %):
///   fee = gross × bps / 10 000, rounded half-up (away from zero at exactly half a fen),
///   share = gross − fee.
/// So fee + share == gross always, and a refund's split (negative gross) is exactly the negated
/// split of the sale. Exact for every int64 gross (128-bit intermediate). A rate outside 0–10 000
/// is domain::Error 422 naming "commission_bps".
CommissionSplit commission(Fen gross, int basis_points);

// --- effective-dated terms (issue 10) -------------------------------------------------------

/// One commission term: a rate that applies from a business day (Asia/Shanghai) on, until a
/// later term of the same scope. The scope is the village's default (no product) or one
/// product's override. A product term without a rate ends the override: from its day the
/// village's default applies again. Of two terms of one scope on the same day, the later
/// (higher id) wins.
struct CommissionTerm {
  std::int64_t id = 0;
  std::optional<std::int64_t> product_id;  ///< nothing = the village's default rate
  std::optional<int> bps;                  ///< nothing = the product's override ends
  std::chrono::year_month_day effective_from{};
};

/// Where a term stands on a given day.
enum class TermStatus {
  past,       ///< replaced by a later term of its scope that is already in force
  current,    ///< the term of its scope in force that day
  scheduled,  ///< takes effect after that day
};

/// The index in `terms` of the term of `product_id`'s scope (nothing = the village default) in
/// force on `day`: the latest effective_from on or before `day`, the higher id on a tie.
std::optional<std::size_t> term_in_force(const std::vector<CommissionTerm>& terms,
                                         std::optional<std::int64_t> product_id,
                                         std::chrono::year_month_day day);

/// Each term's status on `day`, in the order of `terms`.
std::vector<TermStatus> term_statuses(const std::vector<CommissionTerm>& terms,
                                      std::chrono::year_month_day day);

/// "past", "current" or "scheduled".
const char* to_string(TermStatus status);

/// A new term may start today or later, never before: sold lines keep the rate they were sold
/// at, so a past date would describe sales that never had it. 422 naming "effective_from".
void check_effective_from(std::chrono::year_month_day effective_from,
                          std::chrono::year_month_day today);

/// A new term's rate: 0–10 000 bp; a village's default needs one (only a product override can
/// end). 422 naming "bps".
void check_term_rate(std::optional<std::int64_t> bps, bool for_product);

/// What the terms in force on a day say about one product, as the sale's lookup reads them.
struct RatesInForce {
  /// The product's term in force: nothing = none; a term whose rate is nothing ends the override.
  std::optional<std::optional<int>> product_term;
  std::optional<int> village_term;    ///< the village's default term in force, if any
  std::optional<int> product_column;  ///< products.commission_bps (before dated terms)
  int village_column = 0;             ///< villages.commission_bps (before dated terms)
};

/// The rate a line sold that day takes: the product's override, else the village's default,
/// where a dated term (if there is one) always beats the rate stored before terms were dated.
int rate_in_force(const RatesInForce& rates);

/// The product's own override in force (nothing = the village's default applies).
std::optional<int> product_override_in_force(const RatesInForce& rates);

}  // namespace yizhan::domain
