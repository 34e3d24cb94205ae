// In-store codes printed by the station's label scale (条码秤): layouts as configuration, and
// the check of a label's amount against list price × weight. See README "Scale labels".
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "yizhan/domain/money.hpp"
#include "yizhan/domain/quantity.hpp"

namespace yizhan::domain {

/// What a 5-digit field of a label carries: the amount in fen (E) or the weight in grams (N).
enum class LabelField { amount, weight };

/// One layout the scale prints: `FF WWWWW` then one field (13 digits) or two (18 digits), then
/// C = EAN mod-10 over every preceding digit. F = `flag` (two digits), W = the product's PLU.
struct ScaleLabelFormat {
  std::string flag;                ///< two digits, e.g. "21"
  std::vector<LabelField> fields;  ///< one (13-digit label) or two (18-digit label), in order
};

/// The station's default layouts (README): 21 → 13 digits amount, 22 → 13 digits weight,
/// 26 → 18 digits amount then weight, 27 → 18 digits weight then amount.
std::vector<ScaleLabelFormat> default_scale_label_formats();

/// Parses "21:amount", "22:weight", "26:amount+weight" (configuration text); nothing if bad.
std::optional<ScaleLabelFormat> parse_scale_label_format(std::string_view text);

/// What a label says.
struct ScaleLabel {
  int plu = 0;
  std::optional<Fen> amount;          ///< the price printed, when the layout has one
  std::optional<std::int64_t> grams;  ///< the weight printed, when the layout has one
};

/// The GS1/EAN check digit (weights 3,1,3,… from the right) over `digits` (all '0'–'9').
int ean_check_digit(std::string_view digits);

/// Reads `code` as a scale label when its length and flag match one of `formats`; nothing when
/// it is not a label of ours (an EAN-13 product barcode, a payment code). A code that matches a
/// format but is wrong (check digit, weight 0, a value of zero in an amount-only label) is
/// domain::Error 422 naming `field`.
std::optional<ScaleLabel> parse_scale_label(std::string_view code,
                                            std::span<const ScaleLabelFormat> formats,
                                            std::string_view field = "code");

/// A label turned into a sale line for a product sold in `unit` at `unit_price` (per kilogram
/// for grams, per piece for pieces).
struct LabelLine {
  Quantity quantity;
  Fen total;  ///< the line's gross before discounts: what the label says
};

/// Weight + amount: the amount must equal line_total(unit_price, weight) within 1 fen, else
/// domain::Error label_price_mismatch with details label_fen and computed_fen. Weight only: the
/// total is line_total. Amount only: the weight is amount × 1000 / price rounded half-up to the
/// gram (pieces: amount / price, which must divide exactly, else label_price_mismatch). An
/// amount worth less than half a gram, or a product without a price, is label_price_mismatch;
/// a weight label for a product sold by the piece, or more than kMaxGrams / kMaxPieces, is 422
/// naming "code".
LabelLine resolve_scale_label(const ScaleLabel& label, Unit unit, Fen unit_price);

}  // namespace yizhan::domain
