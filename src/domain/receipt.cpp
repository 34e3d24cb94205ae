// Receipt layout by display columns: wrapping, pairs of text and amount, the sale's rows.
#include "yizhan/domain/receipt.hpp"

#include <algorithm>
#include <cstdio>

#include "yizhan/domain/error.hpp"

namespace yizhan::domain {
namespace {

/// One decoded character: its code point and its bytes; length 0 when ill-formed.
struct Decoded {
  char32_t code_point = 0;
  std::size_t length = 0;
};

Decoded decode(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const auto continuation = [&](std::size_t i) {
    return i < text.size() && (byte(i) & 0xC0) == 0x80;
  };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return {lead, 1};
  if (lead >= 0xC2 && lead <= 0xDF && continuation(1)) {
    return {static_cast<char32_t>(((lead & 0x1F) << 6) | (byte(1) & 0x3F)), 2};
  }
  if (lead >= 0xE0 && lead <= 0xEF && continuation(1) && continuation(2)) {
    if (lead == 0xE0 && byte(1) < 0xA0) return {};   // overlong
    if (lead == 0xED && byte(1) >= 0xA0) return {};  // UTF-16 surrogate
    return {
        static_cast<char32_t>(((lead & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F)),
        3};
  }
  if (lead >= 0xF0 && lead <= 0xF4 && continuation(1) && continuation(2) && continuation(3)) {
    if (lead == 0xF0 && byte(1) < 0x90) return {};   // overlong
    if (lead == 0xF4 && byte(1) >= 0x90) return {};  // past U+10FFFF
    return {static_cast<char32_t>(((lead & 0x07) << 18) | ((byte(1) & 0x3F) << 12) |
                                  ((byte(2) & 0x3F) << 6) | (byte(3) & 0x3F)),
            4};
  }
  return {};
}

bool is_control(char32_t c) {
  return c < 0x20 || c == 0x7F || (c >= 0x80 && c < 0xA0);
}

std::string spaces(int count) {
  return std::string(static_cast<std::size_t>(std::max(0, count)), ' ');
}

std::string trim_right(std::string text) {
  while (!text.empty() && text.back() == ' ')
    text.pop_back();
  return text;
}

std::string negative(Fen amount) {
  return (-amount).format();
}

}  // namespace

int character_columns(char32_t code_point) {
  return code_point < 0x80 ? 1 : 2;
}

int display_width(std::string_view text) {
  int width = 0;
  while (!text.empty()) {
    const auto d = decode(text);
    const std::size_t length = d.length == 0 ? 1 : d.length;
    width += d.length == 0 ? 1 : character_columns(d.code_point);
    text.remove_prefix(length);
  }
  return width;
}

std::string printable_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const auto d = decode(text);
    if (d.length == 0) {
      out += '?';
      text.remove_prefix(1);
      continue;
    }
    const char32_t c = d.code_point;
    if (c == '\t' || c == '\n' || c == '\r') {
      out += ' ';
    } else if (!is_control(c)) {
      out.append(text.substr(0, d.length));
    }
    text.remove_prefix(d.length);
  }
  return out;
}

std::vector<std::string> wrap_text(std::string_view text, int columns) {
  if (columns < 2) throw Error(ErrorCode::internal, "internal error", {}, "wrap_text: columns < 2");
  std::vector<std::string> rows;
  std::string row;
  int width = 0;
  // Where the row may break before an ASCII word: the head ends at break_end, the next row
  // starts at break_start (they differ by the space dropped at the break).
  std::optional<std::size_t> break_end, break_start;
  const auto push = [&](std::string piece) {
    piece = trim_right(std::move(piece));
    if (!piece.empty()) rows.push_back(std::move(piece));
  };
  while (!text.empty()) {
    const auto d = decode(text);
    const std::size_t length = d.length == 0 ? 1 : d.length;
    const char32_t c = d.length == 0 ? U'?' : d.code_point;
    const std::string_view bytes = d.length == 0 ? std::string_view("?") : text.substr(0, length);
    const int w = character_columns(c);
    text.remove_prefix(length);
    if (width + w > columns) {
      const bool word_character = c < 0x80 && c != ' ';
      std::string tail;
      if (word_character && break_start &&
          display_width(std::string_view(row).substr(*break_start)) + w <= columns) {
        tail = row.substr(*break_start);
        push(row.substr(0, *break_end));
      } else {
        push(row);
      }
      row = std::move(tail);
      width = display_width(row);
      break_end.reset();
      break_start.reset();
      if (c == ' ') continue;
    }
    if (c == ' ' && row.empty()) continue;  // no row starts with a space
    row.append(bytes);
    width += w;
    if (c == ' ') {
      break_end = row.size() - 1;
      break_start = row.size();
    } else if (c >= 0x80) {
      break_end = break_start = row.size();
    }
  }
  push(row);
  return rows;
}

std::string quantity_text(Quantity quantity, Fen unit_price) {
  if (quantity.unit() == Unit::piece) {
    return std::to_string(quantity.amount()) + " × " + unit_price.format();
  }
  const std::int64_t grams = quantity.amount();
  const std::int64_t magnitude = grams < 0 ? -grams : grams;
  char weight[48];
  std::snprintf(weight, sizeof weight, "%s%lld.%03lld", grams < 0 ? "-" : "",
                static_cast<long long>(magnitude / 1000), static_cast<long long>(magnitude % 1000));
  return std::string(weight) + "kg × " + unit_price.format() + "/kg";
}

std::string ReceiptRow::line(int columns) const {
  switch (kind) {
    case Kind::separator: return std::string(static_cast<std::size_t>(columns), '-');
    case Kind::text:
      if (right.empty()) return left;
      return left + spaces(columns - display_width(left) - display_width(right)) + right;
    case Kind::qr_code:
    case Kind::blank: break;
  }
  return {};
}

ReceiptBuilder::ReceiptBuilder(int columns) : columns_(columns) {
  if (columns < kMinReceiptColumns || columns > kMaxReceiptColumns) {
    throw Error::invalid_field("columns", "a receipt has " + std::to_string(kMinReceiptColumns) +
                                              " to " + std::to_string(kMaxReceiptColumns) +
                                              " columns");
  }
}

void ReceiptBuilder::title(std::string_view text) {
  const std::string clean = printable_text(text);
  const bool double_size = display_width(clean) <= columns_ / 2;
  for (auto& piece : wrap_text(clean, double_size ? columns_ / 2 : columns_)) {
    rows_.push_back({ReceiptRow::Kind::text,
                     std::move(piece),
                     {},
                     Align::centre,
                     true,
                     double_size ? Size::double_size : Size::tall});
  }
}

void ReceiptBuilder::centre(std::string_view text, bool bold) {
  for (auto& piece : wrap_text(printable_text(text), columns_)) {
    rows_.push_back(
        {ReceiptRow::Kind::text, std::move(piece), {}, Align::centre, bold, Size::normal});
  }
}

void ReceiptBuilder::text(std::string_view text, bool bold) {
  // A leading indent is kept: item details are indented under their names.
  const std::string clean = printable_text(text);
  const std::size_t indent = std::min<std::size_t>(clean.find_first_not_of(' '), clean.size());
  const int indent_columns = static_cast<int>(std::min<std::size_t>(indent, 8));
  for (auto& piece : wrap_text(std::string_view(clean).substr(indent), columns_ - indent_columns)) {
    rows_.push_back({ReceiptRow::Kind::text,
                     spaces(indent_columns) + piece,
                     {},
                     Align::left,
                     bold,
                     Size::normal});
  }
}

void ReceiptBuilder::pair(std::string_view left, std::string_view right, bool bold) {
  const std::string clean_left = printable_text(left);
  std::string clean_right = printable_text(right);
  const int right_width = display_width(clean_right);
  if (right_width > columns_) {
    text(clean_left, bold);
    text(clean_right, bold);
    return;
  }
  const std::size_t indent =
      std::min<std::size_t>(clean_left.find_first_not_of(' '), clean_left.size());
  const int indent_columns = static_cast<int>(std::min<std::size_t>(indent, 8));
  auto pieces = wrap_text(std::string_view(clean_left).substr(indent), columns_ - indent_columns);
  for (auto& piece : pieces)
    piece = spaces(indent_columns) + piece;
  if (pieces.empty()) pieces.push_back("");
  for (std::size_t i = 0; i + 1 < pieces.size(); ++i) {
    rows_.push_back(
        {ReceiptRow::Kind::text, std::move(pieces[i]), {}, Align::left, bold, Size::normal});
  }
  std::string last = std::move(pieces.back());
  const bool fits = display_width(last) + (last.empty() ? 0 : 1) + right_width <= columns_;
  if (!fits) {
    rows_.push_back({ReceiptRow::Kind::text, std::move(last), {}, Align::left, bold, Size::normal});
    last.clear();
  }
  rows_.push_back({ReceiptRow::Kind::text, std::move(last), std::move(clean_right), Align::left,
                   bold, Size::normal});
}

void ReceiptBuilder::separator() {
  ReceiptRow row;
  row.kind = ReceiptRow::Kind::separator;
  rows_.push_back(std::move(row));
}

void ReceiptBuilder::blank() {
  ReceiptRow row;
  row.kind = ReceiptRow::Kind::blank;
  rows_.push_back(std::move(row));
}

void ReceiptBuilder::qr_code(std::string_view payload) {
  rows_.push_back({ReceiptRow::Kind::qr_code, printable_text(payload), {}, Align::centre});
}

std::vector<ReceiptRow> layout_receipt(const ReceiptData& receipt, int columns) {
  ReceiptBuilder out(columns);
  out.title(receipt.station_name);
  out.centre("销售小票 Sales receipt");
  if (receipt.reprint) out.centre("** 补打 REPRINT **", true);
  if (receipt.offline) out.centre("离线单 Rung up offline");
  out.separator();
  out.text("单号 No.: " + receipt.sale_number);
  out.text("时间 Time: " + receipt.time_text);
  out.text("收银 Cashier: " + receipt.cashier);
  out.text("柜台 Register: " + receipt.register_name);
  out.separator();
  out.pair("商品 Item", "金额 Amount");
  out.separator();
  for (const auto& item : receipt.items) {
    out.text(item.name);
    out.pair("  " + item.quantity, item.amount.format());
    if (item.discount != Fen(0)) out.pair("  优惠 Discount", negative(item.discount));
    if (!item.note.empty()) out.text("  " + item.note);
  }
  out.separator();
  out.pair("件数 Lines", std::to_string(receipt.items.size()));
  out.pair("商品金额 Subtotal", receipt.subtotal.format());
  for (const auto& discount : receipt.discounts) {
    out.pair(discount.label, negative(discount.amount));
  }
  out.pair("应收 Total", receipt.total.format(), true);
  out.separator();
  for (const auto& tender : receipt.tenders)
    out.pair(tender.label, tender.amount.format());
  if (receipt.cash_tendered) out.pair("现金实收 Cash given", receipt.cash_tendered->format());
  if (receipt.cash_tendered || receipt.change != Fen(0)) {
    out.pair("找零 Change", receipt.change.format(), true);
  }
  if (!receipt.refunds.empty()) {
    out.separator();
    out.text("退款 Refunds", true);
    for (const auto& refund : receipt.refunds)
      out.pair(refund.label, negative(refund.amount));
  }
  out.separator();
  out.qr_code(receipt.sale_number);
  out.centre(receipt.sale_number);
  for (const auto& line : receipt.footer)
    out.centre(line);
  return out.rows();
}

}  // namespace yizhan::domain
