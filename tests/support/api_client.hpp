// Integration tests: the whole API (router, services, MariaDB) called in process.
#pragma once

#include <nlohmann/json.hpp>

#include "support/station.hpp"
#include "yizhan/api/routes.hpp"
#include "yizhan/service/audit.hpp"
#include "yizhan/service/catalog.hpp"
#include "yizhan/service/health.hpp"
#include "yizhan/store/images.hpp"

namespace yizhan::test_support {

/// A station and its router; `call` runs a request as one of the station's accounts.
class ApiFixture {
 public:
  ApiFixture() { router = api::build_router({health, station.accounts, audit, catalog}); }

  struct Reply {
    int status = 0;
    nlohmann::json body;
    api::Response raw;
  };

  /// `as`: "" (anonymous) or a username of the Station. `body` is sent as given.
  Reply call(const std::string& method, const std::string& target, const std::string& as = "",
             const std::string& body = {}, std::map<std::string, std::string> headers = {}) {
    api::Request request;
    request.method = method;
    const auto question = target.find('?');
    request.path = target.substr(0, question);
    if (question != std::string::npos)
      request.query = api::parse_query(target.substr(question + 1));
    request.body = body;
    request.client_address = "10.3.0.1";
    request.headers = std::move(headers);
    request.headers["x-requested-with"] = "yizhan";
    if (!as.empty()) {
      auto& token = tokens_[as];
      if (token.empty()) token = station.accounts.login(as, kPassword, "10.3.0.1").token;
      request.headers["cookie"] = "yz_session=" + token;
    }
    Reply reply;
    const auto match = router.match(method, request.path);
    reply.raw = router.dispatch(match, std::move(request));
    reply.status = reply.raw.status;
    const auto payload = reply.raw.payload();
    if (!payload.empty()) reply.body = nlohmann::json::parse(payload, nullptr, false);
    return reply;
  }

  Reply call_json(const std::string& method, const std::string& target, const std::string& as,
                  const nlohmann::json& body) {
    return call(method, target, as, body.dump());
  }

  Station station;
  TempDir media;
  service::HealthService health{station.database};
  service::AuditService audit{station.database};
  store::ImageStore images{media.path()};
  service::CatalogService catalog{station.database, images};
  api::Router router;

 private:
  std::map<std::string, std::string> tokens_;
};

}  // namespace yizhan::test_support
