// WeChat Pay API v3 messages, without I/O: request signatures and the Authorization header,
// verification of signed answers and notifications, resource decryption, JSAPI paySign, the v2
// signature and XML of micropay/orderquery, and the mapping of trade_state to PaymentState.
// Shared with the simulator.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "yizhan/payments/crypto.hpp"
#include "yizhan/payments/provider.hpp"

namespace yizhan::payments::wechat {

/// The 5-minute window of Wechatpay-Timestamp around the receiver's clock.
inline constexpr std::chrono::seconds kTimestampWindow{300};

/// "METHOD\nURL\nTIMESTAMP\nNONCE\nBODY\n" (URL = path and query, body empty for GET).
std::string request_message(std::string_view method, std::string_view url,
                            std::string_view timestamp, std::string_view nonce,
                            std::string_view body);

/// "TIMESTAMP\nNONCE\nBODY\n": what WeChat Pay signs in answers and notifications.
std::string answer_message(std::string_view timestamp, std::string_view nonce,
                           std::string_view body);

/// The five items of `Authorization: WECHATPAY2-SHA256-RSA2048 …`.
struct Authorization {
  std::string mchid, nonce_str, signature, timestamp, serial_no;
};

/// The header value `WECHATPAY2-SHA256-RSA2048 mchid="…",nonce_str="…",signature="…",
/// timestamp="…",serial_no="…"` for one request, signed with the merchant key.
std::string authorization_header(const Authorization& items);
/// Signs a request and returns its Authorization header value.
std::string sign_request(const PrivateKey& merchant_key, std::string_view mch_id,
                         std::string_view merchant_serial, std::string_view method,
                         std::string_view url, std::string_view body, std::string_view timestamp,
                         std::string_view nonce);
/// Takes the header apart (items in any order); nothing when the scheme or an item is missing.
std::optional<Authorization> parse_authorization(std::string_view header);

/// Checks a signed answer or notification: the four Wechatpay-* headers (names lower-case)
/// present, serial equal to `platform_serial`, timestamp within 5 minutes of `now`, signature
/// valid under `platform_key`. Returns nothing when good, else why not (for the log).
std::optional<std::string> check_signature(const std::map<std::string, std::string>& headers,
                                           std::string_view body, const PublicKey& platform_key,
                                           std::string_view platform_serial, Clock::time_point now);

/// The headers the platform puts on a signed answer (used by the simulator).
std::map<std::string, std::string> sign_answer(const PrivateKey& platform_key,
                                               std::string_view platform_serial,
                                               std::string_view body, Clock::time_point now);

/// A notification's body taken apart and its resource decrypted.
struct NotificationEnvelope {
  std::string id, event_type, resource_type, summary;
  std::string original_type, algorithm, associated_data;
  std::string plaintext;  ///< the decrypted resource (a transaction or refund object as JSON)
};
/// Parses the body and decrypts its resource with the APIv3 key; throws RejectedNotification
/// when the JSON is malformed or the resource does not decrypt (tampered, wrong key).
NotificationEnvelope open_notification(std::string_view body, std::string_view api_v3_key);
/// The inverse (simulator): a notification body with `plaintext` encrypted under the key.
std::string seal_notification(std::string_view id, std::string_view event_type,
                              std::string_view summary, std::string_view original_type,
                              std::string_view plaintext, std::string_view api_v3_key,
                              Clock::time_point now);

/// The JSAPI parameters for WeixinJSBridge: paySign over "appId\ntimeStamp\nnonceStr\npackage\n".
JsapiParameters jsapi_parameters(const PrivateKey& merchant_key, std::string_view app_id,
                                 std::string_view prepay_id, std::string_view time_stamp,
                                 std::string_view nonce_str);

/// The parameters as WeixinJSBridge takes them: {"appId","timeStamp","nonceStr","package",
/// "signType","paySign"}.
std::string jsapi_json(const JsapiParameters& parameters);

/// 网页授权 (snsapi_base): the address that signs a payer in silently inside WeChat and sends the
/// browser to `redirect_url?code=…&state=…`:
/// BASE/connect/oauth2/authorize?appid=…&redirect_uri=…&response_type=code&scope=snsapi_base
/// &state=…#wechat_redirect (the parameters in this order, as WeChat requires).
std::string sign_in_url(std::string_view base_url, std::string_view app_id,
                        std::string_view redirect_url, std::string_view state);
/// The path and query that exchange a sign-in's code for the openid:
/// /sns/oauth2/access_token?appid=…&secret=…&code=…&grant_type=authorization_code
std::string sns_access_token_path(std::string_view app_id, std::string_view secret,
                                  std::string_view code);
/// The openid in /sns/oauth2/access_token's answer. WeChat answers errors with HTTP 200 and
/// {"errcode":40029,"errmsg":"invalid code"}: throws ProviderError(refused) with the errcode
/// then, and ProviderError(bad_answer) for anything that is not JSON with an openid.
std::string parse_sns_openid(std::string_view body);

/// The v2 API's signature: non-empty fields but `sign` sorted, `k=v&…&key=KEY`, MD5 or
/// HMAC-SHA256, upper-case hex.
std::string v2_sign(const std::map<std::string, std::string>& fields, std::string_view key,
                    bool hmac_sha256);
/// `<xml><k><![CDATA[v]]></k>…</xml>`.
std::string v2_xml(const std::map<std::string, std::string>& fields);
/// Flat `<xml>` children (CDATA or text); nothing when it is not such a document.
std::optional<std::map<std::string, std::string>> parse_v2_xml(std::string_view xml);

/// A v2 /pay/orderquery answer whose return_code and sign were checked, as a state: result_code
/// FAIL with ORDERNOTEXIST → not_paid (raw_state ORDERNOTEXIST), trade_state mapped as
/// parse_transaction does (ACCEPT, still being charged, → paying). Throws ProviderError:
/// bad_answer for an unknown trade_state, an answer about another trade than `out_trade_no`, or
/// SUCCESS without out_trade_no, transaction_id and a whole total_fee; unreachable for
/// SYSTEMERROR; refused for another err_code.
PaymentState parse_v2_order(const std::map<std::string, std::string>& answer,
                            std::string_view out_trade_no);
/// The v2 API's times: "yyyyMMddHHmmss" in Beijing time (time_end).
std::string v2_time_beijing(Clock::time_point time);
/// Reads a v2 time; nothing when malformed.
std::optional<Clock::time_point> parse_v2_time(std::string_view text);

/// A v3 transaction object (query answer, decrypted notification, codepay answer) as a state:
/// SUCCESS → paid, REFUND → refunded, NOTPAY → not_paid, USERPAYING → paying, CLOSED/REVOKED →
/// closed, PAYERROR → failed. Throws ProviderError(bad_answer) for malformed JSON.
PaymentState parse_transaction(std::string_view json);

/// RFC 3339 with +08:00, as WeChat writes times ("2026-12-02T20:42:43+08:00").
std::string rfc3339_beijing(Clock::time_point time);
/// Reads an RFC 3339 time with an offset; nothing when malformed.
std::optional<Clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace yizhan::payments::wechat
