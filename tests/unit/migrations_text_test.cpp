// Migration file names, statement splitting and checksums (no database).
#include <gtest/gtest.h>

#include "yizhan/store/migrations.hpp"

using namespace yizhan::store;

TEST(MigrationFiles, ParseVersionAndName) {
  const auto migration = migration_from_file({"012_stock_lots.sql", "SELECT 1"});
  EXPECT_EQ(migration.version, 12);
  EXPECT_EQ(migration.name, "stock_lots");
  EXPECT_THROW(migration_from_file({"stock.sql", ""}), std::invalid_argument);
  EXPECT_THROW(migration_from_file({"01a_x.sql", ""}), std::invalid_argument);
  EXPECT_THROW(migration_from_file({"001_x.txt", ""}), std::invalid_argument);
}

TEST(MigrationFiles, BundledOnesAreOrderedAndStartAtOne) {
  const auto migrations = bundled_migrations();
  ASSERT_FALSE(migrations.empty());
  EXPECT_EQ(migrations.front().version, 1);
  for (std::size_t i = 1; i < migrations.size(); ++i) {
    EXPECT_LT(migrations[i - 1].version, migrations[i].version);
  }
}

TEST(SplitStatements, SplitsAtSemicolonsOutsideQuotesAndComments) {
  const auto statements = split_statements(
      "CREATE TABLE a (x INT); -- a comment; still comment\n"
      "INSERT INTO a VALUES ('semi;colon', \"dq;\", 'it''s', 'back\\'slash;');\n"
      "/* block; comment */ SELECT `we;ird` FROM a;\n  \n");
  ASSERT_EQ(statements.size(), 3u);
  EXPECT_NE(statements[1].find("'semi;colon'"), std::string::npos);
  EXPECT_NE(statements[1].find("'back\\'slash;'"), std::string::npos);
  EXPECT_NE(statements[2].find("`we;ird`"), std::string::npos);
  EXPECT_EQ(statements[2].find("block"), std::string::npos);
}

TEST(Checksum, IsHexSha256) {
  EXPECT_EQ(checksum(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_NE(checksum("a"), checksum("b"));
}
