// Stock use cases: every change of what is on hand writes the ledger, the levels and the lots
// in one transaction (levels locked in product id order, then lots), and the audit log.
#include "yizhan/service/stock.hpp"
#include "audit_entry.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "yizhan/domain/catalog.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/stock.hpp"
#include "yizhan/domain/text.hpp"
#include "yizhan/store/audit.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/products.hpp"
#include "yizhan/store/stock.hpp"
#include "yizhan/store/villages.hpp"

namespace yizhan::service {

using domain::Error;
using domain::ErrorCode;
using Date = std::chrono::year_month_day;

namespace {

constexpr std::size_t kMaxLines = 200;
/// The most a count may say is on the shelf of one product (pieces or grams).
constexpr std::int64_t kMaxCounted = 1'000'000'000;
constexpr std::int64_t kMaxExpiringDays = 3650;

template <class T>
const T& required(const std::optional<T>& value, const std::string& field) {
  if (!value) throw Error::invalid_field(field, field + " 必填 / " + field + " is required");
  return *value;
}

/// Free text of at most `max_characters` (and at least `min_characters`), valid UTF-8.
void check_text(const std::string& text, const std::string& field, std::size_t min_characters,
                std::size_t max_characters) {
  if (!domain::is_valid_utf8(text)) {
    throw Error::invalid_field(field, field + " 不是有效的 UTF-8 / is not valid UTF-8");
  }
  if (const auto problem = domain::text_problem(text, min_characters, max_characters)) {
    throw Error::invalid_field(field, field + " " + *problem);
  }
}

void check_line_count(std::size_t count) {
  if (count == 0) throw Error::invalid_field("lines", "至少需要一行 / lines must not be empty");
  if (count > kMaxLines) {
    throw Error::invalid_field("lines", "最多 200 行 / at most 200 lines");
  }
}

std::string at(std::size_t index, const char* field) {
  return "lines[" + std::to_string(index) + "]." + field;
}

/// A client's date: exactly "YYYY-MM-DD", a real day, years 2000–2099.
Date parse_date(const std::string& text, const std::string& field) {
  const bool shaped = text.size() == 10 && text[4] == '-' && text[7] == '-' &&
                      std::all_of(text.begin(), text.end(),
                                  [](char c) { return (c >= '0' && c <= '9') || c == '-'; });
  const auto date = shaped ? store::parse_sql_date(text) : std::nullopt;
  if (!date || date->year() < std::chrono::year(2000) || date->year() > std::chrono::year(2099)) {
    throw Error::invalid_field(field, field + " 应为日期 YYYY-MM-DD / must be a date YYYY-MM-DD");
  }
  return *date;
}

std::optional<std::string> date_text(const std::optional<Date>& date) {
  if (!date) return std::nullopt;
  return store::format_sql_date(*date);
}

/// Lot number for goods that came without one: the business date, e.g. "20261201".
std::string default_lot(Date day) {
  auto text = store::format_sql_date(day);
  text.erase(std::remove(text.begin(), text.end(), '-'), text.end());
  return text;
}

/// A village account's view: only its own village (403 when it asks for another).
std::optional<std::int64_t> village_scope(const domain::Principal& caller,
                                          const std::optional<std::int64_t>& asked) {
  if (caller.role != domain::Role::village) return asked;
  const auto own = caller.village_id.value_or(0);
  if (asked && !domain::may_read_village(caller, *asked)) {
    throw Error(ErrorCode::forbidden,
                "只能查看本村的数据 / this village's data belongs to that village");
  }
  return own;
}

/// Whether a village account may see something of `village_id` (others see everything).
bool visible_to(const domain::Principal& caller, std::int64_t village_id) {
  return caller.role != domain::Role::village || domain::may_read_village(caller, village_id);
}

Lot to_lot(const store::LotRecord& r, Date today) {
  Lot lot;
  lot.lot_id = r.id;
  lot.product_id = r.product_id;
  lot.receipt_id = r.receipt_id;
  lot.lot = r.lot;
  lot.received = r.received;
  lot.remaining = r.remaining;
  lot.produced_on = date_text(r.produced_on);
  lot.expires_on = date_text(r.expires_on);
  lot.certificate = r.certificate;
  lot.expired = r.expires_on && *r.expires_on < today;
  return lot;
}

StockLevel to_level(const store::StockLevelRecord& r) {
  StockLevel level;
  level.product_id = r.product_id;
  level.sku = r.sku;
  level.name = r.name;
  level.unit = r.unit;
  level.village_id = r.village_id;
  level.village_name = r.village_name;
  level.category_id = r.category_id;
  level.category_name = r.category_name;
  level.active = r.active;
  level.low_stock = r.low_stock;
  level.on_hand = r.on_hand;
  level.reserved = r.reserved;
  level.available = domain::available(r.on_hand, r.reserved);
  // The same rule as the `low` filter of store::list_stock: at or below the threshold.
  level.low = r.low_stock && level.available <= *r.low_stock;
  level.next_expiry = date_text(r.next_expiry);
  return level;
}

Receipt to_receipt(const store::DocumentRecord& d) {
  Receipt receipt;
  receipt.id = d.id;
  receipt.village_id = d.village_id.value_or(0);
  receipt.village_name = d.village_name;
  receipt.note = d.note;
  receipt.created_by = d.created_by_name;
  receipt.created_at_us = d.created_at_us;
  receipt.line_count = d.line_count;
  return receipt;
}

/// A receipt with its lines, read inside `unit`.
Receipt load_receipt(store::UnitOfWork& unit, const store::DocumentRecord& document, Date today) {
  auto receipt = to_receipt(document);
  std::map<std::int64_t, store::ProductRecord> products;
  for (const auto& lot : store::receipt_lots(unit, document.id)) {
    auto found = products.find(lot.product_id);
    if (found == products.end()) {
      found = products.emplace(lot.product_id, *store::find_product(unit, lot.product_id)).first;
    }
    receipt.lines.push_back(
        {found->second.name, found->second.sku, found->second.unit, to_lot(lot, today)});
  }
  return receipt;
}

/// A document's lines for the audit log, one per line: "product 12 lot 7 -500 spoiled".
std::string audit_lines(const std::vector<DocumentLine>& lines) {
  std::string text;
  for (const auto& line : lines) {
    if (!text.empty()) text += "; ";
    text += "product " + std::to_string(line.product_id);
    if (line.expected) text += " expected " + std::to_string(*line.expected);
    if (line.counted) text += " counted " + std::to_string(*line.counted);
    text += " " + std::string(line.quantity > 0 ? "+" : "") + std::to_string(line.quantity);
    for (const auto& lot : line.lots)
      text += " lot " + std::to_string(lot.lot_id) + ":" + std::to_string(lot.quantity);
    if (line.reason) text += " " + *line.reason;
    if (!line.note.empty()) text += " (" + line.note + ")";
  }
  return text;
}

/// 409 out_of_stock: the product's available (on hand less reserved) does not cover it.
[[noreturn]] void throw_short(store::UnitOfWork& unit, std::int64_t product_id,
                              const std::string& field) {
  const auto level = store::lock_level(unit, product_id);
  const auto available = level ? domain::available(level->on_hand, level->reserved) : 0;
  throw Error(ErrorCode::out_of_stock, "库存不足 / not enough in stock",
              {{"product_id", std::to_string(product_id)},
               {"available", std::to_string(available)},
               {"field", field}});
}

/// A write-off or return line checked against the database.
struct CheckedLotLine {
  std::size_t index = 0;
  store::ProductRecord product;
  std::int64_t lot_id = 0;
  std::int64_t quantity = 0;
  std::optional<std::string> reason;
  std::string note;
};

/// Checks write-off or return lines inside `unit`: products and lots exist and belong together
/// (and to `village_id` when given), quantities fit the product's unit.
std::vector<CheckedLotLine> check_lot_lines(store::UnitOfWork& unit,
                                            const std::vector<LotLineRequest>& lines,
                                            std::optional<std::int64_t> village_id) {
  std::vector<CheckedLotLine> checked;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    CheckedLotLine c;
    c.index = i;
    const auto product_id = required(line.product_id, at(i, "product_id"));
    auto product = store::find_product(unit, product_id);
    if (!product) {
      throw Error::invalid_field(at(i, "product_id"), "没有这个商品 / no such product");
    }
    if (village_id && product->village_id != *village_id) {
      throw Error::invalid_field(at(i, "product_id"),
                                 "该商品不属于这个村 / the product is not this village's");
    }
    c.product = std::move(*product);
    c.lot_id = required(line.lot_id, at(i, "lot_id"));
    const auto lot = store::find_lot(unit, c.lot_id);
    if (!lot || lot->product_id != product_id) {
      throw Error::invalid_field(at(i, "lot_id"),
                                 "该商品没有这个批次 / the product has no such lot");
    }
    c.quantity = domain::Quantity::from_client(
                     c.product.unit, required(line.quantity, at(i, "quantity")), at(i, "quantity"))
                     .amount();
    c.reason = line.reason;
    c.note = line.note.value_or("");
    checked.push_back(std::move(c));
  }
  return checked;
}

/// Takes checked lines off the shelf: product levels in ascending product id (a conditional
/// update each: available must cover the product's total), then each lot (a conditional
/// update: its remaining must cover it). Nothing is written when anything falls short.
void take_lot_lines(store::UnitOfWork& unit, const std::vector<CheckedLotLine>& lines) {
  std::map<std::int64_t, std::int64_t> per_product;
  std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> per_lot;
  std::map<std::int64_t, std::size_t> first_line;
  for (const auto& line : lines) {
    per_product[line.product.id] += line.quantity;
    per_lot[{line.product.id, line.lot_id}] += line.quantity;
    first_line.emplace(line.product.id, line.index);
  }
  for (const auto& [product_id, quantity] : per_product) {
    if (!store::take_on_hand(unit, product_id, quantity)) {
      throw_short(unit, product_id, at(first_line[product_id], "quantity"));
    }
  }
  for (const auto& [key, quantity] : per_lot) {
    const auto& [product_id, lot_id] = key;
    if (!store::take_from_lot(unit, lot_id, product_id, quantity)) {
      const auto lot = store::find_lot(unit, lot_id);
      throw Error(ErrorCode::out_of_stock, "批次余量不足 / the lot has less left",
                  {{"product_id", std::to_string(product_id)},
                   {"lot_id", std::to_string(lot_id)},
                   {"available", std::to_string(lot ? lot->remaining : 0)},
                   {"field", at(first_line[product_id], "quantity")}});
    }
  }
}

StockDocument document_of(store::UnitOfWork& unit, std::int64_t id,
                          std::vector<DocumentLine> lines) {
  const auto stored = store::find_document(unit, id);
  StockDocument document;
  document.id = id;
  document.kind = std::string(store::to_string(stored->kind));
  document.village_id = stored->village_id;
  document.note = stored->note;
  document.created_by = stored->created_by_name;
  document.created_at_us = stored->created_at_us;
  document.lines = std::move(lines);
  return document;
}

/// Books checked write-off or return lines as one document of `kind` with `move_kind` moves.
StockDocument book_lot_lines(store::UnitOfWork& unit, store::DocumentKind kind,
                             const char* move_kind, std::optional<std::int64_t> village_id,
                             const std::string& note, const std::vector<CheckedLotLine>& checked,
                             const Actor& actor) {
  take_lot_lines(unit, checked);
  const auto document_id = store::insert_document(unit, kind, village_id, note, actor.user_id);
  std::vector<store::DocumentLineRecord> records;
  std::vector<store::LedgerEntry> moves;
  std::vector<DocumentLine> lines;
  for (const auto& line : checked) {
    records.push_back({line.product.id, line.lot_id, -line.quantity, std::nullopt, std::nullopt,
                       line.reason, line.note});
    moves.push_back({line.product.id, line.lot_id, move_kind, -line.quantity, "stock", document_id,
                     actor.user_id});
    DocumentLine out;
    out.product_id = line.product.id;
    out.product_name = line.product.name;
    out.unit = line.product.unit;
    out.quantity = -line.quantity;
    out.reason = line.reason;
    out.note = line.note;
    out.lots.push_back({line.lot_id, -line.quantity});
    lines.push_back(std::move(out));
  }
  store::insert_document_lines(unit, document_id, records);
  store::append_to_ledger(unit, moves);
  auto entry = audit_entry(actor, "stock_document", document_id);
  entry.after = store::AuditState{{"kind", std::string(store::to_string(kind))},
                                  {"village_id", village_id ? std::to_string(*village_id) : ""},
                                  {"note", note},
                                  {"lines", audit_lines(lines)}};
  store::record_audit(unit, entry);
  return document_of(unit, document_id, std::move(lines));
}

}  // namespace

StockService::StockService(store::Database& database, StockSettings settings,
                           int idempotency_retention_days)
    : database_(database),
      settings_(std::move(settings)),
      idempotency_(database, idempotency_retention_days) {}

Date StockService::today() const {
  const auto now = settings_.clock ? settings_.clock() : std::chrono::system_clock::now();
  return domain::business_day(now, settings_.zone);
}

// --- receiving --------------------------------------------------------------------------------

StoredReply StockService::receive(const ReceiptRequest& request, const Actor& actor,
                                  const std::optional<IdempotencyKey>& key,
                                  const Render<Receipt>& render) {
  const auto village_id = required(request.village_id, "village_id");
  check_text(request.note, "note", 0, 500);
  check_line_count(request.lines.size());
  const auto day = today();
  // Shapes first, so that a bad date is 422 without a database round trip.
  for (std::size_t i = 0; i < request.lines.size(); ++i) {
    const auto& line = request.lines[i];
    required(line.product_id, at(i, "product_id"));
    required(line.quantity, at(i, "quantity"));
    if (line.lot) check_text(*line.lot, at(i, "lot"), 1, 64);
    if (line.certificate) check_text(*line.certificate, at(i, "certificate"), 0, 100);
    if (line.produced_on) parse_date(*line.produced_on, at(i, "produced_on"));
    if (line.expires_on) parse_date(*line.expires_on, at(i, "expires_on"));
  }

  return idempotency_.run(key, [&](store::UnitOfWork& unit) {
    const auto village = store::find_village(unit, village_id);
    if (!village || !village->active) {
      throw Error::invalid_field("village_id", "没有这个村 / village_id names no active village");
    }
    std::vector<store::LotRecord> lots;
    std::map<std::int64_t, std::int64_t> per_product;
    for (std::size_t i = 0; i < request.lines.size(); ++i) {
      const auto& line = request.lines[i];
      // Locked, so that a change of its unit or village (which looks at its stock first) is
      // not committed between this read and the lot landing. In share mode: an exclusive lock
      // here, then the stock level, against a sale holding the level and reading the product
      // for its line's foreign key, deadlocked receipts racing sales.
      const auto product = store::find_product(unit, *line.product_id, store::RowLock::share);
      if (!product) {
        throw Error::invalid_field(at(i, "product_id"), "没有这个商品 / no such product");
      }
      if (product->kind == domain::ProductKind::bundle) {
        throw Error::invalid_field(at(i, "product_id"),
                                   "礼盒没有自己的库存，请收它的组成商品 / a bundle holds no "
                                   "stock: receive its components");
      }
      if (product->village_id != village_id) {
        throw Error::invalid_field(at(i, "product_id"),
                                   "该商品不属于这个村 / the product is not this village's");
      }
      store::LotRecord lot;
      lot.product_id = product->id;
      lot.received = lot.remaining =
          domain::Quantity::from_client(product->unit, *line.quantity, at(i, "quantity")).amount();
      lot.lot = line.lot ? *line.lot : default_lot(day);
      lot.certificate = line.certificate.value_or("");
      if (line.produced_on) {
        lot.produced_on = parse_date(*line.produced_on, at(i, "produced_on"));
        if (*lot.produced_on > day) {
          throw Error::invalid_field(at(i, "produced_on"),
                                     "生产日期不能晚于今天 / produced_on is in the future");
        }
      }
      if (line.expires_on) {
        lot.expires_on = parse_date(*line.expires_on, at(i, "expires_on"));
      } else if (product->shelf_life_days) {
        if (!lot.produced_on) {
          throw Error::invalid_field(
              at(i, "produced_on"),
              "有保质期的商品需要生产日期或到期日 / produced_on or expires_on is required for "
              "goods with a shelf life");
        }
        lot.expires_on = Date{std::chrono::sys_days(*lot.produced_on) +
                              std::chrono::days(*product->shelf_life_days)};
      }
      if (lot.expires_on && lot.produced_on && *lot.expires_on < *lot.produced_on) {
        throw Error::invalid_field(at(i, "expires_on"),
                                   "到期日早于生产日期 / expires_on is before produced_on");
      }
      if (lot.expires_on && *lot.expires_on < day) {
        throw Error::invalid_field(at(i, "expires_on"),
                                   "该批次已过期，不能入库 / the lot has already expired");
      }
      per_product[product->id] += lot.received;
      lots.push_back(std::move(lot));
    }

    // Levels in ascending product id, as every stock change takes them.
    for (const auto& [product_id, quantity] : per_product) {
      if (!store::add_on_hand(unit, product_id, quantity)) {
        throw Error(ErrorCode::internal, "internal error", {},
                    "product " + std::to_string(product_id) + " has no stock_levels row");
      }
    }
    const auto receipt_id = store::insert_document(unit, store::DocumentKind::receipt, village_id,
                                                   request.note, actor.user_id);
    std::vector<store::LedgerEntry> moves;
    std::string audit_text;
    for (auto& lot : lots) {
      lot.receipt_id = receipt_id;
      lot.id = store::insert_lot(unit, lot);
      moves.push_back(
          {lot.product_id, lot.id, "receipt", lot.received, "stock", receipt_id, actor.user_id});
      if (!audit_text.empty()) audit_text += "; ";
      audit_text += "product " + std::to_string(lot.product_id) + " +" +
                    std::to_string(lot.received) + " lot " + lot.lot +
                    (lot.expires_on ? " expires " + store::format_sql_date(*lot.expires_on) : "");
    }
    store::append_to_ledger(unit, moves);
    auto entry = audit_entry(actor, "stock_document", receipt_id);
    entry.after = store::AuditState{{"kind", "receipt"},
                                    {"village_id", std::to_string(village_id)},
                                    {"note", request.note},
                                    {"lines", audit_text}};
    store::record_audit(unit, entry);
    return render(load_receipt(unit, *store::find_document(unit, receipt_id), day));
  });
}

Receipt StockService::receive(const ReceiptRequest& request, const Actor& actor) {
  Receipt received;
  receive(request, actor, std::nullopt, [&received](const Receipt& receipt) {
    received = receipt;
    return StoredReply{};
  });
  return received;
}

ReceiptPage StockService::receipts(const domain::Principal& caller, const ReceiptQuery& query) {
  store::DocumentQuery filter;
  filter.kind = store::DocumentKind::receipt;
  filter.village_id = village_scope(caller, query.village_id);
  std::optional<Date> from, to;
  if (query.from) from = parse_date(*query.from, "from");
  if (query.to) to = parse_date(*query.to, "to");
  if (from && to && *to < *from) {
    throw Error::invalid_field("to", "to 不能早于 from / to is before from");
  }
  if (from) {
    filter.from_us = domain::day_bounds_utc(*from, settings_.zone).start.time_since_epoch().count();
  }
  if (to) filter.to_us = domain::day_bounds_utc(*to, settings_.zone).end.time_since_epoch().count();
  filter.limit = query.limit;
  filter.offset = query.offset;
  return database_.transact([&](store::UnitOfWork& unit) {
    auto [records, total] = store::list_documents(unit, filter);
    ReceiptPage page;
    page.total = total;
    for (const auto& record : records)
      page.items.push_back(to_receipt(record));
    return page;
  });
}

Receipt StockService::receipt(const domain::Principal& caller, std::int64_t id) {
  const auto day = today();
  return database_.transact([&](store::UnitOfWork& unit) {
    const auto document = store::find_document(unit, id);
    if (!document || document->kind != store::DocumentKind::receipt ||
        !visible_to(caller, document->village_id.value_or(0))) {
      throw Error(ErrorCode::not_found, "没有这张入库单 / no such receipt");
    }
    return load_receipt(unit, *document, day);
  });
}

// --- levels and the ledger --------------------------------------------------------------------

StockPage StockService::levels(const domain::Principal& caller, const StockQuery& query) {
  store::StockQuery filter;
  filter.village_id = village_scope(caller, query.village_id);
  filter.category_id = query.category_id;
  filter.low_only = query.low_only;
  if (query.expiring_days) {
    if (*query.expiring_days < 0 || *query.expiring_days > kMaxExpiringDays) {
      throw Error::invalid_field("expiring_days",
                                 "expiring_days 应为 0–3650 / must be 0 to 3650 days");
    }
    filter.expiring_by =
        Date{std::chrono::sys_days(today()) + std::chrono::days(*query.expiring_days)};
  }
  filter.limit = query.limit;
  filter.offset = query.offset;
  return database_.transact([&](store::UnitOfWork& unit) {
    auto [records, total] = store::list_stock(unit, filter);
    StockPage page;
    page.total = total;
    for (const auto& record : records)
      page.items.push_back(to_level(record));
    return page;
  });
}

StockLevel StockService::level(const domain::Principal& caller, std::int64_t product_id) {
  const auto day = today();
  return database_.transact([&](store::UnitOfWork& unit) {
    const auto record = store::find_stock(unit, product_id);
    if (!record || !visible_to(caller, record->village_id)) {
      throw Error(ErrorCode::not_found, "没有这个商品 / no such product");
    }
    auto level = to_level(*record);
    for (const auto& lot : store::product_lots(unit, product_id, false))
      level.lots.push_back(to_lot(lot, day));
    return level;
  });
}

MovePage StockService::shortfalls(std::optional<std::int64_t> before, int limit) {
  return database_.transact([&](store::UnitOfWork& unit) {
    auto rows = store::list_moves_of_kind(unit, "shortfall", limit + 1, before);
    MovePage page;
    for (auto& row : rows) {
      if (static_cast<int>(page.items.size()) == limit) {
        page.next_before = page.items.back().id;
        break;
      }
      Move move;
      move.id = row.id;
      move.kind = row.kind;
      move.quantity = row.quantity;
      move.document_kind = row.document_kind;
      move.document_id = row.document_id;
      move.lot_id = row.lot_id;
      move.lot = std::move(row.lot);
      move.by = std::move(row.created_by_name);
      move.at_us = row.created_at_us;
      move.product_id = row.product_id;
      move.product_name = std::move(row.product_name);
      page.items.push_back(std::move(move));
    }
    return page;
  });
}

MovePage StockService::moves(std::int64_t product_id, std::optional<std::int64_t> before,
                             int limit) {
  return database_.transact([&](store::UnitOfWork& unit) {
    if (!store::find_stock(unit, product_id)) {
      throw Error(ErrorCode::not_found, "没有这个商品 / no such product");
    }
    // One row more than asked tells whether an older page exists, without a COUNT(*).
    auto rows = store::list_moves(unit, product_id, limit + 1, before);
    MovePage page;
    if (rows.empty()) return page;
    auto sums = store::ledger_sums_through(unit, product_id, rows.front().id);
    for (auto& row : rows) {
      Move move;
      move.id = row.id;
      move.kind = row.kind;
      move.quantity = row.quantity;
      move.balance = sums.on_hand;
      move.reserved = sums.reserved;
      move.document_kind = row.document_kind;
      move.document_id = row.document_id;
      move.lot_id = row.lot_id;
      move.lot = std::move(row.lot);
      move.by = std::move(row.created_by_name);
      move.at_us = row.created_at_us;
      // The balance before this move is the one after the next (older) move.
      if (row.kind == "reserve" || row.kind == "release") {
        sums.reserved -= row.quantity;
      } else {
        sums.on_hand -= row.quantity;
      }
      page.items.push_back(std::move(move));
    }
    if (static_cast<int>(page.items.size()) > limit) {
      page.items.pop_back();
      page.next_before = page.items.back().id;
    }
    return page;
  });
}

// --- write-offs, returns, counts --------------------------------------------------------------

StoredReply StockService::write_off(const WriteOffRequest& request, const Actor& actor,
                                    const std::optional<IdempotencyKey>& key,
                                    const Render<StockDocument>& render) {
  check_text(request.note, "note", 0, 500);
  check_line_count(request.lines.size());
  static const std::set<std::string> kReasons{"spoiled", "damaged", "sample", "other"};
  for (std::size_t i = 0; i < request.lines.size(); ++i) {
    const auto& line = request.lines[i];
    required(line.product_id, at(i, "product_id"));
    required(line.lot_id, at(i, "lot_id"));
    required(line.quantity, at(i, "quantity"));
    const auto& reason = required(line.reason, at(i, "reason"));
    if (!kReasons.count(reason)) {
      throw Error::invalid_field(
          at(i, "reason"),
          "原因应为 spoiled、damaged、sample 或 other / reason must be spoiled, damaged, sample or "
          "other");
    }
    check_text(line.note.value_or(""), at(i, "note"), reason == "other" ? 1 : 0, 500);
  }
  return idempotency_.run(key, [&](store::UnitOfWork& unit) {
    const auto checked = check_lot_lines(unit, request.lines, std::nullopt);
    return render(book_lot_lines(unit, store::DocumentKind::write_off, "write_off", std::nullopt,
                                 request.note, checked, actor));
  });
}

StockDocument StockService::write_off(const WriteOffRequest& request, const Actor& actor) {
  StockDocument booked;
  write_off(request, actor, std::nullopt, [&booked](const StockDocument& document) {
    booked = document;
    return StoredReply{};
  });
  return booked;
}

StoredReply StockService::return_to_village(const ReturnRequest& request, const Actor& actor,
                                            const std::optional<IdempotencyKey>& key,
                                            const Render<StockDocument>& render) {
  const auto village_id = required(request.village_id, "village_id");
  check_text(request.note, "note", 0, 500);
  check_line_count(request.lines.size());
  for (std::size_t i = 0; i < request.lines.size(); ++i) {
    const auto& line = request.lines[i];
    required(line.product_id, at(i, "product_id"));
    required(line.lot_id, at(i, "lot_id"));
    required(line.quantity, at(i, "quantity"));
    if (line.reason) {
      throw Error::invalid_field(at(i, "reason"), "退货不需要原因 / returns take no reason");
    }
    check_text(line.note.value_or(""), at(i, "note"), 0, 500);
  }
  return idempotency_.run(key, [&](store::UnitOfWork& unit) {
    if (!store::find_village(unit, village_id)) {
      throw Error::invalid_field("village_id", "没有这个村 / village_id names no village");
    }
    const auto checked = check_lot_lines(unit, request.lines, village_id);
    return render(book_lot_lines(unit, store::DocumentKind::ret, "return", village_id, request.note,
                                 checked, actor));
  });
}

StockDocument StockService::return_to_village(const ReturnRequest& request, const Actor& actor) {
  StockDocument booked;
  return_to_village(request, actor, std::nullopt, [&booked](const StockDocument& document) {
    booked = document;
    return StoredReply{};
  });
  return booked;
}

StoredReply StockService::count(const CountRequest& request, const Actor& actor,
                                const std::optional<IdempotencyKey>& key,
                                const Render<StockDocument>& render) {
  check_text(request.note, "note", 0, 500);
  check_line_count(request.lines.size());
  // Ascending product id: the order every stock change locks levels in.
  std::map<std::int64_t, std::size_t> by_product;
  for (std::size_t i = 0; i < request.lines.size(); ++i) {
    const auto& line = request.lines[i];
    const auto product_id = required(line.product_id, at(i, "product_id"));
    const auto counted = required(line.counted, at(i, "counted"));
    if (counted < 0 || counted > kMaxCounted) {
      throw Error::invalid_field(at(i, "counted"),
                                 "盘点数应为 0 到 10 亿 / counted must be 0 to 1000000000");
    }
    if (!by_product.emplace(product_id, i).second) {
      throw Error::invalid_field(at(i, "product_id"),
                                 "同一商品只能盘点一行 / one line per product");
    }
  }
  // A count's lots are taken first-expiry-first over every lot, expired ones included.
  constexpr Date kNothingExpired{std::chrono::year(1970), std::chrono::January,
                                 std::chrono::day(1)};

  return idempotency_.run(key, [&](store::UnitOfWork& unit) {
    const auto document_id = store::insert_document(unit, store::DocumentKind::count, std::nullopt,
                                                    request.note, actor.user_id);
    std::vector<DocumentLine> lines(request.lines.size());
    std::vector<store::DocumentLineRecord> records;
    std::vector<store::LedgerEntry> moves;
    for (const auto& [product_id, index] : by_product) {
      const auto product = store::find_product(unit, product_id);
      if (!product) {
        throw Error::invalid_field(at(index, "product_id"), "没有这个商品 / no such product");
      }
      if (product->kind == domain::ProductKind::bundle) {
        throw Error::invalid_field(at(index, "product_id"),
                                   "礼盒没有自己的库存 / a bundle holds no stock to count");
      }
      const auto level = store::lock_level(unit, product_id);
      if (!level) {
        throw Error(ErrorCode::internal, "internal error", {},
                    "product " + std::to_string(product_id) + " has no stock_levels row");
      }
      const auto counted = *request.lines[index].counted;
      if (counted < level->reserved) {
        throw Error(
            ErrorCode::out_of_stock,
            "盘点数少于网上订单已预留的数量，请先处理订单 / counted is below what online "
            "orders have reserved",
            {{"product_id", std::to_string(product_id)},
             {"available", std::to_string(domain::available(level->on_hand, level->reserved))},
             {"reserved", std::to_string(level->reserved)},
             {"field", at(index, "counted")}});
      }
      auto& line = lines[index];
      line.product_id = product_id;
      line.product_name = product->name;
      line.unit = product->unit;
      line.expected = level->on_hand;
      line.counted = counted;
      line.quantity = counted - level->on_hand;
      if (line.quantity < 0) {
        const auto lots = store::lock_lots(unit, product_id);
        std::vector<domain::LotTake> takes;
        try {
          takes = domain::pick_lots_fefo(lots, -line.quantity, kNothingExpired);
        } catch (const Error& error) {
          throw Error(
              ErrorCode::internal, "internal error", {},
              "product " + std::to_string(product_id) +
                  ": its lots do not add up to on hand (run yizhan check): " + error.what());
        }
        if (!store::take_on_hand(unit, product_id, -line.quantity)) {
          throw_short(unit, product_id, at(index, "counted"));
        }
        for (const auto& take : takes) {
          if (!store::take_from_lot(unit, take.lot_id, product_id, take.quantity)) {
            throw Error(ErrorCode::internal, "internal error", {},
                        "lot " + std::to_string(take.lot_id) + " changed under its lock");
          }
          line.lots.push_back({take.lot_id, -take.quantity});
        }
      } else if (line.quantity > 0) {
        store::add_on_hand(unit, product_id, line.quantity);
        auto lot_id = store::latest_lot(unit, product_id);
        if (lot_id) {
          store::add_to_lot(unit, *lot_id, line.quantity);
        } else {
          store::LotRecord lot;
          lot.product_id = product_id;
          lot.lot = "盘点";
          lot.received = 0;
          lot.remaining = line.quantity;
          lot_id = store::insert_lot(unit, lot);
        }
        line.lots.push_back({*lot_id, line.quantity});
      }
      for (const auto& change : line.lots) {
        moves.push_back({product_id, change.lot_id, "adjustment", change.quantity, "stock",
                         document_id, actor.user_id});
      }
    }
    for (const auto& line : lines) {
      records.push_back({line.product_id, std::nullopt, line.quantity, line.expected, line.counted,
                         std::nullopt, ""});
    }
    store::insert_document_lines(unit, document_id, records);
    store::append_to_ledger(unit, moves);
    auto entry = audit_entry(actor, "stock_document", document_id);
    entry.after =
        store::AuditState{{"kind", "count"}, {"note", request.note}, {"lines", audit_lines(lines)}};
    store::record_audit(unit, entry);
    return render(document_of(unit, document_id, std::move(lines)));
  });
}

StockDocument StockService::count(const CountRequest& request, const Actor& actor) {
  StockDocument booked;
  count(request, actor, std::nullopt, [&booked](const StockDocument& document) {
    booked = document;
    return StoredReply{};
  });
  return booked;
}

}  // namespace yizhan::service
