// Users, sessions and login throttle counters in MariaDB.
#include "yizhan/store/accounts.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>
#include <sstream>

#include "yizhan/domain/text.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::store {
namespace {

constexpr const char* kUserColumns =
    "SELECT id, username, role, village_id, status = 'active', password_hash FROM users ";

UserRecord read_user(sql::ResultSet& row) {
  UserRecord user;
  user.id = row.getInt64(1);
  user.username = row.getString(2);
  user.role = domain::parse_role(std::string(row.getString(3))).value_or(domain::Role::cashier);
  if (!row.isNull(4)) user.village_id = row.getInt64(4);
  user.active = row.getBoolean(5);
  user.password_hash = row.getString(6);
  return user;
}

std::istream* blob(const std::string& bytes, std::istringstream& holder) {
  holder.str(bytes);
  return &holder;
}

const char* scope_name(ThrottleScope scope) {
  switch (scope) {
    case ThrottleScope::account: return "account";
    case ThrottleScope::address: return "address";
    case ThrottleScope::account_address: return "account_address";
  }
  return "account";
}

constexpr const char* kThrottleColumns =
    "SELECT failures, "
    "       TIMESTAMPDIFF(MICROSECOND, window_started_at, UTC_TIMESTAMP(6)) / 1e6, "
    "       TIMESTAMPDIFF(MICROSECOND, last_failure_at, UTC_TIMESTAMP(6)) / 1e6, "
    "       TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), blocked_until) / 1e6 "
    "FROM login_throttle ";

ThrottleCounter read_counter(sql::ResultSet& row, int first_column) {
  ThrottleCounter counter;
  counter.failures = row.getInt(first_column);
  counter.window_age_seconds = static_cast<double>(row.getDouble(first_column + 1));
  counter.seconds_since_last_failure = static_cast<double>(row.getDouble(first_column + 2));
  counter.blocked_seconds = static_cast<double>(row.getDouble(first_column + 3));
  return counter;
}

}  // namespace

std::optional<UserRecord> find_user_by_username(UnitOfWork& unit, std::string_view username,
                                                bool for_update) {
  auto& statement =
      unit.statement(for_update ? std::string(kUserColumns) + "WHERE username = ? FOR UPDATE"
                                : std::string(kUserColumns) + "WHERE username = ?");
  statement.setString(1, std::string(username));
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  return read_user(*rows);
}

std::vector<UserRecord> list_users(UnitOfWork& unit) {
  std::unique_ptr<sql::ResultSet> rows(
      unit.statement(std::string(kUserColumns) + "ORDER BY username").executeQuery());
  std::vector<UserRecord> users;
  while (rows->next())
    users.push_back(read_user(*rows));
  return users;
}

std::int64_t insert_user(UnitOfWork& unit, const UserRecord& user) {
  auto& statement = unit.statement(
      "INSERT INTO users (username, role, village_id, status, password_hash) "
      "VALUES (?, ?, ?, ?, ?)");
  statement.setString(1, user.username);
  statement.setString(2, std::string(domain::to_string(user.role)));
  if (user.village_id) {
    statement.setInt64(3, *user.village_id);
  } else {
    statement.setNull(3, 0);
  }
  statement.setString(4, user.active ? "active" : "disabled");
  statement.setString(5, user.password_hash);
  statement.executeUpdate();
  std::unique_ptr<sql::ResultSet> id(unit.statement("SELECT LAST_INSERT_ID()").executeQuery());
  id->next();
  return id->getInt64(1);
}

void update_password_hash(UnitOfWork& unit, std::int64_t user_id, const std::string& hash) {
  auto& statement = unit.statement(
      "UPDATE users SET password_hash = ?, password_changed_at = UTC_TIMESTAMP(6), "
      "updated_at = UTC_TIMESTAMP(6) WHERE id = ?");
  statement.setString(1, hash);
  statement.setInt64(2, user_id);
  statement.executeUpdate();
}

void set_user_active(UnitOfWork& unit, std::int64_t user_id, bool active) {
  auto& statement =
      unit.statement("UPDATE users SET status = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = ?");
  statement.setString(1, active ? "active" : "disabled");
  statement.setInt64(2, user_id);
  statement.executeUpdate();
}

std::optional<std::int64_t> find_village_id_by_code(UnitOfWork& unit, std::string_view code) {
  auto& statement = unit.statement("SELECT id FROM villages WHERE code = ?");
  statement.setString(1, std::string(code));
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  return rows->getInt64(1);
}

void insert_session(UnitOfWork& unit, const std::string& token_hash, std::int64_t user_id,
                    int absolute_seconds, std::string_view client_address) {
  auto& statement = unit.statement(
      "INSERT INTO sessions (token_hash, user_id, expires_at, client_address) "
      "VALUES (?, ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND, ?)");
  std::istringstream holder;
  statement.setBlob(1, blob(token_hash, holder));
  statement.setInt64(2, user_id);
  statement.setInt(3, absolute_seconds);
  statement.setString(4, domain::storable_text(client_address, 64));
  statement.executeUpdate();
}

std::optional<SessionLookup> find_live_session(UnitOfWork& unit, const std::string& token_hash,
                                               int idle_seconds, int touch_after_seconds) {
  auto& statement = unit.statement(
      "SELECT u.id, u.username, u.role, u.village_id, "
      "       s.last_seen_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND "
      "FROM sessions s JOIN users u ON u.id = s.user_id "
      "WHERE s.token_hash = ? AND s.expires_at > UTC_TIMESTAMP(6) "
      "  AND s.last_seen_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND AND u.status = 'active'");
  std::istringstream holder;
  statement.setInt(1, touch_after_seconds);
  statement.setBlob(2, blob(token_hash, holder));
  statement.setInt(3, idle_seconds);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  SessionLookup lookup;
  lookup.principal.user_id = rows->getInt64(1);
  lookup.principal.username = rows->getString(2);
  lookup.principal.role =
      domain::parse_role(std::string(rows->getString(3))).value_or(domain::Role::cashier);
  if (!rows->isNull(4)) lookup.principal.village_id = rows->getInt64(4);
  lookup.needs_touch = rows->getBoolean(5);
  return lookup;
}

void touch_session(UnitOfWork& unit, const std::string& token_hash) {
  auto& statement =
      unit.statement("UPDATE sessions SET last_seen_at = UTC_TIMESTAMP(6) WHERE token_hash = ?");
  std::istringstream holder;
  statement.setBlob(1, blob(token_hash, holder));
  statement.executeUpdate();
}

void delete_session(UnitOfWork& unit, const std::string& token_hash) {
  auto& statement = unit.statement("DELETE FROM sessions WHERE token_hash = ?");
  std::istringstream holder;
  statement.setBlob(1, blob(token_hash, holder));
  statement.executeUpdate();
}

void delete_user_sessions(UnitOfWork& unit, std::int64_t user_id,
                          const std::string& keep_token_hash) {
  auto& statement = unit.statement("DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?");
  std::istringstream holder;
  statement.setInt64(1, user_id);
  statement.setBlob(2, blob(keep_token_hash, holder));
  statement.executeUpdate();
}

std::vector<ThrottleCounter> read_throttle_counters(
    UnitOfWork& unit, const std::vector<std::pair<ThrottleScope, std::string>>& subjects) {
  std::vector<ThrottleCounter> counters(subjects.size());
  for (std::size_t i = 0; i < subjects.size(); ++i) {
    auto& statement =
        unit.statement(std::string(kThrottleColumns) + "WHERE scope = ? AND subject = ?");
    std::istringstream holder;
    statement.setString(1, scope_name(subjects[i].first));
    statement.setBlob(2, blob(subjects[i].second, holder));
    std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
    if (rows->next()) counters[i] = read_counter(*rows, 1);
  }
  return counters;
}

ThrottleCounter lock_throttle_counter(UnitOfWork& unit, ThrottleScope scope,
                                      const std::string& subject) {
  auto& insert = unit.statement(
      "INSERT IGNORE INTO login_throttle (scope, subject, failures) VALUES (?, ?, 0)");
  std::istringstream insert_holder;
  insert.setString(1, scope_name(scope));
  insert.setBlob(2, blob(subject, insert_holder));
  insert.executeUpdate();
  auto& select =
      unit.statement(std::string(kThrottleColumns) + "WHERE scope = ? AND subject = ? FOR UPDATE");
  std::istringstream select_holder;
  select.setString(1, scope_name(scope));
  select.setBlob(2, blob(subject, select_holder));
  std::unique_ptr<sql::ResultSet> rows(select.executeQuery());
  ThrottleCounter counter;
  if (rows->next()) counter = read_counter(*rows, 1);
  return counter;
}

void count_throttle_attempt(UnitOfWork& unit, ThrottleScope scope, const std::string& subject,
                            bool new_window, double block_seconds) {
  auto& statement = unit.statement(
      "UPDATE login_throttle SET failures = IF(?, 1, failures + 1), "
      "  window_started_at = IF(?, UTC_TIMESTAMP(6), window_started_at), "
      "  last_failure_at = UTC_TIMESTAMP(6), "
      "  blocked_until = GREATEST(blocked_until, "
      "                           UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND) "
      "WHERE scope = ? AND subject = ?");
  std::istringstream holder;
  statement.setBoolean(1, new_window);
  statement.setBoolean(2, new_window);
  statement.setInt64(3, static_cast<std::int64_t>(block_seconds * 1e6));
  statement.setString(4, scope_name(scope));
  statement.setBlob(5, blob(subject, holder));
  statement.executeUpdate();
}

void forgive_throttle_attempt(UnitOfWork& unit, ThrottleScope scope, const std::string& subject,
                              bool reset, int blocked_from_failures) {
  // blocked_until first: it must see failures before the decrement (assignments run in order).
  auto& statement = unit.statement(
      "UPDATE login_throttle SET "
      "  blocked_until = IF(? OR failures - 1 < ?, LEAST(blocked_until, UTC_TIMESTAMP(6)), "
      "                     blocked_until), "
      "  failures = IF(?, 0, GREATEST(failures - 1, 0)) "
      "WHERE scope = ? AND subject = ?");
  std::istringstream holder;
  statement.setBoolean(1, reset);
  statement.setInt(2, blocked_from_failures);
  statement.setBoolean(3, reset);
  statement.setString(4, scope_name(scope));
  statement.setBlob(5, blob(subject, holder));
  statement.executeUpdate();
}

void purge_expired(UnitOfWork& unit, int limit) {
  auto& sessions = unit.statement(
      "DELETE FROM sessions WHERE expires_at < UTC_TIMESTAMP(6) ORDER BY expires_at LIMIT ?");
  sessions.setInt(1, limit);
  sessions.executeUpdate();
  auto& counters = unit.statement(
      "DELETE FROM login_throttle WHERE last_failure_at < UTC_TIMESTAMP(6) - INTERVAL 1 DAY "
      "  AND blocked_until < UTC_TIMESTAMP(6) ORDER BY last_failure_at LIMIT ?");
  counters.setInt(1, limit);
  counters.executeUpdate();
}

}  // namespace yizhan::store
