// Password hashing and session tokens (no database).
#include <gtest/gtest.h>

#include <set>

#include "yizhan/service/credentials.hpp"

using namespace yizhan::service;

TEST(PasswordHasher, VerifiesTheRightPasswordOnly) {
  const PasswordHasher hasher;
  const auto hash = hasher.hash("correct horse battery");
  EXPECT_TRUE(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$")) << hash;
  EXPECT_TRUE(hasher.verify(hash, "correct horse battery"));
  EXPECT_FALSE(hasher.verify(hash, "correct horse batterY"));
  EXPECT_FALSE(hasher.verify("not a hash", "anything"));
  EXPECT_NE(hasher.hash("same"), hasher.hash("same")) << "each hash has its own salt";
}

TEST(PasswordHasher, AsksForARehashWhenParametersWereRaised) {
  const PasswordHasher old_hasher(PasswordParameters{4096, 1, 1});
  const PasswordHasher today;
  const auto old_hash = old_hasher.hash("a long password");
  EXPECT_TRUE(today.verify(old_hash, "a long password")) << "old hashes still verify";
  EXPECT_TRUE(today.needs_rehash(old_hash));
  EXPECT_FALSE(today.needs_rehash(today.hash("a long password")));
}

TEST(SessionTokens, Are256RandomBitsInBase64Url) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto token = new_session_token();
    ASSERT_EQ(token.size(), 43u);
    ASSERT_EQ(
        token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
        std::string::npos);
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

TEST(SessionTokens, OnlyTheirDigestIsStored) {
  const auto token = new_session_token();
  const auto digest = token_digest(token);
  EXPECT_EQ(digest.size(), 32u);
  EXPECT_EQ(digest, token_digest(token));
  EXPECT_EQ(digest.find(token), std::string::npos);
}

TEST(DemoPasswords, AreSixteenUnambiguousCharacters) {
  const auto password = new_password();
  EXPECT_EQ(password.size(), 16u);
  EXPECT_EQ(password.find_first_of("0O1lI"), std::string::npos);
  EXPECT_NE(new_password(), password);
}
