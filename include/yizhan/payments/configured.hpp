// The merchant accounts of the configuration as providers: key files read once at start.
#pragma once

#include <memory>

#include "yizhan/config.hpp"
#include "yizhan/payments/provider.hpp"

namespace yizhan::payments {

/// WeChat Pay for the configured merchant, or nothing when none is configured. Throws
/// std::runtime_error naming the file when a key file cannot be read.
std::unique_ptr<Provider> configured_wechat_pay(const WechatPayConfig& config);
/// Alipay for the configured application, likewise.
std::unique_ptr<Provider> configured_alipay(const AlipayConfig& config);

}  // namespace yizhan::payments
