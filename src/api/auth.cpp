// Login, logout, the caller's account and password change (API.md "Sessions and roles").
#include "auth.hpp"

#include "json.hpp"
#include "yizhan/service/accounts.hpp"

namespace yizhan::api {
namespace {

std::string session_cookie(const std::string& token, int max_age, bool tls) {
  return set_cookie(kSessionCookie, token, "/", max_age, "Strict", tls);
}

/// A sign-in must come from our own pages: JSON (a cross-site HTML form cannot send it without
/// CORS, which we never grant) and the header every other state change carries, even though
/// the caller has no session cookie yet. Otherwise a hostile page could sign a visitor into
/// the attacker's account (login CSRF).
void require_same_site_json(const Request& request) {
  if (!media_type_is(request.header("content-type").value_or(""), "application/json")) {
    throw domain::Error(domain::ErrorCode::unsupported_media,
                        "sign-in takes Content-Type: application/json");
  }
  if (request.header("x-requested-with") != "yizhan") {
    throw domain::Error(domain::ErrorCode::csrf, "sign-in needs X-Requested-With: yizhan");
  }
}

}  // namespace

void add_auth_routes(Router& router, service::AccountService& accounts) {
  // POST /api/v1/auth/login
  router.add({"POST", "/api/v1/auth/login", Access::anyone, Executor::database,
              [&accounts](const Request& request) {
                require_same_site_json(request);
                const auto body = parse_object(request);
                reject_unknown_fields(body, {"username", "password"});
                const auto username = required_string(body, "username", 200);
                const auto password = required_string(body, "password", 1024);
                const auto login = accounts.login(username, password, request.client_address);
                auto response = json_response(200, {{"user", user_json(login.user)}});
                response.headers.emplace_back(
                    "Set-Cookie", session_cookie(login.token, login.max_age_seconds, request.tls));
                response.headers.emplace_back("Cache-Control", "no-store");
                return response;
              }});

  // POST /api/v1/auth/logout
  router.add({"POST", "/api/v1/auth/logout", Access::signed_in, Executor::database,
              [&accounts](const Request& request) {
                accounts.logout(request.session_token);
                Response response;
                response.status = 204;
                response.content_type.clear();
                response.headers.emplace_back("Set-Cookie", session_cookie("", 0, request.tls));
                return response;
              }});

  // GET /api/v1/me
  router.add(
      {"GET", "/api/v1/me", Access::signed_in, Executor::database, [](const Request& request) {
         auto response = json_response(200, {{"user", user_json(*request.principal)}});
         response.headers.emplace_back("Cache-Control", "no-store");
         return response;
       }});

  // POST /api/v1/me/password
  router.add({"POST", "/api/v1/me/password", Access::signed_in, Executor::database,
              [&accounts](const Request& request) {
                const auto body = parse_object(request);
                reject_unknown_fields(body, {"current_password", "new_password"});
                accounts.change_password(*request.principal, request.session_token,
                                         required_string(body, "current_password", 1024),
                                         required_string(body, "new_password", 1024),
                                         request.client_address);
                Response response;
                response.status = 204;
                response.content_type.clear();
                return response;
              }});
}

}  // namespace yizhan::api
