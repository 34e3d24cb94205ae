// Refunds of counter 付款码 payments in MariaDB (tables code_refunds, code_refund_lines): each
// ask recorded before the provider hears it, booked as a refund once the provider accepted it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/store/counter.hpp"

namespace yizhan::store {

class UnitOfWork;

/// One ask to give a code payment's money back, as recorded.
struct CodeRefundRecord {
  std::int64_t id = 0;
  std::string out_refund_no;
  std::string key_hash;  ///< 32 raw bytes: the refund request's idempotency_keys.key_hash
  int attempt = 1;
  std::int64_t sale_id = 0;
  std::int64_t code_payment_id = 0;
  std::string out_trade_no;     ///< the charge's (read, not stored here)
  std::int64_t charge_fen = 0;  ///< the whole charge (read): WeChat wants it with a refund
  std::string provider;         ///< wechat, alipay
  std::int64_t cashier_id = 0;
  std::int64_t amount_fen = 0;
  std::string reason;
  std::string state;           ///< refunding, refunded, failed
  std::string provider_state;  ///< PROCESSING, SUCCESS, … as the provider last said
  std::string provider_refund_id;
  std::string provider_code;
  std::optional<std::int64_t> refund_id;
  std::string owed;  ///< owed, repaid (ended unpaid after it was booked); empty otherwise
  std::vector<RefundLineRecord> lines;  ///< what it gives back: booked as the refund's lines
};

/// A sale's charge of a provider with what its refunds (refunding or refunded) already hold.
struct RefundableCharge {
  std::int64_t code_payment_id = 0;
  std::int64_t amount_fen = 0;
  std::int64_t held_fen = 0;
};

/// The latest ask of a refund request's key, locked, with its lines; nothing when none.
std::optional<CodeRefundRecord> latest_code_refund(UnitOfWork& unit, const std::string& key_hash);
/// An ask by id, locked, with its lines.
std::optional<CodeRefundRecord> find_code_refund(UnitOfWork& unit, std::int64_t id);
/// Whether another ask of the sale is still refunding (a locking read: sees the latest).
bool code_refund_in_flight(UnitOfWork& unit, std::int64_t sale_id);
/// The sale's sold charges of `provider`, oldest first, each with what refunds already hold.
std::vector<RefundableCharge> refundable_charges(UnitOfWork& unit, std::int64_t sale_id,
                                                 const std::string& provider);
/// Records an ask (state refunding) and its lines; returns its id.
std::int64_t insert_code_refund(UnitOfWork& unit, const CodeRefundRecord& record);
/// Moves a refunding ask to `state` (refunded with its refund, or failed) with the provider's
/// word; false when it was no longer refunding.
bool finish_code_refund(UnitOfWork& unit, std::int64_t id, const std::string& state,
                        std::optional<std::int64_t> refund_id, const std::string& provider_state,
                        const std::string& provider_refund_id, const std::string& provider_code);
/// Notes the provider's later word on a booked ask (PROCESSING → SUCCESS, ABNORMAL …).
void set_code_refund_provider_state(UnitOfWork& unit, std::int64_t id,
                                    const std::string& provider_state,
                                    const std::string& provider_refund_id);
/// Marks a booked ask owed to the customer (its provider ended it unpaid); false when it was
/// not booked or is owed already (another process recorded the same answer first).
bool mark_code_refund_owed(UnitOfWork& unit, std::int64_t id);

/// A booked refund to a code that its provider ended unpaid, as staff see it.
struct OwedRefundRecord {
  std::int64_t refund_id = 0;
  std::int64_t code_refund_id = 0;
  std::int64_t sale_id = 0;
  std::string sale_number;
  std::string method;  ///< wechat_code, alipay_code: how it was booked
  std::int64_t amount_fen = 0;
  std::string provider_state;  ///< CLOSED, ABNORMAL …
  std::string out_refund_no;
  std::string owed;  ///< owed, repaid
  std::int64_t owed_at = 0;
  std::int64_t refunded_at = 0;  ///< when the refund was booked
  struct Repayment {
    std::int64_t id = 0;
    std::int64_t shift_id = 0;
    std::int64_t register_id = 0;
    std::string cashier;
    std::string method;
    std::int64_t amount_fen = 0;
    std::int64_t created_at = 0;
  };
  std::optional<Repayment> repayment;
};

/// The refund `refund_id` if it is (or was) owed, its code_refunds row locked when `lock`.
std::optional<OwedRefundRecord> find_owed_refund(UnitOfWork& unit, std::int64_t refund_id,
                                                 bool lock);
/// Owed refunds, newest first, paged by refund id (`before_id`); `repaid_too`: with those
/// paid back.
std::vector<OwedRefundRecord> list_owed_refunds(UnitOfWork& unit, bool repaid_too,
                                                std::optional<std::int64_t> before_id, int limit);
/// Whether a counter refund with this id exists.
bool refund_exists(UnitOfWork& unit, std::int64_t refund_id);
/// Marks an owed ask repaid; false when it was not owed (repaid meanwhile).
bool mark_code_refund_repaid(UnitOfWork& unit, std::int64_t code_refund_id);
/// Records a repayment from a shift's drawer; its id. A second of one refund is `duplicate`.
std::int64_t insert_refund_repayment(UnitOfWork& unit, std::int64_t refund_id,
                                     std::int64_t shift_id, std::int64_t cashier_id,
                                     const std::string& method, std::int64_t amount_fen);

/// Asks left refunding longer than `older_than_micros` (their request died), and booked asks
/// the provider called PROCESSING when last asked more than `recheck_micros` ago; oldest
/// first, ids only.
std::vector<std::int64_t> stale_code_refunds(UnitOfWork& unit, std::int64_t older_than_micros,
                                             std::int64_t recheck_micros, int limit);

/// For `yizhan check`: refunds to codes without exactly one provider refund booked as them,
/// booked provider refunds whose refund differs, and code payments given back beyond what they
/// paid; one line per problem.
std::vector<std::string> code_refund_differences(UnitOfWork& unit);
/// For `yizhan check`: refunds owed (account refunds_owed) against the code refunds owed and not
/// repaid; code refunds owed or repaid without exactly one refund_failed entry of their amount;
/// repayments without their refund_repaid entry, or of a refund not repaid, or of another
/// amount. One line per problem.
std::vector<std::string> refunds_owed_differences(UnitOfWork& unit);

}  // namespace yizhan::store
