// The router: patterns, parameters, 404/405, and the one error envelope.
#include <gtest/gtest.h>

#include "yizhan/api/error.hpp"
#include "yizhan/api/router.hpp"

using namespace yizhan::api;
using yizhan::domain::Error;
using yizhan::domain::ErrorCode;

namespace {
Router sample_router() {
  Router router;
  router.add({"GET", "/api/v1/villages", Access::anyone, Executor::database, [](const Request&) {
                return Response{200, "text/plain", {}, "list", nullptr};
              }});
  router.add(
      {"GET", "/api/v1/villages/{id}", Access::anyone, Executor::database, [](const Request& r) {
         return Response{200, "text/plain", {}, r.path_parameters.at("id"), nullptr};
       }});
  router.add(
      {"POST", "/api/v1/villages", Access::anyone, Executor::database,
       [](const Request&) -> Response { throw Error::invalid_field("code", "code is required"); }});
  router.add({"GET", "/api/v1/boom", Access::anyone, Executor::database,
              [](const Request&) -> Response { throw std::runtime_error("secret SQL text"); }});
  return router;
}
}  // namespace

TEST(Router, MatchesPathParameters) {
  const auto router = sample_router();
  const auto match = router.match("GET", "/api/v1/villages/42");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(router.dispatch(match, Request{}).body, "42");
}

TEST(Router, HeadMatchesGet) {
  const auto router = sample_router();
  EXPECT_NE(router.match("HEAD", "/api/v1/villages").route, nullptr);
}

TEST(Router, UnknownPathIs404AndWrongMethodIs405) {
  const auto router = sample_router();
  const auto missing = router.match("GET", "/api/v1/nothing");
  EXPECT_EQ(router.dispatch(missing, Request{}).status, 404);
  const auto wrong_method = router.match("DELETE", "/api/v1/villages");
  EXPECT_TRUE(wrong_method.path_known);
  EXPECT_EQ(router.dispatch(wrong_method, Request{}).status, 405);
  EXPECT_EQ(router.match("GET", "/api/v1/villages/").route, nullptr);
  EXPECT_EQ(router.match("GET", "/api/v1/villages/1/2").route, nullptr);
}

TEST(Router, MethodNotAllowedNamesTheAllowedMethods) {
  const auto router = sample_router();
  const auto response = router.dispatch(router.match("DELETE", "/api/v1/villages"), Request{});
  EXPECT_EQ(response.status, 405);
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].first, "Allow");
  EXPECT_EQ(response.headers[0].second, "GET, HEAD, POST");
}

TEST(Router, ARestParameterTakesTheRestOfThePath) {
  Router router;
  router.add({"GET", "/media/{file...}", Access::anyone, Executor::inline_io, [](const Request& r) {
                return Response{200, "text/plain", {}, r.path_parameters.at("file"), nullptr};
              }});
  const auto match = router.match("GET", "/media/ab/cd.webp");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(router.dispatch(match, Request{}).body, "ab/cd.webp");
  EXPECT_EQ(router.match("GET", "/media").route, nullptr);
  EXPECT_TRUE(router.may_match("/media/x"));
  EXPECT_FALSE(router.may_match("/assets/site.css"));
  EXPECT_FALSE(router.may_match("/"));
}

TEST(Router, AnUploadRouteSaysSoAndOthersKeepTheDefaultLimit) {
  const auto router = sample_router();
  for (const auto& route : router.routes())
    EXPECT_EQ(route.body_limit, BodyLimit::standard) << route.pattern;
}

TEST(Router, DomainErrorsBecomeTheEnvelopeWithTheFieldNamed) {
  const auto router = sample_router();
  const auto response = router.dispatch(router.match("POST", "/api/v1/villages"), Request{});
  EXPECT_EQ(response.status, 422);
  EXPECT_NE(response.body.find(R"("code":"invalid")"), std::string::npos);
  EXPECT_NE(response.body.find(R"("field":"code")"), std::string::npos);
}

TEST(Router, UnexpectedExceptionsAre500WithoutTheirText) {
  const auto router = sample_router();
  const auto response = router.dispatch(router.match("GET", "/api/v1/boom"), Request{});
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(response.body.find("secret"), std::string::npos);
}

TEST(Router, RefusesTheSameRouteTwice) {
  Router router;
  router.add(
      {"GET", "/x", Access::anyone, Executor::database, [](const Request&) { return Response{}; }});
  EXPECT_THROW(router.add({"GET", "/x", Access::anyone, Executor::database,
                           [](const Request&) { return Response{}; }}),
               std::invalid_argument);
}

TEST(ErrorMapping, EveryCodeHasItsStatus) {
  EXPECT_EQ(http_status(ErrorCode::invalid), 422);
  EXPECT_EQ(http_status(ErrorCode::malformed), 400);
  EXPECT_EQ(http_status(ErrorCode::not_found), 404);
  EXPECT_EQ(http_status(ErrorCode::duplicate), 409);
  EXPECT_EQ(http_status(ErrorCode::out_of_stock), 409);
  EXPECT_EQ(http_status(ErrorCode::unauthorized), 401);
  EXPECT_EQ(http_status(ErrorCode::csrf), 403);
  EXPECT_EQ(http_status(ErrorCode::too_large), 413);
  EXPECT_EQ(http_status(ErrorCode::too_many_attempts), 429);
  EXPECT_EQ(http_status(ErrorCode::unavailable), 503);
}

TEST(Query, DecodesPercentAndPlus) {
  const auto query = parse_query("q=%E8%8C%B6&page=2&x=a+b&empty=&bad=%zz");
  EXPECT_EQ(query.at("q"), "茶");
  EXPECT_EQ(query.at("page"), "2");
  EXPECT_EQ(query.at("x"), "a b");
  EXPECT_EQ(query.at("empty"), "");
  EXPECT_EQ(query.at("bad"), "%zz");
  EXPECT_FALSE(percent_decode("%2", false).has_value());
  EXPECT_EQ(percent_decode("/a%2e%2e/b", false), "/a../b");
}
