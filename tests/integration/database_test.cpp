// The pool and unit-of-work helper against the real MariaDB: commit, rollback, retry, reconnect.
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>

#include <barrier>
#include <thread>

#include "support/test_database.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/database_error.hpp"

using namespace yizhan;
using yizhan::domain::Error;
using yizhan::domain::ErrorCode;

namespace {

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    database_ = std::make_unique<store::Database>(schema_.config());
    database_->with_session([](store::Session& session) {
      std::unique_ptr<sql::Statement> ddl(session.connection().createStatement());
      ddl->execute(
          "CREATE TABLE account (id INT PRIMARY KEY, code VARCHAR(20) NOT NULL UNIQUE, "
          "balance BIGINT NOT NULL) ENGINE=InnoDB");
      ddl->execute("INSERT INTO account VALUES (1, 'a', 100), (2, 'b', 100)");
    });
  }

  std::int64_t balance(int id) {
    return database_->transact([id](store::Session& session) {
      auto& query = session.statement("SELECT balance FROM account WHERE id = ?");
      query.setInt(1, id);
      std::unique_ptr<sql::ResultSet> rows(query.executeQuery());
      rows->next();
      return rows->getInt64(1);
    });
  }

  static void add(store::Session& session, int id, std::int64_t amount) {
    auto& update = session.statement("UPDATE account SET balance = balance + ? WHERE id = ?");
    update.setInt64(1, amount);
    update.setInt(2, id);
    update.executeUpdate();
  }

  test_support::FreshSchema schema_;
  std::unique_ptr<store::Database> database_;
};

}  // namespace

TEST_F(DatabaseTest, CommitsAUnitOfWorkAndReturnsItsValue) {
  const int changed = database_->transact([](store::Session& session) {
    add(session, 1, -30);
    add(session, 2, 30);
    return 2;
  });
  EXPECT_EQ(changed, 2);
  EXPECT_EQ(balance(1), 70);
  EXPECT_EQ(balance(2), 130);
}

TEST_F(DatabaseTest, AnExceptionRollsBackEverything) {
  EXPECT_THROW(database_->transact([](store::Session& session) {
    add(session, 1, -30);
    throw Error(ErrorCode::out_of_stock, "not enough");
  }),
               Error);
  EXPECT_EQ(balance(1), 100);
}

TEST_F(DatabaseTest, DuplicateKeyBecomesDuplicateErrorNamingTheKey) {
  try {
    database_->transact([](store::Session& session) {
      auto& insert = session.statement("INSERT INTO account VALUES (3, ?, 0)");
      insert.setString(1, "a");
      insert.execute();
    });
    FAIL() << "expected duplicate";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::duplicate);
    EXPECT_EQ(error.details().at("key"), "code");
  }
}

TEST_F(DatabaseTest, DeadlockedUnitsAreRetriedWholeAndBothCommit) {
  // Two transfers lock the two rows in opposite order; InnoDB kills one with 1213 and the
  // helper must run that one again from the start, so both transfers land exactly once.
  std::barrier both_locked_first_row(2);
  auto transfer = [&](int from, int to) {
    int attempts = 0;
    database_->transact([&](store::Session& session) {
      ++attempts;
      add(session, from, -10);
      if (attempts == 1) both_locked_first_row.arrive_and_wait();
      add(session, to, 10);
    });
    return attempts;
  };
  int attempts_a = 0;
  int attempts_b = 0;
  std::thread a([&] { attempts_a = transfer(1, 2); });
  std::thread b([&] { attempts_b = transfer(2, 1); });
  a.join();
  b.join();
  EXPECT_EQ(attempts_a + attempts_b, 3) << "exactly one of them was retried";
  EXPECT_GE(database_->stats().retries, 1u);
  EXPECT_EQ(balance(1), 100);
  EXPECT_EQ(balance(2), 100);
}

TEST_F(DatabaseTest, AKilledConnectionIsReplacedAndTheUnitRunsAgain) {
  const auto connection_id = database_->transact([](store::Session& session) {
    std::unique_ptr<sql::ResultSet> rows(
        session.statement("SELECT CONNECTION_ID()").executeQuery());
    rows->next();
    return rows->getInt64(1);
  });
  test_support::admin_execute("KILL " + std::to_string(connection_id));
  EXPECT_EQ(balance(1), 100);  // first attempt hits the dead connection, second succeeds
  EXPECT_GE(database_->stats().errors, 1u);
}

TEST_F(DatabaseTest, UnreachableServerIsUnavailableQuickly) {
  auto config = schema_.config();
  config.socket = "/nonexistent/mysql.sock";
  store::Database unreachable(config);
  const auto started = std::chrono::steady_clock::now();
  try {
    unreachable.transact([](store::Session&) {});
    FAIL() << "expected unavailable";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::unavailable);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(1));
  EXPECT_FALSE(unreachable.ping());
}

TEST_F(DatabaseTest, PoolNeverLendsMoreThanItsSizeAndTimesOutWaiting) {
  auto config = schema_.config();
  config.pool_size = 1;
  config.acquire_timeout = std::chrono::milliseconds(200);
  store::Database small(config);
  small.transact([&](store::Session&) {
    EXPECT_EQ(small.stats().in_use, 1);
    try {
      small.transact([](store::Session&) {});
      FAIL() << "a second connection was lent";
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::unavailable);
    }
  });
  EXPECT_EQ(small.stats().idle, 1);
}

TEST(FailureKinds, ClassifyByWhatTheCallerCanDo) {
  EXPECT_EQ(store::classify(1213), store::FailureKind::retry);
  EXPECT_EQ(store::classify(1205), store::FailureKind::retry);
  EXPECT_EQ(store::classify(2006), store::FailureKind::connection_lost);
  EXPECT_EQ(store::classify(2013), store::FailureKind::connection_lost);
  EXPECT_EQ(store::classify(1062), store::FailureKind::duplicate);
  EXPECT_EQ(store::classify(1452), store::FailureKind::invalid_reference);
  EXPECT_EQ(store::classify(1146), store::FailureKind::other);
}
