// Sales and shift reports as receipt rows, ESC/POS bytes for Chinese thermal printers (GB18030
// through iconv) and print-ready HTML; direct printing to the register's network printer.
#include "yizhan/service/receipts.hpp"

#include <iconv.h>

#include <cerrno>
#include <chrono>
#include <cstdio>

#include "yizhan/domain/error.hpp"
#include "yizhan/service/qr.hpp"

namespace yizhan::service {
namespace {

using domain::Fen;
using domain::ReceiptRow;

std::string tender_label(domain::TenderMethod method) {
  switch (method) {
    case domain::TenderMethod::cash: return "现金 Cash";
    case domain::TenderMethod::wechat: return "微信 WeChat";
    case domain::TenderMethod::alipay: return "支付宝 Alipay";
    case domain::TenderMethod::card: return "银行卡 Card";
    case domain::TenderMethod::other: return "其他 Other";
    case domain::TenderMethod::wechat_code: return "微信付款码 WeChat Pay";
    case domain::TenderMethod::alipay_code: return "支付宝付款码 Alipay";
  }
  return "其他 Other";
}

std::string method_label(const std::string& method) {
  const auto parsed = domain::parse_tender_method(method);
  return parsed ? tender_label(*parsed) : method;
}

domain::Quantity quantity_of(domain::Unit unit, std::int64_t amount) {
  return unit == domain::Unit::gram ? domain::Quantity::grams(amount)
                                    : domain::Quantity::pieces(amount);
}

/// "1" pieces or "0.200kg".
std::string amount_text(domain::Unit unit, std::int64_t amount) {
  if (unit == domain::Unit::piece) return std::to_string(amount);
  char text[40];
  std::snprintf(text, sizeof text, "%lld.%03lldkg", static_cast<long long>(amount / 1000),
                static_cast<long long>(amount % 1000));
  return text;
}

/// Releases the conversion descriptor on every path.
class Converter {
 public:
  Converter(const char* to, const char* from) : descriptor_(::iconv_open(to, from)) {
    if (descriptor_ == reinterpret_cast<iconv_t>(-1)) {
      throw domain::Error(domain::ErrorCode::internal, "internal error", {},
                          std::string("iconv_open ") + from + " -> " + to + " failed");
    }
  }
  ~Converter() { ::iconv_close(descriptor_); }
  Converter(const Converter&) = delete;
  Converter& operator=(const Converter&) = delete;

  std::string convert(std::string_view input) {
    std::string output(input.size() * 2 + 16, '\0');
    char* in = const_cast<char*>(input.data());  // iconv's signature; it does not write there
    std::size_t in_left = input.size();
    std::size_t written = 0;
    while (in_left > 0) {
      char* out = output.data() + written;
      std::size_t out_left = output.size() - written;
      const std::size_t result = ::iconv(descriptor_, &in, &in_left, &out, &out_left);
      written = output.size() - out_left;
      if (result != static_cast<std::size_t>(-1)) break;
      if (errno == E2BIG) {
        output.resize(output.size() * 2);
        continue;
      }
      throw domain::Error(domain::ErrorCode::internal, "internal error", {},
                          "iconv cannot convert receipt text");
    }
    output.resize(written);
    return output;
  }

 private:
  iconv_t descriptor_;
};

void append(std::string& out, std::initializer_list<unsigned char> bytes) {
  for (const unsigned char b : bytes)
    out += static_cast<char>(b);
}

/// GS ( k: store and print a QR code (model 2, error correction M).
void append_qr(std::string& out, std::string_view data, int module_dots) {
  append(out, {0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x41, 0x32, 0x00});  // model 2
  append(out, {0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x43,
               static_cast<unsigned char>(module_dots)});         // module size
  append(out, {0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x45, 0x31});  // error correction M
  const std::size_t length = data.size() + 3;
  append(out, {0x1D, 0x28, 0x6B, static_cast<unsigned char>(length & 0xFF),
               static_cast<unsigned char>(length >> 8), 0x31, 0x50, 0x30});  // store
  out.append(data);
  append(out, {0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30});  // print
}

void escape_html(std::string& out, std::string_view text) {
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
}

/// The QR code (libqrencode) as inline SVG (one path, a 4-module quiet zone): a browser-printed
/// receipt carries the same scannable code as one from a thermal printer.
void append_qr_svg(std::string& out, std::string_view payload) {
  const QrMatrix qr = encode_qr(payload);
  const std::string side = std::to_string(qr.size + 8);
  out += "<svg class=\"qr\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + side + " " +
         side + "\" shape-rendering=\"crispEdges\" role=\"img\" aria-label=\"QR ";
  escape_html(out, payload);
  out += "\"><rect width=\"" + side + "\" height=\"" + side +
         "\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  append_svg_path(out, qr);
  out += "\"/></svg>\n";
}

std::string signed_amount(Fen amount) {
  return amount > Fen(0) ? "+" + amount.format() : amount.format();
}

}  // namespace

std::string local_time_text(std::int64_t unix_microseconds, const domain::TimeZone& zone) {
  using namespace std::chrono;
  const sys_seconds utc = floor<seconds>(sys_time<microseconds>(microseconds(unix_microseconds)));
  const auto local = utc + zone.offset();
  const auto day = floor<days>(local);
  const year_month_day date(day);
  const hh_mm_ss time(local - day);
  char text[32];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u %02d:%02d:%02d", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return text;
}

domain::ReceiptData receipt_data(const Sale& sale, const CounterSettings& settings, bool reprint) {
  domain::ReceiptData receipt;
  receipt.station_name = settings.station_name;
  receipt.sale_number = sale.number;
  receipt.time_text = local_time_text(sale.created_at, settings.zone);
  receipt.cashier = sale.cashier;
  receipt.register_name = sale.register_.name;
  receipt.reprint = reprint;
  receipt.offline = sale.offline;
  Fen line_discounts;
  for (std::size_t i = 0; i < sale.lines.size();) {
    const auto& line = sale.lines[i];
    if (line.bundle_product_id) {
      // A gift box prints as one item with what is inside (each part is its village's line).
      domain::ReceiptItem item;
      item.name = line.bundle_name;
      std::string contents;
      std::int64_t refunded_boxes = 0;
      for (; i < sale.lines.size() && sale.lines[i].bundle_product_id &&
             sale.lines[i].bundle_group == line.bundle_group;
           ++i) {
        const auto& part = sale.lines[i];
        item.amount += part.list;
        item.discount += part.line_discount;
        contents += (contents.empty() ? "" : "、") + part.name + "×" +
                    std::to_string(part.quantity / part.bundle_quantity);
        refunded_boxes = part.refunded_quantity / (part.quantity / part.bundle_quantity);
      }
      item.quantity = domain::quantity_text(quantity_of(domain::Unit::piece, line.bundle_quantity),
                                            Fen(item.amount.value() / line.bundle_quantity));
      item.note = "内含 Contents: " + contents;
      if (refunded_boxes > 0) item.note += "；已退 Refunded " + std::to_string(refunded_boxes);
      line_discounts += item.discount;
      receipt.items.push_back(std::move(item));
      continue;
    }
    ++i;
    domain::ReceiptItem item;
    item.name = line.name;
    item.quantity = domain::quantity_text(quantity_of(line.unit, line.quantity), line.unit_price);
    item.amount = line.list;
    item.discount = line.line_discount;
    if (line.refunded_quantity > 0) {
      item.note = "已退 Refunded " + amount_text(line.unit, line.refunded_quantity);
    }
    line_discounts += line.line_discount;
    receipt.items.push_back(std::move(item));
  }
  receipt.subtotal = sale.subtotal;
  const Fen sale_discount = sale.discount - line_discounts - sale.rounding;
  if (line_discounts != Fen(0))
    receipt.discounts.push_back({"单品优惠 Item discounts", line_discounts});
  if (sale_discount != Fen(0))
    receipt.discounts.push_back({"整单优惠 Sale discount", sale_discount});
  if (sale.rounding != Fen(0)) receipt.discounts.push_back({"抹零 Round-off", sale.rounding});
  receipt.total = sale.total;
  for (const auto& tender : sale.tenders) {
    std::string label = tender_label(tender.method);
    if (domain::is_code_method(tender.method) && tender.reference.size() > 8)
      label += " (…" + tender.reference.substr(tender.reference.size() - 8) + ")";
    else if (!tender.reference.empty())
      label += " (" + tender.reference + ")";
    receipt.tenders.push_back({label, tender.amount});
    if (tender.method == domain::TenderMethod::cash && tender.tendered) {
      receipt.cash_tendered = *tender.tendered;
    }
  }
  receipt.change = sale.change;
  for (const auto& refund : sale.refunds) {
    receipt.refunds.push_back({local_time_text(refund.created_at, settings.zone).substr(5, 11) +
                                   " " + method_label(refund.method),
                               refund.total});
  }
  receipt.footer = {"谢谢惠顾，欢迎再来", "Thank you, welcome back",
                    "凭此小票退换货 Keep for refunds"};
  return receipt;
}

int receipt_columns(const Register& till, std::optional<int> paper_mm) {
  const bool wide_till = till.receipt_columns >= 42;
  if (!paper_mm) {
    return std::clamp(till.receipt_columns, domain::kMinReceiptColumns, domain::kMaxReceiptColumns);
  }
  if (*paper_mm == 58) return wide_till ? 32 : std::max(till.receipt_columns, 24);
  if (*paper_mm == 80) return wide_till ? std::min(till.receipt_columns, 64) : 48;
  throw domain::Error::invalid_field("width", "width must be 58 or 80 (mm)");
}

int paper_width_mm(int columns) {
  return columns < 42 ? 58 : 80;
}

std::vector<ReceiptRow> shift_report_rows(const ShiftReport& report,
                                          const CounterSettings& settings, int columns,
                                          std::int64_t printed_at) {
  const Shift& shift = report.shift;
  const bool closed = shift.state == "closed" || report.counted_cash.has_value();
  domain::ReceiptBuilder out(columns);
  out.title(settings.station_name);
  out.centre(closed ? "交班报表 Z report" : "班次报表 X report (未交班 open)", true);
  out.separator();
  out.text("班次 Shift: " + std::to_string(shift.id));
  out.text("柜台 Register: " + shift.register_.name);
  out.text("收银 Cashier: " + shift.cashier);
  out.text("开班 Opened: " + local_time_text(shift.opened_at, settings.zone));
  if (shift.closed_at) out.text("交班 Closed: " + local_time_text(*shift.closed_at, settings.zone));
  out.separator();
  out.pair("销售笔数 Sales", std::to_string(report.sales_count));
  out.pair("销售额 Gross", report.gross.format());
  out.pair("优惠 Discounts", report.discount.format());
  out.pair("退款笔数 Refunds", std::to_string(report.refunds_count));
  out.pair("退款额 Refunded", report.refunds.format());
  out.pair("净额 Net", (report.gross - report.refunds).format(), true);
  if (!report.by_method.empty()) {
    out.separator();
    out.text("按支付方式 By tender", true);
    for (const auto& method : report.by_method) {
      out.pair(method_label(method.method), method.net.format());
      if (method.refunds != Fen(0)) {
        out.pair("  销售 Sales", method.sales.format());
        out.pair("  退款 Refunds", method.refunds.format());
      }
    }
  }
  if (!report.by_village.empty()) {
    out.separator();
    out.text("按村 By village", true);
    for (const auto& village : report.by_village) {
      out.pair(village.village_name, village.gross.format());
      out.pair("  驿站佣金 Fee", village.fee.format());
      out.pair("  村集体 Share", village.share.format());
    }
  }
  out.separator();
  out.text("现金 Cash drawer", true);
  out.pair("备用金 Float", shift.float_amount.format());
  out.pair("存入 Cash in", report.cash_in.format());
  out.pair("取出 Cash out", report.cash_out.format());
  if (report.orders_paid_count > 0)
    out.pair("到店付款订单 Paid at pickup (" + std::to_string(report.orders_paid_count) + ")",
             report.orders_paid.format());
  if (report.owed_repaid_count > 0)
    out.pair("补退顾客 Owed refunds (" + std::to_string(report.owed_repaid_count) + ")",
             report.owed_repaid.format());
  out.pair("应有现金 Expected", report.expected_cash.format(), true);
  if (report.counted_cash) out.pair("实点现金 Counted", report.counted_cash->format(), true);
  if (report.difference) {
    const char* label = *report.difference > Fen(0)   ? "长款 Over"
                        : *report.difference < Fen(0) ? "短款 Short"
                                                      : "长短款 Over/short";
    out.pair(label, signed_amount(*report.difference), true);
  }
  out.separator();
  out.text("打印 Printed: " + local_time_text(printed_at, settings.zone));
  out.blank();
  out.text("收银员签字 Cashier:");
  out.blank();
  out.text("主管签字 Manager:");
  out.blank();
  return out.rows();
}

std::string to_gb18030(std::string_view utf8) {
  Converter converter("GB18030", "UTF-8");
  return converter.convert(utf8);
}

std::string encode_escpos(const std::vector<ReceiptRow>& rows, int columns) {
  Converter converter("GB18030", "UTF-8");
  std::string out;
  append(out, {0x1B, 0x40});  // ESC @: initialise
  append(out, {0x1C, 0x26});  // FS &: Chinese mode (GB18030 double-byte codes)
  domain::Align align = domain::Align::left;
  const auto set_align = [&](domain::Align wanted) {
    if (wanted == align) return;
    align = wanted;
    const unsigned char n = wanted == domain::Align::left     ? 0
                            : wanted == domain::Align::centre ? 1
                                                              : 2;
    append(out, {0x1B, 0x61, n});
  };
  bool bold = false;
  domain::Size size = domain::Size::normal;
  const auto set_style = [&](bool wanted_bold, domain::Size wanted_size) {
    if (wanted_bold != bold) {
      bold = wanted_bold;
      append(out, {0x1B, 0x45, static_cast<unsigned char>(bold ? 1 : 0)});
    }
    if (wanted_size != size) {
      size = wanted_size;
      // GS ! for ASCII (0x10 double width, 0x01 double height), FS ! for hanzi (0x04 double
      // width, 0x08 double height).
      const bool wide = size == domain::Size::double_size;
      const bool high = size != domain::Size::normal;
      append(out, {0x1D, 0x21, static_cast<unsigned char>((wide ? 0x10 : 0) | (high ? 0x01 : 0))});
      append(out, {0x1C, 0x21, static_cast<unsigned char>((wide ? 0x04 : 0) | (high ? 0x08 : 0))});
    }
  };
  const int module_dots = paper_width_mm(columns) == 58 ? 6 : 8;
  for (const auto& row : rows) {
    switch (row.kind) {
      case ReceiptRow::Kind::text:
        set_align(row.align);
        set_style(row.bold, row.size);
        out += converter.convert(row.line(columns));
        out += '\n';
        break;
      case ReceiptRow::Kind::separator:
        set_align(domain::Align::left);
        set_style(false, domain::Size::normal);
        out += row.line(columns);
        out += '\n';
        break;
      case ReceiptRow::Kind::blank: out += '\n'; break;
      case ReceiptRow::Kind::qr_code:
        set_align(domain::Align::centre);
        set_style(false, domain::Size::normal);
        append_qr(out, converter.convert(row.left), module_dots);
        out += '\n';
        break;
    }
  }
  set_align(domain::Align::left);
  set_style(false, domain::Size::normal);
  append(out, {0x1B, 0x64, 0x04});  // ESC d 4: feed past the cutter
  append(out, {0x1D, 0x56, 0x01});  // GS V 1: partial cut
  return out;
}

std::string render_receipt_html(const std::vector<ReceiptRow>& rows, int columns,
                                std::string_view title) {
  std::string out =
      "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
      "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>";
  escape_html(out, title);
  out += "</title>\n<link rel=\"stylesheet\" href=\"/api/v1/pos/receipt.css\">\n";
  out += "<script src=\"/api/v1/pos/receipt.js\" defer></script>\n</head>\n";
  out += "<body class=\"paper-" + std::to_string(paper_width_mm(columns)) + " columns-" +
         std::to_string(columns) + "\">\n<main class=\"receipt\">\n";
  for (const auto& row : rows) {
    switch (row.kind) {
      case ReceiptRow::Kind::separator: out += "<div class=\"rule\"></div>\n"; break;
      case ReceiptRow::Kind::blank: out += "<div class=\"row\"> </div>\n"; break;
      case ReceiptRow::Kind::qr_code: append_qr_svg(out, row.left); break;
      case ReceiptRow::Kind::text: {
        out += "<div class=\"row";
        if (!row.right.empty()) out += " pair";
        if (row.align == domain::Align::centre) out += " centre";
        if (row.align == domain::Align::right) out += " right";
        if (row.bold) out += " bold";
        if (row.size == domain::Size::double_size) out += " double";
        if (row.size == domain::Size::tall) out += " tall";
        out += "\">";
        if (row.right.empty()) {
          escape_html(out, row.left);
        } else {
          out += "<span>";
          escape_html(out, row.left);
          out += "</span><span class=\"amount\">";
          escape_html(out, row.right);
          out += "</span>";
        }
        out += "</div>\n";
        break;
      }
    }
  }
  out +=
      "</main>\n<p class=\"actions\"><button type=\"button\" id=\"print\">打印 Print</button>"
      "</p>\n</body>\n</html>\n";
  return out;
}

ReceiptService::Receipt ReceiptService::receipt(std::int64_t sale_id, std::optional<int> paper_mm,
                                                bool reprint) {
  Receipt result{counter_.sale(sale_id), 0, {}};
  result.columns = receipt_columns(result.sale.register_, paper_mm);
  result.rows = domain::layout_receipt(receipt_data(result.sale, counter_.settings(), reprint),
                                       result.columns);
  return result;
}

PrintResult ReceiptService::print(std::int64_t sale_id, bool reprint) {
  const auto receipt = this->receipt(sale_id, std::nullopt, reprint);
  const Register& till = receipt.sale.register_;
  if (!till.printer_host || till.printer_host->empty()) {
    throw domain::Error(domain::ErrorCode::conflict,
                        "柜台 " + till.name + " 没有配置小票打印机 (register " + till.name +
                            " has no receipt printer configured)",
                        {{"register", till.name}});
  }
  const int port = till.printer_port.value_or(kDefaultPrinterPort);
  const std::string bytes = encode_escpos(receipt.rows, receipt.columns);
  send_to_printer(*till.printer_host, port, bytes, timeouts_);
  return {*till.printer_host + ":" + std::to_string(port), bytes.size(), reprint, receipt.columns};
}

ReceiptService::Report ReceiptService::shift_report(const domain::Principal& caller,
                                                    std::int64_t shift_id,
                                                    std::optional<int> paper_mm,
                                                    std::int64_t printed_at) {
  Report result{counter_.shift_report(caller, shift_id), 0, {}};
  result.columns = receipt_columns(result.report.shift.register_, paper_mm);
  result.rows = shift_report_rows(result.report, counter_.settings(), result.columns, printed_at);
  return result;
}

}  // namespace yizhan::service
