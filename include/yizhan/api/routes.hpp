// The whole endpoint table: every resource registers its routes here.
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class HealthService;
}

namespace yizhan::api {

/// The services the API calls; owned by main, outliving the router.
struct Services {
  service::HealthService& health;
};

/// Builds the router with every route of the API.
Router build_router(const Services& services);

}  // namespace yizhan::api
