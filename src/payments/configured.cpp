// The merchant accounts of the configuration as providers (see configured.hpp).
#include "yizhan/payments/configured.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace yizhan::payments {
namespace {

/// A key file's contents; a one-line secret (the APIv3 key) without its line end.
std::string read_key_file(const std::string& path, const char* what, bool one_line) {
  if (path.empty()) return {};
  std::ifstream file(path, std::ios::binary);
  if (!file) throw std::runtime_error(std::string(what) + ": cannot read " + path);
  std::ostringstream text;
  text << file.rdbuf();
  std::string contents = text.str();
  if (one_line)
    while (!contents.empty() && (contents.back() == '\n' || contents.back() == '\r'))
      contents.pop_back();
  return contents;
}

}  // namespace

std::unique_ptr<Provider> configured_wechat_pay(const WechatPayConfig& config) {
  if (!config.configured()) return nullptr;
  WechatPaySettings settings;
  settings.base_url = config.base_url;
  settings.mch_id = config.mch_id;
  settings.app_id = config.app_id;
  settings.merchant_serial = config.merchant_serial;
  settings.merchant_private_key = read_key_file(config.merchant_private_key_file,
                                                "payments.wechat.merchant_private_key_file", false);
  settings.api_v3_key =
      read_key_file(config.api_v3_key_file, "payments.wechat.api_v3_key_file", true);
  settings.platform_public_key = read_key_file(config.platform_public_key_file,
                                               "payments.wechat.platform_public_key_file", false);
  settings.platform_serial = config.platform_serial;
  settings.notify_url = config.notify_url;
  settings.code_pay_v2 = config.code_pay_v2;
  settings.api_v2_key =
      read_key_file(config.api_v2_key_file, "payments.wechat.api_v2_key_file", true);
  settings.app_secret =
      read_key_file(config.app_secret_file, "payments.wechat.app_secret_file", true);
  settings.sign_in_base_url = config.sign_in_base_url;
  settings.sns_base_url = config.sns_base_url;
  settings.sign_in_redirect_url = config.sign_in_redirect_url;
  settings.timeout = config.timeout;
  return make_wechat_pay(settings);
}

std::unique_ptr<Provider> configured_alipay(const AlipayConfig& config) {
  if (!config.configured()) return nullptr;
  AlipaySettings settings;
  settings.gateway_url = config.gateway_url;
  settings.app_id = config.app_id;
  settings.seller_id = config.seller_id;
  settings.app_private_key =
      read_key_file(config.app_private_key_file, "payments.alipay.app_private_key_file", false);
  settings.alipay_public_key =
      read_key_file(config.alipay_public_key_file, "payments.alipay.alipay_public_key_file", false);
  settings.notify_url = config.notify_url;
  settings.return_url = config.return_url;
  settings.timeout = config.timeout;
  return make_alipay(settings);
}

}  // namespace yizhan::payments
