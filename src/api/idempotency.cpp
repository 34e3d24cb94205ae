// Idempotency-Key requests: scope (route + caller), the request's fingerprint, and replies.
#include "idempotency.hpp"

namespace yizhan::api {

std::optional<service::IdempotencyKey> idempotency_key(const Request& request,
                                                       std::string_view route) {
  const auto header = request.header("idempotency-key");
  if (!header) return std::nullopt;
  service::IdempotencyKey key;
  key.scope = std::string(route) + ' ' +
              (request.principal ? "user:" + std::to_string(request.principal->user_id)
                                 : std::string("anonymous"));
  key.key = std::string(*header);
  // What was asked: the same key with another path (ids) or other body bytes is refused.
  key.request = request.method + ' ' + request.path + '\n' + request.body;
  return key;
}

service::StoredReply to_stored(Response response) {
  std::string body =
      response.shared_body ? std::string(*response.shared_body) : std::move(response.body);
  return {response.status, std::move(response.content_type), std::move(body), false};
}

Response from_stored(service::StoredReply reply) {
  Response response;
  response.status = reply.status;
  response.content_type = std::move(reply.content_type);
  response.body = std::move(reply.body);
  response.headers.emplace_back("Cache-Control", "no-store");
  if (reply.replayed) response.headers.emplace_back("Idempotent-Replayed", "true");
  return response;
}

}  // namespace yizhan::api
