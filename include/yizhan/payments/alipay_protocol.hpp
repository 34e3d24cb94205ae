// Alipay open platform (gateway.do) messages, without I/O: RSA2 signing of sorted parameters,
// the signed JSON node of a synchronous answer, asynchronous notification verification, and the
// mapping of trade_status to PaymentState. Shared with the simulator.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "yizhan/payments/crypto.hpp"
#include "yizhan/payments/provider.hpp"

namespace yizhan::payments::alipay {

/// Sorted `k=v&…` over raw values, leaving out `sign`, empty values and, when asked, `sign_type`.
std::string sign_content(const std::map<std::string, std::string>& fields, bool without_sign_type);

/// The common parameters of one gateway call (app_id, method, format, charset, sign_type,
/// timestamp in Beijing time, version, biz_content, notify_url/return_url when given), signed:
/// the result carries `sign`.
std::map<std::string, std::string> signed_request(const PrivateKey& app_key,
                                                  std::string_view app_id, std::string_view method,
                                                  std::string_view biz_content,
                                                  std::string_view notify_url,
                                                  std::string_view return_url,
                                                  Clock::time_point now);

/// Whether the request's `sign` verifies over the other parameters (sign_type included, as the
/// merchant signed it) under the app's public key (used by the simulator).
bool verify_request(const std::map<std::string, std::string>& fields, const PublicKey& app_key);

/// Whether an asynchronous notification's fields verify: `sign` and `sign_type` left out, the
/// rest sorted, RSA2 under the Alipay public key.
bool verify_notification(const std::map<std::string, std::string>& fields,
                         const PublicKey& alipay_key);

/// The `<method>_response` (or `error_response`) node of a synchronous answer exactly as it
/// was sent, and the `sign` beside it.
struct SignedNode {
  std::string node;  ///< the raw JSON text of the node, as signed
  std::string sign;  ///< empty when the gateway sent none
};
/// Nothing when the answer has no such node.
std::optional<SignedNode> find_signed_node(std::string_view body, std::string_view method);
/// `{"<method>_response":NODE,"sign":"…"}` with NODE signed (simulator).
std::string signed_answer(const PrivateKey& alipay_key, std::string_view method,
                          std::string_view node);

/// "alipay.trade.precreate" → "alipay_trade_precreate_response".
std::string response_name(std::string_view method);

/// trade_status → state: TRADE_SUCCESS and TRADE_FINISHED are paid, WAIT_BUYER_PAY not paid,
/// TRADE_CLOSED closed; anything else nothing.
std::optional<PaymentState::State> state_of(std::string_view trade_status);

/// "yyyy-MM-dd HH:mm:ss" in Beijing time, as Alipay writes times.
std::string beijing_time(Clock::time_point time);
std::optional<Clock::time_point> parse_beijing_time(std::string_view text);

/// An amount as Alipay writes it: yuan with exactly two decimals, no sign, no leading zero
/// ("22.80", "0.05"). Anything else ("+22.80", "022.80", "22.8", " 22.80") is nothing: an amount
/// that only a lenient reading makes equal to the order's is not the order's.
std::optional<domain::Fen> parse_amount(std::string_view text);

}  // namespace yizhan::payments::alipay
