// What a refund of an online order gives back: the lines' parts through refund_part, the fee,
// the bound of what is left to refund, and the journal that reverses exactly those parts.
#include "yizhan/domain/order_refund.hpp"

#include <algorithm>
#include <map>
#include <string>

#include "yizhan/domain/error.hpp"

namespace yizhan::domain {
namespace {

Error exceeds(std::string field, std::string message) {
  return Error(ErrorCode::refund_exceeds_sale, std::move(message), {{"field", std::move(field)}});
}

}  // namespace

OrderRefundPlan plan_order_refund(const OrderRefundInput& input) {
  std::vector<OrderRefundAsk> asks = input.asks;
  bool refund_fee = input.refund_fee;
  if (input.everything) {
    asks.clear();
    for (const auto& line : input.lines)
      if (line.whole.quantity > line.refunded_quantity)
        asks.push_back({line.line_no, line.whole.quantity - line.refunded_quantity, false});
    refund_fee = input.delivery_fee > Fen(0) && !input.fee_refunded;
  }
  if (asks.empty() && !refund_fee) {
    if (input.everything)
      throw exceeds("lines", "这个订单已全部退款 / everything was refunded already");
    throw Error::invalid_field("lines", "请选择要退的商品或配送费 / ask for lines or the fee");
  }

  OrderRefundPlan plan;
  // Quantities asked so far in this refund, per line number: asks of one line accumulate.
  std::map<int, std::int64_t> asked_before;
  for (std::size_t i = 0; i < asks.size(); ++i) {
    const auto& ask = asks[i];
    const std::string at = "lines[" + std::to_string(i) + "]";
    const auto line = std::find_if(input.lines.begin(), input.lines.end(),
                                   [&](const auto& l) { return l.line_no == ask.line_no; });
    if (line == input.lines.end())
      throw Error::invalid_field(at + ".line_no", "订单没有这一行 / no such line in the order");
    if (ask.quantity <= 0)
      throw Error::invalid_field(at + ".quantity", "数量须大于零 / quantity must be at least 1");
    const std::int64_t before = line->refunded_quantity + asked_before[ask.line_no];
    LineAmounts part;
    try {
      part = refund_part(line->whole, LineAmounts{before, {}, {}, {}}, ask.quantity);
    } catch (const Error& error) {
      throw error.with_detail("field", at + ".quantity");
    }
    asked_before[ask.line_no] += ask.quantity;
    const auto merged = std::find_if(plan.lines.begin(), plan.lines.end(), [&](const auto& p) {
      return p.line_no == ask.line_no && p.returned == ask.returned;
    });
    if (merged == plan.lines.end()) {
      plan.lines.push_back({ask.line_no, line->village_id, part, ask.returned});
    } else {
      merged->part.quantity += part.quantity;
      merged->part.gross += part.gross;
      merged->part.fee += part.fee;
      merged->part.share += part.share;
    }
    plan.goods += part.gross;
  }
  if (refund_fee) {
    if (input.delivery_fee <= Fen(0))
      throw exceeds("delivery_fee", "这个订单没有配送费 / the order has no delivery fee");
    if (input.fee_refunded)
      throw exceeds("delivery_fee", "配送费已退 / the delivery fee was refunded already");
    plan.delivery_fee = input.delivery_fee;
  }
  plan.total = plan.goods + plan.delivery_fee;
  if (plan.total > input.refundable)
    throw Error(ErrorCode::refund_exceeds_sale, "超过可退金额 / more than is left to refund",
                {{"field", "amount"},
                 {"refundable_fen", std::to_string(input.refundable.value())},
                 {"asked_fen", std::to_string(plan.total.value())}});
  if (plan.total <= Fen(0))
    throw Error::invalid_field("lines", "退款金额为零 / the refund comes to nothing");
  plan.completes = plan.total == input.refundable;
  return plan;
}

std::vector<Posting> order_refund_postings(TenderMethod method, std::int64_t register_id,
                                           std::span<const VillageSplit> lines, Fen delivery_fee) {
  auto postings = order_payment_postings(method, register_id, lines, delivery_fee);
  for (auto& posting : postings)
    posting.amount = -posting.amount;
  return postings;
}

std::vector<Posting> unsold_payment_postings(TenderMethod method, Fen amount) {
  if (amount <= Fen(0))
    throw Error(ErrorCode::internal, "internal error", {}, "unsold payment of nothing");
  return {{tender_account(method, 0), amount}, {kOrderRefundsDue, -amount}};
}

std::vector<Posting> unsold_refund_postings(TenderMethod method, std::int64_t register_id,
                                            Fen amount) {
  if (amount <= Fen(0))
    throw Error(ErrorCode::internal, "internal error", {}, "unsold refund of nothing");
  return {{kOrderRefundsDue, amount}, {tender_account(method, register_id), -amount}};
}

}  // namespace yizhan::domain
