// The cryptography both providers need, on OpenSSL 3 EVP: RSA SHA256 signatures over PEM keys,
// Base64, AES-GCM for WeChat's encrypted resources, MD5/HMAC for WeChat's v2 API, random nonces.
#pragma once

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace yizhan::payments {

/// A key that cannot be read, or a cryptographic operation OpenSSL refused.
struct CryptoError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Standard Base64 with padding.
std::string base64_encode(std::string_view bytes);
/// Decodes standard Base64 (padding required, whitespace refused); nothing for bad input.
std::optional<std::string> base64_decode(std::string_view text);

/// Lower-case hex of bytes.
std::string hex_lower(std::string_view bytes);

/// An RSA private key, from PEM (PKCS#8 "PRIVATE KEY" or PKCS#1 "RSA PRIVATE KEY") or from bare
/// Base64 of the PKCS#8/PKCS#1 DER as Alipay's console shows it. Immutable, shareable.
class PrivateKey {
 public:
  /// Throws CryptoError when the text is not an RSA private key.
  static PrivateKey parse(std::string_view pem_or_base64);
  /// Signs SHA256withRSA (PKCS#1 v1.5) and returns the Base64 signature.
  [[nodiscard]] std::string sign_sha256(std::string_view message) const;
  /// The matching public key as PEM ("PUBLIC KEY", SubjectPublicKeyInfo).
  [[nodiscard]] std::string public_key_pem() const;
  /// The key as PKCS#8 PEM.
  [[nodiscard]] std::string pem() const;

 private:
  std::shared_ptr<void> key_;  // EVP_PKEY
};

/// An RSA public key, from PEM ("PUBLIC KEY", "RSA PUBLIC KEY"), from an X.509 certificate PEM
/// (WeChat's platform certificate), or from bare Base64 DER (Alipay's console).
class PublicKey {
 public:
  /// Throws CryptoError when the text is not an RSA public key or certificate.
  static PublicKey parse(std::string_view text);
  /// Whether `signature_base64` is a valid SHA256withRSA signature of `message`. Never throws.
  [[nodiscard]] bool verify_sha256(std::string_view message,
                                   std::string_view signature_base64) const;

 private:
  std::shared_ptr<void> key_;  // EVP_PKEY
};

/// A fresh 2048-bit RSA key (for the simulator's key generation and tests).
PrivateKey generate_rsa_key();

/// AES-GCM with a 16-byte tag appended to the ciphertext, as WeChat Pay sends resources. The key
/// length selects AES-128/192/256 (real APIv3 keys are 32 bytes: AES-256). Returns nothing when
/// the key has a bad length, the Base64 is bad or authentication fails.
std::optional<std::string> aes_gcm_decrypt(std::string_view key, std::string_view nonce,
                                           std::string_view associated_data,
                                           std::string_view ciphertext_base64);
/// The inverse (used by the simulator): Base64(ciphertext ‖ tag).
std::string aes_gcm_encrypt(std::string_view key, std::string_view nonce,
                            std::string_view associated_data, std::string_view plaintext);

/// Upper-case hex MD5 (WeChat v2 signatures).
std::string md5_upper_hex(std::string_view bytes);
/// Upper-case hex HMAC-SHA256 (WeChat v2 signatures with sign_type HMAC-SHA256).
std::string hmac_sha256_upper_hex(std::string_view key, std::string_view bytes);

/// `length` random characters from [0-9A-Za-z] (nonces, ids), from the OpenSSL DRBG.
std::string random_token(std::size_t length);

/// Compares in time independent of where the strings differ.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace yizhan::payments
