// Receipts: display widths and wrapping, the sale's layout, and ESC/POS bytes decoded back to
// text rows (commands stripped, GB18030 → UTF-8) with their widths, QR payload and cut.
#include <gtest/gtest.h>
#include <iconv.h>
#include <qrencode.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "yizhan/domain/error.hpp"
#include "yizhan/domain/receipt.hpp"
#include "yizhan/domain/text.hpp"
#include "yizhan/service/qr.hpp"
#include "yizhan/service/receipts.hpp"

namespace {

using yizhan::domain::Fen;
using yizhan::domain::ReceiptRow;
namespace domain = yizhan::domain;
namespace service = yizhan::service;

std::string from_gb18030(const std::string& bytes) {
  iconv_t descriptor = iconv_open("UTF-8", "GB18030");
  EXPECT_NE(descriptor, reinterpret_cast<iconv_t>(-1));
  std::string output(bytes.size() * 4 + 16, '\0');
  char* in = const_cast<char*>(bytes.data());
  std::size_t in_left = bytes.size();
  char* out = output.data();
  std::size_t out_left = output.size();
  const std::size_t result = iconv(descriptor, &in, &in_left, &out, &out_left);
  iconv_close(descriptor);
  EXPECT_NE(result, static_cast<std::size_t>(-1)) << "not GB18030";
  output.resize(output.size() - out_left);
  return output;
}

/// What a printer would do with the bytes, as far as the tests care.
struct Decoded {
  std::vector<std::string> rows;  ///< text rows in UTF-8 (blank rows and QR rows are "")
  std::vector<bool> double_size;  ///< per row
  std::vector<int> align;         ///< per row: 0 left, 1 centre, 2 right
  std::vector<std::string> qr_payloads;
  bool initialised = false;
  bool chinese_mode = false;
  bool cut_last = false;
};

/// Strips the ESC/POS commands the encoder may send; any other control byte fails the test.
Decoded decode_escpos(const std::string& bytes) {
  Decoded decoded;
  std::string text;
  int align = 0;
  bool double_size = false;
  std::size_t i = 0;
  const auto at = [&](std::size_t k) { return static_cast<unsigned char>(bytes.at(k)); };
  while (i < bytes.size()) {
    const unsigned char b = at(i);
    decoded.cut_last = false;
    if (b == 0x0A) {
      decoded.rows.push_back(from_gb18030(text));
      decoded.double_size.push_back(double_size);
      decoded.align.push_back(align);
      text.clear();
      ++i;
    } else if (b == 0x1B && at(i + 1) == 0x40) {
      decoded.initialised = i == 0;
      i += 2;
    } else if (b == 0x1C && at(i + 1) == 0x26) {
      decoded.chinese_mode = true;
      i += 2;
    } else if (b == 0x1B && at(i + 1) == 0x61) {
      align = at(i + 2);
      i += 3;
    } else if (b == 0x1B && (at(i + 1) == 0x45 || at(i + 1) == 0x64)) {
      i += 3;
    } else if (b == 0x1D && at(i + 1) == 0x21) {
      double_size = (at(i + 2) & 0x10) != 0;  // double width halves the columns
      i += 3;
    } else if (b == 0x1C && at(i + 1) == 0x21) {
      i += 3;
    } else if (b == 0x1D && at(i + 1) == 0x56) {
      i += at(i + 2) >= 65 ? 4 : 3;
      decoded.cut_last = true;
    } else if (b == 0x1D && at(i + 1) == 0x28 && at(i + 2) == 0x6B) {
      const std::size_t length = at(i + 3) + 256 * at(i + 4);
      EXPECT_EQ(at(i + 5), 0x31) << "QR commands have cn = 49";
      if (at(i + 6) == 0x50) {
        decoded.qr_payloads.push_back(bytes.substr(i + 8, length - 3));
      }
      i += 5 + length;
    } else if (b < 0x20) {
      ADD_FAILURE() << "unexpected control byte " << int(b) << " at " << i;
      ++i;
    } else {
      text += static_cast<char>(b);
      ++i;
    }
  }
  EXPECT_TRUE(text.empty()) << "text after the last line feed";
  return decoded;
}

service::Sale sample_sale() {
  service::Sale sale;
  sale.id = 42;
  sale.number = "20261202-1-0042";
  sale.register_ = {1, "柜台1", std::nullopt, std::nullopt, 32};
  sale.cashier = "李梅";
  sale.created_at = 1'796'191'140'000'000;  // 2026-12-02T05:59:00Z = 13:59:00 in Shanghai
  service::SaleLine tea;
  tea.name = "安溪铁观音礼盒装（浓香型）特级 500g 送礼佳品";
  tea.unit = domain::Unit::piece;
  tea.quantity = 2;
  tea.unit_price = Fen(12800);
  tea.list = Fen(25600);
  tea.line_discount = Fen(500);
  service::SaleLine peanuts;
  peanuts.name = "花生（散称）";
  peanuts.unit = domain::Unit::gram;
  peanuts.quantity = 352;
  peanuts.unit_price = Fen(3600);
  peanuts.list = Fen(1267);
  peanuts.refunded_quantity = 100;
  sale.lines = {tea, peanuts};
  sale.subtotal = Fen(26867);
  sale.rounding = Fen(67);
  sale.discount = Fen(500 + 200 + 67);
  sale.total = Fen(26100);
  sale.change = Fen(3900);
  sale.tenders = {{domain::TenderMethod::cash, Fen(16100), Fen(20000), ""},
                  {domain::TenderMethod::wechat, Fen(10000), std::nullopt, ""}};
  sale.refunds = {{7, "cash", Fen(360), 1'796'194'800'000'000}};
  return sale;
}

service::CounterSettings settings() {
  service::CounterSettings s;
  s.station_name = "安海镇乡村联盟驿站";
  return s;
}

bool contains(const std::vector<std::string>& rows, const std::string& text) {
  for (const auto& row : rows)
    if (row.find(text) != std::string::npos) return true;
  return false;
}

TEST(ReceiptWidth, AsciiTakesOneColumnAndEverythingElseTwo) {
  EXPECT_EQ(domain::display_width("abc 12.50"), 9);
  EXPECT_EQ(domain::display_width("铁观音"), 6);
  EXPECT_EQ(domain::display_width("2 × 12.50"), 10);  // × is a full-width GB18030 glyph
  EXPECT_EQ(domain::display_width("（浓香型）"), 10);
  EXPECT_EQ(domain::display_width(""), 0);
}

TEST(ReceiptWidth, PrintableTextDropsPrinterCommandsAndBadBytes) {
  EXPECT_EQ(domain::printable_text("茶\x1b@\x1dV\x01叶"), "茶@V叶");
  EXPECT_EQ(domain::printable_text("a\tb\nc"), "a b c");
  EXPECT_EQ(domain::printable_text("\xe8\x8c"), "??");  // a hanzi cut in half
  EXPECT_TRUE(domain::is_valid_utf8(domain::printable_text("\xff\xfe茶")));
}

TEST(ReceiptWrap, LongHanziNamesBreakByWidthNeverInsideACharacter) {
  const std::string name = "安溪铁观音礼盒装浓香型特级送礼佳品每盒五百克";  // 22 hanzi
  const auto rows = domain::wrap_text(name, 32);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(domain::display_width(rows[0]), 32);
  EXPECT_EQ(rows[0] + rows[1], name);
  // An odd width leaves its last column empty rather than split a hanzi.
  const auto odd = domain::wrap_text(name, 31);
  EXPECT_EQ(domain::display_width(odd[0]), 30);
  for (const auto& row : odd)
    EXPECT_TRUE(domain::is_valid_utf8(row));
}

TEST(ReceiptWrap, AsciiWordsMoveWholeToTheNextRow) {
  const auto rows = domain::wrap_text("Anhai peanuts roasted with sea salt", 24);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0], "Anhai peanuts roasted");
  EXPECT_EQ(rows[1], "with sea salt");
  const auto mixed = domain::wrap_text("红茶红茶红茶红茶红茶black tea", 24);
  ASSERT_EQ(mixed.size(), 2u);
  EXPECT_EQ(mixed[0], "红茶红茶红茶红茶红茶");
  EXPECT_EQ(mixed[1], "black tea");
  // A word longer than a row is broken where the row is full.
  const auto long_word = domain::wrap_text(std::string(30, 'x'), 24);
  ASSERT_EQ(long_word.size(), 2u);
  EXPECT_EQ(long_word[0].size(), 24u);
  EXPECT_TRUE(domain::wrap_text("", 24).empty());
}

TEST(ReceiptWrap, RandomTextFitsItsWidthAndLosesOnlySpaces) {
  const std::vector<std::string> pieces = {"茶", "a", "B", " ", "1", "（", "×", "鱼", "é", "-"};
  std::mt19937 random(8);
  for (int round = 0; round < 3000; ++round) {
    std::string text;
    const int length = static_cast<int>(random() % 60);
    for (int i = 0; i < length; ++i)
      text += pieces[random() % pieces.size()];
    const int columns = 2 + static_cast<int>(random() % 63);
    const auto rows = domain::wrap_text(text, columns);
    std::string joined, original;
    for (const auto& row : rows) {
      ASSERT_LE(domain::display_width(row), columns) << text;
      ASSERT_TRUE(domain::is_valid_utf8(row));
      ASSERT_FALSE(row.empty());
      ASSERT_NE(row.front(), ' ');
      ASSERT_NE(row.back(), ' ');
      for (char c : row)
        if (c != ' ') joined += c;
    }
    for (char c : text)
      if (c != ' ') original += c;
    ASSERT_EQ(joined, original) << text << " at " << columns;
  }
}

TEST(ReceiptLayout, QuantityTextShowsWeightAndPricePerKilogram) {
  EXPECT_EQ(domain::quantity_text(domain::Quantity::pieces(2), Fen(12800)), "2 × 128.00");
  EXPECT_EQ(domain::quantity_text(domain::Quantity::grams(352), Fen(3600)), "0.352kg × 36.00/kg");
  EXPECT_EQ(domain::quantity_text(domain::Quantity::grams(1500), Fen(990)), "1.500kg × 9.90/kg");
}

TEST(ReceiptLayout, PairsFillTheRowAndLongLabelsWrap) {
  domain::ReceiptBuilder builder(32);
  builder.pair("应收 Total", "261.00");
  builder.pair("安溪铁观音礼盒装浓香型特级送礼佳品", "1234567.00");
  const auto& rows = builder.rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].line(32), "应收 Total" + std::string(16, ' ') + "261.00");
  EXPECT_EQ(domain::display_width(rows[1].line(32)), 32);
  EXPECT_TRUE(rows[1].right.empty());
  EXPECT_EQ(rows[2].right, "1234567.00");
  EXPECT_EQ(domain::display_width(rows[2].line(32)), 32);
  EXPECT_THROW(domain::ReceiptBuilder(12), yizhan::domain::Error);
}

TEST(ReceiptLayout, TitleIsDoubleSizeOnlyWhenItFitsOneRow) {
  domain::ReceiptBuilder wide(48);
  wide.title("安海镇乡村联盟驿站");  // 18 columns ≤ 24
  ASSERT_EQ(wide.rows().size(), 1u);
  EXPECT_EQ(wide.rows()[0].size, domain::Size::double_size);
  domain::ReceiptBuilder narrow(32);
  narrow.title("安海镇乡村联盟驿站");  // 18 > 16: double height only, one row
  ASSERT_EQ(narrow.rows().size(), 1u);
  EXPECT_EQ(narrow.rows()[0].size, domain::Size::tall);
  EXPECT_TRUE(narrow.rows()[0].bold);
}

TEST(ReceiptLayout, EveryRowFitsEveryPaper) {
  for (const int columns : {24, 32, 42, 48, 64}) {
    for (const bool reprint : {false, true}) {
      const auto rows = domain::layout_receipt(
          service::receipt_data(sample_sale(), settings(), reprint), columns);
      for (const auto& row : rows) {
        const int budget = row.size == domain::Size::double_size ? columns / 2 : columns;
        EXPECT_LE(domain::display_width(row.line(columns)), budget) << row.left;
        if (!row.right.empty()) {
          EXPECT_EQ(domain::display_width(row.line(columns)), columns);
        }
      }
    }
  }
}

TEST(ReceiptLayout, SaleBecomesItsReceiptText) {
  const auto data = service::receipt_data(sample_sale(), settings(), false);
  EXPECT_EQ(data.time_text, "2026-12-02 13:59:00");
  ASSERT_EQ(data.items.size(), 2u);
  EXPECT_EQ(data.items[1].quantity, "0.352kg × 36.00/kg");
  EXPECT_EQ(data.items[1].note, "已退 Refunded 0.100kg");
  ASSERT_EQ(data.discounts.size(), 3u);  // item, sale, 抹零
  EXPECT_EQ(data.discounts[0].amount, Fen(500));
  EXPECT_EQ(data.discounts[1].amount, Fen(200));
  EXPECT_EQ(data.discounts[2].label, "抹零 Round-off");
  EXPECT_EQ(data.discounts[2].amount, Fen(67));
  ASSERT_TRUE(data.cash_tendered);
  EXPECT_EQ(*data.cash_tendered, Fen(20000));
  ASSERT_EQ(data.refunds.size(), 1u);
  EXPECT_EQ(data.refunds[0].label, "12-02 15:00 现金 Cash");
}

TEST(ReceiptEscPos, DecodesBackToTheLaidOutRows) {
  const auto rows =
      domain::layout_receipt(service::receipt_data(sample_sale(), settings(), false), 32);
  const std::string bytes = service::encode_escpos(rows, 32);
  const auto decoded = decode_escpos(bytes);
  EXPECT_TRUE(decoded.initialised);
  EXPECT_TRUE(decoded.chinese_mode);
  EXPECT_TRUE(decoded.cut_last) << "the job ends with a cut";

  // One printed row per layout row, each the row's text, none wider than the paper.
  ASSERT_EQ(decoded.rows.size(), rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(decoded.rows[i], rows[i].line(32)) << i;
    const int budget = decoded.double_size[i] ? 16 : 32;
    EXPECT_LE(domain::display_width(decoded.rows[i]), budget) << decoded.rows[i];
  }
  // Nine hanzi do not fit 16 double-width columns: the title is double height only.
  EXPECT_EQ(decoded.rows[0], "安海镇乡村联盟驿站");
  EXPECT_FALSE(decoded.double_size[0]);
  EXPECT_EQ(rows[0].size, domain::Size::tall);
  EXPECT_EQ(decoded.align[0], 1);
  EXPECT_TRUE(contains(decoded.rows, "单号 No.: 20261202-1-0042"));
  EXPECT_TRUE(contains(decoded.rows, "时间 Time: 2026-12-02 13:59:00"));
  EXPECT_TRUE(contains(decoded.rows, "收银 Cashier: 李梅"));
  EXPECT_TRUE(contains(decoded.rows, "  0.352kg × 36.00/kg"));
  EXPECT_TRUE(contains(decoded.rows, "抹零 Round-off"));
  EXPECT_FALSE(contains(decoded.rows, "补打"));
  // The long name wrapped onto two rows; the pair rows are exactly the paper's width.
  EXPECT_TRUE(contains(decoded.rows, "安溪铁观音礼盒装（浓香型）特级"));
  const std::string total_row = "应收 Total" + std::string(16, ' ') + "261.00";
  EXPECT_TRUE(contains(decoded.rows, total_row));
  const std::string change_row = "找零 Change" + std::string(16, ' ') + "39.00";
  EXPECT_TRUE(contains(decoded.rows, change_row));
  EXPECT_TRUE(contains(decoded.rows, "12-02 15:00 现金 Cash"));

  ASSERT_EQ(decoded.qr_payloads.size(), 1u);
  EXPECT_EQ(decoded.qr_payloads[0], "20261202-1-0042");
}

TEST(ReceiptEscPos, ReprintIsMarked) {
  const auto rows =
      domain::layout_receipt(service::receipt_data(sample_sale(), settings(), true), 48);
  const auto decoded = decode_escpos(service::encode_escpos(rows, 48));
  EXPECT_TRUE(contains(decoded.rows, "** 补打 REPRINT **"));
  for (const auto& row : decoded.rows)
    EXPECT_LE(domain::display_width(row), 48);
}

TEST(ReceiptEscPos, ChineseIsGb18030AndQrFollowsTheStandardFraming) {
  EXPECT_EQ(service::to_gb18030("中文×"), "\xd6\xd0\xce\xc4\xa1\xc1");
  domain::ReceiptBuilder builder(32);
  builder.qr_code("1234");
  const std::string bytes = service::encode_escpos(builder.rows(), 32);
  // Store "1234": GS ( k pL=7 pH=0 cn=49 fn=80 m=48 data, as escpos-php's qr("1234").
  EXPECT_NE(bytes.find(std::string("\x1d(k\x07\x00"
                                   "1P01234",
                                   12)),
            std::string::npos);
  EXPECT_NE(bytes.find(std::string("\x1d(k\x03\x00"
                                   "1Q0",
                                   8)),
            std::string::npos);
  EXPECT_NE(bytes.find(std::string("\x1d(k\x04\x00"
                                   "1A2\x00",
                                   9)),
            std::string::npos);
}

TEST(ReceiptEscPos, ANameCannotSmuggleCommandsToThePrinter) {
  auto sale = sample_sale();
  sale.lines[0].name = "茶\x1dV\x01\x1bp\x00\x19\xfa";
  const auto rows = domain::layout_receipt(service::receipt_data(sale, settings(), false), 32);
  const auto decoded = decode_escpos(service::encode_escpos(rows, 32));  // fails on stray controls
  EXPECT_TRUE(contains(decoded.rows, "茶Vp"));
}

/// libqrencode's own modules for `data` (byte mode, level M), row by row, '#' dark.
std::vector<std::string> libqrencode_rows(const std::string& data) {
  QRcode* code =
      QRcode_encodeData(static_cast<int>(data.size()),
                        reinterpret_cast<const unsigned char*>(data.data()), 0, QR_ECLEVEL_M);
  EXPECT_NE(code, nullptr);
  std::vector<std::string> rows;
  if (code == nullptr) return rows;
  for (int y = 0; y < code->width; ++y) {
    std::string row;
    for (int x = 0; x < code->width; ++x)
      row += (code->data[y * code->width + x] & 1) != 0 ? '#' : '.';
    rows.push_back(row);
  }
  QRcode_free(code);
  return rows;
}

std::vector<std::string> qr_rows(const service::QrMatrix& qr) {
  std::vector<std::string> rows;
  for (int y = 0; y < qr.size; ++y) {
    std::string row;
    for (int x = 0; x < qr.size; ++x)
      row += qr.at(x, y) ? '#' : '.';
    rows.push_back(row);
  }
  return rows;
}

/// The modules an HTML receipt's <svg class="qr"> draws ("M x y h1v1h-1z" per dark module, a
/// 4-module quiet zone), row by row as qr_rows() gives them.
std::vector<std::string> svg_qr_rows(const std::string& html) {
  const auto svg = html.find("<svg class=\"qr\"");
  EXPECT_NE(svg, std::string::npos);
  if (svg == std::string::npos) return {};
  const auto view = html.find("viewBox=\"0 0 ", svg);
  const int side = std::stoi(html.substr(view + 13));
  const int size = side - 8;
  std::vector<std::string> rows(static_cast<std::size_t>(size), std::string(size, '.'));
  const auto begin = html.find(" d=\"", svg) + 4;
  const auto end = html.find('"', begin);
  std::size_t at = begin;
  while (at < end) {
    EXPECT_EQ(html[at], 'M');
    std::size_t used = 0;
    const int x = std::stoi(html.substr(at + 1), &used) - 4;
    at += 1 + used + 1;
    const int y = std::stoi(html.substr(at), &used) - 4;
    at += used;
    EXPECT_EQ(html.compare(at, 8, "h1v1h-1z"), 0);
    at += 8;
    EXPECT_TRUE(x >= 0 && y >= 0 && x < size && y < size) << "in the quiet zone: " << x << "," << y;
    if (x >= 0 && y >= 0 && x < size && y < size)
      rows[static_cast<std::size_t>(y)][static_cast<std::size_t>(x)] = '#';
  }
  return rows;
}

TEST(ReceiptQrCode, IsLibqrencodesCodeAtLevelM) {
  const auto qr = service::encode_qr("20261202-1-42");
  EXPECT_EQ(qr.size, 21);  // version 1
  EXPECT_EQ(qr_rows(qr), libqrencode_rows("20261202-1-42"));
  // Finder patterns in three corners, the dark module beside the lower one, timing rows.
  const int n = qr.size;
  for (const auto& [x, y] : {std::pair{0, 0}, std::pair{n - 7, 0}, std::pair{0, n - 7}}) {
    EXPECT_TRUE(qr.at(x, y) && qr.at(x + 6, y + 6) && qr.at(x + 3, y + 3));
    EXPECT_FALSE(qr.at(x + 1, y + 1));
  }
  EXPECT_TRUE(qr.at(8, n - 8));
  for (int i = 8; i < n - 8; ++i) {
    EXPECT_EQ(qr.at(i, 6), i % 2 == 0);
    EXPECT_EQ(qr.at(6, i), i % 2 == 0);
  }
}

TEST(ReceiptQrCode, PicksTheSmallestVersionInByteModeAtLevelM) {
  // Byte-mode capacity at level M (ISO/IEC 18004 table 7) for versions 1, 2 and 10: were it
  // level L the first would fit 17 bytes, were it numeric or alphanumeric far more.
  for (const auto& [bytes, version] : {std::pair{14, 1}, std::pair{26, 2}, std::pair{213, 10}}) {
    EXPECT_EQ(service::encode_qr(std::string(static_cast<std::size_t>(bytes), '1')).size,
              17 + 4 * version);
    EXPECT_EQ(service::encode_qr(std::string(static_cast<std::size_t>(bytes) + 1, '1')).size,
              17 + 4 * (version + 1));
  }
}

TEST(ReceiptColumns, PaperWidthPicksTheRegistersColumns) {
  const service::Register narrow{1, "柜台1", std::nullopt, std::nullopt, 32};
  const service::Register epson{2, "柜台2", std::string("10.0.0.9"), 9100, 42};
  EXPECT_EQ(service::receipt_columns(narrow, std::nullopt), 32);
  EXPECT_EQ(service::receipt_columns(narrow, 80), 48);
  EXPECT_EQ(service::receipt_columns(epson, std::nullopt), 42);
  EXPECT_EQ(service::receipt_columns(epson, 80), 42);
  EXPECT_EQ(service::receipt_columns(epson, 58), 32);
  EXPECT_THROW(service::receipt_columns(epson, 76), yizhan::domain::Error);
  EXPECT_EQ(service::paper_width_mm(32), 58);
  EXPECT_EQ(service::paper_width_mm(42), 80);
}

TEST(ReceiptHtml, EscapesTextAndNamesThePaper) {
  auto sale = sample_sale();
  sale.lines[0].name = "<script>alert(1)</script> & 茶";
  const auto rows = domain::layout_receipt(service::receipt_data(sale, settings(), true), 48);
  const auto html = service::render_receipt_html(rows, 48, "小票 Receipt 1");
  EXPECT_EQ(html.find("<script>alert"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt; &amp; 茶"), std::string::npos);
  EXPECT_NE(html.find("class=\"paper-80 columns-48\""), std::string::npos);
  EXPECT_NE(html.find("补打 REPRINT"), std::string::npos);
  EXPECT_NE(html.find("<link rel=\"stylesheet\" href=\"/api/v1/pos/receipt.css\">"),
            std::string::npos);
  // The sale number's QR code as inline SVG: 25 modules (version 2) and the quiet zone, module
  // for module libqrencode's code of the number.
  EXPECT_NE(html.find("<svg class=\"qr\""), std::string::npos);
  EXPECT_NE(html.find("viewBox=\"0 0 33 33\""), std::string::npos);
  EXPECT_NE(html.find("aria-label=\"QR 20261202-1-0042\""), std::string::npos);
  EXPECT_EQ(svg_qr_rows(html), libqrencode_rows("20261202-1-0042"));
}

TEST(ShiftReportPrint, ZReportShowsTheDrawerAndTheDifference) {
  service::ShiftReport report;
  report.shift.id = 9;
  report.shift.register_ = {1, "柜台1", std::nullopt, std::nullopt, 32};
  report.shift.cashier = "李梅";
  report.shift.state = "closed";
  report.shift.float_amount = Fen(50000);
  report.shift.opened_at = 1'796'169'600'000'000;
  report.shift.closed_at = 1'796'212'800'000'000;
  report.sales_count = 12;
  report.gross = Fen(123456);
  report.discount = Fen(1000);
  report.refunds_count = 1;
  report.refunds = Fen(360);
  report.by_method = {{"cash", Fen(80000), Fen(360), Fen(79640)},
                      {"wechat", Fen(43456), Fen(0), Fen(43456)}};
  report.by_village = {{3, "曾厝垵村（海产品合作社）", Fen(60000), Fen(6000), Fen(54000)}};
  report.expected_cash = Fen(129640);
  report.counted_cash = Fen(129540);
  report.difference = Fen(-100);
  const auto rows = service::shift_report_rows(report, settings(), 32, 1'796'212'800'000'000);
  const auto decoded = decode_escpos(service::encode_escpos(rows, 32));
  EXPECT_TRUE(contains(decoded.rows, "交班报表 Z report"));
  EXPECT_TRUE(contains(decoded.rows, "短款 Short" + std::string(17, ' ') + "-1.00"));
  EXPECT_TRUE(contains(decoded.rows, "实点现金 Counted"));
  EXPECT_TRUE(contains(decoded.rows, "曾厝垵村（海产品合作社）"));
  EXPECT_TRUE(contains(decoded.rows, "微信 WeChat"));
  for (const auto& row : decoded.rows)
    EXPECT_LE(domain::display_width(row), 32) << row;
  EXPECT_TRUE(decoded.qr_payloads.empty());

  report.shift.state = "open";
  report.counted_cash.reset();
  report.difference.reset();
  const auto x_rows = service::shift_report_rows(report, settings(), 32, 1'796'212'800'000'000);
  const auto x = decode_escpos(service::encode_escpos(x_rows, 32));
  EXPECT_TRUE(contains(x.rows, "班次报表 X report (未交班 open)"));
  EXPECT_FALSE(contains(x.rows, "短款"));
}

}  // namespace
