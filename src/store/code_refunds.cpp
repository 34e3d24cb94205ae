// SQL for code_refunds: the counter's refunds of scanned-code payments, recorded around each
// provider call and linked to the refund they became.
#include "yizhan/store/code_refunds.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>
#include <sstream>

#include "refund_lines.hpp"
#include "rows.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::store {
namespace {

using Rows = std::unique_ptr<sql::ResultSet>;

constexpr const char* kColumns =
    "SELECT r.id, r.out_refund_no, r.key_hash, r.attempt, r.sale_id, r.code_payment_id, "
    "p.out_trade_no, p.amount_fen, r.provider, r.cashier_id, r.amount_fen, r.reason, r.state, "
    "r.provider_state, COALESCE(r.provider_refund_id, ''), r.provider_code, r.refund_id, "
    "COALESCE(r.owed, '') "
    "FROM code_refunds r JOIN code_payments p ON p.id = r.code_payment_id ";

CodeRefundRecord read(sql::ResultSet& row) {
  CodeRefundRecord r;
  r.id = row.getInt64(1);
  r.out_refund_no = row.getString(2);
  r.key_hash = read_bytes(row, 3);
  r.attempt = row.getInt(4);
  r.sale_id = row.getInt64(5);
  r.code_payment_id = row.getInt64(6);
  r.out_trade_no = row.getString(7);
  r.charge_fen = row.getInt64(8);
  r.provider = row.getString(9);
  r.cashier_id = row.getInt64(10);
  r.amount_fen = row.getInt64(11);
  r.reason = row.getString(12);
  r.state = row.getString(13);
  r.provider_state = row.getString(14);
  r.provider_refund_id = row.getString(15);
  r.provider_code = row.getString(16);
  r.refund_id = optional_int64(row, 17);
  r.owed = row.getString(18);
  return r;
}

void read_lines(UnitOfWork& unit, CodeRefundRecord& record) {
  auto& statement = unit.statement(
      "SELECT sale_line_id, quantity, gross_fen, fee_fen, share_fen, restock "
      "FROM code_refund_lines WHERE code_refund_id = ? ORDER BY id");
  statement.setInt64(1, record.id);
  Rows rows(statement.executeQuery());
  while (rows->next())
    record.lines.push_back({rows->getInt64(1), rows->getInt64(2), rows->getInt64(3),
                            rows->getInt64(4), rows->getInt64(5), rows->getBoolean(6)});
}

std::optional<CodeRefundRecord> one_with_lines(UnitOfWork& unit, sql::PreparedStatement& query) {
  std::optional<CodeRefundRecord> record;
  {
    Rows row(query.executeQuery());
    if (!row->next()) return std::nullopt;
    record = read(*row);
  }
  read_lines(unit, *record);
  return record;
}

}  // namespace

std::optional<CodeRefundRecord> latest_code_refund(UnitOfWork& unit, const std::string& key_hash) {
  auto& statement = unit.statement(std::string(kColumns) +
                                   "WHERE r.key_hash = ? ORDER BY r.attempt DESC LIMIT 1 "
                                   "FOR UPDATE");
  std::istringstream hash(key_hash);
  statement.setBlob(1, &hash);
  return one_with_lines(unit, statement);
}

std::optional<CodeRefundRecord> find_code_refund(UnitOfWork& unit, std::int64_t id) {
  auto& statement = unit.statement(std::string(kColumns) + "WHERE r.id = ? FOR UPDATE");
  statement.setInt64(1, id);
  return one_with_lines(unit, statement);
}

bool code_refund_in_flight(UnitOfWork& unit, std::int64_t sale_id) {
  auto& statement = unit.statement(
      "SELECT id FROM code_refunds WHERE sale_id = ? AND state = 'refunding' LIMIT 1 "
      "LOCK IN SHARE MODE");
  statement.setInt64(1, sale_id);
  Rows row(statement.executeQuery());
  return row->next();
}

std::vector<RefundableCharge> refundable_charges(UnitOfWork& unit, std::int64_t sale_id,
                                                 const std::string& provider) {
  auto& statement = unit.statement(
      "SELECT p.id, p.amount_fen, COALESCE((SELECT SUM(r.amount_fen) FROM code_refunds r "
      "WHERE r.code_payment_id = p.id AND r.state IN ('refunding', 'refunded')), 0) "
      "FROM code_payments p WHERE p.sale_id = ? AND p.provider = ? AND p.state = 'sold' "
      "ORDER BY p.id");
  statement.setInt64(1, sale_id);
  statement.setString(2, provider);
  Rows rows(statement.executeQuery());
  std::vector<RefundableCharge> out;
  while (rows->next())
    out.push_back({rows->getInt64(1), rows->getInt64(2), rows->getInt64(3)});
  return out;
}

std::int64_t insert_code_refund(UnitOfWork& unit, const CodeRefundRecord& record) {
  auto& head = unit.statement(
      "INSERT INTO code_refunds (out_refund_no, key_hash, attempt, sale_id, code_payment_id, "
      "provider, cashier_id, amount_fen, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  std::istringstream hash(record.key_hash);
  head.setString(1, record.out_refund_no);
  head.setBlob(2, &hash);
  head.setInt(3, record.attempt);
  head.setInt64(4, record.sale_id);
  head.setInt64(5, record.code_payment_id);
  head.setString(6, record.provider);
  head.setInt64(7, record.cashier_id);
  head.setInt64(8, record.amount_fen);
  head.setString(9, record.reason);
  head.executeUpdate();
  const std::int64_t id = last_insert_id(unit);

  insert_refund_line_rows(unit, "code_refund_lines", "code_refund_id", id, record.lines);
  return id;
}

bool finish_code_refund(UnitOfWork& unit, std::int64_t id, const std::string& state,
                        std::optional<std::int64_t> refund_id, const std::string& provider_state,
                        const std::string& provider_refund_id, const std::string& provider_code) {
  auto& statement = unit.statement(
      "UPDATE code_refunds SET state = ?, refund_id = ?, provider_state = LEFT(?, 32), "
      "provider_refund_id = NULLIF(LEFT(?, 64), ''), provider_code = LEFT(?, 64), "
      "updated_at = UTC_TIMESTAMP(6) WHERE id = ? AND state = 'refunding'");
  statement.setString(1, state);
  set_optional(statement, 2, refund_id);
  statement.setString(3, provider_state);
  statement.setString(4, provider_refund_id);
  statement.setString(5, provider_code);
  statement.setInt64(6, id);
  return statement.executeUpdate() == 1;
}

void set_code_refund_provider_state(UnitOfWork& unit, std::int64_t id,
                                    const std::string& provider_state,
                                    const std::string& provider_refund_id) {
  auto& statement = unit.statement(
      "UPDATE code_refunds SET provider_state = LEFT(?, 32), provider_refund_id = "
      "COALESCE(NULLIF(LEFT(?, 64), ''), provider_refund_id), updated_at = UTC_TIMESTAMP(6) "
      "WHERE id = ?");
  statement.setString(1, provider_state);
  statement.setString(2, provider_refund_id);
  statement.setInt64(3, id);
  statement.executeUpdate();
}

bool mark_code_refund_owed(UnitOfWork& unit, std::int64_t id) {
  // Conditional on the state: of two processes that saw the same answer, one records it.
  auto& statement = unit.statement(
      "UPDATE code_refunds SET owed = 'owed', owed_at = UTC_TIMESTAMP(6) "
      "WHERE id = ? AND state = 'refunded' AND owed IS NULL");
  statement.setInt64(1, id);
  return statement.executeUpdate() == 1;
}

namespace {

constexpr const char* kOwedColumns =
    "SELECT c.refund_id, c.id, f.sale_id, s.number, f.method, c.amount_fen, c.provider_state, "
    "c.out_refund_no, c.owed, c.owed_at, f.created_at, y.id, y.shift_id, h.register_id, "
    "u.username, y.method, y.amount_fen, y.created_at "
    "FROM code_refunds c JOIN refunds f ON f.id = c.refund_id JOIN sales s ON s.id = f.sale_id "
    "LEFT JOIN refund_repayments y ON y.refund_id = c.refund_id "
    "LEFT JOIN shifts h ON h.id = y.shift_id LEFT JOIN users u ON u.id = y.cashier_id ";

OwedRefundRecord read_owed(sql::ResultSet& row) {
  OwedRefundRecord r;
  r.refund_id = row.getInt64(1);
  r.code_refund_id = row.getInt64(2);
  r.sale_id = row.getInt64(3);
  r.sale_number = row.getString(4);
  r.method = row.getString(5);
  r.amount_fen = row.getInt64(6);
  r.provider_state = row.getString(7);
  r.out_refund_no = row.getString(8);
  r.owed = row.getString(9);
  r.owed_at = micros(row, 10);
  r.refunded_at = micros(row, 11);
  if (!row.isNull(12))
    r.repayment = OwedRefundRecord::Repayment{
        row.getInt64(12),  row.getInt64(13), row.getInt64(14), row.getString(15),
        row.getString(16), row.getInt64(17), micros(row, 18)};
  return r;
}

}  // namespace

std::optional<OwedRefundRecord> find_owed_refund(UnitOfWork& unit, std::int64_t refund_id,
                                                 bool lock) {
  if (lock) {  // the ask's row only: the joined sale, shift and user stay free
    auto& locking = unit.statement("SELECT id FROM code_refunds WHERE refund_id = ? FOR UPDATE");
    locking.setInt64(1, refund_id);
    Rows locked(locking.executeQuery());
  }
  auto& statement =
      unit.statement(std::string(kOwedColumns) + "WHERE c.refund_id = ? AND c.owed IS NOT NULL");
  statement.setInt64(1, refund_id);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return read_owed(*row);
}

std::vector<OwedRefundRecord> list_owed_refunds(UnitOfWork& unit, bool repaid_too,
                                                std::optional<std::int64_t> before_id, int limit) {
  auto& statement = unit.statement(std::string(kOwedColumns) +
                                   "WHERE c.owed IN ('owed', ?) AND (? IS NULL OR c.refund_id < ?) "
                                   "ORDER BY c.refund_id DESC LIMIT ?");
  statement.setString(1, repaid_too ? "repaid" : "owed");
  set_optional(statement, 2, before_id);
  set_optional(statement, 3, before_id);
  statement.setInt(4, limit);
  Rows rows(statement.executeQuery());
  std::vector<OwedRefundRecord> out;
  while (rows->next())
    out.push_back(read_owed(*rows));
  return out;
}

bool refund_exists(UnitOfWork& unit, std::int64_t refund_id) {
  auto& statement = unit.statement("SELECT id FROM refunds WHERE id = ?");
  statement.setInt64(1, refund_id);
  Rows row(statement.executeQuery());
  return row->next();
}

bool mark_code_refund_repaid(UnitOfWork& unit, std::int64_t code_refund_id) {
  auto& statement =
      unit.statement("UPDATE code_refunds SET owed = 'repaid' WHERE id = ? AND owed = 'owed'");
  statement.setInt64(1, code_refund_id);
  return statement.executeUpdate() == 1;
}

std::int64_t insert_refund_repayment(UnitOfWork& unit, std::int64_t refund_id,
                                     std::int64_t shift_id, std::int64_t cashier_id,
                                     const std::string& method, std::int64_t amount_fen) {
  auto& statement = unit.statement(
      "INSERT INTO refund_repayments (refund_id, shift_id, cashier_id, method, amount_fen) "
      "VALUES (?, ?, ?, ?, ?)");
  statement.setInt64(1, refund_id);
  statement.setInt64(2, shift_id);
  statement.setInt64(3, cashier_id);
  statement.setString(4, method);
  statement.setInt64(5, amount_fen);
  statement.executeUpdate();
  return last_insert_id(unit);
}

std::vector<std::int64_t> stale_code_refunds(UnitOfWork& unit, std::int64_t older_than_micros,
                                             std::int64_t recheck_micros, int limit) {
  auto& statement = unit.statement(
      "SELECT id FROM code_refunds WHERE (state = 'refunding' AND updated_at < "
      "UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND) OR (state = 'refunded' AND provider_state = "
      "'PROCESSING' AND updated_at < UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND) "
      "ORDER BY state = 'refunding' DESC, id LIMIT ?");
  statement.setInt64(1, older_than_micros);
  statement.setInt64(2, recheck_micros);
  statement.setInt(3, limit);
  return ids_of(statement);
}

std::vector<std::string> code_refund_differences(UnitOfWork& unit) {
  auto& statement = unit.statement(
      "SELECT CONCAT('refund ', f.id, ' to ', f.method, ': booked for ', COUNT(c.id), "
      "' provider refunds') FROM refunds f LEFT JOIN code_refunds c ON c.refund_id = f.id AND "
      "c.state = 'refunded' WHERE f.method IN ('wechat_code', 'alipay_code') "
      "GROUP BY f.id, f.method HAVING COUNT(c.id) <> 1 "
      "UNION ALL SELECT CONCAT('code refund ', c.out_refund_no, ': ', c.amount_fen, "
      "' fen given back, booked as refund ', COALESCE(f.id, 'none'), ' of ', "
      "COALESCE(f.total_fen, 0), ' fen') FROM code_refunds c LEFT JOIN refunds f ON f.id = "
      "c.refund_id WHERE c.state = 'refunded' AND (f.id IS NULL OR f.total_fen <> c.amount_fen "
      "OR f.method <> CONCAT(c.provider, '_code')) "
      "UNION ALL SELECT CONCAT('code payment ', p.out_trade_no, ': ', p.amount_fen, "
      "' fen paid, ', SUM(c.amount_fen), ' fen given back') FROM code_payments p JOIN "
      "code_refunds c ON c.code_payment_id = p.id AND c.state IN ('refunding', 'refunded') "
      "GROUP BY p.id, p.out_trade_no, p.amount_fen HAVING SUM(c.amount_fen) > p.amount_fen "
      "LIMIT 1000");
  Rows rows(statement.executeQuery());
  std::vector<std::string> out;
  while (rows->next())
    out.push_back(rows->getString(1));
  return out;
}

std::vector<std::string> refunds_owed_differences(UnitOfWork& unit) {
  // The account is a liability: credits (negative) are what the customers are owed.
  return lines_of(
      unit,
      "SELECT CONCAT('refunds owed ', owed_balance, ', code refunds owed and not repaid ', "
      "              owed_refunds) "
      "FROM (SELECT (SELECT -COALESCE(SUM(p.amount_fen), 0) FROM postings p "
      "              JOIN ledger_accounts a ON a.id = p.account_id "
      "              WHERE a.code = 'refunds_owed') AS owed_balance, "
      "             (SELECT COALESCE(SUM(amount_fen), 0) FROM code_refunds "
      "              WHERE owed = 'owed') AS owed_refunds) x "
      "WHERE owed_balance <> owed_refunds "
      "UNION ALL "
      "SELECT CONCAT('code refund ', number, ' (', COALESCE(owed, 'not owed'), '): ', entries, "
      "              ' refund_failed entries of ', credited, ' fen, amount ', amount) "
      "FROM (SELECT c.out_refund_no AS number, c.owed AS owed, c.amount_fen AS amount, "
      "             COUNT(DISTINCT e.id) AS entries, "
      "             COALESCE(-SUM(LEAST(p.amount_fen, 0)), 0) AS credited "
      "      FROM code_refunds c "
      "      LEFT JOIN journal_entries e ON e.kind = 'refund_failed' "
      "        AND e.document_id = c.refund_id "
      "      LEFT JOIN postings p ON p.entry_id = e.id "
      "      WHERE c.owed IS NOT NULL OR e.id IS NOT NULL "
      "      GROUP BY c.id, c.out_refund_no, c.owed, c.amount_fen) x "
      "WHERE owed IS NULL OR entries <> 1 OR credited <> amount "
      "UNION ALL "
      "SELECT CONCAT('repayment ', id, ' of refund ', refund_id, ': ', amount, ' fen, refund ', "
      "              COALESCE(owed, 'not owed'), ' of ', COALESCE(owed_fen, 0), ' fen, ', "
      "              entries, ' refund_repaid entries of ', debited) "
      "FROM (SELECT y.id AS id, y.refund_id AS refund_id, y.amount_fen AS amount, "
      "             c.owed AS owed, c.amount_fen AS owed_fen, COUNT(DISTINCT e.id) AS entries, "
      "             COALESCE(SUM(GREATEST(p.amount_fen, 0)), 0) AS debited "
      "      FROM refund_repayments y LEFT JOIN code_refunds c ON c.refund_id = y.refund_id "
      "      LEFT JOIN journal_entries e ON e.kind = 'refund_repaid' AND e.document_id = y.id "
      "      LEFT JOIN postings p ON p.entry_id = e.id "
      "      GROUP BY y.id, y.refund_id, y.amount_fen, c.owed, c.amount_fen) x "
      "WHERE owed IS NULL OR owed <> 'repaid' OR amount <> owed_fen OR entries <> 1 "
      "   OR debited <> amount "
      "UNION ALL "
      "SELECT CONCAT('code refund ', c.out_refund_no, ': repaid without a repayment') "
      "FROM code_refunds c LEFT JOIN refund_repayments y ON y.refund_id = c.refund_id "
      "WHERE c.owed = 'repaid' AND y.id IS NULL "
      "LIMIT 1000");
}

}  // namespace yizhan::store
