// Counter sale pricing: discounts, 抹零, the commission split per line, tenders and change,
// the cashier's discount limit, and the cumulative rule that makes partial refunds sum exactly.
#include "yizhan/domain/sale.hpp"

#include <cstdio>
#include <string>

#include "yizhan/domain/allocation.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/order.hpp"
#include "yizhan/domain/text.hpp"

namespace yizhan::domain {
namespace {

// 128-bit intermediates: amount × quantity and amount × basis points exceed int64.
__extension__ typedef __int128 Wide;

constexpr std::size_t kMaxReferenceCharacters = 100;

std::string indexed(std::string_view list, std::size_t index, std::string_view member) {
  return std::string(list) + "[" + std::to_string(index) + "]." + std::string(member);
}

/// A non-negative wide sum in decimal (std::to_string has no __int128).
std::string decimal(Wide value) {
  std::string digits;
  do {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  } while (value > 0);
  return digits;
}

[[noreturn]] void bug(std::string cause) {
  throw Error(ErrorCode::internal, "internal error", {}, std::move(cause));
}

Fen rounding_of(Fen amount, Rounding rounding) {
  switch (rounding) {
    case Rounding::none: return Fen(0);
    case Rounding::jiao: return Fen(amount.value() % 10);
    case Rounding::yuan: return Fen(amount.value() % 100);
  }
  return Fen(0);
}

/// round_half_up(amount × numerator / denominator) for amount, numerator ≥ 0, denominator > 0.
std::int64_t scaled_half_up(std::int64_t amount, std::int64_t numerator, std::int64_t denominator) {
  const Wide product = Wide{amount} * numerator;
  return static_cast<std::int64_t>((2 * product + denominator) / (2 * Wide{denominator}));
}

}  // namespace

std::optional<Rounding> parse_rounding(std::string_view text) {
  if (text == "none") return Rounding::none;
  if (text == "jiao") return Rounding::jiao;
  if (text == "yuan") return Rounding::yuan;
  return std::nullopt;
}

PricedSale price_sale(std::span<const SaleLineInput> lines, Fen sale_discount, Rounding rounding) {
  if (lines.empty())
    throw Error::invalid_field("lines", "销售至少需要一行 / a sale needs at least one line");

  PricedSale sale;
  sale.lines.reserve(lines.size());
  std::vector<std::int64_t> weights;
  weights.reserve(lines.size());
  Fen after_line_discounts;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const SaleLineInput& input = lines[i];
    if (input.unit_price < Fen(0)) {
      throw Error::invalid_field(indexed("lines", i, "unit_price_fen"),
                                 "单价不能为负 / a price cannot be negative");
    }
    const Fen list =
        input.label_total ? *input.label_total : line_total(input.unit_price, input.quantity);
    if (list < Fen(0)) {
      throw Error::invalid_field(indexed("lines", i, "label_total_fen"),
                                 "标签金额不能为负 / a label's amount cannot be negative");
    }
    if (input.discount < Fen(0) || input.discount > list) {
      throw Error::invalid_field(
          indexed("lines", i, "discount_fen"),
          "行折扣须在 0 到该行金额之间 / a line's discount must be 0 to its amount");
    }
    PricedLine line;
    line.list = list;
    line.line_discount = input.discount;
    line.commission_bps = input.commission_bps;
    sale.lines.push_back(line);
    const Fen after = list - input.discount;
    weights.push_back(after.value());
    sale.subtotal += list;
    after_line_discounts += after;
  }
  if (sale_discount < Fen(0) || sale_discount > after_line_discounts) {
    throw Error::invalid_field(
        "discount_fen", "整单折扣须在 0 到总额之间 / the sale's discount must be 0 to its total");
  }

  const Fen before_rounding = after_line_discounts - sale_discount;
  sale.rounding = rounding_of(before_rounding, rounding);
  // The sale discount and 抹零 are one amount spread by what each line still costs; a line's
  // part never exceeds that (largest remainder gives each at most the ceiling of its exact share).
  const auto parts = allocate(sale_discount + sale.rounding, weights);
  for (std::size_t i = 0; i < sale.lines.size(); ++i) {
    PricedLine& line = sale.lines[i];
    line.sale_discount = parts[i];
    line.gross = line.list - line.line_discount - line.sale_discount;
    if (line.gross < Fen(0)) bug("price_sale: negative gross");
    line.split = commission(line.gross, line.commission_bps);
    sale.total += line.gross;
  }
  sale.discount = sale.subtotal - sale.total;
  if (sale.total != before_rounding - sale.rounding) bug("price_sale: lines do not sum to total");
  return sale;
}

void check_discount_limit(const PricedSale& sale, int limit_bps) {
  const Fen discount = sale.discount - sale.rounding;
  const Wide limit_times_10000 = Wide{limit_bps} * sale.subtotal.value();
  if (Wide{discount.value()} * 10'000 > limit_times_10000) {
    const Wide limit = limit_times_10000 / 10'000;
    throw Error(ErrorCode::discount_limit,
                "折扣超出收银员权限 / the discount is beyond this cashier's limit",
                {{"discount_fen", std::to_string(discount.value())},
                 {"limit_fen", std::to_string(static_cast<std::int64_t>(limit))}});
  }
}

std::string_view to_string(TenderMethod method) {
  switch (method) {
    case TenderMethod::cash: return "cash";
    case TenderMethod::wechat: return "wechat";
    case TenderMethod::alipay: return "alipay";
    case TenderMethod::card: return "card";
    case TenderMethod::other: return "other";
    case TenderMethod::wechat_code: return "wechat_code";
    case TenderMethod::alipay_code: return "alipay_code";
  }
  return "other";
}

std::optional<TenderMethod> parse_tender_method(std::string_view text) {
  for (TenderMethod method :
       {TenderMethod::cash, TenderMethod::wechat, TenderMethod::alipay, TenderMethod::card,
        TenderMethod::other, TenderMethod::wechat_code, TenderMethod::alipay_code}) {
    if (text == to_string(method)) return method;
  }
  return std::nullopt;
}

SettledTenders settle_tenders(Fen total, std::span<const TenderInput> tenders) {
  if (tenders.empty() && total != Fen(0)) {
    throw Error::invalid_field("tenders",
                               "需要至少一种付款方式 / a sale needs at least one tender");
  }
  SettledTenders settled;
  settled.tenders.reserve(tenders.size());
  // Summed wide: ten amounts near INT64_MAX must be told "they do not pay the total", naming
  // the field, not an overflow of our own sum.
  Wide paid = 0;
  bool seen_cash = false;
  for (std::size_t i = 0; i < tenders.size(); ++i) {
    const TenderInput& input = tenders[i];
    if (input.amount <= Fen(0)) {
      throw Error::invalid_field(indexed("tenders", i, "amount_fen"),
                                 "付款金额须大于零 / a tender's amount must be above 0");
    }
    if (!is_valid_utf8(input.reference) ||
        count_characters(input.reference) > kMaxReferenceCharacters) {
      throw Error::invalid_field(
          indexed("tenders", i, "reference"),
          "参考号最多 100 个字符 / a reference is at most 100 characters of text");
    }
    Tender tender{input.method, input.amount, std::nullopt, input.reference};
    if (input.method == TenderMethod::cash) {
      if (seen_cash) {
        throw Error::invalid_field(indexed("tenders", i, "method"),
                                   "现金付款最多一笔 / at most one cash tender");
      }
      seen_cash = true;
      const Fen tendered = input.tendered.value_or(input.amount);
      if (tendered < input.amount) {
        throw Error::invalid_field(
            indexed("tenders", i, "tendered_fen"),
            "实收现金不能少于应付金额 / cash tendered must be at least the amount");
      }
      // Change is counted out of the drawer: more than ¥10,000 is a typing mistake.
      if (tendered - input.amount > kMaxChange) {
        throw Error::invalid_field(
            indexed("tenders", i, "tendered_fen"),
            "找零超过一万元，请核对实收 / change above ¥10,000: check the cash tendered");
      }
      tender.tendered = tendered;
      settled.change += tendered - input.amount;
    } else if (input.tendered && *input.tendered != input.amount) {
      // Only cash gives change; a card or a QR payment pays exactly its amount.
      throw Error::invalid_field(
          indexed("tenders", i, "tendered_fen"),
          "只有现金可以多付找零 / only cash can be tendered above the amount");
    }
    if (input.method == TenderMethod::other && input.reference.empty()) {
      throw Error::invalid_field(indexed("tenders", i, "reference"),
                                 "“其他”付款需要参考号 / an 'other' tender needs a reference");
    }
    paid += input.amount.value();
    settled.tenders.push_back(std::move(tender));
  }
  if (paid != Wide{total.value()}) {
    throw Error(ErrorCode::invalid,
                "付款合计须等于应付总额 / the tenders must pay the total exactly",
                {{"field", "tenders"},
                 {"total_fen", std::to_string(total.value())},
                 {"paid_fen", decimal(paid)}});
  }
  return settled;
}

LineAmounts refund_part(const LineAmounts& line, const LineAmounts& refunded,
                        std::int64_t quantity) {
  if (quantity <= 0)
    throw Error::invalid_field("quantity", "数量须大于零 / quantity must be at least 1");
  if (line.quantity <= 0 || line.gross < Fen(0) || line.fee < Fen(0) || line.fee > line.gross ||
      line.fee + line.share != line.gross) {
    bug("refund_part: an inconsistent sale line");
  }
  if (refunded.quantity < 0 || refunded.quantity > line.quantity ||
      quantity > line.quantity - refunded.quantity) {
    throw Error(ErrorCode::refund_exceeds_sale,
                "退货数量超过可退数量 / more than what is left of the line",
                {{"line_quantity", std::to_string(line.quantity)},
                 {"refunded", std::to_string(refunded.quantity)},
                 {"asked", std::to_string(quantity)}});
  }
  // G(n): the gross of the first n units; F(n): their fee. Both depend on n alone and are
  // monotone, as is G − F (the fee grows at most one fen per fen of gross since fee ≤ gross),
  // so every part is ≥ 0 and the parts of any sequence sum to the line.
  const auto gross_of = [&](std::int64_t n) {
    return scaled_half_up(line.gross.value(), n, line.quantity);
  };
  const auto fee_of = [&](std::int64_t g) {
    if (line.gross.value() == 0) return std::int64_t{0};
    return static_cast<std::int64_t>(Wide{line.fee.value()} * g / line.gross.value());
  };
  const std::int64_t gross_before = gross_of(refunded.quantity);
  const std::int64_t gross_after = gross_of(refunded.quantity + quantity);
  const std::int64_t fee_before = fee_of(gross_before);
  const std::int64_t fee_after = fee_of(gross_after);
  LineAmounts part;
  part.quantity = quantity;
  part.gross = Fen(gross_after - gross_before);
  part.fee = Fen(fee_after - fee_before);
  part.share = part.gross - part.fee;
  return part;
}

bool refund_method_allowed(TenderMethod method, std::span<const TenderMethod> paid_with) {
  if (method == TenderMethod::cash) return true;
  for (const TenderMethod paid : paid_with)
    if (paid == method) return true;
  return false;
}

std::optional<Fen> refundable_through(TenderMethod method, std::span<const MethodAmount> tenders,
                                      std::span<const MethodAmount> refunds) {
  if (method == TenderMethod::cash) return std::nullopt;
  Fen left(0);
  for (const auto& tender : tenders)
    if (tender.method == method) left += tender.amount;
  for (const auto& refund : refunds)
    if (refund.method == method) left -= refund.amount;
  return std::max(left, Fen(0));
}

bool is_code_method(TenderMethod method) {
  return method == TenderMethod::wechat_code || method == TenderMethod::alipay_code;
}

std::string code_method_provider(TenderMethod method) {
  return method == TenderMethod::wechat_code ? "wechat" : "alipay";
}

std::optional<std::string> payment_code_problem(TenderMethod method, std::string_view code) {
  const auto kind = classify_payment_code(code);
  if (method == TenderMethod::wechat_code && kind != PaymentCodeKind::wechat)
    return kind == PaymentCodeKind::alipay
               ? "这是支付宝付款码，请选支付宝 / this is an Alipay code"
               : "微信付款码为 10–15 开头的 18 位数字 / a WeChat payment code has 18 digits "
                 "starting 10–15";
  if (method == TenderMethod::alipay_code && kind != PaymentCodeKind::alipay)
    return kind == PaymentCodeKind::wechat
               ? "这是微信付款码，请选微信 / this is a WeChat code"
               : "支付宝付款码为 25–30 开头的 16–24 位数字 / an Alipay payment code has 16–24 "
                 "digits starting 25–30";
  if (!is_code_method(method)) return "该付款方式不收付款码 / this tender takes no payment code";
  return std::nullopt;
}

std::optional<std::string> rung_at_problem(std::int64_t rung_at, std::int64_t now) {
  constexpr std::int64_t kEarliest = 1'577'836'800'000'000;  // 2020-01-01T00:00:00Z
  constexpr std::int64_t kAhead = 24LL * 3600 * 1'000'000;
  if (rung_at < kEarliest)
    return "收银机时间早于 2020 年，请校准时钟 / rung_at is before 2020: set the till's clock";
  if (rung_at > now + kAhead)
    return "收银机时间超前一天以上，请校准时钟 / rung_at is more than a day ahead of the server: "
           "set the till's clock";
  return std::nullopt;
}

Fen line_price(std::optional<Fen> shown, Fen now, std::span<const Fen> earlier, bool offline,
               const std::string& field) {
  if (!shown || *shown == now) return now;
  if (!offline)
    throw Error(ErrorCode::price_changed,
                "价格已变，请刷新商品 / the price has changed: refresh the catalog",
                {{"field", field}, {"unit_price_fen", std::to_string(now.value())}});
  for (const Fen price : earlier)
    if (price == *shown) return price;
  throw Error::invalid_field(field,
                             "该商品近 7 天没有这个价格 / the product had no such price in the 7 "
                             "days before the sale");
}

std::string mask_payment_code(std::string_view code) {
  if (code.size() <= 8) return std::string(code.size(), '*');
  return std::string(code.substr(0, 4)) + std::string(code.size() - 8, '*') +
         std::string(code.substr(code.size() - 4));
}

std::string code_trade_number(std::string_view key_digest_hex, std::size_t tender_index,
                              int attempt) {
  if (key_digest_hex.size() < 24 || tender_index > 9 || attempt < 1 || attempt > 99)
    bug("code_trade_number: digest " + std::to_string(key_digest_hex.size()) + ", tender " +
        std::to_string(tender_index) + ", attempt " + std::to_string(attempt));
  char tail[16];
  std::snprintf(tail, sizeof tail, "-%zu-%02d", tender_index, attempt);
  return "Y" + std::string(key_digest_hex.substr(0, 24)) + tail;
}

std::string code_refund_number(std::string_view key_digest_hex, int attempt) {
  if (key_digest_hex.size() < 24 || attempt < 1 || attempt > 99)
    bug("code_refund_number: digest " + std::to_string(key_digest_hex.size()) + ", attempt " +
        std::to_string(attempt));
  char tail[8];
  std::snprintf(tail, sizeof tail, "-%02d", attempt);
  return "R" + std::string(key_digest_hex.substr(0, 24)) + tail;
}

}  // namespace yizhan::domain
