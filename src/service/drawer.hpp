// Private to src/service: what a register's drawer holds, for every payment out of it (a cash
// out, a counter or online-order refund in cash, an owed refund paid back).
#pragma once

#include <string>

#include "yizhan/domain/money.hpp"
#include "yizhan/store/counter.hpp"

namespace yizhan::service {

/// The cash the shift's drawer should hold now: float + cash sales − cash refunds + cash in −
/// cash out + orders paid at pickup − owed refunds paid back (the X report's expected cash).
domain::Fen expected_cash(store::UnitOfWork& unit, const store::ShiftRecord& shift);

/// A payment of `amount` out of the shift's drawer, refused (409 conflict naming `field`, with
/// details.expected_cash_fen) when the drawer should hold less: cash that is not there cannot
/// be handed over, and the books would show a drawer below zero. Lock the shift (RowLock::update)
/// first, so that two payments cannot both take the same cash.
void check_drawer_pays(store::UnitOfWork& unit, const store::ShiftRecord& shift, domain::Fen amount,
                       const std::string& field);

}  // namespace yizhan::service
