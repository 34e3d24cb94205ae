// Private to src/api: JSON bodies in, JSON responses out, and the common request fields.
#pragma once

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/api/message.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/accounts.hpp"

namespace yizhan::api {

using nlohmann::json;

/// Sale or order lines as the JSON list clients see: an ordinary line as `one(line)`, the
/// consecutive component lines of one gift box (same bundle_group) as `box(parts)`, one entry.
template <typename Line, typename One, typename Box>
json lines_with_boxes(const std::vector<Line>& lines, One one, Box box) {
  json out = json::array();
  for (std::size_t i = 0; i < lines.size();) {
    const auto& l = lines[i];
    if (!l.bundle_product_id) {
      out.push_back(one(l));
      ++i;
      continue;
    }
    std::vector<const Line*> parts;
    for (;
         i < lines.size() && lines[i].bundle_product_id && lines[i].bundle_group == l.bundle_group;
         ++i)
      parts.push_back(&lines[i]);
    out.push_back(box(parts));
  }
  return out;
}

/// A JSON response with the given status.
inline Response json_response(int status, const json& body) {
  Response response;
  response.status = status;
  response.body = body.dump();
  return response;
}

/// The request body as a JSON object; 400 malformed otherwise. A key given twice in one object
/// (`{"quantity":1,"quantity":100}`) is a 422 naming it by its path (`lines[0].quantity`):
/// which one was meant is anybody's guess, and a proxy or log that reads the first would
/// disagree with us reading the last.
inline json parse_object(const Request& request) {
  // The containers open while parsing: an object's keys so far (its current key last), an
  // array's current index.
  struct Open {
    bool array = false;
    std::vector<std::string> keys;
    long index = -1;
  };
  std::vector<Open> open;
  std::optional<std::string> repeated;
  const auto element_starts = [&] {
    if (!open.empty() && open.back().array) ++open.back().index;
  };
  const json::parser_callback_t note_keys = [&](int, json::parse_event_t event, json& parsed) {
    switch (event) {
      case json::parse_event_t::object_start:
      case json::parse_event_t::array_start:
        element_starts();
        open.push_back({event == json::parse_event_t::array_start, {}, -1});
        break;
      case json::parse_event_t::object_end:
      case json::parse_event_t::array_end:
        if (!open.empty()) open.pop_back();
        break;
      case json::parse_event_t::value: element_starts(); break;
      case json::parse_event_t::key: {
        if (open.empty() || open.back().array || !parsed.is_string()) break;
        auto& seen = open.back().keys;
        const auto& key = parsed.get_ref<const std::string&>();
        const auto found = std::find(seen.begin(), seen.end(), key);
        if (found != seen.end() && !repeated) {
          std::string path;
          for (std::size_t i = 0; i + 1 < open.size(); ++i)
            path += open[i].array ? "[" + std::to_string(open[i].index) + "]"
                                  : (path.empty() ? "" : ".") + open[i].keys.back();
          repeated = path.empty() ? key : path + "." + key;
        }
        if (found != seen.end()) seen.erase(found);
        seen.push_back(key);  // the current key last: the path of what it holds
        break;
      }
    }
    return true;
  };
  auto body = json::parse(request.body, note_keys, false);
  if (body.is_discarded() || !body.is_object()) {
    // Well-formed JSON apart from its text (a byte that is not UTF-8, a lone surrogate) or a
    // number no double holds says so.
    if (body.is_discarded()) {
      try {
        [[maybe_unused]] const auto reparsed = json::parse(request.body);
      } catch (const json::out_of_range&) {  // 1e400: no double holds it
        throw domain::Error(domain::ErrorCode::malformed,
                            "正文中的数字超出范围 / a number in the body is out of range");
      } catch (const json::parse_error& error) {
        if (std::string_view(error.what()).find("UTF-8") != std::string_view::npos ||
            std::string_view(error.what()).find("surrogate") != std::string_view::npos)
          throw domain::Error(domain::ErrorCode::malformed,
                              "请求正文须为 UTF-8 / the body must be UTF-8 text");
      }
    }
    throw domain::Error(domain::ErrorCode::malformed, "body must be a JSON object");
  }
  if (repeated)
    throw domain::Error::invalid_field(*repeated, "字段重复 / " + *repeated + " is given twice");
  return body;
}

/// A required string field of at most `max_bytes`; 422 naming the field otherwise.
inline std::string required_string(const json& body, const char* field, std::size_t max_bytes) {
  const auto found = body.find(field);
  if (found == body.end() || !found->is_string()) {
    throw domain::Error::invalid_field(field, std::string(field) + " is required (a string)");
  }
  auto value = found->get<std::string>();
  if (value.size() > max_bytes) {
    throw domain::Error::invalid_field(field, std::string(field) + " is too long");
  }
  return value;
}

// --- request body fields: every shape error is an explicit 422 naming the field -----------
// (A nlohmann exception that escapes a handler is a bug in reading our own data: 500.)

/// 422 naming the first field of `body` that is not in `known`.
inline void reject_unknown_fields(const json& body, std::initializer_list<const char*> known) {
  for (const auto& [name, value] : body.items()) {
    if (std::find_if(known.begin(), known.end(), [&](const char* k) { return name == k; }) ==
        known.end()) {
      throw domain::Error::invalid_field(name, "unknown field " + name);
    }
  }
}

/// For a route that takes no fields: no body, or an empty object. Anything else is refused as
/// any body would be (400 malformed, 422 naming the field), not quietly ignored: a client that
/// sends a field expects it to count.
inline void expect_no_fields(const Request& request) {
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return;
  reject_unknown_fields(parse_object(request), {});
}

/// An optional string field; 422 when present but not a string.
inline std::optional<std::string> string_field(const json& body, const char* field) {
  const auto found = body.find(field);
  if (found == body.end()) return std::nullopt;
  if (!found->is_string()) {
    throw domain::Error::invalid_field(field, std::string(field) + " must be a string");
  }
  return found->get<std::string>();
}

/// An optional string field that may be null (outer: given or not; inner: the value or null).
inline std::optional<std::optional<std::string>> nullable_string_field(const json& body,
                                                                       const char* field) {
  const auto found = body.find(field);
  if (found == body.end()) return std::nullopt;
  if (found->is_null()) return std::optional<std::string>();
  return string_field(body, field);
}

/// An optional integer field (money, quantities, ids); 422 for 12.3, "1230" or beyond int64.
inline std::optional<std::int64_t> integer_field(const json& body, const char* field) {
  const auto found = body.find(field);
  if (found == body.end()) return std::nullopt;
  // Money and quantities are integers: 12.3 or "1230" are refused, never rounded.
  if (!found->is_number_integer()) {
    throw domain::Error::invalid_field(field, std::string(field) + " must be an integer");
  }
  // Above INT64_MAX nlohmann keeps an unsigned value; get<int64_t> would wrap it.
  if (found->is_number_unsigned() &&
      found->get<std::uint64_t>() > static_cast<std::uint64_t>(INT64_MAX)) {
    throw domain::Error::invalid_field(field, std::string(field) + " is out of range");
  }
  return found->get<std::int64_t>();
}

/// An optional integer field that may be null.
inline std::optional<std::optional<std::int64_t>> nullable_integer_field(const json& body,
                                                                         const char* field) {
  const auto found = body.find(field);
  if (found == body.end()) return std::nullopt;
  if (found->is_null()) return std::optional<std::int64_t>();
  return integer_field(body, field);
}

/// An optional boolean field; 422 when present but not true or false.
inline std::optional<bool> boolean_field(const json& body, const char* field) {
  const auto found = body.find(field);
  if (found == body.end()) return std::nullopt;
  if (!found->is_boolean()) {
    throw domain::Error::invalid_field(field, std::string(field) + " must be true or false");
  }
  return found->get<bool>();
}

/// A positive integer from text, or nothing.
inline std::optional<std::int64_t> positive_integer(std::string_view text) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

/// The path parameter `name` as an id; a non-numeric id names no resource (404).
inline std::int64_t path_id(const Request& request, const char* name = "id") {
  const auto id = positive_integer(request.path_parameters.at(name));
  if (!id) throw domain::Error(domain::ErrorCode::not_found, "no such resource");
  return *id;
}

/// Page and page size from the query (page from 1, page_size 1–100, default 20).
struct Page {
  int page = 1;
  int page_size = 20;
  [[nodiscard]] int offset() const { return (page - 1) * page_size; }
};

inline Page parse_page(const Request& request) {
  Page page;
  if (const auto found = request.query.find("page"); found != request.query.end()) {
    const auto value = positive_integer(found->second);
    if (!value || *value > 1'000'000)
      throw domain::Error::invalid_field("page",
                                         "page 应为 1 到 1000000 / page must be 1 to 1000000");
    page.page = static_cast<int>(*value);
  }
  if (const auto found = request.query.find("page_size"); found != request.query.end()) {
    const auto value = positive_integer(found->second);
    if (!value || *value > 100) {
      throw domain::Error::invalid_field("page_size", "page_size must be 1 to 100");
    }
    page.page_size = static_cast<int>(*value);
  }
  return page;
}

/// A true/false query parameter (?low=true, ?reprint=1): absent or empty is false; anything but
/// true, 1, false or 0 is a 400 naming it.
inline bool query_flag(const Request& request, const char* name) {
  const auto found = request.query.find(name);
  if (found == request.query.end() || found->second.empty()) return false;
  if (found->second == "true" || found->second == "1") return true;
  if (found->second == "false" || found->second == "0") return false;
  throw domain::Error::invalid_field(name, std::string(name) + " must be true or false");
}

/// `{"id","username","role","village_id"}` as in API.md.
inline json user_json(const domain::Principal& user) {
  return {{"id", user.user_id},
          {"username", user.username},
          {"role", domain::to_string(user.role)},
          {"village_id", user.village_id ? json(*user.village_id) : json(nullptr)}};
}

/// The signed-in caller as the actor of an audited change (route and client address).
inline service::Actor actor_of(const Request& request) {
  return {request.principal->user_id, request.principal->username, request.client_address,
          request.method + " " + request.path};
}

/// A value, or JSON null.
template <class T>
json nullable(const std::optional<T>& value) {
  return value ? json(*value) : json(nullptr);
}

/// A UTC instant as ISO 8601 in Asia/Shanghai.
inline json time_json(std::int64_t unix_microseconds) {
  return domain::format_shanghai_time(unix_microseconds);
}

}  // namespace yizhan::api
