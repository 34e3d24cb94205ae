// Private to src/api: the audit log resource.
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class AuditService;
}

namespace yizhan::api {

void add_audit_routes(Router& router, service::AuditService& audit);

}  // namespace yizhan::api
