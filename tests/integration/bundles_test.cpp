// Gift boxes (礼盒, issue 10) on the real MariaDB through the API: defining a box (and every bad
// definition refused naming its field), its availability as the minimum over its components,
// selling boxes at the counter (each component's stock falls, each village's line carries its
// part, the journal balances), refunding them exactly, and online checkout reserving component
// stock without overselling; `yizhan check` after each.
#include <gtest/gtest.h>

#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <atomic>
#include <thread>

#include "support/api_client.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/check.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/orders.hpp"
#include "yizhan/service/stock.hpp"
#include "yizhan/store/database.hpp"

using namespace yizhan;
using nlohmann::json;
using test_support::ApiFixture;

namespace {

constexpr std::int64_t kGiftBoxes = 7;  // the gift-boxes category of sql/003

class BundlesTest : public ::testing::Test {
 protected:
  BundlesTest() {
    service::OrderSettings settings;
    settings.delivery = {domain::Fen(800), domain::Fen(9900), {"安海镇"}};
    settings.cash_on_pickup.open_per_phone = 0;  // many orders from one number here
    settings.cash_on_pickup.open_per_address = 0;
    orders = std::make_unique<service::OrderService>(
        api.station.database, settings, std::map<std::string, service::PaymentAccount>{});
    api.router = api::build_router(
        {api.health, api.station.accounts, api.audit, api.catalog, &counter, &stock, orders.get()});
  }

  std::int64_t product(const std::string& sku, std::int64_t village_id, std::int64_t price_fen,
                       json extra = json::object()) {
    json body = {{"sku", sku},       {"name", "商品 " + sku}, {"village_id", village_id},
                 {"category_id", 3}, {"unit", "piece"},       {"price_fen", price_fen}};
    body.update(extra);
    const auto created = api.call_json("POST", "/api/v1/products", "admin", body);
    EXPECT_EQ(created.status, 201) << created.body;
    return created.body.value("id", std::int64_t{0});
  }

  ApiFixture::Reply create_box(const json& components, json extra = json::object()) {
    json body = {{"sku", "BOX-" + std::to_string(++boxes_made)},
                 {"name", "春节礼盒"},
                 {"kind", "bundle"},
                 {"village_id", api.station.village_a},
                 {"category_id", kGiftBoxes},
                 {"unit", "piece"},
                 {"price_fen", 4500},
                 {"components", components}};
    body.update(extra);
    return api.call_json("POST", "/api/v1/products", "admin", body);
  }

  void receive(std::int64_t product_id, std::int64_t village_id, std::int64_t quantity) {
    const auto reply = api.call_json(
        "POST", "/api/v1/stock/receipts", "admin",
        {{"village_id", village_id},
         {"lines", {{{"product_id", product_id}, {"quantity", quantity}, {"lot", "L1"}}}}});
    ASSERT_EQ(reply.status, 201) << reply.body;
  }

  std::int64_t scalar(const std::string& query) {
    std::int64_t value = 0;
    api.station.database.with_connection([&](store::UnitOfWork& unit) {
      std::unique_ptr<sql::Statement> s(unit.connection().createStatement());
      if (!s->execute(query)) return;
      std::unique_ptr<sql::ResultSet> rows(s->getResultSet());
      if (rows->next()) value = rows->isNull(1) ? 0 : rows->getInt64(1);
    });
    return value;
  }

  std::int64_t on_hand(std::int64_t product_id) {
    return scalar("SELECT on_hand FROM stock_levels WHERE product_id = " +
                  std::to_string(product_id));
  }
  std::int64_t reserved(std::int64_t product_id) {
    return scalar("SELECT reserved FROM stock_levels WHERE product_id = " +
                  std::to_string(product_id));
  }
  std::int64_t payable(std::int64_t village_id) {
    return scalar(
        "SELECT COALESCE(SUM(p.amount_fen), 0) FROM postings p JOIN ledger_accounts a ON "
        "a.id = p.account_id WHERE a.code = 'village_payable:" +
        std::to_string(village_id) + "'");
  }

  std::int64_t available(std::int64_t product_id) {
    const auto reply =
        api.call("GET", "/api/v1/products/" + std::to_string(product_id) + "/availability");
    EXPECT_EQ(reply.status, 200) << reply.body;
    return reply.body.value("available", std::int64_t{-1});
  }

  std::string footprint() {
    std::string out;
    for (const char* table :
         {"products", "product_components", "sales", "sale_lines", "sale_line_lots", "refunds",
          "refund_lines", "stock_moves", "journal_entries", "postings", "orders", "order_lines"})
      out += std::string(table) + "=" +
             std::to_string(scalar(std::string("SELECT COUNT(*) FROM ") + table)) + " ";
    out += "on_hand=" + std::to_string(scalar("SELECT SUM(on_hand) FROM stock_levels"));
    out += " reserved=" + std::to_string(scalar("SELECT SUM(reserved) FROM stock_levels"));
    return out;
  }

  void expect_books_agree() {
    service::Checker checker(api.station.database);
    service::add_stock_checks(checker);
    service::add_journal_checks(checker);
    for (const auto& result : checker.run())
      for (const auto& problem : result.problems)
        ADD_FAILURE() << result.name << ": " << problem;
  }

  ApiFixture::Reply sell(const json& body, const std::string& key) {
    return api.call("POST", "/api/v1/pos/sales", "cashier1", body.dump(),
                    {{"idempotency-key", key}});
  }

  ApiFixture::Reply refund(std::int64_t sale_id, const json& lines, const std::string& key) {
    json body = {{"sale_id", sale_id}, {"method", "cash"}};
    if (!lines.is_null()) body["lines"] = lines;
    return api.call("POST", "/api/v1/pos/refunds", "cashier1", body.dump(),
                    {{"idempotency-key", key}});
  }

  /// Tea of village A at ¥10 (15 %), peanuts of village B at ¥30 (12 %), a box of 2 tea and
  /// 1 peanuts at ¥45, 10 tea and 3 peanuts on the shelf.
  void stock_a_box() {
    tea = product("TEA", api.station.village_a, 1000);
    peanuts = product("PEANUT", api.station.village_b, 3000);
    receive(tea, api.station.village_a, 10);
    receive(peanuts, api.station.village_b, 3);
    const auto box_reply = create_box(
        {{{"product_id", tea}, {"quantity", 2}}, {{"product_id", peanuts}, {"quantity", 1}}});
    ASSERT_EQ(box_reply.status, 201) << box_reply.body;
    box = box_reply.body["id"].get<std::int64_t>();
  }

  ApiFixture api;
  service::StockService stock{api.station.database};
  service::CounterService counter{api.station.database, service::CounterSettings{}};
  std::unique_ptr<service::OrderService> orders;
  int boxes_made = 0;
  std::int64_t tea = 0, peanuts = 0, box = 0;
};

}  // namespace

TEST_F(BundlesTest, ABoxShowsItsContentsAndVillagesAndSellsAsManyAsItsScarcestComponent) {
  stock_a_box();
  const auto shown = api.call("GET", "/api/v1/products/" + std::to_string(box));
  ASSERT_EQ(shown.status, 200) << shown.body;
  EXPECT_EQ(shown.body["kind"], "bundle");
  ASSERT_EQ(shown.body["components"].size(), 2u);
  EXPECT_EQ(shown.body["components"][0]["product_id"], tea);
  EXPECT_EQ(shown.body["components"][0]["quantity"], 2);
  EXPECT_EQ(shown.body["components"][0]["village_name"], "甲村");
  EXPECT_EQ(shown.body["components"][1]["village_name"], "乙村");
  EXPECT_EQ(shown.body["components"][1]["name"], "商品 PEANUT");
  // min(10 / 2, 3 / 1) = 3
  EXPECT_EQ(available(box), 3);
  receive(peanuts, api.station.village_b, 10);
  EXPECT_EQ(available(box), 5);
  const auto item = api.call("GET", "/api/v1/products/" + std::to_string(tea));
  EXPECT_EQ(item.body["kind"], "item");
  EXPECT_TRUE(item.body["components"].empty());
  EXPECT_EQ(available(tea), 10);
  // A bundle holds no stock of its own: receiving into it is refused.
  const auto into_box =
      api.call_json("POST", "/api/v1/stock/receipts", "admin",
                    {{"village_id", api.station.village_a},
                     {"lines", {{{"product_id", box}, {"quantity", 5}, {"lot", "X"}}}}});
  EXPECT_EQ(into_box.status, 422) << into_box.body;
  EXPECT_EQ(into_box.body["error"]["details"]["field"], "lines[0].product_id");
  EXPECT_EQ(on_hand(box), 0);
}

TEST_F(BundlesTest, BadBoxDefinitionsAreRefusedNamingTheFieldAndChangeNothing) {
  stock_a_box();
  const auto weighed = product("W", api.station.village_a, 5000, {{"unit", "g"}});
  const auto delisted = product("OFF", api.station.village_b, 500, {{"active", false}});
  const auto before = footprint();
  auto field_of = [&](const json& components, json extra = json::object()) {
    const auto reply = create_box(components, extra);
    EXPECT_EQ(reply.status, 422) << reply.body;
    return reply.body["error"]["details"].value("field", std::string());
  };
  const json one_tea = {{"product_id", tea}, {"quantity", 1}};
  EXPECT_EQ(field_of(json::array()), "components");
  EXPECT_EQ(field_of({one_tea}), "components");
  EXPECT_EQ(field_of({one_tea, {{"product_id", peanuts}, {"quantity", 0}}}),
            "components[1].quantity");
  EXPECT_EQ(field_of({one_tea, {{"product_id", peanuts}, {"quantity", -1}}}),
            "components[1].quantity");
  EXPECT_EQ(field_of({{{"product_id", box}, {"quantity", 1}}, one_tea}),
            "components[0].product_id");
  EXPECT_EQ(field_of({one_tea, {{"product_id", weighed}, {"quantity", 1}}}),
            "components[1].product_id");
  EXPECT_EQ(field_of({one_tea, {{"product_id", delisted}, {"quantity", 1}}}),
            "components[1].product_id");
  EXPECT_EQ(field_of({one_tea, {{"product_id", 999999}, {"quantity", 1}}}),
            "components[1].product_id");
  EXPECT_EQ(field_of({one_tea, one_tea}), "components[1].product_id");
  EXPECT_EQ(field_of({one_tea, {{"product_id", "x"}, {"quantity", 1}}}),
            "components[1].product_id");
  EXPECT_EQ(field_of({one_tea, {{"product_id", peanuts}, {"quantity", 1}, {"price", 3}}}),
            "components[1].price");
  EXPECT_EQ(field_of(json::object()), "components");
  EXPECT_EQ(field_of({one_tea, {{"product_id", peanuts}}}, {{"unit", "g"}}), "unit");
  EXPECT_EQ(field_of({one_tea, {{"product_id", peanuts}}}, {{"kind", "box"}}), "kind");
  EXPECT_EQ(field_of({one_tea, {{"product_id", peanuts}}}, {{"kind", "item"}}), "components");
  const auto no_components = api.call_json("POST", "/api/v1/products", "admin",
                                           {{"sku", "BOX-NONE"},
                                            {"name", "空盒"},
                                            {"kind", "bundle"},
                                            {"village_id", api.station.village_a},
                                            {"category_id", kGiftBoxes},
                                            {"unit", "piece"},
                                            {"price_fen", 100}});
  EXPECT_EQ(no_components.status, 422);
  EXPECT_EQ(no_components.body["error"]["details"]["field"], "components");
  // An item with stock cannot become a box; a component cannot become a box.
  const auto stocked = api.call_json(
      "PATCH", "/api/v1/products/" + std::to_string(peanuts), "admin",
      {{"kind", "bundle"}, {"components", {one_tea, {{"product_id", weighed}, {"quantity", 1}}}}});
  EXPECT_EQ(stocked.status, 422) << stocked.body;
  EXPECT_EQ(footprint(), before);

  // A good change: the box's contents replaced by PATCH.
  const auto changed =
      api.call_json("PATCH", "/api/v1/products/" + std::to_string(box), "admin",
                    {{"components", {{{"product_id", peanuts}, {"quantity", 3}}}}});
  ASSERT_EQ(changed.status, 200) << changed.body;
  ASSERT_EQ(changed.body["components"].size(), 1u);
  EXPECT_EQ(changed.body["components"][0]["quantity"], 3);
  EXPECT_EQ(available(box), 1);
}

TEST_F(BundlesTest, AComponentStaysSoldByThePieceAndABoxTakesNoRateOfItsOwn) {
  stock_a_box();
  const auto terms_before = scalar("SELECT COUNT(*) FROM commission_terms");
  const auto audit_before = scalar("SELECT COUNT(*) FROM audit_log");
  const auto before = footprint();
  // Turning a component into goods sold by weight would sell "2 g" of it in every box.
  const auto weighed =
      api.call_json("PATCH", "/api/v1/products/" + std::to_string(tea), "admin", {{"unit", "g"}});
  EXPECT_EQ(weighed.status, 422) << weighed.body;
  EXPECT_EQ(weighed.body["error"]["details"]["field"], "unit");
  EXPECT_EQ(api.call("GET", "/api/v1/products/" + std::to_string(tea)).body["unit"], "piece");
  // A box's lines take their components' rates: an override of the box, by PATCH, at creation
  // or as a dated term, would never apply, so it is refused.
  const auto patched = api.call_json("PATCH", "/api/v1/products/" + std::to_string(box), "admin",
                                     {{"commission_bps", 500}});
  EXPECT_EQ(patched.status, 422) << patched.body;
  EXPECT_EQ(patched.body["error"]["details"]["field"], "commission_bps");
  const auto created = create_box(
      {{{"product_id", tea}, {"quantity", 1}}, {{"product_id", peanuts}, {"quantity", 1}}},
      {{"commission_bps", 500}});
  EXPECT_EQ(created.status, 422) << created.body;
  EXPECT_EQ(created.body["error"]["details"]["field"], "commission_bps");
  const auto term = api.call_json(
      "POST", "/api/v1/villages/" + std::to_string(api.station.village_a) + "/commission", "admin",
      {{"bps", 500},
       {"product_id", box},
       {"effective_from", domain::format_iso_date(domain::business_day(
                              std::chrono::system_clock::now() + std::chrono::days(30),
                              domain::TimeZone::shanghai()))}});
  EXPECT_EQ(term.status, 422) << term.body;
  EXPECT_EQ(term.body["error"]["details"]["field"], "product_id");
  EXPECT_EQ(footprint(), before);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM commission_terms"), terms_before);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log"), audit_before);

  // A product in no box may still become weighed, and a box may clear its (absent) override.
  const auto loose = product("LOOSE", api.station.village_a, 800);
  const auto now_weighed =
      api.call_json("PATCH", "/api/v1/products/" + std::to_string(loose), "admin", {{"unit", "g"}});
  EXPECT_EQ(now_weighed.status, 200) << now_weighed.body;
  EXPECT_EQ(api.call_json("PATCH", "/api/v1/products/" + std::to_string(box), "admin",
                          {{"commission_bps", nullptr}})
                .status,
            200);
}

TEST_F(BundlesTest, SellingBoxesTakesEachComponentAndGivesEachVillageItsPartThenRefundsExactly) {
  stock_a_box();
  ASSERT_EQ(api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                          {{"register", "柜台1"}, {"float_fen", 10000}})
                .status,
            201);
  // 2 boxes (¥90, less ¥3 on the line) and 1 tea (¥10), less ¥1.37 on the sale, 抹零 to jiao.
  const json body = {
      {"lines",
       {{{"product_id", box}, {"quantity", 2}, {"discount_fen", 300}},
        {{"product_id", tea}, {"quantity", 1}}}},
      {"discount_fen", 137},
      {"rounding", "jiao"},
      {"tenders", {{{"method", "cash"}, {"amount_fen", 9560}, {"tendered_fen", 10000}}}}};
  const auto sale = sell(body, "box-sale");
  ASSERT_EQ(sale.status, 201) << sale.body;
  EXPECT_EQ(sale.body["total_fen"], 9560);
  // Each component's stock fell by its quantity: 2 boxes × 2 tea + 1 tea, 2 × 1 peanuts.
  EXPECT_EQ(on_hand(tea), 5);
  EXPECT_EQ(on_hand(peanuts), 1);
  EXPECT_EQ(available(box), 1);

  // The box is one line of the sale with its contents, each in its own village.
  ASSERT_EQ(sale.body["lines"].size(), 2u);
  const auto box_line = sale.body["lines"][0];
  EXPECT_EQ(box_line["kind"], "bundle");
  EXPECT_EQ(box_line["product_id"], box);
  EXPECT_EQ(box_line["quantity"], 2);
  EXPECT_EQ(box_line["list_fen"], 9000);
  EXPECT_EQ(box_line["discount_fen"], 300);
  ASSERT_EQ(box_line["components"].size(), 2u);
  std::int64_t gross = 0, fee = 0, share = 0;
  for (const auto& c : box_line["components"]) {
    gross += c["gross_fen"].get<std::int64_t>();
    fee += c["fee_fen"].get<std::int64_t>();
    share += c["share_fen"].get<std::int64_t>();
    EXPECT_EQ(c["fee_fen"].get<std::int64_t>() + c["share_fen"].get<std::int64_t>(),
              c["gross_fen"].get<std::int64_t>());
    EXPECT_FALSE(c["lots"].empty());
  }
  EXPECT_EQ(gross, box_line["gross_fen"].get<std::int64_t>());
  EXPECT_EQ(fee, box_line["fee_fen"].get<std::int64_t>());
  EXPECT_EQ(share, box_line["share_fen"].get<std::int64_t>());
  const auto tea_part = box_line["components"][0];
  const auto peanut_part = box_line["components"][1];
  EXPECT_EQ(tea_part["village_id"], api.station.village_a);
  EXPECT_EQ(tea_part["quantity"], 4);
  EXPECT_EQ(tea_part["commission_bps"], 1500);
  EXPECT_EQ(peanut_part["village_id"], api.station.village_b);
  EXPECT_EQ(peanut_part["quantity"], 2);
  EXPECT_EQ(peanut_part["commission_bps"], 1200);
  // Split by list prices: tea 2 × ¥10 against peanuts ¥30, i.e. 40 % and 60 % of the box.
  EXPECT_NEAR(tea_part["gross_fen"].get<double>(), 0.4 * box_line["gross_fen"].get<double>(), 1);
  EXPECT_EQ(sale.body["lines"][0]["gross_fen"].get<std::int64_t>() +
                sale.body["lines"][1]["gross_fen"].get<std::int64_t>(),
            9560);
  // The villages are owed their shares (payable is a credit: negative).
  const auto tea_line_share = sale.body["lines"][1]["share_fen"].get<std::int64_t>();
  EXPECT_EQ(payable(api.station.village_a),
            -(tea_part["share_fen"].get<std::int64_t>() + tea_line_share));
  EXPECT_EQ(payable(api.station.village_b), -peanut_part["share_fen"].get<std::int64_t>());
  EXPECT_EQ(
      scalar("SELECT COUNT(*) FROM sale_lines WHERE bundle_product_id = " + std::to_string(box)),
      2);
  // Reading it back gives the same answer.
  const auto read = api.call("GET", "/api/v1/pos/sales/" + sale.body["id"].dump(), "cashier1");
  EXPECT_EQ(read.body["lines"], sale.body["lines"]);
  expect_books_agree();

  // One box back: both of its component lines, 2 tea and 1 peanuts.
  const auto sale_id = sale.body["id"].get<std::int64_t>();
  const auto one = refund(sale_id, {{{"line_id", box_line["id"]}, {"quantity", 1}}}, "r1");
  ASSERT_EQ(one.status, 201) << one.body;
  ASSERT_EQ(one.body["lines"].size(), 2u);
  EXPECT_EQ(on_hand(tea), 7);
  EXPECT_EQ(on_hand(peanuts), 2);
  // Naming the box by its second line is the same box; asking more than is left is refused.
  const auto too_many =
      refund(sale_id, {{{"line_id", box_line["components"][1]["id"]}, {"quantity", 2}}}, "r-over");
  EXPECT_EQ(too_many.status, 409) << too_many.body;
  EXPECT_EQ(too_many.body["error"]["details"]["field"], "lines[0].quantity") << too_many.body;
  const auto zero = refund(sale_id, {{{"line_id", box_line["id"]}, {"quantity", 0}}}, "r-zero");
  EXPECT_EQ(zero.status, 422) << zero.body;
  const auto after_one =
      api.call("GET", "/api/v1/pos/sales/" + std::to_string(sale_id), "cashier1");
  EXPECT_EQ(after_one.body["lines"][0]["refunded_quantity"], 1);

  // The rest of the sale (the other box and the tea) with no lines named.
  const auto rest = refund(sale_id, nullptr, "r2");
  ASSERT_EQ(rest.status, 201) << rest.body;
  EXPECT_EQ(one.body["total_fen"].get<std::int64_t>() + rest.body["total_fen"].get<std::int64_t>(),
            9560);
  EXPECT_EQ(on_hand(tea), 10);
  EXPECT_EQ(on_hand(peanuts), 3);
  EXPECT_EQ(payable(api.station.village_a), 0);
  EXPECT_EQ(payable(api.station.village_b), 0);
  EXPECT_EQ(refund(sale_id, nullptr, "r3").status, 409);
  expect_books_agree();
}

TEST_F(BundlesTest, ABoxBeyondItsScarcestComponentIsOutOfStockAndChangesNothing) {
  stock_a_box();
  ASSERT_EQ(api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                          {{"register", "柜台1"}, {"float_fen", 0}})
                .status,
            201);
  const auto before = footprint();
  const json body = {{"lines", {{{"product_id", box}, {"quantity", 4}}}},
                     {"tenders", {{{"method", "cash"}, {"amount_fen", 18000}}}}};
  const auto refused = sell(body, "too-many-boxes");
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.body["error"]["code"], "out_of_stock");
  EXPECT_EQ(refused.body["error"]["details"]["product_id"], std::to_string(peanuts));
  EXPECT_EQ(footprint(), before);
  // A delisted component makes the box unsellable.
  ASSERT_EQ(api.call_json("PATCH", "/api/v1/products/" + std::to_string(peanuts), "admin",
                          {{"active", false}})
                .status,
            200);
  const json one = {{"lines", {{{"product_id", box}, {"quantity", 1}}}},
                    {"tenders", {{{"method", "cash"}, {"amount_fen", 4500}}}}};
  const auto delisted = sell(one, "delisted-box");
  EXPECT_EQ(delisted.status, 422) << delisted.body;
  EXPECT_EQ(delisted.body["error"]["details"]["field"], "lines[0].product_id");
  EXPECT_EQ(available(box), 0);
}

TEST_F(BundlesTest, ConcurrentBoxAndComponentSalesNeverOversell) {
  stock_a_box();  // 3 boxes' worth of peanuts
  std::vector<std::string> cashiers;
  for (int i = 0; i < 2; ++i) {
    const std::string name = "racer" + std::to_string(i);
    api.station.accounts.add_user(name, domain::Role::cashier, std::nullopt,
                                  test_support::kPassword, {std::nullopt, "test", "", "setup"});
    const std::string register_name = i == 0 ? "柜台1" : "柜台2";
    ASSERT_EQ(api.call_json("POST", "/api/v1/pos/shifts", name,
                            {{"register", register_name}, {"float_fen", 0}})
                  .status,
              201);
    cashiers.push_back(name);
  }
  std::atomic<int> boxes_sold{0}, peanuts_sold{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      const bool box_sale = t % 2 == 0;
      const json body = {
          {"lines", {{{"product_id", box_sale ? box : peanuts}, {"quantity", 1}}}},
          {"tenders", {{{"method", "card"}, {"amount_fen", box_sale ? 4500 : 3000}}}}};
      const auto reply = api.call("POST", "/api/v1/pos/sales", cashiers[t % 2], body.dump(),
                                  {{"idempotency-key", "race-" + std::to_string(t)}});
      if (reply.status == 201)
        ++(box_sale ? boxes_sold : peanuts_sold);
      else
        EXPECT_EQ(reply.status, 409) << reply.body;
    });
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(boxes_sold + peanuts_sold, 3);
  EXPECT_EQ(on_hand(peanuts), 0);
  EXPECT_EQ(on_hand(tea), 10 - 2 * boxes_sold);
  expect_books_agree();
}

namespace {

json box_order(std::int64_t product_id, std::int64_t quantity) {
  return {{"lines", {{{"product_id", product_id}, {"quantity", quantity}}}},
          {"fulfilment", "pickup"},
          {"contact", {{"name", "陈女士"}, {"phone", "138 0000 1234"}}},
          {"payment", "cash_on_pickup"}};
}

}  // namespace

TEST_F(BundlesTest, CheckingOutBoxesReservesEachComponentAndShowsTheBoxAsOneLine) {
  stock_a_box();
  const auto placed = api.call("POST", "/api/v1/orders", "", box_order(box, 2).dump(),
                               {{"idempotency-key", "order-box"}});
  ASSERT_EQ(placed.status, 201) << placed.body;
  EXPECT_EQ(placed.body["total_fen"], 9000);
  EXPECT_EQ(reserved(tea), 4);
  EXPECT_EQ(reserved(peanuts), 2);
  EXPECT_EQ(on_hand(tea), 10);
  EXPECT_EQ(available(box), 1);  // min(6 / 2, 1 / 1)
  ASSERT_EQ(placed.body["lines"].size(), 1u);
  const auto line = placed.body["lines"][0];
  EXPECT_EQ(line["kind"], "bundle");
  EXPECT_EQ(line["quantity"], 2);
  EXPECT_EQ(line["gross_fen"], 9000);
  ASSERT_EQ(line["components"].size(), 2u);
  EXPECT_EQ(line["components"][0]["village_id"], api.station.village_a);
  EXPECT_EQ(line["components"][1]["village_id"], api.station.village_b);
  EXPECT_EQ(line["components"][0]["gross_fen"].get<std::int64_t>() +
                line["components"][1]["gross_fen"].get<std::int64_t>(),
            9000);
  EXPECT_EQ(scalar("SELECT SUM(fee_fen + share_fen) FROM order_lines"), 9000);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM order_lines WHERE bundle_product_id IS NOT NULL"), 2);

  // Only one box's peanuts are left to promise: two more are refused and change nothing.
  const auto before = footprint();
  const auto refused = api.call("POST", "/api/v1/orders", "", box_order(box, 2).dump(),
                                {{"idempotency-key", "order-box-2"}});
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.body["error"]["code"], "out_of_stock");
  // Named as the customer's line: the box, and how many boxes are left (not the peanuts the
  // cart does not hold, which left the page nothing to offer).
  const auto& details = refused.body["error"]["details"];
  EXPECT_EQ(details["field"], "lines[0].quantity");
  EXPECT_EQ(details["product_id"], std::to_string(box));
  EXPECT_EQ(details["available"], "1");
  EXPECT_EQ(details["component_product_id"], std::to_string(peanuts));
  EXPECT_EQ(details["component_available"], "1");
  // Peanuts on their own line beside a box that takes the last one: that line is named with
  // what the box leaves it (none), so taking it down to that fits.
  json both = box_order(peanuts, 1);
  both["lines"].push_back({{"product_id", box}, {"quantity", 1}});
  const auto shared =
      api.call("POST", "/api/v1/orders", "", both.dump(), {{"idempotency-key", "order-box-3"}});
  EXPECT_EQ(shared.status, 409) << shared.body;
  EXPECT_EQ(shared.body["error"]["details"]["field"], "lines[0].quantity");
  EXPECT_EQ(shared.body["error"]["details"]["product_id"], std::to_string(peanuts));
  EXPECT_EQ(shared.body["error"]["details"]["available"], "0");
  EXPECT_EQ(footprint(), before);
  both["lines"].erase(0);
  const auto fits =
      api.call("POST", "/api/v1/orders", "", both.dump(), {{"idempotency-key", "order-box-4"}});
  ASSERT_EQ(fits.status, 201) << fits.body;
  const auto fitted = fits.body["number"].get<std::string>();
  ASSERT_EQ(api.call("POST",
                     "/api/v1/orders/" + fitted +
                         "/cancel?token=" + fits.body["token"].get<std::string>(),
                     "", "{}")
                .status,
            200);

  // Cancelling gives the components' reservations back.
  const auto number = placed.body["number"].get<std::string>();
  const auto token = placed.body["token"].get<std::string>();
  const auto cancelled =
      api.call("POST", "/api/v1/orders/" + number + "/cancel?token=" + token, "", "{}");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(reserved(tea), 0);
  EXPECT_EQ(reserved(peanuts), 0);
  EXPECT_EQ(available(box), 3);
  expect_books_agree();
}

TEST_F(BundlesTest, ConcurrentCheckoutsOfBoxesAndTheirComponentsNeverOversell) {
  stock_a_box();  // peanuts for 3 boxes
  std::atomic<int> boxes{0}, singles{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t)
    threads.emplace_back([&, t] {
      const bool box_order_t = t % 2 == 0;
      const auto reply =
          api.call("POST", "/api/v1/orders", "", box_order(box_order_t ? box : peanuts, 1).dump(),
                   {{"idempotency-key", "race-order-" + std::to_string(t)}});
      if (reply.status == 201)
        ++(box_order_t ? boxes : singles);
      else
        EXPECT_EQ(reply.status, 409) << reply.body;
    });
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(boxes + singles, 3);
  EXPECT_EQ(reserved(peanuts), 3);
  EXPECT_EQ(reserved(tea), 2 * boxes);
  EXPECT_EQ(available(box), 0);
  expect_books_agree();
}

TEST_F(BundlesTest, RefundingABoxOfAHandedOverOrderGivesEachVillageBackExactlyItsPart) {
  stock_a_box();
  const auto placed = api.call("POST", "/api/v1/orders", "", box_order(box, 2).dump(),
                               {{"idempotency-key", "order-refund-box"}});
  ASSERT_EQ(placed.status, 201) << placed.body;
  const auto number = placed.body["number"].get<std::string>();
  ASSERT_EQ(api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                          {{"register", "柜台1"}, {"float_fen", 20000}})
                .status,
            201);
  for (const char* to : {"picking", "ready"})
    ASSERT_EQ(
        api.call_json("POST", "/api/v1/orders/" + number + "/transition", "admin", {{"to", to}})
            .status,
        200);
  const auto code =
      api.call("GET", "/api/v1/orders/" + number, "admin").body["pickup_code"].get<std::string>();
  const auto handed = api.call_json("POST", "/api/v1/orders/" + number + "/transition", "cashier1",
                                    {{"to", "completed"}, {"pickup_code", code}});
  ASSERT_EQ(handed.status, 200) << handed.body;
  EXPECT_EQ(on_hand(tea), 6);
  EXPECT_EQ(on_hand(peanuts), 1);
  EXPECT_EQ(reserved(tea), 0);
  const auto owed_a = payable(api.station.village_a);
  const auto owed_b = payable(api.station.village_b);
  EXPECT_LT(owed_a, 0);
  EXPECT_LT(owed_b, 0);

  auto refund_order = [&](const json& body, const std::string& key) {
    return api.call("POST", "/api/v1/orders/" + number + "/refunds", "cashier1", body.dump(),
                    {{"idempotency-key", key}});
  };
  // One box back (line 1 names the box): 2 tea and 1 peanuts return to the shelf.
  const auto one = refund_order(
      {{"lines", {{{"line_no", 1}, {"quantity", 1}, {"returned", true}}}}}, "order-r1");
  ASSERT_EQ(one.status, 201) << one.body;
  EXPECT_EQ(on_hand(tea), 8);
  EXPECT_EQ(on_hand(peanuts), 2);
  const auto too_many = refund_order({{"lines", {{{"line_no", 2}, {"quantity", 2}}}}}, "order-r2");
  EXPECT_EQ(too_many.status, 409) << too_many.body;
  EXPECT_EQ(too_many.body["error"]["details"]["field"], "lines[0].quantity") << too_many.body;
  // The rest: the villages are owed nothing for this order any more.
  const auto rest = refund_order({{"all", true}}, "order-r3");
  ASSERT_EQ(rest.status, 201) << rest.body;
  EXPECT_EQ(payable(api.station.village_a), 0);
  EXPECT_EQ(payable(api.station.village_b), 0);
  const auto shown = api.call("GET", "/api/v1/orders/" + number, "admin");
  EXPECT_EQ(shown.body["lines"][0]["refunded_quantity"], 2);
  expect_books_agree();
}

// Probe F2: the stock, the lots and the sales keep their integers when `unit` changes, so 6000 g
// of tea became 6000 pieces at the per-kilogram price. The unit and the kind are fixed once
// anything is on record; a product nothing has happened to may still change both.
TEST_F(BundlesTest, UnitAndKindAreFixedOnceAnythingOfTheProductIsOnRecord) {
  stock_a_box();
  const auto path = [](std::int64_t id) { return "/api/v1/products/" + std::to_string(id); };
  const auto field_of = [&](std::int64_t id, const json& changes) {
    const auto reply = api.call_json("PATCH", path(id), "admin", changes);
    EXPECT_EQ(reply.status, 422) << reply.body;
    const std::string message = reply.body["error"].value("message", std::string());
    EXPECT_TRUE(message.find(" / ") != std::string::npos &&
                static_cast<unsigned char>(message.front()) >= 0x80)
        << "Chinese first: " << message;
    return reply.body["error"]["details"].value("field", std::string());
  };
  const auto stocked = product("STOCKED", api.station.village_a, 36000);
  receive(stocked, api.station.village_a, 6000);
  const auto before = footprint();
  EXPECT_EQ(field_of(stocked, {{"unit", "g"}}), "unit");
  EXPECT_EQ(field_of(stocked, {{"unit", "g"}, {"price_fen", 1}}), "unit");
  EXPECT_EQ(field_of(stocked, {{"kind", "bundle"},
                               {"components", {{{"product_id", tea}, {"quantity", 2}}}}}),
            "kind");
  EXPECT_EQ(api.call("GET", path(stocked)).body["unit"], "piece");
  EXPECT_EQ(api.call("GET", path(stocked)).body["price_fen"], 36000);

  // Written off to nothing, its ledger and lots still count in pieces.
  const auto lot =
      scalar("SELECT id FROM stock_lots WHERE product_id = " + std::to_string(stocked));
  const auto written_off = api.call_json(
      "POST", "/api/v1/stock/write-offs", "admin",
      {{"lines",
        {{{"product_id", stocked}, {"lot_id", lot}, {"quantity", 6000}, {"reason", "spoiled"}}}}});
  ASSERT_EQ(written_off.status, 201) << written_off.body;
  ASSERT_EQ(on_hand(stocked), 0);
  EXPECT_EQ(field_of(stocked, {{"unit", "g"}}), "unit");

  // A box that was sold keeps being a box: its component lines name it.
  ASSERT_EQ(api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                          {{"register", "柜台1"}, {"float_fen", 0}})
                .status,
            201);
  const auto sale = sell({{"lines", {{{"product_id", box}, {"quantity", 1}}}},
                          {"tenders", {{{"method", "cash"}, {"amount_fen", 4500}}}}},
                         "one-box");
  ASSERT_EQ(sale.status, 201) << sale.body;
  const auto after_sale = footprint();
  EXPECT_EQ(field_of(box, {{"kind", "item"}}), "kind");
  EXPECT_EQ(api.call("GET", path(box)).body["kind"], "bundle");
  EXPECT_EQ(footprint(), after_sale);
  EXPECT_NE(before, after_sale);

  // Nothing on record: the unit and the kind may still change.
  const auto fresh = product("FRESH", api.station.village_a, 800);
  const auto weighed = api.call_json("PATCH", path(fresh), "admin", {{"unit", "g"}});
  EXPECT_EQ(weighed.status, 200) << weighed.body;
  EXPECT_EQ(weighed.body["unit"], "g");
  const auto unsold = create_box(
      {{{"product_id", tea}, {"quantity", 1}}, {{"product_id", peanuts}, {"quantity", 1}}});
  ASSERT_EQ(unsold.status, 201) << unsold.body;
  const auto unboxed = api.call_json("PATCH", path(unsold.body["id"].get<std::int64_t>()), "admin",
                                     {{"kind", "item"}});
  EXPECT_EQ(unboxed.status, 200) << unboxed.body;
  expect_books_agree();
}

// Probe F3: a product moved to another village while its lots were on the shelf paid the new
// village for what the old one delivered, and the old one could no longer have them returned.
TEST_F(BundlesTest, AProductMovesToAnotherVillageOnlyWithNothingLeftOnTheShelf) {
  stock_a_box();
  const auto path = [](std::int64_t id) { return "/api/v1/products/" + std::to_string(id); };
  const auto moved = product("MOVED", api.station.village_a, 1880);
  receive(moved, api.station.village_a, 2);
  const auto before = footprint();
  const auto refused =
      api.call_json("PATCH", path(moved), "admin", {{"village_id", api.station.village_b}});
  EXPECT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(refused.body["error"]["details"]["field"], "village_id");
  EXPECT_EQ(api.call("GET", path(moved)).body["village_id"], api.station.village_a);
  EXPECT_EQ(footprint(), before);

  // Village A's lot is still A's to take back.
  const auto lot = scalar("SELECT id FROM stock_lots WHERE product_id = " + std::to_string(moved));
  const auto returned =
      api.call_json("POST", "/api/v1/stock/returns", "admin",
                    {{"village_id", api.station.village_a},
                     {"lines", {{{"product_id", moved}, {"lot_id", lot}, {"quantity", 1}}}}});
  ASSERT_EQ(returned.status, 201) << returned.body;
  ASSERT_EQ(api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                          {{"register", "柜台1"}, {"float_fen", 0}})
                .status,
            201);
  const auto sale = sell({{"lines", {{{"product_id", moved}, {"quantity", 1}}}},
                          {"tenders", {{{"method", "cash"}, {"amount_fen", 1880}}}}},
                         "last-one");
  ASSERT_EQ(sale.status, 201) << sale.body;
  EXPECT_EQ(sale.body["lines"][0]["village_id"], api.station.village_a);

  // Nothing left: it may move, and the sale keeps its village.
  ASSERT_EQ(on_hand(moved), 0);
  const auto allowed =
      api.call_json("PATCH", path(moved), "admin", {{"village_id", api.station.village_b}});
  EXPECT_EQ(allowed.status, 200) << allowed.body;
  EXPECT_EQ(allowed.body["village_id"], api.station.village_b);
  EXPECT_EQ(scalar("SELECT village_id FROM sale_lines WHERE product_id = " + std::to_string(moved)),
            api.station.village_a);
  // What the customer brings back now is village A's, not B's: it goes back to A, never on the
  // shelf where B would be paid for it (found by review).
  const auto sale_id = sale.body["id"].get<std::int64_t>();
  const auto line_id = sale.body["lines"][0]["id"].get<std::int64_t>();
  const auto refunds_before = footprint();
  const auto restocked =
      api.call("POST", "/api/v1/pos/refunds", "admin", json{{"sale_id", sale_id}}.dump(),
               {{"idempotency-key", "back-1"}});
  EXPECT_EQ(restocked.status, 409) << restocked.body;
  EXPECT_EQ(restocked.body["error"]["details"]["field"], "lines[0].restock");
  EXPECT_EQ(footprint(), refunds_before);
  ASSERT_EQ(api.call_json("POST", "/api/v1/pos/shifts", "admin",
                          {{"register", "柜台2"}, {"float_fen", 10000}})
                .status,
            201);
  const json keep = {{"sale_id", sale_id},
                     {"lines", {{{"line_id", line_id}, {"quantity", 1}, {"restock", false}}}}};
  const auto written_off = api.call("POST", "/api/v1/pos/refunds", "admin", keep.dump(),
                                    {{"idempotency-key", "back-2"}});
  EXPECT_EQ(written_off.status, 201) << written_off.body;
  EXPECT_EQ(on_hand(moved), 0);
  // A box holds no stock of its own: the village that lists it may change.
  EXPECT_EQ(
      api.call_json("PATCH", path(box), "admin", {{"village_id", api.station.village_b}}).status,
      200);
  expect_books_agree();
}
