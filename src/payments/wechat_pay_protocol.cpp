// WeChat Pay API v3 message formats (reference pos-payments.md §3), pure functions.
#include "yizhan/payments/wechat_pay_protocol.hpp"

#include <nlohmann/json.hpp>

#include <cctype>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <ctime>

#include "yizhan/payments/form.hpp"

namespace yizhan::payments::wechat {
namespace {

using nlohmann::json;

constexpr std::string_view kScheme = "WECHATPAY2-SHA256-RSA2048";

std::string header(const std::map<std::string, std::string>& headers, const std::string& name) {
  const auto at = headers.find(name);
  return at == headers.end() ? std::string{} : at->second;
}

bool all_digits(std::string_view text) {
  if (text.empty() || text.size() > 12) return false;
  for (char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string text_field(const json& object, const char* name) {
  const auto at = object.find(name);
  return at != object.end() && at->is_string() ? at->get<std::string>() : std::string{};
}

// trade_state (v3 and v2 alike) as a state; bad_answer when WeChat Pay says something unknown.
PaymentState::State state_of_trade(const std::string& trade_state) {
  using S = PaymentState::State;
  static const std::map<std::string, S> kStates = {
      {"SUCCESS", S::paid},      {"REFUND", S::refunded}, {"NOTPAY", S::not_paid},
      {"USERPAYING", S::paying}, {"CLOSED", S::closed},   {"REVOKED", S::closed},
      {"PAYERROR", S::failed}};
  const auto known = kStates.find(trade_state);
  if (known == kStates.end())
    throw ProviderError(ProviderError::Kind::bad_answer,
                        "WeChat Pay answered an unknown trade_state '" + trade_state + "'");
  return known->second;
}

std::string field(const std::map<std::string, std::string>& fields, const std::string& name) {
  const auto at = fields.find(name);
  return at == fields.end() ? std::string{} : at->second;
}

}  // namespace

std::string request_message(std::string_view method, std::string_view url,
                            std::string_view timestamp, std::string_view nonce,
                            std::string_view body) {
  std::string message;
  message.reserve(method.size() + url.size() + timestamp.size() + nonce.size() + body.size() + 5);
  for (std::string_view line : {method, url, timestamp, nonce, body}) {
    message += line;
    message += '\n';
  }
  return message;
}

std::string answer_message(std::string_view timestamp, std::string_view nonce,
                           std::string_view body) {
  std::string message;
  for (std::string_view line : {timestamp, nonce, body}) {
    message += line;
    message += '\n';
  }
  return message;
}

std::string authorization_header(const Authorization& items) {
  std::string value(kScheme);
  value += " mchid=\"" + items.mchid + "\",nonce_str=\"" + items.nonce_str + "\",signature=\"" +
           items.signature + "\",timestamp=\"" + items.timestamp + "\",serial_no=\"" +
           items.serial_no + "\"";
  return value;
}

std::string sign_request(const PrivateKey& merchant_key, std::string_view mch_id,
                         std::string_view merchant_serial, std::string_view method,
                         std::string_view url, std::string_view body, std::string_view timestamp,
                         std::string_view nonce) {
  Authorization items;
  items.mchid = mch_id;
  items.nonce_str = nonce;
  items.timestamp = timestamp;
  items.serial_no = merchant_serial;
  items.signature = merchant_key.sign_sha256(request_message(method, url, timestamp, nonce, body));
  return authorization_header(items);
}

std::optional<Authorization> parse_authorization(std::string_view header) {
  if (!header.starts_with(kScheme) || header.size() <= kScheme.size() ||
      header[kScheme.size()] != ' ')
    return std::nullopt;
  std::string_view rest = header.substr(kScheme.size() + 1);
  std::map<std::string, std::string, std::less<>> items;
  while (!rest.empty()) {
    while (!rest.empty() && (rest.front() == ' ' || rest.front() == ','))
      rest.remove_prefix(1);
    if (rest.empty()) break;
    const std::size_t equals = rest.find('=');
    if (equals == std::string_view::npos || equals + 1 >= rest.size() || rest[equals + 1] != '"')
      return std::nullopt;
    const std::string_view name = rest.substr(0, equals);
    const std::size_t close = rest.find('"', equals + 2);
    if (close == std::string_view::npos) return std::nullopt;
    if (!items.emplace(std::string(name), std::string(rest.substr(equals + 2, close - equals - 2)))
             .second)
      return std::nullopt;  // an item twice: refuse rather than guess which one counts
    rest.remove_prefix(close + 1);
  }
  Authorization result;
  for (auto [name, field] :
       {std::pair{"mchid", &result.mchid}, std::pair{"nonce_str", &result.nonce_str},
        std::pair{"signature", &result.signature}, std::pair{"timestamp", &result.timestamp},
        std::pair{"serial_no", &result.serial_no}}) {
    const auto at = items.find(name);
    if (at == items.end() || at->second.empty()) return std::nullopt;
    *field = at->second;
  }
  return result;
}

std::optional<std::string> check_signature(const std::map<std::string, std::string>& headers,
                                           std::string_view body, const PublicKey& platform_key,
                                           std::string_view platform_serial,
                                           Clock::time_point now) {
  const std::string timestamp = header(headers, "wechatpay-timestamp");
  const std::string nonce = header(headers, "wechatpay-nonce");
  const std::string signature = header(headers, "wechatpay-signature");
  const std::string serial = header(headers, "wechatpay-serial");
  if (timestamp.empty() || nonce.empty() || signature.empty() || serial.empty())
    return "Wechatpay-Timestamp/-Nonce/-Signature/-Serial missing";
  if (serial != platform_serial) return "unknown Wechatpay-Serial " + serial;
  if (!all_digits(timestamp)) return "malformed Wechatpay-Timestamp";
  long long seconds = 0;
  std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), seconds);
  const auto sent = Clock::time_point(std::chrono::seconds(seconds));
  const auto skew = sent > now ? sent - now : now - sent;
  if (skew > kTimestampWindow) return "Wechatpay-Timestamp more than 5 minutes off";
  if (!platform_key.verify_sha256(answer_message(timestamp, nonce, body), signature))
    return "Wechatpay-Signature does not verify";
  return std::nullopt;
}

std::map<std::string, std::string> sign_answer(const PrivateKey& platform_key,
                                               std::string_view platform_serial,
                                               std::string_view body, Clock::time_point now) {
  const std::string timestamp = std::to_string(
      std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count());
  const std::string nonce = random_token(32);
  return {{"Wechatpay-Timestamp", timestamp},
          {"Wechatpay-Nonce", nonce},
          {"Wechatpay-Serial", std::string(platform_serial)},
          {"Wechatpay-Signature", platform_key.sign_sha256(answer_message(timestamp, nonce, body))},
          {"Request-ID", random_token(24)}};
}

NotificationEnvelope open_notification(std::string_view body, std::string_view api_v3_key) {
  const json document = json::parse(body, nullptr, false);
  if (!document.is_object() || !document.contains("resource") || !document["resource"].is_object())
    throw RejectedNotification("notification body is not a WeChat Pay notification");
  const json& resource = document["resource"];
  NotificationEnvelope envelope;
  envelope.id = text_field(document, "id");
  envelope.event_type = text_field(document, "event_type");
  envelope.resource_type = text_field(document, "resource_type");
  envelope.summary = text_field(document, "summary");
  envelope.original_type = text_field(resource, "original_type");
  envelope.algorithm = text_field(resource, "algorithm");
  envelope.associated_data = text_field(resource, "associated_data");
  if (envelope.algorithm != "AEAD_AES_256_GCM")
    throw RejectedNotification("unknown resource algorithm " + envelope.algorithm);
  auto plaintext = aes_gcm_decrypt(api_v3_key, text_field(resource, "nonce"),
                                   envelope.associated_data, text_field(resource, "ciphertext"));
  if (!plaintext) throw RejectedNotification("notification resource does not decrypt");
  envelope.plaintext = std::move(*plaintext);
  return envelope;
}

std::string seal_notification(std::string_view id, std::string_view event_type,
                              std::string_view summary, std::string_view original_type,
                              std::string_view plaintext, std::string_view api_v3_key,
                              Clock::time_point now) {
  const std::string nonce = random_token(12);
  const std::string associated_data = std::string(original_type);
  json body = {{"id", id},
               {"create_time", rfc3339_beijing(now)},
               {"resource_type", "encrypt-resource"},
               {"event_type", event_type},
               {"summary", summary},
               {"resource",
                {{"original_type", original_type},
                 {"algorithm", "AEAD_AES_256_GCM"},
                 {"ciphertext", aes_gcm_encrypt(api_v3_key, nonce, associated_data, plaintext)},
                 {"associated_data", associated_data},
                 {"nonce", nonce}}}};
  return body.dump();
}

JsapiParameters jsapi_parameters(const PrivateKey& merchant_key, std::string_view app_id,
                                 std::string_view prepay_id, std::string_view time_stamp,
                                 std::string_view nonce_str) {
  JsapiParameters parameters;
  parameters.app_id = app_id;
  parameters.time_stamp = time_stamp;
  parameters.nonce_str = nonce_str;
  parameters.package = "prepay_id=" + std::string(prepay_id);
  parameters.sign_type = "RSA";
  parameters.pay_sign =
      merchant_key.sign_sha256(parameters.app_id + "\n" + parameters.time_stamp + "\n" +
                               parameters.nonce_str + "\n" + parameters.package + "\n");
  return parameters;
}

std::string jsapi_json(const JsapiParameters& p) {
  return json{{"appId", p.app_id},    {"timeStamp", p.time_stamp}, {"nonceStr", p.nonce_str},
              {"package", p.package}, {"signType", p.sign_type},   {"paySign", p.pay_sign}}
      .dump();
}

std::string sign_in_url(std::string_view base_url, std::string_view app_id,
                        std::string_view redirect_url, std::string_view state) {
  return std::string(base_url) + "/connect/oauth2/authorize?appid=" + url_encode(app_id) +
         "&redirect_uri=" + url_encode(redirect_url) +
         "&response_type=code&scope=snsapi_base&state=" + url_encode(state) + "#wechat_redirect";
}

std::string sns_access_token_path(std::string_view app_id, std::string_view secret,
                                  std::string_view code) {
  return "/sns/oauth2/access_token?appid=" + url_encode(app_id) + "&secret=" + url_encode(secret) +
         "&code=" + url_encode(code) + "&grant_type=authorization_code";
}

std::string parse_sns_openid(std::string_view body) {
  const auto answer = nlohmann::json::parse(body, nullptr, false);
  if (!answer.is_object())
    throw ProviderError(ProviderError::Kind::bad_answer, "WeChat sign-in answered no JSON object");
  if (const auto code = answer.find("errcode");
      code != answer.end() && code->is_number_integer() && code->get<long long>() != 0) {
    const auto message = answer.find("errmsg");
    throw ProviderError(
        ProviderError::Kind::refused,
        "WeChat sign-in refused: " + (message != answer.end() && message->is_string()
                                          ? message->get<std::string>()
                                          : std::string("no errmsg")),
        std::to_string(code->get<long long>()));
  }
  const auto openid = answer.find("openid");
  if (openid == answer.end() || !openid->is_string() || openid->get<std::string>().empty() ||
      openid->get<std::string>().size() > 128)
    throw ProviderError(ProviderError::Kind::bad_answer, "WeChat sign-in answer lacks openid");
  return openid->get<std::string>();
}

std::string v2_sign(const std::map<std::string, std::string>& fields, std::string_view key,
                    bool hmac_sha256) {
  std::string content;
  for (const auto& [name, value] : fields) {
    if (name == "sign" || value.empty()) continue;
    content += name + "=" + value + "&";
  }
  content += "key=";
  content += key;
  return hmac_sha256 ? hmac_sha256_upper_hex(key, content) : md5_upper_hex(content);
}

std::string v2_xml(const std::map<std::string, std::string>& fields) {
  std::string xml = "<xml>";
  for (const auto& [name, value] : fields) {
    std::string safe = value;
    // "]]>" would end the CDATA section early; split it across two sections.
    for (std::size_t at = safe.find("]]>"); at != std::string::npos; at = safe.find("]]>", at + 15))
      safe.replace(at, 3, "]]]]><![CDATA[>");
    xml += "<" + name + "><![CDATA[" + safe + "]]></" + name + ">";
  }
  xml += "</xml>";
  return xml;
}

std::optional<std::map<std::string, std::string>> parse_v2_xml(std::string_view xml) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
      s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
      s.remove_suffix(1);
    return s;
  };
  xml = trim(xml);
  if (xml.starts_with("<?xml")) {
    const std::size_t end = xml.find("?>");
    if (end == std::string_view::npos) return std::nullopt;
    xml = trim(xml.substr(end + 2));
  }
  if (!xml.starts_with("<xml>") || !xml.ends_with("</xml>")) return std::nullopt;
  std::string_view rest = xml.substr(5, xml.size() - 11);
  std::map<std::string, std::string> fields;
  while (!(rest = trim(rest)).empty()) {
    if (rest.front() != '<') return std::nullopt;
    const std::size_t close = rest.find('>');
    if (close == std::string_view::npos || close < 2) return std::nullopt;
    const std::string name(rest.substr(1, close - 1));
    for (char c : name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return std::nullopt;
    const std::string end_tag = "</" + name + ">";
    const std::size_t end = rest.find(end_tag, close + 1);
    if (end == std::string_view::npos) return std::nullopt;
    std::string_view inner = rest.substr(close + 1, end - close - 1);
    std::string value;
    while (!inner.empty()) {
      if (inner.starts_with("<![CDATA[")) {
        const std::size_t stop = inner.find("]]>");
        if (stop == std::string_view::npos) return std::nullopt;
        value += inner.substr(9, stop - 9);
        inner.remove_prefix(stop + 3);
      } else {
        const std::size_t next = inner.find("<![CDATA[");
        value += inner.substr(0, next);
        inner.remove_prefix(next == std::string_view::npos ? inner.size() : next);
      }
    }
    fields[name] = value;
    rest.remove_prefix(end + end_tag.size());
  }
  return fields;
}

PaymentState parse_transaction(std::string_view text) {
  const json document = json::parse(text, nullptr, false);
  if (!document.is_object())
    throw ProviderError(ProviderError::Kind::bad_answer, "WeChat Pay answered no JSON object");
  PaymentState state;
  state.out_trade_no = text_field(document, "out_trade_no");
  state.transaction_id = text_field(document, "transaction_id");
  state.merchant_id = text_field(document, "mchid");
  state.app_id = text_field(document, "appid");
  state.raw_state = text_field(document, "trade_state");
  state.state = state_of_trade(state.raw_state);
  if (const auto amount = document.find("amount");
      amount != document.end() && amount->is_object()) {
    // A total beyond int64 (2^63 as an unsigned number) is unreadable, not a wrapped negative.
    const auto total = amount->find("total");
    if (total != amount->end() && total->is_number_integer() &&
        (!total->is_number_unsigned() ||
         total->get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX)))
      state.amount = domain::Fen(total->get<std::int64_t>());
    if (const auto currency = amount->find("currency"); currency != amount->end())
      state.currency = currency->is_string() ? currency->get<std::string>() : "?";
  }
  if (auto paid = parse_rfc3339(text_field(document, "success_time"))) state.paid_at = paid;
  return state;
}

PaymentState parse_v2_order(const std::map<std::string, std::string>& answer,
                            std::string_view out_trade_no) {
  using Kind = ProviderError::Kind;
  PaymentState state;
  state.out_trade_no = std::string(out_trade_no);
  state.merchant_id = field(answer, "mch_id");
  state.app_id = field(answer, "appid");
  if (field(answer, "result_code") != "SUCCESS") {
    const std::string code = field(answer, "err_code");
    // Only a trade that was never created is unknown to orderquery: no money moved.
    if (code == "ORDERNOTEXIST") {
      state.raw_state = code;
      return state;
    }
    throw ProviderError(code == "SYSTEMERROR" ? Kind::unreachable : Kind::refused,
                        "WeChat Pay v2 orderquery: " + (code.empty() ? "FAIL" : code) + " " +
                            field(answer, "err_code_des").substr(0, 200),
                        code);
  }
  const std::string answered_no = field(answer, "out_trade_no");
  if (!answered_no.empty() && answered_no != out_trade_no)
    throw ProviderError(Kind::bad_answer,
                        "WeChat Pay v2 orderquery answered about another trade " + answered_no);
  state.raw_state = field(answer, "trade_state");
  // ACCEPT: taken, the money not yet moved (v2 only): still to be polled like a password.
  state.state =
      state.raw_state == "ACCEPT" ? PaymentState::State::paying : state_of_trade(state.raw_state);
  state.transaction_id = field(answer, "transaction_id");
  const std::string total = field(answer, "total_fee");
  std::int64_t fen = 0;
  const auto [end, error] = std::from_chars(total.data(), total.data() + total.size(), fen);
  const bool whole = !total.empty() && error == std::errc{} && end == total.data() + total.size();
  if (whole) state.amount = domain::Fen(fen);
  state.paid_at = parse_v2_time(field(answer, "time_end"));
  // Paid: the trade, its id and its amount must all be there to be believed.
  if (state.state == PaymentState::State::paid &&
      (answered_no.empty() || state.transaction_id.empty() || !whole || fen <= 0))
    throw ProviderError(Kind::bad_answer,
                        "WeChat Pay v2 orderquery: a SUCCESS answer lacks out_trade_no, "
                        "transaction_id or total_fee");
  return state;
}

std::string v2_time_beijing(Clock::time_point time) {
  std::string digits;
  for (const char c : rfc3339_beijing(time).substr(0, 19))
    if (std::isdigit(static_cast<unsigned char>(c))) digits += c;
  return digits;
}

std::optional<Clock::time_point> parse_v2_time(std::string_view text) {
  if (text.size() != 14) return std::nullopt;
  for (const char c : text)
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  const std::string t(text);
  return parse_rfc3339(t.substr(0, 4) + "-" + t.substr(4, 2) + "-" + t.substr(6, 2) + "T" +
                       t.substr(8, 2) + ":" + t.substr(10, 2) + ":" + t.substr(12, 2) + "+08:00");
}

std::string rfc3339_beijing(Clock::time_point time) {
  const std::time_t seconds = Clock::to_time_t(time) + 8 * 3600;
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
  return text;
}

std::optional<Clock::time_point> parse_rfc3339(std::string_view text) {
  int year, month, day, hour, minute, second;
  if (text.size() < 20 ||
      std::sscanf(std::string(text.substr(0, 19)).c_str(), "%4d-%2d-%2dT%2d:%2d:%2d", &year, &month,
                  &day, &hour, &minute, &second) != 6)
    return std::nullopt;
  std::string_view zone = text.substr(19);
  if (zone.starts_with('.')) {
    std::size_t digits = 1;
    while (digits < zone.size() && std::isdigit(static_cast<unsigned char>(zone[digits])))
      ++digits;
    zone.remove_prefix(digits);
  }
  long offset = 0;
  if (zone == "Z") {
    offset = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int hours = 0, minutes = 0;
    if (std::sscanf(std::string(zone.substr(1)).c_str(), "%2d:%2d", &hours, &minutes) != 2)
      return std::nullopt;
    offset = (zone[0] == '+' ? 1 : -1) * (hours * 3600L + minutes * 60L);
  } else {
    return std::nullopt;
  }
  std::tm parts{};
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  parts.tm_hour = hour;
  parts.tm_min = minute;
  parts.tm_sec = second;
  return Clock::from_time_t(timegm(&parts) - offset);
}

}  // namespace yizhan::payments::wechat
