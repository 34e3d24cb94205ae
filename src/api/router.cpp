// The endpoint table: pattern matching with {name} parameters, and the one catch for handlers.
#include "yizhan/api/router.hpp"

#include <algorithm>
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

/// Whether a pattern segment is a parameter ("{id}"); "{file...}" is one too.
bool is_parameter(std::string_view segment) {
  return segment.size() > 2 && segment.front() == '{' && segment.back() == '}';
}

/// Whether the path's segments fit a pattern's, without building the parameters.
bool fits(const Router::Pattern& pattern, const std::vector<std::string_view>& have) {
  const auto& want = pattern.segments;
  if (pattern.rest ? have.size() < want.size() : want.size() != have.size()) return false;
  const std::size_t fixed = pattern.rest ? want.size() - 1 : want.size();
  for (std::size_t i = 0; i < fixed; ++i)
    if (!is_parameter(want[i]) && want[i] != have[i]) return false;
  return true;
}

/// The parameters of a path that fits the pattern.
std::map<std::string, std::string> parameters_of(const Router::Pattern& pattern,
                                                 std::string_view path,
                                                 const std::vector<std::string_view>& have) {
  const auto& want = pattern.segments;
  std::map<std::string, std::string> found;
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (pattern.rest && i + 1 == want.size()) {
      // "{file...}": the rest of the path, slashes included, as it was sent.
      const auto name = std::string_view(want[i]).substr(1, want[i].size() - 5);
      const auto start = static_cast<std::size_t>(have[i].data() - path.data());
      found.emplace(std::string(name), std::string(path.substr(start)));
      break;
    }
    if (is_parameter(want[i]))
      found.emplace(want[i].substr(1, want[i].size() - 2), std::string(have[i]));
  }
  return found;
}

/// What the log says about a failed request: its id and the route.
std::string log_context(const Route& route, const Request& request) {
  std::string context;
  if (!request.request_id.empty()) context = "request " + request.request_id + " ";
  return context + route.method + " " + route.pattern;
}

}  // namespace

void Router::add(Route route) {
  for (const auto& existing : routes_) {
    if (existing.method == route.method && existing.pattern == route.pattern) {
      throw std::invalid_argument("route registered twice: " + route.method + " " + route.pattern);
    }
  }
  const auto split = segments(route.pattern);
  const std::string segment = split.empty() ? std::string() : std::string(split.front());
  if (std::find(first_segments_.begin(), first_segments_.end(), segment) == first_segments_.end())
    first_segments_.push_back(segment);
  Pattern pattern;
  pattern.segments.assign(split.begin(), split.end());
  pattern.rest = !split.empty() && split.back().ends_with("...}");
  patterns_.push_back(std::move(pattern));
  routes_.push_back(std::move(route));
}

bool Router::may_match(std::string_view path) const {
  while (!path.empty() && path.front() == '/')
    path.remove_prefix(1);
  const auto segment = path.substr(0, path.find('/'));
  return std::find(first_segments_.begin(), first_segments_.end(), segment) !=
         first_segments_.end();
}

Match Router::match(std::string_view method, std::string_view path) const {
  Match result;
  if (path.size() > 1 && path.back() == '/') return result;  // one spelling per resource
  const std::string_view wanted = method == "HEAD" ? std::string_view("GET") : method;
  // The path is split once; each pattern was split when it was added.
  const auto have = segments(path);
  for (std::size_t i = 0; i < routes_.size(); ++i) {
    const auto& route = routes_[i];
    if (!fits(patterns_[i], have)) continue;
    if (route.method == wanted && !result.route) {
      result.route = &route;
      result.parameters = parameters_of(patterns_[i], path, have);
    }
    result.path_known = true;
    if (!result.allowed.empty()) result.allowed += ", ";
    result.allowed += route.method;
    if (route.method == "GET") result.allowed += ", HEAD";
  }
  if (result.route) result.allowed.clear();
  return result;
}

Response Router::dispatch(const Match& match, Request request) const {
  using domain::Error;
  using domain::ErrorCode;
  if (!match.route) {
    if (!match.path_known) return error_response(Error(ErrorCode::not_found, "no such resource"));
    auto response = error_response(Error(ErrorCode::method_not_allowed, "method not allowed"));
    response.headers.emplace_back("Allow", match.allowed);
    return response;
  }
  request.path_parameters = match.parameters;
  if (auto refused = refuse(match, request)) return std::move(*refused);
  try {
    return match.route->handler(request);
  } catch (...) {
    return error_response(std::current_exception(), log_context(*match.route, request));
  }
}

std::optional<Response> Router::refuse(const Match& match, Request& request) const {
  using domain::Error;
  using domain::ErrorCode;
  const Route& route = *match.route;
  try {
    if (request.session_token.empty()) {
      if (auto token = cookie(request, kSessionCookie)) request.session_token = std::move(*token);
    }
    // A browser attaches the cookie to cross-site form posts too; a custom header it will not
    // send cross-site without CORS, which we never grant.
    const bool changes_state = route.method != "GET" && route.method != "HEAD";
    if (changes_state && !request.session_token.empty() &&
        request.header("x-requested-with") != "yizhan") {
      throw Error(ErrorCode::csrf, "state-changing requests need X-Requested-With: yizhan");
    }
    if (!request.principal && !request.session_token.empty() && authenticator_ &&
        route.executor != Executor::inline_io) {
      request.principal = authenticator_(request.session_token);
    }
    const auto role = request.principal ? std::optional(request.principal->role) : std::nullopt;
    if (!domain::allows(route.access, role)) {
      if (!request.principal) throw Error(ErrorCode::unauthorized, "sign in first");
      throw Error(ErrorCode::forbidden, "your role may not do this");
    }
    return std::nullopt;
  } catch (...) {
    return error_response(std::current_exception(), log_context(route, request));
  }
}

}  // namespace yizhan::api
