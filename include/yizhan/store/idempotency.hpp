// Stored answers to Idempotency-Key requests (table idempotency_keys).
#pragma once

#include <optional>
#include <string>

namespace yizhan::store {

class UnitOfWork;

/// The first answer given to a key.
struct IdempotentReply {
  std::string request_hash;  ///< 32 raw bytes: SHA-256 of what that request asked for
  int status = 0;
  std::string content_type;
  std::string body;
};

/// Claims `key_hash` for this unit of work. When another unit holds the same key, the insert
/// waits for it (InnoDB's duplicate check) and then sees its answer. Returns nothing when the
/// key is new (or its stored answer had expired and was removed), else the stored answer.
std::optional<IdempotentReply> claim_idempotency_key(UnitOfWork& unit, const std::string& key_hash,
                                                     const std::string& scope,
                                                     const std::string& key,
                                                     const std::string& request_hash,
                                                     int retention_days);

/// Stores the answer for a key claimed in this unit of work.
void store_idempotent_reply(UnitOfWork& unit, const std::string& key_hash, int status,
                            const std::string& content_type, const std::string& body);

/// Deletes at most `batch` expired keys, oldest first; returns how many.
int purge_expired_idempotency_keys(UnitOfWork& unit, int batch);

}  // namespace yizhan::store
