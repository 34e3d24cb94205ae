// Login, sessions and account administration, each change with its audit entry.
#include "yizhan/service/accounts.hpp"

#include <algorithm>

#include "yizhan/domain/error.hpp"
#include "yizhan/store/accounts.hpp"
#include "yizhan/store/audit.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::service {

using domain::Error;
using domain::ErrorCode;

namespace {

constexpr std::size_t kMaxTokenLength = 128;
constexpr const char* kLoginAction = "POST /api/v1/auth/login";
constexpr int kPurgeBatch = 50;

std::string normalized(std::string_view username) {
  std::string name(username.substr(0, 64));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return name;
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

}  // namespace

AccountService::AccountService(store::Database& database, PasswordHasher hasher,
                               SessionPolicy policy)
    : database_(database), hasher_(hasher), policy_(policy), decoy_hash_(hasher_.hash("decoy")) {}

LoginResult AccountService::login(std::string_view raw_username, std::string_view password,
                                  std::string_view client_address) {
  const std::string username = normalized(raw_username);
  auto audit_failure = [&](store::Session& session, const std::string& reason) {
    store::AuditEntry entry;
    entry.actor = username.empty() ? "anonymous" : username;
    entry.action = kLoginAction;
    entry.entity_type = "login";
    entry.entity_id = username;
    entry.after = store::AuditState{{"result", reason}};
    entry.client_address = std::string(client_address);
    store::record_audit(session, entry);
  };

  // 1. The throttle, and the stored hash, in one short transaction.
  struct Gate {
    int retry_after = 0;     ///< > 0: throttled
    store::UserRecord user;  ///< id 0: no such user
  };
  const auto gate = database_.transact([&](store::Session& session) {
    Gate result;
    const auto by_name =
        store::recent_failures_for_username(session, username, policy_.failure_window_seconds);
    const auto by_address =
        store::recent_failures_for_address(session, client_address, policy_.failure_window_seconds);
    if (by_name.count >= policy_.username_failure_limit) {
      result.retry_after = std::max({result.retry_after, by_name.seconds_until_oldest_expires, 1});
    }
    if (by_address.count >= policy_.address_failure_limit) {
      result.retry_after =
          std::max({result.retry_after, by_address.seconds_until_oldest_expires, 1});
    }
    if (result.retry_after > 0) {
      audit_failure(session, "too_many_attempts");
    } else if (auto found = store::find_user_by_username(session, username)) {
      result.user = std::move(*found);
    }
    return result;
  });
  if (gate.retry_after > 0) {
    throw Error(ErrorCode::too_many_attempts, "too many failed logins; try again later",
                {{"retry_after_seconds", std::to_string(gate.retry_after)}});
  }
  const auto* user = &gate.user;

  // 2. The slow hash, outside any transaction. Unknown users cost the same as known ones.
  const bool known = user->id != 0 && user->active;
  const bool verified = hasher_.verify(known ? user->password_hash : decoy_hash_, password);
  if (!known || !verified) {
    database_.transact([&](store::Session& session) {
      store::record_login_failure(session, username, client_address);
      audit_failure(session, "invalid_credentials");
      store::purge_expired(session, kPurgeBatch);
    });
    throw Error(ErrorCode::invalid_credentials, "wrong username or password");
  }

  // 3. A new session.
  LoginResult result;
  result.token = new_session_token();
  result.max_age_seconds = policy_.absolute_seconds;
  result.user = {user->id, user->username, user->role, user->village_id};
  const auto rehash = hasher_.needs_rehash(user->password_hash)
                          ? std::optional<std::string>(hasher_.hash(password))
                          : std::nullopt;
  database_.transact([&](store::Session& session) {
    store::insert_session(session, token_digest(result.token), user->id, policy_.absolute_seconds,
                          client_address);
    if (rehash) store::update_password_hash(session, user->id, *rehash);
    store::clear_login_failures(session, username);
    store::purge_expired(session, kPurgeBatch);
  });
  return result;
}

void AccountService::logout(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenLength) return;
  database_.transact(
      [&](store::Session& session) { store::delete_session(session, token_digest(token)); });
}

std::optional<domain::Principal> AccountService::authenticate(std::string_view token) {
  if (token.empty() || token.size() > kMaxTokenLength) return std::nullopt;
  const auto digest = token_digest(token);
  return database_.transact([&](store::Session& session) -> std::optional<domain::Principal> {
    auto lookup = store::find_live_session(session, digest, policy_.idle_seconds,
                                           policy_.touch_after_seconds);
    if (!lookup) return std::nullopt;
    if (lookup->needs_touch) store::touch_session(session, digest);
    return lookup->principal;
  });
}

void AccountService::change_password(const domain::Principal& principal,
                                     std::string_view current_token,
                                     std::string_view current_password,
                                     std::string_view new_password,
                                     std::string_view client_address) {
  if (const auto problem = domain::password_problem(new_password)) {
    throw Error::invalid_field("new_password", "new password " + *problem);
  }
  const auto user = database_.transact([&](store::Session& session) {
    return store::find_user_by_username(session, principal.username);
  });
  if (!user || !hasher_.verify(user->password_hash, current_password)) {
    throw Error(ErrorCode::invalid_credentials, "current password is wrong",
                {{"field", "current_password"}});
  }
  const auto hash = hasher_.hash(new_password);
  database_.transact([&](store::Session& session) {
    store::update_password_hash(session, user->id, hash);
    store::delete_user_sessions(session, user->id, token_digest(current_token));
    auto entry = entry_for({principal.user_id, principal.username, std::string(client_address),
                            "POST /api/v1/me/password"},
                           *user);
    entry.after = store::AuditState{{"password", "changed"}, {"other_sessions", "ended"}};
    store::record_audit(session, entry);
  });
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
  user.password_hash = hasher_.hash(password);
  return database_.transact([&](store::Session& session) {
    if (village_code) {
      user.village_id = store::find_village_id_by_code(session, *village_code);
      if (!user.village_id) throw Error::invalid_field("village", "no village with that code");
    }
    user.id = store::insert_user(session, user);
    auto entry = entry_for(actor, user);
    entry.after = user_state(user);
    store::record_audit(session, entry);
    return summary(user);
  });
}

void AccountService::reset_password(std::string_view username, std::string_view password,
                                    const Actor& actor) {
  if (const auto problem = domain::password_problem(password)) {
    throw Error::invalid_field("password", "password " + *problem);
  }
  const auto hash = hasher_.hash(password);
  database_.transact([&](store::Session& session) {
    const auto user = store::find_user_by_username(session, normalized(username), true);
    if (!user) throw Error(ErrorCode::not_found, "no such user");
    store::update_password_hash(session, user->id, hash);
    store::delete_user_sessions(session, user->id);
    auto entry = entry_for(actor, *user);
    entry.after = store::AuditState{{"password", "reset"}, {"sessions", "ended"}};
    store::record_audit(session, entry);
  });
}

void AccountService::disable_user(std::string_view username, const Actor& actor) {
  database_.transact([&](store::Session& session) {
    auto user = store::find_user_by_username(session, normalized(username), true);
    if (!user) throw Error(ErrorCode::not_found, "no such user");
    auto entry = entry_for(actor, *user);
    entry.before = user_state(*user);
    store::set_user_active(session, user->id, false);
    store::delete_user_sessions(session, user->id);
    user->active = false;
    entry.after = user_state(*user);
    store::record_audit(session, entry);
  });
}

std::vector<UserSummary> AccountService::list_users() {
  return database_.transact([](store::Session& session) {
    std::vector<UserSummary> users;
    for (const auto& user : store::list_users(session))
      users.push_back(summary(user));
    return users;
  });
}

}  // namespace yizhan::service
