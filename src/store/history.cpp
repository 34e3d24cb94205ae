// Bulk writing for seed-history: multi-row INSERTs with placeholders (never values in the text).
#include "yizhan/store/history.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "rows.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::store {
namespace {

using Rows = std::unique_ptr<sql::ResultSet>;

struct TableSpec {
  const char* head;     ///< "INSERT INTO t (c1, c2) VALUES "
  const char* row;      ///< "(?, ?)": one row's placeholders (with any SQL around them)
  const char* tail;     ///< after the rows ("" or ON DUPLICATE KEY UPDATE …)
  std::size_t columns;  ///< placeholders per row
};

TableSpec spec_of(HistoryTable table) {
  switch (table) {
    case HistoryTable::stock_documents:
      return {"INSERT INTO stock_documents (id, kind, village_id, note, created_at) VALUES ",
              "(?, ?, ?, ?, ?)", "", 5};
    case HistoryTable::stock_lots:
      return {
          "INSERT INTO stock_lots (id, product_id, receipt_id, lot, produced_on, expires_on, "
          "received, remaining, created_at) VALUES ",
          "(?, ?, ?, ?, ?, ?, ?, ?, ?)", " ON DUPLICATE KEY UPDATE remaining = VALUES(remaining)",
          9};
    case HistoryTable::stock_moves:
      return {
          "INSERT INTO stock_moves (product_id, lot_id, kind, quantity, document_kind, "
          "document_id, created_by, created_at) VALUES ",
          "(?, ?, ?, ?, ?, ?, ?, ?)", "", 8};
    case HistoryTable::stock_levels:
      // An UPDATE per product (see flush): an upsert's row would meet the on_hand >= 0 check
      // with the day's (possibly negative) change before it met the existing row.
      return {"", "", "", 2};
    case HistoryTable::shifts:
      return {
          "INSERT INTO shifts (id, register_id, cashier_id, state, float_fen, opened_at, "
          "closed_at, expected_cash_fen, counted_cash_fen) VALUES ",
          "(?, ?, ?, ?, ?, ?, ?, ?, ?)", "", 9};
    case HistoryTable::sales:
      return {
          "INSERT INTO sales (id, number, shift_id, register_id, cashier_id, business_day, "
          "subtotal_fen, discount_fen, rounding_fen, total_fen, change_fen, created_at) "
          "VALUES ",
          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "", 12};
    case HistoryTable::sale_lines:
      return {
          "INSERT INTO sale_lines (id, sale_id, line_no, product_id, village_id, name, unit, "
          "quantity, unit_price_fen, list_fen, line_discount_fen, sale_discount_fen, "
          "gross_fen, commission_bps, fee_fen, share_fen) VALUES ",
          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "", 16};
    case HistoryTable::sale_line_lots:
      return {"INSERT INTO sale_line_lots (sale_line_id, lot_id, quantity) VALUES ", "(?, ?, ?)",
              "", 3};
    case HistoryTable::sale_tenders:
      return {"INSERT INTO sale_tenders (sale_id, method, amount_fen, tendered_fen) VALUES ",
              "(?, ?, ?, ?)", "", 4};
    case HistoryTable::refunds:
      return {
          "INSERT INTO refunds (id, sale_id, shift_id, cashier_id, method, total_fen, "
          "business_day, reason, created_at) VALUES ",
          "(?, ?, ?, ?, ?, ?, ?, ?, ?)", "", 9};
    case HistoryTable::refund_lines:
      return {
          "INSERT INTO refund_lines (refund_id, sale_line_id, quantity, gross_fen, fee_fen, "
          "share_fen, restock) VALUES ",
          "(?, ?, ?, ?, ?, ?, ?)", "", 7};
    case HistoryTable::refunded_quantities:
      // An UPDATE per line (see flush): refunds are rare.
      return {"", "", "", 2};
    case HistoryTable::orders:
      return {
          "INSERT INTO orders (id, number, token_hash, state, fulfilment, payment_method, "
          "contact_name, contact_phone, address_area, address_detail, business_day, "
          "subtotal_fen, delivery_fee_fen, total_fen, paid_fen, refunded_fen, pickup_code, "
          "created_at, updated_at) VALUES ",
          "(?, ?, UNHEX(?), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "", 19};
    case HistoryTable::order_lines:
      return {
          "INSERT INTO order_lines (id, order_id, line_no, product_id, village_id, name, unit, "
          "quantity, unit_price_fen, gross_fen, commission_bps, fee_fen, share_fen) VALUES ",
          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "", 13};
    case HistoryTable::order_line_lots:
      return {"INSERT INTO order_line_lots (order_line_id, lot_id, quantity) VALUES ", "(?, ?, ?)",
              "", 3};
    case HistoryTable::order_events:
      return {"INSERT INTO order_events (order_id, state, by_kind, by_user, created_at) VALUES ",
              "(?, ?, ?, ?, ?)", "", 5};
    case HistoryTable::order_payments:
      return {
          "INSERT INTO order_payments (order_id, provider, channel, out_trade_no, amount_fen, "
          "state, transaction_id, created_at, paid_at) VALUES ",
          "(?, ?, ?, ?, ?, ?, ?, ?, ?)", "", 9};
    case HistoryTable::order_refunds:
      return {
          "INSERT INTO order_refunds (id, order_id, seq, out_refund_no, method, state, origin, "
          "goods_fen, delivery_fee_fen, amount_fen, reason, created_by, created_at, "
          "updated_at, finished_at) VALUES ",
          "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", "", 15};
    case HistoryTable::order_refund_lines:
      return {
          "INSERT INTO order_refund_lines (refund_id, order_line_id, quantity, gross_fen, "
          "fee_fen, share_fen, stock) VALUES ",
          "(?, ?, ?, ?, ?, ?, ?)", "", 7};
    case HistoryTable::journal_entries:
      return {
          "INSERT INTO journal_entries (id, kind, document_id, business_day, memo, created_at) "
          "VALUES ",
          "(?, ?, ?, ?, ?, ?)", "", 6};
    case HistoryTable::postings:
      return {"INSERT INTO postings (entry_id, account_id, amount_fen) VALUES ", "(?, ?, ?)", "",
              3};
  }
  throw domain::Error(domain::ErrorCode::internal, "internal error", {}, "unknown history table");
}

void bind(sql::PreparedStatement& statement, int index, const SqlValue& value) {
  if (const auto* number = std::get_if<std::int64_t>(&value))
    statement.setInt64(index, *number);
  else if (const auto* text = std::get_if<std::string>(&value))
    statement.setString(index, *text);
  else
    statement.setNull(index, 0);
}

/// Rows per statement: the largest of these that fits what is left, so at most a handful of
/// statements are prepared per table.
constexpr std::size_t kBatchSizes[] = {256, 64, 16, 4, 1};

}  // namespace

void BulkInsert::flush(UnitOfWork& unit) const {
  if (rows_.empty()) return;
  if (table_ == HistoryTable::refunded_quantities || table_ == HistoryTable::stock_levels) {
    auto& statement = unit.statement(
        table_ == HistoryTable::stock_levels
            ? "UPDATE stock_levels SET on_hand = on_hand + ? WHERE product_id = ?"
            : "UPDATE sale_lines SET refunded_quantity = refunded_quantity + ? WHERE id = ?");
    for (const auto& row : rows_) {
      bind(statement, 1, row.at(1));
      bind(statement, 2, row.at(0));
      if (statement.executeUpdate() != 1)
        throw domain::Error(domain::ErrorCode::internal, "internal error", {},
                            "history: no row to update");
    }
    return;
  }
  const auto spec = spec_of(table_);
  std::size_t done = 0;
  while (done < rows_.size()) {
    std::size_t batch = 1;
    for (const auto size : kBatchSizes) {
      if (size <= rows_.size() - done) {
        batch = size;
        break;
      }
    }
    std::string query = spec.head;
    for (std::size_t i = 0; i < batch; ++i) {
      if (i > 0) query += ", ";
      query += spec.row;
    }
    query += spec.tail;
    auto& statement = unit.statement(query);
    int index = 1;
    for (std::size_t i = 0; i < batch; ++i) {
      const auto& row = rows_[done + i];
      if (row.size() != spec.columns)
        throw domain::Error(domain::ErrorCode::internal, "internal error", {},
                            std::string("history row of the wrong width for ") + spec.head);
      for (const auto& value : row)
        bind(statement, index++, value);
    }
    statement.executeUpdate();
    done += batch;
  }
}

std::map<std::string, std::int64_t> next_ids(UnitOfWork& unit) {
  auto& statement = unit.statement(
      "SELECT 'stock_documents', COALESCE(MAX(id), 0) + 1 FROM stock_documents UNION ALL "
      "SELECT 'stock_lots', COALESCE(MAX(id), 0) + 1 FROM stock_lots UNION ALL "
      "SELECT 'shifts', COALESCE(MAX(id), 0) + 1 FROM shifts UNION ALL "
      "SELECT 'sales', COALESCE(MAX(id), 0) + 1 FROM sales UNION ALL "
      "SELECT 'sale_lines', COALESCE(MAX(id), 0) + 1 FROM sale_lines UNION ALL "
      "SELECT 'refunds', COALESCE(MAX(id), 0) + 1 FROM refunds UNION ALL "
      "SELECT 'orders', COALESCE(MAX(id), 0) + 1 FROM orders UNION ALL "
      "SELECT 'order_lines', COALESCE(MAX(id), 0) + 1 FROM order_lines UNION ALL "
      "SELECT 'order_refunds', COALESCE(MAX(id), 0) + 1 FROM order_refunds UNION ALL "
      "SELECT 'journal_entries', COALESCE(MAX(id), 0) + 1 FROM journal_entries");
  Rows rows(statement.executeQuery());
  std::map<std::string, std::int64_t> out;
  while (rows->next())
    out[rows->getString(1)] = rows->getInt64(2);
  return out;
}

bool history_present(UnitOfWork& unit, const std::string& from, const std::string& to) {
  auto& statement = unit.statement(
      "SELECT EXISTS (SELECT 1 FROM sales WHERE business_day BETWEEN ? AND ?) "
      "    OR EXISTS (SELECT 1 FROM refunds WHERE business_day BETWEEN ? AND ?) "
      "    OR EXISTS (SELECT 1 FROM orders WHERE business_day BETWEEN ? AND ?)");
  for (int i = 0; i < 3; ++i) {
    statement.setString(i * 2 + 1, from);
    statement.setString(i * 2 + 2, to);
  }
  Rows rows(statement.executeQuery());
  return rows->next() && rows->getBoolean(1);
}

std::map<std::string, std::int64_t> account_ids(UnitOfWork& unit) {
  // The per-village and per-register accounts, as the journal makes them on a first posting
  // (store/journal.cpp): history posts to all of them.
  auto& villages = unit.statement(
      "INSERT IGNORE INTO ledger_accounts (code, kind, name, name_en, village_id) "
      "SELECT CONCAT('village_payable:', id), 'liability', CONCAT('应付', name), "
      "       CONCAT('Payable to ', code), id FROM villages");
  villages.executeUpdate();
  auto& registers = unit.statement(
      "INSERT IGNORE INTO ledger_accounts (code, kind, name, name_en, register_id) "
      "SELECT CONCAT('cash_drawer:', id), 'asset', CONCAT(name, '钱箱'), "
      "       CONCAT('Cash drawer ', id), id FROM registers");
  registers.executeUpdate();
  auto& statement = unit.statement("SELECT code, id FROM ledger_accounts");
  Rows rows(statement.executeQuery());
  std::map<std::string, std::int64_t> out;
  while (rows->next())
    out[rows->getString(1)] = rows->getInt64(2);
  return out;
}

std::vector<std::int64_t> active_registers(UnitOfWork& unit) {
  auto& statement = unit.statement("SELECT id FROM registers WHERE active ORDER BY id");
  return ids_of(statement);
}

std::optional<std::int64_t> history_cashier(UnitOfWork& unit) {
  auto& statement = unit.statement(
      "SELECT id FROM users WHERE status = 'active' AND role IN ('cashier', 'admin') "
      "ORDER BY role = 'cashier' DESC, id LIMIT 1");
  Rows rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  return rows->getInt64(1);
}

std::vector<HistoryProduct> history_products(UnitOfWork& unit) {
  auto& statement = unit.statement(
      "SELECT p.id, p.name, p.unit, p.price_fen, p.village_id, "
      "       COALESCE(p.commission_bps, v.commission_bps), c.code, p.shelf_life_days, p.online "
      "FROM products p JOIN villages v ON v.id = p.village_id "
      "JOIN categories c ON c.id = p.category_id "
      "WHERE p.active AND v.active ORDER BY p.id");
  Rows rows(statement.executeQuery());
  std::vector<HistoryProduct> out;
  while (rows->next()) {
    HistoryProduct p;
    p.id = rows->getInt64(1);
    p.name = rows->getString(2);
    p.unit = rows->getString(3);
    p.price_fen = rows->getInt64(4);
    p.village_id = rows->getInt64(5);
    p.commission_bps = rows->getInt(6);
    p.category_code = rows->getString(7);
    if (!rows->isNull(8)) p.shelf_life_days = rows->getInt(8);
    p.online = rows->getBoolean(9);
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace yizhan::store
