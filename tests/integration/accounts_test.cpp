// Accounts on the real MariaDB: login, throttling, sessions and their expiry, password changes,
// administration, the audit trail and its paging, and village isolation.
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <tuple>

#include "support/station.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/service/audit.hpp"
#include "yizhan/service/catalog.hpp"
#include "yizhan/store/accounts.hpp"
#include "yizhan/store/audit.hpp"
#include "yizhan/store/images.hpp"

using namespace yizhan;
using domain::Error;
using domain::ErrorCode;
using test_support::kPassword;
using test_support::Station;

namespace {

ErrorCode code_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.code();
  }
  ADD_FAILURE() << "expected an error";
  return ErrorCode::internal;
}

std::vector<store::AuditRow> audit_rows(Station& station) {
  return station.database.transact(
      [](store::UnitOfWork& unit) { return store::list_audit(unit, 100, std::nullopt); });
}

/// Free failures per (username, address) before the delays, the first delay, the per-account
/// ceiling and the per-address limit.
service::SessionPolicy policy_with(int pair_free, double first_delay, int account_limit,
                                   int address_limit) {
  service::SessionPolicy policy;
  policy.pair_free_failures = pair_free;
  policy.pair_first_delay_seconds = first_delay;
  policy.account_failure_limit = account_limit;
  policy.address_failure_limit = address_limit;
  return policy;
}

int retry_after_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    if (error.code() == ErrorCode::too_many_attempts)
      return std::stoi(error.details().at("retry_after_seconds"));
    ADD_FAILURE() << "expected 429, got " << to_string(error.code());
    return -1;
  }
  ADD_FAILURE() << "expected 429, got success";
  return -1;
}

}  // namespace

TEST(Accounts, LoginGivesASessionThatAuthenticatesItsUser) {
  Station station;
  const auto login = station.accounts.login("village1", kPassword, "10.0.0.1");
  EXPECT_EQ(login.user.role, domain::Role::village);
  EXPECT_EQ(login.user.village_id, station.village_a);
  const auto who = station.accounts.authenticate(login.token);
  ASSERT_TRUE(who);
  EXPECT_EQ(who->username, "village1");
  EXPECT_FALSE(station.accounts.authenticate(login.token + "x"));
  EXPECT_FALSE(station.accounts.authenticate(""));
  EXPECT_EQ(station.accounts.login("ADMIN", kPassword, "10.0.0.1").user.username, "admin")
      << "usernames are case-insensitive";
}

TEST(Accounts, UnknownUserWrongPasswordAndDisabledAccountAnswerAlike) {
  Station station;
  station.accounts.disable_user("cashier1", {std::nullopt, "test", "", "test"});
  std::vector<std::string> messages;
  for (const auto& [user, password] : std::vector<std::pair<std::string, std::string>>{
           {"nobody", kPassword}, {"admin", "wrong password!"}, {"cashier1", kPassword}}) {
    try {
      station.accounts.login(user, password, "10.0.0.2");
      ADD_FAILURE() << user << " logged in";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::invalid_credentials) << user;
      messages.emplace_back(error.what());
    }
  }
  EXPECT_EQ(messages[0], messages[1]);
  EXPECT_EQ(messages[1], messages[2]);
}

TEST(Accounts, UnknownAndKnownUsersTakeAboutTheSameTime) {
  test_support::FreshSchema schema;
  store::Database database(schema.config());
  store::migrate(database, store::bundled_migrations());
  service::AccountService accounts(database);  // production argon2 cost
  accounts.add_user("admin", domain::Role::admin, std::nullopt, kPassword,
                    {std::nullopt, "test", "", "test"});
  auto median_ms = [&](const std::string& user) {
    std::vector<double> times;
    for (int i = 0; i < 3; ++i) {
      const auto started = std::chrono::steady_clock::now();
      EXPECT_ANY_THROW(accounts.login(user, "wrong password!", "10.9.9." + std::to_string(i)));
      times.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
              .count());
    }
    std::sort(times.begin(), times.end());
    return times[1];
  };
  const double known = median_ms("admin");
  const double unknown = median_ms("nobody");
  EXPECT_GT(unknown, known * 0.5) << known << " ms vs " << unknown << " ms";
  EXPECT_LT(unknown, known * 2.0) << known << " ms vs " << unknown << " ms";
}

TEST(Accounts, EveryLoginFailureIsAudited) {
  Station station;
  EXPECT_ANY_THROW(station.accounts.login("admin", "not the password", "10.0.0.3"));
  EXPECT_ANY_THROW(station.accounts.login("ghost", "not the password", "10.0.0.3"));
  int failures = 0;
  for (const auto& row : audit_rows(station)) {
    if (row.entry.entity_type == "login") {
      ++failures;
      EXPECT_EQ(row.entry.client_address, "10.0.0.3");
      EXPECT_NE(row.after_json.find("invalid_credentials"), std::string::npos);
    }
  }
  EXPECT_EQ(failures, 2);
}

TEST(LoginThrottle, FailuresFromOneAddressDelayThatAddressOnlyNotTheAccount) {
  Station station(policy_with(5, 60, 100, 100));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(code_of([&] { station.accounts.login("cashier1", "wrong password", "10.0.1.1"); }),
              ErrorCode::invalid_credentials);
  }
  const int retry_after =
      retry_after_of([&] { station.accounts.login("cashier1", kPassword, "10.0.1.1"); });
  EXPECT_GT(retry_after, 0);
  EXPECT_LE(retry_after, 60);
  EXPECT_NO_THROW(station.accounts.login("cashier1", kPassword, "10.0.1.2"))
      << "the cashier at the counter still signs in: strangers cannot lock an account";
  EXPECT_NO_THROW(station.accounts.login("admin", kPassword, "10.0.1.1"))
      << "other accounts from that address are not delayed";
}

TEST(LoginThrottle, DelaysGrowAfterTheFreeFailuresUpToTheirCap) {
  auto policy = policy_with(2, 1, 100, 100);
  policy.pair_max_delay_seconds = 2;
  Station station(policy);
  auto fail = [&] {
    EXPECT_EQ(code_of([&] { station.accounts.login("admin", "wrong password", "10.0.1.5"); }),
              ErrorCode::invalid_credentials);
  };
  // Waits out the current delay by polling (no fixed sleep), then fails once more.
  auto wait_then_fail = [&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        station.accounts.login("admin", "wrong password", "10.0.1.5");
        ADD_FAILURE() << "wrong password accepted";
        return;
      } catch (const Error& error) {
        if (error.code() == ErrorCode::invalid_credentials) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    ADD_FAILURE() << "the delay never ended";
  };
  fail();
  fail();
  EXPECT_EQ(retry_after_of([&] { station.accounts.login("admin", kPassword, "10.0.1.5"); }), 1);
  wait_then_fail();
  EXPECT_EQ(retry_after_of([&] { station.accounts.login("admin", kPassword, "10.0.1.5"); }), 2);
  wait_then_fail();
  EXPECT_EQ(retry_after_of([&] { station.accounts.login("admin", kPassword, "10.0.1.5"); }), 2)
      << "capped";
}

TEST(LoginThrottle, ConcurrentWrongLoginsAreCountedBeforeHashingSoTheLimitHolds) {
  Station station;
  // Room on the hashing pool for all eight, so that only the throttle can refuse them.
  service::AccountService accounts(station.database, test_support::cheap_hasher(),
                                   policy_with(5, 60, 100, 100), service::HashingLimits{2, 8});
  std::atomic<int> wrong{0};
  std::atomic<int> throttled{0};
  std::vector<std::thread> attackers;
  for (int i = 0; i < 8; ++i) {
    attackers.emplace_back([&] {
      const auto code = code_of([&] { accounts.login("admin", "wrong password", "10.0.1.9"); });
      if (code == ErrorCode::invalid_credentials) ++wrong;
      if (code == ErrorCode::too_many_attempts) ++throttled;
    });
  }
  for (auto& attacker : attackers)
    attacker.join();
  EXPECT_EQ(wrong.load(), 5) << "exactly the free failures reached the hash";
  EXPECT_EQ(throttled.load(), 3);
}

TEST(LoginThrottle, ASuccessfulSignInRestartsTheCountForItsAddress) {
  Station station(policy_with(3, 60, 100, 100));
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 2; ++i) {
      EXPECT_ANY_THROW(station.accounts.login("cashier1", "wrong password", "10.0.1.3"));
    }
    EXPECT_NO_THROW(station.accounts.login("cashier1", kPassword, "10.0.1.3")) << round;
  }
}

TEST(LoginThrottle, TheAccountCeilingHoldsAcrossAddresses) {
  Station station(policy_with(100, 60, 4, 100));
  for (int i = 0; i < 4; ++i) {
    EXPECT_ANY_THROW(
        station.accounts.login("admin", "wrong password", "10.0.2." + std::to_string(i)));
  }
  EXPECT_EQ(code_of([&] { station.accounts.login("admin", kPassword, "10.0.2.200"); }),
            ErrorCode::too_many_attempts);
  EXPECT_NO_THROW(station.accounts.login("cashier1", kPassword, "10.0.2.200"));
}

TEST(LoginThrottle, TooManyFailuresFromOneAddressAre429ForAnyUsername) {
  Station station(policy_with(100, 60, 100, 4));
  for (const char* user : {"a1", "a2", "a3", "a4"}) {
    EXPECT_ANY_THROW(station.accounts.login(user, "wrong password", "10.0.2.1"));
  }
  EXPECT_EQ(code_of([&] { station.accounts.login("admin", kPassword, "10.0.2.1"); }),
            ErrorCode::too_many_attempts);
  EXPECT_NO_THROW(station.accounts.login("admin", kPassword, "10.0.2.2"));
}

TEST(LoginThrottle, HoldsAcrossProcessesSharingTheDatabase) {
  Station station(policy_with(3, 60, 100, 100));
  store::Database other_process_database(station.schema.config());
  service::AccountService other_process(other_process_database, test_support::cheap_hasher(),
                                        policy_with(3, 60, 100, 100));
  EXPECT_ANY_THROW(station.accounts.login("admin", "wrong password", "10.0.3.1"));
  EXPECT_ANY_THROW(other_process.login("admin", "wrong password", "10.0.3.1"));
  EXPECT_ANY_THROW(station.accounts.login("admin", "wrong password", "10.0.3.1"));
  EXPECT_EQ(code_of([&] { other_process.login("admin", kPassword, "10.0.3.1"); }),
            ErrorCode::too_many_attempts);
}

TEST(LoginThrottle, AWrongCurrentPasswordCountsLikeAFailedLogin) {
  Station station(policy_with(2, 60, 100, 100));
  const auto here = station.accounts.login("cashier1", kPassword, "10.0.3.7");
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(code_of([&] {
                station.accounts.change_password(here.user, here.token, "wrong current",
                                                 "a new password", "10.0.3.7");
              }),
              ErrorCode::invalid_credentials);
  }
  EXPECT_EQ(code_of([&] {
              station.accounts.change_password(here.user, here.token, kPassword, "a new password",
                                               "10.0.3.7");
            }),
            ErrorCode::too_many_attempts)
      << "even the right password waits now";
  EXPECT_EQ(code_of([&] { station.accounts.login("cashier1", kPassword, "10.0.3.7"); }),
            ErrorCode::too_many_attempts);
}

TEST(LoginThrottle, AFullHashingPoolAnswers503AndTheAttemptDoesNotCount) {
  test_support::FreshSchema schema;
  store::Database database(schema.config());
  store::migrate(database, store::bundled_migrations());
  // One hashing thread, no queue, production cost (slow enough to overlap).
  service::AccountService accounts(database, service::PasswordHasher(),
                                   policy_with(1, 600, 100, 100), service::HashingLimits{1, 0});
  std::vector<ErrorCode> codes(6);
  std::vector<std::thread> clients;
  for (int i = 0; i < 6; ++i) {
    clients.emplace_back([&, i] {
      codes[i] = code_of([&] {
        accounts.login("user" + std::to_string(i), "wrong password", "10.0.4." + std::to_string(i));
      });
    });
  }
  for (auto& client : clients)
    client.join();
  int refused = 0;
  for (int i = 0; i < 6; ++i) {
    if (codes[i] != ErrorCode::unavailable) continue;
    ++refused;
    // Only one failure is free (then a 600 s delay): had the refused attempt counted, this
    // would be 429.
    EXPECT_EQ(code_of([&] {
                accounts.login("user" + std::to_string(i), "wrong password",
                               "10.0.4." + std::to_string(i));
              }),
              ErrorCode::invalid_credentials);
  }
  EXPECT_GT(refused, 0) << "six concurrent hashes on one thread without a queue";
}

TEST(LoginThrottle, LongHanziUsernamesAreCutByCharactersThrottledAndAudited) {
  Station station(policy_with(2, 60, 100, 100));
  std::string hanzi;
  for (int i = 0; i < 70; ++i)
    hanzi += "驿";
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(code_of([&] { station.accounts.login(hanzi, "wrong password", "10.0.5.5"); }),
              ErrorCode::invalid_credentials)
        << "a 64-byte cut inside a hanzi was MariaDB 1366, answered 422 after hashing";
  }
  EXPECT_EQ(code_of([&] { station.accounts.login(hanzi, "wrong password", "10.0.5.5"); }),
            ErrorCode::too_many_attempts);
  int audited = 0;
  for (const auto& row : audit_rows(station)) {
    if (row.entry.entity_type != "login") continue;
    ++audited;
    EXPECT_EQ(row.entry.entity_id, hanzi.substr(0, 64 * 3));
  }
  EXPECT_EQ(audited, 3);
}

TEST(LoginThrottle, InvalidUtf8IsRefusedNamingTheFieldBeforeHashing) {
  Station station(policy_with(1, 60, 100, 100));
  for (const auto& [user, password, field] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"admin\xE9", kPassword, "username"}, {"admin", "pass\xFF\xFEword", "password"}}) {
    try {
      station.accounts.login(user, password, "10.0.5.6");
      ADD_FAILURE() << field;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::invalid) << field;
      EXPECT_EQ(error.details().at("field"), field);
    }
  }
  EXPECT_NO_THROW(station.accounts.login("admin", kPassword, "10.0.5.6"))
      << "refused input was not counted as a failure";
}

TEST(Accounts, LogoutEndsTheSessionAtOnceHereAndWithinTheCacheTimeInOtherProcesses) {
  Station station;
  const auto login = station.accounts.login("admin", kPassword, "10.0.4.1");
  EXPECT_TRUE(station.accounts.authenticate(login.token));
  store::Database other_database(station.schema.config());
  service::SessionPolicy policy;
  policy.cache_seconds = 1.5;  // room for a loaded machine between logout and the next check
  service::AccountService other_process(other_database, test_support::cheap_hasher(), policy);
  EXPECT_TRUE(other_process.authenticate(login.token)) << "sessions are shared";
  station.accounts.logout(login.token);
  EXPECT_FALSE(station.accounts.authenticate(login.token)) << "remembered here, forgotten at once";
  EXPECT_TRUE(other_process.authenticate(login.token)) << "the other process trusts it briefly";
  std::this_thread::sleep_for(std::chrono::milliseconds(1600));
  EXPECT_FALSE(other_process.authenticate(login.token));
}

TEST(Accounts, ALiveSessionIsTrustedForTheCacheTimeWithoutAskingTheDatabase) {
  Station station;
  const auto login = station.accounts.login("admin", kPassword, "10.0.4.2");
  EXPECT_TRUE(station.accounts.authenticate(login.token));
  // Ended behind this process's back (another process, or an operator): trusted until the
  // remembered answer runs out, then refused.
  test_support::admin_execute("DELETE FROM " + station.schema.name() + ".sessions");
  EXPECT_TRUE(station.accounts.authenticate(login.token));
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  EXPECT_FALSE(station.accounts.authenticate(login.token));

  service::SessionPolicy uncached;
  uncached.cache_seconds = 0;
  Station asking(uncached);
  const auto again = asking.accounts.login("admin", kPassword, "10.0.4.3");
  EXPECT_TRUE(asking.accounts.authenticate(again.token));
  test_support::admin_execute("DELETE FROM " + asking.schema.name() + ".sessions");
  EXPECT_FALSE(asking.accounts.authenticate(again.token)) << "cache_seconds = 0 asks every time";
}

TEST(Accounts, IdleSessionsExpire) {
  service::SessionPolicy policy;
  policy.idle_seconds = 1;
  policy.touch_after_seconds = 0;
  Station station(policy);
  const auto login = station.accounts.login("admin", kPassword, "10.0.5.1");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_TRUE(station.accounts.authenticate(login.token)) << "use keeps it alive";
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_TRUE(station.accounts.authenticate(login.token));
  std::this_thread::sleep_for(std::chrono::milliseconds(1300));
  EXPECT_FALSE(station.accounts.authenticate(login.token));
}

TEST(Accounts, SessionsEndAtTheirAbsoluteExpiryEvenWhenInUse) {
  service::SessionPolicy policy;
  policy.absolute_seconds = 2;
  policy.touch_after_seconds = 0;
  Station station(policy);
  const auto login = station.accounts.login("admin", kPassword, "10.0.6.1");
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(station.accounts.authenticate(login.token));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1000));
  EXPECT_FALSE(station.accounts.authenticate(login.token));
}

TEST(Accounts, ChangingThePasswordEndsTheOtherSessionsOnly) {
  Station station;
  const auto here = station.accounts.login("cashier1", kPassword, "10.0.7.1");
  const auto elsewhere = station.accounts.login("cashier1", kPassword, "10.0.7.2");
  EXPECT_EQ(code_of([&] {
              station.accounts.change_password(here.user, here.token, "wrong current",
                                               "a new password", "10.0.7.1");
            }),
            ErrorCode::invalid_credentials);
  try {
    station.accounts.change_password(here.user, here.token, kPassword, "short", "10.0.7.1");
    FAIL();
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::invalid);
    EXPECT_EQ(error.details().at("field"), "new_password");
  }
  station.accounts.change_password(here.user, here.token, kPassword, "a new password", "10.0.7.1");
  EXPECT_TRUE(station.accounts.authenticate(here.token));
  EXPECT_FALSE(station.accounts.authenticate(elsewhere.token));
  EXPECT_ANY_THROW(station.accounts.login("cashier1", kPassword, "10.0.7.1"));
  EXPECT_NO_THROW(station.accounts.login("cashier1", "a new password", "10.0.7.1"));
}

TEST(Accounts, ResetAndDisableEndAllSessionsAndAreAuditedWithBeforeAndAfter) {
  Station station;
  const service::Actor cli{std::nullopt, "cli", "", "user disable"};
  const auto login = station.accounts.login("village2", kPassword, "10.0.8.1");
  station.accounts.disable_user("village2", cli);
  EXPECT_FALSE(station.accounts.authenticate(login.token));
  const auto rows = audit_rows(station);
  const auto disable = std::find_if(rows.begin(), rows.end(), [](const store::AuditRow& row) {
    return row.entry.action == "user disable";
  });
  ASSERT_NE(disable, rows.end());
  EXPECT_EQ(disable->entry.actor, "cli");
  EXPECT_NE(disable->before_json.find(R"("status":"active")"), std::string::npos);
  EXPECT_NE(disable->after_json.find(R"("status":"disabled")"), std::string::npos);

  const auto admin = station.accounts.login("admin", kPassword, "10.0.8.2");
  station.accounts.reset_password("admin", "reset password 22",
                                  {std::nullopt, "cli", "", "user passwd"});
  EXPECT_FALSE(station.accounts.authenticate(admin.token));
  EXPECT_EQ(code_of([&] { station.accounts.reset_password("nobody", "reset password 22", cli); }),
            ErrorCode::not_found);
}

TEST(Accounts, AStrongerHashIsStoredAtTheNextLogin) {
  Station station;  // accounts were created at test cost
  auto stored_hash = [&] {
    return station.database.transact([](store::UnitOfWork& unit) {
      return store::find_user_by_username(unit, "admin")->password_hash;
    });
  };
  const service::PasswordHasher today;
  EXPECT_TRUE(today.needs_rehash(stored_hash()));
  service::AccountService stronger(station.database, today, service::SessionPolicy());
  stronger.login("admin", kPassword, "10.0.9.1");
  EXPECT_FALSE(today.needs_rehash(stored_hash()));
  EXPECT_NO_THROW(station.accounts.login("admin", kPassword, "10.0.9.1")) << "still verifies";
}

TEST(Accounts, AddingUsersChecksEveryField) {
  Station station;
  const service::Actor cli{std::nullopt, "cli", "", "user add"};
  auto field_of = [&](const std::function<void()>& action) {
    try {
      action();
    } catch (const Error& error) {
      return error.details().count("field") ? error.details().at("field")
                                            : std::string(to_string(error.code()));
    }
    return std::string("no error");
  };
  EXPECT_EQ(field_of([&] {
              station.accounts.add_user("x", domain::Role::admin, std::nullopt, kPassword, cli);
            }),
            "username");
  EXPECT_EQ(field_of([&] {
              station.accounts.add_user("newbie", domain::Role::admin, std::nullopt, "short", cli);
            }),
            "password");
  EXPECT_EQ(field_of([&] {
              station.accounts.add_user("newbie", domain::Role::village, std::nullopt, kPassword,
                                        cli);
            }),
            "village");
  EXPECT_EQ(field_of([&] {
              station.accounts.add_user("newbie", domain::Role::village, std::string("nope"),
                                        kPassword, cli);
            }),
            "village");
  EXPECT_EQ(field_of([&] {
              station.accounts.add_user("admin", domain::Role::admin, std::nullopt, kPassword, cli);
            }),
            "duplicate");
  EXPECT_EQ(station.accounts.list_users().size(), 4u) << "nothing was created by bad input";
}

TEST(VillageIsolation, AVillageReadsItsOwnTermsAndNoOtherVillages) {
  Station station;
  test_support::TempDir media;
  store::ImageStore images(media.path());
  service::CatalogService villages(station.database, images);
  const auto village1 = station.accounts.login("village1", kPassword, "10.1.0.1").user;
  const auto cashier = station.accounts.login("cashier1", kPassword, "10.1.0.1").user;
  const auto admin = station.accounts.login("admin", kPassword, "10.1.0.1").user;
  EXPECT_EQ(villages.village_terms(village1, station.village_a).commission_bps, 1500);
  EXPECT_EQ(code_of([&] { villages.village_terms(village1, station.village_b); }),
            ErrorCode::forbidden);
  EXPECT_EQ(code_of([&] { villages.village_terms(cashier, station.village_a); }),
            ErrorCode::forbidden);
  EXPECT_EQ(villages.village_terms(admin, station.village_b).commission_bps, 1200);
  EXPECT_EQ(code_of([&] { villages.village_terms(admin, 999999); }), ErrorCode::not_found);
}

TEST(Accounts, ExpiredSessionsAreRemovedByLaterLogins) {
  service::SessionPolicy policy;
  policy.absolute_seconds = 1;
  Station station(policy);
  station.accounts.login("admin", kPassword, "10.4.0.1");
  station.accounts.login("cashier1", kPassword, "10.4.0.1");
  auto session_rows = [&] {
    return station.database.transact([](store::UnitOfWork& unit) {
      std::unique_ptr<sql::ResultSet> rows(
          unit.statement("SELECT COUNT(*) FROM sessions").executeQuery());
      rows->next();
      return rows->getInt64(1);
    });
  };
  EXPECT_EQ(session_rows(), 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  station.accounts.login("village1", kPassword, "10.4.0.1");
  EXPECT_EQ(session_rows(), 1) << "the two expired sessions were purged";
}

TEST(Audit, PagesByKeyNewestFirstWithACursorToTheNextPage) {
  Station station;
  const service::Actor cli{std::nullopt, "cli", "", "user disable"};
  station.database.transact([&](store::UnitOfWork& unit) {
    for (int i = 0; i < 25; ++i) {
      store::AuditEntry entry;
      entry.actor = "test";
      entry.action = "entry " + std::to_string(i);
      store::record_audit(unit, entry);
    }
  });
  service::AuditService audit(station.database);
  std::vector<std::int64_t> ids;
  std::optional<std::int64_t> before;
  int pages = 0;
  do {
    const auto page = audit.list(before, 10);
    ++pages;
    for (const auto& row : page.items)
      ids.push_back(row.id);
    before = page.next_before;
  } while (before && pages < 10);
  EXPECT_EQ(pages, 3) << "10 + 10 + the rest (the 4 set-up accounts and 25 entries)";
  EXPECT_EQ(ids.size(), 29u);
  EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend())) << "newest first, no repeats";
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
}

TEST(Audit, TextFieldsAreCutByCharactersNeverInsideAHanzi) {
  Station station;
  std::string long_text;
  for (int i = 0; i < 300; ++i)
    long_text += "茶";
  station.database.transact([&](store::UnitOfWork& unit) {
    store::AuditEntry entry;
    entry.actor = long_text;
    entry.action = long_text;
    entry.entity_type = long_text;
    entry.entity_id = long_text + "\xFF";
    entry.client_address = long_text;
    entry.after = store::AuditState{{"name", "bad \xE8 byte"}};
    store::record_audit(unit, entry);
  });
  const auto row = audit_rows(station).front();
  EXPECT_EQ(row.entry.actor, long_text.substr(0, 64 * 3));
  EXPECT_EQ(row.entry.action, long_text.substr(0, 200 * 3));
  EXPECT_EQ(row.entry.entity_id, long_text.substr(0, 64 * 3));
  EXPECT_EQ(row.entry.client_address, long_text.substr(0, 64 * 3));
  EXPECT_NE(row.after_json.find("bad \xEF\xBF\xBD byte"), std::string::npos) << row.after_json;
}

// Probe F5: MariaDB's collation finds an account under many spellings ("qianpu ", "qiánpu",
// full-width, a trailing no-break space), and each spelling had throttle counters of its own while
// all of them checked the account's password.
TEST(LoginThrottle, EverySpellingTheDatabaseMatchesCountsAgainstTheOneAccount) {
  Station station(policy_with(2, 60, 100, 100));
  const std::vector<std::string> spellings{"cashier1 ", "cashier1   ", "c\xC3\xA1shier1",
                                           "\xEF\xBD\x83\xEF\xBD\x81\xEF\xBD\x93\xEF\xBD\x88"
                                           "\xEF\xBD\x89\xEF\xBD\x85\xEF\xBD\x92\xEF\xBC\x91",
                                           "cashier1\xC2\xA0"};
  EXPECT_EQ(code_of([&] { station.accounts.login(spellings[0], "wrong password", "10.0.6.1"); }),
            ErrorCode::invalid_credentials);
  EXPECT_EQ(code_of([&] { station.accounts.login(spellings[2], "wrong password", "10.0.6.1"); }),
            ErrorCode::invalid_credentials);
  for (const auto& spelling : spellings) {
    EXPECT_EQ(code_of([&] { station.accounts.login(spelling, kPassword, "10.0.6.1"); }),
              ErrorCode::too_many_attempts)
        << "'" << spelling << "' is cashier1 to the database: its pair is delayed";
  }
  EXPECT_EQ(code_of([&] { station.accounts.login("cashier1", kPassword, "10.0.6.1"); }),
            ErrorCode::too_many_attempts);
  EXPECT_NO_THROW(station.accounts.login("cashier1", kPassword, "10.0.6.2"));
}

TEST(LoginThrottle, TheAccountCeilingCountsEverySpellingOfTheAccount) {
  Station station(policy_with(100, 60, 3, 100));
  const std::vector<std::string> spellings{
      "admin ",
      "\xC3\xA1"
      "dmin",
      "\xEF\xBD\x81\xEF\xBD\x84\xEF\xBD\x8D\xEF\xBD\x89\xEF\xBD\x8E"};
  for (std::size_t i = 0; i < spellings.size(); ++i)
    EXPECT_EQ(code_of([&] {
                station.accounts.login(spellings[i], "wrong password",
                                       "10.0.7." + std::to_string(i));
              }),
              ErrorCode::invalid_credentials);
  EXPECT_EQ(code_of([&] { station.accounts.login("admin", kPassword, "10.0.7.100"); }),
            ErrorCode::too_many_attempts);
}

TEST(Accounts, OnlyTheAccountsOwnNameSignsInAsideFromAsciiCase) {
  Station station(policy_with(100, 60, 100, 100));
  for (const std::string spelling :
       {"cashier1 ", " cashier1", "c\xC3\xA1shier1", "cashier1\xC2\xA0", "cashier1\t",
        "\xEF\xBD\x83\xEF\xBD\x81\xEF\xBD\x93\xEF\xBD\x88\xEF\xBD\x89\xEF\xBD\x85\xEF\xBD\x92"
        "\xEF\xBC\x91"})
    EXPECT_EQ(code_of([&] { station.accounts.login(spelling, kPassword, "10.0.8.1"); }),
              ErrorCode::invalid_credentials)
        << "'" << spelling << "'";
  const auto signed_in = station.accounts.login("CASHIER1", kPassword, "10.0.8.1");
  EXPECT_EQ(signed_in.user.username, "cashier1");
}
