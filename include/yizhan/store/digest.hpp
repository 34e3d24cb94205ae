// SHA-256, the one implementation: session token digests, migration checksums, photo names,
// idempotency request fingerprints.
#pragma once

#include <string>
#include <string_view>

namespace yizhan::store {

/// The 32 raw bytes of SHA-256(`bytes`).
std::string sha256(std::string_view bytes);

/// `bytes` as lower-case hex digits, two per byte.
std::string to_hex(std::string_view bytes);

/// SHA-256(`bytes`) as 64 lower-case hex digits.
std::string sha256_hex(std::string_view bytes);

}  // namespace yizhan::store
