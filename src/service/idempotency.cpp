// Idempotency-Key handling on top of store/idempotency: claim, compare, replay, store.
#include "yizhan/service/idempotency.hpp"

#include <algorithm>
#include <cstdint>
#include <random>

#include "yizhan/domain/error.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/digest.hpp"
#include "yizhan/store/idempotency.hpp"

namespace yizhan::service {

using domain::Error;
using domain::ErrorCode;

std::optional<std::string> idempotency_key_problem(std::string_view key) {
  if (key.empty()) return "must not be empty";
  if (key.size() > 200) return "must be at most 200 characters";
  for (const unsigned char c : key) {
    if (c < 0x21 || c > 0x7e) return "must be visible ASCII characters (a UUID is a good key)";
  }
  return std::nullopt;
}

StoredReply Idempotency::run(const std::optional<IdempotencyKey>& key,
                             const std::function<StoredReply(store::UnitOfWork&)>& work) {
  if (!key) return database_.transact([&](store::UnitOfWork& unit) { return work(unit); });
  if (const auto problem = idempotency_key_problem(key->key)) {
    throw Error::invalid_field("Idempotency-Key", "Idempotency-Key " + *problem);
  }
  // The scope is part of the hash, so two cashiers (or two routes) never share a key.
  const auto key_hash = store::sha256(key->scope + '\n' + key->key);
  const auto request_hash = store::sha256(key->request);
  return database_.transact([&](store::UnitOfWork& unit) {
    if (auto stored = store::claim_idempotency_key(unit, key_hash, key->scope.substr(0, 200),
                                                   key->key, request_hash, retention_days_)) {
      if (stored->request_hash != request_hash) {
        throw Error(ErrorCode::idempotency_mismatch,
                    "this Idempotency-Key was already used for a different request",
                    {{"field", "Idempotency-Key"}});
      }
      // A key still held by a code payment in progress has no answer yet.
      if (stored->status == 0)
        throw Error(ErrorCode::payment_pending,
                    "这笔付款仍在进行，请稍候用同一请求重试 / this payment is still in progress: "
                    "retry the same request shortly");
      return StoredReply{stored->status, stored->content_type, stored->body, true};
    }
    auto reply = work(unit);
    store::store_idempotent_reply(unit, key_hash, reply.status, reply.content_type, reply.body);
    reply.replayed = false;
    return reply;
  });
}

std::variant<StoredReply, IdempotencyLease> Idempotency::claim_lease(
    const IdempotencyKey& key, std::chrono::milliseconds lease, std::chrono::seconds retry_after) {
  if (const auto problem = idempotency_key_problem(key.key))
    throw Error::invalid_field("Idempotency-Key", "Idempotency-Key " + *problem);
  IdempotencyLease held;
  held.key_hash = store::sha256(key.scope + '\n' + key.key);
  held.holder = new_holder(held.key_hash);
  const auto request_hash = store::sha256(key.request);
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(lease).count();
  const auto claim = database_.transact([&](store::UnitOfWork& unit) {
    return store::claim_idempotency_lease(unit, held.key_hash, key.scope.substr(0, 200), key.key,
                                          request_hash, retention_days_, held.holder, micros);
  });
  if (claim.outcome != store::LeaseClaim::Outcome::claimed &&
      claim.reply.request_hash != request_hash)
    throw Error(ErrorCode::idempotency_mismatch,
                "this Idempotency-Key was already used for a different request",
                {{"field", "Idempotency-Key"}});
  switch (claim.outcome) {
    case store::LeaseClaim::Outcome::claimed: return held;
    case store::LeaseClaim::Outcome::taken_over: held.taken_over = true; return held;
    case store::LeaseClaim::Outcome::answered:
      return StoredReply{claim.reply.status, claim.reply.content_type, claim.reply.body, true};
    case store::LeaseClaim::Outcome::busy: break;
  }
  // The holder may poll its provider for half a minute. Waiting here would hold a database
  // worker all that time, and a few retries of one key would take them all: the client asks
  // again instead (the counter page's outbox does).
  throw Error(
      ErrorCode::payment_pending,
      "这笔付款仍在进行，请稍候用同一请求重试 / this payment is still in progress: "
      "retry the same request shortly",
      {{"retry_after_seconds", std::to_string(std::max<std::int64_t>(1, retry_after.count()))}});
}

std::string Idempotency::new_holder(const std::string& key_hash) {
  return store::sha256_hex(
             key_hash + std::to_string(std::random_device{}()) +
             std::to_string(std::random_device{}()) +
             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()))
      .substr(0, 32);
}

std::optional<IdempotencyLease> Idempotency::take_over(const std::string& key_hash,
                                                       std::chrono::milliseconds lease) {
  IdempotencyLease held{key_hash, new_holder(key_hash), true};
  const auto micros = std::chrono::duration_cast<std::chrono::microseconds>(lease).count();
  const bool ours = database_.transact([&](store::UnitOfWork& unit) {
    return store::take_over_idempotency_lease(unit, key_hash, held.holder, micros);
  });
  if (!ours) return std::nullopt;
  return held;
}

void Idempotency::store_leased(store::UnitOfWork& unit, const IdempotencyLease& lease,
                               const StoredReply& reply) {
  if (!store::store_leased_reply(unit, lease.key_hash, lease.holder, reply.status,
                                 reply.content_type, reply.body))
    throw Error(ErrorCode::conflict,
                "处理超时，请用同一请求重试 / this took too long: retry the same request", {},
                "idempotency lease lost before the answer was stored");
}

void Idempotency::release(const IdempotencyLease& lease) {
  database_.transact([&](store::UnitOfWork& unit) {
    store::release_idempotency_lease(unit, lease.key_hash, lease.holder);
  });
}

void Idempotency::expire(const IdempotencyLease& lease) {
  database_.transact([&](store::UnitOfWork& unit) {
    store::expire_idempotency_lease(unit, lease.key_hash, lease.holder);
  });
}

int Idempotency::purge_expired(int batch, int max_batches) {
  int removed = 0;
  for (int i = 0; i < max_batches; ++i) {
    const int now = database_.transact([&](store::UnitOfWork& unit) {
      return store::purge_expired_idempotency_keys(unit, batch);
    });
    removed += now;
    if (now < batch) break;
  }
  return removed;
}

}  // namespace yizhan::service
