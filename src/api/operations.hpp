// Private to src/api: the operations routes (/healthz, /readyz, /api/openapi.json).
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class HealthService;
}

namespace yizhan::api {

/// Registers the probes and the OpenAPI description.
void add_operations_routes(Router& router, service::HealthService& health);

}  // namespace yizhan::api
