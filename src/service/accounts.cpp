// Login, sessions and account administration, each change with its audit entry.
#include "yizhan/service/accounts.hpp"

#include <algorithm>
#include <chrono>
#include <climits>
#include <cmath>
#include <mutex>
#include <unordered_map>

#include "yizhan/domain/access.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/text.hpp"
#include "yizhan/store/accounts.hpp"
#include "yizhan/store/audit.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/digest.hpp"

namespace yizhan::service {

using domain::Error;
using domain::ErrorCode;

namespace {

constexpr std::size_t kMaxTokenLength = 128;
constexpr std::size_t kMaxUsernameCharacters = 64;  // users.username is VARCHAR(64)
constexpr const char* kLoginAction = "POST /api/v1/auth/login";
constexpr const char* kPasswordAction = "POST /api/v1/me/password";
constexpr int kPurgeBatch = 50;

/// Cut by characters (never inside a hanzi) and lower-cased; usernames themselves are ASCII.
std::string normalized(std::string_view username) {
  std::string name(domain::truncate_characters(username, kMaxUsernameCharacters));
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
    return c < 0x80 ? static_cast<char>(std::tolower(c)) : static_cast<char>(c);
  });
  return name;
}

/// 422 naming `field` unless `text` is UTF-8: checked before anything is hashed or stored.
void require_utf8(std::string_view text, const char* field) {
  if (!domain::is_valid_utf8(text)) {
    throw Error::invalid_field(field, std::string(field) + " is not valid UTF-8 text");
  }
}

UserSummary summary(const store::UserRecord& user) {
  return {user.id, user.username, user.role, user.village_id, user.active};
}

store::AuditState user_state(const store::UserRecord& user) {
  store::AuditState state{{"username", user.username},
                          {"role", std::string(domain::to_string(user.role))},
                          {"status", user.active ? "active" : "disabled"}};
  if (user.village_id) state.emplace_back("village_id", std::to_string(*user.village_id));
  return state;
}

store::AuditEntry entry_for(const Actor& actor, const store::UserRecord& user) {
  store::AuditEntry entry;
  entry.user_id = actor.user_id;
  entry.actor = actor.name;
  entry.action = actor.action;
  entry.entity_type = "user";
  entry.entity_id = std::to_string(user.id);
  entry.client_address = actor.client_address;
  return entry;
}

/// Seconds each counter (scope order) blocks the attempt for; <= 0: not blocking.
std::vector<double> blocking_seconds(const SessionPolicy& policy,
                                     const std::vector<store::ThrottleCounter>& c) {
  const double window = policy.failure_window_seconds;
  auto over_limit = [&](const store::ThrottleCounter& counter, int limit) {
    return counter.window_age_seconds < window && counter.failures >= limit
               ? window - counter.window_age_seconds
               : 0.0;
  };
  return {over_limit(c[0], policy.account_failure_limit),
          over_limit(c[1], policy.address_failure_limit), c[2].blocked_seconds};
}

/// Whole seconds until the attempt may be made (0: now).
int retry_after_seconds(const std::vector<double>& waits) {
  const double wait = *std::max_element(waits.begin(), waits.end());
  return wait > 0 ? static_cast<int>(std::ceil(wait)) : 0;
}

/// The wait before the next attempt after `failures` of one username from one address: none
/// for the first few, then first_delay, doubling, capped.
double pair_delay_seconds(const SessionPolicy& policy, int failures) {
  if (failures < policy.pair_free_failures) return 0;
  const int doublings = std::min(failures - policy.pair_free_failures, 30);
  return std::min(std::ldexp(policy.pair_first_delay_seconds, doublings),
                  policy.pair_max_delay_seconds);
}

}  // namespace

/// Throttle counters this process saw blocked, until when: a bounded map, so a flood from many
/// addresses cannot grow it. The database stays the authority; this only answers repeats early.
class AccountService::RecentlyBlocked {
 public:
  using Clock = std::chrono::steady_clock;
  using Subjects = std::vector<std::pair<store::ThrottleScope, std::string>>;

  /// Whole seconds the longest remembered block of `subjects` still runs; 0 when none.
  int seconds_left(const Subjects& subjects) {
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    double left = 0;
    for (const auto& [scope, subject] : subjects) {
      const auto found = until_.find(key(scope, subject));
      if (found == until_.end()) continue;
      if (found->second <= now) {
        until_.erase(found);
        continue;
      }
      left = std::max(left, std::chrono::duration<double>(found->second - now).count());
    }
    return left > 0 ? static_cast<int>(std::ceil(left)) : 0;
  }

  /// Remembers each of `subjects` whose wait (same order) is positive.
  void remember(const Subjects& subjects, const std::vector<double>& waits) {
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    if (until_.size() >= kCapacity) {
      std::erase_if(until_, [&](const auto& entry) { return entry.second <= now; });
      if (until_.size() >= kCapacity) until_.clear();
    }
    for (std::size_t i = 0; i < subjects.size() && i < waits.size(); ++i) {
      if (waits[i] <= 0) continue;
      until_[key(subjects[i].first, subjects[i].second)] =
          now +
          std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(waits[i]));
    }
  }

 private:
  static constexpr std::size_t kCapacity = 10000;
  static std::string key(store::ThrottleScope scope, const std::string& subject) {
    return static_cast<char>('0' + static_cast<int>(scope)) + subject;
  }
  std::mutex mutex_;
  std::unordered_map<std::string, Clock::time_point> until_;
};

/// One counted sign-in attempt: the throttle counters it was counted on, and the user.
struct AccountService::Attempt {
  std::vector<std::pair<store::ThrottleScope, std::string>> subjects;  ///< scope order
  store::UserRecord user;                                              ///< id 0: no such user
  std::optional<HashingPool::Slot> slot;  ///< its place on the hashing pool
};

/// Sessions found live a moment ago, by token digest: a bounded map whose entries end after
/// SessionPolicy::cache_seconds.
class AccountService::LiveSessions {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LiveSessions(double seconds)
      : lifetime_(std::chrono::duration_cast<Clock::duration>(
            std::chrono::duration<double>(std::max(seconds, 0.0)))) {}

  std::optional<domain::Principal> find(const std::string& digest) {
    if (lifetime_ == Clock::duration::zero()) return std::nullopt;
    std::lock_guard lock(mutex_);
    const auto found = live_.find(digest);
    if (found == live_.end()) return std::nullopt;
    if (found->second.until <= Clock::now()) {
      live_.erase(found);
      return std::nullopt;
    }
    return found->second.principal;
  }

  void remember(const std::string& digest, const domain::Principal& principal) {
    if (lifetime_ == Clock::duration::zero()) return;
    const auto now = Clock::now();
    std::lock_guard lock(mutex_);
    if (live_.size() >= kCapacity) {
      std::erase_if(live_, [&](const auto& entry) { return entry.second.until <= now; });
      if (live_.size() >= kCapacity) live_.clear();
    }
    live_[digest] = {principal, now + lifetime_};
  }

  void forget(const std::string& digest) {
    std::lock_guard lock(mutex_);
    live_.erase(digest);
  }

  void forget_all() {
    std::lock_guard lock(mutex_);
    live_.clear();
  }

 private:
  static constexpr std::size_t kCapacity = 10000;
  struct Live {
    domain::Principal principal;
    Clock::time_point until;
  };
  const Clock::duration lifetime_;
  std::mutex mutex_;
  std::unordered_map<std::string, Live> live_;
};

AccountService::AccountService(store::Database& database, PasswordHasher hasher,
                               SessionPolicy policy, HashingLimits hashing)
    : database_(database),
      hasher_(hasher),
      policy_(policy),
      hashing_(std::make_unique<HashingPool>(hashing.threads, hashing.queue_limit)),
      recently_blocked_(std::make_unique<RecentlyBlocked>()),
      live_sessions_(std::make_unique<LiveSessions>(policy_.cache_seconds)),
      decoy_hash_(hasher_.hash("decoy")) {}

AccountService::~AccountService() = default;

namespace {

void audit_attempt(store::UnitOfWork& unit, const std::string& username,
                   std::string_view client_address, const std::string& action,
                   const std::string& result) {
  store::AuditEntry entry;
  entry.actor = username.empty() ? "anonymous" : username;
  entry.action = action;
  entry.entity_type = "login";
  entry.entity_id = username;
  entry.after = store::AuditState{{"result", result}};
  entry.client_address = std::string(client_address);
  store::record_audit(unit, entry);
}

void forgive(store::UnitOfWork& unit, const SessionPolicy& policy,
             const std::vector<std::pair<store::ThrottleScope, std::string>>& subjects,
             bool succeeded) {
  for (const auto& [scope, subject] : subjects) {
    const bool pair = scope == store::ThrottleScope::account_address;
    store::forgive_throttle_attempt(unit, scope, subject, succeeded && pair,
                                    pair ? policy.pair_free_failures : INT_MAX);
  }
}

}  // namespace

AccountService::Attempt AccountService::begin_attempt(const std::string& username,
                                                      std::string_view client_address,
                                                      const std::string& action) {
  Attempt attempt;
  // Until the database says which account the name is, its counters are those of its folded
  // spelling: for an account's own name, the account's.
  const auto subjects_of = [&](const std::string& name) {
    return std::vector<std::pair<store::ThrottleScope, std::string>>{
        {store::ThrottleScope::account, store::sha256(name)},
        {store::ThrottleScope::address, store::sha256(client_address)},
        {store::ThrottleScope::account_address,
         store::sha256(name + '\0' + std::string(client_address))}};
  };
  const auto first_guess = subjects_of(domain::folded_username(username));
  // A flood already known to be blocked is answered from memory: no database work, no audit
  // row per request (the first refusal of each block was audited).
  if (const int wait = recently_blocked_->seconds_left(first_guess); wait > 0) {
    throw Error(ErrorCode::too_many_attempts, "too many failed sign-ins; try again later",
                {{"retry_after_seconds", std::to_string(wait)}});
  }
  // A place on the hashing pool before any database work: when it is full the answer is an
  // immediate 503 that costs nothing and counts nothing.
  attempt.slot.emplace(hashing_->reserve());
  struct Gate {
    int retry_after = 0;        ///< > 0: blocked
    std::vector<double> waits;  ///< per counter
    std::vector<std::pair<store::ThrottleScope, std::string>> subjects;
    store::UserRecord user;
  };
  const auto gate = database_.transact([&](store::UnitOfWork& unit) {
    Gate result;
    // users.username compares as utf8mb4_unicode_ci with PAD SPACE: "qianpu ", "qiánpu" and
    // "ｑｉａｎｐｕ" all find qianpu. Every spelling of an account counts against that account.
    auto found = store::find_user_by_username(unit, username);
    result.subjects = found ? subjects_of(found->username) : first_guess;
    // A plain read first: a flood that is already blocked is turned away without taking locks.
    result.waits = blocking_seconds(policy_, store::read_throttle_counters(unit, result.subjects));
    result.retry_after = retry_after_seconds(result.waits);
    if (result.retry_after == 0) {
      // Then check and count under the counters' row locks, so concurrent attempts queue here
      // and the limit holds exactly; the hash comes only after this commits.
      std::vector<store::ThrottleCounter> locked;
      for (const auto& [scope, subject] : result.subjects)
        locked.push_back(store::lock_throttle_counter(unit, scope, subject));
      result.waits = blocking_seconds(policy_, locked);
      result.retry_after = retry_after_seconds(result.waits);
      if (result.retry_after == 0) {
        const double window = policy_.failure_window_seconds;
        for (std::size_t i = 0; i < locked.size(); ++i) {
          const auto& [scope, subject] = result.subjects[i];
          const auto& counter = locked[i];
          if (scope == store::ThrottleScope::account_address) {
            // The pair's count lives on until a quiet window has passed.
            const bool fresh = counter.seconds_since_last_failure >= window;
            const int failures = fresh ? 1 : counter.failures + 1;
            store::count_throttle_attempt(unit, scope, subject, fresh,
                                          pair_delay_seconds(policy_, failures));
          } else {
            store::count_throttle_attempt(unit, scope, subject,
                                          counter.window_age_seconds >= window, 0);
          }
        }
      }
    }
    if (result.retry_after > 0) {
      audit_attempt(unit, username, client_address, action, "too_many_attempts");
    } else if (found && found->username == username) {
      // Only the account's own name signs in (ASCII case aside): another spelling is answered
      // like a name that matches no account, whatever the password.
      result.user = std::move(*found);
    }
    return result;
  });
  attempt.subjects = gate.subjects;
  if (gate.retry_after > 0) {
    recently_blocked_->remember(gate.subjects, gate.waits);
    recently_blocked_->remember(first_guess, gate.waits);
    throw Error(ErrorCode::too_many_attempts, "too many failed sign-ins; try again later",
                {{"retry_after_seconds", std::to_string(gate.retry_after)}});
  }
  attempt.user = gate.user;
  return attempt;
}

LoginResult AccountService::login(std::string_view raw_username, std::string_view password,
                                  std::string_view client_address) {
  require_utf8(raw_username, "username");
  require_utf8(password, "password");
  const std::string username = normalized(raw_username);

  // 1. The throttle, checked and counted, and the stored hash, in one short transaction.
  auto attempt = begin_attempt(username, client_address, kLoginAction);
  const auto* user = &attempt.user;

  // 2. The slow hash on the hashing pool, outside any transaction. Unknown users cost the same.
  const bool known = user->id != 0 && user->active;
  bool verified = false;
  attempt.slot->run(
      [&] { verified = hasher_.verify(known ? user->password_hash : decoy_hash_, password); });
  if (!known || !verified) {
    database_.transact([&](store::UnitOfWork& unit) {
      audit_attempt(unit, username, client_address, kLoginAction, "invalid_credentials");
      store::purge_expired(unit, kPurgeBatch);
    });
    throw Error(ErrorCode::invalid_credentials, "wrong username or password");
  }

  // 3. A new session; the attempt was not a failure after all.
  LoginResult result;
  result.token = new_session_token();
  result.max_age_seconds = policy_.absolute_seconds;
  result.user = {user->id, user->username, user->role, user->village_id};
  std::optional<std::string> rehash;
  if (hasher_.needs_rehash(user->password_hash)) {
    attempt.slot->run([&] { rehash = hasher_.hash(password); });
  }
  database_.transact([&](store::UnitOfWork& unit) {
    store::insert_session(unit, token_digest(result.token), user->id, policy_.absolute_seconds,
                          client_address);
    if (rehash) store::update_password_hash(unit, user->id, *rehash);
    forgive(unit, policy_, attempt.subjects, true);
    store::purge_expired(unit, kPurgeBatch);
  });
  return result;
}

void AccountService::logout(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenLength) return;
  const auto digest = token_digest(token);
  live_sessions_->forget(digest);
  database_.transact([&](store::UnitOfWork& unit) { store::delete_session(unit, digest); });
}

std::optional<domain::Principal> AccountService::authenticate(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenLength) return std::nullopt;
  const auto digest = token_digest(token);
  if (auto principal = live_sessions_->find(digest)) return principal;
  auto principal =
      database_.transact([&](store::UnitOfWork& unit) -> std::optional<domain::Principal> {
        auto lookup = store::find_live_session(unit, digest, policy_.idle_seconds,
                                               policy_.touch_after_seconds);
        if (!lookup) return std::nullopt;
        if (lookup->needs_touch) store::touch_session(unit, digest);
        return lookup->principal;
      });
  if (principal) live_sessions_->remember(digest, *principal);
  return principal;
}

void AccountService::change_password(const domain::Principal& principal,
                                     std::string_view current_token,
                                     std::string_view current_password,
                                     std::string_view new_password,
                                     std::string_view client_address) {
  require_utf8(current_password, "current_password");
  require_utf8(new_password, "new_password");
  if (const auto problem = domain::password_problem(new_password)) {
    throw Error::invalid_field("new_password", "new password " + *problem);
  }
  // Throttled like a login: a stolen session must not become a password-guessing oracle.
  auto attempt = begin_attempt(principal.username, client_address, kPasswordAction);
  const auto& user = attempt.user;
  bool verified = false;
  attempt.slot->run([&] {
    verified = hasher_.verify(user.id != 0 ? user.password_hash : decoy_hash_, current_password);
  });
  if (user.id == 0 || !verified) {
    database_.transact([&](store::UnitOfWork& unit) {
      audit_attempt(unit, principal.username, client_address, kPasswordAction,
                    "invalid_credentials");
    });
    throw Error(ErrorCode::invalid_credentials, "current password is wrong",
                {{"field", "current_password"}});
  }
  std::string hash;
  attempt.slot->run([&] { hash = hasher_.hash(new_password); });
  database_.transact([&](store::UnitOfWork& unit) {
    store::update_password_hash(unit, user.id, hash);
    store::delete_user_sessions(unit, user.id, token_digest(current_token));
    forgive(unit, policy_, attempt.subjects, true);
    auto entry = entry_for(
        {principal.user_id, principal.username, std::string(client_address), kPasswordAction},
        user);
    entry.after = store::AuditState{{"password", "changed"}, {"other_sessions", "ended"}};
    store::record_audit(unit, entry);
  });
  live_sessions_->forget_all();  // its other sessions may be remembered here
}

UserSummary AccountService::add_user(std::string_view raw_username, domain::Role role,
                                     const std::optional<std::string>& village_code,
                                     std::string_view password, const Actor& actor) {
  const std::string username = normalized(raw_username);
  if (const auto problem = domain::username_problem(raw_username)) {
    throw Error::invalid_field("username", "username " + *problem);
  }
  if (const auto problem = domain::password_problem(password)) {
    throw Error::invalid_field("password", "password " + *problem);
  }
  if ((role == domain::Role::village) != village_code.has_value()) {
    throw Error::invalid_field("village", "a village account needs a village, others none");
  }
  store::UserRecord user;
  user.username = username;
  user.role = role;
  hashing_->run([&] { user.password_hash = hasher_.hash(password); });
  return database_.transact([&](store::UnitOfWork& unit) {
    if (village_code) {
      user.village_id = store::find_village_id_by_code(unit, *village_code);
      if (!user.village_id) throw Error::invalid_field("village", "no village with that code");
    }
    user.id = store::insert_user(unit, user);
    auto entry = entry_for(actor, user);
    entry.after = user_state(user);
    store::record_audit(unit, entry);
    return summary(user);
  });
}

void AccountService::reset_password(std::string_view username, std::string_view password,
                                    const Actor& actor) {
  if (const auto problem = domain::password_problem(password)) {
    throw Error::invalid_field("password", "password " + *problem);
  }
  std::string hash;
  hashing_->run([&] { hash = hasher_.hash(password); });
  database_.transact([&](store::UnitOfWork& unit) {
    const auto user = store::find_user_by_username(unit, normalized(username), true);
    if (!user) throw Error(ErrorCode::not_found, "no such user");
    store::update_password_hash(unit, user->id, hash);
    store::delete_user_sessions(unit, user->id);
    auto entry = entry_for(actor, *user);
    entry.after = store::AuditState{{"password", "reset"}, {"sessions", "ended"}};
    store::record_audit(unit, entry);
  });
  live_sessions_->forget_all();  // its other sessions may be remembered here
}

void AccountService::disable_user(std::string_view username, const Actor& actor) {
  database_.transact([&](store::UnitOfWork& unit) {
    auto user = store::find_user_by_username(unit, normalized(username), true);
    if (!user) throw Error(ErrorCode::not_found, "no such user");
    auto entry = entry_for(actor, *user);
    entry.before = user_state(*user);
    store::set_user_active(unit, user->id, false);
    store::delete_user_sessions(unit, user->id);
    user->active = false;
    entry.after = user_state(*user);
    store::record_audit(unit, entry);
  });
  live_sessions_->forget_all();  // its other sessions may be remembered here
}

std::vector<UserSummary> AccountService::list_users() {
  return database_.transact([](store::UnitOfWork& unit) {
    std::vector<UserSummary> users;
    for (const auto& user : store::list_users(unit))
      users.push_back(summary(user));
    return users;
  });
}

}  // namespace yizhan::service
