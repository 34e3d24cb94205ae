// `yizhan check`: named consistency checks over the books (stock, and the journal next to it),
// each reporting its problems as lines of text.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace yizhan::store {
class Database;
class UnitOfWork;
}  // namespace yizhan::store

namespace yizhan::service {

/// One check's outcome: its name and what is wrong (nothing = clean).
struct CheckResult {
  std::string name;
  std::vector<std::string> problems;
};

/// Runs named checks, each in a transaction of its own. A check reads what it needs (ideally in
/// one statement, so that it sees one consistent snapshot while sales go on) and returns one
/// line of text per problem.
class Checker {
 public:
  using Check = std::function<std::vector<std::string>(store::UnitOfWork&)>;

  explicit Checker(store::Database& database) : database_(database) {}

  /// Adds a check; checks run in the order they were added.
  void add(std::string name, Check check);

  /// Runs every check. A check that throws is reported as a problem of that check.
  [[nodiscard]] std::vector<CheckResult> run() const;

  [[nodiscard]] std::vector<std::string> names() const;

 private:
  store::Database& database_;
  std::vector<std::pair<std::string, Check>> checks_;
};

/// Whether no check found anything.
bool clean(const std::vector<CheckResult>& results);

/// The stock checks, per product: a level row exists; on_hand = the sum of its on-hand moves;
/// reserved = the sum of its reserve and release moves; on_hand = the sum of its lots'
/// remaining; nothing negative and reserved never above on_hand.
void add_stock_checks(Checker& checker);

/// The money checks: every journal entry balances (and has postings); each village's payable
/// balance equals its shares sold minus its shares refunded; every sale's tenders equal its
/// total; per village, payable = shares − refunded shares + adjustments − payouts; every line is
/// in at most one confirmed settlement, whose totals are the sums of its frozen lines; a
/// settlement's payouts never sum to more than its total, and it is paid exactly when they cover
/// it.
void add_journal_checks(Checker& checker);

}  // namespace yizhan::service
