// Integration tests: a migrated schema with villages and one account per role.
#pragma once

#include "support/test_database.hpp"
#include "yizhan/service/accounts.hpp"
#include "yizhan/store/migrations.hpp"
#include "yizhan/store/villages.hpp"

namespace yizhan::test_support {

/// argon2id at test cost, so that a test can log in many times quickly.
inline service::PasswordHasher cheap_hasher() {
  return service::PasswordHasher(service::PasswordParameters{1024, 1, 1});
}

inline constexpr const char* kPassword = "station password 1";

/// A fresh schema with the migrations applied, two villages and accounts admin, cashier1,
/// village1 (village A) and village2 (village B).
class Station {
 public:
  explicit Station(service::SessionPolicy policy = {})
      : database(schema.config()), accounts(database, cheap_hasher(), policy) {
    store::migrate(database, store::bundled_migrations());
    database.transact([&](store::UnitOfWork& unit) {
      village_a =
          store::insert_village(unit, {0, "vila", "甲村", "story", 1500, true, "Village A", ""});
      village_b =
          store::insert_village(unit, {0, "vilb", "乙村", "story", 1200, true, "Village B", ""});
    });
    const service::Actor actor{std::nullopt, "test", "", "test setup"};
    accounts.add_user("admin", domain::Role::admin, std::nullopt, kPassword, actor);
    accounts.add_user("cashier1", domain::Role::cashier, std::nullopt, kPassword, actor);
    accounts.add_user("village1", domain::Role::village, std::string("vila"), kPassword, actor);
    accounts.add_user("village2", domain::Role::village, std::string("vilb"), kPassword, actor);
  }

  FreshSchema schema;
  store::Database database;
  service::AccountService accounts;
  std::int64_t village_a = 0;
  std::int64_t village_b = 0;
};

}  // namespace yizhan::test_support
