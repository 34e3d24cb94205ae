// Readiness: whether the database answers.
#pragma once

namespace yizhan::store {
class Database;
}

namespace yizhan::service {

/// Answers the operations probes.
class HealthService {
 public:
  explicit HealthService(store::Database& database) : database_(database) {}
  /// True when the database answers a trivial query now.
  bool database_ready();

 private:
  store::Database& database_;
};

}  // namespace yizhan::service
