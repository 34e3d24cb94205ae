// Catalog rules: EAN-13 barcodes, units, and the limits of every product and village field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace yizhan::domain {

/// How a product is sold: per piece, or by weight (price per kilogram, quantities in grams).
enum class Unit { piece, gram };

std::string_view to_string(Unit unit);  ///< "piece" or "g" (API.md)
std::optional<Unit> parse_unit(std::string_view text);

/// The EAN-13 check digit for the first 12 digits.
int ean13_check_digit(std::string_view first_twelve);

/// A problem with an EAN-13 code (length, non-digits, check digit), or nothing.
std::optional<std::string> ean13_problem(std::string_view code);

/// The number of Unicode code points in UTF-8 text (what a person counts as characters).
std::size_t character_count(std::string_view utf8);

/// Limits that apply to catalog fields; every check returns a problem or nothing.
std::optional<std::string> sku_problem(std::string_view sku);
std::optional<std::string> village_code_problem(std::string_view code);
std::optional<std::string> text_problem(std::string_view text, std::size_t min_characters,
                                        std::size_t max_characters);
/// Prices: 1 fen to ¥100,000 per piece or per kilogram.
std::optional<std::string> price_problem(std::int64_t price_fen);
std::optional<std::string> commission_problem(std::int64_t basis_points);
std::optional<std::string> shelf_life_problem(std::int64_t days);

inline constexpr std::int64_t kMaxPriceFen = 10'000'000;

}  // namespace yizhan::domain

namespace yizhan::domain {

/// The image type the bytes really are ("image/jpeg", "image/png", "image/webp"), judged by
/// their signature, not by any name or header; nothing for anything else.
std::optional<std::string> sniff_image_type(std::string_view bytes);

/// The file extension for an image type ("jpg", "png", "webp").
std::string_view image_extension(std::string_view content_type);

inline constexpr std::size_t kMaxImageBytes = 2 * 1024 * 1024;

}  // namespace yizhan::domain
