// Alipay: the Node SDK's published notification vector byte for byte, request signing and the
// signed response node, and the provider against a scripted transport.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <nlohmann/json.hpp>

#include "support/scripted_transport.hpp"
#include "yizhan/payments/alipay_protocol.hpp"
#include "yizhan/payments/form.hpp"
#include "yizhan/payments/transport.hpp"

namespace yizhan::payments {
namespace {

using nlohmann::json;
using test_support::ScriptedTransport;

// alipay/alipay-sdk-nodejs-all test/alipay.test.js, "without sign_type arguments verify success".
constexpr const char* kNotifyPublicKey =
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAqObrdC7hrgAVM98tK0nv3hSQRGGKT4lBsQjHiGjeYZjOPIPHR5"
    "knm2jnnz/YGIXIofVHkA/tAlBAd5DrY7YpvI4tP5EONLtZKC2ghBMx7McI2wRD0xiqzxOQr1FuhZGJ8/AUokBzJrzY+aG"
    "X2xcOrxFYRlFilvVLTXg4LWjR1tdPkO6+i7wQZAIVMClPkwVRZEbaERRHlKqTzv2gGv5rDU8gRoe1LeaN+6BlbTqHWkQ"
    "cNCUNrA8C6l17XAXGKDsm/9TFWwO8EPHHHCaQdjtV5/FdcWIt+L8SR1ss7EXTjYDFtxcKVv9rEoY1lX8T4mX+GbXfZH"
    "raG5NCF1+XioL5JwIDAQAB";

std::map<std::string, std::string> published_notification() {
  return {
      {"gmt_create", "2019-08-15 15:56:22"},
      {"charset", "utf-8"},
      {"seller_email", "z97-yuquerevenue@service.aliyun.com"},
      {"subject", "语雀空间 500人规模"},
      {"sign",
       "QfTb8tqE1BMhS5qAnXtvsF3/jBkEvu9q9en0pdbBUDDjvKycZhQb7h8GDs4FKfi049PynaNuatxSgLb/nLWZpXyyh0L"
       "EWdK2S6Ri7nPwrVgOs08zugLO20vOQz44y3ti2Ncm8/wZts1Fr2gZ7pShnVX3d1B50hbsXnObT1r/U8ONNQjWXd0HIu"
       "l4TG+Q3fm3svmSvFEy0WnzuhcyHPX5Gm4ELNctL6Qd5YniGJFNcc7kopHYtI/XD9YCKCH6Ct02rzUs9i11C9CsadtZ"
       "n+WhxF26Dqt9sGEFajkJ8cxUTLi8+VCpLHsgPE8P0y095uQcDdK0YjCh4x7wVSov+lrmOQ=="},
      {"buyer_id", "2088102534368455"},
      {"invoice_amount", "0.10"},
      {"notify_id", "2019081500222155624068450559358070"},
      {"fund_bill_list", R"([{"amount":"0.10","fundChannel":"ALIPAYACCOUNT"}])"},
      {"notify_type", "trade_status_sync"},
      {"trade_status", "TRADE_SUCCESS"},
      {"receipt_amount", "0.10"},
      {"buyer_pay_amount", "0.10"},
      {"sign_type", "RSA2"},
      {"app_id", "2019073166072302"},
      {"seller_id", "2088531891668739"},
      {"gmt_payment", "2019-08-15 15:56:24"},
      {"notify_time", "2019-08-15 15:56:25"},
      {"version", "1.0"},
      {"out_trade_no", "20190815155618536-564-57"},
      {"total_amount", "0.10"},
      {"trade_no", "2019081522001468450512505578"},
      {"auth_app_id", "2019073166072302"},
      {"buyer_logon_id", "xud***@126.com"},
      {"point_amount", "0.00"}};
}

TEST(AlipayVectors, PublishedNotificationVerifiesWithoutSignAndSignType) {
  const PublicKey key = PublicKey::parse(kNotifyPublicKey);
  EXPECT_TRUE(alipay::verify_notification(published_notification(), key));
  // Kept in the signed string, sign_type breaks it: the rule is to leave it out.
  const auto fields = published_notification();
  EXPECT_FALSE(key.verify_sha256(alipay::sign_content(fields, false), fields.at("sign")));
}

TEST(AlipayVectors, TamperedNotificationFails) {
  const PublicKey key = PublicKey::parse(kNotifyPublicKey);
  auto fields = published_notification();
  fields["total_amount"] = "100.10";
  EXPECT_FALSE(alipay::verify_notification(fields, key));
  fields = published_notification();
  fields["sign"][5] = fields["sign"][5] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(alipay::verify_notification(fields, key));
  fields = published_notification();
  fields.erase("sign");
  EXPECT_FALSE(alipay::verify_notification(fields, key));
}

TEST(AlipayMessages, SignContentSortsAndSkipsSignAndEmptyValues) {
  const std::map<std::string, std::string> fields = {
      {"b", "2"}, {"a", "1"}, {"sign", "x"}, {"sign_type", "RSA2"}, {"empty", ""}};
  EXPECT_EQ(alipay::sign_content(fields, false), "a=1&b=2&sign_type=RSA2");
  EXPECT_EQ(alipay::sign_content(fields, true), "a=1&b=2");
}

TEST(AlipayMessages, SignedRequestVerifiesWithTheAppPublicKey) {
  const PrivateKey app = generate_rsa_key();
  auto fields = alipay::signed_request(app, "2021000000000001", "alipay.trade.query",
                                       R"({"out_trade_no":"A1"})", "", "",
                                       Clock::time_point(std::chrono::seconds(1764679363)));
  EXPECT_EQ(fields["timestamp"], "2025-12-02 20:42:43");
  EXPECT_EQ(fields["sign_type"], "RSA2");
  EXPECT_EQ(fields.count("notify_url"), 0u);
  const PublicKey app_public = PublicKey::parse(app.public_key_pem());
  EXPECT_TRUE(alipay::verify_request(fields, app_public));
  fields["biz_content"] = R"({"out_trade_no":"A2"})";
  EXPECT_FALSE(alipay::verify_request(fields, app_public));
}

TEST(AlipayMessages, SignedNodeIsTakenExactlyAsSent) {
  const std::string body =
      R"({"alipay_trade_query_response":{"code":"10000","msg":"Success","x":"}\"{"} , "sign":"c2lnbg=="})";
  const auto node = alipay::find_signed_node(body, "alipay.trade.query");
  ASSERT_TRUE(node);
  EXPECT_EQ(node->node, R"({"code":"10000","msg":"Success","x":"}\"{"})");
  EXPECT_EQ(node->sign, "c2lnbg==");
  const auto error = alipay::find_signed_node(
      R"({"error_response":{"code":"40002","msg":"Invalid Arguments"}})", "alipay.trade.query");
  ASSERT_TRUE(error);
  EXPECT_EQ(error->sign, "");
  EXPECT_EQ(alipay::find_signed_node("{}", "alipay.trade.query"), std::nullopt);
}

TEST(AlipayMessages, OnlySuccessAndFinishedArePaid) {
  using S = PaymentState::State;
  EXPECT_EQ(alipay::state_of("TRADE_SUCCESS"), S::paid);
  EXPECT_EQ(alipay::state_of("TRADE_FINISHED"), S::paid);
  EXPECT_EQ(alipay::state_of("WAIT_BUYER_PAY"), S::not_paid);
  EXPECT_EQ(alipay::state_of("TRADE_CLOSED"), S::closed);
  EXPECT_EQ(alipay::state_of("TRADE_PENDING"), std::nullopt);
}

TEST(AlipayMessages, AmountsAreReadOnlyAsAlipayWritesThem) {
  EXPECT_EQ(alipay::parse_amount("22.80"), domain::Fen(2280));
  EXPECT_EQ(alipay::parse_amount("0.05"), domain::Fen(5));
  EXPECT_EQ(alipay::parse_amount("100000.00"), domain::Fen(10000000));
  for (const char* lenient : {"+22.80", "022.80", "22.8", "22", " 22.80", "22.80 ", "-22.80",
                              "22.800", "2e1", "", "0x16.80", "22,80", "９.00"})
    EXPECT_FALSE(alipay::parse_amount(lenient)) << lenient;
}

TEST(Form, EncodesDecodesAndParses) {
  EXPECT_EQ(url_encode("a b+c/中"), "a%20b%2Bc%2F%E4%B8%AD");
  EXPECT_EQ(url_decode("a+b%2Bc"), "a b+c");
  EXPECT_EQ(url_decode("%G1"), std::nullopt);
  EXPECT_EQ(url_decode("%4"), std::nullopt);
  const auto form = parse_form("a=1&b=x%20y&&c=");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->size(), 3u);
  EXPECT_EQ((*form)[1].second, "x y");
  EXPECT_EQ(parse_form("=1"), std::nullopt);
  const auto url = parse_url("http://127.0.0.1:8089/gateway.do?x=1");
  ASSERT_TRUE(url);
  EXPECT_FALSE(url->tls);
  EXPECT_EQ(url->port, "8089");
  EXPECT_EQ(url->target, "/gateway.do?x=1");
  EXPECT_EQ(parse_url("https://openapi.alipay.com")->target, "/");
  EXPECT_EQ(parse_url("ftp://x"), std::nullopt);
}

// --- the provider against a scripted transport -------------------------------------------------

class AlipayProvider : public ::testing::Test {
 protected:
  void SetUp() override {
    settings.gateway_url = "https://openapi.example.test/gateway.do";
    settings.app_id = "2021000000000001";
    settings.seller_id = "2088000000000001";
    settings.app_private_key = app().pem();
    settings.alipay_public_key = alipay_key().public_key_pem();
    settings.notify_url = "https://shop.example.test/api/v1/payments/alipay/notify";
    settings.return_url = "https://shop.example.test/order.html";
    transport = std::make_shared<ScriptedTransport>();
    provider = make_alipay(settings, transport);
  }
  static const PrivateKey& app() {
    static const PrivateKey key = generate_rsa_key();
    return key;
  }
  static const PrivateKey& alipay_key() {
    static const PrivateKey key = generate_rsa_key();
    return key;
  }
  static ScriptedTransport::Answer answer(const std::string& method, const std::string& node) {
    return [method, node](const HttpRequest&) {
      return HttpResponse{200, {}, alipay::signed_answer(alipay_key(), method, node)};
    };
  }
  static std::map<std::string, std::string> form_of(const HttpRequest& request) {
    const auto form = parse_form(request.body).value();
    return std::map<std::string, std::string>(form.begin(), form.end());
  }

  AlipaySettings settings;
  std::shared_ptr<ScriptedTransport> transport;
  std::unique_ptr<Provider> provider;
};

TEST_F(AlipayProvider, PrecreateIsSignedAndReturnsTheQrCode) {
  transport->answers.push_back(answer(
      "alipay.trade.precreate",
      R"({"code":"10000","msg":"Success","out_trade_no":"A1","qr_code":"https://qr.alipay.com/bax1"})"));
  PaymentRequest request;
  request.out_trade_no = "A1";
  request.amount = domain::Fen(1230);
  request.description = "驿站订单";
  request.channel = Channel::alipay_qr;
  EXPECT_EQ(provider->start(request).qr_content, "https://qr.alipay.com/bax1");
  const auto fields = form_of(transport->requests[0]);
  EXPECT_EQ(fields.at("method"), "alipay.trade.precreate");
  EXPECT_EQ(fields.at("notify_url"), settings.notify_url);
  EXPECT_EQ(json::parse(fields.at("biz_content"))["total_amount"], "12.30");
  EXPECT_TRUE(alipay::verify_request(fields, PublicKey::parse(app().public_key_pem())));
}

TEST_F(AlipayProvider, WapStartIsASignedRedirectToTheGateway) {
  PaymentRequest request;
  request.out_trade_no = "A2";
  request.amount = domain::Fen(5);
  request.channel = Channel::alipay_wap;
  const auto start = provider->start(request);
  ASSERT_TRUE(start.redirect_url);
  EXPECT_TRUE(start.redirect_url->starts_with(settings.gateway_url + "?"));
  const auto form = parse_form(start.redirect_url->substr(settings.gateway_url.size() + 1)).value();
  std::map<std::string, std::string> fields(form.begin(), form.end());
  EXPECT_EQ(fields["method"], "alipay.trade.wap.pay");
  EXPECT_EQ(json::parse(fields["biz_content"])["product_code"], "QUICK_WAP_WAY");
  EXPECT_EQ(fields["return_url"], settings.return_url);
  EXPECT_EQ(json::parse(fields["biz_content"])["quit_url"],
            settings.return_url + "?out_trade_no=A2")
      << "backing out returns to the order's page, not a bare one";
  EXPECT_TRUE(alipay::verify_request(fields, PublicKey::parse(app().public_key_pem())));
  EXPECT_TRUE(transport->requests.empty());
}

TEST_F(AlipayProvider, ForgedAnswerIsNotTrusted) {
  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{
        200,
        {},
        R"({"alipay_trade_query_response":{"code":"10000","trade_status":"TRADE_SUCCESS"},"sign":"AAAA"})"};
  });
  try {
    provider->query("A3");
    FAIL();
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::bad_answer);
  }
}

TEST_F(AlipayProvider, QueryReadsTradeStatusAndAMissingTradeIsNotPaid) {
  transport->answers.push_back(answer(
      "alipay.trade.query",
      R"({"code":"10000","msg":"Success","out_trade_no":"A4","trade_no":"2026","trade_status":"TRADE_SUCCESS","total_amount":"9.90"})"));
  const auto state = provider->query("A4");
  EXPECT_EQ(state.state, PaymentState::State::paid);
  EXPECT_EQ(state.amount, domain::Fen(990));
  transport->answers.push_back(answer(
      "alipay.trade.query",
      R"({"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_NOT_EXIST","sub_msg":"交易不存在"})"));
  EXPECT_EQ(provider->query("A5").state, PaymentState::State::not_paid);
}

TEST_F(AlipayProvider, Code20000AndServerErrorsAreUnreachable) {
  transport->answers.push_back(answer(
      "alipay.trade.close",
      R"({"code":"20000","msg":"Service Currently Unavailable","sub_code":"isp.unknow-error"})"));
  try {
    provider->close("A6");
    FAIL();
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::unreachable);
  }
  transport->answers.push_back([](const HttpRequest&) { return HttpResponse{502, {}, ""}; });
  try {
    provider->close("A6");
    FAIL();
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::unreachable);
  }
}

TEST_F(AlipayProvider, RefundUsesOutRequestNoAndRefusalCarriesSubCode) {
  transport->answers.push_back(
      answer("alipay.trade.refund", R"({"code":"10000","msg":"Success","fund_change":"Y"})"));
  RefundRequest request{"A7", "R1", domain::Fen(300), domain::Fen(1000), "退货"};
  EXPECT_EQ(provider->refund(request).state, RefundState::State::succeeded);
  const auto biz = json::parse(form_of(transport->requests[0]).at("biz_content"));
  EXPECT_EQ(biz["out_request_no"], "R1");
  EXPECT_EQ(biz["refund_amount"], "3.00");
  transport->answers.push_back(answer(
      "alipay.trade.refund",
      R"({"code":"40004","msg":"Business Failed","sub_code":"ACQ.REFUND_AMT_NOT_EQUAL_TOTAL"})"));
  try {
    provider->refund(request);
    FAIL();
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::refused);
    EXPECT_EQ(error.provider_code, "ACQ.REFUND_AMT_NOT_EQUAL_TOTAL");
  }
}

TEST_F(AlipayProvider, BarcodePayPaidPayingFailed) {
  transport->answers.push_back(answer(
      "alipay.trade.pay",
      R"({"code":"10000","msg":"Success","out_trade_no":"C1","trade_no":"2026","total_amount":"1.00"})"));
  EXPECT_EQ(provider->pay_with_code("C1", "281234567890123456", domain::Fen(100), "柜台").state,
            PaymentState::State::paid);
  EXPECT_EQ(json::parse(form_of(transport->requests[0]).at("biz_content"))["scene"], "bar_code");
  transport->answers.push_back(
      answer("alipay.trade.pay", R"({"code":"10003","msg":"order success pay inprocess"})"));
  EXPECT_EQ(provider->pay_with_code("C2", "281234567890120000", domain::Fen(100), "柜台").state,
            PaymentState::State::paying);
  transport->answers.push_back(answer(
      "alipay.trade.pay",
      R"({"code":"40004","msg":"Business Failed","sub_code":"ACQ.PAYMENT_AUTH_CODE_INVALID"})"));
  const auto failed = provider->pay_with_code("C3", "281234567890129999", domain::Fen(100), "柜台");
  EXPECT_EQ(failed.state, PaymentState::State::failed);
  EXPECT_EQ(failed.raw_state, "ACQ.PAYMENT_AUTH_CODE_INVALID");
}

// ACQ.SYSTEM_ERROR is Alipay's "unknown: ask again", for a charge and a refund alike; a charge's
// refusal that is not the payer's own no (ACQ.TRADE_HAS_SUCCESS: paid already) is asked about.
TEST_F(AlipayProvider, SystemErrorIsNoAnswerAndOnlyThePayersNoIsADecline) {
  const auto system_error = [](const std::string& method) {
    return answer(
        method,
        R"({"code":"40004","msg":"Business Failed","sub_code":"ACQ.SYSTEM_ERROR","sub_msg":"系统错误"})");
  };
  transport->answers.push_back(system_error("alipay.trade.pay"));
  try {
    (void)provider->pay_with_code("C4", "281234567890123456", domain::Fen(100), "柜台");
    FAIL() << "a system error was taken as a decline";
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::unreachable);
  }
  transport->answers.push_back(system_error("alipay.trade.refund"));
  try {
    (void)provider->refund({"C4", "C4R1", domain::Fen(100), domain::Fen(100), ""});
    FAIL() << "a system error was taken as a refusal of the refund";
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::unreachable);
  }
  transport->answers.push_back(answer(
      "alipay.trade.pay",
      R"({"code":"40004","msg":"Business Failed","sub_code":"ACQ.TRADE_HAS_SUCCESS","sub_msg":"交易已被支付"})"));
  try {
    (void)provider->pay_with_code("C5", "281234567890123456", domain::Fen(100), "柜台");
    FAIL() << "a paid trade was taken as a decline";
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::refused);
    EXPECT_EQ(error.provider_code, "ACQ.TRADE_HAS_SUCCESS");
  }
  transport->answers.push_back(answer(
      "alipay.trade.pay",
      R"({"code":"40004","msg":"Business Failed","sub_code":"ACQ.BUYER_BALANCE_NOT_ENOUGH"})"));
  EXPECT_EQ(provider->pay_with_code("C6", "281234567890123456", domain::Fen(100), "柜台").state,
            PaymentState::State::failed);
}

TEST_F(AlipayProvider, NotificationVerifiedOverTheFormOnlySuccessCountsAsPaid) {
  std::map<std::string, std::string> fields = {{"app_id", settings.app_id},
                                               {"seller_id", settings.seller_id},
                                               {"out_trade_no", "A8"},
                                               {"trade_no", "2026A8"},
                                               {"trade_status", "TRADE_SUCCESS"},
                                               {"total_amount", "12.30"},
                                               {"notify_type", "trade_status_sync"},
                                               {"subject", "驿站 订单"}};
  fields["sign"] = alipay_key().sign_sha256(alipay::sign_content(fields, true));
  fields["sign_type"] = "RSA2";
  Notification notification;
  notification.body = build_form(fields);
  const auto state = provider->verify_notification(notification, Clock::now());
  EXPECT_EQ(state.state, PaymentState::State::paid);
  EXPECT_EQ(state.amount, domain::Fen(1230));
  EXPECT_EQ(state.merchant_id, settings.seller_id);

  fields["total_amount"] = "0.01";
  notification.body = build_form(fields);
  EXPECT_THROW(provider->verify_notification(notification, Clock::now()), RejectedNotification);
  notification.body = "%ZZ";
  EXPECT_THROW(provider->verify_notification(notification, Clock::now()), RejectedNotification);
  EXPECT_EQ(provider->notification_answer(true), (std::pair<int, std::string>{200, "success"}));
  EXPECT_EQ(provider->notification_answer(false).second, "fail");
}

TEST_F(AlipayProvider, PublishedNotificationThroughTheProvider) {
  settings.alipay_public_key = kNotifyPublicKey;
  provider = make_alipay(settings, transport);
  Notification notification;
  notification.body = build_form(published_notification());
  const auto state = provider->verify_notification(notification, Clock::now());
  EXPECT_EQ(state.state, PaymentState::State::paid);
  EXPECT_EQ(state.out_trade_no, "20190815155618536-564-57");
  EXPECT_EQ(state.amount, domain::Fen(10));
  EXPECT_EQ(state.transaction_id, "2019081522001468450512505578");
}

}  // namespace
}  // namespace yizhan::payments
