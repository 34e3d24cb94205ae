// Migrations against the real MariaDB: applied once, idempotent, edits of applied ones refused.
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>

#include <thread>

#include "support/test_database.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/migrations.hpp"

using namespace yizhan;

namespace {
std::int64_t count_rows(store::Database& database, const std::string& table) {
  return database.transact([&](store::UnitOfWork& unit) {
    std::unique_ptr<sql::ResultSet> rows(
        unit.statement("SELECT COUNT(*) FROM " + table).executeQuery());
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

TEST(Migrations, AFailedMigrationIsNotRecordedAndResumesAtTheFailedStatementWhenRerun) {
  test_support::FreshSchema schema;
  store::Database database(schema.config());
  const std::string create = "CREATE TABLE t (id INT PRIMARY KEY)";
  EXPECT_ANY_THROW(
      store::migrate(database, {{1, "bad", create + "; INSERT INTO nowhere VALUES (1)"}}));
  EXPECT_EQ(count_rows(database, "schema_migrations"), 0);
  // Rerun unchanged: it fails again at the same statement (CREATE TABLE is not run twice,
  // which would fail differently).
  try {
    store::migrate(database, {{1, "bad", create + "; INSERT INTO nowhere VALUES (1)"}});
    FAIL() << "expected the same failure";
  } catch (const domain::Error& error) {
    EXPECT_NE(error.cause().find("nowhere"), std::string::npos) << error.cause();
  }
  // The failing statement fixed: the rerun resumes there and completes the migration.
  const auto report = store::migrate(database, {{1, "bad", create + "; INSERT INTO t VALUES (1)"}});
  ASSERT_EQ(report.applied.size(), 1u);
  EXPECT_EQ(count_rows(database, "t"), 1);
  EXPECT_EQ(count_rows(database, "schema_migrations"), 1);
  EXPECT_EQ(count_rows(database, "schema_migration_steps"), 0);
}

TEST(Migrations, APartlyAppliedMigrationWhoseDoneStatementsChangedIsRefused) {
  test_support::FreshSchema schema;
  store::Database database(schema.config());
  EXPECT_ANY_THROW(store::migrate(
      database,
      {{1, "bad", "CREATE TABLE t (id INT PRIMARY KEY); INSERT INTO nowhere VALUES (1)"}}));
  try {
    store::migrate(database, {{1, "bad", "CREATE TABLE u (id INT PRIMARY KEY); SELECT 1"}});
    FAIL() << "expected a refusal";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("partly applied"), std::string::npos) << error.what();
  }
}

TEST(Migrations, TwoMigrateRunsAtOnceApplyEachMigrationOnce) {
  test_support::FreshSchema schema;
  const auto bundled = store::bundled_migrations();
  std::vector<store::MigrationReport> reports(2);
  std::vector<std::string> failures(2);
  std::vector<std::thread> runs;
  for (int i = 0; i < 2; ++i) {
    runs.emplace_back([&, i] {
      try {
        store::Database database(schema.config());
        reports[i] = store::migrate(database, bundled);
      } catch (const std::exception& error) {
        failures[i] = error.what();
      }
    });
  }
  for (auto& run : runs)
    run.join();
  EXPECT_EQ(failures[0], "");
  EXPECT_EQ(failures[1], "");
  EXPECT_EQ(reports[0].applied.size() + reports[1].applied.size(), bundled.size());
  store::Database database(schema.config());
  EXPECT_EQ(count_rows(database, "schema_migrations"), static_cast<std::int64_t>(bundled.size()));
}

TEST(Migrations, TheServingAccountNeedsNoSchemaRights) {
  // deploy/lib.sh grants the serving account SELECT, INSERT, UPDATE, DELETE only; the bundled
  // schema must work with exactly that, and such an account must not be able to change it.
  test_support::FreshSchema schema;
  {
    store::Database owner(schema.config());
    store::migrate(owner, store::bundled_migrations());
  }
  const std::string user = "yz_dml_" + std::to_string(::getpid());
  test_support::admin_execute("DROP USER IF EXISTS '" + user + "'@'localhost'");
  test_support::admin_execute("CREATE USER '" + user + "'@'localhost' IDENTIFIED BY 'pw-dml-only'");
  test_support::admin_execute("GRANT SELECT, INSERT, UPDATE, DELETE ON `" + schema.name() +
                              "`.* TO '" + user + "'@'localhost'");
  auto config = schema.config();
  config.user = user;
  config.password = "pw-dml-only";
  store::Database serving(config);
  EXPECT_EQ(count_rows(serving, "schema_migrations"),
            static_cast<std::int64_t>(store::bundled_migrations().size()));
  EXPECT_ANY_THROW(serving.with_connection([](store::UnitOfWork& unit) {
    std::unique_ptr<sql::Statement> ddl(unit.connection().createStatement());
    ddl->execute("DROP TABLE schema_migrations");
  }));
  serving.transact([](store::UnitOfWork& unit) {
    unit.statement(
            "INSERT INTO idempotency_keys (key_hash, scope, idempotency_key, "
            "request_hash, body, expires_at) VALUES (REPEAT('a', 32), 's', 'k', "
            "REPEAT('b', 32), '', UTC_TIMESTAMP(6))")
        .executeUpdate();
  });
  test_support::admin_execute("DROP USER '" + user + "'@'localhost'");
}
