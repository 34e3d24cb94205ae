// Idempotency-Key handling on top of store/idempotency: claim, compare, replay, store.
#include "yizhan/service/idempotency.hpp"

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
      return StoredReply{stored->status, stored->content_type, stored->body, true};
    }
    auto reply = work(unit);
    store::store_idempotent_reply(unit, key_hash, reply.status, reply.content_type, reply.body);
    reply.replayed = false;
    return reply;
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
