// The station's commission on a sale line: the one function that splits gross into fee + share.
#pragma once

#include <optional>

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

}  // namespace yizhan::domain
