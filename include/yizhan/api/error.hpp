// The one mapping from error codes to HTTP status and the JSON error envelope.
#pragma once

#include <exception>

#include "yizhan/api/message.hpp"
#include "yizhan/domain/error.hpp"

namespace yizhan::api {

/// The HTTP status for an error code (the one table of STYLE.md rule 4).
int http_status(domain::ErrorCode code);

/// `{"error": {"code", "message", "details"}}` with the status for the error's code.
Response error_response(const domain::Error& error);

/// The envelope for whatever a handler threw; logs the internal cause, never sends it.
Response error_response(std::exception_ptr error, std::string_view context);

}  // namespace yizhan::api
