// SQL for the double-entry journal: entries, postings, account balances.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "yizhan/domain/journal.hpp"

namespace yizhan::store {

class UnitOfWork;

/// Writes one balanced journal entry (kind as in journal_entries.kind) with its postings, in
/// `unit`. Account codes are resolved to ids (village payables and cash drawers are created on
/// first use). An unbalanced entry is domain::Error internal and writes nothing.
std::int64_t post_entry(UnitOfWork& unit, const std::string& kind, std::int64_t document_id,
                        const std::string& business_day, std::span<const domain::Posting> postings,
                        const std::string& memo = {});

/// Creates the account one village or register has ("village_payable:<id>", "cash_drawer:<id>")
/// unless it exists; other codes, and ids with no village or register, are left alone.
void open_account(UnitOfWork& unit, const std::string& code);

/// The balance (sum of postings, debits positive) of the account with `code`; 0 when unknown.
std::int64_t account_balance(UnitOfWork& unit, const std::string& code);

/// Entries whose postings do not sum to zero: "entry <id>: <sum>".
std::vector<std::string> unbalanced_entries(UnitOfWork& unit);

/// Per village: payable balance vs shares sold minus shares refunded; the differing villages as
/// "village <id>: payable <x>, shares <y>".
std::vector<std::string> village_payable_differences(UnitOfWork& unit);

/// Orders whose reservation moves do not match their state: those holding a reservation
/// (pending payment … ready) reserve their lines; every other none.
std::vector<std::string> order_reservation_differences(UnitOfWork& unit);
/// Orders whose refunded_fen is not their succeeded refunds' (or exceeds paid), refunds whose
/// lines and fee do not make their amount, refunds whose journal entry is not their amount.
std::vector<std::string> order_refund_differences(UnitOfWork& unit);
/// Payments held for refund (account order_refunds_due) against unsold payments not refunded.
std::vector<std::string> unsold_payment_differences(UnitOfWork& unit);
/// Sales whose tenders do not sum to their total: "sale <number>: …".
std::vector<std::string> sales_not_covered_by_tenders(UnitOfWork& unit);

}  // namespace yizhan::store
