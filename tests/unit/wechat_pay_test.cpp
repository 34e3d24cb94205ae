// WeChat Pay v3: wechatpay-go's published vectors byte for byte (signer, notification, AES-GCM),
// the v2 signature example, and the provider against a scripted transport.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <nlohmann/json.hpp>

#include "support/scripted_transport.hpp"
#include "yizhan/payments/crypto.hpp"
#include "yizhan/payments/transport.hpp"
#include "yizhan/payments/wechat_pay_protocol.hpp"

namespace yizhan::payments {
namespace {

using nlohmann::json;
using test_support::ScriptedTransport;

// wechatpay-go core/auth/signers/sha256withrsa_signer_test.go ("TESTING KEY" armour renamed).
constexpr const char* kSignerKey = R"(-----BEGIN PRIVATE KEY-----
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDZUJN33V+dSfvd
fL0Mu+39XrZNXFFMQSy1V15FpncHeV47SmV0TzTqZc7hHB0ddqAdDi8Z5k3TKqb7
6sOwYr5TcAfuR6PIPaleyE0/0KrljBum2Isa2Nyq7Dgc3ElBQ6YN4l/a+DpvKaz1
FSKmKrhLNskqokWVSlu4g8OlKlbPXQ9ibII14MZRQrrkTmHYHzfi7GXXM0thAKuR
0HNvyhTHBh4/lrYM3GaMvmWwkwvsMavnOex6+eioZHBOb1/EIZ/LzC6zuHArPpyW
3daGaZ1rtQB1vVzTyERAVVFsXXgBHvfFud3w3ShsJYk8JvMwK2RpJ5/gV0QSARcm
LDRUAlPzAgMBAAECggEBAMc7rDeUaXiWv6bMGbZ3BTXpg1FhdddnWUnYE8HfX/km
OFI7XtBHXcgYFpcjYz4D5787pcsk7ezPidAj58zqenuclmjKnUmT3pfbI5eCA2v4
C9HnbYDrmUPK1ZcADtka4D6ScDccpNYNa1g2TFHzkIrEa6H+q7S3O2fqxY/DRVtN
0JIXalBb8daaqL5QVzSmM2BMVnHy+YITJWIkP2a3pKs9C0W65JGDsnG0wVrHinHF
+cnhFZIbaPEI//DAFMc9NkrWOKVRTEgcCUxCFaHOZVNxDWZD7A2ZfJB2rK6eg//y
gEiFDR2h6mTaDowMB4YF2n2dsIO4/dCG8vPHI20jn4ECgYEA/ZGu6lEMlO0XZnam
AZGtiNgLcCfM/C2ZERZE7QTRPZH1WdK92Al9ndldsswFw4baJrJLCmghjF/iG4zi
hhBvLnOLksnZUfjdumxoHDWXo2QBWbI5QsWIE7AuTiWgWj1I7X4fCXSQf6i+M/y2
6TogQ7d0ANpZFyOkTNMn/tiJvLECgYEA22XqlamG/yfAGWery5KNH2DGlTIyd6xJ
WtJ9j3jU99lZ0bCQ5xhiBbU9ImxCi3zgTsoqLWgA/p00HhNFNoUcTl9ofc0G3zwT
D1y0ZzcnVKxGJdZ6ohW52V0hJStAigtjYAsUgjm7//FH7PiQDBDP1Wa6xSRkDQU/
aSbQxvEE8+MCgYEA3bb8krW7opyM0XL9RHH0oqsFlVO30Oit5lrqebS0oHl3Zsr2
ZGgoBlWBsEzk3UqUhTFwm/DhJLTSJ/TQPRkxnhQ5/mewNhS9C7yua7wQkzVmWN+V
YeUGTvDGDF6qDz12/vJAgSwDDRym8x4NcXD5tTw7mmNRcwIfL22SkysThIECgYAV
BgccoEoXWS/HP2/u6fQr9ZIR6eV8Ij5FPbZacTG3LlS1Cz5XZra95UgebFFUHHtC
EY1JHJY7z8SWvTH8r3Su7eWNaIAoFBGffzqqSVazfm6aYZsOvRY6BfqPHT3p/H1h
Tq6AbBffxrcltgvXnCTORjHPglU0CjSxVs7awW3AEQKBgB5WtaC8VLROM7rkfVIq
+RXqE5vtJfa3e3N7W3RqxKp4zHFAPfr82FK5CX2bppEaxY7SEZVvVInKDc5gKdG/
jWNRBmvvftZhY59PILHO2X5vO4FXh7suEjy6VIh0gsnK36mmRboYIBGsNuDHjXLe
BDa+8mDLkWu5nHEhOxy2JJZl
-----END PRIVATE KEY-----
)";

constexpr const char* kSignerExpected =
    "BKyAfU4iMCuvXMXS0Wzam3V/cnxZ+JaqigPM5OhljS2iOT95OO6Fsuml2JkFANJU9K6q9bLlDhPXuoVz+pp4hAm6"
    "pHU4ld815U4jsKu1RkyaII+1CYBUYC8TK0XtJ8FwUXXz8vZHh58rrAVN1XwNyvD1vfpxrMT4SL536GLwvpUHlCqIMzoZ"
    "UguLli/K8V29QiOhuH6IEqLNJn8e9b3nwNcQ7be3CzYGpDAKBfDGPCqCv8Rw5zndhlffk2FEA70G4hvMwe51qMN/RAJb"
    "knXG23bSlObuTCN7Ndj1aJGH6/L+hdwfLpUtJm4QYVazzW7DFD27EpSQEqA8bX9+8m1rLg==";

// wechatpay-go core/notify/notify_test.go: the platform certificate (its key is the signer's pair).
constexpr const char* kPlatformCertificate = R"(-----BEGIN CERTIFICATE-----
MIIDVzCCAj+gAwIBAgIJANfOWdH1ItcBMA0GCSqGSIb3DQEBCwUAMEIxCzAJBgNV
BAYTAlhYMRUwEwYDVQQHDAxEZWZhdWx0IENpdHkxHDAaBgNVBAoME0RlZmF1bHQg
Q29tcGFueSBMdGQwHhcNMjEwNDI3MDg1NTIzWhcNMzEwNDI1MDg1NTIzWjBCMQsw
CQYDVQQGEwJYWDEVMBMGA1UEBwwMRGVmYXVsdCBDaXR5MRwwGgYDVQQKDBNEZWZh
dWx0IENvbXBhbnkgTHRkMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA
2VCTd91fnUn73Xy9DLvt/V62TVxRTEEstVdeRaZ3B3leO0pldE806mXO4RwdHXag
HQ4vGeZN0yqm++rDsGK+U3AH7kejyD2pXshNP9Cq5YwbptiLGtjcquw4HNxJQUOm
DeJf2vg6byms9RUipiq4SzbJKqJFlUpbuIPDpSpWz10PYmyCNeDGUUK65E5h2B83
4uxl1zNLYQCrkdBzb8oUxwYeP5a2DNxmjL5lsJML7DGr5znsevnoqGRwTm9fxCGf
y8wus7hwKz6clt3Whmmda7UAdb1c08hEQFVRbF14AR73xbnd8N0obCWJPCbzMCtk
aSef4FdEEgEXJiw0VAJT8wIDAQABo1AwTjAdBgNVHQ4EFgQUT1c7nd/SUO76HSoZ
umNUJv1R5PwwHwYDVR0jBBgwFoAUT1c7nd/SUO76HSoZumNUJv1R5PwwDAYDVR0T
BAUwAwEB/zANBgkqhkiG9w0BAQsFAAOCAQEAfTjxKRQMzNB/U6ZoCUS+BSNfa2Oh
0plMN6ZuzwiVVZwg1jywvv5yv04koS7Pd4i9E4gt9ZBUQXlpq+A3oOCEEHNRR6b2
kyazGRM7s0OP5X21WrbpSmKmU6K7hkfx30yYs08LVs/Q8DIhvaj1FCFeJzUCzYn/
fHMq4tsbKO0dKAeydPM/nrUZBmaYQVKMVOORGLFjFKVO7JV6Kq/R86ouhjEPgJOe
2xulNBUcjicqtZlBdEh/PWCYP2SpGVDclKm8jeo175T3EVAkdKzzmfpxtMmnMlmq
cTJOU9TxuGvNASMtjj7pYIerTx+xgZDXEVBWFW9PjJ0TV06tCRsgSHItgg==
-----END CERTIFICATE-----
)";

constexpr const char* kNotificationBody =
    "{\"id\":\"3119dfba-e649-5eec-ab1e-3412bc4d2e17\","
    "\"create_time\":\"2021-06-24T16:37:26+08:00\","
    "\"resource_type\":\"encrypt-resource\","
    "\"event_type\":\"PAYSCORE.USER_OPEN_SERVICE\","
    "\"summary\":\"签约成功\","
    "\"resource\":{"
    "\"original_type\":\"payscore\","
    "\"algorithm\":\"AEAD_AES_256_GCM\","
    "\"ciphertext\":\"YDS3lKPaC4Y52Gf3uhft5qUBlIa8b428AWTtTauHQfQrRw+X1WpiuHIDy0vo1Vd6VEq67aVyqPdD"
    "YMkRVSDaZL3iZttevRMOoPKMifozg6XPWjIZumks/GpT48lI4NizyeaqLBokNebthah3o1H76qSlO9NkDjp9bzmKLEYYH9"
    "TEklFUpsvPqOTOcgSLgh21YJXYR7dEBXFgRLiNIKRgO5JdXh1hccRUAlyVWxE54PXpnQ==\","
    "\"associated_data\":\"payscore\","
    "\"nonce\":\"Kj7QIyUiYx1q\"}}";

constexpr const char* kNotificationSignature =
    "tJHIiIS9eB2hAYstmAmbbD3ZE5LiIm/Ug5tuL4fC0YOFRWIHV39UFIZXC0e9Wl6lBu6sKvkqDkzpqzBsVHyXF"
    "lbYZTOQrVdG4b6LfTnK4mikv9++ixJMd3vTf2yCqvBkh98zs3Ds5zsYQakzbcwhmw4fMJs4nPLws28H0UW9FjDR//rxE"
    "LLwXvV1VEA1IBLX70xptjL8hrfUjEE8kkry6yNJTHZRU8CAc7qHli2Ng1V1qb9ARbK8A3ThmFmPQvRGrapI/jS2laKKgYU"
    "mfdEdkNO6B2Cke5e8VTxY406ArAmQ90GAihDwIcb16TQMnzCMBoutnwZKNiKRACrFmtxw2Q==";

constexpr const char* kNotificationPlaintext =
    R"({"mchid":"1234567890","appid":"054aa7d7a2a54ab5898df65bd96f001c",)"
    R"("create_time":"2020-06-30T12:12:00+08:00","out_contract_code":"21640bdbd08e473e828f3206a2741c6e"})";

const Clock::time_point kNotificationTime = Clock::time_point(std::chrono::seconds(1624523846));

std::map<std::string, std::string> notification_headers() {
  return {{"wechatpay-timestamp", "1624523846"},
          {"wechatpay-nonce", "EcZ9Cmy4Xyx1i6RlJQzLcCyEqDa26NBz"},
          {"wechatpay-serial", "D7CE59D1F522D701"},
          {"wechatpay-signature", kNotificationSignature}};
}

TEST(WechatPayVectors, SignerReproducesWechatpayGoSignatureByteForByte) {
  const PrivateKey key = PrivateKey::parse(kSignerKey);
  EXPECT_EQ(key.sign_sha256("source"), kSignerExpected);
}

TEST(WechatPayVectors, PublishedNotificationVerifiesAndDecryptsToThePublishedPlaintext) {
  const PublicKey platform = PublicKey::parse(kPlatformCertificate);
  EXPECT_EQ(wechat::check_signature(notification_headers(), kNotificationBody, platform,
                                    "D7CE59D1F522D701", kNotificationTime),
            std::nullopt);
  const auto envelope = wechat::open_notification(kNotificationBody, "testMchAPIv3Key0");
  EXPECT_EQ(envelope.plaintext, kNotificationPlaintext);
  EXPECT_EQ(envelope.id, "3119dfba-e649-5eec-ab1e-3412bc4d2e17");
  EXPECT_EQ(envelope.event_type, "PAYSCORE.USER_OPEN_SERVICE");
  EXPECT_EQ(envelope.summary, "签约成功");
  EXPECT_EQ(envelope.associated_data, "payscore");
}

TEST(WechatPayVectors, AesGcmVectorDecryptsAndWrongKeyOrTamperingFails) {
  EXPECT_EQ(aes_gcm_decrypt("testAPIv3Key0000", "wCq51qZv4Yfg", "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8",
                            "FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC"),
            "Hello World");
  EXPECT_EQ(aes_gcm_decrypt("testAPIv3Key1111", "wCq51qZv4Yfg", "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8",
                            "FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC"),
            std::nullopt);
  EXPECT_EQ(aes_gcm_decrypt("testAPIv3Key0000", "wCq51qZv4Yfg", "Dl56FrqWQJF1t9LtC3vEUsniZKvbqdR8",
                            "GsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC"),
            std::nullopt);
  EXPECT_EQ(aes_gcm_decrypt("testAPIv3Key0000", "wCq51qZv4Yfg", "other associated data",
                            "FsdXzxryWfKwvLJKf8LG/ToRPTRh8RN9wROC"),
            std::nullopt);
  EXPECT_EQ(aes_gcm_decrypt("testAPIv3Key0000", "wCq51qZv4Yfg", "", "invalid cipher"),
            std::nullopt);
  EXPECT_EQ(aes_gcm_decrypt("not a aes key", "wCq51qZv4Yfg", "", "SGVsbG8gV29ybGQK"), std::nullopt);
}

TEST(WechatPayVectors, AesGcmRoundTripsWithA32ByteApiV3Key) {
  const std::string key = "0123456789abcdef0123456789abcdef";
  const std::string sealed = aes_gcm_encrypt(key, "abcdefghijkl", "transaction", "{\"a\":1}");
  EXPECT_EQ(aes_gcm_decrypt(key, "abcdefghijkl", "transaction", sealed), "{\"a\":1}");
}

TEST(WechatPayVectors, V2SignatureMatchesTheOfficialExample) {
  const std::map<std::string, std::string> fields = {{"appid", "wxd930ea5d5a258f4f"},
                                                     {"body", "test"},
                                                     {"device_info", "1000"},
                                                     {"mch_id", "10000100"},
                                                     {"nonce_str", "ibuaiVcKdpRxkhJA"}};
  EXPECT_EQ(wechat::v2_sign(fields, "192006250b4c09247ec02edce69f6a2d", false),
            "9A0A8659F005D6984697E2CA0A9CF3B7");
  EXPECT_EQ(wechat::v2_sign(fields, "192006250b4c09247ec02edce69f6a2d", true),
            "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6");
}

TEST(WechatPayVectors, V2XmlRoundTrips) {
  const std::map<std::string, std::string> fields = {{"a", "1"}, {"b", "x]]>y"}, {"c", "中文"}};
  EXPECT_EQ(wechat::parse_v2_xml(wechat::v2_xml(fields)), fields);
  EXPECT_EQ(wechat::parse_v2_xml("<xml><a>1</a><b><![CDATA[2]]></b></xml>"),
            (std::map<std::string, std::string>{{"a", "1"}, {"b", "2"}}));
  EXPECT_EQ(wechat::parse_v2_xml("<xml><a>1</b></xml>"), std::nullopt);
  EXPECT_EQ(wechat::parse_v2_xml("not xml"), std::nullopt);
}

class WechatPayVerification : public ::testing::Test {
 protected:
  PublicKey platform = PublicKey::parse(kPlatformCertificate);
};

TEST_F(WechatPayVerification, ForgedSignatureIsRefused) {
  auto headers = notification_headers();
  headers["wechatpay-signature"][10] = headers["wechatpay-signature"][10] == 'A' ? 'B' : 'A';
  EXPECT_TRUE(wechat::check_signature(headers, kNotificationBody, platform, "D7CE59D1F522D701",
                                      kNotificationTime));
}

TEST_F(WechatPayVerification, TamperedBodyIsRefused) {
  std::string body = kNotificationBody;
  body.replace(body.find("签约成功"), 12, "支付成功");
  EXPECT_TRUE(wechat::check_signature(notification_headers(), body, platform, "D7CE59D1F522D701",
                                      kNotificationTime));
}

TEST_F(WechatPayVerification, WrongSerialIsRefused) {
  auto headers = notification_headers();
  headers["wechatpay-serial"] = "PUB_KEY_ID_0000000000000000000000";
  EXPECT_TRUE(wechat::check_signature(headers, kNotificationBody, platform, "D7CE59D1F522D701",
                                      kNotificationTime));
  EXPECT_TRUE(wechat::check_signature(notification_headers(), kNotificationBody, platform, "OTHER",
                                      kNotificationTime));
}

TEST_F(WechatPayVerification, TimestampOutsideFiveMinutesIsRefusedInsideAccepted) {
  using std::chrono::seconds;
  const auto check = [&](Clock::time_point now) {
    return wechat::check_signature(notification_headers(), kNotificationBody, platform,
                                   "D7CE59D1F522D701", now);
  };
  EXPECT_EQ(check(kNotificationTime + seconds(299)), std::nullopt);
  EXPECT_EQ(check(kNotificationTime - seconds(299)), std::nullopt);
  EXPECT_TRUE(check(kNotificationTime + seconds(301)));
  EXPECT_TRUE(check(kNotificationTime - seconds(301)));
}

TEST_F(WechatPayVerification, MissingHeadersAreRefused) {
  for (const char* name :
       {"wechatpay-timestamp", "wechatpay-nonce", "wechatpay-signature", "wechatpay-serial"}) {
    auto headers = notification_headers();
    headers.erase(name);
    EXPECT_TRUE(wechat::check_signature(headers, kNotificationBody, platform, "D7CE59D1F522D701",
                                        kNotificationTime))
        << name;
  }
}

TEST_F(WechatPayVerification, TamperedCiphertextOrWrongApiV3KeyDoesNotDecrypt) {
  std::string body = kNotificationBody;
  body[body.find("YDS3") + 2] = 'X';
  EXPECT_THROW(wechat::open_notification(body, "testMchAPIv3Key0"), RejectedNotification);
  EXPECT_THROW(wechat::open_notification(kNotificationBody, "testMchAPIv3Key1"),
               RejectedNotification);
  EXPECT_THROW(wechat::open_notification("not json", "testMchAPIv3Key0"), RejectedNotification);
}

TEST(WechatPayMessages, RequestMessageHasFiveLinesEachEndingInNewline) {
  EXPECT_EQ(wechat::request_message("GET", "/v3/certificates", "1554208460",
                                    "593BEC0C930BF1AFEB40B4A08C8FB242", ""),
            "GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n");
}

TEST(WechatPayMessages, AuthorizationHeaderCarriesFiveItemsAndParsesBack) {
  const PrivateKey key = PrivateKey::parse(kSignerKey);
  const std::string header = wechat::sign_request(
      key, "1900009191", "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C", "GET", "/v3/certificates", "",
      "1554208460", "593BEC0C930BF1AFEB40B4A08C8FB242");
  EXPECT_TRUE(header.starts_with("WECHATPAY2-SHA256-RSA2048 mchid=\"1900009191\",nonce_str=\""));
  const auto items = wechat::parse_authorization(header);
  ASSERT_TRUE(items);
  EXPECT_EQ(items->mchid, "1900009191");
  EXPECT_EQ(items->serial_no, "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C");
  EXPECT_EQ(items->timestamp, "1554208460");
  EXPECT_EQ(
      items->signature,
      key.sign_sha256("GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n"));
  EXPECT_EQ(wechat::parse_authorization("Bearer x"), std::nullopt);
  EXPECT_EQ(wechat::parse_authorization("WECHATPAY2-SHA256-RSA2048 mchid=\"1\""), std::nullopt);
}

TEST(WechatPayMessages, JsapiPaySignIsOverTheFourLinesWithTheMerchantKey) {
  const PrivateKey key = PrivateKey::parse(kSignerKey);
  const auto parameters =
      wechat::jsapi_parameters(key, "wx8888888888888888", "wx201410272009395522657a690389285100",
                               "1414561699", "5K8264ILTKCH16CQ2502SI8ZNMTM67VS");
  EXPECT_EQ(parameters.package, "prepay_id=wx201410272009395522657a690389285100");
  EXPECT_EQ(parameters.sign_type, "RSA");
  EXPECT_EQ(parameters.pay_sign,
            key.sign_sha256("wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n"
                            "prepay_id=wx201410272009395522657a690389285100\n"));
  EXPECT_TRUE(
      PublicKey::parse(kPlatformCertificate)
          .verify_sha256("wx8888888888888888\n1414561699\n5K8264ILTKCH16CQ2502SI8ZNMTM67VS\n"
                         "prepay_id=wx201410272009395522657a690389285100\n",
                         parameters.pay_sign));
}

TEST(WechatPayMessages, TransactionStatesMapToPaymentStates) {
  using S = PaymentState::State;
  const auto state = wechat::parse_transaction(
      R"({"appid":"wx1","mchid":"190","out_trade_no":"A1","transaction_id":"42",)"
      R"("trade_state":"SUCCESS","success_time":"2026-12-02T20:00:00+08:00","amount":{"total":1230}})");
  EXPECT_EQ(state.state, S::paid);
  EXPECT_EQ(state.amount, domain::Fen(1230));
  EXPECT_EQ(state.merchant_id, "190");
  EXPECT_EQ(state.paid_at, wechat::parse_rfc3339("2026-12-02T12:00:00Z"));
  EXPECT_EQ(wechat::parse_transaction(R"({"trade_state":"NOTPAY"})").state, S::not_paid);
  EXPECT_EQ(wechat::parse_transaction(R"({"trade_state":"USERPAYING"})").state, S::paying);
  EXPECT_EQ(wechat::parse_transaction(R"({"trade_state":"CLOSED"})").state, S::closed);
  EXPECT_EQ(wechat::parse_transaction(R"({"trade_state":"REFUND"})").state, S::refunded);
  EXPECT_EQ(wechat::parse_transaction(R"({"trade_state":"PAYERROR"})").state, S::failed);
  EXPECT_THROW(wechat::parse_transaction(R"({"trade_state":"WHAT"})"), ProviderError);
  EXPECT_THROW(wechat::parse_transaction("[]"), ProviderError);
}

TEST(WechatPayMessages, V2OrderQueryStatesMapLikeTheV3Query) {
  using S = PaymentState::State;
  using Fields = std::map<std::string, std::string>;
  const Fields success = {{"return_code", "SUCCESS"},
                          {"result_code", "SUCCESS"},
                          {"appid", "wx1"},
                          {"mch_id", "190"},
                          {"out_trade_no", "Y1-0-01"},
                          {"trade_state", "SUCCESS"},
                          {"transaction_id", "4200v2q"},
                          {"total_fee", "1230"},
                          {"time_end", "20261202200000"},
                          {"trade_type", "MICROPAY"}};
  const auto paid = wechat::parse_v2_order(success, "Y1-0-01");
  EXPECT_EQ(paid.state, S::paid);
  EXPECT_EQ(paid.raw_state, "SUCCESS");
  EXPECT_EQ(paid.out_trade_no, "Y1-0-01");
  EXPECT_EQ(paid.transaction_id, "4200v2q");
  EXPECT_EQ(paid.amount, domain::Fen(1230));
  EXPECT_EQ(paid.merchant_id, "190");
  EXPECT_EQ(paid.app_id, "wx1");
  EXPECT_EQ(paid.paid_at, wechat::parse_rfc3339("2026-12-02T12:00:00Z"));

  // Before it is paid WeChat sends only out_trade_no and trade_state.
  auto state_of = [](const std::string& trade_state) {
    return wechat::parse_v2_order({{"return_code", "SUCCESS"},
                                   {"result_code", "SUCCESS"},
                                   {"out_trade_no", "Y1-0-01"},
                                   {"trade_state", trade_state}},
                                  "Y1-0-01");
  };
  EXPECT_EQ(state_of("USERPAYING").state, S::paying);
  EXPECT_EQ(state_of("ACCEPT").state, S::paying);
  EXPECT_EQ(state_of("NOTPAY").state, S::not_paid);
  EXPECT_EQ(state_of("CLOSED").state, S::closed);
  EXPECT_EQ(state_of("REVOKED").state, S::closed);
  EXPECT_EQ(state_of("REVOKED").raw_state, "REVOKED");
  EXPECT_EQ(state_of("PAYERROR").state, S::failed);
  EXPECT_EQ(state_of("REFUND").state, S::refunded);
  EXPECT_EQ(state_of("USERPAYING").transaction_id, "");
  EXPECT_THROW(state_of("WHAT"), ProviderError);

  const auto unknown = wechat::parse_v2_order(
      {{"return_code", "SUCCESS"}, {"result_code", "FAIL"}, {"err_code", "ORDERNOTEXIST"}},
      "Y1-0-01");
  EXPECT_EQ(unknown.state, S::not_paid);
  EXPECT_EQ(unknown.raw_state, "ORDERNOTEXIST");
  auto kind_of = [](const Fields& answer) {
    try {
      (void)wechat::parse_v2_order(answer, "Y1-0-01");
    } catch (const ProviderError& error) {
      return error.kind;
    }
    ADD_FAILURE() << "believed";
    return ProviderError::Kind::refused;
  };
  EXPECT_EQ(kind_of({{"result_code", "FAIL"}, {"err_code", "SYSTEMERROR"}}),
            ProviderError::Kind::unreachable);
  EXPECT_EQ(kind_of({{"result_code", "FAIL"}, {"err_code", "PARAM_ERROR"}}),
            ProviderError::Kind::refused);
  // A paid answer must be about this trade and say what was paid.
  for (const auto& [name, value] :
       std::vector<std::pair<std::string, std::string>>{{"out_trade_no", "Y2-0-01"},
                                                        {"out_trade_no", ""},
                                                        {"transaction_id", ""},
                                                        {"total_fee", ""},
                                                        {"total_fee", "12.30"},
                                                        {"total_fee", "0"}}) {
    Fields changed = success;
    changed[name] = value;
    EXPECT_EQ(kind_of(changed), ProviderError::Kind::bad_answer) << name << "=" << value;
  }
}

TEST(WechatPayMessages, V2TimesAreBeijingDigits) {
  const auto at = wechat::parse_rfc3339("2026-12-02T12:34:56Z").value();
  EXPECT_EQ(wechat::v2_time_beijing(at), "20261202203456");
  EXPECT_EQ(wechat::parse_v2_time("20261202203456"), at);
  EXPECT_EQ(wechat::parse_v2_time("2026120220345"), std::nullopt);
  EXPECT_EQ(wechat::parse_v2_time("2026-12-02 20:3"), std::nullopt);
}

// --- the provider against a scripted transport -------------------------------------------------

class WechatPayProvider : public ::testing::Test {
 protected:
  void SetUp() override {
    settings.base_url = "https://api.example.test";
    settings.mch_id = "1900000001";
    settings.app_id = "wx0000000000000001";
    settings.merchant_serial = "5157F09EFDC096DE15EBE81A47057A72";
    settings.merchant_private_key = merchant().pem();
    settings.api_v3_key = "0123456789abcdef0123456789abcdef";
    settings.platform_public_key = platform().public_key_pem();
    settings.platform_serial = "PUB_KEY_ID_0111";
    settings.notify_url = "https://shop.example.test/api/v1/payments/wechat/notify";
    transport = std::make_shared<ScriptedTransport>();
    provider = make_wechat_pay(settings, transport);
  }

  static const PrivateKey& merchant() {
    static const PrivateKey key = generate_rsa_key();
    return key;
  }
  static const PrivateKey& platform() {
    static const PrivateKey key = generate_rsa_key();
    return key;
  }

  // An answer signed by the platform, as WeChat Pay sends it.
  static ScriptedTransport::Answer signed_answer(int status, std::string body) {
    return [status, body](const HttpRequest&) {
      HttpResponse response;
      response.status = status;
      response.body = body;
      for (auto& [name, value] :
           wechat::sign_answer(platform(), "PUB_KEY_ID_0111", body, Clock::now())) {
        std::string lower = name;
        for (char& c : lower)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        response.headers[lower] = value;
      }
      return response;
    };
  }

  WechatPaySettings settings;
  std::shared_ptr<ScriptedTransport> transport;
  std::unique_ptr<Provider> provider;
};

TEST_F(WechatPayProvider, NativeStartSendsASignedOrderAndReturnsTheCodeUrl) {
  transport->answers.push_back(
      signed_answer(200, R"({"code_url":"weixin://wxpay/bizpayurl?pr=x"})"));
  PaymentRequest request;
  request.out_trade_no = "20261202-0001";
  request.amount = domain::Fen(1230);
  request.description = "驿站订单 20261202-0001";
  const auto start = provider->start(request);
  EXPECT_EQ(start.qr_content, "weixin://wxpay/bizpayurl?pr=x");

  const HttpRequest& sent = transport->requests.at(0);
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.url, "https://api.example.test/v3/pay/transactions/native");
  const json body = json::parse(sent.body);
  EXPECT_EQ(body["amount"]["total"], 1230);
  EXPECT_EQ(body["amount"]["currency"], "CNY");
  EXPECT_EQ(body["mchid"], "1900000001");
  EXPECT_EQ(body["notify_url"], settings.notify_url);
  const auto items = wechat::parse_authorization(sent.headers.at("Authorization"));
  ASSERT_TRUE(items);
  EXPECT_EQ(items->serial_no, settings.merchant_serial);
  EXPECT_TRUE(
      PublicKey::parse(merchant().public_key_pem())
          .verify_sha256(wechat::request_message("POST", "/v3/pay/transactions/native",
                                                 items->timestamp, items->nonce_str, sent.body),
                         items->signature));
}

TEST_F(WechatPayProvider, JsapiStartReturnsParametersSignedByTheMerchant) {
  transport->answers.push_back(signed_answer(200, R"({"prepay_id":"wx2026"})"));
  PaymentRequest request;
  request.out_trade_no = "A2";
  request.amount = domain::Fen(1);
  request.channel = Channel::wechat_jsapi;
  request.payer_openid = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o";
  const auto start = provider->start(request);
  ASSERT_TRUE(start.jsapi);
  EXPECT_EQ(start.jsapi->package, "prepay_id=wx2026");
  EXPECT_TRUE(PublicKey::parse(merchant().public_key_pem())
                  .verify_sha256(start.jsapi->app_id + "\n" + start.jsapi->time_stamp + "\n" +
                                     start.jsapi->nonce_str + "\n" + start.jsapi->package + "\n",
                                 start.jsapi->pay_sign));
  EXPECT_EQ(json::parse(transport->requests[0].body)["payer"]["openid"],
            "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o");
}

TEST(WechatSignIn, AuthorizeUrlHasWechatsParameterOrderAndEncodesTheRedirect) {
  EXPECT_EQ(
      wechat::sign_in_url("https://open.weixin.qq.com", "wx520c15f417810387",
                          "https://shop.example.test/api/v1/payments/wechat/sign-in", "573230z0A"),
      "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx520c15f417810387"
      "&redirect_uri=https%3A%2F%2Fshop.example.test%2Fapi%2Fv1%2Fpayments%2Fwechat%2Fsign-in"
      "&response_type=code&scope=snsapi_base&state=573230z0A#wechat_redirect");
  EXPECT_EQ(wechat::sns_access_token_path("wx1", "s&cret", "c0de"),
            "/sns/oauth2/access_token?appid=wx1&secret=s%26cret&code=c0de"
            "&grant_type=authorization_code");
}

TEST(WechatSignIn, TheOpenidIsReadAndErrcodesAreRefusals) {
  EXPECT_EQ(
      wechat::parse_sns_openid(R"({"access_token":"AT","expires_in":7200,"refresh_token":"RT",)"
                               R"("openid":"oLVPpjqs9BhvzwPj5A-vTYAX3GLc","scope":"snsapi_base"})"),
      "oLVPpjqs9BhvzwPj5A-vTYAX3GLc");
  try {
    (void)wechat::parse_sns_openid(R"({"errcode":40029,"errmsg":"invalid code"})");
    FAIL() << "an errcode is a refusal";
  } catch (const ProviderError& e) {
    EXPECT_EQ(e.kind, ProviderError::Kind::refused);
    EXPECT_EQ(e.provider_code, "40029");
  }
  for (const char* bad : {"", "[]", R"({"openid":""})", R"({"openid":7})", "<html>"}) {
    try {
      (void)wechat::parse_sns_openid(bad);
      FAIL() << "accepted " << bad;
    } catch (const ProviderError& e) {
      EXPECT_EQ(e.kind, ProviderError::Kind::bad_answer) << bad;
    }
  }
}

TEST_F(WechatPayProvider, SignInIsOfferedOnlyWithASecretAndARedirect) {
  EXPECT_EQ(provider->sign_in_url("s"), "") << "no official account configured";
  settings.app_secret = "0123456789abcdef0123456789abcdef";
  settings.sign_in_base_url = "https://open.example.test/";
  settings.sns_base_url = "https://sns.example.test";
  settings.sign_in_redirect_url = "https://shop.example.test/api/v1/payments/wechat/sign-in";
  provider = make_wechat_pay(settings, transport);
  EXPECT_TRUE(provider->sign_in_url("s").starts_with(
      "https://open.example.test/connect/oauth2/authorize?appid=wx0000000000000001&"));

  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{200, {}, R"({"access_token":"A","openid":"oPayer","scope":"snsapi_base"})"};
  });
  EXPECT_EQ(provider->openid_for_code("CODE1"), "oPayer");
  EXPECT_EQ(transport->requests.at(0).url,
            "https://sns.example.test/sns/oauth2/access_token?appid=wx0000000000000001&secret="
            "0123456789abcdef0123456789abcdef&code=CODE1&grant_type=authorization_code");
  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{502, {}, "bad gateway"};
  });
  try {
    (void)provider->openid_for_code("CODE2");
    FAIL() << "a 5xx is unknown";
  } catch (const ProviderError& e) {
    EXPECT_EQ(e.kind, ProviderError::Kind::unreachable);
  }
}

TEST_F(WechatPayProvider, UnsignedOrForgedAnswerIsNotTrusted) {
  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{200, {}, R"({"code_url":"weixin://evil"})"};
  });
  PaymentRequest request;
  request.out_trade_no = "A3";
  request.amount = domain::Fen(1);
  try {
    provider->start(request);
    FAIL() << "an unsigned answer was trusted";
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::bad_answer);
  }
}

TEST_F(WechatPayProvider, ServerErrorsAndTransportFailuresAreUnreachable) {
  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{503, {}, R"({"code":"SYSTEM_ERROR","message":"busy"})"};
  });
  try {
    provider->query("A4");
    FAIL();
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::unreachable);
  }
  try {
    provider->query("A4");  // no answer scripted: the transport throws unreachable
    FAIL();
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::unreachable);
  }
}

TEST_F(WechatPayProvider, QueryReadsTheStateAndUnknownOrderIsNotPaid) {
  transport->answers.push_back(signed_answer(
      200,
      R"({"out_trade_no":"A5","trade_state":"SUCCESS","transaction_id":"4200","mchid":"1900000001","amount":{"total":500}})"));
  const auto state = provider->query("A5");
  EXPECT_EQ(state.state, PaymentState::State::paid);
  EXPECT_EQ(state.amount, domain::Fen(500));
  EXPECT_EQ(transport->requests[0].url,
            "https://api.example.test/v3/pay/transactions/out-trade-no/A5?mchid=1900000001");
  EXPECT_EQ(transport->requests[0].body, "");

  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{404, {}, R"({"code":"ORDER_NOT_EXIST","message":"订单不存在"})"};
  });
  EXPECT_EQ(provider->query("A6").state, PaymentState::State::not_paid);
}

TEST_F(WechatPayProvider, RefusalCarriesTheProviderCode) {
  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{400, {}, R"({"code":"ORDERPAID","message":"订单已支付"})"};
  });
  try {
    provider->close("A7");
    FAIL();
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::refused);
    EXPECT_EQ(error.provider_code, "ORDERPAID");
  }
}

TEST_F(WechatPayProvider, RefundSendsAmountsAndReadsTheStatus) {
  transport->answers.push_back(
      signed_answer(200, R"({"refund_id":"50000","out_refund_no":"R1","status":"PROCESSING"})"));
  RefundRequest request{"A8", "R1", domain::Fen(300), domain::Fen(1000), "退货"};
  const auto state = provider->refund(request);
  EXPECT_EQ(state.state, RefundState::State::processing);
  EXPECT_EQ(state.refund_id, "50000");
  const json body = json::parse(transport->requests[0].body);
  EXPECT_EQ(body["out_refund_no"], "R1");
  EXPECT_EQ(body["amount"]["refund"], 300);
  EXPECT_EQ(body["amount"]["total"], 1000);
  EXPECT_EQ(body["reason"], "退货");

  // WeChat takes 80 characters of reason at most: a longer one is cut, by characters.
  transport->answers.push_back(
      signed_answer(200, R"({"refund_id":"50001","out_refund_no":"R2","status":"SUCCESS"})"));
  std::string long_reason;
  for (int i = 0; i < 100; ++i)
    long_reason += "坏";
  (void)provider->refund({"A8", "R2", domain::Fen(300), domain::Fen(1000), long_reason});
  const auto sent = json::parse(transport->requests[1].body)["reason"].get<std::string>();
  EXPECT_EQ(sent, long_reason.substr(0, 80 * 3));

  // The lookup of a refund number: its status, or NOT_FOUND for one never made.
  transport->answers.push_back(
      signed_answer(200, R"({"refund_id":"50001","out_refund_no":"R2","status":"SUCCESS"})"));
  const auto made = provider->query_refund("A8", "R2");
  EXPECT_EQ(made.state, RefundState::State::succeeded);
  EXPECT_EQ(transport->requests[2].method, "GET");
  EXPECT_NE(transport->requests[2].url.find("/v3/refund/domestic/refunds/R2"), std::string::npos);
  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{404, {}, R"({"code":"RESOURCE_NOT_EXISTS","message":"退款单不存在"})"};
  });
  const auto never = provider->query_refund("A8", "R3");
  EXPECT_EQ(never.state, RefundState::State::failed);
  EXPECT_EQ(never.raw_state, "NOT_FOUND");
  transport->answers.push_back(
      signed_answer(200, R"({"refund_id":"50009","out_refund_no":"R9","status":"SUCCESS"})"));
  EXPECT_THROW((void)provider->query_refund("A8", "R4"), ProviderError) << "another refund";
}

TEST_F(WechatPayProvider, NotificationIsVerifiedDecryptedAndRead) {
  const std::string body = wechat::seal_notification(
      "n1", "TRANSACTION.SUCCESS", "支付成功", "transaction",
      R"({"mchid":"1900000001","appid":"wx0000000000000001","out_trade_no":"A9","transaction_id":"4201","trade_state":"SUCCESS","amount":{"total":990}})",
      settings.api_v3_key, Clock::now());
  Notification notification;
  notification.body = body;
  for (auto& [name, value] :
       wechat::sign_answer(platform(), "PUB_KEY_ID_0111", body, Clock::now())) {
    std::string lower = name;
    for (char& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    notification.headers[lower] = value;
  }
  const auto state = provider->verify_notification(notification, Clock::now());
  EXPECT_EQ(state.state, PaymentState::State::paid);
  EXPECT_EQ(state.out_trade_no, "A9");
  EXPECT_EQ(state.amount, domain::Fen(990));

  Notification stale = notification;
  EXPECT_THROW(provider->verify_notification(stale, Clock::now() + std::chrono::minutes(6)),
               RejectedNotification);
  Notification forged = notification;
  forged.body.replace(forged.body.find("支付成功"), 12, "付款成功");
  EXPECT_THROW(provider->verify_notification(forged, Clock::now()), RejectedNotification);
}

TEST_F(WechatPayProvider, RefundNotificationsAreNeverReadAsPayments) {
  for (const auto& [status, expected] : std::vector<std::pair<std::string, PaymentState::State>>{
           {"SUCCESS", PaymentState::State::refunded},
           {"CLOSED", PaymentState::State::failed},
           {"ABNORMAL", PaymentState::State::failed}}) {
    const std::string body = wechat::seal_notification(
        "r-" + status, "REFUND." + status, "退款", "refund",
        R"({"mchid":"1900000001","out_trade_no":"A9","transaction_id":"4201","refund_status":")" +
            status + R"("})",
        settings.api_v3_key, Clock::now());
    Notification notification;
    notification.body = body;
    for (auto& [name, value] :
         wechat::sign_answer(platform(), "PUB_KEY_ID_0111", body, Clock::now())) {
      std::string lower = name;
      for (char& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      notification.headers[lower] = value;
    }
    EXPECT_EQ(provider->verify_notification(notification, Clock::now()).state, expected) << status;
  }
}

TEST_F(WechatPayProvider, NotificationSignedByAnotherKeyIsRejected) {
  const std::string body =
      wechat::seal_notification("n2", "TRANSACTION.SUCCESS", "支付成功", "transaction",
                                R"({"trade_state":"SUCCESS"})", settings.api_v3_key, Clock::now());
  Notification notification;
  notification.body = body;
  for (auto& [name, value] :
       wechat::sign_answer(merchant(), "PUB_KEY_ID_0111", body, Clock::now())) {
    std::string lower = name;
    for (char& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    notification.headers[lower] = value;
  }
  EXPECT_THROW(provider->verify_notification(notification, Clock::now()), RejectedNotification);
}

TEST_F(WechatPayProvider, NotificationAnswersAreWhatWechatExpects) {
  EXPECT_EQ(provider->notification_answer(true),
            (std::pair<int, std::string>{200, R"({"code":"SUCCESS"})"}));
  const auto refused = provider->notification_answer(false);
  EXPECT_GE(refused.first, 400);
  EXPECT_EQ(json::parse(refused.second)["code"], "FAIL");
}

TEST_F(WechatPayProvider, CodePayUserPayingMeansPollAndRefusalMeansFailed) {
  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{202, {}, R"({"code":"USERPAYING","message":"需要用户输入支付密码"})"};
  });
  EXPECT_EQ(provider->pay_with_code("C1", "134567890123456789", domain::Fen(100), "柜台").state,
            PaymentState::State::paying);
  EXPECT_EQ(json::parse(transport->requests[0].body)["payer"]["auth_code"], "134567890123456789");

  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{403, {}, R"({"code":"NOT_ENOUGH","message":"余额不足"})"};
  });
  const auto failed = provider->pay_with_code("C2", "134567890123459999", domain::Fen(100), "柜台");
  EXPECT_EQ(failed.state, PaymentState::State::failed);
  EXPECT_EQ(failed.raw_state, "NOT_ENOUGH");
}

TEST_F(WechatPayProvider, V2MicropayIsSignedXmlAndItsAnswerSignatureChecked) {
  settings.code_pay_v2 = true;
  settings.api_v2_key = "192006250b4c09247ec02edce69f6a2d";
  provider = make_wechat_pay(settings, transport);
  transport->answers.push_back([this](const HttpRequest& request) {
    auto fields = wechat::parse_v2_xml(request.body).value();
    EXPECT_EQ(fields["sign"], wechat::v2_sign(fields, settings.api_v2_key, false));
    std::map<std::string, std::string> answer = {{"return_code", "SUCCESS"},
                                                 {"result_code", "SUCCESS"},
                                                 {"appid", fields["appid"]},
                                                 {"mch_id", fields["mch_id"]},
                                                 {"transaction_id", "4200v2"},
                                                 {"total_fee", fields["total_fee"]},
                                                 {"out_trade_no", fields["out_trade_no"]},
                                                 {"nonce_str", "abc"}};
    answer["sign"] = wechat::v2_sign(answer, settings.api_v2_key, false);
    return HttpResponse{200, {}, wechat::v2_xml(answer)};
  });
  const auto state = provider->pay_with_code("C3", "134567890123456789", domain::Fen(250), "柜台");
  EXPECT_EQ(state.state, PaymentState::State::paid);
  EXPECT_EQ(state.amount, domain::Fen(250));
  EXPECT_EQ(transport->requests[0].url, "https://api.example.test/pay/micropay");

  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{200,
                        {},
                        "<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</"
                        "result_code><sign>BAD</sign></xml>"};
  });
  EXPECT_THROW(provider->pay_with_code("C4", "134567890123456789", domain::Fen(250), "柜台"),
               ProviderError);
}

// A v2 answer as WeChat Pay signs it with the APIv2 key (or as a forger signs it with another).
ScriptedTransport::Answer v2_answer(std::map<std::string, std::string> fields,
                                    const std::string& key) {
  return [fields, key](const HttpRequest&) mutable {
    fields.emplace("return_code", "SUCCESS");
    fields.emplace("appid", "wx0000000000000001");
    fields.emplace("mch_id", "1900000001");
    fields.emplace("nonce_str", "n0nce");
    fields["sign"] = wechat::v2_sign(fields, key, false);
    return HttpResponse{200, {}, wechat::v2_xml(fields)};
  };
}

TEST_F(WechatPayProvider, V2CodesArePolledWithSignedOrderQueryAndForgedAnswersRefused) {
  settings.code_pay_v2 = true;
  settings.api_v2_key = "192006250b4c09247ec02edce69f6a2d";
  provider = make_wechat_pay(settings, transport);
  using S = PaymentState::State;
  transport->answers.push_back(
      v2_answer({{"result_code", "SUCCESS"}, {"out_trade_no", "Q1"}, {"trade_state", "USERPAYING"}},
                settings.api_v2_key));
  const auto paying = provider->query_code("Q1");
  EXPECT_EQ(paying.state, S::paying);
  EXPECT_EQ(paying.raw_state, "USERPAYING");
  ASSERT_EQ(transport->requests.size(), 1u);
  const auto& asked = transport->requests[0];
  EXPECT_EQ(asked.method, "POST");
  EXPECT_EQ(asked.url, "https://api.example.test/pay/orderquery");
  EXPECT_EQ(asked.headers.at("Content-Type"), "text/xml; charset=utf-8");
  auto fields = wechat::parse_v2_xml(asked.body).value();
  EXPECT_EQ(fields["out_trade_no"], "Q1");
  EXPECT_EQ(fields["appid"], "wx0000000000000001");
  EXPECT_EQ(fields["mch_id"], "1900000001");
  EXPECT_FALSE(fields["nonce_str"].empty());
  EXPECT_EQ(fields["sign"], wechat::v2_sign(fields, settings.api_v2_key, false));

  const std::map<std::string, std::string> success = {{"result_code", "SUCCESS"},
                                                      {"out_trade_no", "Q1"},
                                                      {"trade_state", "SUCCESS"},
                                                      {"transaction_id", "4200v2q1"},
                                                      {"total_fee", "250"},
                                                      {"trade_type", "MICROPAY"},
                                                      {"time_end", "20261202200000"},
                                                      {"openid", "oPayer"},
                                                      {"fee_type", "CNY"},
                                                      {"cash_fee", "250"},
                                                      {"bank_type", "OTHERS"},
                                                      {"is_subscribe", "N"}};
  transport->answers.push_back(v2_answer(success, settings.api_v2_key));
  const auto paid = provider->query_code("Q1");
  EXPECT_EQ(paid.state, S::paid);
  EXPECT_EQ(paid.transaction_id, "4200v2q1");
  EXPECT_EQ(paid.amount, domain::Fen(250));
  EXPECT_EQ(paid.merchant_id, "1900000001");

  transport->answers.push_back(v2_answer({{"result_code", "FAIL"},
                                          {"err_code", "ORDERNOTEXIST"},
                                          {"err_code_des", "此交易订单号不存在"}},
                                         settings.api_v2_key));
  EXPECT_EQ(provider->query_code("Q2").state, S::not_paid);

  // Signed with another key, signed then changed, unsigned: none is believed.
  auto untrusted = [&](ScriptedTransport::Answer answer, const std::string& what) {
    transport->answers.push_back(std::move(answer));
    try {
      (void)provider->query_code("Q1");
      ADD_FAILURE() << what << " was believed";
    } catch (const ProviderError& error) {
      EXPECT_EQ(error.kind, ProviderError::Kind::bad_answer) << what;
    }
  };
  untrusted(v2_answer(success, "00000000000000000000000000000000"), "another key");
  untrusted(
      [&](const HttpRequest& request) {
        auto changed = v2_answer(success, settings.api_v2_key)(request);
        const std::string amount = "<total_fee><![CDATA[250]]>";
        changed.body.replace(changed.body.find(amount), amount.size(), "<total_fee><![CDATA[1]]>");
        return changed;
      },
      "a changed amount");
  untrusted(
      [](const HttpRequest&) {
        return HttpResponse{200,
                            {},
                            "<xml><return_code>SUCCESS</return_code><result_code>SUCCESS</"
                            "result_code><out_trade_no>Q1</out_trade_no><trade_state>SUCCESS</"
                            "trade_state><transaction_id>1</transaction_id><total_fee>250</"
                            "total_fee></xml>"};
      },
      "no sign");
  // A signed SUCCESS about another trade (a replayed answer) is not this trade's payment.
  auto elsewhere = success;
  elsewhere["out_trade_no"] = "Q9";
  untrusted(v2_answer(elsewhere, settings.api_v2_key), "another trade's answer");

  transport->answers.push_back(
      v2_answer({{"result_code", "FAIL"}, {"err_code", "SYSTEMERROR"}}, settings.api_v2_key));
  try {
    (void)provider->query_code("Q1");
    FAIL() << "SYSTEMERROR is no answer";
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::unreachable);
  }
  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{
        200, {}, wechat::v2_xml({{"return_code", "FAIL"}, {"return_msg", "签名错误"}})};
  });
  try {
    (void)provider->query_code("Q1");
    FAIL() << "a refusal is no state";
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::refused);
  }
}

TEST_F(WechatPayProvider, V3CodesArePolledWithTheV3Query) {
  transport->answers.push_back(signed_answer(
      200, R"({"out_trade_no":"Q3","trade_state":"USERPAYING","mchid":"1900000001"})"));
  EXPECT_EQ(provider->query_code("Q3").state, PaymentState::State::paying);
  EXPECT_EQ(transport->requests[0].url,
            "https://api.example.test/v3/pay/transactions/out-trade-no/Q3?mchid=1900000001");
}

TEST_F(WechatPayProvider, ACodeAnswerAboutAnotherMerchantOrAppIsNoAnswer) {
  // Paid, but for another mchid, then another appid: the counter must not take either as its
  // charge (it has no attention flag; the poll goes on and the charge is reversed).
  for (
      const char* body :
      {R"({"out_trade_no":"M1","trade_state":"SUCCESS","mchid":"1900000999","appid":"wx0000000000000001","amount":{"total":100,"payer_total":100}})",
       R"({"out_trade_no":"M1","trade_state":"SUCCESS","mchid":"1900000001","appid":"wx0000000000000999","amount":{"total":100,"payer_total":100}})"}) {
    transport->answers.push_back(signed_answer(200, body));
    try {
      provider->query_code("M1");
      ADD_FAILURE() << "taken: " << body;
    } catch (const ProviderError& e) {
      EXPECT_EQ(e.kind, ProviderError::Kind::bad_answer) << e.what();
    }
    transport->answers.push_back(signed_answer(200, body));
    EXPECT_THROW(provider->pay_with_code("M1", "134567890123456789", domain::Fen(100), "柜台"),
                 ProviderError);
  }
  // Ours: taken.
  transport->answers.push_back(signed_answer(
      200,
      R"({"out_trade_no":"M1","trade_state":"SUCCESS","mchid":"1900000001","appid":"wx0000000000000001","transaction_id":"42","amount":{"total":100,"payer_total":100}})"));
  EXPECT_EQ(provider->query_code("M1").state, PaymentState::State::paid);
}

TEST_F(WechatPayProvider, V2ReverseThatIsNotDoneSaysSo) {
  settings.code_pay_v2 = true;
  settings.api_v2_key = "192006250b4c09247ec02edce69f6a2d";
  provider = make_wechat_pay(settings, transport);
  transport->answers.push_back(
      v2_answer({{"result_code", "SUCCESS"}, {"recall", "N"}}, settings.api_v2_key));
  EXPECT_NO_THROW(provider->reverse("R1"));
  EXPECT_EQ(transport->requests[0].url, "https://api.example.test/secapi/pay/reverse");
  transport->answers.push_back(
      v2_answer({{"result_code", "FAIL"}, {"err_code", "SYSTEMERROR"}, {"recall", "Y"}},
                settings.api_v2_key));
  try {
    provider->reverse("R1");
    FAIL() << "recall=Y is not reversed";
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::unreachable);
  }
  transport->answers.push_back(
      v2_answer({{"result_code", "SUCCESS"}, {"recall", "Y"}}, settings.api_v2_key));
  EXPECT_THROW(provider->reverse("R1"), ProviderError);
  transport->answers.push_back(
      v2_answer({{"result_code", "FAIL"}, {"err_code", "ORDERNOTEXIST"}, {"recall", "N"}},
                settings.api_v2_key));
  try {
    provider->reverse("R2");
    FAIL() << "nothing was reversed";
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::refused);
    EXPECT_EQ(error.provider_code, "ORDERNOTEXIST");
  }
}

TEST_F(WechatPayProvider, ABankErrorOnACodeIsNoAnswerSoTheCounterQueriesInsteadOfDeclining) {
  // v3 codepay answers 4xx BANK_ERROR; v2 micropay result_code FAIL err_code BANKERROR.
  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{500, {}, R"({"code":"BANK_ERROR","message":"银行系统异常"})"};
  });
  try {
    (void)provider->pay_with_code("C5", "134567890123456789", domain::Fen(250), "柜台");
    FAIL() << "a bank error was taken as an answer";
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::unreachable);
  }
  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{400, {}, R"({"code":"BANK_ERROR","message":"银行系统异常"})"};
  });
  EXPECT_THROW(
      {
        try {
          (void)provider->pay_with_code("C6", "134567890123456789", domain::Fen(250), "柜台");
        } catch (const ProviderError& error) {
          EXPECT_EQ(error.kind, ProviderError::Kind::unreachable);
          throw;
        }
      },
      ProviderError);

  settings.code_pay_v2 = true;
  settings.api_v2_key = "192006250b4c09247ec02edce69f6a2d";
  provider = make_wechat_pay(settings, transport);
  transport->answers.push_back(
      v2_answer({{"result_code", "FAIL"}, {"err_code", "BANKERROR"}}, settings.api_v2_key));
  try {
    (void)provider->pay_with_code("C7", "134567890123456789", domain::Fen(250), "柜台");
    FAIL() << "BANKERROR was taken as a decline";
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::unreachable);
    EXPECT_EQ(error.provider_code, "BANKERROR");
  }
}

// Only the payer's own no (a bad code, no balance) is a decline. ORDERPAID, OUT_TRADE_NO_USED or
// a code new to us may hide a payment: a refusal, which the counter answers with a query. 429
// (too many requests) is no answer at all, whatever the call.
TEST_F(WechatPayProvider, ACodeRefusalThatMayHideAPaymentIsAskedAboutNotDeclined) {
  for (const char* code : {"ORDERPAID", "OUT_TRADE_NO_USED", "SOMETHING_NEW"}) {
    transport->answers.push_back([code](const HttpRequest&) {
      return HttpResponse{400, {}, std::string(R"({"code":")") + code + R"(","message":"x"})"};
    });
    try {
      (void)provider->pay_with_code("C8", "134567890123456789", domain::Fen(250), "柜台");
      FAIL() << code << " was taken as a decline";
    } catch (const ProviderError& error) {
      EXPECT_EQ(error.kind, ProviderError::Kind::refused) << code;
      EXPECT_EQ(error.provider_code, code);
    }
  }
  transport->answers.push_back([](const HttpRequest&) {
    return HttpResponse{429, {}, R"({"code":"FREQUENCY_LIMITED","message":"频率超限"})"};
  });
  try {
    (void)provider->refund({"A9", "A9R1", domain::Fen(100), domain::Fen(250), ""});
    FAIL() << "429 was taken as a refusal";
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::unreachable);
  }

  settings.code_pay_v2 = true;
  settings.api_v2_key = "192006250b4c09247ec02edce69f6a2d";
  provider = make_wechat_pay(settings, transport);
  transport->answers.push_back(
      v2_answer({{"result_code", "FAIL"}, {"err_code", "ORDERPAID"}}, settings.api_v2_key));
  try {
    (void)provider->pay_with_code("C9", "134567890123456789", domain::Fen(250), "柜台");
    FAIL() << "ORDERPAID was taken as a decline";
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::refused);
  }
  transport->answers.push_back(
      v2_answer({{"result_code", "FAIL"}, {"err_code", "NOTENOUGH"}}, settings.api_v2_key));
  EXPECT_EQ(provider->pay_with_code("C10", "134567890123456789", domain::Fen(250), "柜台").state,
            PaymentState::State::failed);
  // A success about another trade is not this one's.
  transport->answers.push_back(v2_answer({{"result_code", "SUCCESS"},
                                          {"out_trade_no", "OTHER"},
                                          {"transaction_id", "4200v2"},
                                          {"total_fee", "250"}},
                                         settings.api_v2_key));
  try {
    (void)provider->pay_with_code("C11", "134567890123456789", domain::Fen(250), "柜台");
    FAIL();
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::bad_answer);
  }
}

}  // namespace
}  // namespace yizhan::payments
