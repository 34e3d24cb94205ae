// Stock on the real MariaDB: receiving all-or-nothing, lots and expiry, write-offs, returns and
// counts, concurrent write-offs on one lot, the ledger against levels and lots (`yizhan check`),
// village accounts that see only their own products, and the product's plu and low_stock.
#include <gtest/gtest.h>

#include <cppconn/statement.h>

#include <atomic>
#include <thread>

#include "support/api_client.hpp"
#include "yizhan/domain/catalog.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/check.hpp"
#include "yizhan/service/stock.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/stock.hpp"

using namespace yizhan;
using nlohmann::json;
using test_support::ApiFixture;

namespace {

/// The business date `offset` days from today, "YYYY-MM-DD".
std::string day(int offset) {
  const auto today =
      domain::business_day(std::chrono::system_clock::now(), domain::TimeZone::shanghai());
  return store::format_sql_date(
      std::chrono::year_month_day{std::chrono::sys_days(today) + std::chrono::days(offset)});
}

class StockTest : public ::testing::Test {
 protected:
  StockTest() {
    api.router = api::build_router(
        {api.health, api.station.accounts, api.audit, api.catalog, nullptr, &stock});
  }

  std::int64_t village_a() const { return api.station.village_a; }
  std::int64_t village_b() const { return api.station.village_b; }

  /// Creates a product through the API; returns its id.
  std::int64_t product(std::int64_t village_id, const std::string& sku, const std::string& unit,
                       std::optional<int> shelf_life_days, json extra = json::object()) {
    json body = {{"sku", sku},
                 {"name", "商品 " + sku},
                 {"village_id", village_id},
                 {"category_id", 3},
                 {"unit", unit},
                 {"price_fen", 1200},
                 {"shelf_life_days", shelf_life_days ? json(*shelf_life_days) : json(nullptr)}};
    body.update(extra);
    const auto created = api.call_json("POST", "/api/v1/products", "admin", body);
    EXPECT_EQ(created.status, 201) << created.body;
    return created.body["id"].get<std::int64_t>();
  }

  /// Receives one lot; returns the reply.
  ApiFixture::Reply receive(std::int64_t village_id, json lines, const std::string& note = "") {
    return api.call_json("POST", "/api/v1/stock/receipts", "admin",
                         {{"village_id", village_id}, {"note", note}, {"lines", lines}});
  }

  json level(std::int64_t product_id, const std::string& as = "admin") {
    const auto reply = api.call("GET", "/api/v1/stock/" + std::to_string(product_id), as);
    EXPECT_EQ(reply.status, 200) << reply.body;
    return reply.body;
  }

  /// Runs SQL as root in the test's schema (to corrupt or inspect what the API never would).
  void execute(const std::string& statement) {
    api.station.database.with_connection([&](store::UnitOfWork& unit) {
      std::unique_ptr<sql::Statement> s(unit.connection().createStatement());
      s->execute(statement);
    });
  }

  std::int64_t count_rows(const std::string& table) {
    std::int64_t count = 0;
    api.station.database.with_connection([&](store::UnitOfWork& unit) {
      std::unique_ptr<sql::Statement> s(unit.connection().createStatement());
      std::unique_ptr<sql::ResultSet> rows(s->executeQuery("SELECT COUNT(*) FROM " + table));
      rows->next();
      count = rows->getInt64(1);
    });
    return count;
  }

  std::vector<service::CheckResult> check() {
    service::Checker checker(api.station.database);
    service::add_stock_checks(checker);
    return checker.run();
  }

  ApiFixture api;
  service::StockService stock{api.station.database};
};

}  // namespace

TEST_F(StockTest, ANewProductHasAnEmptyLevel) {
  const auto id = product(village_a(), "P1", "piece", std::nullopt);
  const auto body = level(id);
  EXPECT_EQ(body["on_hand"], 0);
  EXPECT_EQ(body["available"], 0);
  EXPECT_EQ(body["lots"], json::array());
  EXPECT_EQ(body["next_expiry"], nullptr);
}

TEST_F(StockTest, AReceiptLandsEveryLineAsALotWithItsMoves) {
  const auto tea = product(village_a(), "TEA", "g", 540);
  const auto basket = product(village_a(), "BASKET", "piece", std::nullopt);
  const auto reply = receive(village_a(),
                             {{{"product_id", tea},
                               {"quantity", 5000},
                               {"lot", "YQ-2026-01"},
                               {"produced_on", day(-10)},
                               {"certificate", "合格证 FJ-0001"}},
                              {{"product_id", basket}, {"quantity", 12}}},
                             "春茶第一批");
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(reply.body["village_id"], village_a());
  EXPECT_EQ(reply.body["village_name"], "甲村");
  EXPECT_EQ(reply.body["created_by"], "admin");
  ASSERT_EQ(reply.body["lines"].size(), 2u);
  const auto& first = reply.body["lines"][0];
  EXPECT_EQ(first["product_id"], tea);
  EXPECT_EQ(first["quantity"], 5000);
  EXPECT_EQ(first["produced_on"], day(-10));
  EXPECT_EQ(first["expires_on"], day(530)) << "produced_on + shelf life";
  EXPECT_EQ(first["certificate"], "合格证 FJ-0001");
  EXPECT_EQ(reply.body["lines"][1]["expires_on"], nullptr) << "no shelf life, no expiry";
  EXPECT_EQ(reply.body["lines"][1]["lot"].get<std::string>().size(), 8u)
      << "a lot number by default: the business date";

  const auto tea_level = level(tea);
  EXPECT_EQ(tea_level["on_hand"], 5000);
  EXPECT_EQ(tea_level["available"], 5000);
  EXPECT_EQ(tea_level["next_expiry"], day(530));
  ASSERT_EQ(tea_level["lots"].size(), 1u);
  EXPECT_EQ(tea_level["lots"][0]["lot_id"], first["lot_id"]);
  EXPECT_EQ(tea_level["lots"][0]["quantity"], 5000);

  const auto moves = api.call("GET", "/api/v1/stock/" + std::to_string(tea) + "/moves", "admin");
  ASSERT_EQ(moves.status, 200) << moves.body;
  ASSERT_EQ(moves.body["items"].size(), 1u);
  EXPECT_EQ(moves.body["items"][0]["kind"], "receipt");
  EXPECT_EQ(moves.body["items"][0]["quantity"], 5000);
  EXPECT_EQ(moves.body["items"][0]["balance"], 5000);
  EXPECT_EQ(moves.body["items"][0]["document"]["id"], reply.body["id"]);
  EXPECT_EQ(moves.body["items"][0]["by"], "admin");

  const auto one = api.call("GET", "/api/v1/stock/receipts/" + reply.body["id"].dump(), "admin");
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.body["lines"], reply.body["lines"]);
  EXPECT_EQ(one.body["note"], "春茶第一批");
  EXPECT_TRUE(clean(check()));
}

TEST_F(StockTest, AReceiptWithABadLineChangesNothing) {
  const auto tea = product(village_a(), "TEA", "g", 540);
  const auto other = product(village_b(), "OTHER", "piece", std::nullopt);
  const json good = {{"product_id", tea}, {"quantity", 1000}, {"produced_on", day(-1)}};
  const std::vector<std::pair<json, std::string>> cases{
      {{{"product_id", tea}, {"quantity", 0}, {"produced_on", day(-1)}}, "lines[1].quantity"},
      {{{"product_id", tea}, {"quantity", -5}, {"produced_on", day(-1)}}, "lines[1].quantity"},
      {{{"product_id", tea}, {"quantity", 1.5}, {"produced_on", day(-1)}}, "lines[1].quantity"},
      {{{"product_id", tea}, {"quantity", 2000000}, {"produced_on", day(-1)}}, "lines[1].quantity"},
      {{{"product_id", tea}, {"produced_on", day(-1)}}, "lines[1].quantity"},
      {{{"product_id", 999999}, {"quantity", 1}}, "lines[1].product_id"},
      {{{"product_id", other}, {"quantity", 1}}, "lines[1].product_id"},
      {{{"product_id", tea}, {"quantity", 1}}, "lines[1].produced_on"},
      {{{"product_id", tea}, {"quantity", 1}, {"produced_on", "2026-02-30"}},
       "lines[1].produced_on"},
      {{{"product_id", tea}, {"quantity", 1}, {"produced_on", "01/02/2026"}},
       "lines[1].produced_on"},
      {{{"product_id", tea}, {"quantity", 1}, {"produced_on", day(1)}}, "lines[1].produced_on"},
      {{{"product_id", tea}, {"quantity", 1}, {"expires_on", day(-1)}}, "lines[1].expires_on"},
      {{{"product_id", tea}, {"quantity", 1}, {"produced_on", day(-800)}}, "lines[1].expires_on"},
      {{{"product_id", tea}, {"quantity", 1}, {"produced_on", day(-5)}, {"expires_on", day(-6)}},
       "lines[1].expires_on"},
      {{{"product_id", tea}, {"quantity", 1}, {"produced_on", day(-1)}, {"lot", ""}},
       "lines[1].lot"},
      {{{"product_id", tea},
        {"quantity", 1},
        {"produced_on", day(-1)},
        {"lot", std::string(65, 'x')}},
       "lines[1].lot"},
      {{{"product_id", tea}, {"quantity", 1}, {"produced_on", day(-1)}, {"colour", "red"}},
       "lines[1].colour"},
      {{{"product_id", "12"}, {"quantity", 1}}, "lines[1].product_id"},
  };
  for (const auto& [bad, field] : cases) {
    const auto reply = receive(village_a(), {good, bad});
    EXPECT_EQ(reply.status, 422) << bad << " " << reply.body;
    EXPECT_EQ(reply.body["error"]["details"]["field"], field) << bad << " " << reply.body;
  }
  EXPECT_EQ(receive(village_a(), json::array()).body["error"]["details"]["field"], "lines");
  EXPECT_EQ(receive(999999, {good}).body["error"]["details"]["field"], "village_id");
  EXPECT_EQ(api.call_json("POST", "/api/v1/stock/receipts", "admin", {{"lines", {good}}})
                .body["error"]["details"]["field"],
            "village_id");
  EXPECT_EQ(api.call("POST", "/api/v1/stock/receipts", "admin", "[1]").status, 400);
  EXPECT_EQ(api.call_json("POST", "/api/v1/stock/receipts", "admin",
                          {{"village_id", village_a()}, {"lines", {1, 2}}})
                .body["error"]["details"]["field"],
            "lines[0]");

  EXPECT_EQ(level(tea)["on_hand"], 0) << "the good line did not land either";
  EXPECT_EQ(count_rows("stock_lots"), 0);
  EXPECT_EQ(count_rows("stock_moves"), 0);
  EXPECT_EQ(count_rows("stock_documents"), 0);
  EXPECT_EQ(count_rows("audit_log WHERE entity_type = 'stock_document'"), 0);
  EXPECT_EQ(api.call_json("POST", "/api/v1/stock/receipts", "cashier1",
                          {{"village_id", village_a()}, {"lines", {good}}})
                .status,
            403);
  EXPECT_EQ(api.call_json("POST", "/api/v1/stock/receipts", "village1",
                          {{"village_id", village_a()}, {"lines", {good}}})
                .status,
            403);
}

TEST_F(StockTest, AReceiptIsRecordedOncePerIdempotencyKey) {
  const auto id = product(village_a(), "P1", "piece", std::nullopt);
  const auto body =
      json{{"village_id", village_a()}, {"lines", {{{"product_id", id}, {"quantity", 7}}}}}.dump();
  const auto first =
      api.call("POST", "/api/v1/stock/receipts", "admin", body, {{"idempotency-key", "receipt-1"}});
  const auto again =
      api.call("POST", "/api/v1/stock/receipts", "admin", body, {{"idempotency-key", "receipt-1"}});
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.raw.body, first.raw.body);
  EXPECT_EQ(level(id)["on_hand"], 7);
}

TEST_F(StockTest, WriteOffsTakeFromTheGivenLotAndAreAudited) {
  const auto id = product(village_a(), "P1", "piece", 30);
  const auto received = receive(
      village_a(), {{{"product_id", id}, {"quantity", 10}, {"lot", "A"}, {"produced_on", day(-20)}},
                    {{"product_id", id}, {"quantity", 5}, {"lot", "B"}, {"produced_on", day(-1)}}});
  ASSERT_EQ(received.status, 201) << received.body;
  const auto lot_a = received.body["lines"][0]["lot_id"].get<std::int64_t>();
  const auto lot_b = received.body["lines"][1]["lot_id"].get<std::int64_t>();
  auto write_off = [&](json lines) {
    return api.call_json("POST", "/api/v1/stock/write-offs", "admin", {{"lines", lines}});
  };
  const auto done = write_off({{{"product_id", id},
                                {"lot_id", lot_b},
                                {"quantity", 2},
                                {"reason", "damaged"},
                                {"note", "包装破损"}}});
  ASSERT_EQ(done.status, 201) << done.body;
  EXPECT_EQ(done.body["kind"], "write_off");
  EXPECT_EQ(done.body["lines"][0]["quantity"], -2);
  EXPECT_EQ(done.body["lines"][0]["reason"], "damaged");
  EXPECT_EQ(done.body["lines"][0]["lot_id"], lot_b);
  const auto after = level(id);
  EXPECT_EQ(after["on_hand"], 13);
  EXPECT_EQ(after["lots"][0]["quantity"], 10) << "lot A (expires first) untouched";
  EXPECT_EQ(after["lots"][1]["quantity"], 3);

  const auto short_lot =
      write_off({{{"product_id", id}, {"lot_id", lot_b}, {"quantity", 4}, {"reason", "spoiled"}}});
  EXPECT_EQ(short_lot.status, 409);
  EXPECT_EQ(short_lot.body["error"]["code"], "out_of_stock");
  EXPECT_EQ(short_lot.body["error"]["details"]["available"], "3");
  EXPECT_EQ(short_lot.body["error"]["details"]["lot_id"], std::to_string(lot_b));
  EXPECT_EQ(short_lot.body["error"]["details"]["product_id"], std::to_string(id));

  const std::vector<std::pair<json, std::string>> bad{
      {{{"product_id", id}, {"lot_id", lot_a}, {"quantity", 1}, {"reason", "other"}},
       "lines[0].note"},
      {{{"product_id", id}, {"lot_id", lot_a}, {"quantity", 1}, {"reason", "lost"}},
       "lines[0].reason"},
      {{{"product_id", id}, {"lot_id", lot_a}, {"quantity", 1}}, "lines[0].reason"},
      {{{"product_id", id}, {"lot_id", 999999}, {"quantity", 1}, {"reason", "sample"}},
       "lines[0].lot_id"},
      {{{"product_id", id}, {"lot_id", lot_a}, {"quantity", 0}, {"reason", "sample"}},
       "lines[0].quantity"},
  };
  for (const auto& [line, field] : bad) {
    const auto reply = write_off({line});
    EXPECT_EQ(reply.status, 422) << line << reply.body;
    EXPECT_EQ(reply.body["error"]["details"]["field"], field) << line << reply.body;
  }
  const auto other = product(village_a(), "P2", "piece", std::nullopt);
  EXPECT_EQ(
      write_off({{{"product_id", other}, {"lot_id", lot_a}, {"quantity", 1}, {"reason", "sample"}}})
          .body["error"]["details"]["field"],
      "lines[0].lot_id")
      << "a lot of another product";
  EXPECT_EQ(level(id)["on_hand"], 13) << "refused write-offs changed nothing";

  const auto audit = api.call("GET", "/api/v1/audit?limit=20", "admin").body["items"];
  const auto entry = std::find_if(audit.begin(), audit.end(), [&](const json& row) {
    return row["action"] == "POST /api/v1/stock/write-offs";
  });
  ASSERT_NE(entry, audit.end()) << audit;
  EXPECT_EQ((*entry)["entity_id"], done.body["id"].dump());
  EXPECT_EQ((*entry)["after"]["kind"], "write_off");
  EXPECT_NE((*entry)["after"]["lines"].get<std::string>().find("damaged"), std::string::npos);
  EXPECT_TRUE(clean(check()));
}

TEST_F(StockTest, ConcurrentWriteOffsAgainstOneLotNeverGoNegative) {
  const auto id = product(village_a(), "P1", "piece", std::nullopt);
  const auto received = receive(village_a(), {{{"product_id", id}, {"quantity", 10}}});
  ASSERT_EQ(received.status, 201);
  const auto lot = received.body["lines"][0]["lot_id"].get<std::int64_t>();
  std::atomic<int> booked{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 12; ++i) {
    threads.emplace_back([&] {
      service::WriteOffRequest request;
      request.lines.push_back({id, lot, 3, "spoiled", std::nullopt});
      for (int attempt = 0; attempt < 20; ++attempt) {
        try {
          stock.write_off(request, {std::nullopt, "test", "", "concurrent write-off"});
          ++booked;
          return;
        } catch (const domain::Error& error) {
          if (error.code() == domain::ErrorCode::out_of_stock) {
            ++refused;
            return;
          }
          if (error.code() != domain::ErrorCode::unavailable) {
            ++other;
            return;
          }
        }
      }
      ++other;
    });
  }
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(booked, 3) << "10 in the lot covers three write-offs of 3";
  EXPECT_EQ(refused, 9);
  EXPECT_EQ(other, 0);
  const auto after = level(id);
  EXPECT_EQ(after["on_hand"], 1);
  EXPECT_EQ(after["lots"][0]["quantity"], 1);
  EXPECT_TRUE(clean(check()));
}

TEST_F(StockTest, ReturnsGoBackToTheProductsOwnVillage) {
  const auto mine = product(village_a(), "A1", "piece", std::nullopt);
  const auto theirs = product(village_b(), "B1", "piece", std::nullopt);
  const auto a = receive(village_a(), {{{"product_id", mine}, {"quantity", 6}}});
  const auto b = receive(village_b(), {{{"product_id", theirs}, {"quantity", 4}}});
  const auto lot_a = a.body["lines"][0]["lot_id"];
  const auto lot_b = b.body["lines"][0]["lot_id"];
  auto send_back = [&](std::int64_t village_id, json lines) {
    return api.call_json("POST", "/api/v1/stock/returns", "admin",
                         {{"village_id", village_id}, {"note", "品相不佳退回"}, {"lines", lines}});
  };
  const auto wrong =
      send_back(village_a(), {{{"product_id", theirs}, {"lot_id", lot_b}, {"quantity", 1}}});
  EXPECT_EQ(wrong.status, 422);
  EXPECT_EQ(wrong.body["error"]["details"]["field"], "lines[0].product_id");
  const auto done =
      send_back(village_a(), {{{"product_id", mine}, {"lot_id", lot_a}, {"quantity", 2}}});
  ASSERT_EQ(done.status, 201) << done.body;
  EXPECT_EQ(done.body["kind"], "return");
  EXPECT_EQ(done.body["village_id"], village_a());
  EXPECT_EQ(level(mine)["on_hand"], 4);
  const auto moves = api.call("GET", "/api/v1/stock/" + std::to_string(mine) + "/moves", "admin");
  EXPECT_EQ(moves.body["items"][0]["kind"], "return");
  EXPECT_EQ(moves.body["items"][0]["quantity"], -2);
  EXPECT_EQ(moves.body["items"][0]["balance"], 4);
  EXPECT_EQ(send_back(village_a(), {{{"product_id", mine}, {"lot_id", lot_a}, {"quantity", 5}}})
                .body["error"]["code"],
            "out_of_stock");
  EXPECT_TRUE(clean(check()));
}

TEST_F(StockTest, CountsBookTheDifferenceFefoAndNeverBelowReserved) {
  const auto id = product(village_a(), "P1", "piece", 100);
  const auto received = receive(
      village_a(),
      {{{"product_id", id}, {"quantity", 10}, {"lot", "LATE"}, {"produced_on", day(-1)}},
       {{"product_id", id}, {"quantity", 10}, {"lot", "EARLY"}, {"produced_on", day(-90)}}});
  ASSERT_EQ(received.status, 201) << received.body;
  const auto early = received.body["lines"][1]["lot_id"].get<std::int64_t>();
  auto count = [&](std::int64_t counted) {
    return api.call_json(
        "POST", "/api/v1/stock/counts", "admin",
        {{"note", "月末盘点"}, {"lines", {{{"product_id", id}, {"counted", counted}}}}});
  };
  const auto down = count(13);
  ASSERT_EQ(down.status, 201) << down.body;
  EXPECT_EQ(down.body["lines"][0]["expected"], 20);
  EXPECT_EQ(down.body["lines"][0]["counted"], 13);
  EXPECT_EQ(down.body["lines"][0]["difference"], -7);
  EXPECT_EQ(down.body["lines"][0]["lots"], (json{{{"lot_id", early}, {"quantity", -7}}}))
      << "a decrease comes off the lot that expires first";
  const auto up = count(15);
  ASSERT_EQ(up.status, 201) << up.body;
  EXPECT_EQ(up.body["lines"][0]["difference"], 2);
  EXPECT_EQ(up.body["lines"][0]["lots"], (json{{{"lot_id", early}, {"quantity", 2}}}))
      << "an increase goes to the latest lot received";
  EXPECT_EQ(count(15).body["lines"][0]["difference"], 0);
  const auto after = level(id);
  EXPECT_EQ(after["on_hand"], 15);

  // Online orders (issue 9) reserve: simulate 12 reserved, with its ledger row.
  execute("UPDATE stock_levels SET reserved = 12 WHERE product_id = " + std::to_string(id));
  execute(
      "INSERT INTO stock_moves (product_id, kind, quantity, document_kind, document_id) "
      "VALUES (" +
      std::to_string(id) + ", 'reserve', 12, 'order', 1)");
  ASSERT_TRUE(clean(check()));
  const auto below = count(11);
  EXPECT_EQ(below.status, 409);
  EXPECT_EQ(below.body["error"]["code"], "out_of_stock");
  EXPECT_EQ(below.body["error"]["details"]["product_id"], std::to_string(id));
  EXPECT_EQ(below.body["error"]["details"]["available"], "3");
  EXPECT_EQ(level(id)["on_hand"], 15);
  EXPECT_EQ(count(12).status, 201);
  EXPECT_EQ(level(id)["available"], 0);

  const auto moves = api.call("GET", "/api/v1/stock/" + std::to_string(id) + "/moves", "admin");
  ASSERT_EQ(moves.status, 200);
  EXPECT_EQ(moves.body["items"][0]["kind"], "adjustment");
  EXPECT_EQ(moves.body["items"][0]["balance"], 12);
  EXPECT_EQ(moves.body["items"][0]["reserved"], 12);

  const auto twice = api.call_json(
      "POST", "/api/v1/stock/counts", "admin",
      {{"lines", {{{"product_id", id}, {"counted", 1}}, {{"product_id", id}, {"counted", 2}}}}});
  EXPECT_EQ(twice.body["error"]["details"]["field"], "lines[1].product_id");
  EXPECT_EQ(api.call_json("POST", "/api/v1/stock/counts", "admin",
                          {{"lines", {{{"product_id", id}, {"counted", -1}}}}})
                .body["error"]["details"]["field"],
            "lines[0].counted");
  EXPECT_EQ(api.call_json("POST", "/api/v1/stock/counts", "cashier1",
                          {{"lines", {{{"product_id", id}, {"counted", 1}}}}})
                .status,
            403)
      << "a cashier cannot change stock counts";
  EXPECT_TRUE(clean(check()));
}

TEST_F(StockTest, ACountIncreaseWithoutLotsOpensACountLot) {
  const auto id = product(village_a(), "P1", "piece", std::nullopt);
  const auto up = api.call_json("POST", "/api/v1/stock/counts", "admin",
                                {{"lines", {{{"product_id", id}, {"counted", 4}}}}});
  ASSERT_EQ(up.status, 201) << up.body;
  const auto after = level(id);
  ASSERT_EQ(after["lots"].size(), 1u);
  EXPECT_EQ(after["lots"][0]["lot"], "盘点");
  EXPECT_EQ(after["lots"][0]["quantity"], 4);
  EXPECT_TRUE(clean(check()));
}

TEST_F(StockTest, MovesCarryARunningBalancePagedByKey) {
  const auto id = product(village_a(), "P1", "piece", std::nullopt);
  for (int i = 1; i <= 5; ++i) {
    ASSERT_EQ(receive(village_a(), {{{"product_id", id}, {"quantity", i}}}).status, 201);
  }
  const auto path = "/api/v1/stock/" + std::to_string(id) + "/moves";
  const auto first = api.call("GET", path + "?limit=2", "admin");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.body["items"][0]["balance"], 15);
  EXPECT_EQ(first.body["items"][1]["balance"], 10);
  ASSERT_TRUE(first.body["next_before"].is_number());
  const auto second =
      api.call("GET", path + "?limit=2&before=" + first.body["next_before"].dump(), "admin");
  EXPECT_EQ(second.body["items"][0]["balance"], 6);
  EXPECT_EQ(second.body["items"][1]["balance"], 3);
  const auto last =
      api.call("GET", path + "?limit=2&before=" + second.body["next_before"].dump(), "admin");
  EXPECT_EQ(last.body["items"].size(), 1u);
  EXPECT_EQ(last.body["items"][0]["balance"], 1);
  EXPECT_EQ(last.body["next_before"], nullptr);
  EXPECT_EQ(api.call("GET", path + "?limit=0", "admin").status, 422);
  EXPECT_EQ(api.call("GET", path, "cashier1").status, 403);
  EXPECT_EQ(api.call("GET", "/api/v1/stock/999999/moves", "admin").status, 404);
}

TEST_F(StockTest, CheckFindsAHandCorruptedLevelOrLot) {
  const auto id = product(village_a(), "P1", "piece", std::nullopt);
  ASSERT_EQ(receive(village_a(), {{{"product_id", id}, {"quantity", 8}}}).status, 201);
  ASSERT_TRUE(clean(check()));
  execute("UPDATE stock_levels SET on_hand = on_hand + 5 WHERE product_id = " + std::to_string(id));
  auto results = check();
  ASSERT_FALSE(clean(results));
  std::string report;
  for (const auto& result : results) {
    for (const auto& problem : result.problems)
      report += problem + "\n";
  }
  EXPECT_NE(
      report.find("product " + std::to_string(id) + " (P1): on_hand 13 but its moves sum to 8"),
      std::string::npos)
      << report;
  EXPECT_NE(report.find("but its lots hold 8"), std::string::npos) << report;
  execute("UPDATE stock_levels SET on_hand = on_hand - 5 WHERE product_id = " + std::to_string(id));
  EXPECT_TRUE(clean(check()));
  execute("UPDATE stock_lots SET remaining = remaining - 1 WHERE product_id = " +
          std::to_string(id));
  results = check();
  ASSERT_FALSE(clean(results));
  EXPECT_NE(results[0].problems.at(0).find("lots hold 7"), std::string::npos);
}

TEST_F(StockTest, AVillageAccountSeesOnlyItsOwnProducts) {
  const auto mine = product(village_a(), "A1", "piece", std::nullopt);
  const auto theirs = product(village_b(), "B1", "piece", std::nullopt);
  ASSERT_EQ(receive(village_a(), {{{"product_id", mine}, {"quantity", 3}}}).status, 201);
  const auto b_receipt = receive(village_b(), {{{"product_id", theirs}, {"quantity", 4}}});
  ASSERT_EQ(b_receipt.status, 201);

  const auto own = api.call("GET", "/api/v1/stock", "village1");
  ASSERT_EQ(own.status, 200) << own.body;
  ASSERT_EQ(own.body["items"].size(), 1u);
  EXPECT_EQ(own.body["items"][0]["product_id"], mine);
  EXPECT_EQ(own.body["total"], 1);
  EXPECT_EQ(
      api.call("GET", "/api/v1/stock?village_id=" + std::to_string(village_b()), "village1").status,
      403);
  EXPECT_EQ(
      api.call("GET", "/api/v1/stock?village_id=" + std::to_string(village_a()), "village1").status,
      200);
  EXPECT_EQ(api.call("GET", "/api/v1/stock/" + std::to_string(theirs), "village1").status, 404);
  EXPECT_EQ(api.call("GET", "/api/v1/stock/" + std::to_string(mine), "village1").status, 200);
  EXPECT_EQ(
      api.call("GET", "/api/v1/stock/receipts/" + b_receipt.body["id"].dump(), "village1").status,
      404);
  EXPECT_EQ(
      api.call("GET", "/api/v1/stock/receipts/" + b_receipt.body["id"].dump() + "/note", "village1")
          .status,
      404);
  EXPECT_EQ(api.call("GET", "/api/v1/stock/receipts", "village1").body["total"], 1);
  EXPECT_EQ(api.call("GET", "/api/v1/stock/receipts", "village2").body["total"], 1);
  EXPECT_EQ(api.call("GET", "/api/v1/stock/receipts", "admin").body["total"], 2);
  EXPECT_EQ(api.call("GET", "/api/v1/stock/receipts", "cashier1").status, 403);
  EXPECT_EQ(api.call("GET", "/api/v1/stock/" + std::to_string(mine) + "/moves", "village1").status,
            403);

  EXPECT_EQ(api.call("GET", "/api/v1/stock", "cashier1").body["total"], 2);
  EXPECT_EQ(api.call("GET", "/api/v1/stock").status, 401);
}

TEST_F(StockTest, LowAndExpiringFiltersFindWhatNeedsAttention) {
  const auto low = product(village_a(), "LOW", "piece", std::nullopt, {{"low_stock", 5}});
  const auto plenty = product(village_a(), "PLENTY", "piece", std::nullopt, {{"low_stock", 5}});
  const auto soon = product(village_a(), "SOON", "piece", 3);
  const auto none = product(village_a(), "NONE", "piece", std::nullopt);
  ASSERT_EQ(receive(village_a(), {{{"product_id", low}, {"quantity", 5}},
                                  {{"product_id", plenty}, {"quantity", 6}},
                                  {{"product_id", soon}, {"quantity", 9}, {"produced_on", day(-1)}},
                                  {{"product_id", none}, {"quantity", 9}}})
                .status,
            201);
  auto ids = [&](const std::string& query) {
    std::vector<std::int64_t> found;
    const auto reply = api.call("GET", "/api/v1/stock?" + query, "admin");
    EXPECT_EQ(reply.status, 200) << query << reply.body;
    for (const auto& item : reply.body["items"])
      found.push_back(item["product_id"]);
    return found;
  };
  EXPECT_EQ(ids("low=true"), std::vector<std::int64_t>{low}) << "at or below the threshold";
  EXPECT_EQ(ids("expiring_days=7"), std::vector<std::int64_t>{soon});
  EXPECT_EQ(ids("expiring_days=1"), std::vector<std::int64_t>{});
  EXPECT_EQ(ids("low=true&expiring_days=7"), std::vector<std::int64_t>{});
  EXPECT_EQ(ids("category_id=3&page_size=2&page=2"), (std::vector<std::int64_t>{soon, none}));
  const auto listed = api.call("GET", "/api/v1/stock?low=true", "admin").body["items"][0];
  EXPECT_EQ(listed["low"], true);
  EXPECT_EQ(listed["low_stock"], 5);
  EXPECT_EQ(api.call("GET", "/api/v1/stock?low=maybe", "admin").status, 422);
  EXPECT_EQ(api.call("GET", "/api/v1/stock?expiring_days=-1", "admin").status, 422);
  EXPECT_EQ(api.call("GET", "/api/v1/stock?expiring_days=99999", "admin").status, 422);
}

TEST_F(StockTest, ReceiptsListByVillageAndBusinessDatesAndPrintANote) {
  const auto id = product(village_a(), "P1", "piece", std::nullopt);
  const auto b_id = product(village_b(), "B1", "piece", std::nullopt);
  const auto received =
      receive(village_a(), {{{"product_id", id}, {"quantity", 3}, {"certificate", "<b>追溯</b>"}}},
              "第一车");
  ASSERT_EQ(received.status, 201);
  ASSERT_EQ(receive(village_b(), {{{"product_id", b_id}, {"quantity", 1}}}).status, 201);
  auto total = [&](const std::string& query) {
    const auto reply = api.call("GET", "/api/v1/stock/receipts?" + query, "admin");
    EXPECT_EQ(reply.status, 200) << query << reply.body;
    return reply.body["total"].get<int>();
  };
  EXPECT_EQ(total(""), 2);
  EXPECT_EQ(total("village_id=" + std::to_string(village_a())), 1);
  EXPECT_EQ(total("from=" + day(0) + "&to=" + day(0)), 2);
  EXPECT_EQ(total("from=" + day(1)), 0);
  EXPECT_EQ(total("to=" + day(-1)), 0);
  EXPECT_EQ(api.call("GET", "/api/v1/stock/receipts?from=yesterday", "admin")
                .body["error"]["details"]["field"],
            "from");
  EXPECT_EQ(api.call("GET", "/api/v1/stock/receipts?from=" + day(0) + "&to=" + day(-1), "admin")
                .body["error"]["details"]["field"],
            "to");
  const auto listed = api.call("GET", "/api/v1/stock/receipts", "admin").body["items"];
  EXPECT_EQ(listed[1]["id"], received.body["id"]) << "newest first";
  EXPECT_EQ(listed[1]["line_count"], 1);

  const auto note =
      api.call("GET", "/api/v1/stock/receipts/" + received.body["id"].dump() + "/note", "admin");
  ASSERT_EQ(note.status, 200);
  EXPECT_EQ(note.raw.content_type, "text/html; charset=utf-8");
  const auto& html = note.raw.body;
  EXPECT_NE(html.find("入库单"), std::string::npos);
  EXPECT_NE(html.find("甲村"), std::string::npos);
  EXPECT_NE(html.find("商品 P1"), std::string::npos);
  EXPECT_NE(html.find("第一车"), std::string::npos);
  EXPECT_NE(html.find("驿站收货人"), std::string::npos);
  EXPECT_NE(html.find("村方交货人"), std::string::npos);
  EXPECT_NE(html.find("&lt;b&gt;追溯&lt;/b&gt;"), std::string::npos) << "text is escaped";
  EXPECT_EQ(html.find("<b>追溯"), std::string::npos);
  EXPECT_EQ(api.call("GET", "/api/v1/stock/receipts/999999/note", "admin").status, 404);
}

TEST_F(StockTest, ProductsHaveAUniquePluAndALowStockThreshold) {
  const auto id = product(village_a(), "W1", "g", 30, {{"plu", 10007}, {"low_stock", 2000}});
  const auto path = "/api/v1/products/" + std::to_string(id);
  const auto read = api.call("GET", path, "admin");
  EXPECT_EQ(read.body["plu"], 10007);
  EXPECT_EQ(read.body["low_stock"], 2000);
  auto create = [&](json extra) {
    json body = {{"sku", "W2"},      {"name", "另一个"}, {"village_id", village_a()},
                 {"category_id", 3}, {"unit", "g"},      {"price_fen", 1000}};
    body.update(extra);
    return api.call_json("POST", "/api/v1/products", "admin", body);
  };
  const auto duplicate = create({{"plu", 10007}});
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(duplicate.body["error"]["details"]["field"], "plu");
  for (const auto& [extra, field] :
       std::vector<std::pair<json, std::string>>{{{{"plu", 100000}}, "plu"},
                                                 {{{"plu", -1}}, "plu"},
                                                 {{{"plu", "10007"}}, "plu"},
                                                 {{{"low_stock", -1}}, "low_stock"},
                                                 {{{"low_stock", 1.5}}, "low_stock"}}) {
    const auto reply = create(extra);
    EXPECT_EQ(reply.status, 422) << extra;
    EXPECT_EQ(reply.body["error"]["details"]["field"], field) << extra << reply.body;
  }
  EXPECT_EQ(api.call_json("PATCH", path, "admin", {{"plu", 10008}}).body["plu"], 10008);
  EXPECT_EQ(
      api.call_json("PATCH", path, "admin", {{"plu", nullptr}, {"low_stock", nullptr}}).body["plu"],
      nullptr);
  EXPECT_EQ(create({{"plu", 10007}}).status, 201) << "the freed PLU may be used again";
  EXPECT_EQ(api.call_json("PATCH", path, "admin", {{"plu", 10007}}).status, 409);
}
