// Counter 付款码 tenders: the sale is checked, each scanned code charged through its provider
// (polled while the customer enters a password, reversed on timeout), then the sale is written.
// The network is never inside a transaction: each charge is recorded before it is asked, the
// sale's Idempotency-Key is held with a lease meanwhile, and whatever goes wrong is reversed.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

#include "yizhan/domain/error.hpp"
#include "yizhan/payments/provider.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/store/code_payments.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/digest.hpp"
#include "yizhan/store/idempotency.hpp"

namespace yizhan::service {
namespace {

using domain::Error;
using domain::ErrorCode;
using domain::Fen;
using payments::PaymentState;
using payments::ProviderError;
using Steady = std::chrono::steady_clock;

std::string field_of(std::size_t index) {
  return "tenders[" + std::to_string(index) + "].auth_code";
}

/// One code tender of a sale, through its charge.
struct Charge {
  std::size_t index = 0;
  Fen amount;
  std::string code;  ///< the scanned code: in memory only, never stored or logged in full
  std::string provider_name;
  payments::Provider* provider = nullptr;
  std::int64_t id = 0;  ///< its code_payments row
  std::string out_trade_no;
  bool resume = false;   ///< asked by an earlier request whose outcome is not known
  bool paid = false;     ///< the provider holds the money for this sale
  bool settled = false;  ///< nothing is left to do with the provider
  std::string transaction_id;
};

/// The cashier's words for a provider's refusal (WeChat v3/v2 and Alipay codes).
std::string declined_message(const std::string& code) {
  if (code == "NOT_ENOUGH" || code == "NOTENOUGH" || code == "ACQ.BUYER_BALANCE_NOT_ENOUGH" ||
      code == "ACQ.BUYER_BANKCARD_BALANCE_NOT_ENOUGH")
    return "顾客余额不足，请换一种付款方式 / the customer's balance is not enough";
  if (code == "AUTHCODEEXPIRE" || code == "AUTH_CODE_INVALID" || code == "AUTH_CODE_ERROR" ||
      code == "ACQ.PAYMENT_AUTH_CODE_INVALID" || code == "PARAM_ERROR")
    return "付款码无效或已过期，请顾客刷新后重扫 / the payment code is invalid or expired: ask "
           "the customer to refresh it and scan again";
  if (code == "USERPAYING" || code == "TIMEOUT")
    return "顾客未在时限内输入密码，付款已撤销 / the customer did not enter the password in "
           "time: the payment was cancelled";
  if (code == "BUYER_MISMATCH" || code == "ACQ.BUYER_ENABLE_STATUS_FORBID" ||
      code == "ACQ.PAYMENT_FAIL")
    return "顾客的账户无法付款 / the customer's account cannot pay";
  return "付款未成功 / the payment was declined";
}

/// Talks to the providers for the counter and records each step of a charge.
class Charger {
 public:
  Charger(store::Database& database, const CodePaySettings& settings)
      : database_(database), settings_(settings) {}

  void set_state(const Charge& charge, const std::string& state,
                 const std::string& provider_code = {}) {
    database_.transact([&](store::UnitOfWork& unit) {
      store::set_code_payment_state(unit, charge.id, state, charge.transaction_id, provider_code);
    });
  }

  /// Charges a recorded code (or learns what became of an earlier ask): on return it is paid;
  /// otherwise it throws payment_declined or unavailable with `settled` saying whether anything
  /// is left with the provider.
  void charge(Charge& c, const std::string& description) {
    const auto deadline = Steady::now() + settings_.deadline;
    PaymentState state;
    bool known = false;         // `state` is the provider's word
    bool pay_answered = false;  // the pay request itself was answered (not lost, not untrusted)
    if (!c.resume) {
      try {
        state = c.provider->pay_with_code(c.out_trade_no, c.code, c.amount, description);
        known = pay_answered = true;
      } catch (const ProviderError& e) {
        spdlog::warn("code payment {} ({}): pay failed: {}", c.out_trade_no, c.provider_name,
                     e.what());
        pay_answered = e.kind == ProviderError::Kind::refused;
        if (e.kind == ProviderError::Kind::refused) {
          // Refused outright (e.g. the number was used): only a query tells whether it is paid.
          state.state = PaymentState::State::failed;
          state.raw_state = e.provider_code;
        }
      }
    }
    // Poll while the customer enters the password, or while the outcome is unknown.
    bool first_query = true;
    bool seen_paying = known && state.state == PaymentState::State::paying;
    while (!known || state.state == PaymentState::State::paying) {
      const auto now = Steady::now();
      if (now >= deadline) break;
      // A lost answer is asked about at once; a payer typing a password, every poll interval.
      if (known || !first_query)
        std::this_thread::sleep_for(
            std::min<Steady::duration>(settings_.poll_interval, deadline - now));
      first_query = false;
      try {
        const auto refused_code =
            !known && state.state == PaymentState::State::failed ? state.raw_state : std::string();
        state = c.provider->query_code(c.out_trade_no);
        known = true;
        // A code trade that has not been paid yet is the payer typing: Alipay's query says
        // WAIT_BUYER_PAY (for a QR trade: "not paid"), WeChat's USERPAYING.
        if (state.state == PaymentState::State::not_paid &&
            (seen_paying || state.raw_state == "WAIT_BUYER_PAY"))
          state.state = PaymentState::State::paying;
        seen_paying = seen_paying || state.state == PaymentState::State::paying;
        // A refused pay whose trade the provider does not know moved no money.
        if (!refused_code.empty() && state.state == PaymentState::State::not_paid) {
          state.state = PaymentState::State::failed;
          state.raw_state = refused_code;
        }
      } catch (const ProviderError& e) {
        spdlog::warn("code payment {} ({}): query failed: {}", c.out_trade_no, c.provider_name,
                     e.what());
        known = false;
      }
    }
    if (known && state.state == PaymentState::State::paid) {
      c.transaction_id = state.transaction_id;
      // A paid answer must say how much (every provider's does): one that does not, or names
      // another amount, is not taken as this charge.
      if (!state.amount || *state.amount != c.amount) {
        spdlog::error("code payment {}: provider paid {} for {}", c.out_trade_no,
                      state.amount ? std::to_string(state.amount->value()) : "an unnamed amount",
                      c.amount.value());
        c.paid = true;
        reverse(c);
        throw Error(ErrorCode::unavailable,
                    "支付渠道返回的金额不符，付款已撤销 / the provider paid another amount: the "
                    "payment was cancelled",
                    {{"field", field_of(c.index)}, {"provider", c.provider_name}});
      }
      c.paid = true;
      set_state(c, "paid", state.raw_state);
      spdlog::info("code payment {} ({}): paid {}, transaction {}", c.out_trade_no, c.provider_name,
                   c.amount.value(), c.transaction_id);
      return;
    }
    if (known && (state.state == PaymentState::State::failed ||
                  state.state == PaymentState::State::not_paid ||
                  state.state == PaymentState::State::closed)) {
      const std::string code = state.raw_state.empty() ? "NOTPAY" : state.raw_state;
      // The pay request was lost (or this is an earlier request's): no payment came of it. It
      // is closed all the same, in case the ask is still on its way.
      if (!pay_answered && state.state != PaymentState::State::failed) {
        if (!reverse(c)) c.settled = false;
        throw unreachable(c, "no payment after the pay request was lost (" + code + ")");
      }
      if (state.state == PaymentState::State::failed) {
        set_state(c, "failed", code);
      } else if (!reverse(c)) {  // closes it, so that a late password cannot pay it
        // Not closed: the payer might still pay it. Not a decline the till may act on; the
        // sweep reverses it.
        c.settled = false;
        throw unreachable(c, "not paid (" + code + "), and its close failed");
      }
      c.settled = c.settled || state.state == PaymentState::State::failed;
      spdlog::info("code payment {} ({}): declined {}", c.out_trade_no, c.provider_name, code);
      throw Error(
          ErrorCode::payment_declined, declined_message(code),
          {{"field", field_of(c.index)}, {"provider", c.provider_name}, {"provider_code", code}});
    }
    // Still paying at the deadline, or the provider could not be reached: cancel it.
    const bool timed_out = known && state.state == PaymentState::State::paying;
    const bool reversed = reverse(c);
    if (timed_out && reversed)
      throw Error(ErrorCode::payment_declined, declined_message("USERPAYING"),
                  {{"field", field_of(c.index)},
                   {"provider", c.provider_name},
                   {"provider_code", "USERPAYING"}});
    throw unreachable(c, timed_out ? "reverse after timeout failed" : "no answer until deadline");
  }

  /// Cancels a charge (撤销: closes it if unpaid, gives the money back if paid); true when the
  /// provider confirmed or the charge turned out never to have moved money.
  bool reverse(Charge& c) {
    try {
      c.provider->reverse(c.out_trade_no);
      set_state(c, "reversed", "REVERSED");
      c.paid = false;
      c.settled = true;
      spdlog::info("code payment {} ({}): reversed", c.out_trade_no, c.provider_name);
      return true;
    } catch (const ProviderError& e) {
      spdlog::warn("code payment {} ({}): reverse failed: {}", c.out_trade_no, c.provider_name,
                   e.what());
      if (e.kind != ProviderError::Kind::refused) return false;
    }
    // Refused: perhaps there is nothing to reverse. Only the provider's state says so, and a
    // trade still waiting for the payer (Alipay's WAIT_BUYER_PAY, WeChat's USERPAYING) is not
    // done: the payer can still finish it, so it is reversed again later (the sweep).
    try {
      const auto state = c.provider->query_code(c.out_trade_no);
      const bool payable = state.raw_state == "WAIT_BUYER_PAY" || state.raw_state == "USERPAYING";
      if (!payable && (state.state == PaymentState::State::not_paid ||
                       state.state == PaymentState::State::closed ||
                       state.state == PaymentState::State::failed)) {
        set_state(c, "failed", state.raw_state);
        c.paid = false;
        c.settled = true;
        return true;
      }
    } catch (const ProviderError& e) {
      spdlog::warn("code payment {} ({}): query after refused reverse failed: {}", c.out_trade_no,
                   c.provider_name, e.what());
    }
    return false;
  }

  /// Reverses every charge of `key_hash` still charging or paid; true when none is left.
  bool reverse_open(const std::string& key_hash,
                    const std::map<std::string, payments::Provider*>& providers, int& settled) {
    const auto open = database_.transact(
        [&](store::UnitOfWork& unit) { return store::open_code_payments(unit, key_hash); });
    bool all = true;
    for (const auto& record : open) {
      Charge c;
      c.id = record.id;
      c.index = static_cast<std::size_t>(record.tender_index);
      c.amount = Fen(record.amount_fen);
      c.provider_name = record.provider;
      c.out_trade_no = record.out_trade_no;
      c.transaction_id = record.transaction_id;
      const auto found = providers.find(record.provider);
      c.provider = found == providers.end() ? nullptr : found->second;
      if (!c.provider || !reverse(c)) {
        all = false;
        continue;
      }
      ++settled;
    }
    return all;
  }

 private:
  Error unreachable(const Charge& c, const std::string& cause) {
    return Error(ErrorCode::unavailable,
                 "支付渠道暂时无法连接，未成交，付款已撤销或将自动撤销 / the payment provider "
                 "cannot be reached: nothing was sold and the payment is (or will be) cancelled",
                 {{"field", field_of(c.index)}, {"provider", c.provider_name}},
                 "code payment " + c.out_trade_no + ": " + cause);
  }

  store::Database& database_;
  const CodePaySettings& settings_;
};

}  // namespace

StoredReply CounterService::sell_with_codes(const domain::Principal& caller,
                                            const SaleRequest& request, const IdempotencyKey& key,
                                            const std::function<StoredReply(const Sale&)>& render) {
  // Each code checked for its tender (422 naming its auth_code) before anything is claimed.
  std::vector<Charge> charges;
  for (std::size_t i = 0; i < request.tenders.size(); ++i) {
    const auto& tender = request.tenders[i];
    const auto code = request.payment_codes.find(i);
    if (!domain::is_code_method(tender.method)) {
      if (code != request.payment_codes.end())
        throw Error::invalid_field(field_of(i),
                                   "该付款方式不收付款码 / this tender takes no "
                                   "payment code");
      continue;
    }
    if (code == request.payment_codes.end() || code->second.empty())
      throw Error::invalid_field(field_of(i),
                                 "请扫顾客的付款码 / scan the customer's payment code");
    if (auto problem = domain::payment_code_problem(tender.method, code->second))
      throw Error::invalid_field(field_of(i), *problem);
    if (request.offline)
      throw Error::invalid_field("tenders[" + std::to_string(i) + "].method",
                                 "付款码需要联网 / a payment code needs the server");
    Charge charge;
    charge.index = i;
    charge.amount = tender.amount;
    charge.code = code->second;
    charge.provider_name = domain::code_method_provider(tender.method);
    const auto provider = payment_providers_.find(charge.provider_name);
    charge.provider = provider == payment_providers_.end() ? nullptr : provider->second;
    if (!charge.provider)
      throw Error(ErrorCode::unavailable,
                  "付款码支付未开通 / payment codes of this provider are not set up",
                  {{"field", "tenders[" + std::to_string(i) + "].method"},
                   {"provider", charge.provider_name}});
    charges.push_back(std::move(charge));
  }

  const auto& pay = settings_.code_pay;
  const auto lease_time = pay.deadline * static_cast<int>(charges.size()) + pay.lease_margin;
  auto claimed = idempotency_.claim_lease(key, lease_time, pay.retry_after());
  if (auto* answer = std::get_if<StoredReply>(&claimed)) return *answer;
  const auto lease = std::get<IdempotencyLease>(claimed);
  const auto key_hex = store::to_hex(lease.key_hash);
  Charger charger(database_, pay);
  bool keep_charges = false;  // the sale may have been written: never reverse then

  try {
    // Checked again (stock, shift, prices) and each charge recorded before it is asked.
    database_.transact([&](store::UnitOfWork& unit) {
      check_sale(unit, caller, request);
      for (auto& c : charges) {
        c.resume = c.paid = c.settled = false;
        auto latest = store::latest_code_payment(unit, lease.key_hash, static_cast<int>(c.index));
        int attempt = 1;
        if (latest) {
          if (latest->state == "paid" || latest->state == "charging") {
            // An earlier request with this key charged it and died: use what it did.
            c.id = latest->id;
            c.out_trade_no = latest->out_trade_no;
            c.transaction_id = latest->transaction_id;
            c.paid = latest->state == "paid";
            c.resume = !c.paid;
            continue;
          }
          if (latest->state == "sold")
            throw Error(ErrorCode::internal, "internal error", {},
                        "code payment " + latest->out_trade_no + " sold without an answer");
          attempt = latest->attempt + 1;
          if (attempt > 99)
            throw Error(ErrorCode::too_many_attempts,
                        "这笔销售付款尝试过多，请重新开单 / too many payment attempts: ring the "
                        "sale up again");
        }
        store::CodePaymentRecord record;
        record.out_trade_no = domain::code_trade_number(key_hex, c.index, attempt);
        record.key_hash = lease.key_hash;
        record.tender_index = static_cast<int>(c.index);
        record.attempt = attempt;
        record.provider = c.provider_name;
        record.cashier_id = caller.user_id;
        record.amount_fen = c.amount.value();
        record.code_masked = domain::mask_payment_code(c.code);
        c.id = store::insert_code_payment(unit, record);
        c.out_trade_no = record.out_trade_no;
      }
    });

    const std::string description = settings_.station_name + " 柜台销售 / counter sale";
    for (auto& c : charges)
      if (!c.paid) charger.charge(c, description);

    // The sale, with each code tender's provider transaction as its reference.
    SaleRequest paid = request;
    std::vector<std::int64_t> ids;
    for (const auto& c : charges) {
      paid.tenders[c.index].reference = c.transaction_id.substr(0, 100);
      ids.push_back(c.id);
    }
    return database_.transact([&](store::UnitOfWork& unit) {
      const auto sale = write_sale(unit, caller, paid);
      auto reply = render(sale);
      if (!store::mark_code_payments_sold(unit, ids, sale.id))
        throw Error(ErrorCode::internal, "internal error", {}, "a code payment left 'paid'");
      try {
        idempotency_.store_leased(unit, lease, reply);
      } catch (const Error&) {
        keep_charges = true;  // a later retry holds the key and may sell with these charges
        throw;
      }
      reply.replayed = false;
      return reply;
    });
  } catch (const Error& error) {
    // Whether the sale was written is unknown: a retry with the key finds out, keeping the charge.
    if (keep_charges || error.code() == ErrorCode::commit_unknown) {
      idempotency_.expire(lease);
      throw;
    }
    int settled = 0;
    if (charger.reverse_open(lease.key_hash, payment_providers_, settled))
      idempotency_.release(lease);
    else
      idempotency_.expire(lease);  // the sweep (or a retry) finishes the reversal
    throw;
  } catch (...) {
    int settled = 0;
    if (charger.reverse_open(lease.key_hash, payment_providers_, settled))
      idempotency_.release(lease);
    else
      idempotency_.expire(lease);
    throw;
  }
}

int CounterService::recover_code_payments() {
  if (std::none_of(payment_providers_.begin(), payment_providers_.end(),
                   [](const auto& entry) { return entry.second != nullptr; }))
    return 0;
  const auto& pay = settings_.code_pay;
  const auto stale_micros =
      std::chrono::duration_cast<std::chrono::microseconds>(pay.deadline + pay.lease_margin)
          .count();
  const auto keys = database_.transact([&](store::UnitOfWork& unit) {
    return store::stale_code_payment_keys(unit, stale_micros, 20);
  });
  Charger charger(database_, pay);
  int settled = 0;
  for (const auto& key_hash : keys) {
    // Only a key whose holder's lease ran out: a live request is still deciding.
    const auto taken = idempotency_.take_over(
        key_hash,
        std::chrono::duration_cast<std::chrono::milliseconds>(pay.deadline + pay.lease_margin));
    if (!taken) continue;
    const IdempotencyLease lease = *taken;
    if (charger.reverse_open(key_hash, payment_providers_, settled))
      idempotency_.release(lease);
    else
      idempotency_.expire(lease);
  }
  return settled;
}

}  // namespace yizhan::service
