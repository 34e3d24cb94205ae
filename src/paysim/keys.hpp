// The simulator's test keys: both sides of every key pair a merchant and the providers hold,
// generated once by `yizhan-paysim keygen DIR` and read back by `serve`.
#pragma once

#include <filesystem>
#include <string>

namespace yizhan::paysim {

struct SimKeys {
  // WeChat Pay: what the merchant holds …
  std::string mch_id, wechat_app_id;
  std::string merchant_private_key, merchant_public_key;  ///< PEM (apiclient_key.pem and its pair)
  std::string merchant_serial;
  std::string api_v3_key, api_v2_key;
  std::string wechat_app_secret;  ///< the official account's AppSecret (网页授权, JSAPI)
  // … and what WeChat Pay holds (its "WeChat Pay public key" mode).
  std::string wechat_pay_private_key, wechat_pay_public_key;  ///< PEM
  std::string wechat_pay_serial;                              ///< PUB_KEY_ID_…
  // Alipay: the app's key pair and Alipay's.
  std::string alipay_app_id, alipay_seller_id;
  std::string alipay_app_private_key, alipay_app_public_key;  ///< PEM
  std::string alipay_private_key, alipay_public_key;          ///< PEM
};

/// Fresh keys and ids.
SimKeys generate_keys();
/// Writes the keys as PEM and text files into `dir` (created, files mode 0600) and
/// `dir/yizhan-payments.toml`, the merchant's side, pointing at the simulator on `port`.
void write_keys(const SimKeys& keys, const std::filesystem::path& dir, int port);
/// Reads what write_keys wrote; throws std::runtime_error naming the missing file.
SimKeys read_keys(const std::filesystem::path& dir);

}  // namespace yizhan::paysim
