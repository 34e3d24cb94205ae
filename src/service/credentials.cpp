// argon2id through libargon2; tokens and digests through OpenSSL.
#include "yizhan/service/credentials.hpp"

#include <argon2.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>
#include <string>

namespace yizhan::service {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;

std::string random_bytes(std::size_t count) {
  std::string bytes(count, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()), static_cast<int>(count)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return bytes;
}

std::string parameter_prefix(const PasswordParameters& p) {
  return "$argon2id$v=19$m=" + std::to_string(p.memory_kib) + ",t=" + std::to_string(p.iterations) +
         ",p=" + std::to_string(p.parallelism) + "$";
}

}  // namespace

std::string PasswordHasher::hash(std::string_view password) const {
  const auto salt = random_bytes(kSaltBytes);
  std::string encoded(argon2_encodedlen(parameters_.iterations, parameters_.memory_kib,
                                        parameters_.parallelism, kSaltBytes, kHashBytes, Argon2_id),
                      '\0');
  const int result = argon2id_hash_encoded(
      parameters_.iterations, parameters_.memory_kib, parameters_.parallelism, password.data(),
      password.size(), salt.data(), salt.size(), kHashBytes, encoded.data(), encoded.size());
  if (result != ARGON2_OK) throw std::runtime_error(argon2_error_message(result));
  encoded.resize(encoded.find('\0'));
  return encoded;
}

bool PasswordHasher::verify(std::string_view encoded, std::string_view password) const {
  const std::string terminated(encoded);
  return argon2id_verify(terminated.c_str(), password.data(), password.size()) == ARGON2_OK;
}

bool PasswordHasher::needs_rehash(std::string_view encoded) const {
  return !encoded.starts_with(parameter_prefix(parameters_));
}

std::string new_session_token() {
  const auto bytes = random_bytes(32);
  std::string base64(48, '\0');
  const int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(base64.data()),
                                     reinterpret_cast<const unsigned char*>(bytes.data()), 32);
  base64.resize(static_cast<std::size_t>(length));
  for (auto& c : base64) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!base64.empty() && base64.back() == '=')
    base64.pop_back();
  return base64;
}

std::string token_digest(std::string_view token) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(token.data(), token.size(), digest, &length, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest), length);
}

}  // namespace yizhan::service

namespace yizhan::service {

std::string new_password() {
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const auto bytes = random_bytes(16);
  std::string password;
  for (unsigned char byte : bytes)
    password += kAlphabet[byte % (sizeof kAlphabet - 1)];
  return password;
}

}  // namespace yizhan::service
