// Migrations against the real MariaDB: applied once, idempotent, edits of applied ones refused.
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <gtest/gtest.h>

#include "support/test_database.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/migrations.hpp"

using namespace yizhan;

namespace {
std::int64_t count_rows(store::Database& database, const std::string& table) {
  return database.transact([&](store::Session& session) {
    std::unique_ptr<sql::ResultSet> rows(
        session.statement("SELECT COUNT(*) FROM " + table).executeQuery());
    rows->next();
    return rows->getInt64(1);
  });
}
}  // namespace

TEST(Migrations, BundledMigrationsApplyOnceAndAgainIsANoOp) {
  test_support::FreshSchema schema;
  store::Database database(schema.config());
  const auto bundled = store::bundled_migrations();
  const auto first = store::migrate(database, bundled);
  EXPECT_EQ(first.applied.size(), bundled.size());
  EXPECT_EQ(first.applied.front(), "001_init");
  const auto second = store::migrate(database, bundled);
  EXPECT_TRUE(second.applied.empty());
  EXPECT_EQ(second.already_applied, static_cast<int>(bundled.size()));
  EXPECT_EQ(count_rows(database, "schema_migrations"), static_cast<std::int64_t>(bundled.size()));
  EXPECT_EQ(count_rows(database, "station_settings"), 3);
}

TEST(Migrations, NewMigrationsApplyInOrderAfterOldOnes) {
  test_support::FreshSchema schema;
  store::Database database(schema.config());
  std::vector<store::Migration> migrations{{1, "one", "CREATE TABLE t (id INT PRIMARY KEY)"}};
  store::migrate(database, migrations);
  migrations.push_back({2, "two", "INSERT INTO t VALUES (1); INSERT INTO t VALUES (2);"});
  const auto report = store::migrate(database, migrations);
  ASSERT_EQ(report.applied.size(), 1u);
  EXPECT_EQ(report.applied[0], "002_two");
  EXPECT_EQ(count_rows(database, "t"), 2);
}

TEST(Migrations, AnEditedAppliedMigrationIsRefusedByName) {
  test_support::FreshSchema schema;
  store::Database database(schema.config());
  store::migrate(database, {{1, "one", "CREATE TABLE t (id INT PRIMARY KEY)"}});
  try {
    store::migrate(database, {{1, "one", "CREATE TABLE t (id BIGINT PRIMARY KEY)"}});
    FAIL() << "expected a refusal";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("001_one.sql"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("changed"), std::string::npos) << error.what();
  }
}

TEST(Migrations, AFailedMigrationIsNotRecordedAndRunsAgainNextTime) {
  test_support::FreshSchema schema;
  store::Database database(schema.config());
  EXPECT_ANY_THROW(store::migrate(database, {{1, "bad",
                                              "CREATE TABLE t (id INT PRIMARY KEY); "
                                              "INSERT INTO nowhere VALUES (1)"}}));
  EXPECT_EQ(count_rows(database, "schema_migrations"), 0);
}
