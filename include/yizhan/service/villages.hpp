// Member villages: what the public sees, and what only the village itself and admins see.
#pragma once

#include <cstdint>

#include "yizhan/domain/access.hpp"
#include "yizhan/store/villages.hpp"

namespace yizhan::store {
class Database;
}

namespace yizhan::service {

class VillageService {
 public:
  explicit VillageService(store::Database& database) : database_(database) {}
  /// A village's commission terms: for that village's own account or an admin; 403 otherwise,
  /// 404 when no such village.
  store::VillageRecord terms(const domain::Principal& caller, std::int64_t village_id);

 private:
  store::Database& database_;
};

}  // namespace yizhan::service
