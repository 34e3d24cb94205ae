// The village portal's figures on the real MariaDB: a counter sale shows in today's summary with
// its frozen share to the fen, a refund takes exactly its parts back, a paid pickup order counts
// online, another village's sales never appear, a village account reads only itself, and bad
// query parameters are 422 naming the field.
#include <gtest/gtest.h>

#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <atomic>
#include <thread>

#include "support/api_client.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/orders.hpp"
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

class VillageReportsTest : public ::testing::Test {
 protected:
  VillageReportsTest() {
    api.router = api::build_router({api.health, api.station.accounts, api.audit, api.catalog,
                                    &counter, &stock, &orders, nullptr, &reports});
  }

  std::int64_t product(const std::string& sku, std::int64_t price_fen, std::int64_t village_id,
                       json extra = json::object()) {
    json body = {{"sku", sku},       {"name", "商品 " + sku}, {"village_id", village_id},
                 {"category_id", 3}, {"unit", "piece"},       {"price_fen", price_fen}};
    body.update(extra);
    const auto created = api.call_json("POST", "/api/v1/products", "admin", body);
    EXPECT_EQ(created.status, 201) << created.body;
    return created.body["id"].get<std::int64_t>();
  }

  void receive(std::int64_t village_id, std::int64_t product_id, std::int64_t quantity,
               const std::string& lot, std::optional<std::string> expires_on = std::nullopt) {
    json line = {{"product_id", product_id}, {"quantity", quantity}, {"lot", lot}};
    if (expires_on) line["expires_on"] = *expires_on;
    const auto reply = api.call_json("POST", "/api/v1/stock/receipts", "admin",
                                     {{"village_id", village_id}, {"lines", {line}}});
    ASSERT_EQ(reply.status, 201) << reply.body;
  }

  void open_shift(const std::string& as = "cashier1", const std::string& register_name = "柜台1") {
    const auto reply = api.call_json("POST", "/api/v1/pos/shifts", as,
                                     {{"register", register_name}, {"float_fen", 0}});
    ASSERT_EQ(reply.status, 201) << reply.body;
  }

  /// A cash sale of (product, quantity) lines, paid exactly; the sale as answered.
  json sell(const std::vector<std::pair<std::int64_t, std::int64_t>>& lines, const std::string& key,
            std::int64_t discount_fen = 0, const std::string& as = "cashier1") {
    json body_lines = json::array();
    for (const auto& [product_id, quantity] : lines)
      body_lines.push_back({{"product_id", product_id}, {"quantity", quantity}});
    const auto quote = api.call_json("POST", "/api/v1/pos/quote", as,
                                     {{"lines", body_lines}, {"discount_fen", discount_fen}});
    EXPECT_EQ(quote.status, 200) << quote.body;
    const auto total = quote.body["total_fen"].get<std::int64_t>();
    json body = {
        {"lines", body_lines},
        {"discount_fen", discount_fen},
        {"tenders", {{{"method", "cash"}, {"amount_fen", total}, {"tendered_fen", total}}}}};
    const auto sold =
        api.call("POST", "/api/v1/pos/sales", as, body.dump(), {{"idempotency-key", key}});
    EXPECT_EQ(sold.status, 201) << sold.body;
    return sold.body;
  }

  /// Sum of a field over a sale's lines of one village.
  static std::int64_t lines_sum(const json& sale, std::int64_t village_id, const char* field) {
    std::int64_t sum = 0;
    for (const auto& line : sale["lines"])
      if (line["village_id"] == village_id) sum += line[field].get<std::int64_t>();
    return sum;
  }

  ApiFixture::Reply get(const std::string& target, const std::string& as) {
    return api.call("GET", target, as);
  }

  std::string base(std::int64_t village_id) {
    return "/api/v1/villages/" + std::to_string(village_id);
  }

  ApiFixture api;
  service::StockService stock{api.station.database};
  service::CounterService counter{api.station.database, service::CounterSettings{}};
  service::OrderService orders{api.station.database, service::OrderSettings{}, {}};
  service::VillageReportService reports{api.station.database};
};

}  // namespace

TEST_F(VillageReportsTest, ACounterSaleShowsInTodaysSummaryWithItsFrozenShareToTheFen) {
  const auto a = api.station.village_a;
  const auto b = api.station.village_b;
  const auto tea = product("VA1", 1999, a);
  const auto nuts = product("VA2", 333, a, {{"commission_bps", 1234}});
  const auto fish = product("VB1", 2500, b);
  receive(a, tea, 20, "T1");
  receive(a, nuts, 20, "N1");
  receive(b, fish, 20, "F1");
  open_shift();
  // One sale mixing both villages, with a sale discount spread over its lines.
  const auto sale = sell({{tea, 3}, {nuts, 7}, {fish, 2}}, "k-mixed", 101);
  const auto gross = lines_sum(sale, a, "gross_fen");
  const auto fee = lines_sum(sale, a, "fee_fen");
  const auto share = lines_sum(sale, a, "share_fen");
  ASSERT_GT(share, 0);
  ASSERT_EQ(fee + share, gross);

  const auto summary = get(base(a) + "/summary", "village1");
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_EQ(summary.body["business_day"], day(0));
  const auto& today = summary.body["today"];
  EXPECT_EQ(today["gross_fen"], gross);
  EXPECT_EQ(today["fee_fen"], fee);
  EXPECT_EQ(today["share_fen"], share);
  EXPECT_EQ(today["pieces"], 10) << "3 tea + 7 nuts; the other village's fish is not ours";
  EXPECT_EQ(today["sales_count"], 1);
  EXPECT_EQ(today["refund_fen"], 0);
  EXPECT_EQ(today["channels"]["counter"]["share_fen"], share);
  EXPECT_EQ(today["channels"]["online"]["share_fen"], 0);
  EXPECT_EQ(summary.body["month"]["share_fen"], share);
  EXPECT_EQ(summary.body["month"]["from"], day(0).substr(0, 8) + "01");
  EXPECT_EQ(summary.body["balance_fen"], share) << "the payable account owes exactly the share";

  // Village B sees only its fish, and its own share (12%).
  const auto other = get(base(b) + "/summary", "village2");
  ASSERT_EQ(other.status, 200) << other.body;
  EXPECT_EQ(other.body["today"]["gross_fen"], lines_sum(sale, b, "gross_fen"));
  EXPECT_EQ(other.body["today"]["share_fen"], lines_sum(sale, b, "share_fen"));
  EXPECT_EQ(other.body["today"]["pieces"], 2);
  EXPECT_EQ(other.body["balance_fen"], lines_sum(sale, b, "share_fen"));

  const auto balance = get(base(a) + "/balance", "village1");
  ASSERT_EQ(balance.status, 200);
  EXPECT_EQ(balance.body["balance_fen"], share);
}

TEST_F(VillageReportsTest, ARefundReducesTheDayByExactlyTheSharesItGaveBack) {
  const auto a = api.station.village_a;
  const auto tea = product("VR1", 1001, a);
  receive(a, tea, 20, "T1");
  open_shift();
  const auto sale = sell({{tea, 5}}, "k-sale", 7);
  const auto share = lines_sum(sale, a, "share_fen");
  const auto refund = api.call(
      "POST", "/api/v1/pos/refunds", "cashier1",
      json({{"sale_id", sale["id"]},
            {"lines", {{{"line_id", sale["lines"][0]["id"]}, {"quantity", 2}, {"restock", true}}}},
            {"method", "cash"}})
          .dump(),
      {{"idempotency-key", "k-refund"}});
  ASSERT_EQ(refund.status, 201) << refund.body;
  const auto refunded_share = refund.body["lines"][0]["share_fen"].get<std::int64_t>();
  const auto refunded_gross = refund.body["lines"][0]["gross_fen"].get<std::int64_t>();
  ASSERT_GT(refunded_share, 0);

  const auto summary = get(base(a) + "/summary", "village1");
  ASSERT_EQ(summary.status, 200);
  const auto& today = summary.body["today"];
  EXPECT_EQ(today["share_fen"], share - refunded_share);
  EXPECT_EQ(today["gross_fen"], lines_sum(sale, a, "gross_fen") - refunded_gross);
  EXPECT_EQ(today["refund_fen"], refunded_gross);
  EXPECT_EQ(today["refund_share_fen"], refunded_share);
  EXPECT_EQ(today["pieces"], 3);
  EXPECT_EQ(today["sales_count"], 1) << "a refund is not a sale";
  EXPECT_EQ(summary.body["balance_fen"], share - refunded_share);

  const auto by_day =
      get(base(a) + "/revenue?group=day&from=" + day(-2) + "&to=" + day(0), "village1");
  ASSERT_EQ(by_day.status, 200) << by_day.body;
  ASSERT_EQ(by_day.body["items"].size(), 3u) << "every day of the period, zeros included";
  EXPECT_EQ(by_day.body["items"][0]["day"], day(-2));
  EXPECT_EQ(by_day.body["items"][0]["share_fen"], 0);
  EXPECT_EQ(by_day.body["items"][2]["day"], day(0));
  EXPECT_EQ(by_day.body["items"][2]["share_fen"], share - refunded_share);
  EXPECT_EQ(by_day.body["share_fen"], share - refunded_share);

  const auto by_product = get(base(a) + "/revenue?group=product", "village1");
  ASSERT_EQ(by_product.status, 200) << by_product.body;
  ASSERT_EQ(by_product.body["items"].size(), 1u);
  EXPECT_EQ(by_product.body["items"][0]["product_id"], tea);
  EXPECT_EQ(by_product.body["items"][0]["name"], "商品 VR1");
  EXPECT_EQ(by_product.body["items"][0]["quantity"], 3);
  EXPECT_EQ(by_product.body["items"][0]["share_fen"], share - refunded_share);
}

TEST_F(VillageReportsTest, APaidPickupOrderCountsOnlineFromTheDayItWasPaid) {
  const auto a = api.station.village_a;
  const auto tea = product("VO1", 1200, a);
  receive(a, tea, 10, "T1");
  const auto placed = api.call("POST", "/api/v1/orders", "",
                               json({{"lines", {{{"product_id", tea}, {"quantity", 2}}}},
                                     {"fulfilment", "pickup"},
                                     {"contact", {{"name", "陈女士"}, {"phone", "13800001234"}}},
                                     {"payment", "cash_on_pickup"}})
                                   .dump(),
                               {{"idempotency-key", "k-order"}});
  ASSERT_EQ(placed.status, 201) << placed.body;
  EXPECT_EQ(get(base(a) + "/summary", "village1").body["today"]["gross_fen"], 0)
      << "an unpaid order is not yet a sale";
  const std::string number = placed.body["number"];
  const auto code =
      get("/api/v1/orders/" + number, "cashier1").body["pickup_code"].get<std::string>();
  open_shift();
  for (const auto& step : {json{{"to", "picking"}}, json{{"to", "ready"}},
                           json{{"to", "completed"}, {"pickup_code", code}}}) {
    const auto moved =
        api.call("POST", "/api/v1/orders/" + number + "/transition", "cashier1", step.dump());
    ASSERT_EQ(moved.status, 200) << moved.body;
  }
  const auto summary = get(base(a) + "/summary", "village1");
  ASSERT_EQ(summary.status, 200);
  const auto& online = summary.body["today"]["channels"]["online"];
  EXPECT_EQ(online["gross_fen"], 2400);
  EXPECT_EQ(online["fee_fen"], 360) << "15% of 2400";
  EXPECT_EQ(online["share_fen"], 2040);
  EXPECT_EQ(online["sales_count"], 1);
  EXPECT_EQ(summary.body["today"]["share_fen"], 2040);
  EXPECT_EQ(summary.body["balance_fen"], 2040);
}

TEST_F(VillageReportsTest, AVillageAccountReadsOnlyItsOwnVillage) {
  const auto a = api.station.village_a;
  const auto b = api.station.village_b;
  const auto fish = product("VX1", 2500, b);
  receive(b, fish, 5, "F1");
  open_shift();
  sell({{fish, 1}}, "k-fish");
  for (const std::string path :
       {"/summary", "/revenue", "/revenue?group=product", "/balance", "/stock"}) {
    const auto refused = get(base(b) + path, "village1");
    EXPECT_EQ(refused.status, 403) << path << ": " << refused.body;
    EXPECT_EQ(refused.body.dump().find("share"), std::string::npos) << "no figures";
    EXPECT_EQ(refused.body.dump().find("VX1"), std::string::npos);
    EXPECT_EQ(get(base(a) + path, "cashier1").status, 403) << path;
    EXPECT_EQ(get(base(a) + path, "").status, 401) << path;
    EXPECT_EQ(get(base(a) + path, "village1").status, 200) << path;
    EXPECT_EQ(get(base(b) + path, "admin").status, 200) << path;
    EXPECT_EQ(get("/api/v1/villages/999999" + path, "admin").status, 404) << path;
    EXPECT_EQ(get("/api/v1/villages/999999" + path, "village1").status, 403) << path;
  }
  // Village A sold nothing: none of B's sale leaks into its figures.
  const auto mine = get(base(a) + "/revenue?group=product", "village1");
  EXPECT_EQ(mine.body["items"].size(), 0u);
  EXPECT_EQ(mine.body["gross_fen"], 0);
}

TEST_F(VillageReportsTest, BadQueryParametersAre422NamingTheField) {
  const auto a = api.station.village_a;
  const std::vector<std::pair<std::string, std::string>> cases{
      {"/revenue?from=2026-13-01", "from"},
      {"/revenue?from=yesterday", "from"},
      {"/revenue?to=2026-02-30", "to"},
      {"/revenue?from=" + day(0) + "&to=" + day(-1), "from"},
      {"/revenue?from=" + day(-400) + "&to=" + day(0), "to"},
      {"/revenue?group=week", "group"},
      {"/stock?expiring_days=-1", "expiring_days"},
      {"/stock?expiring_days=366", "expiring_days"},
      {"/stock?expiring_days=soon", "expiring_days"},
  };
  for (const auto& [query, field] : cases) {
    const auto reply = get(base(a) + query, "village1");
    EXPECT_EQ(reply.status, 422) << query << ": " << reply.body;
    EXPECT_EQ(reply.body["error"]["code"], "invalid") << query;
    EXPECT_EQ(reply.body["error"]["details"]["field"], field) << query;
  }
  EXPECT_EQ(get(base(a) + "/revenue?from=" + day(-365) + "&to=" + day(0), "village1").status, 200)
      << "366 days is the longest period";
  EXPECT_EQ(get("/api/v1/villages/abc/summary", "admin").status, 404);
}

TEST_F(VillageReportsTest, StockShowsTheShelfLowFlagsAndLotsNearExpiry) {
  const auto a = api.station.village_a;
  const auto tea = product("VS1", 1000, a, {{"low_stock", 5}});
  const auto nuts = product("VS2", 500, a);
  const auto fish = product("VS3", 500, api.station.village_b);
  receive(a, tea, 6, "T-soon", day(3));
  receive(a, nuts, 50, "N-later", day(60));
  receive(api.station.village_b, fish, 5, "F-soon", day(1));
  open_shift();
  sell({{tea, 2}}, "k-tea");

  const auto stock_reply = get(base(a) + "/stock", "village1");
  ASSERT_EQ(stock_reply.status, 200) << stock_reply.body;
  const auto& items = stock_reply.body["items"];
  ASSERT_EQ(items.size(), 2u) << "only the village's own products";
  EXPECT_EQ(items[0]["product_id"], tea);
  EXPECT_EQ(items[0]["on_hand"], 4);
  EXPECT_EQ(items[0]["available"], 4);
  EXPECT_EQ(items[0]["low"], true);
  EXPECT_EQ(items[0]["next_expiry"], day(3));
  EXPECT_EQ(items[1]["low"], false);
  const auto& expiring = stock_reply.body["expiring"];
  ASSERT_EQ(expiring.size(), 1u) << "30 days by default: the nuts expire in 60";
  EXPECT_EQ(expiring[0]["lot"], "T-soon");
  EXPECT_EQ(expiring[0]["remaining"], 4);
  EXPECT_EQ(expiring[0]["days_left"], 3);

  EXPECT_EQ(get(base(a) + "/stock?expiring_days=2", "village1").body["expiring"].size(), 0u);
  EXPECT_EQ(get(base(a) + "/stock?expiring_days=60", "village1").body["expiring"].size(), 2u);
}

TEST_F(VillageReportsTest, FiguresReadWhileSalesRaceAddUpToEverySale) {
  const auto a = api.station.village_a;
  const auto tea = product("VC1", 777, a);
  receive(a, tea, 100, "T1");
  open_shift("cashier1", "柜台1");
  open_shift("admin", "柜台2");
  std::atomic<std::int64_t> share{0};
  std::atomic<bool> failed{false};
  auto seller = [&](const std::string& as, int n) {
    for (int i = 0; i < n; ++i) {
      const auto sale = sell({{tea, 1 + i % 3}}, as + "-k" + std::to_string(i), 0, as);
      if (!sale.contains("lines"))
        failed = true;
      else
        share += lines_sum(sale, a, "share_fen");
    }
  };
  std::atomic<bool> done{false};
  std::atomic<bool> read_failed{false};
  std::thread reader([&] {
    // Reads in between see every committed sale whole: the figures only ever grow.
    std::int64_t last_share = 0, last_balance = 0;
    while (!done) {
      const auto s = get(base(a) + "/summary", "village1");
      if (s.status != 200) {
        read_failed = true;
        break;
      }
      const auto now_share = s.body["today"]["share_fen"].get<std::int64_t>();
      const auto now_balance = s.body["balance_fen"].get<std::int64_t>();
      if (now_share < last_share || now_balance < last_balance) read_failed = true;
      last_share = now_share;
      last_balance = now_balance;
    }
  });
  std::thread one(seller, "cashier1", 6);
  std::thread two(seller, "admin", 6);
  one.join();
  two.join();
  done = true;
  reader.join();
  EXPECT_FALSE(failed) << "every sale went through";
  EXPECT_FALSE(read_failed) << "the figures only grew while sales were made";
  // A retried sale (same key) does not count twice.
  sell({{tea, 1}}, "cashier1-k0");
  const auto summary = get(base(a) + "/summary", "village1");
  EXPECT_EQ(summary.body["today"]["share_fen"], share.load());
  EXPECT_EQ(summary.body["today"]["sales_count"], 12);
  EXPECT_EQ(summary.body["balance_fen"], share.load());
}
