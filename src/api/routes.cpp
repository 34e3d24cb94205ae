// The endpoint table: one line per resource module.
#include "yizhan/api/routes.hpp"

#include "audit.hpp"
#include "auth.hpp"
#include "catalog.hpp"
#include "operations.hpp"
#include "yizhan/service/accounts.hpp"

namespace yizhan::api {

Router build_router(const Services& services) {
  Router router;
  router.set_authenticator([&accounts = services.accounts](std::string_view token) {
    return accounts.authenticate(token);
  });
  add_operations_routes(router, services.health);
  add_auth_routes(router, services.accounts);
  add_audit_routes(router, services.audit);
  add_catalog_routes(router, services.catalog);
  return router;
}

}  // namespace yizhan::api
