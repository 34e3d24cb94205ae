// Private to src/api: sessions and the caller's own account.
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class AccountService;
}

namespace yizhan::api {

void add_auth_routes(Router& router, service::AccountService& accounts);

}  // namespace yizhan::api
