// Password hashing (argon2id) and session tokens (256 random bits, stored only as SHA-256).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace yizhan::service {

/// argon2id cost. Defaults follow OWASP's Password Storage Cheat Sheet (m = 19 MiB, t = 2, p = 1).
struct PasswordParameters {
  std::uint32_t memory_kib = 19456;
  std::uint32_t iterations = 2;
  std::uint32_t parallelism = 1;
};

/// Hashes and verifies passwords; hashes are PHC strings that carry their own parameters.
class PasswordHasher {
 public:
  explicit PasswordHasher(PasswordParameters parameters = {}) : parameters_(parameters) {}
  /// A new argon2id hash with a fresh 16-byte salt.
  [[nodiscard]] std::string hash(std::string_view password) const;
  /// Whether `password` matches `encoded`; false for a malformed hash.
  [[nodiscard]] bool verify(std::string_view encoded, std::string_view password) const;
  /// Whether `encoded` was made with other parameters than today's (then rehash on login).
  [[nodiscard]] bool needs_rehash(std::string_view encoded) const;

 private:
  PasswordParameters parameters_;
};

/// A new session token: 32 random bytes from OpenSSL, base64url without padding (43 chars).
std::string new_session_token();

/// The SHA-256 of a token (32 raw bytes), which is all the database keeps.
std::string token_digest(std::string_view token);

}  // namespace yizhan::service

namespace yizhan::service {

/// A new random password of 16 letters and digits (demo accounts, resets).
std::string new_password();

}  // namespace yizhan::service
