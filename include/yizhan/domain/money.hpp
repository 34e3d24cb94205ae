// Money as integer fen (1/100 yuan) and weighed-goods pricing; never floating point.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace yizhan::domain {

/// An amount of money in fen. Arithmetic never wraps: an overflow throws domain::Error
/// (`invalid`, 422), since the amounts that can overflow come from clients (quantities, prices).
class Fen {
 public:
  constexpr Fen() = default;
  constexpr explicit Fen(std::int64_t fen) : fen_(fen) {}

  /// The amount in fen.
  [[nodiscard]] constexpr std::int64_t value() const { return fen_; }

  friend Fen operator+(Fen a, Fen b);
  friend Fen operator-(Fen a, Fen b);
  friend Fen operator*(Fen a, std::int64_t factor);
  friend Fen operator*(std::int64_t factor, Fen a) { return a * factor; }
  Fen operator-() const { return Fen(0) - *this; }
  Fen& operator+=(Fen other) { return *this = *this + other; }
  Fen& operator-=(Fen other) { return *this = *this - other; }
  friend constexpr auto operator<=>(Fen, Fen) = default;

  /// Parses yuan written as "12", "12.3", "12.30", "-0.05" (at most two decimals, no exponent,
  /// no thousands separators). Returns nothing for anything else or on overflow.
  static std::optional<Fen> parse(std::string_view yuan);

  /// Like parse, but a client's bad text is domain::Error 422 naming `field`.
  static Fen parse_field(std::string_view yuan, std::string_view field);

  /// Formats as yuan with exactly two decimals: "12.30", "-0.05".
  [[nodiscard]] std::string format() const;

 private:
  std::int64_t fen_ = 0;
};

/// Price of a weighed line: price per kilogram × grams / 1000, rounded half-up to the fen, once.
/// Negative grams (a refund) round symmetrically, so a refund of a line equals minus its sale.
/// A total beyond int64 fen is domain::Error 422 naming "quantity".
Fen weighed_line_total(Fen price_per_kg, std::int64_t grams);

}  // namespace yizhan::domain
