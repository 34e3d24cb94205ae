// The catalog API on the real MariaDB: every endpoint, its errors, search, visibility, the
// public cache and its invalidation across processes, image upload and the audit trail.
#include <gtest/gtest.h>

#include <cppconn/exception.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <random>
#include <thread>

#include "support/api_client.hpp"
#include "support/sample_images.hpp"
#include "yizhan/domain/catalog.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/products.hpp"

using namespace yizhan;
using nlohmann::json;
using test_support::ApiFixture;

namespace {

std::string valid_barcode(const std::string& first_twelve) {
  return first_twelve + std::to_string(domain::ean13_check_digit(first_twelve));
}

json tea(std::int64_t village_id, const std::string& sku = "TEA-1") {
  return {{"sku", sku},
          {"barcode", valid_barcode("690000000001")},
          {"name", "瑶前铁观音"},
          {"description", "清香型乌龙茶"},
          {"origin", "瑶前村合作社，手工采摘"},
          {"village_id", village_id},
          {"category_id", 1},
          {"unit", "g"},
          {"price_fen", 36000},
          {"shelf_life_days", 540}};
}

class CatalogTest : public ::testing::Test {
 protected:
  ApiFixture api;
  std::int64_t village() const { return api.station.village_a; }
  /// Creates the tea product and returns its id.
  std::int64_t create_tea() {
    const auto created = api.call_json("POST", "/api/v1/products", "admin", tea(village()));
    EXPECT_EQ(created.status, 201) << created.body;
    return created.body["id"].get<std::int64_t>();
  }
};

/// A second "process" on the same database: its own pool, services and caches.
struct OtherProcess {
  explicit OtherProcess(ApiFixture& api)
      : database(api.station.schema.config()), catalog(database, api.images) {}
  store::Database database;
  service::CatalogService catalog;
};

/// Polls `done` until it holds or `limit` passes (generous: a busy 2-core machine under ASan).
template <class Done>
bool eventually(Done&& done, std::chrono::seconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

}  // namespace

TEST_F(CatalogTest, AdminCreatesAProductAndThePublicFindsIt) {
  const auto created = api.call_json("POST", "/api/v1/products", "admin", tea(village()));
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body["unit"], "g");
  EXPECT_EQ(created.body["price_fen"], 36000);
  EXPECT_TRUE(created.body["commission_bps"].is_null());
  EXPECT_EQ(created.body["village_name"], "甲村");
  const auto id = created.body["id"].get<std::int64_t>();

  const auto one = api.call("GET", "/api/v1/products/" + std::to_string(id));
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.body["name"], "瑶前铁观音");
  const auto by_barcode =
      api.call("GET", "/api/v1/products/by-barcode/" + valid_barcode("690000000001"), "cashier1");
  EXPECT_EQ(by_barcode.status, 200);
  EXPECT_EQ(by_barcode.body["id"], id);
  EXPECT_EQ(api.call("GET", "/api/v1/products/by-barcode/2026000000000", "cashier1").status, 404);
}

TEST_F(CatalogTest, BadProductsAre422NamingTheFieldAndChangeNothing) {
  const std::vector<std::pair<json, std::string>> cases{
      {{{"barcode", "6900000000019"}}, "barcode"},  // wrong check digit
      {{{"barcode", "12345"}}, "barcode"},
      {{{"price_fen", -1}}, "price_fen"},
      {{{"price_fen", 0}}, "price_fen"},
      {{{"price_fen", 100000001}}, "price_fen"},
      {{{"price_fen", 12.5}}, "price_fen"},
      {{{"price_fen", "1230"}}, "price_fen"},
      {{{"unit", "kg"}}, "unit"},
      {{{"village_id", 999999}}, "village_id"},
      {{{"category_id", 999999}}, "category_id"},
      {{{"name", std::string(101, 'x')}}, "name"},
      {{{"name", ""}}, "name"},
      {{{"name", "\u202E\u8336\u89C2\u97F3\u94C1"}}, "name"},  // reads backwards (F17)
      {{{"description", std::string(2001, 'x')}}, "description"},
      {{{"sku", "has space"}}, "sku"},
      {{{"commission_bps", 10001}}, "commission_bps"},
      {{{"shelf_life_days", 0}}, "shelf_life_days"},
      {{{"colour", "red"}}, "colour"},
      // Request-body shape errors are explicit 422s naming the field, never a generic 400/500.
      {{{"price_fen", json::object({{"yuan", 12}})}}, "price_fen"},
      {{{"price_fen", json::array({1})}}, "price_fen"},
      {{{"price_fen", 18446744073709551615ULL}}, "price_fen"},
      {{{"village_id", 9223372036854775808ULL}}, "village_id"},
      {{{"name", 42}}, "name"},
      {{{"active", "yes"}}, "active"},
      {{{"barcode", json::array()}}, "barcode"},
  };
  for (const auto& [change, field] : cases) {
    auto body = tea(village());
    body.update(change);
    const auto reply = api.call_json("POST", "/api/v1/products", "admin", body);
    EXPECT_EQ(reply.status, 422) << change;
    EXPECT_EQ(reply.body["error"]["details"]["field"], field) << change << " " << reply.body;
  }
  auto missing = tea(village());
  missing.erase("price_fen");
  EXPECT_EQ(
      api.call_json("POST", "/api/v1/products", "admin", missing).body["error"]["details"]["field"],
      "price_fen");
  EXPECT_EQ(api.call("POST", "/api/v1/products", "admin", "not json").status, 400);
  EXPECT_EQ(api.call("POST", "/api/v1/products", "admin", "[1,2]").status, 400);
  EXPECT_EQ(api.call("GET", "/api/v1/products?page_size=20", "admin").body["total"], 0)
      << "nothing was created by bad input";
}

TEST_F(CatalogTest, DuplicateSkuOrBarcodeIs409NamingTheField) {
  ASSERT_EQ(api.call_json("POST", "/api/v1/products", "admin", tea(village())).status, 201);
  auto same_sku = tea(village());
  same_sku["barcode"] = valid_barcode("690000000002");
  const auto sku = api.call_json("POST", "/api/v1/products", "admin", same_sku);
  EXPECT_EQ(sku.status, 409);
  EXPECT_EQ(sku.body["error"]["code"], "duplicate");
  EXPECT_EQ(sku.body["error"]["details"]["field"], "sku");
  const auto barcode = api.call_json("POST", "/api/v1/products", "admin", tea(village(), "TEA-2"));
  EXPECT_EQ(barcode.status, 409);
  EXPECT_EQ(barcode.body["error"]["details"]["field"], "barcode");
  EXPECT_EQ(barcode.body.dump().find("Duplicate entry"), std::string::npos) << "no SQL text leaks";
}

TEST_F(CatalogTest, PatchChangesOnlyTheGivenFieldsAndIsAudited) {
  const auto id =
      api.call_json("POST", "/api/v1/products", "admin", tea(village())).body["id"].get<int>();
  const auto path = "/api/v1/products/" + std::to_string(id);
  const auto patched =
      api.call_json("PATCH", path, "admin", {{"price_fen", 38800}, {"commission_bps", 1000}});
  ASSERT_EQ(patched.status, 200) << patched.body;
  EXPECT_EQ(patched.body["price_fen"], 38800);
  EXPECT_EQ(patched.body["commission_bps"], 1000);
  EXPECT_EQ(patched.body["name"], "瑶前铁观音");
  EXPECT_EQ(
      api.call_json("PATCH", path, "admin", {{"commission_bps", nullptr}}).body["commission_bps"],
      nullptr);
  EXPECT_EQ(api.call_json("PATCH", path, "admin", {{"price_fen", -5}}).status, 422);
  EXPECT_EQ(api.call("GET", path).body["price_fen"], 38800) << "the refused patch changed nothing";
  EXPECT_EQ(api.call_json("PATCH", "/api/v1/products/999999", "admin", {{"price_fen", 1}}).status,
            404);
  EXPECT_EQ(api.call_json("PATCH", path, "cashier1", {{"price_fen", 1}}).status, 403)
      << "a cashier cannot change prices";

  const auto audit = api.call("GET", "/api/v1/audit?page_size=10", "admin").body["items"];
  const auto change = std::find_if(audit.begin(), audit.end(), [&](const json& row) {
    return row["action"] == "PATCH " + path && row["before"]["price_fen"] == "36000";
  });
  ASSERT_NE(change, audit.end()) << audit;
  EXPECT_EQ((*change)["after"]["price_fen"], "38800");
  EXPECT_EQ((*change)["actor"], "admin");
}

TEST_F(CatalogTest, HiddenProductsAndVillagesAreNotPublic) {
  const auto id =
      api.call_json("POST", "/api/v1/products", "admin", tea(village())).body["id"].get<int>();
  const auto path = "/api/v1/products/" + std::to_string(id);
  api.call_json("PATCH", path, "admin", {{"online", false}});
  EXPECT_EQ(api.call("GET", path).status, 404);
  EXPECT_EQ(api.call("GET", "/api/v1/products").body["total"], 0);
  EXPECT_EQ(api.call("GET", path, "admin").status, 200) << "admins still see it";
  api.call_json("PATCH", path, "admin", {{"online", true}});
  EXPECT_EQ(api.call("GET", path).status, 200);
  api.call_json("PATCH", "/api/v1/villages/" + std::to_string(village()), "admin",
                {{"active", false}});
  EXPECT_EQ(api.call("GET", path).status, 404) << "products of an inactive village are hidden";
  EXPECT_EQ(api.call("GET", "/api/v1/villages/" + std::to_string(village())).status, 404);
  EXPECT_EQ(api.call("GET", "/api/v1/villages").body["items"].size(), 1u);
}

TEST_F(CatalogTest, SearchFindsChineseWordsSkuAndBarcodeAndFiltersCombine) {
  auto add = [&](const std::string& sku, const std::string& twelve, const std::string& name,
                 const std::string& description, std::int64_t village_id, int category) {
    auto body = tea(village_id, sku);
    body["barcode"] = valid_barcode(twelve);
    body["name"] = name;
    body["description"] = description;
    body["category_id"] = category;
    const auto reply = api.call_json("POST", "/api/v1/products", "admin", body);
    ASSERT_EQ(reply.status, 201) << reply.body;
  };
  add("A1", "690000000011", "铁观音", "乌龙", village(), 1);
  add("A2", "690000000012", "炒花生", "香脆", village(), 3);
  add("A3", "690000000013", "土笋冻", "安海小吃，配花生酱", api.station.village_b, 3);
  add("A4", "690000000014", "花生糖", "甜", api.station.village_b, 3);
  add("A5", "690000000015", "蜂蜜", "山花", api.station.village_b, 3);  // category 花生与小吃
  auto search = [&](const std::string& query) {
    std::vector<std::string> names;
    const auto reply = api.call("GET", "/api/v1/products?" + query);
    EXPECT_EQ(reply.status, 200) << query << reply.body;
    for (const auto& item : reply.body["items"])
      names.push_back(item["name"]);
    return names;
  };
  EXPECT_EQ(search("q=%E8%8C%B6"), std::vector<std::string>{"铁观音"})
      << "茶 matches the tea category";
  EXPECT_EQ(search("q=%E5%9C%9F%E7%AC%8B%E5%86%BB"), std::vector<std::string>{"土笋冻"});
  EXPECT_EQ(search("q=%E8%8A%B1%E7%94%9F"),
            (std::vector<std::string>{"炒花生", "花生糖", "土笋冻", "蜂蜜"}))
      << "花生: name matches first, then description, then category-only matches";
  EXPECT_EQ(search("q=%E8%8A%B1%E7%94%9F&village_id=" + std::to_string(api.station.village_b)),
            (std::vector<std::string>{"花生糖", "土笋冻", "蜂蜜"}));
  EXPECT_EQ(search("q=A2"), std::vector<std::string>{"炒花生"});
  EXPECT_EQ(search("q=" + valid_barcode("690000000014")), std::vector<std::string>{"花生糖"});
  EXPECT_EQ(search("q=%25"), std::vector<std::string>{}) << "% is literal, not a wildcard";
  EXPECT_EQ(search("category_id=3&page_size=2&page=2"),
            (std::vector<std::string>{"花生糖", "蜂蜜"}));
  EXPECT_EQ(api.call("GET", "/api/v1/products?category_id=3&page_size=2").body["total"], 4);
  EXPECT_EQ(api.call("GET", "/api/v1/products?village_id=x").status, 422);
  EXPECT_EQ(api.call("GET", "/api/v1/products?page=0").status, 422);
}

TEST_F(CatalogTest, VillagesCrudWithTermsForAdminsOnly) {
  const auto created = api.call_json("POST", "/api/v1/villages", "admin",
                                     {{"code", "dongli"},
                                      {"name", "东鲤村"},
                                      {"commission_bps", 1300},
                                      {"description", "蜜饯之乡"}});
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.body["commission_bps"], 1300);
  const auto id = created.body["id"].get<int>();
  const auto path = "/api/v1/villages/" + std::to_string(id);
  // Its payable account exists from the start, not only after its first sale.
  EXPECT_EQ(test_support::scalar(api.station.database,
                                 "SELECT COUNT(*) FROM ledger_accounts WHERE kind = 'liability' "
                                 "AND village_id = " +
                                     std::to_string(id) +
                                     " AND code = 'village_payable:" + std::to_string(id) + "'"),
            1);
  const auto public_view = api.call("GET", path);
  EXPECT_EQ(public_view.body["name"], "东鲤村");
  EXPECT_FALSE(public_view.body.contains("commission_bps")) << "terms are not public";
  EXPECT_TRUE(api.call("GET", path, "admin").body.contains("commission_bps"));
  EXPECT_EQ(api.call_json("POST", "/api/v1/villages", "admin", {{"code", "dongli"}, {"name", "x"}})
                .status,
            409);
  EXPECT_EQ(
      api.call_json("POST", "/api/v1/villages", "admin", {{"code", "Bad Code"}, {"name", "x"}})
          .body["error"]["details"]["field"],
      "code");
  EXPECT_EQ(api.call_json("PATCH", path, "admin", {{"commission_bps", 20000}}).status, 422);
  EXPECT_EQ(api.call_json("PATCH", path, "admin", {{"name", "东鲤"}}).body["name"], "东鲤");
  EXPECT_EQ(
      api.call_json("POST", "/api/v1/villages", "cashier1", {{"code", "x1"}, {"name", "x"}}).status,
      403);
  EXPECT_EQ(api.call("GET", "/api/v1/villages/abc").status, 404);
  EXPECT_EQ(api.call("GET", "/api/v1/categories").body["items"].size(), 7u);
}

TEST_F(CatalogTest, PublicReadsAreCachedWithETagsAndChangesShowAtOnce) {
  const auto id =
      api.call_json("POST", "/api/v1/products", "admin", tea(village())).body["id"].get<int>();
  const auto path = "/api/v1/products/" + std::to_string(id);
  const auto first = api.call("GET", path);
  const auto etag = [&] {
    for (const auto& [name, value] : first.raw.headers) {
      if (name == "ETag") return value;
    }
    return std::string();
  }();
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(api.call("GET", path, "", {}, {{"if-none-match", etag}}).status, 304);
  api.call_json("PATCH", path, "admin", {{"price_fen", 40000}});
  const auto after = api.call("GET", path, "", {}, {{"if-none-match", etag}});
  EXPECT_EQ(after.status, 200) << "a change is visible at once to the process that made it";
  EXPECT_EQ(after.body["price_fen"], 40000);
}

TEST_F(CatalogTest, OtherProcessesSeeAChangeAfterTheirVersionRecheck) {
  const auto id =
      api.call_json("POST", "/api/v1/products", "admin", tea(village())).body["id"].get<int>();
  const auto path = "/api/v1/products/" + std::to_string(id);
  // A second "process": its own pool, services and cache on the same database.
  store::Database other_database(api.station.schema.config());
  service::AccountService other_accounts(other_database, test_support::cheap_hasher());
  service::HealthService other_health(other_database);
  service::AuditService other_audit(other_database);
  service::CatalogService other_catalog(other_database, api.images);
  const auto other = api::build_router({other_health, other_accounts, other_audit, other_catalog});
  auto other_price = [&] {
    api::Request request;
    request.method = "GET";
    request.path = path;
    const auto response = other.dispatch(other.match("GET", path), request);
    return json::parse(response.payload())["price_fen"].get<int>();
  };
  EXPECT_EQ(other_price(), 36000);
  api.call_json("PATCH", path, "admin", {{"price_fen", 41000}});
  // The other process re-reads the version every half second; the deadline is generous so
  // that a busy machine does not fail the test, the property is that it happens at all.
  EXPECT_TRUE(eventually([&] { return other_price() == 41000; }));
}

TEST_F(CatalogTest, BarcodeLookupFindsOnlyWhatTheCounterMaySell) {
  const auto id = create_tea();
  const auto path = "/api/v1/products/" + std::to_string(id);
  const auto scan = "/api/v1/products/by-barcode/" + valid_barcode("690000000001");
  EXPECT_EQ(api.call("GET", scan, "cashier1").status, 200);
  api.call_json("PATCH", path, "admin", {{"online", false}});
  EXPECT_EQ(api.call("GET", scan, "cashier1").status, 200) << "sold in the shop, not online";
  api.call_json("PATCH", path, "admin", {{"online", true}, {"active", false}});
  EXPECT_EQ(api.call("GET", scan, "cashier1").status, 404) << "a delisted product cannot be sold";
  EXPECT_EQ(api.call("GET", scan, "admin").status, 404) << "by scanning, whoever scans";
  api.call_json("PATCH", path, "admin", {{"active", true}});
  EXPECT_EQ(api.call("GET", scan, "cashier1").status, 200);
  api.call_json("PATCH", "/api/v1/villages/" + std::to_string(village()), "admin",
                {{"active", false}});
  EXPECT_EQ(api.call("GET", scan, "cashier1").status, 404) << "its village left the alliance";
}

TEST_F(CatalogTest, UnknownQueryParametersDoNotGrowThePublicCache) {
  create_tea();
  // A hit hands out the very body it cached; a new entry would be a new string.
  const auto first = api.call("GET", "/api/v1/products");
  ASSERT_EQ(first.status, 200);
  const auto* cached = first.raw.shared_body.get();
  ASSERT_NE(cached, nullptr);
  std::mt19937 random(17);
  std::uniform_int_distribution<int> letter('a', 'z');
  for (int i = 0; i < 10000; ++i) {
    std::string junk;
    for (int k = 0; k < 8; ++k)
      junk += static_cast<char>(letter(random));
    const auto reply = api.call(
        "GET", "/api/v1/products?" + junk + "=" + std::to_string(i) + "&utm_" + junk + "=x");
    ASSERT_EQ(reply.status, 200) << junk;
    ASSERT_EQ(reply.raw.shared_body.get(), cached) << "request " << i << " made a new entry";
  }
  // Known parameters in another spelling are the same answer too.
  EXPECT_EQ(
      api.call("GET", "/api/v1/products?page=01&page_size=020&village_id=").raw.shared_body.get(),
      cached);
}

TEST_F(CatalogTest, ManyLargeSearchAnswersDoNotOutgrowTheCacheByteBound) {
  // A product as large as the field limits allow (~9 KB of JSON), and 600 different searches
  // that all find it: 600 entries are far below the entry bound, ~5.6 MB is above the byte
  // bound (4 MiB), so the cache must have started over and dropped the first entry.
  std::mt19937 random(23);
  std::uniform_int_distribution<char32_t> hanzi(0x4E00, 0x9FA5);
  auto chinese = [&](int characters) {
    std::string text;
    for (int i = 0; i < characters; ++i) {
      const char32_t c = hanzi(random);
      text += static_cast<char>(0xE0 | (c >> 12));
      text += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      text += static_cast<char>(0x80 | (c & 0x3F));
    }
    return text;
  };
  auto body = tea(village());
  body["description"] = chinese(2000);
  body["origin"] = chinese(1000);
  const auto created = api.call_json("POST", "/api/v1/products", "admin", body);
  ASSERT_EQ(created.status, 201) << created.body;
  const auto path = "/api/v1/products/" + std::to_string(created.body["id"].get<int>());
  const auto first = api.call("GET", path).raw.shared_body;  // held: its address stays unique
  ASSERT_EQ(api.call("GET", path).raw.shared_body, first) << "cached";
  const std::string description = body["description"];
  for (int i = 0; i < 600; ++i) {
    const auto reply =
        api.call("GET", "/api/v1/products?page_size=1&q=" + description.substr(i * 3, 4 * 3));
    ASSERT_EQ(reply.status, 200);
    ASSERT_EQ(reply.body["total"], 1) << i;
  }
  EXPECT_NE(api.call("GET", path).raw.shared_body, first)
      << "600 large answers were all kept: the cache is not bounded in bytes";
}

TEST_F(CatalogTest, AnIdInAnotherSpellingIsTheSameCacheEntry) {
  const auto id = create_tea();
  const auto one = api.call("GET", "/api/v1/products/" + std::to_string(id));
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(api.call("GET", "/api/v1/products/000" + std::to_string(id)).raw.shared_body.get(),
            one.raw.shared_body.get());
}

TEST_F(CatalogTest, AReaderDuringAnUncommittedWriteNeverCachesTheOldAnswerUnderTheNewVersion) {
  const auto id = create_tea();
  const auto path = "/api/v1/products/" + std::to_string(id);
  ASSERT_EQ(api.call("GET", path).body["price_fen"], 36000);
  api.station.database.transact([&](store::UnitOfWork& unit) {
    auto product = *store::find_product(unit, id, store::RowLock::update);
    product.price = domain::Fen(50000);
    store::update_product(unit, product);
    api.catalog.record_change(unit);  // what every catalog write does before it commits
    // A public read on another connection while this write is not yet committed: it must
    // see (and may cache) the old answer, but only under the old version.
    const auto during = std::async(std::launch::async, [&] { return api.call("GET", path); }).get();
    EXPECT_EQ(during.body["price_fen"], 36000) << "uncommitted rows are not visible";
  });
  EXPECT_EQ(api.call("GET", path).body["price_fen"], 50000)
      << "the answer read before the commit was cached under the new version";
}

TEST_F(CatalogTest, AWriteRetriedAfterADeadlockLeavesNoVersionThatNeverCommitted) {
  const auto id = create_tea();
  const auto path = "/api/v1/products/" + std::to_string(id);
  ASSERT_EQ(api.call("GET", path).body["price_fen"], 36000);
  // First attempt: records its change, then loses a deadlock (rolled back, retried). The retry
  // finds nothing to change and commits nothing.
  int attempts = 0;
  api.station.database.transact([&](store::UnitOfWork& unit) {
    if (++attempts == 1) {
      api.catalog.record_change(unit);
      throw sql::SQLException("Deadlock found when trying to get lock", "40001", 1213);
    }
  });
  ASSERT_EQ(attempts, 2);
  ASSERT_EQ(api.call("GET", path).body["price_fen"], 36000);  // read (and cached) again

  // Another process now commits a real change, taking the next version number.
  OtherProcess other(api);
  service::ProductChanges changes;
  changes.price = domain::Fen(41000);
  other.catalog.update_product(id, changes, {std::nullopt, "other", "", "test"});
  EXPECT_TRUE(eventually([&] { return api.call("GET", path).body["price_fen"] == 41000; }))
      << "this process believed it already had that version, and kept the old answer";
}

TEST_F(CatalogTest, AFailedWriteLeavesNoVersionThatNeverCommitted) {
  const auto id = create_tea();
  const auto path = "/api/v1/products/" + std::to_string(id);
  ASSERT_EQ(api.call("GET", path).body["price_fen"], 36000);
  EXPECT_THROW(api.station.database.transact([&](store::UnitOfWork& unit) {
    api.catalog.record_change(unit);
    throw std::runtime_error("the rest of the change failed");
  }),
               std::runtime_error);
  ASSERT_EQ(api.call("GET", path).body["price_fen"], 36000);
  OtherProcess other(api);
  service::ProductChanges changes;
  changes.price = domain::Fen(42000);
  other.catalog.update_product(id, changes, {std::nullopt, "other", "", "test"});
  EXPECT_TRUE(eventually([&] { return api.call("GET", path).body["price_fen"] == 42000; }));
}

TEST_F(CatalogTest, ImagesAreCheckedByTheirBytesStoredAndServedByUrl) {
  const auto id =
      api.call_json("POST", "/api/v1/products", "admin", tea(village())).body["id"].get<int>();
  const auto path = "/api/v1/products/" + std::to_string(id) + "/image";
  const std::string png = test_support::kPng;
  const auto uploaded = api.call("POST", path, "admin", png, {{"content-type", "image/png"}});
  ASSERT_EQ(uploaded.status, 200) << uploaded.body;
  const std::string url = uploaded.body["image_url"];
  EXPECT_TRUE(url.starts_with("/media/products/" + std::to_string(id) + "-")) << url;
  EXPECT_TRUE(url.ends_with(".png"));
  EXPECT_TRUE(std::filesystem::exists(api.media.path() / url.substr(7)));

  EXPECT_EQ(api.call("POST", path, "admin", png, {{"content-type", "image/jpeg"}}).status, 415)
      << "declared type must match the bytes";
  EXPECT_EQ(api.call("POST", path, "admin", "GIF89a....", {{"content-type", "image/png"}}).status,
            415);
  EXPECT_EQ(api.call("POST", path, "admin", "<svg/>", {{"content-type", "image/svg+xml"}}).status,
            415);
  EXPECT_EQ(api.call("POST", path, "admin", "", {{"content-type", "image/png"}}).status, 422);
  // Media types compare without case or parameters.
  EXPECT_EQ(
      api.call("POST", path, "admin", png, {{"content-type", "Image/PNG; name=tea.png"}}).status,
      200);
  EXPECT_EQ(api.call("POST", path, "admin", png + std::string(3 * 1024 * 1024, 'x'),
                     {{"content-type", "image/png"}})
                .status,
            413);
  EXPECT_EQ(api.call("POST", "/api/v1/products/999999/image", "admin", png,
                     {{"content-type", "image/png"}})
                .status,
            404);
  EXPECT_EQ(api.call("GET", "/api/v1/products/" + std::to_string(id)).body["image_url"], url);
}

// Probe F11: bytes that only begin like an image replaced the product's photo.
TEST_F(CatalogTest, AnImageThatOnlyBeginsLikeOneIs422AndKeepsThePhoto) {
  const auto id = create_tea();
  const auto path = "/api/v1/products/" + std::to_string(id) + "/image";
  const auto good =
      api.call("POST", path, "admin", test_support::kPng, {{"content-type", "image/png"}});
  ASSERT_EQ(good.status, 200) << good.body;
  const std::string url = good.body["image_url"];
  const auto files = [&] {
    return std::distance(std::filesystem::directory_iterator(api.media.path() / "products"),
                         std::filesystem::directory_iterator());
  };
  const auto files_before = files();
  const std::vector<std::pair<std::string, std::string>> bad{
      {std::string("\x89PNG\r\n\x1A\n", 8), "image/png"},
      {std::string("\x89PNG\r\n\x1A\n", 8) + std::string(100, '\0'), "image/png"},
      {test_support::kPng.substr(0, 40), "image/png"},
      {"\xFF\xD8\xFF<script>alert(1)</script>", "image/jpeg"},
      {test_support::kJpeg.substr(0, test_support::kJpeg.size() - 2), "image/jpeg"},
      {std::string("RIFF\x04\0\0\0WEBP", 12), "image/webp"}};
  for (const auto& [bytes, type] : bad) {
    const auto reply = api.call("POST", path, "admin", bytes, {{"content-type", type}});
    EXPECT_EQ(reply.status, 422) << type << " " << reply.body;
    EXPECT_EQ(reply.body["error"]["details"]["field"], "image");
  }
  EXPECT_EQ(api.call("GET", "/api/v1/products/" + std::to_string(id)).body["image_url"], url);
  EXPECT_EQ(files(), files_before) << "a refused image leaves no file behind";
  for (const auto& [bytes, type] : {std::pair{test_support::kJpeg, "image/jpeg"},
                                    std::pair{test_support::kWebp, "image/webp"}}) {
    const auto reply = api.call("POST", path, "admin", bytes, {{"content-type", type}});
    EXPECT_EQ(reply.status, 200) << type << " " << reply.body;
  }
}
