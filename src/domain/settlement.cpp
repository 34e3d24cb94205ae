// Settlement rules (period, states, totals, payouts) and the statement's two renderings.
#include "yizhan/domain/settlement.hpp"

#include <algorithm>
#include <map>

#include "yizhan/domain/csv.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/time.hpp"

namespace yizhan::domain {

using std::chrono::year_month_day;

std::string_view to_string(SettlementState state) {
  switch (state) {
    case SettlementState::draft: return "draft";
    case SettlementState::confirmed: return "confirmed";
    case SettlementState::paid: return "paid";
  }
  return "draft";
}

std::optional<SettlementState> parse_settlement_state(std::string_view text) {
  for (const auto state :
       {SettlementState::draft, SettlementState::confirmed, SettlementState::paid}) {
    if (to_string(state) == text) return state;
  }
  return std::nullopt;
}

void require_settlement_transition(SettlementState from, SettlementState to) {
  const bool legal = (from == SettlementState::draft && to == SettlementState::confirmed) ||
                     (from == SettlementState::confirmed && to == SettlementState::paid);
  if (legal) return;
  const std::string from_text(to_string(from));
  const std::string to_text(to_string(to));
  throw Error(ErrorCode::invalid_state,
              "结算单状态为 " + from_text + "，不能变为 " + to_text + " / a " + from_text +
                  " settlement cannot become " + to_text,
              {{"state", from_text}, {"to", to_text}});
}

namespace {

year_month_day client_date(std::string_view text, const std::string& field) {
  const auto date = text.size() == 10 ? parse_iso_date(text) : std::nullopt;
  if (!date || date->year() < std::chrono::year(2000) || date->year() > std::chrono::year(2099))
    throw Error::invalid_field(
        field, field + " 应为日期 YYYY-MM-DD / " + field + " must be a date YYYY-MM-DD");
  return *date;
}

}  // namespace

SettlementPeriod settlement_period(std::string_view from, std::string_view to,
                                   year_month_day today) {
  const auto first = client_date(from, "from");
  const auto last = client_date(to, "to");
  if (last < first)
    throw Error::invalid_field("to", "结算期结束早于开始 / the period ends (to) before it starts");
  if (last > today)
    throw Error::invalid_field("to", "结算期不能在未来 / the period cannot end after today (" +
                                         format_iso_date(today) + ")");
  const auto days = (std::chrono::sys_days(last) - std::chrono::sys_days(first)).count() + 1;
  if (days > kMaxSettlementDays)
    throw Error::invalid_field("to", "结算期最长 366 天 / a period is at most 366 days");
  return {first, last};
}

SettlementPeriod month_period(std::chrono::year_month month) {
  return {month / std::chrono::day(1), year_month_day(month / std::chrono::last)};
}

void require_after_settled(const SettlementPeriod& period,
                           const std::optional<year_month_day>& settled_to) {
  if (!settled_to || period.from > *settled_to) return;
  throw Error(ErrorCode::conflict,
              "该村已结算到 " + format_iso_date(*settled_to) +
                  "，结算期须从其后开始 / this village is settled up to " +
                  format_iso_date(*settled_to) + ": the period must start after it",
              {{"field", "from"}, {"settled_to", format_iso_date(*settled_to)}});
}

std::string_view to_string(StatementLineKind kind) {
  switch (kind) {
    case StatementLineKind::sale: return "sale";
    case StatementLineKind::refund: return "refund";
    case StatementLineKind::order: return "order";
    case StatementLineKind::order_refund: return "order_refund";
    case StatementLineKind::adjustment: return "adjustment";
  }
  return "sale";
}

std::optional<StatementLineKind> parse_statement_line_kind(std::string_view text) {
  for (const auto kind :
       {StatementLineKind::sale, StatementLineKind::refund, StatementLineKind::order,
        StatementLineKind::order_refund, StatementLineKind::adjustment}) {
    if (to_string(kind) == text) return kind;
  }
  return std::nullopt;
}

std::string_view label(StatementLineKind kind) {
  switch (kind) {
    case StatementLineKind::sale: return "柜台销售 Counter sale";
    case StatementLineKind::refund: return "退款 Refund";
    case StatementLineKind::order: return "线上订单 Online order";
    case StatementLineKind::order_refund: return "线上退款 Online refund";
    case StatementLineKind::adjustment: return "调整 Adjustment";
  }
  return "";
}

SettlementTotals totals_of(std::span<const StatementLine> lines) {
  SettlementTotals totals;
  for (const auto& line : lines) {
    if (line.fee + line.share != line.gross)
      throw Error(ErrorCode::internal, "internal error", {},
                  "statement line " + std::string(to_string(line.kind)) + " " +
                      std::to_string(line.line_id) + ": fee + share != gross");
    ++totals.line_count;
    switch (line.kind) {
      case StatementLineKind::sale:
      case StatementLineKind::order:
        totals.sales_gross += line.gross;
        totals.sales_fee += line.fee;
        totals.sales_share += line.share;
        break;
      case StatementLineKind::refund:
      case StatementLineKind::order_refund:
        totals.refund_gross += line.gross;
        totals.refund_fee += line.fee;
        totals.refund_share += line.share;
        break;
      case StatementLineKind::adjustment: totals.adjustments += line.share; break;
    }
  }
  totals.total = totals.sales_share + totals.refund_share + totals.adjustments;
  return totals;
}

std::string_view to_string(PayoutMethod method) {
  return method == PayoutMethod::bank ? "bank" : "cash";
}

std::optional<PayoutMethod> parse_payout_method(std::string_view text) {
  if (text == "bank") return PayoutMethod::bank;
  if (text == "cash") return PayoutMethod::cash;
  return std::nullopt;
}

bool payouts_cover(Fen total, Fen paid) {
  return total > Fen(0) && paid >= total;
}

bool require_payout_amount(Fen amount, Fen total, Fen paid) {
  const auto remaining = total - paid;
  const std::map<std::string, std::string> figures = {
      {"total_fen", std::to_string(total.value())},
      {"paid_fen", std::to_string(paid.value())},
      {"remaining_fen", std::to_string(std::max(remaining, Fen(0)).value())}};
  if (total <= Fen(0))
    throw Error(ErrorCode::conflict,
                "本期应付为 " + total.format() + " 元，无需付款 / the settlement's total is " +
                    total.format() + ": there is nothing to pay",
                figures);
  if (remaining <= Fen(0))
    throw Error(ErrorCode::conflict, "本期应付已全部付清 / the settlement's total is already paid",
                figures);
  if (amount <= Fen(0) || amount > remaining) {
    auto details = figures;
    details["field"] = "amount_fen";
    throw Error(ErrorCode::invalid,
                "付款金额须大于零且不超过未付的 " + remaining.format() +
                    " 元 / amount_fen must be positive and at most the remaining " +
                    remaining.format(),
                std::move(details));
  }
  return payouts_cover(total, paid + amount);
}

std::vector<Posting> payout_postings(std::int64_t village_id, PayoutMethod method, Fen amount) {
  if (amount <= Fen(0))
    throw Error(ErrorCode::internal, "internal error", {}, "payout_postings: amount <= 0");
  return {{village_payable_account(village_id), amount},
          {method == PayoutMethod::bank ? kStationBank : kStationCash, -amount}};
}

void require_adjustment_amount(Fen amount) {
  if (amount == Fen(0))
    throw Error::invalid_field("amount_fen", "调整金额不能为零 / amount_fen must not be zero");
  if (amount > Fen(kMaxAdjustmentFen) || amount < Fen(-kMaxAdjustmentFen))
    throw Error::invalid_field("amount_fen", "调整金额过大 / amount_fen is too large");
}

std::vector<Posting> adjustment_postings(std::int64_t village_id, Fen amount) {
  require_adjustment_amount(amount);
  return {{kVillageAdjustments, amount}, {village_payable_account(village_id), -amount}};
}

// --- the statement --------------------------------------------------------------------------

namespace {

std::string unit_text(const std::optional<Unit>& unit) {
  if (!unit) return "";
  return *unit == Unit::gram ? "克 g" : "件 pcs";
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
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
  return out;
}

std::string state_label(SettlementState state) {
  switch (state) {
    case SettlementState::draft: return "草稿（未确认） Draft";
    case SettlementState::confirmed: return "已确认 Confirmed";
    case SettlementState::paid: return "已付款 Paid";
  }
  return "";
}

std::string method_label(PayoutMethod method) {
  return method == PayoutMethod::bank ? "银行转账 Bank transfer" : "现金 Cash";
}

std::string period_text(const SettlementPeriod& period) {
  return format_iso_date(period.from) + " ~ " + format_iso_date(period.to);
}

}  // namespace

std::string statement_csv(const StatementView& s) {
  std::string out(kCsvBom);
  out += csv_row({csv_text("序号 No."), csv_text("日期 Date"), csv_text("类型 Kind"),
                  csv_text("单据 Document"), csv_text("商品/事由 Product or reason"),
                  csv_text("数量 Quantity"), csv_text("单位 Unit"),
                  csv_text("销售额(元) Gross (yuan)"), csv_text("佣金(元) Commission (yuan)"),
                  csv_text("村集体所得(元) Village share (yuan)")});
  int number = 0;
  for (const auto& line : s.lines) {
    out += csv_row(
        {std::to_string(++number), line.business_day, csv_text(label(line.kind)),
         csv_text(line.document), csv_text(line.description),
         line.kind == StatementLineKind::adjustment ? std::string() : std::to_string(line.quantity),
         csv_text(unit_text(line.unit)), line.gross.format(), line.fee.format(),
         line.share.format()});
  }
  const auto& t = s.totals;
  const auto total_row = [](const std::string& name, Fen gross, Fen fee, Fen share) {
    return csv_row(
        {"", "", csv_text(name), "", "", "", "", gross.format(), fee.format(), share.format()});
  };
  out += total_row("销售合计 Sales", t.sales_gross, t.sales_fee, t.sales_share);
  out += total_row("退款合计 Refunds", t.refund_gross, t.refund_fee, t.refund_share);
  out += total_row("调整合计 Adjustments", t.adjustments, Fen(0), t.adjustments);
  out += total_row("本期应付 Total payable", t.sales_gross + t.refund_gross + t.adjustments,
                   t.sales_fee + t.refund_fee, t.total);
  if (s.payouts.empty()) return out;
  // Every payout (date, method and reference in the document and description columns), then
  // what was paid and what remains, in the share column.
  Fen paid;
  for (const auto& payout : s.payouts) {
    paid += payout.amount;
    out +=
        csv_row({"", payout.paid_on, csv_text("付款 Payout"), csv_text(method_label(payout.method)),
                 csv_text(payout.reference), "", "", "", "", payout.amount.format()});
  }
  out += csv_row({"", "", csv_text("已付合计 Paid"), "", "", "", "", "", "", paid.format()});
  out += csv_row(
      {"", "", csv_text("未付 Remaining"), "", "", "", "", "", "", (t.total - paid).format()});
  return out;
}

std::string statement_html(const StatementView& s, std::string_view stylesheet) {
  const auto title = "结算单 Settlement statement S" + std::to_string(s.settlement_id);
  std::string rows;
  int number = 0;
  for (const auto& line : s.lines) {
    const bool negative = line.share < Fen(0);
    rows += "<tr" + std::string(negative ? " class=\"negative\"" : "") + "><td class=\"num\">" +
            std::to_string(++number) + "</td><td>" + html_escape(line.business_day) + "</td><td>" +
            html_escape(label(line.kind)) + "</td><td>" + html_escape(line.document) + "</td><td>" +
            html_escape(line.description) + "</td><td class=\"num\">" +
            (line.kind == StatementLineKind::adjustment ? std::string("—")
                                                        : std::to_string(line.quantity)) +
            " " + html_escape(unit_text(line.unit)) + "</td><td class=\"num\">" +
            line.gross.format() + "</td><td class=\"num\">" + line.fee.format() +
            "</td><td class=\"num\">" + line.share.format() + "</td></tr>\n";
  }
  if (s.lines.empty())
    rows = "<tr><td colspan=\"9\">本期没有明细 No lines in this period</td></tr>\n";
  const auto& t = s.totals;
  const auto total_row = [](const std::string& name, Fen gross, Fen fee, Fen share, bool strong) {
    return std::string(strong ? "<tr class=\"total\">" : "<tr class=\"subtotal\">") +
           "<td colspan=\"6\">" + name + "</td><td class=\"num\">" + gross.format() +
           "</td><td class=\"num\">" + fee.format() + "</td><td class=\"num\">" + share.format() +
           "</td></tr>\n";
  };
  // The payouts: each on a row of their own, then what was paid and what remains.
  std::string payouts;
  if (s.state != SettlementState::draft) {
    Fen paid;
    std::string payout_rows;
    int payout_number = 0;
    for (const auto& p : s.payouts) {
      paid += p.amount;
      payout_rows += "<tr><td class=\"num\">" + std::to_string(++payout_number) + "</td><td>" +
                     html_escape(p.paid_on) + "</td><td>" + html_escape(method_label(p.method)) +
                     "</td><td>" + html_escape(p.reference) + "</td><td class=\"num\">" +
                     p.amount.format() + "</td></tr>\n";
    }
    if (s.payouts.empty())
      payout_rows = "<tr><td colspan=\"5\">尚未付款 No payouts yet</td></tr>\n";
    payouts =
        "<section class=\"payouts\">\n<h2>付款记录 Payouts</h2>\n<table>\n<thead><tr><th>#</th>"
        "<th>付款日期 Paid on</th><th>方式 Method</th><th>凭证号 Reference</th><th>金额 "
        "Amount</th></tr></thead>\n<tbody>\n" +
        payout_rows +
        "</tbody>\n<tfoot>\n<tr class=\"subtotal\"><td colspan=\"4\">已付合计 "
        "Paid</td><td class=\"num\">" +
        paid.format() +
        "</td></tr>\n<tr class=\"total\"><td colspan=\"4\">未付 Remaining</td><td "
        "class=\"num\">" +
        (t.total - paid).format() + "</td></tr>\n</tfoot>\n</table>\n</section>\n";
  }
  return "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n<title>" +
         html_escape(title) + "</title>\n<link rel=\"stylesheet\" href=\"" +
         html_escape(stylesheet) + "\">\n</head>\n<body class=\"note statement\">\n<header>\n<h1>" +
         html_escape(s.station_name) +
         " · 村集体结算单 <small>Village settlement statement</small></h1>\n" +
         (s.state == SettlementState::draft
              ? "<p class=\"draft\">草稿：未确认，金额可能变化 Draft: not confirmed, figures may "
                "change</p>\n"
              : std::string()) +
         "<dl>\n<dt>结算单号 No.</dt><dd>S" + std::to_string(s.settlement_id) +
         "</dd>\n<dt>村集体 Village</dt><dd>" + html_escape(s.village_name) + " (" +
         html_escape(s.village_code) + ")</dd>\n<dt>结算期 Period</dt><dd>" +
         period_text(s.period) + "</dd>\n<dt>状态 State</dt><dd>" + state_label(s.state) +
         "</dd>\n" +
         (s.confirmed_at.empty()
              ? std::string()
              : "<dt>确认时间 Confirmed</dt><dd>" + html_escape(s.confirmed_at) + "</dd>\n") +
         "</dl>\n</header>\n<table>\n<thead><tr><th>#</th><th>日期 Date</th><th>类型 "
         "Kind</th><th>单据 Document</th><th>商品/事由 Product or reason</th><th>数量 "
         "Qty</th><th>销售额 Gross</th><th>佣金 Commission</th><th>村集体所得 "
         "Share</th></tr></thead>\n<tbody>\n" +
         rows + "</tbody>\n<tfoot>\n" +
         total_row("销售合计 Sales", t.sales_gross, t.sales_fee, t.sales_share, false) +
         total_row("退款合计 Refunds", t.refund_gross, t.refund_fee, t.refund_share, false) +
         total_row("调整合计 Adjustments", t.adjustments, Fen(0), t.adjustments, false) +
         total_row("本期应付 Total payable", t.sales_gross + t.refund_gross + t.adjustments,
                   t.sales_fee + t.refund_fee, t.total, true) +
         "</tfoot>\n</table>\n<p class=\"count\">共 " + std::to_string(t.line_count) + " 行 · " +
         std::to_string(t.line_count) + " line(s) · 金额单位：元 Amounts in yuan (¥)</p>\n" +
         payouts +
         "<section class=\"signatures\">\n<div><p>驿站经办人（签字） For the station</p><p "
         "class=\"line\"></p><p>日期 Date</p><p class=\"line\"></p></div>\n"
         "<div><p>村集体负责人（签字） For the village collective</p><p "
         "class=\"line\"></p><p>日期 Date</p><p class=\"line\"></p></div>\n</section>\n<p "
         "class=\"hint\">一式两份，双方各执一份，可张贴于村务公开栏。按 Ctrl+P 打印。 Two copies, "
         "one "
         "for each party; may be posted on the village notice board. Press Ctrl+P to "
         "print.</p>\n</body>\n</html>\n";
}

}  // namespace yizhan::domain
