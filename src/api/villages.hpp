// Private to src/api: member villages.
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class VillageService;
}

namespace yizhan::api {

void add_village_routes(Router& router, service::VillageService& villages);

}  // namespace yizhan::api
