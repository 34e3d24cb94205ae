// Largest-remainder allocation: parts always sum to the whole (commission, bundles, refunds).
#include "yizhan/domain/allocation.hpp"

#include <algorithm>
#include <numeric>

#include "yizhan/domain/error.hpp"

namespace yizhan::domain {

// 128-bit intermediates so that amount × weight or price × grams cannot overflow.
__extension__ typedef __int128 Wide;

std::vector<Fen> allocate(Fen total, std::span<const std::int64_t> weights) {
  // Weights come from our own list prices, never from a client: bad ones are a bug (500).
  if (weights.empty())
    throw Error(ErrorCode::internal, "internal error", {}, "allocate: no weights");
  if (std::any_of(weights.begin(), weights.end(), [](std::int64_t w) { return w < 0; })) {
    throw Error(ErrorCode::internal, "internal error", {}, "allocate: negative weight");
  }
  const bool all_zero =
      std::all_of(weights.begin(), weights.end(), [](std::int64_t w) { return w == 0; });

  // Exact shares as quotient and remainder over the weight sum, in 128-bit so that
  // amount × weight cannot overflow.
  Wide weight_sum = 0;
  for (std::int64_t w : weights)
    weight_sum += all_zero ? 1 : w;
  const bool negative = total.value() < 0;
  const Wide magnitude = negative ? -static_cast<Wide>(total.value()) : total.value();

  const std::size_t n = weights.size();
  std::vector<Wide> floors(n);
  std::vector<Wide> remainders(n);
  Wide assigned = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Wide product = magnitude * (all_zero ? 1 : weights[i]);
    floors[i] = product / weight_sum;
    remainders[i] = product % weight_sum;
    assigned += floors[i];
  }

  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return remainders[a] > remainders[b]; });
  // The leftover is less than n, since each floor loses less than one fen.
  for (Wide leftover = magnitude - assigned, k = 0; leftover > 0; --leftover, ++k) {
    floors[order[static_cast<std::size_t>(k)]] += 1;
  }

  std::vector<Fen> parts;
  parts.reserve(n);
  for (Wide part : floors) {
    const auto fen = static_cast<std::int64_t>(part);
    parts.emplace_back(negative ? -fen : fen);
  }
  return parts;
}

}  // namespace yizhan::domain
