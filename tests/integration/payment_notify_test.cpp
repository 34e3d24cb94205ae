// Payment notifications on the real MariaDB, through the real WeChat Pay and Alipay providers
// with freshly generated keys (the gateway a scripted Transport that answers as the provider
// does): a verified payment pays the order once and the books balance; forged, stale,
// wrongly-addressed or undecryptable notifications change nothing; a wrong amount or merchant
// is recorded and flagged, never paid; a payment after expiry restores the order while the
// stock is there and is flagged when it is gone.
#include <gtest/gtest.h>

#include <cppconn/resultset.h>
#include <cppconn/statement.h>

#include <deque>
#include <future>
#include <mutex>
#include <set>

#include "support/api_client.hpp"
#include "yizhan/payments/alipay_protocol.hpp"
#include "yizhan/payments/form.hpp"
#include "yizhan/payments/transport.hpp"
#include "yizhan/payments/wechat_pay_protocol.hpp"
#include "yizhan/service/check.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/orders.hpp"
#include "yizhan/service/reports.hpp"
#include "yizhan/service/stock.hpp"
#include "yizhan/store/database.hpp"

using namespace yizhan;
using nlohmann::json;
using payments::Clock;
using test_support::ApiFixture;
using namespace std::chrono_literals;

namespace {

constexpr const char* kMchId = "1900000109";
constexpr const char* kWechatAppId = "wxd678efh567hg6787";
constexpr const char* kPlatformSerial = "PUB_KEY_ID_0114232134912410000000000000";
constexpr const char* kApiV3Key = "a7cde1ZJB1kG2e7VfTs3jQzaWizur8Gb";
constexpr const char* kSellerId = "2088102146225135";
constexpr const char* kAlipayAppId = "2016091200494382";

/// The keys of both sides, made once for the whole suite (RSA generation is slow in Debug).
struct Keys {
  payments::PrivateKey merchant = payments::generate_rsa_key();
  payments::PrivateKey platform = payments::generate_rsa_key();  // WeChat Pay's signing key
  payments::PrivateKey alipay_app = payments::generate_rsa_key();
  payments::PrivateKey alipay = payments::generate_rsa_key();  // Alipay's signing key
  payments::PrivateKey stranger = payments::generate_rsa_key();
};

const Keys& keys() {
  static const Keys instance;
  return instance;
}

std::map<std::string, std::string> lower_case(const std::map<std::string, std::string>& headers) {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : headers) {
    std::string lower = name;
    for (char& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out[lower] = value;
  }
  return out;
}

/// The providers' gateways as a scripted Transport: WeChat native/h5/close and Alipay
/// precreate/close answered and signed as the real ones are; every request kept.
class ScriptedGateway final : public payments::Transport {
 public:
  payments::HttpResponse send(const payments::HttpRequest& request,
                              std::chrono::milliseconds) override {
    {
      std::lock_guard lock(mutex_);
      seen_.push_back(request.method + " " + request.url);
    }
    if (request.url.ends_with("/gateway.do")) return alipay(request);
    payments::HttpResponse response;
    response.status = 200;
    // The order number of a query (…/out-trade-no/{no}?mchid=…) or close (…/{no}/close).
    const auto trade = request.url.find("/v3/pay/transactions/out-trade-no/");
    std::string number;
    if (trade != std::string::npos) {
      const auto start = trade + std::string_view("/v3/pay/transactions/out-trade-no/").size();
      number = request.url.substr(start, request.url.find_first_of("?/", start) - start);
      std::lock_guard lock(mutex_);
      if (unreachable_.contains(number))
        throw payments::ProviderError(payments::ProviderError::Kind::unreachable, "timed out");
    }
    if (request.url.ends_with("/close")) {
      if (on_close) on_close(number);
      std::lock_guard lock(mutex_);
      if (refuse_close_.contains(number)) {
        response.status = 400;
        response.body = R"({"code":"ORDERPAID","message":"订单已支付"})";
      } else {
        response.status = 204;
      }
    } else if (request.method == "GET" && !number.empty()) {
      // A query: the transactions scripted for the number in turn (the last one stays), else
      // NOTPAY.
      std::lock_guard lock(mutex_);
      auto& answers = trades_[number];
      if (answers.empty()) {  // prepaid, not paid
        response.body = json{{"appid", kWechatAppId},
                             {"mchid", kMchId},
                             {"out_trade_no", number},
                             {"trade_state", "NOTPAY"},
                             {"trade_state_desc", "订单未支付"},
                             {"amount", {{"total", 0}, {"currency", "CNY"}}}}
                            .dump();
      } else {
        response.body = answers.front().dump();
        if (answers.size() > 1) answers.pop_front();
      }
    } else if (const auto kind = started_kind(request.url); !kind.empty()) {
      // A prepay: refused, like WeChat, when its out_trade_no was used for another trade type.
      const auto asked = json::parse(request.body).value("out_trade_no", "");
      std::unique_lock lock(mutex_);
      if (unreachable_.contains(asked))
        throw payments::ProviderError(payments::ProviderError::Kind::unreachable, "timed out");
      const auto [first, fresh] = trade_kinds_.emplace(asked, kind);
      starts_.push_back(asked);
      lock.unlock();
      if (!fresh && first->second != kind) {
        response.status = 400;
        response.body =
            R"({"code":"INVALID_REQUEST","message":"订单号重复 / out_trade_no reused"})";
      } else if (kind == "native") {
        response.body =
            json{{"code_url", "weixin://wxpay/bizpayurl?pr=" + payments::random_token(7)}}.dump();
      } else {
        if (on_h5) on_h5(asked);
        response.body =
            json{{"h5_url", "https://wx.tenpay.com/cgi-bin/mmpayweb-bin/checkmweb?prepay_id=wx1"}}
                .dump();
      }
    } else if (request.url.ends_with("/v3/refund/domestic/refunds")) {
      const auto asked = json::parse(request.body);
      const auto of_trade = asked.value("out_trade_no", "");
      std::unique_lock lock(mutex_);
      if (refunds_unreachable_.contains(of_trade))
        throw payments::ProviderError(payments::ProviderError::Kind::unreachable, "timed out");
      if (refuse_refund_.contains(of_trade)) {
        lock.unlock();
        response.status = 403;
        response.body = R"({"code":"NOT_ENOUGH","message":"基本账户余额不足"})";
        response.headers = lower_case(payments::wechat::sign_answer(
            keys().platform, kPlatformSerial, response.body, Clock::now()));
        return response;
      }
      refunds_made_.insert(asked["out_refund_no"].get<std::string>());
      refund_asks_.push_back(of_trade + ":" + asked["out_refund_no"].get<std::string>());
      lock.unlock();
      response.body = json{{"refund_id", "50300" + asked["out_refund_no"].get<std::string>()},
                           {"out_refund_no", asked["out_refund_no"]},
                           {"status", "SUCCESS"},
                           {"amount", asked["amount"]}}
                          .dump();
    } else if (const auto at = request.url.find("/v3/refund/domestic/refunds/");
               request.method == "GET" && at != std::string::npos) {
      // A refund lookup: made ones succeeded, others never existed.
      const auto asked =
          request.url.substr(at + std::string_view("/v3/refund/domestic/refunds/").size());
      std::lock_guard lock(mutex_);
      if (refunds_made_.contains(asked)) {
        response.body =
            json{{"refund_id", "50300" + asked}, {"out_refund_no", asked}, {"status", "SUCCESS"}}
                .dump();
      } else {
        response.status = 404;
        response.body = R"({"code":"RESOURCE_NOT_EXISTS","message":"退款单不存在"})";
      }
    } else {
      response.status = 404;
      response.body = R"({"code":"NOT_FOUND","message":"scripted gateway"})";
    }
    response.headers = lower_case(payments::wechat::sign_answer(keys().platform, kPlatformSerial,
                                                                response.body, Clock::now()));
    return response;
  }

  /// How many requests reached a URL ending with `suffix`.
  int count(const std::string& suffix) {
    std::lock_guard lock(mutex_);
    int n = 0;
    for (const auto& line : seen_)
      n += line.ends_with(suffix) ? 1 : 0;
    return n;
  }

  /// The out_trade_no of each WeChat prepay (native, H5), in turn.
  std::vector<std::string> starts() {
    std::lock_guard lock(mutex_);
    return starts_;
  }

  /// How many Alipay gateway calls were of `method`.
  int alipay_calls(const std::string& method) {
    std::lock_guard lock(mutex_);
    return static_cast<int>(std::count(alipay_methods_.begin(), alipay_methods_.end(), method));
  }

  /// What WeChat queries about `number` answer: each scripted answer once, in turn, and the
  /// last one from then on. `replace` forgets the answers scripted before.
  void script_trade(const std::string& number, const json& transaction, bool replace = true) {
    std::lock_guard lock(mutex_);
    if (replace) trades_[number].clear();
    trades_[number].push_back(transaction);
  }
  /// WeChat refuses to close `number`'s trade: ORDERPAID.
  void refuse_close(const std::string& number) {
    std::lock_guard lock(mutex_);
    refuse_close_.insert(number);
  }
  /// Prepays, queries and closes of `number` time out (or answer again).
  void set_unreachable(const std::string& number, bool unreachable) {
    mark(unreachable_, number, unreachable);
  }
  /// WeChat refuses refunds of `number`'s trade (NOT_ENOUGH: the merchant's balance is short).
  void refuse_refunds(const std::string& number, bool refuse = true) {
    mark(refuse_refund_, number, refuse);
  }
  /// "out_trade_no:out_refund_no" of each WeChat refund made, in turn.
  std::vector<std::string> refund_asks() {
    std::lock_guard lock(mutex_);
    return refund_asks_;
  }
  /// Refunds of `number`'s trade time out (or are answered again).
  void set_refunds_unreachable(const std::string& number, bool unreachable) {
    mark(refunds_unreachable_, number, unreachable);
  }
  /// Called with the order number of each close, before it is answered.
  std::function<void(const std::string&)> on_close;
  /// Called with the order number of each H5 start, before it is answered.
  std::function<void(const std::string&)> on_h5;

 private:
  /// Puts `number` into `numbers` or takes it out.
  void mark(std::set<std::string>& numbers, const std::string& number, bool in) {
    std::lock_guard lock(mutex_);
    if (in)
      numbers.insert(number);
    else
      numbers.erase(number);
  }

  payments::HttpResponse alipay(const payments::HttpRequest& request) {
    std::map<std::string, std::string> fields;
    const auto form = payments::parse_form(request.body);
    EXPECT_TRUE(form.has_value()) << request.body;
    for (const auto& [name, value] : form.value_or(decltype(form)::value_type{}))
      fields[name] = value;
    const auto method = fields["method"];
    {
      std::lock_guard lock(mutex_);
      alipay_methods_.push_back(method);
    }
    EXPECT_TRUE(payments::alipay::verify_request(
        fields, payments::PublicKey::parse(keys().alipay_app.public_key_pem())))
        << "the merchant signs its gateway calls";
    const auto biz = json::parse(fields["biz_content"]);
    json node = {{"code", "10000"}, {"msg", "Success"}, {"out_trade_no", biz["out_trade_no"]}};
    if (method == "alipay.trade.precreate")
      node["qr_code"] = "https://qr.alipay.com/bax0" + payments::random_token(20);
    if (method == "alipay.trade.refund") {
      node["fund_change"] = "Y";
      node["refund_fee"] = biz["refund_amount"];
    }
    if (method == "alipay.trade.query")  // a precreated code nobody scanned: no trade yet
      node = {{"code", "40004"},
              {"msg", "Business Failed"},
              {"sub_code", "ACQ.TRADE_NOT_EXIST"},
              {"sub_msg", "交易不存在"}};
    payments::HttpResponse response;
    response.status = 200;
    response.body = payments::alipay::signed_answer(keys().alipay, method, node.dump());
    return response;
  }

  /// "native" or "h5" for a WeChat prepay's URL, else empty.
  static std::string started_kind(const std::string& url) {
    if (url.ends_with("/v3/pay/transactions/native")) return "native";
    if (url.ends_with("/v3/pay/transactions/h5")) return "h5";
    return {};
  }

  std::mutex mutex_;
  std::map<std::string, std::string> trade_kinds_;  ///< each prepaid number's trade type
  std::vector<std::string> starts_;
  std::map<std::string, std::deque<json>> trades_;  ///< what WeChat queries answer, by number
  std::set<std::string> refuse_close_, unreachable_, refuse_refund_, refunds_unreachable_,
      refunds_made_;
  std::vector<std::string> seen_;
  std::vector<std::string> alipay_methods_;
  std::vector<std::string> refund_asks_;  ///< "out_trade_no:out_refund_no" of each refund made
};

/// What a notification is made of, with the parts a test may spoil.
struct WechatNotice {
  std::string number;
  std::int64_t total = 0;
  std::string mchid = kMchId;
  std::string appid = kWechatAppId;
  std::string trade_state = "SUCCESS";
  std::string api_v3_key = kApiV3Key;
  std::string serial = kPlatformSerial;
  const payments::PrivateKey* signer = nullptr;  // the platform key when null
  Clock::duration age{};                         // how long ago it was signed
  bool tamper_ciphertext = false;
  std::string transaction_id = "4200002026120212345678901234";
  std::string currency = "CNY";
  std::optional<json> raw_total = std::nullopt;  // amount.total as sent, when not `total`
};

struct Delivered {
  std::map<std::string, std::string> headers;
  std::string body;
};

/// The transaction a notification carries, and a query answers.
json wechat_transaction(const WechatNotice& n, Clock::time_point at) {
  return {{"appid", n.appid},
          {"mchid", n.mchid},
          {"out_trade_no", n.number},
          {"transaction_id", n.transaction_id},
          {"trade_type", "NATIVE"},
          {"trade_state", n.trade_state},
          {"trade_state_desc", "支付成功"},
          {"bank_type", "OTHERS"},
          {"success_time", payments::wechat::rfc3339_beijing(at)},
          {"payer", {{"openid", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}}},
          {"amount",
           {{"total", n.raw_total.value_or(json(n.total))},
            {"payer_total", n.total},
            {"currency", n.currency},
            {"payer_currency", n.currency}}}};
}

Delivered wechat_notice(const WechatNotice& n) {
  const auto at = Clock::now() - n.age;
  const json transaction = wechat_transaction(n, at);
  Delivered out;
  out.body = payments::wechat::seal_notification("EV-2018022511223320873", "TRANSACTION.SUCCESS",
                                                 "支付成功", "transaction", transaction.dump(),
                                                 n.api_v3_key, at);
  if (n.tamper_ciphertext) {
    auto document = json::parse(out.body);
    auto ciphertext = document["resource"]["ciphertext"].get<std::string>();
    ciphertext[4] = ciphertext[4] == 'A' ? 'B' : 'A';
    document["resource"]["ciphertext"] = ciphertext;
    out.body = document.dump();
  }
  out.headers = lower_case(payments::wechat::sign_answer(n.signer ? *n.signer : keys().platform,
                                                         n.serial, out.body, at));
  out.headers["content-type"] = "application/json";
  return out;
}

struct AlipayNotice {
  std::string number;
  std::int64_t total = 0;
  std::string trade_status = "TRADE_SUCCESS";
  std::string seller_id = kSellerId;
  const payments::PrivateKey* signer = nullptr;  // Alipay's key when null
  bool without_app_id = false;
  std::string raw_amount = {};  // total_amount as sent, when not `total` formatted
};

std::string alipay_notice(const AlipayNotice& n) {
  const auto now = Clock::now();
  const auto amount = n.raw_amount.empty() ? domain::Fen(n.total).format() : n.raw_amount;
  std::map<std::string, std::string> fields{
      {"notify_time", payments::alipay::beijing_time(now)},
      {"notify_type", "trade_status_sync"},
      {"notify_id", "ac05099524730693a8b330c5ecf72da9786"},
      {"charset", "utf-8"},
      {"version", "1.0"},
      {"sign_type", "RSA2"},
      {"app_id", kAlipayAppId},
      {"auth_app_id", kAlipayAppId},
      {"seller_id", n.seller_id},
      {"trade_no", "2026120222001400000000000001"},
      {"out_trade_no", n.number},
      {"trade_status", n.trade_status},
      {"total_amount", amount},
      {"receipt_amount", amount},
      {"buyer_pay_amount", amount},
      {"subject", "乡村联盟驿站订单 " + n.number},
      {"gmt_create", payments::alipay::beijing_time(now - 1min)},
      {"gmt_payment", payments::alipay::beijing_time(now)}};
  if (n.without_app_id) fields.erase("app_id");
  fields["sign"] = (n.signer ? *n.signer : keys().alipay)
                       .sign_sha256(payments::alipay::sign_content(fields, true));
  return payments::build_form(fields);
}

class PaymentNotifyTest : public ::testing::Test {
 protected:
  PaymentNotifyTest() {
    payments::WechatPaySettings wechat_settings;
    wechat_settings.mch_id = kMchId;
    wechat_settings.app_id = kWechatAppId;
    wechat_settings.merchant_serial = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
    wechat_settings.merchant_private_key = keys().merchant.pem();
    wechat_settings.api_v3_key = kApiV3Key;
    wechat_settings.platform_public_key = keys().platform.public_key_pem();
    wechat_settings.platform_serial = kPlatformSerial;
    wechat_settings.notify_url = "https://yizhan.example/api/v1/payments/wechat/notify";
    wechat = payments::make_wechat_pay(wechat_settings, gateway);
    payments::AlipaySettings alipay_settings;
    alipay_settings.app_id = kAlipayAppId;
    alipay_settings.seller_id = kSellerId;
    alipay_settings.app_private_key = keys().alipay_app.pem();
    alipay_settings.alipay_public_key = keys().alipay.public_key_pem();
    alipay_settings.notify_url = "https://yizhan.example/api/v1/payments/alipay/notify";
    alipay = payments::make_alipay(alipay_settings, gateway);

    service::OrderSettings settings;
    settings.delivery = {domain::Fen(800), domain::Fen(9900), {"安海镇"}};
    orders = std::make_unique<service::OrderService>(
        api.station.database, settings,
        std::map<std::string, service::PaymentAccount>{
            {"wechat", {wechat.get(), kMchId, kWechatAppId}},
            {"alipay", {alipay.get(), kSellerId, kAlipayAppId}}});
    api.router = api::build_router({api.health, api.station.accounts, api.audit, api.catalog,
                                    &counter, &stock, orders.get(), nullptr, nullptr, &reports});
  }

  std::int64_t product(const std::string& sku, std::int64_t price_fen, std::int64_t received) {
    const auto created = api.call_json("POST", "/api/v1/products", "admin",
                                       {{"sku", sku},
                                        {"name", "商品 " + sku},
                                        {"village_id", api.station.village_a},
                                        {"category_id", 3},
                                        {"unit", "piece"},
                                        {"price_fen", price_fen}});
    EXPECT_EQ(created.status, 201) << created.body;
    const auto id = created.body["id"].get<std::int64_t>();
    const auto receipt =
        api.call_json("POST", "/api/v1/stock/receipts", "admin",
                      {{"village_id", api.station.village_a},
                       {"lines", {{{"product_id", id}, {"quantity", received}, {"lot", "L1"}}}}});
    EXPECT_EQ(receipt.status, 201) << receipt.body;
    return id;
  }

  struct Placed {
    std::string number, token;
    std::int64_t total = 0;
  };

  /// Checks out an online order and starts its payment through `channel` (a QR or a link back).
  Placed order(const json& lines, const std::string& payment, const std::string& channel,
               bool delivery = false) {
    json body = {{"lines", lines},
                 {"fulfilment", delivery ? "delivery" : "pickup"},
                 {"contact", {{"name", "陈女士"}, {"phone", "13800001234"}}},
                 {"payment", payment}};
    if (delivery) body["address"] = {{"area", "安海镇"}, {"detail", "中山路 1 号"}};
    const auto placed = api.call("POST", "/api/v1/orders", "", body.dump(),
                                 {{"idempotency-key", "k-" + std::to_string(++keys_used_)}});
    EXPECT_EQ(placed.status, 201) << placed.body;
    Placed out{placed.body["number"], placed.body["token"], placed.body["total_fen"]};
    EXPECT_EQ(placed.body["state"], "pending_payment");
    const auto started =
        api.call_json("POST", "/api/v1/orders/" + out.number + "/payment?token=" + out.token, "",
                      {{"channel", channel}});
    EXPECT_EQ(started.status, 200) << started.body;
    if (started.status == 200) {
      EXPECT_EQ(started.body["payment"]["state"], "started") << started.body;
    }
    return out;
  }

  ApiFixture::Reply notify_wechat(const Delivered& d) {
    return api.call("POST", "/api/v1/payments/wechat/notify", "", d.body, d.headers);
  }
  ApiFixture::Reply notify_alipay(const std::string& form) {
    return api.call("POST", "/api/v1/payments/alipay/notify", "", form,
                    {{"content-type", "application/x-www-form-urlencoded; charset=utf-8"}});
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
      if (rows->next() && !rows->isNull(1)) value = rows->getString(1);
    });
    return value;
  }

  std::int64_t reserved(std::int64_t product_id) {
    return scalar("SELECT reserved FROM stock_levels WHERE product_id = " +
                  std::to_string(product_id));
  }

  /// Everything a notification could change, in one line to compare before and after.
  std::string footprint() {
    std::string out;
    for (const char* table :
         {"order_events", "stock_moves", "journal_entries", "postings", "payment_notifications"})
      out += std::string(table) + "=" +
             std::to_string(scalar(std::string("SELECT COUNT(*) FROM ") + table)) + " ";
    out += "orders=" + text(
                           "SELECT GROUP_CONCAT(CONCAT(number, ':', state, ':', paid_fen, ':', "
                           "COALESCE(attention, '-')) ORDER BY id) FROM orders");
    out += " payments=" + text(
                              "SELECT GROUP_CONCAT(CONCAT(out_trade_no, ':', state, ':', "
                              "COALESCE(transaction_id, '-')) ORDER BY id) FROM order_payments");
    return out + " reserved=" + std::to_string(scalar("SELECT SUM(reserved) FROM stock_levels"));
  }

  /// The verdicts recorded for an order number, in order: "accepted,duplicate".
  std::string verdicts(const std::string& number) {
    return text(
        "SELECT GROUP_CONCAT(verdict ORDER BY id) FROM payment_notifications WHERE "
        "out_trade_no = '" +
        number + "'");
  }

  json staff_view(const std::string& number) {
    const auto reply = api.call("GET", "/api/v1/orders/" + number, "admin");
    EXPECT_EQ(reply.status, 200) << reply.body;
    return reply.body;
  }

  void expire(const std::string& number) {
    scalar("UPDATE orders SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE number = '" +
           number + "'");
    ASSERT_EQ(orders->expire_due(), 1);
    ASSERT_EQ(staff_view(number)["state"], "expired");
  }

  /// cashier1 opens a shift and sells one piece of `product` for `fen` in cash, under `key`.
  void sell_at_counter(std::int64_t product, std::int64_t fen, const std::string& key) {
    ASSERT_EQ(api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                            {{"register", "柜台1"}, {"float_fen", 0}})
                  .status,
              201);
    const json sale = {{"lines", {{{"product_id", product}, {"quantity", 1}}}},
                       {"tenders", {{{"method", "cash"}, {"amount_fen", fen}}}}};
    const auto sold =
        api.call("POST", "/api/v1/pos/sales", "cashier1", sale.dump(), {{"idempotency-key", key}});
    ASSERT_EQ(sold.status, 201) << sold.body;
  }

  void expect_books_agree() {
    service::Checker checker(api.station.database);
    service::add_stock_checks(checker);
    service::add_journal_checks(checker);
    for (const auto& result : checker.run())
      for (const auto& problem : result.problems)
        ADD_FAILURE() << result.name << ": " << problem;
  }

  std::shared_ptr<ScriptedGateway> gateway = std::make_shared<ScriptedGateway>();
  std::unique_ptr<payments::Provider> wechat, alipay;
  ApiFixture api;
  service::StockService stock{api.station.database};
  service::CounterService counter{api.station.database, service::CounterSettings{}};
  std::unique_ptr<service::OrderService> orders;
  service::ReportService reports{api.station.database};

 private:
  int keys_used_ = 0;
};

}  // namespace

TEST_F(PaymentNotifyTest, AVerifiedWechatPaymentPaysTheOrderOnceAndTheBooksBalance) {
  const auto p = product("N1", 1250, 5);
  const auto placed = order({{{"product_id", p}, {"quantity", 2}}}, "wechat", "wechat_native",
                            /*delivery=*/true);
  EXPECT_EQ(placed.total, 3300) << "2 × 12.50 and the 8.00 delivery fee";
  EXPECT_EQ(gateway->count("/v3/pay/transactions/native"), 1);
  const auto mine = api.call("GET", "/api/v1/orders/" + placed.number + "?token=" + placed.token);
  EXPECT_TRUE(mine.body["payment"]["qr_content"].get<std::string>().starts_with("weixin://"));

  const auto notice = wechat_notice({.number = placed.number, .total = placed.total});
  const auto answer = notify_wechat(notice);
  ASSERT_EQ(answer.status, 200) << answer.body;
  EXPECT_EQ(answer.body["code"], "SUCCESS");
  const auto paid = staff_view(placed.number);
  EXPECT_EQ(paid["state"], "paid");
  EXPECT_EQ(paid["paid_fen"], 3300);
  EXPECT_EQ(paid["payment"]["state"], "paid");
  EXPECT_EQ(paid["history"].back()["by"], "provider");
  EXPECT_FALSE(paid.contains("attention"));
  EXPECT_EQ(reserved(p), 2) << "paid goods stay reserved until they leave";
  EXPECT_EQ(verdicts(placed.number), "accepted");
  EXPECT_EQ(text("SELECT transaction_id FROM order_payments"), "4200002026120212345678901234");
  // One order_payment entry: the money in WeChat's clearing, the village's share, the
  // station's commission and delivery income, summing to nothing.
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'order_payment'"), 1);
  EXPECT_EQ(scalar("SELECT SUM(p.amount_fen) FROM postings p JOIN journal_entries e ON e.id = "
                   "p.entry_id WHERE e.kind = 'order_payment'"),
            0);
  EXPECT_EQ(scalar("SELECT SUM(p.amount_fen) FROM postings p JOIN ledger_accounts a ON a.id = "
                   "p.account_id WHERE a.code = 'tender_clearing:wechat'"),
            3300);
  EXPECT_EQ(scalar("SELECT -SUM(p.amount_fen) FROM postings p JOIN ledger_accounts a ON a.id = "
                   "p.account_id WHERE a.code = 'delivery_income'"),
            800);
  expect_books_agree();

  // WeChat sends it again (our answer was lost): one payment, the duplicate only recorded.
  const auto before = footprint();
  const auto again = notify_wechat(wechat_notice({.number = placed.number, .total = placed.total}));
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body["code"], "SUCCESS");
  const auto after = footprint();
  EXPECT_EQ(verdicts(placed.number), "accepted,duplicate");
  EXPECT_EQ(staff_view(placed.number)["paid_fen"], 3300);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'order_payment'"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM payment_notifications"), 2);
  EXPECT_NE(before, after) << "the duplicate is recorded";
  expect_books_agree();
}

TEST_F(PaymentNotifyTest, RefusedWechatNotificationsChangeNothing) {
  const auto p = product("N2", 990, 5);
  const auto placed = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  const auto before = footprint();
  const auto other_key = std::string("b7cde1ZJB1kG2e7VfTs3jQzaWizur8Gc");
  struct Case {
    std::string what;
    Delivered delivered;
  };
  const WechatNotice good{.number = placed.number, .total = placed.total};
  auto with = [&](const std::function<void(WechatNotice&)>& spoil) {
    auto n = good;
    spoil(n);
    return wechat_notice(n);
  };
  std::vector<Case> cases{
      {"signed by a stranger's key", with([&](auto& n) { n.signer = &keys().stranger; })},
      {"signed by the merchant's own key", with([&](auto& n) { n.signer = &keys().merchant; })},
      {"stale: signed six minutes ago", with([](auto& n) { n.age = 6min; })},
      {"from the future: six minutes ahead", with([](auto& n) { n.age = -6min; })},
      {"unknown platform serial", with([](auto& n) { n.serial = "PUB_KEY_ID_0000000000000000"; })},
      {"ciphertext tampered (signature still good)",
       with([](auto& n) { n.tamper_ciphertext = true; })},
      {"sealed under another APIv3 key", with([&](auto& n) { n.api_v3_key = other_key; })},
  };
  // A body changed after it was signed: the good headers on another (sealed) body.
  auto swapped = wechat_notice(good);
  swapped.body = wechat_notice({.number = placed.number, .total = 1}).body;
  cases.push_back({"body swapped under good headers", swapped});
  auto missing = wechat_notice(good);
  missing.headers.erase("wechatpay-signature");
  cases.push_back({"no signature header", missing});
  auto garbage = wechat_notice(good);
  garbage.body = "{\"resource\":";
  cases.push_back({"garbage body", garbage});

  for (const auto& c : cases) {
    const auto answer = notify_wechat(c.delivered);
    EXPECT_EQ(answer.status, 401) << c.what << ": " << answer.body;
    EXPECT_EQ(answer.body["code"], "FAIL") << c.what;
    EXPECT_EQ(footprint(), before) << c.what;
  }
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM payment_notifications"), 0)
      << "unverified notifications are logged, not stored";
  const auto unpaid = staff_view(placed.number);
  EXPECT_EQ(unpaid["state"], "pending_payment");
  EXPECT_EQ(unpaid["paid_fen"], 0);

  // The genuine one still pays afterwards.
  EXPECT_EQ(notify_wechat(wechat_notice(good)).status, 200);
  EXPECT_EQ(staff_view(placed.number)["state"], "paid");
  expect_books_agree();
}

TEST_F(PaymentNotifyTest, AWrongAmountOrMerchantIsRecordedAndFlaggedButNeverPaid) {
  const auto p = product("N3", 1500, 5);
  const auto placed = order({{{"product_id", p}, {"quantity", 2}}}, "wechat", "wechat_native");
  ASSERT_EQ(placed.total, 3000);
  const auto money = [&] {
    return std::to_string(scalar("SELECT COUNT(*) FROM journal_entries")) + "/" +
           std::to_string(scalar("SELECT COUNT(*) FROM postings")) + "/" +
           std::to_string(scalar("SELECT COUNT(*) FROM stock_moves"));
  };
  const auto books = money();

  for (const auto& [what, notice] : std::vector<std::pair<std::string, WechatNotice>>{
           {"one fen short", {.number = placed.number, .total = 2999}},
           {"one fen over", {.number = placed.number, .total = 3001}},
           {"another merchant", {.number = placed.number, .total = 3000, .mchid = "1230000109"}},
           {"another app", {.number = placed.number, .total = 3000, .appid = "wx0000000000000009"}},
           {"another merchant", {.number = placed.number, .total = 3000, .mchid = "1230000109"}},
           {"another currency", {.number = placed.number, .total = 3000, .currency = "USD"}},
           {"a total beyond int64",
            {.number = placed.number, .total = 3000, .raw_total = json(std::uint64_t{1} << 63)}},
           {"a total as text", {.number = placed.number, .total = 3000, .raw_total = "3000"}}}) {
    const auto answer = notify_wechat(wechat_notice(notice));
    EXPECT_EQ(answer.status, 200) << what << " is verified, so it is acknowledged: " << answer.body;
    const auto flagged = staff_view(placed.number);
    EXPECT_EQ(flagged["state"], "pending_payment") << what;
    EXPECT_EQ(flagged["paid_fen"], 0) << what;
    EXPECT_EQ(flagged["payment"]["state"], "started") << what;
    ASSERT_TRUE(flagged.contains("attention")) << what;
    EXPECT_NE(flagged["attention"].get<std::string>().find("mismatch"), std::string::npos)
        << flagged["attention"];
    EXPECT_EQ(money(), books) << what << ": no money, no stock moved";
  }
  EXPECT_EQ(verdicts(placed.number),
            "mismatch,mismatch,mismatch,mismatch,mismatch,mismatch,mismatch,mismatch");
  EXPECT_EQ(text("SELECT GROUP_CONCAT(COALESCE(amount_fen, '-') ORDER BY id) FROM "
                 "payment_notifications"),
            "2999,3001,3000,3000,3000,3000,-,-");
  EXPECT_EQ(text("SELECT GROUP_CONCAT(SUBSTRING_INDEX(reason, ' is', 1) ORDER BY id SEPARATOR '|') "
                 "FROM payment_notifications WHERE id > (SELECT MIN(id) + 4 FROM "
                 "payment_notifications)"),
            "currency USD|amount unreadable, expected 3000|amount unreadable, expected 3000")
      << "what the staff read: never a made-up amount";

  // Our number in other letters, or with spaces after it, is another trade at the provider
  // (its numbers are case-sensitive) that this server never made: recorded, pays nothing.
  std::string lower = placed.number;
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const auto& other : {lower, placed.number + "  "}) {
    EXPECT_EQ(notify_wechat(wechat_notice({.number = other, .total = 3000})).status, 200);
    EXPECT_EQ(staff_view(placed.number)["state"], "pending_payment") << other;
    EXPECT_EQ(text("SELECT reason FROM payment_notifications ORDER BY id DESC LIMIT 1"),
              "no such payment")
        << other;
  }
  EXPECT_NE(text("SELECT reason FROM payment_notifications ORDER BY id LIMIT 1 OFFSET 4")
                .find("merchant"),
            std::string::npos);
  const auto customer =
      api.call("GET", "/api/v1/orders/" + placed.number + "?token=" + placed.token);
  EXPECT_FALSE(customer.body.contains("attention")) << "the flag is for the staff";

  // A payment for no order of ours is recorded too, and touches no order.
  EXPECT_EQ(notify_wechat(wechat_notice({.number = "W20261202-999999", .total = 3000})).status,
            200);
  EXPECT_EQ(verdicts("W20261202-999999"), "mismatch");
  EXPECT_EQ(money(), books);
  expect_books_agree();
}

// A notification that never came: the sweep asks WeChat before it expires the order. Paid to us,
// the answer pays the order as the notification would (one journal entry, the reservation kept,
// a notification that still comes a duplicate); paid to another merchant, it is recorded and
// flagged, never paid, and the order expires; not paid, the trade is closed, then the order
// expires. The customer's 我已支付 asks too, at most once every 5 s.
TEST_F(PaymentNotifyTest, TheSweepAsksTheProviderBeforeItExpiresAnOrder) {
  const auto p = product("Q1", 1200, 10);
  const auto paid = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  const auto stranger = order({{{"product_id", p}, {"quantity", 2}}}, "wechat", "wechat_native");
  const auto unpaid = order({{{"product_id", p}, {"quantity", 3}}}, "wechat", "wechat_native");
  gateway->script_trade(paid.number,
                        wechat_transaction({.number = paid.number, .total = 1200}, Clock::now()));
  gateway->script_trade(stranger.number,
                        wechat_transaction({.number = stranger.number,
                                            .total = 2400,
                                            .mchid = "1230000109",
                                            .transaction_id = "4200002026120299999999999999"},
                                           Clock::now()));
  auto open = wechat_transaction({.number = unpaid.number, .total = 3600}, Clock::now());
  open["trade_state"] = "NOTPAY";
  open.erase("transaction_id");
  gateway->script_trade(unpaid.number, open);
  EXPECT_EQ(reserved(p), 6);
  const auto entries = scalar("SELECT COUNT(*) FROM journal_entries");

  std::map<std::string, std::string> state_at_close;
  gateway->on_close = [&](const std::string& number) {
    state_at_close[number] = staff_view(number)["state"];
  };
  scalar("UPDATE orders SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND");
  EXPECT_EQ(orders->expire_due(), 2) << "the paid one is paid instead";
  EXPECT_EQ(state_at_close[unpaid.number], "pending_payment") << "closed before it expired";
  const auto payment_state = [&](const std::string& number) {
    return text("SELECT GROUP_CONCAT(state) FROM order_payments WHERE out_trade_no = '" + number +
                "'");
  };
  EXPECT_EQ(payment_state(unpaid.number), "closed");
  EXPECT_EQ(payment_state(stranger.number), "closed") << "flagged for the staff: not asked again";
  const auto kept = staff_view(paid.number);
  EXPECT_EQ(kept["state"], "paid");
  EXPECT_EQ(kept["paid_fen"], 1200);
  EXPECT_EQ(kept["payment"]["state"], "paid");
  EXPECT_EQ(verdicts(paid.number), "accepted");
  EXPECT_NE(
      text("SELECT reason FROM payment_notifications WHERE out_trade_no = '" + paid.number + "'")
          .find("query"),
      std::string::npos);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries"), entries + 1);

  const auto flagged = staff_view(stranger.number);
  EXPECT_EQ(flagged["state"], "expired");
  EXPECT_EQ(flagged["paid_fen"], 0);
  EXPECT_NE(flagged.value("attention", "").find("mismatch"), std::string::npos) << flagged;
  EXPECT_EQ(verdicts(stranger.number), "mismatch");
  EXPECT_EQ(staff_view(unpaid.number)["state"], "expired");
  EXPECT_EQ(gateway->count("/out-trade-no/" + unpaid.number + "/close"), 1)
      << "closed before it expired, and once";
  EXPECT_EQ(reserved(p), 1) << "the paid order keeps its piece; the others' are free";

  // The notification that still comes is a duplicate: nothing more.
  const auto books = footprint();
  EXPECT_EQ(notify_wechat(wechat_notice({.number = paid.number, .total = 1200})).status, 200);
  EXPECT_EQ(verdicts(paid.number), "accepted,duplicate");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries"), entries + 1);
  EXPECT_EQ(reserved(p), 1);

  // 我已支付: a customer's check of an order awaiting payment asks once per 5 s.
  const auto waiting = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  const auto asked = [&] {
    return gateway->count("/out-trade-no/" + waiting.number + "?mchid=" + kMchId);
  };
  const auto check = [&](const std::string& token, const std::string& as = "") {
    return api.call("POST",
                    "/api/v1/orders/" + waiting.number + "/payment/check" +
                        (token.empty() ? "" : "?token=" + token),
                    as);
  };
  EXPECT_EQ(check(waiting.token).body["state"], "pending_payment");
  EXPECT_EQ(asked(), 1);
  EXPECT_EQ(check("", "admin").body["state"], "pending_payment");
  EXPECT_EQ(asked(), 1) << "not again within 5 s, whoever asks";
  EXPECT_EQ(check("wrong").status, 404);
  EXPECT_EQ(check("").status, 404) << "no token, no staff: no order";
  gateway->script_trade(waiting.number, wechat_transaction({.number = waiting.number,
                                                            .total = 1200,
                                                            .transaction_id = "42000020261202"
                                                                              "88888888888888"},
                                                           Clock::now()));
  scalar(
      "UPDATE orders SET payment_checked_at = UTC_TIMESTAMP(6) - INTERVAL 6 SECOND WHERE "
      "number = '" +
      waiting.number + "'");
  const auto found = check("", "cashier1");
  EXPECT_EQ(found.status, 200) << found.body;
  EXPECT_EQ(found.body["state"], "paid") << found.body;
  EXPECT_EQ(asked(), 2);
  expect_books_agree();
}

// The sweep's harder cases. A close refused because the trade was paid in between (ORDERPAID) is
// asked once more and the order paid. A provider that does not answer is asked once per pass:
// its orders expire with their trades unsettled, and once it answers again, the next pass pays a
// late payment (the order restored while its stock is there) and closes an unpaid trade, and
// 我已支付 on such an expired order asks too.
TEST_F(PaymentNotifyTest, TheSweepSettlesRacesAndOutagesLater) {
  const auto p = product("Q2", 1000, 10);
  const auto raced = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  auto notpay = [](const std::string& number, std::int64_t total) {
    auto t = wechat_transaction({.number = number, .total = total}, Clock::now());
    t["trade_state"] = "NOTPAY";
    t.erase("transaction_id");
    return t;
  };
  gateway->script_trade(raced.number, notpay(raced.number, 1000));
  gateway->script_trade(raced.number,
                        wechat_transaction({.number = raced.number, .total = 1000}, Clock::now()),
                        false);
  gateway->refuse_close(raced.number);
  scalar("UPDATE orders SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND");
  EXPECT_EQ(orders->expire_due(), 0);
  EXPECT_EQ(staff_view(raced.number)["state"], "paid") << "paid between the query and the close";
  EXPECT_EQ(gateway->count("/out-trade-no/" + raced.number + "/close"), 1);
  EXPECT_EQ(verdicts(raced.number), "accepted");

  const auto late = order({{{"product_id", p}, {"quantity", 2}}}, "wechat", "wechat_native");
  const auto unpaid = order({{{"product_id", p}, {"quantity", 3}}}, "wechat", "wechat_native");
  const auto tapped = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  for (const auto* o : {&late, &unpaid, &tapped})
    gateway->set_unreachable(o->number, true);
  const auto requests = [&](const std::string& number) {
    return gateway->count("/out-trade-no/" + number + "?mchid=" + kMchId) +
           gateway->count("/out-trade-no/" + number + "/close");
  };
  scalar(
      "UPDATE orders SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE state = "
      "'pending_payment'");
  EXPECT_EQ(orders->expire_due(), 3) << "they expire without an answer";
  EXPECT_EQ(requests(late.number) + requests(unpaid.number) + requests(tapped.number), 1)
      << "one question to a provider that does not answer, then none in that pass";
  EXPECT_EQ(text("SELECT GROUP_CONCAT(DISTINCT state) FROM order_payments WHERE out_trade_no IN "
                 "('" +
                 late.number + "', '" + unpaid.number + "', '" + tapped.number + "')"),
            "started")
      << "nobody knows yet";
  EXPECT_EQ(reserved(p), 1) << "only the raced order's piece";
  EXPECT_EQ(orders->settle_unsettled(), 0) << "still not answering";
  EXPECT_EQ(requests(late.number) + requests(unpaid.number) + requests(tapped.number), 2)
      << "again one question in that pass";

  for (const auto* o : {&late, &unpaid, &tapped})
    gateway->set_unreachable(o->number, false);
  gateway->script_trade(late.number,
                        wechat_transaction({.number = late.number, .total = 2000}, Clock::now()));
  gateway->script_trade(unpaid.number, notpay(unpaid.number, 3000));
  gateway->script_trade(tapped.number,
                        wechat_transaction({.number = tapped.number, .total = 1000}, Clock::now()));
  // 我已支付 on an expired order: asked, and paid late.
  const auto checked =
      api.call("POST", "/api/v1/orders/" + tapped.number + "/payment/check?token=" + tapped.token);
  EXPECT_EQ(checked.status, 200) << checked.body;
  EXPECT_EQ(checked.body["state"], "paid") << checked.body;

  scalar("UPDATE orders SET payment_checked_at = NULL");  // the next round, 20 s later
  EXPECT_EQ(orders->settle_unsettled(), 2);
  const auto restored = staff_view(late.number);
  EXPECT_EQ(restored["state"], "paid");
  EXPECT_EQ(restored["paid_fen"], 2000);
  EXPECT_NE(restored.value("attention", "").find("paid after expiry"), std::string::npos)
      << restored;
  EXPECT_EQ(verdicts(late.number), "late");
  EXPECT_EQ(staff_view(unpaid.number)["state"], "expired");
  EXPECT_EQ(gateway->count("/out-trade-no/" + unpaid.number + "/close"), 1);
  EXPECT_EQ(text("SELECT GROUP_CONCAT(state) FROM order_payments WHERE out_trade_no = '" +
                 unpaid.number + "'"),
            "closed");
  EXPECT_EQ(reserved(p), 4) << "raced 1 + late 2 + tapped 1, restored with their stock";
  const auto asked = requests(late.number) + requests(unpaid.number);
  EXPECT_EQ(orders->settle_unsettled(), 0) << "nothing left to ask about";
  EXPECT_EQ(requests(late.number) + requests(unpaid.number), asked);
  expect_books_agree();
}

// Payments left `started` beside others: an order asked for through two channels (two rows, one
// trade) keeps no `started` row once paid; a customer's cancel leaves the trade for the sweep to
// confirm closed; an Alipay code nobody scanned has no trade to close, so it is asked about
// again until the order's own time is up, then marked closed.
TEST_F(PaymentNotifyTest, UnconfirmedTradesOfCancelledOrdersAreConfirmedClosedByTheSweep) {
  const auto p = product("Q3", 800, 10);
  const auto payment_states = [&](const std::string& number) {  // the order's trades
    return text(
        "SELECT GROUP_CONCAT(state ORDER BY id) FROM order_payments WHERE out_trade_no = '" +
        number + "' OR out_trade_no LIKE '" + number + "-%'");
  };
  const auto twice = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  const auto again =
      api.call_json("POST", "/api/v1/orders/" + twice.number + "/payment?token=" + twice.token, "",
                    {{"channel", "wechat_h5"}});
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(payment_states(twice.number), "closed,started") << "the QR's trade closed first";
  // Paid through the QR all the same (just before its close): the order is paid and its other
  // trade closed.
  EXPECT_EQ(notify_wechat(wechat_notice({.number = twice.number, .total = 800})).status, 200);
  EXPECT_EQ(payment_states(twice.number), "paid,closed");

  // A WeChat trade is asked about and closed before its order is cancelled (see
  // ACancelOfAnOrderPaidAMomentAgoPaysItAndSaysSo): confirmed closed at once, nothing left for
  // the sweep.
  const auto cancelled = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  ASSERT_EQ(
      api.call("POST", "/api/v1/orders/" + cancelled.number + "/cancel?token=" + cancelled.token)
          .status,
      200);
  EXPECT_EQ(payment_states(cancelled.number), "closed");
  // A WeChat close that did not get through leaves the trade for the sweep to confirm.
  const auto unconfirmed = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  gateway->set_unreachable(unconfirmed.number, true);
  ASSERT_EQ(api.call("POST",
                     "/api/v1/orders/" + unconfirmed.number + "/cancel?token=" + unconfirmed.token)
                .status,
            200);
  gateway->set_unreachable(unconfirmed.number, false);
  auto closed = wechat_transaction({.number = unconfirmed.number, .total = 800}, Clock::now());
  closed["trade_state"] = "CLOSED";
  closed.erase("transaction_id");
  gateway->script_trade(unconfirmed.number, closed);
  const auto scanned_never = order({{{"product_id", p}, {"quantity", 1}}}, "alipay", "alipay_qr");
  ASSERT_EQ(api.call("POST", "/api/v1/orders/" + scanned_never.number +
                                 "/cancel?token=" + scanned_never.token)
                .status,
            200);
  EXPECT_EQ(payment_states(unconfirmed.number), "started") << "for the sweep to confirm";
  EXPECT_EQ(payment_states(scanned_never.number), "started");

  EXPECT_EQ(orders->settle_unsettled(), 1) << "the WeChat trade is confirmed closed";
  EXPECT_EQ(payment_states(unconfirmed.number), "closed");
  EXPECT_EQ(payment_states(scanned_never.number), "started") << "its code is payable till then";
  EXPECT_EQ(staff_view(cancelled.number)["state"], "cancelled");
  EXPECT_EQ(staff_view(unconfirmed.number)["state"], "cancelled");
  scalar(
      "UPDATE orders SET payment_checked_at = NULL, expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 "
      "SECOND WHERE number = '" +
      scanned_never.number + "'");
  EXPECT_EQ(orders->settle_unsettled(), 1);
  EXPECT_EQ(payment_states(scanned_never.number), "closed");
  const auto queries = gateway->alipay_calls("alipay.trade.query");
  scalar("UPDATE orders SET payment_checked_at = NULL");
  EXPECT_EQ(orders->settle_unsettled(), 0) << "nothing left";
  EXPECT_EQ(gateway->alipay_calls("alipay.trade.query"), queries);
  expect_books_agree();
}

// The payer pays through the QR while the page asks for the H5 link: the order is paid before
// the provider answers the H5 start, so the H5 trade is closed again; and a trade's
// repeated paid news (a resend, TRADE_FINISHED after TRADE_SUCCESS) finds its paid row even when
// a started row of the same trade is newer. One payment entry, whatever comes.
TEST_F(PaymentNotifyTest, APaymentStartedWhileTheOrderWasPaidAddsNoRowAndIsNotBookedTwice) {
  const auto p = product("Q6", 900, 10);
  const auto placed = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  gateway->on_h5 = [&](const std::string& number) {
    if (number == placed.number + "-2") {
      EXPECT_EQ(notify_wechat(wechat_notice({.number = placed.number, .total = 900})).status, 200);
    }
  };
  const auto h5 =
      api.call_json("POST", "/api/v1/orders/" + placed.number + "/payment?token=" + placed.token,
                    "", {{"channel", "wechat_h5"}});
  gateway->on_h5 = nullptr;
  EXPECT_LT(h5.status, 500) << h5.body;
  EXPECT_EQ(staff_view(placed.number)["state"], "paid");
  const auto rows =
      "SELECT COUNT(*) FROM order_payments WHERE out_trade_no = '" + placed.number + "'";
  EXPECT_EQ(scalar(rows), 1) << "one row per trade";
  EXPECT_EQ(text("SELECT state FROM order_payments WHERE out_trade_no = '" + placed.number + "-2'"),
            "closed")
      << "the H5 trade asked while the order was paid is closed";

  // A newer started row of the paid trade (as a race before this fix could leave): the paid
  // news again is a duplicate.
  scalar(
      "INSERT INTO order_payments (order_id, provider, channel, out_trade_no, amount_fen) "
      "SELECT order_id, provider, 'wechat_jsapi', out_trade_no, amount_fen FROM order_payments "
      "WHERE out_trade_no = '" +
      placed.number + "'");
  EXPECT_EQ(notify_wechat(wechat_notice({.number = placed.number, .total = 900})).status, 200);
  EXPECT_EQ(verdicts(placed.number), "accepted,duplicate");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'order_payment'"), 1);
  EXPECT_EQ(staff_view(placed.number)["paid_fen"], 900);
  expect_books_agree();
}

// A trade the provider never confirmed either way in kUnsettledDays is no longer asked about:
// the order asks for the staff (需要处理) once, lists under ?attention=true, and a member of staff
// records how it was handled, which clears it only if it is still what they saw, keeps the
// note in the order's history and takes the trade as settled outside. Retried: nothing more.
TEST_F(PaymentNotifyTest, ATradeNeverConfirmedInAWeekAsksTheStaffWhoRecordHowItWasHandled) {
  const auto p = product("Q5", 600, 10);
  const auto silent = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  gateway->set_unreachable(silent.number, true);
  expire(silent.number);
  const auto started =
      "SELECT COUNT(*) FROM order_payments WHERE state = 'started' AND "
      "out_trade_no = '" +
      silent.number + "'";
  ASSERT_EQ(scalar(started), 1);
  EXPECT_EQ(orders->settle_unsettled(), 0) << "asked, no answer: asked again later";
  const auto listed = [&](const std::string& query) {
    const auto reply = api.call("GET", "/api/v1/orders?" + query, "cashier1");
    EXPECT_EQ(reply.status, 200) << reply.body;
    return json(reply.body);
  };
  EXPECT_EQ(listed("attention=true")["total"], 0);

  scalar("UPDATE orders SET updated_at = UTC_TIMESTAMP(6) - INTERVAL 8 DAY WHERE number = '" +
         silent.number + "'");
  const auto asked =
      gateway->count("/v3/pay/transactions/out-trade-no/" + silent.number + "?mchid=" + kMchId);
  EXPECT_EQ(orders->settle_unsettled(), 1) << "flagged for the staff";
  EXPECT_EQ(orders->settle_unsettled(), 0) << "flagged once";
  EXPECT_EQ(
      gateway->count("/v3/pay/transactions/out-trade-no/" + silent.number + "?mchid=" + kMchId),
      asked)
      << "no longer asked";
  auto flagged = staff_view(silent.number);
  ASSERT_TRUE(flagged.contains("attention")) << flagged.dump();
  const auto attention = flagged["attention"].get<std::string>();
  EXPECT_NE(attention.find("商户平台"), std::string::npos) << attention;
  EXPECT_NE(attention.find(silent.number), std::string::npos) << attention;
  const auto page = listed("attention=true");
  EXPECT_EQ(page["total"], 1);
  ASSERT_EQ(page["items"].size(), 1u);
  EXPECT_EQ(page["items"][0]["number"], silent.number);
  EXPECT_EQ(listed("attention=true&state=paid")["total"], 0);
  EXPECT_EQ(listed("attention=true&state=expired")["total"], 1);
  EXPECT_EQ(api.call("GET", "/api/v1/orders?attention=yes", "cashier1").status, 422);

  const auto resolve = "/api/v1/orders/" + silent.number + "/attention/resolve";
  const auto events = [&] {
    return scalar(
        "SELECT COUNT(*) FROM order_events e JOIN orders o ON o.id = e.order_id WHERE "
        "o.number = '" +
        silent.number + "'");
  };
  const auto events_before = events();
  // Bad input changes nothing.
  for (const auto& body : {json{{"attention", attention}}, json{{"note", "核对了"}},
                           json{{"attention", attention}, {"note", ""}},
                           json{{"attention", attention}, {"note", std::string(151 * 3, 'x')}},
                           json{{"attention", attention}, {"note", "核对了"}, {"extra", 1}},
                           json{{"attention", 5}, {"note", "核对了"}}}) {
    const auto reply = api.call_json("POST", resolve, "cashier1", body);
    EXPECT_EQ(reply.status, 422) << body.dump() << " → " << reply.body;
  }
  EXPECT_EQ(api.call_json("POST", resolve, "", {{"attention", attention}, {"note", "x"}}).status,
            401);
  EXPECT_EQ(api.call_json("POST", "/api/v1/orders/W20260101-999999/attention/resolve", "cashier1",
                          {{"attention", attention}, {"note", "x"}})
                .status,
            404);
  const auto stale =
      api.call_json("POST", resolve, "cashier1",
                    {{"attention", "另一件事 / something else"}, {"note", "核对了"}});
  EXPECT_EQ(stale.status, 409) << stale.body;
  EXPECT_EQ(json(stale.body)["error"]["details"]["attention"], attention) << stale.body;
  EXPECT_EQ(events(), events_before);
  EXPECT_EQ(scalar(started), 1);

  const auto handled = api.call_json("POST", resolve, "cashier1",
                                     {{"attention", attention}, {"note", "商户平台显示未支付"}});
  ASSERT_EQ(handled.status, 200) << handled.body;
  EXPECT_FALSE(json(handled.body).contains("attention")) << handled.body;
  EXPECT_EQ(json(handled.body)["state"], "expired");
  EXPECT_EQ(scalar(started), 0) << "the trade is taken as settled outside";
  EXPECT_EQ(events(), events_before + 1);
  const auto history = json(handled.body)["history"];
  ASSERT_FALSE(history.empty());
  EXPECT_NE(history.back()["note"].get<std::string>().find("商户平台显示未支付"), std::string::npos)
      << history.dump();
  EXPECT_EQ(listed("attention=true")["total"], 0);
  // The note is the staff's, for the staff: whoever holds the order's link does not see it, nor
  // the attention text it quotes (probe P9).
  const auto customer =
      api.call("GET", "/api/v1/orders/" + silent.number + "?token=" + silent.token);
  ASSERT_EQ(customer.status, 200) << customer.body;
  EXPECT_EQ(customer.body.dump().find("商户平台显示未支付"), std::string::npos) << customer.body;
  EXPECT_EQ(customer.body.dump().find("已处理"), std::string::npos) << customer.body;
  EXPECT_EQ(customer.body["history"].size() + 1, history.size());

  const auto again = api.call_json("POST", resolve, "cashier1",
                                   {{"attention", attention}, {"note", "商户平台显示未支付"}});
  EXPECT_EQ(again.status, 200) << "a retry: the order as it is";
  EXPECT_EQ(events(), events_before + 1);
  EXPECT_EQ(orders->settle_unsettled(), 0) << "not flagged again";
  expect_books_agree();
}

// A payment found by the sweep after its order expired and its goods were sold at the counter:
// the money is booked as unsold and sent back once, and the books agree (invariant 3), however
// often the sweep comes round again.
TEST_F(PaymentNotifyTest, APaymentFoundByTheSweepAfterTheStockWasSoldIsRefundedOnce) {
  const auto scarce = product("Q4", 700, 1);
  const auto placed = order({{{"product_id", scarce}, {"quantity", 1}}}, "wechat", "wechat_native");
  gateway->set_unreachable(placed.number, true);
  scalar("UPDATE orders SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE number = '" +
         placed.number + "'");
  ASSERT_EQ(orders->expire_due(), 1);
  sell_at_counter(scarce, 700, "counter-q4");

  gateway->set_unreachable(placed.number, false);
  gateway->script_trade(placed.number,
                        wechat_transaction({.number = placed.number, .total = 700}, Clock::now()));
  EXPECT_EQ(orders->settle_unsettled(), 1);
  const auto refunded = staff_view(placed.number);
  EXPECT_EQ(refunded["state"], "refunded") << refunded;
  EXPECT_EQ(refunded["paid_fen"], 700);
  EXPECT_EQ(refunded["refunded_fen"], 700);
  EXPECT_EQ(gateway->count("/v3/refund/domestic/refunds"), 1);
  EXPECT_EQ(verdicts(placed.number), "late");
  expect_books_agree();

  scalar("UPDATE orders SET payment_checked_at = NULL");  // another round
  EXPECT_EQ(orders->settle_unsettled(), 0);
  EXPECT_EQ(gateway->count("/v3/refund/domestic/refunds"), 1) << "sent back once";
  EXPECT_EQ(verdicts(placed.number), "late");
  expect_books_agree();
}

TEST_F(PaymentNotifyTest, AlipayPaysOnTradeSuccessIgnoresOtherStatesAndRefusesForgeries) {
  const auto p = product("N4", 1234, 5);
  const auto placed = order({{{"product_id", p}, {"quantity", 1}}}, "alipay", "alipay_qr");
  EXPECT_EQ(gateway->alipay_calls("alipay.trade.precreate"), 1);
  EXPECT_TRUE(staff_view(placed.number)["payment"]["qr_content"].get<std::string>().starts_with(
      "https://qr.alipay.com/"));
  const auto before = footprint();

  // Forged: signed by someone else, or a field changed after signing. Alipay expects "fail".
  for (const auto& [what,
                    form] : std::vector<std::pair<std::string,
                                                  std::string>>{{"signed by a stranger",
                                                                 alipay_notice(
                                                                     {.number = placed.number,
                                                       .total = 1234,
                                                       .signer = &keys().stranger})},
                                                                {"signed by the merchant's app key",
                                                                 alipay_notice(
                                                                     {.number = placed.number,
                                                       .total = 1234,
                                                       .signer = &keys().alipay_app})},
                                                                {"amount changed after signing",
                                                                 [&] {
                                                                   auto form = alipay_notice(
                                                                       {.number = placed.number,
                                                                        .total = 1234});
                                                                   const auto at = form.find(
                                                                       "total_amount=12.34");
                                                                   form.replace(
                                                                       at, 18,
                                                                       "total_amount=00.01");
                                                                   return form;
                                                                 }()},
                                                                {"not a form",
                                                                 std::string("%zz=1")},
                                                                {"the field twice",
                                                                 alipay_notice(
                                                                     {.number = placed.number,
                                                       .total = 1234}) +
                                                                     "&trade_status=TRADE_"
                                                                     "SUCCESS"}}) {
    const auto answer = notify_alipay(form);
    EXPECT_EQ(answer.raw.payload(), "fail") << what;
    EXPECT_EQ(footprint(), before) << what;
  }

  // Verified but not a payment: recorded as ignored, the order waits.
  for (const char* status : {"WAIT_BUYER_PAY", "TRADE_CLOSED"}) {
    const auto answer = notify_alipay(
        alipay_notice({.number = placed.number, .total = 1234, .trade_status = status}));
    EXPECT_EQ(answer.raw.payload(), "success") << status;
    const auto waiting = staff_view(placed.number);
    EXPECT_EQ(waiting["state"], "pending_payment") << status;
    EXPECT_EQ(waiting["paid_fen"], 0) << status;
  }
  EXPECT_EQ(verdicts(placed.number), "ignored,ignored");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'order_payment'"), 0);

  // Another seller is a mismatch.
  EXPECT_EQ(
      notify_alipay(
          alipay_notice({.number = placed.number, .total = 1234, .seller_id = "2088000000000001"}))
          .raw.payload(),
      "success");
  EXPECT_EQ(staff_view(placed.number)["paid_fen"], 0);
  // So is one that names no app (every notification of Alipay's names it).
  EXPECT_EQ(
      notify_alipay(alipay_notice({.number = placed.number, .total = 1234, .without_app_id = true}))
          .raw.payload(),
      "success");
  EXPECT_EQ(staff_view(placed.number)["paid_fen"], 0);
  EXPECT_EQ(text("SELECT reason FROM payment_notifications ORDER BY id DESC LIMIT 1"),
            "app (none) is not ours");
  // An amount Alipay would never write, signed: equal to the order's only when read leniently.
  for (const char* amount : {"+12.34", "012.34", "12.340"}) {
    EXPECT_EQ(
        notify_alipay(alipay_notice({.number = placed.number, .raw_amount = amount})).raw.payload(),
        "success")
        << amount;
    EXPECT_EQ(staff_view(placed.number)["paid_fen"], 0) << amount;
    EXPECT_EQ(text("SELECT reason FROM payment_notifications ORDER BY id DESC LIMIT 1"),
              "amount unreadable, expected 1234")
        << amount;
  }

  const auto answer = notify_alipay(alipay_notice({.number = placed.number, .total = 1234}));
  EXPECT_EQ(answer.raw.payload(), "success");
  const auto paid = staff_view(placed.number);
  EXPECT_EQ(paid["state"], "paid");
  EXPECT_EQ(paid["paid_fen"], 1234);
  // TRADE_FINISHED follows when the refund window closes: the same payment, once.
  EXPECT_EQ(
      notify_alipay(
          alipay_notice({.number = placed.number, .total = 1234, .trade_status = "TRADE_FINISHED"}))
          .raw.payload(),
      "success");
  EXPECT_EQ(staff_view(placed.number)["paid_fen"], 1234);
  EXPECT_EQ(verdicts(placed.number),
            "ignored,ignored,mismatch,mismatch,mismatch,mismatch,mismatch,accepted,duplicate");
  EXPECT_EQ(scalar("SELECT SUM(p.amount_fen) FROM postings p JOIN ledger_accounts a ON a.id = "
                   "p.account_id WHERE a.code = 'tender_clearing:alipay'"),
            1234);
  expect_books_agree();
}

TEST_F(PaymentNotifyTest, APaymentAfterExpiryRestoresTheOrderWhileTheStockIsThere) {
  const auto p = product("N5", 800, 3);
  const auto placed = order({{{"product_id", p}, {"quantity", 2}}}, "wechat", "wechat_native");
  expire(placed.number);
  EXPECT_EQ(reserved(p), 0);
  EXPECT_EQ(gateway->count("/v3/pay/transactions/out-trade-no/" + placed.number + "/close"), 1)
      << "the sweep closes the unpaid WeChat order";

  // The payer was already on the password page: the money comes anyway.
  const auto answer = notify_wechat(wechat_notice({.number = placed.number, .total = 1600}));
  EXPECT_EQ(answer.status, 200) << answer.body;
  const auto restored = staff_view(placed.number);
  EXPECT_EQ(restored["state"], "paid");
  EXPECT_EQ(restored["paid_fen"], 1600);
  ASSERT_TRUE(restored.contains("attention"));
  EXPECT_NE(restored["attention"].get<std::string>().find("restored"), std::string::npos);
  EXPECT_EQ(reserved(p), 2) << "reserved again";
  EXPECT_EQ(verdicts(placed.number), "late");
  // Again: one payment.
  EXPECT_EQ(notify_wechat(wechat_notice({.number = placed.number, .total = 1600})).status, 200);
  EXPECT_EQ(staff_view(placed.number)["paid_fen"], 1600);
  EXPECT_EQ(reserved(p), 2);
  EXPECT_EQ(verdicts(placed.number), "late,duplicate");
  expect_books_agree();
}

TEST_F(PaymentNotifyTest, APaymentAfterExpiryIsRefundedWhenTheStockWasSoldMeanwhile) {
  // Two products: the first still plentiful, the second sold at the counter after expiry.
  const auto plenty = product("N6", 500, 10);
  const auto scarce = product("N7", 700, 2);
  ASSERT_LT(plenty, scarce) << "reserved in id order: the plentiful one first";
  const auto placed =
      order({{{"product_id", plenty}, {"quantity", 1}}, {{"product_id", scarce}, {"quantity", 2}}},
            "wechat", "wechat_native");
  ASSERT_EQ(placed.total, 1900);
  expire(placed.number);
  sell_at_counter(scarce, 700, "counter-1");

  const auto answer = notify_wechat(wechat_notice({.number = placed.number, .total = 1900}));
  EXPECT_EQ(answer.status, 200) << answer.body;
  const auto flagged = staff_view(placed.number);
  EXPECT_EQ(flagged["state"], "refunded")
      << "not restored: one of its goods is gone, so the money went back at once";
  EXPECT_EQ(flagged["paid_fen"], 1900) << "the money came and is on the books";
  EXPECT_EQ(flagged["refunded_fen"], 1900);
  ASSERT_TRUE(flagged.contains("attention"));
  EXPECT_NE(flagged["attention"].get<std::string>().find("refunded automatically"),
            std::string::npos);
  EXPECT_EQ(gateway->count("/v3/refund/domestic/refunds"), 1);
  EXPECT_EQ(verdicts(placed.number), "late");
  EXPECT_EQ(reserved(plenty), 0) << "nothing half-reserved for an order that stays expired";
  EXPECT_EQ(reserved(scarce), 0);
  expect_books_agree();

  // Also when another online order took the stock: a single-product order, flagged alike.
  const auto last = product("N8", 300, 1);
  const auto first = order({{{"product_id", last}, {"quantity", 1}}}, "alipay", "alipay_qr");
  expire(first.number);
  const auto second = order({{{"product_id", last}, {"quantity", 1}}}, "alipay", "alipay_qr");
  EXPECT_EQ(gateway->alipay_calls("alipay.trade.query"), 1) << "asked before it expired";
  EXPECT_EQ(gateway->alipay_calls("alipay.trade.close"), 0)
      << "a code nobody scanned has no trade to close: it died with the order's time";
  EXPECT_EQ(notify_alipay(alipay_notice({.number = first.number, .total = 300})).raw.payload(),
            "success");
  EXPECT_EQ(staff_view(first.number)["state"], "refunded");
  EXPECT_EQ(gateway->alipay_calls("alipay.trade.refund"), 1);
  EXPECT_EQ(staff_view(second.number)["state"], "pending_payment");
  EXPECT_EQ(reserved(last), 1) << "the second order's reservation only";
  expect_books_agree();
}

// P4: the customer starts WeChat's QR on the desktop, then opens the order on the phone (H5),
// then goes back to the desktop. Each channel gets its own trade (WeChat refuses one
// out_trade_no for two trade types), the other one closed first so only one can be paid; a
// retry of a channel keeps its trade. A payment of a trade closed too late is not booked twice:
// the order asks the staff to send it back.
TEST_F(PaymentNotifyTest, AnOrderStartedOnOneDeviceCanBePaidThroughAnotherChannelOnce) {
  const auto p = product("T1", 700, 10);
  const auto placed = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  const auto start = [&](const std::string& channel) {
    return api.call_json("POST",
                         "/api/v1/orders/" + placed.number + "/payment?token=" + placed.token, "",
                         {{"channel", channel}});
  };
  const auto trades = [&] {
    return text(
        "SELECT GROUP_CONCAT(CONCAT(out_trade_no, ':', channel, ':', state) ORDER BY id) "
        "FROM order_payments");
  };
  const auto phone = start("wechat_h5");
  ASSERT_EQ(phone.status, 200) << phone.body;
  EXPECT_EQ(phone.body["payment"]["channel"], "wechat_h5");
  EXPECT_TRUE(phone.body["payment"].contains("redirect_url")) << phone.body;
  EXPECT_EQ(gateway->count("/" + placed.number + "/close"), 1) << "the QR's trade closed first";
  EXPECT_EQ(start("wechat_h5").status, 200) << "a retry";
  EXPECT_EQ(gateway->starts(), (std::vector<std::string>{placed.number, placed.number + "-2"}))
      << "the retry keeps its trade";
  const auto desktop = start("wechat_native");
  ASSERT_EQ(desktop.status, 200) << desktop.body;
  EXPECT_EQ(desktop.body["payment"]["channel"], "wechat_native");
  EXPECT_EQ(trades(), placed.number + ":wechat_native:closed," + placed.number +
                          "-2:wechat_h5:closed," + placed.number + "-3:wechat_native:started");

  EXPECT_EQ(notify_wechat(wechat_notice({.number = placed.number + "-3", .total = 700})).status,
            200);
  auto view = staff_view(placed.number);
  EXPECT_EQ(view["state"], "paid");
  EXPECT_EQ(view["paid_fen"], 700);
  EXPECT_FALSE(view.contains("attention"));

  // The H5 trade was paid all the same (its close came too late): the goods are paid once,
  // and that second payment goes back through its own trade at once.
  const auto second_payment = wechat_notice({.number = placed.number + "-2",
                                             .total = 700,
                                             .transaction_id = "4200002026120299999999999999"});
  EXPECT_EQ(notify_wechat(second_payment).status, 200);
  view = staff_view(placed.number);
  EXPECT_EQ(view["state"], "paid");
  EXPECT_EQ(view["paid_fen"], 700) << "paid once";
  EXPECT_EQ(view["refunded_fen"], 0) << "the order's own payment is untouched";
  ASSERT_TRUE(view.contains("attention")) << view;
  const auto attention = view["attention"].get<std::string>();
  EXPECT_NE(attention.find(placed.number + "-2"), std::string::npos) << attention;
  EXPECT_NE(attention.find("sent back automatically"), std::string::npos) << attention;
  EXPECT_EQ(gateway->count("/v3/refund/domestic/refunds"), 1);
  EXPECT_EQ(text("SELECT GROUP_CONCAT(state ORDER BY id) FROM order_payments"),
            "closed,returned,paid");
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'order_payment'"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'surplus_payment'"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'surplus_return'"), 1);
  EXPECT_EQ(verdicts(placed.number + "-2"), "mismatch");
  expect_books_agree();

  // The provider sends the same notification again: one payment, one return.
  EXPECT_EQ(notify_wechat(second_payment).status, 200);
  EXPECT_EQ(verdicts(placed.number + "-2"), "mismatch,duplicate");
  EXPECT_EQ(gateway->count("/v3/refund/domestic/refunds"), 1);
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'surplus_payment'"), 1);
  EXPECT_EQ(orders->return_surplus_payments(50, 0), 0) << "nothing left to send back";
  expect_books_agree();

  // A staff refund of the order later refunds the order's own payment, through its own trade.
  const auto refund =
      api.call("POST", "/api/v1/orders/" + placed.number + "/refunds", "admin",
               json{{"all", true}, {"reason", "不要了"}}.dump(), {{"idempotency-key", "p4-all"}});
  ASSERT_EQ(refund.status, 201) << refund.body;
  EXPECT_EQ(staff_view(placed.number)["refunded_fen"], 700);
  EXPECT_EQ(gateway->refund_asks(),
            (std::vector<std::string>{placed.number + "-2:" + placed.number + "-2-D",
                                      placed.number + "-3:" + placed.number + "-R1"}))
      << "each payment back through its own trade";
  expect_books_agree();
}

// A second payment whose return finds the provider unreachable stays held on the books and is
// sent back by the sweep once it answers (the same out_refund_no); one the provider refuses
// (balance short) is held, told to the staff (the provider's words not to the customer) and
// asked again hourly; a note of the staff's about something else is never overwritten.
TEST_F(PaymentNotifyTest, ASecondPaymentIsSentBackByTheSweepAndARefusedOneAskedAgainHourly) {
  const auto p = product("T2", 600, 10);
  const auto pay_twice = [&](const std::string& first_channel) {
    const auto placed = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", first_channel);
    const auto other = first_channel == "wechat_native" ? "wechat_h5" : "wechat_native";
    const auto started =
        api.call_json("POST", "/api/v1/orders/" + placed.number + "/payment?token=" + placed.token,
                      "", {{"channel", other}});
    EXPECT_EQ(started.status, 200) << started.body;
    EXPECT_EQ(notify_wechat(wechat_notice({.number = placed.number + "-2", .total = 600})).status,
              200);
    return placed;
  };
  const auto held = [&] {
    return scalar(
        "SELECT -COALESCE(SUM(p.amount_fen), 0) FROM postings p JOIN ledger_accounts a "
        "ON a.id = p.account_id WHERE a.code = 'order_refunds_due'");
  };

  const auto slow = pay_twice("wechat_native");
  gateway->set_refunds_unreachable(slow.number, true);
  EXPECT_EQ(notify_wechat(wechat_notice({.number = slow.number, .total = 600})).status, 200);
  EXPECT_EQ(staff_view(slow.number)["paid_fen"], 600);
  EXPECT_EQ(text("SELECT state FROM order_payments WHERE out_trade_no = '" + slow.number + "'"),
            "surplus");
  EXPECT_EQ(held(), 600) << "held for refund until it went back";
  expect_books_agree();
  EXPECT_EQ(orders->return_surplus_payments(50, 0), 0) << "still unreachable";
  EXPECT_EQ(scalar("SELECT return_attempts FROM order_payments WHERE out_trade_no = '" +
                   slow.number + "'"),
            2);
  gateway->set_refunds_unreachable(slow.number, false);
  EXPECT_EQ(orders->return_surplus_payments(50, 3600), 0) << "asked again only when idle";
  EXPECT_EQ(orders->return_surplus_payments(50, 0), 1);
  EXPECT_EQ(text("SELECT state FROM order_payments WHERE out_trade_no = '" + slow.number + "'"),
            "returned");
  EXPECT_EQ(held(), 0);
  EXPECT_EQ(orders->return_surplus_payments(50, 0), 0);
  EXPECT_EQ(gateway->count("/v3/refund/domestic/refunds"), 3) << "two timed out, one made";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'surplus_return'"), 1);
  expect_books_agree();

  // Refused (the merchant's balance is short): held, the staff told, asked again hourly.
  const auto refused = pay_twice("wechat_native");
  gateway->refuse_refunds(refused.number);
  EXPECT_EQ(notify_wechat(wechat_notice({.number = refused.number, .total = 600})).status, 200);
  auto view = staff_view(refused.number);
  EXPECT_EQ(view["state"], "paid");
  ASSERT_TRUE(view.contains("attention")) << view;
  EXPECT_NE(view["attention"].get<std::string>().find("refused"), std::string::npos)
      << view["attention"];
  EXPECT_EQ(text("SELECT CONCAT(state, ':', return_failure IS NOT NULL) FROM order_payments "
                 "WHERE out_trade_no = '" +
                 refused.number + "'"),
            "surplus:1");
  EXPECT_EQ(held(), 600) << "still held";
  expect_books_agree();
  const auto customer =
      api.call("GET", "/api/v1/orders/" + refused.number + "?token=" + refused.token, "");
  EXPECT_EQ(customer.body.dump().find("NOT_ENOUGH"), std::string::npos)
      << "the provider's words are for the staff";
  EXPECT_NE(customer.body.dump().find("正在原路退回"), std::string::npos) << customer.body;
  EXPECT_EQ(orders->return_surplus_payments(50, 0), 0) << "not asked again within the hour";
  EXPECT_EQ(gateway->count("/v3/refund/domestic/refunds"), 4);
  // An hour later the balance was topped up: sent back, and the staff's note says so.
  gateway->refuse_refunds(refused.number, false);
  scalar(
      "UPDATE order_payments SET return_asked_at = UTC_TIMESTAMP(6) - INTERVAL 2 HOUR "
      "WHERE out_trade_no = '" +
      refused.number + "'");
  EXPECT_EQ(orders->return_surplus_payments(50, 0), 1);
  view = staff_view(refused.number);
  EXPECT_NE(view["attention"].get<std::string>().find("sent back automatically"), std::string::npos)
      << view["attention"];
  EXPECT_EQ(held(), 0);
  expect_books_agree();

  // Refused, and the staff sent it back by hand in the merchant console: an admin records it.
  const auto by_hand = pay_twice("wechat_native");
  gateway->refuse_refunds(by_hand.number);
  EXPECT_EQ(notify_wechat(wechat_notice({.number = by_hand.number, .total = 600})).status, 200);
  view = staff_view(by_hand.number);
  ASSERT_EQ(view["surplus_payments"].size(), 1u) << view;
  EXPECT_EQ(view["surplus_payments"][0]["out_trade_no"], by_hand.number);
  EXPECT_EQ(view["surplus_payments"][0]["state"], "surplus");
  EXPECT_EQ(view["surplus_payments"][0]["amount_fen"], 600);
  EXPECT_TRUE(view["surplus_payments"][0]["failure"].is_string()) << view;
  EXPECT_EQ(held(), 600);
  const auto record = [&](const json& body, const std::string& as = "admin") {
    return api.call_json("POST", "/api/v1/orders/" + by_hand.number + "/surplus-returned", as,
                         body);
  };
  EXPECT_EQ(record({{"out_trade_no", by_hand.number}, {"note", "已退"}}, "cashier1").status, 403);
  for (const auto& [body, field] : std::vector<std::pair<json, std::string>>{
           {{{"out_trade_no", by_hand.number}}, "note"},
           {{{"out_trade_no", by_hand.number}, {"note", ""}}, "note"},
           {{{"out_trade_no", "W20260101-000001"}, {"note", "已退"}}, "out_trade_no"},
           {{{"out_trade_no", 5}, {"note", "已退"}}, "out_trade_no"}}) {
    const auto refused_input = record(body);
    EXPECT_EQ(refused_input.status, 422) << body << refused_input.body;
    EXPECT_EQ(refused_input.body["error"]["details"]["field"], field) << refused_input.body;
  }
  const auto not_held = record({{"out_trade_no", by_hand.number + "-2"}, {"note", "已退"}});
  EXPECT_EQ(not_held.status, 409) << not_held.body;
  EXPECT_EQ(not_held.body["error"]["details"]["state"], "paid");
  EXPECT_EQ(held(), 600) << "nothing changed by the refused requests";
  // Two admins record it at once: both answered, booked once (the order's lock).
  auto twin = std::async(std::launch::async, [&] {
    return record({{"out_trade_no", by_hand.number}, {"note", "商户平台已退 12/7"}});
  });
  const auto recorded = record({{"out_trade_no", by_hand.number}, {"note", "商户平台已退 12/7"}});
  const auto twin_answer = twin.get();
  ASSERT_EQ(recorded.status, 200) << recorded.body;
  ASSERT_EQ(twin_answer.status, 200) << twin_answer.body;
  EXPECT_EQ(recorded.body["surplus_payments"][0]["state"], "returned");
  EXPECT_FALSE(recorded.body.contains("attention")) << "our note about it is done";
  EXPECT_EQ(held(), 0);
  expect_books_agree();
  EXPECT_EQ(record({{"out_trade_no", by_hand.number}, {"note", "商户平台已退 12/7"}}).status, 200)
      << "a repeat answers the order as it is";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'surplus_return' AND "
                   "memo LIKE '%manual'"),
            1);
  gateway->refuse_refunds(by_hand.number, false);
  scalar("UPDATE order_payments SET return_asked_at = UTC_TIMESTAMP(6) - INTERVAL 2 HOUR");
  EXPECT_EQ(orders->return_surplus_payments(50, 0), 0) << "the sweep no longer asks";
  const auto customer_view =
      api.call("GET", "/api/v1/orders/" + by_hand.number + "?token=" + by_hand.token, "");
  EXPECT_FALSE(customer_view.body.contains("surplus_payments"));
  EXPECT_EQ(customer_view.body.dump().find("商户平台已退"), std::string::npos)
      << "the staff's note stays with the staff";
  expect_books_agree();

  // A note about something else is not overwritten by any of it.
  const auto noted = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  EXPECT_EQ(
      api.call_json("POST", "/api/v1/orders/" + noted.number + "/payment?token=" + noted.token, "",
                    {{"channel", "wechat_h5"}})
          .status,
      200);
  EXPECT_EQ(notify_wechat(wechat_notice({.number = noted.number + "-2", .total = 600})).status,
            200);
  scalar("UPDATE orders SET attention = '另一件事 / something else' WHERE number = '" +
         noted.number + "'");
  EXPECT_EQ(notify_wechat(wechat_notice({.number = noted.number, .total = 600})).status, 200);
  EXPECT_EQ(staff_view(noted.number)["attention"], "另一件事 / something else");
  EXPECT_EQ(text("SELECT state FROM order_payments WHERE out_trade_no = '" + noted.number + "'"),
            "returned");
  expect_books_agree();
}

// P4: a start the provider refuses outright (an error code, not a timeout) is a 409 naming the
// channel, not 503 "try again"; the refused trade is not asked for again.
TEST_F(PaymentNotifyTest, AStartTheProviderRefusesIsAConflictNotTryAgain) {
  const auto p = product("T2", 500, 10);
  const auto placed = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  // WeChat already holds the next trade number as another trade type (as a start through the
  // order's first number did before each trade had its own).
  const auto taken = placed.number + "-2";
  gateway->on_h5 = nullptr;
  payments::PaymentRequest first;
  first.out_trade_no = taken;
  first.amount = domain::Fen(500);
  first.description = "x";
  first.channel = payments::Channel::wechat_native;
  ASSERT_TRUE(wechat->start(first).qr_content.has_value());
  const auto refused =
      api.call_json("POST", "/api/v1/orders/" + placed.number + "/payment?token=" + placed.token,
                    "", {{"channel", "wechat_h5"}});
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.body["error"]["details"]["field"], "channel") << refused.body;
  EXPECT_EQ(text("SELECT state FROM order_payments WHERE out_trade_no = '" + taken + "'"),
            "closed");
  const auto again =
      api.call_json("POST", "/api/v1/orders/" + placed.number + "/payment?token=" + placed.token,
                    "", {{"channel", "wechat_h5"}});
  EXPECT_EQ(again.status, 200) << "a new trade: " << again.body;
}

// P10: the trade is recorded before the provider is asked. A start that times out leaves a row
// the sweep and a retry find (the retry asks for the same trade); a cancel while the provider
// is asked closes the trade once it exists.
TEST_F(PaymentNotifyTest, ATradeIsRecordedBeforeItIsAskedForSoNoneIsLost) {
  const auto p = product("T3", 400, 10);
  const auto placed = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  const auto h5 = placed.number + "-2";
  gateway->set_unreachable(h5, true);
  const auto timed_out =
      api.call_json("POST", "/api/v1/orders/" + placed.number + "/payment?token=" + placed.token,
                    "", {{"channel", "wechat_h5"}});
  EXPECT_EQ(timed_out.status, 503) << timed_out.body;
  EXPECT_EQ(text("SELECT state FROM order_payments WHERE out_trade_no = '" + h5 + "'"), "started")
      << "the server knows the trade it asked for";
  gateway->set_unreachable(h5, false);
  const auto retried =
      api.call_json("POST", "/api/v1/orders/" + placed.number + "/payment?token=" + placed.token,
                    "", {{"channel", "wechat_h5"}});
  ASSERT_EQ(retried.status, 200) << retried.body;
  EXPECT_TRUE(retried.body["payment"].contains("redirect_url")) << retried.body;
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM order_payments"), 2)
      << "the retry asks for the same trade";

  // The customer cancels on another device while the provider is asked.
  const auto racing = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  gateway->on_h5 = [&](const std::string& number) {
    if (number != racing.number + "-2") return;
    EXPECT_EQ(api.call("POST", "/api/v1/orders/" + racing.number + "/cancel?token=" + racing.token)
                  .status,
              200);
  };
  api.call_json("POST", "/api/v1/orders/" + racing.number + "/payment?token=" + racing.token, "",
                {{"channel", "wechat_h5"}});
  gateway->on_h5 = nullptr;
  EXPECT_EQ(staff_view(racing.number)["state"], "cancelled");
  EXPECT_GE(gateway->count("/" + racing.number + "-2/close"), 1)
      << "the trade made after the cancel is closed";
  EXPECT_EQ(text("SELECT state FROM order_payments WHERE out_trade_no = '" + racing.number + "-2'"),
            "closed");
}

// P10: a verified payment whose out_trade_no names one of our orders but no trade we recorded
// is not only logged: the order asks the staff (the money must go back).
TEST_F(PaymentNotifyTest, AVerifiedPaymentOfAnUnrecordedTradeOfAnOrderAsksTheStaff) {
  const auto p = product("T4", 300, 10);
  const auto placed = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  scalar("DELETE FROM order_payments");  // as a start before this fix could leave it
  ASSERT_EQ(
      api.call("POST", "/api/v1/orders/" + placed.number + "/cancel?token=" + placed.token).status,
      200);
  EXPECT_EQ(notify_wechat(wechat_notice({.number = placed.number, .total = 300})).status, 200);
  EXPECT_EQ(verdicts(placed.number), "mismatch");
  const auto view = staff_view(placed.number);
  EXPECT_EQ(view["state"], "cancelled");
  EXPECT_EQ(view["paid_fen"], 0);
  ASSERT_TRUE(view.contains("attention")) << view;
  EXPECT_NE(view["attention"].get<std::string>().find(placed.number), std::string::npos);
  EXPECT_EQ(api.call("GET", "/api/v1/orders?attention=true", "admin").body["total"], 1);
}

// Probe 2, P13: an order past its time, not yet moved by the sweep (every 20 s), got a new trade.
TEST_F(PaymentNotifyTest, AnOrderPastItsTimeStartsNoNewTradeBeforeTheSweepExpiresIt) {
  const auto p = product("T9", 500, 3);
  const auto placed = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  const auto asked = gateway->starts();
  scalar("UPDATE orders SET expires_at = UTC_TIMESTAMP(6) - INTERVAL 1 SECOND WHERE number = '" +
         placed.number + "'");
  const auto late =
      api.call_json("POST", "/api/v1/orders/" + placed.number + "/payment?token=" + placed.token,
                    "", {{"channel", "wechat_h5"}});
  EXPECT_EQ(late.status, 409) << late.body;
  EXPECT_EQ(late.body["error"]["code"], "invalid_state");
  EXPECT_EQ(late.body["error"]["details"]["state"], "expired");
  EXPECT_EQ(gateway->starts(), asked) << "the provider was not asked";
}

// The payments reconciliation (对账) lists every movement through a provider's clearing account
// with our trade number and the provider's, so that the manager can tick off the provider's
// statement: an order paid, a second payment and its return, a refund, an Alipay payment and a
// sale on the station's own WeChat QR; cash is not there. Its net is what the books hold at the
// providers, and a day outside the period lists nothing.
TEST_F(PaymentNotifyTest, ThePaymentsReconciliationListsEveryMovementWithItsTradeNumbers) {
  const auto p = product("RC1", 700, 10);
  const auto paid = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  ASSERT_EQ(notify_wechat(wechat_notice({.number = paid.number, .total = 700})).status, 200);
  // The same order paid again through a trade started on a phone before (as in P4): sent back.
  scalar(
      "INSERT INTO order_payments (order_id, provider, channel, out_trade_no, amount_fen) "
      "SELECT id, 'wechat', 'wechat_h5', CONCAT(number, '-2'), 700 FROM orders WHERE number = '" +
      paid.number + "'");
  ASSERT_EQ(notify_wechat(wechat_notice({.number = paid.number + "-2",
                                         .total = 700,
                                         .transaction_id = "4200002026120299999999999999"}))
                .status,
            200);
  const auto refund =
      api.call("POST", "/api/v1/orders/" + paid.number + "/refunds", "admin",
               json{{"all", true}, {"reason", "不要了"}}.dump(), {{"idempotency-key", "rc-all"}});
  ASSERT_EQ(refund.status, 201) << refund.body;
  const auto by_alipay = order({{{"product_id", p}, {"quantity", 2}}}, "alipay", "alipay_qr");
  ASSERT_EQ(notify_alipay(alipay_notice({.number = by_alipay.number, .total = 1400})).status, 200);
  ASSERT_EQ(api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                          {{"register", "柜台1"}, {"float_fen", 0}})
                .status,
            201);
  for (const char* method : {"wechat", "cash"}) {
    json tender = {{"method", method}, {"amount_fen", 700}};
    const json sale = {{"lines", {{{"product_id", p}, {"quantity", 1}}}}, {"tenders", {tender}}};
    const auto sold = api.call("POST", "/api/v1/pos/sales", "cashier1", sale.dump(),
                               {{"idempotency-key", std::string("rc-sale-") + method}});
    ASSERT_EQ(sold.status, 201) << sold.body;
  }
  expect_books_agree();

  const auto report = api.call("GET", "/api/v1/reports/payments", "admin");
  ASSERT_EQ(report.status, 200) << report.body;
  std::vector<std::string> seen;
  for (const auto& item : report.body["items"])
    seen.push_back(item["kind"].get<std::string>() + " " + item["provider"].get<std::string>() +
                   "/" + item["method"].get<std::string>() + " " +
                   std::to_string(item["amount_fen"].get<std::int64_t>()) + " " +
                   item["document"].get<std::string>() + " [" +
                   item["trade_no"].get<std::string>() + "] [" +
                   item["transaction_id"].get<std::string>() + "]");
  const std::string sale_number = text(
      "SELECT number FROM sales s JOIN sale_tenders t ON "
      "t.sale_id = s.id WHERE t.method = 'wechat'");
  EXPECT_EQ(
      seen,
      (std::vector<std::string>{
          "order_payment wechat/wechat 700 " + paid.number + " [" + paid.number +
              "] [4200002026120212345678901234]",
          "surplus_payment wechat/wechat 700 " + paid.number + " [" + paid.number +
              "-2] [4200002026120299999999999999]",
          "surplus_return wechat/wechat -700 " + paid.number + " [" + paid.number + "-2-D] []",
          "order_refund wechat/wechat -700 " + paid.number + " [" + paid.number + "-R1] [" +
              text("SELECT COALESCE(provider_refund_id, '') FROM order_refunds") + "]",
          "order_payment alipay/alipay 1400 " + by_alipay.number + " [" + by_alipay.number +
              "] [2026120222001400000000000001]",
          "sale wechat/wechat 700 " + sale_number + " [] []"}))
      << report.body.dump(1);
  EXPECT_EQ(report.body["received_fen"], 700 + 700 + 1400 + 700);
  EXPECT_EQ(report.body["refunded_fen"], 1400);
  EXPECT_EQ(report.body["received_count"], 4);
  EXPECT_EQ(report.body["refunded_count"], 2);
  // What the books hold at the providers: the clearing accounts' balances.
  EXPECT_EQ(report.body["net_fen"],
            scalar("SELECT SUM(p.amount_fen) FROM postings p JOIN ledger_accounts a ON "
                   "a.id = p.account_id WHERE a.code LIKE 'tender\\_clearing:%'"));
  ASSERT_EQ(report.body["providers"].size(), 2u) << report.body;
  EXPECT_EQ(report.body["providers"][0]["provider"], "alipay");
  EXPECT_EQ(report.body["providers"][0]["net_fen"], 1400);
  EXPECT_EQ(report.body["providers"][1]["provider"], "wechat");
  EXPECT_EQ(report.body["providers"][1]["received_fen"], 2100);
  EXPECT_EQ(report.body["providers"][1]["net_fen"], 700);
  ASSERT_EQ(report.body["days"].size(), 2u);
  EXPECT_EQ(report.body["days"][1]["business_day"], report.body["to"]);
  EXPECT_EQ(report.body["days"][1]["net_fen"], 700);

  const auto alipay_only = api.call("GET", "/api/v1/reports/payments?provider=alipay", "admin");
  ASSERT_EQ(alipay_only.status, 200);
  EXPECT_EQ(alipay_only.body["provider"], "alipay");
  ASSERT_EQ(alipay_only.body["items"].size(), 1u);
  EXPECT_EQ(alipay_only.body["net_fen"], 1400);

  const auto today = report.body["to"].get<std::string>();
  const auto yesterday = domain::format_iso_date(std::chrono::year_month_day{
      std::chrono::sys_days(*domain::parse_iso_date(today)) - std::chrono::days(1)});
  EXPECT_EQ(
      api.call("GET", "/api/v1/reports/payments?from=2026-01-01&to=2026-01-31", "admin").status,
      200)
      << "31 days: a month";
  const auto before =
      api.call("GET", "/api/v1/reports/payments?from=" + yesterday + "&to=" + yesterday, "admin");
  ASSERT_EQ(before.status, 200);
  EXPECT_TRUE(before.body["items"].empty()) << before.body;
  EXPECT_EQ(before.body["net_fen"], 0);

  const auto csv = api.call("GET", "/api/v1/reports/payments?format=csv", "admin");
  ASSERT_EQ(csv.status, 200);
  const auto body = csv.raw.payload();
  EXPECT_TRUE(body.starts_with("\xEF\xBB\xBF")) << "a BOM for Excel";
  EXPECT_NE(body.find(paid.number + "-2-D"), std::string::npos) << body;
  EXPECT_NE(body.find("重复付款退回"), std::string::npos) << body;
  EXPECT_NE(body.find("合计 Total"), std::string::npos) << body;
  std::size_t lines = 0;
  for (char c : body)
    lines += c == '\n';
  EXPECT_EQ(lines, 1u + 6u + 2u + 1u) << "header, movements, a subtotal per provider, the total";

  for (const auto& [query, field] : std::vector<std::pair<std::string, std::string>>{
           {"provider=cash", "provider"},
           {"provider=WECHAT", "provider"},
           {"from=2026-13-01", "from"},
           {"from=" + today + "&to=" + yesterday, "from"},
           {"from=2026-01-01&to=2026-02-01", "from"},  // 32 days: at most a month
           {"format=xml", "format"}}) {
    const auto bad = api.call("GET", "/api/v1/reports/payments?" + query, "admin");
    EXPECT_EQ(bad.status, 422) << query << ": " << bad.body;
    EXPECT_EQ(bad.body["error"]["details"]["field"], field) << query << ": " << bad.body;
  }
  EXPECT_EQ(api.call("GET", "/api/v1/reports/payments", "cashier1").status, 403);
  EXPECT_EQ(api.call("GET", "/api/v1/reports/payments", "").status, 401);
}

// An order whose customer switched channels until the last trade it may have keeps that trade
// open when asked for yet another channel: its code still pays, and asking its channel again
// shows it (a probe found the 10th switch closing it first, leaving the order unpayable).
TEST_F(PaymentNotifyTest, PastTheLastTradeAnotherChannelLeavesTheOpenTradeToPay) {
  const auto p = product("LT1", 500, 5);
  const auto placed = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  const auto start = [&](const std::string& channel) {
    return api.call_json("POST",
                         "/api/v1/orders/" + placed.number + "/payment?token=" + placed.token, "",
                         {{"channel", channel}});
  };
  for (int trade = 2; trade <= domain::kMaxTradesPerOrder; ++trade) {
    const auto started = start(trade % 2 == 0 ? "alipay_qr" : "wechat_native");
    ASSERT_EQ(started.status, 200) << trade << ": " << started.body;
  }
  const std::string last = domain::trade_number(placed.number, domain::kMaxTradesPerOrder);
  const auto last_channel = domain::kMaxTradesPerOrder % 2 == 0 ? "alipay_qr" : "wechat_native";
  const auto other_channel = domain::kMaxTradesPerOrder % 2 == 0 ? "wechat_native" : "alipay_qr";
  const auto open_trades = [&] {
    return text("SELECT GROUP_CONCAT(out_trade_no) FROM order_payments WHERE state = 'started'");
  };
  ASSERT_EQ(open_trades(), last);
  const auto closes = gateway->count("/close") + gateway->alipay_calls("alipay.trade.close");

  const auto refused = start(other_channel);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.body["error"]["details"]["field"], "channel") << refused.body;
  EXPECT_EQ(open_trades(), last) << "the open trade stays open";
  EXPECT_EQ(gateway->count("/close") + gateway->alipay_calls("alipay.trade.close"), closes)
      << "nothing was closed at the provider";

  const auto again = start(last_channel);
  ASSERT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(again.body["payment"]["channel"], last_channel);
  if (std::string(last_channel) == "alipay_qr") {
    EXPECT_EQ(notify_alipay(alipay_notice({.number = last, .total = 500})).status, 200);
  } else {
    EXPECT_EQ(notify_wechat(wechat_notice({.number = last, .total = 500})).status, 200);
  }
  EXPECT_EQ(staff_view(placed.number)["state"], "paid");
  expect_books_agree();
}

// The customer pays, the notification is still on its way, and the customer taps cancel: the
// server asks the provider first, finds the money taken and pays the order; the cancel answers
// 409 (paid: the station refunds it) instead of "cancelled" with the money held (a probe saw the
// order quietly restored by the sweep half a minute after the customer was told it was off).
TEST_F(PaymentNotifyTest, ACancelOfAnOrderPaidAMomentAgoPaysItAndSaysSo) {
  const auto p = product("CP1", 800, 5);
  const auto paid = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  gateway->script_trade(paid.number,
                        wechat_transaction({.number = paid.number, .total = 800}, Clock::now()));
  const auto cancel = [&](const std::string& number, const std::string& token) {
    return api.call("POST", "/api/v1/orders/" + number + "/cancel?token=" + token, "", "{}");
  };
  const auto refused = cancel(paid.number, paid.token);
  EXPECT_EQ(refused.status, 409) << refused.body;
  EXPECT_EQ(refused.body["error"]["code"], "invalid_state") << refused.body;
  EXPECT_EQ(refused.body["error"]["details"]["state"], "paid") << refused.body;
  const auto view = staff_view(paid.number);
  EXPECT_EQ(view["state"], "paid");
  EXPECT_EQ(view["paid_fen"], 800);
  EXPECT_FALSE(view.contains("attention")) << view;
  EXPECT_EQ(reserved(p), 1) << "still held for the customer";
  EXPECT_EQ(gateway->count("/" + paid.number + "/close"), 0) << "a paid trade is not closed";
  EXPECT_EQ(scalar("SELECT COUNT(*) FROM journal_entries WHERE kind = 'order_payment'"), 1);
  expect_books_agree();

  // Not paid: the trade is closed at the provider and marked closed, then the order cancelled.
  const auto unpaid = order({{{"product_id", p}, {"quantity", 2}}}, "wechat", "wechat_native");
  const auto cancelled = cancel(unpaid.number, unpaid.token);
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(cancelled.body["state"], "cancelled");
  EXPECT_EQ(text("SELECT state FROM order_payments WHERE out_trade_no = '" + unpaid.number + "'"),
            "closed");
  EXPECT_GE(gateway->count("/" + unpaid.number + "/close"), 1);
  EXPECT_EQ(reserved(p), 1);
  // With a wrong token nothing is asked of the provider.
  const auto stranger = order({{{"product_id", p}, {"quantity", 1}}}, "wechat", "wechat_native");
  EXPECT_EQ(cancel(stranger.number, unpaid.token).status, 404);
  EXPECT_EQ(gateway->count("/" + stranger.number + "/close"), 0);
  expect_books_agree();
}
