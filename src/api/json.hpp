// Private to src/api: JSON bodies in, JSON responses out, and the common request fields.
#pragma once

#include <charconv>
#include <nlohmann/json.hpp>
#include <string>

#include "yizhan/api/message.hpp"
#include "yizhan/domain/error.hpp"

namespace yizhan::api {

using nlohmann::json;

/// A JSON response with the given status.
inline Response json_response(int status, const json& body) {
  Response response;
  response.status = status;
  response.body = body.dump();
  return response;
}

/// The request body as a JSON object; 400 malformed otherwise.
inline json parse_object(const Request& request) {
  auto body = json::parse(request.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    throw domain::Error(domain::ErrorCode::malformed, "body must be a JSON object");
  }
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
      throw domain::Error::invalid_field("page", "page must be 1 or more");
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

/// `{"id","username","role","village_id"}` as in API.md.
inline json user_json(const domain::Principal& user) {
  return {{"id", user.user_id},
          {"username", user.username},
          {"role", domain::to_string(user.role)},
          {"village_id", user.village_id ? json(*user.village_id) : json(nullptr)}};
}

}  // namespace yizhan::api
