// Error codes to HTTP status, and exceptions to the JSON envelope (causes go to the log only).
#include "yizhan/api/error.hpp"

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

namespace yizhan::api {

using domain::Error;
using domain::ErrorCode;

int http_status(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid: return 422;
    case ErrorCode::malformed: return 400;
    case ErrorCode::not_found: return 404;
    case ErrorCode::method_not_allowed: return 405;
    case ErrorCode::duplicate: return 409;
    case ErrorCode::out_of_stock: return 409;
    case ErrorCode::conflict: return 409;
    case ErrorCode::idempotency_mismatch: return 409;
    case ErrorCode::idempotency_key_required: return 400;
    case ErrorCode::expired: return 409;
    case ErrorCode::label_price_mismatch: return 409;
    case ErrorCode::shift_open: return 409;
    case ErrorCode::no_open_shift: return 409;
    case ErrorCode::refund_exceeds_sale: return 409;
    case ErrorCode::invalid_state: return 409;
    case ErrorCode::price_changed: return 409;
    case ErrorCode::discount_limit: return 403;
    case ErrorCode::unauthorized: return 401;
    case ErrorCode::invalid_credentials: return 401;
    case ErrorCode::forbidden: return 403;
    case ErrorCode::csrf: return 403;
    case ErrorCode::too_large: return 413;
    case ErrorCode::uri_too_long: return 414;
    case ErrorCode::unsupported_media: return 415;
    case ErrorCode::too_many_attempts: return 429;
    case ErrorCode::unavailable: return 503;
    case ErrorCode::commit_unknown: return 503;
    case ErrorCode::payment_declined: return 402;
    case ErrorCode::payment_pending: return 409;
    case ErrorCode::internal: return 500;
  }
  return 500;
}

Response error_response(const Error& error) {
  nlohmann::json details = nlohmann::json::object();
  for (const auto& [key, value] : error.details())
    details[key] = value;
  const nlohmann::json body = {{"error",
                                {{"code", domain::to_string(error.code())},
                                 {"message", error.what()},
                                 {"details", details}}}};
  Response response;
  response.status = http_status(error.code());
  // Replace, never throw: a message may quote a client's bytes that are not valid UTF-8.
  response.body = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  // One Retry-After: the error's own wait when it names one, else a second for a busy server.
  if (const auto retry = error.details().find("retry_after_seconds");
      retry != error.details().end()) {
    response.headers.emplace_back("Retry-After", retry->second);
  } else if (error.code() == ErrorCode::unavailable || error.code() == ErrorCode::commit_unknown) {
    response.headers.emplace_back("Retry-After", "1");
  }
  return response;
}

Response error_response(std::exception_ptr thrown, std::string_view context) {
  try {
    std::rethrow_exception(thrown);
  } catch (const Error& error) {
    if (!error.cause().empty()) {
      const auto level =
          error.code() == ErrorCode::internal ? spdlog::level::err : spdlog::level::warn;
      spdlog::log(level, "{}: {} ({})", context, error.what(), error.cause());
    }
    return error_response(error);
  } catch (const nlohmann::json::exception& error) {
    // Request bodies are read only through the helpers of json.hpp, which turn every shape
    // problem into an explicit 400 or 422. A JSON exception that gets here came from our own
    // data (a stored document that does not parse, text that cannot be serialized): a bug.
    spdlog::error("{}: JSON error in our own data: {}", context, error.what());
  } catch (const std::exception& error) {
    spdlog::error("{}: unexpected exception: {}", context, error.what());
  } catch (...) {
    spdlog::error("{}: unexpected non-standard exception", context);
  }
  return error_response(Error(ErrorCode::internal, "internal error"));
}

}  // namespace yizhan::api
