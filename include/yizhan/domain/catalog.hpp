// Catalog rules: who may see and buy a product, EAN-13 barcodes, and the limits of every
// product and village field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "yizhan/domain/bundle.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/quantity.hpp"

namespace yizhan::domain {

/// Where a product is offered: at the station's counter (scanned or searched by a cashier),
/// or online (the storefront, for anyone).
enum class Channel { counter, online };

/// The flags that decide whether a product is offered.
struct Listing {
  bool active = true;          ///< the station lists it at all (false = delisted)
  bool online = true;          ///< shown in the online shop (网店可见)
  bool village_active = true;  ///< its village is still a member
};

/// The flags a product must have to be offered on a channel: what a store query filters on.
/// `online` matters only online; a delisted product or one of an inactive village is offered
/// nowhere (it cannot be sold by scanning either).
Listing listing_requirement(Channel channel);

/// The visibility rule, the one place it is written: whether `listing` is offered on `channel`.
bool is_offered(const Listing& listing, Channel channel);

/// The EAN-13 check digit for the first 12 digits.
int ean13_check_digit(std::string_view first_twelve);

/// A problem with an EAN-13 code (length, non-digits, check digit), or nothing.
std::optional<std::string> ean13_problem(std::string_view code);

/// The number of Unicode code points in UTF-8 text (what a person counts as characters).
std::size_t character_count(std::string_view utf8);

/// Limits that apply to catalog fields; every check returns a problem or nothing.
std::optional<std::string> sku_problem(std::string_view sku);
std::optional<std::string> village_code_problem(std::string_view code);
/// Free text of `min_characters` to `max_characters` characters, without control characters
/// (line breaks and tabs are writing). The minimum counts what is visible: blanks around the
/// text (see trim_blanks) do not count, so a required text of spaces only "is required".
std::optional<std::string> text_problem(std::string_view text, std::size_t min_characters,
                                        std::size_t max_characters);
/// text_problem for a one-line field (a name, an address, a waybill, a reason in a CSV): line
/// breaks and tabs are refused too.
std::optional<std::string> line_problem(std::string_view text, std::size_t min_characters,
                                        std::size_t max_characters);
/// `text` without the blanks around it: ASCII whitespace, U+3000 and the zero-width characters
/// U+200B–U+200D and U+FEFF.
std::string_view trim_blanks(std::string_view text);
/// Prices: 1 fen to ¥100,000 per piece or per kilogram.
std::optional<std::string> price_problem(Fen price);
std::optional<std::string> commission_problem(std::int64_t basis_points);
std::optional<std::string> shelf_life_problem(std::int64_t days);

inline constexpr Fen kMaxPrice{10'000'000};

/// What the stock ledger, the lots and the sales of a product have recorded about it.
struct ProductUse {
  bool holds_stock = false;  ///< goods on hand or reserved, or a lot with something left
  bool has_history = false;  ///< anything ever received, sold, ordered, reserved or counted
};

/// The fields that give recorded quantities and shares their meaning.
struct ProductBasis {
  Unit unit = Unit::piece;  ///< what one unit of a recorded quantity is
  ProductKind kind = ProductKind::item;
  std::int64_t village_id = 0;  ///< whose goods its lots are
};

/// Refuses (422 naming the field) a change from `before` to `after` that would reread what is
/// recorded: the unit or the kind once anything was ever received, sold, ordered or counted
/// (grams would become pieces at the per-kilogram price), the village while goods of it are on
/// the shelf or reserved (the next sale of a lot one village delivered would pay another).
/// Sales keep their own village and split, so a product with nothing left may move.
void check_basis_change(const ProductBasis& before, const ProductBasis& after,
                        const ProductUse& use);

}  // namespace yizhan::domain

namespace yizhan::domain {

/// The image type the bytes really are ("image/jpeg", "image/png", "image/webp"), judged by
/// their signature, not by any name or header; nothing for anything else.
std::optional<std::string> sniff_image_type(std::string_view bytes);

/// A problem with an image of `content_type` (as sniffed), or nothing when it is whole: a PNG's
/// chunks with their CRCs from IHDR to IEND, a JPEG's segments with one frame header and a scan
/// up to its end marker, a WebP's RIFF size and bitstream header; each side 1–kMaxImageSide
/// pixels. Messages are Chinese first.
std::optional<std::string> image_problem(std::string_view bytes, std::string_view content_type);

/// The file extension for an image type ("jpg", "png", "webp").
std::string_view image_extension(std::string_view content_type);

inline constexpr std::size_t kMaxImageBytes = 2 * 1024 * 1024;
/// The longest side a product photo may have, in pixels (a phone's camera stays below it).
inline constexpr std::uint32_t kMaxImageSide = 10000;

}  // namespace yizhan::domain
