// Users, sessions and login failures in MariaDB.
#include "yizhan/store/accounts.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>
#include <sstream>

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

RecentFailures recent_failures(Session& session, const char* query, std::string_view key,
                               int window_seconds) {
  auto& statement = session.statement(query);
  statement.setInt(1, window_seconds);
  statement.setString(2, std::string(key));
  statement.setInt(3, window_seconds);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  RecentFailures failures;
  if (rows->next()) {
    failures.count = rows->getInt(1);
    failures.seconds_until_oldest_expires = rows->isNull(2) ? 0 : rows->getInt(2);
  }
  return failures;
}

}  // namespace

std::optional<UserRecord> find_user_by_username(Session& session, std::string_view username,
                                                bool for_update) {
  auto& statement =
      session.statement(for_update ? std::string(kUserColumns) + "WHERE username = ? FOR UPDATE"
                                   : std::string(kUserColumns) + "WHERE username = ?");
  statement.setString(1, std::string(username));
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  return read_user(*rows);
}

std::vector<UserRecord> list_users(Session& session) {
  std::unique_ptr<sql::ResultSet> rows(
      session.statement(std::string(kUserColumns) + "ORDER BY username").executeQuery());
  std::vector<UserRecord> users;
  while (rows->next())
    users.push_back(read_user(*rows));
  return users;
}

std::int64_t insert_user(Session& session, const UserRecord& user) {
  auto& statement = session.statement(
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
  std::unique_ptr<sql::ResultSet> id(session.statement("SELECT LAST_INSERT_ID()").executeQuery());
  id->next();
  return id->getInt64(1);
}

void update_password_hash(Session& session, std::int64_t user_id, const std::string& hash) {
  auto& statement = session.statement(
      "UPDATE users SET password_hash = ?, password_changed_at = UTC_TIMESTAMP(6), "
      "updated_at = UTC_TIMESTAMP(6) WHERE id = ?");
  statement.setString(1, hash);
  statement.setInt64(2, user_id);
  statement.executeUpdate();
}

void set_user_active(Session& session, std::int64_t user_id, bool active) {
  auto& statement =
      session.statement("UPDATE users SET status = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = ?");
  statement.setString(1, active ? "active" : "disabled");
  statement.setInt64(2, user_id);
  statement.executeUpdate();
}

std::optional<std::int64_t> find_village_id_by_code(Session& session, std::string_view code) {
  auto& statement = session.statement("SELECT id FROM villages WHERE code = ?");
  statement.setString(1, std::string(code));
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  return rows->getInt64(1);
}

void insert_session(Session& session, const std::string& token_hash, std::int64_t user_id,
                    int absolute_seconds, std::string_view client_address) {
  auto& statement = session.statement(
      "INSERT INTO sessions (token_hash, user_id, expires_at, client_address) "
      "VALUES (?, ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND, ?)");
  std::istringstream holder;
  statement.setBlob(1, blob(token_hash, holder));
  statement.setInt64(2, user_id);
  statement.setInt(3, absolute_seconds);
  statement.setString(4, std::string(client_address.substr(0, 64)));
  statement.executeUpdate();
}

std::optional<SessionLookup> find_live_session(Session& session, const std::string& token_hash,
                                               int idle_seconds, int touch_after_seconds) {
  auto& statement = session.statement(
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

void touch_session(Session& session, const std::string& token_hash) {
  auto& statement =
      session.statement("UPDATE sessions SET last_seen_at = UTC_TIMESTAMP(6) WHERE token_hash = ?");
  std::istringstream holder;
  statement.setBlob(1, blob(token_hash, holder));
  statement.executeUpdate();
}

void delete_session(Session& session, const std::string& token_hash) {
  auto& statement = session.statement("DELETE FROM sessions WHERE token_hash = ?");
  std::istringstream holder;
  statement.setBlob(1, blob(token_hash, holder));
  statement.executeUpdate();
}

void delete_user_sessions(Session& session, std::int64_t user_id,
                          const std::string& keep_token_hash) {
  auto& statement = session.statement("DELETE FROM sessions WHERE user_id = ? AND token_hash <> ?");
  std::istringstream holder;
  statement.setInt64(1, user_id);
  statement.setBlob(2, blob(keep_token_hash, holder));
  statement.executeUpdate();
}

RecentFailures recent_failures_for_username(Session& session, std::string_view username,
                                            int window_seconds) {
  return recent_failures(
      session,
      "SELECT COUNT(*), TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(6), "
      "                 MIN(failed_at) + INTERVAL ? SECOND) + 1 "
      "FROM login_failures WHERE username = ? AND failed_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND",
      username, window_seconds);
}

RecentFailures recent_failures_for_address(Session& session, std::string_view client_address,
                                           int window_seconds) {
  return recent_failures(session,
                         "SELECT COUNT(*), TIMESTAMPDIFF(SECOND, UTC_TIMESTAMP(6), "
                         "                 MIN(failed_at) + INTERVAL ? SECOND) + 1 "
                         "FROM login_failures WHERE client_address = ? "
                         "  AND failed_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND",
                         client_address, window_seconds);
}

void record_login_failure(Session& session, std::string_view username,
                          std::string_view client_address) {
  auto& statement =
      session.statement("INSERT INTO login_failures (username, client_address) VALUES (?, ?)");
  statement.setString(1, std::string(username.substr(0, 64)));
  statement.setString(2, std::string(client_address.substr(0, 64)));
  statement.executeUpdate();
}

void clear_login_failures(Session& session, std::string_view username) {
  auto& statement = session.statement("DELETE FROM login_failures WHERE username = ?");
  statement.setString(1, std::string(username));
  statement.executeUpdate();
}

void purge_expired(Session& session, int limit) {
  auto& sessions = session.statement(
      "DELETE FROM sessions WHERE expires_at < UTC_TIMESTAMP(6) ORDER BY expires_at LIMIT ?");
  sessions.setInt(1, limit);
  sessions.executeUpdate();
  auto& failures = session.statement(
      "DELETE FROM login_failures WHERE failed_at < UTC_TIMESTAMP(6) - INTERVAL 1 DAY "
      "ORDER BY failed_at LIMIT ?");
  failures.setInt(1, limit);
  failures.executeUpdate();
}

}  // namespace yizhan::store
