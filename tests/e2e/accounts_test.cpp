// Accounts through the real binary: seed-demo and user commands, login → cookie → protected
// call → logout over HTTP, CSRF (login included), audit paging, and the security headers.
#include "harness.hpp"

using namespace yizhan::e2e;

namespace {

std::string cookie_from(const HttpResponse& response) {
  const auto header = response.header("set-cookie");
  return header.substr(0, header.find(';'));
}

}  // namespace

TEST(AccountsOverHttp, LoginCookieProtectedCallLogout) {
  TestServer test_server("yz_e2e_accounts");
  auto& server = test_server.process();
  const auto password_file = test_server.dir() / "demo-password";
  // A password the accounts would refuse is refused before anything is written: the database
  // stays empty, so the next seed still loads everything (it used to keep the villages and
  // products without accounts, and then never seed again).
  const auto short_file = test_server.dir() / "short-password";
  std::ofstream(short_file) << "short\n";
  try {
    (void)server.command("seed-demo --password-file '" + short_file.string() + "'");
    ADD_FAILURE() << "a short demo password was taken";
  } catch (const std::runtime_error& failed) {  // a non-zero exit
    EXPECT_NE(std::string(failed.what()).find("at least 10 characters"), std::string::npos)
        << failed.what();
  }
  const auto seeded = server.command("seed-demo --password-file '" + password_file.string() + "'");
  EXPECT_NE(seeded.find("demo data loaded"), std::string::npos) << seeded;
  EXPECT_NE(seeded.find("cashier1"), std::string::npos) << seeded;
  std::string password;
  std::getline(std::ifstream(password_file), password);
  ASSERT_EQ(password.size(), 16u);
  EXPECT_NE(server.command("seed-demo --password-file '" + password_file.string() + "'")
                .find("left as it is"),
            std::string::npos)
      << "a second seed leaves the data alone";

  const std::vector<std::string> json{"Content-Type: application/json", "X-Requested-With: yizhan"};
  const auto wrong = fetch(server.port(), "POST", "/api/v1/auth/login", json,
                           R"({"username":"admin","password":"not it at all"})");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_NE(wrong.body.find(R"("code":"invalid_credentials")"), std::string::npos);
  const auto malformed = fetch(server.port(), "POST", "/api/v1/auth/login", json, "{not json");
  EXPECT_EQ(malformed.status, 400);
  const auto missing =
      fetch(server.port(), "POST", "/api/v1/auth/login", json, R"({"username":"admin"})");
  EXPECT_EQ(missing.status, 422);
  EXPECT_NE(missing.body.find(R"("field":"password")"), std::string::npos);

  const auto login = fetch(server.port(), "POST", "/api/v1/auth/login", json,
                           R"({"username":"admin","password":")" + password + R"("})");
  ASSERT_EQ(login.status, 200) << login.body;
  EXPECT_NE(login.body.find(R"("role":"admin")"), std::string::npos);
  const auto set_cookie = login.header("set-cookie");
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(set_cookie.find("Secure"), std::string::npos) << "plain HTTP here";
  const auto cookie = "Cookie: " + cookie_from(login);

  const auto me = fetch(server.port(), "GET", "/api/v1/me", {cookie});
  EXPECT_EQ(me.status, 200);
  EXPECT_NE(me.body.find(R"("username":"admin")"), std::string::npos);
  const auto audit = fetch(server.port(), "GET", "/api/v1/audit?limit=5", {cookie});
  EXPECT_EQ(audit.status, 200);
  EXPECT_NE(audit.body.find("invalid_credentials"), std::string::npos) << audit.body;
  EXPECT_EQ(fetch(server.port(), "GET", "/api/v1/audit?page_size=500", {cookie}).status, 422);

  const auto cross_site = fetch(server.port(), "POST", "/api/v1/auth/logout", {cookie});
  EXPECT_EQ(cross_site.status, 403);
  EXPECT_NE(cross_site.body.find(R"("code":"csrf")"), std::string::npos);
  const auto logout =
      fetch(server.port(), "POST", "/api/v1/auth/logout", {cookie, "X-Requested-With: yizhan"});
  EXPECT_EQ(logout.status, 204);
  EXPECT_EQ(fetch(server.port(), "GET", "/api/v1/me", {cookie}).status, 401);

  // A village account sees its own terms only; a cashier is refused the audit log.
  const auto village = fetch(server.port(), "POST", "/api/v1/auth/login", json,
                             R"({"username":"xingcuo","password":")" + password + R"("})");
  const auto village_cookie = "Cookie: " + cookie_from(village);
  const auto village_id = village.body.substr(village.body.find("\"village_id\":") + 13);
  const auto own = std::stoi(village_id);
  EXPECT_EQ(fetch(server.port(), "GET", "/api/v1/villages/" + std::to_string(own) + "/terms",
                  {village_cookie})
                .status,
            200);
  EXPECT_EQ(fetch(server.port(), "GET", "/api/v1/villages/" + std::to_string(own + 1) + "/terms",
                  {village_cookie})
                .status,
            403);
  const auto cashier = fetch(server.port(), "POST", "/api/v1/auth/login", json,
                             R"({"username":"cashier1","password":")" + password + R"("})");
  EXPECT_EQ(
      fetch(server.port(), "GET", "/api/v1/audit", {"Cookie: " + cookie_from(cashier)}).status,
      403);
}

TEST(AccountsOverHttp, UserCommandsManageAccounts) {
  TestServer test_server("yz_e2e_users");
  auto& server = test_server.process();
  const std::string binary_and_config = std::string(YIZHAN_BINARY) + " --config '" +
                                        (test_server.dir() / "yizhan.toml").string() + "' ";
  shell("echo 'manager password 1' | " + binary_and_config +
        "user add --username boss --role admin 2>&1");
  EXPECT_ANY_THROW(shell("echo 'short' | " + binary_and_config +
                         "user add --username weak --role cashier 2>&1"));
  EXPECT_ANY_THROW(shell("echo 'long enough pass' | " + binary_and_config +
                         "user add --username v1 --role village --village nowhere 2>&1"));
  const std::vector<std::string> json{"Content-Type: application/json", "X-Requested-With: yizhan"};
  EXPECT_EQ(fetch(server.port(), "POST", "/api/v1/auth/login", json,
                  R"({"username":"boss","password":"manager password 1"})")
                .status,
            200);
  shell("echo 'another password 2' | " + binary_and_config + "user passwd --username boss 2>&1");
  EXPECT_EQ(fetch(server.port(), "POST", "/api/v1/auth/login", json,
                  R"({"username":"boss","password":"another password 2"})")
                .status,
            200);
  shell(binary_and_config + "user disable --username boss 2>&1");
  EXPECT_EQ(fetch(server.port(), "POST", "/api/v1/auth/login", json,
                  R"({"username":"boss","password":"another password 2"})")
                .status,
            401);
  const auto list = shell(binary_and_config + "user list 2>&1");
  EXPECT_NE(list.find("boss\tadmin\t-\tdisabled"), std::string::npos) << list;
}

TEST(AccountsOverHttp, EveryResponseCarriesTheSecurityHeaders) {
  TestServer test_server("yz_e2e_headers");
  auto& server = test_server.process();
  for (const char* path : {"/", "/api/v1/me", "/healthz"}) {
    const auto response = fetch(server.port(), "GET", path);
    EXPECT_NE(response.header("content-security-policy").find("frame-ancestors 'none'"),
              std::string::npos)
        << path;
    EXPECT_EQ(response.header("x-content-type-options"), "nosniff") << path;
    EXPECT_EQ(response.header("referrer-policy"), "same-origin") << path;
    EXPECT_EQ(response.header("strict-transport-security"), "") << "no HSTS over plain HTTP";
  }
}

TEST(AccountsOverHttp, SignInTakesOnlyJsonWithTheSameSiteHeader) {
  TestServer test_server("yz_e2e_login_csrf");
  auto& server = test_server.process();
  const std::string body = R"({"username":"admin","password":"not it at all"})";
  // A cross-site HTML form can send neither JSON nor a custom header without CORS.
  const auto form =
      fetch(server.port(), "POST", "/api/v1/auth/login",
            {"Content-Type: application/x-www-form-urlencoded", "X-Requested-With: yizhan"},
            "username=admin&password=x");
  EXPECT_EQ(form.status, 415);
  EXPECT_NE(form.body.find(R"("code":"unsupported_media")"), std::string::npos) << form.body;
  EXPECT_EQ(
      fetch(server.port(), "POST", "/api/v1/auth/login", {"X-Requested-With: yizhan"}, body).status,
      415)
      << "no Content-Type";
  const auto no_header =
      fetch(server.port(), "POST", "/api/v1/auth/login", {"Content-Type: application/json"}, body);
  EXPECT_EQ(no_header.status, 403);
  EXPECT_NE(no_header.body.find(R"("code":"csrf")"), std::string::npos) << no_header.body;
  EXPECT_EQ(
      fetch(server.port(), "POST", "/api/v1/auth/login",
            {"Content-Type: Application/JSON; charset=UTF-8", "X-Requested-With: yizhan"}, body)
          .status,
      401)
      << "media types compare case-insensitively, parameters allowed";
  // A field the sign-in does not know is named, not ignored.
  const auto extra = fetch(server.port(), "POST", "/api/v1/auth/login",
                           {"Content-Type: application/json", "X-Requested-With: yizhan"},
                           R"({"username":"admin","password":"not it at all","remember":true})");
  EXPECT_EQ(extra.status, 422) << extra.body;
  EXPECT_NE(extra.body.find(R"("field":"remember")"), std::string::npos) << extra.body;
}

TEST(AccountsOverHttp, LongChineseUsernamesAndBadUtf8AreAnsweredWithoutA500) {
  TestServer test_server("yz_e2e_login_utf8");
  auto& server = test_server.process();
  const std::vector<std::string> json{"Content-Type: application/json", "X-Requested-With: yizhan"};
  std::string hanzi;  // 30 hanzi: 90 bytes, so a 64-byte cut fell inside the 22nd
  for (int i = 0; i < 30; ++i)
    hanzi += "驿";
  const auto long_name = fetch(server.port(), "POST", "/api/v1/auth/login", json,
                               R"({"username":")" + hanzi + R"(","password":"wrong password"})");
  EXPECT_EQ(long_name.status, 401) << "was 422 from MariaDB 1366 after hashing: " << long_name.body;
  const auto bad_bytes = fetch(server.port(), "POST", "/api/v1/auth/login", json,
                               "{\"username\":\"adm\xE9n\",\"password\":\"wrong password\"}");
  EXPECT_GE(bad_bytes.status, 400) << bad_bytes.body;
  EXPECT_LT(bad_bytes.status, 500) << bad_bytes.body;
}

TEST(AccountsOverHttp, TheAuditLogPagesByKey) {
  TestServer test_server("yz_e2e_audit_paging");
  auto& server = test_server.process();
  const auto password_file = test_server.dir() / "demo-password";
  (void)server.command("seed-demo --password-file '" + password_file.string() + "'");
  std::string password;
  std::getline(std::ifstream(password_file), password);
  const std::vector<std::string> json{"Content-Type: application/json", "X-Requested-With: yizhan"};
  const auto login = fetch(server.port(), "POST", "/api/v1/auth/login", json,
                           R"({"username":"admin","password":")" + password + R"("})");
  ASSERT_EQ(login.status, 200);
  const auto cookie = "Cookie: " + cookie_from(login);
  const auto first = fetch(server.port(), "GET", "/api/v1/audit?limit=3", {cookie});
  ASSERT_EQ(first.status, 200) << first.body;
  const auto cursor_at = first.body.find("\"next_before\":");
  ASSERT_NE(cursor_at, std::string::npos) << first.body;
  const auto next_before = std::stoll(first.body.substr(cursor_at + 14));
  const auto second =
      fetch(server.port(), "GET", "/api/v1/audit?limit=3&before=" + std::to_string(next_before),
            {cookie});
  ASSERT_EQ(second.status, 200) << second.body;
  const auto first_id_at = second.body.find("\"id\":");
  ASSERT_NE(first_id_at, std::string::npos);
  EXPECT_LT(std::stoll(second.body.substr(first_id_at + 5)), next_before);
  EXPECT_EQ(fetch(server.port(), "GET", "/api/v1/audit?page=2", {cookie}).status, 422)
      << "no OFFSET pages";
  EXPECT_EQ(fetch(server.port(), "GET", "/api/v1/audit?before=abc", {cookie}).status, 422);
}
