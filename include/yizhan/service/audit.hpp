// Reading the audit log (administrators).
#pragma once

#include <cstdint>
#include <vector>

#include "yizhan/store/audit.hpp"

namespace yizhan::store {
class Database;
}

namespace yizhan::service {

/// One page of audit entries, newest first.
struct AuditPage {
  std::vector<store::AuditRow> items;
  std::int64_t total = 0;
};

class AuditService {
 public:
  explicit AuditService(store::Database& database) : database_(database) {}
  /// `page` from 1; `page_size` 1–100 (checked by the caller).
  AuditPage list(int page, int page_size);

 private:
  store::Database& database_;
};

}  // namespace yizhan::service
