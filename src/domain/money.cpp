// Fen arithmetic, parsing and formatting: the one place yuan text becomes fen and back.
#include "yizhan/domain/money.hpp"

#include <string>

#include "yizhan/domain/error.hpp"

namespace yizhan::domain {

// 128-bit intermediates so that amount × weight or price × grams cannot overflow.
__extension__ typedef __int128 Wide;

namespace {
[[noreturn]] void overflow() {
  throw Error(ErrorCode::invalid, "an amount is out of range", {{"reason", "overflow"}});
}
}  // namespace

Fen operator+(Fen a, Fen b) {
  std::int64_t sum = 0;
  if (__builtin_add_overflow(a.fen_, b.fen_, &sum)) overflow();
  return Fen(sum);
}

Fen operator-(Fen a, Fen b) {
  std::int64_t difference = 0;
  if (__builtin_sub_overflow(a.fen_, b.fen_, &difference)) overflow();
  return Fen(difference);
}

Fen operator*(Fen a, std::int64_t factor) {
  std::int64_t product = 0;
  if (__builtin_mul_overflow(a.fen_, factor, &product)) overflow();
  return Fen(product);
}

std::optional<Fen> Fen::parse(std::string_view yuan) {
  bool negative = false;
  if (!yuan.empty() && (yuan.front() == '-' || yuan.front() == '+')) {
    negative = yuan.front() == '-';
    yuan.remove_prefix(1);
  }
  const auto dot = yuan.find('.');
  const std::string_view whole = yuan.substr(0, dot);
  const std::string_view decimals =
      dot == std::string_view::npos ? std::string_view{} : yuan.substr(dot + 1);
  if (whole.empty() || decimals.size() > 2 || (dot != std::string_view::npos && decimals.empty())) {
    return std::nullopt;
  }
  std::int64_t fen = 0;
  auto append_digit = [&fen](char c) {
    if (c < '0' || c > '9') return false;
    return !__builtin_mul_overflow(fen, 10, &fen) && !__builtin_add_overflow(fen, c - '0', &fen);
  };
  for (char c : whole) {
    if (!append_digit(c)) return std::nullopt;
  }
  for (std::size_t i = 0; i < 2; ++i) {
    if (!append_digit(i < decimals.size() ? decimals[i] : '0')) return std::nullopt;
  }
  return Fen(negative ? -fen : fen);
}

Fen Fen::parse_field(std::string_view yuan, std::string_view field) {
  const auto fen = parse(yuan);
  if (!fen) {
    throw Error::invalid_field(std::string(field),
                               std::string(field) + " must be yuan with at most two decimals");
  }
  return *fen;
}

std::string Fen::format() const {
  // Work in unsigned magnitude so that INT64_MIN formats too.
  const bool negative = fen_ < 0;
  const std::uint64_t magnitude =
      negative ? std::uint64_t{0} - static_cast<std::uint64_t>(fen_) : std::uint64_t(fen_);
  std::string text = std::to_string(magnitude / 100);
  const auto cents = magnitude % 100;
  text += '.';
  text += static_cast<char>('0' + cents / 10);
  text += static_cast<char>('0' + cents % 10);
  return negative ? "-" + text : text;
}

Fen weighed_line_total(Fen price_per_kg, std::int64_t grams) {
  const Wide exact_thousandths = static_cast<Wide>(price_per_kg.value()) * grams;
  const bool negative = exact_thousandths < 0;
  const Wide magnitude = negative ? -exact_thousandths : exact_thousandths;
  const Wide rounded = (magnitude + 500) / 1000;
  if (rounded > INT64_MAX) {
    throw Error::invalid_field("quantity", "quantity × price is out of range");
  }
  const auto fen = static_cast<std::int64_t>(rounded);
  return Fen(negative ? -fen : fen);
}

}  // namespace yizhan::domain
