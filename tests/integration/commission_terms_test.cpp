// Effective-dated commission terms on the real MariaDB: a change dated tomorrow leaves today's
// sales (counter and online) at the old rate and applies from its day with no job running, while
// the lines already sold keep theirs; a product override and its end; the village reads its
// history and no other village can; a past day, a bad rate or another village's product is 422
// and changes nothing; a retried Idempotency-Key makes one term, even when retries race; the
// migration carries today's rates over as terms, so nothing sellable changes.
#include <gtest/gtest.h>

#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <thread>

#include "support/api_client.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/orders.hpp"
#include "yizhan/service/stock.hpp"
#include "yizhan/store/commission_terms.hpp"
#include "yizhan/store/counter.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/migrations.hpp"

using namespace yizhan;
using nlohmann::json;
using test_support::ApiFixture;

namespace {

std::string day(int offset) {
  const auto today =
      domain::business_day(std::chrono::system_clock::now(), domain::TimeZone::shanghai());
  return domain::format_iso_date(
      std::chrono::year_month_day{std::chrono::sys_days(today) + std::chrono::days(offset)});
}

class CommissionTermsTest : public ::testing::Test {
 protected:
  CommissionTermsTest() {
    api.router = api::build_router(
        {api.health, api.station.accounts, api.audit, api.catalog, &counter, &stock, &orders});
  }

  std::int64_t product(const std::string& sku, std::int64_t price_fen, std::int64_t village_id) {
    const json body = {{"sku", sku},       {"name", "商品 " + sku}, {"village_id", village_id},
                       {"category_id", 3}, {"unit", "piece"},       {"price_fen", price_fen}};
    const auto created = api.call_json("POST", "/api/v1/products", "admin", body);
    EXPECT_EQ(created.status, 201) << created.body;
    const auto id = created.body["id"].get<std::int64_t>();
    const auto received =
        api.call_json("POST", "/api/v1/stock/receipts", "admin",
                      {{"village_id", village_id},
                       {"lines", {{{"product_id", id}, {"quantity", 100}, {"lot", "L" + sku}}}}});
    EXPECT_EQ(received.status, 201) << received.body;
    return id;
  }

  void open_shift() {
    const auto reply = api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                                     {{"register", "柜台1"}, {"float_fen", 0}});
    ASSERT_EQ(reply.status, 201) << reply.body;
  }

  /// A one-line cash sale at the counter; the line as answered.
  json sell(std::int64_t product_id, std::int64_t quantity, std::int64_t price_fen,
            const std::string& key) {
    const auto total = price_fen * quantity;
    const json body = {
        {"lines", {{{"product_id", product_id}, {"quantity", quantity}}}},
        {"tenders", {{{"method", "cash"}, {"amount_fen", total}, {"tendered_fen", total}}}}};
    const auto sold =
        api.call("POST", "/api/v1/pos/sales", "cashier1", body.dump(), {{"idempotency-key", key}});
    EXPECT_EQ(sold.status, 201) << sold.body;
    return sold.body["lines"][0];
  }

  /// An online pickup order; its number.
  std::string order(std::int64_t product_id, std::int64_t quantity, const std::string& key) {
    const auto placed =
        api.call("POST", "/api/v1/orders", "",
                 json({{"lines", {{{"product_id", product_id}, {"quantity", quantity}}}},
                       {"fulfilment", "pickup"},
                       {"contact", {{"name", "陈女士"}, {"phone", "13800001234"}}},
                       {"payment", "cash_on_pickup"}})
                     .dump(),
                 {{"idempotency-key", key}});
    EXPECT_EQ(placed.status, 201) << placed.body;
    return placed.body["number"].get<std::string>();
  }

  ApiFixture::Reply add_term(std::int64_t village_id, const json& body,
                             std::map<std::string, std::string> headers = {}) {
    return api.call("POST", commission(village_id), "admin", body.dump(), std::move(headers));
  }

  static std::string commission(std::int64_t village_id) {
    return "/api/v1/villages/" + std::to_string(village_id) + "/commission";
  }

  std::int64_t scalar(const std::string& query) {
    std::int64_t value = 0;
    api.station.database.with_connection([&](store::UnitOfWork& unit) {
      std::unique_ptr<sql::Statement> s(unit.connection().createStatement());
      if (!s->execute(query)) return;
      std::unique_ptr<sql::ResultSet> rows(s->getResultSet());
      if (rows->next()) value = rows->isNull(1) ? -1 : rows->getInt64(1);
    });
    return value;
  }

  /// The calendar reaching the day of term `id`: the test moves the term to today instead of
  /// the clock to its day (the same thing for a lookup by date). Nothing else is touched.
  void arrive_at_term(std::int64_t id) {
    scalar("UPDATE commission_terms SET effective_from = '" + day(0) +
           "' WHERE id = " + std::to_string(id));
  }

  std::int64_t village_rate(std::int64_t village_id) {
    const auto reply = api.call("GET", "/api/v1/villages/" + std::to_string(village_id), "admin");
    EXPECT_EQ(reply.status, 200) << reply.body;
    return reply.body["commission_bps"].get<std::int64_t>();
  }

  ApiFixture api;
  service::StockService stock{api.station.database};
  service::CounterService counter{api.station.database, service::CounterSettings{}};
  service::OrderService orders{api.station.database, service::OrderSettings{}, {}};
};

}  // namespace

TEST_F(CommissionTermsTest, ACounterSaleTakesTheRateInForceOnItsDayAndSoldLinesKeepTheirs) {
  const auto a = api.station.village_a;  // default 1500 bp
  const auto tea = product("T1", 10000, a);
  open_shift();
  EXPECT_EQ(sell(tea, 1, 10000, "k1")["commission_bps"], 1500);

  const auto added = add_term(a, {{"bps", 1000}, {"effective_from", day(1)}, {"note", "新合同"}});
  ASSERT_EQ(added.status, 201) << added.body;
  EXPECT_EQ(added.body["status"], "scheduled");
  EXPECT_EQ(added.body["scheduled"], true);
  EXPECT_EQ(added.body["created_by"], "admin");
  EXPECT_EQ(added.body["note"], "新合同");

  // Still today: the old rate, for sales and for the village's answer.
  const auto before = sell(tea, 1, 10000, "k2");
  EXPECT_EQ(before["commission_bps"], 1500);
  EXPECT_EQ(before["fee_fen"], 1500);
  EXPECT_EQ(village_rate(a), 1500);

  // Its day comes: the next sale takes the new rate, though nothing ran in between.
  arrive_at_term(added.body["id"].get<std::int64_t>());
  const auto after = sell(tea, 1, 10000, "k3");
  EXPECT_EQ(after["commission_bps"], 1000);
  EXPECT_EQ(after["fee_fen"], 1000);
  EXPECT_EQ(after["share_fen"], 9000);
  EXPECT_EQ(village_rate(a), 1000);
  // The lines sold before keep the rate they were sold at.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sale_lines WHERE commission_bps = 1500 AND fee_fen = "
                   "1500 AND product_id = " +
                   std::to_string(tea)),
            2);
  // The other village is untouched.
  EXPECT_EQ(village_rate(api.station.village_b), 1200);
}

TEST_F(CommissionTermsTest, AnOnlineOrderTakesTheRateInForceOnItsDay) {
  const auto a = api.station.village_a;
  const auto tea = product("O1", 2000, a);
  const auto first = order(tea, 1, "o1");
  const auto added = add_term(a, {{"bps", 800}, {"effective_from", day(3)}});
  ASSERT_EQ(added.status, 201) << added.body;
  const auto second = order(tea, 1, "o2");
  arrive_at_term(added.body["id"].get<std::int64_t>());
  const auto third = order(tea, 1, "o3");
  // The orders in the order they were placed.
  const auto rate_of = [&](int nth) {
    return scalar(
        "SELECT l.commission_bps FROM order_lines l WHERE l.order_id = (SELECT id FROM "
        "orders ORDER BY id LIMIT 1 OFFSET " +
        std::to_string(nth) + ")");
  };
  EXPECT_NE(first, second);
  EXPECT_NE(second, third);
  EXPECT_EQ(rate_of(0), 1500);
  EXPECT_EQ(rate_of(1), 1500) << "placed before the new term's day";
  EXPECT_EQ(rate_of(2), 800);
  EXPECT_EQ(scalar("SELECT SUM(fee_fen) FROM order_lines"), 300 + 300 + 160);
}

TEST_F(CommissionTermsTest, AProductOverrideAppliesFromItsDayAndItsEndBringsBackTheDefault) {
  const auto a = api.station.village_a;
  const auto nuts = product("N1", 1000, a);
  const auto tea = product("N2", 1000, a);
  open_shift();
  const auto own = add_term(a, {{"bps", 500}, {"product_id", nuts}, {"effective_from", day(0)}});
  ASSERT_EQ(own.status, 201) << own.body;
  EXPECT_EQ(own.body["status"], "current");
  EXPECT_EQ(own.body["product_name"], "商品 N1");
  EXPECT_EQ(sell(nuts, 1, 1000, "n1")["commission_bps"], 500);
  EXPECT_EQ(sell(tea, 1, 1000, "n2")["commission_bps"], 1500) << "only that product";
  EXPECT_EQ(api.call("GET", "/api/v1/products/" + std::to_string(nuts)).body["commission_bps"],
            500);

  const auto ended =
      add_term(a, {{"bps", nullptr}, {"product_id", nuts}, {"effective_from", day(0)}});
  ASSERT_EQ(ended.status, 201) << ended.body;
  EXPECT_TRUE(ended.body["bps"].is_null());
  EXPECT_EQ(sell(nuts, 1, 1000, "n3")["commission_bps"], 1500);
  EXPECT_TRUE(api.call("GET", "/api/v1/products/" + std::to_string(nuts), "admin")
                  .body["commission_bps"]
                  .is_null());
}

TEST_F(CommissionTermsTest, TheVillageReadsItsHistoryWithCurrentAndScheduledTerms) {
  const auto a = api.station.village_a;
  const auto tea = product("H1", 1000, a);
  ASSERT_EQ(add_term(a, {{"bps", 1300}, {"effective_from", day(0)}}).status, 201);
  ASSERT_EQ(add_term(a, {{"bps", 1100}, {"effective_from", day(10)}, {"note", "年后"}}).status,
            201);
  ASSERT_EQ(add_term(a, {{"bps", 900}, {"product_id", tea}, {"effective_from", day(2)}}).status,
            201);

  const auto reply = api.call("GET", commission(a), "village1");
  ASSERT_EQ(reply.status, 200) << reply.body;
  EXPECT_EQ(reply.body["today"], day(0));
  EXPECT_EQ(reply.body["commission_bps"], 1300);
  const auto& items = reply.body["items"];
  ASSERT_EQ(items.size(), 3u) << reply.body;
  EXPECT_EQ(items[0]["effective_from"], day(10));  // newest first
  EXPECT_EQ(items[0]["status"], "scheduled");
  EXPECT_EQ(items[0]["note"], "年后");
  EXPECT_EQ(items[1]["product_id"], tea);
  EXPECT_EQ(items[1]["product_name"], "商品 H1");
  EXPECT_EQ(items[1]["status"], "scheduled");
  EXPECT_EQ(items[2]["bps"], 1300);
  EXPECT_EQ(items[2]["status"], "current");
  EXPECT_EQ(items[2]["created_by"], "admin");
  EXPECT_TRUE(items[2]["product_id"].is_null());
  EXPECT_EQ(reply.body["current"].size(), 1u);
  EXPECT_EQ(reply.body["scheduled"].size(), 2u);
  EXPECT_EQ(api.call("GET", commission(a), "admin").status, 200);
}

TEST_F(CommissionTermsTest, NoOneElseReadsAVillagesTerms) {
  const auto a = api.station.village_a;
  ASSERT_EQ(add_term(a, {{"bps", 1300}, {"effective_from", day(1)}, {"note", "甲村机密"}}).status,
            201);
  for (const auto& [who, status] :
       std::vector<std::pair<std::string, int>>{{"village2", 403}, {"cashier1", 403}, {"", 401}}) {
    const auto reply = api.call("GET", commission(a), who);
    EXPECT_EQ(reply.status, status) << who << ": " << reply.body;
    EXPECT_EQ(reply.raw.payload().find("甲村机密"), std::string::npos) << who;
  }
  EXPECT_EQ(api.call("GET", commission(999999), "admin").status, 404);
  // Only an admin adds terms.
  const auto by_village = api.call("POST", commission(a), "village1",
                                   json{{"bps", 1}, {"effective_from", day(1)}}.dump());
  EXPECT_EQ(by_village.status, 403);
}

TEST_F(CommissionTermsTest, APastDayOrBadInputIsRefusedNamingTheFieldAndChangesNothing) {
  const auto a = api.station.village_a;
  const auto b = api.station.village_b;
  const auto theirs = product("B1", 1000, b);
  const auto terms_before = scalar("SELECT COUNT(*) FROM commission_terms");
  const auto audit_before = scalar("SELECT COUNT(*) FROM audit_log");
  const std::vector<std::pair<json, std::string>> cases{
      {{{"bps", 1000}, {"effective_from", day(-1)}}, "effective_from"},
      {{{"bps", 1000}, {"effective_from", "2026-02-30"}}, "effective_from"},
      {{{"bps", 1000}, {"effective_from", 20261209}}, "effective_from"},
      {{{"bps", 1000}}, "effective_from"},
      {{{"bps", 10001}, {"effective_from", day(1)}}, "bps"},
      {{{"bps", -1}, {"effective_from", day(1)}}, "bps"},
      {{{"bps", "15%"}, {"effective_from", day(1)}}, "bps"},
      {{{"effective_from", day(1)}}, "bps"},
      {{{"bps", nullptr}, {"effective_from", day(1)}}, "bps"},
      {{{"bps", 100}, {"product_id", 999999}, {"effective_from", day(1)}}, "product_id"},
      {{{"bps", 100}, {"product_id", theirs}, {"effective_from", day(1)}}, "product_id"},
      {{{"bps", 100}, {"effective_from", day(1)}, {"note", std::string(501, 'x')}}, "note"},
  };
  for (const auto& [body, field] : cases) {
    const auto reply = add_term(a, body);
    EXPECT_EQ(reply.status, 422) << body.dump() << ": " << reply.body;
    EXPECT_EQ(reply.body["error"]["details"]["field"], field) << body.dump() << ": " << reply.body;
  }
  EXPECT_EQ(add_term(999999, {{"bps", 100}, {"effective_from", day(1)}}).status, 404);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM commission_terms"), terms_before);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log"), audit_before);
}

TEST_F(CommissionTermsTest, ARetryWithTheSameKeyMakesOneTermEvenWhenRetriesRace) {
  const auto a = api.station.village_a;
  const json body = {{"bps", 1250}, {"effective_from", day(5)}};
  const auto first = add_term(a, body, {{"idempotency-key", "term-1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  const auto again = add_term(a, body, {{"idempotency-key", "term-1"}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body["id"], first.body["id"]);
  // Racing retries of another key.
  std::vector<std::thread> threads;
  std::vector<int> statuses(4);
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      statuses[i] =
          add_term(a, {{"bps", 1260}, {"effective_from", day(6)}}, {{"idempotency-key", "term-2"}})
              .status;
    });
  for (auto& thread : threads)
    thread.join();
  for (const int status : statuses)
    EXPECT_TRUE(status == 201 || status == 409) << status;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM commission_terms WHERE bps = 1250"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM commission_terms WHERE bps = 1260"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'commission_term'"), 2);
}

TEST_F(CommissionTermsTest, PatchingARateRecordsATermFromTodayAndIsAudited) {
  const auto a = api.station.village_a;
  const auto tea = product("P1", 1000, a);
  open_shift();
  const auto patched = api.call_json("PATCH", "/api/v1/villages/" + std::to_string(a), "admin",
                                     {{"commission_bps", 1400}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.body["commission_bps"], 1400);
  EXPECT_EQ(sell(tea, 1, 1000, "p1")["commission_bps"], 1400);
  const auto product_patch = api.call_json("PATCH", "/api/v1/products/" + std::to_string(tea),
                                           "admin", {{"commission_bps", 600}});
  ASSERT_EQ(product_patch.status, 200) << product_patch.body;
  EXPECT_EQ(sell(tea, 1, 1000, "p2")["commission_bps"], 600);
  const auto history = api.call("GET", commission(a), "admin").body["items"];
  ASSERT_GE(history.size(), 2u) << history;
  EXPECT_EQ(history[0]["bps"], 600);
  EXPECT_EQ(history[0]["effective_from"], day(0));
  EXPECT_EQ(history[1]["bps"], 1400);
  EXPECT_EQ(history[1]["created_by"], "admin");
  EXPECT_GE(scalar("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'village' AND after_state "
                   "LIKE '%1400%'"),
            1);
  // A scheduled term still takes effect on its day after a PATCH today.
  const auto scheduled = add_term(a, {{"bps", 1100}, {"effective_from", day(1)}});
  ASSERT_EQ(scheduled.status, 201);
  arrive_at_term(scheduled.body["id"].get<std::int64_t>());
  EXPECT_EQ(village_rate(a), 1100);
}

TEST(CommissionTermsMigration, TodaysRatesBecomeTermsFromLongAgoSoNothingChanges) {
  test_support::FreshSchema schema;
  store::Database database(schema.config());
  auto before = store::bundled_migrations();
  std::erase_if(before, [](const store::Migration& m) { return m.version >= 14; });
  store::migrate(database, before);
  database.with_connection([&](store::UnitOfWork& unit) {
    std::unique_ptr<sql::Statement> s(unit.connection().createStatement());
    s->execute(
        "INSERT INTO villages (id, code, name, description, commission_bps) VALUES "
        "(1, 'a', '甲村', '', 1500), (2, 'b', '乙村', '', 1200)");
    s->execute(
        "INSERT INTO products (id, sku, name, description, origin, village_id, category_id, unit, "
        "price_fen, commission_bps) VALUES (1, 'own', '自有费率', '', '', 1, 1, 'piece', 100, "
        "900), "
        "(2, 'dflt', '村默认', '', '', 1, 1, 'piece', 100, NULL), "
        "(3, 'other', '乙村货', '', '', 2, 1, 'piece', 100, NULL)");
  });
  store::migrate(database, store::bundled_migrations());
  database.transact([&](store::UnitOfWork& unit) {
    const auto terms = store::terms_in_force(unit, day(0));
    EXPECT_EQ(terms.village_defaults, (std::map<std::int64_t, int>{{1, 1500}, {2, 1200}}));
    EXPECT_EQ(terms.product_overrides,
              (std::map<std::int64_t, std::optional<int>>{{1, std::optional<int>(900)}}));
    const auto history = store::list_commission_terms(unit, 1);
    ASSERT_EQ(history.size(), 2u);
    for (const auto& term : history) {
      EXPECT_EQ(term.effective_from, "2000-01-01");
      EXPECT_EQ(term.created_by_name, "migration");
    }
    // What a sale today would take: the same rates as before the migration.
    for (const auto& [product, rate] :
         std::vector<std::pair<std::int64_t, int>>{{1, 900}, {2, 1500}, {3, 1200}}) {
      const auto sellable = store::sellable_by_id(unit, product, day(0));
      ASSERT_TRUE(sellable);
      EXPECT_EQ(domain::rate_in_force(sellable->rates), rate) << "product " << product;
      EXPECT_TRUE(sellable->rates.village_term) << "read from the terms, not the old column";
    }
  });
}
