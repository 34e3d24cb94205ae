// SQL for member villages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace yizhan::store {

class Session;

/// A row of `villages`.
struct VillageRecord {
  std::int64_t id = 0;
  std::string code;
  std::string name;
  std::string description;
  int commission_bps = 0;
  bool active = true;
};

std::optional<VillageRecord> find_village(Session& session, std::int64_t id);
/// Whether any village exists (an empty station gets demo data).
bool any_village(Session& session);
/// Inserts a village and returns its id.
std::int64_t insert_village(Session& session, const VillageRecord& village);

}  // namespace yizhan::store
