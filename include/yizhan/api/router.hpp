// Method + path pattern → handler, with {name} path parameters and who may call each route.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "yizhan/api/message.hpp"

namespace yizhan::api {

/// A handler: a function from request to response. It may throw domain::Error.
using Handler = std::function<Response(const Request&)>;

using domain::Access;

/// Resolves a session token to its user (the account service), for routes that need one.
using Authenticator = std::function<std::optional<domain::Principal>(std::string_view token)>;

/// The session cookie's name (API.md).
inline constexpr std::string_view kSessionCookie = "yz_session";

/// Where a handler runs: on a database worker (may block) or inline on the I/O thread.
enum class Executor { database, inline_io };

/// One registered route. Access has no default: a route that does not say who may call it
/// does not compile.
struct Route {
  std::string method;
  std::string pattern;  ///< "/api/v1/villages/{id}"
  Access access;
  Executor executor;
  Handler handler;
};

/// The result of matching a request to the routes.
struct Match {
  const Route* route = nullptr;  ///< null when nothing matched
  bool path_known = false;       ///< the path exists under another method (405)
  std::map<std::string, std::string> parameters;
};

/// The endpoint table. Register everything at start-up, then only read (thread-safe then).
class Router {
 public:
  /// Adds a route; throws std::invalid_argument on a duplicate method + pattern.
  void add(Route route);
  /// Finds the route for a method and decoded path. HEAD matches GET routes.
  [[nodiscard]] Match match(std::string_view method, std::string_view path) const;
  /// Every route, for the access matrix test and the docs.
  [[nodiscard]] const std::vector<Route>& routes() const { return routes_; }
  /// Runs the matched route: CSRF check, caller lookup, access check, then the handler; any
  /// exception becomes the JSON error envelope.
  [[nodiscard]] Response dispatch(const Match& match, Request request) const;
  /// Sets how session tokens are resolved (without one, nobody is ever signed in).
  void set_authenticator(Authenticator authenticator) { authenticator_ = std::move(authenticator); }

 private:
  std::vector<Route> routes_;
  Authenticator authenticator_;
};

}  // namespace yizhan::api
