// The endpoint table: pattern matching with {name} parameters, and the one catch for handlers.
#include "yizhan/api/router.hpp"

#include <stdexcept>

#include "yizhan/api/error.hpp"

namespace yizhan::api {
namespace {

/// Splits "/a/b/c" into {"a","b","c"}.
std::vector<std::string_view> segments(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    if (path.front() == '/') {
      path.remove_prefix(1);
      continue;
    }
    const auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash);
  }
  return parts;
}

bool match_pattern(std::string_view pattern, std::string_view path,
                   std::map<std::string, std::string>& parameters) {
  if (path.size() > 1 && path.back() == '/') return false;  // one spelling per resource
  const auto want = segments(pattern);
  const auto have = segments(path);
  if (want.size() != have.size()) return false;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (want[i].size() > 2 && want[i].front() == '{' && want[i].back() == '}') {
      found.emplace(std::string(want[i].substr(1, want[i].size() - 2)), std::string(have[i]));
    } else if (want[i] != have[i]) {
      return false;
    }
  }
  parameters = std::move(found);
  return true;
}

}  // namespace

void Router::add(Route route) {
  for (const auto& existing : routes_) {
    if (existing.method == route.method && existing.pattern == route.pattern) {
      throw std::invalid_argument("route registered twice: " + route.method + " " + route.pattern);
    }
  }
  routes_.push_back(std::move(route));
}

Match Router::match(std::string_view method, std::string_view path) const {
  Match result;
  const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> parameters;
    if (!match_pattern(route.pattern, path, parameters)) continue;
    if (route.method == wanted) {
      result.route = &route;
      result.parameters = std::move(parameters);
      return result;
    }
    result.path_known = true;
  }
  return result;
}

Response Router::dispatch(const Match& match, Request request) const {
  using domain::Error;
  using domain::ErrorCode;
  if (!match.route) {
    return error_response(match.path_known
                              ? Error(ErrorCode::method_not_allowed, "method not allowed")
                              : Error(ErrorCode::not_found, "no such resource"));
  }
  request.path_parameters = match.parameters;
  const Route& route = *match.route;
  try {
    if (auto token = cookie(request, kSessionCookie)) request.session_token = std::move(*token);
    // A browser attaches the cookie to cross-site form posts too; a custom header it will not
    // send cross-site without CORS, which we never grant.
    const bool changes_state = route.method != "GET" && route.method != "HEAD";
    if (changes_state && !request.session_token.empty() &&
        request.header("x-requested-with") != "yizhan") {
      throw Error(ErrorCode::csrf, "state-changing requests need X-Requested-With: yizhan");
    }
    if (!request.session_token.empty() && authenticator_ && route.executor == Executor::database) {
      request.principal = authenticator_(request.session_token);
    }
    const auto role = request.principal ? std::optional(request.principal->role) : std::nullopt;
    if (!domain::allows(route.access, role)) {
      if (!request.principal) throw Error(ErrorCode::unauthorized, "sign in first");
      throw Error(ErrorCode::forbidden, "your role may not do this");
    }
    return route.handler(request);
  } catch (...) {
    return error_response(std::current_exception(), match.route->pattern);
  }
}

}  // namespace yizhan::api
