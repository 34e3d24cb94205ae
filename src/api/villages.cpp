// Member villages: their public profile and, for the village itself, its terms.
#include "villages.hpp"

#include "json.hpp"
#include "yizhan/service/villages.hpp"

namespace yizhan::api {

void add_village_routes(Router& router, service::VillageService& villages) {
  // GET /api/v1/villages/{id}/terms
  router.add({"GET", "/api/v1/villages/{id}/terms", Access::village, Executor::database,
              [&villages](const Request& request) {
                const auto village = villages.terms(*request.principal, path_id(request));
                return json_response(200, {{"village_id", village.id},
                                           {"code", village.code},
                                           {"name", village.name},
                                           {"commission_bps", village.commission_bps}});
              }});
}

}  // namespace yizhan::api
