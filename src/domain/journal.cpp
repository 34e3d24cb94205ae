// The double-entry journal: account codes and the postings of sales, refunds, cash movements
// and shift closes. Every entry built here balances, or it is a bug.
#include "yizhan/domain/journal.hpp"

#include <string>

#include "yizhan/domain/error.hpp"

namespace yizhan::domain {
namespace {

__extension__ typedef __int128 Wide;

[[noreturn]] void bug(std::string cause) {
  throw Error(ErrorCode::internal, "internal error", {}, std::move(cause));
}

/// Adds `amount` to `account`'s posting, in the order accounts first appear.
void post(std::vector<Posting>& postings, std::string account, Fen amount) {
  for (auto& posting : postings) {
    if (posting.account == account) {
      posting.amount += amount;
      return;
    }
  }
  postings.push_back({std::move(account), amount});
}

/// Drops zero postings and checks the entry balances.
std::vector<Posting> finish(std::vector<Posting> postings, const char* what) {
  std::erase_if(postings, [](const Posting& p) { return p.amount == Fen(0); });
  if (!balances(postings)) bug(std::string(what) + ": the entry does not balance");
  return postings;
}

}  // namespace

std::string cash_drawer_account(std::int64_t register_id) {
  return "cash_drawer:" + std::to_string(register_id);
}

std::string tender_clearing_account(TenderMethod method) {
  if (method == TenderMethod::cash) bug("tender_clearing_account: cash goes to a drawer");
  return "tender_clearing:" + std::string(to_string(method));
}

std::string village_payable_account(std::int64_t village_id) {
  return "village_payable:" + std::to_string(village_id);
}

std::string tender_account(TenderMethod method, std::int64_t register_id) {
  return method == TenderMethod::cash ? cash_drawer_account(register_id)
                                      : tender_clearing_account(method);
}

bool balances(std::span<const Posting> postings) {
  Wide sum = 0;
  for (const auto& posting : postings)
    sum += posting.amount.value();
  return sum == 0;
}

std::vector<Posting> sale_postings(std::int64_t register_id, std::span<const Tender> tenders,
                                   std::span<const VillageSplit> lines) {
  std::vector<Posting> postings;
  // Tender amounts are what each pays of the total: cash change never enters the drawer.
  for (const auto& tender : tenders)
    post(postings, tender_account(tender.method, register_id), tender.amount);
  for (const auto& line : lines)
    post(postings, village_payable_account(line.village_id), -line.share);
  Fen fees;
  for (const auto& line : lines)
    fees += line.fee;
  post(postings, kCommissionIncome, -fees);
  return finish(std::move(postings), "sale_postings");
}

std::vector<Posting> refund_postings(std::int64_t register_id, TenderMethod method,
                                     std::span<const VillageSplit> lines) {
  Fen total;
  for (const auto& line : lines)
    total += line.fee + line.share;
  const Tender paid_out{method, total, std::nullopt, {}};
  auto postings = sale_postings(register_id, std::span<const Tender>(&paid_out, 1), lines);
  for (auto& posting : postings)
    posting.amount = -posting.amount;
  return postings;
}

std::vector<Posting> order_payment_postings(TenderMethod method, std::int64_t register_id,
                                            std::span<const VillageSplit> lines, Fen delivery_fee) {
  Fen goods;
  for (const auto& line : lines)
    goods += line.fee + line.share;
  const Tender paid{method, goods, std::nullopt, {}};
  auto postings = sale_postings(register_id, std::span<const Tender>(&paid, 1), lines);
  post(postings, tender_account(method, register_id), delivery_fee);
  post(postings, kDeliveryIncome, -delivery_fee);
  return finish(std::move(postings), "order_payment_postings");
}

std::vector<Posting> cash_movement_postings(std::int64_t register_id, Fen amount) {
  return finish({{cash_drawer_account(register_id), amount}, {kStationCash, -amount}},
                "cash_movement_postings");
}

std::vector<Posting> refund_failed_postings(TenderMethod method, Fen amount) {
  return finish({{tender_clearing_account(method), amount}, {kRefundsOwed, -amount}},
                "refund_failed_postings");
}

std::vector<Posting> refund_repaid_postings(std::int64_t register_id, Fen amount) {
  return finish({{kRefundsOwed, amount}, {cash_drawer_account(register_id), -amount}},
                "refund_repaid_postings");
}

std::vector<Posting> shift_close_postings(std::int64_t register_id, Fen expected, Fen counted) {
  // Over (counted > expected) is a credit to cash over/short, short a debit.
  return finish({{kStationCash, counted},
                 {cash_drawer_account(register_id), -expected},
                 {kCashOverShort, expected - counted}},
                "shift_close_postings");
}

}  // namespace yizhan::domain
