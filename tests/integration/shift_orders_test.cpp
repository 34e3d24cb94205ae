// The shift report and the online orders on the real MariaDB: cash taken for a cash-on-pickup
// order at handover goes into the open shift's drawer, so the X/Z report lists it and expects it,
// and closing the shift leaves the drawer at zero.
#include <gtest/gtest.h>

#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include "support/api_client.hpp"
#include "yizhan/service/check.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/orders.hpp"
#include "yizhan/service/stock.hpp"
#include "yizhan/store/database.hpp"

using namespace yizhan;
using nlohmann::json;
using test_support::ApiFixture;

namespace {

class ShiftOrdersTest : public ::testing::Test {
 protected:
  ShiftOrdersTest() {
    orders =
        std::make_unique<service::OrderService>(api.station.database, service::OrderSettings{},
                                                std::map<std::string, service::PaymentAccount>{});
    api.router = api::build_router(
        {api.health, api.station.accounts, api.audit, api.catalog, &counter, &stock, orders.get()});
  }

  std::int64_t product(const std::string& sku, std::int64_t price_fen, std::int64_t stock_count) {
    const auto created = api.call_json("POST", "/api/v1/products", "admin",
                                       {{"sku", sku},
                                        {"name", "商品 " + sku},
                                        {"village_id", api.station.village_a},
                                        {"category_id", 3},
                                        {"unit", "piece"},
                                        {"price_fen", price_fen}});
    EXPECT_EQ(created.status, 201) << created.body;
    const auto id = created.body["id"].get<std::int64_t>();
    const auto received = api.call_json(
        "POST", "/api/v1/stock/receipts", "admin",
        {{"village_id", api.station.village_a},
         {"lines", {{{"product_id", id}, {"quantity", stock_count}, {"lot", "L1"}}}}});
    EXPECT_EQ(received.status, 201) << received.body;
    return id;
  }

  /// Places a cash-on-pickup order and hands it over at the counter as cashier1.
  void hand_over(std::int64_t product_id, std::int64_t quantity, const std::string& key) {
    const json body = {{"lines", {{{"product_id", product_id}, {"quantity", quantity}}}},
                       {"fulfilment", "pickup"},
                       {"contact", {{"name", "陈女士"}, {"phone", "13800001234"}}},
                       {"payment", "cash_on_pickup"}};
    const auto placed =
        api.call("POST", "/api/v1/orders", "", body.dump(), {{"idempotency-key", key}});
    ASSERT_EQ(placed.status, 201) << placed.body;
    const std::string number = placed.body["number"];
    const std::string code =
        api.call("GET", "/api/v1/orders/" + number, "cashier1").body["pickup_code"];
    for (const json& move : {json{{"to", "picking"}}, json{{"to", "ready"}},
                             json{{"to", "completed"}, {"pickup_code", code}}}) {
      const auto moved =
          api.call("POST", "/api/v1/orders/" + number + "/transition", "cashier1", move.dump());
      ASSERT_EQ(moved.status, 200) << moved.body;
    }
  }

  std::int64_t open_shift(std::int64_t float_fen) {
    const auto shift = api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                                     {{"register", "柜台1"}, {"float_fen", float_fen}});
    EXPECT_EQ(shift.status, 201) << shift.body;
    return shift.body["id"].get<std::int64_t>();
  }

  std::int64_t drawer_balance() {
    std::int64_t value = 0;
    api.station.database.with_connection([&](store::UnitOfWork& unit) {
      std::unique_ptr<sql::Statement> s(unit.connection().createStatement());
      std::unique_ptr<sql::ResultSet> rows(s->executeQuery(
          "SELECT COALESCE(SUM(p.amount_fen), 0) FROM postings p JOIN "
          "ledger_accounts a ON a.id = p.account_id WHERE a.code = 'cash_drawer:1'"));
      if (rows->next()) value = rows->getInt64(1);
    });
    return value;
  }

  ApiFixture api;
  service::StockService stock{api.station.database};
  service::CounterService counter{api.station.database, service::CounterSettings{}};
  std::unique_ptr<service::OrderService> orders;
};

}  // namespace

TEST_F(ShiftOrdersTest, CashTakenForAnOrderAtHandoverIsInTheShiftsExpectedCash) {
  const auto p = product("S1", 1200, 10);
  const auto first = std::to_string(open_shift(10000));
  hand_over(p, 2, "order-a");

  const auto x = api.call("GET", "/api/v1/pos/shifts/" + first + "/report", "cashier1");
  ASSERT_EQ(x.status, 200) << x.body;
  EXPECT_EQ(x.body["sales_count"], 0) << "an order is not a counter sale";
  EXPECT_EQ(x.body["orders_paid_count"], 1);
  EXPECT_EQ(x.body["orders_paid_fen"], 2400);
  EXPECT_EQ(x.body["expected_cash_fen"], 10000 + 2400);

  // Counting exactly what is in the drawer is no difference, and the drawer ends at zero.
  const auto z = api.call_json("POST", "/api/v1/pos/shifts/" + first + "/close", "cashier1",
                               {{"counted_cash_fen", 12400}});
  ASSERT_EQ(z.status, 200) << z.body;
  EXPECT_EQ(z.body["difference_fen"], 0);
  EXPECT_EQ(drawer_balance(), 0);

  // The next shift at the same register counts only the orders handed over during it.
  const auto second = std::to_string(open_shift(5000));
  hand_over(p, 1, "order-b");
  const auto next = api.call("GET", "/api/v1/pos/shifts/" + second + "/report", "cashier1");
  EXPECT_EQ(next.body["orders_paid_count"], 1);
  EXPECT_EQ(next.body["orders_paid_fen"], 1200);
  EXPECT_EQ(next.body["expected_cash_fen"], 5000 + 1200);
  const auto closed_report = api.call("GET", "/api/v1/pos/shifts/" + first + "/report", "cashier1");
  EXPECT_EQ(closed_report.body["orders_paid_fen"], 2400) << "a closed shift's report stays put";
  EXPECT_EQ(closed_report.body["expected_cash_fen"], 12400);

  service::Checker checker(api.station.database);
  service::add_stock_checks(checker);
  service::add_journal_checks(checker);
  for (const auto& result : checker.run())
    for (const auto& problem : result.problems)
      ADD_FAILURE() << result.name << ": " << problem;
}
