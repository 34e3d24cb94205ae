// Quantities with their unit, and the price of a line of them.
#include "yizhan/domain/quantity.hpp"

#include <string>

#include "yizhan/domain/error.hpp"

namespace yizhan::domain {
namespace {

void require_same_unit(Quantity a, Quantity b) {
  if (a.unit() != b.unit()) {
    throw Error(ErrorCode::internal, "internal error", {},
                "quantities of different units mixed: " + std::string(to_string(a.unit())) +
                    " and " + std::string(to_string(b.unit())));
  }
}

}  // namespace

std::string_view to_string(Unit unit) {
  return unit == Unit::gram ? "g" : "piece";
}

std::optional<Unit> parse_unit(std::string_view text) {
  if (text == "piece") return Unit::piece;
  if (text == "g") return Unit::gram;
  return std::nullopt;
}

Quantity Quantity::from_client(Unit unit, std::int64_t amount, std::string_view field) {
  const auto limit = unit == Unit::gram ? kMaxGrams : kMaxPieces;
  if (amount < 1 || amount > limit) {
    throw Error::invalid_field(std::string(field), std::string(field) + " must be 1 to " +
                                                       std::to_string(limit) +
                                                       (unit == Unit::gram ? " grams" : " pieces"));
  }
  return Quantity(unit, amount);
}

Quantity operator+(Quantity a, Quantity b) {
  require_same_unit(a, b);
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a.amount_, b.amount_, &sum)) {
    throw Error(ErrorCode::invalid, "a quantity is out of range", {{"field", "quantity"}});
  }
  return Quantity(a.unit_, sum);
}

Quantity operator-(Quantity a, Quantity b) {
  require_same_unit(a, b);
  std::int64_t difference = 0;
  if (__builtin_sub_overflow(a.amount_, b.amount_, &difference)) {
    throw Error(ErrorCode::invalid, "a quantity is out of range", {{"field", "quantity"}});
  }
  return Quantity(a.unit_, difference);
}

bool operator<(Quantity a, Quantity b) {
  require_same_unit(a, b);
  return a.amount_ < b.amount_;
}

Fen line_total(Fen unit_price, Quantity quantity) {
  if (quantity.unit() == Unit::gram) return weighed_line_total(unit_price, quantity.amount());
  std::int64_t total = 0;
  if (__builtin_mul_overflow(unit_price.value(), quantity.amount(), &total)) {
    throw Error::invalid_field("quantity", "quantity × price is out of range");
  }
  return Fen(total);
}

}  // namespace yizhan::domain
