// Private to src/api: the village portal's read-only resources (summary, revenue, balance,
// stock of one village).
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class VillageReportService;
}

namespace yizhan::api {

void add_village_routes(Router& router, service::VillageReportService& reports);

}  // namespace yizhan::api
