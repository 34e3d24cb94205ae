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
    "r.provider_state, COALESCE(r.provider_refund_id, ''), r.provider_code, r.refund_id "
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

}  // namespace yizhan::store
