// Private to src/api: the online orders' routes.
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class OrderService;
}

namespace yizhan::api {

/// Checkout, tracking, cancel, the staff queue and transitions, payments and their
/// notifications (API.md "Online orders").
void add_order_routes(Router& router, service::OrderService& orders);

}  // namespace yizhan::api
