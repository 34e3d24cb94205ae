// The Idempotency-Key header end to end through the router: a repeated create replays the first
// answer byte for byte and creates nothing; the same key with another body is 409; keys are
// the caller's own.
#include <gtest/gtest.h>

#include <barrier>
#include <thread>

#include "support/api_client.hpp"

using namespace yizhan;
using nlohmann::json;

namespace {

json tea(std::int64_t village_id, const std::string& sku) {
  return {{"sku", sku},       {"name", "铁观音"}, {"village_id", village_id},
          {"category_id", 1}, {"unit", "piece"},  {"price_fen", 6800}};
}

class IdempotentApiTest : public ::testing::Test {
 protected:
  std::int64_t product_count() {
    return api.call("GET", "/api/v1/products?include_hidden=true&page_size=100", "admin")
        .body["total"]
        .get<std::int64_t>();
  }
  test_support::ApiFixture api;
};

}  // namespace

TEST_F(IdempotentApiTest, ARetriedCreateReplaysTheFirstAnswerAndCreatesNothing) {
  const auto body = tea(api.station.village_a, "TEA-IDEM").dump();
  const auto first =
      api.call("POST", "/api/v1/products", "admin", body, {{"idempotency-key", "create-tea-1"}});
  ASSERT_EQ(first.status, 201) << first.raw.payload();
  const auto before = product_count();
  const auto again =
      api.call("POST", "/api/v1/products", "admin", body, {{"idempotency-key", "create-tea-1"}});
  EXPECT_EQ(again.status, 201);
  EXPECT_EQ(again.raw.payload(), first.raw.payload());
  bool replayed = false;
  for (const auto& [name, value] : again.raw.headers)
    replayed |= name == "Idempotent-Replayed" && value == "true";
  EXPECT_TRUE(replayed);
  EXPECT_EQ(product_count(), before);
  // Without the key the same body is a second create, refused as a duplicate SKU.
  EXPECT_EQ(api.call("POST", "/api/v1/products", "admin", body).status, 409);
}

TEST_F(IdempotentApiTest, TheSameKeyWithAnotherBodyIs409IdempotencyMismatch) {
  api.call("POST", "/api/v1/products", "admin", tea(api.station.village_a, "TEA-A").dump(),
           {{"idempotency-key", "k"}});
  const auto before = product_count();
  const auto other =
      api.call("POST", "/api/v1/products", "admin", tea(api.station.village_a, "TEA-B").dump(),
               {{"idempotency-key", "k"}});
  EXPECT_EQ(other.status, 409);
  EXPECT_EQ(other.body["error"]["code"], "idempotency_mismatch");
  EXPECT_EQ(other.body["error"]["details"]["field"], "Idempotency-Key");
  EXPECT_EQ(product_count(), before);
}

TEST_F(IdempotentApiTest, ABadKeyIs422AndCreatesNothing) {
  const auto before = product_count();
  const auto reply =
      api.call("POST", "/api/v1/products", "admin", tea(api.station.village_a, "TEA-C").dump(),
               {{"idempotency-key", std::string(300, 'x')}});
  EXPECT_EQ(reply.status, 422);
  EXPECT_EQ(reply.body["error"]["details"]["field"], "Idempotency-Key");
  EXPECT_EQ(product_count(), before);
}

TEST_F(IdempotentApiTest, ConcurrentDoubleTapsCreateOnce) {
  const auto body = json{{"code", "newvil"}, {"name", "新村"}}.dump();
  api.call("GET", "/api/v1/villages", "admin");  // sign in before the race
  constexpr int kTaps = 6;
  std::barrier start(kTaps);
  std::vector<int> statuses(kTaps);
  std::vector<std::string> payloads(kTaps);
  std::vector<std::thread> taps;
  for (int i = 0; i < kTaps; ++i) {
    taps.emplace_back([&, i] {
      start.arrive_and_wait();
      const auto reply =
          api.call("POST", "/api/v1/villages", "admin", body, {{"idempotency-key", "tap"}});
      statuses[i] = reply.status;
      payloads[i] = std::string(reply.raw.payload());
    });
  }
  for (auto& tap : taps)
    tap.join();
  for (int i = 0; i < kTaps; ++i) {
    EXPECT_EQ(statuses[i], 201) << payloads[i];
    EXPECT_EQ(payloads[i], payloads[0]);
  }
  const auto villages = api.call("GET", "/api/v1/villages?include_inactive=true", "admin").body;
  int created = 0;
  for (const auto& village : villages["items"])
    created += village["code"] == "newvil" ? 1 : 0;
  EXPECT_EQ(created, 1);
}
