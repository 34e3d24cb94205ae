// kill -9 in the middle of counter 付款码 sales and refunds back to the codes, with the real
// binaries: yizhan-paysim takes the charges and makes the refunds, three tills stream sales and
// refunds (in parts, then the rest) while the server is killed three times, it comes back, every
// request left without an answer is retried with its key until it has one, and then each
// provider refund is booked exactly once, no ask is left open, every answered key replays its
// answer and `yizhan check` finds nothing.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <atomic>
#include <ctime>
#include <iostream>
#include <mutex>
#include <sstream>

#include "payment_station.hpp"

using namespace yizhan::e2e;
using nlohmann::json;

namespace {

struct Sent {
  std::string key, target, body;
  int status = 0;  ///< 0: no answer (the server died under it)
  int first_status = 0;
  std::string answer;
};

/// A request that may meet a dead server: its status 0 then.
Reply send(PaymentStation& station, const std::string& target, const std::string& body,
           const std::string& key) {
  try {
    return station.call("POST", target, "cashier1", body, {"Idempotency-Key: " + key});
  } catch (const std::exception&) {
    return {};
  }
}

/// What still needs its retry: no answer, or told to come back with the same key.
bool unanswered(const Reply& reply) {
  if (reply.status == 0 || reply.status == 503) return true;
  return reply.status == 409 && reply.body.is_object() &&
         reply.body["error"].value("code", "") == "payment_pending";
}

}  // namespace

TEST(CodeRefundCrash, SalesAndRefundsToCodesSurviveKill9AndEveryKeyIsAnsweredOnce) {
  // The shortest code-payment deadline: a request that died is taken over 61 s later.
  PaymentStation station("yz_e2e_code_refund_crash",
                         "[counter]\ncode_pay_deadline_ms = 1000\ncode_pay_poll_ms = 100\n");
  ASSERT_EQ(station
                .call("POST", "/api/v1/pos/shifts", "cashier1",
                      json{{"register", "柜台1"}, {"float_fen", 0}}.dump())
                .status,
            201);
  // A product by the piece with plenty on the shelf.
  json product;
  const auto products = station.call("GET", "/api/v1/products?page_size=100");
  for (const auto& p : products.body["items"])
    if (p.value("unit", "") == "piece" && p.value("kind", "item") == "item" &&
        p.value("active", true)) {
      product = p;
      break;
    }
  ASSERT_FALSE(product.is_null());
  const auto product_id = product["id"].get<std::int64_t>();
  const auto price = product["price_fen"].get<std::int64_t>();
  char today[16];
  const std::time_t now = std::time(nullptr);
  std::strftime(today, sizeof today, "%Y-%m-%d", std::localtime(&now));
  const auto received = station.call("POST", "/api/v1/stock/receipts", "admin",
                                     json{{"village_id", product["village_id"]},
                                          {"lines",
                                           {{{"product_id", product_id},
                                             {"quantity", 300},
                                             {"lot", "K9"},
                                             {"produced_on", today}}}}}
                                         .dump());
  ASSERT_EQ(received.status, 201) << received.raw;

  std::mutex mutex;
  std::vector<Sent> sent;  // every request, in the order sent
  auto record = [&](Sent s) {
    std::lock_guard lock(mutex);
    sent.push_back(std::move(s));
  };
  std::atomic<int> answered{0};
  // Each till: a sale of 3 by a code, 1 back to the code, then the rest back to the code; a
  // request without an answer ends that sale's round (its retry comes after the last kill).
  auto till = [&](int till_no) {
    for (int i = 0; i < 30; ++i) {
      const std::string tag = std::to_string(till_no) + "-" + std::to_string(i);
      const bool wechat = (i + till_no) % 2 == 0;
      // Codes of the simulator's shape that pay at once (not …0000, not …9999).
      const std::string code = wechat ? "1345678901234" + std::to_string(10000 + till_no * 100 + i)
                                      : "2812345678901" + std::to_string(20000 + till_no * 100 + i);
      const json sale_body = {{"lines", {{{"product_id", product_id}, {"quantity", 3}}}},
                              {"tenders",
                               {{{"method", wechat ? "wechat_code" : "alipay_code"},
                                 {"amount_fen", 3 * price},
                                 {"auth_code", code}}}}};
      Sent sale{"k9-sale-" + tag, "/api/v1/pos/sales", sale_body.dump(), 0, 0, {}};
      const auto sold = send(station, sale.target, sale.body, sale.key);
      sale.status = sale.first_status = sold.status;
      sale.answer = sold.raw;
      record(sale);
      if (sold.status != 201) {  // the server died under it, or is not back yet
        std::this_thread::sleep_for(200ms);
        continue;
      }
      ++answered;
      const json one = {{"sale_id", sold.body["id"]},
                        {"lines", {{{"line_id", sold.body["lines"][0]["id"]}, {"quantity", 1}}}}};
      const json rest = {{"sale_id", sold.body["id"]}, {"reason", "退货 " + tag}};
      for (const auto& [suffix, body] : {std::pair{"a", one}, std::pair{"b", rest}}) {
        Sent r{"k9-refund-" + tag + suffix, "/api/v1/pos/refunds", body.dump(), 0, 0, {}};
        const auto refunded = send(station, r.target, r.body, r.key);
        r.status = r.first_status = refunded.status;
        r.answer = refunded.raw;
        record(r);
        if (refunded.status != 201) {
          std::this_thread::sleep_for(200ms);
          break;
        }
        ++answered;
      }
    }
  };
  std::vector<std::thread> tills;
  for (int t = 1; t <= 3; ++t)
    tills.emplace_back(till, t);
  // kill -9 three times while they stream, a fresh server on the same database each time.
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  for (int kill = 1; kill <= 3; ++kill) {
    while (answered.load() < 20 * kill && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(3ms);
    if (!station.kill_and_restart()) break;
  }
  for (auto& t : tills)
    t.join();
  ASSERT_GE(answered.load(), 60) << station.log();

  std::cout << station.query("SELECT COUNT(*) FROM code_refunds WHERE state = 'refunding'")
            << " refund asks left open by the kills\n";

  // Every request without its answer is retried with its key until it has one (a request that
  // died holding its key is taken over after its lease: deadline + 60 s).
  int retried = 0;
  const auto give_up = std::chrono::steady_clock::now() + 150s;
  for (auto& s : sent) {
    if (s.status == 201) continue;
    ++retried;
    std::cout << "retrying " << s.key << " (first answered " << s.status << ")\n";
    Reply reply;
    for (;;) {
      reply = send(station, s.target, s.body, s.key);
      if (!unanswered(reply) || std::chrono::steady_clock::now() > give_up) break;
      std::this_thread::sleep_for(1s);
    }
    s.status = reply.status;
    s.answer = reply.raw;
    EXPECT_EQ(reply.status, 201) << s.key << " " << s.body << ": " << reply.raw;
  }
  std::cout << sent.size() << " requests, " << retried << " cut off by kill -9 and retried ("
            << std::count_if(sent.begin(), sent.end(),
                             [](const Sent& s) {
                               return s.target == "/api/v1/pos/refunds" && s.first_status != 201;
                             })
            << " refunds)\n";
  EXPECT_GE(retried, 1);

  // Every key answers as it did.
  for (const auto& s : sent) {
    if (s.status != 201) continue;
    const auto again = send(station, s.target, s.body, s.key);
    EXPECT_EQ(again.raw, s.answer) << s.key << " must replay its answer";
  }

  // Nothing is left open, each provider refund is booked once, no code gave back more than it
  // took, and the books agree.
  EXPECT_EQ(station.query("SELECT COUNT(*) FROM code_refunds WHERE state = 'refunding'"), "0");
  EXPECT_EQ(station.query("SELECT COUNT(*) FROM code_payments WHERE state IN ('charging', 'paid')"),
            "0");
  std::map<std::string, std::int64_t> booked;  // out_trade_no → fen booked as given back
  std::istringstream rows(station.query(
      "SELECT p.out_trade_no, COALESCE((SELECT SUM(c.amount_fen) FROM code_refunds c WHERE "
      "c.code_payment_id = p.id AND c.state = 'refunded'), 0) FROM code_payments p WHERE "
      "p.state = 'sold'"));
  for (std::string trade, fen; rows >> trade >> fen;)
    booked[trade] = std::stoll(fen);
  ASSERT_FALSE(booked.empty());
  int matched = 0;
  const auto orders = station.simulator("GET", "/sim/orders");
  for (const auto& order : orders.body) {
    const std::string trade = order["out_trade_no"];
    const auto found = booked.find(trade);
    const auto refunded = order["refunded_fen"].get<std::int64_t>();
    if (found == booked.end()) {
      // A charge whose sale died with the server and that the sweep reversed (the retry then
      // charged again) went back whole; any other charge without a sale gave nothing back.
      const bool reversed = station.query("SELECT state FROM code_payments WHERE out_trade_no = '" +
                                          trade + "'") == "reversed";
      EXPECT_EQ(refunded, reversed ? order["total_fen"].get<std::int64_t>() : 0)
          << trade << " was refunded at the provider but is no sale";
      continue;
    }
    ++matched;
    EXPECT_EQ(refunded, found->second) << trade << ": the provider gave back what is booked";
  }
  EXPECT_EQ(matched, static_cast<int>(booked.size()));
  // Every sale that got both refunds answered is back whole.
  EXPECT_EQ(station.query("SELECT COUNT(*) FROM refunds"),
            std::to_string(std::count_if(sent.begin(), sent.end(), [](const Sent& s) {
              return s.status == 201 && s.target == "/api/v1/pos/refunds";
            })));
  const auto [report, code] = station.check();
  EXPECT_EQ(code, 0) << report;
}
