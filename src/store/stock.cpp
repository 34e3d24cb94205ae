// Stock in MariaDB: levels, lots, stock documents and the append-only ledger.
#include "yizhan/store/stock.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <cstdio>
#include <memory>

#include "rows.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::store {
namespace {

using Rows = std::unique_ptr<sql::ResultSet>;

std::optional<Date> optional_date(sql::ResultSet& row, int column) {
  if (row.isNull(column)) return std::nullopt;
  return parse_sql_date(row.getString(column));
}

void bind_id(sql::PreparedStatement& statement, int index,
             const std::optional<std::int64_t>& value) {
  if (value) {
    statement.setInt64(index, *value);
  } else {
    statement.setNull(index, 0);
  }
}

void bind_date(sql::PreparedStatement& statement, int index, const std::optional<Date>& value) {
  if (value) {
    statement.setString(index, format_sql_date(*value));
  } else {
    statement.setNull(index, 0);
  }
}

/// "YYYY-MM-DD HH:MM:SS.ffffff" (UTC) for a DATETIME(6) parameter.
std::string sql_datetime(std::int64_t unix_microseconds) {
  using namespace std::chrono;
  const sys_time<microseconds> at{microseconds(unix_microseconds)};
  const auto day = floor<days>(at);
  const year_month_day date{day};
  const hh_mm_ss time{at - day};
  char text[40];
  std::snprintf(
      text, sizeof text, "%04d-%02u-%02u %02ld:%02ld:%02ld.%06ld", static_cast<int>(date.year()),
      static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
      static_cast<long>(time.hours().count()), static_cast<long>(time.minutes().count()),
      static_cast<long>(time.seconds().count()), static_cast<long>(time.subseconds().count()));
  return text;
}

// --- levels -----------------------------------------------------------------------------------

constexpr const char* kLevelColumns =
    "SELECT p.id, p.sku, p.name, p.unit, p.village_id, v.name, p.category_id, c.name, p.active, "
    "       p.low_stock, l.on_hand, l.reserved, "
    "       (SELECT MIN(t.expires_on) FROM stock_lots t "
    "         WHERE t.product_id = p.id AND t.remaining > 0) "
    "FROM products p JOIN stock_levels l ON l.product_id = p.id "
    "JOIN villages v ON v.id = p.village_id JOIN categories c ON c.id = p.category_id ";

// One statement text for every filter combination, so it is prepared once per connection.
// "Low" is available (on hand less reserved) at or below the product's threshold.
// Gift boxes hold no stock of their own (their components do): they have no level to list.
constexpr const char* kLevelFilter =
    "WHERE p.kind = 'item' AND (? IS NULL OR p.village_id = ?) AND (? IS NULL OR p.category_id = "
    "?) "
    "  AND (? = 0 OR (p.low_stock IS NOT NULL AND l.on_hand - l.reserved <= p.low_stock)) "
    "  AND (? IS NULL OR EXISTS (SELECT 1 FROM stock_lots e WHERE e.product_id = p.id "
    "       AND e.remaining > 0 AND e.expires_on <= ?)) ";
constexpr int kLevelFilterParameters = 7;

void bind_level_filter(sql::PreparedStatement& statement, const StockQuery& query) {
  bind_id(statement, 1, query.village_id);
  bind_id(statement, 2, query.village_id);
  bind_id(statement, 3, query.category_id);
  bind_id(statement, 4, query.category_id);
  statement.setBoolean(5, query.low_only);
  bind_date(statement, 6, query.expiring_by);
  bind_date(statement, 7, query.expiring_by);
}

StockLevelRecord read_level(sql::ResultSet& row) {
  StockLevelRecord r;
  r.product_id = row.getInt64(1);
  r.sku = row.getString(2);
  r.name = row.getString(3);
  r.unit = domain::parse_unit(std::string(row.getString(4))).value_or(domain::Unit::piece);
  r.village_id = row.getInt64(5);
  r.village_name = row.getString(6);
  r.category_id = row.getInt64(7);
  r.category_name = row.getString(8);
  r.active = row.getBoolean(9);
  r.low_stock = optional_int64(row, 10);
  r.on_hand = row.getInt64(11);
  r.reserved = row.getInt64(12);
  r.next_expiry = optional_date(row, 13);
  return r;
}

// --- lots -------------------------------------------------------------------------------------

constexpr const char* kLotColumns =
    "SELECT id, product_id, receipt_id, lot, produced_on, expires_on, certificate, received, "
    "       remaining, created_at FROM stock_lots ";

LotRecord read_lot(sql::ResultSet& row) {
  LotRecord lot;
  lot.id = row.getInt64(1);
  lot.product_id = row.getInt64(2);
  lot.receipt_id = optional_int64(row, 3);
  lot.lot = row.getString(4);
  lot.produced_on = optional_date(row, 5);
  lot.expires_on = optional_date(row, 6);
  lot.certificate = row.getString(7);
  lot.received = row.getInt64(8);
  lot.remaining = row.getInt64(9);
  lot.created_at_us = micros(row, 10);
  return lot;
}

std::vector<LotRecord> read_lots(sql::PreparedStatement& statement) {
  Rows rows(statement.executeQuery());
  std::vector<LotRecord> lots;
  while (rows->next())
    lots.push_back(read_lot(*rows));
  return lots;
}

// --- documents --------------------------------------------------------------------------------

constexpr const char* kDocumentColumns =
    "SELECT d.id, d.kind, d.village_id, v.name, d.note, d.created_by, u.username, d.created_at, "
    "       IF(d.kind = 'receipt', "
    "          (SELECT COUNT(*) FROM stock_lots t WHERE t.receipt_id = d.id), "
    "          (SELECT COUNT(*) FROM stock_document_lines n WHERE n.document_id = d.id)), "
    "       IF(d.kind = 'receipt', "
    "          (SELECT COALESCE(SUM(t.received), 0) FROM stock_lots t WHERE t.receipt_id = d.id), "
    "          (SELECT COALESCE(SUM(n.quantity), 0) FROM stock_document_lines n "
    "            WHERE n.document_id = d.id)) "
    "FROM stock_documents d LEFT JOIN villages v ON v.id = d.village_id "
    "LEFT JOIN users u ON u.id = d.created_by ";

DocumentKind parse_document_kind(const std::string& text) {
  if (text == "count") return DocumentKind::count;
  if (text == "write_off") return DocumentKind::write_off;
  if (text == "return") return DocumentKind::ret;
  if (text == "shortfall") return DocumentKind::shortfall;
  return DocumentKind::receipt;
}

DocumentRecord read_document(sql::ResultSet& row) {
  DocumentRecord d;
  d.id = row.getInt64(1);
  d.kind = parse_document_kind(row.getString(2));
  d.village_id = optional_int64(row, 3);
  if (!row.isNull(4)) d.village_name = row.getString(4);
  d.note = row.getString(5);
  d.created_by = optional_int64(row, 6);
  if (!row.isNull(7)) d.created_by_name = row.getString(7);
  d.created_at_us = micros(row, 8);
  d.line_count = row.getInt64(9);
  d.quantity = row.getInt64(10);
  return d;
}

}  // namespace

std::optional<Date> parse_sql_date(const std::string& text) {
  int y = 0;
  unsigned m = 0, d = 0;
  if (std::sscanf(text.c_str(), "%d-%u-%u", &y, &m, &d) != 3) return std::nullopt;
  const Date date{std::chrono::year{y}, std::chrono::month{m}, std::chrono::day{d}};
  if (!date.ok()) return std::nullopt;
  return date;
}

std::string format_sql_date(Date date) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()));
  return text;
}

std::string_view to_string(DocumentKind kind) {
  switch (kind) {
    case DocumentKind::receipt: return "receipt";
    case DocumentKind::count: return "count";
    case DocumentKind::write_off: return "write_off";
    case DocumentKind::ret: return "return";
    case DocumentKind::shortfall: return "shortfall";
  }
  return "receipt";
}

std::pair<std::vector<StockLevelRecord>, std::int64_t> list_stock(UnitOfWork& unit,
                                                                  const StockQuery& query) {
  std::int64_t total = 0;
  {
    auto& count = unit.statement(
        std::string("SELECT COUNT(*) FROM products p JOIN stock_levels l ON l.product_id = p.id ") +
        kLevelFilter);
    bind_level_filter(count, query);
    Rows rows(count.executeQuery());
    rows->next();
    total = rows->getInt64(1);
  }
  auto& statement =
      unit.statement(std::string(kLevelColumns) + kLevelFilter + "ORDER BY p.id LIMIT ? OFFSET ?");
  bind_level_filter(statement, query);
  statement.setInt(kLevelFilterParameters + 1, query.limit);
  statement.setInt(kLevelFilterParameters + 2, query.offset);
  Rows rows(statement.executeQuery());
  std::vector<StockLevelRecord> levels;
  while (rows->next())
    levels.push_back(read_level(*rows));
  return {std::move(levels), total};
}

std::optional<StockLevelRecord> find_stock(UnitOfWork& unit, std::int64_t product_id) {
  auto& statement = unit.statement(std::string(kLevelColumns) + "WHERE p.id = ?");
  statement.setInt64(1, product_id);
  Rows rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  return read_level(*rows);
}

void insert_stock_level(UnitOfWork& unit, std::int64_t product_id) {
  auto& statement = unit.statement("INSERT INTO stock_levels (product_id) VALUES (?)");
  statement.setInt64(1, product_id);
  statement.executeUpdate();
}

std::optional<LevelRow> lock_level(UnitOfWork& unit, std::int64_t product_id) {
  auto& statement =
      unit.statement("SELECT on_hand, reserved FROM stock_levels WHERE product_id = ? FOR UPDATE");
  statement.setInt64(1, product_id);
  Rows rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  return LevelRow{rows->getInt64(1), rows->getInt64(2)};
}

bool add_on_hand(UnitOfWork& unit, std::int64_t product_id, std::int64_t quantity) {
  auto& statement = unit.statement(
      "UPDATE stock_levels SET on_hand = on_hand + ?, updated_at = UTC_TIMESTAMP(6) "
      "WHERE product_id = ?");
  statement.setInt64(1, quantity);
  statement.setInt64(2, product_id);
  return statement.executeUpdate() == 1;
}

bool take_on_hand(UnitOfWork& unit, std::int64_t product_id, std::int64_t quantity) {
  auto& statement = unit.statement(
      "UPDATE stock_levels SET on_hand = on_hand - ?, updated_at = UTC_TIMESTAMP(6) "
      "WHERE product_id = ? AND on_hand - reserved >= ?");
  statement.setInt64(1, quantity);
  statement.setInt64(2, product_id);
  statement.setInt64(3, quantity);
  return statement.executeUpdate() == 1;
}

std::int64_t insert_lot(UnitOfWork& unit, const LotRecord& lot) {
  auto& statement = unit.statement(
      "INSERT INTO stock_lots (product_id, receipt_id, lot, produced_on, expires_on, certificate, "
      "received, remaining) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  statement.setInt64(1, lot.product_id);
  bind_id(statement, 2, lot.receipt_id);
  statement.setString(3, lot.lot);
  bind_date(statement, 4, lot.produced_on);
  bind_date(statement, 5, lot.expires_on);
  statement.setString(6, lot.certificate);
  statement.setInt64(7, lot.received);
  statement.setInt64(8, lot.remaining);
  statement.executeUpdate();
  return last_insert_id(unit);
}

std::optional<LotRecord> find_lot(UnitOfWork& unit, std::int64_t lot_id) {
  auto& statement = unit.statement(std::string(kLotColumns) + "WHERE id = ?");
  statement.setInt64(1, lot_id);
  auto lots = read_lots(statement);
  if (lots.empty()) return std::nullopt;
  return std::move(lots.front());
}

std::vector<LotRecord> product_lots(UnitOfWork& unit, std::int64_t product_id, bool include_empty) {
  auto& statement = unit.statement(std::string(kLotColumns) +
                                   "WHERE product_id = ? AND (? OR remaining > 0) "
                                   "ORDER BY expires_on IS NULL, expires_on, id");
  statement.setInt64(1, product_id);
  statement.setBoolean(2, include_empty);
  return read_lots(statement);
}

std::vector<LotRecord> receipt_lots(UnitOfWork& unit, std::int64_t receipt_id) {
  auto& statement = unit.statement(std::string(kLotColumns) + "WHERE receipt_id = ? ORDER BY id");
  statement.setInt64(1, receipt_id);
  return read_lots(statement);
}

std::vector<domain::LotStock> lock_lots(UnitOfWork& unit, std::int64_t product_id) {
  auto& statement = unit.statement(
      "SELECT id, expires_on, remaining, lot FROM stock_lots WHERE product_id = ? "
      "AND remaining > 0 ORDER BY expires_on IS NULL, expires_on, id FOR UPDATE");
  statement.setInt64(1, product_id);
  Rows rows(statement.executeQuery());
  std::vector<domain::LotStock> lots;
  while (rows->next()) {
    domain::LotStock lot;
    lot.lot_id = rows->getInt64(1);
    lot.expires_on = optional_date(*rows, 2);
    lot.remaining = rows->getInt64(3);
    lot.lot = rows->getString(4);
    lots.push_back(lot);
  }
  return lots;
}

std::optional<std::int64_t> latest_lot(UnitOfWork& unit, std::int64_t product_id) {
  auto& statement = unit.statement("SELECT MAX(id) FROM stock_lots WHERE product_id = ?");
  statement.setInt64(1, product_id);
  Rows rows(statement.executeQuery());
  if (!rows->next() || rows->isNull(1)) return std::nullopt;
  return rows->getInt64(1);
}

bool take_from_lot(UnitOfWork& unit, std::int64_t lot_id, std::int64_t product_id,
                   std::int64_t quantity) {
  auto& statement = unit.statement(
      "UPDATE stock_lots SET remaining = remaining - ? "
      "WHERE id = ? AND product_id = ? AND remaining >= ?");
  statement.setInt64(1, quantity);
  statement.setInt64(2, lot_id);
  statement.setInt64(3, product_id);
  statement.setInt64(4, quantity);
  return statement.executeUpdate() == 1;
}

void add_to_lot(UnitOfWork& unit, std::int64_t lot_id, std::int64_t quantity) {
  auto& statement = unit.statement("UPDATE stock_lots SET remaining = remaining + ? WHERE id = ?");
  statement.setInt64(1, quantity);
  statement.setInt64(2, lot_id);
  statement.executeUpdate();
}

std::int64_t insert_document(UnitOfWork& unit, DocumentKind kind,
                             std::optional<std::int64_t> village_id, const std::string& note,
                             std::optional<std::int64_t> created_by) {
  auto& statement = unit.statement(
      "INSERT INTO stock_documents (kind, village_id, note, created_by) VALUES (?, ?, ?, ?)");
  statement.setString(1, std::string(to_string(kind)));
  bind_id(statement, 2, village_id);
  statement.setString(3, note);
  bind_id(statement, 4, created_by);
  statement.executeUpdate();
  return last_insert_id(unit);
}

std::optional<DocumentRecord> find_document(UnitOfWork& unit, std::int64_t id) {
  auto& statement = unit.statement(std::string(kDocumentColumns) + "WHERE d.id = ?");
  statement.setInt64(1, id);
  Rows rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  return read_document(*rows);
}

std::pair<std::vector<DocumentRecord>, std::int64_t> list_documents(UnitOfWork& unit,
                                                                    const DocumentQuery& query) {
  static constexpr const char* kFilter =
      "WHERE d.kind = ? AND (? IS NULL OR d.village_id = ?) "
      "  AND (? IS NULL OR d.created_at >= ?) AND (? IS NULL OR d.created_at < ?) ";
  auto bind = [&](sql::PreparedStatement& statement) {
    statement.setString(1, std::string(to_string(query.kind)));
    bind_id(statement, 2, query.village_id);
    bind_id(statement, 3, query.village_id);
    for (const auto& [index, bound] : {std::pair{4, query.from_us}, std::pair{6, query.to_us}}) {
      if (bound) {
        statement.setString(index, sql_datetime(*bound));
        statement.setString(index + 1, sql_datetime(*bound));
      } else {
        statement.setNull(index, 0);
        statement.setNull(index + 1, 0);
      }
    }
  };
  std::int64_t total = 0;
  {
    auto& count = unit.statement(std::string("SELECT COUNT(*) FROM stock_documents d ") + kFilter);
    bind(count);
    Rows rows(count.executeQuery());
    rows->next();
    total = rows->getInt64(1);
  }
  auto& statement = unit.statement(std::string(kDocumentColumns) + kFilter +
                                   "ORDER BY d.created_at DESC, d.id DESC LIMIT ? OFFSET ?");
  bind(statement);
  statement.setInt(8, query.limit);
  statement.setInt(9, query.offset);
  Rows rows(statement.executeQuery());
  std::vector<DocumentRecord> documents;
  while (rows->next())
    documents.push_back(read_document(*rows));
  return {std::move(documents), total};
}

void insert_document_lines(UnitOfWork& unit, std::int64_t document_id,
                           std::span<const DocumentLineRecord> lines) {
  auto& statement = unit.statement(
      "INSERT INTO stock_document_lines (document_id, product_id, lot_id, quantity, expected, "
      "counted, reason, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  for (const auto& line : lines) {
    statement.setInt64(1, document_id);
    statement.setInt64(2, line.product_id);
    bind_id(statement, 3, line.lot_id);
    statement.setInt64(4, line.quantity);
    bind_id(statement, 5, line.expected);
    bind_id(statement, 6, line.counted);
    if (line.reason) {
      statement.setString(7, *line.reason);
    } else {
      statement.setNull(7, 0);
    }
    statement.setString(8, line.note);
    statement.executeUpdate();
  }
}

void append_to_ledger(UnitOfWork& unit, std::span<const LedgerEntry> entries) {
  // One multi-row INSERT per size (prepared once per connection), chunked so the statement
  // cache holds at most kChunk shapes: a sale's moves cost one round trip.
  constexpr std::size_t kChunk = 16;
  for (std::size_t start = 0; start < entries.size(); start += kChunk) {
    const auto chunk = entries.subspan(start, std::min(kChunk, entries.size() - start));
    std::string query =
        "INSERT INTO stock_moves (product_id, lot_id, kind, quantity, document_kind, document_id, "
        "created_by) VALUES ";
    query += value_rows(chunk.size(), 7);
    auto& statement = unit.statement(query);
    int index = 1;
    for (const auto& entry : chunk) {
      statement.setInt64(index++, entry.product_id);
      bind_id(statement, index++, entry.lot_id);
      statement.setString(index++, entry.kind);
      statement.setInt64(index++, entry.quantity);
      statement.setString(index++, entry.document_kind);
      statement.setInt64(index++, entry.document_id);
      bind_id(statement, index++, entry.created_by);
    }
    statement.executeUpdate();
  }
}

namespace {

constexpr const char* kLedgerColumns =
    "SELECT m.id, m.lot_id, t.lot, m.kind, m.quantity, m.document_kind, m.document_id, "
    "       m.created_by, u.username, m.created_at, m.product_id, p.name "
    "FROM stock_moves m LEFT JOIN stock_lots t ON t.id = m.lot_id "
    "JOIN products p ON p.id = m.product_id LEFT JOIN users u ON u.id = m.created_by ";

std::vector<LedgerRow> read_ledger_rows(sql::PreparedStatement& statement) {
  Rows rows(statement.executeQuery());
  std::vector<LedgerRow> moves;
  while (rows->next()) {
    LedgerRow m;
    m.id = rows->getInt64(1);
    m.lot_id = optional_int64(*rows, 2);
    if (!rows->isNull(3)) m.lot = rows->getString(3);
    m.kind = rows->getString(4);
    m.quantity = rows->getInt64(5);
    m.document_kind = rows->getString(6);
    m.document_id = rows->getInt64(7);
    m.created_by = optional_int64(*rows, 8);
    if (!rows->isNull(9)) m.created_by_name = rows->getString(9);
    m.created_at_us = micros(*rows, 10);
    m.product_id = rows->getInt64(11);
    m.product_name = rows->getString(12);
    moves.push_back(std::move(m));
  }
  return moves;
}

}  // namespace

std::vector<LedgerRow> list_moves(UnitOfWork& unit, std::int64_t product_id, int limit,
                                  std::optional<std::int64_t> before_id) {
  auto& statement = unit.statement(
      std::string(kLedgerColumns) +
      "WHERE m.product_id = ? AND (? IS NULL OR m.id < ?) ORDER BY m.id DESC LIMIT ?");
  statement.setInt64(1, product_id);
  bind_id(statement, 2, before_id);
  bind_id(statement, 3, before_id);
  statement.setInt(4, limit);
  return read_ledger_rows(statement);
}

std::vector<LedgerRow> list_moves_of_kind(UnitOfWork& unit, const std::string& kind, int limit,
                                          std::optional<std::int64_t> before_id) {
  auto& statement =
      unit.statement(std::string(kLedgerColumns) +
                     "WHERE m.kind = ? AND (? IS NULL OR m.id < ?) ORDER BY m.id DESC LIMIT ?");
  statement.setString(1, kind);
  bind_id(statement, 2, before_id);
  bind_id(statement, 3, before_id);
  statement.setInt(4, limit);
  return read_ledger_rows(statement);
}

LedgerSums ledger_sums_through(UnitOfWork& unit, std::int64_t product_id, std::int64_t through_id) {
  auto& statement = unit.statement(
      "SELECT COALESCE(SUM(IF(kind IN ('reserve', 'release'), 0, quantity)), 0), "
      "       COALESCE(SUM(IF(kind IN ('reserve', 'release'), quantity, 0)), 0) "
      "FROM stock_moves WHERE product_id = ? AND id <= ?");
  statement.setInt64(1, product_id);
  statement.setInt64(2, through_id);
  Rows rows(statement.executeQuery());
  rows->next();
  return {rows->getInt64(1), rows->getInt64(2)};
}

std::vector<StockFigures> stock_figures(UnitOfWork& unit) {
  auto& statement = unit.statement(
      "SELECT p.id, p.sku, l.product_id IS NOT NULL, COALESCE(l.on_hand, 0), "
      "       COALESCE(l.reserved, 0), COALESCE(m.on_hand, 0), COALESCE(m.reserved, 0), "
      "       COALESCE(t.remaining, 0), COALESCE(t.negative, 0) "
      "FROM products p LEFT JOIN stock_levels l ON l.product_id = p.id "
      "LEFT JOIN (SELECT product_id, "
      "                  SUM(IF(kind IN ('reserve', 'release'), 0, quantity)) AS on_hand, "
      "                  SUM(IF(kind IN ('reserve', 'release'), quantity, 0)) AS reserved "
      "           FROM stock_moves GROUP BY product_id) m ON m.product_id = p.id "
      "LEFT JOIN (SELECT product_id, SUM(remaining) AS remaining, "
      "                  SUM(remaining < 0) AS negative "
      "           FROM stock_lots GROUP BY product_id) t ON t.product_id = p.id "
      "ORDER BY p.id");
  Rows rows(statement.executeQuery());
  std::vector<StockFigures> figures;
  while (rows->next()) {
    StockFigures f;
    f.product_id = rows->getInt64(1);
    f.sku = rows->getString(2);
    f.has_level = rows->getBoolean(3);
    f.on_hand = rows->getInt64(4);
    f.reserved = rows->getInt64(5);
    f.ledger_on_hand = rows->getInt64(6);
    f.ledger_reserved = rows->getInt64(7);
    f.lots_remaining = rows->getInt64(8);
    f.negative_lots = rows->getInt64(9);
    figures.push_back(std::move(f));
  }
  return figures;
}

}  // namespace yizhan::store
