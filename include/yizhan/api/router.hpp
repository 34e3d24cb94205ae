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

/// Where a handler runs: `database` on a database worker (may take long: reports, exports,
/// uploads); `quick`, a unit of work of a few statements (a sale, a checkout, a payment
/// notification), where the connection lives once it asked one, a database loop of its own,
/// without a hand-off to a worker and back (TLS connections: on a worker, as `database`); or
/// `inline_io` on the I/O thread, no database. See Route::waits_on_provider for the requests of a
/// database route that run on the provider pool.
enum class Executor { database, quick, inline_io };

/// How large a body a route accepts: the default limit (http.body_limit_bytes), or the upload
/// limit (http.upload_body_limit_bytes), granted only after the caller's access was checked.
enum class BodyLimit { standard, upload };

/// One registered route. Access has no default: a route that does not say who may call it
/// does not compile.
struct Route {
  std::string method;
  std::string pattern;  ///< "/api/v1/villages/{id}"; a last segment "{name...}" takes the rest
  Access access;
  Executor executor;
  Handler handler;
  BodyLimit body_limit = BodyLimit::standard;
  /// For a database route some of whose requests wait on a payment provider (a sale paid with
  /// a scanned code polls until the payer has entered the password): true for such a request.
  /// The server runs it on its provider pool then, so that the wait holds no database worker.
  /// Asked on the I/O thread with the whole request: it must be quick and must not block.
  std::function<bool(const Request&)> waits_on_provider = {};
};

/// The result of matching a request to the routes.
struct Match {
  const Route* route = nullptr;  ///< null when nothing matched
  bool path_known = false;       ///< the path exists under another method (405)
  std::string allowed;           ///< the path's methods, for 405's Allow ("GET, HEAD, POST")
  std::map<std::string, std::string> parameters;
};

/// The endpoint table. Register everything at start-up, then only read (thread-safe then).
class Router {
 public:
  /// Adds a route; throws std::invalid_argument on a duplicate method + pattern.
  void add(Route route);
  /// Whether any route could match `path` (its first segment is one a pattern starts with):
  /// a cheap test that lets static files skip matching.
  [[nodiscard]] bool may_match(std::string_view path) const;
  /// Finds the route for a method and decoded path. HEAD matches GET routes.
  [[nodiscard]] Match match(std::string_view method, std::string_view path) const;
  /// Every route, for the access matrix test and the docs.
  [[nodiscard]] const std::vector<Route>& routes() const { return routes_; }
  /// Runs the matched route: CSRF check, caller lookup, access check, then the handler; any
  /// exception becomes the JSON error envelope.
  [[nodiscard]] Response dispatch(const Match& match, Request request) const;
  /// The CSRF, caller and access checks of dispatch() alone: the error response when the
  /// request may not run the matched route, else nothing (and `request.principal` is set).
  /// The server asks this before it reads a large upload body.
  [[nodiscard]] std::optional<Response> refuse(const Match& match, Request& request) const;
  /// Sets how session tokens are resolved (without one, nobody is ever signed in).
  void set_authenticator(Authenticator authenticator) { authenticator_ = std::move(authenticator); }

  /// A route's pattern split into segments once, at add(): matching a request splits only
  /// its path (every request is matched against every route, for 405's Allow).
  struct Pattern {
    std::vector<std::string> segments;
    bool rest = false;  ///< the last segment is "{name...}"
  };

 private:
  std::vector<Route> routes_;
  std::vector<Pattern> patterns_;  ///< parallel to routes_
  std::vector<std::string> first_segments_;
  Authenticator authenticator_;
};

}  // namespace yizhan::api
