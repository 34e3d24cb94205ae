// The refunds a scripted payment provider has made: one per out_refund_no, as WeChat Pay and
// Alipay make them, what each payment got back, and the lookup by refund number. Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "yizhan/payments/provider.hpp"

namespace yizhan::test_support {

class RefundLedger {
 public:
  /// Makes the refund asked (once per refund number: asked again, the same refund) and leaves
  /// it in `state`; returns it.
  payments::RefundState make(const payments::RefundRequest& request,
                             payments::RefundState::State state) {
    std::lock_guard lock(mutex_);
    auto [made, fresh] = made_.try_emplace(request.out_refund_no);
    if (fresh) {
      made->second.refund_id = "50300" + std::to_string(1000 + made_.size());
      refunded_fen_[request.out_trade_no] += request.refund.value();
    }
    made->second.state = state;
    made->second.raw_state =
        state == payments::RefundState::State::processing ? "PROCESSING" : "SUCCESS";
    return made->second;
  }

  /// The provider finishes a refund it had as PROCESSING: SUCCESS, or CLOSED/ABNORMAL (failed).
  void finish(const std::string& out_refund_no, payments::RefundState::State state,
              const std::string& raw_state) {
    std::lock_guard lock(mutex_);
    auto& made = made_.at(out_refund_no);
    made.state = state;
    made.raw_state = raw_state;
  }

  /// The refund made under `out_refund_no`, if one was.
  std::optional<payments::RefundState> made(const std::string& out_refund_no) {
    std::lock_guard lock(mutex_);
    const auto found = made_.find(out_refund_no);
    if (found == made_.end()) return std::nullopt;
    return found->second;
  }

  /// Provider::query_refund's answer: the refund, or failed NOT_FOUND when none was made.
  payments::RefundState lookup(const std::string& out_refund_no) {
    if (auto found = made(out_refund_no)) return *found;
    payments::RefundState none;
    none.state = payments::RefundState::State::failed;
    none.raw_state = "NOT_FOUND";
    return none;
  }

  /// What the refunds gave back of a payment, in fen.
  std::int64_t refunded_fen(const std::string& out_trade_no) {
    std::lock_guard lock(mutex_);
    return refunded_fen_[out_trade_no];
  }

 private:
  std::mutex mutex_;
  std::map<std::string, payments::RefundState> made_;
  std::map<std::string, std::int64_t> refunded_fen_;
};

}  // namespace yizhan::test_support
