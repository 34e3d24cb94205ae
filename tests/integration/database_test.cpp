// The pool and unit-of-work helper against the real MariaDB: commit, rollback, retry, reconnect.
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <gtest/gtest.h>

#include <atomic>
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
    database_->with_connection([](store::UnitOfWork& unit) {
      std::unique_ptr<sql::Statement> ddl(unit.connection().createStatement());
      ddl->execute(
          "CREATE TABLE account (id INT PRIMARY KEY, code VARCHAR(20) NOT NULL UNIQUE, "
          "balance BIGINT NOT NULL) ENGINE=InnoDB");
      ddl->execute("INSERT INTO account VALUES (1, 'a', 100), (2, 'b', 100)");
    });
  }

  std::int64_t balance(int id) {
    return database_->transact([id](store::UnitOfWork& unit) {
      auto& query = unit.statement("SELECT balance FROM account WHERE id = ?");
      query.setInt(1, id);
      std::unique_ptr<sql::ResultSet> rows(query.executeQuery());
      rows->next();
      return rows->getInt64(1);
    });
  }

  static void add(store::UnitOfWork& unit, int id, std::int64_t amount) {
    auto& update = unit.statement("UPDATE account SET balance = balance + ? WHERE id = ?");
    update.setInt64(1, amount);
    update.setInt(2, id);
    update.executeUpdate();
  }

  test_support::FreshSchema schema_;
  std::unique_ptr<store::Database> database_;
};

}  // namespace

TEST_F(DatabaseTest, CommitsAUnitOfWorkAndReturnsItsValue) {
  const int changed = database_->transact([](store::UnitOfWork& unit) {
    add(unit, 1, -30);
    add(unit, 2, 30);
    return 2;
  });
  EXPECT_EQ(changed, 2);
  EXPECT_EQ(balance(1), 70);
  EXPECT_EQ(balance(2), 130);
}

TEST_F(DatabaseTest, AnExceptionRollsBackEverything) {
  EXPECT_THROW(database_->transact([](store::UnitOfWork& unit) {
    add(unit, 1, -30);
    throw Error(ErrorCode::out_of_stock, "not enough");
  }),
               Error);
  EXPECT_EQ(balance(1), 100);
}

TEST_F(DatabaseTest, DuplicateKeyBecomesDuplicateErrorNamingTheKey) {
  try {
    database_->transact([](store::UnitOfWork& unit) {
      auto& insert = unit.statement("INSERT INTO account VALUES (3, ?, 0)");
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
    database_->transact([&](store::UnitOfWork& unit) {
      ++attempts;
      add(unit, from, -10);
      if (attempts == 1) both_locked_first_row.arrive_and_wait();
      add(unit, to, 10);
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
  const auto connection_id = database_->transact([](store::UnitOfWork& unit) {
    std::unique_ptr<sql::ResultSet> rows(unit.statement("SELECT CONNECTION_ID()").executeQuery());
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
    unreachable.transact([](store::UnitOfWork&) {});
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
  small.transact([&](store::UnitOfWork&) {
    EXPECT_EQ(small.stats().in_use, 1);
    std::thread other([&] {
      try {
        small.transact([](store::UnitOfWork&) {});
        ADD_FAILURE() << "a second connection was lent";
      } catch (const Error& error) {
        EXPECT_EQ(error.code(), ErrorCode::unavailable);
      }
    });
    other.join();
  });
  EXPECT_EQ(small.stats().idle, 1);
}

TEST_F(DatabaseTest, ANestedUnitOfWorkOnOneThreadIsRefusedAtOnceNotDeadlocked) {
  auto config = schema_.config();
  config.pool_size = 1;
  config.acquire_timeout = std::chrono::seconds(30);  // a nested acquire would wait this long
  store::Database small(config);
  const auto started = std::chrono::steady_clock::now();
  try {
    small.transact([&](store::UnitOfWork& unit) {
      add(unit, 1, -5);
      small.transact([](store::UnitOfWork&) {});
    });
    FAIL() << "a nested unit of work ran";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::internal);
    EXPECT_NE(error.cause().find("nested"), std::string::npos) << error.cause();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(balance(1), 100) << "the outer unit rolled back";
  // The thread may start units of work again afterwards.
  small.transact([](store::UnitOfWork& unit) { add(unit, 1, 1); });
  EXPECT_EQ(balance(1), 101);
}

TEST_F(DatabaseTest, EachSessionWaitsForLocksOnlyAsLongAsConfigured) {
  auto config = schema_.config();
  config.lock_wait_timeout = std::chrono::seconds(2);
  store::Database database(config);
  const auto seconds = database.transact([](store::UnitOfWork& unit) {
    std::unique_ptr<sql::ResultSet> rows(
        unit.statement("SELECT @@SESSION.innodb_lock_wait_timeout").executeQuery());
    rows->next();
    return rows->getInt(1);
  });
  EXPECT_EQ(seconds, 2);
}

TEST_F(DatabaseTest, ALockWaitTimeoutIsRetriedAndSucceedsOnceTheRowIsFree) {
  // A hot row held longer than innodb_lock_wait_timeout: the waiter gets 1205 (a retryable
  // error, its connection intact) and lands on a later attempt once the holder lets go.
  auto config = schema_.config();
  config.lock_wait_timeout = std::chrono::seconds(1);
  store::Database holder_db(config);
  store::Database waiter_db(
      config, store::RetryPolicy{6, std::chrono::milliseconds(50), std::chrono::milliseconds(400)});
  std::barrier locked(2);
  std::thread holder([&] {
    holder_db.transact([&](store::UnitOfWork& unit) {
      add(unit, 1, 1);
      locked.arrive_and_wait();
      std::this_thread::sleep_for(std::chrono::milliseconds(1600));
    });
  });
  locked.arrive_and_wait();
  int attempts = 0;
  waiter_db.transact([&](store::UnitOfWork& unit) {
    ++attempts;
    add(unit, 1, 10);
  });
  holder.join();
  EXPECT_GE(attempts, 2) << "the first attempt timed out waiting";
  EXPECT_GE(waiter_db.stats().retries, 1u);
  EXPECT_EQ(waiter_db.stats().capacity, 4);
  EXPECT_EQ(balance(1), 111);
}

TEST_F(DatabaseTest, RetriesExhaustedIsUnavailableAndTheWorkRanExactlyMaxAttemptsTimes) {
  auto config = schema_.config();
  config.lock_wait_timeout = std::chrono::seconds(1);
  store::Database holder_db(config);
  store::Database waiter_db(
      config, store::RetryPolicy{2, std::chrono::milliseconds(10), std::chrono::milliseconds(20)});
  std::barrier locked(2);
  std::barrier done(2);
  std::thread holder([&] {
    holder_db.transact([&](store::UnitOfWork& unit) {
      add(unit, 1, 1);
      locked.arrive_and_wait();
      done.arrive_and_wait();
    });
  });
  locked.arrive_and_wait();
  int attempts = 0;
  try {
    waiter_db.transact([&](store::UnitOfWork& unit) {
      ++attempts;
      add(unit, 1, 10);
    });
    ADD_FAILURE() << "expected the retries to run out";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::unavailable);
  }
  done.arrive_and_wait();
  holder.join();
  EXPECT_EQ(attempts, 2);
  EXPECT_EQ(balance(1), 101);
}

TEST_F(DatabaseTest, AConnectionLostDuringCommitIsCommitUnknownAndNotRunAgain) {
  // The work ends by having its own connection killed, so COMMIT finds no server: the client
  // cannot know whether the commit landed, so the helper must not run the work a second time.
  int attempts = 0;
  try {
    database_->transact([&](store::UnitOfWork& unit) {
      ++attempts;
      add(unit, 1, -1);
      std::unique_ptr<sql::ResultSet> rows(unit.statement("SELECT CONNECTION_ID()").executeQuery());
      rows->next();
      const auto id = rows->getInt64(1);
      // From another thread: this one is inside a unit of work already.
      std::thread([id] {
        test_support::admin_execute("KILL CONNECTION " + std::to_string(id));
        // KILL only flags the thread; wait until the server really closed the connection.
        store::Database admin(test_support::test_database_config(""));
        for (int i = 0; i < 500; ++i) {
          const bool gone = admin.transact([id](store::UnitOfWork& probe) {
            auto& query =
                probe.statement("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE ID = ?");
            query.setInt64(1, id);
            std::unique_ptr<sql::ResultSet> found(query.executeQuery());
            found->next();
            return found->getInt(1) == 0;
          });
          if (gone) break;
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }).join();
    });
    FAIL() << "expected commit_unknown";
  } catch (const Error& error) {
    EXPECT_EQ(error.code(), ErrorCode::commit_unknown);
    EXPECT_NE(std::string(error.what()).find("Idempotency-Key"), std::string::npos);
  }
  EXPECT_EQ(attempts, 1);
  EXPECT_EQ(balance(1), 100);  // here the server had rolled back; the pool recovered
}

TEST_F(DatabaseTest, AfterCommitEffectsRunOnceAfterCommitAndNeverForRolledBackAttempts) {
  std::barrier both_locked_first_row(2);
  std::atomic<int> effects{0};
  auto transfer = [&](int from, int to) {
    int attempts = 0;
    database_->transact([&](store::UnitOfWork& unit) {
      ++attempts;
      unit.after_commit([&] { ++effects; });
      add(unit, from, -10);
      if (attempts == 1) both_locked_first_row.arrive_and_wait();
      add(unit, to, 10);
    });
  };
  std::thread a([&] { transfer(1, 2); });
  std::thread b([&] { transfer(2, 1); });
  a.join();
  b.join();
  EXPECT_EQ(effects.load(), 2) << "one per committed unit, none for the deadlocked attempt";

  bool ran = false;
  EXPECT_THROW(database_->transact([&](store::UnitOfWork& unit) {
    unit.after_commit([&] { ran = true; });
    throw Error(ErrorCode::conflict, "changed my mind");
  }),
               Error);
  EXPECT_FALSE(ran);

  // An effect sees the committed state and may start a unit of work of its own.
  std::int64_t seen = 0;
  database_->transact([&](store::UnitOfWork& unit) {
    add(unit, 1, 5);
    unit.after_commit([&] { seen = balance(1); });
  });
  EXPECT_EQ(seen, 105);
}

TEST_F(DatabaseTest, ValuesTheSchemaRefusesAre422NamingTheField) {
  database_->with_connection([](store::UnitOfWork& unit) {
    std::unique_ptr<sql::Statement> ddl(unit.connection().createStatement());
    ddl->execute(
        "CREATE TABLE item (id INT PRIMARY KEY, name VARCHAR(4) NOT NULL, "
        "kind ENUM('a','b') NOT NULL DEFAULT 'a', qty INT NOT NULL DEFAULT 0, "
        "made DATETIME NULL, price_fen BIGINT NOT NULL DEFAULT 1, "
        "CONSTRAINT ck_item_price_fen CHECK (price_fen > 0)) ENGINE=InnoDB");
    ddl->execute(
        "CREATE TABLE item_lot_moves (id INT PRIMARY KEY, qty INT NOT NULL, "
        "CONSTRAINT ck_item_lot_moves_qty CHECK (qty <> 0)) ENGINE=InnoDB");
  });
  const std::vector<std::pair<std::string, std::string>> cases{
      {"INSERT INTO item (id, name) VALUES (1, NULL)", "name"},                     // 1048
      {"INSERT INTO item (id, name) VALUES (1, 'toolong')", "name"},                // 1406
      {"INSERT INTO item (id, name, kind) VALUES (1, 'x', 'c')", "kind"},           // 1265
      {"INSERT INTO item (id, name, made) VALUES (1, 'x', '2026-13-40')", "made"},  // 1292
      {"INSERT INTO item (id, name, qty) VALUES (1, 'x', 'many')", "qty"},          // 1366
      {"INSERT INTO item (id, name, price_fen) VALUES (1, 'x', 0)", "price_fen"},   // 4025
      // A table whose name holds '_': its whole name is cut, not up to its first '_'.
      {"INSERT INTO item_lot_moves (id, qty) VALUES (1, 0)", "qty"},  // 4025
  };
  for (const auto& [statement, field] : cases) {
    try {
      database_->transact([&](store::UnitOfWork& unit) {
        std::unique_ptr<sql::Statement> s(unit.connection().createStatement());
        s->execute(statement);
      });
      ADD_FAILURE() << "accepted: " << statement;
    } catch (const Error& error) {
      EXPECT_EQ(error.code(), ErrorCode::invalid) << statement << ": " << error.cause();
      EXPECT_EQ(error.details().count("field") ? error.details().at("field") : "", field)
          << statement << ": " << error.cause();
    }
  }
}

TEST(FailureKinds, ClassifyByWhatTheCallerCanDo) {
  EXPECT_EQ(store::classify(1213), store::FailureKind::retry);
  EXPECT_EQ(store::classify(1205), store::FailureKind::retry);
  EXPECT_EQ(store::classify(2006), store::FailureKind::connection_lost);
  EXPECT_EQ(store::classify(2013), store::FailureKind::connection_lost);
  EXPECT_EQ(store::classify(1062), store::FailureKind::duplicate);
  EXPECT_EQ(store::classify(1452), store::FailureKind::invalid_reference);
  EXPECT_EQ(store::classify(1146), store::FailureKind::other);
  for (const int value_error : {1048, 1264, 1265, 1292, 1366, 1406, 4025}) {
    EXPECT_EQ(store::classify(value_error), store::FailureKind::invalid_value) << value_error;
  }
  EXPECT_EQ(store::classify(1047), store::FailureKind::node_unavailable);
  EXPECT_EQ(store::classify(1053), store::FailureKind::node_unavailable);
}
