// How the providers reach the network: one HTTP exchange at a time behind a small interface, so
// the WeChat and Alipay code is tested against scripted answers and runs against the simulator.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "yizhan/payments/provider.hpp"

namespace yizhan::payments {

/// One HTTP request to a provider. Header names as sent; the client adds Host and Content-Length.
struct HttpRequest {
  std::string method = "GET";
  std::string url;  ///< absolute: https://api.mch.weixin.qq.com/v3/… or http://127.0.0.1:…
  std::map<std::string, std::string> headers;
  std::string body;
};

/// The provider's answer. Header names lower-case.
struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
};

/// Sends one request and waits for its answer. Throws ProviderError(unreachable) when the
/// outcome is unknown: name resolution, connection refused, TLS failure, timeout, broken answer.
/// Any HTTP status is returned, 5xx included: the caller decides what it means.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual HttpResponse send(const HttpRequest& request, std::chrono::milliseconds timeout) = 0;
};

/// Beast over TCP, with OpenSSL TLS (peer verified against the system's CA store and the host
/// name) for https:// and plain for http:// (the local simulator). A connection per request.
std::shared_ptr<Transport> make_https_transport();

/// The providers on a given transport (tests script one; production uses make_https_transport).
std::unique_ptr<Provider> make_wechat_pay(const WechatPaySettings& settings,
                                          std::shared_ptr<Transport> transport);
std::unique_ptr<Provider> make_alipay(const AlipaySettings& settings,
                                      std::shared_ptr<Transport> transport);

}  // namespace yizhan::payments
