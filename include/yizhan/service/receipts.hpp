// Receipts (小票) and shift reports for paper: a sale laid out for the register's printer, as
// ESC/POS bytes (GB18030 text, QR code, cut) or as HTML for 58 mm / 80 mm paper.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "yizhan/domain/receipt.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/printer.hpp"

namespace yizhan::service {

/// "2026-12-02 14:39:05" in `zone` for unix microseconds.
std::string local_time_text(std::int64_t unix_microseconds, const domain::TimeZone& zone);

/// The text rows of a receipt (Chinese first, English too) for a sale.
domain::ReceiptData receipt_data(const Sale& sale, const CounterSettings& settings, bool reprint);

/// Columns for a paper width (58 or 80 mm) at `till`: 58 → 32; 80 → the register's own
/// setting when it is an 80 mm one (42 for an Epson TM-T88, 48 for most), else 48. No width:
/// the register's setting. Any other width is 422 naming `width`.
int receipt_columns(const Register& till, std::optional<int> paper_mm);

/// The paper a number of columns is printed on: 58 (fewer than 42 columns) or 80.
int paper_width_mm(int columns);

/// Rows of an X report (open shift) or Z report (closed, with the counted drawer), printed at
/// `printed_at` (unix microseconds).
std::vector<domain::ReceiptRow> shift_report_rows(const ShiftReport& report,
                                                  const CounterSettings& settings, int columns,
                                                  std::int64_t printed_at);

/// UTF-8 → GB18030 (iconv), the encoding Chinese receipt printers read.
std::string to_gb18030(std::string_view utf8);

/// ESC/POS for `rows` on a printer of `columns` columns: ESC @, Chinese mode (FS &), each row
/// with its alignment, emphasis and size, text in GB18030, the QR code with GS ( k, then a feed
/// and a cut (GS V).
std::string encode_escpos(const std::vector<domain::ReceiptRow>& rows, int columns);

/// A printable HTML page of `rows` for 58 or 80 mm paper (print CSS: page size, no margins).
std::string render_receipt_html(const std::vector<domain::ReceiptRow>& rows, int columns,
                                std::string_view title);

/// What a print request did.
struct PrintResult {
  std::string printer;  ///< host:port
  std::size_t bytes = 0;
  bool reprint = false;
  int columns = 0;
};

/// Receipts and reports of the counter's sales and shifts, rendered or sent to a printer.
class ReceiptService {
 public:
  explicit ReceiptService(CounterService& counter, PrinterTimeouts timeouts = {})
      : counter_(counter), timeouts_(timeouts) {}

  /// A sale's receipt rows for `columns` (see receipt_columns), and the sale itself.
  struct Receipt {
    Sale sale;
    int columns = 0;
    std::vector<domain::ReceiptRow> rows;
  };
  /// 404 for an unknown sale; 422 for a bad paper width.
  Receipt receipt(std::int64_t sale_id, std::optional<int> paper_mm, bool reprint);

  /// Sends the receipt to the sale's register's printer (409 conflict when it has none; 503
  /// unavailable when the printer cannot be reached).
  PrintResult print(std::int64_t sale_id, bool reprint);

  /// The X or Z report of a shift as rows; a cashier sees only their own shifts (404).
  struct Report {
    ShiftReport report;
    int columns = 0;
    std::vector<domain::ReceiptRow> rows;
  };
  Report shift_report(const domain::Principal& caller, std::int64_t shift_id,
                      std::optional<int> paper_mm, std::int64_t printed_at);

 private:
  CounterService& counter_;
  PrinterTimeouts timeouts_;
};

}  // namespace yizhan::service
