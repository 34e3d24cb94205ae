// Operations endpoints: liveness, readiness and the OpenAPI description.
#include "operations.hpp"

#include <memory>

#include "json.hpp"
#include "yizhan/domain/embedded_file.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/service/health.hpp"

namespace yizhan::api {

std::vector<domain::EmbeddedFile> embedded_openapi();

void add_operations_routes(Router& router, service::HealthService& health) {
  // GET /healthz
  router.add({"GET", "/healthz", Access::anyone, Executor::inline_io, [](const Request&) {
                return json_response(200, {{"status", "ok"}});
              }});

  // GET /readyz
  router.add({"GET", "/readyz", Access::anyone, Executor::database, [&health](const Request&) {
                if (!health.database_ready()) {
                  throw domain::Error(domain::ErrorCode::unavailable, "database unavailable");
                }
                return json_response(200, {{"status", "ready"}});
              }});

  // GET /api/openapi.json
  auto openapi = std::make_shared<const std::string>(embedded_openapi().at(0).content);
  router.add(
      {"GET", "/api/openapi.json", Access::anyone, Executor::inline_io, [openapi](const Request&) {
         Response response;
         response.shared_body = openapi;
         response.headers.emplace_back("Cache-Control", "public, max-age=300");
         return response;
       }});
}

}  // namespace yizhan::api
