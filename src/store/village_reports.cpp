// What a village sees of its business, in MariaDB: sums over the frozen lines (sale_lines,
// refund_lines, order_lines, order_refund_lines), each part reached through an index on the
// business day.
#include "yizhan/store/village_reports.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "yizhan/store/database.hpp"

namespace yizhan::store {
namespace {

// Counter sales by their day (ix_sales_day), counter refunds by the refund's day (ix_refunds_day)
// and online orders by the day they were paid: their one order_payment journal entry
// (ix_journal_entries_kind_day, sql/012). Lines keep the village, gross, fee and share of the
// moment they were sold; a refund line the exact parts it gave back.
constexpr const char* kRevenue =
    "SELECT s.business_day, l.product_id, 'counter', 0, l.unit, SUM(l.gross_fen), "
    "       SUM(l.fee_fen), SUM(l.share_fen), SUM(l.quantity) "
    "FROM sales s JOIN sale_lines l ON l.sale_id = s.id "
    "WHERE s.business_day BETWEEN ? AND ? AND l.village_id = ? "
    "GROUP BY s.business_day, l.product_id, l.unit "
    "UNION ALL "
    "SELECT r.business_day, l.product_id, 'counter', 1, l.unit, SUM(rl.gross_fen), "
    "       SUM(rl.fee_fen), SUM(rl.share_fen), SUM(rl.quantity) "
    "FROM refunds r JOIN refund_lines rl ON rl.refund_id = r.id "
    "JOIN sale_lines l ON l.id = rl.sale_line_id "
    "WHERE r.business_day BETWEEN ? AND ? AND l.village_id = ? "
    "GROUP BY r.business_day, l.product_id, l.unit "
    "UNION ALL "
    "SELECT e.business_day, l.product_id, 'online', 0, l.unit, SUM(l.gross_fen), "
    "       SUM(l.fee_fen), SUM(l.share_fen), SUM(l.quantity) "
    "FROM journal_entries e JOIN order_lines l ON l.order_id = e.document_id "
    "JOIN orders o ON o.id = e.document_id AND o.unsold_payment = 0 "
    "WHERE e.kind = 'order_payment' AND e.business_day BETWEEN ? AND ? AND l.village_id = ? "
    "GROUP BY e.business_day, l.product_id, l.unit "
    "UNION ALL "
    // Online refunds by the day they succeeded: their one order_refund journal entry.
    "SELECT e.business_day, l.product_id, 'online', 1, l.unit, SUM(rl.gross_fen), "
    "       SUM(rl.fee_fen), SUM(rl.share_fen), SUM(rl.quantity) "
    "FROM journal_entries e JOIN order_refund_lines rl ON rl.refund_id = e.document_id "
    "JOIN order_lines l ON l.id = rl.order_line_id "
    "WHERE e.kind = 'order_refund' AND e.business_day BETWEEN ? AND ? AND l.village_id = ? "
    "GROUP BY e.business_day, l.product_id, l.unit";

constexpr const char* kSalesCounts =
    "SELECT s.business_day, 'counter', COUNT(DISTINCT s.id) "
    "FROM sales s JOIN sale_lines l ON l.sale_id = s.id "
    "WHERE s.business_day BETWEEN ? AND ? AND l.village_id = ? "
    "GROUP BY s.business_day "
    "UNION ALL "
    "SELECT e.business_day, 'online', COUNT(DISTINCT e.document_id) "
    "FROM journal_entries e JOIN order_lines l ON l.order_id = e.document_id "
    "JOIN orders o ON o.id = e.document_id AND o.unsold_payment = 0 "
    "WHERE e.kind = 'order_payment' AND e.business_day BETWEEN ? AND ? AND l.village_id = ? "
    "GROUP BY e.business_day";

void bind_period(sql::PreparedStatement& statement, int parts, std::int64_t village_id,
                 const std::string& from, const std::string& to) {
  for (int part = 0; part < parts; ++part) {
    statement.setString(part * 3 + 1, from);
    statement.setString(part * 3 + 2, to);
    statement.setInt64(part * 3 + 3, village_id);
  }
}

domain::Unit unit_of(const sql::SQLString& text) {
  return domain::parse_unit(std::string(text)).value_or(domain::Unit::piece);
}

}  // namespace

std::vector<RevenueRow> village_revenue(UnitOfWork& unit, std::int64_t village_id,
                                        const std::string& from, const std::string& to) {
  auto& statement = unit.statement(kRevenue);
  bind_period(statement, 4, village_id, from, to);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  std::vector<RevenueRow> out;
  while (rows->next()) {
    RevenueRow row;
    row.day = rows->getString(1);
    row.product_id = rows->getInt64(2);
    row.lines.channel =
        domain::parse_channel(std::string(rows->getString(3))).value_or(domain::Channel::counter);
    row.lines.refund = rows->getInt(4) != 0;
    row.lines.unit = unit_of(rows->getString(5));
    row.lines.gross = domain::Fen(rows->getInt64(6));
    row.lines.fee = domain::Fen(rows->getInt64(7));
    row.lines.share = domain::Fen(rows->getInt64(8));
    row.lines.quantity = rows->getInt64(9);
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<SalesCountRow> village_sales_counts(UnitOfWork& unit, std::int64_t village_id,
                                                const std::string& from, const std::string& to) {
  auto& statement = unit.statement(kSalesCounts);
  bind_period(statement, 2, village_id, from, to);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  std::vector<SalesCountRow> out;
  while (rows->next()) {
    out.push_back(
        {rows->getString(1),
         domain::parse_channel(std::string(rows->getString(2))).value_or(domain::Channel::counter),
         rows->getInt64(3)});
  }
  return out;
}

std::vector<VillageProductRow> village_products(UnitOfWork& unit, std::int64_t village_id) {
  auto& statement = unit.statement(
      "SELECT p.id, p.name, p.name_en, p.unit, p.active, p.low_stock, "
      "       COALESCE(sl.on_hand, 0), COALESCE(sl.reserved, 0), "
      "       (SELECT MIN(lt.expires_on) FROM stock_lots lt "
      "        WHERE lt.product_id = p.id AND lt.remaining > 0) "
      "FROM products p LEFT JOIN stock_levels sl ON sl.product_id = p.id "
      "WHERE p.village_id = ? "
      "ORDER BY p.id");
  statement.setInt64(1, village_id);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  std::vector<VillageProductRow> out;
  while (rows->next()) {
    VillageProductRow row;
    row.id = rows->getInt64(1);
    row.name = rows->getString(2);
    row.name_en = rows->getString(3);
    row.unit = unit_of(rows->getString(4));
    row.active = rows->getBoolean(5);
    if (!rows->isNull(6)) row.low_stock = rows->getInt64(6);
    row.on_hand = rows->getInt64(7);
    row.reserved = rows->getInt64(8);
    if (!rows->isNull(9)) row.next_expiry = std::string(rows->getString(9));
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<VillageLotRow> village_lots_expiring(UnitOfWork& unit, std::int64_t village_id,
                                                 const std::string& until) {
  auto& statement = unit.statement(
      "SELECT lt.id, lt.product_id, lt.lot, lt.expires_on, lt.remaining "
      "FROM products p JOIN stock_lots lt ON lt.product_id = p.id "
      "WHERE p.village_id = ? AND lt.expires_on <= ? AND lt.remaining > 0 "
      "ORDER BY lt.expires_on, lt.id");
  statement.setInt64(1, village_id);
  statement.setString(2, until);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  std::vector<VillageLotRow> out;
  while (rows->next()) {
    out.push_back({rows->getInt64(1), rows->getInt64(2), rows->getString(3), rows->getString(4),
                   rows->getInt64(5)});
  }
  return out;
}

}  // namespace yizhan::store
