// The manager's reports on the real MariaDB: a few known counter and online sales and refunds
// give exact figures by village, product, category, channel, method and day; CSV opens in
// Excel (BOM, yuan); only admins read them; bad parameters are 422 naming the field. And
// seed-history writes history that `yizhan check` finds consistent and that the reports and the
// village payables agree on.
#include <gtest/gtest.h>

#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <sstream>

#include "support/api_client.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/check.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/history.hpp"
#include "yizhan/service/orders.hpp"
#include "yizhan/service/reports.hpp"
#include "yizhan/service/stock.hpp"
#include "yizhan/service/village_reports.hpp"
#include "yizhan/store/database.hpp"

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

class ReportsTest : public ::testing::Test {
 protected:
  ReportsTest() {
    api::Services services{api.health, api.station.accounts, api.audit, api.catalog};
    services.counter = &counter;
    services.stock = &stock;
    services.orders = &orders;
    services.village_reports = &village_reports;
    services.reports = &reports;
    api.router = api::build_router(services);
  }

  std::int64_t product(const std::string& sku, std::int64_t price_fen, std::int64_t village_id,
                       int category_id) {
    const json body = {{"sku", sku},
                       {"name", "商品 " + sku},
                       {"name_en", "Product " + sku},
                       {"village_id", village_id},
                       {"category_id", category_id},
                       {"unit", "piece"},
                       {"price_fen", price_fen}};
    const auto created = api.call_json("POST", "/api/v1/products", "admin", body);
    EXPECT_EQ(created.status, 201) << created.body;
    return created.body["id"].get<std::int64_t>();
  }

  void receive(std::int64_t village_id, std::int64_t product_id, std::int64_t quantity,
               std::optional<std::string> expires_on = std::nullopt) {
    json line = {{"product_id", product_id}, {"quantity", quantity}, {"lot", "L1"}};
    if (expires_on) line["expires_on"] = *expires_on;
    const auto reply = api.call_json("POST", "/api/v1/stock/receipts", "admin",
                                     {{"village_id", village_id}, {"lines", {line}}});
    ASSERT_EQ(reply.status, 201) << reply.body;
  }

  json sell(const std::vector<std::pair<std::int64_t, std::int64_t>>& lines,
            const std::string& method, const std::string& key) {
    json body_lines = json::array();
    for (const auto& [product_id, quantity] : lines)
      body_lines.push_back({{"product_id", product_id}, {"quantity", quantity}});
    const auto quote =
        api.call_json("POST", "/api/v1/pos/quote", "cashier1", {{"lines", body_lines}});
    EXPECT_EQ(quote.status, 200) << quote.body;
    const auto total = quote.body["total_fen"].get<std::int64_t>();
    json tender = {{"method", method}, {"amount_fen", total}};
    if (method == "cash") tender["tendered_fen"] = total;
    const json body = {{"lines", body_lines}, {"tenders", {tender}}};
    const auto sold =
        api.call("POST", "/api/v1/pos/sales", "cashier1", body.dump(), {{"idempotency-key", key}});
    EXPECT_EQ(sold.status, 201) << sold.body;
    return sold.body;
  }

  ApiFixture::Reply get(const std::string& target, const std::string& as = "admin") {
    return api.call("GET", target, as);
  }

  /// The item of a report whose `field` is `value`.
  static json item(const json& report, const char* field, const json& value) {
    for (const auto& i : report["items"])
      if (i.contains(field) && i[field] == value) return i;
    ADD_FAILURE() << "no item with " << field << " = " << value.dump() << " in " << report.dump();
    return json::object();
  }

  /// A known day: counter sales in cash and WeChat, a counter refund, a cash-on-pickup order
  /// and an online refund (amounts in the comments).
  void make_known_day() {
    const auto a = api.station.village_a;  // 15 %
    const auto b = api.station.village_b;  // 12 %
    tea = product("RT1", 1000, a, 1);
    nuts = product("RN1", 500, a, 3);
    fish = product("RF1", 2000, b, 2);
    idle = product("RI1", 300, a, 1);
    receive(a, tea, 20);
    receive(a, nuts, 20);
    receive(b, fish, 20);
    receive(a, idle, 5, day(3));
    const auto shift = api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                                     {{"register", "柜台1"}, {"float_fen", 0}});
    ASSERT_EQ(shift.status, 201) << shift.body;
    // Sale 1, cash 4000: tea ×2 (A 2000: fee 300, share 1700), fish ×1 (B 2000: 240, 1760).
    const auto sale = sell({{tea, 2}, {fish, 1}}, "cash", "k-1");
    // Sale 2, WeChat 1500: nuts ×3 (A: fee 225, share 1275).
    sell({{nuts, 3}}, "wechat", "k-2");
    // Refund of one tea from sale 1 in cash, back on the shelf: −1000 (fee 150, share 850).
    json refund_line = {{"line_id", sale["lines"][0]["id"]}, {"quantity", 1}, {"restock", true}};
    const auto refund = api.call(
        "POST", "/api/v1/pos/refunds", "cashier1",
        json({{"sale_id", sale["id"]}, {"lines", {refund_line}}, {"method", "cash"}}).dump(),
        {{"idempotency-key", "k-r1"}});
    ASSERT_EQ(refund.status, 201) << refund.body;
    // An order paid in cash at pickup: tea ×1 + nuts ×2 = 2000 (A: fee 300, share 1700).
    const auto placed = api.call(
        "POST", "/api/v1/orders", "",
        json({{"lines",
               {{{"product_id", tea}, {"quantity", 1}}, {{"product_id", nuts}, {"quantity", 2}}}},
              {"fulfilment", "pickup"},
              {"contact", {{"name", "陈女士"}, {"phone", "13800001234"}}},
              {"payment", "cash_on_pickup"}})
            .dump(),
        {{"idempotency-key", "k-order"}});
    ASSERT_EQ(placed.status, 201) << placed.body;
    const std::string number = placed.body["number"];
    const auto code =
        get("/api/v1/orders/" + number, "cashier1").body["pickup_code"].get<std::string>();
    for (const auto& step : {json{{"to", "picking"}}, json{{"to", "ready"}},
                             json{{"to", "completed"}, {"pickup_code", code}}}) {
      const auto moved =
          api.call("POST", "/api/v1/orders/" + number + "/transition", "cashier1", step.dump());
      ASSERT_EQ(moved.status, 200) << moved.body;
    }
    // One of the nuts comes back, refunded in cash: −500 (fee 75, share 425).
    const auto online_refund =
        api.call("POST", "/api/v1/orders/" + number + "/refunds", "cashier1",
                 json({{"lines", {{{"line_no", 2}, {"quantity", 1}, {"returned", true}}}}}).dump(),
                 {{"idempotency-key", "k-r2"}});
    ASSERT_EQ(online_refund.status, 201) << online_refund.body;
  }

  ApiFixture api;
  service::StockService stock{api.station.database};
  service::CounterService counter{api.station.database, service::CounterSettings{}};
  service::OrderService orders{api.station.database, service::OrderSettings{}, {}};
  service::VillageReportService village_reports{api.station.database};
  service::ReportService reports{api.station.database};
  std::int64_t tea = 0, nuts = 0, fish = 0, idle = 0;
};

}  // namespace

TEST_F(ReportsTest, KnownSalesAndRefundsGiveExactFiguresByVillageChannelAndDay) {
  make_known_day();
  const auto a = api.station.village_a;
  const auto b = api.station.village_b;
  const auto today = day(0);

  const auto by_village = get("/api/v1/reports/sales?group=village&from=" + today + "&to=" + today);
  ASSERT_EQ(by_village.status, 200) << by_village.body;
  const auto& r = by_village.body;
  EXPECT_EQ(r["gross_fen"], 6000);
  EXPECT_EQ(r["fee_fen"], 840);
  EXPECT_EQ(r["share_fen"], 5160);
  EXPECT_EQ(r["refund_fen"], 1500);
  EXPECT_EQ(r["sales_count"], 3) << "two counter sales and one order; refunds are not sales";
  EXPECT_EQ(r["refund_count"], 2);
  EXPECT_EQ(r["channels"]["counter"]["gross_fen"], 4500);
  EXPECT_EQ(r["channels"]["online"]["gross_fen"], 1500);
  const auto va = item(r, "id", a);
  EXPECT_EQ(va["gross_fen"], 4000);
  EXPECT_EQ(va["fee_fen"], 600);
  EXPECT_EQ(va["share_fen"], 3400);
  EXPECT_EQ(va["refund_fen"], 1500);
  EXPECT_EQ(va["pieces"], 6);
  EXPECT_EQ(va["sales_count"], 3);
  EXPECT_EQ(va["effective_bps"], 1500);
  EXPECT_EQ(va["name"], "甲村");
  const auto vb = item(r, "id", b);
  EXPECT_EQ(vb["gross_fen"], 2000);
  EXPECT_EQ(vb["fee_fen"], 240);
  EXPECT_EQ(vb["share_fen"], 1760);
  EXPECT_EQ(vb["sales_count"], 1);
  EXPECT_EQ(vb["effective_bps"], 1200);

  // The village portal counts the same day the same way.
  const auto portal = get("/api/v1/villages/" + std::to_string(a) + "/summary");
  ASSERT_EQ(portal.status, 200) << portal.body;
  EXPECT_EQ(portal.body["today"]["share_fen"], va["share_fen"]);
  EXPECT_EQ(portal.body["today"]["gross_fen"], va["gross_fen"]);
  EXPECT_EQ(portal.body["balance_fen"], va["share_fen"]) << "and the payable owes exactly that";

  const auto by_product = get("/api/v1/reports/sales?group=product&from=" + today);
  ASSERT_EQ(by_product.status, 200) << by_product.body;
  EXPECT_EQ(by_product.body["items"].size(), 3u) << "the idle product sold nothing";
  EXPECT_EQ(item(by_product.body, "id", tea)["gross_fen"], 2000);
  EXPECT_EQ(item(by_product.body, "id", tea)["quantity"], 2) << "2 − 1 refunded + 1 online";
  EXPECT_EQ(item(by_product.body, "id", nuts)["gross_fen"], 2000);
  EXPECT_EQ(item(by_product.body, "id", nuts)["quantity"], 4);
  EXPECT_EQ(item(by_product.body, "id", fish)["gross_fen"], 2000);
  EXPECT_EQ(item(by_product.body, "id", fish)["village_id"], b);

  const auto by_category = get("/api/v1/reports/sales?group=category&from=" + today);
  ASSERT_EQ(by_category.status, 200);
  EXPECT_EQ(item(by_category.body, "id", 1)["gross_fen"], 2000);
  EXPECT_EQ(item(by_category.body, "id", 2)["gross_fen"], 2000);
  EXPECT_EQ(item(by_category.body, "id", 3)["gross_fen"], 2000);
  EXPECT_EQ(item(by_category.body, "id", 4)["gross_fen"], 0) << "every category, zeros included";

  const auto by_channel = get("/api/v1/reports/sales?group=channel&from=" + today);
  ASSERT_EQ(by_channel.status, 200);
  EXPECT_EQ(item(by_channel.body, "key", "counter")["gross_fen"], 4500);
  EXPECT_EQ(item(by_channel.body, "key", "counter")["fee_fen"], 615);
  EXPECT_EQ(item(by_channel.body, "key", "counter")["sales_count"], 2);
  EXPECT_EQ(item(by_channel.body, "key", "online")["gross_fen"], 1500);
  EXPECT_EQ(item(by_channel.body, "key", "online")["fee_fen"], 225);
  EXPECT_EQ(item(by_channel.body, "key", "online")["refund_count"], 1);

  const auto by_method = get("/api/v1/reports/sales?group=method&from=" + today);
  ASSERT_EQ(by_method.status, 200) << by_method.body;
  EXPECT_EQ(item(by_method.body, "key", "cash")["gross_fen"], 4500)
      << "4000 − 1000 at the counter, 2000 − 500 at pickup";
  EXPECT_EQ(item(by_method.body, "key", "cash")["refund_fen"], 1500);
  EXPECT_EQ(item(by_method.body, "key", "wechat")["gross_fen"], 1500);
  EXPECT_EQ(by_method.body["gross_fen"], 6000) << "the methods add up to the sales";

  const auto by_day = get("/api/v1/reports/sales?group=day&from=" + day(-2) + "&to=" + today);
  ASSERT_EQ(by_day.status, 200);
  ASSERT_EQ(by_day.body["items"].size(), 3u) << "every day, zeros included";
  EXPECT_EQ(by_day.body["items"][0]["key"], day(-2));
  EXPECT_EQ(by_day.body["items"][0]["gross_fen"], 0);
  EXPECT_EQ(by_day.body["items"][2]["gross_fen"], 6000);
  EXPECT_EQ(by_day.body["items"][2]["sales_count"], 3);

  const auto by_month = get("/api/v1/reports/sales?group=month&from=" + today + "&to=" + today);
  ASSERT_EQ(by_month.body["items"].size(), 1u);
  EXPECT_EQ(by_month.body["items"][0]["key"], today.substr(0, 7));
  EXPECT_EQ(by_month.body["items"][0]["share_fen"], 5160);

  const auto commission = get("/api/v1/reports/commission?from=" + today);
  ASSERT_EQ(commission.status, 200) << commission.body;
  EXPECT_EQ(commission.body["group"], "village");
  EXPECT_EQ(commission.body["fee_fen"], 840);
  EXPECT_EQ(item(commission.body, "id", a)["fee_fen"], 600);
  EXPECT_EQ(commission.body["effective_bps"], 1400);

  const auto top = get("/api/v1/reports/top-sellers?limit=2&from=" + today);
  ASSERT_EQ(top.status, 200) << top.body;
  EXPECT_EQ(top.body["items"].size(), 2u);
  EXPECT_EQ(top.body["items"][0]["gross_fen"], 2000);
}

TEST_F(ReportsTest, StockValueSlowMoversAndExpiringLots) {
  make_known_day();
  const auto value = get("/api/v1/reports/stock-value");
  ASSERT_EQ(value.status, 200) << value.body;
  // A: tea 18 × 10.00 + nuts 16 × 5.00 + idle 5 × 3.00; B: fish 19 × 20.00.
  EXPECT_EQ(item(value.body, "village_id", api.station.village_a)["value_fen"], 27500);
  EXPECT_EQ(item(value.body, "village_id", api.station.village_a)["pieces"], 39);
  EXPECT_EQ(item(value.body, "village_id", api.station.village_b)["value_fen"], 38000);
  EXPECT_EQ(value.body["value_fen"], 65500);

  const auto slow = get("/api/v1/reports/slow-movers?from=" + day(-29));
  ASSERT_EQ(slow.status, 200) << slow.body;
  ASSERT_EQ(slow.body["items"].size(), 4u);
  EXPECT_EQ(slow.body["items"][0]["product_id"], idle) << "nothing sold: first";
  EXPECT_TRUE(slow.body["items"][0]["days_of_cover"].is_null());
  const auto fish_row = item(slow.body, "product_id", fish);
  EXPECT_EQ(fish_row["sold"], 1);
  EXPECT_EQ(fish_row["days_of_cover"], 19 * 30) << "19 on hand at one per 30 days";

  const auto expiring = get("/api/v1/reports/expiring");
  ASSERT_EQ(expiring.status, 200) << expiring.body;
  ASSERT_EQ(expiring.body["items"].size(), 1u);
  EXPECT_EQ(expiring.body["items"][0]["product_id"], idle);
  EXPECT_EQ(expiring.body["items"][0]["days_left"], 3);
  EXPECT_EQ(expiring.body["items"][0]["value_fen"], 1500);
  EXPECT_EQ(get("/api/v1/reports/expiring?days=2").body["items"].size(), 0u);
}

TEST_F(ReportsTest, CsvHasABomYuanWithTwoDecimalsAndOneRowPerGroupThenTheTotal) {
  make_known_day();
  const auto reply = get("/api/v1/reports/sales?group=village&format=csv&from=" + day(0));
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.raw.content_type, "text/csv; charset=utf-8");
  const std::string body(reply.raw.payload());
  ASSERT_EQ(body.rfind("\xEF\xBB\xBF", 0), 0u) << "starts with the BOM";
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(body.substr(3));
  for (std::string line; std::getline(lines, line);) {
    ASSERT_FALSE(line.empty());
    ASSERT_EQ(line.back(), '\r') << "CRLF rows";
    line.pop_back();
    std::vector<std::string> fields;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');)
      fields.push_back(cell);
    rows.push_back(fields);
  }
  ASSERT_EQ(rows.size(), 4u) << "header, two villages, total";
  EXPECT_EQ(rows[0][0], "村 Village");
  EXPECT_EQ(rows[0][2], "销售额(元) Gross (yuan)");
  for (const auto& row : rows)
    EXPECT_EQ(row.size(), rows[0].size());
  EXPECT_EQ(rows[1][0], "甲村 Village A");
  EXPECT_EQ(rows[1][2], "40.00");
  EXPECT_EQ(rows[1][4], "6.00");
  EXPECT_EQ(rows[1][6], "15.00%");
  EXPECT_EQ(rows[3][0], "合计 Total");
  EXPECT_EQ(rows[3][2], "60.00");
  EXPECT_EQ(rows[3][5], "51.60");
  bool disposition = false;
  for (const auto& [name, value] : reply.raw.headers)
    if (name == "Content-Disposition")
      disposition = value.find("attachment; filename=\"sales-village-") == 0;
  EXPECT_TRUE(disposition);
  for (const std::string path :
       {"stock-value", "slow-movers", "expiring", "commission", "top-sellers"}) {
    const auto csv = get("/api/v1/reports/" + path + "?format=csv");
    EXPECT_EQ(csv.status, 200) << path;
    EXPECT_EQ(std::string(csv.raw.payload()).rfind("\xEF\xBB\xBF", 0), 0u) << path;
  }
}

TEST_F(ReportsTest, OnlyAdminsReadReports) {
  for (const std::string path :
       {"sales", "top-sellers", "commission", "stock-value", "slow-movers", "expiring"}) {
    const auto target = "/api/v1/reports/" + path;
    EXPECT_EQ(get(target, "admin").status, 200) << path;
    EXPECT_EQ(get(target, "cashier1").status, 403) << path;
    EXPECT_EQ(get(target, "village1").status, 403) << path;
    EXPECT_EQ(get(target, "").status, 401) << path;
    EXPECT_EQ(get(target + "?format=csv", "village1").status, 403) << path;
  }
}

TEST_F(ReportsTest, BadParametersAre422NamingTheField) {
  const std::vector<std::pair<std::string, std::string>> cases{
      {"sales?from=2026-13-01", "from"},
      {"sales?from=yesterday", "from"},
      {"sales?to=2026-02-30", "to"},
      {"sales?from=" + day(0) + "&to=" + day(-1), "from"},
      {"sales?from=" + day(-400) + "&to=" + day(0), "to"},
      {"sales?group=week", "group"},
      {"sales?format=xlsx", "format"},
      {"commission?group=method", "group"},
      {"top-sellers?limit=0", "limit"},
      {"top-sellers?limit=101", "limit"},
      {"top-sellers?limit=ten", "limit"},
      {"top-sellers?group=village", "group"},
      {"slow-movers?limit=-1", "limit"},
      {"slow-movers?to=tomorrow", "to"},
      {"expiring?days=366", "days"},
      {"expiring?days=-1", "days"},
      {"stock-value?format=pdf", "format"},
  };
  for (const auto& [query, field] : cases) {
    const auto reply = get("/api/v1/reports/" + query);
    EXPECT_EQ(reply.status, 422) << query << ": " << reply.body;
    EXPECT_EQ(reply.body["error"]["code"], "invalid") << query;
    EXPECT_EQ(reply.body["error"]["details"]["field"], field) << query;
  }
  EXPECT_EQ(get("/api/v1/reports/sales?from=" + day(-399) + "&to=" + day(0)).status, 200)
      << "400 days is the longest period";
  EXPECT_EQ(get("/api/v1/reports/expiring?days=0").status, 200);
}

using test_support::scalar;

TEST_F(ReportsTest, SeedHistoryKeepsTheBooksConsistentAndRefusesToRunTwice) {
  const auto a = api.station.village_a;
  const auto b = api.station.village_b;
  product("HT1", 1680, a, 1);
  product("HS1", 3200, b, 2);
  product("HG1", 1880, a, 7);
  // A weighed product (price per kg).
  const auto weighed = api.call_json("POST", "/api/v1/products", "admin",
                                     {{"sku", "HW1"},
                                      {"name", "称重茶"},
                                      {"village_id", a},
                                      {"category_id", 1},
                                      {"unit", "g"},
                                      {"price_fen", 36000},
                                      {"shelf_life_days", 200}});
  ASSERT_EQ(weighed.status, 201) << weighed.body;

  service::HistoryOptions options;
  options.days = 10;
  options.scale = 0.05;
  const auto report = service::seed_history(api.station.database, options);
  EXPECT_EQ(report.to, day(-1));
  EXPECT_EQ(report.from, day(-10));
  EXPECT_GT(report.sales, 0);
  EXPECT_GT(report.orders, 0);

  service::Checker checker(api.station.database);
  service::add_stock_checks(checker);
  service::add_journal_checks(checker);
  for (const auto& result : checker.run()) {
    EXPECT_TRUE(result.problems.empty()) << result.name << ": " << result.problems.front();
  }
  EXPECT_EQ(scalar(api.station.database, "SELECT COUNT(*) FROM sales"), report.sales);

  // The reports over the history owe the villages exactly what their payables hold.
  const auto sales =
      get("/api/v1/reports/sales?group=village&from=" + report.from + "&to=" + report.to);
  ASSERT_EQ(sales.status, 200) << sales.body;
  EXPECT_EQ(sales.body["sales_count"], report.sales + report.orders);
  for (const auto village : {a, b}) {
    const auto balance = get("/api/v1/villages/" + std::to_string(village) + "/balance");
    EXPECT_EQ(item(sales.body, "id", village)["share_fen"], balance.body["balance_fen"]);
  }
  const auto by_method = get("/api/v1/reports/sales?group=method&from=" + report.from);
  std::int64_t methods = 0;
  for (const auto& i : by_method.body["items"])
    methods += i["gross_fen"].get<std::int64_t>();
  EXPECT_EQ(methods, sales.body["gross_fen"].get<std::int64_t>());

  // Closed days are read from their sums (sql/016). A day whose fingerprint no longer matches
  // (here: a stale cache, as after an offline sale rung up on that day) is summed again.
  const auto village_query =
      "/api/v1/reports/sales?group=village&from=" + report.from + "&to=" + report.to;
  EXPECT_EQ(scalar(api.station.database, "SELECT COUNT(*) FROM report_days"), options.days);
  api.station.database.transact([&](store::UnitOfWork& unit) {
    std::unique_ptr<sql::Statement> statement(unit.connection().createStatement());
    statement->execute("UPDATE report_day_lines SET gross_fen = gross_fen + 1000000");
    statement->execute("UPDATE report_days SET fingerprint = 'stale'");
  });
  EXPECT_EQ(get(village_query).body, sales.body) << "every stale day summed again";
  api.station.database.transact([&](store::UnitOfWork& unit) {
    std::unique_ptr<sql::Statement> statement(unit.connection().createStatement());
    statement->execute("DELETE FROM report_days");
  });
  EXPECT_EQ(get(village_query).body, sales.body) << "the sums are a cache";

  // Twice over the same days: refused, nothing written.
  try {
    service::seed_history(api.station.database, options);
    ADD_FAILURE() << "a second run was not refused";
  } catch (const domain::Error& error) {
    EXPECT_EQ(error.code(), domain::ErrorCode::conflict);
  }
  EXPECT_EQ(scalar(api.station.database, "SELECT COUNT(*) FROM sales"), report.sales);

  // Bad options name their field.
  options.days = 0;
  try {
    service::seed_history(api.station.database, options);
    ADD_FAILURE() << "days 0 was accepted";
  } catch (const domain::Error& error) {
    EXPECT_EQ(error.details().at("field"), "days");
  }
}

TEST(SeedHistory, TheSameSeedGivesTheSameHistory) {
  std::vector<std::int64_t> figures;
  for (int run = 0; run < 2; ++run) {
    test_support::Station station;
    station.database.transact([&](store::UnitOfWork& unit) {
      std::unique_ptr<sql::Statement> statement(unit.connection().createStatement());
      statement->execute(
          "INSERT INTO products (sku, name, description, origin, village_id, category_id, unit, "
          "price_fen) VALUES ('S1', '茶', '', '', " +
          std::to_string(station.village_a) + ", 1, 'piece', 1234), ('S2', '虾', '', '', " +
          std::to_string(station.village_b) + ", 2, 'g', 32000)");
      statement->execute("INSERT INTO stock_levels (product_id) SELECT id FROM products");
    });
    service::HistoryOptions options;
    options.days = 5;
    options.scale = 0.05;
    options.today = std::chrono::year_month_day{std::chrono::year{2026}, std::chrono::month{2},
                                                std::chrono::day{10}};  // in the festival rush
    const auto report = service::seed_history(station.database, options);
    figures.push_back(report.sales);
    figures.push_back(scalar(station.database, "SELECT SUM(gross_fen) FROM sale_lines"));
    figures.push_back(scalar(station.database, "SELECT SUM(total_fen) FROM orders"));
  }
  EXPECT_EQ(figures[0], figures[3]);
  EXPECT_EQ(figures[1], figures[4]);
  EXPECT_EQ(figures[2], figures[5]);
  EXPECT_GT(figures[0], 20) << "the days before Spring Festival are busy even at 5 %";
}
