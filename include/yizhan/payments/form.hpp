// URLs and application/x-www-form-urlencoded text, as Alipay's gateway and notifications use them.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace yizhan::payments {

/// Percent-encodes everything but RFC 3986 unreserved characters (spaces become %20).
std::string url_encode(std::string_view text);
/// Decodes %XX and, in form bodies, '+' as a space; nothing on a malformed escape.
std::optional<std::string> url_decode(std::string_view text, bool plus_is_space = true);

/// Form fields in the order they came; nothing when any field is malformed.
std::optional<std::vector<std::pair<std::string, std::string>>> parse_form(std::string_view body);
/// `k=v&…` with both sides percent-encoded, in the map's (sorted) order.
std::string build_form(const std::map<std::string, std::string>& fields);

/// An absolute http:// or https:// URL taken apart.
struct Url {
  bool tls = true;
  std::string host;
  std::string port;    ///< "443", "80" or as written
  std::string target;  ///< path + query, at least "/"
};
/// Nothing for anything but http(s)://host[:port][/target].
std::optional<Url> parse_url(std::string_view url);

}  // namespace yizhan::payments
