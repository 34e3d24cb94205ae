// What reaches a client when a handler throws: a client's mistake is 4xx, our own bug is a
// logged 500 whose cause stays in the log.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "yizhan/api/error.hpp"

using namespace yizhan;
using domain::Error;
using domain::ErrorCode;

namespace {
template <class F>
std::exception_ptr thrown_by(F&& f) {
  try {
    f();
  } catch (...) {
    return std::current_exception();
  }
  return nullptr;
}
}  // namespace

TEST(ErrorResponse, AJsonErrorInOurOwnDataIsA500NotA400) {
  // E.g. a stored audit document that no longer parses, read by a handler.
  const auto parse = thrown_by([] { return nlohmann::json::parse(R"({"before": )"); });
  const auto response = api::error_response(parse, "GET /api/v1/audit");
  EXPECT_EQ(response.status, 500);
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["error"]["code"], "internal");
  EXPECT_EQ(response.body.find("parse"), std::string::npos) << "the cause stays in the log";

  const auto type = thrown_by([] { return nlohmann::json("text").get<int>(); });
  EXPECT_EQ(api::error_response(type, "test").status, 500);
}

TEST(ErrorResponse, ClientMistakesKeepTheirStatus) {
  const auto invalid = thrown_by([] { throw Error::invalid_field("price_fen", "too big"); });
  const auto response = api::error_response(invalid, "test");
  EXPECT_EQ(response.status, 422);
  EXPECT_EQ(nlohmann::json::parse(response.body)["error"]["details"]["field"], "price_fen");
  const auto malformed =
      thrown_by([] { throw Error(ErrorCode::malformed, "body must be a JSON object"); });
  EXPECT_EQ(api::error_response(malformed, "test").status, 400);
  const auto other = thrown_by([] { throw std::out_of_range("map::at"); });
  EXPECT_EQ(api::error_response(other, "test").status, 500);
}

TEST(ErrorResponse, AMessageQuotingInvalidUtf8StillGivesTheEnvelope) {
  const auto response =
      api::error_response(Error::invalid_field("q", std::string("no such code \xFF\xFE")));
  EXPECT_EQ(response.status, 422);
  EXPECT_FALSE(nlohmann::json::parse(response.body, nullptr, false).is_discarded());
}

TEST(ErrorResponse, AnUnknownCommitOutcomeIs503SayingARetryWithTheSameKeyIsSafe) {
  const auto response = api::error_response(
      Error(ErrorCode::commit_unknown,
            "the outcome of this request is unknown; retrying with the "
            "same Idempotency-Key is safe",
            {{"retry_with_same_idempotency_key", "true"}}, "2013 lost connection"));
  EXPECT_EQ(response.status, 503);
  const auto body = nlohmann::json::parse(response.body);
  EXPECT_EQ(body["error"]["code"], "commit_unknown");
  EXPECT_EQ(body["error"]["details"]["retry_with_same_idempotency_key"], "true");
  EXPECT_EQ(response.body.find("2013"), std::string::npos) << "the cause stays in the log";
  bool retry_after = false;
  for (const auto& [name, value] : response.headers)
    retry_after |= name == "Retry-After";
  EXPECT_TRUE(retry_after);
}
