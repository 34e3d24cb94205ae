// Roles, access levels, account-name and password rules, and Shanghai time formatting.
#include <gtest/gtest.h>

#include "yizhan/domain/access.hpp"
#include "yizhan/domain/time.hpp"

using namespace yizhan::domain;

TEST(Access, EachLevelAdmitsExactlyItsRoles) {
  const std::optional<Role> anonymous;
  EXPECT_TRUE(allows(Access::anyone, anonymous));
  EXPECT_FALSE(allows(Access::signed_in, anonymous));
  EXPECT_TRUE(allows(Access::signed_in, Role::village));
  EXPECT_TRUE(allows(Access::staff, Role::cashier));
  EXPECT_TRUE(allows(Access::staff, Role::admin));
  EXPECT_FALSE(allows(Access::staff, Role::village));
  EXPECT_TRUE(allows(Access::admin, Role::admin));
  EXPECT_FALSE(allows(Access::admin, Role::cashier));
  EXPECT_FALSE(allows(Access::admin, Role::village));
  EXPECT_TRUE(allows(Access::village, Role::village));
  EXPECT_TRUE(allows(Access::village, Role::admin));
  EXPECT_FALSE(allows(Access::village, Role::cashier));
  EXPECT_FALSE(allows(Access::village, anonymous));
}

TEST(Access, AVillageReadsOnlyItsOwnVillage) {
  const Principal village{7, "xingcuo", Role::village, 3};
  EXPECT_TRUE(may_read_village(village, 3));
  EXPECT_FALSE(may_read_village(village, 4));
  EXPECT_TRUE(may_read_village({1, "admin", Role::admin, std::nullopt}, 4));
  EXPECT_FALSE(may_read_village({2, "cashier1", Role::cashier, std::nullopt}, 3));
}

TEST(Access, RolesRoundTripAsText) {
  for (auto role : {Role::admin, Role::cashier, Role::village}) {
    EXPECT_EQ(parse_role(to_string(role)), role);
  }
  EXPECT_FALSE(parse_role("root").has_value());
}

TEST(AccountRules, Usernames) {
  EXPECT_FALSE(username_problem("cashier1"));
  EXPECT_FALSE(username_problem("bai.li-2"));
  EXPECT_TRUE(username_problem("ab"));
  EXPECT_TRUE(username_problem("Admin"));
  EXPECT_TRUE(username_problem("_admin"));
  EXPECT_TRUE(username_problem("收银员"));
  EXPECT_TRUE(username_problem(std::string(65, 'a')));
}

TEST(AccountRules, PasswordsAreJudgedByLength) {
  EXPECT_TRUE(password_problem("short"));
  EXPECT_FALSE(password_problem("ten chars!"));
  EXPECT_FALSE(password_problem("驿站的密码很长"));          // 21 bytes of UTF-8
  EXPECT_TRUE(password_problem("          "));               // ten spaces
  EXPECT_TRUE(password_problem(" \t \u3000\u3000\u3000 "));  // blanks, the ideographic one too
  EXPECT_FALSE(password_problem("    a     "));
  std::string hanzi;
  for (int i = 0; i < 128; ++i)
    hanzi += "驿";
  EXPECT_FALSE(password_problem(hanzi)) << "128 characters (384 bytes)";
  EXPECT_TRUE(password_problem(hanzi + "站"));
  EXPECT_TRUE(password_problem(std::string(129, 'a')));
  EXPECT_TRUE(password_problem(std::string(129, 'x')));
}

TEST(BusinessTime, UtcFromMariaDbIsShownInShanghai) {
  const auto micros = parse_utc_datetime("2026-11-25 16:30:00.123456");
  ASSERT_TRUE(micros);
  EXPECT_EQ(format_shanghai_time(*micros), "2026-11-26T00:30:00.123+08:00");
  EXPECT_EQ(format_shanghai_time(*parse_utc_datetime("2026-12-31 15:59:59")),
            "2026-12-31T23:59:59.000+08:00");
  EXPECT_FALSE(parse_utc_datetime("yesterday"));
  EXPECT_FALSE(parse_utc_datetime("2026-02-30 00:00:00"));
}

TEST(AccountRules, SignInNamesFoldAsTheDatabaseWouldMatchThem) {
  EXPECT_EQ(folded_username("qianpu"), "qianpu");
  EXPECT_EQ(folded_username("QianPu"), "qianpu");
  EXPECT_EQ(folded_username("  qianpu \t"), "qianpu");
  EXPECT_EQ(folded_username("qianpu\xC2\xA0"), "qianpu");
  EXPECT_EQ(folded_username("\xE3\x80\x80qianpu\xE3\x80\x80"), "qianpu");
  EXPECT_EQ(
      folded_username("\xEF\xBD\x91\xEF\xBD\x89\xEF\xBD\x81\xEF\xBD\x8E\xEF\xBD\x90\xEF\xBD\x95"),
      "qianpu");                                                 // ｑｉａｎｐｕ
  EXPECT_EQ(folded_username("\xEF\xBC\xB1\xEF\xBC\x91"), "q1");  // Ｑ１
  EXPECT_EQ(folded_username("\xE9\xA9\xBF"), "\xE9\xA9\xBF");    // 驿 stays
  EXPECT_EQ(folded_username("a b"), "a b");                      // inside: kept
  EXPECT_EQ(folded_username(" "), "");
}
