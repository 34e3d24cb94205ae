// HTTP request and response as plain values, so handlers never see a socket or Beast.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "yizhan/domain/access.hpp"

namespace yizhan::api {

/// A request as handlers see it. Header names are lower-case.
struct Request {
  std::string method;  ///< "GET", "POST", …
  std::string path;    ///< decoded path without the query string
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> headers;
  std::string body;
  std::string client_address;
  std::map<std::string, std::string> path_parameters;  ///< filled by the router
  bool tls = false;        ///< arrived over HTTPS (or through a trusted proxy that terminated TLS)
  std::string request_id;  ///< X-Request-Id: in every log line about this request
  std::optional<domain::Principal> principal;  ///< the signed-in caller, if any
  std::string session_token;                   ///< the yz_session cookie, if any

  /// The header's value, if present (`name` in lower case).
  [[nodiscard]] std::optional<std::string_view> header(std::string_view name) const;
};

/// A response. `body` is owned; `shared_body`, when set, is sent instead without a copy.
struct Response {
  int status = 200;
  std::string content_type = "application/json; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::shared_ptr<const std::string> shared_body;

  /// The bytes to send.
  [[nodiscard]] std::string_view payload() const {
    return shared_body ? std::string_view(*shared_body) : std::string_view(body);
  }
};

/// The value of cookie `name` from the Cookie header, if present.
std::optional<std::string> cookie(const Request& request, std::string_view name);

/// A Set-Cookie value: `name=value` for `path`, `max_age` seconds (0 deletes it), HttpOnly,
/// with `same_site` ("Strict" or "Lax"), and Secure when the request came over TLS.
std::string set_cookie(std::string_view name, std::string_view value, std::string_view path,
                       int max_age, std::string_view same_site, bool tls);

/// Splits "a=1&b=%E8%8C%B6" into decoded pairs ('+' is a space). Bad escapes are kept as text.
std::map<std::string, std::string> parse_query(std::string_view query);

/// Percent-decodes a path or query component; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space);

/// Whether a Content-Type value names `media_type` ("application/json"), ignoring case and
/// parameters: `Application/JSON; charset=UTF-8` is JSON (RFC 9110 8.3.1).
bool media_type_is(std::string_view content_type, std::string_view media_type);

/// Whether an If-None-Match value matches `etag` (weak comparison, lists, "*"; RFC 9110
/// 13.1.2). The one implementation, for static files and API responses alike.
bool etag_matches(std::string_view if_none_match, std::string_view etag);

}  // namespace yizhan::api
