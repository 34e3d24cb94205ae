// Private to src/api: settlements, payouts, statements and village adjustments.
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class SettlementService;
}

namespace yizhan::api {

/// Drafts, confirmation, payouts, statements (CSV and printable) and manual adjustments
/// (API.md "Revenue").
void add_settlement_routes(Router& router, service::SettlementService& settlements);

}  // namespace yizhan::api
