// Exactly-once writes: any state-changing use case runs its work through Idempotency::run, which
// claims the request's Idempotency-Key in the same transaction and stores the answer with it.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace yizhan::store {
class Database;
class UnitOfWork;
}  // namespace yizhan::store

namespace yizhan::service {

/// A request's Idempotency-Key, scoped to its route and caller.
struct IdempotencyKey {
  std::string scope;    ///< route and caller, e.g. "POST /api/v1/pos/sales user:3"
  std::string key;      ///< as the client sent it (see idempotency_key_problem)
  std::string request;  ///< what was asked (method, path, body); hashed, never stored
};

/// An answer as the client received it: replayed byte for byte for a repeat of the request.
struct StoredReply {
  int status = 200;
  std::string content_type;
  std::string body;
  bool replayed = false;  ///< true when this is the stored answer of an earlier request
};

/// Why a client's Idempotency-Key is unusable (1–200 visible ASCII characters), or nothing.
std::optional<std::string> idempotency_key_problem(std::string_view key);

/// A key held across several transactions (a sale that charges a payment code in between).
struct IdempotencyLease {
  std::string key_hash;     ///< 32 raw bytes, as idempotency_keys.key_hash
  std::string holder;       ///< this request's random token
  bool taken_over = false;  ///< an earlier request with this key died holding it
};

/// Runs units of work at most once per Idempotency-Key.
class Idempotency {
 public:
  Idempotency(store::Database& database, int retention_days)
      : database_(database), retention_days_(retention_days) {}

  /// Runs `work` in one transaction that first claims `key`. The first request's answer is
  /// stored with its work; a repeat (concurrent ones wait for the first) gets that answer with
  /// `replayed` set and `work` does not run; the same key with a different request is refused
  /// with 409 idempotency_mismatch. A failed request stores nothing, so it may be retried with
  /// the same key. Without a key, `work` simply runs in a transaction.
  StoredReply run(const std::optional<IdempotencyKey>& key,
                  const std::function<StoredReply(store::UnitOfWork&)>& work);

  /// Claims `key` for a work that spans several transactions: commits the claim with a lease
  /// of `lease`, then returns it. A stored answer is returned instead (`replayed` set); the same
  /// key with a different request is 409 idempotency_mismatch; while another request holds a
  /// running lease, this one answers 409 payment_pending at once, with
  /// details.retry_after_seconds = `retry_after` (Retry-After): it never waits for the holder,
  /// so retries of one held key cannot take every database worker. `work` below finishes it;
  /// the holder must store an answer or release.
  std::variant<StoredReply, IdempotencyLease> claim_lease(const IdempotencyKey& key,
                                                          std::chrono::milliseconds lease,
                                                          std::chrono::seconds retry_after);
  /// Takes over the claimed key `key_hash` (raw digest) whose lease ran out, for a sweep that
  /// finishes what its request left; nothing when it is answered or its lease still runs.
  std::optional<IdempotencyLease> take_over(const std::string& key_hash,
                                            std::chrono::milliseconds lease);
  /// Stores the answer of a leased key in `unit` (the work's own transaction); 409 conflict when
  /// the lease was lost to a later retry (the unit of work then rolls back).
  void store_leased(store::UnitOfWork& unit, const IdempotencyLease& lease,
                    const StoredReply& reply);
  /// Gives a leased key up: the request failed without moving money and may be sent again.
  void release(const IdempotencyLease& lease);
  /// Ends the lease now but keeps the claim (something is left for a retry or the sweep).
  void expire(const IdempotencyLease& lease);

  /// Removes expired keys in batches of `batch` rows, each its own short transaction, until
  /// fewer than a batch remain or `max_batches` ran; returns how many were removed.
  int purge_expired(int batch = 500, int max_batches = 20);

 private:
  static std::string new_holder(const std::string& key_hash);

  store::Database& database_;
  int retention_days_;
};

}  // namespace yizhan::service
