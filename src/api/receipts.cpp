// Receipts (API.md "Counter"): a sale's 小票 as HTML for 58/80 mm paper or as ESC/POS bytes,
// printing it on the register's network printer, and the printable X/Z shift report.
#include "receipts.hpp"

#include <chrono>
#include <memory>

#include "json.hpp"
#include "yizhan/service/receipts.hpp"

namespace yizhan::api {
namespace {

using domain::Error;

// The receipt page's stylesheet: the server's Content-Security-Policy allows only same-origin
// styles and scripts, so they are served beside the page rather than inlined. Font size is the
// printable width over the hanzi per row, so a row of N columns fills the paper.
constexpr std::string_view kReceiptCss =
    R"css(/* Receipts (小票) and shift reports on 58 / 80 mm thermal paper. */
@page { margin: 0; }
html { background: #e8e8e8; }
body { margin: 8px auto; padding: 3mm 5mm; background: #fff; color: #000;
  font-family: "Noto Sans Mono CJK SC", "Sarasa Mono SC", "WenQuanYi Zen Hei Mono", "SimSun",
    "Microsoft YaHei", monospace;
  line-height: 1.35; box-sizing: border-box; }
body.paper-58 { width: 58mm; font-size: 3mm; }
body.paper-80 { width: 80mm; padding: 3mm 4mm; font-size: 3mm; }
body.paper-80.columns-42 { font-size: 3.4mm; }
.row { white-space: pre-wrap; overflow-wrap: anywhere; min-height: 1.35em; }
.row.pair { display: flex; justify-content: space-between; gap: 1ch; }
.row.pair .amount { white-space: nowrap; font-variant-numeric: tabular-nums; }
.centre { text-align: center; }
.right { text-align: right; }
.bold { font-weight: bold; }
.double { font-size: 2em; line-height: 1.2; }
.tall { font-size: 1.5em; line-height: 1.3; }
.rule { border-top: 1px dashed #000; margin: 0.6em 0; }
.qr { display: block; width: 26mm; height: 26mm; margin: 1mm auto; }
.actions { text-align: center; font-family: sans-serif; margin-top: 6mm; }
.actions button { font-size: 16px; padding: 6px 18px; }
@media print {
  html { background: none; }
  body { margin: 0; box-shadow: none; }
  body.paper-58 { width: 58mm; }
  body.paper-80 { width: 80mm; }
  .actions { display: none; }
}
)css";

constexpr std::string_view kReceiptJs =
    R"js(// The receipt page: its print button, and ?print=1 prints as soon as it is shown.
document.getElementById('print')?.addEventListener('click', () => window.print());
if (new URLSearchParams(location.search).get('print') === '1') {
  window.addEventListener('load', () => window.print());
}
)js";

/// ?width=58|80 (paper in mm), or nothing for the register's own setting.
std::optional<int> paper_width(const Request& request) {
  const auto found = request.query.find("width");
  if (found == request.query.end() || found->second.empty()) return std::nullopt;
  if (found->second == "58") return 58;
  if (found->second == "80") return 80;
  throw Error::invalid_field("width", "width must be 58 or 80 (mm paper)");
}

/// ?format=html (default) or escpos.
bool wants_escpos(const Request& request) {
  const auto found = request.query.find("format");
  if (found == request.query.end() || found->second.empty() || found->second == "html") {
    return false;
  }
  if (found->second == "escpos") return true;
  throw Error::invalid_field("format", "format must be html or escpos");
}

Response text_response(std::string content_type, std::string body) {
  Response response;
  response.content_type = std::move(content_type);
  response.body = std::move(body);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

/// The rows as ESC/POS bytes or as the HTML page.
Response rendered(const std::vector<domain::ReceiptRow>& rows, int columns, bool escpos,
                  const std::string& title, const std::string& file_name) {
  if (escpos) {
    auto response =
        text_response("application/octet-stream", service::encode_escpos(rows, columns));
    response.headers.emplace_back("Content-Disposition",
                                  "attachment; filename=\"" + file_name + ".bin\"");
    response.headers.emplace_back("X-Receipt-Columns", std::to_string(columns));
    return response;
  }
  return text_response("text/html; charset=utf-8",
                       service::render_receipt_html(rows, columns, title));
}

/// A sale number as a file name: digits, letters and '-' only.
std::string file_name_of(std::string_view text) {
  std::string name;
  for (const char c : text) {
    const bool safe = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    name += safe ? c : '-';
  }
  return name;
}

std::int64_t now_microseconds() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

void add_receipt_routes(Router& router, service::CounterService& counter) {
  // Stateless: every request renders from the sale as stored.
  const auto receipts = std::make_shared<service::ReceiptService>(counter);

  // GET /api/v1/pos/sales/{id}/receipt
  router.add({"GET", "/api/v1/pos/sales/{id}/receipt", Access::staff, Executor::database,
              [receipts](const Request& request) {
                const bool escpos = wants_escpos(request);
                const auto receipt = receipts->receipt(path_id(request), paper_width(request),
                                                       query_flag(request, "reprint"));
                return rendered(receipt.rows, receipt.columns, escpos,
                                "小票 Receipt " + receipt.sale.number,
                                "receipt-" + file_name_of(receipt.sale.number));
              }});

  // POST /api/v1/pos/sales/{id}/print
  router.add({"POST", "/api/v1/pos/sales/{id}/print", Access::staff, Executor::database,
              [receipts](const Request& request) {
                bool reprint = query_flag(request, "reprint");
                if (!request.body.empty()) {
                  const auto body = parse_object(request);
                  reject_unknown_fields(body, {"reprint"});
                  reprint = boolean_field(body, "reprint").value_or(reprint);
                }
                const auto printed = receipts->print(path_id(request), reprint);
                return json_response(200, {{"sale_id", path_id(request)},
                                           {"printer", printed.printer},
                                           {"bytes", printed.bytes},
                                           {"columns", printed.columns},
                                           {"reprint", printed.reprint}});
              }});

  // GET /api/v1/pos/shifts/{id}/report/print
  router.add({"GET", "/api/v1/pos/shifts/{id}/report/print", Access::staff, Executor::database,
              [receipts](const Request& request) {
                const bool escpos = wants_escpos(request);
                const auto report = receipts->shift_report(
                    *request.principal, path_id(request), paper_width(request), now_microseconds());
                const auto id = std::to_string(report.report.shift.id);
                return rendered(report.rows, report.columns, escpos, "班次报表 Shift report " + id,
                                "shift-" + id);
              }});

  // GET /api/v1/pos/receipt.css
  router.add(
      {"GET", "/api/v1/pos/receipt.css", Access::anyone, Executor::inline_io, [](const Request&) {
         auto response = text_response("text/css; charset=utf-8", std::string(kReceiptCss));
         response.headers.back().second = "public, max-age=300";
         return response;
       }});

  // GET /api/v1/pos/receipt.js
  router.add(
      {"GET", "/api/v1/pos/receipt.js", Access::anyone, Executor::inline_io, [](const Request&) {
         auto response = text_response("text/javascript; charset=utf-8", std::string(kReceiptJs));
         response.headers.back().second = "public, max-age=300";
         return response;
       }});
}

}  // namespace yizhan::api
