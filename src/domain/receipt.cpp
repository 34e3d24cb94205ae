// Receipt layout by display columns: wrapping, pairs of text and amount, the sale's rows.
#include "yizhan/domain/receipt.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

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

// --- QR code (after ISO/IEC 18004 and Project Nayuki's reference implementation) -------------

namespace {

constexpr int kQrMaxVersion = 10;
// Error correction level M, versions 1–10: codewords per block and number of blocks.
constexpr int kQrEccPerBlock[kQrMaxVersion + 1] = {0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26};
constexpr int kQrBlocks[kQrMaxVersion + 1] = {0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5};

int qr_raw_modules(int version) {
  int result = (16 * version + 128) * version + 64;
  if (version >= 2) {
    const int alignments = version / 7 + 2;
    result -= (25 * alignments - 10) * alignments - 55;
    if (version >= 7) result -= 36;
  }
  return result;
}

int qr_data_codewords(int version) {
  return qr_raw_modules(version) / 8 - kQrEccPerBlock[version] * kQrBlocks[version];
}

std::uint8_t gf_multiply(std::uint8_t x, std::uint8_t y) {
  int z = 0;
  for (int i = 7; i >= 0; --i) {
    z = (z << 1) ^ ((z >> 7) * 0x11D);
    z ^= ((y >> i) & 1) * x;
  }
  return static_cast<std::uint8_t>(z);
}

std::vector<std::uint8_t> reed_solomon_divisor(int degree) {
  std::vector<std::uint8_t> result(static_cast<std::size_t>(degree), 0);
  result.back() = 1;
  std::uint8_t root = 1;
  for (int i = 0; i < degree; ++i) {
    for (std::size_t j = 0; j < result.size(); ++j) {
      result[j] = gf_multiply(result[j], root);
      if (j + 1 < result.size()) result[j] ^= result[j + 1];
    }
    root = gf_multiply(root, 0x02);
  }
  return result;
}

std::vector<std::uint8_t> reed_solomon_remainder(const std::vector<std::uint8_t>& data,
                                                 const std::vector<std::uint8_t>& divisor) {
  std::vector<std::uint8_t> result(divisor.size(), 0);
  for (const std::uint8_t b : data) {
    const auto factor = static_cast<std::uint8_t>(b ^ result.front());
    result.erase(result.begin());
    result.push_back(0);
    for (std::size_t i = 0; i < result.size(); ++i)
      result[i] ^= gf_multiply(divisor[i], factor);
  }
  return result;
}

/// The module grid while it is drawn: modules and which of them are function patterns.
struct QrGrid {
  int size;
  std::vector<bool> dark;
  std::vector<bool> function;

  explicit QrGrid(int n)
      : size(n),
        dark(static_cast<std::size_t>(n * n), false),
        function(static_cast<std::size_t>(n * n), false) {}
  [[nodiscard]] std::size_t at(int x, int y) const {
    return static_cast<std::size_t>(y * size + x);
  }
  void set_function(int x, int y, bool is_dark) {
    dark[at(x, y)] = is_dark;
    function[at(x, y)] = true;
  }
};

void draw_finder(QrGrid& grid, int x, int y) {
  for (int dy = -4; dy <= 4; ++dy) {
    for (int dx = -4; dx <= 4; ++dx) {
      const int distance = std::max(std::abs(dx), std::abs(dy));
      const int xx = x + dx, yy = y + dy;
      if (xx >= 0 && xx < grid.size && yy >= 0 && yy < grid.size) {
        grid.set_function(xx, yy, distance != 2 && distance != 4);
      }
    }
  }
}

void draw_format_bits(QrGrid& grid, int mask) {
  const int data = (0 << 3) | mask;  // level M is 00
  int remainder = data;
  for (int i = 0; i < 10; ++i)
    remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537);
  const int bits = ((data << 10) | remainder) ^ 0x5412;
  const auto bit = [&](int i) { return ((bits >> i) & 1) != 0; };
  for (int i = 0; i <= 5; ++i)
    grid.set_function(8, i, bit(i));
  grid.set_function(8, 7, bit(6));
  grid.set_function(8, 8, bit(7));
  grid.set_function(7, 8, bit(8));
  for (int i = 9; i < 15; ++i)
    grid.set_function(14 - i, 8, bit(i));
  for (int i = 0; i < 8; ++i)
    grid.set_function(grid.size - 1 - i, 8, bit(i));
  for (int i = 8; i < 15; ++i)
    grid.set_function(8, grid.size - 15 + i, bit(i));
  grid.set_function(8, grid.size - 8, true);  // the dark module
}

void draw_function_patterns(QrGrid& grid, int version) {
  const int size = grid.size;
  for (int i = 0; i < size; ++i) {
    grid.set_function(6, i, i % 2 == 0);
    grid.set_function(i, 6, i % 2 == 0);
  }
  draw_finder(grid, 3, 3);
  draw_finder(grid, size - 4, 3);
  draw_finder(grid, 3, size - 4);
  if (version >= 2) {
    const int count = version / 7 + 2;
    const int step = (version * 4 + count * 2 + 1) / (count * 2 - 2) * 2;
    std::vector<int> positions = {6};
    for (int i = 0, position = size - 7; i < count - 1; ++i, position -= step) {
      positions.insert(positions.begin() + 1, position);
    }
    for (int i = 0; i < count; ++i) {
      for (int j = 0; j < count; ++j) {
        if ((i == 0 && j == 0) || (i == 0 && j == count - 1) || (i == count - 1 && j == 0)) {
          continue;
        }
        for (int dy = -2; dy <= 2; ++dy) {
          for (int dx = -2; dx <= 2; ++dx) {
            grid.set_function(positions[static_cast<std::size_t>(i)] + dx,
                              positions[static_cast<std::size_t>(j)] + dy,
                              std::max(std::abs(dx), std::abs(dy)) != 1);
          }
        }
      }
    }
  }
  draw_format_bits(grid, 0);  // reserves the format areas; redrawn with the chosen mask
  if (version >= 7) {
    int remainder = version;
    for (int i = 0; i < 12; ++i)
      remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25);
    const long bits = static_cast<long>(version) << 12 | remainder;
    for (int i = 0; i < 18; ++i) {
      const bool is_dark = ((bits >> i) & 1) != 0;
      const int a = size - 11 + i % 3, b = i / 3;
      grid.set_function(a, b, is_dark);
      grid.set_function(b, a, is_dark);
    }
  }
}

void draw_codewords(QrGrid& grid, const std::vector<std::uint8_t>& codewords) {
  std::size_t i = 0;
  const std::size_t total_bits = codewords.size() * 8;
  for (int right = grid.size - 1; right >= 1; right -= 2) {
    if (right == 6) right = 5;
    for (int vertical = 0; vertical < grid.size; ++vertical) {
      for (int j = 0; j < 2; ++j) {
        const int x = right - j;
        const bool upward = ((right + 1) & 2) == 0;
        const int y = upward ? grid.size - 1 - vertical : vertical;
        if (!grid.function[grid.at(x, y)] && i < total_bits) {
          grid.dark[grid.at(x, y)] = ((codewords[i >> 3] >> (7 - (i & 7))) & 1) != 0;
          ++i;
        }
      }
    }
  }
}

void apply_mask(QrGrid& grid, int mask) {
  for (int y = 0; y < grid.size; ++y) {
    for (int x = 0; x < grid.size; ++x) {
      bool invert = false;
      switch (mask) {
        case 0: invert = (x + y) % 2 == 0; break;
        case 1: invert = y % 2 == 0; break;
        case 2: invert = x % 3 == 0; break;
        case 3: invert = (x + y) % 3 == 0; break;
        case 4: invert = (x / 3 + y / 2) % 2 == 0; break;
        case 5: invert = x * y % 2 + x * y % 3 == 0; break;
        case 6: invert = (x * y % 2 + x * y % 3) % 2 == 0; break;
        default: invert = ((x + y) % 2 + x * y % 3) % 2 == 0; break;
      }
      if (invert && !grid.function[grid.at(x, y)])
        grid.dark[grid.at(x, y)] = !grid.dark[grid.at(x, y)];
    }
  }
}

/// Penalty rules 1 (runs of five or more), 2 (2×2 blocks) and 4 (dark/light balance).
long qr_penalty(const QrGrid& grid) {
  long penalty = 0;
  const int size = grid.size;
  for (int pass = 0; pass < 2; ++pass) {
    for (int a = 0; a < size; ++a) {
      int run = 0;
      bool colour = false;
      for (int b = 0; b < size; ++b) {
        const bool d = pass == 0 ? grid.dark[grid.at(b, a)] : grid.dark[grid.at(a, b)];
        if (b > 0 && d == colour) {
          ++run;
          if (run == 5) penalty += 3;
          if (run > 5) penalty += 1;
        } else {
          colour = d;
          run = 1;
        }
      }
    }
  }
  for (int y = 0; y + 1 < size; ++y) {
    for (int x = 0; x + 1 < size; ++x) {
      const bool d = grid.dark[grid.at(x, y)];
      if (d == grid.dark[grid.at(x + 1, y)] && d == grid.dark[grid.at(x, y + 1)] &&
          d == grid.dark[grid.at(x + 1, y + 1)]) {
        penalty += 3;
      }
    }
  }
  long dark = 0;
  for (const bool d : grid.dark)
    dark += d ? 1 : 0;
  const long total = static_cast<long>(size) * size;
  const long k = (std::abs(dark * 20 - total * 10) + total - 1) / total - 1;
  return penalty + std::max(0L, k) * 10;
}

}  // namespace

QrCode QrCode::encode(std::string_view data, std::optional<int> mask) {
  int version = 1;
  const auto needed_bits = [&](int v) {
    return 4 + (v <= 9 ? 8 : 16) + 8 * static_cast<long>(data.size());
  };
  while (version <= kQrMaxVersion && needed_bits(version) > qr_data_codewords(version) * 8L) {
    ++version;
  }
  if (version > kQrMaxVersion) throw Error::invalid_field("data", "too long for a QR code here");
  if (mask && (*mask < 0 || *mask > 7)) throw Error::invalid_field("mask", "a mask is 0 to 7");

  // Byte mode: mode indicator, count, the bytes, terminator, padding to the capacity.
  std::vector<bool> bits;
  const auto append_bits = [&](unsigned value, int count) {
    for (int i = count - 1; i >= 0; --i)
      bits.push_back(((value >> i) & 1) != 0);
  };
  append_bits(0x4, 4);
  append_bits(static_cast<unsigned>(data.size()), version <= 9 ? 8 : 16);
  for (const char c : data)
    append_bits(static_cast<unsigned char>(c), 8);
  const std::size_t capacity = static_cast<std::size_t>(qr_data_codewords(version)) * 8;
  append_bits(0, static_cast<int>(std::min<std::size_t>(4, capacity - bits.size())));
  append_bits(0, static_cast<int>((8 - bits.size() % 8) % 8));
  for (unsigned pad = 0xEC; bits.size() < capacity; pad ^= 0xEC ^ 0x11)
    append_bits(pad, 8);
  std::vector<std::uint8_t> codewords(bits.size() / 8, 0);
  for (std::size_t i = 0; i < bits.size(); ++i) {
    if (bits[i]) codewords[i >> 3] |= static_cast<std::uint8_t>(1 << (7 - (i & 7)));
  }

  // Blocks with their error correction, interleaved.
  const int blocks = kQrBlocks[version];
  const int ecc_length = kQrEccPerBlock[version];
  const int raw_codewords = qr_raw_modules(version) / 8;
  const int short_blocks = blocks - raw_codewords % blocks;
  const int short_length = raw_codewords / blocks;
  const auto divisor = reed_solomon_divisor(ecc_length);
  std::vector<std::vector<std::uint8_t>> parts;
  std::size_t k = 0;
  for (int i = 0; i < blocks; ++i) {
    const auto length =
        static_cast<std::size_t>(short_length - ecc_length + (i < short_blocks ? 0 : 1));
    std::vector<std::uint8_t> block(codewords.begin() + static_cast<std::ptrdiff_t>(k),
                                    codewords.begin() + static_cast<std::ptrdiff_t>(k + length));
    k += length;
    const auto ecc = reed_solomon_remainder(block, divisor);
    if (i < short_blocks) block.push_back(0);
    block.insert(block.end(), ecc.begin(), ecc.end());
    parts.push_back(std::move(block));
  }
  std::vector<std::uint8_t> interleaved;
  for (std::size_t i = 0; i < parts[0].size(); ++i) {
    for (std::size_t j = 0; j < parts.size(); ++j) {
      if (i != static_cast<std::size_t>(short_length - ecc_length) ||
          j >= static_cast<std::size_t>(short_blocks)) {
        interleaved.push_back(parts[j][i]);
      }
    }
  }

  QrGrid grid(17 + 4 * version);
  draw_function_patterns(grid, version);
  draw_codewords(grid, interleaved);
  int chosen = mask.value_or(0);
  if (!mask) {
    long best = -1;
    for (int candidate = 0; candidate < 8; ++candidate) {
      QrGrid trial = grid;
      apply_mask(trial, candidate);
      draw_format_bits(trial, candidate);
      const long penalty = qr_penalty(trial);
      if (best < 0 || penalty < best) {
        best = penalty;
        chosen = candidate;
      }
    }
  }
  apply_mask(grid, chosen);
  draw_format_bits(grid, chosen);
  return QrCode(grid.size, chosen, std::move(grid.dark));
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
