// Reading the audit log (administrators).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "yizhan/store/audit.hpp"

namespace yizhan::store {
class Database;
}

namespace yizhan::service {

/// One page of audit entries, newest first, and the cursor of the next (older) page.
struct AuditPage {
  std::vector<store::AuditRow> items;
  std::optional<std::int64_t> next_before;  ///< pass as `before` for the next page; none at the end
};

class AuditService {
 public:
  explicit AuditService(store::Database& database) : database_(database) {}
  /// Up to `limit` (1–100, checked by the caller) entries with ids below `before` (all when
  /// none), newest first.
  AuditPage list(std::optional<std::int64_t> before, int limit);

 private:
  store::Database& database_;
};

}  // namespace yizhan::service
