// What a refund of an online order gives back (issue 9): whole or partial, by lines and
// quantities and/or the delivery fee, each line's part split by refund_part (the counter's one
// function), never more than is left to refund.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "yizhan/domain/journal.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/sale.hpp"

namespace yizhan::domain {

/// One line of the order as frozen at checkout, and how much of it refunds (succeeded or still
/// in progress) already hold.
struct OrderLineForRefund {
  int line_no = 0;
  std::int64_t village_id = 0;
  LineAmounts whole;
  std::int64_t refunded_quantity = 0;
};

/// What the staff ask to refund of one line; `returned`: the goods came back to the station.
struct OrderRefundAsk {
  int line_no = 0;
  std::int64_t quantity = 0;
  bool returned = false;
};

struct OrderRefundInput {
  std::vector<OrderLineForRefund> lines;
  Fen delivery_fee;           ///< the order's fee (the station's)
  bool fee_refunded = false;  ///< a refund already holds it
  Fen refundable;             ///< paid − what refunds (succeeded or in progress) hold
  std::vector<OrderRefundAsk> asks;
  bool refund_fee = false;  ///< the delivery fee too
  bool everything = false;  ///< every line's remainder and the fee (asks and refund_fee unused)
};

struct PlannedRefundLine {
  int line_no = 0;
  std::int64_t village_id = 0;
  LineAmounts part;  ///< quantity, gross = fee + share
  bool returned = false;
};

struct OrderRefundPlan {
  /// One per line and `returned` asked (asks of one line alike merged), in the order asked.
  std::vector<PlannedRefundLine> lines;
  Fen goods;               ///< sum of the lines' gross
  Fen delivery_fee;        ///< the fee given back (0 or the whole fee)
  Fen total;               ///< goods + delivery_fee
  bool completes = false;  ///< with it, everything paid is refunded (the order is refunded)
};

/// Plans a refund. Errors name the field: 422 "lines" (nothing asked), "lines[i].line_no" (not
/// a line of the order), "lines[i].quantity" (≤ 0); 409 refund_exceeds_sale with "field"
/// "lines[i].quantity" (more than is left of the line: details line_quantity, refunded,
/// asked), "delivery_fee" (no fee, or already refunded) or "amount" (more than refundable:
/// details refundable_fen, asked_fen).
OrderRefundPlan plan_order_refund(const OrderRefundInput& input);

/// The journal of an order refund paid out by `method` (cash: the register's drawer): the exact
/// reverse of order_payment_postings for the refunded parts and fee.
std::vector<Posting> order_refund_postings(TenderMethod method, std::int64_t register_id,
                                           std::span<const VillageSplit> lines, Fen delivery_fee);

inline constexpr const char* kOrderRefundsDue = "order_refunds_due";

/// A payment that came for an order whose goods could no longer be reserved: taken into the
/// tender's account and held for refund (order_refunds_due), owed to no village.
std::vector<Posting> unsold_payment_postings(TenderMethod method, Fen amount);
/// Its refund paid out by `method` (cash: the register's drawer).
std::vector<Posting> unsold_refund_postings(TenderMethod method, std::int64_t register_id,
                                            Fen amount);

}  // namespace yizhan::domain
