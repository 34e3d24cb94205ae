// Settlements in MariaDB: drafts copy the village's unsettled lines, confirmation settles them
// (the unique key on settled lines refuses a line in two confirmed settlements), payouts and
// adjustments; and the checks of `yizhan check` over them.
#include "yizhan/store/settlements.hpp"

#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <bit>
#include <map>
#include <memory>

#include "rows.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::store {
namespace {

using domain::Error;
using domain::ErrorCode;
using domain::Fen;

// Not yet in any confirmed settlement: the unique key (line_kind, line_id, settled) serves it.
#define YZ_UNSETTLED(kind, id)                                               \
  " NOT EXISTS (SELECT 1 FROM settlement_lines x WHERE x.line_kind = '" kind \
  "' AND x.line_id = " id " AND x.settled = 1) "

// Columns: kind, line id, business day, document, description, unit, quantity, gross, fee,
// share. Parameters: (village, last day) five times.
constexpr const char* kUnsettledLines =
    "SELECT 'sale', l.id, s.business_day, s.number, l.name, l.unit, l.quantity, l.gross_fen, "
    "       l.fee_fen, l.share_fen "
    "FROM sale_lines l JOIN sales s ON s.id = l.sale_id "
    "WHERE l.village_id = ? AND s.business_day <= ? AND" YZ_UNSETTLED("sale", "l.id")
    "UNION ALL "
    "SELECT 'refund', rl.id, r.business_day, CONCAT('R', r.id, ' ', s.number), l.name, l.unit, "
    "       -rl.quantity, -rl.gross_fen, -rl.fee_fen, -rl.share_fen "
    "FROM refund_lines rl JOIN refunds r ON r.id = rl.refund_id "
    "JOIN sale_lines l ON l.id = rl.sale_line_id JOIN sales s ON s.id = l.sale_id "
    "WHERE l.village_id = ? AND r.business_day <= ? AND" YZ_UNSETTLED("refund", "rl.id")
    "UNION ALL "
    // An online order owes its shares from the day it was paid (its order_payment entry).
    "SELECT 'order', y.id, y.day, y.number, y.name, y.unit, y.quantity, y.gross_fen, y.fee_fen, "
    "       y.share_fen "
    "FROM (SELECT l.id, o.number, l.name, l.unit, l.quantity, l.gross_fen, l.fee_fen, "
    "             l.share_fen, (SELECT MIN(e.business_day) FROM journal_entries e "
    "                           WHERE e.kind = 'order_payment' AND e.document_id = o.id) AS day "
    "      FROM order_lines l JOIN orders o ON o.id = l.order_id "
    "      WHERE l.village_id = ? AND o.paid_fen > 0 AND o.unsold_payment = 0 AND"
    YZ_UNSETTLED("order", "l.id") ") y "
    "WHERE y.day <= ? "
    "UNION ALL "
    // An online refund gives back its shares from the day it succeeded (its order_refund entry).
    "SELECT 'order_refund', rl.id, e.business_day, rf.out_refund_no, l.name, l.unit, "
    "       -rl.quantity, -rl.gross_fen, -rl.fee_fen, -rl.share_fen "
    "FROM order_refund_lines rl "
    "JOIN order_refunds rf ON rf.id = rl.refund_id AND rf.state = 'succeeded' "
    "JOIN order_lines l ON l.id = rl.order_line_id JOIN orders o ON o.id = l.order_id "
    "JOIN journal_entries e ON e.kind = 'order_refund' AND e.document_id = rf.id "
    "WHERE l.village_id = ? AND e.business_day <= ? AND" YZ_UNSETTLED("order_refund", "rl.id")
    "UNION ALL "
    "SELECT 'adjustment', a.id, a.business_day, CONCAT('A', a.id), a.reason, NULL, 0, "
    "       a.amount_fen, 0, a.amount_fen "
    "FROM village_adjustments a "
    "WHERE a.village_id = ? AND a.business_day <= ? AND" YZ_UNSETTLED("adjustment", "a.id")
    "ORDER BY 3, 2";

#undef YZ_UNSETTLED

constexpr const char* kSettlementColumns =
    "SELECT s.id, s.village_id, v.name, v.code, s.period_from, s.period_to, s.state, "
    "       s.line_count, s.sales_gross_fen, s.sales_fee_fen, s.sales_share_fen, "
    "       s.refund_gross_fen, s.refund_fee_fen, s.refund_share_fen, s.adjustments_fen, "
    "       s.total_fen, s.created_by, s.created_at, s.confirmed_by, s.confirmed_at "
    "FROM settlements s JOIN villages v ON v.id = s.village_id ";

constexpr const char* kLineColumns =
    "SELECT line_kind, line_id, business_day, document, description, unit, quantity, gross_fen, "
    "       fee_fen, share_fen FROM settlement_lines ";

/// The most lines one INSERT writes; smaller groups are powers of two, so that a unit of work
/// prepares at most eight texts whatever the number of lines.
constexpr std::size_t kMaxInsertRows = 128;

domain::StatementLine read_line(sql::ResultSet& row) {
  domain::StatementLine line;
  line.kind = domain::parse_statement_line_kind(std::string(row.getString(1)))
                  .value_or(domain::StatementLineKind::sale);
  line.line_id = row.getInt64(2);
  line.business_day = row.getString(3);
  line.document = row.getString(4);
  line.description = row.getString(5);
  if (!row.isNull(6)) line.unit = domain::parse_unit(std::string(row.getString(6)));
  line.quantity = row.getInt64(7);
  line.gross = Fen(row.getInt64(8));
  line.fee = Fen(row.getInt64(9));
  line.share = Fen(row.getInt64(10));
  return line;
}

SettlementRecord read_settlement(sql::ResultSet& row) {
  SettlementRecord s;
  s.id = row.getInt64(1);
  s.village_id = row.getInt64(2);
  s.village_name = row.getString(3);
  s.village_code = row.getString(4);
  s.period_from = row.getString(5);
  s.period_to = row.getString(6);
  s.state = row.getString(7);
  s.totals.line_count = row.getInt64(8);
  s.totals.sales_gross = Fen(row.getInt64(9));
  s.totals.sales_fee = Fen(row.getInt64(10));
  s.totals.sales_share = Fen(row.getInt64(11));
  s.totals.refund_gross = Fen(row.getInt64(12));
  s.totals.refund_fee = Fen(row.getInt64(13));
  s.totals.refund_share = Fen(row.getInt64(14));
  s.totals.adjustments = Fen(row.getInt64(15));
  s.totals.total = Fen(row.getInt64(16));
  s.created_by = optional_int64(row, 17);
  s.created_at_us = micros(row, 18);
  s.confirmed_by = optional_int64(row, 19);
  if (!row.isNull(20)) s.confirmed_at_us = micros(row, 20);
  return s;
}

void insert_lines(UnitOfWork& unit, std::int64_t settlement_id,
                  const std::vector<domain::StatementLine>& lines) {
  std::size_t done = 0;
  while (done < lines.size()) {
    const std::size_t rows = std::bit_floor(std::min(kMaxInsertRows, lines.size() - done));
    auto& statement = unit.statement(
        "INSERT INTO settlement_lines (settlement_id, line_kind, line_id, business_day, document, "
        "description, unit, quantity, gross_fen, fee_fen, share_fen) VALUES " +
        value_rows(rows, 11));
    int index = 1;
    for (std::size_t i = done; i < done + rows; ++i) {
      const auto& line = lines[i];
      statement.setInt64(index++, settlement_id);
      statement.setString(index++, std::string(domain::to_string(line.kind)));
      statement.setInt64(index++, line.line_id);
      statement.setString(index++, line.business_day);
      statement.setString(index++, line.document);
      statement.setString(index++, line.description);
      if (line.unit) {
        statement.setString(index++, std::string(domain::to_string(*line.unit)));
      } else {
        statement.setNull(index++, 0);
      }
      statement.setInt64(index++, line.quantity);
      statement.setInt64(index++, line.gross.value());
      statement.setInt64(index++, line.fee.value());
      statement.setInt64(index++, line.share.value());
    }
    statement.executeUpdate();
    done += rows;
  }
}

PayoutRecord read_payout(sql::ResultSet& row) {
  PayoutRecord p;
  p.id = row.getInt64(1);
  p.settlement_id = row.getInt64(2);
  p.village_id = row.getInt64(3);
  p.amount_fen = row.getInt64(4);
  p.method = row.getString(5);
  p.reference = row.getString(6);
  p.paid_on = row.getString(7);
  p.created_by = optional_int64(row, 8);
  p.created_at_us = micros(row, 9);
  return p;
}

constexpr const char* kAdjustmentColumns =
    "SELECT a.id, a.village_id, a.amount_fen, a.reason, a.business_day, a.created_by, "
    "       a.created_at, (SELECT x.settlement_id FROM settlement_lines x "
    "                      WHERE x.line_kind = 'adjustment' AND x.line_id = a.id "
    "                        AND x.settled = 1) "
    "FROM village_adjustments a ";

AdjustmentRecord read_adjustment(sql::ResultSet& row) {
  AdjustmentRecord a;
  a.id = row.getInt64(1);
  a.village_id = row.getInt64(2);
  a.amount_fen = row.getInt64(3);
  a.reason = row.getString(4);
  a.business_day = row.getString(5);
  a.created_by = optional_int64(row, 6);
  a.created_at_us = micros(row, 7);
  a.settlement_id = optional_int64(row, 8);
  return a;
}

}  // namespace

std::vector<domain::StatementLine> unsettled_lines(UnitOfWork& unit, std::int64_t village_id,
                                                   const std::string& to_day) {
  auto& statement = unit.statement(kUnsettledLines);
  for (int part = 0; part < 5; ++part) {
    statement.setInt64(2 * part + 1, village_id);
    statement.setString(2 * part + 2, to_day);
  }
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  std::vector<domain::StatementLine> lines;
  while (rows->next())
    lines.push_back(read_line(*rows));
  return lines;
}

std::optional<std::string> settled_to(UnitOfWork& unit, std::int64_t village_id) {
  auto& statement = unit.statement(
      "SELECT MAX(period_to) FROM settlements WHERE village_id = ? AND state <> 'draft'");
  statement.setInt64(1, village_id);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  if (!rows->next() || rows->isNull(1)) return std::nullopt;
  return std::string(rows->getString(1));
}

std::int64_t insert_settlement(UnitOfWork& unit, std::int64_t village_id,
                               const std::string& period_from, const std::string& period_to,
                               const std::vector<domain::StatementLine>& lines,
                               const domain::SettlementTotals& totals,
                               std::optional<std::int64_t> created_by) {
  auto& statement = unit.statement(
      "INSERT INTO settlements (village_id, period_from, period_to, state, line_count, "
      "sales_gross_fen, sales_fee_fen, sales_share_fen, refund_gross_fen, refund_fee_fen, "
      "refund_share_fen, adjustments_fen, total_fen, created_by) "
      "VALUES (?, ?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  statement.setInt64(1, village_id);
  statement.setString(2, period_from);
  statement.setString(3, period_to);
  statement.setInt64(4, totals.line_count);
  statement.setInt64(5, totals.sales_gross.value());
  statement.setInt64(6, totals.sales_fee.value());
  statement.setInt64(7, totals.sales_share.value());
  statement.setInt64(8, totals.refund_gross.value());
  statement.setInt64(9, totals.refund_fee.value());
  statement.setInt64(10, totals.refund_share.value());
  statement.setInt64(11, totals.adjustments.value());
  statement.setInt64(12, totals.total.value());
  set_optional(statement, 13, created_by);
  const std::int64_t id = [&] {
    std::unique_ptr<sql::ResultSet> row(statement.executeQuery());
    row->next();
    return row->getInt64(1);
  }();
  insert_lines(unit, id, lines);
  return id;
}

std::optional<SettlementRecord> find_settlement(UnitOfWork& unit, std::int64_t id,
                                                bool for_update) {
  auto& statement = unit.statement(std::string(kSettlementColumns) + "WHERE s.id = ?" +
                                   (for_update ? " FOR UPDATE" : ""));
  statement.setInt64(1, id);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  return read_settlement(*rows);
}

std::vector<domain::StatementLine> settlement_lines(UnitOfWork& unit, std::int64_t settlement_id) {
  auto& statement = unit.statement(std::string(kLineColumns) +
                                   "WHERE settlement_id = ? ORDER BY business_day, "
                                   "FIELD(line_kind, 'sale', 'order', 'refund', 'order_refund', "
                                   "'adjustment'), "
                                   "line_id");
  statement.setInt64(1, settlement_id);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  std::vector<domain::StatementLine> lines;
  while (rows->next())
    lines.push_back(read_line(*rows));
  return lines;
}

SettlementPage list_settlements(UnitOfWork& unit, std::optional<std::int64_t> village_id,
                                std::optional<std::string> state, int limit, int offset) {
  constexpr const char* kFilter =
      "WHERE (? IS NULL OR s.village_id = ?) AND (? IS NULL OR s.state = ?) ";
  const auto bind = [&](sql::PreparedStatement& statement) {
    set_optional(statement, 1, village_id);
    set_optional(statement, 2, village_id);
    for (int index : {3, 4}) {
      if (state) {
        statement.setString(index, *state);
      } else {
        statement.setNull(index, 0);
      }
    }
  };
  SettlementPage page;
  auto& list = unit.statement(std::string(kSettlementColumns) + kFilter +
                              "ORDER BY s.id DESC LIMIT ? OFFSET ?");
  bind(list);
  list.setInt(5, limit);
  list.setInt(6, offset);
  {
    std::unique_ptr<sql::ResultSet> rows(list.executeQuery());
    while (rows->next())
      page.items.push_back(read_settlement(*rows));
  }
  auto& count = unit.statement(std::string("SELECT COUNT(*) FROM settlements s ") + kFilter);
  bind(count);
  std::unique_ptr<sql::ResultSet> rows(count.executeQuery());
  rows->next();
  page.total = rows->getInt64(1);
  return page;
}

void confirm_settlement(UnitOfWork& unit, std::int64_t id, std::optional<std::int64_t> by) {
  auto& state = unit.statement(
      "UPDATE settlements SET state = 'confirmed', confirmed_by = ?, "
      "confirmed_at = UTC_TIMESTAMP(6) WHERE id = ? AND state = 'draft'");
  set_optional(state, 1, by);
  state.setInt64(2, id);
  if (state.executeUpdate() != 1)
    throw Error(ErrorCode::internal, "internal error", {},
                "settlement " + std::to_string(id) + " was not a draft when confirmed");
  auto& settle = unit.statement("UPDATE settlement_lines SET settled = 1 WHERE settlement_id = ?");
  settle.setInt64(1, id);
  try {
    settle.executeUpdate();
  } catch (const sql::SQLException& e) {
    if (e.getErrorCode() != 1062) throw;
    // Which line: the statement failed alone, the transaction can still read.
    auto& which = unit.statement(
        "SELECT d.line_kind, d.line_id, x.settlement_id FROM settlement_lines d "
        "JOIN settlement_lines x ON x.line_kind = d.line_kind AND x.line_id = d.line_id "
        "  AND x.settled = 1 AND x.settlement_id <> d.settlement_id "
        "WHERE d.settlement_id = ? ORDER BY d.id LIMIT 1");
    which.setInt64(1, id);
    std::unique_ptr<sql::ResultSet> row(which.executeQuery());
    std::map<std::string, std::string> details;
    if (row->next()) {
      details["line"] = std::string(row->getString(1)) + " " + std::to_string(row->getInt64(2));
      details["settlement_id"] = std::to_string(row->getInt64(3));
    }
    throw Error(ErrorCode::conflict,
                "结算单中有明细已在另一张已确认的结算单中 / a line of this settlement is "
                "already in another confirmed settlement",
                std::move(details), std::string("1062 ") + e.what());
  }
}

void mark_settlement_paid(UnitOfWork& unit, std::int64_t id) {
  auto& statement =
      unit.statement("UPDATE settlements SET state = 'paid' WHERE id = ? AND state = 'confirmed'");
  statement.setInt64(1, id);
  if (statement.executeUpdate() != 1)
    throw Error(ErrorCode::internal, "internal error", {},
                "settlement " + std::to_string(id) + " was not confirmed when paid");
}

std::int64_t insert_payout(UnitOfWork& unit, const PayoutRecord& payout) {
  auto& statement = unit.statement(
      "INSERT INTO settlement_payouts (settlement_id, village_id, amount_fen, method, reference, "
      "paid_on, created_by) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id");
  statement.setInt64(1, payout.settlement_id);
  statement.setInt64(2, payout.village_id);
  statement.setInt64(3, payout.amount_fen);
  statement.setString(4, payout.method);
  statement.setString(5, payout.reference);
  statement.setString(6, payout.paid_on);
  set_optional(statement, 7, payout.created_by);
  std::unique_ptr<sql::ResultSet> row(statement.executeQuery());
  row->next();
  return row->getInt64(1);
}

std::vector<PayoutRecord> list_payouts(UnitOfWork& unit, std::int64_t settlement_id,
                                       bool for_update) {
  auto& statement = unit.statement(
      std::string("SELECT id, settlement_id, village_id, amount_fen, method, reference, paid_on, "
                  "created_by, created_at FROM settlement_payouts WHERE settlement_id = ? "
                  "ORDER BY id") +
      (for_update ? " FOR UPDATE" : ""));
  statement.setInt64(1, settlement_id);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  std::vector<PayoutRecord> out;
  while (rows->next())
    out.push_back(read_payout(*rows));
  return out;
}

std::int64_t insert_adjustment(UnitOfWork& unit, const AdjustmentRecord& adjustment) {
  auto& statement = unit.statement(
      "INSERT INTO village_adjustments (village_id, amount_fen, reason, business_day, "
      "created_by) VALUES (?, ?, ?, ?, ?) RETURNING id");
  statement.setInt64(1, adjustment.village_id);
  statement.setInt64(2, adjustment.amount_fen);
  statement.setString(3, adjustment.reason);
  statement.setString(4, adjustment.business_day);
  set_optional(statement, 5, adjustment.created_by);
  std::unique_ptr<sql::ResultSet> row(statement.executeQuery());
  row->next();
  return row->getInt64(1);
}

std::optional<AdjustmentRecord> find_adjustment(UnitOfWork& unit, std::int64_t id) {
  auto& statement = unit.statement(std::string(kAdjustmentColumns) + "WHERE a.id = ?");
  statement.setInt64(1, id);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  return read_adjustment(*rows);
}

std::vector<AdjustmentRecord> list_adjustments(UnitOfWork& unit, std::int64_t village_id,
                                               int limit) {
  auto& statement = unit.statement(std::string(kAdjustmentColumns) +
                                   "WHERE a.village_id = ? ORDER BY a.id DESC LIMIT ?");
  statement.setInt64(1, village_id);
  statement.setInt(2, limit);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  std::vector<AdjustmentRecord> out;
  while (rows->next())
    out.push_back(read_adjustment(*rows));
  return out;
}

bool lock_village(UnitOfWork& unit, std::int64_t village_id) {
  auto& statement = unit.statement("SELECT id FROM villages WHERE id = ? FOR UPDATE");
  statement.setInt64(1, village_id);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  return rows->next();
}

std::vector<std::string> lines_settled_twice(UnitOfWork& unit) {
  // Two statements, not a UNION: the ENUM's collation and the connection's need not agree.
  auto problems =
      lines_of(unit,
               "SELECT CONCAT(x.line_kind, ' line ', x.line_id, ': in ', COUNT(*), "
               "              ' confirmed settlements (', GROUP_CONCAT(s.id ORDER BY s.id), ')') "
               "FROM settlement_lines x JOIN settlements s ON s.id = x.settlement_id "
               "WHERE s.state <> 'draft' GROUP BY x.line_kind, x.line_id HAVING COUNT(*) > 1 "
               "LIMIT 1000");
  for (auto& problem :
       lines_of(unit,
                "SELECT CONCAT('settlement ', s.id, ' (', s.state, '): ', COUNT(*), "
                "              ' line(s) whose settled flag disagrees with its state') "
                "FROM settlement_lines x JOIN settlements s ON s.id = x.settlement_id "
                "WHERE (s.state = 'draft') <> (x.settled IS NULL) GROUP BY s.id, s.state "
                "LIMIT 1000"))
    problems.push_back(std::move(problem));
  return problems;
}

std::vector<std::string> settlement_total_differences(UnitOfWork& unit) {
  return lines_of(
      unit,
      "SELECT CONCAT('settlement ', s.id, ': stored ', s.line_count, ' lines, total ', "
      "              s.total_fen, ' (sales ', s.sales_gross_fen, '/', s.sales_fee_fen, '/', "
      "              s.sales_share_fen, ', refunds ', s.refund_gross_fen, '/', s.refund_fee_fen, "
      "              '/', s.refund_share_fen, ', adjustments ', s.adjustments_fen, "
      "              '); its frozen lines: ', t.n, ' lines, total ', t.total, ' (sales ', t.sg, "
      "              '/', t.sf, '/', t.ss, ', refunds ', t.rg, '/', t.rf, '/', t.rs, "
      "              ', adjustments ', t.adj, ')') "
      "FROM settlements s "
      "JOIN (SELECT s2.id, COUNT(x.id) AS n, COALESCE(SUM(x.share_fen), 0) AS total, "
      "             COALESCE(SUM(IF(x.line_kind IN ('sale', 'order'), x.gross_fen, 0)), 0) AS sg, "
      "             COALESCE(SUM(IF(x.line_kind IN ('sale', 'order'), x.fee_fen, 0)), 0) AS sf, "
      "             COALESCE(SUM(IF(x.line_kind IN ('sale', 'order'), x.share_fen, 0)), 0) AS ss, "
      "             COALESCE(SUM(IF(x.line_kind IN ('refund', 'order_refund'), x.gross_fen, 0)), "
      "0) "
      "               AS rg, "
      "             COALESCE(SUM(IF(x.line_kind IN ('refund', 'order_refund'), x.fee_fen, 0)), 0) "
      "               AS rf, "
      "             COALESCE(SUM(IF(x.line_kind IN ('refund', 'order_refund'), x.share_fen, 0)), "
      "0) "
      "               AS rs, "
      "             COALESCE(SUM(IF(x.line_kind = 'adjustment', x.share_fen, 0)), 0) AS adj "
      "      FROM settlements s2 LEFT JOIN settlement_lines x ON x.settlement_id = s2.id "
      "      WHERE s2.state <> 'draft' GROUP BY s2.id) t ON t.id = s.id "
      "WHERE s.line_count <> t.n OR s.total_fen <> t.total OR s.sales_gross_fen <> t.sg "
      "   OR s.sales_fee_fen <> t.sf OR s.sales_share_fen <> t.ss OR s.refund_gross_fen <> t.rg "
      "   OR s.refund_fee_fen <> t.rf OR s.refund_share_fen <> t.rs OR s.adjustments_fen <> t.adj "
      "ORDER BY s.id LIMIT 1000");
}

std::vector<std::string> payout_differences(UnitOfWork& unit) {
  // paid <=> covered: something was owed and the payouts sum to it; never more than the total.
  auto problems = lines_of(
      unit,
      "SELECT CONCAT('settlement ', s.id, ' (', s.state, '): payouts ', COALESCE(p.paid, 0), "
      "              ' in ', COALESCE(p.n, 0), ', total ', s.total_fen) "
      "FROM settlements s "
      "LEFT JOIN (SELECT settlement_id, SUM(amount_fen) AS paid, COUNT(*) AS n "
      "           FROM settlement_payouts GROUP BY settlement_id) p ON p.settlement_id = s.id "
      "WHERE COALESCE(p.paid, 0) > GREATEST(s.total_fen, 0) "
      "   OR (s.state = 'paid' AND (s.total_fen <= 0 OR COALESCE(p.paid, 0) <> s.total_fen)) "
      "   OR (s.state = 'confirmed' AND s.total_fen > 0 AND COALESCE(p.paid, 0) >= s.total_fen) "
      "   OR (s.state = 'draft' AND p.n IS NOT NULL) "
      "ORDER BY s.id LIMIT 1000");
  for (auto& problem :
       lines_of(unit,
                "SELECT CONCAT('payout ', p.id, ': booked to village ', p.village_id, "
                "              ', its settlement ', s.id, ' is of village ', s.village_id) "
                "FROM settlement_payouts p JOIN settlements s ON s.id = p.settlement_id "
                "WHERE p.village_id <> s.village_id ORDER BY p.id LIMIT 1000"))
    problems.push_back(std::move(problem));
  return problems;
}

std::vector<std::string> village_balance_differences(UnitOfWork& unit) {
  // The payable is a liability: credits (negative) are what the station owes.
  return lines_of(
      unit,
      "SELECT CONCAT('village ', v.id, ': payable ', -COALESCE(al.balance, 0), ' but shares − "
      "refunded shares ', -COALESCE(sh.balance, 0), ' + adjustments ', COALESCE(a.amount, 0), "
      "              ' − payouts ', COALESCE(p.amount, 0), ' = ', -COALESCE(sh.balance, 0) + "
      "              COALESCE(a.amount, 0) - COALESCE(p.amount, 0)) "
      "FROM villages v "
      "LEFT JOIN (SELECT a.village_id, SUM(p.amount_fen) AS balance FROM postings p "
      "           JOIN ledger_accounts a ON a.id = p.account_id "
      "           WHERE a.village_id IS NOT NULL GROUP BY a.village_id) al "
      "  ON al.village_id = v.id "
      "LEFT JOIN (SELECT a.village_id, SUM(p.amount_fen) AS balance FROM postings p "
      "           JOIN ledger_accounts a ON a.id = p.account_id "
      "           JOIN journal_entries e ON e.id = p.entry_id "
      "           WHERE a.village_id IS NOT NULL AND e.kind NOT IN ('adjustment', 'payout') "
      "           GROUP BY a.village_id) sh ON sh.village_id = v.id "
      "LEFT JOIN (SELECT village_id, SUM(amount_fen) AS amount FROM village_adjustments "
      "           GROUP BY village_id) a ON a.village_id = v.id "
      "LEFT JOIN (SELECT village_id, SUM(amount_fen) AS amount FROM settlement_payouts "
      "           GROUP BY village_id) p ON p.village_id = v.id "
      "WHERE -COALESCE(al.balance, 0) <> "
      "      -COALESCE(sh.balance, 0) + COALESCE(a.amount, 0) - COALESCE(p.amount, 0) "
      "ORDER BY v.id");
}

}  // namespace yizhan::store
