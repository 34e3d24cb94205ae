// Private to src/api: the stock resources (receiving, levels, lots, moves, counts, write-offs,
// returns).
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class StockService;
}

namespace yizhan::api {

void add_stock_routes(Router& router, service::StockService& stock);

}  // namespace yizhan::api
