// Splitting an amount into parts by weights: the single allocation function of DESIGN.md.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "yizhan/domain/money.hpp"

namespace yizhan::domain {

/// Splits `total` into one part per weight, proportionally, by the largest-remainder method.
/// The parts always sum exactly to `total`. Each part is the floor of its exact share, and the
/// leftover fen go one each to the largest fractional remainders (ties: the earlier weight).
/// A negative total (a refund) is split as its magnitude and negated, so splitting −x gives
/// exactly the negated parts of x. Zero weights get zero unless every weight is zero, in which
/// case the total is split evenly. No weights or a negative one is a bug: domain::Error `internal`.
std::vector<Fen> allocate(Fen total, std::span<const std::int64_t> weights);

}  // namespace yizhan::domain
