// The counter on the real MariaDB: shifts and their cash, sales with split tenders and scale
// labels, exactly-once sales under concurrency and retries, no oversell, FEFO and expiry, refunds
// that reverse exactly what they return, offline shortfalls, and `yizhan check` after each.
#include <gtest/gtest.h>

#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "support/api_client.hpp"
#include "yizhan/domain/scale_label.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/check.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/stock.hpp"
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

/// A scale label with its EAN check digit: flag, PLU, then the 5-digit fields.
std::string label(const std::string& flag, int plu, std::initializer_list<int> fields) {
  char digits[32];
  std::string code = flag;
  std::snprintf(digits, sizeof digits, "%05d", plu);
  code += digits;
  for (int field : fields) {
    std::snprintf(digits, sizeof digits, "%05d", field);
    code += digits;
  }
  return code + std::to_string(domain::ean_check_digit(code));
}

class CounterTest : public ::testing::Test {
 protected:
  CounterTest() {
    api.router = api::build_router(
        {api.health, api.station.accounts, api.audit, api.catalog, &counter, &stock});
  }

  std::int64_t product(const std::string& sku, const std::string& unit, std::int64_t price_fen,
                       json extra = json::object()) {
    json body = {{"sku", sku},       {"name", "商品 " + sku}, {"village_id", api.station.village_a},
                 {"category_id", 3}, {"unit", unit},          {"price_fen", price_fen}};
    body.update(extra);
    const auto created = api.call_json("POST", "/api/v1/products", "admin", body);
    EXPECT_EQ(created.status, 201) << created.body;
    return created.body["id"].get<std::int64_t>();
  }

  void receive(std::int64_t product_id, std::int64_t quantity, const std::string& lot,
               std::optional<std::string> expires_on = std::nullopt, std::int64_t village_id = 0) {
    json line = {{"product_id", product_id}, {"quantity", quantity}, {"lot", lot}};
    if (expires_on) line["expires_on"] = *expires_on;
    const auto reply = api.call_json(
        "POST", "/api/v1/stock/receipts", "admin",
        {{"village_id", village_id ? village_id : api.station.village_a}, {"lines", {line}}});
    ASSERT_EQ(reply.status, 201) << reply.body;
  }

  ApiFixture::Reply open_shift(const std::string& as = "cashier1",
                               const std::string& register_name = "柜台1",
                               std::int64_t float_fen = 50000) {
    return api.call_json("POST", "/api/v1/pos/shifts", as,
                         {{"register", register_name}, {"float_fen", float_fen}});
  }

  ApiFixture::Reply sell(const json& body, const std::string& key,
                         const std::string& as = "cashier1") {
    return api.call("POST", "/api/v1/pos/sales", as, body.dump(), {{"idempotency-key", key}});
  }

  static json cash_sale(std::int64_t product_id, std::int64_t quantity, std::int64_t amount) {
    return {{"lines", {{{"product_id", product_id}, {"quantity", quantity}}}},
            {"tenders", {{{"method", "cash"}, {"amount_fen", amount}, {"tendered_fen", amount}}}}};
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

  /// Rows of every table a sale or refund writes, to prove a refused request left nothing.
  std::string footprint() {
    std::string out;
    for (const char* table :
         {"sales", "sale_lines", "sale_line_lots", "sale_tenders", "refunds", "refund_lines",
          "stock_moves", "journal_entries", "postings", "idempotency_keys", "stock_documents"})
      out += std::string(table) + "=" +
             std::to_string(scalar(std::string("SELECT COUNT(*) FROM ") + table)) + " ";
    out += "on_hand=" + std::to_string(scalar("SELECT SUM(on_hand) FROM stock_levels"));
    out += " lots=" + std::to_string(scalar("SELECT SUM(remaining) FROM stock_lots"));
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

  ApiFixture api;
  service::StockService stock{api.station.database};
  service::CounterService counter{api.station.database, service::CounterSettings{}};
};

}  // namespace

TEST_F(CounterTest, ASaleWithoutAnOpenShiftIsRefusedAndChangesNothing) {
  const auto p = product("S1", "piece", 1000);
  receive(p, 5, "L1");
  const auto before = footprint();
  const auto reply = sell(cash_sale(p, 1, 1000), "k-noshift");
  EXPECT_EQ(reply.status, 409) << reply.body;
  EXPECT_EQ(reply.body["error"]["code"], "no_open_shift");
  EXPECT_EQ(footprint(), before);
}

TEST_F(CounterTest, ASaleNeedsAnIdempotencyKey) {
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("S1", "piece", 1000);
  const auto reply =
      api.call("POST", "/api/v1/pos/sales", "cashier1", cash_sale(p, 1, 1000).dump());
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.body["error"]["code"], "idempotency_key_required");
}

TEST_F(CounterTest, OneOpenShiftPerCashierAndPerRegister) {
  EXPECT_EQ(open_shift().status, 201);
  const auto again = open_shift("cashier1", "柜台2");
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.body["error"]["code"], "shift_open");
  const auto same_register = open_shift("admin", "柜台1");
  EXPECT_EQ(same_register.status, 409);
  EXPECT_EQ(open_shift("admin", "柜台2").status, 201);
  const auto unknown = open_shift("admin", "柜台9");
  EXPECT_EQ(unknown.status, 422);
  EXPECT_EQ(unknown.body["error"]["details"]["field"], "register");
  EXPECT_EQ(api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                          {{"register", "柜台1"}, {"float_fen", -5}})
                .status,
            422);
}

TEST_F(CounterTest, ASplitTenderSaleWithAScaleLabelFreezesItsSplitAndBalances) {
  ASSERT_EQ(open_shift().status, 201);
  const auto tea = product("TEA", "piece", 12800, {{"barcode", "6901234567892"}});
  const auto longan = product("LONGAN", "g", 4800, {{"plu", 10007}});  // ¥48.00 per kg
  receive(tea, 10, "T1");
  receive(longan, 5000, "L1");
  // 733 g at ¥48/kg = ¥35.184 → ¥35.18; the label says both.
  const auto code = label("26", 10007, {3518, 733});
  // A label sells once: another quantity is refused, not quietly sold as one.
  for (const json& quantity : {json(2), json(0), json(-5)}) {
    const auto refused =
        api.call("POST", "/api/v1/pos/quote", "cashier1",
                 json({{"lines", {{{"code", code}, {"quantity", quantity}}}}}).dump());
    EXPECT_EQ(refused.status, 422) << quantity << refused.body;
    EXPECT_EQ(refused.body["error"]["details"]["field"], "lines[0].quantity") << quantity;
  }
  const json body = {
      {"lines", {{{"code", "6901234567892"}, {"quantity", 2}}, {{"code", code}, {"quantity", 1}}}},
      {"discount_fen", 0},
      {"rounding", "jiao"},
      {"tenders",
       {{{"method", "wechat"}, {"amount_fen", 20000}, {"reference", "wx-1"}},
        {{"method", "cash"}, {"amount_fen", 9110}, {"tendered_fen", 10000}}}}};
  const auto reply = sell(body, "k-split");
  ASSERT_EQ(reply.status, 201) << reply.body;
  const auto& sale = reply.body;
  EXPECT_EQ(sale["subtotal_fen"], 2 * 12800 + 3518);
  EXPECT_EQ(sale["rounding_fen"], 8);  // 291.18 → 291.10
  EXPECT_EQ(sale["total_fen"], 29110);
  EXPECT_EQ(sale["change_fen"], 890);
  ASSERT_EQ(sale["lines"].size(), 2u);
  std::int64_t gross = 0;
  for (const auto& line : sale["lines"]) {
    EXPECT_EQ(line["fee_fen"].get<std::int64_t>() + line["share_fen"].get<std::int64_t>(),
              line["gross_fen"].get<std::int64_t>());
    EXPECT_EQ(line["commission_bps"], 1500);
    gross += line["gross_fen"].get<std::int64_t>();
  }
  EXPECT_EQ(gross, 29110);
  EXPECT_EQ(sale["lines"][1]["quantity"], 733);
  EXPECT_EQ(sale["lines"][1]["unit"], "g");
  EXPECT_EQ(sale["lines"][1]["lots"][0]["quantity"], 733);
  const std::string number = sale["number"];
  EXPECT_EQ(number.substr(0, 8), day(0).substr(0, 4) + day(0).substr(5, 2) + day(0).substr(8, 2));
  EXPECT_EQ(number.substr(number.size() - 5), "-0001");
  EXPECT_EQ(scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(longan)),
            5000 - 733);
  expect_books_agree();

  // The report of the shift sees it: cash expected = float + cash applied.
  const auto shift = api.call("GET", "/api/v1/pos/shifts/current", "cashier1");
  const auto report = api.call(
      "GET", "/api/v1/pos/shifts/" + std::to_string(shift.body["id"].get<int>()) + "/report",
      "cashier1");
  EXPECT_EQ(report.body["sales_count"], 1);
  EXPECT_EQ(report.body["expected_cash_fen"], 50000 + 9110);
}

TEST_F(CounterTest, ASalesAnswerIsExactlyWhatReadingItBackGives) {
  // The answer is built from what the sale wrote, not read back: it must not drift from GET.
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("RB1", "piece", 1000);
  const auto q = product("RB2", "piece", 250);
  receive(p, 2, "早批", day(5));
  receive(p, 5, "晚批", day(30));
  receive(q, 9, "Q1");
  const json body = {
      {"lines",
       {{{"product_id", p}, {"quantity", 3}, {"discount_fen", 100}},
        {{"product_id", q}, {"quantity", 2}},
        {{"product_id", p}, {"quantity", 1}}}},
      {"discount_fen", 55},
      {"tenders", {{{"method", "cash"}, {"amount_fen", 4345}, {"tendered_fen", 5000}}}}};
  const auto sold = sell(body, "k-readback");
  ASSERT_EQ(sold.status, 201) << sold.body;
  ASSERT_EQ(sold.body["lines"][0]["lots"].size(), 2u) << "3 from two lots, FEFO";
  EXPECT_EQ(sold.body["lines"][0]["lots"][0]["lot"], "早批");
  const auto read =
      api.call("GET", "/api/v1/pos/sales/" + std::to_string(sold.body["id"].get<std::int64_t>()),
               "cashier1");
  ASSERT_EQ(read.status, 200) << read.body;
  EXPECT_EQ(sold.body, read.body);
  expect_books_agree();
}

TEST_F(CounterTest, ALabelWhoseAmountDisagreesWithPriceTimesWeightIsRefused) {
  ASSERT_EQ(open_shift().status, 201);
  const auto longan = product("LONGAN", "g", 4800, {{"plu", 10007}});
  receive(longan, 5000, "L1");
  const auto before = footprint();
  const auto reply = sell({{"lines", {{{"code", label("26", 10007, {3600, 733})}}}},
                           {"tenders", {{{"method", "cash"}, {"amount_fen", 3600}}}}},
                          "k-mismatch");
  EXPECT_EQ(reply.status, 409) << reply.body;
  EXPECT_EQ(reply.body["error"]["code"], "label_price_mismatch");
  EXPECT_EQ(reply.body["error"]["details"]["label_fen"], "3600");
  EXPECT_EQ(reply.body["error"]["details"]["computed_fen"], "3518");
  EXPECT_EQ(footprint(), before);
}

TEST_F(CounterTest, ThirtyTwoConcurrentSalesOfTenInStockSellExactlyTen) {
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("HOT", "piece", 500);
  receive(p, 10, "H1");
  (void)api.call("GET", "/api/v1/pos/shifts/current", "cashier1");  // signs in before threads
  std::atomic<int> sold{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 32; ++i)
    threads.emplace_back([&, i] {
      const auto reply = sell(cash_sale(p, 1, 500), "k-hot-" + std::to_string(i));
      if (reply.status == 201)
        ++sold;
      else if (reply.status == 409 && reply.body["error"]["code"] == "out_of_stock")
        ++refused;
      else
        ++other;
    });
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(sold.load(), 10);
  EXPECT_EQ(refused.load(), 22);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(p)), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sales"), 10);
  expect_books_agree();
}

TEST_F(CounterTest, ConcurrentRetriesOfOneKeyMakeOneSaleAndReplayItByteForByte) {
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("P", "piece", 700);
  receive(p, 100, "P1");
  (void)api.call("GET", "/api/v1/pos/shifts/current", "cashier1");
  const auto body = cash_sale(p, 3, 2100);
  std::vector<std::string> bodies(8);
  std::vector<int> statuses(8);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      const auto reply = sell(body, "k-same");
      statuses[i] = reply.status;
      bodies[i] = std::string(reply.raw.payload());
    });
  for (auto& thread : threads)
    thread.join();
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(statuses[i], 201) << bodies[i];
    EXPECT_EQ(bodies[i], bodies[0]);
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sales"), 1);
  EXPECT_EQ(scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(p)), 97);
  const auto replay = sell(body, "k-same");
  EXPECT_EQ(std::string(replay.raw.payload()), bodies[0]);
  bool replayed = false;
  for (const auto& [name, value] : replay.raw.headers)
    replayed |= name == "Idempotent-Replayed" && value == "true";
  EXPECT_TRUE(replayed);
  const auto other = sell(cash_sale(p, 4, 2800), "k-same");
  EXPECT_EQ(other.status, 409);
  EXPECT_EQ(other.body["error"]["code"], "idempotency_mismatch");
  expect_books_agree();
}

TEST_F(CounterTest, RefusedSalesLeaveNothingBehind) {
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("P", "piece", 1000);
  const auto old = product("OLD", "piece", 1000);
  receive(p, 2, "P1");
  receive(old, 5, "O1", day(30));
  scalar("UPDATE stock_lots SET expires_on = '" + day(-1) + "' WHERE lot = 'O1'");  // now expired
  const auto before = footprint();
  struct Case {
    const char* name;
    json body;
    int status;
    const char* code;
  };
  const std::vector<Case> cases{
      {"out of stock", cash_sale(p, 3, 3000), 409, "out_of_stock"},
      {"only expired lots", cash_sale(old, 1, 1000), 409, "expired"},
      {"tenders short", cash_sale(p, 1, 900), 422, "invalid"},
      {"cash under amount",
       {{"lines", {{{"product_id", p}, {"quantity", 1}}}},
        {"tenders", {{{"method", "cash"}, {"amount_fen", 1000}, {"tendered_fen", 500}}}}},
       422,
       "invalid"},
      {"discount over the cashier's limit",
       {{"lines", {{{"product_id", p}, {"quantity", 1}, {"discount_fen", 500}}}},
        {"tenders", {{{"method", "cash"}, {"amount_fen", 500}}}}},
       403,
       "discount_limit"},
      {"unknown product", cash_sale(999999, 1, 1000), 422, "invalid"},
      {"unknown code",
       {{"lines", {{{"code", "6901234567892"}, {"quantity", 1}}}},
        {"tenders", {{{"method", "cash"}, {"amount_fen", 1000}}}}},
       422,
       "invalid"},
      {"a code that is not digits",
       {{"lines", {{{"code", "69012345678A2"}, {"quantity", 1}}}},
        {"tenders", {{{"method", "cash"}, {"amount_fen", 1000}}}}},
       422,
       "invalid"},
      {"an empty code",
       {{"lines", {{{"code", ""}, {"quantity", 1}}}},
        {"tenders", {{{"method", "cash"}, {"amount_fen", 1000}}}}},
       422,
       "invalid"},
      {"a code of 33 full-width digits",
       {{"lines",
         {{{"code",
            [] {
              std::string code;
              for (int i = 0; i < 33; ++i)
                code += "\uFF11";
              return code;
            }()},
           {"quantity", 1}}}},
        {"tenders", {{{"method", "cash"}, {"amount_fen", 1000}}}}},
       422,
       "invalid"},
      {"zero quantity", cash_sale(p, 0, 0), 422, "invalid"},
      {"fractional money",
       {{"lines", {{{"product_id", p}, {"quantity", 1}}}},
        {"tenders", {{{"method", "cash"}, {"amount_fen", 10.5}}}}},
       422,
       "invalid"},
      {"unknown tender",
       {{"lines", {{{"product_id", p}, {"quantity", 1}}}},
        {"tenders", {{{"method", "bitcoin"}, {"amount_fen", 1000}}}}},
       422,
       "invalid"},
      {"no lines", {{"lines", json::array()}, {"tenders", json::array()}}, 422, "invalid"},
      // Amounts whose sum is beyond int64: still "the tenders do not pay the total".
      {"tenders that overflow",
       {{"lines", {{{"product_id", p}, {"quantity", 1}}}},
        {"tenders",
         {{{"method", "wechat"}, {"amount_fen", 4611686018427387904}},
          {{"method", "card"}, {"amount_fen", 4611686018427387904}},
          {{"method", "alipay"}, {"amount_fen", 4611686018427387904}},
          {{"method", "other"}, {"amount_fen", 4611686018427388904}, {"reference", "x"}}}}},
       422,
       "invalid"},
      // A scanned code beside a product_id would be dropped without a word.
      {"product_id and code",
       {{"lines", {{{"product_id", p}, {"quantity", 1}, {"code", "6901234567892"}}}},
        {"tenders", {{{"method", "cash"}, {"amount_fen", 1000}}}}},
       422,
       "invalid"},
  };
  int n = 0;
  for (const auto& c : cases) {
    const auto reply = sell(c.body, "k-bad-" + std::to_string(n++));
    EXPECT_EQ(reply.status, c.status) << c.name << ": " << reply.body;
    EXPECT_EQ(reply.body["error"]["code"], c.code) << c.name << ": " << reply.body;
    if (c.status == 422) {
      EXPECT_TRUE(reply.body["error"]["details"].contains("field")) << c.name;
    }
  }
  EXPECT_EQ(sell(cases[cases.size() - 2].body, "k-overflow").body["error"]["details"]["field"],
            "tenders");
  EXPECT_EQ(sell(cases.back().body, "k-both").body["error"]["details"]["field"], "lines[0].code");
  const auto quoted = api.call("POST", "/api/v1/pos/quote", "cashier1", cases.back().body.dump());
  EXPECT_EQ(quoted.status, 422) << quoted.body;
  EXPECT_EQ(quoted.body["error"]["details"]["field"], "lines[0].code");
  const auto malformed =
      api.call("POST", "/api/v1/pos/sales", "cashier1", "{not json", {{"idempotency-key", "k-x"}});
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(footprint(), before);
  // A refused request stored nothing under its key: fixed, it may be retried with the same key.
  EXPECT_EQ(sell(cash_sale(p, 1, 1000), "k-bad-0").status, 201);
}

TEST_F(CounterTest, SalesTakeTheLotThatExpiresFirst) {
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("P", "piece", 1000);
  receive(p, 3, "LATE", day(60));
  receive(p, 2, "SOON", day(5));
  receive(p, 4, "NONE");
  const auto reply = sell(cash_sale(p, 4, 4000), "k-fefo");
  ASSERT_EQ(reply.status, 201) << reply.body;
  const auto& lots = reply.body["lines"][0]["lots"];
  ASSERT_EQ(lots.size(), 2u);
  EXPECT_EQ(lots[0]["lot"], "SOON");
  EXPECT_EQ(lots[0]["quantity"], 2);
  EXPECT_EQ(lots[1]["lot"], "LATE");
  EXPECT_EQ(lots[1]["quantity"], 2);
  expect_books_agree();
}

TEST_F(CounterTest, PartialRefundsSumExactlyToTheLineAndNeverExceedIt) {
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("P", "piece", 333);
  receive(p, 10, "P1");
  // 7 × ¥3.33 = ¥23.31, less ¥1.00 spread: an awkward gross for thirds.
  const json body = {{"lines", {{{"product_id", p}, {"quantity", 7}, {"discount_fen", 100}}}},
                     {"tenders", {{{"method", "alipay"}, {"amount_fen", 2231}}}}};
  const auto sale = sell(body, "k-r");
  ASSERT_EQ(sale.status, 201) << sale.body;
  const auto line = sale.body["lines"][0];
  const auto line_id = line["id"].get<std::int64_t>();
  // An empty list of lines is refused, not read as the whole sale (leaving it out is).
  const auto empty = api.call("POST", "/api/v1/pos/refunds", "cashier1",
                              json({{"sale_id", sale.body["id"]}, {"lines", json::array()}}).dump(),
                              {{"idempotency-key", "k-refund-empty"}});
  EXPECT_EQ(empty.status, 422) << empty.body;
  EXPECT_EQ(empty.body["error"]["details"]["field"], "lines");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refunds"), 0);
  std::int64_t gross = 0, fee = 0, share = 0;
  int k = 0;
  for (int quantity : {2, 1, 3, 1}) {
    const auto refund = api.call("POST", "/api/v1/pos/refunds", "cashier1",
                                 json({{"sale_id", sale.body["id"]},
                                       {"lines", {{{"line_id", line_id}, {"quantity", quantity}}}}})
                                     .dump(),
                                 {{"idempotency-key", "k-refund-" + std::to_string(k++)}});
    ASSERT_EQ(refund.status, 201) << refund.body;
    EXPECT_EQ(refund.body["method"], "alipay");
    gross += refund.body["total_fen"].get<std::int64_t>();
    fee += refund.body["lines"][0]["fee_fen"].get<std::int64_t>();
    share += refund.body["lines"][0]["share_fen"].get<std::int64_t>();
  }
  EXPECT_EQ(gross, line["gross_fen"].get<std::int64_t>());
  EXPECT_EQ(fee, line["fee_fen"].get<std::int64_t>());
  EXPECT_EQ(share, line["share_fen"].get<std::int64_t>());
  const auto over = api.call(
      "POST", "/api/v1/pos/refunds", "cashier1",
      json({{"sale_id", sale.body["id"]}, {"lines", {{{"line_id", line_id}, {"quantity", 1}}}}})
          .dump(),
      {{"idempotency-key", "k-refund-over"}});
  EXPECT_EQ(over.status, 409);
  EXPECT_EQ(over.body["error"]["code"], "refund_exceeds_sale");
  EXPECT_EQ(scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(p)), 10);
  // The village is owed nothing for a sale fully refunded.
  EXPECT_EQ(scalar("SELECT COALESCE(SUM(p.amount_fen), 0) FROM postings p JOIN ledger_accounts a "
                   "ON a.id = p.account_id WHERE a.code = 'village_payable:" +
                   std::to_string(api.station.village_a) + "'"),
            0);
  expect_books_agree();
}

TEST_F(CounterTest, ConcurrentRefundsOfOneLineNeverReturnMoreThanWasSold) {
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("P", "piece", 1000);
  receive(p, 5, "P1");
  const auto sale = sell(cash_sale(p, 5, 5000), "k-sale");
  ASSERT_EQ(sale.status, 201);
  const auto line_id = sale.body["lines"][0]["id"].get<std::int64_t>();
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      const auto reply = api.call(
          "POST", "/api/v1/pos/refunds", "cashier1",
          json({{"sale_id", sale.body["id"]}, {"lines", {{{"line_id", line_id}, {"quantity", 2}}}}})
              .dump(),
          {{"idempotency-key", "k-cr-" + std::to_string(i)}});
      if (reply.status == 201) ++ok;
      if (reply.status == 409) ++refused;
    });
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(ok.load(), 2);
  EXPECT_EQ(refused.load(), 6);
  EXPECT_EQ(
      scalar("SELECT refunded_quantity FROM sale_lines WHERE id = " + std::to_string(line_id)), 4);
  expect_books_agree();
}

// A busy counter: refunds of earlier sales racing new sales of the same products. Each gets
// through (a refund's lock on its lines must not take the products' and villages' rows, which
// every sale's lines need for their foreign keys: that deadlocked until the retries ran out).
TEST_F(CounterTest, RefundsRacingSalesOfTheSameProductsAllGetThrough) {
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("RA", "piece", 1000);
  const auto q = product("RB", "piece", 700);
  receive(p, 200, "RA1");
  receive(q, 200, "RB1");
  const json two_lines = {
      {"lines", {{{"product_id", p}, {"quantity", 1}}, {{"product_id", q}, {"quantity", 1}}}},
      {"tenders", {{{"method", "cash"}, {"amount_fen", 1700}}}}};
  std::vector<std::int64_t> earlier;
  for (int i = 0; i < 24; ++i) {
    const auto sale = sell(two_lines, "k-rs-" + std::to_string(i));
    ASSERT_EQ(sale.status, 201) << sale.body;
    earlier.push_back(sale.body["id"].get<std::int64_t>());
  }
  std::atomic<int> sold{0}, refunded{0};
  std::vector<std::string> failures;
  std::mutex failures_mutex;
  std::vector<std::thread> threads;
  for (int i = 0; i < 48; ++i)
    threads.emplace_back([&, i] {
      const bool refund = i % 2 == 1;
      const auto reply =
          refund ? api.call("POST", "/api/v1/pos/refunds", "cashier1",
                            json({{"sale_id", earlier[i / 2]}, {"method", "cash"}}).dump(),
                            {{"idempotency-key", "k-rr-" + std::to_string(i)}})
                 : api.call("POST", "/api/v1/pos/sales", "cashier1", two_lines.dump(),
                            {{"idempotency-key", "k-rn-" + std::to_string(i)}});
      if (reply.status == 201) {
        ++(refund ? refunded : sold);
      } else {
        std::lock_guard lock(failures_mutex);
        failures.push_back(std::to_string(reply.status) + " " + reply.body.dump());
      }
    });
  for (auto& thread : threads)
    thread.join();
  EXPECT_TRUE(failures.empty()) << failures.size() << " failed, first: " << failures.front();
  EXPECT_EQ(sold.load(), 24);
  EXPECT_EQ(refunded.load(), 24);
  expect_books_agree();
}

TEST_F(CounterTest, ACashierRefundsOnlySameDaySales) {
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("P", "piece", 1000);
  receive(p, 5, "P1");
  const auto sale = sell(cash_sale(p, 1, 1000), "k-old");
  ASSERT_EQ(sale.status, 201);
  api.station.database.with_connection([&](store::UnitOfWork& unit) {
    std::unique_ptr<sql::Statement> s(unit.connection().createStatement());
    s->execute("UPDATE sales SET business_day = '" + day(-1) + "'");
  });
  const json body = {{"sale_id", sale.body["id"]}};
  const auto cashier = api.call("POST", "/api/v1/pos/refunds", "cashier1", body.dump(),
                                {{"idempotency-key", "k-r1"}});
  EXPECT_EQ(cashier.status, 403) << cashier.body;
  ASSERT_EQ(open_shift("admin", "柜台2").status, 201);
  const auto admin =
      api.call("POST", "/api/v1/pos/refunds", "admin", body.dump(), {{"idempotency-key", "k-r2"}});
  EXPECT_EQ(admin.status, 201) << admin.body;
  EXPECT_EQ(admin.body["total_fen"], 1000);
}

TEST_F(CounterTest, AnOfflineSaleThatFindsTooLittleStockBooksAShortfallFirst) {
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("P", "piece", 1000);
  receive(p, 2, "P1");
  json body = cash_sale(p, 5, 5000);
  body["offline"] = true;
  body["rung_at"] = "2026-12-02T10:15:00+08:00";
  const auto reply = sell(body, "k-offline");
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(reply.body["offline"], true);
  EXPECT_EQ(scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(p)), 0);
  EXPECT_EQ(scalar("SELECT SUM(quantity) FROM stock_moves WHERE kind = 'shortfall'"), 3);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM stock_documents WHERE kind = 'shortfall'"), 1);
  // The manager's list of shortfalls names the product and what was missing.
  const auto shortfalls = api.call("GET", "/api/v1/stock/shortfalls", "admin");
  ASSERT_EQ(shortfalls.status, 200) << shortfalls.body;
  ASSERT_EQ(shortfalls.body["items"].size(), 1u);
  EXPECT_EQ(shortfalls.body["items"][0]["product_id"], p);
  EXPECT_EQ(shortfalls.body["items"][0]["quantity"], 3);
  EXPECT_EQ(shortfalls.body["items"][0]["by"], "cashier1");
  EXPECT_EQ(api.call("GET", "/api/v1/stock/shortfalls", "cashier1").status, 403);
  // Online, the same would have been refused.
  receive(p, 1, "P2");
  EXPECT_EQ(sell(cash_sale(p, 2, 2000), "k-online").status, 409);
  expect_books_agree();
}

TEST_F(CounterTest, AnOfflineSalesRungAtIsAnRfc3339InstantFrom2020OrA422NamingIt) {
  // The probe's F9: outside 1970–2038 a 422 that named no field (FROM_UNIXTIME failed in
  // MariaDB), 1969 stored as NULL, hour 25 taken as the next day, the fraction cut to 1/10 ms.
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("P", "piece", 1000);
  receive(p, 5, "P1");
  const auto before = scalar("SELECT COUNT(*) FROM sales");
  int n = 0;
  for (const char* bad :
       {"2038-01-20T00:00:00+08:00", "2100-01-01T00:00:00+08:00", "0001-01-01T00:00:00+08:00",
        "1969-12-31T23:59:59Z", "2019-12-31T23:59:59Z", "2026-12-07T25:00:00+08:00",
        "2026-12-07T10:61:00+08:00", "2026-12-02T10:15:00", "2026-12-02 10:15"}) {
    json body = cash_sale(p, 1, 1000);
    body["offline"] = true;
    body["rung_at"] = bad;
    const auto reply = sell(body, "k-rung-" + std::to_string(++n));
    EXPECT_EQ(reply.status, 422) << bad << " " << reply.body;
    EXPECT_EQ(reply.body["error"]["details"]["field"], "rung_at") << bad << " " << reply.body;
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sales"), before) << "nothing sold";
  // A good one is kept to the microsecond (a longer fraction cut), whatever its offset.
  json body = cash_sale(p, 1, 1000);
  body["offline"] = true;
  body["rung_at"] = "2026-12-02T10:15:00.123456789+08:00";
  const auto reply = sell(body, "k-rung-ok");
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(scalar("SELECT TIMESTAMPDIFF(MICROSECOND, TIMESTAMP'1970-01-01 00:00:00', rung_at) "
                   "FROM sales WHERE id = " +
                   reply.body["id"].dump()),
            1'796'177'700'123'456)  // 2026-12-02T02:15:00.123456Z
      << "kept in UTC to the microsecond";
  expect_books_agree();
}

TEST_F(CounterTest, AScanTypedInFullWidthDigitsIsTheSameCode) {
  // The probe's F17: a Chinese IME types "２１１…" into the scan field; that was "code too long".
  ASSERT_EQ(open_shift().status, 201);
  const auto longan = product("LONGAN", "g", 4800, {{"plu", 10007}});
  receive(longan, 5000, "L1");
  std::string wide;
  for (const char digit : label("21", 10007, {3518}))
    wide += "\xEF\xBC" + std::string(1, static_cast<char>(0x90 + (digit - '0')));
  const auto reply = sell(
      {{"lines", {{{"code", wide}}}}, {"tenders", {{{"method", "cash"}, {"amount_fen", 3518}}}}},
      "k-wide");
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(reply.body["lines"][0]["code"], label("21", 10007, {3518}));
  EXPECT_EQ(reply.body["lines"][0]["quantity"], 733);
}

TEST_F(CounterTest, AnOfflineSaleIsBookedAtThePriceTheTillShowedEvenAfterAChangeOrA下架) {
  // The probe's F6: a sale rung up offline before a price change or a 下架 was refused for ever
  // (422 on its tenders or its product): the goods and the cash had left the books' sight.
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("P", "piece", 1200);
  const auto longan = product("LONGAN", "g", 4000, {{"plu", 10007}});  // ¥40.00 per kg
  receive(p, 10, "P1");
  receive(longan, 5000, "L1");
  const auto id = std::to_string(p);
  ASSERT_EQ(api.call_json("PATCH", "/api/v1/products/" + id, "admin", {{"price_fen", 1300}}).status,
            200);
  ASSERT_EQ(api.call_json("PATCH", "/api/v1/products/" + std::to_string(longan), "admin",
                          {{"price_fen", 5000}})
                .status,
            200);
  const auto rung_at = [](int minutes_ago) {
    return domain::format_shanghai_time(std::chrono::duration_cast<std::chrono::microseconds>(
                                            std::chrono::system_clock::now().time_since_epoch())
                                            .count() -
                                        std::int64_t{minutes_ago} * 60'000'000);
  };
  const auto offline = [&](std::int64_t shown, std::int64_t paid) {
    json body = cash_sale(p, 1, paid);
    body["lines"][0]["unit_price_fen"] = shown;
    body["offline"] = true;
    body["rung_at"] = rung_at(5);
    return body;
  };
  // A price the till could not have shown, a nonsense one, and a stale till at the counter
  // (online: the customer has not paid, so it is told the price now): refused, nothing changes.
  const auto before = footprint();
  auto reply = sell(offline(1250, 1250), "k-never");
  EXPECT_EQ(reply.status, 422) << reply.body;
  EXPECT_EQ(reply.body["error"]["details"]["field"], "lines[0].unit_price_fen");
  for (const json& bad : {json(0), json(-1200), json(10'000'001), json("1200"), json(12.5)}) {
    json body = offline(1200, 1200);
    body["lines"][0]["unit_price_fen"] = bad;
    reply = sell(body, "k-bad-" + bad.dump());
    EXPECT_EQ(reply.status, 422) << bad << reply.body;
    EXPECT_EQ(reply.body["error"]["details"]["field"], "lines[0].unit_price_fen") << bad;
  }
  json stale = offline(1200, 1200);
  stale.erase("offline");
  stale.erase("rung_at");
  reply = sell(stale, "k-stale");
  EXPECT_EQ(reply.status, 409) << reply.body;
  EXPECT_EQ(reply.body["error"]["code"], "price_changed");
  EXPECT_EQ(reply.body["error"]["details"]["field"], "lines[0].unit_price_fen");
  EXPECT_EQ(reply.body["error"]["details"]["unit_price_fen"], "1300");
  EXPECT_EQ(footprint(), before);

  // At the price it had until a moment ago: booked at ¥12.00, and a retry is the same sale.
  const auto old_price = offline(1200, 1200);
  reply = sell(old_price, "k-old");
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(reply.body["total_fen"], 1200);
  EXPECT_EQ(reply.body["lines"][0]["unit_price_fen"], 1200);
  const auto again = sell(old_price, "k-old");
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body["id"], reply.body["id"]);
  // A weighed label priced by the till's ¥40/kg: ¥20.00 is 500 g, not the 400 g of ¥50/kg.
  json weighed = {{"lines", {{{"code", label("21", 10007, {2000})}, {"unit_price_fen", 4000}}}},
                  {"tenders", {{{"method", "cash"}, {"amount_fen", 2000}}}},
                  {"offline", true},
                  {"rung_at", rung_at(3)}};
  reply = sell(weighed, "k-label");
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(reply.body["lines"][0]["quantity"], 500);
  EXPECT_EQ(reply.body["lines"][0]["unit_price_fen"], 4000);

  // A price changed more than 7 days before the sale is not one the till could still show.
  scalar(
      "UPDATE product_price_changes SET changed_at = UTC_TIMESTAMP(6) - INTERVAL 8 DAY "
      "WHERE product_id = " +
      id);
  reply = sell(offline(1200, 1200), "k-too-old");
  EXPECT_EQ(reply.status, 422) << reply.body;
  EXPECT_EQ(reply.body["error"]["details"]["field"], "lines[0].unit_price_fen");

  // A price typed wrong (¥0.01) and mended a moment later: a till may have shown it since, but
  // not a sale rung up before it (the probe sold ¥130 of goods for ¥0.10 "rung in 2020").
  for (const std::int64_t price : {1, 1300})
    ASSERT_EQ(
        api.call_json("PATCH", "/api/v1/products/" + id, "admin", {{"price_fen", price}}).status,
        200);
  for (const int minutes_ago : {3 * 24 * 60, 5}) {
    json body = offline(1, 1);
    body["rung_at"] = rung_at(minutes_ago);
    reply = sell(body, "k-typo-" + std::to_string(minutes_ago));
    EXPECT_EQ(reply.status, 422) << minutes_ago << reply.body;
    EXPECT_EQ(reply.body["error"]["details"]["field"], "lines[0].unit_price_fen");
  }
  json body = offline(1, 1);
  body["rung_at"] = rung_at(-1);  // after the typo (a till's clock a minute ahead)
  reply = sell(body, "k-typo-shown");
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(reply.body["total_fen"], 1);

  // Taken off sale (下架) since: the till sold it, so it is booked; at the counter it is refused.
  ASSERT_EQ(api.call_json("PATCH", "/api/v1/products/" + id, "admin", {{"active", false}}).status,
            200);
  reply = sell(offline(1300, 1300), "k-delisted");
  ASSERT_EQ(reply.status, 201) << reply.body;
  EXPECT_EQ(reply.body["total_fen"], 1300);
  reply = sell(cash_sale(p, 1, 1300), "k-delisted-online");
  EXPECT_EQ(reply.status, 422) << reply.body;
  EXPECT_EQ(reply.body["error"]["details"]["field"], "lines[0].product_id");
  EXPECT_EQ(scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + id), 7);
  EXPECT_EQ(scalar("SELECT COALESCE(SUM(total_fen), 0) FROM sales"), 1200 + 2000 + 1 + 1300);
  expect_books_agree();
}

TEST_F(CounterTest, ClosingAShiftBooksTheDifferenceAndEmptiesTheDrawer) {
  const auto shift = open_shift("cashier1", "柜台1", 20000);
  ASSERT_EQ(shift.status, 201);
  const auto id = std::to_string(shift.body["id"].get<std::int64_t>());
  const auto p = product("P", "piece", 1500);
  receive(p, 10, "P1");
  ASSERT_EQ(sell(cash_sale(p, 2, 3000), "k-1").status, 201);
  ASSERT_EQ(api.call_json("POST", "/api/v1/pos/shifts/" + id + "/cash", "cashier1",
                          {{"amount_fen", -5000}, {"reason", "存入保险柜"}})
                .status,
            201);
  for (const char* reason : {"x\r\ny", "a\tb"}) {
    const auto broken = api.call_json("POST", "/api/v1/pos/shifts/" + id + "/cash", "cashier1",
                                      {{"amount_fen", 100}, {"reason", reason}});
    EXPECT_EQ(broken.status, 422) << broken.body;
    EXPECT_EQ(broken.body["error"]["details"]["field"], "reason");
  }
  EXPECT_EQ(api.call_json("POST", "/api/v1/pos/shifts/" + id + "/cash", "cashier1",
                          {{"amount_fen", 0}, {"reason", "x"}})
                .status,
            422);
  // Expected: 200.00 float + 30.00 sales − 50.00 out = 180.00; counted 179.50: short 0.50.
  const auto closed = api.call_json("POST", "/api/v1/pos/shifts/" + id + "/close", "cashier1",
                                    {{"counted_cash_fen", 17950}});
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(closed.body["expected_cash_fen"], 18000);
  EXPECT_EQ(closed.body["difference_fen"], -50);
  EXPECT_EQ(scalar("SELECT SUM(p.amount_fen) FROM postings p JOIN ledger_accounts a ON "
                   "a.id = p.account_id WHERE a.code = 'cash_drawer:1'"),
            0);
  EXPECT_EQ(scalar("SELECT SUM(p.amount_fen) FROM postings p JOIN ledger_accounts a ON "
                   "a.id = p.account_id WHERE a.code = 'cash_over_short'"),
            50);
  const auto again = api.call_json("POST", "/api/v1/pos/shifts/" + id + "/close", "cashier1",
                                   {{"counted_cash_fen", 17950}});
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(sell(cash_sale(p, 1, 1500), "k-2").body["error"]["code"], "no_open_shift");
  // Another cashier's shift is not theirs to read.
  EXPECT_EQ(api.call("GET", "/api/v1/pos/shifts/" + id + "/report", "cashier1").status, 200);
  expect_books_agree();
}

TEST_F(CounterTest, HeldCartsWaitAtTheirRegisterAndResumeOnce) {
  ASSERT_EQ(open_shift().status, 201);
  const auto held =
      api.call_json("POST", "/api/v1/pos/held-carts", "cashier1",
                    {{"label", "穿红衣的阿姨"}, {"cart", {{"lines", json::array()}}}});
  ASSERT_EQ(held.status, 201) << held.body;
  const auto list = api.call("GET", "/api/v1/pos/held-carts", "cashier1");
  ASSERT_EQ(list.body["items"].size(), 1u);
  const auto id = std::to_string(held.body["id"].get<std::int64_t>());
  // No fields to give: one given is refused and leaves the cart held.
  const auto with_field = api.call("POST", "/api/v1/pos/held-carts/" + id + "/resume", "cashier1",
                                   R"({"register_id":1})");
  EXPECT_EQ(with_field.status, 422) << with_field.body;
  EXPECT_EQ(with_field.body["error"]["details"]["field"], "register_id");
  EXPECT_EQ(api.call("POST", "/api/v1/pos/held-carts/" + id + "/resume", "cashier1").status, 200);
  EXPECT_EQ(api.call("POST", "/api/v1/pos/held-carts/" + id + "/resume", "cashier1").status, 404);
}

TEST_F(CounterTest, ACartNestedTooDeepIsA422NamingCartAndHoldsNothing) {
  // The probe's F13: 3000 nested arrays failed MariaDB's JSON check, a 422 naming the internal
  // "carts_json" instead of the request's "cart".
  ASSERT_EQ(open_shift().status, 201);
  const auto nested = [](int levels) {
    return R"({"cart":{"a":)" + std::string(levels, '[') + std::string(levels, ']') + "}}";
  };
  for (const int levels : {16, 31, 3000}) {
    const auto refused = api.call("POST", "/api/v1/pos/held-carts", "cashier1", nested(levels));
    EXPECT_EQ(refused.status, 422) << levels << " " << refused.body;
    EXPECT_EQ(refused.body["error"]["details"]["field"], "cart") << levels << " " << refused.body;
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM held_carts"), 0);
  // The page's cart is a few levels deep; 15 arrays in its object are still kept as they came.
  const auto kept = api.call("POST", "/api/v1/pos/held-carts", "cashier1", nested(15));
  ASSERT_EQ(kept.status, 201) << kept.body;
  EXPECT_EQ(kept.body["cart"].dump(), json::parse(nested(15))["cart"].dump());
}

TEST_F(CounterTest, TheCountersCatalogListsProductsNotShownOnlineForStaffOnly) {
  const auto shop_only = product("SHOP", "piece", 900, {{"online", false}});
  const auto listed = [&](const std::string& target, const std::string& as) {
    const auto reply = api.call("GET", target, as);
    EXPECT_EQ(reply.status, 200) << reply.body;
    for (const auto& item : reply.body["items"])
      if (item["id"] == shop_only) return true;
    return false;
  };
  EXPECT_TRUE(listed("/api/v1/products?channel=counter", "cashier1"));
  EXPECT_FALSE(listed("/api/v1/products", "cashier1"));
  EXPECT_FALSE(listed("/api/v1/products", ""));
  EXPECT_EQ(api.call("GET", "/api/v1/products?channel=counter", "").status, 403);
  EXPECT_EQ(api.call("GET", "/api/v1/products?channel=counter", "village1").status, 403);
  EXPECT_EQ(api.call("GET", "/api/v1/products?channel=shelf", "cashier1").status, 422);
}

TEST_F(CounterTest, ConcurrentSalesOfNeighbouringProductsNeverDeadlock) {
  ASSERT_EQ(open_shift().status, 201);
  std::vector<std::int64_t> products;
  for (int i = 0; i < 6; ++i) {
    products.push_back(product("N" + std::to_string(i), "piece", 100));
    receive(products.back(), 5000, "N" + std::to_string(i));
  }
  (void)api.call("GET", "/api/v1/pos/shifts/current", "cashier1");
  const auto retries_before = api.station.database.stats().retries;
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 15; ++i) {
        // Carts over neighbouring products, listed in either order.
        const auto a = products[(t + i) % products.size()];
        const auto b = products[(t + i + 1) % products.size()];
        const json body = {{"lines",
                            {{{"product_id", t % 2 ? a : b}, {"quantity", 1}},
                             {{"product_id", t % 2 ? b : a}, {"quantity", 1}}}},
                           {"tenders", {{{"method", "card"}, {"amount_fen", 200}}}}};
        if (sell(body, "k-n-" + std::to_string(t) + "-" + std::to_string(i)).status != 201)
          ++failed;
      }
    });
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(failed.load(), 0);
  // A deadlock or lock wait would have been retried: none may happen between these sales.
  EXPECT_EQ(api.station.database.stats().retries - retries_before, 0u);
  expect_books_agree();
}

TEST_F(CounterTest, AHeldCartIsAnsweredWhateverHowManyWaitAlready) {
  ASSERT_EQ(open_shift().status, 201);
  for (int i = 0; i < 101; ++i) {
    const auto held =
        api.call_json("POST", "/api/v1/pos/held-carts", "cashier1",
                      {{"label", "单 " + std::to_string(i)}, {"cart", json::object()}});
    ASSERT_EQ(held.status, 201) << i << ": " << held.body;
    EXPECT_EQ(held.body["label"], "单 " + std::to_string(i));
  }
}

TEST_F(CounterTest, ASaleThatComesToZeroTakesItsGoodsAndBooksNoMoney) {
  ASSERT_EQ(open_shift().status, 201);
  const auto peanuts = product("PEANUT", "g", 3600);  // ¥36 per kg
  const auto tea = product("TEA", "piece", 1200);
  receive(peanuts, 1000, "P1");
  receive(tea, 5, "T1");
  const auto entries_before = scalar("SELECT COUNT(*) FROM journal_entries");
  // 20 g = ¥0.72, 抹零 to the yuan: 0. With no tenders, and with an empty list.
  const json weighed = {{"lines", {{{"product_id", peanuts}, {"quantity", 20}}}},
                        {"rounding", "yuan"}};
  const auto quoted = api.call("POST", "/api/v1/pos/quote", "cashier1", weighed.dump());
  ASSERT_EQ(quoted.status, 200) << quoted.body;
  EXPECT_EQ(quoted.body["total_fen"], 0);
  const auto sold = sell(weighed, "k-zero-1");
  ASSERT_EQ(sold.status, 201) << sold.body;
  EXPECT_EQ(sold.body["total_fen"], 0);
  EXPECT_EQ(sold.body["rounding_fen"], 72);
  EXPECT_TRUE(sold.body["tenders"].empty());
  EXPECT_EQ(sold.body["lines"][0]["lots"][0]["quantity"], 20);
  json with_empty = weighed;
  with_empty["tenders"] = json::array();
  ASSERT_EQ(sell(with_empty, "k-zero-2").status, 201);
  // A tender on a sale of 0 pays more than the total.
  json paid = weighed;
  paid["tenders"] = {{{"method", "cash"}, {"amount_fen", 100}}};
  EXPECT_EQ(sell(paid, "k-zero-3").body["error"]["details"]["field"], "tenders");
  // An admin's 100 % discount.
  ASSERT_EQ(open_shift("admin", "柜台2", 0).status, 201);
  const auto given =
      sell({{"lines", {{{"product_id", tea}, {"quantity", 1}}}}, {"discount_fen", 1200}},
           "k-zero-admin", "admin");
  ASSERT_EQ(given.status, 201) << given.body;
  EXPECT_EQ(given.body["total_fen"], 0);
  // The goods left the shelf and the ledger says so; no money moved, so no journal entry.
  EXPECT_EQ(
      scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(peanuts)),
      960);
  EXPECT_EQ(scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(tea)),
            4);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM stock_moves WHERE kind = 'sale'"), 3);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries"), entries_before);
  expect_books_agree();

  // It comes back the same way: into stock, with a refund of 0 and no journal entry.
  const auto back =
      api.call("POST", "/api/v1/pos/refunds", "cashier1",
               json({{"sale_id", sold.body["id"]}}).dump(), {{"idempotency-key", "k-zero-refund"}});
  ASSERT_EQ(back.status, 201) << back.body;
  EXPECT_EQ(back.body["total_fen"], 0);
  EXPECT_EQ(back.body["method"], "cash");
  EXPECT_EQ(
      scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(peanuts)),
      980);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries"), entries_before);
  // A sale of 0 had no tender to go back to but cash.
  const auto card = api.call("POST", "/api/v1/pos/refunds", "admin",
                             json({{"sale_id", given.body["id"]}, {"method", "card"}}).dump(),
                             {{"idempotency-key", "k-zero-card"}});
  EXPECT_EQ(card.status, 422) << card.body;
  EXPECT_EQ(card.body["error"]["details"]["field"], "method");
  expect_books_agree();
}

TEST_F(CounterTest, ALineThatCameToZeroGoesBackIntoStockWithARefundOfZero) {
  ASSERT_EQ(open_shift("admin", "柜台1").status, 201);
  const auto p = product("P", "piece", 1000);
  const auto q = product("Q", "piece", 500);
  receive(p, 5, "P1");
  receive(q, 5, "Q1");
  // The first line is given away (an admin's line discount of all of it); the card pays the rest.
  const json body = {{"lines",
                      {{{"product_id", p}, {"quantity", 1}, {"discount_fen", 1000}},
                       {{"product_id", q}, {"quantity", 1}}}},
                     {"tenders", {{{"method", "card"}, {"amount_fen", 500}}}}};
  const auto sale = sell(body, "k-free-line", "admin");
  ASSERT_EQ(sale.status, 201) << sale.body;
  ASSERT_EQ(sale.body["lines"][0]["gross_fen"], 0);
  const auto entries_before = scalar("SELECT COUNT(*) FROM journal_entries");
  // Back to the card (the sale's own tender): nothing to pay, the goods return to the shelf.
  const auto back =
      api.call("POST", "/api/v1/pos/refunds", "admin",
               json({{"sale_id", sale.body["id"]},
                     {"lines", {{{"line_id", sale.body["lines"][0]["id"]}, {"quantity", 1}}}}})
                   .dump(),
               {{"idempotency-key", "k-free-back"}});
  ASSERT_EQ(back.status, 201) << back.body;
  EXPECT_EQ(back.body["total_fen"], 0);
  EXPECT_EQ(back.body["method"], "card");
  EXPECT_EQ(scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(p)), 5);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries"), entries_before);
  expect_books_agree();
}

TEST_F(CounterTest, ARefundGoesBackOnlyThroughATenderOfTheSaleOrInCash) {
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("P", "piece", 2500);
  receive(p, 5, "P1");
  const auto sale = sell({{"lines", {{{"product_id", p}, {"quantity", 2}}}},
                          {"tenders", {{{"method", "card"}, {"amount_fen", 5000}}}}},
                         "k-card");
  ASSERT_EQ(sale.status, 201) << sale.body;
  const auto line_id = sale.body["lines"][0]["id"];
  const auto refund = [&](const char* method, const std::string& key) {
    return api.call("POST", "/api/v1/pos/refunds", "cashier1",
                    json({{"sale_id", sale.body["id"]},
                          {"lines", {{{"line_id", line_id}, {"quantity", 1}}}},
                          {"method", method}})
                        .dump(),
                    {{"idempotency-key", key}});
  };
  const auto before = footprint();
  for (const char* method : {"other", "alipay", "wechat", "wechat_code"}) {
    const auto refused = refund(method, std::string("k-") + method);
    EXPECT_EQ(refused.status, 422) << method << ": " << refused.body;
    EXPECT_EQ(refused.body["error"]["details"]["field"], "method") << method;
  }
  EXPECT_EQ(footprint(), before);
  const auto to_card = refund("card", "k-to-card");
  ASSERT_EQ(to_card.status, 201) << to_card.body;
  EXPECT_EQ(to_card.body["method"], "card");
  const auto in_cash = refund("cash", "k-in-cash");
  ASSERT_EQ(in_cash.status, 201) << in_cash.body;
  EXPECT_EQ(in_cash.body["method"], "cash");
  expect_books_agree();
}

// A sale paid ¥1.00 by WeChat and ¥17.80 in cash: WeChat takes back at most its ¥1.00, over
// every refund of the sale (refund_exceeds_sale with what it still may); the rest goes back in
// cash. Without the cap the station's WeChat account paid out ¥18.80 it never received.
TEST_F(CounterTest, ARefundThroughAMethodGivesBackAtMostWhatThatMethodTook) {
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("P", "piece", 940);
  receive(p, 5, "P1");
  const auto sale = sell(
      {{"lines", {{{"product_id", p}, {"quantity", 2}}}},
       {"tenders",
        {{{"method", "wechat"}, {"amount_fen", 100}}, {{"method", "cash"}, {"amount_fen", 1780}}}}},
      "k-split");
  ASSERT_EQ(sale.status, 201) << sale.body;
  const auto line_id = sale.body["lines"][0]["id"];
  const auto refund = [&](const json& body, const std::string& key) {
    json full = body;
    full["sale_id"] = sale.body["id"];
    return api.call("POST", "/api/v1/pos/refunds", "cashier1", full.dump(),
                    {{"idempotency-key", key}});
  };
  const auto before = footprint();
  // The whole sale, with no method: the first tender's (WeChat) cannot take ¥18.80.
  for (const json& body : {json::object(), json{{"method", "wechat"}}}) {
    const auto refused = refund(body, "k-all-" + body.dump());
    EXPECT_EQ(refused.status, 409) << refused.body;
    EXPECT_EQ(refused.body["error"]["code"], "refund_exceeds_sale");
    EXPECT_EQ(refused.body["error"]["details"]["field"], "method");
    EXPECT_EQ(refused.body["error"]["details"]["refundable_fen"], "100");
    EXPECT_EQ(refused.body["error"]["details"]["asked_fen"], "1880");
  }
  EXPECT_EQ(footprint(), before);
  // A card that never paid anything of it is refused as before (not a tender of the sale).
  EXPECT_EQ(refund({{"method", "card"}}, "k-card").status, 422);
  // One piece (¥9.40) in cash, then the other: ¥9.40 > ¥1.00, so cash again.
  const json one = {{"lines", {{{"line_id", line_id}, {"quantity", 1}}}}};
  auto one_wechat = one;
  one_wechat["method"] = "wechat";
  EXPECT_EQ(refund(one_wechat, "k-one-wechat").status, 409);
  auto one_cash = one;
  one_cash["method"] = "cash";
  const auto in_cash = refund(one_cash, "k-one-cash");
  ASSERT_EQ(in_cash.status, 201) << in_cash.body;
  EXPECT_EQ(refund(one_cash, "k-one-cash").status, 201) << "a retry of the key is its answer";
  const auto second = refund(one_cash, "k-two-cash");
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(scalar("SELECT COALESCE(SUM(total_fen), 0) FROM refunds WHERE method = 'wechat'"), 0);
  expect_books_agree();
}

// Refunds to one method racing: together they never give back more than the method took.
TEST_F(CounterTest, ConcurrentRefundsToAMethodNeverGiveBackMoreThanItTook) {
  ASSERT_EQ(open_shift().status, 201);
  const auto p = product("P", "piece", 500);
  receive(p, 10, "P1");
  const auto sale = sell({{"lines", {{{"product_id", p}, {"quantity", 4}}}},
                          {"tenders",
                           {{{"method", "wechat"}, {"amount_fen", 1000}, {"reference", "wx-9"}},
                            {{"method", "cash"}, {"amount_fen", 1000}}}}},
                         "k-race-split");
  ASSERT_EQ(sale.status, 201) << sale.body;
  const auto line_id = sale.body["lines"][0]["id"];
  std::atomic<int> ok{0}, refused{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&, i] {
      const auto reply = api.call("POST", "/api/v1/pos/refunds", "cashier1",
                                  json({{"sale_id", sale.body["id"]},
                                        {"method", "wechat"},
                                        {"lines", {{{"line_id", line_id}, {"quantity", 1}}}}})
                                      .dump(),
                                  {{"idempotency-key", "k-race-wx-" + std::to_string(i)}});
      if (reply.status == 201) ++ok;
      if (reply.status == 409) ++refused;
    });
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(ok.load(), 2);
  EXPECT_EQ(refused.load(), 2);
  EXPECT_EQ(scalar("SELECT SUM(total_fen) FROM refunds WHERE method = 'wechat'"), 1000);
  expect_books_agree();
}

TEST_F(CounterTest, ACashMovementIsBookedOncePerKeyAndNeverTakesMoreThanTheDrawerHolds) {
  const auto shift = open_shift("cashier1", "柜台1", 20000);
  ASSERT_EQ(shift.status, 201);
  const auto path = "/api/v1/pos/shifts/" + std::to_string(shift.body["id"].get<std::int64_t>());
  const auto cash = [&](const json& body, std::optional<std::string> key) {
    std::map<std::string, std::string> headers;
    if (key) headers["idempotency-key"] = *key;
    return api.call("POST", path + "/cash", "cashier1", body.dump(), headers);
  };
  const json out = {{"amount_fen", -500}, {"reason", "bank"}};
  const auto first = cash(out, "k-cash");
  ASSERT_EQ(first.status, 201) << first.body;
  const auto retry = cash(out, "k-cash");
  EXPECT_EQ(retry.status, 201) << retry.body;
  EXPECT_EQ(retry.body, first.body);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM cash_movements"), 1);
  const auto other = cash({{"amount_fen", -600}, {"reason", "bank"}}, "k-cash");
  EXPECT_EQ(other.status, 409) << other.body;
  EXPECT_EQ(other.body["error"]["code"], "idempotency_mismatch");
  // The drawer holds the float less that: 195.00. Taking 195.01 is refused, 195.00 is not.
  const auto too_much = cash({{"amount_fen", -19501}, {"reason", "take all"}}, std::nullopt);
  EXPECT_EQ(too_much.status, 409) << too_much.body;
  EXPECT_EQ(too_much.body["error"]["details"]["field"], "amount_fen");
  EXPECT_EQ(too_much.body["error"]["details"]["expected_cash_fen"], "19500");
  for (const std::int64_t amount : {std::int64_t{-100'000'001}, std::int64_t{100'000'001}}) {
    const auto beyond = cash({{"amount_fen", amount}, {"reason", "x"}}, std::nullopt);
    EXPECT_EQ(beyond.status, 422) << beyond.body;
    EXPECT_EQ(beyond.body["error"]["details"]["field"], "amount_fen");
    EXPECT_EQ(beyond.body["error"]["message"].get<std::string>().find("non-zero"),
              std::string::npos)
        << beyond.body;
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM cash_movements"), 1);
  EXPECT_EQ(cash({{"amount_fen", -19500}, {"reason", "take all"}}, std::nullopt).status, 201);
  const auto report = api.call("GET", path + "/report", "cashier1");
  EXPECT_EQ(report.body["expected_cash_fen"], 0);
  expect_books_agree();
}
