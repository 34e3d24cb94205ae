// The endpoint table: one line per resource module.
#include "yizhan/api/routes.hpp"

#include "operations.hpp"

namespace yizhan::api {

Router build_router(const Services& services) {
  Router router;
  add_operations_routes(router, services.health);
  return router;
}

}  // namespace yizhan::api
