// The manager's reports in MariaDB: sums over the frozen lines (sale_lines, refund_lines,
// order_lines, order_refund_lines) reached through the business-day indexes, counted as the
// village portal (store/village_reports.cpp) and the settlements count them.
#include "yizhan/store/reports.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <map>
#include <memory>

#include "yizhan/store/database.hpp"

namespace yizhan::store {
namespace {

using Rows = std::unique_ptr<sql::ResultSet>;

/// The group key of each SalesGroup (a closed set of SQL expressions: never a client's text).
/// `x` is the part's dated row (sale, refund or journal entry), `l` the frozen line, `p` the
/// product (joined only for the category).
const char* key_expression(domain::SalesGroup group) {
  switch (group) {
    case domain::SalesGroup::day: return "CAST(x.business_day AS CHAR)";
    case domain::SalesGroup::month: return "DATE_FORMAT(x.business_day, '%Y-%m')";
    case domain::SalesGroup::village: return "CAST(l.village_id AS CHAR)";
    case domain::SalesGroup::product: return "CAST(l.product_id AS CHAR)";
    case domain::SalesGroup::category: return "CAST(p.category_id AS CHAR)";
    case domain::SalesGroup::channel:
    case domain::SalesGroup::method: return "''";
  }
  return "''";
}

/// The four parts (each WITH ROLLUP, so that its distinct sales are counted once in its total
/// row, not once per group): counter sales by their day, counter refunds by theirs, online orders
/// by the day of their one order_payment entry (unless the goods were gone), online refunds by the
/// day of their order_refund entry (sql/012's ix_journal_entries_kind_day finds both).
std::string sales_query(domain::SalesGroup group) {
  const std::string key = key_expression(group);
  const std::string product =
      group == domain::SalesGroup::category ? " JOIN products p ON p.id = l.product_id " : " ";
  std::string query;
  query += "SELECT " + key + " AS k, 'counter', 0" +
           ", SUM(l.gross_fen), SUM(l.fee_fen), SUM(l.share_fen), "
           "SUM(IF(l.unit = 'piece', l.quantity, 0)), SUM(IF(l.unit = 'g', l.quantity, 0)), "
           "COUNT(DISTINCT x.id) "
           "FROM sales x JOIN sale_lines l ON l.sale_id = x.id" +
           product + "WHERE x.business_day BETWEEN ? AND ? GROUP BY 1 WITH ROLLUP ";
  query += "UNION ALL SELECT " + key + ", 'counter', 1" +
           ", SUM(rl.gross_fen), SUM(rl.fee_fen), SUM(rl.share_fen), "
           "SUM(IF(l.unit = 'piece', rl.quantity, 0)), SUM(IF(l.unit = 'g', rl.quantity, 0)), "
           "COUNT(DISTINCT x.id) "
           "FROM refunds x JOIN refund_lines rl ON rl.refund_id = x.id "
           "JOIN sale_lines l ON l.id = rl.sale_line_id" +
           product + "WHERE x.business_day BETWEEN ? AND ? GROUP BY 1 WITH ROLLUP ";
  query +=
      "UNION ALL SELECT " + key + ", 'online', 0" +
      ", SUM(l.gross_fen), SUM(l.fee_fen), SUM(l.share_fen), "
      "SUM(IF(l.unit = 'piece', l.quantity, 0)), SUM(IF(l.unit = 'g', l.quantity, 0)), "
      "COUNT(DISTINCT x.document_id) "
      "FROM journal_entries x JOIN orders o ON o.id = x.document_id AND o.unsold_payment = 0 "
      "JOIN order_lines l ON l.order_id = o.id" +
      product +
      "WHERE x.kind = 'order_payment' AND x.business_day BETWEEN ? AND ? GROUP BY 1 WITH ROLLUP ";
  query +=
      "UNION ALL SELECT " + key + ", 'online', 1" +
      ", SUM(rl.gross_fen), SUM(rl.fee_fen), SUM(rl.share_fen), "
      "SUM(IF(l.unit = 'piece', rl.quantity, 0)), SUM(IF(l.unit = 'g', rl.quantity, 0)), "
      "COUNT(DISTINCT x.document_id) "
      "FROM journal_entries x JOIN order_refund_lines rl ON rl.refund_id = x.document_id "
      "JOIN order_lines l ON l.id = rl.order_line_id" +
      product +
      "WHERE x.kind = 'order_refund' AND x.business_day BETWEEN ? AND ? GROUP BY 1 WITH ROLLUP";
  return query;
}

constexpr const char* kMethods =
    "SELECT t.method, 'counter', 0, SUM(t.amount_fen), COUNT(DISTINCT x.id) "
    "FROM sales x JOIN sale_tenders t ON t.sale_id = x.id "
    "WHERE x.business_day BETWEEN ? AND ? GROUP BY t.method "
    "UNION ALL "
    "SELECT x.method, 'counter', 1, SUM(x.total_fen), COUNT(*) FROM refunds x "
    "WHERE x.business_day BETWEEN ? AND ? GROUP BY x.method "
    "UNION ALL "
    // Cash on pickup is cash into the drawer.
    "SELECT IF(o.payment_method = 'cash_on_pickup', 'cash', o.payment_method), 'online', 0, "
    "       SUM(o.subtotal_fen), COUNT(*) "
    "FROM journal_entries x JOIN orders o ON o.id = x.document_id AND o.unsold_payment = 0 "
    "WHERE x.kind = 'order_payment' AND x.business_day BETWEEN ? AND ? GROUP BY 1 "
    "UNION ALL "
    "SELECT r.method, 'online', 1, SUM(r.goods_fen), COUNT(*) "
    "FROM journal_entries x JOIN order_refunds r ON r.id = x.document_id AND r.unsold = 0 "
    "WHERE x.kind = 'order_refund' AND x.business_day BETWEEN ? AND ? GROUP BY r.method";

void bind_parts(sql::PreparedStatement& statement, int parts, const std::string& from,
                const std::string& to) {
  for (int part = 0; part < parts; ++part) {
    statement.setString(part * 2 + 1, from);
    statement.setString(part * 2 + 2, to);
  }
}

domain::Channel channel_of(const sql::SQLString& text) {
  return domain::parse_channel(std::string(text)).value_or(domain::Channel::counter);
}

}  // namespace

std::vector<SalesGroupRow> sales_by_group(UnitOfWork& unit, domain::SalesGroup group,
                                          const std::string& from, const std::string& to) {
  // One prepared statement per group, kept by the connection like any other.
  static const std::map<domain::SalesGroup, std::string> kQueries = [] {
    std::map<domain::SalesGroup, std::string> queries;
    for (const auto group :
         {domain::SalesGroup::day, domain::SalesGroup::month, domain::SalesGroup::village,
          domain::SalesGroup::product, domain::SalesGroup::category, domain::SalesGroup::channel})
      queries.emplace(group, sales_query(group));
    return queries;
  }();
  const auto found = kQueries.find(group);
  auto& statement = unit.statement(found != kQueries.end() ? found->second
                                                           : kQueries.at(domain::SalesGroup::day));
  bind_parts(statement, 4, from, to);
  Rows rows(statement.executeQuery());
  std::vector<SalesGroupRow> out;
  while (rows->next()) {
    SalesGroupRow row;
    // WITH ROLLUP: each part ends with its total, whose key is NULL.
    row.total = rows->isNull(1);
    if (!row.total) row.key = rows->getString(1);
    row.channel = channel_of(rows->getString(2));
    row.refund = rows->getInt(3) != 0;
    row.gross = domain::Fen(rows->getInt64(4));
    row.fee = domain::Fen(rows->getInt64(5));
    row.share = domain::Fen(rows->getInt64(6));
    row.pieces = rows->getInt64(7);
    row.grams = rows->getInt64(8);
    row.count = rows->getInt64(9);
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<MethodRow> sales_by_method(UnitOfWork& unit, const std::string& from,
                                       const std::string& to) {
  auto& statement = unit.statement(kMethods);
  bind_parts(statement, 4, from, to);
  Rows rows(statement.executeQuery());
  std::vector<MethodRow> out;
  while (rows->next()) {
    out.push_back({rows->getString(1), channel_of(rows->getString(2)), rows->getInt(3) != 0,
                   domain::Fen(rows->getInt64(4)), rows->getInt64(5)});
  }
  return out;
}

std::vector<ReportProductRow> report_products(UnitOfWork& unit) {
  auto& statement = unit.statement(
      "SELECT p.id, p.sku, p.name, p.name_en, p.village_id, p.category_id, p.unit, p.price_fen, "
      "       p.active, COALESCE(sl.on_hand, 0), COALESCE(sl.reserved, 0) "
      "FROM products p LEFT JOIN stock_levels sl ON sl.product_id = p.id ORDER BY p.id");
  Rows rows(statement.executeQuery());
  std::vector<ReportProductRow> out;
  while (rows->next()) {
    ReportProductRow row;
    row.id = rows->getInt64(1);
    row.sku = rows->getString(2);
    row.name = rows->getString(3);
    row.name_en = rows->getString(4);
    row.village_id = rows->getInt64(5);
    row.category_id = rows->getInt64(6);
    row.unit = domain::parse_unit(std::string(rows->getString(7))).value_or(domain::Unit::piece);
    row.price = domain::Fen(rows->getInt64(8));
    row.active = rows->getBoolean(9);
    row.on_hand = rows->getInt64(10);
    row.reserved = rows->getInt64(11);
    out.push_back(std::move(row));
  }
  return out;
}

namespace {

std::vector<NamedRow> named_rows(UnitOfWork& unit, const char* query) {
  auto& statement = unit.statement(query);
  Rows rows(statement.executeQuery());
  std::vector<NamedRow> out;
  while (rows->next())
    out.push_back({rows->getInt64(1), rows->getString(2), rows->getString(3), rows->getString(4)});
  return out;
}

}  // namespace

std::vector<NamedRow> report_villages(UnitOfWork& unit) {
  return named_rows(unit, "SELECT id, code, name, name_en FROM villages ORDER BY id");
}

std::vector<NamedRow> report_categories(UnitOfWork& unit) {
  return named_rows(unit, "SELECT id, code, name, name_en FROM categories ORDER BY sort_order, id");
}

std::vector<ReportLotRow> lots_expiring(UnitOfWork& unit, const std::string& until) {
  auto& statement = unit.statement(
      "SELECT lt.id, lt.product_id, lt.lot, lt.expires_on, lt.remaining FROM stock_lots lt "
      "WHERE lt.expires_on <= ? AND lt.remaining > 0 ORDER BY lt.expires_on, lt.id");
  statement.setString(1, until);
  Rows rows(statement.executeQuery());
  std::vector<ReportLotRow> out;
  while (rows->next()) {
    out.push_back({rows->getInt64(1), rows->getInt64(2), rows->getString(3), rows->getString(4),
                   rows->getInt64(5)});
  }
  return out;
}

}  // namespace yizhan::store
