// The error type's code names: the strings clients match on.
#include "yizhan/domain/error.hpp"

#include <utility>

namespace yizhan::domain {

std::string_view to_string(ErrorCode code) {
  switch (code) {
    case ErrorCode::invalid: return "invalid";
    case ErrorCode::malformed: return "malformed";
    case ErrorCode::not_found: return "not_found";
    case ErrorCode::method_not_allowed: return "method_not_allowed";
    case ErrorCode::duplicate: return "duplicate";
    case ErrorCode::out_of_stock: return "out_of_stock";
    case ErrorCode::conflict: return "conflict";
    case ErrorCode::idempotency_mismatch: return "idempotency_mismatch";
    case ErrorCode::idempotency_key_required: return "idempotency_key_required";
    case ErrorCode::expired: return "expired";
    case ErrorCode::label_price_mismatch: return "label_price_mismatch";
    case ErrorCode::shift_open: return "shift_open";
    case ErrorCode::no_open_shift: return "no_open_shift";
    case ErrorCode::refund_exceeds_sale: return "refund_exceeds_sale";
    case ErrorCode::invalid_state: return "invalid_state";
    case ErrorCode::price_changed: return "price_changed";
    case ErrorCode::discount_limit: return "discount_limit";
    case ErrorCode::unauthorized: return "unauthorized";
    case ErrorCode::invalid_credentials: return "invalid_credentials";
    case ErrorCode::forbidden: return "forbidden";
    case ErrorCode::csrf: return "csrf";
    case ErrorCode::too_large: return "too_large";
    case ErrorCode::uri_too_long: return "uri_too_long";
    case ErrorCode::unsupported_media: return "unsupported_media";
    case ErrorCode::too_many_attempts: return "too_many_attempts";
    case ErrorCode::unavailable: return "unavailable";
    case ErrorCode::commit_unknown: return "commit_unknown";
    case ErrorCode::payment_declined: return "payment_declined";
    case ErrorCode::payment_pending: return "payment_pending";
    case ErrorCode::internal: return "internal";
  }
  return "internal";
}

Error::Error(ErrorCode code, std::string message, std::map<std::string, std::string> details,
             std::string cause)
    : std::runtime_error(std::move(message)),
      code_(code),
      details_(std::move(details)),
      cause_(std::move(cause)) {}

Error Error::invalid_field(std::string field, std::string message) {
  return Error(ErrorCode::invalid, std::move(message), {{"field", std::move(field)}});
}

Error Error::within(std::string_view prefix) const {
  auto details = details_;
  if (const auto field = details.find("field"); field != details.end())
    field->second = std::string(prefix) + "." + field->second;
  return Error(code_, what(), std::move(details), cause_);
}

Error Error::with_detail(std::string key, std::string value) const {
  auto details = details_;
  details[std::move(key)] = std::move(value);
  return Error(code_, what(), std::move(details), cause_);
}

}  // namespace yizhan::domain
