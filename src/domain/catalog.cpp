// The visibility rule, catalog field rules and EAN-13 check digits.
#include "yizhan/domain/catalog.hpp"

#include <algorithm>

#include "yizhan/domain/error.hpp"

namespace yizhan::domain {

Listing listing_requirement(Channel channel) {
  return {.active = true, .online = channel == Channel::online, .village_active = true};
}

bool is_offered(const Listing& listing, Channel channel) {
  const auto required = listing_requirement(channel);
  return (listing.active || !required.active) && (listing.online || !required.online) &&
         (listing.village_active || !required.village_active);
}

int ean13_check_digit(std::string_view first_twelve) {
  int sum = 0;
  for (std::size_t i = 0; i < 12 && i < first_twelve.size(); ++i) {
    const int digit = first_twelve[i] - '0';
    sum += i % 2 == 0 ? digit : digit * 3;
  }
  return (10 - sum % 10) % 10;
}

std::optional<std::string> ean13_problem(std::string_view code) {
  if (code.size() != 13) return "an EAN-13 barcode has 13 digits";
  if (!std::all_of(code.begin(), code.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return "an EAN-13 barcode has digits only";
  }
  if (ean13_check_digit(code.substr(0, 12)) != code[12] - '0') {
    return "the check digit is wrong (expected " +
           std::to_string(ean13_check_digit(code.substr(0, 12))) + ")";
  }
  return std::nullopt;
}

void check_basis_change(const ProductBasis& before, const ProductBasis& after,
                        const ProductUse& use) {
  if (after.unit != before.unit && use.has_history)
    throw Error::invalid_field(
        "unit",
        "已有进货、销售或库存记录的商品不能改计量单位，请另建商品 / the product has stock or "
        "sales on record in its unit: create a new product instead");
  if (after.kind != before.kind && use.has_history)
    throw Error::invalid_field(
        "kind",
        "已有进货、销售或库存记录的商品不能改为礼盒或单品 / the product has stock or sales on "
        "record: it cannot change between item and bundle");
  if (after.village_id != before.village_id && use.holds_stock)
    throw Error::invalid_field(
        "village_id",
        "商品还有库存或预留，不能换村：请先售完、退货给村或报损 / the product still holds "
        "stock its village delivered: sell, return or write it off first");
}

std::size_t character_count(std::string_view utf8) {
  return static_cast<std::size_t>(std::count_if(utf8.begin(), utf8.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

std::optional<std::string> sku_problem(std::string_view sku) {
  if (sku.empty() || sku.size() > 32) return "must be 1 to 32 characters";
  const bool allowed = std::all_of(sku.begin(), sku.end(), [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
  if (!allowed) return "letters, digits, '-' and '_' only";
  return std::nullopt;
}

std::optional<std::string> village_code_problem(std::string_view code) {
  if (code.size() < 2 || code.size() > 32) return "must be 2 to 32 characters";
  const bool allowed = std::all_of(code.begin(), code.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
  if (!allowed) return "lower-case letters, digits and '-' only";
  return std::nullopt;
}

namespace {

/// The length in bytes of the blank character `text` starts with, or 0: ASCII whitespace, the
/// ideographic space U+3000 (a Chinese keyboard's space) and the zero-width characters
/// U+200B–U+200D, U+FEFF, which all show nothing.
std::size_t blank_prefix(std::string_view text) {
  if (text.empty()) return 0;
  if (text[0] == ' ' || (text[0] >= '\t' && text[0] <= '\r')) return 1;
  if (text.starts_with("\xE3\x80\x80") || text.starts_with("\xE2\x80\x8B") ||
      text.starts_with("\xE2\x80\x8C") || text.starts_with("\xE2\x80\x8D") ||
      text.starts_with("\xEF\xBB\xBF"))
    return 3;
  return 0;
}

}  // namespace

std::string_view trim_blanks(std::string_view text) {
  while (const auto n = blank_prefix(text))
    text.remove_prefix(n);
  // From the end: every blank above is either one ASCII byte or three bytes.
  while (!text.empty()) {
    if (text.size() >= 3 && blank_prefix(text.substr(text.size() - 3)) == 3)
      text.remove_suffix(3);
    else if (blank_prefix(text.substr(text.size() - 1)) == 1)
      text.remove_suffix(1);
    else
      break;
  }
  return text;
}

std::optional<std::string> text_problem(std::string_view text, std::size_t min_characters,
                                        std::size_t max_characters) {
  // What a person sees: spaces and zero-width characters around it are not a name or an address.
  const auto count = character_count(trim_blanks(text));
  if (count < min_characters) return count == 0 ? "is required" : "is too short";
  // The length limit is the stored text's, blanks included (its column's size).
  if (character_count(text) > max_characters)
    return "is too long (at most " + std::to_string(max_characters) + ")";
  // NUL and the other control characters hide text from the person reading it (a name that
  // prints short on a receipt, a note cut in a log); line breaks and tabs are writing.
  for (const unsigned char c : text)
    if ((c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7F)
      return "contains a control character";
  // So do C1 controls, and the direction controls reorder what is shown around them: "\u202E"
  // makes a name read backwards on a receipt, in a CSV opened in a spreadsheet, on a page
  // (the "Trojan Source" characters: LRM, RLM, ALM, LRE…RLO, LRI…PDI).
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    const auto b0 = static_cast<unsigned char>(text[i]);
    const auto b1 = static_cast<unsigned char>(text[i + 1]);
    if (b0 == 0xC2 && b1 >= 0x80 && b1 <= 0x9F) return "contains a control character";
    if (b0 == 0xD8 && b1 == 0x9C) return "contains a text direction control character";
    if (b0 != 0xE2 || i + 2 >= text.size()) continue;
    const auto b2 = static_cast<unsigned char>(text[i + 2]);
    if ((b1 == 0x80 && (b2 == 0x8E || b2 == 0x8F || (b2 >= 0xAA && b2 <= 0xAE))) ||
        (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9))
      return "contains a text direction control character";
  }
  return std::nullopt;
}

std::optional<std::string> line_problem(std::string_view text, std::size_t min_characters,
                                        std::size_t max_characters) {
  if (auto problem = text_problem(text, min_characters, max_characters)) return problem;
  if (text.find_first_of("\t\n\r\v\f") != std::string_view::npos)
    return "must be one line (no line breaks or tabs)";
  return std::nullopt;
}

std::optional<std::string> price_problem(Fen price) {
  if (price < Fen(1)) return "must be at least 1 fen";
  if (price > kMaxPrice) return "must be at most ¥" + kMaxPrice.format();
  return std::nullopt;
}

std::optional<std::string> commission_problem(std::int64_t basis_points) {
  if (basis_points < 0 || basis_points > 10000) return "must be 0 to 10000 basis points";
  return std::nullopt;
}

std::optional<std::string> shelf_life_problem(std::int64_t days) {
  if (days < 1 || days > 3650) return "must be 1 to 3650 days";
  return std::nullopt;
}

}  // namespace yizhan::domain

namespace yizhan::domain {

std::optional<std::string> sniff_image_type(std::string_view bytes) {
  if (bytes.size() >= 3 && bytes.substr(0, 3) == "\xFF\xD8\xFF") return "image/jpeg";
  if (bytes.size() >= 8 && bytes.substr(0, 8) == "\x89PNG\r\n\x1A\n") return "image/png";
  if (bytes.size() >= 12 && bytes.substr(0, 4) == "RIFF" && bytes.substr(8, 4) == "WEBP") {
    return "image/webp";
  }
  return std::nullopt;
}

std::string_view image_extension(std::string_view content_type) {
  if (content_type == "image/png") return "png";
  if (content_type == "image/webp") return "webp";
  return "jpg";
}

}  // namespace yizhan::domain
