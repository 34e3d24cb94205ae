// The whole online payment on one machine with the real binaries: yizhan-paysim with fresh keys,
// yizhan serving the demo station with those merchant accounts configured; a customer checks
// out, asks for a QR (WeChat Native, H5, Alipay precreate), the simulator is paid and its signed
// notification makes the order paid; an unpaid order expires in the server's own sweep, frees
// its stock and has its provider order closed.
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "payment_station.hpp"

using namespace yizhan::e2e;
using nlohmann::json;

namespace {

class OrderPaymentOverHttp : public ::testing::Test {
 protected:
  OrderPaymentOverHttp() = default;
  /// A station whose WeChat codes go through v2 micropay and orderquery (or v3 codepay).
  explicit OrderPaymentOverHttp(bool wechat_code_pay_v2)
      : station("yz_e2e_order_payment", {}, wechat_code_pay_v2) {}

  /// A demo product sold by the piece with at least `need` available, and its price.
  std::pair<std::int64_t, std::int64_t> piece_product(std::int64_t need) {
    const auto products = station.call("GET", "/api/v1/products?page_size=100");
    EXPECT_EQ(products.status, 200) << products.raw;
    for (const auto& p : products.body["items"]) {
      if (p.value("unit", "") != "piece" || !p.value("active", true)) continue;
      const auto id = p["id"].get<std::int64_t>();
      if (available(id) >= need) return {id, p["price_fen"].get<std::int64_t>()};
    }
    ADD_FAILURE() << "no demo product by the piece with " << need << " available";
    return {0, 0};
  }

  std::int64_t available(std::int64_t product_id) {
    const auto level = station.call("GET", "/api/v1/stock/" + std::to_string(product_id), "admin");
    EXPECT_EQ(level.status, 200) << level.raw;
    return level.body["available"].get<std::int64_t>();
  }

  struct Placed {
    std::string number, token;
    std::int64_t total = 0;
  };

  /// A pickup order, answered 201 in `state` (cash at pickup starts `confirmed`).
  Placed checkout(std::int64_t product_id, std::int64_t quantity, std::int64_t seen_total,
                  const std::string& payment, const std::string& state = "pending_payment") {
    const json body = {{"lines", {{{"product_id", product_id}, {"quantity", quantity}}}},
                       {"fulfilment", "pickup"},
                       {"contact", {{"name", "陈女士"}, {"phone", "13800001234"}}},
                       {"payment", payment},
                       {"expected_total_fen", seen_total}};
    const auto placed =
        station.call("POST", "/api/v1/orders", "", body.dump(),
                     {"Idempotency-Key: e2e-" + payment + "-" + std::to_string(++checkouts_)});
    EXPECT_EQ(placed.status, 201) << placed.raw;
    EXPECT_EQ(placed.body["state"], state) << placed.raw;
    return {placed.body.value("number", ""), placed.body.value("token", ""),
            placed.body.value("total_fen", std::int64_t{0})};
  }

  Reply start_payment(const Placed& order, const std::string& channel) {
    return station.call("POST", "/api/v1/orders/" + order.number + "/payment?token=" + order.token,
                        "", json{{"channel", channel}}.dump());
  }

  /// The customer's view of the order, polled until its state is `state` or 10 s pass.
  json wait_for_state(const Placed& order, const std::string& state,
                      std::chrono::seconds limit = 10s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    json seen;
    while (std::chrono::steady_clock::now() < deadline) {
      seen = station.call("GET", "/api/v1/orders/" + order.number + "?token=" + order.token).body;
      if (seen["state"] == state) return seen;
      std::this_thread::sleep_for(100ms);
    }
    ADD_FAILURE() << order.number << " never became " << state << ": " << seen << "\nserver log:\n"
                  << station.log();
    return seen;
  }

  /// Pays on the simulator and waits for its notification to make the order paid.
  void pay_and_expect_paid(const Placed& order, const std::string& provider) {
    const auto paid = station.simulator("POST", "/sim/pay",
                                        {{"provider", provider}, {"out_trade_no", order.number}});
    ASSERT_EQ(paid.status, 200) << paid.raw;
    const auto seen = wait_for_state(order, "paid");
    EXPECT_EQ(seen["paid_fen"], order.total);
    EXPECT_EQ(seen["payment"]["state"], "paid");
    EXPECT_EQ(seen["pickup_code"].get<std::string>().size(), 6u) << "shown once paid";
    const auto simulated = station.simulated(order.number);
    ASSERT_FALSE(simulated.is_null());
    EXPECT_GE(simulated["notifications_acknowledged"].get<int>(), 1)
        << "yizhan answered the notification as " << provider << " expects: " << simulated;
  }

  PaymentStation station;

 private:
  int checkouts_ = 0;
};

class CounterCodesThroughWechatV2 : public OrderPaymentOverHttp {
 protected:
  CounterCodesThroughWechatV2() : OrderPaymentOverHttp(true) {}
};

}  // namespace

TEST_F(OrderPaymentOverHttp, WechatNativeAndH5ArePaidThroughTheSimulator) {
  const auto config = station.call("GET", "/api/v1/orders/config");
  EXPECT_EQ(config.body["payments"], json({"wechat", "alipay", "cash_on_pickup"})) << config.raw;
  const auto [product, price] = piece_product(3);
  const auto before = available(product);

  const auto order = checkout(product, 2, 2 * price, "wechat");
  const auto started = start_payment(order, "wechat_native");
  ASSERT_EQ(started.status, 200) << started.raw;
  EXPECT_EQ(started.body["payment"]["provider"], "wechat");
  EXPECT_EQ(started.body["payment"]["state"], "started");
  // The simulator's code_url is its own pay page (a phone scanning it pays there).
  EXPECT_FALSE(started.body["payment"]["qr_content"].get<std::string>().empty())
      << started.raw.substr(0, 500);
  EXPECT_TRUE(started.body["payment"]["qr_svg"].get<std::string>().starts_with("<svg"));
  EXPECT_EQ(started.body["pickup_code"], nullptr) << "not before payment";
  const auto asked = station.simulated(order.number);
  ASSERT_FALSE(asked.is_null()) << "the simulator has the trade";
  EXPECT_EQ(asked["total_fen"], order.total);
  EXPECT_EQ(asked["state"], "NOTPAY");
  // Asking again gives the same QR, no second trade.
  EXPECT_EQ(start_payment(order, "wechat_native").body["payment"]["qr_content"],
            started.body["payment"]["qr_content"]);
  EXPECT_EQ(available(product), before - 2);

  pay_and_expect_paid(order, "wechat");
  EXPECT_EQ(available(product), before - 2) << "paid goods stay reserved";

  // H5 (a phone browser outside WeChat): a link to WeChat's page instead of a QR.
  const auto phone = checkout(product, 1, price, "wechat");
  const auto h5 = start_payment(phone, "wechat_h5");
  ASSERT_EQ(h5.status, 200) << h5.raw;
  EXPECT_FALSE(h5.body["payment"]["redirect_url"].get<std::string>().empty()) << h5.raw;
  pay_and_expect_paid(phone, "wechat");

  // The QR shown on the desktop, then the order opened on the phone (probe 2 P4): WeChat refuses
  // one out_trade_no for two trade types, so the phone's trade is its own and the QR's is closed.
  const auto both = checkout(product, 1, price, "wechat");
  ASSERT_EQ(start_payment(both, "wechat_native").status, 200);
  const auto second = start_payment(both, "wechat_h5");
  ASSERT_EQ(second.status, 200) << second.raw;
  EXPECT_EQ(second.body["payment"]["channel"], "wechat_h5");
  EXPECT_EQ(station.simulated(both.number)["state"], "CLOSED") << "only one trade can be paid";
  ASSERT_EQ(station
                .simulator("POST", "/sim/pay",
                           {{"provider", "wechat"}, {"out_trade_no", both.number + "-2"}})
                .status,
            200);
  EXPECT_EQ(wait_for_state(both, "paid")["paid_fen"], both.total);

  const auto [report, code] = station.check();
  EXPECT_EQ(code, 0) << report;
}

namespace {

/// "http://127.0.0.1:PORT/path?query#fragment" → {PORT, "/path?query"}.
std::pair<int, std::string> local_target(const std::string& url) {
  const std::string prefix = "http://127.0.0.1:";
  if (!url.starts_with(prefix)) return {0, ""};
  const auto slash = url.find('/', prefix.size());
  std::string target = url.substr(slash);
  if (const auto hash = target.find('#'); hash != std::string::npos) target.resize(hash);
  return {std::stoi(url.substr(prefix.size(), slash - prefix.size())), target};
}

}  // namespace

// JSAPI inside WeChat: the order page is told to sign the payer in, the browser goes through
// WeChat's 网页授权 (the simulator's) and back to yizhan, which exchanges the code for the openid
// and starts the JSAPI payment; WeChat's client verifies paySign and pays. The state binds the
// sign-in to the order; a forged state or a used code starts nothing.
TEST_F(OrderPaymentOverHttp, WechatJsapiSignsThePayerInAndIsPaidInsideWeChat) {
  const auto [product, price] = piece_product(2);
  const auto order = checkout(product, 1, price, "wechat");

  const auto asked = start_payment(order, "wechat_jsapi");
  ASSERT_EQ(asked.status, 422) << asked.raw;
  EXPECT_EQ(asked.body["error"]["details"]["field"], "channel");
  const std::string sign_in = asked.body["error"]["details"].value("sign_in", "");
  ASSERT_EQ(sign_in, "/api/v1/orders/" + order.number + "/wechat-sign-in") << asked.raw;

  EXPECT_EQ(fetch(station.port(), "GET", sign_in + "?token=not-the-token").status, 404)
      << "only the order's holder starts its sign-in";
  const auto to_wechat = fetch(station.port(), "GET", sign_in + "?token=" + order.token);
  ASSERT_EQ(to_wechat.status, 302) << to_wechat.body;
  const std::string authorize = to_wechat.header("location");
  // The browser keeps a nonce that only the sign-in's return address sees.
  const std::string set_cookie = to_wechat.header("set-cookie");
  EXPECT_TRUE(set_cookie.starts_with("yizhan_wechat_sign_in=")) << set_cookie;
  EXPECT_NE(set_cookie.find("Path=/api/v1/payments/wechat/sign-in;"), std::string::npos);
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  const std::string browser = "Cookie: " + set_cookie.substr(0, set_cookie.find(';'));
  EXPECT_NE(authorize.find("/connect/oauth2/authorize?appid=wx"), std::string::npos) << authorize;
  EXPECT_NE(authorize.find("&response_type=code&scope=snsapi_base&state="), std::string::npos);
  EXPECT_TRUE(authorize.ends_with("#wechat_redirect")) << authorize;
  EXPECT_EQ(authorize.find(order.token), std::string::npos) << "the token never goes to WeChat";

  const auto [wechat_port, wechat_target] = local_target(authorize);
  ASSERT_EQ(wechat_port, station.simulator_port()) << authorize;
  const auto back = fetch(wechat_port, "GET", wechat_target);
  ASSERT_EQ(back.status, 302) << back.body;
  const auto [our_port, callback] = local_target(back.header("location"));
  ASSERT_EQ(our_port, station.port()) << back.header("location");
  ASSERT_TRUE(callback.starts_with("/api/v1/payments/wechat/sign-in?code=")) << callback;

  // A state that is not this order's (its MAC changed) starts nothing and says so to the page.
  std::string forged = callback;
  char& last = forged.back();
  last = last == '0' ? '1' : '0';
  const auto refused = fetch(station.port(), "GET", forged, {browser});
  EXPECT_EQ(refused.status, 302);
  EXPECT_EQ(refused.header("location"), "/order.html?no=" + order.number + "&sign_in=failed");
  // The right state in another browser (no nonce, or another sign-in's): login CSRF, refused.
  for (const std::string& other_browser :
       {std::string(), std::string("Cookie: yizhan_wechat_sign_in=someoneelsesnonce0000")}) {
    const auto elsewhere = fetch(station.port(), "GET", callback,
                                 other_browser.empty() ? std::vector<std::string>{}
                                                       : std::vector<std::string>{other_browser});
    EXPECT_EQ(elsewhere.header("location"), "/order.html?no=" + order.number + "&sign_in=failed")
        << other_browser;
  }
  EXPECT_EQ(fetch(station.port(), "GET", "/api/v1/payments/wechat/sign-in?code=x&state=zz").status,
            422);
  EXPECT_TRUE(station.simulated(order.number).is_null()) << "no trade before a good sign-in";

  const auto signed_in = fetch(station.port(), "GET", callback, {browser});
  ASSERT_EQ(signed_in.status, 302) << signed_in.body << station.log();
  EXPECT_EQ(signed_in.header("location"), "/order.html?no=" + order.number);
  EXPECT_NE(signed_in.header("set-cookie").find("yizhan_wechat_sign_in=; "), std::string::npos)
      << "the nonce is used up";
  // WeChat's redirect loaded twice (the code is used up): the payment started once stands.
  EXPECT_EQ(fetch(station.port(), "GET", callback, {browser}).header("location"),
            "/order.html?no=" + order.number);

  const auto started = start_payment(order, "wechat_jsapi");
  ASSERT_EQ(started.status, 200) << started.raw;
  const auto jsapi = started.body["payment"]["jsapi"];
  ASSERT_TRUE(jsapi.is_object()) << started.raw;
  EXPECT_EQ(jsapi["signType"], "RSA");
  EXPECT_TRUE(jsapi["package"].get<std::string>().starts_with("prepay_id=wx")) << jsapi;
  const auto trade = station.simulated(order.number);
  ASSERT_FALSE(trade.is_null());
  EXPECT_EQ(trade["state"], "NOTPAY");

  // WeChat's client checks paySign: one changed parameter and it refuses to pay.
  auto tampered = jsapi;
  tampered["nonceStr"] = jsapi["nonceStr"].get<std::string>() + "x";
  EXPECT_EQ(station.simulator("POST", "/sim/jsapi", tampered).status, 400);
  const auto paid = station.simulator("POST", "/sim/jsapi", jsapi);
  ASSERT_EQ(paid.status, 200) << paid.raw;
  EXPECT_EQ(paid.body["err_msg"], "get_brand_wcpay_request:ok");
  const auto seen = wait_for_state(order, "paid");
  EXPECT_EQ(seen["paid_fen"], order.total);

  // A used code on another order: WeChat refuses it, the page is told, nothing starts.
  const auto other = checkout(product, 1, price, "wechat");
  const auto other_to_wechat =
      fetch(station.port(), "GET",
            "/api/v1/orders/" + other.number + "/wechat-sign-in?token=" + other.token);
  const auto other_state = local_target(other_to_wechat.header("location"));
  const std::string other_cookie = other_to_wechat.header("set-cookie");
  const std::string other_browser = "Cookie: " + other_cookie.substr(0, other_cookie.find(';'));
  const auto state_at = other_state.second.find("&state=");
  ASSERT_NE(state_at, std::string::npos);
  const std::string code =
      callback.substr(callback.find("code=") + 5, callback.find('&') - callback.find("code=") - 5);
  const auto reused = fetch(station.port(), "GET",
                            "/api/v1/payments/wechat/sign-in?code=" + code +
                                "&state=" + other_state.second.substr(state_at + 7),
                            {other_browser});
  EXPECT_EQ(reused.header("location"), "/order.html?no=" + other.number + "&sign_in=failed");
  EXPECT_TRUE(station.simulated(other.number).is_null());

  const auto [report, exit_code] = station.check();
  EXPECT_EQ(exit_code, 0) << report;
}

// Staff refund a paid order back through the provider it was paid with, in two parts and over
// the real binaries: the simulator's trade shows each refund, a retry with the same key is one
// refund, more than is left is refused, the order ends refunded and its stock comes back.
TEST_F(OrderPaymentOverHttp, StaffRefundAPaidOrderThroughTheProviderInParts) {
  for (const std::string provider : {"wechat", "alipay"}) {
    SCOPED_TRACE(provider);
    const auto [product, price] = piece_product(3);
    const auto before = available(product);
    const auto order = checkout(product, 2, 2 * price, provider);
    ASSERT_EQ(start_payment(order, provider == "wechat" ? "wechat_native" : "alipay_qr").status,
              200);
    pay_and_expect_paid(order, provider);

    const std::string path = "/api/v1/orders/" + order.number + "/refunds";
    const json one = {{"lines", {{{"line_no", 1}, {"quantity", 1}}}},
                      {"method", "original"},
                      {"reason", "一盒破损 / one box broken"}};
    const std::string key = "Idempotency-Key: e2e-refund-" + provider + "-1";
    const auto first = station.call("POST", path, "admin", one.dump(), {key});
    ASSERT_EQ(first.status, 201) << first.raw << station.log();
    EXPECT_EQ(first.body["refund"]["state"], "succeeded") << first.raw;
    EXPECT_EQ(first.body["refund"]["amount_fen"], price);
    const auto again = station.call("POST", path, "admin", one.dump(), {key});
    EXPECT_EQ(again.status, 200) << "a retry is the same refund: " << again.raw;
    EXPECT_EQ(again.body["refund"]["id"], first.body["refund"]["id"]);
    EXPECT_EQ(station.simulated(order.number)["refunded_fen"], price)
        << "the provider refunded once";
    EXPECT_EQ(available(product), before - 1) << "the refunded piece is free again";

    const auto rest = station.call("POST", path, "admin", json{{"all", true}}.dump(),
                                   {"Idempotency-Key: e2e-refund-" + provider + "-2"});
    ASSERT_EQ(rest.status, 201) << rest.raw;
    EXPECT_EQ(rest.body["refund"]["amount_fen"], order.total - price);
    EXPECT_EQ(rest.body["order"]["state"], "refunded") << rest.raw;
    EXPECT_EQ(station.simulated(order.number)["refunded_fen"], order.total);
    EXPECT_EQ(available(product), before);

    const auto more = station.call("POST", path, "admin", one.dump(),
                                   {"Idempotency-Key: e2e-refund-" + provider + "-3"});
    EXPECT_EQ(more.status, 409) << more.raw;
    EXPECT_EQ(station.simulated(order.number)["refunded_fen"], order.total) << "nothing more";
  }
  const auto [report, code] = station.check();
  EXPECT_EQ(code, 0) << report;
}

TEST_F(OrderPaymentOverHttp, AlipayQrIsPaidThroughTheSimulator) {
  const auto [product, price] = piece_product(1);
  const auto order = checkout(product, 1, price, "alipay");
  EXPECT_EQ(start_payment(order, "alipay_card").status, 422) << "no such channel";
  const auto started = start_payment(order, "alipay_qr");
  ASSERT_EQ(started.status, 200) << started.raw;
  EXPECT_EQ(started.body["payment"]["provider"], "alipay");
  EXPECT_FALSE(started.body["payment"]["qr_content"].get<std::string>().empty()) << started.raw;
  EXPECT_TRUE(started.body["payment"]["qr_svg"].get<std::string>().starts_with("<svg"));
  pay_and_expect_paid(order, "alipay");
  const auto [report, code] = station.check();
  EXPECT_EQ(code, 0) << report;
}

// A customer who chose WeChat Pay at checkout pays with Alipay after all, or back: the open trade
// is closed with its provider first (only one trade of an order can be paid), the order becomes
// the new provider's, and a refund goes back through the provider that took the money.
TEST_F(OrderPaymentOverHttp, ACustomerSwitchesBetweenWechatPayAndAlipayBeforePaying) {
  const auto [product, price] = piece_product(2);
  const auto before = available(product);
  const auto order = checkout(product, 1, price, "wechat");
  ASSERT_EQ(start_payment(order, "wechat_native").status, 200);
  const auto alipay = start_payment(order, "alipay_qr");
  ASSERT_EQ(alipay.status, 200) << alipay.raw << station.log();
  EXPECT_EQ(alipay.body["payment_method"], "alipay");
  EXPECT_EQ(alipay.body["payment"]["provider"], "alipay");
  EXPECT_TRUE(alipay.body["payment"]["qr_svg"].get<std::string>().starts_with("<svg"));
  EXPECT_EQ(station.simulated(order.number)["state"], "CLOSED") << "WeChat's trade closed first";
  // Asked again (a reload): the same Alipay trade, no third one.
  EXPECT_EQ(start_payment(order, "alipay_qr").body["payment"]["qr_content"],
            alipay.body["payment"]["qr_content"]);

  // And back to WeChat: the Alipay code nobody scanned is closed, WeChat makes a new trade.
  const auto back = start_payment(order, "wechat_native");
  ASSERT_EQ(back.status, 200) << back.raw << station.log();
  EXPECT_EQ(back.body["payment_method"], "wechat");
  EXPECT_EQ(back.body["payment"]["provider"], "wechat");
  EXPECT_EQ(available(product), before - 1) << "one reservation throughout";
  ASSERT_EQ(station
                .simulator("POST", "/sim/pay",
                           {{"provider", "wechat"}, {"out_trade_no", order.number + "-3"}})
                .status,
            200);
  EXPECT_EQ(wait_for_state(order, "paid")["paid_fen"], order.total);
  const auto late = start_payment(order, "alipay_qr");
  EXPECT_EQ(late.status, 409) << "paid: nothing to switch: " << late.raw;
  EXPECT_EQ(late.body["error"]["code"], "invalid_state");

  // Switched to Alipay and paid there: the staff's refund goes back through Alipay.
  const auto other = checkout(product, 1, price, "wechat");
  ASSERT_EQ(start_payment(other, "wechat_h5").status, 200);
  ASSERT_EQ(start_payment(other, "alipay_qr").status, 200);
  ASSERT_EQ(station
                .simulator("POST", "/sim/pay",
                           {{"provider", "alipay"}, {"out_trade_no", other.number + "-2"}})
                .status,
            200);
  EXPECT_EQ(wait_for_state(other, "paid")["payment_method"], "alipay");
  const auto refund =
      station.call("POST", "/api/v1/orders/" + other.number + "/refunds", "admin",
                   json{{"all", true}, {"reason", "顾客不要了 / not wanted"}}.dump(),
                   {"Idempotency-Key: e2e-switch-refund"});
  ASSERT_EQ(refund.status, 201) << refund.raw << station.log();
  EXPECT_EQ(refund.body["refund"]["method"], "alipay") << refund.raw;
  EXPECT_EQ(refund.body["refund"]["state"], "succeeded") << refund.raw;
  EXPECT_EQ(station.simulated(other.number + "-2")["refunded_fen"], other.total);
  EXPECT_EQ(station.simulated(other.number)["state"], "CLOSED");

  // An order paid in cash at pickup is not paid online.
  const auto cash = checkout(product, 1, price, "cash_on_pickup", "confirmed");
  EXPECT_EQ(start_payment(cash, "wechat_native").status, 409);

  const auto [report, code] = station.check();
  EXPECT_EQ(code, 0) << report;
}

// Two devices switching one unpaid order at once, each to its own provider, again and again,
// then the customer settles on one: one trade is open, it is the order's provider's, every
// other trade is closed at its provider (refused when paid), and the open one pays the order.
TEST_F(OrderPaymentOverHttp, RacingSwitchesLeaveOneTradePayable) {
  const auto [product, price] = piece_product(1);
  const auto order = checkout(product, 1, price, "wechat");
  std::mutex mutex;
  std::vector<Reply> answers;
  const auto device = [&](const std::string& channel) {
    for (int i = 0; i < 3; ++i) {
      auto answer = start_payment(order, channel);
      std::lock_guard lock(mutex);
      answers.push_back(std::move(answer));
    }
  };
  std::thread phone(device, "alipay_qr"), desktop(device, "wechat_native");
  phone.join();
  desktop.join();
  for (const auto& answer : answers)
    EXPECT_TRUE(answer.status == 200 || answer.status == 409)
        << "shown, or told the order just changed: " << answer.raw;
  // The customer settles on WeChat Pay on the desktop (both devices may have ended on 409).
  const auto settled = start_payment(order, "wechat_native");
  ASSERT_EQ(settled.status, 200) << settled.raw;

  const auto rows = station.query(
      "SELECT p.provider, p.out_trade_no, p.state FROM order_payments p JOIN orders o ON o.id = "
      "p.order_id WHERE o.number = '" +
      order.number + "' ORDER BY p.id");
  const auto method =
      station.query("SELECT payment_method FROM orders WHERE number = '" + order.number + "'");
  std::istringstream lines(rows);
  std::string provider, trade, state, open_provider, open_trade;
  int open = 0;
  while (lines >> provider >> trade >> state) {
    const auto simulated = station.simulated(trade);
    if (state == "started") {
      ++open;
      open_provider = provider;
      open_trade = trade;
      continue;
    }
    EXPECT_EQ(state, "closed") << trade;
    if (simulated.is_null()) continue;  // never made at the provider
    EXPECT_EQ(simulated["state"], provider == "wechat" ? "CLOSED" : "TRADE_CLOSED") << trade;
    EXPECT_NE(
        station.simulator("POST", "/sim/pay", {{"provider", provider}, {"out_trade_no", trade}})
            .status,
        200)
        << "a closed trade cannot be paid: " << trade;
  }
  ASSERT_EQ(open, 1) << "one trade payable: " << rows << "\n" << station.log();
  EXPECT_EQ(open_provider, "wechat") << rows;
  EXPECT_EQ(method, "wechat") << rows;
  EXPECT_EQ(settled.body["payment"]["provider"], "wechat");
  ASSERT_EQ(station
                .simulator("POST", "/sim/pay",
                           {{"provider", open_provider}, {"out_trade_no", open_trade}})
                .status,
            200);
  const auto paid = wait_for_state(order, "paid");
  EXPECT_EQ(paid["paid_fen"], order.total);
  EXPECT_EQ(paid["payment_method"], open_provider);
  const auto [report, code] = station.check();
  EXPECT_EQ(code, 0) << report;
}

// An Alipay link or code nobody had opened when the customer switched to WeChat Pay has no trade
// that Alipay could close, and stays payable until the order's own time is up. Paid after all
// with its notification lost, it is found by 我已支付, and by the sweep before the
// order would expire: the money is never kept unbooked.
TEST_F(OrderPaymentOverHttp, AnAlipayCodeLeftBehindByASwitchIsStillFoundWhenPaid) {
  const auto [product, price] = piece_product(2);
  const auto pay_left_code = [&](const Placed& order) {
    // Alipay's wap page makes its trade only when the payer's browser opens it: switched away
    // before that, Alipay answers that no trade exists, and the link still works afterwards.
    const auto wap = start_payment(order, "alipay_wap");
    ASSERT_EQ(wap.status, 200) << wap.raw;
    const auto switched = start_payment(order, "wechat_h5");
    ASSERT_EQ(switched.status, 200) << switched.raw;
    ASSERT_EQ(switched.body["payment_method"], "wechat");
    const auto [port, target] =
        local_target(wap.body["payment"]["redirect_url"].get<std::string>());
    ASSERT_EQ(port, station.simulator_port());
    ASSERT_EQ(station.simulator("GET", target).status, 200) << "the old link opens Alipay's page";
    const auto paid = station.simulator(
        "POST", "/sim/pay",
        {{"provider", "alipay"}, {"out_trade_no", order.number}, {"notify", false}});
    ASSERT_EQ(paid.status, 200) << "the left code is still payable: " << paid.raw;
  };
  const auto order = checkout(product, 1, price, "alipay");
  pay_left_code(order);
  const auto checked = station.call(
      "POST", "/api/v1/orders/" + order.number + "/payment/check?token=" + order.token, "", "");
  ASSERT_EQ(checked.status, 200) << checked.raw;
  EXPECT_EQ(checked.body["state"], "paid") << checked.raw;
  EXPECT_EQ(checked.body["payment_method"], "alipay") << "the provider that took the money";
  EXPECT_EQ(checked.body["paid_fen"], order.total);

  const auto left = checkout(product, 1, price, "alipay");
  pay_left_code(left);
  station.sql(
      "UPDATE orders SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE number = '" +
      left.number + "'");
  const auto swept = wait_for_state(left, "paid", 45s);
  EXPECT_EQ(swept["payment_method"], "alipay");
  EXPECT_EQ(swept["paid_fen"], left.total);

  const auto [report, code] = station.check();
  EXPECT_EQ(code, 0) << report;
}

TEST_F(OrderPaymentOverHttp, AnUnpaidOrderExpiresInTheSweepAndItsTradeIsClosed) {
  const auto [product, price] = piece_product(2);
  const auto before = available(product);
  const auto order = checkout(product, 2, 2 * price, "wechat");
  ASSERT_EQ(start_payment(order, "wechat_native").status, 200);
  EXPECT_EQ(available(product), before - 2);
  // Thirty minutes are too long to wait for: the order is made due, the server's own sweep
  // (every 20 s) does the rest.
  station.sql(
      "UPDATE orders SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE number = '" +
      order.number + "'");
  const auto expired = wait_for_state(order, "expired", 45s);
  EXPECT_EQ(expired["history"].back()["by"], "sweep");
  // The sweep is visible in /metrics: rounds, failures and what it handled, per task.
  const auto metrics = station.call("GET", "/metrics").raw;
  const auto handled = metrics.find("yizhan_maintenance_handled_total{task=\"expire_orders\"} ");
  ASSERT_NE(handled, std::string::npos) << metrics;
  EXPECT_GE(std::stoi(metrics.substr(handled + metrics.substr(handled).find(' ') + 1)), 1);
  EXPECT_NE(metrics.find("yizhan_maintenance_runs_total{task=\"settle_unconfirmed_trades\"} "),
            std::string::npos);
  EXPECT_NE(metrics.find("yizhan_maintenance_runs_total{task=\"purge_idempotency_keys\"} "),
            std::string::npos);
  const std::string type = "# TYPE yizhan_maintenance_runs_total ";
  EXPECT_EQ(metrics.find(type), metrics.rfind(type)) << "one HELP and TYPE per metric";
  EXPECT_EQ(available(product), before) << "its stock is free again";
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (station.simulated(order.number)["state"] != "CLOSED" &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(100ms);
  EXPECT_EQ(station.simulated(order.number)["state"], "CLOSED") << "the WeChat trade was closed";
  const auto late = station.simulator("POST", "/sim/pay",
                                      {{"provider", "wechat"}, {"out_trade_no", order.number}});
  EXPECT_EQ(late.status, 409) << "a closed trade cannot be paid: " << late.raw;
  EXPECT_EQ(start_payment(order, "wechat_native").status, 409) << "nor asked for again";
  const auto [report, code] = station.check();
  EXPECT_EQ(code, 0) << report;
}

// A notification lost on the way: the customer taps 我已支付 and the provider is asked (at most
// once every few seconds, whoever asks), and its answer pays the order as the notification
// would have; a wrong token learns nothing and changes nothing.
TEST_F(OrderPaymentOverHttp, ALostNotificationIsFoundWhenTheCustomerSaysTheyPaid) {
  const auto [product, price] = piece_product(1);
  const auto order = checkout(product, 1, price, "wechat");
  const auto check = [&](const std::string& token) {
    return station.call("POST", "/api/v1/orders/" + order.number + "/payment/check?token=" + token);
  };
  const auto queries = [&] { return station.simulated(order.number)["queries"].value("v3", 0); };
  EXPECT_EQ(check(order.token).body["state"], "pending_payment") << "no payment asked for yet";
  ASSERT_EQ(start_payment(order, "wechat_native").status, 200);

  const auto unpaid = check(order.token);
  ASSERT_EQ(unpaid.status, 200) << unpaid.raw;
  EXPECT_EQ(unpaid.body["state"], "pending_payment");
  EXPECT_EQ(queries(), 1) << "the provider was asked";
  EXPECT_EQ(check(order.token).body["state"], "pending_payment");
  EXPECT_EQ(queries(), 1) << "not again within 5 s";

  const auto paid = station.simulator(
      "POST", "/sim/pay",
      {{"provider", "wechat"}, {"out_trade_no", order.number}, {"notify", false}});
  ASSERT_EQ(paid.status, 200) << paid.raw;
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(
      station.call("GET", "/api/v1/orders/" + order.number + "?token=" + order.token).body["state"],
      "pending_payment")
      << "no notification came";
  EXPECT_EQ(station.simulated(order.number)["notifications_sent"], 0);

  EXPECT_EQ(check("not-the-token").status, 404);
  EXPECT_EQ(station.call("POST", "/api/v1/orders/W20990101-1/payment/check?token=x").status, 404);
  std::this_thread::sleep_for(5100ms);  // past the last question's 5 s
  const auto found = check(order.token);
  ASSERT_EQ(found.status, 200) << found.raw;
  EXPECT_EQ(found.body["state"], "paid") << found.raw;
  EXPECT_EQ(found.body["paid_fen"], order.total);
  EXPECT_EQ(found.body["payment"]["state"], "paid");
  EXPECT_EQ(found.body["pickup_code"].get<std::string>().size(), 6u);
  EXPECT_EQ(queries(), 2);
  EXPECT_EQ(check(order.token).body["state"], "paid") << "asked again: the order as it stands";
  EXPECT_EQ(queries(), 2) << "a paid order is not asked about";
  const auto [report, code] = station.check();
  EXPECT_EQ(code, 0) << report;
}

// The sweep asks before it expires: an order paid at the provider whose notification never came
// is paid, not expired, and keeps its stock (Alipay here; WeChat is closed-then-expired above).
TEST_F(OrderPaymentOverHttp, AnOrderPaidWithoutNotificationIsPaidByTheSweepNotExpired) {
  const auto [product, price] = piece_product(1);
  const auto before = available(product);
  const auto order = checkout(product, 1, price, "alipay");
  ASSERT_EQ(start_payment(order, "alipay_qr").status, 200);
  const auto paid = station.simulator(
      "POST", "/sim/pay",
      {{"provider", "alipay"}, {"out_trade_no", order.number}, {"notify", false}});
  ASSERT_EQ(paid.status, 200) << paid.raw;
  station.sql(
      "UPDATE orders SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE number = '" +
      order.number + "'");
  const auto seen = wait_for_state(order, "paid", 45s);
  EXPECT_EQ(seen["paid_fen"], order.total);
  EXPECT_EQ(seen["history"].back()["by"], "provider");
  EXPECT_EQ(available(product), before - 1) << "still reserved for the customer";
  const auto simulated = station.simulated(order.number);
  EXPECT_EQ(simulated["state"], "TRADE_SUCCESS") << "not closed: " << simulated;
  EXPECT_EQ(simulated["notifications_sent"], 0);
  const auto [report, code] = station.check();
  EXPECT_EQ(code, 0) << report;
}

// Counter 付款码 over HTTP: the real binary charges scanned codes at yizhan-paysim (WeChat v3
// codepay, Alipay trade.pay), polls a payer typing the password, answers a declined code 402,
// replays a retried key byte for byte, prints the transaction's tail and never logs the code.
TEST_F(OrderPaymentOverHttp, CounterPaymentCodesArePaidThroughTheSimulator) {
  const auto [product, price] = piece_product(3);
  const auto before = available(product);
  ASSERT_EQ(station
                .call("POST", "/api/v1/pos/shifts", "cashier1",
                      json{{"register", "柜台1"}, {"float_fen", 0}}.dump())
                .status,
            201);
  auto sell = [&](const std::string& method, const std::string& code, const std::string& key) {
    const json body = {
        {"lines", {{{"product_id", product}, {"quantity", 1}}}},
        {"tenders", {{{"method", method}, {"amount_fen", price}, {"auth_code", code}}}}};
    return station.call("POST", "/api/v1/pos/sales", "cashier1", body.dump(),
                        {"Idempotency-Key: " + key});
  };
  const std::string wechat_code = "134567890123456781";
  const auto paid = sell("wechat_code", wechat_code, "e2e-code-1");
  ASSERT_EQ(paid.status, 201) << paid.raw << station.log();
  EXPECT_EQ(paid.body["tenders"][0]["method"], "wechat_code");
  const std::string reference = paid.body["tenders"][0]["reference"];
  ASSERT_GT(reference.size(), 8u);
  EXPECT_EQ(sell("wechat_code", wechat_code, "e2e-code-1").raw, paid.raw) << "one charge";

  const auto declined = sell("alipay_code", "281234567890129999", "e2e-code-2");
  EXPECT_EQ(declined.status, 402) << declined.raw;
  EXPECT_EQ(declined.body["error"]["details"]["provider_code"], "ACQ.BUYER_BALANCE_NOT_ENOUGH");

  // The simulator's 0000 codes make the payer type a password for 5 s: polled, then paid.
  const auto waited = sell("alipay_code", "281234567890120000", "e2e-code-3");
  EXPECT_EQ(waited.status, 201) << waited.raw;
  EXPECT_EQ(sell("wechat_code", "281234567890123456", "e2e-code-4").status, 422);
  EXPECT_EQ(available(product), before - 2);

  const auto receipt = station.call(
      "GET",
      "/api/v1/pos/sales/" + std::to_string(paid.body["id"].get<std::int64_t>()) + "/receipt",
      "cashier1");
  EXPECT_NE(receipt.raw.find(reference.substr(reference.size() - 8)), std::string::npos);
  EXPECT_EQ(station.log().find(wechat_code), std::string::npos) << "never logged in full";
  const auto [report, code] = station.check();
  EXPECT_EQ(code, 0) << report;
}

// 原路退回 over HTTP: counter sales paid by scanned codes at yizhan-paysim are refunded back to
// the code through WeChat v3 refunds and Alipay trade.refund, in parts, never beyond the code.
TEST_F(OrderPaymentOverHttp, CounterPaymentCodesAreRefundedThroughTheSimulator) {
  const auto [product, price] = piece_product(4);
  const auto before = available(product);
  ASSERT_EQ(station
                .call("POST", "/api/v1/pos/shifts", "cashier1",
                      json{{"register", "柜台1"}, {"float_fen", 0}}.dump())
                .status,
            201);
  auto sell = [&](const std::string& method, const std::string& code, const std::string& key) {
    const json body = {
        {"lines", {{{"product_id", product}, {"quantity", 2}}}},
        {"tenders", {{{"method", method}, {"amount_fen", 2 * price}, {"auth_code", code}}}}};
    return station.call("POST", "/api/v1/pos/sales", "cashier1", body.dump(),
                        {"Idempotency-Key: " + key});
  };
  auto refund = [&](const json& body, const std::string& key) {
    return station.call("POST", "/api/v1/pos/refunds", "cashier1", body.dump(),
                        {"Idempotency-Key: " + key});
  };
  for (const auto& [method, code] :
       {std::pair{std::string("wechat_code"), std::string("134567890123456782")},
        std::pair{std::string("alipay_code"), std::string("281234567890123457")}}) {
    SCOPED_TRACE(method);
    const auto sold = sell(method, code, "e2e-refund-sale-" + method);
    ASSERT_EQ(sold.status, 201) << sold.raw << station.log();
    const json one = {{"sale_id", sold.body["id"]},
                      {"lines", {{{"line_id", sold.body["lines"][0]["id"]}, {"quantity", 1}}}}};
    const auto first = refund(one, "e2e-refund-1-" + method);
    ASSERT_EQ(first.status, 201) << first.raw << station.log();
    EXPECT_EQ(first.body["method"], method);
    EXPECT_EQ(first.body["total_fen"], price);
    EXPECT_EQ(first.body["provider_state"], "SUCCESS");
    EXPECT_EQ(refund(one, "e2e-refund-1-" + method).raw, first.raw) << "one refund per key";
    const auto second = refund(one, "e2e-refund-2-" + method);
    ASSERT_EQ(second.status, 201) << second.raw << station.log();
    EXPECT_NE(second.body["provider_refund_id"], first.body["provider_refund_id"]);
    const auto third = refund(one, "e2e-refund-3-" + method);
    EXPECT_EQ(third.status, 409) << third.raw;
  }
  EXPECT_EQ(available(product), before) << "all four pieces back on the shelf";
  const auto [report, code] = station.check();
  EXPECT_EQ(code, 0) << report;
}

// A merchant on WeChat's v2 code API (payments.wechat.code_pay_v2 = true): the counter charges
// through /pay/micropay, the payer typing the password is polled through v2 /pay/orderquery
// (never the v3 query) until paid, and the sale is written with its transaction id; a declined
// v2 code is 402 with WeChat's err_code.
TEST_F(CounterCodesThroughWechatV2, APayerTypingThePasswordIsPolledThroughV2OrderQuery) {
  const auto [product, price] = piece_product(2);
  const auto before = available(product);
  ASSERT_EQ(station
                .call("POST", "/api/v1/pos/shifts", "cashier1",
                      json{{"register", "柜台1"}, {"float_fen", 0}}.dump())
                .status,
            201);
  const json body = {
      {"lines", {{{"product_id", product}, {"quantity", 1}}}},
      {"tenders",
       {{{"method", "wechat_code"}, {"amount_fen", price}, {"auth_code", "134567890123450000"}}}}};
  const auto started = std::chrono::steady_clock::now();
  const auto sold =
      station.call("POST", "/api/v1/pos/sales", "cashier1", body.dump(), {"Idempotency-Key: v2-1"});
  ASSERT_EQ(sold.status, 201) << sold.raw << station.log();
  EXPECT_GE(std::chrono::steady_clock::now() - started, 4s) << "the simulator's password wait";
  const std::string reference = sold.body["tenders"][0]["reference"];
  const auto trade = station.query("SELECT out_trade_no FROM code_payments WHERE sale_id = " +
                                   std::to_string(sold.body["id"].get<std::int64_t>()));
  ASSERT_FALSE(trade.empty());
  const auto simulated = station.simulated(trade);
  ASSERT_FALSE(simulated.is_null());
  EXPECT_EQ(simulated["channel"], "micropay");
  EXPECT_EQ(simulated["state"], "SUCCESS");
  EXPECT_EQ(simulated["total_fen"], price);
  EXPECT_EQ(simulated["transaction_id"], reference);
  EXPECT_GE(simulated["queries"].value("v2", 0), 1) << simulated;
  EXPECT_EQ(simulated["queries"].value("v3", 0), 0) << simulated;
  EXPECT_EQ(station.query("SELECT state FROM code_payments WHERE out_trade_no = '" + trade + "'"),
            "sold");
  EXPECT_EQ(available(product), before - 1);
  EXPECT_EQ(station.log().find("134567890123450000"), std::string::npos) << "never logged in full";

  json poor = body;
  poor["tenders"][0]["auth_code"] = "134567890123459999";
  const auto declined =
      station.call("POST", "/api/v1/pos/sales", "cashier1", poor.dump(), {"Idempotency-Key: v2-2"});
  EXPECT_EQ(declined.status, 402) << declined.raw;
  EXPECT_EQ(declined.body["error"]["details"]["provider_code"], "NOTENOUGH");
  EXPECT_EQ(available(product), before - 1);
  const auto [report, code] = station.check();
  EXPECT_EQ(code, 0) << report;
}
