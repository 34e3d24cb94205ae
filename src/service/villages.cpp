// Village use cases; private data is checked against the caller's village.
#include "yizhan/service/villages.hpp"

#include "yizhan/domain/error.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::service {

using domain::Error;
using domain::ErrorCode;

store::VillageRecord VillageService::terms(const domain::Principal& caller,
                                           std::int64_t village_id) {
  if (!domain::may_read_village(caller, village_id)) {
    throw Error(ErrorCode::forbidden, "this village's data belongs to that village");
  }
  auto village = database_.transact(
      [&](store::Session& session) { return store::find_village(session, village_id); });
  if (!village) throw Error(ErrorCode::not_found, "no such village");
  return *village;
}

}  // namespace yizhan::service
