// Idempotency keys on the real MariaDB: a repeat replays the first answer byte for byte and
// never does the work twice, even when the repeats race; a different request is refused.
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>

#include <atomic>
#include <barrier>
#include <thread>
#include <vector>

#include "support/test_database.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/service/idempotency.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/migrations.hpp"

using namespace yizhan;
using domain::Error;
using domain::ErrorCode;

namespace {

class IdempotencyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto config = schema_.config();
    config.pool_size = 12;
    database_ = std::make_unique<store::Database>(config);
    store::migrate(*database_, store::bundled_migrations());
    database_->with_connection([](store::UnitOfWork& unit) {
      std::unique_ptr<sql::Statement> ddl(unit.connection().createStatement());
      ddl->execute("CREATE TABLE sale (id BIGINT AUTO_INCREMENT PRIMARY KEY, total BIGINT)");
    });
  }

  /// A stand-in use case: records a sale and answers with its id.
  static service::StoredReply record_sale(store::UnitOfWork& unit, std::int64_t total) {
    auto& insert = unit.statement("INSERT INTO sale (total) VALUES (?)");
    insert.setInt64(1, total);
    insert.executeUpdate();
    std::unique_ptr<sql::ResultSet> id(unit.statement("SELECT LAST_INSERT_ID()").executeQuery());
    id->next();
    return {201, "application/json; charset=utf-8",
            R"({"sale":{"id":)" + std::to_string(id->getInt64(1)) + R"(,"total_fen":)" +
                std::to_string(total) + "}}"};
  }

  std::int64_t sales() {
    return database_->transact([](store::UnitOfWork& unit) {
      std::unique_ptr<sql::ResultSet> rows(
          unit.statement("SELECT COUNT(*) FROM sale").executeQuery());
      rows->next();
      return rows->getInt64(1);
    });
  }

  static service::IdempotencyKey key(std::string value, std::string body = R"({"total":500})",
                                     std::string scope = "POST /api/v1/pos/sales user:2") {
    return {std::move(scope), std::move(value), "POST /api/v1/pos/sales\n" + body};
  }

  test_support::FreshSchema schema_;
  std::unique_ptr<store::Database> database_;
};

}  // namespace

TEST_F(IdempotencyTest, ARepeatReturnsTheFirstAnswerByteForByteAndDoesNoWork) {
  service::Idempotency idempotency(*database_, 7);
  const auto first =
      idempotency.run(key("k-1"), [](store::UnitOfWork& unit) { return record_sale(unit, 500); });
  EXPECT_FALSE(first.replayed);
  int runs = 0;
  const auto again = idempotency.run(key("k-1"), [&](store::UnitOfWork& unit) {
    ++runs;
    return record_sale(unit, 500);
  });
  EXPECT_EQ(runs, 0);
  EXPECT_TRUE(again.replayed);
  EXPECT_EQ(again.status, first.status);
  EXPECT_EQ(again.content_type, first.content_type);
  EXPECT_EQ(again.body, first.body);
  EXPECT_EQ(sales(), 1);
}

TEST_F(IdempotencyTest, TheSameKeyForADifferentRequestIsRefusedAndChangesNothing) {
  service::Idempotency idempotency(*database_, 7);
  idempotency.run(key("k-2"), [](store::UnitOfWork& unit) { return record_sale(unit, 500); });
  try {
    idempotency.run(key("k-2", R"({"total":900})"),
                    [](store::UnitOfWork& unit) { return record_sale(unit, 900); });
    FAIL() << "expected idempotency_mismatch";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::idempotency_mismatch);
    EXPECT_EQ(error.details().at("field"), "Idempotency-Key");
  }
  EXPECT_EQ(sales(), 1);
}

TEST_F(IdempotencyTest, KeysAreScopedToRouteAndCaller) {
  service::Idempotency idempotency(*database_, 7);
  idempotency.run(key("same"), [](store::UnitOfWork& unit) { return record_sale(unit, 500); });
  const auto other_cashier =
      idempotency.run(key("same", R"({"total":500})", "POST /api/v1/pos/sales user:3"),
                      [](store::UnitOfWork& unit) { return record_sale(unit, 500); });
  EXPECT_FALSE(other_cashier.replayed);
  EXPECT_EQ(sales(), 2);
}

TEST_F(IdempotencyTest, ConcurrentRepeatsWaitForTheFirstAndAllGetItsAnswer) {
  service::Idempotency idempotency(*database_, 7);
  constexpr int kClients = 8;
  std::barrier start(kClients);
  std::atomic<int> runs{0};
  std::vector<service::StoredReply> replies(kClients);
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      start.arrive_and_wait();
      replies[i] = idempotency.run(key("tap-tap-tap"), [&](store::UnitOfWork& unit) {
        ++runs;
        auto reply = record_sale(unit, 500);
        // Hold the key a while so that the others really queue behind it.
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        return reply;
      });
    });
  }
  for (auto& client : clients)
    client.join();
  EXPECT_EQ(runs.load(), 1);
  EXPECT_EQ(sales(), 1);
  int fresh = 0;
  for (const auto& reply : replies) {
    EXPECT_EQ(reply.body, replies[0].body);
    fresh += reply.replayed ? 0 : 1;
  }
  EXPECT_EQ(fresh, 1);
}

TEST_F(IdempotencyTest, AFailedRequestStoresNothingSoTheSameKeyMayBeRetried) {
  service::Idempotency idempotency(*database_, 7);
  EXPECT_THROW(idempotency.run(key("k-3"),
                               [](store::UnitOfWork& unit) -> service::StoredReply {
                                 record_sale(unit, 500);
                                 throw Error(ErrorCode::out_of_stock, "sold out");
                               }),
               Error);
  EXPECT_EQ(sales(), 0);
  const auto retry =
      idempotency.run(key("k-3"), [](store::UnitOfWork& unit) { return record_sale(unit, 500); });
  EXPECT_FALSE(retry.replayed);
  EXPECT_EQ(sales(), 1);
}

TEST_F(IdempotencyTest, BadKeysAre422BeforeAnyWork) {
  service::Idempotency idempotency(*database_, 7);
  for (const std::string& bad : {std::string(), std::string(201, 'k'), std::string("tab\there"),
                                 std::string("\xe8\x8c\xb6")}) {
    try {
      idempotency.run(key(bad), [](store::UnitOfWork& unit) { return record_sale(unit, 1); });
      ADD_FAILURE() << "accepted key '" << bad << "'";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::invalid);
      EXPECT_EQ(error.details().at("field"), "Idempotency-Key");
    }
  }
  EXPECT_EQ(sales(), 0);
}

TEST_F(IdempotencyTest, ExpiredKeysArePurgedInBatchesAndMayThenBeReused) {
  service::Idempotency idempotency(*database_, 7);
  for (int i = 0; i < 7; ++i) {
    idempotency.run(key("old-" + std::to_string(i)),
                    [](store::UnitOfWork& unit) { return record_sale(unit, 500); });
  }
  idempotency.run(key("fresh"), [](store::UnitOfWork& unit) { return record_sale(unit, 500); });
  database_->transact([](store::UnitOfWork& unit) {
    unit.statement(
            "UPDATE idempotency_keys SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 DAY "
            "WHERE idempotency_key LIKE 'old-%'")
        .executeUpdate();
  });
  // An expired key is free again even before the purge reached it.
  const auto reused =
      idempotency.run(key("old-0"), [](store::UnitOfWork& unit) { return record_sale(unit, 500); });
  EXPECT_FALSE(reused.replayed);
  EXPECT_EQ(idempotency.purge_expired(2, 100), 6);
  const auto remaining = database_->transact([](store::UnitOfWork& unit) {
    std::unique_ptr<sql::ResultSet> rows(
        unit.statement("SELECT COUNT(*) FROM idempotency_keys").executeQuery());
    rows->next();
    return rows->getInt64(1);
  });
  EXPECT_EQ(remaining, 2);  // "fresh" and the reused "old-0"
  EXPECT_EQ(idempotency.purge_expired(2, 100), 0);
}
