// SQL for stock: levels, lots, the documents that move goods (receipts, counts, write-offs,
// returns) and the append-only stock ledger.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "yizhan/domain/quantity.hpp"
#include "yizhan/domain/stock.hpp"

namespace yizhan::store {

class UnitOfWork;

using Date = std::chrono::year_month_day;

/// A product's level with what a stock list shows of the product.
struct StockLevelRecord {
  std::int64_t product_id = 0;
  std::string sku;
  std::string name;
  domain::Unit unit = domain::Unit::piece;
  std::int64_t village_id = 0;
  std::string village_name;
  std::int64_t category_id = 0;
  std::string category_name;
  bool active = true;
  std::optional<std::int64_t> low_stock;
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;
  std::optional<Date> next_expiry;  ///< earliest expiry among lots with something left
};

/// Filters for a stock list. Dates are business dates, compared with lots' expires_on.
struct StockQuery {
  std::optional<std::int64_t> village_id;
  std::optional<std::int64_t> category_id;
  bool low_only = false;  ///< only products whose available is at or below their low_stock
  std::optional<Date> expiring_by;  ///< only products with a lot left that expires by then
  int limit = 20;
  int offset = 0;
};

/// One page of levels (by product id) and the number of all matches.
std::pair<std::vector<StockLevelRecord>, std::int64_t> list_stock(UnitOfWork& unit,
                                                                  const StockQuery& query);
std::optional<StockLevelRecord> find_stock(UnitOfWork& unit, std::int64_t product_id);

/// Creates the (empty) level row of a new product, in the transaction that inserts it.
void insert_stock_level(UnitOfWork& unit, std::int64_t product_id);

/// A level row as locked for a change.
struct LevelRow {
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;
};

/// Reads and locks (FOR UPDATE) a product's level row; nothing when the product has none.
std::optional<LevelRow> lock_level(UnitOfWork& unit, std::int64_t product_id);

/// Adds `quantity` (> 0) to on_hand; false when the product has no level row.
bool add_on_hand(UnitOfWork& unit, std::int64_t product_id, std::int64_t quantity);

/// Takes `quantity` (> 0) off on_hand only if available (on_hand − reserved) covers it:
/// a conditional update; false when it does not (nothing changed).
bool take_on_hand(UnitOfWork& unit, std::int64_t product_id, std::int64_t quantity);

/// A row of `stock_lots`.
struct LotRecord {
  std::int64_t id = 0;
  std::int64_t product_id = 0;
  std::optional<std::int64_t> receipt_id;
  std::string lot;
  std::optional<Date> produced_on;
  std::optional<Date> expires_on;
  std::string certificate;
  std::int64_t received = 0;
  std::int64_t remaining = 0;
  std::int64_t created_at_us = 0;
};

/// Inserts a lot (received = remaining = the given quantity) and returns its id.
std::int64_t insert_lot(UnitOfWork& unit, const LotRecord& lot);
std::optional<LotRecord> find_lot(UnitOfWork& unit, std::int64_t lot_id);
/// A product's lots in the order they sell (FEFO: earliest expiry first, none last, then id);
/// only those with something left unless `include_empty`.
std::vector<LotRecord> product_lots(UnitOfWork& unit, std::int64_t product_id, bool include_empty);
/// The lots a receipt brought in, in line order.
std::vector<LotRecord> receipt_lots(UnitOfWork& unit, std::int64_t receipt_id);
/// A product's lots with something left, locked FOR UPDATE (take the level row first).
std::vector<domain::LotStock> lock_lots(UnitOfWork& unit, std::int64_t product_id);
/// The product's most recently received lot, if any.
std::optional<std::int64_t> latest_lot(UnitOfWork& unit, std::int64_t product_id);

/// Takes `quantity` (> 0) from a lot of `product_id` only if its remaining covers it: a
/// conditional update; false when it does not (or the lot is not that product's).
bool take_from_lot(UnitOfWork& unit, std::int64_t lot_id, std::int64_t product_id,
                   std::int64_t quantity);
/// Adds `quantity` (> 0) to a lot's remaining.
void add_to_lot(UnitOfWork& unit, std::int64_t lot_id, std::int64_t quantity);

/// What a stock document is.
enum class DocumentKind { receipt, count, write_off, ret, shortfall };
std::string_view to_string(DocumentKind kind);

/// A row of `stock_documents` with the names a reader wants.
struct DocumentRecord {
  std::int64_t id = 0;
  DocumentKind kind = DocumentKind::receipt;
  std::optional<std::int64_t> village_id;
  std::string village_name;
  std::string note;
  std::optional<std::int64_t> created_by;
  std::string created_by_name;  ///< username, or empty
  std::int64_t created_at_us = 0;
  std::int64_t line_count = 0;  ///< receipts: lots; others: lines
  std::int64_t quantity = 0;    ///< sum of the lines' quantities (base units, mixed)
};

std::int64_t insert_document(UnitOfWork& unit, DocumentKind kind,
                             std::optional<std::int64_t> village_id, const std::string& note,
                             std::optional<std::int64_t> created_by);
std::optional<DocumentRecord> find_document(UnitOfWork& unit, std::int64_t id);

/// Documents of one kind created in [from_us, to_us) (UTC microseconds; either open), of one
/// village when given; newest first, one page and the number of all matches.
struct DocumentQuery {
  DocumentKind kind = DocumentKind::receipt;
  std::optional<std::int64_t> village_id;
  std::optional<std::int64_t> from_us;
  std::optional<std::int64_t> to_us;
  int limit = 20;
  int offset = 0;
};
std::pair<std::vector<DocumentRecord>, std::int64_t> list_documents(UnitOfWork& unit,
                                                                    const DocumentQuery& query);

/// A line of a count, write-off or return.
struct DocumentLineRecord {
  std::int64_t product_id = 0;
  std::optional<std::int64_t> lot_id;
  std::int64_t quantity = 0;  ///< signed: what the line changed on hand by
  std::optional<std::int64_t> expected;
  std::optional<std::int64_t> counted;
  std::optional<std::string> reason;  ///< write-offs: spoiled, damaged, sample, other
  std::string note;
};
void insert_document_lines(UnitOfWork& unit, std::int64_t document_id,
                           std::span<const DocumentLineRecord> lines);

/// A stock ledger row to append. `kind` is a stock_moves kind (receipt, return, adjustment,
/// write_off, …); the document is a stock document (`document_kind` "stock") unless told.
struct LedgerEntry {
  std::int64_t product_id = 0;
  std::optional<std::int64_t> lot_id;
  std::string kind;
  std::int64_t quantity = 0;  ///< signed, never 0
  std::string document_kind = "stock";
  std::int64_t document_id = 0;
  std::optional<std::int64_t> created_by;
};
/// Appends rows to the ledger (never updated or deleted).
void append_to_ledger(UnitOfWork& unit, std::span<const LedgerEntry> entries);

/// A ledger row as read back, with the document's own kind for stock documents.
struct LedgerRow {
  std::int64_t id = 0;
  std::optional<std::int64_t> lot_id;
  std::string lot;
  std::string kind;
  std::int64_t quantity = 0;
  std::string document_kind;
  std::int64_t document_id = 0;
  std::optional<std::int64_t> created_by;
  std::string created_by_name;
  std::int64_t created_at_us = 0;
  std::int64_t product_id = 0;
  std::string product_name;
};

/// Up to `limit` moves of one kind (e.g. "shortfall") over all products, ids below
/// `before_id`, newest first.
std::vector<LedgerRow> list_moves_of_kind(UnitOfWork& unit, const std::string& kind, int limit,
                                          std::optional<std::int64_t> before_id);

/// Up to `limit` of a product's moves with ids below `before_id` (all when none), newest
/// first: paging by key.
std::vector<LedgerRow> list_moves(UnitOfWork& unit, std::int64_t product_id, int limit,
                                  std::optional<std::int64_t> before_id);

/// The sums of a product's moves up to and including move `through_id`: on hand (every kind
/// but reserve and release) and reserved (reserve and release).
struct LedgerSums {
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;
};
LedgerSums ledger_sums_through(UnitOfWork& unit, std::int64_t product_id, std::int64_t through_id);

/// For `yizhan check`: per product, its level beside what its ledger and its lots add up to,
/// read in one statement (one consistent snapshot).
struct StockFigures {
  std::int64_t product_id = 0;
  std::string sku;
  bool has_level = false;
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;
  std::int64_t ledger_on_hand = 0;
  std::int64_t ledger_reserved = 0;
  std::int64_t lots_remaining = 0;
  std::int64_t negative_lots = 0;  ///< lots whose remaining is below zero
};
std::vector<StockFigures> stock_figures(UnitOfWork& unit);

/// Parses MariaDB's "YYYY-MM-DD"; nothing for anything else.
std::optional<Date> parse_sql_date(const std::string& text);
/// "YYYY-MM-DD".
std::string format_sql_date(Date date);

}  // namespace yizhan::store
