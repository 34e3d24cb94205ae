// Hostile probes of refunds to counter 付款码 payments (原路退回), on the real MariaDB with a
// scripted provider: a key reused for another refund after the sweep finished its first, a
// refund line whose quantity is near the int64 limit beside another part of the same line, the
// sweep meeting an ask that was refused (and asked again under a new number) meanwhile, and what
// held: gift boxes to a code, a sale without its code payment, no open shift, the same-day rule,
// one key at once from two tills, a retry racing the sweep, and bad input never 500.
#include <gtest/gtest.h>

#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <atomic>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>

#include "support/api_client.hpp"
#include "support/refund_ledger.hpp"
#include "yizhan/payments/provider.hpp"
#include "yizhan/service/check.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/stock.hpp"
#include "yizhan/store/database.hpp"

using namespace yizhan;
using nlohmann::json;
using payments::PaymentState;
using payments::ProviderError;
using test_support::ApiFixture;

namespace {

constexpr const char* kWechatCode = "134567890123456789";
constexpr std::int64_t kGiftBoxes = 7;  // the gift-boxes category of sql/003

/// Charges every code at once; refunds as told, one refund per out_refund_no as providers do.
class RefundingProvider : public payments::Provider {
 public:
  /// Refunds: made at once; refused (a number made before is answered as made, as providers
  /// do); lost on the way there (nothing made); made with the answer lost on the way back.
  /// throttled: refused whatever the number (WeChat's 429 FREQUENCY_LIMITED, a 401 …, which
  /// payments/ classifies as refused).
  enum class Refund { success, refused, unreachable, answer_lost, throttled };
  Refund refund_answer = Refund::success;
  std::function<void(const payments::RefundRequest&)> during_refund;
  std::atomic<int> refund_asks{0};

  std::string name() const override { return "wechat"; }
  payments::PaymentStart start(const payments::PaymentRequest&) override { return {}; }
  void close(const std::string&) override {}
  PaymentState query(const std::string& out_trade_no) override {
    PaymentState state;
    state.out_trade_no = out_trade_no;
    state.state = PaymentState::State::paid;
    {
      std::lock_guard lock(mutex_);
      if (const auto charged = amounts_.find(out_trade_no); charged != amounts_.end())
        state.amount = charged->second;
    }
    state.transaction_id = "4200000000" + out_trade_no.substr(1, 8);
    state.raw_state = "SUCCESS";
    return state;
  }
  void reverse(const std::string&) override {}
  PaymentState verify_notification(const payments::Notification&,
                                   payments::Clock::time_point) override {
    throw payments::RejectedNotification("not here");
  }
  std::pair<int, std::string> notification_answer(bool) const override { return {200, ""}; }
  PaymentState pay_with_code(const std::string& out_trade_no, const std::string&,
                             domain::Fen amount, const std::string&) override {
    {
      std::lock_guard lock(mutex_);
      trades.push_back(out_trade_no);
      amounts_[out_trade_no] = amount;
    }
    return query(out_trade_no);
  }

  payments::RefundState refund(const payments::RefundRequest& request) override {
    ++refund_asks;
    if (during_refund) during_refund(request);
    if (refund_answer == Refund::unreachable)
      throw ProviderError(ProviderError::Kind::unreachable, "timeout");
    if (refund_answer == Refund::throttled)
      throw ProviderError(ProviderError::Kind::refused, "FREQUENCY_LIMITED", "FREQUENCY_LIMITED");
    if (refund_answer == Refund::refused) {
      const auto made = refunds.made(request.out_refund_no);
      if (!made) throw ProviderError(ProviderError::Kind::refused, "NOT_ENOUGH", "NOT_ENOUGH");
      return *made;
    }
    const auto made = refunds.make(request, payments::RefundState::State::succeeded);
    if (refund_answer == Refund::answer_lost)
      throw ProviderError(ProviderError::Kind::unreachable, "answer lost");
    return made;
  }

  payments::RefundState query_refund(const std::string&,
                                     const std::string& out_refund_no) override {
    return refunds.lookup(out_refund_no);
  }

  std::int64_t refunded_fen(const std::string& out_trade_no) {
    return refunds.refunded_fen(out_trade_no);
  }
  std::string trade(std::size_t i) {
    std::lock_guard lock(mutex_);
    return trades.at(i);
  }

 private:
  std::mutex mutex_;
  std::map<std::string, domain::Fen> amounts_;  // what each trade charged
  std::vector<std::string> trades;
  test_support::RefundLedger refunds;
};

/// error.code of an answer, or "" (a success has none).
std::string error_code(const nlohmann::json& body) {
  if (!body.is_object() || !body.contains("error") || !body["error"].is_object()) return "";
  return body["error"].value("code", "");
}

service::CounterSettings fast_settings() {
  service::CounterSettings settings;
  settings.code_pay.deadline = std::chrono::milliseconds(2000);
  settings.code_pay.poll_interval = std::chrono::milliseconds(20);
  settings.code_pay.lease_margin = std::chrono::milliseconds(1000);
  return settings;
}

/// Past the refund lease (deadline + margin of fast_settings) with room for a loaded machine.
constexpr auto kPastTheLease = std::chrono::milliseconds(3500);

class CodeRefundProbe : public ::testing::Test {
 protected:
  CodeRefundProbe() {
    api.router = api::build_router(
        {api.health, api.station.accounts, api.audit, api.catalog, &counter, &stock});
    const auto shift = api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                                     {{"register", "柜台1"}, {"float_fen", 10000}});
    EXPECT_EQ(shift.status, 201) << shift.body;
    shift_id = shift.body.value("id", std::int64_t{0});
    product_id = product("P1", api.station.village_a, 1500, 20);
  }

  std::int64_t product(const std::string& sku, std::int64_t village, std::int64_t price_fen,
                       std::int64_t quantity) {
    const auto created = api.call_json("POST", "/api/v1/products", "admin",
                                       {{"sku", sku},
                                        {"name", "商品 " + sku},
                                        {"village_id", village},
                                        {"category_id", 3},
                                        {"unit", "piece"},
                                        {"price_fen", price_fen}});
    EXPECT_EQ(created.status, 201) << created.body;
    const auto id = created.body["id"].get<std::int64_t>();
    const auto received =
        api.call_json("POST", "/api/v1/stock/receipts", "admin",
                      {{"village_id", village},
                       {"lines", {{{"product_id", id}, {"quantity", quantity}, {"lot", "L1"}}}}});
    EXPECT_EQ(received.status, 201) << received.body;
    return id;
  }

  ApiFixture::Reply sell_by_code(std::int64_t product, std::int64_t quantity, std::int64_t amount,
                                 const std::string& key) {
    const json body = {
        {"lines", {{{"product_id", product}, {"quantity", quantity}}}},
        {"tenders",
         {{{"method", "wechat_code"}, {"amount_fen", amount}, {"auth_code", kWechatCode}}}}};
    return api.call("POST", "/api/v1/pos/sales", "cashier1", body.dump(),
                    {{"idempotency-key", key}});
  }

  ApiFixture::Reply refund(const json& body, const std::string& key,
                           const std::string& user = "cashier1") {
    return refund_raw(body.dump(), key, user);
  }
  ApiFixture::Reply refund_raw(const std::string& body, const std::string& key,
                               const std::string& user = "cashier1") {
    return api.call("POST", "/api/v1/pos/refunds", user, body, {{"idempotency-key", key}});
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

  std::string footprint() {
    std::string out;
    for (const char* table :
         {"refunds", "refund_lines", "stock_moves", "journal_entries", "code_refunds"})
      out += std::string(table) + "=" +
             std::to_string(scalar(std::string("SELECT COUNT(*) FROM ") + table)) + " ";
    return out + "on_hand=" + std::to_string(scalar("SELECT SUM(on_hand) FROM stock_levels"));
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
  RefundingProvider wechat;
  RefundingProvider alipay;
  service::StockService stock{api.station.database};
  service::CounterService counter{
      api.station.database, fast_settings(), 7, {{"wechat", &wechat}, {"alipay", &alipay}}};
  std::int64_t product_id = 0;
  std::int64_t shift_id = 0;
};

}  // namespace

// --- bugs --------------------------------------------------------------------------------------

// The sweep books an ask whose request died and frees its key. The same key then sent with
// another request (another sale) must be refused as a mismatch, as it is while the key is held:
// answering it with the first sale's refund tells the till that sale B was refunded when nothing
// of B went back.
TEST_F(CodeRefundProbe, AKeyReusedForAnotherSaleAfterTheSweepBookedItsRefundIsAMismatch) {
  const auto a = sell_by_code(product_id, 1, 1500, "sale-a");
  const auto b = sell_by_code(product_id, 1, 1500, "sale-b");
  ASSERT_EQ(a.status, 201) << a.body;
  ASSERT_EQ(b.status, 201) << b.body;
  wechat.refund_answer = RefundingProvider::Refund::answer_lost;
  ASSERT_EQ(refund({{"sale_id", a.body["id"]}}, "k-reused").status, 503);
  wechat.refund_answer = RefundingProvider::Refund::success;
  std::this_thread::sleep_for(kPastTheLease);
  ASSERT_EQ(counter.recover_code_refunds(), 1);

  const auto other = refund({{"sale_id", b.body["id"]}}, "k-reused");
  EXPECT_EQ(other.status, 409) << other.body;
  EXPECT_EQ(error_code(other.body), "idempotency_mismatch") << other.body;
  // The first request itself still gets its refund, the one the sweep booked.
  const auto same = refund({{"sale_id", a.body["id"]}}, "k-reused");
  ASSERT_EQ(same.status, 201) << same.body;
  EXPECT_EQ(same.body["sale_id"], a.body["id"]);
  EXPECT_EQ(same.body["id"].get<std::int64_t>(), scalar("SELECT MIN(id) FROM refunds"));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refunds"), 1);
  EXPECT_EQ(wechat.refunded_fen(wechat.trade(1)), 0) << "sale B was never refunded";
  expect_books_agree();
}

// plan_refund checks `before + quantity > line quantity`: with part of the line already asked
// and a quantity near INT64_MAX that sum overflows (undefined; the sanitised build aborts the
// server). It must be a plain 409 refund_exceeds_sale, to a code and in cash alike.
TEST_F(CodeRefundProbe, AHugeQuantityBesideAnotherPartOfTheSameLineIs409NotAnOverflow) {
  const auto sold = sell_by_code(product_id, 2, 3000, "sale-huge");
  ASSERT_EQ(sold.status, 201) << sold.body;
  const auto line = sold.body["lines"][0]["id"].get<std::int64_t>();
  const auto before = footprint();
  for (const std::string method : {"wechat_code", "cash"}) {
    SCOPED_TRACE(method);
    const std::string body = R"({"sale_id":)" + sold.body["id"].dump() + R"(,"method":")" + method +
                             R"(","lines":[{"line_id":)" + std::to_string(line) +
                             R"(,"quantity":1},{"line_id":)" + std::to_string(line) +
                             R"(,"quantity":9223372036854775807}]})";
    const auto huge = refund_raw(body, "k-huge-" + method);
    EXPECT_EQ(huge.status, 409) << huge.body;
    EXPECT_EQ(error_code(huge.body), "refund_exceeds_sale") << huge.body;
  }
  EXPECT_EQ(footprint(), before);
  EXPECT_EQ(wechat.refund_asks, 0);
}

// The sweep lists stale asks first and works through them one by one, each with its provider
// call. An ask listed as refunding may meanwhile be refused on its retry (failed) and its key
// asked again under attempt 2, whose answer is lost in turn. Taking over that key, the sweep
// must not ask again about attempt 1: the provider would refund it (the balance is there now)
// and attempt 2 as well, twice for one refund, with only one booked.
TEST_F(CodeRefundProbe, TheSweepNeverAsksAgainAboutAnAskRefusedMeanwhile) {
  const auto first = sell_by_code(product_id, 1, 1500, "sale-first");
  const auto second = sell_by_code(product_id, 1, 1500, "sale-second");
  ASSERT_EQ(first.status, 201) << first.body;
  ASSERT_EQ(second.status, 201) << second.body;
  const json refund_first = {{"sale_id", first.body["id"]}};
  const json refund_second = {{"sale_id", second.body["id"]}};
  wechat.refund_answer = RefundingProvider::Refund::answer_lost;
  ASSERT_EQ(refund(refund_first, "k-first").status, 503);
  wechat.refund_answer = RefundingProvider::Refund::unreachable;  // never reached it
  ASSERT_EQ(refund(refund_second, "k-second").status, 503);
  std::this_thread::sleep_for(kPastTheLease);

  // While the sweep asks about the first, the second's retry is refused, then asked again under
  // a new number whose answer is lost.
  std::once_flag once;
  wechat.refund_answer = RefundingProvider::Refund::success;
  wechat.during_refund = [&](const payments::RefundRequest& asked) {
    if (asked.out_trade_no != wechat.trade(0)) return;
    std::call_once(once, [&] {
      wechat.refund_answer = RefundingProvider::Refund::refused;
      const auto refused = refund(refund_second, "k-second");
      EXPECT_EQ(refused.status, 402) << refused.body;
      wechat.refund_answer = RefundingProvider::Refund::answer_lost;
      const auto lost = refund(refund_second, "k-second");
      EXPECT_EQ(lost.status, 503) << lost.body;
      wechat.refund_answer = RefundingProvider::Refund::success;
    });
  };
  counter.recover_code_refunds();
  wechat.during_refund = nullptr;

  // The till retries the second refund: it is booked once, given back once.
  const auto retried = refund(refund_second, "k-second");
  ASSERT_EQ(retried.status, 201) << retried.body;
  EXPECT_EQ(wechat.refunded_fen(wechat.trade(1)), 1500) << "the customer got it back once";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refunds WHERE sale_id = " + second.body["id"].dump()), 1);
  EXPECT_EQ(wechat.refunded_fen(wechat.trade(0)), 1500);
  expect_books_agree();
}

// OPEN (not fixed here: needs a refund query in payments/, which this probe may not touch).
// A refusal is taken as "nothing was refunded" even when it answers the retry of an ask whose
// first answer was lost: the ask is marked failed and the till told 402 "refund in cash
// instead", and the same key's next try is a new out_refund_no. But the first ask may have been
// made; WeChat answers any 4xx (429 FREQUENCY_LIMITED, 401 …) and payments/ calls that refused.
// The customer would then get the money twice. A refusal of a re-ask is therefore checked with
// the provider's refund lookup (GET /v3/refund/domestic/refunds/{no},
// alipay.trade.fastpay.refund.query): made, it is booked.
TEST_F(CodeRefundProbe, ARefusalOfARetriedAskIsNotTakenAsNothingRefunded) {
  const auto sold = sell_by_code(product_id, 2, 3000, "sale-throttled");
  ASSERT_EQ(sold.status, 201) << sold.body;
  const json one = {{"sale_id", sold.body["id"]},
                    {"lines", {{{"line_id", sold.body["lines"][0]["id"]}, {"quantity", 1}}}}};
  wechat.refund_answer = RefundingProvider::Refund::answer_lost;  // made, the answer lost
  ASSERT_EQ(refund(one, "k-throttled").status, 503);
  wechat.refund_answer = RefundingProvider::Refund::throttled;
  const auto throttled = refund(one, "k-throttled");
  EXPECT_NE(throttled.status, 402) << "the provider may have made it: not a refusal of it";
  wechat.refund_answer = RefundingProvider::Refund::success;
  const auto retried = refund(one, "k-throttled");
  EXPECT_EQ(retried.status, 201) << retried.body;
  EXPECT_EQ(wechat.refunded_fen(wechat.trade(0)), 1500) << "one piece given back once";
}

// --- what held ---------------------------------------------------------------------------------

// A gift box refunded to the code: each component back on the shelf, the box's price to the code.
TEST_F(CodeRefundProbe, AGiftBoxGoesBackToTheCodeWholeWithItsComponentsRestocked) {
  const auto tea = product("TEA", api.station.village_a, 1000, 10);
  const auto peanuts = product("PEANUT", api.station.village_b, 3000, 3);
  const auto box = api.call_json(
      "POST", "/api/v1/products", "admin",
      {{"sku", "BOX-1"},
       {"name", "春节礼盒"},
       {"kind", "bundle"},
       {"village_id", api.station.village_a},
       {"category_id", kGiftBoxes},
       {"unit", "piece"},
       {"price_fen", 4500},
       {"components",
        {{{"product_id", tea}, {"quantity", 2}}, {{"product_id", peanuts}, {"quantity", 1}}}}});
  ASSERT_EQ(box.status, 201) << box.body;
  const auto sold = sell_by_code(box.body["id"].get<std::int64_t>(), 2, 9000, "sale-box");
  ASSERT_EQ(sold.status, 201) << sold.body;
  const auto box_line = sold.body["lines"][0];
  const auto one = refund(
      {{"sale_id", sold.body["id"]}, {"lines", {{{"line_id", box_line["id"]}, {"quantity", 1}}}}},
      "k-box-1");
  ASSERT_EQ(one.status, 201) << one.body;
  EXPECT_EQ(one.body["method"], "wechat_code");
  EXPECT_EQ(one.body["total_fen"], 4500);
  EXPECT_EQ(scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(tea)),
            8);
  EXPECT_EQ(
      scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(peanuts)), 2);
  // A component on its own is more than is left of it once the box went back.
  const auto too_many =
      refund({{"sale_id", sold.body["id"]},
              {"lines", {{{"line_id", box_line["components"][1]["id"]}, {"quantity", 2}}}}},
             "k-box-over");
  EXPECT_EQ(too_many.status, 409) << too_many.body;
  const auto rest = refund({{"sale_id", sold.body["id"]}}, "k-box-rest");
  ASSERT_EQ(rest.status, 201) << rest.body;
  EXPECT_EQ(rest.body["total_fen"], 4500);
  EXPECT_EQ(wechat.refunded_fen(wechat.trade(0)), 9000);
  EXPECT_EQ(refund({{"sale_id", sold.body["id"]}}, "k-box-none").status, 409);
  expect_books_agree();
}

// A code sale whose code payment row is gone (or no longer sold) cannot go back to a code: a
// 422 naming `method`, nothing asked; cash still works.
TEST_F(CodeRefundProbe, ASaleWithoutItsCodePaymentIs422NamingMethodAndCashStillWorks) {
  const auto sold = sell_by_code(product_id, 1, 1500, "sale-nopay");
  ASSERT_EQ(sold.status, 201) << sold.body;
  execute("UPDATE code_payments SET state = 'reversed'");
  const auto before = footprint();
  const auto refused = refund({{"sale_id", sold.body["id"]}}, "k-nopay");
  ASSERT_EQ(refused.status, 422) << refused.body;
  EXPECT_EQ(refused.body["error"]["details"]["field"], "method") << refused.body;
  EXPECT_EQ(footprint(), before);
  EXPECT_EQ(wechat.refund_asks, 0);
  const auto cash = refund({{"sale_id", sold.body["id"]}, {"method", "cash"}}, "k-nopay-cash");
  EXPECT_EQ(cash.status, 201) << cash.body;
}

// A refund to a code needs no open shift (no drawer moves); it is booked on the sale's register
// and the books agree. The same-day rule holds: a cashier 403, an admin may.
TEST_F(CodeRefundProbe, NoOpenShiftIsFineForACodeAndTheSameDayRuleHolds) {
  const auto sold = sell_by_code(product_id, 2, 3000, "sale-noshift");
  ASSERT_EQ(sold.status, 201) << sold.body;
  const auto closed =
      api.call_json("POST", "/api/v1/pos/shifts/" + std::to_string(shift_id) + "/close", "cashier1",
                    {{"counted_cash_fen", 10000}});
  ASSERT_EQ(closed.status, 200) << closed.body;
  const auto line = sold.body["lines"][0]["id"];
  const json one = {{"sale_id", sold.body["id"]},
                    {"lines", {{{"line_id", line}, {"quantity", 1}}}}};
  const auto cash = refund({{"sale_id", sold.body["id"]}, {"method", "cash"}}, "k-noshift-cash");
  EXPECT_EQ(cash.status, 409) << cash.body;  // a cash refund needs a drawer
  const auto to_code = refund(one, "k-noshift");
  ASSERT_EQ(to_code.status, 201) << to_code.body;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refunds WHERE shift_id IS NULL"), 1);
  expect_books_agree();

  execute("UPDATE sales SET business_day = business_day - INTERVAL 1 DAY");
  const auto before = footprint();
  const auto old = refund(one, "k-old");
  EXPECT_EQ(old.status, 403) << old.body;
  EXPECT_EQ(footprint(), before);
  const auto by_admin = refund(one, "k-old-admin", "admin");
  EXPECT_EQ(by_admin.status, 201) << by_admin.body;
  EXPECT_EQ(wechat.refunded_fen(wechat.trade(0)), 3000);
}

// One key from two tills at once: one provider refund, one booking, the same answer.
TEST_F(CodeRefundProbe, OneKeySentTwiceAtOnceRefundsOnce) {
  const auto sold = sell_by_code(product_id, 1, 1500, "sale-twice");
  ASSERT_EQ(sold.status, 201) << sold.body;
  const json whole = {{"sale_id", sold.body["id"]}};
  // The second arrives while the provider still thinks about the first, for longer than the
  // lease (3 s here): it takes the key over and asks about the same number.
  ApiFixture::Reply inner;
  std::atomic<bool> fired{false};
  wechat.during_refund = [&](const payments::RefundRequest&) {
    if (!fired.exchange(true)) inner = refund(whole, "k-twice");
  };
  const auto outer = refund(whole, "k-twice");
  wechat.during_refund = nullptr;
  // One of them has the refund; the other was told to retry (its lease was lost), never a second.
  const auto& won = inner.status == 201 ? inner : outer;
  ASSERT_EQ(won.status, 201) << inner.body << outer.body;
  EXPECT_TRUE(inner.status == 409 || outer.status == 409 ||
              inner.raw.payload() == outer.raw.payload())
      << inner.body << outer.body;
  EXPECT_EQ(wechat.refunded_fen(wechat.trade(0)), 1500);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refunds"), 1);
  EXPECT_EQ(refund(whole, "k-twice").raw.payload(), won.raw.payload());
  expect_books_agree();
}

// A retry that arrives while the sweep finishes the same ask: one refund, one booking.
TEST_F(CodeRefundProbe, ARetryRacingTheSweepBooksOnce) {
  const auto sold = sell_by_code(product_id, 1, 1500, "sale-race");
  ASSERT_EQ(sold.status, 201) << sold.body;
  const json whole = {{"sale_id", sold.body["id"]}};
  wechat.refund_answer = RefundingProvider::Refund::answer_lost;
  ASSERT_EQ(refund(whole, "k-race").status, 503);
  wechat.refund_answer = RefundingProvider::Refund::success;
  std::this_thread::sleep_for(kPastTheLease);
  ApiFixture::Reply during;
  std::atomic<bool> fired{false};
  wechat.during_refund = [&](const payments::RefundRequest&) {
    if (!fired.exchange(true)) during = refund(whole, "k-race");
  };
  EXPECT_EQ(counter.recover_code_refunds(), 1);
  wechat.during_refund = nullptr;
  // The retry found the key held by the sweep: told to wait, never a second refund.
  EXPECT_TRUE(during.status == 409 || during.status == 201) << during.status << during.body;
  const auto after = refund(whole, "k-race");
  ASSERT_EQ(after.status, 201) << after.body;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refunds"), 1);
  EXPECT_EQ(wechat.refunded_fen(wechat.trade(0)), 1500);
  expect_books_agree();
}

// Bad input to POST /pos/refunds of a code sale: always a 4xx naming what is wrong, never 500,
// never a provider call.
TEST_F(CodeRefundProbe, BadInputIsA4xxAndNeverAsksTheProvider) {
  const auto sold = sell_by_code(product_id, 2, 3000, "sale-bad");
  ASSERT_EQ(sold.status, 201) << sold.body;
  const auto id = sold.body["id"].dump();
  const auto line = sold.body["lines"][0]["id"].dump();
  const std::vector<std::string> bodies = {
      "",
      "[]",
      "{}",
      R"({"sale_id":"x"})",
      R"({"sale_id":0})",
      R"({"sale_id":999999})",
      R"({"sale_id":999999,"method":"wechat_code"})",
      R"({"sale_id":)" + id + R"(,"method":"bitcoin"})",
      R"({"sale_id":)" + id + R"(,"method":"cash_code"})",
      R"({"sale_id":)" + id + R"(,"method":"alipay_code"})",
      R"({"sale_id":)" + id + R"(,"lines":[{"line_id":)" + line + R"(,"quantity":0}]})",
      R"({"sale_id":)" + id + R"(,"lines":[{"line_id":)" + line + R"(,"quantity":-1}]})",
      R"({"sale_id":)" + id + R"(,"lines":[{"line_id":)" + line + R"(,"quantity":3}]})",
      R"({"sale_id":)" + id + R"(,"lines":[{"line_id":999999,"quantity":1}]})",
      R"({"sale_id":)" + id + R"(,"lines":[{"line_id":)" + line + R"(,"quantity":1.5}]})",
      R"({"sale_id":)" + id + R"(,"lines":[{"line_id":)" + line +
          R"(,"quantity":9223372036854775807}]})",
      R"({"sale_id":)" + id + R"(,"lines":[{"line_id":)" + line + R"(,"quantity":1e30}]})",
      R"({"sale_id":)" + id + R"(,"reason":")" + std::string(300, 'x') + R"("})",
      R"({"sale_id":)" + id + R"(,"reason":"坏了\n第二行"})",
      R"({"sale_id":)" + id + R"(,"extra":1})",
  };
  const auto before = footprint();
  int n = 0;
  for (const auto& body : bodies) {
    SCOPED_TRACE(body.substr(0, 120));
    const auto reply = refund_raw(body, "k-bad-" + std::to_string(++n));
    EXPECT_GE(reply.status, 400) << reply.body;
    EXPECT_LT(reply.status, 500) << reply.body;
  }
  EXPECT_EQ(footprint(), before);
  EXPECT_EQ(wechat.refund_asks + alipay.refund_asks, 0);
  // Without the key: 4xx too.
  const auto keyless = api.call("POST", "/api/v1/pos/refunds", "cashier1",
                                json{{"sale_id", sold.body["id"]}}.dump());
  EXPECT_GE(keyless.status, 400);
  EXPECT_LT(keyless.status, 500);
}
