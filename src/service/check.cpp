// `yizhan check`: runs named consistency checks; the stock ledger's checks live here too.
#include "yizhan/service/check.hpp"

#include <exception>

#include "yizhan/store/code_refunds.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/journal.hpp"
#include "yizhan/store/settlements.hpp"
#include "yizhan/store/stock.hpp"

namespace yizhan::service {
namespace {

/// What is wrong with one product's stock figures, one line per rule broken.
std::vector<std::string> stock_problems(const store::StockFigures& f) {
  const std::string product = "product " + std::to_string(f.product_id) + " (" + f.sku + "): ";
  std::vector<std::string> problems;
  if (!f.has_level) {
    problems.push_back(product + "no stock_levels row");
    return problems;
  }
  if (f.on_hand != f.ledger_on_hand) {
    problems.push_back(product + "on_hand " + std::to_string(f.on_hand) + " but its moves sum to " +
                       std::to_string(f.ledger_on_hand) + " (difference " +
                       std::to_string(f.on_hand - f.ledger_on_hand) + ")");
  }
  if (f.reserved != f.ledger_reserved) {
    problems.push_back(product + "reserved " + std::to_string(f.reserved) +
                       " but its reserve/release moves sum to " +
                       std::to_string(f.ledger_reserved) + " (difference " +
                       std::to_string(f.reserved - f.ledger_reserved) + ")");
  }
  if (f.on_hand != f.lots_remaining) {
    problems.push_back(product + "on_hand " + std::to_string(f.on_hand) + " but its lots hold " +
                       std::to_string(f.lots_remaining) + " (difference " +
                       std::to_string(f.on_hand - f.lots_remaining) + ")");
  }
  if (f.on_hand < 0) problems.push_back(product + "on_hand is negative");
  if (f.reserved < 0) problems.push_back(product + "reserved is negative");
  if (f.reserved > f.on_hand) {
    problems.push_back(product + "reserved " + std::to_string(f.reserved) + " exceeds on_hand " +
                       std::to_string(f.on_hand));
  }
  if (f.negative_lots > 0) {
    problems.push_back(product + std::to_string(f.negative_lots) +
                       " lot(s) with negative remaining");
  }
  return problems;
}

}  // namespace

void Checker::add(std::string name, Check check) {
  checks_.emplace_back(std::move(name), std::move(check));
}

std::vector<CheckResult> Checker::run() const {
  std::vector<CheckResult> results;
  for (const auto& [name, check] : checks_) {
    CheckResult result{name, {}};
    try {
      result.problems = database_.transact([&](store::UnitOfWork& unit) { return check(unit); });
    } catch (const std::exception& error) {
      result.problems.push_back(std::string("the check could not run: ") + error.what());
    }
    results.push_back(std::move(result));
  }
  return results;
}

std::vector<std::string> Checker::names() const {
  std::vector<std::string> names;
  for (const auto& [name, check] : checks_)
    names.push_back(name);
  return names;
}

bool clean(const std::vector<CheckResult>& results) {
  for (const auto& result : results) {
    if (!result.problems.empty()) return false;
  }
  return true;
}

void add_stock_checks(Checker& checker) {
  checker.add("stock: levels = ledger = lots", [](store::UnitOfWork& unit) {
    std::vector<std::string> problems;
    for (const auto& figures : store::stock_figures(unit)) {
      for (auto& problem : stock_problems(figures))
        problems.push_back(std::move(problem));
    }
    return problems;
  });
}

void add_journal_checks(Checker& checker) {
  checker.add("journal: every entry balances",
              [](store::UnitOfWork& unit) { return store::unbalanced_entries(unit); });
  checker.add("journal: village payable = shares − refunded shares",
              [](store::UnitOfWork& unit) { return store::village_payable_differences(unit); });
  checker.add("orders: reservations match their state",
              [](store::UnitOfWork& unit) { return store::order_reservation_differences(unit); });
  checker.add("orders: refunds = refunded_fen = their journal",
              [](store::UnitOfWork& unit) { return store::order_refund_differences(unit); });
  checker.add("orders: payments held for refund = unsold payments not refunded",
              [](store::UnitOfWork& unit) { return store::unsold_payment_differences(unit); });
  checker.add("sales: tenders = total",
              [](store::UnitOfWork& unit) { return store::sales_not_covered_by_tenders(unit); });
  checker.add("counter: refunds to codes = what their providers gave back",
              [](store::UnitOfWork& unit) { return store::code_refund_differences(unit); });
  checker.add("counter: refunds owed = code refunds ended unpaid and not paid back",
              [](store::UnitOfWork& unit) { return store::refunds_owed_differences(unit); });
  // Settlements (issue 10).
  checker.add("journal: village payable = shares − refunded shares + adjustments − payouts",
              [](store::UnitOfWork& unit) { return store::village_balance_differences(unit); });
  checker.add("settlements: every line in at most one confirmed settlement",
              [](store::UnitOfWork& unit) { return store::lines_settled_twice(unit); });
  checker.add("settlements: confirmed totals = the sums of their frozen lines",
              [](store::UnitOfWork& unit) { return store::settlement_total_differences(unit); });
  checker.add("settlements: payouts ≤ total, and paid ⇔ the payouts cover the total",
              [](store::UnitOfWork& unit) { return store::payout_differences(unit); });
}

}  // namespace yizhan::service
