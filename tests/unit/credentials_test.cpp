// Password hashing, the hashing pool and session tokens (no database).
#include <argon2.h>
#include <gtest/gtest.h>

#include <atomic>
#include <cstring>
#include <fstream>
#include <future>
#include <set>
#include <thread>
#include <vector>

#include "yizhan/domain/error.hpp"
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
  EXPECT_EQ(digest.find(token), std::string::npos);
  // The digest is SHA-256 of the token (FIPS 180-2 test vector for "abc").
  std::string hex;
  for (unsigned char c : token_digest("abc")) {
    static const char* const kDigits = "0123456789abcdef";
    hex += kDigits[c >> 4];
    hex += kDigits[c & 15];
  }
  EXPECT_EQ(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DemoPasswords, AreSixteenUnambiguousCharacters) {
  const auto password = new_password();
  EXPECT_EQ(password.size(), 16u);
  EXPECT_EQ(password.find_first_of("0O1lI"), std::string::npos);
  EXPECT_NE(new_password(), password);
}

TEST(PasswordHasher, ReadsAndWritesTheSamePhcStringsAsLibargon2) {
  const PasswordHasher hasher(PasswordParameters{4096, 1, 1});
  char theirs[128];
  ASSERT_EQ(argon2id_hash_encoded(1, 4096, 1, "茶叶 password", std::strlen("茶叶 password"),
                                  "somesaltsomesalt", 16, 32, theirs, sizeof theirs),
            ARGON2_OK);
  EXPECT_TRUE(hasher.verify(theirs, "茶叶 password")) << theirs;
  EXPECT_FALSE(hasher.verify(theirs, "茶叶 passwort"));
  const auto ours = hasher.hash("茶叶 password");
  EXPECT_EQ(argon2id_verify(ours.c_str(), "茶叶 password", std::strlen("茶叶 password")), ARGON2_OK)
      << ours;
  for (const char* broken :
       {"$argon2id$v=19$m=4096,t=1,p=1$", "$argon2i$v=19$m=4096,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g",
        "$argon2id$v=19$m=4096,t=1,p=1$!!$aGFzaGhhc2g", ""}) {
    EXPECT_FALSE(hasher.verify(broken, "anything")) << broken;
  }
}

namespace {

long resident_kib() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.starts_with("VmRSS:")) return std::stol(line.substr(6));
  }
  return -1;
}

}  // namespace

TEST(PasswordHasher, GivesItsWorkingMemoryBackAfterEveryHash) {
  // 19 MiB per hash from malloc stayed in each thread's arena (or ASan's quarantine): 151 MB
  // resident after a few dozen logins. Mapped and unmapped per hash, nothing stays.
  const PasswordHasher hasher;  // production cost, 19 MiB
  (void)hasher.hash("warm up once");
  const long before = resident_kib();
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 3; ++i)
        (void)hasher.verify(hasher.hash("a long password"), "a long password");
    });
  }
  for (auto& thread : threads)
    thread.join();
  const long grown_kib = resident_kib() - before;
  // Kept hash memory would be 19 MiB per thread (76 MiB here); four threads' own stacks and
  // the sanitizers' per-thread bookkeeping come to a few MiB. Below one hash's worth passes.
  EXPECT_LT(grown_kib, 16 * 1024) << "resident memory grew by " << grown_kib << " KiB";
}

TEST(HashingPool, RunsWorkOnItsThreadsAndRethrows) {
  HashingPool pool(2, 2);
  const auto caller = std::this_thread::get_id();
  std::thread::id worker;
  pool.run([&] { worker = std::this_thread::get_id(); });
  EXPECT_NE(worker, caller);
  EXPECT_THROW(pool.run([] { throw std::runtime_error("argon2 failed"); }), std::runtime_error);
}

TEST(HashingPool, RefusesAtOnceWhenItsThreadsAndQueueAreFull) {
  HashingPool pool(1, 1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> started{0};
  auto blocked = [&] {
    ++started;
    released.wait();
  };
  std::thread running([&] { pool.run(blocked); });
  while (started.load() < 1)
    std::this_thread::yield();
  std::thread queued([&] { pool.run(blocked); });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (pool.load() < 2 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::yield();
  ASSERT_EQ(pool.load(), 2u) << "one running, one waiting";
  bool refused = false;
  const auto asked = std::chrono::steady_clock::now();
  try {
    pool.run([] {});
  } catch (const yizhan::domain::Error& error) {
    EXPECT_EQ(error.code(), yizhan::domain::ErrorCode::unavailable);
    refused = true;
  }
  EXPECT_LT(std::chrono::steady_clock::now() - asked, std::chrono::milliseconds(500))
      << "refused without waiting";
  EXPECT_TRUE(refused) << "a full pool must refuse, not queue without bound";
  release.set_value();
  running.join();
  queued.join();
  EXPECT_NO_THROW(pool.run([] {})) << "free again once the work is done";
}
