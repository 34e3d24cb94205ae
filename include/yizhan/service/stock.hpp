// Stock: receiving goods from villages (入库), levels and lots, write-offs (报损), returns to
// villages (退货给村) and counts (盘点). Every change of what is on hand is one transaction that
// writes the stock ledger, the levels and the lots together, and the audit log.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/domain/access.hpp"
#include "yizhan/domain/quantity.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/accounts.hpp"
#include "yizhan/service/idempotency.hpp"

namespace yizhan::store {
class Database;
}

namespace yizhan::service {

/// What the stock service needs from configuration.
struct StockSettings {
  domain::TimeZone zone = domain::TimeZone::shanghai();  ///< the business day's zone
  std::string station_name = "安海镇乡村联盟驿站";       ///< printed on receiving notes
  /// The current time; unset = the system clock (tests set it to move "today").
  std::function<std::chrono::system_clock::time_point()> clock;
};

/// One line of a receipt as the client sent it; unset = not given. Dates are "YYYY-MM-DD".
struct ReceiptLineRequest {
  std::optional<std::int64_t> product_id;
  std::optional<std::int64_t> quantity;
  std::optional<std::string> lot;  ///< the village's lot number; default: the business date
  std::optional<std::string> produced_on;
  std::optional<std::string> expires_on;   ///< default: produced_on + the product's shelf life
  std::optional<std::string> certificate;  ///< 合格证 or traceability number
};

/// Goods arriving from one village.
struct ReceiptRequest {
  std::optional<std::int64_t> village_id;
  std::string note;
  std::vector<ReceiptLineRequest> lines;
};

/// A lot as a reader sees it. Dates are "YYYY-MM-DD".
struct Lot {
  std::int64_t lot_id = 0;
  std::int64_t product_id = 0;
  std::optional<std::int64_t> receipt_id;
  std::string lot;
  std::int64_t received = 0;
  std::int64_t remaining = 0;
  std::optional<std::string> produced_on;
  std::optional<std::string> expires_on;
  std::string certificate;
  bool expired = false;  ///< expires_on is before today: not sold until written off
};

/// A receipt line: the lot it brought in, with its product.
struct ReceiptLine {
  std::string product_name;
  std::string sku;
  domain::Unit unit = domain::Unit::piece;
  Lot lot;
};

/// A receipt (入库单).
struct Receipt {
  std::int64_t id = 0;
  std::int64_t village_id = 0;
  std::string village_name;
  std::string note;
  std::string created_by;  ///< username, or "" (command line, demo)
  std::int64_t created_at_us = 0;
  std::int64_t line_count = 0;
  std::vector<ReceiptLine> lines;  ///< empty in lists
};

/// A receipt list: one village (village accounts: their own), business dates from–to inclusive.
struct ReceiptQuery {
  std::optional<std::int64_t> village_id;
  std::optional<std::string> from;  ///< "YYYY-MM-DD"
  std::optional<std::string> to;
  int limit = 20;
  int offset = 0;
};

struct ReceiptPage {
  std::vector<Receipt> items;
  std::int64_t total = 0;
};

/// A product's stock.
struct StockLevel {
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
  std::int64_t available = 0;  ///< on_hand − reserved
  bool low = false;            ///< available is at or below low_stock
  std::optional<std::string> next_expiry;
  std::vector<Lot> lots;  ///< only for one product, FEFO order
};

/// A stock list's filters. `expiring_days`: products with a lot left that expires within that
/// many days from today (expired lots included).
struct StockQuery {
  std::optional<std::int64_t> village_id;
  std::optional<std::int64_t> category_id;
  bool low_only = false;
  std::optional<std::int64_t> expiring_days;
  int limit = 20;
  int offset = 0;
};

struct StockPage {
  std::vector<StockLevel> items;
  std::int64_t total = 0;
};

/// A ledger row with the running balance after it.
struct Move {
  std::int64_t id = 0;
  std::string kind;  ///< receipt, sale, refund, return, adjustment, write_off, shortfall, …
  std::int64_t quantity = 0;
  std::int64_t balance = 0;   ///< on hand after this move
  std::int64_t reserved = 0;  ///< reserved after this move
  std::string document_kind;  ///< stock, sale, refund, order
  std::int64_t document_id = 0;
  std::optional<std::int64_t> lot_id;
  std::string lot;
  std::string by;  ///< username, or ""
  std::int64_t at_us = 0;
  std::int64_t product_id = 0;
  std::string product_name;
};

/// Moves newest first; pass `next_before` as `before` for the next (older) page.
struct MovePage {
  std::vector<Move> items;
  std::optional<std::int64_t> next_before;
};

/// A line of a write-off or a return, as the client sent it.
struct LotLineRequest {
  std::optional<std::int64_t> product_id;
  std::optional<std::int64_t> lot_id;
  std::optional<std::int64_t> quantity;
  std::optional<std::string> reason;  ///< write-offs: spoiled, damaged, sample, other
  std::optional<std::string> note;    ///< write-offs: required when the reason is "other"
};

/// 报损: goods taken off the shelf from given lots.
struct WriteOffRequest {
  std::string note;
  std::vector<LotLineRequest> lines;
};

/// 退货给村: goods sent back to their village from given lots.
struct ReturnRequest {
  std::optional<std::int64_t> village_id;
  std::string note;
  std::vector<LotLineRequest> lines;
};

/// A count line as the client sent it: what is on the shelf.
struct CountLineRequest {
  std::optional<std::int64_t> product_id;
  std::optional<std::int64_t> counted;
};

/// 盘点: counted against expected per product; differences booked as adjustments.
struct CountRequest {
  std::string note;
  std::vector<CountLineRequest> lines;
};

/// What a line of a count, write-off or return did to one lot.
struct LotChange {
  std::int64_t lot_id = 0;
  std::int64_t quantity = 0;  ///< signed
};

/// A line of a count, write-off or return as booked.
struct DocumentLine {
  std::int64_t product_id = 0;
  std::string product_name;
  domain::Unit unit = domain::Unit::piece;
  std::int64_t quantity = 0;  ///< the change of on hand, signed (write-offs, returns: negative)
  std::optional<std::int64_t> expected;  ///< counts
  std::optional<std::int64_t> counted;   ///< counts
  std::optional<std::string> reason;     ///< write-offs
  std::string note;
  std::vector<LotChange> lots;
};

/// A count, write-off or return as booked.
struct StockDocument {
  std::int64_t id = 0;
  std::string kind;  ///< count, write_off, return
  std::optional<std::int64_t> village_id;
  std::string note;
  std::string created_by;
  std::int64_t created_at_us = 0;
  std::vector<DocumentLine> lines;
};

class StockService {
 public:
  StockService(store::Database& database, StockSettings settings = {},
               int idempotency_retention_days = 7);

  [[nodiscard]] const StockSettings& settings() const { return settings_; }

  /// Renders a write's result as the answer stored for its Idempotency-Key.
  template <class T>
  using Render = std::function<StoredReply(const T&)>;

  /// Receives goods from a village: every line becomes a lot, all lines or none (422 naming the
  /// line's field, e.g. "lines[2].expires_on"). At most once per Idempotency-Key when given.
  StoredReply receive(const ReceiptRequest& request, const Actor& actor,
                      const std::optional<IdempotencyKey>& key, const Render<Receipt>& render);
  Receipt receive(const ReceiptRequest& request, const Actor& actor);

  /// Receipts newest first. A village account sees its own village's only (403 for another).
  ReceiptPage receipts(const domain::Principal& caller, const ReceiptQuery& query);
  /// One receipt with its lines; 404 when none, or when it is another village's.
  Receipt receipt(const domain::Principal& caller, std::int64_t id);

  /// Levels by product id. A village account sees its own village's products only (403 when it
  /// asks for another village).
  StockPage levels(const domain::Principal& caller, const StockQuery& query);
  /// One product's level and its lots with something left; 404 when none, or another
  /// village's product for a village account.
  StockLevel level(const domain::Principal& caller, std::int64_t product_id);
  /// A product's ledger, newest first, with the running balance; 404 for no such product.
  MovePage moves(std::int64_t product_id, std::optional<std::int64_t> before, int limit);
  /// Shortfalls booked by offline sales (goods that left the shop beyond the recorded stock),
  /// newest first over all products: the manager's list to look into.
  MovePage shortfalls(std::optional<std::int64_t> before, int limit);

  /// Writes goods off from the lots named (409 out_of_stock when a lot or the product's
  /// available does not cover it; nothing changes then).
  StoredReply write_off(const WriteOffRequest& request, const Actor& actor,
                        const std::optional<IdempotencyKey>& key,
                        const Render<StockDocument>& render);
  StockDocument write_off(const WriteOffRequest& request, const Actor& actor);

  /// Sends goods back to their village from the lots named (the lots' products must be that
  /// village's).
  StoredReply return_to_village(const ReturnRequest& request, const Actor& actor,
                                const std::optional<IdempotencyKey>& key,
                                const Render<StockDocument>& render);
  StockDocument return_to_village(const ReturnRequest& request, const Actor& actor);

  /// Books a count: per product, expected = on hand now; a decrease is taken from the lots
  /// first-expiry-first, an increase added to the latest lot (or a new "盘点" lot). A count
  /// below what online orders have reserved is refused (409 out_of_stock).
  StoredReply count(const CountRequest& request, const Actor& actor,
                    const std::optional<IdempotencyKey>& key, const Render<StockDocument>& render);
  StockDocument count(const CountRequest& request, const Actor& actor);

 private:
  [[nodiscard]] std::chrono::year_month_day today() const;

  store::Database& database_;
  StockSettings settings_;
  Idempotency idempotency_;
};

}  // namespace yizhan::service
