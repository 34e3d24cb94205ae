// Private to src/api: JSON responses and request bodies.
#pragma once

#include <nlohmann/json.hpp>

#include "yizhan/api/message.hpp"

namespace yizhan::api {

/// A JSON response with the given status.
inline Response json_response(int status, const nlohmann::json& body) {
  Response response;
  response.status = status;
  response.body = body.dump();
  return response;
}

}  // namespace yizhan::api
