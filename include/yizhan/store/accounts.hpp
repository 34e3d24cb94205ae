// SQL for users, sessions and login throttle counters. Times are computed by MariaDB (UTC), so
// every process sharing the database agrees on expiry and delays.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "yizhan/domain/access.hpp"

namespace yizhan::store {

class UnitOfWork;

/// A row of `users`.
struct UserRecord {
  std::int64_t id = 0;
  std::string username;
  domain::Role role = domain::Role::cashier;
  std::optional<std::int64_t> village_id;
  bool active = true;
  std::string password_hash;
};

std::optional<UserRecord> find_user_by_username(UnitOfWork& unit, std::string_view username,
                                                bool for_update = false);
std::vector<UserRecord> list_users(UnitOfWork& unit);
std::int64_t insert_user(UnitOfWork& unit, const UserRecord& user);
void update_password_hash(UnitOfWork& unit, std::int64_t user_id, const std::string& hash);
void set_user_active(UnitOfWork& unit, std::int64_t user_id, bool active);

/// The village id for a code, if it exists.
std::optional<std::int64_t> find_village_id_by_code(UnitOfWork& unit, std::string_view code);

/// A live session's user, and whether its last_seen_at is older than `touch_after_seconds`.
struct SessionLookup {
  domain::Principal principal;
  bool needs_touch = false;
};

void insert_session(UnitOfWork& unit, const std::string& token_hash, std::int64_t user_id,
                    int absolute_seconds, std::string_view client_address);
/// The session if it exists, is not past its absolute expiry, was seen within
/// `idle_seconds`, and its user is active.
std::optional<SessionLookup> find_live_session(UnitOfWork& unit, const std::string& token_hash,
                                               int idle_seconds, int touch_after_seconds);
void touch_session(UnitOfWork& unit, const std::string& token_hash);
void delete_session(UnitOfWork& unit, const std::string& token_hash);
/// Ends every session of a user but `keep_token_hash` (empty = end all).
void delete_user_sessions(UnitOfWork& unit, std::int64_t user_id,
                          const std::string& keep_token_hash = {});

/// Which login throttle counter (sql/005_login_throttle.sql).
enum class ThrottleScope { account, address, account_address };

/// A throttle counter as the gate sees it; times are the database's, in seconds.
struct ThrottleCounter {
  int failures = 0;
  double window_age_seconds = 0;          ///< since window_started_at
  double seconds_since_last_failure = 0;  ///< since last_failure_at
  double blocked_seconds = 0;             ///< until blocked_until; <= 0 when not blocked
};

/// The counters for `subjects` (SHA-256 digests, one per scope, in scope order) with a plain
/// consistent read: no lock, so a flood that is already blocked is turned away cheaply. A
/// counter that does not exist yet reads as zero.
std::vector<ThrottleCounter> read_throttle_counters(
    UnitOfWork& unit, const std::vector<std::pair<ThrottleScope, std::string>>& subjects);
/// Creates the counter if needed and locks it (FOR UPDATE) until the transaction ends. Lock
/// several in one fixed order (account, address, account_address) so gates cannot deadlock.
ThrottleCounter lock_throttle_counter(UnitOfWork& unit, ThrottleScope scope,
                                      const std::string& subject);
/// Counts one attempt on a locked counter: failures + 1 (or 1 when `new_window`, which also
/// restarts the window), and blocks it for `block_seconds` from now when > 0.
void count_throttle_attempt(UnitOfWork& unit, ThrottleScope scope, const std::string& subject,
                            bool new_window, double block_seconds);
/// Takes back one counted attempt (it was not a failure), lifting the block when fewer than
/// `blocked_from_failures` remain; `reset` clears the counter and its block instead (a
/// successful sign-in from that address).
void forgive_throttle_attempt(UnitOfWork& unit, ThrottleScope scope, const std::string& subject,
                              bool reset, int blocked_from_failures);

/// Deletes up to `limit` expired sessions and throttle counters untouched for a day (bounded, so
/// a login never waits on a big purge; run often, it keeps both tables small).
void purge_expired(UnitOfWork& unit, int limit);

}  // namespace yizhan::store
