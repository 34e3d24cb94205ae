// Private to src/api: the catalog resources.
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class CatalogService;
}

namespace yizhan::api {

void add_catalog_routes(Router& router, service::CatalogService& catalog);

}  // namespace yizhan::api
