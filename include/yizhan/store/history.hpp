// Bulk writing for `yizhan seed-history` (issue 10): a year of demo sales, orders and refunds
// written as multi-row INSERTs with ids chosen up front, one transaction per business day, and
// the lookups the generator needs. Rows are plain values in each table's column order below.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace yizhan::store {

class UnitOfWork;

/// A value for one placeholder: NULL, a whole number or text.
using SqlValue = std::variant<std::monostate, std::int64_t, std::string>;

/// The tables history writes, each with its columns (in this order, ids given):
enum class HistoryTable {
  stock_documents,      ///< id, kind, village_id, note, created_at
  stock_lots,           ///< id, product_id, receipt_id, lot, produced_on, expires_on, received,
                        ///< remaining, created_at — an existing id updates only `remaining`
  stock_moves,          ///< product_id, lot_id, kind, quantity, document_kind, document_id,
                        ///< created_by, created_at
  stock_levels,         ///< product_id, on_hand — added to the product's on_hand
  shifts,               ///< id, register_id, cashier_id, state, float_fen, opened_at, closed_at,
                        ///< expected_cash_fen, counted_cash_fen
  sales,                ///< id, number, shift_id, register_id, cashier_id, business_day,
                        ///< subtotal_fen, discount_fen, rounding_fen, total_fen, change_fen,
                        ///< created_at
  sale_lines,           ///< id, sale_id, line_no, product_id, village_id, name, unit, quantity,
                        ///< unit_price_fen, list_fen, line_discount_fen, sale_discount_fen,
                        ///< gross_fen, commission_bps, fee_fen, share_fen
  sale_line_lots,       ///< sale_line_id, lot_id, quantity
  sale_tenders,         ///< sale_id, method, amount_fen, tendered_fen
  refunds,              ///< id, sale_id, shift_id, cashier_id, method, total_fen, business_day,
                        ///< reason, created_at
  refund_lines,         ///< refund_id, sale_line_id, quantity, gross_fen, fee_fen, share_fen,
                        ///< restock
  refunded_quantities,  ///< sale_line_id, quantity — added to the line's refunded_quantity
  orders,               ///< id, number, token_hash (hex), state, fulfilment, payment_method,
                        ///< contact_name, contact_phone, address_area, address_detail,
                        ///< business_day, subtotal_fen, delivery_fee_fen, total_fen, paid_fen,
                        ///< refunded_fen, pickup_code, created_at, updated_at
  order_lines,          ///< id, order_id, line_no, product_id, village_id, name, unit, quantity,
                        ///< unit_price_fen, gross_fen, commission_bps, fee_fen, share_fen
  order_line_lots,      ///< order_line_id, lot_id, quantity
  order_events,         ///< order_id, state, by_kind, by_user, created_at
  order_payments,       ///< order_id, provider, channel, out_trade_no, amount_fen, state,
                        ///< transaction_id, created_at, paid_at
  order_refunds,        ///< id, order_id, seq, out_refund_no, method, state, origin, goods_fen,
                        ///< delivery_fee_fen, amount_fen, reason, created_by, created_at,
                        ///< updated_at, finished_at
  order_refund_lines,   ///< refund_id, order_line_id, quantity, gross_fen, fee_fen, share_fen,
                        ///< stock
  journal_entries,      ///< id, kind, document_id, business_day, memo, created_at
  postings,             ///< entry_id, account_id, amount_fen
};

/// Rows waiting to be written to one table.
class BulkInsert {
 public:
  explicit BulkInsert(HistoryTable table) : table_(table) {}
  void add(std::vector<SqlValue> row) { rows_.push_back(std::move(row)); }
  [[nodiscard]] std::size_t size() const { return rows_.size(); }
  /// Writes the rows in multi-row statements (a few fixed sizes, so that few are prepared).
  /// Keeps them, so that a unit of work retried after a deadlock writes them again.
  void flush(UnitOfWork& unit) const;
  void clear() { rows_.clear(); }

 private:
  HistoryTable table_;
  std::vector<std::vector<SqlValue>> rows_;
};

/// The next free id of each table that history gives ids to (MAX(id) + 1), by table name.
std::map<std::string, std::int64_t> next_ids(UnitOfWork& unit);

/// Whether any sale, refund or order has a business day in [from, to].
bool history_present(UnitOfWork& unit, const std::string& from, const std::string& to);

/// The ledger accounts' ids by code, after creating any village's payable and register's
/// drawer account not made yet.
std::map<std::string, std::int64_t> account_ids(UnitOfWork& unit);

/// The active registers' ids.
std::vector<std::int64_t> active_registers(UnitOfWork& unit);

/// An active cashier (else admin) account to ring history up; nothing when there is none.
std::optional<std::int64_t> history_cashier(UnitOfWork& unit);

/// A product as history sells it.
struct HistoryProduct {
  std::int64_t id = 0;
  std::string name;
  std::string unit;  ///< "piece" or "g"
  std::int64_t price_fen = 0;
  std::int64_t village_id = 0;
  int commission_bps = 0;  ///< the rate in force (product override, else the village's)
  std::string category_code;
  std::optional<int> shelf_life_days;
  bool online = true;
};

/// The active products of active villages, by id.
std::vector<HistoryProduct> history_products(UnitOfWork& unit);

}  // namespace yizhan::store
