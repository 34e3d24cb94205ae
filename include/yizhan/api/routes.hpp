// The whole endpoint table: every resource registers its routes here.
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class HealthService;
class AccountService;
class AuditService;
class CatalogService;
}  // namespace yizhan::service

namespace yizhan::api {

/// The services the API calls; owned by main, outliving the router.
struct Services {
  service::HealthService& health;
  service::AccountService& accounts;
  service::AuditService& audit;
  service::CatalogService& catalog;
};

/// Builds the router with every route of the API and the session authenticator.
Router build_router(const Services& services);

}  // namespace yizhan::api
