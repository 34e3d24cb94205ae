// Scale labels (条码秤): layouts as configuration, the EAN check digit, and the label's amount
// checked against list price × weight.
#include "yizhan/domain/scale_label.hpp"

#include <string>

#include "yizhan/domain/error.hpp"

namespace yizhan::domain {
namespace {

// 128-bit intermediates so that amount × 1000 or price × count cannot overflow.
__extension__ typedef __int128 Wide;

constexpr std::size_t kFlagDigits = 2;
constexpr std::size_t kPluDigits = 5;
constexpr std::size_t kFieldDigits = 5;

bool all_digits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

std::int64_t digits_value(std::string_view digits) {
  std::int64_t value = 0;
  for (char c : digits)
    value = value * 10 + (c - '0');
  return value;
}

std::size_t label_length(const ScaleLabelFormat& format) {
  return kFlagDigits + kPluDigits + kFieldDigits * format.fields.size() + 1;
}

std::optional<LabelField> parse_field(std::string_view text) {
  if (text == "amount") return LabelField::amount;
  if (text == "weight") return LabelField::weight;
  return std::nullopt;
}

bool valid_format(const ScaleLabelFormat& format) {
  if (format.flag.size() != kFlagDigits || !all_digits(format.flag)) return false;
  if (format.fields.size() == 1) return true;
  return format.fields.size() == 2 && format.fields[0] != format.fields[1];
}

[[noreturn]] void mismatch(Fen label, Fen computed, std::string message) {
  throw Error(ErrorCode::label_price_mismatch, std::move(message),
              {{"label_fen", std::to_string(label.value())},
               {"computed_fen", std::to_string(computed.value())}});
}

}  // namespace

std::vector<ScaleLabelFormat> default_scale_label_formats() {
  return {
      {"21", {LabelField::amount}},
      {"22", {LabelField::weight}},
      {"26", {LabelField::amount, LabelField::weight}},
      {"27", {LabelField::weight, LabelField::amount}},
  };
}

std::optional<ScaleLabelFormat> parse_scale_label_format(std::string_view text) {
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) return std::nullopt;
  ScaleLabelFormat format;
  format.flag = std::string(text.substr(0, colon));
  std::string_view rest = text.substr(colon + 1);
  while (true) {
    const auto plus = rest.find('+');
    const auto field = parse_field(rest.substr(0, plus));
    if (!field) return std::nullopt;
    format.fields.push_back(*field);
    if (plus == std::string_view::npos) break;
    rest = rest.substr(plus + 1);
  }
  if (!valid_format(format)) return std::nullopt;
  return format;
}

int ean_check_digit(std::string_view digits) {
  // GS1 GenSpecs §7.9.1: weights 3, 1, 3, … from the rightmost data digit leftwards.
  int sum = 0;
  int weight = 3;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (*it < '0' || *it > '9') {
      throw Error(ErrorCode::internal, "internal error", {}, "ean_check_digit: not a digit");
    }
    sum += (*it - '0') * weight;
    weight = 4 - weight;
  }
  return (10 - sum % 10) % 10;
}

std::optional<ScaleLabel> parse_scale_label(std::string_view code,
                                            std::span<const ScaleLabelFormat> formats,
                                            std::string_view field) {
  const ScaleLabelFormat* format = nullptr;
  for (const auto& candidate : formats) {
    if (valid_format(candidate) && code.size() == label_length(candidate) &&
        code.substr(0, kFlagDigits) == candidate.flag) {
      format = &candidate;
      break;
    }
  }
  // Not one of our layouts: an ordinary product barcode, or a payment code.
  if (format == nullptr) return std::nullopt;

  const std::string name(field);
  if (!all_digits(code))
    throw Error::invalid_field(name, name + ": 条码只能是数字 / must be digits only");
  const std::string_view data = code.substr(0, code.size() - 1);
  if (ean_check_digit(data) != code.back() - '0') {
    throw Error::invalid_field(
        name, name + ": 校验位错误，请重新扫描 / the check digit is wrong (scan again)");
  }

  ScaleLabel label;
  label.plu = static_cast<int>(digits_value(code.substr(kFlagDigits, kPluDigits)));
  std::size_t position = kFlagDigits + kPluDigits;
  for (LabelField kind : format->fields) {
    const std::int64_t value = digits_value(code.substr(position, kFieldDigits));
    position += kFieldDigits;
    if (kind == LabelField::amount) {
      label.amount = Fen(value);
    } else {
      if (value == 0)
        throw Error::invalid_field(name, name + ": 标签重量为 0 克 / the label's weight is 0 g");
      label.grams = value;
    }
  }
  if (label.amount && !label.grams && label.amount->value() == 0) {
    throw Error::invalid_field(name, name + ": 标签金额为 0 / the label's amount is 0");
  }
  return label;
}

LabelLine resolve_scale_label(const ScaleLabel& label, Unit unit, Fen unit_price) {
  if (unit == Unit::piece && label.grams) {
    throw Error::invalid_field(
        "code", "计件商品不能用称重标签 / a weight label for a product sold by the piece");
  }
  if (unit_price.value() < 0) {
    throw Error(ErrorCode::internal, "internal error", {}, "resolve_scale_label: negative price");
  }
  if (label.grams) {
    const Quantity quantity = Quantity::grams(*label.grams);
    const Fen computed = line_total(unit_price, quantity);
    if (!label.amount) return {quantity, computed};
    const Fen difference = *label.amount - computed;
    // The scale rounds price × weight itself; one fen either way is its rounding, not a fault.
    if (difference > Fen(1) || difference < Fen(-1)) {
      mismatch(*label.amount, computed,
               "标签金额与单价×重量不符 / the label's amount disagrees with price × weight");
    }
    return {quantity, *label.amount};
  }
  if (!label.amount) {
    throw Error(ErrorCode::internal, "internal error", {}, "resolve_scale_label: empty label");
  }
  const Fen amount = *label.amount;
  if (unit == Unit::gram) {
    if (unit_price.value() == 0)
      mismatch(amount, Fen(0), "商品没有每公斤单价 / the product has no price per kg");
    const Wide numerator = static_cast<Wide>(amount.value()) * 1000;
    const Wide grams = (2 * numerator + unit_price.value()) / (2 * Wide{unit_price.value()});
    if (grams < 1)
      mismatch(amount, Fen(0),
               "标签金额不足 1 克的价钱 / the label's amount is below the price of 1 g");
    if (grams > kMaxGrams)
      throw Error::invalid_field("code", "标签重量过大 / the label's weight is too large");
    return {Quantity::grams(static_cast<std::int64_t>(grams)), amount};
  }
  if (unit_price.value() == 0) mismatch(amount, Fen(0), "商品没有单价 / the product has no price");
  const std::int64_t count = amount.value() / unit_price.value();
  if (count * unit_price.value() != amount.value()) {
    // The nearest whole count, for the message: what the label would say for it.
    const Wide nearest =
        (2 * Wide{amount.value()} + unit_price.value()) / (2 * Wide{unit_price.value()});
    mismatch(amount, unit_price * static_cast<std::int64_t>(nearest < 1 ? 1 : nearest),
             "标签金额不是整件的价钱 / the label's amount is not a whole number of pieces");
  }
  if (count > kMaxPieces)
    throw Error::invalid_field("code", "标签件数过多 / the label's count is too large");
  return {Quantity::pieces(count), amount};
}

}  // namespace yizhan::domain
