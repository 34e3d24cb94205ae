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

/// What claiming a key with a lease found.
struct LeaseClaim {
  enum class Outcome { claimed, taken_over, answered, busy };
  Outcome outcome = Outcome::claimed;
  IdempotentReply reply;  ///< for `answered` and `busy` (request_hash); status 0 while busy
};

/// Claims `key_hash` with a lease of `lease_micros` for `holder` and returns at once: a work that
/// spans several transactions (a code payment) commits the claim first. `claimed`: the key is new;
/// `answered`: a stored answer (compare its request_hash); `busy`: another holder's lease is
/// running; `taken_over`: the key was claimed but its lease ran out (its holder died), now ours.
LeaseClaim claim_idempotency_lease(UnitOfWork& unit, const std::string& key_hash,
                                   const std::string& scope, const std::string& key,
                                   const std::string& request_hash, int retention_days,
                                   const std::string& holder, std::int64_t lease_micros);

/// Stores the answer for a key that `holder` leases; false when the lease was lost.
bool store_leased_reply(UnitOfWork& unit, const std::string& key_hash, const std::string& holder,
                        int status, const std::string& content_type, const std::string& body);

/// Gives the key up so that the same request may be tried again (it failed and moved no money).
void release_idempotency_lease(UnitOfWork& unit, const std::string& key_hash,
                               const std::string& holder);

/// Ends `holder`'s lease now, keeping the claim: a retry or the sweep may take it over at once.
void expire_idempotency_lease(UnitOfWork& unit, const std::string& key_hash,
                              const std::string& holder);

/// Takes over a claimed, unanswered key whose lease ran out (the sweep); false otherwise.
bool take_over_idempotency_lease(UnitOfWork& unit, const std::string& key_hash,
                                 const std::string& holder, std::int64_t lease_micros);

/// Deletes at most `batch` expired keys, oldest first; returns how many.
int purge_expired_idempotency_keys(UnitOfWork& unit, int batch);

}  // namespace yizhan::store
