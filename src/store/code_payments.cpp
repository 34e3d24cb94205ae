// SQL for code_payments: the counter's scanned-code charges, recorded around each provider call.
#include "yizhan/store/code_payments.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>
#include <sstream>

#include "rows.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::store {
namespace {

using Rows = std::unique_ptr<sql::ResultSet>;

constexpr const char* kColumns =
    "SELECT id, out_trade_no, key_hash, tender_index, attempt, provider, cashier_id, amount_fen, "
    "code_masked, state, COALESCE(transaction_id, ''), provider_code, sale_id FROM code_payments ";

CodePaymentRecord read(sql::ResultSet& row) {
  CodePaymentRecord r;
  r.id = row.getInt64(1);
  r.out_trade_no = row.getString(2);
  r.key_hash = read_bytes(row, 3);
  r.tender_index = row.getInt(4);
  r.attempt = row.getInt(5);
  r.provider = row.getString(6);
  r.cashier_id = row.getInt64(7);
  r.amount_fen = row.getInt64(8);
  r.code_masked = row.getString(9);
  r.state = row.getString(10);
  r.transaction_id = row.getString(11);
  r.provider_code = row.getString(12);
  r.sale_id = optional_int64(row, 13);
  return r;
}

}  // namespace

std::optional<CodePaymentRecord> latest_code_payment(UnitOfWork& unit, const std::string& key_hash,
                                                     int tender_index) {
  auto& statement = unit.statement(std::string(kColumns) +
                                   "WHERE key_hash = ? AND tender_index = ? "
                                   "ORDER BY attempt DESC LIMIT 1 FOR UPDATE");
  std::istringstream hash(key_hash);
  statement.setBlob(1, &hash);
  statement.setInt(2, tender_index);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return read(*row);
}

std::int64_t insert_code_payment(UnitOfWork& unit, const CodePaymentRecord& record) {
  auto& statement = unit.statement(
      "INSERT INTO code_payments (out_trade_no, key_hash, tender_index, attempt, provider, "
      "cashier_id, amount_fen, code_masked) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  std::istringstream hash(record.key_hash);
  statement.setString(1, record.out_trade_no);
  statement.setBlob(2, &hash);
  statement.setInt(3, record.tender_index);
  statement.setInt(4, record.attempt);
  statement.setString(5, record.provider);
  statement.setInt64(6, record.cashier_id);
  statement.setInt64(7, record.amount_fen);
  statement.setString(8, record.code_masked);
  statement.executeUpdate();
  return last_insert_id(unit);
}

void set_code_payment_state(UnitOfWork& unit, std::int64_t id, const std::string& state,
                            const std::string& transaction_id, const std::string& provider_code) {
  auto& statement = unit.statement(
      "UPDATE code_payments SET state = ?, transaction_id = COALESCE(NULLIF(?, ''), "
      "transaction_id), provider_code = LEFT(?, 64), updated_at = UTC_TIMESTAMP(6) WHERE id = ?");
  statement.setString(1, state);
  statement.setString(2, transaction_id.substr(0, 64));
  statement.setString(3, provider_code);
  statement.setInt64(4, id);
  statement.executeUpdate();
}

bool mark_code_payments_sold(UnitOfWork& unit, const std::vector<std::int64_t>& ids,
                             std::int64_t sale_id) {
  auto& statement = unit.statement(
      "UPDATE code_payments SET state = 'sold', sale_id = ?, updated_at = UTC_TIMESTAMP(6) "
      "WHERE id = ? AND state = 'paid'");
  for (const auto id : ids) {
    statement.setInt64(1, sale_id);
    statement.setInt64(2, id);
    if (statement.executeUpdate() != 1) return false;
  }
  return true;
}

std::vector<CodePaymentRecord> open_code_payments(UnitOfWork& unit, const std::string& key_hash) {
  auto& statement = unit.statement(std::string(kColumns) +
                                   "WHERE key_hash = ? AND state IN ('charging', 'paid') "
                                   "ORDER BY id FOR UPDATE");
  std::istringstream hash(key_hash);
  statement.setBlob(1, &hash);
  Rows rows(statement.executeQuery());
  std::vector<CodePaymentRecord> out;
  while (rows->next())
    out.push_back(read(*rows));
  return out;
}

std::vector<std::string> stale_code_payment_keys(UnitOfWork& unit, std::int64_t older_than_micros,
                                                 int limit) {
  auto& statement = unit.statement(
      "SELECT DISTINCT key_hash FROM code_payments WHERE state IN ('charging', 'paid') "
      "AND updated_at < UTC_TIMESTAMP(6) - INTERVAL ? MICROSECOND LIMIT ?");
  statement.setInt64(1, older_than_micros);
  statement.setInt(2, limit);
  Rows rows(statement.executeQuery());
  std::vector<std::string> out;
  while (rows->next())
    out.push_back(read_bytes(*rows, 1));
  return out;
}

std::int64_t available_to_sell(UnitOfWork& unit, std::int64_t product_id) {
  auto& statement =
      unit.statement("SELECT on_hand - reserved FROM stock_levels WHERE product_id = ?");
  statement.setInt64(1, product_id);
  Rows row(statement.executeQuery());
  return row->next() ? row->getInt64(1) : 0;
}

}  // namespace yizhan::store
