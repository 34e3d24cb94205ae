// Readiness check against the database.
#include "yizhan/service/health.hpp"

#include "yizhan/store/database.hpp"

namespace yizhan::service {

bool HealthService::database_ready() {
  return database_.ping();
}

}  // namespace yizhan::service
