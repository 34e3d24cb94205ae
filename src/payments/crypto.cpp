// OpenSSL 3 EVP behind the small crypto API the providers and the simulator share.
#include "yizhan/payments/crypto.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <array>
#include <cctype>
#include <vector>

namespace yizhan::payments {
namespace {

constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::shared_ptr<void> own(EVP_PKEY* key) {
  return std::shared_ptr<void>(key, [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); });
}

EVP_PKEY* raw(const std::shared_ptr<void>& key) {
  return static_cast<EVP_PKEY*>(key.get());
}

struct BioDeleter {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
using Bio = std::unique_ptr<BIO, BioDeleter>;

Bio memory_bio(std::string_view text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string drain(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

bool is_pem(std::string_view text) {
  return text.find("-----BEGIN") != std::string_view::npos;
}

// Alipay's console hands keys out as one Base64 line without armour; tolerate line breaks.
std::optional<std::string> bare_der(std::string_view text) {
  std::string compact;
  for (char c : text)
    if (c != '\n' && c != '\r' && c != ' ' && c != '\t') compact += c;
  return base64_decode(compact);
}

EVP_PKEY* require_rsa(EVP_PKEY* key, const char* what) {
  if (!key) throw CryptoError(std::string("not a readable ") + what);
  if (!EVP_PKEY_is_a(key, "RSA")) {
    EVP_PKEY_free(key);
    throw CryptoError(std::string(what) + " is not an RSA key");
  }
  return key;
}

const EVP_CIPHER* gcm_for(std::size_t key_length) {
  switch (key_length) {
    case 16: return EVP_aes_128_gcm();
    case 24: return EVP_aes_192_gcm();
    case 32: return EVP_aes_256_gcm();
    default: return nullptr;
  }
}

struct CipherDeleter {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
struct DigestDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

const unsigned char* bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

std::string base64_encode(std::string_view input) {
  std::string out;
  out.reserve((input.size() + 2) / 3 * 4);
  std::size_t i = 0;
  for (; i + 2 < input.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(input[i]) << 16) |
                       (static_cast<unsigned char>(input[i + 1]) << 8) |
                       static_cast<unsigned char>(input[i + 2]);
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += kBase64Alphabet[(v >> 6) & 63];
    out += kBase64Alphabet[v & 63];
  }
  if (const std::size_t rest = input.size() - i; rest > 0) {
    unsigned v = static_cast<unsigned char>(input[i]) << 16;
    if (rest == 2) v |= static_cast<unsigned char>(input[i + 1]) << 8;
    out += kBase64Alphabet[(v >> 18) & 63];
    out += kBase64Alphabet[(v >> 12) & 63];
    out += rest == 2 ? kBase64Alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    unsigned v = 0;
    int padding = 0;
    for (std::size_t j = 0; j < 4; ++j) {
      const char c = text[i + j];
      unsigned digit = 0;
      if (c == '=') {
        // Padding only in the last group's last one or two places.
        if (i + 4 != text.size() || j < 2) return std::nullopt;
        ++padding;
      } else {
        if (padding > 0) return std::nullopt;
        const auto at = kBase64Alphabet.find(c);
        if (at == std::string_view::npos) return std::nullopt;
        digit = static_cast<unsigned>(at);
      }
      v = (v << 6) | digit;
    }
    out += static_cast<char>((v >> 16) & 0xFF);
    if (padding < 2) out += static_cast<char>((v >> 8) & 0xFF);
    if (padding < 1) out += static_cast<char>(v & 0xFF);
  }
  return out;
}

std::string hex_lower(std::string_view input) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(input.size() * 2);
  for (unsigned char c : input) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

PrivateKey PrivateKey::parse(std::string_view text) {
  EVP_PKEY* key = nullptr;
  if (is_pem(text)) {
    Bio bio = memory_bio(text);
    key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr);
  } else if (auto der = bare_der(text)) {
    const unsigned char* p = bytes(*der);
    key = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der->size()));
  }
  PrivateKey result;
  result.key_ = own(require_rsa(key, "private key"));
  return result;
}

std::string PrivateKey::sign_sha256(std::string_view message) const {
  std::unique_ptr<EVP_MD_CTX, DigestDeleter> ctx(EVP_MD_CTX_new());
  std::size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, raw(key_)) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, bytes(message), message.size()) != 1)
    throw CryptoError("RSA signing failed");
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                     bytes(message), message.size()) != 1)
    throw CryptoError("RSA signing failed");
  signature.resize(length);
  return base64_encode(signature);
}

std::string PrivateKey::public_key_pem() const {
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PUBKEY(bio.get(), raw(key_)) != 1) throw CryptoError("cannot write key");
  return drain(bio.get());
}

std::string PrivateKey::pem() const {
  Bio bio(BIO_new(BIO_s_mem()));
  if (PEM_write_bio_PKCS8PrivateKey(bio.get(), raw(key_), nullptr, nullptr, 0, nullptr, nullptr) !=
      1)
    throw CryptoError("cannot write key");
  return drain(bio.get());
}

PublicKey PublicKey::parse(std::string_view text) {
  EVP_PKEY* key = nullptr;
  if (text.find("-----BEGIN CERTIFICATE") != std::string_view::npos) {
    Bio bio = memory_bio(text);
    if (X509* certificate = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
      key = X509_get_pubkey(certificate);
      X509_free(certificate);
    }
  } else if (text.find("-----BEGIN RSA PUBLIC KEY") != std::string_view::npos) {
    Bio bio = memory_bio(text);
    OSSL_DECODER_CTX* decoder = OSSL_DECODER_CTX_new_for_pkey(
        &key, "PEM", nullptr, "RSA", EVP_PKEY_PUBLIC_KEY, nullptr, nullptr);
    if (decoder && OSSL_DECODER_from_bio(decoder, bio.get()) != 1) key = nullptr;
    OSSL_DECODER_CTX_free(decoder);
  } else if (is_pem(text)) {
    Bio bio = memory_bio(text);
    key = PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
  } else if (auto der = bare_der(text)) {
    const unsigned char* p = bytes(*der);
    key = d2i_PUBKEY(nullptr, &p, static_cast<long>(der->size()));
  }
  PublicKey result;
  result.key_ = own(require_rsa(key, "public key"));
  return result;
}

bool PublicKey::verify_sha256(std::string_view message, std::string_view signature_base64) const {
  const auto signature = base64_decode(signature_base64);
  if (!signature || signature->empty()) return false;
  std::unique_ptr<EVP_MD_CTX, DigestDeleter> ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, raw(key_)) != 1)
    return false;
  return EVP_DigestVerify(ctx.get(), bytes(*signature), signature->size(), bytes(message),
                          message.size()) == 1;
}

PrivateKey generate_rsa_key() {
  EVP_PKEY* key = EVP_RSA_gen(2048);
  if (!key) throw CryptoError("RSA key generation failed");
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  EVP_PKEY_free(key);
  return PrivateKey::parse(drain(bio.get()));
}

std::optional<std::string> aes_gcm_decrypt(std::string_view key, std::string_view nonce,
                                           std::string_view associated_data,
                                           std::string_view ciphertext_base64) {
  constexpr std::size_t kTagLength = 16;
  const EVP_CIPHER* cipher = gcm_for(key.size());
  const auto sealed = base64_decode(ciphertext_base64);
  if (!cipher || nonce.empty() || !sealed || sealed->size() < kTagLength) return std::nullopt;
  const std::size_t length = sealed->size() - kTagLength;
  std::string tag = sealed->substr(length);

  std::unique_ptr<EVP_CIPHER_CTX, CipherDeleter> ctx(EVP_CIPHER_CTX_new());
  std::string plaintext(length + 16, '\0');
  int written = 0, final_written = 0;
  if (!ctx || EVP_DecryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                          nullptr) != 1 ||
      EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key), bytes(nonce)) != 1)
    return std::nullopt;
  if (!associated_data.empty() &&
      EVP_DecryptUpdate(ctx.get(), nullptr, &written, bytes(associated_data),
                        static_cast<int>(associated_data.size())) != 1)
    return std::nullopt;
  if (EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(plaintext.data()), &written,
                        bytes(*sealed), static_cast<int>(length)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagLength, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(plaintext.data()) + written,
                          &final_written) != 1)
    return std::nullopt;
  plaintext.resize(static_cast<std::size_t>(written + final_written));
  return plaintext;
}

std::string aes_gcm_encrypt(std::string_view key, std::string_view nonce,
                            std::string_view associated_data, std::string_view plaintext) {
  const EVP_CIPHER* cipher = gcm_for(key.size());
  if (!cipher || nonce.empty()) throw CryptoError("bad AES-GCM key or nonce");
  std::unique_ptr<EVP_CIPHER_CTX, CipherDeleter> ctx(EVP_CIPHER_CTX_new());
  std::string sealed(plaintext.size() + 16 + 16, '\0');
  int written = 0, final_written = 0;
  unsigned char* out = reinterpret_cast<unsigned char*>(sealed.data());
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), cipher, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                          nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key), bytes(nonce)) != 1 ||
      (!associated_data.empty() &&
       EVP_EncryptUpdate(ctx.get(), nullptr, &written, bytes(associated_data),
                         static_cast<int>(associated_data.size())) != 1) ||
      EVP_EncryptUpdate(ctx.get(), out, &written, bytes(plaintext),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), out + written, &final_written) != 1)
    throw CryptoError("AES-GCM encryption failed");
  const int length = written + final_written;
  if (EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, 16, out + length) != 1)
    throw CryptoError("AES-GCM encryption failed");
  sealed.resize(static_cast<std::size_t>(length) + 16);
  return base64_encode(sealed);
}

std::string md5_upper_hex(std::string_view input) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned length = 0;
  if (EVP_Digest(input.data(), input.size(), digest.data(), &length, EVP_md5(), nullptr) != 1)
    throw CryptoError("MD5 failed");
  std::string hex =
      hex_lower(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
  for (char& c : hex)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return hex;
}

std::string hmac_sha256_upper_hex(std::string_view key, std::string_view input) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned length = 0;
  if (!HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), bytes(input), input.size(),
            digest.data(), &length))
    throw CryptoError("HMAC failed");
  std::string hex =
      hex_lower(std::string_view(reinterpret_cast<const char*>(digest.data()), length));
  for (char& c : hex)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return hex;
}

std::string random_token(std::size_t length) {
  static constexpr std::string_view kAlphabet =
      "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::vector<unsigned char> random(length);
  if (length > 0 && RAND_bytes(random.data(), static_cast<int>(length)) != 1)
    throw CryptoError("no randomness");
  std::string out;
  out.reserve(length);
  // 62 does not divide 256: the slight bias is harmless for nonces and ids.
  for (unsigned char r : random)
    out += kAlphabet[r % kAlphabet.size()];
  return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace yizhan::payments
