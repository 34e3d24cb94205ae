// Receipt (小票) layout: a sale's printable content laid out into rows of a fixed number of
// columns, as a thermal receipt printer in Chinese mode prints them (a hanzi takes two columns).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "yizhan/domain/money.hpp"
#include "yizhan/domain/quantity.hpp"

namespace yizhan::domain {

/// The fewest and most columns a receipt row may have (the registers table allows the same).
inline constexpr int kMinReceiptColumns = 24;
inline constexpr int kMaxReceiptColumns = 64;

/// Columns a character takes on the printer: 1 for ASCII, 2 for anything else. A printer in
/// Chinese mode prints every multi-byte GB18030 code as a full-width glyph (24×24 dots beside
/// Font A's 12×24), so not only hanzi but also "×", "·" or "é" take two columns.
int character_columns(char32_t code_point);

/// The columns `text` (valid UTF-8, see printable_text) takes on the printer.
int display_width(std::string_view text);

/// `text` made safe for a printer: ill-formed UTF-8 becomes '?', tabs and line breaks a space,
/// other control characters are dropped. A product name must never carry ESC/POS commands
/// (a cut, a drawer kick) to the printer.
std::string printable_text(std::string_view text);

/// `text` (printable) broken into rows of at most `columns` (≥ 2) display columns, between
/// characters, never inside a UTF-8 sequence; an ASCII word moves whole to the next row when
/// it fits there, at a space or after a hanzi. Spaces at a break are dropped. Empty text gives
/// no rows.
std::vector<std::string> wrap_text(std::string_view text, int columns);

/// "2 × 12.50" for pieces; "0.352kg × 36.00/kg" for grams (the unit price is per kilogram).
std::string quantity_text(Quantity quantity, Fen unit_price);

enum class Align { left, centre, right };

/// Character size: double_size is double width and height (half the columns per row); tall is
/// double height only (all the columns).
enum class Size { normal, tall, double_size };

/// One printed row. Text rows hold `left` and optionally `right` (an amount) on the same row;
/// a row never holds more than its columns (half of them when double-size).
struct ReceiptRow {
  enum class Kind {
    text,       ///< left (and right) text
    separator,  ///< a rule across the paper
    qr_code,    ///< a QR code of `left`
    blank,      ///< an empty row
  };
  Kind kind = Kind::text;
  std::string left;
  std::string right;
  Align align = Align::left;
  bool bold = false;
  Size size = Size::normal;

  /// The characters of a text row as printed on `columns`: `left`, spaces and `right` when a
  /// right part is set (exactly `columns` wide), else `left` alone (the printer aligns it);
  /// a separator is '-' across the row; empty for the other kinds.
  [[nodiscard]] std::string line(int columns) const;
};

/// Builds rows for paper of a given number of columns; every text is made printable and
/// wrapped to fit.
class ReceiptBuilder {
 public:
  /// 422 (`columns`) outside kMinReceiptColumns..kMaxReceiptColumns.
  explicit ReceiptBuilder(int columns);

  [[nodiscard]] int columns() const { return columns_; }

  /// Bold and centred; double-size when it fits on one row at half the columns, else double
  /// height only (a station name of 9 hanzi does not fit 58 mm paper at double width).
  void title(std::string_view text);
  void centre(std::string_view text, bool bold = false);
  void text(std::string_view text, bool bold = false);
  /// `left` and `right` on one row, `right` flush right; when both do not fit, `left` wraps
  /// and `right` goes on the last of its rows or, if that is full, on a row of its own.
  void pair(std::string_view left, std::string_view right, bool bold = false);
  void separator();
  void blank();
  void qr_code(std::string_view payload);

  [[nodiscard]] const std::vector<ReceiptRow>& rows() const { return rows_; }

 private:
  int columns_;
  std::vector<ReceiptRow> rows_;
};

/// One line of a sale as printed.
struct ReceiptItem {
  std::string name;
  std::string quantity;  ///< quantity_text(): weight and unit price for weighed lines
  Fen amount;            ///< the list amount (price × quantity, or the scale label's amount)
  Fen discount;          ///< the line's own discount, printed under it when not zero
  std::string note;      ///< e.g. "已退 Refunded 1"; printed under it when not empty
};

/// A labelled amount: a discount, a tender, a refund.
struct ReceiptAmount {
  std::string label;
  Fen amount;
};

/// What a sale's receipt says, every text already in the station's language and time zone.
struct ReceiptData {
  std::string station_name;
  std::string sale_number;
  std::string time_text;  ///< local time, e.g. "2026-12-02 14:39:05"
  std::string cashier;
  std::string register_name;
  bool reprint = false;  ///< a copy printed again: marked 补打 so it is not taken for the original
  bool offline = false;  ///< rung up while the till was offline
  std::vector<ReceiptItem> items;
  Fen subtotal;                          ///< sum of the items' amounts
  std::vector<ReceiptAmount> discounts;  ///< positive amounts, printed as negative
  Fen total;
  std::vector<ReceiptAmount> tenders;
  std::optional<Fen> cash_tendered;  ///< what the customer handed over in cash
  Fen change;
  std::vector<ReceiptAmount> refunds;  ///< positive amounts, printed as negative
  std::vector<std::string> footer;
};

/// Lays a receipt out for `columns` columns: title, header, items, totals, tenders, change,
/// refunds, a QR code of the sale number, footer.
std::vector<ReceiptRow> layout_receipt(const ReceiptData& receipt, int columns);

}  // namespace yizhan::domain
