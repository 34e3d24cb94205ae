// SQL for users, sessions and login failures. Times are computed by MariaDB (UTC), so every
// process sharing the database agrees on expiry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "yizhan/domain/access.hpp"

namespace yizhan::store {

class Session;

/// A row of `users`.
struct UserRecord {
  std::int64_t id = 0;
  std::string username;
  domain::Role role = domain::Role::cashier;
  std::optional<std::int64_t> village_id;
  bool active = true;
  std::string password_hash;
};

std::optional<UserRecord> find_user_by_username(Session& session, std::string_view username,
                                                bool for_update = false);
std::vector<UserRecord> list_users(Session& session);
std::int64_t insert_user(Session& session, const UserRecord& user);
void update_password_hash(Session& session, std::int64_t user_id, const std::string& hash);
void set_user_active(Session& session, std::int64_t user_id, bool active);

/// The village id for a code, if it exists.
std::optional<std::int64_t> find_village_id_by_code(Session& session, std::string_view code);

/// A live session's user, and whether its last_seen_at is older than `touch_after_seconds`.
struct SessionLookup {
  domain::Principal principal;
  bool needs_touch = false;
};

void insert_session(Session& session, const std::string& token_hash, std::int64_t user_id,
                    int absolute_seconds, std::string_view client_address);
/// The session if it exists, is not past its absolute expiry, was seen within
/// `idle_seconds`, and its user is active.
std::optional<SessionLookup> find_live_session(Session& session, const std::string& token_hash,
                                               int idle_seconds, int touch_after_seconds);
void touch_session(Session& session, const std::string& token_hash);
void delete_session(Session& session, const std::string& token_hash);
/// Ends every session of a user but `keep_token_hash` (empty = end all).
void delete_user_sessions(Session& session, std::int64_t user_id,
                          const std::string& keep_token_hash = {});

/// Failures within the last `window_seconds`, and seconds until the oldest leaves the window.
struct RecentFailures {
  int count = 0;
  int seconds_until_oldest_expires = 0;
};
RecentFailures recent_failures_for_username(Session& session, std::string_view username,
                                            int window_seconds);
RecentFailures recent_failures_for_address(Session& session, std::string_view client_address,
                                           int window_seconds);
void record_login_failure(Session& session, std::string_view username,
                          std::string_view client_address);
void clear_login_failures(Session& session, std::string_view username);

/// Deletes up to `limit` expired sessions and login failures older than a day (bounded, so a
/// login never waits on a big purge; run often, it keeps both tables small).
void purge_expired(Session& session, int limit);

}  // namespace yizhan::store
