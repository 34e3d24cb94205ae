// Key generation and the key folder layout of the payment simulator.
#include "keys.hpp"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

#include "yizhan/payments/crypto.hpp"

namespace yizhan::paysim {
namespace {

namespace fs = std::filesystem;
using payments::random_token;

// Random digits and hex from the OpenSSL DRBG (random_token's characters, folded).
std::string digits(std::size_t count) {
  std::string out = random_token(count);
  for (char& c : out)
    c = static_cast<char>('0' + static_cast<unsigned char>(c) % 10);
  if (out[0] == '0') out[0] = '1';
  return out;
}

std::string upper_hex(std::size_t bytes) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = random_token(bytes * 2);
  for (char& c : out)
    c = kHex[static_cast<unsigned char>(c) % 16];
  return out;
}

void write_file(const fs::path& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::runtime_error("cannot write " + path.string());
  out << content;
  out.close();
  ::chmod(path.c_str(), 0600);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("missing key file " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' '))
    text.pop_back();
  return text;
}

// File name → member, one table for writing and reading.
struct Entry {
  const char* file;
  std::string SimKeys::*member;
};
constexpr Entry kFiles[] = {
    {"wechat_mch_id.txt", &SimKeys::mch_id},
    {"wechat_app_id.txt", &SimKeys::wechat_app_id},
    {"wechat_merchant_private_key.pem", &SimKeys::merchant_private_key},
    {"wechat_merchant_public_key.pem", &SimKeys::merchant_public_key},
    {"wechat_merchant_serial.txt", &SimKeys::merchant_serial},
    {"wechat_api_v3_key.txt", &SimKeys::api_v3_key},
    {"wechat_api_v2_key.txt", &SimKeys::api_v2_key},
    {"wechat_app_secret.txt", &SimKeys::wechat_app_secret},
    {"wechat_pay_private_key.pem", &SimKeys::wechat_pay_private_key},
    {"wechat_pay_public_key.pem", &SimKeys::wechat_pay_public_key},
    {"wechat_pay_public_key_id.txt", &SimKeys::wechat_pay_serial},
    {"alipay_app_id.txt", &SimKeys::alipay_app_id},
    {"alipay_seller_id.txt", &SimKeys::alipay_seller_id},
    {"alipay_app_private_key.pem", &SimKeys::alipay_app_private_key},
    {"alipay_app_public_key.pem", &SimKeys::alipay_app_public_key},
    {"alipay_private_key.pem", &SimKeys::alipay_private_key},
    {"alipay_public_key.pem", &SimKeys::alipay_public_key},
};

bool is_text(const char* file) {
  return std::string_view(file).ends_with(".txt");
}

}  // namespace

SimKeys generate_keys() {
  SimKeys keys;
  keys.mch_id = "19" + digits(8);
  keys.wechat_app_id = "wx" + payments::hex_lower(random_token(8));
  const auto merchant = payments::generate_rsa_key();
  keys.merchant_private_key = merchant.pem();
  keys.merchant_public_key = merchant.public_key_pem();
  keys.merchant_serial = upper_hex(20);
  keys.api_v3_key = random_token(32);
  keys.api_v2_key = random_token(32);
  keys.wechat_app_secret = payments::hex_lower(random_token(16));
  const auto platform = payments::generate_rsa_key();
  keys.wechat_pay_private_key = platform.pem();
  keys.wechat_pay_public_key = platform.public_key_pem();
  keys.wechat_pay_serial = "PUB_KEY_ID_01" + digits(20);
  keys.alipay_app_id = "2021" + digits(12);
  keys.alipay_seller_id = "2088" + digits(12);
  const auto app = payments::generate_rsa_key();
  keys.alipay_app_private_key = app.pem();
  keys.alipay_app_public_key = app.public_key_pem();
  const auto alipay = payments::generate_rsa_key();
  keys.alipay_private_key = alipay.pem();
  keys.alipay_public_key = alipay.public_key_pem();
  return keys;
}

void write_keys(const SimKeys& keys, const fs::path& dir, int port) {
  fs::create_directories(dir);
  for (const Entry& entry : kFiles)
    write_file(dir / entry.file, keys.*entry.member + (is_text(entry.file) ? "\n" : ""));
  const fs::path absolute = fs::absolute(dir);
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  std::ostringstream toml;
  toml << "# Test keys of the payment simulator (yizhan-paysim serve --keys " << absolute.string()
       << " --port " << port << ").\n"
       << "# The merchant's side only: the *_private_key.pem of wechat_pay_ and alipay_ are the\n"
       << "# simulator's own and never belong in a merchant's config. notify_url: where this\n"
       << "# yizhan server receives callbacks.\n"
       << "[payments.wechat]\n"
       << "base_url = \"" << base << "\"\n"
       << "mch_id = \"" << keys.mch_id << "\"\n"
       << "app_id = \"" << keys.wechat_app_id << "\"\n"
       << "merchant_serial = \"" << keys.merchant_serial << "\"\n"
       << "merchant_private_key_file = \""
       << (absolute / "wechat_merchant_private_key.pem").string() << "\"\n"
       << "api_v3_key_file = \"" << (absolute / "wechat_api_v3_key.txt").string() << "\"\n"
       << "platform_public_key_file = \"" << (absolute / "wechat_pay_public_key.pem").string()
       << "\"\n"
       << "platform_serial = \"" << keys.wechat_pay_serial << "\"\n"
       << "notify_url = \"http://127.0.0.1:8080/api/v1/payments/wechat/notify\"\n"
       << "code_pay_v2 = false\n"
       << "api_v2_key_file = \"" << (absolute / "wechat_api_v2_key.txt").string() << "\"\n"
       << "# JSAPI inside WeChat: 网页授权 at the simulator, back to this yizhan server.\n"
       << "app_secret_file = \"" << (absolute / "wechat_app_secret.txt").string() << "\"\n"
       << "sign_in_base_url = \"" << base << "\"\n"
       << "sns_base_url = \"" << base << "\"\n"
       << "sign_in_redirect_url = \"http://127.0.0.1:8080/api/v1/payments/wechat/sign-in\"\n"
       << "timeout_ms = 5000\n\n"
       << "[payments.alipay]\n"
       << "gateway_url = \"" << base << "/gateway.do\"\n"
       << "app_id = \"" << keys.alipay_app_id << "\"\n"
       << "seller_id = \"" << keys.alipay_seller_id << "\"\n"
       << "app_private_key_file = \"" << (absolute / "alipay_app_private_key.pem").string()
       << "\"\n"
       << "alipay_public_key_file = \"" << (absolute / "alipay_public_key.pem").string() << "\"\n"
       << "notify_url = \"http://127.0.0.1:8080/api/v1/payments/alipay/notify\"\n"
       << "return_url = \"http://127.0.0.1:8080/order.html\"\n"
       << "timeout_ms = 5000\n";
  write_file(dir / "yizhan-payments.toml", toml.str());
}

SimKeys read_keys(const fs::path& dir) {
  SimKeys keys;
  for (const Entry& entry : kFiles) {
    std::string content = read_file(dir / entry.file);
    keys.*entry.member = is_text(entry.file) ? trimmed(std::move(content)) : std::move(content);
  }
  return keys;
}

}  // namespace yizhan::paysim
