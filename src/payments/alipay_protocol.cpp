// Alipay gateway message formats (reference pos-payments.md §4), pure functions.
#include "yizhan/payments/alipay_protocol.hpp"

#include <cstdio>
#include <ctime>

namespace yizhan::payments::alipay {
namespace {

// The end of the JSON value that starts at `at` (an object), strings and escapes respected.
std::optional<std::size_t> object_end(std::string_view text, std::size_t at) {
  if (at >= text.size() || text[at] != '{') return std::nullopt;
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = at; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{') {
      ++depth;
    } else if (c == '}') {
      if (--depth == 0) return i + 1;
    }
  }
  return std::nullopt;
}

std::size_t skip_space(std::string_view text, std::size_t at) {
  while (at < text.size() &&
         (text[at] == ' ' || text[at] == '\n' || text[at] == '\r' || text[at] == '\t'))
    ++at;
  return at;
}

}  // namespace

std::string sign_content(const std::map<std::string, std::string>& fields, bool without_sign_type) {
  std::string content;
  for (const auto& [name, value] : fields) {
    if (name == "sign" || value.empty() || (without_sign_type && name == "sign_type")) continue;
    if (!content.empty()) content += '&';
    content += name;
    content += '=';
    content += value;
  }
  return content;
}

std::map<std::string, std::string> signed_request(const PrivateKey& app_key,
                                                  std::string_view app_id, std::string_view method,
                                                  std::string_view biz_content,
                                                  std::string_view notify_url,
                                                  std::string_view return_url,
                                                  Clock::time_point now) {
  std::map<std::string, std::string> fields = {{"app_id", std::string(app_id)},
                                               {"method", std::string(method)},
                                               {"format", "JSON"},
                                               {"charset", "utf-8"},
                                               {"sign_type", "RSA2"},
                                               {"timestamp", beijing_time(now)},
                                               {"version", "1.0"},
                                               {"biz_content", std::string(biz_content)}};
  if (!notify_url.empty()) fields["notify_url"] = notify_url;
  if (!return_url.empty()) fields["return_url"] = return_url;
  fields["sign"] = app_key.sign_sha256(sign_content(fields, false));
  return fields;
}

bool verify_request(const std::map<std::string, std::string>& fields, const PublicKey& app_key) {
  const auto sign = fields.find("sign");
  return sign != fields.end() && app_key.verify_sha256(sign_content(fields, false), sign->second);
}

bool verify_notification(const std::map<std::string, std::string>& fields,
                         const PublicKey& alipay_key) {
  const auto sign = fields.find("sign");
  return sign != fields.end() && alipay_key.verify_sha256(sign_content(fields, true), sign->second);
}

std::optional<SignedNode> find_signed_node(std::string_view body, std::string_view method) {
  for (const std::string& name : {response_name(method), std::string("error_response")}) {
    const std::string key = "\"" + name + "\"";
    const std::size_t found = body.find(key);
    if (found == std::string_view::npos) continue;
    std::size_t at = skip_space(body, found + key.size());
    if (at >= body.size() || body[at] != ':') continue;
    at = skip_space(body, at + 1);
    const auto end = object_end(body, at);
    if (!end) return std::nullopt;
    SignedNode result;
    result.node = std::string(body.substr(at, *end - at));
    // The signature follows the node: ,"sign":"…"
    std::size_t next = skip_space(body, *end);
    if (next < body.size() && body[next] == ',') {
      next = skip_space(body, next + 1);
      constexpr std::string_view kSign = "\"sign\"";
      if (body.substr(next, kSign.size()) == kSign) {
        next = skip_space(body, next + kSign.size());
        if (next < body.size() && body[next] == ':') {
          next = skip_space(body, next + 1);
          if (next < body.size() && body[next] == '"') {
            const std::size_t close = body.find('"', next + 1);
            if (close != std::string_view::npos)
              result.sign = std::string(body.substr(next + 1, close - next - 1));
          }
        }
      }
    }
    return result;
  }
  return std::nullopt;
}

std::string signed_answer(const PrivateKey& alipay_key, std::string_view method,
                          std::string_view node) {
  return "{\"" + response_name(method) + "\":" + std::string(node) + ",\"sign\":\"" +
         alipay_key.sign_sha256(node) + "\"}";
}

std::string response_name(std::string_view method) {
  std::string name(method);
  for (char& c : name)
    if (c == '.') c = '_';
  return name + "_response";
}

std::optional<PaymentState::State> state_of(std::string_view trade_status) {
  using S = PaymentState::State;
  if (trade_status == "TRADE_SUCCESS" || trade_status == "TRADE_FINISHED") return S::paid;
  if (trade_status == "WAIT_BUYER_PAY") return S::not_paid;
  if (trade_status == "TRADE_CLOSED") return S::closed;
  return std::nullopt;
}

std::string beijing_time(Clock::time_point time) {
  const std::time_t seconds = Clock::to_time_t(time) + 8 * 3600;
  std::tm parts{};
  gmtime_r(&seconds, &parts);
  char text[96];
  std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d", parts.tm_year + 1900,
                parts.tm_mon + 1, parts.tm_mday, parts.tm_hour, parts.tm_min, parts.tm_sec);
  return text;
}

std::optional<Clock::time_point> parse_beijing_time(std::string_view text) {
  if (text.size() != 19) return std::nullopt;
  std::tm parts{};
  int year, month, day;
  if (std::sscanf(std::string(text).c_str(), "%4d-%2d-%2d %2d:%2d:%2d", &year, &month, &day,
                  &parts.tm_hour, &parts.tm_min, &parts.tm_sec) != 6)
    return std::nullopt;
  parts.tm_year = year - 1900;
  parts.tm_mon = month - 1;
  parts.tm_mday = day;
  return Clock::from_time_t(timegm(&parts) - 8 * 3600);
}

std::optional<domain::Fen> parse_amount(std::string_view text) {
  const auto amount = domain::Fen::parse(text);
  if (!amount || *amount < domain::Fen(0) || amount->format() != text) return std::nullopt;
  return amount;
}

}  // namespace yizhan::payments::alipay
