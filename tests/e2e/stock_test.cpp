// Stock through the real binary on the demo station: levels and lots from seed-demo, receiving,
// write-offs and counts over HTTP, bad input as 422 naming the field (never a 500), who may call
// what, the printable receiving note, and `yizhan check` (clean, then a hand-corrupted level).
#include <nlohmann/json.hpp>

#include "harness.hpp"

using namespace yizhan::e2e;
using nlohmann::json;

namespace {

std::string cookie_from(const HttpResponse& response) {
  const auto header = response.header("set-cookie");
  return "Cookie: " + header.substr(0, header.find(';'));
}

struct Reply {
  int status = 0;
  json body;
  HttpResponse raw;
};

class DemoStation {
 public:
  DemoStation() : test_server_("yz_e2e_stock") {
    const auto password_file = test_server_.dir() / "demo-password";
    (void)server().command("seed-demo --password-file '" + password_file.string() + "'");
    std::getline(std::ifstream(password_file), password_);
  }

  ServerProcess& server() { return test_server_.process(); }

  /// Signs in (once per user) and returns the Cookie header.
  std::string cookie(const std::string& username) {
    auto& cookie = cookies_[username];
    if (cookie.empty()) {
      const auto login = fetch(server().port(), "POST", "/api/v1/auth/login",
                               {"Content-Type: application/json", "X-Requested-With: yizhan"},
                               json{{"username", username}, {"password", password_}}.dump());
      EXPECT_EQ(login.status, 200) << login.body;
      cookie = cookie_from(login);
    }
    return cookie;
  }

  Reply call(const std::string& method, const std::string& target, const std::string& as,
             const std::string& body = {}) {
    std::vector<std::string> headers{"X-Requested-With: yizhan"};
    if (!as.empty()) headers.push_back(cookie(as));
    if (!body.empty()) headers.emplace_back("Content-Type: application/json");
    Reply reply;
    reply.raw = fetch(server().port(), method, target, headers, body);
    reply.status = reply.raw.status;
    reply.body = json::parse(reply.raw.body, nullptr, false);
    return reply;
  }

  /// `yizhan check` with this server's config: its output and exit code.
  std::pair<std::string, int> check() {
    const auto output =
        shell(std::string(YIZHAN_BINARY) + " check --config '" +
              (test_server_.dir() / "yizhan.toml").string() + "' 2>&1; echo \"exit=$?\"");
    const auto at = output.rfind("exit=");
    return {output.substr(0, at), std::stoi(output.substr(at + 5))};
  }

  /// Runs SQL as root on the server's schema.
  void sql(const std::string& statement) {
    shell("mariadb --no-defaults -uroot --socket='" +
          std::string(std::getenv("YIZHAN_TEST_DB_SOCKET")) + "' yz_e2e_stock -e \"" + statement +
          "\"");
  }

 private:
  TestServer test_server_;
  std::string password_;
  std::map<std::string, std::string> cookies_;
};

}  // namespace

TEST(StockOverHttp, TheDemoStationHasStockAndTheBooksAgree) {
  DemoStation station;
  const auto all = station.call("GET", "/api/v1/stock?page_size=100", "admin");
  ASSERT_EQ(all.status, 200) << all.raw.body;
  const auto total = all.body["total"].get<int>();
  EXPECT_GE(total, 40);
  for (const auto& item : all.body["items"]) {
    EXPECT_GT(item["on_hand"].get<int>(), 0) << "every demo product was received: " << item;
  }
  EXPECT_GE(station.call("GET", "/api/v1/stock?low=true", "admin").body["total"].get<int>(), 3);
  EXPECT_GE(station.call("GET", "/api/v1/stock?expiring_days=3", "admin").body["total"].get<int>(),
            3);
  // Weighed demo products carry scale codes.
  const auto tea = station.call("GET", "/api/v1/products?q=%E9%93%81%E8%A7%82%E9%9F%B3", "");
  ASSERT_GE(tea.body["items"].size(), 1u);
  EXPECT_EQ(tea.body["items"][0]["plu"], 10001);

  const auto [report, code] = station.check();
  EXPECT_EQ(code, 0) << report;
  EXPECT_NE(report.find("账实相符"), std::string::npos) << report;

  // A village account sees its own products only.
  const auto village = station.call("GET", "/api/v1/stock?page_size=100", "xingcuo");
  ASSERT_EQ(village.status, 200);
  const auto own_village = village.body["items"][0]["village_id"];
  for (const auto& item : village.body["items"])
    EXPECT_EQ(item["village_id"], own_village);
  EXPECT_LT(village.body["total"].get<int>(), total);
}

TEST(StockOverHttp, ReceiveWriteOffCountAndCheckOverHttp) {
  DemoStation station;
  const auto products = station.call("GET", "/api/v1/products?page_size=100", "admin");
  ASSERT_EQ(products.status, 200);
  json basket;
  for (const auto& product : products.body["items"]) {
    if (product["shelf_life_days"].is_null() && product["unit"] == "piece" &&
        product["kind"] == "item")
      basket = product;
  }
  ASSERT_FALSE(basket.is_null());
  const auto id = basket["id"].get<int>();
  const auto before = station.call("GET", "/api/v1/stock/" + std::to_string(id), "admin");
  const auto on_hand = before.body["on_hand"].get<int>();

  const auto receipt =
      station.call("POST", "/api/v1/stock/receipts", "admin",
                   json{{"village_id", basket["village_id"]},
                        {"note", "补货"},
                        {"lines", {{{"product_id", id}, {"quantity", 5}, {"lot", "E2E-1"}}}}}
                       .dump());
  ASSERT_EQ(receipt.status, 201) << receipt.raw.body;
  const auto lot_id = receipt.body["lines"][0]["lot_id"];
  const auto note =
      station.call("GET", "/api/v1/stock/receipts/" + receipt.body["id"].dump() + "/note", "admin");
  EXPECT_EQ(note.status, 200);
  EXPECT_NE(note.raw.header("content-type").find("text/html"), std::string::npos);
  EXPECT_NE(note.raw.body.find("E2E-1"), std::string::npos);
  EXPECT_NE(note.raw.body.find("/admin/stock-note.css"), std::string::npos);

  const auto write_off = station.call(
      "POST", "/api/v1/stock/write-offs", "admin",
      json{{"lines",
            {{{"product_id", id}, {"lot_id", lot_id}, {"quantity", 2}, {"reason", "damaged"}}}}}
          .dump());
  ASSERT_EQ(write_off.status, 201) << write_off.raw.body;
  const auto count =
      station.call("POST", "/api/v1/stock/counts", "admin",
                   json{{"lines", {{{"product_id", id}, {"counted", on_hand + 1}}}}}.dump());
  ASSERT_EQ(count.status, 201) << count.raw.body;
  EXPECT_EQ(count.body["lines"][0]["expected"], on_hand + 3);
  EXPECT_EQ(count.body["lines"][0]["difference"], -2);

  const auto moves = station.call("GET", "/api/v1/stock/" + std::to_string(id) + "/moves", "admin");
  ASSERT_EQ(moves.status, 200);
  EXPECT_EQ(moves.body["items"][0]["balance"], on_hand + 1);
  EXPECT_EQ(moves.body["items"][0]["kind"], "adjustment");
  EXPECT_EQ(station.check().second, 0);

  // A level changed by hand, behind the ledger's back: check reports it and fails.
  station.sql("UPDATE stock_levels SET on_hand = on_hand + 7 WHERE product_id = " +
              std::to_string(id));
  const auto [report, code] = station.check();
  EXPECT_EQ(code, 2) << report;
  EXPECT_NE(report.find("product " + std::to_string(id)), std::string::npos) << report;
  EXPECT_NE(report.find("difference 7"), std::string::npos) << report;
}

TEST(StockOverHttp, BadInputIs422NamingTheFieldAndRolesAreEnforced) {
  DemoStation station;
  const auto first = station.call("GET", "/api/v1/stock?page_size=1", "admin").body["items"][0];
  const auto id = first["product_id"].get<int>();
  const auto village = first["village_id"].get<int>();
  const std::vector<std::tuple<std::string, std::string, std::string>> bad{
      {"/api/v1/stock/receipts", json{{"lines", json::array()}}.dump(), "village_id"},
      {"/api/v1/stock/receipts", json{{"village_id", village}, {"lines", json::array()}}.dump(),
       "lines"},
      {"/api/v1/stock/receipts",
       json{{"village_id", village}, {"lines", {{{"product_id", id}, {"quantity", "5"}}}}}.dump(),
       "lines[0].quantity"},
      {"/api/v1/stock/receipts",
       json{{"village_id", village},
            {"lines", {{{"product_id", id}, {"quantity", 1}, {"expires_on", "tomorrow"}}}}}
           .dump(),
       "lines[0].expires_on"},
      {"/api/v1/stock/receipts", json{{"village_id", village}, {"lines", 3}}.dump(), "lines"},
      {"/api/v1/stock/write-offs",
       json{{"lines", {{{"product_id", id}, {"lot_id", 1}, {"quantity", 1}, {"reason", "x"}}}}}
           .dump(),
       "lines[0].reason"},
      {"/api/v1/stock/write-offs",
       json{{"lines",
             {{{"product_id", id}, {"lot_id", 999999}, {"quantity", 1}, {"reason", "sample"}}}}}
           .dump(),
       "lines[0].lot_id"},
      {"/api/v1/stock/returns",
       json{{"lines", {{{"product_id", id}, {"lot_id", 1}, {"quantity", 1}}}}}.dump(),
       "village_id"},
      {"/api/v1/stock/counts", json{{"lines", {{{"product_id", id}}}}}.dump(), "lines[0].counted"},
      {"/api/v1/stock/counts",
       json{{"lines", {{{"product_id", id}, {"counted", 1}, {"extra", true}}}}}.dump(),
       "lines[0].extra"},
  };
  for (const auto& [path, body, field] : bad) {
    const auto reply = station.call("POST", path, "admin", body);
    EXPECT_EQ(reply.status, 422) << path << " " << body << " " << reply.raw.body;
    EXPECT_EQ(reply.body["error"]["details"]["field"], field) << path << " " << body;
  }
  EXPECT_EQ(station.call("POST", "/api/v1/stock/counts", "admin", "{\"lines\":").status, 400);
  for (const auto* query : {"low=maybe", "expiring_days=x", "village_id=-1", "page_size=1000"}) {
    EXPECT_EQ(station.call("GET", std::string("/api/v1/stock?") + query, "admin").status, 422)
        << query;
  }
  EXPECT_EQ(station.call("GET", "/api/v1/stock/abc", "admin").status, 404);
  EXPECT_EQ(station.call("GET", "/api/v1/stock/999999", "admin").status, 404);
  EXPECT_EQ(station.call("GET", "/api/v1/stock/receipts/999999/note", "admin").status, 404);

  // Roles: only the manager changes stock; a cashier reads levels; nobody anonymous.
  const auto count = json{{"lines", {{{"product_id", id}, {"counted", 1}}}}}.dump();
  EXPECT_EQ(station.call("POST", "/api/v1/stock/counts", "cashier1", count).status, 403);
  EXPECT_EQ(station.call("POST", "/api/v1/stock/counts", "yaoqian", count).status, 403);
  EXPECT_EQ(station.call("POST", "/api/v1/stock/counts", "", count).status, 401);
  EXPECT_EQ(station.call("GET", "/api/v1/stock", "").status, 401);
  EXPECT_EQ(station.call("GET", "/api/v1/stock", "cashier1").status, 200);
  EXPECT_EQ(
      station.call("GET", "/api/v1/stock/" + std::to_string(id) + "/moves", "cashier1").status,
      403);
  EXPECT_EQ(station.call("GET", "/api/v1/stock/receipts", "cashier1").status, 403);
  EXPECT_EQ(station.server().log().find("internal error"), std::string::npos)
      << station.server().log();
}
