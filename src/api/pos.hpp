// Private to src/api: the counter's routes.
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class CounterService;
}

namespace yizhan::api {

/// Registers, shifts, sales, refunds and held carts (API.md "Counter").
void add_pos_routes(Router& router, service::CounterService& counter);
/// Refunds owed to customers (a code refund its provider ended unpaid): the list, the repay.
void add_owed_refund_routes(Router& router, service::CounterService& counter);

}  // namespace yizhan::api
