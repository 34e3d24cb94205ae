// Member villages in MariaDB.
#include "yizhan/store/villages.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "yizhan/store/database.hpp"

namespace yizhan::store {

std::optional<VillageRecord> find_village(Session& session, std::int64_t id) {
  auto& statement = session.statement(
      "SELECT id, code, name, description, commission_bps, active FROM villages WHERE id = ?");
  statement.setInt64(1, id);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  return VillageRecord{rows->getInt64(1),  rows->getString(2), rows->getString(3),
                       rows->getString(4), rows->getInt(5),    rows->getBoolean(6)};
}

bool any_village(Session& session) {
  std::unique_ptr<sql::ResultSet> rows(
      session.statement("SELECT EXISTS (SELECT 1 FROM villages)").executeQuery());
  rows->next();
  return rows->getBoolean(1);
}

std::int64_t insert_village(Session& session, const VillageRecord& village) {
  auto& statement = session.statement(
      "INSERT INTO villages (code, name, description, commission_bps, active) "
      "VALUES (?, ?, ?, ?, ?)");
  statement.setString(1, village.code);
  statement.setString(2, village.name);
  statement.setString(3, village.description);
  statement.setInt(4, village.commission_bps);
  statement.setBoolean(5, village.active);
  statement.executeUpdate();
  std::unique_ptr<sql::ResultSet> id(session.statement("SELECT LAST_INSERT_ID()").executeQuery());
  id->next();
  return id->getInt64(1);
}

}  // namespace yizhan::store
