// SQL for idempotency_keys: claim, store the answer, purge in bounded batches.
#include "yizhan/store/idempotency.hpp"

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>
#include <sstream>
#include <vector>

#include "yizhan/store/database.hpp"
#include "yizhan/store/database_error.hpp"

namespace yizhan::store {
namespace {

constexpr const char* kInsert =
    "INSERT INTO idempotency_keys (key_hash, scope, idempotency_key, request_hash, body, "
    "expires_at) VALUES (?, ?, ?, ?, '', UTC_TIMESTAMP(6) + INTERVAL ? DAY)";
constexpr const char* kSelect =
    "SELECT request_hash, status, content_type, body, expires_at < UTC_TIMESTAMP(6) "
    "FROM idempotency_keys WHERE key_hash = ?";
constexpr const char* kDeleteExpired =
    "DELETE FROM idempotency_keys WHERE key_hash = ? AND expires_at < UTC_TIMESTAMP(6)";
constexpr const char* kStoreReply =
    "UPDATE idempotency_keys SET status = ?, content_type = ?, body = ? WHERE key_hash = ?";
constexpr const char* kPurge =
    "DELETE FROM idempotency_keys WHERE expires_at < UTC_TIMESTAMP(6) ORDER BY expires_at "
    "LIMIT ?";

/// Binary parameters go as blobs: bytes, not text in a character set.
class Blobs {
 public:
  std::istream* operator()(const std::string& bytes) {
    holders_.push_back(std::make_unique<std::istringstream>(bytes));
    return holders_.back().get();
  }

 private:
  std::vector<std::unique_ptr<std::istringstream>> holders_;
};

bool insert(UnitOfWork& unit, const std::string& key_hash, const std::string& scope,
            const std::string& key, const std::string& request_hash, int retention_days) {
  Blobs blobs;
  auto& statement = unit.statement(kInsert);
  statement.setBlob(1, blobs(key_hash));
  statement.setString(2, scope);
  statement.setString(3, key);
  statement.setBlob(4, blobs(request_hash));
  statement.setInt(5, retention_days);
  try {
    statement.executeUpdate();
    return true;
  } catch (const sql::SQLException& e) {
    // The statement alone failed; the transaction goes on.
    if (classify(e.getErrorCode()) == FailureKind::duplicate) return false;
    throw;
  }
}

std::string read_blob(sql::ResultSet& row, int column) {
  std::unique_ptr<std::istream> stream(row.getBlob(column));
  std::ostringstream bytes;
  if (stream) bytes << stream->rdbuf();
  return bytes.str();
}

}  // namespace

std::optional<IdempotentReply> claim_idempotency_key(UnitOfWork& unit, const std::string& key_hash,
                                                     const std::string& scope,
                                                     const std::string& key,
                                                     const std::string& request_hash,
                                                     int retention_days) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (insert(unit, key_hash, scope, key, request_hash, retention_days)) return std::nullopt;
    Blobs blobs;
    auto& select = unit.statement(kSelect);
    select.setBlob(1, blobs(key_hash));
    std::unique_ptr<sql::ResultSet> row(select.executeQuery());
    if (!row->next()) continue;  // removed meanwhile (purged): claim it again
    if (row->getBoolean(5)) {
      auto& remove = unit.statement(kDeleteExpired);
      remove.setBlob(1, blobs(key_hash));
      remove.executeUpdate();
      continue;
    }
    IdempotentReply reply;
    reply.request_hash = read_blob(*row, 1);
    reply.status = row->getInt(2);
    reply.content_type = row->getString(3);
    reply.body = read_blob(*row, 4);
    return reply;
  }
  // Claimed, expired and purged twice within one request: too unlikely to handle more finely.
  throw domain::Error(domain::ErrorCode::unavailable, "busy, try again", {},
                      "idempotency key kept changing under the claim");
}

void store_idempotent_reply(UnitOfWork& unit, const std::string& key_hash, int status,
                            const std::string& content_type, const std::string& body) {
  Blobs blobs;
  auto& statement = unit.statement(kStoreReply);
  statement.setInt(1, status);
  statement.setString(2, content_type);
  statement.setBlob(3, blobs(body));
  statement.setBlob(4, blobs(key_hash));
  statement.executeUpdate();
}

LeaseClaim claim_idempotency_lease(UnitOfWork& unit, const std::string& key_hash,
                                   const std::string& scope, const std::string& key,
                                   const std::string& request_hash, int retention_days,
                                   const std::string& holder, std::int64_t lease_micros) {
  Blobs blobs;
  auto lease = [&](const char* query) {
    auto& statement = unit.statement(query);
    statement.setInt64(1, lease_micros);
    statement.setString(2, holder);
    statement.setBlob(3, blobs(key_hash));
    return statement.executeUpdate();
  };
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (insert(unit, key_hash, scope, key, request_hash, retention_days)) {
      lease(
          "UPDATE idempotency_keys SET lease_until = UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND, "
          "lease_holder = ? WHERE key_hash = ?");
      return {};
    }
    auto& select = unit.statement(
        "SELECT request_hash, status, content_type, body, expires_at < UTC_TIMESTAMP(6), "
        "lease_until IS NULL OR lease_until < UTC_TIMESTAMP(6) FROM idempotency_keys "
        "WHERE key_hash = ? FOR UPDATE");
    select.setBlob(1, blobs(key_hash));
    std::unique_ptr<sql::ResultSet> row(select.executeQuery());
    if (!row->next()) continue;
    LeaseClaim claim;
    claim.reply.request_hash = read_blob(*row, 1);
    claim.reply.status = row->getInt(2);
    claim.reply.content_type = row->getString(3);
    claim.reply.body = read_blob(*row, 4);
    if (claim.reply.status != 0 && row->getBoolean(5)) {
      auto& remove = unit.statement(kDeleteExpired);
      remove.setBlob(1, blobs(key_hash));
      remove.executeUpdate();
      continue;
    }
    if (claim.reply.status != 0) {
      claim.outcome = LeaseClaim::Outcome::answered;
    } else if (claim.reply.request_hash == request_hash && row->getBoolean(6)) {
      lease(
          "UPDATE idempotency_keys SET lease_until = UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND, "
          "lease_holder = ? WHERE key_hash = ?");
      claim.outcome = LeaseClaim::Outcome::taken_over;
    } else {
      claim.outcome = LeaseClaim::Outcome::busy;
    }
    return claim;
  }
  throw domain::Error(domain::ErrorCode::unavailable, "busy, try again", {},
                      "idempotency key kept changing under the lease claim");
}

bool store_leased_reply(UnitOfWork& unit, const std::string& key_hash, const std::string& holder,
                        int status, const std::string& content_type, const std::string& body) {
  Blobs blobs;
  auto& statement = unit.statement(
      "UPDATE idempotency_keys SET status = ?, content_type = ?, body = ?, lease_until = NULL, "
      "lease_holder = NULL WHERE key_hash = ? AND status = 0 AND lease_holder = ?");
  statement.setInt(1, status);
  statement.setString(2, content_type);
  statement.setBlob(3, blobs(body));
  statement.setBlob(4, blobs(key_hash));
  statement.setString(5, holder);
  return statement.executeUpdate() == 1;
}

void release_idempotency_lease(UnitOfWork& unit, const std::string& key_hash,
                               const std::string& holder) {
  Blobs blobs;
  auto& statement = unit.statement(
      "DELETE FROM idempotency_keys WHERE key_hash = ? AND status = 0 AND lease_holder = ?");
  statement.setBlob(1, blobs(key_hash));
  statement.setString(2, holder);
  statement.executeUpdate();
}

void expire_idempotency_lease(UnitOfWork& unit, const std::string& key_hash,
                              const std::string& holder) {
  Blobs blobs;
  auto& statement = unit.statement(
      "UPDATE idempotency_keys SET lease_until = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND "
      "WHERE key_hash = ? AND status = 0 AND lease_holder = ?");
  statement.setBlob(1, blobs(key_hash));
  statement.setString(2, holder);
  statement.executeUpdate();
}

bool take_over_idempotency_lease(UnitOfWork& unit, const std::string& key_hash,
                                 const std::string& holder, std::int64_t lease_micros) {
  Blobs blobs;
  auto& statement = unit.statement(
      "UPDATE idempotency_keys SET lease_until = UTC_TIMESTAMP(6) + INTERVAL ? MICROSECOND, "
      "lease_holder = ? WHERE key_hash = ? AND status = 0 "
      "AND (lease_until IS NULL OR lease_until < UTC_TIMESTAMP(6))");
  statement.setInt64(1, lease_micros);
  statement.setString(2, holder);
  statement.setBlob(3, blobs(key_hash));
  return statement.executeUpdate() == 1;
}

int purge_expired_idempotency_keys(UnitOfWork& unit, int batch) {
  auto& statement = unit.statement(kPurge);
  statement.setInt(1, batch);
  return statement.executeUpdate();
}

}  // namespace yizhan::store
