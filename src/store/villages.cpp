// Member villages in MariaDB.
#include "yizhan/store/villages.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "rows.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/journal.hpp"

namespace yizhan::store {
namespace {

constexpr const char* kColumns =
    "SELECT id, code, name, description, commission_bps, active, name_en, contact FROM villages ";

VillageRecord read_village(sql::ResultSet& row) {
  return VillageRecord{row.getInt64(1), row.getString(2),  row.getString(3), row.getString(4),
                       row.getInt(5),   row.getBoolean(6), row.getString(7), row.getString(8)};
}

void bind_fields(sql::PreparedStatement& statement, const VillageRecord& village) {
  statement.setString(1, village.code);
  statement.setString(2, village.name);
  statement.setString(3, village.name_en);
  statement.setString(4, village.description);
  statement.setString(5, village.contact);
  statement.setInt(6, village.commission_bps);
  statement.setBoolean(7, village.active);
}

}  // namespace

std::optional<VillageRecord> find_village(UnitOfWork& unit, std::int64_t id, bool for_update) {
  auto& statement =
      unit.statement(std::string(kColumns) + "WHERE id = ?" + (for_update ? " FOR UPDATE" : ""));
  statement.setInt64(1, id);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  return read_village(*rows);
}

std::vector<VillageRecord> list_villages(UnitOfWork& unit, bool include_inactive) {
  auto& statement = unit.statement(std::string(kColumns) +
                                   (include_inactive ? "ORDER BY id" : "WHERE active ORDER BY id"));
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  std::vector<VillageRecord> villages;
  while (rows->next())
    villages.push_back(read_village(*rows));
  return villages;
}

bool any_village(UnitOfWork& unit) {
  std::unique_ptr<sql::ResultSet> rows(
      unit.statement("SELECT EXISTS (SELECT 1 FROM villages)").executeQuery());
  rows->next();
  return rows->getBoolean(1);
}

std::int64_t insert_village(UnitOfWork& unit, const VillageRecord& village) {
  auto& statement = unit.statement(
      "INSERT INTO villages (code, name, name_en, description, contact, commission_bps, active) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)");
  bind_fields(statement, village);
  statement.executeUpdate();
  const auto id = last_insert_id(unit);
  // Its payable account from the start, rather than on the first posting: a first sale would
  // otherwise create it while holding other locks, and race whoever else posts to it first.
  open_account(unit, "village_payable:" + std::to_string(id));
  return id;
}

void update_village(UnitOfWork& unit, const VillageRecord& village) {
  auto& statement = unit.statement(
      "UPDATE villages SET code = ?, name = ?, name_en = ?, description = ?, contact = ?, "
      "commission_bps = ?, active = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = ?");
  bind_fields(statement, village);
  statement.setInt64(8, village.id);
  statement.executeUpdate();
}

}  // namespace yizhan::store
