// HTTPS through the real binary: a self-signed certificate made with OpenSSL, TLS 1.2+ only.
#include "harness.hpp"

using namespace yizhan::e2e;

TEST(Tls, ServesHttpsWithASelfSignedCertificateAndRefusesOldProtocols) {
  TempDir dir;
  const auto cert = dir.path() / "cert.pem";
  const auto key = dir.path() / "key.pem";
  shell("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost -keyout '" +
        key.string() + "' -out '" + cert.string() + "' 2>&1");
  fs::create_directories(dir.path() / "web");
  std::ofstream(dir.path() / "web" / "index.html") << "<h1>驿站</h1>";
  const char* socket = std::getenv("YIZHAN_TEST_DB_SOCKET");
  ASSERT_NE(socket, nullptr) << "run ./deploy/test";
  create_schema(socket, "yz_e2e_tls");
  ServerProcess server(
      dir.path(), dir.path() / "web", socket, "yz_e2e_tls",
      "tls_certificate = \"" + cert.string() + "\"\ntls_key = \"" + key.string() + "\"\n");
  const std::string url = "https://localhost:" + std::to_string(server.port());

  const auto page = shell("curl -sS --cacert '" + cert.string() + "' " + url + "/");
  EXPECT_EQ(page, "<h1>驿站</h1>");
  auto headers = shell("curl -sS -D - -o /dev/null --cacert '" + cert.string() + "' " + url + "/");
  for (auto& c : headers)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_NE(headers.find("strict-transport-security: max-age="), std::string::npos) << headers;
  const auto ready = shell("curl -sS --cacert '" + cert.string() + "' " + url + "/readyz");
  EXPECT_EQ(ready, R"({"status":"ready"})");
  EXPECT_ANY_THROW(
      shell("curl -sS --tlsv1.0 --tls-max 1.1 --ciphers DEFAULT@SECLEVEL=0 --cacert '" +
            cert.string() + "' " + url + "/ 2>&1"))
      << "TLS 1.0 and 1.1 must be refused";
  // Under TLS the session cookie is Secure, and HSTS is sent.
  (void)server.command("seed-demo --password-file '" + (dir.path() / "pw").string() + "'");
  std::string password;
  std::getline(std::ifstream(dir.path() / "pw"), password);
  auto login = shell("curl -sS -D - -o /dev/null --cacert '" + cert.string() +
                     "' -H 'Content-Type: application/json' -H 'X-Requested-With: yizhan' -d "
                     "'{\"username\":\"admin\",\"password\":\"" +
                     password + "\"}' " + url + "/api/v1/auth/login");
  for (auto& c : login)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  EXPECT_NE(login.find("set-cookie: yz_session="), std::string::npos) << login;
  EXPECT_NE(login.find("; secure"), std::string::npos) << login;
  // Plain HTTP to the TLS port gets no page.
  Connection plain(server.port(), 2000ms);
  plain.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  const auto response = plain.read_response();
  EXPECT_TRUE(!response || response->status != 200);
}
