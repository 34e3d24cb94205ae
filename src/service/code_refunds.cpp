// Refunds to counter 付款码 payments (原路退回 to WeChat or Alipay). The provider is never asked
// inside a transaction: the ask is recorded with the lines it gives back (refunding, which holds
// the sale against other refunds), the provider is asked with an out_refund_no derived from the
// request's Idempotency-Key, and the refund is booked (stock, journal) only once the provider
// accepted it. A request that dies in between leaves the ask for its retry or the sweep, which
// ask again with the same number: the provider refunds once per number.
// A booked refund the provider later ends unpaid is owed to the customer until staff pay it back
// from a drawer (owed_refunds, repay_owed_refund).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "audit_entry.hpp"
#include "drawer.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/journal.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/payments/provider.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/store/audit.hpp"
#include "yizhan/store/code_refunds.hpp"
#include "yizhan/store/counter.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/digest.hpp"
#include "yizhan/store/journal.hpp"

namespace yizhan::service {
namespace {

using domain::Error;
using domain::ErrorCode;
using domain::Fen;
using payments::ProviderError;
using payments::RefundState;

/// What a provider said about an ask.
struct Answer {
  enum class Outcome { accepted, refused, unknown } outcome = Outcome::unknown;
  std::string provider_state;  ///< SUCCESS, PROCESSING; or the refusal's code
  std::string refund_id;
};

/// A refund's state at the provider as the counter records it: SUCCESS or PROCESSING (accepted),
/// or the code it ended with (refused).
Answer answer_of(const RefundState& state) {
  Answer answer;
  answer.refund_id = state.refund_id;
  switch (state.state) {
    case RefundState::State::succeeded:
      answer.outcome = Answer::Outcome::accepted;
      answer.provider_state = "SUCCESS";
      break;
    case RefundState::State::processing:
      answer.outcome = Answer::Outcome::accepted;
      answer.provider_state = "PROCESSING";
      break;
    case RefundState::State::failed:
      answer.outcome = Answer::Outcome::refused;
      answer.provider_state = state.raw_state.empty() ? "FAILED" : state.raw_state;
      break;
  }
  return answer;
}

/// What the provider's refund lookup says of a refund: SUCCESS, still PROCESSING, or ended
/// without paying (CLOSED, ABNORMAL; NOT_FOUND: never made); unknown when it cannot tell.
Answer look_up(payments::Provider& provider, const store::CodeRefundRecord& ask) {
  try {
    return answer_of(provider.query_refund(ask.out_trade_no, ask.out_refund_no));
  } catch (const std::exception& e) {
    spdlog::warn("code refund {} ({}): lookup failed: {}", ask.out_refund_no, ask.provider,
                 e.what());
    return {};
  }
}

/// Asks the provider to refund (again: the same out_refund_no is one refund). `asked_before`:
/// an earlier request may have sent this ask and lost the answer.
Answer ask_provider(payments::Provider& provider, const store::CodeRefundRecord& ask,
                    bool asked_before) {
  payments::RefundRequest request;
  request.out_trade_no = ask.out_trade_no;
  request.out_refund_no = ask.out_refund_no;
  request.refund = Fen(ask.amount_fen);
  request.total = Fen(ask.charge_fen);
  request.reason = ask.reason.empty() ? "退货 / goods returned" : ask.reason;
  Answer answer;
  try {
    answer = answer_of(provider.refund(request));
  } catch (const ProviderError& e) {
    spdlog::warn("code refund {} ({}): {}", ask.out_refund_no, ask.provider, e.what());
    if (e.kind == ProviderError::Kind::refused) {
      answer.outcome = Answer::Outcome::refused;
      answer.provider_state = e.provider_code.empty() ? "REFUSED" : e.provider_code;
    }
  }
  // A refusal of an ask sent before (throttled, say) does not prove the first one was not
  // made: only the provider's record of the refund number does.
  if (answer.outcome == Answer::Outcome::refused && asked_before) {
    const auto made = look_up(provider, ask);
    if (made.outcome != Answer::Outcome::refused) return made;  // made, or nobody can tell
    spdlog::info("code refund {} ({}): refused ({}), and the provider has it as {}",
                 ask.out_refund_no, ask.provider, answer.provider_state, made.provider_state);
  }
  return answer;
}

domain::TenderMethod method_of_provider(const std::string& provider) {
  return provider == "wechat" ? domain::TenderMethod::wechat_code
                              : domain::TenderMethod::alipay_code;
}

/// A booked ask as the answer shows it.
Refund booked_refund(const store::CodeRefundRecord& ask, const std::string& sale_number) {
  Refund result;
  result.id = ask.refund_id.value_or(0);
  result.sale_id = ask.sale_id;
  result.sale_number = sale_number;
  result.method = std::string(domain::to_string(method_of_provider(ask.provider)));
  result.total = Fen(ask.amount_fen);
  for (const auto& l : ask.lines)
    result.lines.push_back({l.sale_line_id, l.quantity, Fen(l.gross_fen), Fen(l.fee_fen),
                            Fen(l.share_fen), l.restock});
  result.provider_state = ask.provider_state;
  result.provider_refund_id = ask.provider_refund_id;
  return result;
}

std::chrono::milliseconds lease_of(const CodePaySettings& pay) {
  return pay.deadline + pay.lease_margin;
}

/// Records, in `unit`, that the provider ended a booked ask without paying: the ask is owed,
/// the money goes back onto the provider's clearing account and onto refunds owed, and the
/// manager finds it in the audit log. Once: false (nothing written) when another process
/// recorded the same answer first.
bool record_owed(store::UnitOfWork& unit, const store::CodeRefundRecord& ask,
                 const std::string& provider_state, const std::string& business_day) {
  if (!ask.refund_id || !store::mark_code_refund_owed(unit, ask.id)) return false;
  store::post_entry(
      unit, "refund_failed", *ask.refund_id, business_day,
      domain::refund_failed_postings(method_of_provider(ask.provider), Fen(ask.amount_fen)),
      "付款码退款未退成 / code refund ended unpaid " + ask.out_refund_no);
  store::AuditEntry entry;
  entry.actor = "sweep";
  entry.action = "code_refund.failed_after_booking";
  entry.entity_type = "sale";
  entry.entity_id = std::to_string(ask.sale_id);
  entry.after = store::AuditState{
      {"out_refund_no", ask.out_refund_no},
      {"refund_id", std::to_string(*ask.refund_id)},
      {"provider", ask.provider},
      {"provider_state", provider_state},
      {"amount_fen", std::to_string(ask.amount_fen)},
      {"owed", "owed"},
      {"note",
       "支付渠道未退成，顾客未收到，已记为应退未退，请在收银台补退 / the provider did not pay it "
       "back: the customer is owed it, pay it back at the counter"}};
  store::record_audit(unit, entry);
  return true;
}

OwedRefund to_owed(const store::OwedRefundRecord& r) {
  OwedRefund out;
  out.refund_id = r.refund_id;
  out.sale_id = r.sale_id;
  out.sale_number = r.sale_number;
  out.method = r.method;
  out.amount = Fen(r.amount_fen);
  out.provider_state = r.provider_state;
  out.out_refund_no = r.out_refund_no;
  out.state = r.owed;
  out.owed_at = r.owed_at;
  out.refunded_at = r.refunded_at;
  if (r.repayment)
    out.repayment = OwedRefund::Repayment{r.repayment->id,          r.repayment->shift_id,
                                          r.repayment->register_id, r.repayment->cashier,
                                          r.repayment->method,      Fen(r.repayment->amount_fen),
                                          r.repayment->created_at};
  return out;
}

}  // namespace

StoredReply CounterService::refund_to_code(
    const domain::Principal& caller, const RefundRequest& request, domain::TenderMethod method,
    const IdempotencyKey& key, const std::function<StoredReply(const Refund&)>& render) {
  const std::string provider_name = domain::code_method_provider(method);
  const auto found = payment_providers_.find(provider_name);
  payments::Provider* provider = found == payment_providers_.end() ? nullptr : found->second;
  if (!provider)
    throw Error(ErrorCode::unavailable,
                "付款码退款未开通 / refunds to payment codes of this provider are not set up",
                {{"field", "method"}, {"provider", provider_name}});
  const auto& pay = settings_.code_pay;
  auto claimed = idempotency_.claim_lease(key, lease_of(pay), pay.retry_after());
  if (auto* answer = std::get_if<StoredReply>(&claimed)) return *answer;
  const auto lease = std::get<IdempotencyLease>(claimed);

  bool asked = false;         // from here on the provider may have refunded: never forget the ask
  bool asked_before = false;  // an earlier request with this key recorded (and maybe sent) it
  bool lease_settled = false;
  try {
    // The ask, recorded before the provider hears of it (or the earlier one of this key).
    const auto ask = database_.transact([&](store::UnitOfWork& unit) {
      // Locking the sale's lines serialises refunds of one sale.
      auto sale = store::find_sale(unit, request.sale_id, true);
      if (!sale) throw Error(ErrorCode::not_found, "没有这笔销售 / no such sale");
      auto latest = store::latest_code_refund(unit, lease.key_hash);
      if (latest && latest->state != "failed") {  // ask again, or answer it
        asked_before = true;
        return *latest;
      }
      check_refund_allowed(unit, caller, *sale);
      const auto planned = plan_refund(caller, request, *sale, method);

      // The money goes back to a charge of this provider that still holds enough of it.
      const auto charges = store::refundable_charges(unit, sale->id, provider_name);
      if (charges.empty())
        throw Error::invalid_field("method",
                                   "这笔销售没有用这种付款码付款 / the sale was not paid by "
                                   "this kind of payment code");
      std::int64_t most = 0;
      const store::RefundableCharge* charge = nullptr;
      for (const auto& c : charges) {
        most = std::max(most, c.amount_fen - c.held_fen);
        if (!charge && c.amount_fen - c.held_fen >= planned.total_fen) charge = &c;
      }
      if (!charge)
        throw Error(ErrorCode::refund_exceeds_sale,
                    "付款码最多还能退 " + ("¥" + Fen(most).format()) +
                        "，其余请退现金 / the payment code can take back at most " +
                        ("¥" + Fen(most).format()) + ": refund the rest in cash",
                    {{"field", "method"},
                     {"refundable_fen", std::to_string(most)},
                     {"asked_fen", std::to_string(planned.total_fen)}});

      store::CodeRefundRecord record;
      record.attempt = latest ? latest->attempt + 1 : 1;
      if (record.attempt > 99)
        throw Error(ErrorCode::too_many_attempts,
                    "这笔退款尝试过多，请改为现金退款 / too many refund attempts: refund in cash");
      record.out_refund_no =
          domain::code_refund_number(store::to_hex(lease.key_hash), record.attempt);
      record.key_hash = lease.key_hash;
      record.sale_id = sale->id;
      record.code_payment_id = charge->code_payment_id;
      record.provider = provider_name;
      record.cashier_id = caller.user_id;
      record.amount_fen = planned.total_fen;
      record.reason = request.reason;
      record.lines = planned.lines;
      const auto id = store::insert_code_refund(unit, record);
      return *store::find_code_refund(unit, id);
    });

    if (ask.state == "refunded")  // booked by the sweep after an earlier request died
      return database_.transact([&](store::UnitOfWork& unit) {
        const auto sale = store::find_sale(unit, ask.sale_id);
        auto reply = render(booked_refund(ask, sale ? sale->number : std::string()));
        idempotency_.store_leased(unit, lease, reply);
        reply.replayed = false;
        return reply;
      });

    asked = true;
    const auto answer = ask_provider(*provider, ask, asked_before);
    if (answer.outcome == Answer::Outcome::unknown) {
      idempotency_.expire(lease);
      lease_settled = true;
      throw Error(ErrorCode::unavailable,
                  "支付渠道暂未确认退款，请稍后用同一操作重试（不会重复退款）/ the provider has "
                  "not confirmed the refund yet: retry the same refund shortly (it will not be "
                  "paid twice)",
                  {{"field", "method"}, {"provider", provider_name}},
                  "code refund " + ask.out_refund_no + ": no answer");
    }
    if (answer.outcome == Answer::Outcome::refused) {
      database_.transact([&](store::UnitOfWork& unit) {
        store::finish_code_refund(unit, ask.id, "failed", std::nullopt, "", "",
                                  answer.provider_state);
      });
      idempotency_.release(lease);
      lease_settled = true;
      spdlog::info("code refund {} ({}): refused {}", ask.out_refund_no, provider_name,
                   answer.provider_state);
      throw Error(ErrorCode::payment_declined,
                  "支付渠道拒绝了这笔退款，可改为现金退款 / the provider refused the refund: "
                  "refund in cash instead",
                  {{"field", "method"},
                   {"provider", provider_name},
                   {"provider_code", answer.provider_state}});
    }
    return database_.transact([&](store::UnitOfWork& unit) {
      auto reply = render(book_code_refund(unit, ask.id, answer.provider_state, answer.refund_id));
      idempotency_.store_leased(unit, lease, reply);
      reply.replayed = false;
      spdlog::info("code refund {} ({}): {} fen, {}", ask.out_refund_no, provider_name,
                   ask.amount_fen, answer.provider_state);
      return reply;
    });
  } catch (...) {
    // Not asked: nothing moved, the key is free again. Asked: the retry or the sweep books it.
    if (!lease_settled) {
      if (asked)
        idempotency_.expire(lease);
      else
        idempotency_.release(lease);
    }
    throw;
  }
}

Refund CounterService::book_code_refund(store::UnitOfWork& unit, std::int64_t ask_id,
                                        const std::string& provider_state,
                                        const std::string& provider_refund_id) {
  auto ask = store::find_code_refund(unit, ask_id);
  if (!ask) throw Error(ErrorCode::internal, "internal error", {}, "code refund vanished");
  auto sale = store::find_sale(unit, ask->sale_id, true);
  if (!sale) throw Error(ErrorCode::internal, "internal error", {}, "code refund's sale vanished");
  if (ask->state == "refunded") return booked_refund(*ask, sale->number);  // booked meanwhile
  if (ask->state != "refunding")
    throw Error(ErrorCode::internal, "internal error", {},
                "code refund " + ask->out_refund_no + " accepted but " + ask->state);

  store::RefundRecord refund;
  refund.sale_id = sale->id;
  refund.cashier_id = ask->cashier_id;
  refund.method = std::string(domain::to_string(method_of_provider(ask->provider)));
  refund.business_day = domain::format_iso_date(
      domain::business_day(std::chrono::system_clock::now(), settings_.zone));
  refund.reason = ask->reason;
  refund.lines = ask->lines;
  for (const auto& l : ask->lines)
    refund.total_fen += l.gross_fen;
  const auto shift = store::open_shift_of(unit, ask->cashier_id, store::RowLock::share);
  if (shift) refund.shift_id = shift->id;
  auto result = book_refund(unit, ask->cashier_id, *sale, refund,
                            shift ? shift->register_id : sale->register_id);
  if (!store::finish_code_refund(unit, ask->id, "refunded", refund.id, provider_state,
                                 provider_refund_id, ""))
    throw Error(ErrorCode::internal, "internal error", {}, "code refund left refunding");
  result.provider_state = provider_state;
  result.provider_refund_id = provider_refund_id;
  return result;
}

int CounterService::recover_code_refunds() {
  if (std::none_of(payment_providers_.begin(), payment_providers_.end(),
                   [](const auto& entry) { return entry.second != nullptr; }))
    return 0;
  const auto& pay = settings_.code_pay;
  const auto stale_micros =
      std::chrono::duration_cast<std::chrono::microseconds>(lease_of(pay)).count();
  // A refund the provider still has as PROCESSING (a bank card's takes days) is looked up every
  // refund_recheck, not on every round; the asks left refunding by a dead request come first.
  const auto recheck_micros =
      std::chrono::duration_cast<std::chrono::microseconds>(pay.refund_recheck).count();
  const auto ids = database_.transact([&](store::UnitOfWork& unit) {
    return store::stale_code_refunds(unit, stale_micros, recheck_micros, 20);
  });
  int settled = 0;
  for (const auto id : ids) {
    auto ask = database_.transact(
        [&](store::UnitOfWork& unit) { return store::find_code_refund(unit, id); });
    if (!ask) continue;
    const auto found = payment_providers_.find(ask->provider);
    if (found == payment_providers_.end() || !found->second) continue;

    if (ask->state == "refunded") {  // booked while the provider said PROCESSING
      // Looked up, not asked again: the refund is made; only its end is awaited.
      const auto answer = look_up(*found->second, *ask);
      if (answer.outcome == Answer::Outcome::unknown) continue;
      const auto day = domain::format_iso_date(
          domain::business_day(std::chrono::system_clock::now(), settings_.zone));
      const bool owed = database_.transact([&](store::UnitOfWork& unit) {
        store::set_code_refund_provider_state(unit, ask->id, answer.provider_state,
                                              answer.refund_id);
        // Booked as given back, but the provider ended it without paying (CLOSED, ABNORMAL):
        // the books are put right and the customer is owed it.
        return answer.outcome == Answer::Outcome::refused &&
               record_owed(unit, *ask, answer.provider_state, day);
      });
      if (owed)
        spdlog::error(
            "code refund {} ({}) of sale {} ended {} after it was booked: the "
            "customer is owed {} fen (refund {}), pay it back at the counter",
            ask->out_refund_no, ask->provider, ask->sale_id, answer.provider_state, ask->amount_fen,
            ask->refund_id.value_or(0));
      if (answer.provider_state != "PROCESSING") ++settled;
      continue;
    }

    // Refunding: its request died after recording the ask. Only once its lease ran out.
    if (ask->state != "refunding") continue;
    const auto lease = idempotency_.take_over(ask->key_hash, lease_of(pay));
    if (!lease) continue;
    // Read again under the lease: since the list was read, a retry may have had this ask
    // refused and asked again under a new number. The refused number is never asked about
    // again (the provider may take it now, and the new one too); the key's open ask is.
    const auto key_hash = ask->key_hash;
    ask = database_.transact(
        [&](store::UnitOfWork& unit) { return store::latest_code_refund(unit, key_hash); });
    const auto provider = ask ? payment_providers_.find(ask->provider) : payment_providers_.end();
    if (!ask || ask->state != "refunding" || provider == payment_providers_.end() ||
        !provider->second) {
      idempotency_.expire(*lease);
      continue;
    }
    const auto answer = ask_provider(*provider->second, *ask, true);
    try {
      switch (answer.outcome) {
        case Answer::Outcome::unknown: idempotency_.expire(*lease); continue;
        case Answer::Outcome::refused:
          database_.transact([&](store::UnitOfWork& unit) {
            store::finish_code_refund(unit, ask->id, "failed", std::nullopt, "", "",
                                      answer.provider_state);
          });
          break;
        case Answer::Outcome::accepted:
          database_.transact([&](store::UnitOfWork& unit) {
            book_code_refund(unit, ask->id, answer.provider_state, answer.refund_id);
          });
          break;
      }
    } catch (const std::exception& e) {
      spdlog::error("code refund {}: could not be finished: {}", ask->out_refund_no, e.what());
      idempotency_.expire(*lease);
      continue;
    }
    // A booked ask keeps its key (unanswered, with its request's hash): the retry takes it
    // over and answers the refund, and another request under that key stays a mismatch. A
    // refused one frees its key, as a refusal answered at once does.
    if (answer.outcome == Answer::Outcome::accepted)
      idempotency_.expire(*lease);
    else
      idempotency_.release(*lease);
    ++settled;
  }
  return settled;
}

std::vector<OwedRefund> CounterService::owed_refunds(bool repaid_too,
                                                     std::optional<std::int64_t> before_id,
                                                     int limit) {
  return database_.transact([&](store::UnitOfWork& unit) {
    std::vector<OwedRefund> out;
    for (const auto& r : store::list_owed_refunds(unit, repaid_too, before_id, limit))
      out.push_back(to_owed(r));
    return out;
  });
}

StoredReply CounterService::repay_owed_refund(
    const domain::Principal& caller, std::int64_t refund_id, const std::string& method,
    const Actor& actor, const IdempotencyKey& key,
    const std::function<StoredReply(const OwedRefund&)>& render) {
  if (method != "cash")
    throw Error::invalid_field("method", "目前只能用现金补退 / owed refunds are paid back in cash");
  const std::string day = domain::format_iso_date(
      domain::business_day(std::chrono::system_clock::now(), settings_.zone));
  return idempotency_.run(key, [&](store::UnitOfWork& unit) {
    auto owed = store::find_owed_refund(unit, refund_id, true);
    if (!owed) {
      if (!store::refund_exists(unit, refund_id))
        throw Error(ErrorCode::not_found, "没有这笔退款 / no such refund");
      throw Error(ErrorCode::invalid_state,
                  "这笔退款没有欠顾客的钱 / this refund is not owed to the customer",
                  {{"state", "not_owed"}});
    }
    if (owed->owed != "owed")
      throw Error(ErrorCode::invalid_state, "这笔退款已补退 / this refund was paid back already",
                  {{"state", owed->owed}});
    // The cash leaves the caller's drawer: the shift is locked, so a close or another payment
    // out of the drawer waits for this one.
    const auto shift = store::open_shift_of(unit, caller.user_id, store::RowLock::update);
    if (!shift)
      throw Error(ErrorCode::no_open_shift,
                  "补退现金需要开班 / paying back in cash needs an open shift");
    check_drawer_pays(unit, *shift, Fen(owed->amount_fen), "method");
    if (!store::mark_code_refund_repaid(unit, owed->code_refund_id))
      throw Error(ErrorCode::invalid_state, "这笔退款已补退 / this refund was paid back already",
                  {{"state", "repaid"}});
    const auto id = store::insert_refund_repayment(unit, refund_id, shift->id, caller.user_id,
                                                   method, owed->amount_fen);
    store::post_entry(unit, "refund_repaid", id, day,
                      domain::refund_repaid_postings(shift->register_id, Fen(owed->amount_fen)),
                      "补退顾客 / owed refund paid back " + owed->sale_number);
    auto entry = audit_entry(actor, "refund", refund_id);
    entry.before = store::AuditState{{"owed", "owed"}};
    entry.after = store::AuditState{{"owed", "repaid"},
                                    {"method", method},
                                    {"amount_fen", std::to_string(owed->amount_fen)},
                                    {"shift_id", std::to_string(shift->id)},
                                    {"sale", owed->sale_number}};
    store::record_audit(unit, entry);
    return render(to_owed(*store::find_owed_refund(unit, refund_id, false)));
  });
}

}  // namespace yizhan::service
