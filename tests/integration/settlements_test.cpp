// Settlements on the real MariaDB through the API: draft → confirm → pay with the journal
// balanced, partial payouts (never more than remains, racing payouts never overpay), a refund
// after settlement on the next statement, racing confirmations, adjustments, bad input that
// changes nothing, payouts exactly once per key, a village sees only its own, and `yizhan check`
// catching a broken settlement.
#include <gtest/gtest.h>

#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <algorithm>
#include <atomic>
#include <thread>

#include "support/api_client.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/check.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/settlements.hpp"
#include "yizhan/service/stock.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/journal.hpp"

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

class SettlementTest : public ::testing::Test {
 protected:
  SettlementTest() {
    api.router = api::build_router({api.health, api.station.accounts, api.audit, api.catalog,
                                    &counter, &stock, nullptr, &settlements});
    tea = product("tea", api.station.village_a, 10000);     // 15%: fee 1500, share 8500
    peanuts = product("pea", api.station.village_b, 2000);  // 12%: fee 240, share 1760
    receive(tea, api.station.village_a, 100);
    receive(peanuts, api.station.village_b, 100);
    const auto shift = api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                                     {{"register", "柜台1"}, {"float_fen", 0}});
    EXPECT_EQ(shift.status, 201) << shift.body;
  }

  std::int64_t product(const std::string& sku, std::int64_t village_id, std::int64_t price_fen) {
    const auto created = api.call_json("POST", "/api/v1/products", "admin",
                                       {{"sku", sku},
                                        {"name", "商品 " + sku},
                                        {"village_id", village_id},
                                        {"category_id", 3},
                                        {"unit", "piece"},
                                        {"price_fen", price_fen}});
    EXPECT_EQ(created.status, 201) << created.body;
    return created.body["id"].get<std::int64_t>();
  }

  void receive(std::int64_t product_id, std::int64_t village_id, std::int64_t quantity) {
    const auto reply = api.call_json(
        "POST", "/api/v1/stock/receipts", "admin",
        {{"village_id", village_id},
         {"lines", {{{"product_id", product_id}, {"quantity", quantity}, {"lot", "L1"}}}}});
    ASSERT_EQ(reply.status, 201) << reply.body;
  }

  /// A cash sale; returns the sale.
  json sell(std::int64_t product_id, std::int64_t quantity, std::int64_t unit_price) {
    const json body = {{"lines", {{{"product_id", product_id}, {"quantity", quantity}}}},
                       {"tenders",
                        {{{"method", "cash"},
                          {"amount_fen", quantity * unit_price},
                          {"tendered_fen", quantity * unit_price}}}}};
    const auto sale = api.call("POST", "/api/v1/pos/sales", "cashier1", body.dump(),
                               {{"idempotency-key", "sale-" + std::to_string(++keys_)}});
    EXPECT_EQ(sale.status, 201) << sale.body;
    return sale.body;
  }

  json refund(const json& sale, std::int64_t quantity) {
    const json body = {
        {"sale_id", sale["id"]},
        {"lines",
         {{{"line_id", sale["lines"][0]["id"]}, {"quantity", quantity}, {"restock", true}}}},
        {"method", "cash"}};
    const auto refunded = api.call("POST", "/api/v1/pos/refunds", "cashier1", body.dump(),
                                   {{"idempotency-key", "refund-" + std::to_string(++keys_)}});
    EXPECT_EQ(refunded.status, 201) << refunded.body;
    return refunded.body;
  }

  ApiFixture::Reply draft(std::int64_t village_id, const std::string& from, const std::string& to) {
    return api.call_json("POST", "/api/v1/settlements", "admin",
                         {{"village_id", village_id}, {"from", from}, {"to", to}});
  }

  ApiFixture::Reply confirm(std::int64_t id) {
    return api.call("POST", "/api/v1/settlements/" + std::to_string(id) + "/confirm", "admin");
  }

  ApiFixture::Reply pay(std::int64_t id, const json& body, const std::string& key) {
    return api.call("POST", "/api/v1/settlements/" + std::to_string(id) + "/payouts", "admin",
                    body.dump(), {{"idempotency-key", key}});
  }

  static json bank_payout(std::int64_t amount) {
    return {{"amount_fen", amount},
            {"method", "bank"},
            {"reference", "农商行 转账 0042"},
            {"paid_on", day(0)}};
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

  void execute(const std::string& statement) {
    api.station.database.with_connection([&](store::UnitOfWork& unit) {
      std::unique_ptr<sql::Statement> s(unit.connection().createStatement());
      s->execute(statement);
    });
  }

  std::int64_t balance(const std::string& account) {
    return api.station.database.transact(
        [&](store::UnitOfWork& unit) { return store::account_balance(unit, account); });
  }

  /// Rows of every table a settlement request writes: a refused one leaves them as they were.
  std::string footprint() {
    std::string out;
    for (const char* table :
         {"settlements", "settlement_lines", "settlement_payouts", "village_adjustments",
          "journal_entries", "postings", "idempotency_keys", "audit_log"})
      out += std::string(table) + "=" +
             std::to_string(scalar(std::string("SELECT COUNT(*) FROM ") + table)) + " ";
    out += "settled=" +
           std::to_string(scalar("SELECT COUNT(*) FROM settlement_lines WHERE settled = 1"));
    out += " states=" + std::to_string(scalar("SELECT COALESCE(SUM(CASE state WHEN 'draft' THEN "
                                              "1 WHEN 'confirmed' THEN 10 ELSE 100 END), 0) "
                                              "FROM settlements"));
    return out;
  }

  std::vector<std::string> problems() {
    service::Checker checker(api.station.database);
    service::add_stock_checks(checker);
    service::add_journal_checks(checker);
    std::vector<std::string> out;
    for (const auto& result : checker.run())
      for (const auto& problem : result.problems)
        out.push_back(result.name + ": " + problem);
    return out;
  }

  void expect_books_agree() {
    for (const auto& problem : problems())
      ADD_FAILURE() << problem;
  }

  ApiFixture api;
  service::StockService stock{api.station.database};
  service::CounterService counter{api.station.database, service::CounterSettings{}};
  /// Days added to the settlement service's clock.
  std::atomic<int> later{0};
  service::SettlementService settlements{
      api.station.database,
      service::SettlementSettings{domain::TimeZone::shanghai(), "安海镇乡村联盟驿站", [this] {
                                    return std::chrono::system_clock::now() +
                                           std::chrono::days(later.load());
                                  }}};
  std::int64_t tea = 0;
  std::int64_t peanuts = 0;
  int keys_ = 0;
};

}  // namespace

TEST_F(SettlementTest, DraftConfirmAndPayWithTheJournalBalanced) {
  sell(tea, 2, 10000);
  sell(peanuts, 1, 2000);
  const auto created = draft(api.station.village_a, day(-30), day(0));
  ASSERT_EQ(created.status, 201) << created.body;
  const auto& s = created.body;
  EXPECT_EQ(s["state"], "draft");
  ASSERT_EQ(s["lines"].size(), 1u) << "village B's peanuts are not village A's";
  EXPECT_EQ(s["lines"][0]["kind"], "sale");
  EXPECT_EQ(s["lines"][0]["gross_fen"], 20000);
  EXPECT_EQ(s["lines"][0]["fee_fen"], 3000);
  EXPECT_EQ(s["lines"][0]["share_fen"], 17000);
  EXPECT_EQ(s["total_fen"], 17000);
  EXPECT_EQ(s["share_fen"], 17000);
  const auto id = s["id"].get<std::int64_t>();
  EXPECT_EQ(balance("village_payable:" + std::to_string(api.station.village_a)), -17000);

  // A draft can be neither paid nor confirmed twice: 409 naming both states.
  const auto early = pay(id, bank_payout(17000), "early");
  EXPECT_EQ(early.status, 409) << early.body;
  EXPECT_EQ(early.body["error"]["code"], "invalid_state");
  EXPECT_EQ(early.body["error"]["details"]["state"], "draft");
  EXPECT_EQ(early.body["error"]["details"]["to"], "paid");

  const auto confirmed = confirm(id);
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  EXPECT_EQ(confirmed.body["state"], "confirmed");
  EXPECT_FALSE(confirmed.body["confirmed_at"].is_null());
  const auto again = confirm(id);
  EXPECT_EQ(again.status, 409);
  EXPECT_EQ(again.body["error"]["details"]["state"], "confirmed");
  EXPECT_EQ(again.body["error"]["details"]["to"], "confirmed");

  // A sale after the draft does not change the frozen statement.
  sell(tea, 1, 10000);
  EXPECT_EQ(
      api.call("GET", "/api/v1/settlements/" + std::to_string(id), "admin").body["lines"].size(),
      1u);

  const auto paid = pay(id, bank_payout(17000), "pay-1");
  ASSERT_EQ(paid.status, 201) << paid.body;
  EXPECT_EQ(paid.body["state"], "paid");
  ASSERT_EQ(paid.body["payouts"].size(), 1u);
  EXPECT_EQ(paid.body["payouts"][0]["amount_fen"], 17000);
  EXPECT_EQ(paid.body["payouts"][0]["method"], "bank");
  EXPECT_EQ(paid.body["payouts"][0]["paid_on"], day(0));
  EXPECT_EQ(paid.body["paid_fen"], 17000);
  EXPECT_EQ(paid.body["remaining_fen"], 0);
  // The payable is down by the payout (the later sale's 8500 is still owed), the bank paid it.
  EXPECT_EQ(balance("village_payable:" + std::to_string(api.station.village_a)), -8500);
  EXPECT_EQ(balance("station_bank"), -17000);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'payout'"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'settlement'"), 3)
      << "draft, confirm and payout are audited";

  // The same key again is the same payout; another key finds it paid.
  const auto replay = pay(id, bank_payout(17000), "pay-1");
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.raw.payload(), paid.raw.payload());
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM settlement_payouts"), 1);
  const auto second = pay(id, bank_payout(17000), "pay-2");
  EXPECT_EQ(second.status, 409);
  EXPECT_EQ(second.body["error"]["details"]["state"], "paid");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM settlement_payouts"), 1);
  expect_books_agree();

  // The statement as Excel CSV and as a printable page.
  const auto csv = api.call(
      "GET", "/api/v1/settlements/" + std::to_string(id) + "/statement?format=csv", "admin");
  ASSERT_EQ(csv.status, 200);
  EXPECT_EQ(csv.raw.content_type, "text/csv; charset=utf-8");
  const std::string text(csv.raw.payload());
  EXPECT_TRUE(text.starts_with("\xEF\xBB\xBF序号 No.,"));
  EXPECT_NE(text.find(",200.00,30.00,170.00\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find("本期应付 Total payable,,,,,200.00,30.00,170.00\r\n"), std::string::npos);
  const auto html =
      api.call("GET", "/api/v1/settlements/" + std::to_string(id) + "/statement", "admin");
  ASSERT_EQ(html.status, 200);
  EXPECT_EQ(html.raw.content_type, "text/html; charset=utf-8");
  EXPECT_NE(html.raw.payload().find("村集体负责人（签字）"), std::string::npos);
  EXPECT_NE(html.raw.payload().find("农商行 转账 0042"), std::string::npos);
}

TEST_F(SettlementTest, ARefundOfSomethingSettledIsANegativeLineOfTheNextSettlement) {
  const auto sale = sell(tea, 2, 10000);
  const auto first = draft(api.station.village_a, day(0), day(0));
  ASSERT_EQ(first.status, 201) << first.body;
  const auto first_id = first.body["id"].get<std::int64_t>();
  ASSERT_EQ(confirm(first_id).status, 200);
  ASSERT_EQ(pay(first_id, bank_payout(17000), "p1").status, 201);

  refund(sale, 1);
  sell(tea, 3, 10000);
  // Tomorrow: the next period starts after the settled day; what is left over is carried in.
  later = 1;
  const auto overlapping = draft(api.station.village_a, day(0), day(1));
  EXPECT_EQ(overlapping.status, 409) << overlapping.body;
  EXPECT_EQ(overlapping.body["error"]["details"]["field"], "from");
  const auto next = draft(api.station.village_a, day(1), day(1));
  ASSERT_EQ(next.status, 201) << next.body;
  const auto& lines = next.body["lines"];
  ASSERT_EQ(lines.size(), 2u) << next.body;
  EXPECT_EQ(lines[0]["kind"], "sale");
  EXPECT_EQ(lines[0]["share_fen"], 25500);
  EXPECT_EQ(lines[1]["kind"], "refund");
  EXPECT_EQ(lines[1]["quantity"], -1);
  EXPECT_EQ(lines[1]["gross_fen"], -10000);
  EXPECT_EQ(lines[1]["share_fen"], -8500);
  EXPECT_EQ(next.body["refund_share_fen"], -8500);
  EXPECT_EQ(next.body["total_fen"], 25500 - 8500);
  // The first statement is frozen: the refund did not touch it.
  const auto frozen = api.call("GET", "/api/v1/settlements/" + std::to_string(first_id), "admin");
  EXPECT_EQ(frozen.body["total_fen"], 17000);
  EXPECT_EQ(frozen.body["lines"].size(), 1u);

  const auto next_id = next.body["id"].get<std::int64_t>();
  ASSERT_EQ(confirm(next_id).status, 200);
  auto payout = bank_payout(17000);
  const auto before_end = pay(next_id, payout, "p2");
  EXPECT_EQ(before_end.status, 422) << "paid before the period ended";
  EXPECT_EQ(before_end.body["error"]["details"]["field"], "paid_on");
  payout["paid_on"] = day(1);
  ASSERT_EQ(pay(next_id, payout, "p3").status, 201);
  EXPECT_EQ(balance("village_payable:" + std::to_string(api.station.village_a)), 0)
      << "everything sold, less the refund, has been paid";
  expect_books_agree();
}

TEST_F(SettlementTest, TwoConfirmationsRaceAndOneWins) {
  sell(tea, 1, 10000);
  sell(tea, 2, 10000);
  // Two drafts holding the same lines, and one draft confirmed twice at once.
  const auto x = draft(api.station.village_a, day(0), day(0)).body["id"].get<std::int64_t>();
  const auto y = draft(api.station.village_a, day(0), day(0)).body["id"].get<std::int64_t>();
  {
    std::atomic<int> go{0};
    int statuses[2] = {0, 0};
    std::thread a([&] {
      while (go.load() == 0) {
      }
      statuses[0] = confirm(x).status;
    });
    std::thread b([&] {
      while (go.load() == 0) {
      }
      statuses[1] = confirm(y).status;
    });
    go = 1;
    a.join();
    b.join();
    EXPECT_EQ(std::min(statuses[0], statuses[1]), 200);
    EXPECT_EQ(std::max(statuses[0], statuses[1]), 409);
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM settlements WHERE state = 'confirmed'"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM settlement_lines WHERE settled = 1"), 2);

  // The same draft confirmed by two managers at once: once.
  sell(tea, 1, 10000);
  later = 1;
  const auto z = draft(api.station.village_a, day(1), day(1)).body["id"].get<std::int64_t>();
  std::atomic<int> go{0};
  int statuses[2] = {0, 0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 2; ++i) {
    threads.emplace_back([&, i] {
      while (go.load() == 0) {
      }
      statuses[i] = confirm(z).status;
    });
  }
  go = 1;
  for (auto& thread : threads)
    thread.join();
  EXPECT_EQ(std::min(statuses[0], statuses[1]), 200);
  EXPECT_EQ(std::max(statuses[0], statuses[1]), 409);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM settlement_lines WHERE settled = 1"), 3);
  expect_books_agree();
}

TEST_F(SettlementTest, AStaleDraftWhoseLinesWereSettledElsewhereIsRefusedByTheSchema) {
  sell(tea, 1, 10000);
  // Tomorrow's draft carries today's line; then today is settled by another draft.
  later = 1;
  const auto stale = draft(api.station.village_a, day(1), day(1));
  ASSERT_EQ(stale.status, 201);
  ASSERT_EQ(stale.body["lines"].size(), 1u);
  const auto today = draft(api.station.village_a, day(0), day(0));
  ASSERT_EQ(confirm(today.body["id"].get<std::int64_t>()).status, 200);

  const auto before = footprint();
  const auto refused = confirm(stale.body["id"].get<std::int64_t>());
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.body["error"]["code"], "conflict");
  EXPECT_EQ(refused.body["error"]["details"]["settlement_id"],
            std::to_string(today.body["id"].get<std::int64_t>()));
  EXPECT_EQ(footprint(), before);
  // The unique key itself refuses a second settled copy of a line, whatever the code does.
  EXPECT_ANY_THROW(execute("UPDATE settlement_lines SET settled = 1 WHERE settlement_id = " +
                           std::to_string(stale.body["id"].get<std::int64_t>())));
  expect_books_agree();
}

TEST_F(SettlementTest, AnAdjustmentIsAJournalEntryOnTheNextStatement) {
  sell(tea, 1, 10000);
  const auto path = "/api/v1/villages/" + std::to_string(api.station.village_a) + "/adjustments";
  const json body = {{"amount_fen", -800}, {"reason", "包装费 Packaging, November"}};
  const auto made = api.call("POST", path, "admin", body.dump(), {{"idempotency-key", "adj-1"}});
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_EQ(made.body["amount_fen"], -800);
  EXPECT_TRUE(made.body["settlement_id"].is_null());
  const auto replay = api.call("POST", path, "admin", body.dump(), {{"idempotency-key", "adj-1"}});
  EXPECT_EQ(replay.raw.payload(), made.raw.payload());
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM village_adjustments"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'adjustment'"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'village_adjustment'"), 1);
  EXPECT_EQ(balance("village_payable:" + std::to_string(api.station.village_a)), -8500 + 800);

  const auto created = draft(api.station.village_a, day(0), day(0));
  ASSERT_EQ(created.status, 201);
  const auto& lines = created.body["lines"];
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[1]["kind"], "adjustment");
  EXPECT_EQ(lines[1]["description"], "包装费 Packaging, November");
  EXPECT_EQ(lines[1]["share_fen"], -800);
  EXPECT_EQ(created.body["adjustments_fen"], -800);
  EXPECT_EQ(created.body["total_fen"], 8500 - 800);
  const auto id = created.body["id"].get<std::int64_t>();
  ASSERT_EQ(confirm(id).status, 200);
  const auto listed = api.call("GET", path, "village1");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body["items"][0]["settlement_id"], id);
  ASSERT_EQ(pay(id, bank_payout(7700), "pay").status, 201);
  EXPECT_EQ(balance("village_payable:" + std::to_string(api.station.village_a)), 0);
  expect_books_agree();
}

TEST_F(SettlementTest, BadInputNamesTheFieldAndChangesNothing) {
  sell(tea, 1, 10000);
  const auto draft_id = draft(api.station.village_a, day(0), day(0)).body["id"].get<std::int64_t>();
  const auto before = footprint();
  const auto expect_refused = [&](const ApiFixture::Reply& reply, int status,
                                  const std::string& field) {
    EXPECT_EQ(reply.status, status) << reply.body;
    if (!field.empty()) {
      EXPECT_EQ(reply.body["error"]["details"]["field"], field) << reply.body;
    }
    EXPECT_EQ(footprint(), before) << reply.body;
  };
  const auto a = api.station.village_a;
  expect_refused(draft(999999, day(0), day(0)), 422, "village_id");
  expect_refused(draft(a, day(0), day(-1)), 422, "to");
  expect_refused(draft(a, day(0), day(1)), 422, "to");
  expect_refused(draft(a, "2026-02-30", day(0)), 422, "from");
  expect_refused(
      api.call_json("POST", "/api/v1/settlements", "admin",
                    {{"village_id", std::to_string(a)}, {"from", day(0)}, {"to", day(0)}}),
      422, "village_id");
  expect_refused(
      api.call_json("POST", "/api/v1/settlements", "admin", {{"village_id", a}, {"to", day(0)}}),
      422, "from");
  expect_refused(api.call_json("POST", "/api/v1/settlements", "admin",
                               {{"village_id", a}, {"from", day(0)}, {"to", day(0)}, {"x", 1}}),
                 422, "x");
  expect_refused(api.call("POST", "/api/v1/settlements", "admin", "[1]"), 400, "");

  // Payouts: of a draft, of no or too much money, by an unknown method, without a reference or
  // key.
  expect_refused(pay(draft_id, bank_payout(8500), "k1"), 409, "");
  expect_refused(confirm(999999), 404, "");
  // Confirming takes no fields: one given is refused, not ignored.
  expect_refused(api.call("POST", "/api/v1/settlements/" + std::to_string(draft_id) + "/confirm",
                          "admin", R"({"total_fen":1})"),
                 422, "total_fen");
  ASSERT_EQ(confirm(draft_id).status, 200);
  const auto confirmed = footprint();
  const auto expect_payout_refused = [&](const json& body, int status, const std::string& field) {
    const auto reply = pay(draft_id, body, "k-" + std::to_string(++keys_));
    EXPECT_EQ(reply.status, status) << reply.body;
    if (!field.empty()) {
      EXPECT_EQ(reply.body["error"]["details"]["field"], field) << reply.body;
    }
    EXPECT_EQ(footprint(), confirmed) << reply.body;
  };
  expect_payout_refused(bank_payout(8501), 422, "amount_fen");
  expect_payout_refused(bank_payout(0), 422, "amount_fen");
  expect_payout_refused(bank_payout(-100), 422, "amount_fen");
  auto body = bank_payout(8500);
  body["method"] = "wechat";
  expect_payout_refused(body, 422, "method");
  body = bank_payout(8500);
  body.erase("reference");
  expect_payout_refused(body, 422, "reference");
  // Blanks (ASCII or the ideographic space a Chinese keyboard types) are no reference either.
  for (const char* blank : {"   ", "\t\n", "\xE3\x80\x80 "}) {
    body["reference"] = blank;
    expect_payout_refused(body, 422, "reference");
  }
  body = bank_payout(8500);
  body["paid_on"] = day(1);
  expect_payout_refused(body, 422, "paid_on");
  body["paid_on"] = day(-1);
  expect_payout_refused(body, 422, "paid_on");
  body = bank_payout(8500);
  body["amount_fen"] = 85.0;
  expect_payout_refused(body, 422, "amount_fen");
  const auto keyless =
      api.call("POST", "/api/v1/settlements/" + std::to_string(draft_id) + "/payouts", "admin",
               bank_payout(8500).dump());
  EXPECT_EQ(keyless.status, 400);
  EXPECT_EQ(keyless.body["error"]["code"], "idempotency_key_required");
  EXPECT_EQ(footprint(), confirmed);

  // Adjustments.
  const auto path = "/api/v1/villages/" + std::to_string(a) + "/adjustments";
  const auto adjust = [&](const json& b) {
    return api.call("POST", path, "admin", b.dump(),
                    {{"idempotency-key", "a-" + std::to_string(++keys_)}});
  };
  const auto expect_adjustment_refused = [&](const ApiFixture::Reply& reply, int status,
                                             const std::string& field) {
    EXPECT_EQ(reply.status, status) << reply.body;
    if (!field.empty()) {
      EXPECT_EQ(reply.body["error"]["details"]["field"], field) << reply.body;
    }
    EXPECT_EQ(footprint(), confirmed) << reply.body;
  };
  expect_adjustment_refused(adjust({{"amount_fen", 0}, {"reason", "x"}}), 422, "amount_fen");
  expect_adjustment_refused(adjust({{"amount_fen", 100}, {"reason", ""}}), 422, "reason");
  expect_adjustment_refused(adjust({{"amount_fen", 100}}), 422, "reason");
  expect_adjustment_refused(adjust({{"amount_fen", 100000000000000LL}, {"reason", "x"}}), 422,
                            "amount_fen");
  expect_adjustment_refused(
      api.call("POST", "/api/v1/villages/999999/adjustments", "admin",
               json{{"amount_fen", 100}, {"reason", "x"}}.dump(), {{"idempotency-key", "a-x"}}),
      404, "");
  expect_adjustment_refused(
      api.call("POST", path, "admin", json{{"amount_fen", 100}, {"reason", "x"}}.dump()), 400, "");
  expect_books_agree();
}

TEST_F(SettlementTest, AVillageSeesItsOwnSettlementsOnlyAndWritesNone) {
  sell(tea, 1, 10000);
  sell(peanuts, 1, 2000);
  const auto mine = draft(api.station.village_a, day(0), day(0)).body["id"].get<std::int64_t>();
  const auto theirs = draft(api.station.village_b, day(0), day(0)).body["id"].get<std::int64_t>();
  const auto listed = api.call("GET", "/api/v1/settlements", "village1");
  ASSERT_EQ(listed.status, 200);
  ASSERT_EQ(listed.body["items"].size(), 1u);
  EXPECT_EQ(listed.body["items"][0]["id"], mine);
  EXPECT_EQ(
      api.call("GET", "/api/v1/settlements?village_id=" + std::to_string(api.station.village_b),
               "village1")
          .status,
      403);
  const auto other = "/api/v1/settlements/" + std::to_string(theirs);
  for (const auto& target : {other, other + "/statement", other + "/statement?format=csv"}) {
    const auto reply = api.call("GET", target, "village1");
    EXPECT_EQ(reply.status, 404) << target;
    EXPECT_EQ(std::string(reply.raw.payload()).find("vilb"), std::string::npos) << target;
  }
  EXPECT_EQ(api.call("GET", "/api/v1/settlements/" + std::to_string(mine) + "/statement?format=csv",
                     "village1")
                .status,
            200);
  EXPECT_EQ(
      api.call("GET", "/api/v1/villages/" + std::to_string(api.station.village_b) + "/adjustments",
               "village1")
          .status,
      403);
  EXPECT_EQ(api.call("POST", other + "/confirm", "village2").status, 403);
  EXPECT_EQ(api.call("GET", other, "cashier1").status, 403);
}

TEST_F(SettlementTest, CheckCatchesABrokenSettlement) {
  sell(tea, 2, 10000);
  const auto x = draft(api.station.village_a, day(0), day(0)).body["id"].get<std::int64_t>();
  const auto y = draft(api.station.village_a, day(0), day(0)).body["id"].get<std::int64_t>();
  ASSERT_EQ(confirm(x).status, 200);
  ASSERT_EQ(pay(x, bank_payout(17000), "p").status, 201);
  ASSERT_TRUE(problems().empty());
  const auto contains = [](const std::vector<std::string>& found, const std::string& what) {
    for (const auto& problem : found)
      if (problem.find(what) != std::string::npos) return true;
    return false;
  };

  // A payout that no longer matches its journal entry or its settlement's total.
  execute("UPDATE settlement_payouts SET amount_fen = amount_fen - 1");
  auto found = problems();
  EXPECT_TRUE(contains(found, "payable = shares − refunded shares + adjustments − payouts"));
  EXPECT_TRUE(contains(found, "paid ⇔ the payouts cover the total"));
  execute("UPDATE settlement_payouts SET amount_fen = amount_fen + 1");
  ASSERT_TRUE(problems().empty());

  // A frozen line gone: the stored totals no longer are the sum of the lines.
  execute("DELETE FROM settlement_lines WHERE settlement_id = " + std::to_string(x));
  found = problems();
  EXPECT_TRUE(contains(found, "settlement " + std::to_string(x) + ": stored 1 lines"));
  execute(
      "INSERT INTO settlement_lines (settlement_id, line_kind, line_id, business_day, "
      "document, description, unit, quantity, gross_fen, fee_fen, share_fen, settled) "
      "SELECT " +
      std::to_string(x) +
      ", line_kind, line_id, business_day, document, "
      "description, unit, quantity, gross_fen, fee_fen, share_fen, 1 FROM settlement_lines "
      "WHERE settlement_id = " +
      std::to_string(y));
  ASSERT_TRUE(problems().empty());

  // A second settlement marked confirmed behind the code's back: its line is now in two.
  execute(
      "UPDATE settlements SET state = 'confirmed', confirmed_at = UTC_TIMESTAMP(6) "
      "WHERE id = " +
      std::to_string(y));
  found = problems();
  EXPECT_TRUE(contains(found, "in 2 confirmed settlements"));
  EXPECT_TRUE(contains(found, "settled flag disagrees"));
}

TEST_F(SettlementTest, TwoPartialPayoutsPayTheSettlementAndNeverMoreThanRemains) {
  sell(tea, 2, 10000);
  const auto id = draft(api.station.village_a, day(0), day(0)).body["id"].get<std::int64_t>();
  ASSERT_EQ(confirm(id).status, 200);
  const auto payable = "village_payable:" + std::to_string(api.station.village_a);

  // A first part by bank: still confirmed, 120.00 remaining, the journal shows the part paid.
  const auto first = pay(id, bank_payout(5000), "part-1");
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.body["state"], "confirmed");
  EXPECT_EQ(first.body["paid_fen"], 5000);
  EXPECT_EQ(first.body["remaining_fen"], 12000);
  ASSERT_EQ(first.body["payouts"].size(), 1u);
  EXPECT_EQ(balance(payable), -12000);
  EXPECT_EQ(balance("station_bank"), -5000);
  expect_books_agree();

  // More than remains is refused, naming amount_fen and saying what remains; nothing changes.
  const auto before = footprint();
  const auto over = pay(id, bank_payout(12001), "part-over");
  EXPECT_EQ(over.status, 422) << over.body;
  EXPECT_EQ(over.body["error"]["details"]["field"], "amount_fen");
  EXPECT_EQ(over.body["error"]["details"]["remaining_fen"], "12000");
  EXPECT_EQ(footprint(), before);

  // The rest in cash: paid, both payouts listed in order, two journal and audit entries.
  const json rest = {{"amount_fen", 12000}, {"method", "cash"}, {"paid_on", day(0)}};
  const auto second = pay(id, rest, "part-2");
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(second.body["state"], "paid");
  EXPECT_EQ(second.body["paid_fen"], 17000);
  EXPECT_EQ(second.body["remaining_fen"], 0);
  ASSERT_EQ(second.body["payouts"].size(), 2u);
  EXPECT_EQ(second.body["payouts"][0]["amount_fen"], 5000);
  EXPECT_EQ(second.body["payouts"][0]["method"], "bank");
  EXPECT_EQ(second.body["payouts"][1]["amount_fen"], 12000);
  EXPECT_EQ(second.body["payouts"][1]["method"], "cash");
  EXPECT_EQ(balance(payable), 0);
  EXPECT_EQ(balance("station_bank"), -5000);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'payout'"), 2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'settlement'"), 4)
      << "draft, confirm and two payouts";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries e JOIN settlement_payouts p "
                   "ON e.kind = 'payout' AND e.document_id = p.id"),
            2)
      << "each payout has its own journal entry";

  // Paid: a third is refused, by another key; the first key again is the first payout's reply.
  const auto third = pay(id, bank_payout(1), "part-3");
  EXPECT_EQ(third.status, 409) << third.body;
  EXPECT_EQ(third.body["error"]["code"], "invalid_state");
  const auto replay = pay(id, bank_payout(5000), "part-1");
  EXPECT_EQ(replay.status, 201);
  EXPECT_EQ(replay.raw.payload(), first.raw.payload());
  const auto reused = pay(id, bank_payout(4000), "part-1");
  EXPECT_EQ(reused.status, 409) << "a key reused for another amount";
  EXPECT_EQ(reused.body["error"]["code"], "idempotency_mismatch");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM settlement_payouts"), 2);

  // The list, the village's view and both statements show both payouts.
  const auto listed = api.call("GET", "/api/v1/settlements", "village1");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body["items"][0]["payouts"].size(), 2u);
  EXPECT_EQ(listed.body["items"][0]["paid_fen"], 17000);
  const auto csv = api.call(
      "GET", "/api/v1/settlements/" + std::to_string(id) + "/statement?format=csv", "village1");
  ASSERT_EQ(csv.status, 200);
  const std::string text(csv.raw.payload());
  EXPECT_NE(text.find(",付款 Payout,银行转账 Bank transfer,农商行 转账 0042,,,,,50.00\r\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find(",付款 Payout,现金 Cash,,,,,,120.00\r\n"), std::string::npos) << text;
  EXPECT_NE(text.find(",,已付合计 Paid,,,,,,,170.00\r\n"), std::string::npos) << text;
  EXPECT_TRUE(text.ends_with(",,未付 Remaining,,,,,,,0.00\r\n")) << text;
  const auto html =
      api.call("GET", "/api/v1/settlements/" + std::to_string(id) + "/statement", "village1");
  ASSERT_EQ(html.status, 200);
  const std::string page(html.raw.payload());
  EXPECT_NE(page.find("农商行 转账 0042"), std::string::npos);
  EXPECT_NE(page.find("<td>现金 Cash</td>"), std::string::npos);
  expect_books_agree();
}

TEST_F(SettlementTest, ConcurrentPayoutsNeverPayMoreThanTheTotal) {
  sell(tea, 2, 10000);  // 170.00 owed
  const auto id = draft(api.station.village_a, day(0), day(0)).body["id"].get<std::int64_t>();
  ASSERT_EQ(confirm(id).status, 200);

  // Four managers pay 50.00 each at once, each with a key of its own: three fit, one does not.
  const auto race = [&](int threads, std::int64_t amount, const std::string& prefix) {
    std::atomic<int> go{0};
    std::vector<int> statuses(threads, 0);
    std::vector<std::thread> running;
    for (int i = 0; i < threads; ++i) {
      running.emplace_back([&, i] {
        while (go.load() == 0) {
        }
        statuses[i] = pay(id, bank_payout(amount), prefix + std::to_string(i)).status;
      });
    }
    go = 1;
    for (auto& thread : running)
      thread.join();
    std::sort(statuses.begin(), statuses.end());
    return statuses;
  };
  EXPECT_EQ(race(4, 5000, "race-a-"), (std::vector<int>{201, 201, 201, 422}));
  EXPECT_EQ(scalar("SELECT SUM(amount_fen) FROM settlement_payouts"), 15000);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM settlements WHERE state = 'confirmed'"), 1);

  // Two pay the last 20.00 at once: one pays it, the other finds the settlement paid.
  EXPECT_EQ(race(2, 2000, "race-b-"), (std::vector<int>{201, 409}));
  EXPECT_EQ(scalar("SELECT SUM(amount_fen) FROM settlement_payouts"), 17000);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM settlements WHERE state = 'paid'"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'payout'"), 4);
  EXPECT_EQ(balance("village_payable:" + std::to_string(api.station.village_a)), 0);
  expect_books_agree();
}

TEST_F(SettlementTest, ARetriedPayoutIsOnePayoutEvenWhenTheRetriesRace) {
  sell(tea, 2, 10000);
  const auto id = draft(api.station.village_a, day(0), day(0)).body["id"].get<std::int64_t>();
  ASSERT_EQ(confirm(id).status, 200);
  // A phone that lost the answer sends the same request with the same key, twice at once.
  std::atomic<int> go{0};
  ApiFixture::Reply replies[2];
  std::vector<std::thread> running;
  for (int i = 0; i < 2; ++i) {
    running.emplace_back([&, i] {
      while (go.load() == 0) {
      }
      replies[i] = pay(id, bank_payout(6000), "retried");
    });
  }
  go = 1;
  for (auto& thread : running)
    thread.join();
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM settlement_payouts"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'payout'"), 1);
  int created = 0;
  for (const auto& reply : replies) {
    if (reply.status == 201) {
      ++created;
      EXPECT_EQ(reply.body["paid_fen"], 6000);
    } else {
      // Only "still in progress, retry" may come back instead of the payout.
      EXPECT_EQ(reply.status, 409) << reply.body;
    }
  }
  EXPECT_GE(created, 1);
  // And once more later: the same payout, not a second one.
  const auto again = pay(id, bank_payout(6000), "retried");
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.body["paid_fen"], 6000);
  EXPECT_EQ(again.body["payouts"].size(), 1u);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM settlement_payouts"), 1);
  expect_books_agree();
}

TEST_F(SettlementTest, CheckCatchesOverpaidAndMislabelledSettlements) {
  sell(tea, 2, 10000);
  const auto id = draft(api.station.village_a, day(0), day(0)).body["id"].get<std::int64_t>();
  ASSERT_EQ(confirm(id).status, 200);
  ASSERT_EQ(pay(id, bank_payout(5000), "c1").status, 201);
  ASSERT_TRUE(problems().empty());
  const auto contains = [](const std::vector<std::string>& found, const std::string& what) {
    for (const auto& problem : found)
      if (problem.find(what) != std::string::npos) return true;
    return false;
  };
  const auto settlement = "settlement " + std::to_string(id);
  // Marked paid while 120.00 remains.
  execute("UPDATE settlements SET state = 'paid' WHERE id = " + std::to_string(id));
  EXPECT_TRUE(contains(problems(), settlement + " (paid): payouts 5000 in 1, total 17000"));
  execute("UPDATE settlements SET state = 'confirmed' WHERE id = " + std::to_string(id));
  ASSERT_TRUE(problems().empty());
  // A second payout behind the code's back that pays more than the total.
  execute(
      "INSERT INTO settlement_payouts (settlement_id, village_id, amount_fen, method, paid_on) "
      "SELECT id, village_id, 13000, 'cash', period_to FROM settlements WHERE id = " +
      std::to_string(id));
  auto found = problems();
  EXPECT_TRUE(contains(found, settlement + " (confirmed): payouts 18000 in 2, total 17000"));
  EXPECT_TRUE(contains(found, "payable = shares − refunded shares + adjustments − payouts"))
      << "and it has no journal entry";
}

// Probe 2's P6: a reason of blanks, or with a line break or tab that starts a formula in the
// statement's CSV, was accepted.
TEST_F(SettlementTest, AnAdjustmentReasonIsOneVisibleLine) {
  const auto path = "/api/v1/villages/" + std::to_string(api.station.village_a) + "/adjustments";
  int n = 0;
  for (const char* reason : {"\n=1+1", "\t=1", "   ", "\u3000", "\u200B", "包装费\n十一月"}) {
    const json body = {{"amount_fen", -800}, {"reason", reason}};
    const auto refused = api.call("POST", path, "admin", body.dump(),
                                  {{"idempotency-key", "adj-bad-" + std::to_string(n++)}});
    EXPECT_EQ(refused.status, 422) << reason << " " << refused.body;
    EXPECT_EQ(refused.body["error"]["details"]["field"], "reason") << refused.body;
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM village_adjustments"), 0);
}
