// Private to src/service: the audit entry every audited change starts from.
#pragma once

#include <cstdint>
#include <string>

#include "yizhan/service/accounts.hpp"
#include "yizhan/store/audit.hpp"

namespace yizhan::service {

/// Who did it, from where and by which route, to which entity.
inline store::AuditEntry audit_entry(const Actor& actor, std::string entity_type,
                                     std::int64_t entity_id) {
  store::AuditEntry entry;
  entry.user_id = actor.user_id;
  entry.actor = actor.name;
  entry.action = actor.action;
  entry.entity_type = std::move(entity_type);
  entry.entity_id = std::to_string(entity_id);
  entry.client_address = actor.client_address;
  return entry;
}

}  // namespace yizhan::service
