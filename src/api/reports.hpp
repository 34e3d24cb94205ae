// Private to src/api: the manager's reports (JSON, or CSV for Excel with format=csv).
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class ReportService;
}

namespace yizhan::api {

void add_report_routes(Router& router, service::ReportService& reports);

}  // namespace yizhan::api
