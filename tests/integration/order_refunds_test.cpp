// Refunds of online orders on the real MariaDB, through a provider whose answers the test
// scripts (succeeds, still processing, refuses, never answers, answers lost after refunding):
// whole and partial refunds sum exactly to the fen after partial fulfilment; more than is left
// is refused naming the field; one Idempotency-Key is one refund; racing refunds never exceed
// what was paid; a refusal changes nothing but the refund; the sweep finishes what was left
// processing, once; cash refunds come out of the drawer; a staff cancel of a paid order refunds
// it; a late payment whose goods are gone is sent back; and `yizhan check` catches a broken one.
#include <gtest/gtest.h>

#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "support/api_client.hpp"
#include "yizhan/payments/provider.hpp"
#include "yizhan/service/check.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/orders.hpp"
#include "yizhan/service/settlements.hpp"
#include "yizhan/service/stock.hpp"
#include "yizhan/service/village_reports.hpp"
#include "yizhan/store/database.hpp"

using namespace yizhan;
using nlohmann::json;
using test_support::ApiFixture;

namespace {

/// A provider whose refunds behave as the test says; notifications are plain JSON
/// {"out_trade_no", "amount"} (their verification is proven in payment_notify_test).
class ScriptedProvider final : public payments::Provider {
 public:
  enum class Mode { succeed, processing, refuse, unreachable, lose_answer };

  std::string name() const override { return "wechat"; }
  payments::PaymentStart start(const payments::PaymentRequest& request) override {
    return {"weixin://wxpay/bizpayurl?pr=" + request.out_trade_no, std::nullopt, std::nullopt};
  }
  payments::PaymentState query(const std::string&) override { return {}; }
  void close(const std::string&) override {}
  payments::RefundState refund(const payments::RefundRequest& request) override {
    std::lock_guard lock(mutex);
    asked.push_back(request);
    if (mode == Mode::unreachable)
      throw payments::ProviderError(payments::ProviderError::Kind::unreachable, "timed out");
    if (mode == Mode::refuse)
      throw payments::ProviderError(payments::ProviderError::Kind::refused, "NOT_ENOUGH",
                                    "NOT_ENOUGH");
    // Refunds keyed by out_refund_no, as WeChat and Alipay keep them: asked again, the same.
    auto [found, fresh] = refunded.try_emplace(request.out_refund_no, request.refund.value());
    if (fresh) money_back += request.refund.value();
    if (mode == Mode::lose_answer)
      throw payments::ProviderError(payments::ProviderError::Kind::unreachable, "answer lost");
    payments::RefundState state;
    state.refund_id = "50300" + request.out_refund_no;
    state.state = mode == Mode::processing ? payments::RefundState::State::processing
                                           : payments::RefundState::State::succeeded;
    state.raw_state = mode == Mode::processing ? "PROCESSING" : "SUCCESS";
    return state;
  }
  /// The refunds made, as the providers' lookups answer: made, or never (NOT_FOUND).
  payments::RefundState query_refund(const std::string&,
                                     const std::string& out_refund_no) override {
    std::lock_guard lock(mutex);
    ++lookups;
    if (lookup_unreachable)
      throw payments::ProviderError(payments::ProviderError::Kind::unreachable, "timed out");
    payments::RefundState state;
    if (!refunded.contains(out_refund_no)) {
      state.state = payments::RefundState::State::failed;
      state.raw_state = "NOT_FOUND";
      return state;
    }
    state.refund_id = "50300" + out_refund_no;
    state.state = payments::RefundState::State::succeeded;
    state.raw_state = "SUCCESS";
    return state;
  }
  payments::PaymentState verify_notification(const payments::Notification& notification,
                                             payments::Clock::time_point) override {
    const auto body = json::parse(notification.body);
    payments::PaymentState state;
    state.state = payments::PaymentState::State::paid;
    state.out_trade_no = body["out_trade_no"];
    state.transaction_id = "42000" + state.out_trade_no;
    state.amount = domain::Fen(body["amount"].get<std::int64_t>());
    state.raw_state = "SUCCESS";
    return state;
  }
  std::pair<int, std::string> notification_answer(bool accepted) const override {
    return {accepted ? 200 : 401, accepted ? "" : R"({"code":"FAIL"})"};
  }
  payments::PaymentState pay_with_code(const std::string&, const std::string&, domain::Fen,
                                       const std::string&) override {
    return {};
  }
  void reverse(const std::string&) override {}

  std::mutex mutex;
  Mode mode = Mode::succeed;
  std::vector<payments::RefundRequest> asked;
  std::map<std::string, std::int64_t> refunded;  // out_refund_no → amount
  std::int64_t money_back = 0;                   // what actually went back to payers
  int lookups = 0;
  bool lookup_unreachable = false;
};

class OrderRefundsTest : public ::testing::Test {
 protected:
  OrderRefundsTest() {
    service::OrderSettings settings;
    settings.delivery = {domain::Fen(800), domain::Fen(99900), {"安海镇"}};
    orders = std::make_unique<service::OrderService>(
        api.station.database, settings,
        std::map<std::string, service::PaymentAccount>{{"wechat", {&provider, "", ""}}});
    api.router =
        api::build_router({api.health, api.station.accounts, api.audit, api.catalog, &counter,
                           &stock, orders.get(), &settlements, &village_reports});
  }

  std::int64_t product(const std::string& sku, std::int64_t price_fen, std::int64_t received,
                       std::int64_t village = 0) {
    const auto created = api.call_json("POST", "/api/v1/products", "admin",
                                       {{"sku", sku},
                                        {"name", "商品 " + sku},
                                        {"village_id", village ? village : api.station.village_a},
                                        {"category_id", 3},
                                        {"unit", "piece"},
                                        {"price_fen", price_fen}});
    EXPECT_EQ(created.status, 201) << created.body;
    const auto id = created.body["id"].get<std::int64_t>();
    const auto receipt =
        api.call_json("POST", "/api/v1/stock/receipts", "admin",
                      {{"village_id", village ? village : api.station.village_a},
                       {"lines", {{{"product_id", id}, {"quantity", received}, {"lot", "L1"}}}}});
    EXPECT_EQ(receipt.status, 201) << receipt.body;
    return id;
  }

  struct Placed {
    std::string number, token;
    std::int64_t total = 0;
  };

  Placed place(const json& lines, const std::string& payment = "wechat", bool delivery = false) {
    json body = {{"lines", lines},
                 {"fulfilment", delivery ? "delivery" : "pickup"},
                 {"contact", {{"name", "陈女士"}, {"phone", "13800001234"}}},
                 {"payment", payment}};
    if (delivery) body["address"] = {{"area", "安海镇"}, {"detail", "中山路 1 号"}};
    const auto placed = api.call("POST", "/api/v1/orders", "", body.dump(),
                                 {{"idempotency-key", "order-" + std::to_string(++keys_)}});
    EXPECT_EQ(placed.status, 201) << placed.body;
    return {placed.body["number"], placed.body["token"], placed.body["total_fen"]};
  }

  ApiFixture::Reply notify(const std::string& number, std::int64_t amount) {
    return api.call("POST", "/api/v1/payments/wechat/notify", "",
                    json{{"out_trade_no", number}, {"amount", amount}}.dump());
  }

  /// A paid online order.
  Placed paid(const json& lines, bool delivery = false) {
    const auto placed = place(lines, "wechat", delivery);
    const auto started =
        api.call_json("POST", "/api/v1/orders/" + placed.number + "/payment?token=" + placed.token,
                      "", {{"channel", "wechat_native"}});
    EXPECT_EQ(started.status, 200) << started.body;
    EXPECT_EQ(notify(placed.number, placed.total).status, 200);
    EXPECT_EQ(view(placed.number)["state"], "paid");
    return placed;
  }

  ApiFixture::Reply refund(const std::string& number, const json& body, const std::string& key,
                           const std::string& as = "admin") {
    return api.call("POST", "/api/v1/orders/" + number + "/refunds", as, body.dump(),
                    {{"idempotency-key", key}});
  }

  ApiFixture::Reply move(const std::string& number, const json& body) {
    return api.call_json("POST", "/api/v1/orders/" + number + "/transition", "admin", body);
  }

  json view(const std::string& number) {
    const auto reply = api.call("GET", "/api/v1/orders/" + number, "admin");
    EXPECT_EQ(reply.status, 200) << reply.body;
    return reply.body;
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

  std::int64_t reserved(std::int64_t p) {
    return scalar("SELECT reserved FROM stock_levels WHERE product_id = " + std::to_string(p));
  }
  std::int64_t on_hand(std::int64_t p) {
    return scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(p));
  }
  /// What the station owes a village (its payable's credit balance).
  std::int64_t payable(std::int64_t village) {
    return -scalar(
        "SELECT SUM(p.amount_fen) FROM postings p JOIN ledger_accounts a ON a.id = p.account_id "
        "WHERE a.village_id = " +
        std::to_string(village));
  }
  std::int64_t account(const std::string& code) {
    return scalar(
        "SELECT SUM(p.amount_fen) FROM postings p JOIN ledger_accounts a ON a.id = p.account_id "
        "WHERE a.code = '" +
        code + "'");
  }

  std::string footprint() {
    std::string out;
    for (const char* table : {"order_refunds", "order_refund_lines", "order_events", "stock_moves",
                              "journal_entries", "postings", "idempotency_keys", "cash_movements"})
      out += std::string(table) + "=" +
             std::to_string(scalar(std::string("SELECT COUNT(*) FROM ") + table)) + " ";
    return out + "refunded=" + std::to_string(scalar("SELECT SUM(refunded_fen) FROM orders")) +
           " reserved=" + std::to_string(scalar("SELECT SUM(reserved) FROM stock_levels")) +
           " on_hand=" + std::to_string(scalar("SELECT SUM(on_hand) FROM stock_levels"));
  }

  std::vector<std::string> problems() {
    service::Checker checker(api.station.database);
    service::add_stock_checks(checker);
    service::add_journal_checks(checker);
    std::vector<std::string> found;
    for (const auto& result : checker.run())
      for (const auto& problem : result.problems)
        found.push_back(result.name + ": " + problem);
    return found;
  }

  void expect_books_agree() {
    for (const auto& problem : problems())
      ADD_FAILURE() << problem;
  }

  void open_shift() {
    const auto opened = api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                                      {{"register", "柜台1"}, {"float_fen", 10000}});
    ASSERT_EQ(opened.status, 201) << opened.body;
    shift_id = opened.body["id"].get<std::int64_t>();
  }

  ScriptedProvider provider;
  ApiFixture api;
  service::StockService stock{api.station.database};
  service::CounterService counter{api.station.database, service::CounterSettings{}};
  std::unique_ptr<service::OrderService> orders;
  service::SettlementService settlements{
      api.station.database, service::SettlementSettings{domain::TimeZone::shanghai(), "驿站", [] {
                                                          return std::chrono::system_clock::now();
                                                        }}};
  service::VillageReportService village_reports{api.station.database};
  std::int64_t shift_id = 0;

 private:
  int keys_ = 0;
};

}  // namespace

TEST_F(OrderRefundsTest, AWholeRefundGoesThroughTheProviderReleasesTheStockAndReversesTheBooks) {
  const auto tea = product("R1", 1250, 5);
  const auto nuts = product("R2", 333, 5, api.station.village_b);
  const auto placed =
      paid({{{"product_id", tea}, {"quantity", 2}}, {{"product_id", nuts}, {"quantity", 3}}});
  ASSERT_EQ(placed.total, 3499);
  EXPECT_EQ(reserved(tea), 2);
  EXPECT_GT(payable(api.station.village_a), 0);

  const auto done = refund(placed.number, {{"all", true}, {"reason", "顾客不要了"}}, "rf-1");
  ASSERT_EQ(done.status, 201) << done.body;
  EXPECT_EQ(done.body["refund"]["state"], "succeeded");
  EXPECT_EQ(done.body["refund"]["method"], "wechat");
  EXPECT_EQ(done.body["refund"]["amount_fen"], 3499);
  EXPECT_EQ(done.body["refund"]["out_refund_no"], placed.number + "-R1");
  EXPECT_EQ(done.body["order"]["state"], "refunded");
  EXPECT_EQ(done.body["order"]["refunded_fen"], 3499);
  EXPECT_EQ(done.body["order"]["refundable_fen"], 0);
  ASSERT_EQ(provider.asked.size(), 1u);
  EXPECT_EQ(provider.asked[0].out_trade_no, placed.number);
  EXPECT_EQ(provider.asked[0].total.value(), 3499);
  EXPECT_EQ(provider.money_back, 3499);
  EXPECT_EQ(reserved(tea), 0);
  EXPECT_EQ(reserved(nuts), 0);
  EXPECT_EQ(on_hand(tea), 5) << "nothing had left the shelf";
  EXPECT_EQ(payable(api.station.village_a), 0);
  EXPECT_EQ(payable(api.station.village_b), 0);
  EXPECT_EQ(account("tender_clearing:wechat"), 0);
  EXPECT_EQ(account("commission_income"), 0);
  expect_books_agree();

  // Nothing is left: another refund is refused, naming why.
  const auto again = refund(placed.number, {{"all", true}}, "rf-2");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(provider.asked.size(), 1u);
}

TEST_F(OrderRefundsTest, PartialRefundsAfterPartialFulfilmentSumExactlyToTheFen) {
  // Prices and commissions (15 % and 12 %) that do not divide evenly.
  const auto tea = product("P1", 333, 10);
  const auto nuts = product("P2", 1001, 10, api.station.village_b);
  const auto placed =
      paid({{{"product_id", tea}, {"quantity", 3}}, {{"product_id", nuts}, {"quantity", 1}}},
           /*delivery=*/true);
  ASSERT_EQ(placed.total, 999 + 1001 + 800);
  const auto owed_a = payable(api.station.village_a);
  const auto owed_b = payable(api.station.village_b);

  // Before shipping the customer wants one tea fewer: its reservation is given back.
  auto first = refund(placed.number, {{"lines", {{{"line_no", 1}, {"quantity", 1}}}}}, "p-1");
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.body["refund"]["amount_fen"], 333);
  EXPECT_EQ(first.body["refund"]["lines"][0]["stock"], "release");
  EXPECT_EQ(first.body["order"]["state"], "paid") << "a partial refund keeps the state";
  EXPECT_EQ(first.body["order"]["lines"][0]["refunded_quantity"], 1);
  EXPECT_EQ(reserved(tea), 2);
  expect_books_agree();

  // The rest is shipped: two teas and the nuts leave.
  ASSERT_EQ(move(placed.number, {{"to", "picking"}}).status, 200);
  const auto shipped =
      move(placed.number, {{"to", "shipped"}, {"carrier", "顺丰"}, {"waybill", "SF1"}});
  ASSERT_EQ(shipped.status, 200) << shipped.body;
  EXPECT_EQ(on_hand(tea), 8);
  EXPECT_EQ(reserved(tea), 0);
  EXPECT_EQ(on_hand(nuts), 9);
  expect_books_agree();

  // One tea comes back; the other is kept (refunded, not returned): only the first restocks.
  auto second = refund(
      placed.number,
      {{"lines",
        {{{"line_no", 1}, {"quantity", 1}, {"returned", true}}, {{"line_no", 1}, {"quantity", 1}}}},
       {"reason", "一盒破损"}},
      "p-2");
  ASSERT_EQ(second.status, 201) << second.body;
  EXPECT_EQ(second.body["refund"]["amount_fen"], 666);
  EXPECT_EQ(on_hand(tea), 9) << "the returned one only";
  expect_books_agree();

  // Then the nuts and the delivery fee: everything paid is back, to the fen.
  auto last =
      refund(placed.number,
             {{"lines", {{{"line_no", 2}, {"quantity", 1}}}}, {"delivery_fee", true}}, "p-3");
  ASSERT_EQ(last.status, 201) << last.body;
  EXPECT_EQ(last.body["refund"]["amount_fen"], 1001 + 800);
  EXPECT_EQ(last.body["order"]["state"], "refunded");
  std::int64_t sum = 0;
  for (const auto& r : last.body["order"]["refunds"])
    sum += r["amount_fen"].get<std::int64_t>();
  EXPECT_EQ(sum, placed.total);
  EXPECT_EQ(provider.money_back, placed.total);
  EXPECT_GT(owed_a, 0);
  EXPECT_GT(owed_b, 0);
  EXPECT_EQ(payable(api.station.village_a), 0) << "every share of the tea reversed exactly";
  EXPECT_EQ(payable(api.station.village_b), 0);
  EXPECT_EQ(account("delivery_income"), 0);
  EXPECT_EQ(account("commission_income"), 0);
  EXPECT_EQ(account("tender_clearing:wechat"), 0);
  expect_books_agree();
}

// An online refund reaches the village's statement as a negative line of exactly the shares it
// gave back, so the settlement's total is what the journal says the station owes.
TEST_F(OrderRefundsTest, AnOnlineRefundIsANegativeLineOfTheVillagesSettlement) {
  const auto tea = product("P9", 333, 10);
  const auto placed = paid({{{"product_id", tea}, {"quantity", 3}}}, /*delivery=*/false);
  auto partial = refund(placed.number, {{"lines", {{{"line_no", 1}, {"quantity", 1}}}}}, "s-1");
  ASSERT_EQ(partial.status, 201) << partial.body;
  const auto owed = payable(api.station.village_a);

  const auto today = domain::format_iso_date(
      domain::business_day(std::chrono::system_clock::now(), domain::TimeZone::shanghai()));
  const auto draft =
      api.call_json("POST", "/api/v1/settlements", "admin",
                    {{"village_id", api.station.village_a}, {"from", today}, {"to", today}});
  ASSERT_EQ(draft.status, 201) << draft.body;
  std::int64_t order_share = 0, refund_share = 0, refund_lines = 0;
  for (const auto& line : draft.body["lines"]) {
    if (line["kind"] == "order") order_share += line["share_fen"].get<std::int64_t>();
    if (line["kind"] == "order_refund") {
      ++refund_lines;
      refund_share += line["share_fen"].get<std::int64_t>();
      EXPECT_EQ(line["quantity"], -1);
      EXPECT_EQ(line["document"], placed.number + "-R1");
    }
  }
  EXPECT_EQ(refund_lines, 1);
  EXPECT_LT(refund_share, 0);
  EXPECT_EQ(order_share + refund_share, owed);
  EXPECT_EQ(draft.body["total_fen"], owed);
  // The village portal counts the refund on its day too: today's share is what is owed.
  const auto summary = api.call(
      "GET", "/api/v1/villages/" + std::to_string(api.station.village_a) + "/summary", "admin");
  ASSERT_EQ(summary.status, 200) << summary.body;
  EXPECT_EQ(summary.body["today"]["share_fen"], owed);
  EXPECT_EQ(summary.body["today"]["refund_share_fen"], -refund_share);
  const auto id = draft.body["id"].get<std::int64_t>();
  const auto confirmed =
      api.call("POST", "/api/v1/settlements/" + std::to_string(id) + "/confirm", "admin");
  ASSERT_EQ(confirmed.status, 200) << confirmed.body;
  expect_books_agree();
}

TEST_F(OrderRefundsTest, GoodsOfAProductThatMovedVillageSinceAreNotPutBackOnTheShelf) {
  // Consigned goods are the delivering village's: back on the shelf under the product's new
  // village, that village would be paid for them when they sell again (found by review).
  const auto tea = product("P1", 1200, 1);
  const auto placed = paid({{{"product_id", tea}, {"quantity", 1}}}, /*delivery=*/true);
  ASSERT_EQ(move(placed.number, {{"to", "picking"}}).status, 200);
  ASSERT_EQ(
      move(placed.number, {{"to", "shipped"}, {"carrier", "顺丰"}, {"waybill", "SF1"}}).status,
      200);
  ASSERT_EQ(api.call_json("PATCH", "/api/v1/products/" + std::to_string(tea), "admin",
                          {{"village_id", api.station.village_b}})
                .status,
            200);
  const auto before = footprint();
  const auto returned =
      refund(placed.number, {{"lines", {{{"line_no", 1}, {"quantity", 1}, {"returned", true}}}}},
             "moved-1");
  EXPECT_EQ(returned.status, 409) << returned.body;
  EXPECT_EQ(returned.body["error"]["code"], "conflict");
  EXPECT_EQ(returned.body["error"]["details"]["field"], "lines");
  EXPECT_EQ(footprint(), before);
  const auto kept =
      refund(placed.number, {{"lines", {{{"line_no", 1}, {"quantity", 1}}}}}, "moved-2");
  EXPECT_EQ(kept.status, 201) << kept.body;
  EXPECT_EQ(on_hand(tea), 0);
  expect_books_agree();
}

TEST_F(OrderRefundsTest, MoreThanIsLeftOrBadInputIsRefusedNamingTheFieldAndChangesNothing) {
  const auto tea = product("B1", 500, 5);
  const auto placed = paid({{{"product_id", tea}, {"quantity", 2}}});
  const auto before = footprint();
  const auto field = [](const ApiFixture::Reply& r) {
    return r.body["error"]["details"].value("field", std::string());
  };

  auto r = refund(placed.number, {{"lines", {{{"line_no", 1}, {"quantity", 3}}}}}, "b-1");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.body["error"]["code"], "refund_exceeds_sale");
  EXPECT_EQ(field(r), "lines[0].quantity");
  r = refund(placed.number,
             {{"lines", {{{"line_no", 1}, {"quantity", 1}}, {{"line_no", 1}, {"quantity", 2}}}}},
             "b-2");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(field(r), "lines[1].quantity") << "asks of one line add up";
  r = refund(placed.number, {{"lines", {{{"line_no", 7}, {"quantity", 1}}}}}, "b-3");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(field(r), "lines[0].line_no");
  r = refund(placed.number, {{"lines", {{{"line_no", 1}, {"quantity", 0}}}}}, "b-4");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(field(r), "lines[0].quantity");
  r = refund(placed.number, {{"delivery_fee", true}}, "b-5");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(field(r), "delivery_fee") << "a pickup order has no fee";
  r = refund(placed.number, json::object(), "b-6");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(field(r), "lines");
  r = refund(placed.number, {{"all", true}, {"method", "card"}}, "b-7");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(field(r), "method");
  r = refund(placed.number, {{"all", true}, {"reason", "破损\n请退"}}, "b-7r");
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_EQ(field(r), "reason") << "one line: the payer sees it in WeChat or Alipay";
  r = refund(placed.number, {{"all", true}, {"surprise", 1}}, "b-8");
  EXPECT_EQ(r.status, 422) << r.body;
  r = refund(placed.number, {{"all", true}, {"method", "cash"}}, "b-9");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.body["error"]["code"], "no_open_shift");
  r = api.call("POST", "/api/v1/orders/" + placed.number + "/refunds", "admin",
               json{{"all", true}}.dump());
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_EQ(r.body["error"]["code"], "idempotency_key_required");
  EXPECT_EQ(refund("W20260101-0001", {{"all", true}}, "b-10").status, 404);
  EXPECT_EQ(refund(placed.number, {{"all", true}}, "b-11", "village1").status, 403);
  EXPECT_EQ(api.call("POST", "/api/v1/orders/" + placed.number + "/refunds", "",
                     json{{"all", true}}.dump(), {{"idempotency-key", "b-12"}})
                .status,
            401);
  // An unpaid order has nothing to refund.
  const auto unpaid = place({{{"product_id", tea}, {"quantity", 1}}});
  r = refund(unpaid.number, {{"all", true}}, "b-13");
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(r.body["error"]["code"], "invalid_state");

  EXPECT_TRUE(provider.asked.empty());
  api.call("POST", "/api/v1/orders/" + unpaid.number + "/cancel?token=" + unpaid.token);
  EXPECT_EQ(footprint().substr(0, before.find("order_events")),
            before.substr(0, before.find("order_events")));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM order_refunds"), 0);
  EXPECT_EQ(reserved(tea), 2);
}

TEST_F(OrderRefundsTest, TheSameKeyTwiceIsOneRefundAndAnotherBodyIsRefused) {
  const auto tea = product("K1", 700, 5);
  const auto placed = paid({{{"product_id", tea}, {"quantity", 3}}});
  const json body = {{"lines", {{{"line_no", 1}, {"quantity", 1}}}}};
  const auto first = refund(placed.number, body, "same-key");
  ASSERT_EQ(first.status, 201) << first.body;
  const auto again = refund(placed.number, body, "same-key");
  EXPECT_EQ(again.status, 200) << again.body;
  bool replayed = false;
  for (const auto& [name, value] : again.raw.headers)
    replayed = replayed || (name == "Idempotent-Replayed" && value == "true");
  EXPECT_TRUE(replayed);
  EXPECT_EQ(again.body["refund"]["id"], first.body["refund"]["id"]);
  EXPECT_EQ(provider.asked.size(), 1u);
  EXPECT_EQ(provider.money_back, 700);
  EXPECT_EQ(view(placed.number)["refunded_fen"], 700);
  const auto other = refund(placed.number, {{"all", true}}, "same-key");
  EXPECT_EQ(other.status, 409) << other.body;
  EXPECT_EQ(other.body["error"]["code"], "idempotency_mismatch");
  expect_books_agree();
}

TEST_F(OrderRefundsTest, RefundsRacingOnOneOrderNeverExceedWhatWasPaid) {
  const auto tea = product("C1", 999, 10);
  const auto placed = paid({{{"product_id", tea}, {"quantity", 5}}});
  std::atomic<int> made{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      const auto r = refund(placed.number, {{"lines", {{{"line_no", 1}, {"quantity", 1}}}}},
                            "race-" + std::to_string(i));
      if (r.status == 201)
        ++made;
      else if (r.status == 409)
        ++refused;
      else
        ++other;
    });
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(made.load(), 5);
  EXPECT_EQ(refused.load(), 3);
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(provider.money_back, 4995);
  const auto order = view(placed.number);
  EXPECT_EQ(order["refunded_fen"], 4995);
  EXPECT_EQ(order["state"], "refunded");
  EXPECT_EQ(reserved(tea), 0);
  expect_books_agree();
}

TEST_F(OrderRefundsTest, AProviderRefusalFailsTheRefundAndNothingElseChanges) {
  const auto tea = product("F1", 1200, 5);
  const auto placed = paid({{{"product_id", tea}, {"quantity", 2}}});
  const auto journal = scalar("SELECT COUNT(*) FROM journal_entries");
  provider.mode = ScriptedProvider::Mode::refuse;
  const auto failed = refund(placed.number, {{"all", true}}, "f-1");
  ASSERT_EQ(failed.status, 201) << failed.body;
  EXPECT_EQ(failed.body["refund"]["state"], "failed");
  EXPECT_NE(failed.body["refund"]["failure"].get<std::string>().find("NOT_ENOUGH"),
            std::string::npos);
  EXPECT_EQ(failed.body["order"]["state"], "paid");
  EXPECT_EQ(failed.body["order"]["refunded_fen"], 0);
  EXPECT_EQ(failed.body["order"]["refundable_fen"], 2400) << "a failed refund holds nothing";
  EXPECT_NE(failed.body["order"]["attention"].get<std::string>().find("failed"), std::string::npos);
  EXPECT_EQ(reserved(tea), 2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries"), journal);
  expect_books_agree();

  // Once the provider agrees, a new refund goes through (a new out_refund_no).
  provider.mode = ScriptedProvider::Mode::succeed;
  const auto done = refund(placed.number, {{"all", true}}, "f-2");
  ASSERT_EQ(done.status, 201) << done.body;
  EXPECT_EQ(done.body["refund"]["out_refund_no"], placed.number + "-R2");
  EXPECT_EQ(done.body["order"]["state"], "refunded");
  EXPECT_EQ(provider.money_back, 2400);
  expect_books_agree();
}

// A refund made at the provider whose answer was lost, asked again and refused (WeChat's 429, an
// Alipay refusal of a number it already refunded under): the lookup finds it made, so it is
// booked once, never failed (which would let the staff refund the same money again under a new
// number). A lookup that cannot tell leaves it processing; a refusal of a refund never made
// still fails it.
TEST_F(OrderRefundsTest, ARefusedReAskOfARefundMadeIsBookedNotFailed) {
  const auto tea = product("F2", 800, 5);
  const auto placed = paid({{{"product_id", tea}, {"quantity", 2}}});
  provider.mode = ScriptedProvider::Mode::lose_answer;
  ASSERT_EQ(refund(placed.number, {{"all", true}}, "rr-1").status, 202);
  EXPECT_EQ(provider.money_back, 1600);
  provider.mode = ScriptedProvider::Mode::refuse;
  provider.lookup_unreachable = true;
  EXPECT_EQ(orders->finish_refunds(50, 0), 0);
  EXPECT_EQ(view(placed.number)["refunds"][0]["state"], "processing") << "nobody can tell yet";
  provider.lookup_unreachable = false;
  EXPECT_EQ(orders->finish_refunds(50, 0), 1);
  const auto order = view(placed.number);
  EXPECT_EQ(order["refunds"][0]["state"], "succeeded") << order.dump();
  EXPECT_EQ(order["state"], "refunded");
  EXPECT_EQ(order["refunded_fen"], 1600);
  EXPECT_EQ(provider.money_back, 1600) << "given back once";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'order_refund'"), 1);
  expect_books_agree();
}

TEST_F(OrderRefundsTest, ARefundLeftProcessingIsFinishedByTheSweepOnceEvenWithTwoSweepers) {
  const auto tea = product("S1", 450, 5);
  const auto placed = paid({{{"product_id", tea}, {"quantity", 4}}});
  // The provider refunded, but its answer was lost (or the server died before writing it).
  provider.mode = ScriptedProvider::Mode::lose_answer;
  const auto pending =
      refund(placed.number, {{"lines", {{{"line_no", 1}, {"quantity", 3}}}}}, "s-1");
  ASSERT_EQ(pending.status, 202) << pending.body;
  EXPECT_EQ(pending.body["refund"]["state"], "processing");
  EXPECT_EQ(pending.body["order"]["refundable_fen"], 450) << "processing holds its amount";
  EXPECT_EQ(reserved(tea), 4) << "nothing moves until it is certain";
  EXPECT_EQ(view(placed.number)["refunded_fen"], 0);
  // While it is processing it cannot be exceeded, and the goods cannot leave.
  EXPECT_EQ(refund(placed.number, {{"lines", {{{"line_no", 1}, {"quantity", 2}}}}}, "s-2").status,
            409);
  ASSERT_EQ(move(placed.number, {{"to", "picking"}}).status, 200);
  ASSERT_EQ(move(placed.number, {{"to", "ready"}}).status, 200);
  const auto code = view(placed.number)["pickup_code"].get<std::string>();
  EXPECT_EQ(move(placed.number, {{"to", "completed"}, {"pickup_code", code}}).status, 409);
  expect_books_agree();

  // Too fresh for the sweep; then two sweepers at once: one finishes it.
  EXPECT_EQ(orders->finish_refunds(50, 3600), 0);
  provider.mode = ScriptedProvider::Mode::succeed;
  std::atomic<int> finished{0};
  std::thread a([&] { finished += orders->finish_refunds(50, 0); });
  std::thread b([&] { finished += orders->finish_refunds(50, 0); });
  a.join();
  b.join();
  EXPECT_EQ(finished.load(), 1);
  EXPECT_EQ(provider.money_back, 1350) << "asked again with the same out_refund_no: one refund";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'order_refund'"), 1);
  const auto order = view(placed.number);
  EXPECT_EQ(order["refunded_fen"], 1350);
  EXPECT_EQ(order["refunds"][0]["state"], "succeeded");
  EXPECT_EQ(reserved(tea), 1);
  EXPECT_EQ(orders->finish_refunds(50, 0), 0);
  // And now the last unit can be handed over.
  const auto done = move(placed.number, {{"to", "completed"}, {"pickup_code", code}});
  EXPECT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(on_hand(tea), 4);
  expect_books_agree();

  // A provider that says PROCESSING: left for the sweep, which finishes it when it succeeds.
  provider.mode = ScriptedProvider::Mode::processing;
  const auto slow = refund(placed.number, {{"all", true}}, "s-3");
  ASSERT_EQ(slow.status, 202) << slow.body;
  EXPECT_EQ(orders->finish_refunds(50, 0), 0);
  provider.mode = ScriptedProvider::Mode::succeed;
  EXPECT_EQ(orders->finish_refunds(50, 0), 1);
  EXPECT_EQ(view(placed.number)["state"], "refunded");
  EXPECT_EQ(provider.money_back, 1800);
  expect_books_agree();
}

TEST_F(OrderRefundsTest, ACashRefundComesOutOfTheDrawerAndShowsInTheShiftReport) {
  const auto tea = product("M1", 880, 5);
  const auto placed = place({{{"product_id", tea}, {"quantity", 2}}}, "cash_on_pickup");
  open_shift();
  ASSERT_EQ(move(placed.number, {{"to", "picking"}}).status, 200);
  ASSERT_EQ(move(placed.number, {{"to", "ready"}}).status, 200);
  const auto code = view(placed.number)["pickup_code"].get<std::string>();
  const auto handed = api.call_json("POST", "/api/v1/orders/" + placed.number + "/transition",
                                    "cashier1", {{"to", "completed"}, {"pickup_code", code}});
  ASSERT_EQ(handed.status, 200) << handed.body;
  const auto before =
      api.call("GET", "/api/v1/pos/shifts/" + std::to_string(shift_id) + "/report", "cashier1");
  ASSERT_EQ(before.status, 200) << before.body;

  // Cash on pickup is refunded in cash (the default), one returned.
  const auto r =
      refund(placed.number, {{"lines", {{{"line_no", 1}, {"quantity", 1}, {"returned", true}}}}},
             "m-1", "cashier1");
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.body["refund"]["method"], "cash");
  EXPECT_EQ(r.body["refund"]["state"], "succeeded");
  EXPECT_TRUE(provider.asked.empty());
  EXPECT_EQ(on_hand(tea), 4);
  const auto after =
      api.call("GET", "/api/v1/pos/shifts/" + std::to_string(shift_id) + "/report", "cashier1");
  ASSERT_EQ(after.status, 200) << after.body;
  EXPECT_EQ(after.body["cash_out_fen"].get<std::int64_t>() -
                before.body["cash_out_fen"].get<std::int64_t>(),
            880);
  EXPECT_EQ(after.body["expected_cash_fen"].get<std::int64_t>() -
                before.body["expected_cash_fen"].get<std::int64_t>(),
            -880);
  EXPECT_EQ(view(placed.number)["state"], "completed");
  expect_books_agree();

  // An online-paid order may also be refunded in cash at the counter.
  const auto online = paid({{{"product_id", tea}, {"quantity", 1}}});
  const auto cash = refund(online.number, {{"all", true}, {"method", "cash"}}, "m-2", "cashier1");
  ASSERT_EQ(cash.status, 201) << cash.body;
  EXPECT_EQ(cash.body["order"]["state"], "refunded");
  EXPECT_TRUE(provider.asked.empty());
  expect_books_agree();

  // But not more than the drawer holds (probe P11: it went to −¥273): 409 naming method, and
  // nothing changes; through the provider it goes.
  const auto big = paid({{{"product_id", product("M2", 5000, 5)}, {"quantity", 3}}});
  const auto drawer =
      api.call("GET", "/api/v1/pos/shifts/" + std::to_string(shift_id) + "/report", "cashier1");
  ASSERT_LT(drawer.body["expected_cash_fen"].get<std::int64_t>(), 15000);
  const auto unchanged = footprint();
  const auto too_much = refund(big.number, {{"all", true}, {"method", "cash"}}, "m-3", "cashier1");
  EXPECT_EQ(too_much.status, 409) << too_much.body;
  EXPECT_EQ(too_much.body["error"]["details"]["field"], "method");
  EXPECT_EQ(too_much.body["error"]["details"]["expected_cash_fen"],
            std::to_string(drawer.body["expected_cash_fen"].get<std::int64_t>()));
  EXPECT_EQ(footprint(), unchanged);
  const auto original = refund(big.number, {{"all", true}}, "m-4", "cashier1");
  EXPECT_EQ(original.status, 201) << original.body;
  expect_books_agree();
}

TEST_F(OrderRefundsTest, StaffCancelOfAPaidOrderRefundsItWholeAndARetryRefundsNothingMore) {
  const auto tea = product("X1", 640, 5);
  const auto placed = paid({{{"product_id", tea}, {"quantity", 3}}});
  const auto cancelled = api.call("POST", "/api/v1/orders/" + placed.number + "/cancel", "admin");
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.body["state"], "refunded");
  EXPECT_EQ(cancelled.body["refunded_fen"], 1920);
  EXPECT_EQ(cancelled.body["refunds"][0]["origin"], "cancel");
  EXPECT_EQ(reserved(tea), 0);
  EXPECT_EQ(provider.money_back, 1920);
  EXPECT_EQ(api.call("POST", "/api/v1/orders/" + placed.number + "/cancel", "admin").status, 409);
  EXPECT_EQ(provider.asked.size(), 1u);
  // The customer still cannot cancel a paid order.
  const auto other = paid({{{"product_id", tea}, {"quantity", 1}}});
  EXPECT_EQ(
      api.call("POST", "/api/v1/orders/" + other.number + "/cancel?token=" + other.token).status,
      409);
  // A cancel whose provider never answers holds everything; asking again only asks again.
  provider.mode = ScriptedProvider::Mode::unreachable;
  const auto pending = api.call("POST", "/api/v1/orders/" + other.number + "/cancel", "admin");
  EXPECT_EQ(pending.status, 202) << pending.body;  // not cancelled yet: still paid
  EXPECT_EQ(pending.body["state"], "paid");
  provider.mode = ScriptedProvider::Mode::succeed;
  const auto retried = api.call("POST", "/api/v1/orders/" + other.number + "/cancel", "admin");
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.body["state"], "refunded");
  EXPECT_EQ(retried.body["refunds"].size(), 1u);
  EXPECT_EQ(provider.money_back, 1920 + 640);
  expect_books_agree();
}

TEST_F(OrderRefundsTest, AStaffCancelWhoseRefundTheProviderRefusesSaysSoAndLeavesTheOrderPaid) {
  const auto tea = product("X2", 500, 5);
  const auto placed = paid({{{"product_id", tea}, {"quantity", 2}}});
  provider.mode = ScriptedProvider::Mode::refuse;
  const auto refused = api.call("POST", "/api/v1/orders/" + placed.number + "/cancel", "admin");
  ASSERT_EQ(refused.status, 402) << refused.body;
  EXPECT_EQ(refused.body["error"]["code"], "payment_declined");
  EXPECT_EQ(refused.body["error"]["details"]["field"], "refund");
  EXPECT_NE(refused.body["error"]["details"]["reason"].get<std::string>().find("NOT_ENOUGH"),
            std::string::npos)
      << refused.body;
  const auto order = api.call("GET", "/api/v1/orders/" + placed.number, "admin");
  EXPECT_EQ(order.body["state"], "paid");
  EXPECT_EQ(order.body["refunded_fen"], 0);
  EXPECT_EQ(order.body["refunds"][0]["state"], "failed");
  EXPECT_TRUE(order.body.contains("attention")) << order.body;
  EXPECT_EQ(reserved(tea), 2);
  EXPECT_EQ(provider.money_back, 0);
  // Asked again once the provider can: a new refund, and the order is cancelled.
  provider.mode = ScriptedProvider::Mode::succeed;
  const auto again = api.call("POST", "/api/v1/orders/" + placed.number + "/cancel", "admin");
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body["state"], "refunded");
  EXPECT_EQ(provider.money_back, 1000);
  EXPECT_EQ(reserved(tea), 0);
  expect_books_agree();
}

TEST_F(OrderRefundsTest, ALatePaymentWhoseGoodsAreGoneIsRefundedAutomaticallyAndOwesNoVillage) {
  const auto last = product("L1", 300, 1);
  const auto first = place({{{"product_id", last}, {"quantity", 1}}});
  ASSERT_EQ(
      api.call_json("POST", "/api/v1/orders/" + first.number + "/payment?token=" + first.token, "",
                    {{"channel", "wechat_native"}})
          .status,
      200);
  scalar("UPDATE orders SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE number = '" +
         first.number + "'");
  ASSERT_EQ(orders->expire_due(), 1);
  const auto second = place({{{"product_id", last}, {"quantity", 1}}});  // takes the last one

  // The unanswered case first: the money is held, the sweep sends it back.
  provider.mode = ScriptedProvider::Mode::unreachable;
  ASSERT_EQ(notify(first.number, 300).status, 200);
  auto late = view(first.number);
  EXPECT_EQ(late["state"], "expired");
  EXPECT_EQ(late["paid_fen"], 300);
  EXPECT_EQ(late["refunds"][0]["state"], "processing");
  EXPECT_EQ(late["refunds"][0]["origin"], "late_payment");
  EXPECT_NE(late["attention"].get<std::string>().find("refunded automatically"), std::string::npos);
  EXPECT_EQ(payable(api.station.village_a), 0) << "nothing was sold: no village is owed";
  EXPECT_EQ(account("order_refunds_due"), -300);
  expect_books_agree();
  // A staff refund of one line of a payment that bought nothing is not taken as "all" (P8).
  const auto before = footprint();
  const auto one_line =
      refund(first.number, {{"lines", {{{"line_no", 1}, {"quantity", 1}}}}}, "late-line");
  EXPECT_EQ(one_line.status, 422) << one_line.body;
  EXPECT_EQ(one_line.body["error"]["details"]["field"], "lines");
  EXPECT_EQ(footprint(), before);

  provider.mode = ScriptedProvider::Mode::succeed;
  EXPECT_EQ(orders->finish_refunds(50, 0), 1);
  late = view(first.number);
  EXPECT_EQ(late["state"], "refunded");
  EXPECT_EQ(late["refunded_fen"], 300);
  EXPECT_EQ(provider.money_back, 300);
  EXPECT_EQ(account("order_refunds_due"), 0);
  EXPECT_EQ(account("tender_clearing:wechat"), 0);
  EXPECT_EQ(view(second.number)["state"], "pending_payment");
  EXPECT_EQ(reserved(last), 1) << "the second order's reservation only";
  // The notification again: one payment, one refund.
  ASSERT_EQ(notify(first.number, 300).status, 200);
  EXPECT_EQ(provider.money_back, 300);
  EXPECT_EQ(view(first.number)["paid_fen"], 300);
  expect_books_agree();
}

TEST_F(OrderRefundsTest, TheCheckCatchesABrokenRefund) {
  const auto tea = product("Z1", 1999, 5);
  const auto placed = paid({{{"product_id", tea}, {"quantity", 3}}});
  ASSERT_EQ(refund(placed.number, {{"lines", {{{"line_no", 1}, {"quantity", 1}}}}}, "z-1").status,
            201);
  ASSERT_TRUE(problems().empty());
  // A refund line whose village share was bent (fee + share still = gross).
  scalar("UPDATE order_refund_lines SET fee_fen = fee_fen - 1, share_fen = share_fen + 1");
  auto found = problems();
  ASSERT_FALSE(found.empty());
  EXPECT_NE(found.front().find("village payable"), std::string::npos) << found.front();
  scalar("UPDATE order_refund_lines SET fee_fen = fee_fen + 1, share_fen = share_fen - 1");
  ASSERT_TRUE(problems().empty());
  // refunded_fen that no refund explains.
  scalar("UPDATE orders SET refunded_fen = refunded_fen + 1");
  found = problems();
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found.front().find("refunded_fen"), std::string::npos) << found.front();
  scalar("UPDATE orders SET refunded_fen = refunded_fen - 1");
  // A refund marked succeeded whose money never moved in the journal.
  scalar("UPDATE order_refunds SET amount_fen = amount_fen + 1, goods_fen = goods_fen + 1");
  found = problems();
  EXPECT_FALSE(found.empty());
  // A released reservation that the refund does not account for.
  scalar("UPDATE order_refunds SET amount_fen = amount_fen - 1, goods_fen = goods_fen - 1");
  scalar("UPDATE order_refund_lines SET stock = 'none'");
  found = problems();
  ASSERT_FALSE(found.empty());
  EXPECT_NE(found.front().find("reserved"), std::string::npos) << found.front();
}
