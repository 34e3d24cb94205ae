// Commission: fee rounded half-up from basis points, the share is the rest.
#include "yizhan/domain/commission.hpp"

#include "yizhan/domain/error.hpp"

namespace yizhan::domain {

// 128-bit intermediate: |gross| × 10 000 exceeds int64 for large amounts.
__extension__ typedef __int128 Wide;

int effective_commission_bps(std::optional<int> product_bps, int village_bps) {
  return product_bps.value_or(village_bps);
}

CommissionSplit commission(Fen gross, int basis_points) {
  if (basis_points < 0 || basis_points > 10'000) {
    throw Error::invalid_field("commission_bps", "commission_bps must be 0 to 10000");
  }
  const bool negative = gross.value() < 0;
  const Wide magnitude = negative ? -static_cast<Wide>(gross.value()) : gross.value();
  // Half-up on the magnitude, then the sign: a refund mirrors its sale to the fen.
  const Wide fee_magnitude = (magnitude * basis_points + 5'000) / 10'000;
  // fee_magnitude <= magnitude <= 2^63, and the result has gross's sign, so it fits in int64.
  const Wide fee = negative ? -fee_magnitude : fee_magnitude;
  const Wide share = static_cast<Wide>(gross.value()) - fee;
  return {Fen(static_cast<std::int64_t>(fee)), Fen(static_cast<std::int64_t>(share))};
}

}  // namespace yizhan::domain
