// SQL for member villages.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace yizhan::store {

class UnitOfWork;

/// A row of `villages`.
struct VillageRecord {
  std::int64_t id = 0;
  std::string code;
  std::string name;
  std::string description;
  int commission_bps = 0;
  bool active = true;
  std::string name_en;
  std::string contact;
};

std::optional<VillageRecord> find_village(UnitOfWork& unit, std::int64_t id,
                                          bool for_update = false);
/// All villages by id; inactive ones only when asked.
std::vector<VillageRecord> list_villages(UnitOfWork& unit, bool include_inactive);
/// Whether any village exists (an empty station gets demo data).
bool any_village(UnitOfWork& unit);
/// Inserts a village and returns its id.
std::int64_t insert_village(UnitOfWork& unit, const VillageRecord& village);
/// Writes every field of an existing village.
void update_village(UnitOfWork& unit, const VillageRecord& village);

}  // namespace yizhan::store
