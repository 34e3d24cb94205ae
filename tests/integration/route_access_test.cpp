// Every registered route, called as anonymous, admin, cashier and village, against the access it
// declares; and the declarations themselves against the table below, so that a new route (or a
// changed declaration) fails here until someone has looked at who may call it.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "support/station.hpp"
#include "yizhan/api/routes.hpp"
#include "yizhan/service/audit.hpp"
#include "yizhan/service/catalog.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/health.hpp"
#include "yizhan/service/orders.hpp"
#include "yizhan/service/reports.hpp"
#include "yizhan/service/settlements.hpp"
#include "yizhan/service/stock.hpp"
#include "yizhan/service/village_reports.hpp"
#include "yizhan/store/images.hpp"

using namespace yizhan;
using domain::Access;

namespace {

// The reviewed declaration of every route. Add a line when you add a route.
const std::map<std::string, Access> kExpected{
    {"GET /healthz", Access::anyone},
    {"GET /readyz", Access::anyone},
    {"GET /api/openapi.json", Access::anyone},
    {"GET /metrics", Access::anyone},
    {"GET /media/{file...}", Access::anyone},
    {"POST /api/v1/auth/login", Access::anyone},
    {"POST /api/v1/auth/logout", Access::signed_in},
    {"GET /api/v1/me", Access::signed_in},
    {"POST /api/v1/me/password", Access::signed_in},
    {"GET /api/v1/audit", Access::admin},
    {"GET /api/v1/villages/{id}/terms", Access::village},
    {"GET /api/v1/villages/{id}/summary", Access::village},
    {"GET /api/v1/villages/{id}/revenue", Access::village},
    {"GET /api/v1/villages/{id}/balance", Access::village},
    {"GET /api/v1/villages/{id}/stock", Access::village},
    {"GET /api/v1/villages", Access::anyone},
    {"GET /api/v1/villages/{id}", Access::anyone},
    {"POST /api/v1/villages", Access::admin},
    {"PATCH /api/v1/villages/{id}", Access::admin},
    {"GET /api/v1/categories", Access::anyone},
    {"GET /api/v1/products", Access::anyone},
    {"GET /api/v1/products/{id}", Access::anyone},
    {"GET /api/v1/products/{id}/availability", Access::anyone},
    {"GET /api/v1/products/by-barcode/{code}", Access::staff},
    {"POST /api/v1/products", Access::admin},
    {"PATCH /api/v1/products/{id}", Access::admin},
    {"POST /api/v1/products/{id}/image", Access::admin},
    {"POST /api/v1/stock/receipts", Access::admin},
    {"GET /api/v1/stock/receipts", Access::village},
    {"GET /api/v1/stock/receipts/{id}", Access::village},
    {"GET /api/v1/stock/receipts/{id}/note", Access::village},
    {"POST /api/v1/stock/counts", Access::admin},
    {"POST /api/v1/stock/write-offs", Access::admin},
    {"POST /api/v1/stock/returns", Access::admin},
    {"GET /api/v1/stock", Access::signed_in},
    {"GET /api/v1/stock/{id}", Access::signed_in},
    {"GET /api/v1/stock/{id}/moves", Access::admin},
    {"GET /api/v1/stock/shortfalls", Access::admin},
    {"GET /api/v1/pos/registers", Access::staff},
    {"POST /api/v1/pos/shifts", Access::staff},
    {"GET /api/v1/pos/shifts/current", Access::staff},
    {"POST /api/v1/pos/shifts/{id}/cash", Access::staff},
    {"GET /api/v1/pos/shifts/{id}/report", Access::staff},
    {"POST /api/v1/pos/shifts/{id}/close", Access::staff},
    {"POST /api/v1/pos/sales", Access::staff},
    {"POST /api/v1/pos/quote", Access::staff},
    {"GET /api/v1/pos/sales", Access::staff},
    {"GET /api/v1/pos/sales/by-number/{number}", Access::staff},
    {"GET /api/v1/pos/sales/{id}", Access::staff},
    {"POST /api/v1/pos/refunds", Access::staff},
    {"GET /api/v1/pos/refunds", Access::staff},
    {"POST /api/v1/pos/refunds/{id}/repay", Access::staff},
    {"POST /api/v1/pos/held-carts", Access::staff},
    {"GET /api/v1/pos/held-carts", Access::staff},
    {"POST /api/v1/pos/held-carts/{id}/resume", Access::staff},
    {"GET /api/v1/pos/sales/{id}/receipt", Access::staff},
    {"POST /api/v1/pos/sales/{id}/print", Access::staff},
    {"GET /api/v1/pos/shifts/{id}/report/print", Access::staff},
    {"GET /api/v1/pos/receipt.css", Access::anyone},
    {"GET /api/v1/pos/receipt.js", Access::anyone},
    {"GET /api/v1/orders/config", Access::anyone},
    {"POST /api/v1/orders", Access::anyone},
    {"GET /api/v1/orders", Access::staff},
    {"GET /api/v1/orders/{number}", Access::anyone},
    {"POST /api/v1/orders/{number}/cancel", Access::anyone},
    {"POST /api/v1/orders/{number}/transition", Access::staff},
    {"POST /api/v1/orders/{number}/payment", Access::anyone},
    {"POST /api/v1/orders/{number}/payment/check", Access::anyone},
    {"POST /api/v1/orders/{number}/attention/resolve", Access::staff},
    {"POST /api/v1/orders/{number}/surplus-returned", Access::admin},
    {"POST /api/v1/orders/{number}/refunds", Access::staff},
    {"GET /api/v1/orders/{number}/wechat-sign-in", Access::anyone},
    {"GET /api/v1/payments/wechat/sign-in", Access::anyone},
    {"POST /api/v1/payments/wechat/notify", Access::anyone},
    {"POST /api/v1/payments/alipay/notify", Access::anyone},
    {"POST /api/v1/settlements", Access::admin},
    {"GET /api/v1/settlements", Access::village},
    {"GET /api/v1/settlements/{id}", Access::village},
    {"POST /api/v1/settlements/{id}/confirm", Access::admin},
    {"POST /api/v1/settlements/{id}/payouts", Access::admin},
    {"GET /api/v1/settlements/{id}/statement", Access::village},
    {"POST /api/v1/villages/{id}/adjustments", Access::admin},
    {"GET /api/v1/villages/{id}/adjustments", Access::village},
    {"GET /api/v1/villages/{id}/commission", Access::village},
    {"POST /api/v1/villages/{id}/commission", Access::admin},
    {"GET /api/v1/reports/sales", Access::admin},
    {"GET /api/v1/reports/top-sellers", Access::admin},
    {"GET /api/v1/reports/commission", Access::admin},
    {"GET /api/v1/reports/stock-value", Access::admin},
    {"GET /api/v1/reports/slow-movers", Access::admin},
    {"GET /api/v1/reports/expiring", Access::admin},
    {"GET /api/v1/reports/payments", Access::admin},
};

struct Fixture {
  test_support::Station station;
  service::HealthService health{station.database};
  service::AuditService audit{station.database};
  test_support::TempDir media;
  store::ImageStore images{media.path()};
  service::CatalogService catalog{station.database, images};
  service::StockService stock{station.database};
  service::CounterService counter{station.database, service::CounterSettings{}};
  service::OrderService orders{station.database, service::OrderSettings{}, {}};
  service::SettlementService settlements{station.database};
  service::VillageReportService village_reports{station.database};
  service::ReportService reports{station.database};
  api::Router router =
      api::build_router({health, station.accounts, audit, catalog, &counter, &stock, &orders,
                         &settlements, &village_reports, &reports});
};

}  // namespace

TEST(RouteAccess, EveryRouteIsDeclaredAsReviewed) {
  Fixture fixture;
  std::size_t seen = 0;
  for (const auto& route : fixture.router.routes()) {
    const auto key = route.method + " " + route.pattern;
    const auto expected = kExpected.find(key);
    ASSERT_NE(expected, kExpected.end()) << key << " is not in the reviewed access table";
    EXPECT_EQ(to_string(route.access), to_string(expected->second)) << key;
    ++seen;
  }
  EXPECT_EQ(seen, kExpected.size()) << "the table names a route that no longer exists";
}

TEST(RouteAccess, RoutesThatAskAPaymentProviderRunOnTheProviderPool) {
  // A provider that is slow (5 s timeouts) held a database worker per request: sixteen payment
  // starts took every worker from the counter and the storefront (probe P12). These routes ask a
  // provider in their handler; they run on the provider pool, which refuses at once when full.
  const std::set<std::string> asking{
      "POST /api/v1/orders/{number}/payment", "POST /api/v1/orders/{number}/payment/check",
      "POST /api/v1/orders/{number}/refunds", "POST /api/v1/orders/{number}/cancel",
      "GET /api/v1/payments/wechat/sign-in"};
  Fixture fixture;
  api::Request request;
  request.body = R"({"tenders":[{"method":"cash","amount_fen":100}]})";
  for (const auto& route : fixture.router.routes()) {
    const auto key = route.method + " " + route.pattern;
    if (!asking.contains(key)) continue;
    ASSERT_TRUE(route.waits_on_provider) << key;
    EXPECT_TRUE(route.waits_on_provider(request)) << key;
  }
  // A counter sale waits on a provider only when it takes a scanned code.
  const auto sale = std::find_if(
      fixture.router.routes().begin(), fixture.router.routes().end(),
      [](const auto& r) { return r.pattern == "/api/v1/pos/sales" && r.method == "POST"; });
  ASSERT_NE(sale, fixture.router.routes().end());
  EXPECT_FALSE(sale->waits_on_provider(request));
  request.body = R"({"tenders":[{"method":"wechat_code","amount_fen":100,"auth_code":"1"}]})";
  EXPECT_TRUE(sale->waits_on_provider(request));
}

TEST(RouteAccess, EachRoleGetsExactlyWhatEachRouteDeclares) {
  Fixture fixture;
  const std::vector<std::pair<std::string, std::optional<domain::Role>>> callers{
      {"", std::nullopt},
      {"admin", domain::Role::admin},
      {"cashier1", domain::Role::cashier},
      {"village1", domain::Role::village}};
  for (const auto& route : fixture.router.routes()) {
    for (const auto& [username, role] : callers) {
      api::Request request;
      request.method = route.method;
      request.path = route.pattern;
      request.client_address = "10.2.0.1";
      request.headers["x-requested-with"] = "yizhan";
      // The village's own id, so that an allowed call is not refused for the wrong village.
      const auto own_village = std::to_string(fixture.station.village_a);
      for (auto at = request.path.find("{id}"); at != std::string::npos;
           at = request.path.find("{id}")) {
        request.path.replace(at, 4, own_village);
      }
      if (!username.empty()) {
        const auto login =
            fixture.station.accounts.login(username, test_support::kPassword, "10.2.0.1");
        request.headers["cookie"] = "yz_session=" + login.token;
      }
      const auto match = fixture.router.match(request.method, request.path);
      ASSERT_EQ(match.route, &route);
      const auto response = fixture.router.dispatch(match, request);
      const auto who = username.empty() ? std::string("anonymous") : username;
      const auto label = route.method + " " + route.pattern + " as " + who;
      // An empty request is the client's mistake at worst: never a server error.
      EXPECT_LT(response.status, 500) << label << ": " << response.body;
      if (domain::allows(route.access, role)) {
        EXPECT_NE(response.status, 401) << label << ": " << response.body;
        EXPECT_NE(response.status, 403) << label << ": " << response.body;
      } else {
        EXPECT_EQ(response.status, role ? 403 : 401) << label << ": " << response.body;
      }
    }
  }
}

TEST(RouteAccess, AVillageAccountGetsNothingOfAnotherVillage) {
  // Every route a village account may call, with the other village's id (and, for routes of
  // other resources, ids of that village's things): 403 or 404, never data.
  Fixture fixture;
  const auto login =
      fixture.station.accounts.login("village1", test_support::kPassword, "10.2.0.3");
  const auto other_village = std::to_string(fixture.station.village_b);
  std::size_t checked = 0;
  for (const auto& route : fixture.router.routes()) {
    if (route.access != Access::village || route.pattern.find("{id}") == std::string::npos)
      continue;
    api::Request request;
    request.method = route.method;
    request.path = route.pattern;
    request.client_address = "10.2.0.3";
    request.headers["x-requested-with"] = "yizhan";
    request.headers["cookie"] = "yz_session=" + login.token;
    for (auto at = request.path.find("{id}"); at != std::string::npos;
         at = request.path.find("{id}"))
      request.path.replace(at, 4, other_village);
    const auto response =
        fixture.router.dispatch(fixture.router.match(route.method, request.path), request);
    const auto label = route.method + " " + request.path + " as village1";
    EXPECT_TRUE(response.status == 403 || response.status == 404) << label << ": " << response.body;
    EXPECT_NE(response.body.find(R"("error")"), std::string::npos)
        << label << ": " << response.body;
    ++checked;
  }
  EXPECT_GE(checked, 5u) << "the village routes are in the table";
}

TEST(RouteAccess, StateChangesWithACookieNeedTheCsrfHeader) {
  Fixture fixture;
  const auto login = fixture.station.accounts.login("admin", test_support::kPassword, "10.2.0.2");
  api::Request request;
  request.method = "POST";
  request.path = "/api/v1/auth/logout";
  request.headers["cookie"] = "theme=dark; yz_session=" + login.token;
  const auto refused = fixture.router.dispatch(fixture.router.match("POST", request.path), request);
  EXPECT_EQ(refused.status, 403);
  EXPECT_NE(refused.body.find(R"("code":"csrf")"), std::string::npos);
  EXPECT_TRUE(fixture.station.accounts.authenticate(login.token)) << "nothing changed";
  request.headers["x-requested-with"] = "yizhan";
  EXPECT_EQ(fixture.router.dispatch(fixture.router.match("POST", request.path), request).status,
            204);
  EXPECT_FALSE(fixture.station.accounts.authenticate(login.token));
}

TEST(RouteAccess, EveryRouteIsInTheOpenApiDescription) {
  Fixture fixture;
  api::Request request;
  request.method = "GET";
  request.path = "/api/openapi.json";
  const auto response = fixture.router.dispatch(fixture.router.match("GET", request.path), request);
  const auto document = nlohmann::json::parse(response.payload());
  for (const auto& route : fixture.router.routes()) {
    std::string method = route.method;
    for (auto& c : method)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    EXPECT_TRUE(document["paths"].contains(route.pattern) &&
                document["paths"][route.pattern].contains(method))
        << route.method << " " << route.pattern << " is missing from openapi/openapi.json";
  }
}

// A village account asks for another village's settlements, statements and adjustments by their
// real ids: 403 or 404 on every village route, never the data.
TEST(RouteAccess, AVillageAccountGetsNothingOfAnotherVillagesSettlements) {
  Fixture fixture;
  const service::Actor admin{std::nullopt, "test", "", "test"};
  const auto today = domain::format_iso_date(
      domain::business_day(std::chrono::system_clock::now(), domain::TimeZone::shanghai()));
  const auto theirs =
      fixture.settlements.create_draft({fixture.station.village_b, today, today}, admin);
  fixture.settlements.adjust(fixture.station.village_b, {-300, std::string("乙村包装费")}, admin,
                             std::nullopt,
                             [](const service::Adjustment&) { return service::StoredReply{}; });
  const auto login =
      fixture.station.accounts.login("village1", test_support::kPassword, "10.2.0.3");
  std::size_t asked = 0;
  for (const auto& route : fixture.router.routes()) {
    const bool settlement_route =
        route.pattern.starts_with("/api/v1/settlements") || route.pattern.ends_with("/adjustments");
    if (!settlement_route) continue;
    api::Request request;
    request.method = route.method;
    request.path = route.pattern;
    const bool village_path = route.pattern.starts_with("/api/v1/villages/");
    const auto id = std::to_string(village_path ? fixture.station.village_b : theirs.id);
    if (const auto at = request.path.find("{id}"); at != std::string::npos)
      request.path.replace(at, 4, id);
    if (route.pattern == "/api/v1/settlements")
      request.query["village_id"] = std::to_string(fixture.station.village_b);
    request.client_address = "10.2.0.3";
    request.headers["x-requested-with"] = "yizhan";
    request.headers["idempotency-key"] = "k" + std::to_string(asked);
    request.headers["cookie"] = "yz_session=" + login.token;
    request.body = R"({"amount_fen":1,"reason":"x","village_id":1,"from":"2026-01-01"})";
    const auto response =
        fixture.router.dispatch(fixture.router.match(request.method, request.path), request);
    const auto label = route.method + " " + request.path;
    EXPECT_TRUE(response.status == 403 || response.status == 404) << label << ": " << response.body;
    EXPECT_EQ(response.body.find("乙村"), std::string::npos) << label;
    EXPECT_EQ(response.body.find("vilb"), std::string::npos) << label;
    ++asked;
  }
  EXPECT_EQ(asked, 8u);
}
