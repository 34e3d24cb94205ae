// The reference for tests/bench/pos_sale: counter sales straight through Connector/C++, no HTTP,
// no JSON. Each of N threads is one counter (its own cashier, open shift, register and
// connection) and rings up one-line cash sales for a fixed time; it prints the rate and the
// latency of one sale. Shapes:
//   full     the statements POST /api/v1/pos/sales runs, in its order and with its SQL text,
//            in one transaction (CounterService::sell with the idempotency claim and reply);
//   session  full, after the session lookup the server runs for each request (its own
//            transaction, AccountService::authenticate);
//   minimal  what a sale cannot do without: sale, line, a journal entry with three postings,
//            stock update, one move, COMMIT (the stock last, as the server takes it).
// Usage: pos_sale_bare --socket S --user U --password-file F --schema D --cashiers ID,ID,…
//          --products ID,ID,… --seconds T --shape full|session|minimal --key-prefix P
//          [--reply-bytes B] [--trace]
// Prints: "<sales> sales in <s> s: <rate>/s p50 <ms> p99 <ms> retries <n> errors <n>".
#include <cppconn/connection.h>
#include <cppconn/exception.h>
#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>
#include <cppconn/statement.h>
#include <mysql_driver.h>
#include <openssl/evp.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "bare_loop.hpp"

namespace {

using namespace bench;

// --- the server's SQL, verbatim (src/store/*.cpp), so that the same statements are prepared -----

// store/accounts.cpp find_live_session, touch_session
constexpr const char* kFindSession =
    "SELECT u.id, u.username, u.role, u.village_id, "
    "       s.last_seen_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND "
    "FROM sessions s JOIN users u ON u.id = s.user_id "
    "WHERE s.token_hash = ? AND s.expires_at > UTC_TIMESTAMP(6) "
    "  AND s.last_seen_at > UTC_TIMESTAMP(6) - INTERVAL ? SECOND AND u.status = 'active'";
constexpr const char* kTouchSession =
    "UPDATE sessions SET last_seen_at = UTC_TIMESTAMP(6) WHERE token_hash = ?";
// store/idempotency.cpp
constexpr const char* kClaimKey =
    "INSERT INTO idempotency_keys (key_hash, scope, idempotency_key, request_hash, body, "
    "expires_at) VALUES (?, ?, ?, ?, '', UTC_TIMESTAMP(6) + INTERVAL ? DAY)";
constexpr const char* kStoreReply =
    "UPDATE idempotency_keys SET status = ?, content_type = ?, body = ? WHERE key_hash = ?";
// store/counter.cpp open_shift_of with RowLock::share
constexpr const char* kOpenShift =
    "SELECT s.id, s.register_id, s.cashier_id, u.username, s.state, s.float_fen, s.opened_at, "
    "       s.closed_at, s.expected_cash_fen, s.counted_cash_fen "
    "FROM shifts s JOIN users u ON u.id = s.cashier_id WHERE s.open_cashier_id = ? LOCK IN "
    "SHARE MODE";
// store/counter.cpp sellable_by_id
constexpr const char* kSellable =
    "SELECT p.id, p.name, p.unit, p.price_fen, p.commission_bps, p.village_id, "
    "       v.commission_bps, p.active, v.active, v.name, p.kind, "
    "(SELECT COALESCE(t.bps, -1) FROM commission_terms t "
    "  WHERE t.product_id = p.id AND t.effective_from <= ? "
    "  ORDER BY t.effective_from DESC, t.id DESC LIMIT 1), "
    "(SELECT t.bps FROM commission_terms t "
    "  WHERE t.village_id = p.village_id AND t.product_id IS NULL AND t.effective_from <= ? "
    "  ORDER BY t.effective_from DESC, t.id DESC LIMIT 1) "
    "FROM products p JOIN villages v ON v.id = p.village_id WHERE p.id = ?";
// store/stock.cpp take_on_hand, lock_lots, take_from_lot, append_to_ledger (one move)
constexpr const char* kTakeOnHand =
    "UPDATE stock_levels SET on_hand = on_hand - ?, updated_at = UTC_TIMESTAMP(6) "
    "WHERE product_id = ? AND on_hand - reserved >= ?";
constexpr const char* kLockLots =
    "SELECT id, expires_on, remaining, lot FROM stock_lots WHERE product_id = ? "
    "AND remaining > 0 ORDER BY expires_on IS NULL, expires_on, id FOR UPDATE";
constexpr const char* kTakeFromLot =
    "UPDATE stock_lots SET remaining = remaining - ? "
    "WHERE id = ? AND product_id = ? AND remaining >= ?";
constexpr const char* kInsertMove =
    "INSERT INTO stock_moves (product_id, lot_id, kind, quantity, document_kind, document_id, "
    "created_by) VALUES (?, ?, ?, ?, ?, ?, ?)";
// store/counter.cpp next_sale_number, insert_sale (one line, one tender), insert_sale_lots
constexpr const char* kNextSaleNumber =
    "UPDATE registers SET sale_seq = LAST_INSERT_ID(IF(sale_day = ?, sale_seq + 1, 1)), "
    "sale_day = ? WHERE id = ?";
constexpr const char* kSaleRegister =
    "SELECT id, name, printer_host, printer_port, receipt_columns, LAST_INSERT_ID() "
    "FROM registers WHERE id = ?";
constexpr const char* kInsertSale =
    "INSERT INTO sales (number, shift_id, register_id, cashier_id, business_day, subtotal_fen, "
    "discount_fen, rounding_fen, total_fen, change_fen, offline, rung_at) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "TIMESTAMPADD(MICROSECOND, ?, TIMESTAMP'1970-01-01 00:00:00')) "
    "RETURNING id, created_at";
constexpr const char* kInsertLine =
    "INSERT INTO sale_lines (sale_id, line_no, product_id, village_id, name, unit, quantity, "
    "unit_price_fen, list_fen, line_discount_fen, sale_discount_fen, gross_fen, commission_bps, "
    "fee_fen, share_fen, code, bundle_product_id, bundle_name, bundle_quantity, bundle_group) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, line_no";
constexpr const char* kInsertLineLot =
    "INSERT INTO sale_line_lots (sale_line_id, lot_id, quantity) VALUES (?, ?, ?)";
constexpr const char* kInsertTender =
    "INSERT INTO sale_tenders (sale_id, method, amount_fen, tendered_fen, reference) VALUES (?, "
    "?, ?, ?, ?)";
// store/journal.cpp post_entry with three postings
constexpr const char* kInsertEntry =
    "INSERT INTO journal_entries (kind, document_id, business_day, memo) VALUES (?, ?, ?, ?) "
    "RETURNING id";
constexpr const char* kInsertPostings =
    "INSERT INTO postings (entry_id, account_id, amount_fen) SELECT ?, a.id, v.amount FROM ("
    "SELECT ? AS code, ? AS amount UNION ALL SELECT ?, ? UNION ALL SELECT ?, ?"
    ") v JOIN ledger_accounts a ON a.code = v.code";
// --- the minimal shape: no lookups, no read-back; @sale carries the sale id between statements -

constexpr const char* kMinimalSale =
    "INSERT INTO sales (number, shift_id, register_id, cashier_id, business_day, subtotal_fen, "
    "discount_fen, rounding_fen, total_fen, change_fen) VALUES (?, ?, ?, ?, ?, ?, 0, 0, ?, 0)";
constexpr const char* kMinimalLine =
    "INSERT INTO sale_lines (sale_id, line_no, product_id, village_id, name, unit, quantity, "
    "unit_price_fen, list_fen, line_discount_fen, sale_discount_fen, gross_fen, commission_bps, "
    "fee_fen, share_fen) VALUES (@sale := LAST_INSERT_ID(), 1, ?, ?, ?, 'piece', ?, ?, ?, 0, 0, "
    "?, ?, ?, ?)";
constexpr const char* kMinimalMove =
    "INSERT INTO stock_moves (product_id, lot_id, kind, quantity, document_kind, document_id, "
    "created_by) VALUES (?, ?, 'sale', ?, 'sale', @sale, ?)";
constexpr const char* kMinimalEntry =
    "INSERT INTO journal_entries (kind, document_id, business_day, memo) "
    "VALUES ('sale', @sale, ?, ?)";
constexpr const char* kMinimalPostings =
    "INSERT INTO postings (entry_id, account_id, amount_fen) VALUES (LAST_INSERT_ID(), ?, ?), "
    "(LAST_INSERT_ID(), ?, ?), (LAST_INSERT_ID(), ?, ?)";

constexpr int kIdempotencyRetentionDays = 7;   // config default, idempotency_retention_days
constexpr int kSessionIdleSeconds = 2 * 3600;  // SessionPolicy
constexpr int kSessionTouchAfterSeconds = 60;

enum class Shape { full, session, minimal };

struct Options {
  std::string socket, user, password, schema, key_prefix;
  std::vector<std::int64_t> cashiers, products;
  double seconds = 10;
  Shape shape = Shape::full;
  std::size_t reply_bytes = 1500;
  bool trace = false;  // one sale on the first counter, then exit
};

/// A product as the minimal shape knows it in advance (the full shape looks it up per sale).
struct Product {
  std::int64_t id = 0, village_id = 0, price = 0, lot_id = 0, payable_account = 0;
  int commission_bps = 0;
  std::string name;
};

/// A counter's cashier, shift and register as found at start (for the minimal shape).
struct Counter {
  std::int64_t cashier_id = 0, shift_id = 0, register_id = 0, drawer_account = 0;
  std::string token_hash;  // the cashier's latest session, for the session shape
};

/// AccountService::authenticate: the session lookup in its own transaction.
void authenticate(Connection& c, const Counter& counter) {
  Blobs blobs;
  auto& find = c.statement(kFindSession);
  find.setInt(1, kSessionTouchAfterSeconds);
  find.setBlob(2, blobs(counter.token_hash));
  find.setInt(3, kSessionIdleSeconds);
  Rows row(find.executeQuery());
  if (!row->next()) fail("no live session for cashier " + std::to_string(counter.cashier_id));
  const auto user_id = row->getInt64(1);
  const std::string username = row->getString(2);
  const std::string role = row->getString(3);
  if (!row->isNull(4)) (void)row->getInt64(4);
  const bool needs_touch = row->getBoolean(5);
  if (user_id != counter.cashier_id || username.empty() || role.empty()) fail("wrong session");
  row.reset();
  if (needs_touch) {
    auto& touch = c.statement(kTouchSession);
    touch.setBlob(1, blobs(counter.token_hash));
    touch.executeUpdate();
  }
  c.commit();
}

/// One sale as CounterService::sell runs it for one line of one piece paid in cash.
void full_sale(Connection& c, const Counter& counter, std::int64_t product_id,
               const std::string& key, std::size_t reply_bytes) {
  const std::string day = business_day();
  const std::string scope = "POST /api/v1/pos/sales user:" + std::to_string(counter.cashier_id);
  const std::string request =
      "POST /api/v1/pos/sales\n{\"lines\":[{\"product_id\":" + std::to_string(product_id) +
      ",\"quantity\":1}]}";
  const std::string key_hash = sha256(scope + '\n' + key);
  Blobs blobs;
  {
    auto& claim = c.statement(kClaimKey);
    claim.setBlob(1, blobs(key_hash));
    claim.setString(2, scope);
    claim.setString(3, key);
    claim.setBlob(4, blobs(sha256(request)));
    claim.setInt(5, kIdempotencyRetentionDays);
    claim.executeUpdate();
  }
  std::int64_t shift_id = 0, register_id = 0, cashier_id = 0;
  {
    auto& shift = c.statement(kOpenShift);
    shift.setInt64(1, counter.cashier_id);
    Rows row(shift.executeQuery());
    if (!row->next()) fail("no open shift");
    shift_id = row->getInt64(1);
    register_id = row->getInt64(2);
    cashier_id = row->getInt64(3);
    (void)row->getString(4);
    (void)row->getString(5);
    (void)row->getInt64(6);
    (void)row->getString(7);
  }
  std::string name;
  std::int64_t price = 0, village_id = 0;
  int bps = 0;
  {
    auto& product = c.statement(kSellable);
    product.setString(1, day);
    product.setString(2, day);
    product.setInt64(3, product_id);
    Rows row(product.executeQuery());
    if (!row->next()) fail("no product " + std::to_string(product_id));
    name = row->getString(2);
    (void)row->getString(3);
    price = row->getInt64(4);
    village_id = row->getInt64(6);
    // The dated terms in force (domain::rate_in_force): the product's, else the village's.
    (void)row->getString(11);  // the kind: the bench sells ordinary products
    const int product_term = row->isNull(12) ? -2 : row->getInt(12);
    const int village_bps = row->isNull(13) ? row->getInt(7) : row->getInt(13);
    if (product_term >= 0)
      bps = product_term;
    else if (product_term == -1 || row->isNull(5))
      bps = village_bps;
    else
      bps = row->getInt(5);
    if (!row->getBoolean(8) || !row->getBoolean(9)) fail("product not for sale");
  }
  const std::int64_t quantity = 1, gross = price * quantity;
  const std::int64_t fee = (gross * bps + 5'000) / 10'000, share = gross - fee;

  std::string number;
  {
    auto& next = c.statement(kNextSaleNumber);
    next.setString(1, day);
    next.setString(2, day);
    next.setInt64(3, register_id);
    if (next.executeUpdate() != 1) fail("register gone");
    auto& read = c.statement(kSaleRegister);
    read.setInt64(1, register_id);
    Rows row(read.executeQuery());
    if (!row->next()) fail("register gone");
    (void)row->getString(2);
    const std::int64_t sequence = row->getInt64(6);
    std::string compact = day;
    compact.erase(std::remove(compact.begin(), compact.end(), '-'), compact.end());
    char text[48];
    std::snprintf(text, sizeof text, "%s-%lld-%04lld", compact.c_str(),
                  static_cast<long long>(register_id), static_cast<long long>(sequence));
    number = text;
  }
  std::int64_t sale_id = 0;
  {
    auto& head = c.statement(kInsertSale);
    head.setString(1, number);
    head.setInt64(2, shift_id);
    head.setInt64(3, register_id);
    head.setInt64(4, cashier_id);
    head.setString(5, day);
    head.setInt64(6, gross);
    head.setInt64(7, 0);
    head.setInt64(8, 0);
    head.setInt64(9, gross);
    head.setInt64(10, 0);
    head.setBoolean(11, false);
    head.setNull(12, 0);
    Rows row(head.executeQuery());
    row->next();
    sale_id = row->getInt64(1);
    (void)row->getString(2);
  }
  std::int64_t line_id = 0;
  {
    auto& line = c.statement(kInsertLine);
    int i = 1;
    line.setInt64(i++, sale_id);
    line.setInt(i++, 1);
    line.setInt64(i++, product_id);
    line.setInt64(i++, village_id);
    line.setString(i++, name);
    line.setString(i++, "piece");
    line.setInt64(i++, quantity);
    line.setInt64(i++, price);
    line.setInt64(i++, gross);
    line.setInt64(i++, 0);
    line.setInt64(i++, 0);
    line.setInt64(i++, gross);
    line.setInt(i++, bps);
    line.setInt64(i++, fee);
    line.setInt64(i++, share);
    line.setNull(i++, 0);
    for (int bundle_column = 0; bundle_column < 4; ++bundle_column)
      line.setNull(i++, 0);  // not a gift box's component
    Rows rows(line.executeQuery());
    std::map<int, std::int64_t> by_number;
    while (rows->next())
      by_number[rows->getInt(2)] = rows->getInt64(1);
    line_id = by_number.at(1);
  }
  {
    auto& tender = c.statement(kInsertTender);
    tender.setInt64(1, sale_id);
    tender.setString(2, "cash");
    tender.setInt64(3, gross);
    tender.setInt64(4, gross);  // cash: tendered = the amount when not given (settle_tenders)
    tender.setString(5, "");
    tender.executeUpdate();
  }
  {
    auto& entry = c.statement(kInsertEntry);
    entry.setString(1, "sale");
    entry.setInt64(2, sale_id);
    entry.setString(3, day);
    entry.setString(4, number);
    Rows row(entry.executeQuery());
    row->next();
    const auto entry_id = row->getInt64(1);
    auto& postings = c.statement(kInsertPostings);
    postings.setInt64(1, entry_id);
    postings.setString(2, "cash_drawer:" + std::to_string(register_id));
    postings.setInt64(3, gross);
    postings.setString(4, "village_payable:" + std::to_string(village_id));
    postings.setInt64(5, -share);
    postings.setString(6, "commission_income");
    postings.setInt64(7, -fee);
    if (postings.executeUpdate() != 3) fail("a posting found no account");
  }

  // The stock last, as the server takes it: held from here to the commit.
  std::int64_t lot_id = 0;
  {
    auto& take = c.statement(kTakeOnHand);
    take.setInt64(1, quantity);
    take.setInt64(2, product_id);
    take.setInt64(3, quantity);
    if (take.executeUpdate() != 1) fail("out of stock");
  }
  {
    auto& lots = c.statement(kLockLots);
    lots.setInt64(1, product_id);
    Rows rows(lots.executeQuery());
    while (rows->next()) {
      const auto id = rows->getInt64(1);
      const std::string expires = rows->isNull(2) ? std::string() : std::string(rows->getString(2));
      if (lot_id == 0 && rows->getInt64(3) >= quantity && (expires.empty() || expires >= day))
        lot_id = id;
    }
    if (lot_id == 0) fail("no lot");
  }
  {
    auto& take = c.statement(kTakeFromLot);
    take.setInt64(1, quantity);
    take.setInt64(2, lot_id);
    take.setInt64(3, product_id);
    take.setInt64(4, quantity);
    if (take.executeUpdate() != 1) fail("lot changed under its lock");
  }
  {
    auto& lots = c.statement(kInsertLineLot);
    lots.setInt64(1, line_id);
    lots.setInt64(2, lot_id);
    lots.setInt64(3, quantity);
    lots.executeUpdate();
  }
  {
    auto& move = c.statement(kInsertMove);
    move.setInt64(1, product_id);
    move.setInt64(2, lot_id);
    move.setString(3, "sale");
    move.setInt64(4, -quantity);
    move.setString(5, "sale");
    move.setInt64(6, sale_id);
    move.setInt64(7, counter.cashier_id);
    move.executeUpdate();
  }
  // The answer: the server renders it from what it wrote (no read-back), stored as the reply.
  const std::string reply(reply_bytes, 'x');
  {
    auto& store = c.statement(kStoreReply);
    store.setInt(1, 201);
    store.setString(2, "application/json");
    store.setBlob(3, blobs(reply));
    store.setBlob(4, blobs(key_hash));
    store.executeUpdate();
  }
  c.commit();
}

/// The least a sale writes: stock, the sale and its line, the move, the entry and its postings.
void minimal_sale(Connection& c, const Counter& counter, const Product& product,
                  std::int64_t commission_account, const std::string& number) {
  const std::string day = business_day();
  const std::int64_t quantity = 1, gross = product.price * quantity;
  const std::int64_t fee = (gross * product.commission_bps + 5'000) / 10'000, share = gross - fee;
  {
    auto& head = c.statement(kMinimalSale);
    head.setString(1, number);
    head.setInt64(2, counter.shift_id);
    head.setInt64(3, counter.register_id);
    head.setInt64(4, counter.cashier_id);
    head.setString(5, day);
    head.setInt64(6, gross);
    head.setInt64(7, gross);
    head.executeUpdate();
  }
  {
    auto& line = c.statement(kMinimalLine);
    line.setInt64(1, product.id);
    line.setInt64(2, product.village_id);
    line.setString(3, product.name);
    line.setInt64(4, quantity);
    line.setInt64(5, product.price);
    line.setInt64(6, gross);
    line.setInt64(7, gross);
    line.setInt(8, product.commission_bps);
    line.setInt64(9, fee);
    line.setInt64(10, share);
    line.executeUpdate();
  }
  {
    auto& entry = c.statement(kMinimalEntry);
    entry.setString(1, day);
    entry.setString(2, number);
    entry.executeUpdate();
    auto& postings = c.statement(kMinimalPostings);
    postings.setInt64(1, counter.drawer_account);
    postings.setInt64(2, gross);
    postings.setInt64(3, product.payable_account);
    postings.setInt64(4, -share);
    postings.setInt64(5, commission_account);
    postings.setInt64(6, -fee);
    postings.executeUpdate();
  }
  // The stock last, as the server takes it.
  {
    auto& take = c.statement(kTakeOnHand);
    take.setInt64(1, quantity);
    take.setInt64(2, product.id);
    take.setInt64(3, quantity);
    if (take.executeUpdate() != 1) fail("out of stock");
  }
  {
    auto& move = c.statement(kMinimalMove);
    move.setInt64(1, product.id);
    move.setInt64(2, product.lot_id);
    move.setInt64(3, -quantity);
    move.setInt64(4, counter.cashier_id);
    move.executeUpdate();
  }
  c.commit();
}

/// Retries a sale whole on deadlock (1213) or lock wait timeout (1205), as Database does.
class Worker {
 public:
  Worker(const Options& options, const Counter& counter, int index)
      : options_(options), counter_(counter), index_(index), random_(index * 7919 + 1) {}

  /// Opens the connection and rings up one untimed sale, so every statement is prepared.
  void warm_up(const std::vector<Product>& products, std::int64_t commission_account) {
    connection_ = std::make_unique<Connection>(options_);
    sell(products, commission_account);
  }

  /// One sale of a product chosen at random; its latency is recorded.
  void sell(const std::vector<Product>& products, std::int64_t commission_account) {
    const auto& product = products[random_() % products.size()];
    const std::string key =
        options_.key_prefix + "-" + std::to_string(index_) + "-" + std::to_string(sequence_++);
    const auto start = Clock::now();
    for (int attempt = 1;; ++attempt) {
      try {
        // The server looks the session up once, before the unit of work it may retry.
        if (options_.shape == Shape::session && attempt == 1) authenticate(*connection_, counter_);
        if (options_.shape == Shape::minimal)
          minimal_sale(*connection_, counter_, product, commission_account, key);
        else
          full_sale(*connection_, counter_, product.id, key, options_.reply_bytes);
        break;
      } catch (const sql::SQLException& e) {
        roll_back();
        const int code = e.getErrorCode();
        if ((code == 1213 || code == 1205) && attempt < 6) {
          ++retries;
          std::this_thread::sleep_for(std::chrono::milliseconds(2 << std::min(attempt, 6)));
          continue;
        }
        report(std::to_string(code) + " " + e.what());
        return;
      } catch (const std::exception& e) {
        roll_back();
        report(e.what());
        return;
      }
    }
    latencies_us.push_back(static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count()));
  }

  std::vector<std::uint32_t> latencies_us;
  std::uint64_t retries = 0, errors = 0;

 private:
  void roll_back() {
    try {
      connection_->rollback();
    } catch (const sql::SQLException&) {
    }
  }
  void report(const std::string& what) {
    if (errors++ < 3) std::cerr << "counter " << index_ << ": " << what << '\n';
  }

  const Options& options_;
  const Counter& counter_;
  int index_;
  std::mt19937_64 random_;
  std::uint64_t sequence_ = 0;
  std::unique_ptr<Connection> connection_;
};

Options parse(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string> given;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--trace") {
      o.trace = true;
    } else if (flag.starts_with("--") && i + 1 < argc) {
      given[flag.substr(2)] = argv[++i];
    } else {
      fail("unknown argument " + flag);
    }
  }
  auto need = [&](const char* name) {
    const auto found = given.find(name);
    if (found == given.end()) fail(std::string("--") + name + " is required");
    return found->second;
  };
  o.socket = need("socket");
  o.user = need("user");
  std::ifstream password_file(need("password-file"));
  std::getline(password_file, o.password);
  o.schema = need("schema");
  o.cashiers = id_list(need("cashiers"));
  o.products = id_list(need("products"));
  o.key_prefix = need("key-prefix");
  if (given.contains("seconds")) o.seconds = std::stod(given["seconds"]);
  if (given.contains("reply-bytes")) o.reply_bytes = std::stoul(given["reply-bytes"]);
  const auto shape = given.contains("shape") ? given["shape"] : "full";
  o.shape = shape == "minimal"   ? Shape::minimal
            : shape == "session" ? Shape::session
            : shape == "full"    ? Shape::full
                                 : (fail("--shape is full, session or minimal"), Shape::full);
  if (o.cashiers.empty() || o.products.empty()) fail("--cashiers and --products name ids");
  return o;
}

std::int64_t account_id(Connection& c, const std::string& code) {
  auto& find = c.statement("SELECT id FROM ledger_accounts WHERE code = ?");
  find.setString(1, code);
  Rows row(find.executeQuery());
  if (!row->next()) fail("no ledger account " + code);
  return row->getInt64(1);
}

/// What the minimal shape needs to know in advance, and each cashier's session for `session`.
void load(const Options& options, std::vector<Counter>& counters, std::vector<Product>& products,
          std::int64_t& commission_account) {
  Connection c(options);
  for (const auto cashier : options.cashiers) {
    Counter counter;
    counter.cashier_id = cashier;
    auto& shift = c.statement("SELECT id, register_id FROM shifts WHERE open_cashier_id = ?");
    shift.setInt64(1, cashier);
    Rows row(shift.executeQuery());
    if (!row->next()) fail("cashier " + std::to_string(cashier) + " has no open shift");
    counter.shift_id = row->getInt64(1);
    counter.register_id = row->getInt64(2);
    counter.drawer_account = account_id(c, "cash_drawer:" + std::to_string(counter.register_id));
    auto& session = c.statement(
        "SELECT token_hash FROM sessions WHERE user_id = ? ORDER BY created_at DESC LIMIT 1");
    session.setInt64(1, cashier);
    Rows token(session.executeQuery());
    if (token->next()) counter.token_hash = token->getString(1);
    counters.push_back(std::move(counter));
  }
  for (const auto id : options.products) {
    Product p;
    auto& find = c.statement(
        "SELECT p.id, p.name, p.price_fen, p.village_id, COALESCE(p.commission_bps, "
        "v.commission_bps), (SELECT l.id FROM stock_lots l WHERE l.product_id = p.id AND "
        "l.remaining > 0 ORDER BY l.expires_on IS NULL, l.expires_on, l.id LIMIT 1) "
        "FROM products p JOIN villages v ON v.id = p.village_id WHERE p.id = ?");
    find.setInt64(1, id);
    Rows row(find.executeQuery());
    if (!row->next() || row->isNull(6)) fail("product " + std::to_string(id) + " has no stock");
    p.id = row->getInt64(1);
    p.name = row->getString(2);
    p.price = row->getInt64(3);
    p.village_id = row->getInt64(4);
    p.commission_bps = row->getInt(5);
    p.lot_id = row->getInt64(6);
    p.payable_account = account_id(c, "village_payable:" + std::to_string(p.village_id));
    products.push_back(std::move(p));
  }
  commission_account = account_id(c, "commission_income");
  c.commit();
}

int run(const Options& options) {
  std::vector<Counter> counters;
  std::vector<Product> products;
  std::int64_t commission_account = 0;
  load(options, counters, products, commission_account);
  if (options.shape == Shape::session)
    for (const auto& counter : counters)
      if (counter.token_hash.empty())
        fail("cashier " + std::to_string(counter.cashier_id) + " has no session");

  std::vector<std::unique_ptr<Worker>> workers;
  for (std::size_t i = 0; i < counters.size(); ++i)
    workers.push_back(std::make_unique<Worker>(options, counters[i], static_cast<int>(i)));
  if (options.trace) {
    workers.front()->warm_up(products, commission_account);
    return workers.front()->errors == 0 ? 0 : 1;
  }

  std::barrier ready(static_cast<std::ptrdiff_t>(workers.size() + 1));
  std::atomic<bool> go{false};
  Clock::time_point start, deadline;
  std::vector<Clock::time_point> finished(workers.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < workers.size(); ++i)
    threads.emplace_back([&, i] {
      workers[i]->warm_up(products, commission_account);
      workers[i]->latencies_us.clear();
      ready.arrive_and_wait();  // connected and prepared
      ready.arrive_and_wait();  // start and deadline are set
      while (Clock::now() < deadline)
        workers[i]->sell(products, commission_account);
      finished[i] = Clock::now();
    });
  ready.arrive_and_wait();
  start = Clock::now();
  deadline = start + std::chrono::duration_cast<Clock::duration>(
                         std::chrono::duration<double>(options.seconds));
  ready.arrive_and_wait();
  for (auto& thread : threads)
    thread.join();

  std::vector<std::uint32_t> latencies;
  std::uint64_t retries = 0, errors = 0;
  for (const auto& worker : workers) {
    latencies.insert(latencies.end(), worker->latencies_us.begin(), worker->latencies_us.end());
    retries += worker->retries;
    errors += worker->errors;
  }
  std::sort(latencies.begin(), latencies.end());
  const double seconds =
      std::chrono::duration<double>(*std::max_element(finished.begin(), finished.end()) - start)
          .count();
  std::printf("%zu sales in %.3f s: %.1f/s p50 %.3f ms p99 %.3f ms retries %llu errors %llu\n",
              latencies.size(), seconds, static_cast<double>(latencies.size()) / seconds,
              percentile_ms(latencies, 0.50), percentile_ms(latencies, 0.99),
              static_cast<unsigned long long>(retries), static_cast<unsigned long long>(errors));
  return errors == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(parse(argc, argv));
  } catch (const sql::SQLException& e) {
    std::cerr << "pos_sale_bare: " << e.getErrorCode() << " " << e.what() << '\n';
  } catch (const std::exception& e) {
    std::cerr << "pos_sale_bare: " << e.what() << '\n';
  }
  return 2;
}
