// argon2id through libargon2 with mapped working memory, the hashing pool, and session tokens.
#include "yizhan/service/credentials.hpp"

#include <argon2.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <sys/mman.h>

#include <algorithm>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "yizhan/domain/error.hpp"
#include "yizhan/store/digest.hpp"

namespace yizhan::service {
namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
constexpr std::string_view kArgon2idPrefix = "$argon2id$";
constexpr char kBase64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

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

// The working memory comes straight from the kernel and goes back to it after each hash. From
// malloc it would stay in the arena of whichever thread hashed (glibc raises its mmap threshold
// after the first free of a large block): 151 MB resident after a few dozen logins.
int map_memory(std::uint8_t** memory, std::size_t bytes) {
  void* mapped = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  *memory = mapped == MAP_FAILED ? nullptr : static_cast<std::uint8_t*>(mapped);
  return *memory ? ARGON2_OK : ARGON2_MEMORY_ALLOCATION_ERROR;
}

void unmap_memory(std::uint8_t* memory, std::size_t bytes) {
  ::munmap(memory, bytes);
}

/// Base64 without padding, as the PHC string format (and libargon2) writes it.
std::string base64(std::string_view bytes) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const unsigned char byte : bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kBase64[(buffer >> bits) & 0x3F];
    }
  }
  if (bits > 0) out += kBase64[(buffer << (6 - bits)) & 0x3F];
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  std::string out;
  std::uint32_t buffer = 0;
  int bits = 0;
  for (const char c : text) {
    const char* found = std::char_traits<char>::find(kBase64, 64, c);
    if (!found) return std::nullopt;
    buffer = (buffer << 6) | static_cast<std::uint32_t>(found - kBase64);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  if (bits >= 6) return std::nullopt;  // a length no encoder writes
  return out;
}

/// argon2id of `password` with `salt` into `output_bytes` bytes, memory mapped per call.
std::optional<std::string> argon2id_raw(const PasswordParameters& parameters, std::uint32_t version,
                                        std::string_view password, std::string_view salt,
                                        std::size_t output_bytes) {
  std::string output(output_bytes, '\0');
  std::string password_copy(password);  // argon2_context takes non-const pointers
  std::string salt_copy(salt);
  argon2_context context{};
  context.out = reinterpret_cast<std::uint8_t*>(output.data());
  context.outlen = static_cast<std::uint32_t>(output.size());
  context.pwd = reinterpret_cast<std::uint8_t*>(password_copy.data());
  context.pwdlen = static_cast<std::uint32_t>(password_copy.size());
  context.salt = reinterpret_cast<std::uint8_t*>(salt_copy.data());
  context.saltlen = static_cast<std::uint32_t>(salt_copy.size());
  context.t_cost = parameters.iterations;
  context.m_cost = parameters.memory_kib;
  context.lanes = parameters.parallelism;
  context.threads = parameters.parallelism;
  context.version = version;
  context.allocate_cbk = map_memory;
  context.free_cbk = unmap_memory;
  context.flags = ARGON2_DEFAULT_FLAGS;
  const int result = argon2_ctx(&context, Argon2_id);
  OPENSSL_cleanse(password_copy.data(), password_copy.size());
  if (result != ARGON2_OK) return std::nullopt;
  return output;
}

/// A decoded "$argon2id$v=19$m=…,t=…,p=…$salt$hash".
struct DecodedHash {
  PasswordParameters parameters;
  std::uint32_t version = ARGON2_VERSION_10;
  std::string salt;
  std::string hash;
};

bool read_number(std::string_view& text, std::string_view name, std::uint32_t& value) {
  if (!text.starts_with(name)) return false;
  text.remove_prefix(name.size());
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end == text.data()) return false;
  text.remove_prefix(static_cast<std::size_t>(end - text.data()));
  return true;
}

std::optional<DecodedHash> decode(std::string_view text) {
  DecodedHash decoded;
  if (!text.starts_with(kArgon2idPrefix)) return std::nullopt;
  text.remove_prefix(kArgon2idPrefix.size());
  if (text.starts_with("v=")) {
    if (!read_number(text, "v=", decoded.version) || !text.starts_with('$')) return std::nullopt;
    text.remove_prefix(1);
  }
  auto& p = decoded.parameters;
  if (!read_number(text, "m=", p.memory_kib) || !read_number(text, ",t=", p.iterations) ||
      !read_number(text, ",p=", p.parallelism) || !text.starts_with('$')) {
    return std::nullopt;
  }
  text.remove_prefix(1);
  const auto dollar = text.find('$');
  if (dollar == std::string_view::npos) return std::nullopt;
  auto salt = unbase64(text.substr(0, dollar));
  auto hash = unbase64(text.substr(dollar + 1));
  if (!salt || !hash || hash->size() < ARGON2_MIN_OUTLEN || hash->size() > 1024) {
    return std::nullopt;
  }
  decoded.salt = std::move(*salt);
  decoded.hash = std::move(*hash);
  return decoded;
}

}  // namespace

std::string PasswordHasher::hash(std::string_view password) const {
  const auto salt = random_bytes(kSaltBytes);
  const auto raw = argon2id_raw(parameters_, ARGON2_VERSION_13, password, salt, kHashBytes);
  if (!raw) throw std::runtime_error("argon2id failed");
  return parameter_prefix(parameters_) + base64(salt) + "$" + base64(*raw);
}

bool PasswordHasher::verify(std::string_view encoded, std::string_view password) const {
  const auto decoded = decode(encoded);
  if (!decoded) return false;
  const auto raw = argon2id_raw(decoded->parameters, decoded->version, password, decoded->salt,
                                decoded->hash.size());
  return raw && CRYPTO_memcmp(raw->data(), decoded->hash.data(), raw->size()) == 0;
}

bool PasswordHasher::needs_rehash(std::string_view encoded) const {
  return !encoded.starts_with(parameter_prefix(parameters_));
}

struct HashingPool::State {
  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::packaged_task<void()>> queue;
  std::size_t capacity = 0;  ///< running + waiting
  std::size_t admitted = 0;  ///< running + waiting now
  bool stopping = false;
  std::vector<std::thread> threads;
};

HashingPool::HashingPool(int threads, int queue_limit) : state_(std::make_unique<State>()) {
  const auto thread_count = static_cast<std::size_t>(std::max(1, threads));
  state_->capacity = thread_count + static_cast<std::size_t>(std::max(0, queue_limit));
  for (std::size_t i = 0; i < thread_count; ++i) {
    state_->threads.emplace_back([state = state_.get()] {
      for (;;) {
        std::packaged_task<void()> task;
        {
          std::unique_lock lock(state->mutex);
          state->wake.wait(lock, [&] { return state->stopping || !state->queue.empty(); });
          if (state->queue.empty()) return;
          task = std::move(state->queue.front());
          state->queue.pop_front();
        }
        task();  // exceptions land in the task's future
      }
    });
  }
}

HashingPool::~HashingPool() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake.notify_all();
  for (auto& thread : state_->threads)
    thread.join();
}

HashingPool::Slot HashingPool::reserve() {
  std::lock_guard lock(state_->mutex);
  if (state_->admitted >= state_->capacity) {
    throw domain::Error(domain::ErrorCode::unavailable,
                        "too many sign-ins are being checked right now; try again shortly");
  }
  ++state_->admitted;
  return Slot(state_.get());
}

HashingPool::Slot::~Slot() {
  if (!state_) return;
  std::lock_guard lock(state_->mutex);
  --state_->admitted;
}

void HashingPool::Slot::run(const std::function<void()>& work) {
  std::packaged_task<void()> task(work);
  auto done = task.get_future();
  {
    std::lock_guard lock(state_->mutex);
    state_->queue.push_back(std::move(task));
  }
  state_->wake.notify_one();
  done.get();
}

std::size_t HashingPool::load() const {
  std::lock_guard lock(state_->mutex);
  return state_->admitted;
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
  return store::sha256(token);
}

std::string new_password() {
  static constexpr char kAlphabet[] = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  const auto bytes = random_bytes(16);
  std::string password;
  for (unsigned char byte : bytes)
    password += kAlphabet[byte % (sizeof kAlphabet - 1)];
  return password;
}

}  // namespace yizhan::service
