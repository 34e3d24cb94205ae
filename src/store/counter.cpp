// The counter in MariaDB: registers, shifts, sales, refunds, held carts and the stock they take.
#include "yizhan/store/counter.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>

#include "commission_terms_sql.hpp"
#include "refund_lines.hpp"
#include "rows.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/stock.hpp"

namespace yizhan::store {
namespace {

using domain::Error;
using domain::ErrorCode;
using Rows = std::unique_ptr<sql::ResultSet>;

// --- registers ------------------------------------------------------------------------------

constexpr const char* kRegisterColumns =
    "SELECT id, name, printer_host, printer_port, receipt_columns";
constexpr int kRegisterColumnCount = 5;

RegisterRecord read_register(sql::ResultSet& row) {
  RegisterRecord r;
  r.id = row.getInt64(1);
  r.name = row.getString(2);
  if (!row.isNull(3)) r.printer_host = row.getString(3);
  if (!row.isNull(4)) r.printer_port = row.getInt(4);
  r.receipt_columns = row.getInt(5);
  return r;
}

// --- shifts ---------------------------------------------------------------------------------

constexpr const char* kShiftColumns =
    "SELECT s.id, s.register_id, s.cashier_id, u.username, s.state, s.float_fen, s.opened_at, "
    "       s.closed_at, s.expected_cash_fen, s.counted_cash_fen "
    "FROM shifts s JOIN users u ON u.id = s.cashier_id ";

ShiftRecord read_shift(sql::ResultSet& row) {
  ShiftRecord s;
  s.id = row.getInt64(1);
  s.register_id = row.getInt64(2);
  s.cashier_id = row.getInt64(3);
  s.cashier = row.getString(4);
  s.state = row.getString(5);
  s.float_fen = row.getInt64(6);
  s.opened_at = micros(row, 7);
  if (!row.isNull(8)) s.closed_at = micros(row, 8);
  s.expected_cash_fen = optional_int64(row, 9);
  s.counted_cash_fen = optional_int64(row, 10);
  return s;
}

const char* lock_clause(RowLock lock) {
  switch (lock) {
    case RowLock::none: return "";
    case RowLock::share: return " LOCK IN SHARE MODE";
    case RowLock::update: return " FOR UPDATE";
  }
  return "";
}

// --- products -------------------------------------------------------------------------------

constexpr const char* kSellableColumns =
    "SELECT p.id, p.name, p.unit, p.price_fen, p.commission_bps, p.village_id, "
    "       v.commission_bps, p.active, v.active, v.name, p.kind, ";

/// The rest of kSellableColumns: the terms in force on the day (two placeholders).
std::string sellable_query(const char* where) {
  return std::string(kSellableColumns) + kProductTermInForce + ", " + kVillageTermInForce +
         " FROM products p JOIN villages v ON v.id = p.village_id " + where;
}

/// Reads the product term column (NULL none, -1 ended, else the rate) and the village's.
void read_terms(sql::ResultSet& row, int column, domain::RatesInForce& rates) {
  if (!row.isNull(column)) {
    const int product = row.getInt(column);
    rates.product_term = product < 0 ? std::optional<int>() : std::optional<int>(product);
  }
  if (!row.isNull(column + 1)) rates.village_term = row.getInt(column + 1);
}

std::optional<SellableProduct> read_sellable(sql::PreparedStatement& statement) {
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  SellableProduct p;
  p.id = row->getInt64(1);
  p.name = row->getString(2);
  p.unit = domain::parse_unit(std::string(row->getString(3))).value_or(domain::Unit::piece);
  p.price = domain::Fen(row->getInt64(4));
  if (!row->isNull(5)) p.rates.product_column = row->getInt(5);
  p.village_id = row->getInt64(6);
  p.rates.village_column = row->getInt(7);
  p.active = row->getBoolean(8);
  p.village_active = row->getBoolean(9);
  p.village_name = row->getString(10);
  p.kind = domain::parse_product_kind(std::string(row->getString(11)))
               .value_or(domain::ProductKind::item);
  read_terms(*row, 12, p.rates);
  return p;
}

// --- sales ----------------------------------------------------------------------------------

constexpr const char* kSaleColumns =
    "SELECT s.id, s.number, s.shift_id, s.register_id, s.cashier_id, u.username, s.business_day, "
    "       s.subtotal_fen, s.discount_fen, s.rounding_fen, s.total_fen, s.change_fen, s.offline, "
    "       s.rung_at, s.created_at "
    "FROM sales s JOIN users u ON u.id = s.cashier_id ";

SaleRecord read_sale(sql::ResultSet& row) {
  SaleRecord s;
  s.id = row.getInt64(1);
  s.number = row.getString(2);
  s.shift_id = row.getInt64(3);
  s.register_id = row.getInt64(4);
  s.cashier_id = row.getInt64(5);
  s.cashier = row.getString(6);
  s.business_day = row.getString(7);
  s.subtotal_fen = row.getInt64(8);
  s.discount_fen = row.getInt64(9);
  s.rounding_fen = row.getInt64(10);
  s.total_fen = row.getInt64(11);
  s.change_fen = row.getInt64(12);
  s.offline = row.getBoolean(13);
  if (!row.isNull(14)) s.rung_at = micros(row, 14);
  s.created_at = micros(row, 15);
  return s;
}

}  // namespace

std::vector<RegisterRecord> list_registers(UnitOfWork& unit) {
  Rows rows(
      unit.statement(std::string(kRegisterColumns) + " FROM registers WHERE active ORDER BY id")
          .executeQuery());
  std::vector<RegisterRecord> registers;
  while (rows->next())
    registers.push_back(read_register(*rows));
  return registers;
}

std::optional<RegisterRecord> find_register(UnitOfWork& unit, std::int64_t id) {
  auto& statement = unit.statement(std::string(kRegisterColumns) + " FROM registers WHERE id = ?");
  statement.setInt64(1, id);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return read_register(*row);
}

std::optional<RegisterRecord> find_register_by_name(UnitOfWork& unit, const std::string& name) {
  auto& statement =
      unit.statement(std::string(kRegisterColumns) + " FROM registers WHERE name = ? AND active");
  statement.setString(1, name);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return read_register(*row);
}

std::int64_t insert_shift(UnitOfWork& unit, std::int64_t register_id, std::int64_t cashier_id,
                          std::int64_t float_fen) {
  auto& statement =
      unit.statement("INSERT INTO shifts (register_id, cashier_id, float_fen) VALUES (?, ?, ?)");
  statement.setInt64(1, register_id);
  statement.setInt64(2, cashier_id);
  statement.setInt64(3, float_fen);
  statement.executeUpdate();
  return last_insert_id(unit);
}

std::optional<ShiftRecord> find_shift(UnitOfWork& unit, std::int64_t id, RowLock lock) {
  auto& statement =
      unit.statement(std::string(kShiftColumns) + "WHERE s.id = ?" + lock_clause(lock));
  statement.setInt64(1, id);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return read_shift(*row);
}

std::optional<ShiftRecord> open_shift_of(UnitOfWork& unit, std::int64_t cashier_id, RowLock lock) {
  auto& statement = unit.statement(std::string(kShiftColumns) + "WHERE s.open_cashier_id = ?" +
                                   lock_clause(lock));
  statement.setInt64(1, cashier_id);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return read_shift(*row);
}

bool close_shift(UnitOfWork& unit, std::int64_t id, std::int64_t expected_cash_fen,
                 std::int64_t counted_cash_fen) {
  auto& statement = unit.statement(
      "UPDATE shifts SET state = 'closed', closed_at = UTC_TIMESTAMP(6), expected_cash_fen = ?, "
      "counted_cash_fen = ? WHERE id = ? AND state = 'open'");
  statement.setInt64(1, expected_cash_fen);
  statement.setInt64(2, counted_cash_fen);
  statement.setInt64(3, id);
  return statement.executeUpdate() == 1;
}

std::int64_t insert_cash_movement(UnitOfWork& unit, std::int64_t shift_id, std::int64_t amount_fen,
                                  const std::string& reason, std::int64_t by) {
  auto& statement = unit.statement(
      "INSERT INTO cash_movements (shift_id, amount_fen, reason, created_by) VALUES (?, ?, ?, ?)");
  statement.setInt64(1, shift_id);
  statement.setInt64(2, amount_fen);
  statement.setString(3, reason);
  statement.setInt64(4, by);
  statement.executeUpdate();
  return last_insert_id(unit);
}

ShiftTotals shift_totals(UnitOfWork& unit, std::int64_t shift_id,
                         const std::string& drawer_account) {
  ShiftTotals totals;
  {
    auto& statement = unit.statement(
        "SELECT COUNT(*), COALESCE(SUM(total_fen), 0), COALESCE(SUM(discount_fen), 0) "
        "FROM sales WHERE shift_id = ?");
    statement.setInt64(1, shift_id);
    Rows row(statement.executeQuery());
    row->next();
    totals.sales_count = row->getInt64(1);
    totals.gross_fen = row->getInt64(2);
    totals.discount_fen = row->getInt64(3);
  }
  {
    auto& statement = unit.statement(
        "SELECT COUNT(*), COALESCE(SUM(total_fen), 0) FROM refunds WHERE shift_id = ?");
    statement.setInt64(1, shift_id);
    Rows row(statement.executeQuery());
    row->next();
    totals.refunds_count = row->getInt64(1);
    totals.refund_fen = row->getInt64(2);
  }
  {
    auto& statement = unit.statement(
        "SELECT method, SUM(sales), SUM(refunds) FROM ("
        "  SELECT t.method AS method, t.amount_fen AS sales, 0 AS refunds FROM sale_tenders t "
        "  JOIN sales s ON s.id = t.sale_id WHERE s.shift_id = ? "
        "  UNION ALL SELECT method, 0, total_fen FROM refunds WHERE shift_id = ?) m "
        "GROUP BY method ORDER BY method");
    statement.setInt64(1, shift_id);
    statement.setInt64(2, shift_id);
    Rows rows(statement.executeQuery());
    while (rows->next())
      totals.by_method.push_back({rows->getString(1), rows->getInt64(2), rows->getInt64(3)});
  }
  {
    auto& statement = unit.statement(
        "SELECT l.village_id, v.name, SUM(l.gross_fen), SUM(l.fee_fen), SUM(l.share_fen) "
        "FROM sale_lines l JOIN sales s ON s.id = l.sale_id JOIN villages v ON v.id = l.village_id "
        "WHERE s.shift_id = ? GROUP BY l.village_id, v.name ORDER BY l.village_id");
    statement.setInt64(1, shift_id);
    Rows rows(statement.executeQuery());
    while (rows->next())
      totals.by_village.push_back({rows->getInt64(1), rows->getString(2), rows->getInt64(3),
                                   rows->getInt64(4), rows->getInt64(5)});
  }
  {
    auto& statement = unit.statement(
        "SELECT COALESCE(SUM(GREATEST(amount_fen, 0)), 0), COALESCE(SUM(LEAST(amount_fen, 0)), 0) "
        "FROM cash_movements WHERE shift_id = ?");
    statement.setInt64(1, shift_id);
    Rows row(statement.executeQuery());
    row->next();
    totals.cash_in_fen = row->getInt64(1);
    totals.cash_out_fen = -row->getInt64(2);
  }
  {
    // An order paid at handover names no shift: its cash went into the drawer of the register
    // whose shift was open then. A handover holds the open shift in share mode, so a close waits
    // for it and closed_at comes after every such entry.
    auto& statement = unit.statement(
        "SELECT COUNT(DISTINCT e.id), COALESCE(SUM(p.amount_fen), 0) FROM shifts s "
        "JOIN journal_entries e ON e.kind = 'order_payment' AND e.created_at >= s.opened_at "
        "  AND (s.closed_at IS NULL OR e.created_at <= s.closed_at) "
        "JOIN postings p ON p.entry_id = e.id "
        "JOIN ledger_accounts a ON a.id = p.account_id AND a.code = ? "
        "WHERE s.id = ?");
    statement.setString(1, drawer_account);
    statement.setInt64(2, shift_id);
    Rows row(statement.executeQuery());
    row->next();
    totals.orders_paid_count = row->getInt64(1);
    totals.orders_paid_fen = row->getInt64(2);
  }
  {
    auto& statement = unit.statement(
        "SELECT COUNT(*), COALESCE(SUM(amount_fen), 0) FROM refund_repayments "
        "WHERE shift_id = ? AND method = 'cash'");
    statement.setInt64(1, shift_id);
    Rows row(statement.executeQuery());
    row->next();
    totals.owed_repaid_count = row->getInt64(1);
    totals.owed_repaid_fen = row->getInt64(2);
  }
  return totals;
}

std::optional<SellableProduct> sellable_by_id(UnitOfWork& unit, std::int64_t id,
                                              const std::string& day) {
  auto& statement = unit.statement(sellable_query("WHERE p.id = ?"));
  statement.setString(1, day);
  statement.setString(2, day);
  statement.setInt64(3, id);
  return read_sellable(statement);
}

std::optional<SellableProduct> sellable_by_barcode(UnitOfWork& unit, const std::string& barcode,
                                                   const std::string& day) {
  auto& statement = unit.statement(sellable_query("WHERE p.barcode = ?"));
  statement.setString(1, day);
  statement.setString(2, day);
  statement.setString(3, barcode);
  return read_sellable(statement);
}

std::optional<SellableProduct> sellable_by_plu(UnitOfWork& unit, int plu, const std::string& day) {
  auto& statement = unit.statement(sellable_query("WHERE p.plu = ?"));
  statement.setString(1, day);
  statement.setString(2, day);
  statement.setInt(3, plu);
  return read_sellable(statement);
}

std::vector<domain::Fen> prices_in_force_between(UnitOfWork& unit, std::int64_t product_id,
                                                 std::int64_t from, std::int64_t to) {
  auto& statement = unit.statement(
      "SELECT DISTINCT c.old_price_fen FROM product_price_changes c WHERE c.product_id = ? "
      "AND c.changed_at > TIMESTAMPADD(MICROSECOND, ?, TIMESTAMP'1970-01-01 00:00:00') "
      "AND NOT EXISTS (SELECT 1 FROM product_price_changes e WHERE e.product_id = c.product_id "
      "  AND e.changed_at < c.changed_at "
      "  AND e.changed_at >= TIMESTAMPADD(MICROSECOND, ?, TIMESTAMP'1970-01-01 00:00:00') "
      "  AND e.id <> c.id)");
  statement.setInt64(1, product_id);
  statement.setInt64(2, from);
  statement.setInt64(3, to);
  Rows rows(statement.executeQuery());
  std::vector<domain::Fen> prices;
  while (rows->next())
    prices.emplace_back(rows->getInt64(1));
  return prices;
}

namespace {

/// Books what an offline sale found missing from the shelf: a shortfall document, the quantity
/// added to the lot that sells first (or a new lot), and its move, before the sale takes it.
std::int64_t book_shortfall(UnitOfWork& unit, std::int64_t product_id, std::int64_t missing,
                            std::int64_t by) {
  const auto document_id =
      insert_document(unit, DocumentKind::shortfall, std::nullopt,
                      "离线销售时库存不足 / found short by an offline sale", by);
  const auto lots = lock_lots(unit, product_id);
  std::int64_t lot_id = 0;
  if (!lots.empty()) {
    lot_id = lots.front().lot_id;
    add_to_lot(unit, lot_id, missing);
  } else {
    LotRecord lot;
    lot.product_id = product_id;
    lot.lot = "盘亏补记";
    lot.remaining = missing;
    lot_id = insert_lot(unit, lot);
  }
  add_on_hand(unit, product_id, missing);
  const LedgerEntry move{product_id, lot_id, "shortfall", missing, "stock", document_id, by};
  append_to_ledger(unit, std::span(&move, 1));
  return missing;
}

}  // namespace

Taken take_stock(UnitOfWork& unit, std::int64_t product_id, std::int64_t quantity,
                 std::chrono::year_month_day today, bool offline, std::int64_t by) {
  Taken taken;
  if (!take_on_hand(unit, product_id, quantity)) {
    const auto level = lock_level(unit, product_id);
    const std::int64_t available = level ? domain::available(level->on_hand, level->reserved) : 0;
    if (!offline)
      throw Error(
          ErrorCode::out_of_stock, "库存不足 / not enough in stock",
          {{"product_id", std::to_string(product_id)}, {"available", std::to_string(available)}});
    // The goods have left the shop: record what the shelf lacked (if anything is still
    // lacking now that the level is locked), then sell it.
    if (available < quantity)
      taken.shortfall = book_shortfall(unit, product_id, quantity - available, by);
    if (!take_on_hand(unit, product_id, quantity))
      throw Error(ErrorCode::internal, "internal error", {},
                  "shortfall booking left product " + std::to_string(product_id) + " short");
  }
  const auto lots = lock_lots(unit, product_id);
  // An offline sale already happened: expired goods that left the shelf are still sold.
  const auto day = offline ? std::chrono::year_month_day{std::chrono::year{1970},
                                                         std::chrono::January, std::chrono::day{1}}
                           : today;
  try {
    taken.lots = domain::pick_lots_fefo(lots, quantity, day);
  } catch (const Error& error) {
    throw error.with_detail("product_id", std::to_string(product_id));
  }
  for (const auto& lot : taken.lots)
    if (!take_from_lot(unit, lot.lot_id, product_id, lot.quantity))
      throw Error(ErrorCode::internal, "internal error", {},
                  "lot " + std::to_string(lot.lot_id) + " changed under its lock");
  for (const auto& lot : lots)
    for (const auto& take : taken.lots)
      if (take.lot_id == lot.lot_id) taken.lot_names[lot.lot_id] = lot.lot;
  return taken;
}

NumberedRegister next_sale_number(UnitOfWork& unit, std::int64_t register_id,
                                  const std::string& business_day) {
  auto& statement = unit.statement(
      "UPDATE registers SET sale_seq = LAST_INSERT_ID(IF(sale_day = ?, sale_seq + 1, 1)), "
      "sale_day = ? WHERE id = ?");
  statement.setString(1, business_day);
  statement.setString(2, business_day);
  statement.setInt64(3, register_id);
  if (statement.executeUpdate() != 1)
    throw Error(ErrorCode::internal, "internal error", {},
                "register " + std::to_string(register_id) + " is gone");
  // The register as the receipt shows it, and the sequence just taken, in one read.
  auto& read = unit.statement(std::string(kRegisterColumns) +
                              ", LAST_INSERT_ID() FROM registers WHERE id = ?");
  read.setInt64(1, register_id);
  Rows row(read.executeQuery());
  row->next();
  NumberedRegister numbered{{}, read_register(*row)};
  const std::int64_t sequence = row->getInt64(kRegisterColumnCount + 1);
  std::string day = business_day;
  day.erase(std::remove(day.begin(), day.end(), '-'), day.end());
  char number[48];
  std::snprintf(number, sizeof number, "%s-%lld-%04lld", day.c_str(),
                static_cast<long long>(register_id), static_cast<long long>(sequence));
  numbered.number = number;
  return numbered;
}

std::int64_t insert_sale(UnitOfWork& unit, SaleRecord& sale) {
  auto& head = unit.statement(
      "INSERT INTO sales (number, shift_id, register_id, cashier_id, business_day, subtotal_fen, "
      "discount_fen, rounding_fen, total_fen, change_fen, offline, rung_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
      "TIMESTAMPADD(MICROSECOND, ?, TIMESTAMP'1970-01-01 00:00:00')) "
      "RETURNING id, created_at");
  head.setString(1, sale.number);
  head.setInt64(2, sale.shift_id);
  head.setInt64(3, sale.register_id);
  head.setInt64(4, sale.cashier_id);
  head.setString(5, sale.business_day);
  head.setInt64(6, sale.subtotal_fen);
  head.setInt64(7, sale.discount_fen);
  head.setInt64(8, sale.rounding_fen);
  head.setInt64(9, sale.total_fen);
  head.setInt64(10, sale.change_fen);
  head.setBoolean(11, sale.offline);
  set_optional(head, 12, sale.rung_at);
  {
    Rows row(head.executeQuery());
    row->next();
    sale.id = row->getInt64(1);
    sale.created_at = micros(*row, 2);
  }

  // Lines in one statement, returning the ids they got by line number (Galera sets
  // auto_increment_increment to the cluster size, so ids are not consecutive there).
  std::string query =
      "INSERT INTO sale_lines (sale_id, line_no, product_id, village_id, name, unit, quantity, "
      "unit_price_fen, list_fen, line_discount_fen, sale_discount_fen, gross_fen, commission_bps, "
      "fee_fen, share_fen, code, bundle_product_id, bundle_name, bundle_quantity, bundle_group) "
      "VALUES ";
  query += value_rows(sale.lines.size(), 20);
  query += " RETURNING id, line_no";
  auto& lines = unit.statement(query);
  int index = 1;
  for (const auto& line : sale.lines) {
    lines.setInt64(index++, sale.id);
    lines.setInt(index++, line.line_no);
    lines.setInt64(index++, line.product_id);
    lines.setInt64(index++, line.village_id);
    lines.setString(index++, line.name);
    lines.setString(index++, std::string(domain::to_string(line.unit)));
    lines.setInt64(index++, line.quantity);
    lines.setInt64(index++, line.unit_price_fen);
    lines.setInt64(index++, line.list_fen);
    lines.setInt64(index++, line.line_discount_fen);
    lines.setInt64(index++, line.sale_discount_fen);
    lines.setInt64(index++, line.gross_fen);
    lines.setInt(index++, line.commission_bps);
    lines.setInt64(index++, line.fee_fen);
    lines.setInt64(index++, line.share_fen);
    if (line.code)
      lines.setString(index++, *line.code);
    else
      lines.setNull(index++, 0);
    if (line.bundle_product_id) {
      lines.setInt64(index++, *line.bundle_product_id);
      lines.setString(index++, line.bundle_name);
      lines.setInt64(index++, line.bundle_quantity);
      lines.setInt(index++, line.bundle_group);
    } else {
      for (int i = 0; i < 4; ++i)
        lines.setNull(index++, 0);
    }
  }
  {
    Rows rows(lines.executeQuery());
    std::map<int, std::int64_t> by_number;
    while (rows->next())
      by_number[rows->getInt(2)] = rows->getInt64(1);
    for (auto& line : sale.lines)
      line.id = by_number.at(line.line_no);
  }

  if (!sale.tenders.empty()) {
    std::string tenders_query =
        "INSERT INTO sale_tenders (sale_id, method, amount_fen, tendered_fen, reference) VALUES ";
    tenders_query += value_rows(sale.tenders.size(), 5);
    auto& tenders = unit.statement(tenders_query);
    index = 1;
    for (const auto& tender : sale.tenders) {
      tenders.setInt64(index++, sale.id);
      tenders.setString(index++, tender.method);
      tenders.setInt64(index++, tender.amount_fen);
      set_optional(tenders, index++, tender.tendered_fen);
      tenders.setString(index++, tender.reference);
    }
    tenders.executeUpdate();
  }
  return sale.id;
}

void insert_sale_lots(UnitOfWork& unit, const SaleRecord& sale) {
  std::size_t lot_count = 0;
  for (const auto& line : sale.lines)
    lot_count += line.lots.size();
  if (lot_count == 0) return;
  std::string query = "INSERT INTO sale_line_lots (sale_line_id, lot_id, quantity) VALUES ";
  query += value_rows(lot_count, 3);
  auto& lots = unit.statement(query);
  int index = 1;
  for (const auto& line : sale.lines)
    for (const auto& lot : line.lots) {
      lots.setInt64(index++, line.id);
      lots.setInt64(index++, lot.lot_id);
      lots.setInt64(index++, lot.quantity);
    }
  lots.executeUpdate();
}

std::optional<SaleRecord> find_sale(UnitOfWork& unit, std::int64_t id, bool lock_lines) {
  SaleRecord sale;
  {
    auto& statement = unit.statement(std::string(kSaleColumns) + "WHERE s.id = ?");
    statement.setInt64(1, id);
    Rows row(statement.executeQuery());
    if (!row->next()) return std::nullopt;
    sale = read_sale(*row);
  }
  if (lock_lines) {
    // The lines alone: the read below joins villages and products, and a locking read would
    // lock their rows too, which a sale's INSERT of its lines needs for its foreign keys (a
    // refund racing sales of the same products deadlocked). READ COMMITTED: the plain read
    // after the lock sees the lines as locked.
    auto& statement = unit.statement("SELECT id FROM sale_lines WHERE sale_id = ? FOR UPDATE");
    statement.setInt64(1, id);
    Rows locked(statement.executeQuery());
    while (locked->next())
      continue;  // each line is locked as it is read
  }
  {
    auto& statement = unit.statement(std::string(
        "SELECT l.id, l.line_no, l.product_id, l.village_id, v.name, l.name, l.unit, "
        "       l.quantity, l.unit_price_fen, l.list_fen, l.line_discount_fen, "
        "       l.sale_discount_fen, l.gross_fen, l.commission_bps, l.fee_fen, l.share_fen, "
        "       l.refunded_quantity, l.code, l.bundle_product_id, l.bundle_name, "
        "       l.bundle_quantity, l.bundle_group, p.village_id "
        "FROM sale_lines l JOIN villages v ON v.id = l.village_id "
        "JOIN products p ON p.id = l.product_id WHERE l.sale_id = ? "
        "ORDER BY l.line_no"));
    statement.setInt64(1, id);
    Rows rows(statement.executeQuery());
    while (rows->next()) {
      SaleLineRecord line;
      line.id = rows->getInt64(1);
      line.line_no = rows->getInt(2);
      line.product_id = rows->getInt64(3);
      line.village_id = rows->getInt64(4);
      line.village_name = rows->getString(5);
      line.name = rows->getString(6);
      line.unit = domain::parse_unit(std::string(rows->getString(7))).value_or(domain::Unit::piece);
      line.quantity = rows->getInt64(8);
      line.unit_price_fen = rows->getInt64(9);
      line.list_fen = rows->getInt64(10);
      line.line_discount_fen = rows->getInt64(11);
      line.sale_discount_fen = rows->getInt64(12);
      line.gross_fen = rows->getInt64(13);
      line.commission_bps = rows->getInt(14);
      line.fee_fen = rows->getInt64(15);
      line.share_fen = rows->getInt64(16);
      line.refunded_quantity = rows->getInt64(17);
      if (!rows->isNull(18)) line.code = rows->getString(18);
      if (!rows->isNull(19)) {
        line.bundle_product_id = rows->getInt64(19);
        line.bundle_name = rows->getString(20);
        line.bundle_quantity = rows->getInt64(21);
        line.bundle_group = rows->getInt(22);
      }
      line.product_village_id = rows->getInt64(23);
      sale.lines.push_back(std::move(line));
    }
  }
  {
    auto& statement = unit.statement(
        "SELECT ll.sale_line_id, ll.lot_id, sl.lot, ll.quantity FROM sale_line_lots ll "
        "JOIN sale_lines l ON l.id = ll.sale_line_id JOIN stock_lots sl ON sl.id = ll.lot_id "
        "WHERE l.sale_id = ? ORDER BY ll.sale_line_id, sl.expires_on IS NULL, sl.expires_on, "
        "ll.lot_id");
    statement.setInt64(1, id);
    Rows rows(statement.executeQuery());
    while (rows->next()) {
      const std::int64_t line_id = rows->getInt64(1);
      for (auto& line : sale.lines)
        if (line.id == line_id)
          line.lots.push_back({rows->getInt64(2), rows->getString(3), rows->getInt64(4)});
    }
  }
  {
    auto& statement = unit.statement(
        "SELECT method, amount_fen, tendered_fen, reference FROM sale_tenders WHERE sale_id = ? "
        "ORDER BY id");
    statement.setInt64(1, id);
    Rows rows(statement.executeQuery());
    while (rows->next())
      sale.tenders.push_back(
          {rows->getString(1), rows->getInt64(2), optional_int64(*rows, 3), rows->getString(4)});
  }
  {
    auto& statement = unit.statement(
        "SELECT id, method, total_fen, created_at FROM refunds WHERE sale_id = ? ORDER BY id");
    statement.setInt64(1, id);
    Rows rows(statement.executeQuery());
    while (rows->next())
      sale.refunds.push_back(
          {rows->getInt64(1), rows->getString(2), rows->getInt64(3), micros(*rows, 4)});
  }
  return sale;
}

std::optional<std::string> sale_first_tender(UnitOfWork& unit, std::int64_t sale_id) {
  auto& statement = unit.statement(
      "SELECT s.id, (SELECT t.method FROM sale_tenders t WHERE t.sale_id = s.id ORDER BY t.id "
      "LIMIT 1) FROM sales s WHERE s.id = ?");
  statement.setInt64(1, sale_id);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return row->isNull(2) ? std::string("cash") : std::string(row->getString(2));
}

std::optional<std::int64_t> find_sale_id_by_number(UnitOfWork& unit, const std::string& number) {
  auto& statement = unit.statement("SELECT id FROM sales WHERE number = ?");
  statement.setString(1, number);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return row->getInt64(1);
}

std::vector<SaleRecord> list_sales(UnitOfWork& unit, std::optional<std::int64_t> shift_id,
                                   std::optional<std::int64_t> cashier_id,
                                   std::optional<std::string> business_day,
                                   std::optional<std::int64_t> before_id, int limit) {
  auto& statement =
      unit.statement(std::string(kSaleColumns) +
                     "WHERE (? IS NULL OR s.shift_id = ?) AND (? IS NULL OR s.cashier_id = ?) "
                     "  AND (? IS NULL OR s.business_day = ?) AND (? IS NULL OR s.id < ?) "
                     "ORDER BY s.id DESC LIMIT ?");
  set_optional(statement, 1, shift_id);
  set_optional(statement, 2, shift_id);
  set_optional(statement, 3, cashier_id);
  set_optional(statement, 4, cashier_id);
  if (business_day) {
    statement.setString(5, *business_day);
    statement.setString(6, *business_day);
  } else {
    statement.setNull(5, 0);
    statement.setNull(6, 0);
  }
  set_optional(statement, 7, before_id);
  set_optional(statement, 8, before_id);
  statement.setInt(9, limit);
  Rows rows(statement.executeQuery());
  std::vector<SaleRecord> sales;
  while (rows->next())
    sales.push_back(read_sale(*rows));
  return sales;
}

void insert_refund_line_rows(UnitOfWork& unit, const char* table, const char* parent_column,
                             std::int64_t parent_id, const std::vector<RefundLineRecord>& lines) {
  auto& statement = unit.statement(std::string("INSERT INTO ") + table + " (" + parent_column +
                                   ", sale_line_id, quantity, gross_fen, fee_fen, share_fen, "
                                   "restock) VALUES " +
                                   value_rows(lines.size(), 7));
  int index = 1;
  for (const auto& line : lines) {
    statement.setInt64(index++, parent_id);
    statement.setInt64(index++, line.sale_line_id);
    statement.setInt64(index++, line.quantity);
    statement.setInt64(index++, line.gross_fen);
    statement.setInt64(index++, line.fee_fen);
    statement.setInt64(index++, line.share_fen);
    statement.setBoolean(index++, line.restock);
  }
  statement.executeUpdate();
}

bool insert_refund(UnitOfWork& unit, RefundRecord& refund) {
  auto& mark = unit.statement(
      "UPDATE sale_lines SET refunded_quantity = refunded_quantity + ? "
      "WHERE id = ? AND sale_id = ? AND refunded_quantity + ? <= quantity");
  for (const auto& line : refund.lines) {
    mark.setInt64(1, line.quantity);
    mark.setInt64(2, line.sale_line_id);
    mark.setInt64(3, refund.sale_id);
    mark.setInt64(4, line.quantity);
    if (mark.executeUpdate() != 1) return false;
  }
  auto& head = unit.statement(
      "INSERT INTO refunds (sale_id, shift_id, cashier_id, method, total_fen, business_day, "
      "reason) VALUES (?, ?, ?, ?, ?, ?, ?)");
  head.setInt64(1, refund.sale_id);
  set_optional(head, 2, refund.shift_id);
  head.setInt64(3, refund.cashier_id);
  head.setString(4, refund.method);
  head.setInt64(5, refund.total_fen);
  head.setString(6, refund.business_day);
  head.setString(7, refund.reason);
  head.executeUpdate();
  refund.id = last_insert_id(unit);

  insert_refund_line_rows(unit, "refund_lines", "refund_id", refund.id, refund.lines);
  return true;
}

std::int64_t insert_held_cart(UnitOfWork& unit, std::int64_t register_id, std::int64_t cashier_id,
                              const std::string& label, const std::string& cart) {
  auto& statement = unit.statement(
      "INSERT INTO held_carts (register_id, cashier_id, label, cart) VALUES (?, ?, ?, ?)");
  statement.setInt64(1, register_id);
  statement.setInt64(2, cashier_id);
  statement.setString(3, label);
  statement.setString(4, cart);
  statement.executeUpdate();
  return last_insert_id(unit);
}

namespace {
constexpr const char* kHeldColumns =
    "SELECT h.id, h.register_id, u.username, h.label, h.cart, h.created_at "
    "FROM held_carts h JOIN users u ON u.id = h.cashier_id ";

HeldCartRecord read_held(sql::ResultSet& row) {
  return {row.getInt64(1),  row.getInt64(2),  row.getString(3),
          row.getString(4), row.getString(5), micros(row, 6)};
}
}  // namespace

std::vector<HeldCartRecord> list_held_carts(UnitOfWork& unit, std::int64_t register_id) {
  auto& statement =
      unit.statement(std::string(kHeldColumns) + "WHERE h.register_id = ? ORDER BY h.id LIMIT 100");
  statement.setInt64(1, register_id);
  Rows rows(statement.executeQuery());
  std::vector<HeldCartRecord> carts;
  while (rows->next())
    carts.push_back(read_held(*rows));
  return carts;
}

std::optional<HeldCartRecord> find_held_cart(UnitOfWork& unit, std::int64_t register_id,
                                             std::int64_t id, RowLock lock) {
  auto& statement = unit.statement(std::string(kHeldColumns) +
                                   "WHERE h.id = ? AND h.register_id = ?" + lock_clause(lock));
  statement.setInt64(1, id);
  statement.setInt64(2, register_id);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return read_held(*row);
}

std::optional<HeldCartRecord> take_held_cart(UnitOfWork& unit, std::int64_t register_id,
                                             std::int64_t id) {
  auto cart = find_held_cart(unit, register_id, id, RowLock::update);
  if (!cart) return std::nullopt;
  auto& remove = unit.statement("DELETE FROM held_carts WHERE id = ?");
  remove.setInt64(1, id);
  remove.executeUpdate();
  return cart;
}

}  // namespace yizhan::store
