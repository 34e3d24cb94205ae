// Private to src/api: the Idempotency-Key header in, stored answers out.
#pragma once

#include <optional>
#include <string_view>

#include "yizhan/api/message.hpp"
#include "yizhan/service/idempotency.hpp"

namespace yizhan::api {

/// The request's Idempotency-Key, scoped to `route` (method and pattern) and the caller;
/// nothing when the header is absent.
std::optional<service::IdempotencyKey> idempotency_key(const Request& request,
                                                       std::string_view route);

/// What to store of a response: status, content type and body bytes (moved out of a
/// temporary response rather than copied).
service::StoredReply to_stored(Response response);

/// A stored answer as the response; a replay says so in `Idempotent-Replayed: true`.
Response from_stored(service::StoredReply reply);

}  // namespace yizhan::api
