// Private to src/api: receipts (小票) and printable shift reports.
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class CounterService;
}

namespace yizhan::api {

/// A sale's receipt as HTML or ESC/POS, printing it on the register's printer, the printable
/// X/Z report, and the receipt page's stylesheet and script.
void add_receipt_routes(Router& router, service::CounterService& counter);

}  // namespace yizhan::api
