// The double-entry journal: account codes, and the postings of each money movement. Debits are
// positive, credits negative; every entry sums to zero.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "yizhan/domain/money.hpp"
#include "yizhan/domain/sale.hpp"

namespace yizhan::domain {

/// One line of a journal entry.
struct Posting {
  std::string account;  ///< an account code (below)
  Fen amount;           ///< debit > 0, credit < 0
  friend bool operator==(const Posting&, const Posting&) = default;
};

// Account codes (ledger_accounts.code).
std::string cash_drawer_account(std::int64_t register_id);
std::string tender_clearing_account(TenderMethod method);  ///< cash → error internal
std::string village_payable_account(std::int64_t village_id);
std::string tender_account(TenderMethod method, std::int64_t register_id);  ///< drawer for cash
inline constexpr const char* kCommissionIncome = "commission_income";
inline constexpr const char* kCashOverShort = "cash_over_short";
inline constexpr const char* kStationCash = "station_cash";
/// Refunds owed to customers (应退未退): booked as given back, then ended by the provider unpaid.
inline constexpr const char* kRefundsOwed = "refunds_owed";

/// True when the postings sum to zero.
bool balances(std::span<const Posting> postings);

/// A village's part of a sale or refund line.
struct VillageSplit {
  std::int64_t village_id = 0;
  Fen fee;
  Fen share;
};

/// A sale: debit each tender's account (the register's drawer for cash, net of change), credit
/// each village's payable with its shares and commission income with the fees. Postings to the
/// same account are merged and zero postings dropped; the result balances (else `internal`).
std::vector<Posting> sale_postings(std::int64_t register_id, std::span<const Tender> tenders,
                                   std::span<const VillageSplit> lines);

/// A refund paid out by `method`: the exact reverse of the refunded parts.
std::vector<Posting> refund_postings(std::int64_t register_id, TenderMethod method,
                                     std::span<const VillageSplit> lines);

inline constexpr const char* kDeliveryIncome = "delivery_income";

/// An online order paid (or a cash-on-pickup order paid at handover) through `method`: like a
/// counter sale of its lines, plus the delivery fee as the station's income. The exact reverse
/// (every amount negated) is a whole refund.
std::vector<Posting> order_payment_postings(TenderMethod method, std::int64_t register_id,
                                            std::span<const VillageSplit> lines, Fen delivery_fee);

/// Cash put into (amount > 0) or taken out of (amount < 0) a drawer, against the station's cash.
/// A shift's opening float is such a movement.
std::vector<Posting> cash_movement_postings(std::int64_t register_id, Fen amount);

/// A refund booked to a scanned code's provider that the provider then ended without paying
/// (CLOSED, ABNORMAL): the money is still with the provider (back on its clearing account) and
/// owed to the customer. Nothing for 0; a cash `method` is `internal` (it has no provider).
std::vector<Posting> refund_failed_postings(TenderMethod method, Fen amount);

/// A refund owed to a customer paid back in cash from a register's drawer.
std::vector<Posting> refund_repaid_postings(std::int64_t register_id, Fen amount);

/// Closing a shift: the counted cash goes back to the station's cash, and the difference
/// between expected and counted is booked to cash over/short, leaving the drawer at zero.
std::vector<Posting> shift_close_postings(std::int64_t register_id, Fen expected, Fen counted);

}  // namespace yizhan::domain
