// The double-entry journal in MariaDB: an entry and all its postings in one statement each.
#include "yizhan/store/journal.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "rows.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::store {
namespace {

using domain::Error;
using domain::ErrorCode;

/// One INSERT … SELECT for n postings: the account codes are joined to their ids, so an entry
/// costs one statement whatever its size, and a posting to an unknown account inserts nothing.
std::string postings_insert(std::size_t count) {
  std::string sql =
      "INSERT INTO postings (entry_id, account_id, amount_fen) "
      "SELECT ?, a.id, v.amount FROM (";
  for (std::size_t i = 0; i < count; ++i)
    sql += i == 0 ? "SELECT ? AS code, ? AS amount" : " UNION ALL SELECT ?, ?";
  sql += ") v JOIN ledger_accounts a ON a.code = v.code";
  return sql;
}

int insert_postings(UnitOfWork& unit, std::int64_t entry_id,
                    std::span<const domain::Posting> postings) {
  auto& statement = unit.statement(postings_insert(postings.size()));
  statement.setInt64(1, entry_id);
  int index = 2;
  for (const auto& posting : postings) {
    statement.setString(index++, posting.account);
    statement.setInt64(index++, posting.amount.value());
  }
  return statement.executeUpdate();
}

}  // namespace

void open_account(UnitOfWork& unit, const std::string& code) {
  const auto colon = code.find(':');
  if (colon == std::string::npos) return;
  const std::string prefix = code.substr(0, colon);
  std::int64_t id = 0;
  try {
    id = std::stoll(code.substr(colon + 1));
  } catch (const std::exception&) {
    return;
  }
  const char* query = nullptr;
  if (prefix == "village_payable") {
    query =
        "INSERT IGNORE INTO ledger_accounts (code, kind, name, name_en, village_id) "
        "SELECT CONCAT('village_payable:', id), 'liability', CONCAT('应付', name), "
        "       CONCAT('Payable to ', code), id FROM villages WHERE id = ?";
  } else if (prefix == "cash_drawer") {
    query =
        "INSERT IGNORE INTO ledger_accounts (code, kind, name, name_en, register_id) "
        "SELECT CONCAT('cash_drawer:', id), 'asset', CONCAT(name, '钱箱'), "
        "       CONCAT('Cash drawer ', id), id FROM registers WHERE id = ?";
  } else {
    return;
  }
  auto& statement = unit.statement(query);
  statement.setInt64(1, id);
  statement.executeUpdate();
}

std::int64_t post_entry(UnitOfWork& unit, const std::string& kind, std::int64_t document_id,
                        const std::string& business_day, std::span<const domain::Posting> postings,
                        const std::string& memo) {
  if (postings.empty() || !domain::balances(postings))
    throw Error(ErrorCode::internal, "internal error", {},
                "journal entry " + kind + " " + std::to_string(document_id) + " does not balance");
  auto& entry = unit.statement(
      "INSERT INTO journal_entries (kind, document_id, business_day, memo) VALUES (?, ?, ?, ?) "
      "RETURNING id");
  entry.setString(1, kind);
  entry.setInt64(2, document_id);
  entry.setString(3, business_day);
  entry.setString(4, memo);
  const std::int64_t entry_id = [&] {
    std::unique_ptr<sql::ResultSet> row(entry.executeQuery());
    row->next();
    return row->getInt64(1);
  }();
  if (insert_postings(unit, entry_id, postings) == static_cast<int>(postings.size()))
    return entry_id;
  // Some account did not exist yet (a new village or register): create it and post again.
  auto& undo = unit.statement("DELETE FROM postings WHERE entry_id = ?");
  undo.setInt64(1, entry_id);
  undo.executeUpdate();
  for (const auto& posting : postings)
    open_account(unit, posting.account);
  if (insert_postings(unit, entry_id, postings) != static_cast<int>(postings.size()))
    throw Error(ErrorCode::internal, "internal error", {},
                "journal entry " + kind + " " + std::to_string(document_id) +
                    " posts to an account that does not exist");
  return entry_id;
}

std::int64_t account_balance(UnitOfWork& unit, const std::string& code) {
  auto& statement = unit.statement(
      "SELECT COALESCE(SUM(p.amount_fen), 0) FROM postings p "
      "JOIN ledger_accounts a ON a.id = p.account_id WHERE a.code = ?");
  statement.setString(1, code);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  rows->next();
  return rows->getInt64(1);
}

std::vector<std::string> unbalanced_entries(UnitOfWork& unit) {
  return lines_of(unit,
                  "SELECT CONCAT('entry ', e.id, ' (', e.kind, ' ', e.document_id, '): sum ', "
                  "              COALESCE(SUM(p.amount_fen), 0), ', postings ', COUNT(p.id)) "
                  "FROM journal_entries e LEFT JOIN postings p ON p.entry_id = e.id "
                  "GROUP BY e.id HAVING COALESCE(SUM(p.amount_fen), 0) <> 0 OR COUNT(p.id) = 0 "
                  "ORDER BY e.id LIMIT 1000");
}

std::vector<std::string> village_payable_differences(UnitOfWork& unit) {
  // The payable is a liability: credits (negative) are what the station owes.
  return lines_of(
      unit,
      "SELECT CONCAT('village ', v.id, ': payable ', -COALESCE(pay.balance, 0), ', shares ', "
      "              COALESCE(s.shares, 0) + COALESCE(o.shares, 0) - COALESCE(r.shares, 0) "
      "              - COALESCE(orf.shares, 0)) "
      "FROM villages v "
      "LEFT JOIN (SELECT a.village_id, SUM(p.amount_fen) AS balance FROM postings p "
      "           JOIN ledger_accounts a ON a.id = p.account_id "
      // Adjustments and payouts are checked against their own tables (store/settlements).
      "           JOIN journal_entries e ON e.id = p.entry_id "
      "           WHERE a.village_id IS NOT NULL AND e.kind NOT IN ('adjustment', 'payout') "
      "           GROUP BY a.village_id) pay "
      "  ON pay.village_id = v.id "
      "LEFT JOIN (SELECT village_id, SUM(share_fen) AS shares FROM sale_lines "
      "           GROUP BY village_id) s ON s.village_id = v.id "
      "LEFT JOIN (SELECT l.village_id, SUM(rl.share_fen) AS shares FROM refund_lines rl "
      "           JOIN sale_lines l ON l.id = rl.sale_line_id GROUP BY l.village_id) r "
      "  ON r.village_id = v.id "
      // Online orders owe their shares once paid (online, or in cash at handover), less what
      // their refunds gave back; a payment that came when the goods were gone owes nothing.
      "LEFT JOIN (SELECT l.village_id, SUM(l.share_fen) AS shares FROM order_lines l "
      "           JOIN orders o ON o.id = l.order_id "
      "           WHERE o.paid_fen > 0 AND o.unsold_payment = 0 "
      "           GROUP BY l.village_id) o ON o.village_id = v.id "
      "LEFT JOIN (SELECT l.village_id, SUM(rl.share_fen) AS shares FROM order_refund_lines rl "
      "           JOIN order_refunds rf ON rf.id = rl.refund_id AND rf.state = 'succeeded' "
      "           JOIN order_lines l ON l.id = rl.order_line_id GROUP BY l.village_id) orf "
      "  ON orf.village_id = v.id "
      "WHERE -COALESCE(pay.balance, 0) <> COALESCE(s.shares, 0) + COALESCE(o.shares, 0) "
      "      - COALESCE(r.shares, 0) - COALESCE(orf.shares, 0) "
      "ORDER BY v.id");
}

std::vector<std::string> order_reservation_differences(UnitOfWork& unit) {
  // An order holding its reservation holds its lines less what refunds released.
  return lines_of(
      unit,
      "SELECT CONCAT('order ', o.number, ' (', o.state, '): reserved ', COALESCE(m.q, 0), "
      "              ', should be ', IF(o.state IN ('pending_payment', 'confirmed', 'paid', "
      "              'picking', 'ready'), l.q - COALESCE(rel.q, 0), 0)) "
      "FROM orders o "
      "JOIN (SELECT order_id, SUM(quantity) AS q FROM order_lines GROUP BY order_id) l "
      "  ON l.order_id = o.id "
      "LEFT JOIN (SELECT document_id, SUM(quantity) AS q FROM stock_moves "
      "           WHERE document_kind = 'order' AND kind IN ('reserve', 'release') "
      "           GROUP BY document_id) m ON m.document_id = o.id "
      "LEFT JOIN (SELECT rf.order_id, SUM(rl.quantity) AS q FROM order_refund_lines rl "
      "           JOIN order_refunds rf ON rf.id = rl.refund_id "
      "           WHERE rf.state = 'succeeded' AND rl.stock = 'release' GROUP BY rf.order_id) rel "
      "  ON rel.order_id = o.id "
      "WHERE COALESCE(m.q, 0) <> IF(o.state IN ('pending_payment', 'confirmed', 'paid', "
      "      'picking', 'ready'), l.q - COALESCE(rel.q, 0), 0) ORDER BY o.id LIMIT 1000");
}

std::vector<std::string> order_refund_differences(UnitOfWork& unit) {
  // Per order: refunded_fen is what its succeeded refunds paid back, never more than paid;
  // each succeeded refund's lines and fee make its amount, and it has one journal entry of
  // that amount out of the tender (the sum of its postings' credits).
  return lines_of(
      unit,
      "SELECT CONCAT('order ', o.number, ': refunded_fen ', o.refunded_fen, ', its refunds ', "
      "              COALESCE(r.amount, 0), ', paid ', o.paid_fen) "
      "FROM orders o LEFT JOIN (SELECT order_id, SUM(amount_fen) AS amount FROM order_refunds "
      "                         WHERE state = 'succeeded' GROUP BY order_id) r "
      "  ON r.order_id = o.id "
      "WHERE o.refunded_fen <> COALESCE(r.amount, 0) OR o.refunded_fen > o.paid_fen "
      "UNION ALL "
      "SELECT CONCAT('refund ', rf.out_refund_no, ': amount ', rf.amount_fen, ', lines ', "
      "              COALESCE(x.gross, 0), ' + fee ', rf.delivery_fee_fen) "
      "FROM order_refunds rf LEFT JOIN (SELECT refund_id, SUM(gross_fen) AS gross "
      "                                 FROM order_refund_lines GROUP BY refund_id) x "
      "  ON x.refund_id = rf.id "
      "WHERE rf.unsold = 0 AND rf.amount_fen <> COALESCE(x.gross, 0) + rf.delivery_fee_fen "
      "UNION ALL "
      "SELECT CONCAT('refund ', rf.out_refund_no, ' (', rf.state, '): journal ', "
      "              COALESCE(j.credits, 0), ', amount ', IF(rf.state = 'succeeded', "
      "              rf.amount_fen, 0)) "
      "FROM order_refunds rf LEFT JOIN (SELECT e.document_id, "
      "                                 -SUM(LEAST(p.amount_fen, 0)) AS credits "
      "                                 FROM journal_entries e JOIN postings p ON p.entry_id = "
      "e.id "
      "                                 WHERE e.kind = 'order_refund' GROUP BY e.document_id) j "
      "  ON j.document_id = rf.id "
      "WHERE COALESCE(j.credits, 0) <> IF(rf.state = 'succeeded', rf.amount_fen, 0) "
      "LIMIT 1000");
}

std::vector<std::string> unsold_payment_differences(UnitOfWork& unit) {
  // Payments held for refund (order_refunds_due) = unsold payments not yet paid back plus
  // surplus payments (a second trade of an order paid too) not yet returned. Each surplus or
  // returned payment has its surplus_payment entry of its amount, each returned one its
  // surplus_return entry, and no other payment has either.
  return lines_of(
      unit,
      "SELECT CONCAT('order payments held for refund ', held, ', unsold payments not refunded ', "
      "              owed, ' + surplus payments not returned ', surplus) "
      "FROM (SELECT (SELECT -COALESCE(SUM(p.amount_fen), 0) FROM postings p "
      "              JOIN ledger_accounts a ON a.id = p.account_id "
      "              WHERE a.code = 'order_refunds_due') AS held, "
      "             (SELECT COALESCE(SUM(paid_fen - refunded_fen), 0) FROM orders "
      "              WHERE unsold_payment = 1) AS owed, "
      "             (SELECT COALESCE(SUM(amount_fen), 0) FROM order_payments "
      "              WHERE state = 'surplus') AS surplus) x "
      "WHERE held <> owed + surplus "
      "UNION ALL "
      "SELECT CONCAT('payment ', op.out_trade_no, ' (', op.state, '): ', k.kind, ' entries ', "
      "              COUNT(DISTINCT e.id), ' of ', COALESCE(SUM(GREATEST(p.amount_fen, 0)), 0), "
      "              ', amount ', op.amount_fen) "
      "FROM order_payments op "
      "JOIN (SELECT 'surplus_payment' AS kind UNION ALL SELECT 'surplus_return') k "
      "LEFT JOIN journal_entries e ON e.kind = k.kind AND e.document_id = op.id "
      "LEFT JOIN postings p ON p.entry_id = e.id "
      "GROUP BY op.id, op.out_trade_no, op.state, op.amount_fen, k.kind "
      "HAVING COUNT(DISTINCT e.id) <> IF(op.state = 'returned' OR "
      "                                  (op.state = 'surplus' AND k.kind = 'surplus_payment'), 1, "
      "0) "
      "    OR (COUNT(DISTINCT e.id) = 1 AND SUM(GREATEST(p.amount_fen, 0)) <> op.amount_fen) "
      "LIMIT 1000");
}

std::vector<std::string> sales_not_covered_by_tenders(UnitOfWork& unit) {
  return lines_of(
      unit,
      "SELECT CONCAT('sale ', number, ': total ', total_fen, ', tenders ', paid) "
      "FROM (SELECT s.id, s.number, s.total_fen, COALESCE(SUM(t.amount_fen), 0) AS paid "
      "      FROM sales s LEFT JOIN sale_tenders t ON t.sale_id = s.id "
      "      GROUP BY s.id, s.number, s.total_fen) x "
      "WHERE paid <> total_fen ORDER BY id LIMIT 1000");
}

}  // namespace yizhan::store
