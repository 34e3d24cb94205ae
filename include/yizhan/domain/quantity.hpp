// Quantities carry their unit: pieces, or grams for goods sold by weight (DESIGN.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "yizhan/domain/money.hpp"

namespace yizhan::domain {

/// How a product is sold: per piece, or by weight (price per kilogram, quantities in grams).
enum class Unit { piece, gram };

std::string_view to_string(Unit unit);  ///< "piece" or "g" (API.md)
std::optional<Unit> parse_unit(std::string_view text);

/// An amount of a product in its base unit. Two quantities of different units never mix:
/// adding or comparing them is domain::Error `internal` (a bug, not a client's mistake).
class Quantity {
 public:
  static constexpr Quantity pieces(std::int64_t count) { return Quantity(Unit::piece, count); }
  static constexpr Quantity grams(std::int64_t weight) { return Quantity(Unit::gram, weight); }
  /// A quantity a client sent for a product sold in `unit`: a positive integer at most
  /// kMaxPieces or kMaxGrams; otherwise domain::Error 422 naming `field`.
  static Quantity from_client(Unit unit, std::int64_t amount, std::string_view field);

  [[nodiscard]] constexpr Unit unit() const { return unit_; }
  [[nodiscard]] constexpr std::int64_t amount() const { return amount_; }

  friend Quantity operator+(Quantity a, Quantity b);
  friend Quantity operator-(Quantity a, Quantity b);
  Quantity operator-() const { return Quantity(unit_, 0) - *this; }
  friend bool operator==(Quantity a, Quantity b) = default;
  /// Orders quantities of the same unit; different units throw.
  friend bool operator<(Quantity a, Quantity b);

 private:
  constexpr Quantity(Unit unit, std::int64_t amount) : unit_(unit), amount_(amount) {}
  Unit unit_;
  std::int64_t amount_;
};

/// The most a client may ask for in one line: 10 000 pieces, or 1 000 kg.
inline constexpr std::int64_t kMaxPieces = 10'000;
inline constexpr std::int64_t kMaxGrams = 1'000'000;

/// The gross of a line before discounts: price per piece × pieces, or price per kilogram ×
/// grams / 1000 rounded half-up to the fen once (weighed_line_total). Negative quantities
/// (refunds) give exactly the negated total. Overflow is domain::Error 422 naming "quantity".
Fen line_total(Fen unit_price, Quantity quantity);

}  // namespace yizhan::domain
