// Counter 付款码 tenders on the real MariaDB, with a scripted provider: paid at once, paying
// then paid after polls, a timeout reversed with nothing sold, a declined code, one charge for a
// retried key with the first sale byte for byte (a concurrent retry is 409 payment_pending at
// once and holds no worker of the HTTP server; code sales waiting for their payers hold none
// either: they run on the provider pool), stock gone between the charge and the sale (the
// payment is reversed), a refused reverse checked by a query, an unreachable provider, and a
// request that died mid-payment recovered by the retry or by the sweep.
#include <gtest/gtest.h>

#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>

#include "e2e/harness.hpp"
#include "support/api_client.hpp"
#include "support/refund_ledger.hpp"
#include "yizhan/http/metrics.hpp"
#include "yizhan/http/server.hpp"
#include "yizhan/http/static_files.hpp"
#include "yizhan/payments/provider.hpp"
#include "yizhan/service/check.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/stock.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/migrations.hpp"

using namespace yizhan;
using nlohmann::json;
using payments::PaymentState;
using payments::ProviderError;
using test_support::ApiFixture;

namespace {

constexpr const char* kWechatCode = "134567890123456789";
constexpr const char* kAlipayCode = "281234567890123456";

/// A provider that answers as a test tells it and counts what it was asked.
class ScriptedProvider : public payments::Provider {
 public:
  enum class Pay { paid, paying, declined, unreachable };

  Pay pay = Pay::paid;
  int paying_polls = 0;  ///< queries answered "paying" before "paid"; < 0: forever
  bool query_unreachable = false;
  bool reverse_unreachable = false;
  bool reverse_refused = false;  ///< the reverse says no (e.g. ORDERNOTEXIST): the trade closed
  /// The reverse says no and the trade stays open (Alipay's cancel refused while the payer can
  /// still pay).
  bool reverse_refused_open = false;
  /// Queries answer a trade waiting for the payer as Alipay does: not paid, WAIT_BUYER_PAY.
  bool alipay_like = false;
  std::string decline_code = "NOT_ENOUGH";
  std::function<void()> during_pay;  ///< runs inside pay_with_code (races, concurrent retries)

  std::atomic<int> pays{0}, queries{0}, code_queries{0}, reverses{0};
  std::vector<std::string> codes_seen;
  std::vector<std::string> trades;

  std::string name() const override { return "wechat"; }
  payments::PaymentStart start(const payments::PaymentRequest&) override { return {}; }
  void close(const std::string&) override {}
  /// Refunds: answered at once, accepted but still processing, refused, lost on the way (no
  /// refund made), or made with its answer lost on the way back.
  enum class Refund { success, processing, refused, unreachable, answer_lost };
  Refund refund_answer = Refund::success;
  std::function<void()> during_refund;
  std::atomic<int> refund_asks{0};
  std::vector<payments::RefundRequest> refund_requests;

  payments::RefundState refund(const payments::RefundRequest& request) override {
    ++refund_asks;
    {
      std::lock_guard lock(mutex_);
      refund_requests.push_back(request);
    }
    if (during_refund) during_refund();
    if (refund_answer == Refund::unreachable)
      throw ProviderError(ProviderError::Kind::unreachable, "timeout");
    if (refund_answer == Refund::refused)
      throw ProviderError(ProviderError::Kind::refused, "NOT_ENOUGH", "NOT_ENOUGH");
    const auto made = refunds.make(request, refund_answer == Refund::processing
                                                ? payments::RefundState::State::processing
                                                : payments::RefundState::State::succeeded);
    if (refund_answer == Refund::answer_lost)
      throw ProviderError(ProviderError::Kind::unreachable, "answer lost");
    return made;
  }

  payments::RefundState query_refund(const std::string&,
                                     const std::string& out_refund_no) override {
    return refunds.lookup(out_refund_no);
  }

  /// What the provider gave back of a payment, in fen.
  std::int64_t refunded_fen(const std::string& out_trade_no) {
    return refunds.refunded_fen(out_trade_no);
  }
  /// The provider finishes a refund it had as PROCESSING.
  void finish_refund(const std::string& out_refund_no, payments::RefundState::State state,
                     const std::string& raw_state) {
    refunds.finish(out_refund_no, state, raw_state);
  }
  PaymentState verify_notification(const payments::Notification&,
                                   payments::Clock::time_point) override {
    throw payments::RejectedNotification("not here");
  }
  std::pair<int, std::string> notification_answer(bool) const override { return {200, ""}; }

  PaymentState pay_with_code(const std::string& out_trade_no, const std::string& auth_code,
                             domain::Fen amount, const std::string&) override {
    ++pays;
    {
      std::lock_guard lock(mutex_);
      codes_seen.push_back(auth_code);
      trades.push_back(out_trade_no);
      amounts_[out_trade_no] = amount;
      polls_left_[out_trade_no] = paying_polls;
    }
    if (during_pay) during_pay();
    if (pay == Pay::unreachable)
      throw ProviderError(ProviderError::Kind::unreachable, "connection refused");
    std::lock_guard lock(mutex_);
    auto& state = states_[out_trade_no];
    state = pay == Pay::paid     ? PaymentState::State::paid
            : pay == Pay::paying ? PaymentState::State::paying
                                 : PaymentState::State::failed;
    return answer(out_trade_no, pay == Pay::declined ? decline_code : "", /*from_query=*/false);
  }

  PaymentState query(const std::string& out_trade_no) override {
    ++queries;
    if (query_unreachable) throw ProviderError(ProviderError::Kind::unreachable, "timeout");
    std::lock_guard lock(mutex_);
    const auto found = states_.find(out_trade_no);
    if (found == states_.end()) {
      PaymentState none;
      none.out_trade_no = out_trade_no;
      none.raw_state = "ORDER_NOT_EXIST";
      return none;
    }
    if (found->second == PaymentState::State::paying) {
      auto& left = polls_left_[out_trade_no];
      if (left == 0) found->second = PaymentState::State::paid;
      if (left > 0) --left;
    }
    return answer(out_trade_no, "");
  }

  /// The counter's polls come here (WeChat v2 codes use another API than `query`).
  PaymentState query_code(const std::string& out_trade_no) override {
    ++code_queries;
    return query(out_trade_no);
  }

  void reverse(const std::string& out_trade_no) override {
    ++reverses;
    if (reverse_unreachable) throw ProviderError(ProviderError::Kind::unreachable, "timeout");
    if (reverse_refused_open)
      throw ProviderError(ProviderError::Kind::refused, "system error", "ACQ.SYSTEM_BUSY");
    std::lock_guard lock(mutex_);
    states_[out_trade_no] = PaymentState::State::closed;
    if (reverse_refused)
      throw ProviderError(ProviderError::Kind::refused, "nothing to reverse", "ORDERNOTEXIST");
  }

  /// Lets a trade asked before complete now (the payer entered the password meanwhile).
  void complete(const std::string& out_trade_no) {
    std::lock_guard lock(mutex_);
    states_[out_trade_no] = PaymentState::State::paid;
  }

  PaymentState::State state_of(const std::string& out_trade_no) {
    std::lock_guard lock(mutex_);
    return states_[out_trade_no];
  }

 private:
  PaymentState answer(const std::string& out_trade_no, const std::string& code,
                      bool from_query = true) {
    PaymentState out;
    out.out_trade_no = out_trade_no;
    out.state = states_[out_trade_no];
    out.amount = amounts_[out_trade_no];
    if (out.state == PaymentState::State::paid)
      out.transaction_id = "4200001234202612020000" + std::to_string(1000 + pays.load());
    out.raw_state = !code.empty()                              ? code
                    : out.state == PaymentState::State::paid   ? "SUCCESS"
                    : out.state == PaymentState::State::paying ? "USERPAYING"
                                                               : "CLOSED";
    if (alipay_like && from_query && out.state == PaymentState::State::paying) {
      out.state = PaymentState::State::not_paid;
      out.raw_state = "WAIT_BUYER_PAY";
    }
    return out;
  }

  std::mutex mutex_;
  std::map<std::string, PaymentState::State> states_;
  std::map<std::string, domain::Fen> amounts_;
  std::map<std::string, int> polls_left_;
  test_support::RefundLedger refunds;
};

service::CounterSettings fast_settings() {
  service::CounterSettings settings;
  // Short, but with room for a loaded machine: a paying payer is done long before the deadline.
  settings.code_pay.deadline = std::chrono::milliseconds(2000);
  settings.code_pay.poll_interval = std::chrono::milliseconds(20);
  settings.code_pay.lease_margin = std::chrono::milliseconds(1000);
  settings.code_pay.refund_recheck = std::chrono::milliseconds(50);
  return settings;
}

class CodePaymentTest : public ::testing::Test {
 protected:
  CodePaymentTest() {
    api.router = api::build_router(
        {api.health, api.station.accounts, api.audit, api.catalog, &counter, &stock});
    const auto shift = api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                                     {{"register", "柜台1"}, {"float_fen", 10000}});
    EXPECT_EQ(shift.status, 201) << shift.body;
    product_id = product("C1", 1500, 5);
  }

  std::int64_t product(const std::string& sku, std::int64_t price_fen, std::int64_t quantity) {
    const auto created = api.call_json("POST", "/api/v1/products", "admin",
                                       {{"sku", sku},
                                        {"name", "商品 " + sku},
                                        {"village_id", api.station.village_a},
                                        {"category_id", 3},
                                        {"unit", "piece"},
                                        {"price_fen", price_fen}});
    EXPECT_EQ(created.status, 201) << created.body;
    const auto id = created.body["id"].get<std::int64_t>();
    const auto received =
        api.call_json("POST", "/api/v1/stock/receipts", "admin",
                      {{"village_id", api.station.village_a},
                       {"lines", {{{"product_id", id}, {"quantity", quantity}, {"lot", "L1"}}}}});
    EXPECT_EQ(received.status, 201) << received.body;
    return id;
  }

  static json code_sale(std::int64_t product_id, std::int64_t quantity, std::int64_t amount,
                        const std::string& method = "wechat_code",
                        const std::string& code = kWechatCode) {
    return {{"lines", {{{"product_id", product_id}, {"quantity", quantity}}}},
            {"tenders", {{{"method", method}, {"amount_fen", amount}, {"auth_code", code}}}}};
  }

  ApiFixture::Reply refund(const json& body, const std::string& key,
                           const std::string& user = "cashier1") {
    return api.call("POST", "/api/v1/pos/refunds", user, body.dump(), {{"idempotency-key", key}});
  }

  /// What the books hold of refunds: rows, stock, the code's clearing account.
  std::string refund_footprint() {
    std::string out;
    for (const char* table : {"refunds", "refund_lines", "stock_moves", "journal_entries"})
      out += std::string(table) + "=" +
             std::to_string(scalar(std::string("SELECT COUNT(*) FROM ") + table)) + " ";
    return out + "on_hand=" + std::to_string(scalar("SELECT SUM(on_hand) FROM stock_levels")) +
           " clearing=" +
           std::to_string(scalar("SELECT SUM(amount_fen) FROM postings p JOIN ledger_accounts a "
                                 "ON a.id = p.account_id WHERE a.code LIKE 'tender_clearing:%'"));
  }

  ApiFixture::Reply sell(const json& body, const std::string& key) {
    return api.call("POST", "/api/v1/pos/sales", "cashier1", body.dump(),
                    {{"idempotency-key", key}});
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

  std::string text(const std::string& query) {
    std::string value;
    api.station.database.with_connection([&](store::UnitOfWork& unit) {
      std::unique_ptr<sql::Statement> s(unit.connection().createStatement());
      std::unique_ptr<sql::ResultSet> rows(s->executeQuery(query));
      if (rows->next()) value = rows->getString(1);
    });
    return value;
  }

  void execute(const std::string& statement) {
    api.station.database.with_connection([&](store::UnitOfWork& unit) {
      std::unique_ptr<sql::Statement> s(unit.connection().createStatement());
      s->execute(statement);
    });
  }

  /// The balance (debits positive) of a ledger account.
  std::int64_t balance(const std::string& code) {
    return scalar(
        "SELECT COALESCE(SUM(p.amount_fen), 0) FROM postings p JOIN ledger_accounts a "
        "ON a.id = p.account_id WHERE a.code = '" +
        code + "'");
  }

  /// Sells one piece through WeChat, refunds it (booked while PROCESSING), and lets the
  /// provider close it unpaid and the sweep learn it: the customer is owed 15.00. The sale id.
  std::int64_t owe_refund(const std::string& name) {
    const auto sold = sell(code_sale(product_id, 1, 1500), "code-" + name);
    EXPECT_EQ(sold.status, 201) << sold.body;
    wechat.refund_answer = ScriptedProvider::Refund::processing;
    const auto refunded = refund({{"sale_id", sold.body["id"]}}, "refund-" + name);
    EXPECT_EQ(refunded.status, 201) << refunded.body;
    wechat.refund_answer = ScriptedProvider::Refund::success;
    wechat.finish_refund(text("SELECT out_refund_no FROM code_refunds ORDER BY id DESC"),
                         payments::RefundState::State::failed, "CLOSED");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    EXPECT_EQ(counter.recover_code_refunds(), 1);
    return sold.body["id"].get<std::int64_t>();
  }

  ApiFixture::Reply repay(std::int64_t refund_id, const std::string& body, const std::string& key,
                          const std::string& user = "cashier1") {
    return api.call("POST", "/api/v1/pos/refunds/" + std::to_string(refund_id) + "/repay", user,
                    body, {{"idempotency-key", key}});
  }

  std::string sold_footprint() {
    std::string out;
    for (const char* table : {"sales", "sale_tenders", "stock_moves", "journal_entries"})
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
  ScriptedProvider wechat;
  ScriptedProvider alipay;
  service::StockService stock{api.station.database};
  service::CounterService counter{
      api.station.database, fast_settings(), 7, {{"wechat", &wechat}, {"alipay", &alipay}}};
  std::int64_t product_id = 0;
};

}  // namespace

TEST_F(CodePaymentTest, ACodePaidAtOnceSellsWithTheProvidersTransactionAndNeverStoresTheCode) {
  const auto sold = sell(code_sale(product_id, 2, 3000), "code-1");
  ASSERT_EQ(sold.status, 201) << sold.body;
  ASSERT_EQ(sold.body["tenders"].size(), 1u);
  EXPECT_EQ(sold.body["tenders"][0]["method"], "wechat_code");
  EXPECT_EQ(sold.body["tenders"][0]["amount_fen"], 3000);
  EXPECT_EQ(sold.body["tenders"][0]["reference"].get<std::string>().substr(0, 4), "4200");
  EXPECT_EQ(wechat.pays, 1);
  EXPECT_EQ(wechat.codes_seen.front(), kWechatCode);
  const auto trade = wechat.trades.front();
  EXPECT_EQ(trade.size(), 30u);
  EXPECT_EQ(trade.substr(0, 1), "Y");
  EXPECT_EQ(trade.substr(25), "-0-01");
  EXPECT_EQ(text("SELECT state FROM code_payments"), "sold");
  EXPECT_EQ(scalar("SELECT sale_id FROM code_payments"), sold.body["id"].get<std::int64_t>());
  EXPECT_EQ(text("SELECT code_masked FROM code_payments"), "1345**********6789");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM code_payments WHERE code_masked LIKE '%" +
                   std::string(kWechatCode) + "%'"),
            0);
  EXPECT_EQ(sold.raw.payload().find(kWechatCode), std::string::npos);
  EXPECT_EQ(scalar("SELECT SUM(amount_fen) FROM postings p JOIN ledger_accounts a ON a.id = "
                   "p.account_id WHERE a.code = 'tender_clearing:wechat_code'"),
            3000);
  // The shift report shows the tender method, not cash.
  const auto report = api.call(
      "GET", "/api/v1/pos/shifts/" + std::to_string(sold.body["shift_id"].get<int>()) + "/report",
      "cashier1");
  EXPECT_EQ(report.body["expected_cash_fen"], 10000);
  EXPECT_EQ(report.body["by_method"][0]["method"], "wechat_code");
  expect_books_agree();
}

// --- refunds to the code (原路退回) ----------------------------------------------------------

TEST_F(CodePaymentTest, ARefundToTheCodeGoesBackThroughItsProviderOnceAndIsBooked) {
  const auto sold = sell(code_sale(product_id, 2, 3000), "code-r1");
  ASSERT_EQ(sold.status, 201) << sold.body;
  const auto trade = wechat.trades.front();
  const json whole = {{"sale_id", sold.body["id"]}, {"reason", "顾客退货"}};
  const auto refunded = refund(whole, "refund-r1");
  ASSERT_EQ(refunded.status, 201) << refunded.body;
  EXPECT_EQ(refunded.body["method"], "wechat_code") << "the sale's tender, by default";
  EXPECT_EQ(refunded.body["total_fen"], 3000);
  EXPECT_EQ(refunded.body["provider_state"], "SUCCESS");
  EXPECT_FALSE(refunded.body["provider_refund_id"].get<std::string>().empty());
  ASSERT_EQ(wechat.refund_asks, 1);
  const auto& asked = wechat.refund_requests.front();
  EXPECT_EQ(asked.out_trade_no, trade);
  EXPECT_EQ(asked.refund.value(), 3000);
  EXPECT_EQ(asked.total.value(), 3000);
  EXPECT_EQ(asked.out_refund_no.substr(0, 1), "R");
  EXPECT_EQ(asked.out_refund_no.size(), 28u);
  EXPECT_EQ(asked.reason, "顾客退货");
  EXPECT_EQ(wechat.refunded_fen(trade), 3000);
  EXPECT_EQ(text("SELECT state FROM code_refunds"), "refunded");
  EXPECT_EQ(scalar("SELECT refund_id FROM code_refunds"), refunded.body["id"].get<std::int64_t>());
  EXPECT_EQ(
      scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(product_id)),
      5);
  EXPECT_EQ(scalar("SELECT COALESCE(SUM(amount_fen), 0) FROM postings p JOIN ledger_accounts a "
                   "ON a.id = p.account_id WHERE a.code = 'tender_clearing:wechat_code'"),
            0);
  // The same request again: the same answer byte for byte, the provider not asked again.
  const auto again = refund(whole, "refund-r1");
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.raw.payload(), refunded.raw.payload());
  EXPECT_EQ(wechat.refund_asks, 1);
  // Nothing is left to refund.
  EXPECT_EQ(refund(whole, "refund-r1b").status, 409);
  // The shift report counts it under the code, not the drawer.
  const auto report = api.call(
      "GET", "/api/v1/pos/shifts/" + std::to_string(sold.body["shift_id"].get<int>()) + "/report",
      "cashier1");
  EXPECT_EQ(report.body["expected_cash_fen"], 10000);
  EXPECT_EQ(report.body["refunds_count"], 1);
  expect_books_agree();
}

TEST_F(CodePaymentTest, ARefundToTheCodeNeverGivesBackMoreThanTheCodePaid) {
  // 2 × ¥15: ¥10 in cash, ¥20 by the code.
  const json body = {
      {"lines", {{{"product_id", product_id}, {"quantity", 2}}}},
      {"tenders",
       {{{"method", "cash"}, {"amount_fen", 1000}, {"tendered_fen", 1000}},
        {{"method", "wechat_code"}, {"amount_fen", 2000}, {"auth_code", kWechatCode}}}}};
  const auto sold = sell(body, "code-split");
  ASSERT_EQ(sold.status, 201) << sold.body;
  const auto line_id = sold.body["lines"][0]["id"];
  const json one_to_code = {{"sale_id", sold.body["id"]},
                            {"method", "wechat_code"},
                            {"lines", {{{"line_id", line_id}, {"quantity", 1}}}}};
  const auto first = refund(one_to_code, "refund-split-1");
  ASSERT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(first.body["total_fen"], 1500);
  const auto before = refund_footprint();
  const auto second = refund(one_to_code, "refund-split-2");
  ASSERT_EQ(second.status, 409) << second.body;
  EXPECT_EQ(second.body["error"]["code"], "refund_exceeds_sale");
  EXPECT_EQ(second.body["error"]["details"]["field"], "method");
  EXPECT_EQ(second.body["error"]["details"]["refundable_fen"], "500");
  EXPECT_EQ(refund_footprint(), before) << "nothing changed";
  EXPECT_EQ(wechat.refund_asks, 1);
  // Alipay never took part in this sale.
  json to_alipay = one_to_code;
  to_alipay["method"] = "alipay_code";
  const auto wrong = refund(to_alipay, "refund-split-3");
  EXPECT_EQ(wrong.status, 422) << wrong.body;
  EXPECT_EQ(wrong.body["error"]["details"]["field"], "method");
  // The rest goes back in cash.
  json in_cash = one_to_code;
  in_cash["method"] = "cash";
  EXPECT_EQ(refund(in_cash, "refund-split-4").status, 201);
  EXPECT_EQ(wechat.refunded_fen(wechat.trades.front()), 1500);
  expect_books_agree();
}

TEST_F(CodePaymentTest, ARefusedRefundIs402AndChangesNothingAndTheKeyCanTryAgain) {
  const auto sold = sell(code_sale(product_id, 1, 1500), "code-refused");
  ASSERT_EQ(sold.status, 201) << sold.body;
  const auto before = refund_footprint();
  wechat.refund_answer = ScriptedProvider::Refund::refused;
  const json whole = {{"sale_id", sold.body["id"]}};
  const auto refused = refund(whole, "refund-refused");
  ASSERT_EQ(refused.status, 402) << refused.body;
  EXPECT_EQ(refused.body["error"]["code"], "payment_declined");
  EXPECT_EQ(refused.body["error"]["details"]["provider_code"], "NOT_ENOUGH");
  EXPECT_EQ(refund_footprint(), before);
  EXPECT_EQ(text("SELECT state FROM code_refunds"), "failed");
  // Later the merchant's balance is there: the same request tries again under a new number.
  wechat.refund_answer = ScriptedProvider::Refund::success;
  const auto retried = refund(whole, "refund-refused");
  ASSERT_EQ(retried.status, 201) << retried.body;
  ASSERT_EQ(wechat.refund_requests.size(), 2u);
  EXPECT_NE(wechat.refund_requests[0].out_refund_no, wechat.refund_requests[1].out_refund_no);
  EXPECT_EQ(wechat.refund_requests[1].out_refund_no.substr(25), "-02");
  expect_books_agree();
}

TEST_F(CodePaymentTest, AnUnansweredRefundHoldsTheSaleAndItsRetryAsksTheSameNumberAndBooksOnce) {
  const auto sold = sell(code_sale(product_id, 2, 3000), "code-lost");
  ASSERT_EQ(sold.status, 201) << sold.body;
  const auto before = refund_footprint();
  wechat.refund_answer = ScriptedProvider::Refund::answer_lost;  // refunded, answer lost
  const json whole = {{"sale_id", sold.body["id"]}};
  const auto lost = refund(whole, "refund-lost");
  ASSERT_EQ(lost.status, 503) << lost.body;
  EXPECT_EQ(refund_footprint(), before) << "not booked before the provider's word";
  EXPECT_EQ(text("SELECT state FROM code_refunds"), "refunding");
  // Meanwhile no other refund of the sale: its goods may be on their way back already.
  const json in_cash = {{"sale_id", sold.body["id"]}, {"method", "cash"}};
  const auto held = refund(in_cash, "refund-lost-cash");
  EXPECT_EQ(held.status, 409) << held.body;
  EXPECT_EQ(held.body["error"]["code"], "conflict");
  // The retry asks about the same refund and books it once.
  wechat.refund_answer = ScriptedProvider::Refund::success;
  const auto retried = refund(whole, "refund-lost");
  ASSERT_EQ(retried.status, 201) << retried.body;
  ASSERT_EQ(wechat.refund_requests.size(), 2u);
  EXPECT_EQ(wechat.refund_requests[0].out_refund_no, wechat.refund_requests[1].out_refund_no);
  EXPECT_EQ(wechat.refunded_fen(wechat.trades.front()), 3000);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refunds"), 1);
  EXPECT_EQ(refund(in_cash, "refund-lost-cash").status, 409) << "everything went back";
  expect_books_agree();
}

TEST_F(CodePaymentTest, ARetriedAskRefusedAndNeverMadeIsARefusalAfterTheProviderSaysSo) {
  const auto sold = sell(code_sale(product_id, 1, 1500), "code-never-made");
  ASSERT_EQ(sold.status, 201) << sold.body;
  const auto before = refund_footprint();
  wechat.refund_answer = ScriptedProvider::Refund::unreachable;  // lost on the way: not made
  const json whole = {{"sale_id", sold.body["id"]}};
  ASSERT_EQ(refund(whole, "refund-never-made").status, 503);
  wechat.refund_answer = ScriptedProvider::Refund::refused;
  const auto refused = refund(whole, "refund-never-made");
  ASSERT_EQ(refused.status, 402) << refused.body;
  EXPECT_EQ(text("SELECT state FROM code_refunds"), "failed");
  EXPECT_EQ(refund_footprint(), before);
  EXPECT_EQ(wechat.refunded_fen(wechat.trades.front()), 0);
}

TEST_F(CodePaymentTest, TwoRefundsOfOneSaleAtOnceGiveBackOnce) {
  const auto sold = sell(code_sale(product_id, 1, 1500), "code-race");
  ASSERT_EQ(sold.status, 201) << sold.body;
  const json whole = {{"sale_id", sold.body["id"]}};
  ApiFixture::Reply second;
  std::once_flag once;
  wechat.during_refund = [&] {  // a second till refunds the same sale meanwhile
    std::call_once(once, [&] { second = refund(whole, "refund-race-2"); });
  };
  const auto first = refund(whole, "refund-race-1");
  wechat.during_refund = nullptr;
  EXPECT_EQ(first.status, 201) << first.body;
  EXPECT_EQ(second.status, 409) << second.body;
  EXPECT_EQ(wechat.refund_asks, 1);
  EXPECT_EQ(wechat.refunded_fen(wechat.trades.front()), 1500);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refunds"), 1);
  expect_books_agree();
}

TEST_F(CodePaymentTest, TheSweepBooksARefundWhoseRequestDiedAndItsRetryAnswersIt) {
  const auto sold = sell(code_sale(product_id, 1, 1500), "code-sweep-refund");
  ASSERT_EQ(sold.status, 201) << sold.body;
  wechat.refund_answer = ScriptedProvider::Refund::answer_lost;
  const json whole = {{"sale_id", sold.body["id"]}};
  ASSERT_EQ(refund(whole, "refund-sweep").status, 503);
  wechat.refund_answer = ScriptedProvider::Refund::success;
  EXPECT_EQ(counter.recover_code_refunds(), 0) << "not before its lease and margin ran out";
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  EXPECT_EQ(counter.recover_code_refunds(), 1);
  EXPECT_EQ(text("SELECT state FROM code_refunds"), "refunded");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refunds"), 1);
  EXPECT_EQ(counter.recover_code_refunds(), 0) << "once";
  EXPECT_EQ(wechat.refunded_fen(wechat.trades.front()), 1500);
  // The cashier's retry gets the refund the sweep booked, and nothing more happens.
  const auto retried = refund(whole, "refund-sweep");
  ASSERT_EQ(retried.status, 201) << retried.body;
  EXPECT_EQ(retried.body["id"].get<std::int64_t>(), scalar("SELECT id FROM refunds"));
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refunds"), 1);
  expect_books_agree();
}

// A refund booked while PROCESSING that the provider then ends without paying (CLOSED): the
// money is back with the provider and owed to the customer, in the books and the audit log,
// once however often (and by however many sweeps at once) the answer is seen.
TEST_F(CodePaymentTest, ARefundTheProviderClosesAfterItWasBookedIsOwedOnceInTheBooks) {
  const auto sale_id = std::to_string(owe_refund("closed-later"));
  const auto refund_id = scalar("SELECT id FROM refunds");
  EXPECT_EQ(text("SELECT provider_state FROM code_refunds"), "CLOSED");
  EXPECT_EQ(text("SELECT owed FROM code_refunds"), "owed");
  const auto audited =
      "SELECT COUNT(*) FROM audit_log WHERE action = "
      "'code_refund.failed_after_booking' AND entity_id = '" +
      sale_id + "'";
  const auto reversals =
      "SELECT COUNT(*) FROM journal_entries WHERE kind = 'refund_failed' AND "
      "document_id = " +
      std::to_string(refund_id);
  EXPECT_EQ(scalar(audited), 1);
  EXPECT_EQ(scalar(reversals), 1);
  // Sold for 15.00 through WeChat, booked as given back, then back with WeChat: 15.00 again.
  EXPECT_EQ(balance("tender_clearing:wechat_code"), 1500);
  EXPECT_EQ(balance("refunds_owed"), -1500);
  EXPECT_EQ(counter.recover_code_refunds(), 0) << "reported once";

  // The same answer seen again, as by a process that read PROCESSING before this one wrote;
  // then by two sweeps at once.
  for (int round = 0; round < 2; ++round) {
    execute("UPDATE code_refunds SET provider_state = 'PROCESSING'");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (round == 0) {
      EXPECT_EQ(counter.recover_code_refunds(), 1);
    } else {
      std::thread other([&] { counter.recover_code_refunds(); });
      counter.recover_code_refunds();
      other.join();
    }
    EXPECT_EQ(scalar(reversals), 1) << "round " << round;
    EXPECT_EQ(scalar(audited), 1) << "round " << round;
    EXPECT_EQ(balance("refunds_owed"), -1500) << "round " << round;
  }

  const auto listed = api.call("GET", "/api/v1/pos/refunds?owed=true", "cashier1");
  ASSERT_EQ(listed.status, 200) << listed.body;
  ASSERT_EQ(listed.body["items"].size(), 1u) << listed.body;
  EXPECT_EQ(listed.body["items"][0]["id"], refund_id);
  EXPECT_EQ(listed.body["items"][0]["owed"], "owed");
  EXPECT_EQ(listed.body["items"][0]["owed_fen"], 1500);
  EXPECT_EQ(listed.body["items"][0]["method"], "wechat_code");
  EXPECT_EQ(listed.body["items"][0]["provider_state"], "CLOSED");
  EXPECT_TRUE(listed.body["items"][0]["repayment"].is_null());
  expect_books_agree();
}

TEST_F(CodePaymentTest, AnOwedRefundPaidBackInCashLowersTheDrawerOnceAndARetryGetsTheSameAnswer) {
  owe_refund("repaid");
  const auto refund_id = scalar("SELECT id FROM refunds");
  const auto shift_id = scalar("SELECT id FROM shifts WHERE state = 'open'");
  const auto report = "/api/v1/pos/shifts/" + std::to_string(shift_id) + "/report";
  const auto before = api.call("GET", report, "cashier1");
  ASSERT_EQ(before.status, 200) << before.body;
  const auto expected_before = before.body["expected_cash_fen"].get<std::int64_t>();

  const auto repaid = repay(refund_id, R"({"method":"cash"})", "repay-1");
  ASSERT_EQ(repaid.status, 200) << repaid.body;
  EXPECT_EQ(repaid.body["owed"], "repaid");
  EXPECT_EQ(repaid.body["owed_fen"], 0);
  EXPECT_EQ(repaid.body["repayment"]["amount_fen"], 1500);
  EXPECT_EQ(repaid.body["repayment"]["method"], "cash");
  EXPECT_EQ(repaid.body["repayment"]["shift_id"], shift_id);
  EXPECT_EQ(repaid.body["repayment"]["cashier"], "cashier1");

  const auto after = api.call("GET", report, "cashier1");
  EXPECT_EQ(after.body["expected_cash_fen"].get<std::int64_t>(), expected_before - 1500);
  EXPECT_EQ(after.body["owed_repaid_count"], 1);
  EXPECT_EQ(after.body["owed_repaid_fen"], 1500);
  EXPECT_EQ(balance("refunds_owed"), 0);
  EXPECT_EQ(balance("cash_drawer:" + std::to_string(scalar("SELECT register_id FROM shifts"))),
            expected_before - 1500)
      << "the drawer's account agrees with the report";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM audit_log WHERE entity_type = 'refund' AND entity_id "
                   "= '" +
                   std::to_string(refund_id) + "'"),
            1);

  // A retry with the same key: the same answer, nothing paid twice.
  const auto entries = scalar("SELECT COUNT(*) FROM journal_entries");
  const auto retried = repay(refund_id, R"({"method":"cash"})", "repay-1");
  EXPECT_EQ(retried.status, 200) << retried.body;
  EXPECT_EQ(retried.raw.body, repaid.raw.body);
  // Another key: it was paid back already.
  const auto again = repay(refund_id, R"({"method":"cash"})", "repay-2");
  EXPECT_EQ(again.status, 409) << again.body;
  EXPECT_EQ(again.body["error"]["code"], "invalid_state");
  EXPECT_EQ(again.body["error"]["details"]["state"], "repaid");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries"), entries);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refund_repayments"), 1);

  EXPECT_EQ(api.call("GET", "/api/v1/pos/refunds?owed=true", "cashier1").body["items"].size(), 0u);
  const auto all = api.call("GET", "/api/v1/pos/refunds?owed=all", "admin");
  ASSERT_EQ(all.body["items"].size(), 1u) << all.body;
  EXPECT_EQ(all.body["items"][0]["owed"], "repaid");
  expect_books_agree();

  // The Z report counts it too: the drawer counted as expected closes with no difference.
  const auto closed =
      api.call_json("POST", "/api/v1/pos/shifts/" + std::to_string(shift_id) + "/close", "cashier1",
                    {{"counted_cash_fen", expected_before - 1500}});
  ASSERT_EQ(closed.status, 200) << closed.body;
  EXPECT_EQ(closed.body["difference_fen"], 0);
  EXPECT_EQ(closed.body["owed_repaid_fen"], 1500);
  expect_books_agree();
}

TEST_F(CodePaymentTest, RacingRepaymentsOfOneOwedRefundPayItBackOnce) {
  owe_refund("raced");
  const auto refund_id = scalar("SELECT id FROM refunds");
  const auto register_id = scalar("SELECT register_id FROM shifts WHERE state = 'open'");
  const auto drawer_before = balance("cash_drawer:" + std::to_string(register_id));
  // Eight at once: six keys (two sent twice, as a till retrying on a slow answer).
  std::atomic<int> paid{0}, refused{0}, other{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&, t] {
      const auto reply = repay(refund_id, R"({"method":"cash"})", "race-" + std::to_string(t % 6));
      if (reply.status == 200)
        ++paid;
      else if (reply.status == 409 || reply.status == 503)
        ++refused;
      else
        ++other;
    });
  for (auto& thread : threads)
    thread.join();
  EXPECT_GE(paid.load(), 1);
  EXPECT_LE(paid.load(), 2) << "only the winning key's retry may see its 200 again";
  EXPECT_EQ(other.load(), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refund_repayments"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'refund_repaid'"), 1);
  EXPECT_EQ(balance("cash_drawer:" + std::to_string(register_id)), drawer_before - 1500);
  EXPECT_EQ(balance("refunds_owed"), 0);
  expect_books_agree();
}

TEST_F(CodePaymentTest, RepayingWhatIsNotOwedOrWithBadInputChangesNothing) {
  owe_refund("refused-repay");
  const auto owed_id = scalar("SELECT id FROM refunds");
  // A cash refund of another sale: booked, given back, owed nothing.
  const json in_cash = {{"lines", {{{"product_id", product_id}, {"quantity", 1}}}},
                        {"tenders", {{{"method", "cash"}, {"amount_fen", 1500}}}}};
  const auto sold = sell(in_cash, "cash-not-owed");
  ASSERT_EQ(sold.status, 201) << sold.body;
  const auto cash_refund = refund({{"sale_id", sold.body["id"]}}, "refund-cash-not-owed");
  ASSERT_EQ(cash_refund.status, 201) << cash_refund.body;
  const auto not_owed_id = cash_refund.body["id"].get<std::int64_t>();

  const auto footprint = [&] {
    return std::to_string(scalar("SELECT COUNT(*) FROM journal_entries")) + " " +
           std::to_string(scalar("SELECT COUNT(*) FROM refund_repayments")) + " " +
           text("SELECT GROUP_CONCAT(COALESCE(owed, '-')) FROM code_refunds") + " " +
           std::to_string(scalar("SELECT COUNT(*) FROM audit_log"));
  };
  const auto before = footprint();
  const auto expect_refused = [&](const ApiFixture::Reply& reply, int status,
                                  const std::string& code, const std::string& field = "") {
    EXPECT_EQ(reply.status, status) << reply.body;
    EXPECT_EQ(reply.body["error"]["code"], code) << reply.body;
    if (!field.empty()) {
      EXPECT_EQ(reply.body["error"]["details"]["field"], field) << reply.body;
    }
  };
  expect_refused(repay(999999, R"({"method":"cash"})", "r-unknown"), 404, "not_found");
  const auto not_owed = repay(not_owed_id, R"({"method":"cash"})", "r-not-owed");
  expect_refused(not_owed, 409, "invalid_state");
  EXPECT_EQ(not_owed.body["error"]["details"]["state"], "not_owed");
  expect_refused(repay(owed_id, R"({"method":"card"})", "r-card"), 422, "invalid", "method");
  expect_refused(repay(owed_id, R"({})", "r-empty"), 422, "invalid", "method");
  expect_refused(repay(owed_id, R"({"method":"cash","amount_fen":1})", "r-extra"), 422, "invalid",
                 "amount_fen");
  expect_refused(repay(owed_id, R"({"method":"cash")", "r-broken"), 400, "malformed");
  expect_refused(api.call("POST", "/api/v1/pos/refunds/" + std::to_string(owed_id) + "/repay",
                          "cashier1", R"({"method":"cash"})"),
                 400, "idempotency_key_required");
  expect_refused(repay(owed_id, R"({"method":"cash"})", "r-no-shift", "admin"), 409,
                 "no_open_shift");
  expect_refused(api.call("GET", "/api/v1/pos/refunds", "cashier1"), 422, "invalid", "owed");
  EXPECT_EQ(footprint(), before);
  EXPECT_EQ(api.call("GET", "/api/v1/pos/refunds?owed=true", "village1").status, 403);
  // The refused key was not used up: the same key pays it back once the input is right.
  const auto repaid = repay(owed_id, R"({"method":"cash"})", "r-no-shift");
  EXPECT_EQ(repaid.status, 200) << repaid.body;
  expect_books_agree();
}

// Before sql/023 a refund ended unpaid after booking was only in the audit log; the migration
// makes it owed with its entry, once.
TEST_F(CodePaymentTest, ARefundEndedUnpaidBeforeTheMigrationIsOwedOnceItRuns) {
  owe_refund("before-migration");
  const auto refund_id = scalar("SELECT id FROM refunds");
  const auto entries = "SELECT COUNT(*) FROM journal_entries WHERE kind = 'refund_failed'";
  // As the old sweep left it: provider_state CLOSED, nothing owed, no entry.
  execute(
      "DELETE p FROM postings p JOIN journal_entries e ON e.id = p.entry_id "
      "WHERE e.kind = 'refund_failed'");
  execute("DELETE FROM journal_entries WHERE kind = 'refund_failed'");
  execute("UPDATE code_refunds SET owed = NULL, owed_at = NULL");
  ASSERT_EQ(balance("refunds_owed"), 0);
  for (int run = 0; run < 2; ++run) {
    execute("DELETE FROM schema_migrations WHERE version = 23");
    store::migrate(api.station.database, store::bundled_migrations());
    EXPECT_EQ(text("SELECT owed FROM code_refunds"), "owed") << "run " << run;
    EXPECT_EQ(scalar(entries), 1) << "run " << run;
    EXPECT_EQ(balance("refunds_owed"), -1500) << "run " << run;
    EXPECT_EQ(balance("tender_clearing:wechat_code"), 1500) << "run " << run;
  }
  EXPECT_EQ(api.call("GET", "/api/v1/pos/refunds?owed=true", "cashier1").body["items"][0]["id"],
            refund_id);
  expect_books_agree();
}

TEST_F(CodePaymentTest, TheCheckFindsRefundsOwedThatDisagreeWithTheBooks) {
  owe_refund("check-owed");
  const auto problems = [&] {
    service::Checker checker(api.station.database);
    service::add_journal_checks(checker);
    std::string out;
    for (const auto& result : checker.run())
      for (const auto& problem : result.problems)
        out += result.name + ": " + problem + "\n";
    return out;
  };
  EXPECT_EQ(problems(), "");
  execute("UPDATE code_refunds SET owed = 'repaid'");  // repaid with no repayment nor entry
  const auto found = problems();
  EXPECT_NE(found.find("refunds owed 1500, code refunds owed and not repaid 0"), std::string::npos)
      << found;
  EXPECT_NE(found.find("repaid without a repayment"), std::string::npos) << found;
  execute("UPDATE code_refunds SET owed = NULL");  // an entry with nothing owed
  EXPECT_NE(problems().find("(not owed): 1 refund_failed entries"), std::string::npos);
}

TEST_F(CodePaymentTest, ARefundStillProcessingIsBookedAndTheSweepLearnsItSucceeded) {
  const auto sold = sell(code_sale(product_id, 1, 1500), "code-processing");
  ASSERT_EQ(sold.status, 201) << sold.body;
  wechat.refund_answer = ScriptedProvider::Refund::processing;
  const auto refunded = refund({{"sale_id", sold.body["id"]}}, "refund-processing");
  ASSERT_EQ(refunded.status, 201) << refunded.body;
  EXPECT_EQ(refunded.body["provider_state"], "PROCESSING");
  EXPECT_EQ(text("SELECT provider_state FROM code_refunds"), "PROCESSING");
  const auto number = text("SELECT out_refund_no FROM code_refunds");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(counter.recover_code_refunds(), 0) << "still processing at the provider";
  wechat.finish_refund(number, payments::RefundState::State::succeeded, "SUCCESS");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(counter.recover_code_refunds(), 1);
  EXPECT_EQ(text("SELECT provider_state FROM code_refunds"), "SUCCESS");
  EXPECT_EQ(counter.recover_code_refunds(), 0);
  EXPECT_EQ(wechat.refund_asks, 1) << "looked up, never asked again";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM refunds"), 1);
  expect_books_agree();
}

TEST_F(CodePaymentTest, ARefundOfALineSoldForNothingAsksNoProviderAndBringsTheGoodsBack) {
  // A ¥1 sample given away (its own discount, within the cashier's 10 %) beside a ¥15 item.
  const auto sample = product("SAMPLE", 100, 3);
  const json body = {
      {"lines",
       {{{"product_id", sample}, {"quantity", 1}, {"discount_fen", 100}},
        {{"product_id", product_id}, {"quantity", 1}}}},
      {"tenders", {{{"method", "wechat_code"}, {"amount_fen", 1500}, {"auth_code", kWechatCode}}}}};
  const auto sold = sell(body, "code-sample");
  ASSERT_EQ(sold.status, 201) << sold.body;
  ASSERT_EQ(sold.body["lines"][0]["gross_fen"], 0);
  const json back = {{"sale_id", sold.body["id"]},
                     {"lines", {{{"line_id", sold.body["lines"][0]["id"]}, {"quantity", 1}}}}};
  const auto entries = scalar("SELECT COUNT(*) FROM journal_entries");
  // 原路退回 by default: nothing to give back, so the provider is not asked for 0.
  const auto refunded = refund(back, "refund-sample");
  ASSERT_EQ(refunded.status, 201) << refunded.body;
  EXPECT_EQ(refunded.body["total_fen"], 0);
  EXPECT_EQ(refunded.body["method"], "cash");
  EXPECT_EQ(wechat.refund_asks, 0);
  EXPECT_EQ(scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(sample)),
            3);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries"), entries);
  // Its retry is the same answer; the paid item still goes back to the code.
  const auto again = refund(back, "refund-sample");
  EXPECT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(again.body, refunded.body);
  const auto rest = refund({{"sale_id", sold.body["id"]}}, "refund-sample-rest");
  ASSERT_EQ(rest.status, 201) << rest.body;
  EXPECT_EQ(rest.body["method"], "wechat_code");
  EXPECT_EQ(rest.body["total_fen"], 1500);
  EXPECT_EQ(wechat.refund_asks, 1);
  expect_books_agree();
}

TEST_F(CodePaymentTest, APaymentCodeRefundWithoutTheProviderSetUpIs503AndChangesNothing) {
  const auto sold = sell(code_sale(product_id, 1, 1500), "code-noprov");
  ASSERT_EQ(sold.status, 201) << sold.body;
  service::CounterService bare{api.station.database, fast_settings(), 7, {}};
  api.router =
      api::build_router({api.health, api.station.accounts, api.audit, api.catalog, &bare, &stock});
  const auto before = refund_footprint();
  const auto refused = refund({{"sale_id", sold.body["id"]}}, "refund-noprov");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.body["error"]["details"]["field"], "method");
  EXPECT_EQ(refund_footprint(), before);
}

TEST_F(CodePaymentTest, TheCheckFindsARefundToACodeThatDisagreesWithWhatTheProviderGaveBack) {
  const auto sold = sell(code_sale(product_id, 1, 1500), "code-check");
  ASSERT_EQ(sold.status, 201) << sold.body;
  ASSERT_EQ(refund({{"sale_id", sold.body["id"]}}, "refund-check").status, 201);
  const auto problems = [&] {
    service::Checker checker(api.station.database);
    service::add_journal_checks(checker);
    std::string all;
    for (const auto& result : checker.run())
      for (const auto& problem : result.problems)
        all += result.name + ": " + problem + "\n";
    return all;
  };
  EXPECT_EQ(problems(), "");
  const auto tamper = [&](const std::string& statement) {
    api.station.database.with_connection([&](store::UnitOfWork& unit) {
      std::unique_ptr<sql::Statement> s(unit.connection().createStatement());
      s->execute(statement);
    });
  };
  tamper("UPDATE code_refunds SET amount_fen = amount_fen + 1");
  EXPECT_NE(problems().find("fen given back, booked as refund"), std::string::npos) << problems();
  EXPECT_NE(problems().find("1500 fen paid, 1501 fen given back"), std::string::npos);
  tamper("UPDATE code_refunds SET amount_fen = amount_fen - 1, state = 'failed'");
  EXPECT_NE(problems().find("booked for 0 provider refunds"), std::string::npos) << problems();
}

TEST_F(CodePaymentTest, APayerStillTypingThePasswordIsPolledUntilPaid) {
  wechat.pay = ScriptedProvider::Pay::paying;
  wechat.paying_polls = 3;
  const auto sold = sell(code_sale(product_id, 1, 1500), "code-poll");
  ASSERT_EQ(sold.status, 201) << sold.body;
  EXPECT_EQ(wechat.pays, 1);
  EXPECT_GE(wechat.queries, 4);
  EXPECT_EQ(wechat.code_queries, wechat.queries) << "polled through query_code only";
  EXPECT_EQ(wechat.reverses, 0);
  EXPECT_EQ(text("SELECT state FROM code_payments"), "sold");
  expect_books_agree();
}

TEST_F(CodePaymentTest, APayerWhoNeverConfirmsIsReversedAtTheDeadlineAndNothingIsSold) {
  const auto before = sold_footprint();
  wechat.pay = ScriptedProvider::Pay::paying;
  wechat.paying_polls = -1;
  const auto started = std::chrono::steady_clock::now();
  const auto refused = sell(code_sale(product_id, 1, 1500), "code-timeout");
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(6));
  ASSERT_EQ(refused.status, 402) << refused.body;
  EXPECT_EQ(refused.body["error"]["code"], "payment_declined");
  EXPECT_EQ(refused.body["error"]["details"]["provider_code"], "USERPAYING");
  EXPECT_EQ(refused.body["error"]["details"]["field"], "tenders[0].auth_code");
  EXPECT_EQ(wechat.reverses, 1);
  EXPECT_EQ(wechat.state_of(wechat.trades.front()), PaymentState::State::closed);
  EXPECT_EQ(sold_footprint(), before);
  EXPECT_EQ(text("SELECT state FROM code_payments"), "reversed");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM idempotency_keys"), 0) << "the key may be used again";

  // The same sale again (the customer confirms quicker): a new attempt, never the old number.
  wechat.pay = ScriptedProvider::Pay::paid;
  const auto again = sell(code_sale(product_id, 1, 1500), "code-timeout");
  ASSERT_EQ(again.status, 201) << again.body;
  ASSERT_EQ(wechat.trades.size(), 2u);
  EXPECT_NE(wechat.trades[0], wechat.trades[1]);
  EXPECT_EQ(wechat.trades[1].substr(25), "-0-02");
  expect_books_agree();
}

TEST_F(CodePaymentTest, ARefusedReverseIsCheckedThroughTheCodeQueryBeforeTheChargeIsSettled) {
  const auto before = sold_footprint();
  wechat.pay = ScriptedProvider::Pay::paying;
  wechat.paying_polls = -1;
  wechat.reverse_refused = true;
  const auto refused = sell(code_sale(product_id, 1, 1500), "code-refused-reverse");
  ASSERT_EQ(refused.status, 402) << refused.body;
  EXPECT_EQ(refused.body["error"]["details"]["provider_code"], "USERPAYING");
  EXPECT_EQ(wechat.reverses, 1);
  EXPECT_EQ(wechat.code_queries, wechat.queries) << "the check after the reverse too";
  EXPECT_EQ(text("SELECT state FROM code_payments"), "failed") << "closed, so nothing to reverse";
  EXPECT_EQ(sold_footprint(), before);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM idempotency_keys"), 0);
}

// A refused reverse whose trade still waits for the payer (Alipay: WAIT_BUYER_PAY, "not paid")
// is not settled: the payer can still finish it, so the charge stays open for the sweep to
// reverse, and the till hears 503 (ask again), never "declined".
TEST_F(CodePaymentTest, ARefusedReverseOfATradeStillPayableLeavesItForTheSweep) {
  wechat.pay = ScriptedProvider::Pay::paying;
  wechat.paying_polls = -1;
  wechat.alipay_like = true;
  wechat.reverse_refused_open = true;
  const auto open = sell(code_sale(product_id, 1, 1500), "code-still-payable");
  ASSERT_EQ(open.status, 503) << open.body;
  EXPECT_EQ(text("SELECT state FROM code_payments"), "charging");
  wechat.reverse_refused_open = false;
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  EXPECT_EQ(counter.recover_code_payments(), 1);
  EXPECT_EQ(text("SELECT state FROM code_payments"), "reversed");
  EXPECT_EQ(wechat.state_of(wechat.trades.front()), PaymentState::State::closed);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sales"), 0);
}

TEST_F(CodePaymentTest, ADeclinedCodeIs402WithTheProvidersCodeAndNothingIsSold) {
  const auto before = sold_footprint();
  wechat.pay = ScriptedProvider::Pay::declined;
  const auto refused = sell(code_sale(product_id, 1, 1500), "code-poor");
  ASSERT_EQ(refused.status, 402) << refused.body;
  EXPECT_EQ(refused.body["error"]["details"]["provider_code"], "NOT_ENOUGH");
  EXPECT_EQ(refused.body["error"]["details"]["provider"], "wechat");
  const std::string message = refused.body["error"]["message"];
  EXPECT_EQ(message.rfind("顾客余额不足", 0), 0u) << "Chinese first: " << message;
  EXPECT_EQ(wechat.reverses, 0) << "a declined payment moved no money";
  EXPECT_EQ(sold_footprint(), before);
  EXPECT_EQ(text("SELECT state FROM code_payments"), "failed");
}

TEST_F(CodePaymentTest, ARetryOfTheSameKeyChargesOnceAndAnswersTheFirstSaleByteForByte) {
  const auto body = code_sale(product_id, 1, 1500);
  const auto first = sell(body, "code-retry");
  ASSERT_EQ(first.status, 201) << first.body;
  const auto again = sell(body, "code-retry");
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.raw.payload(), first.raw.payload());
  EXPECT_EQ(wechat.pays, 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sales"), 1);
  // The same key with another body is refused, and charges nothing.
  const auto other = sell(code_sale(product_id, 2, 3000), "code-retry");
  EXPECT_EQ(other.status, 409);
  EXPECT_EQ(other.body["error"]["code"], "idempotency_mismatch");
  EXPECT_EQ(wechat.pays, 1);
}

TEST_F(CodePaymentTest, ARetryWhileTheFirstIsStillPollingIsPendingAtOnceAndStartsNoSecondCharge) {
  wechat.pay = ScriptedProvider::Pay::paying;
  wechat.paying_polls = -1;  // the customer types until the test says so
  const auto body = code_sale(product_id, 1, 1500);
  ApiFixture::Reply first;
  std::thread a([&] { first = sell(body, "code-race"); });
  while (wechat.pays.load() == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  // The retry neither waits for the first nor charges again: 409 payment_pending, retry later.
  const auto started = std::chrono::steady_clock::now();
  const auto second = sell(body, "code-race");
  const auto took = std::chrono::steady_clock::now() - started;
  wechat.complete(wechat.trades.front());
  a.join();
  EXPECT_LT(took, std::chrono::milliseconds(1000)) << "the retry must not wait for the first";
  ASSERT_EQ(second.status, 409) << second.body;
  EXPECT_EQ(second.body["error"]["code"], "payment_pending");
  EXPECT_EQ(second.body["error"]["details"]["retry_after_seconds"], "1") << "one 20 ms poll";
  bool retry_after = false;
  for (const auto& [name, value] : second.raw.headers)
    retry_after |= name == "Retry-After" && value == "1";
  EXPECT_TRUE(retry_after);
  ASSERT_EQ(first.status, 201) << first.body;
  // Once the first is answered, the retry gets its answer byte for byte.
  const auto third = sell(body, "code-race");
  ASSERT_EQ(third.status, 201) << third.body;
  EXPECT_EQ(third.raw.payload(), first.raw.payload());
  EXPECT_EQ(wechat.pays, 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sales"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM code_payments"), 1);
  expect_books_agree();
}

TEST_F(CodePaymentTest, RetriesOfAKeyStillChargingHoldNoWorkerSoOtherRequestsAreServed) {
  // The probe's F4: 8 retries of a key whose customer was still typing the password each held
  // a database worker until the first was answered; with all 8 taken, every other request of
  // every user waited and got 503 "server busy". Here through the real HTTP server and its pool.
  auto settings = fast_settings();
  settings.code_pay.deadline = std::chrono::seconds(30);  // the customer takes their time
  service::CounterService slow_counter{
      api.station.database, settings, 7, {{"wechat", &wechat}, {"alipay", &alipay}}};
  const auto router = api::build_router(
      {api.health, api.station.accounts, api.audit, api.catalog, &slow_counter, &stock});
  HttpConfig config;
  config.address = "127.0.0.1";
  config.port = 0;
  config.io_threads = 2;
  config.handler_timeout = std::chrono::milliseconds(3000);
  config.shutdown_grace = std::chrono::milliseconds(3000);
  constexpr int kWorkers = 8;  // database.pool_size's default
  constexpr int kRetries = 2 * kWorkers;
  // Code sales, retries too, run on the provider pool: room for the first and every retry at
  // once, so that each is answered 409 (a full pool would answer 503, also "retry later").
  config.provider_threads = kRetries + 1;
  http::StaticFiles files(api.media.path());
  http::Metrics metrics;
  http::Server server(config, {router, files, metrics, kWorkers});
  server.listen();
  std::thread serving([&] { server.run(); });
  struct Stop {
    http::Server& server;
    std::thread& thread;
    ~Stop() {
      server.stop();
      thread.join();
    }
  } stop{server, serving};

  const auto session = [&](const char* user) {
    return "Cookie: yz_session=" +
           api.station.accounts.login(user, test_support::kPassword, "10.3.0.9").token;
  };
  const std::vector<std::string> cashier = {session("cashier1"), "X-Requested-With: yizhan",
                                            "Content-Type: application/json",
                                            "Idempotency-Key: code-held"};
  const std::vector<std::string> admin = {session("admin"), "X-Requested-With: yizhan"};
  const auto fetch = [&](const std::string& method, const std::string& target,
                         const std::vector<std::string>& headers, const std::string& body) {
    try {
      return e2e::fetch(server.port(), method, target, headers, body);
    } catch (const std::exception&) {
      return e2e::HttpResponse{};  // no answer within 10 s: status 0
    }
  };
  const auto body = code_sale(product_id, 1, 1500).dump();
  const auto post = [&] { return fetch("POST", "/api/v1/pos/sales", cashier, body); };

  wechat.pay = ScriptedProvider::Pay::paying;
  wechat.paying_polls = -1;  // until the test completes the trade
  e2e::HttpResponse first;
  std::thread paying([&] { first = post(); });
  while (wechat.pays.load() == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));

  std::vector<e2e::HttpResponse> retries(kRetries);
  std::vector<std::chrono::steady_clock::duration> took(kRetries);
  std::vector<std::thread> retrying;
  for (int i = 0; i < kRetries; ++i)
    retrying.emplace_back([&, i] {
      const auto started = std::chrono::steady_clock::now();
      retries[i] = post();
      took[i] = std::chrono::steady_clock::now() - started;
    });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto asked = std::chrono::steady_clock::now();
  const auto other = fetch("GET", "/api/v1/stock/" + std::to_string(product_id), admin, "");
  const auto other_took = std::chrono::steady_clock::now() - asked;
  for (auto& thread : retrying)
    thread.join();
  EXPECT_EQ(wechat.pays, 1) << "a retry never charges the code again";
  wechat.complete(wechat.trades.front());
  paying.join();

  EXPECT_EQ(other.status, 200) << other.body;
  EXPECT_LT(other_took, std::chrono::milliseconds(1500)) << "another user's request waited";
  for (int i = 0; i < kRetries; ++i) {
    EXPECT_EQ(retries[i].status, 409) << retries[i].body;
    EXPECT_NE(retries[i].body.find("\"payment_pending\""), std::string::npos) << retries[i].body;
    EXPECT_FALSE(retries[i].header("retry-after").empty());
    EXPECT_LT(took[i], std::chrono::milliseconds(2000)) << "retry " << i << " waited";
  }
  ASSERT_EQ(first.status, 201) << first.body;
  const auto after = post();
  EXPECT_EQ(after.status, 201) << after.body;
  EXPECT_EQ(after.header("idempotent-replayed"), "true");
  EXPECT_EQ(after.body, first.body);
  EXPECT_EQ(wechat.pays, 1);
  EXPECT_EQ(wechat.reverses, 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sales"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM code_payments"), 1);
  EXPECT_EQ(text("SELECT state FROM code_payments"), "sold");
  expect_books_agree();
}

TEST_F(CodePaymentTest, CodeSalesWaitingForTheirPayersHoldNoDatabaseWorkerSoOthersAreServed) {
  // Twelve tills each scan a code whose payer takes their time to enter the password. Each sale
  // waited on one of the 8 database workers: 8 took them all, and every other user (the
  // storefront, a cash sale at a ninth till) waited and got 503. They wait on the provider pool
  // now, through the real HTTP server; one more than that pool holds is 503 at once.
  auto settings = fast_settings();
  settings.code_pay.deadline = std::chrono::seconds(30);  // the customers take their time
  service::CounterService slow_counter{
      api.station.database, settings, 7, {{"wechat", &wechat}, {"alipay", &alipay}}};
  const auto router = api::build_router(
      {api.health, api.station.accounts, api.audit, api.catalog, &slow_counter, &stock});
  constexpr int kWorkers = 8;     // database.pool_size's default
  constexpr int kCodeSales = 12;  // more than the database workers
  HttpConfig config;
  config.address = "127.0.0.1";
  config.port = 0;
  config.io_threads = 2;
  config.handler_timeout = std::chrono::milliseconds(3000);
  config.shutdown_grace = std::chrono::milliseconds(3000);
  config.provider_threads = kCodeSales;
  http::StaticFiles files(api.media.path());
  http::Metrics metrics;
  http::Server server(config, {router, files, metrics, kWorkers});
  server.listen();
  std::thread serving([&] { server.run(); });
  struct Stop {
    http::Server& server;
    std::thread& thread;
    ~Stop() {
      server.stop();
      thread.join();
    }
  } stop{server, serving};

  const auto cookie =
      "Cookie: yz_session=" +
      api.station.accounts.login("cashier1", test_support::kPassword, "10.3.0.9").token;
  const auto fetch = [&](const std::string& method, const std::string& target,
                         const std::vector<std::string>& headers, const std::string& body) {
    try {
      return e2e::fetch(server.port(), method, target, headers, body);
    } catch (const std::exception&) {
      return e2e::HttpResponse{};  // no answer within 10 s: status 0
    }
  };
  const auto post_sale = [&](const json& body, const std::string& key) {
    return fetch("POST", "/api/v1/pos/sales",
                 {cookie, "X-Requested-With: yizhan", "Content-Type: application/json",
                  "Idempotency-Key: " + key},
                 body.dump());
  };
  const auto stocked = product("C2", 1500, 30);
  const auto code_body = code_sale(stocked, 1, 1500);

  wechat.pay = ScriptedProvider::Pay::paying;
  wechat.paying_polls = -1;  // every payer types until the test completes their trade
  std::vector<e2e::HttpResponse> code_sales(kCodeSales);
  std::vector<std::thread> tills;
  for (int i = 0; i < kCodeSales; ++i)
    tills.emplace_back(
        [&, i] { code_sales[i] = post_sale(code_body, "till-" + std::to_string(i)); });
  const auto waited = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (wechat.pays.load() < kCodeSales && std::chrono::steady_clock::now() < waited)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(wechat.pays, kCodeSales) << "each code sale is charged at once, none waits for another";

  // While all of them wait: the storefront's catalog, a cash sale, and one code sale too many.
  const auto timed = [](auto&& call) {
    const auto started = std::chrono::steady_clock::now();
    auto reply = call();
    return std::pair(std::move(reply), std::chrono::steady_clock::now() - started);
  };
  const auto [catalog, catalog_took] =
      timed([&] { return fetch("GET", "/api/v1/products?page_size=5", {}, ""); });
  const json cash_body = {
      {"lines", {{{"product_id", stocked}, {"quantity", 1}}}},
      {"tenders", {{{"method", "cash"}, {"amount_fen", 1500}, {"tendered_fen", 2000}}}}};
  const auto [cash, cash_took] = timed([&] { return post_sale(cash_body, "cash-meanwhile"); });
  const auto [refused, refused_took] = timed([&] { return post_sale(code_body, "till-extra"); });
  const auto gauges = metrics.render();
  EXPECT_NE(gauges.find("yizhan_http_pool_threads{pool=\"provider\",state=\"busy\"} " +
                        std::to_string(kCodeSales) + "\n"),
            std::string::npos)
      << gauges;
  EXPECT_NE(gauges.find("yizhan_http_pool_refused_total{pool=\"provider\"} 1\n"), std::string::npos)
      << gauges;
  EXPECT_EQ(wechat.pays, kCodeSales) << "the refused sale asked no provider";

  for (const auto& trade : wechat.trades)
    wechat.complete(trade);
  for (auto& till : tills)
    till.join();

  EXPECT_EQ(catalog.status, 200) << catalog.body;
  EXPECT_LT(catalog_took, std::chrono::milliseconds(1500)) << "the storefront waited";
  EXPECT_EQ(cash.status, 201) << cash.body;
  EXPECT_LT(cash_took, std::chrono::milliseconds(1500)) << "the cash sale waited";
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_NE(refused.body.find("\"unavailable\""), std::string::npos) << refused.body;
  EXPECT_EQ(refused.header("retry-after"), "3");
  EXPECT_LT(refused_took, std::chrono::milliseconds(1500)) << "a full pool must answer at once";
  std::set<std::int64_t> sale_ids;
  for (int i = 0; i < kCodeSales; ++i) {
    ASSERT_EQ(code_sales[i].status, 201) << "till " << i << ": " << code_sales[i].body;
    const auto sold = json::parse(code_sales[i].body);
    EXPECT_EQ(sold["tenders"][0]["method"], "wechat_code");
    EXPECT_EQ(sold["total_fen"], 1500);
    sale_ids.insert(sold["id"].get<std::int64_t>());
  }
  EXPECT_EQ(sale_ids.size(), static_cast<std::size_t>(kCodeSales)) << "one sale per till";
  // The refused sale claimed nothing: its till asks again with the same key and sells.
  wechat.pay = ScriptedProvider::Pay::paid;
  const auto again = post_sale(code_body, "till-extra");
  EXPECT_EQ(again.status, 201) << again.body;
  EXPECT_EQ(metrics.provider_pool().busy, 0);
  EXPECT_EQ(wechat.pays, kCodeSales + 1);
  EXPECT_EQ(wechat.reverses, 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sales"), kCodeSales + 2);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM code_payments WHERE state = 'sold'"), kCodeSales + 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM code_payments"), kCodeSales + 1);
  EXPECT_EQ(
      scalar("SELECT on_hand FROM stock_levels WHERE product_id = " + std::to_string(stocked)),
      30 - kCodeSales - 2);
  expect_books_agree();
}

TEST_F(CodePaymentTest, AShutdownWaitsForACodeSaleOnTheProviderPoolAndItsTillGetsTheSale) {
  auto settings = fast_settings();
  settings.code_pay.deadline = std::chrono::seconds(30);
  service::CounterService slow_counter{
      api.station.database, settings, 7, {{"wechat", &wechat}, {"alipay", &alipay}}};
  const auto router = api::build_router(
      {api.health, api.station.accounts, api.audit, api.catalog, &slow_counter, &stock});
  HttpConfig config;
  config.address = "127.0.0.1";
  config.port = 0;
  config.io_threads = 1;
  config.shutdown_grace = std::chrono::milliseconds(5000);
  config.provider_threads = 2;
  http::StaticFiles files(api.media.path());
  http::Metrics metrics;
  http::Server server(config, {router, files, metrics, 2});
  server.listen();
  std::thread serving([&] { server.run(); });

  wechat.pay = ScriptedProvider::Pay::paying;
  wechat.paying_polls = -1;
  const auto cookie =
      "Cookie: yz_session=" +
      api.station.accounts.login("cashier1", test_support::kPassword, "10.3.0.9").token;
  e2e::HttpResponse sold;
  std::thread till([&] {
    try {
      sold = e2e::fetch(server.port(), "POST", "/api/v1/pos/sales",
                        {cookie, "X-Requested-With: yizhan", "Content-Type: application/json",
                         "Idempotency-Key: till-at-closing"},
                        code_sale(product_id, 1, 1500).dump());
    } catch (const std::exception&) {
    }
  });
  while (wechat.pays.load() == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  server.stop();  // SIGTERM while the customer types the password
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(metrics.provider_pool().busy, 1) << "the sale still waits for its payer";
  wechat.complete(wechat.trades.front());
  serving.join();
  till.join();

  EXPECT_EQ(sold.status, 201) << sold.body;
  EXPECT_EQ(metrics.provider_pool().busy, 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sales"), 1);
  EXPECT_EQ(text("SELECT state FROM code_payments"), "sold");
  EXPECT_EQ(wechat.reverses, 0);
  expect_books_agree();
}

TEST_F(CodePaymentTest, StockSoldElsewhereBetweenTheChargeAndTheSaleReversesThePayment) {
  const auto scarce = product("C2", 800, 1);
  // The admin needs a shift of their own to sell: another register.
  ASSERT_EQ(api.call_json("POST", "/api/v1/pos/shifts", "admin",
                          {{"register", "柜台2"}, {"float_fen", 0}})
                .status,
            201);
  alipay.during_pay = [&] {
    // Another cashier sells the last one while this customer pays.
    const json cash = {
        {"lines", {{{"product_id", scarce}, {"quantity", 1}}}},
        {"tenders", {{{"method", "cash"}, {"amount_fen", 800}, {"tendered_fen", 800}}}}};
    const auto other =
        api.call("POST", "/api/v1/pos/sales", "admin", cash.dump(), {{"idempotency-key", "cash"}});
    EXPECT_EQ(other.status, 201) << other.body;
  };
  const auto refused = sell(code_sale(scarce, 1, 800, "alipay_code", kAlipayCode), "code-race2");
  ASSERT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.body["error"]["code"], "out_of_stock");
  EXPECT_EQ(alipay.pays, 1);
  EXPECT_EQ(alipay.reverses, 1) << "the customer gets the money back";
  EXPECT_EQ(alipay.state_of(alipay.trades.front()), PaymentState::State::closed);
  EXPECT_EQ(text("SELECT state FROM code_payments"), "reversed");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sales"), 1) << "only the other cashier's";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM idempotency_keys WHERE status = 0"), 0);
  expect_books_agree();
}

TEST_F(CodePaymentTest, BadCodesAreRefusedNamingTheFieldAndAskNothing) {
  auto expect_field = [&](const json& body, const std::string& field) {
    const auto refused = sell(body, "code-bad-" + field + std::to_string(body.dump().size()));
    EXPECT_EQ(refused.status, 422) << body;
    EXPECT_EQ(refused.body["error"]["details"]["field"], field) << refused.body;
  };
  expect_field(code_sale(product_id, 1, 1500, "wechat_code", kAlipayCode), "tenders[0].auth_code");
  expect_field(code_sale(product_id, 1, 1500, "alipay_code", kWechatCode), "tenders[0].auth_code");
  expect_field(code_sale(product_id, 1, 1500, "wechat_code", "13456789012345678"),
               "tenders[0].auth_code");
  expect_field(code_sale(product_id, 1, 1500, "wechat_code", "16456789012345678x"),
               "tenders[0].auth_code");
  expect_field(code_sale(product_id, 1, 1500, "alipay_code", "2212345678901234"),
               "tenders[0].auth_code");
  auto missing = code_sale(product_id, 1, 1500);
  missing["tenders"][0].erase("auth_code");
  expect_field(missing, "tenders[0].auth_code");
  const json on_cash = {{"lines", {{{"product_id", product_id}, {"quantity", 1}}}},
                        {"tenders",
                         {{{"method", "cash"},
                           {"amount_fen", 1500},
                           {"tendered_fen", 1500},
                           {"auth_code", kWechatCode}}}}};
  expect_field(on_cash, "tenders[0].auth_code");
  // Right code, wrong amount: refused before the provider is asked.
  expect_field(code_sale(product_id, 1, 1400), "tenders");
  EXPECT_EQ(wechat.pays + alipay.pays, 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM code_payments"), 0);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM idempotency_keys"), 0);
}

TEST_F(CodePaymentTest, AnUnreachableProviderIs503WithThePaymentReversedAndNothingSold) {
  const auto before = sold_footprint();
  wechat.pay = ScriptedProvider::Pay::unreachable;
  wechat.query_unreachable = true;
  const auto refused = sell(code_sale(product_id, 1, 1500), "code-down");
  ASSERT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.body["error"]["code"], "unavailable");
  EXPECT_EQ(refused.body["error"]["details"]["provider"], "wechat");
  EXPECT_EQ(wechat.reverses, 1);
  EXPECT_EQ(text("SELECT state FROM code_payments"), "reversed");
  EXPECT_EQ(sold_footprint(), before);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM idempotency_keys"), 0);
}

TEST_F(CodePaymentTest, AChargeLeftOpenIsCompletedByTheRetryWithoutASecondCharge) {
  // The customer never confirms and the reverse cannot get through: the charge stays open.
  wechat.pay = ScriptedProvider::Pay::paying;
  wechat.paying_polls = -1;
  wechat.reverse_unreachable = true;
  const auto body = code_sale(product_id, 1, 1500);
  const auto lost = sell(body, "code-open");
  ASSERT_EQ(lost.status, 503) << lost.body;
  EXPECT_EQ(text("SELECT state FROM code_payments"), "charging");
  EXPECT_EQ(sold_footprint().find("sales=0"), 0u);
  // Meanwhile the payer did confirm. The retry asks about the same trade and sells with it.
  wechat.complete(wechat.trades.front());
  wechat.reverse_unreachable = false;
  const auto retried = sell(body, "code-open");
  ASSERT_EQ(retried.status, 201) << retried.body;
  EXPECT_EQ(wechat.pays, 1);
  EXPECT_EQ(text("SELECT state FROM code_payments"), "sold");
  expect_books_agree();
}

TEST_F(CodePaymentTest, TheSweepReversesAChargeWhoseRequestGaveUp) {
  wechat.pay = ScriptedProvider::Pay::paying;
  wechat.paying_polls = -1;
  wechat.reverse_unreachable = true;
  ASSERT_EQ(sell(code_sale(product_id, 1, 1500), "code-sweep").status, 503);
  EXPECT_EQ(counter.recover_code_payments(), 0) << "not before its lease and margin ran out";
  wechat.reverse_unreachable = false;
  std::this_thread::sleep_for(std::chrono::milliseconds(3500));
  EXPECT_EQ(counter.recover_code_payments(), 1);
  EXPECT_EQ(text("SELECT state FROM code_payments"), "reversed");
  EXPECT_EQ(wechat.state_of(wechat.trades.front()), PaymentState::State::closed);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM idempotency_keys"), 0);
  EXPECT_EQ(counter.recover_code_payments(), 0) << "once";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM sales"), 0);
}
