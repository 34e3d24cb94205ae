// The simulated providers' endpoints, each a function from request to response over the
// Simulator's orders (its mutex is held by the caller).
#pragma once

#include <nlohmann/json.hpp>

#include "simulator.hpp"

namespace yizhan::paysim {

/// WeChat Pay: the v3 paths (signed JSON) and v2 micropay/orderquery/reverse (signed XML).
struct WechatRoutes {
  Simulator& sim;
  SimResponse handle(const SimRequest& request, const std::string& path);
  /// The v3 transaction object of an order (query answer, notification resource).
  static nlohmann::json transaction(const SimOrder& order);
  /// The fields of a v2 orderquery answer about an order, unsigned.
  static std::map<std::string, std::string> v2_order(const SimOrder& order);

 private:
  std::optional<SimResponse> refuse_unsigned(const SimRequest& request);
  SimResponse signed_json(int status, const std::string& body);
  SimResponse create(const SimRequest& request, const std::string& kind);
  SimResponse query(const std::string& out_trade_no);
  SimResponse close(const SimRequest& request, const std::string& out_trade_no);
  SimResponse reverse(const std::string& out_trade_no);
  SimResponse codepay(const SimRequest& request);
  SimResponse refund(const SimRequest& request);
  SimResponse refund_query(const std::string& out_refund_no);
  SimResponse v2(const SimRequest& request, const std::string& path);
};

/// Alipay: POST /gateway.do (and GET for the wap page), RSA2 both ways.
struct AlipayRoutes {
  Simulator& sim;
  SimResponse handle(const SimRequest& request);
  /// The fields of the trade_status_sync notification for a paid order, unsigned.
  static std::map<std::string, std::string> notification_fields(Simulator& sim,
                                                                const SimOrder& order,
                                                                Clock::time_point now);
  /// The return_url with signed trade fields, as the wap page sends the payer back.
  static std::string return_link(Simulator& sim, const SimOrder& order);
};

/// Whether `code` is a WeChat payment code (18 digits starting 10–15) or an Alipay one
/// (16–24 digits starting 25–30).
bool is_wechat_code(const std::string& code);
bool is_alipay_code(const std::string& code);
/// Whether `path` is one of WeChat Pay's v2 XML endpoints (micropay, orderquery, reverse).
bool is_v2_path(const std::string& path);

}  // namespace yizhan::paysim
