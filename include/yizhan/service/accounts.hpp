// Accounts: login with throttling, server-side sessions, password changes, user administration.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "yizhan/domain/access.hpp"
#include "yizhan/service/credentials.hpp"

namespace yizhan::store {
class Database;
}

namespace yizhan::service {

/// Session lifetimes and login throttling limits. Attempts are counted before the password is
/// hashed; a successful sign-in takes its attempt back.
struct SessionPolicy {
  int absolute_seconds = 12 * 3600;  ///< a session ends this long after login, whatever happens
  int idle_seconds = 2 * 3600;       ///< … or this long after its last use
  int touch_after_seconds = 60;      ///< last-use time is written at most this often
  /// A session found live is trusted this long without asking the database again, so a busy
  /// counter's requests do not each pay a lookup. Ending a session in this process (logout,
  /// password change, disabling) takes effect at once; in another process, within this time.
  /// 0 asks every time.
  double cache_seconds = 1;
  int failure_window_seconds = 15 * 60;
  /// One username from one client address: this many failures freely, then each further attempt
  /// waits first_delay, 2×, 4× … up to max_delay. The counter ends after a quiet window.
  int pair_free_failures = 5;
  double pair_first_delay_seconds = 1;
  double pair_max_delay_seconds = 300;
  /// One username from all addresses within the window: far higher, so that strangers cannot
  /// lock the cashier or the manager out with a few requests.
  int account_failure_limit = 100;
  int address_failure_limit = 30;  ///< failures per client address (all usernames) in the window
};

/// The hashing pool: argon2id runs on these threads only (19 MiB each while it runs).
struct HashingLimits {
  int threads = 2;      ///< config password_hash_threads
  int queue_limit = 4;  ///< hashes waiting beyond that are refused at once (503, Retry-After)
};

/// Who performs an administrative change, for the audit log.
struct Actor {
  std::optional<std::int64_t> user_id;
  std::string name;  ///< username, or "cli"
  std::string client_address;
  std::string action;  ///< route or command, e.g. "user add"
};

/// A signed-in user and the token for the cookie.
struct LoginResult {
  domain::Principal user;
  std::string token;
  int max_age_seconds = 0;
};

/// An account as listed to administrators (never the hash).
struct UserSummary {
  std::int64_t id = 0;
  std::string username;
  domain::Role role = domain::Role::cashier;
  std::optional<std::int64_t> village_id;
  bool active = true;
};

/// Account use cases; each state change is one transaction with its audit entry.
class AccountService {
 public:
  AccountService(store::Database& database, PasswordHasher hasher = PasswordHasher(),
                 SessionPolicy policy = SessionPolicy(), HashingLimits hashing = HashingLimits());
  ~AccountService();

  /// Checks and counts the throttle, then the password on the hashing pool. Throws invalid
  /// (422 naming `username` or `password` when it is not UTF-8), invalid_credentials (401, same
  /// answer for an unknown user, a wrong password and a disabled account, in about the same
  /// time), too_many_attempts (429, details.retry_after_seconds) or unavailable (503 when the
  /// hashing pool is full). Every failure is audited.
  LoginResult login(std::string_view username, std::string_view password,
                    std::string_view client_address);
  /// Ends the session server-side. Unknown tokens are ignored.
  void logout(std::string_view token);
  /// The user of a live session, touching its last-use time now and then.
  std::optional<domain::Principal> authenticate(std::string_view token);
  /// Changes the caller's own password and ends their other sessions. A wrong current password
  /// counts against the same throttle as a failed login.
  void change_password(const domain::Principal& user, std::string_view current_token,
                       std::string_view current_password, std::string_view new_password,
                       std::string_view client_address);

  /// Creates an account; village accounts name their village by code.
  UserSummary add_user(std::string_view username, domain::Role role,
                       const std::optional<std::string>& village_code, std::string_view password,
                       const Actor& actor);
  /// Sets a new password and ends all of the user's sessions.
  void reset_password(std::string_view username, std::string_view password, const Actor& actor);
  /// Disables an account and ends its sessions.
  void disable_user(std::string_view username, const Actor& actor);
  std::vector<UserSummary> list_users();

  [[nodiscard]] const SessionPolicy& policy() const { return policy_; }

 private:
  struct Attempt;
  class RecentlyBlocked;
  class LiveSessions;
  /// Admission of one attempt for `username` from `client_address`: a block remembered in
  /// this process (429), a place on the hashing pool (503 when full), then the gate that checks
  /// and counts the throttle in the database (429, audited as `action`) and reads the user.
  Attempt begin_attempt(const std::string& username, std::string_view client_address,
                        const std::string& action);

  store::Database& database_;
  PasswordHasher hasher_;
  SessionPolicy policy_;
  std::unique_ptr<HashingPool> hashing_;
  std::unique_ptr<RecentlyBlocked> recently_blocked_;
  std::unique_ptr<LiveSessions> live_sessions_;
  std::string decoy_hash_;  ///< verified against for unknown users, so timing does not tell
};

}  // namespace yizhan::service
