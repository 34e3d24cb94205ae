// Password hashing (argon2id) on its own bounded pool, and session tokens (256 random bits,
// stored only as SHA-256).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace yizhan::service {

/// argon2id cost. Defaults follow OWASP's Password Storage Cheat Sheet (m = 19 MiB, t = 2, p = 1).
struct PasswordParameters {
  std::uint32_t memory_kib = 19456;
  std::uint32_t iterations = 2;
  std::uint32_t parallelism = 1;
};

/// Hashes and verifies passwords; hashes are PHC strings that carry their own parameters. The
/// argon2 working memory (19 MiB) is mapped for each hash and unmapped after it, so it never
/// stays behind in the heap's arenas.
class PasswordHasher {
 public:
  explicit PasswordHasher(PasswordParameters parameters = {}) : parameters_(parameters) {}
  /// A new argon2id hash with a fresh 16-byte salt.
  [[nodiscard]] std::string hash(std::string_view password) const;
  /// Whether `password` matches `encoded` (an argon2id PHC string); false for a malformed hash.
  [[nodiscard]] bool verify(std::string_view encoded, std::string_view password) const;
  /// Whether `encoded` was made with other parameters than today's (then rehash on login).
  [[nodiscard]] bool needs_rehash(std::string_view encoded) const;

 private:
  PasswordParameters parameters_;
};

/// A few threads that run password hashes, so hashing never occupies the database workers
/// beyond waiting, and its CPU and memory (19 MiB per hash) are bounded by the thread count.
class HashingPool {
 public:
  /// `threads` hashing threads; at most `queue_limit` further hashes wait for one.
  HashingPool(int threads, int queue_limit);
  ~HashingPool();
  HashingPool(const HashingPool&) = delete;
  HashingPool& operator=(const HashingPool&) = delete;

  struct State;

  /// A place in the pool (running or waiting), held until destroyed.
  class Slot {
   public:
    Slot(Slot&& other) noexcept : state_(std::exchange(other.state_, nullptr)) {}
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    Slot& operator=(Slot&&) = delete;
    ~Slot();
    /// Runs `work` on a hashing thread and waits for it, rethrowing what it throws.
    void run(const std::function<void()>& work);

   private:
    friend class HashingPool;
    explicit Slot(State* state) : state_(state) {}
    State* state_;
  };

  /// Takes a place before any other work is done for a sign-in. When every thread is busy and
  /// `queue_limit` hashes already wait, throws domain::Error `unavailable` (503 with
  /// Retry-After) at once instead of queueing without bound.
  [[nodiscard]] Slot reserve();
  /// reserve(), then run `work` on it.
  void run(const std::function<void()>& work) { reserve().run(work); }
  /// Hashes running or waiting now (places taken).
  [[nodiscard]] std::size_t load() const;

 private:
  std::unique_ptr<State> state_;
};

/// A new session token: 32 random bytes from OpenSSL, base64url without padding (43 chars).
std::string new_session_token();

/// The SHA-256 of a token (32 raw bytes), which is all the database keeps.
std::string token_digest(std::string_view token);

/// A new random password of 16 letters and digits (demo accounts, resets).
std::string new_password();

}  // namespace yizhan::service
