// The two sides of tests/bench/checkout, one buyer per thread, each buying one piece of a product
// picked at random for a fixed time and printing the rate and the latency of a whole purchase:
//   --side http  POST /api/v1/orders (pickup, wechat, a fresh Idempotency-Key) on a keep-alive
//                connection; the payment's row written as POST /orders/{n}/payment writes it
//                after the provider answered (the provider's round trip is not measured); then
//                the paid notification, sealed (AES-256-GCM, APIv3 key) and signed (the platform
//                key) as WeChat Pay sends it, POSTed to /api/v1/payments/wechat/notify;
//   --side bare  the statements the server runs for the checkout and for the notification, its
//                SQL in its order, prepared, one connection per buyer; the payment's row the same;
//   --side minimal  no buyers: serves --port as the least an HTTP server can do around the bare
//                statements (a thread and a database connection per keep-alive connection, the
//                notification's signature checked and its resource decrypted, the answer padded
//                to --reply-bytes), for `--side http` to drive: the best orders/s any server
//                reaches on this machine with the load generator beside it.
// Usage: checkout_bare --side http|bare|minimal --socket S --user U --password-file F --schema D
//          --products ID,… --buyers N --seconds T --key-prefix P --keys DIR
//          [--port P] [--reply-bytes B] [--trace]
// Prints: "<orders> orders in <s> s: <rate>/s p50 <ms> p99 <ms> retries <n> errors <n>".
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "bare_loop.hpp"
#include "yizhan/domain/journal.hpp"
#include "yizhan/domain/order.hpp"
#include "yizhan/payments/crypto.hpp"
#include "yizhan/payments/wechat_pay_protocol.hpp"

namespace {

using namespace bench;
using nlohmann::json;

/// The rate a line sold today takes (domain::rate_in_force over kOrderable's columns 5, 8, 11,
/// 12): the product's dated term, else the village's, else the rates stored before terms.
int rate_of(sql::ResultSet& row) {
  const int product_term = row.isNull(11) ? -2 : row.getInt(11);
  const int village_bps = row.isNull(12) ? row.getInt(8) : row.getInt(12);
  if (product_term >= 0) return product_term;
  if (product_term == -1 || row.isNull(5)) return village_bps;
  return row.getInt(5);
}

// --- the server's SQL, verbatim (src/store/orders.cpp, idempotency.cpp, stock.cpp, journal.cpp) -

constexpr const char* kClaimKey =
    "INSERT INTO idempotency_keys (key_hash, scope, idempotency_key, request_hash, body, "
    "expires_at) VALUES (?, ?, ?, ?, '', UTC_TIMESTAMP(6) + INTERVAL ? DAY)";
constexpr const char* kStoreReply =
    "UPDATE idempotency_keys SET status = ?, content_type = ?, body = ? WHERE key_hash = ?";
constexpr const char* kOrderable =
    "SELECT p.id, p.name, p.unit, p.price_fen, p.commission_bps, p.village_id, v.name, "
    "v.commission_bps, p.active AND p.online AND v.active, p.kind, "
    "(SELECT COALESCE(t.bps, -1) FROM commission_terms t "
    "  WHERE t.product_id = p.id AND t.effective_from <= ? "
    "  ORDER BY t.effective_from DESC, t.id DESC LIMIT 1), "
    "(SELECT t.bps FROM commission_terms t "
    "  WHERE t.village_id = p.village_id AND t.product_id IS NULL AND t.effective_from <= ? "
    "  ORDER BY t.effective_from DESC, t.id DESC LIMIT 1) "
    "FROM products p JOIN villages v ON v.id = p.village_id WHERE p.id = ?";
constexpr const char* kInsertOrder =
    "INSERT INTO orders (token_hash, state, fulfilment, payment_method, contact_name, "
    "contact_phone, address_area, address_detail, note, business_day, subtotal_fen, "
    "delivery_fee_fen, total_fen, pickup_code, expires_at, client_address) VALUES (?, ?, ?, ?, "
    "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND, ?) "
    "RETURNING id, created_at, expires_at";
constexpr const char* kSetNumber = "UPDATE orders SET number = ? WHERE id = ?";
constexpr const char* kInsertLine =
    "INSERT INTO order_lines (order_id, line_no, product_id, village_id, name, unit, quantity, "
    "unit_price_fen, gross_fen, commission_bps, fee_fen, share_fen, bundle_product_id, "
    "bundle_name, bundle_quantity, bundle_group) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
    "?, ?, ?) RETURNING id, line_no";
constexpr const char* kExpired =
    "SELECT COALESCE(SUM(remaining), 0) FROM stock_lots WHERE product_id = ? AND expires_on < ?";
constexpr const char* kReserve =
    "UPDATE stock_levels SET reserved = reserved + ?, updated_at = UTC_TIMESTAMP(6) "
    "WHERE product_id = ? AND on_hand - reserved - ? >= ?";
constexpr const char* kInsertMove =
    "INSERT INTO stock_moves (product_id, lot_id, kind, quantity, document_kind, document_id, "
    "created_by) VALUES (?, ?, ?, ?, ?, ?, ?)";
constexpr const char* kInsertEvent =
    "INSERT INTO order_events (order_id, state, by_kind, by_user, note, internal) "
    "VALUES (?, ?, ?, ?, ?, ?) RETURNING created_at";
constexpr const char* kOrderColumns =
    "SELECT id, number, token_hash, state, fulfilment, payment_method, contact_name, "
    "contact_phone, address_area, address_detail, note, business_day, subtotal_fen, "
    "delivery_fee_fen, total_fen, paid_fen, refunded_fen, pickup_code, carrier, waybill, "
    "expires_at, attention, created_at, unsold_payment FROM orders ";
constexpr const char* kOrderLines =
    "SELECT l.id, l.line_no, l.product_id, l.village_id, v.name, l.name, l.unit, l.quantity, "
    "l.unit_price_fen, l.gross_fen, l.commission_bps, l.fee_fen, l.share_fen, "
    "l.bundle_product_id, l.bundle_name, l.bundle_quantity, l.bundle_group "
    "FROM order_lines l JOIN villages v ON v.id = l.village_id WHERE l.order_id = ? "
    "ORDER BY l.line_no";
constexpr const char* kPaymentColumns =
    "SELECT id, order_id, provider, channel, out_trade_no, amount_fen, state, transaction_id, "
    "qr_content, redirect_url, jsapi, return_failure FROM order_payments ";
constexpr const char* kMarkPayment =
    "UPDATE order_payments SET state = IF(id = ?, 'paid', 'closed'), "
    "transaction_id = IF(id = ?, COALESCE(?, transaction_id), transaction_id), "
    "paid_at = IF(id = ?, UTC_TIMESTAMP(6), paid_at) "
    "WHERE order_id = ? AND (id = ? OR state = 'started')";
constexpr const char* kInsertEntry =
    "INSERT INTO journal_entries (kind, document_id, business_day, memo) VALUES (?, ?, ?, ?) "
    "RETURNING id";
constexpr const char* kMovePaid =
    "UPDATE orders SET state = 'paid', paid_fen = paid_fen + ?, updated_at = UTC_TIMESTAMP(6) "
    "WHERE id = ? AND state = ?";
constexpr const char* kRecordNotification =
    "INSERT INTO payment_notifications (provider, verdict, out_trade_no, transaction_id, "
    "amount_fen, reason) VALUES (?, ?, ?, ?, ?, ?)";
// What POST /orders/{n}/payment leaves once the provider answered (the row is recorded before the
// provider is asked and filled in after); written by the driver on both sides, by number (the
// order's id is the server's).
constexpr const char* kInsertPayment =
    "INSERT INTO order_payments (order_id, provider, channel, out_trade_no, amount_fen, "
    "qr_content, redirect_url, jsapi) SELECT id, 'wechat', 'wechat_native', number, total_fen, "
    "?, NULL, NULL FROM orders WHERE number = ?";

std::string postings_insert(std::size_t count) {  // store/journal.cpp
  std::string sql =
      "INSERT INTO postings (entry_id, account_id, amount_fen) "
      "SELECT ?, a.id, v.amount FROM (";
  for (std::size_t i = 0; i < count; ++i)
    sql += i == 0 ? "SELECT ? AS code, ? AS amount" : " UNION ALL SELECT ?, ?";
  return sql + ") v JOIN ledger_accounts a ON a.code = v.code";
}

constexpr int kIdempotencyRetentionDays = 7;  // config defaults
constexpr int kUnpaidMinutes = 30;

struct Options {
  std::string side, socket, user, password, schema, key_prefix, keys;
  std::vector<std::int64_t> products;
  int buyers = 8, port = 0;
  double seconds = 10;
  std::size_t reply_bytes = 2500;
  bool trace = false;
};

/// What WeChat Pay holds in the simulator's keys: enough to seal and sign a notification.
struct Platform {
  std::optional<yizhan::payments::PrivateKey> key;
  std::optional<yizhan::payments::PublicKey> public_key;  // what the minimal server verifies with
  std::string serial, api_v3_key, mch_id, app_id;
};

std::string read_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) fail("cannot read " + path);
  std::string text((std::istreambuf_iterator<char>(file)), {});
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  return text;
}

std::string body_for(std::int64_t product, std::int64_t price) {
  return "{\"lines\":[{\"product_id\":" + std::to_string(product) +
         ",\"quantity\":1}],\"fulfilment\":\"pickup\",\"contact\":{\"name\":\"基准顾客\","
         "\"phone\":\"13800001234\"},\"payment\":\"wechat\",\"expected_total_fen\":" +
         std::to_string(price) + "}";
}

/// Writes all of `bytes` to the socket; false when the peer has gone.
bool send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const auto n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

/// Appends what one read brings to `buffer`; false when the peer has closed.
bool receive_some(int fd, std::string& buffer) {
  char chunk[16384];
  const auto n = ::recv(fd, chunk, sizeof chunk, 0);
  if (n <= 0) return false;
  buffer.append(chunk, static_cast<std::size_t>(n));
  return true;
}

/// A keep-alive HTTP/1.1 connection to the server.
class Http {
 public:
  explicit Http(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
      fail("cannot connect to port " + std::to_string(port));
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Http() { ::close(fd_); }
  Http(const Http&) = delete;
  Http& operator=(const Http&) = delete;

  /// POSTs and returns {status, body}.
  std::pair<int, std::string> post(const std::string& path,
                                   const std::map<std::string, std::string>& headers,
                                   const std::string& body) {
    std::string request = "POST " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
    for (const auto& [name, value] : headers)
      request += name + ": " + value + "\r\n";
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    if (!send_all(fd_, request)) fail("the server closed the connection");
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
      fill();
    const std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    std::size_t length = 0;
    for (std::size_t at = head.find("\r\n"); at != std::string::npos;
         at = head.find("\r\n", at + 2)) {
      std::string line = head.substr(at + 2, head.find("\r\n", at + 2) - at - 2);
      std::transform(line.begin(), line.begin() + std::min<std::size_t>(line.size(), 15),
                     line.begin(), [](unsigned char c) { return std::tolower(c); });
      if (line.starts_with("content-length:")) length = std::stoul(line.substr(15));
    }
    while (buffer_.size() < length)
      fill();
    std::string answer = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return {std::stoi(head.substr(9, 3)), std::move(answer)};
  }

 private:
  void fill() {
    if (!receive_some(fd_, buffer_)) fail("the server closed the connection");
  }
  int fd_ = -1;
  std::string buffer_;
};

struct Product {
  std::int64_t id = 0, price = 0;
};

class Buyer {
 public:
  Buyer(const Options& options, const Platform& platform, int index)
      : options_(options), platform_(platform), index_(index), random_(index * 7919 + 1) {}

  void connect() {
    if (options_.side != "minimal") provider_ = std::make_unique<Connection>(options_);
    if (options_.side == "http")
      http_ = std::make_unique<Http>(options_.port);
    else
      db_ = std::make_unique<Connection>(options_);
  }

  /// One purchase: checkout, the payment's row, the paid notification; its latency recorded.
  void buy(const std::vector<Product>& products) {
    const auto& product = products[random_() % products.size()];
    const std::string key =
        options_.key_prefix + "-" + std::to_string(index_) + "-" + std::to_string(sequence_++);
    const auto start = Clock::now();
    try {
      const auto number = options_.side == "http"
                              ? http_checkout(product, key)
                              : with_retry([&] { return checkout(product, key); });
      insert_payment(number);
      if (options_.side == "http")
        http_notify(number, product.price);
      else
        with_retry([&] { return notify(number, product.price); });
    } catch (const std::exception& e) {
      if (errors++ < 3) std::cerr << "buyer " << index_ << ": " << e.what() << '\n';
      return;
    }
    latencies_us.push_back(static_cast<std::uint32_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - start).count()));
  }

  /// The minimal server's two handlers: the bare statements of a checkout and a notification.
  std::string serve_checkout(const Product& product, const std::string& key) {
    return with_retry([&] { return checkout(product, key); });
  }
  void serve_notify(const std::string& number, std::int64_t total) {
    with_retry([&] { return notify(number, total); });
  }

  std::vector<std::uint32_t> latencies_us;
  std::uint64_t retries = 0, errors = 0;
  std::size_t last_reply_bytes = 0;

 private:
  /// Runs a unit of work again on deadlock (1213) or lock wait timeout (1205), as Database does.
  std::string with_retry(const std::function<std::string()>& work) {
    for (int attempt = 1;; ++attempt) {
      try {
        return work();
      } catch (const sql::SQLException& e) {
        try {
          db_->rollback();
        } catch (const sql::SQLException&) {
        }
        if ((e.getErrorCode() == 1213 || e.getErrorCode() == 1205) && attempt < 6) {
          ++retries;
          std::this_thread::sleep_for(std::chrono::milliseconds(2 << std::min(attempt, 6)));
          continue;
        }
        throw std::runtime_error(std::to_string(e.getErrorCode()) + " " + e.what());
      }
    }
  }

  std::string http_checkout(const Product& product, const std::string& key) {
    const auto [status, answer] = http_->post("/api/v1/orders",
                                              {{"Content-Type", "application/json"},
                                               {"X-Requested-With", "yizhan"},
                                               {"Idempotency-Key", key}},
                                              body_for(product.id, product.price));
    if (status != 201) fail("checkout answered " + std::to_string(status) + ": " + answer);
    last_reply_bytes = answer.size();
    return json::parse(answer).at("number").get<std::string>();
  }

  void http_notify(const std::string& number, std::int64_t total) {
    namespace wechat = yizhan::payments::wechat;
    const auto now = yizhan::payments::Clock::now();
    const json transaction = {{"appid", platform_.app_id},
                              {"mchid", platform_.mch_id},
                              {"out_trade_no", number},
                              {"transaction_id", "4200" + digits(number)},
                              {"trade_type", "NATIVE"},
                              {"trade_state", "SUCCESS"},
                              {"trade_state_desc", "支付成功"},
                              {"bank_type", "OTHERS"},
                              {"success_time", wechat::rfc3339_beijing(now)},
                              {"payer", {{"openid", "oBenchPayer00000000000000000"}}},
                              {"amount",
                               {{"total", total},
                                {"payer_total", total},
                                {"currency", "CNY"},
                                {"payer_currency", "CNY"}}}};
    const auto body =
        wechat::seal_notification("EV-" + key_suffix(), "TRANSACTION.SUCCESS", "支付成功",
                                  "transaction", transaction.dump(), platform_.api_v3_key, now);
    auto headers = wechat::sign_answer(*platform_.key, platform_.serial, body, now);
    headers["Content-Type"] = "application/json";
    const auto [status, answer] = http_->post("/api/v1/payments/wechat/notify", headers, body);
    if (status != 200) fail("the notification answered " + std::to_string(status) + ": " + answer);
  }

  void insert_payment(const std::string& number) {
    auto& insert = provider_->statement(kInsertPayment);
    insert.setString(1, "weixin://wxpay/bizpayurl?pr=" + key_suffix());
    insert.setString(2, number);
    if (insert.executeUpdate() != 1) fail("no order " + number);
    provider_->commit();
  }

  std::string key_suffix() { return std::to_string(index_) + "x" + std::to_string(sequence_); }
  static std::string digits(const std::string& number) {
    std::string out;
    for (char c : number)
      if (c >= '0' && c <= '9') out += c;
    return out;
  }

  /// The order and its lines, locked, as the notification reads them (store::find_order_by_id
  /// with OrderDetail::lines).
  void read_order(std::int64_t order_id, bool lock) {
    Connection& c = *db_;
    {
      auto& order =
          c.statement(std::string(kOrderColumns) + "WHERE id = ?" + (lock ? " FOR UPDATE" : ""));
      order.setInt64(1, order_id);
      Rows row(order.executeQuery());
      if (!row->next()) fail("no order " + std::to_string(order_id));
      for (int column = 1; column <= 24; ++column)
        (void)row->getString(column);
    }
    auto& lines = c.statement(kOrderLines);
    lines.setInt64(1, order_id);
    Rows all(lines.executeQuery());
    while (all->next())
      (void)all->getString(1);
  }

  /// OrderService::checkout of one piece, pickup, WeChat Pay.
  std::string checkout(const Product& wanted, const std::string& key) {
    Connection& c = *db_;
    Blobs blobs;
    const std::string body = body_for(wanted.id, wanted.price);
    const std::string scope = "POST /api/v1/orders anonymous";
    const std::string key_hash = sha256(scope + '\n' + key);
    {
      auto& claim = c.statement(kClaimKey);
      claim.setBlob(1, blobs(key_hash));
      claim.setString(2, scope);
      claim.setString(3, key);
      claim.setBlob(4, blobs(sha256("POST /api/v1/orders\n" + body)));
      claim.setInt(5, kIdempotencyRetentionDays);
      claim.executeUpdate();
    }
    std::string name, unit, village_name;
    std::int64_t price = 0, village_id = 0;
    int bps = 0;
    {
      auto& product = c.statement(kOrderable);
      product.setString(1, business_day());
      product.setString(2, business_day());
      product.setInt64(3, wanted.id);
      Rows row(product.executeQuery());
      if (!row->next()) fail("no product");
      name = row->getString(2);
      unit = row->getString(3);
      price = row->getInt64(4);
      village_id = row->getInt64(6);
      village_name = row->getString(7);
      bps = rate_of(*row);
      if (!row->getBoolean(9)) fail("not sold online");
    }
    const std::int64_t fee = (price * bps + 5'000) / 10'000, share = price - fee;
    const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now() +
                                                             std::chrono::hours(8));
    const std::string day = business_day();
    std::int64_t order_id = 0;
    {
      auto& head = c.statement(kInsertOrder);
      head.setBlob(1, blobs(sha256(key)));  // the token's digest
      head.setString(2, "pending_payment");
      head.setString(3, "pickup");
      head.setString(4, "wechat");
      head.setString(5, "基准顾客");
      head.setString(6, "13800001234");
      head.setNull(7, 0);
      head.setNull(8, 0);
      head.setString(9, "");
      head.setString(10, day);
      head.setInt64(11, price);
      head.setInt64(12, 0);
      head.setInt64(13, price);
      head.setString(14, "123456");
      head.setInt64(15, kUnpaidMinutes * 60LL);
      head.setString(16, "127.0.0.1");  // the buyer's address, kept for the checkout limits
      Rows row(head.executeQuery());
      row->next();
      order_id = row->getInt64(1);
      (void)row->getString(2);
      (void)row->getString(3);
    }
    const auto number =
        yizhan::domain::format_order_number(std::chrono::year_month_day{today}, order_id);
    {
      auto& set = c.statement(kSetNumber);
      set.setString(1, number);
      set.setInt64(2, order_id);
      set.executeUpdate();
    }
    {
      auto& line = c.statement(kInsertLine);
      int i = 1;
      line.setInt64(i++, order_id);
      line.setInt(i++, 1);
      line.setInt64(i++, wanted.id);
      line.setInt64(i++, village_id);
      line.setString(i++, name);
      line.setString(i++, unit);
      line.setInt64(i++, 1);
      line.setInt64(i++, price);
      line.setInt64(i++, price);
      line.setInt(i++, bps);
      line.setInt64(i++, fee);
      line.setInt64(i++, share);
      for (int bundle_column = 0; bundle_column < 4; ++bundle_column)
        line.setNull(i++, 0);  // not a gift box's component
      Rows ids(line.executeQuery());
      while (ids->next())
        (void)ids->getInt64(1);
    }
    event(order_id, "pending_payment", "customer", "");
    // The stock last, as the server reserves it: held from here to the commit.
    {
      // What lies in expired lots is not there for an order (store::expired_stock).
      auto& expired = c.statement(kExpired);
      expired.setInt64(1, wanted.id);
      expired.setString(2, day);
      std::int64_t unusable = 0;
      {
        Rows sum(expired.executeQuery());
        if (sum->next()) unusable = sum->getInt64(1);
      }
      auto& reserve = c.statement(kReserve);
      reserve.setInt64(1, 1);
      reserve.setInt64(2, wanted.id);
      reserve.setInt64(3, unusable);
      reserve.setInt64(4, 1);
      if (reserve.executeUpdate() != 1) fail("out of stock");
      auto& move = c.statement(kInsertMove);
      move.setInt64(1, wanted.id);
      move.setNull(2, 0);
      move.setString(3, "reserve");
      move.setInt64(4, 1);
      move.setString(5, "order");
      move.setInt64(6, order_id);
      move.setNull(7, 0);
      move.executeUpdate();
    }
    {
      auto& store = c.statement(kStoreReply);
      store.setInt(1, 201);
      store.setString(2, "application/json");
      store.setBlob(3, blobs(std::string(options_.reply_bytes, 'x')));
      store.setBlob(4, blobs(key_hash));
      store.executeUpdate();
    }
    c.commit();
    return number;
  }

  void event(std::int64_t order_id, const char* state, const char* by, const std::string& note) {
    auto& insert = db_->statement(kInsertEvent);
    insert.setInt64(1, order_id);
    insert.setString(2, state);
    insert.setString(3, by);
    insert.setNull(4, 0);
    insert.setString(5, note);
    insert.setBoolean(6, false);
    Rows row(insert.executeQuery());
    while (row->next())
      (void)row->getString(1);
  }

  /// OrderService::notify of a verified WeChat payment of a pending order.
  std::string notify(const std::string& number, std::int64_t total) {
    Connection& c = *db_;
    const std::string transaction = "4200" + digits(number);
    std::int64_t payment_id = 0, order_id = 0, amount = 0;
    {
      auto& payment =
          c.statement(std::string(kPaymentColumns) + "WHERE provider = ? AND out_trade_no = ? " +
                      "ORDER BY state = 'paid' DESC, id DESC LIMIT 1" + " FOR UPDATE");
      payment.setString(1, "wechat");
      payment.setString(2, number);
      Rows row(payment.executeQuery());
      if (!row->next()) fail("no payment " + number);
      payment_id = row->getInt64(1);
      order_id = row->getInt64(2);
      amount = row->getInt64(6);
      for (int column = 7; column <= 11; ++column)
        (void)row->getString(column);
    }
    if (amount != total) fail("amount");
    read_order(order_id, true);
    {
      auto& mark = c.statement(kMarkPayment);
      mark.setInt64(1, payment_id);
      mark.setInt64(2, payment_id);
      mark.setString(3, transaction);
      mark.setInt64(4, payment_id);
      mark.setInt64(5, order_id);
      mark.setInt64(6, payment_id);
      mark.executeUpdate();
    }
    {
      auto& entry = c.statement(kInsertEntry);
      entry.setString(1, "order_payment");
      entry.setInt64(2, order_id);
      entry.setString(3, business_day());
      entry.setString(4, number);
      Rows row(entry.executeQuery());
      row->next();
      const auto entry_id = row->getInt64(1);
      row.reset();
      const auto postings = yizhan::domain::order_payment_postings(
          yizhan::domain::TenderMethod::wechat, 0, split_of(order_id), yizhan::domain::Fen(0));
      auto& insert = c.statement(postings_insert(postings.size()));
      insert.setInt64(1, entry_id);
      int index = 2;
      for (const auto& posting : postings) {
        insert.setString(index++, posting.account);
        insert.setInt64(index++, posting.amount.value());
      }
      if (insert.executeUpdate() != static_cast<int>(postings.size()))
        fail("a posting found no account");
    }
    {
      auto& move = c.statement(kMovePaid);
      move.setInt64(1, amount);
      move.setInt64(2, order_id);
      move.setString(3, "pending_payment");
      if (move.executeUpdate() != 1) fail("the order moved");
    }
    event(order_id, "paid", "provider", transaction);
    {
      auto& record = c.statement(kRecordNotification);
      record.setString(1, "wechat");
      record.setString(2, "accepted");
      record.setString(3, number);
      record.setString(4, transaction);
      record.setInt64(5, amount);
      record.setString(6, "");
      record.executeUpdate();
    }
    c.commit();
    return number;
  }

  /// The village split of the order's one line: the server takes it from the lines it read
  /// under the lock; the loop knows it from the product it bought.
  std::vector<yizhan::domain::VillageSplit> split_of(std::int64_t) { return {last_split_}; }

 public:
  yizhan::domain::VillageSplit last_split_;

 private:
  const Options& options_;
  const Platform& platform_;
  int index_;
  std::mt19937_64 random_;
  std::uint64_t sequence_ = 0;
  std::unique_ptr<Connection> db_, provider_;
  std::unique_ptr<Http> http_;
};

/// One keep-alive connection of the minimal server: reads a request, answers it, until closed.
class MinimalConnection {
 public:
  MinimalConnection(int fd, Buyer& handler, const Options& options, const Platform& platform,
                    const std::map<std::int64_t, Product>& products,
                    const std::map<std::int64_t, yizhan::domain::VillageSplit>& splits)
      : fd_(fd),
        handler_(handler),
        options_(options),
        platform_(platform),
        products_(products),
        splits_(splits) {}

  void run() {
    try {
      while (read_request())
        answer();
    } catch (const std::exception& e) {
      std::cerr << "minimal server: " << e.what() << '\n';
    }
    ::close(fd_);
  }

 private:
  bool read_request() {
    std::size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos)
      if (!fill()) return false;
    const std::string head = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    const auto first = head.find("\r\n");
    const auto line = head.substr(0, first);
    const auto space = line.find(' ');
    method_ = line.substr(0, space);
    path_ = line.substr(space + 1, line.find(' ', space + 1) - space - 1);
    headers_.clear();
    for (std::size_t at = first; at != std::string::npos;) {
      const auto next = head.find("\r\n", at + 2);
      const auto field = head.substr(at + 2, next == std::string::npos ? next : next - at - 2);
      const auto colon = field.find(':');
      if (colon != std::string::npos) {
        std::string name = field.substr(0, colon);
        std::transform(name.begin(), name.end(), name.begin(),
                       [](unsigned char c) { return std::tolower(c); });
        headers_[name] = field.substr(field.find_first_not_of(' ', colon + 1));
      }
      at = next;
    }
    const auto length = headers_.contains("content-length")
                            ? std::stoul(headers_.at("content-length"))
                            : std::size_t{0};
    while (buffer_.size() < length)
      if (!fill()) return false;
    body_ = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return true;
  }

  void answer() {
    if (method_ == "POST" && path_ == "/api/v1/orders") {
      const auto wanted = json::parse(body_).at("lines").at(0).at("product_id").get<std::int64_t>();
      const auto found = products_.find(wanted);
      if (found == products_.end()) return reply(404, "{\"error\":\"no product\"}");
      handler_.last_split_ = splits_.at(wanted);
      const auto number = handler_.serve_checkout(found->second, headers_.at("idempotency-key"));
      std::string reply_body = "{\"number\":\"" + number + "\",\"padding\":\"";
      reply_body.append(options_.reply_bytes > reply_body.size() + 2
                            ? options_.reply_bytes - reply_body.size() - 2
                            : 0,
                        'x');
      return reply(201, reply_body + "\"}");
    }
    if (method_ == "POST" && path_ == "/api/v1/payments/wechat/notify") {
      namespace wechat = yizhan::payments::wechat;
      if (const auto wrong =
              wechat::check_signature(headers_, body_, *platform_.public_key, platform_.serial,
                                      yizhan::payments::Clock::now()))
        return reply(401, "{\"code\":\"FAIL\",\"message\":\"" + *wrong + "\"}");
      const auto envelope = wechat::open_notification(body_, platform_.api_v3_key);
      const auto transaction = json::parse(envelope.plaintext);
      handler_.serve_notify(transaction.at("out_trade_no").get<std::string>(),
                            transaction.at("amount").at("total").get<std::int64_t>());
      return reply(200, "{\"code\":\"SUCCESS\",\"message\":\"成功\"}");
    }
    if (method_ == "GET" && path_ == "/readyz") return reply(200, "{\"status\":\"ready\"}");
    reply(404, "{\"error\":\"not_found\"}");
  }

  void reply(int status, const std::string& body) {
    const std::string message =
        "HTTP/1.1 " + std::to_string(status) +
        " \r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body;
    if (!send_all(fd_, message)) throw std::runtime_error("the client closed the connection");
  }

  bool fill() { return receive_some(fd_, buffer_); }

  int fd_;
  Buyer& handler_;
  const Options& options_;
  const Platform& platform_;
  const std::map<std::int64_t, Product>& products_;
  const std::map<std::int64_t, yizhan::domain::VillageSplit>& splits_;
  std::string buffer_, method_, path_, body_;
  std::map<std::string, std::string> headers_;
};

/// --side minimal: listens on --port until killed; a thread and a database connection for each
/// accepted connection (the http driver keeps one per buyer, so as many as buyers).
[[noreturn]] void serve_minimal(
    const Options& options, const Platform& platform, const std::vector<Product>& list,
    const std::map<std::int64_t, yizhan::domain::VillageSplit>& splits) {
  std::map<std::int64_t, Product> products;
  for (const auto& product : list)
    products[product.id] = product;
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(options.port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener, 128) != 0)
    fail("cannot listen on port " + std::to_string(options.port));
  for (int index = 0;; ++index) {
    const int fd = ::accept(listener, nullptr, nullptr);
    if (fd < 0) continue;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::thread([&, fd, index] {
      Buyer handler(options, platform, index);
      handler.connect();
      MinimalConnection(fd, handler, options, platform, products, splits).run();
    }).detach();
  }
}

Options parse(int argc, char** argv) {
  Options o;
  std::map<std::string, std::string> given;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--trace")
      o.trace = true;
    else if (flag.starts_with("--") && i + 1 < argc)
      given[flag.substr(2)] = argv[++i];
    else
      fail("unknown argument " + flag);
  }
  auto need = [&](const char* name) {
    const auto found = given.find(name);
    if (found == given.end()) fail(std::string("--") + name + " is required");
    return found->second;
  };
  o.side = need("side");
  if (o.side != "http" && o.side != "bare" && o.side != "minimal")
    fail("--side is http, bare or minimal");
  o.socket = need("socket");
  o.user = need("user");
  o.password = read_file(need("password-file"));
  o.schema = need("schema");
  o.products = id_list(need("products"));
  o.key_prefix = need("key-prefix");
  o.keys = need("keys");
  if (o.side != "bare") o.port = std::stoi(need("port"));
  if (given.contains("buyers")) o.buyers = std::stoi(given["buyers"]);
  if (given.contains("seconds")) o.seconds = std::stod(given["seconds"]);
  if (given.contains("reply-bytes")) o.reply_bytes = std::stoul(given["reply-bytes"]);
  if (o.products.empty() || o.buyers < 1) fail("--products and --buyers");
  return o;
}

int run(const Options& options) {
  Platform platform;
  platform.key = yizhan::payments::PrivateKey::parse(
      read_file(options.keys + "/wechat_pay_private_key.pem") + "\n");
  platform.public_key = yizhan::payments::PublicKey::parse(
      read_file(options.keys + "/wechat_pay_public_key.pem") + "\n");
  platform.serial = read_file(options.keys + "/wechat_pay_public_key_id.txt");
  platform.api_v3_key = read_file(options.keys + "/wechat_api_v3_key.txt");
  platform.mch_id = read_file(options.keys + "/wechat_mch_id.txt");
  platform.app_id = read_file(options.keys + "/wechat_app_id.txt");

  // Prices and village splits, as the server prices one piece (domain::split of the line).
  std::vector<Product> products;
  std::map<std::int64_t, yizhan::domain::VillageSplit> splits;
  {
    Connection c(options);
    for (const auto id : options.products) {
      auto& find = c.statement(kOrderable);
      find.setString(1, business_day());
      find.setString(2, business_day());
      find.setInt64(3, id);
      Rows row(find.executeQuery());
      if (!row->next()) fail("no product " + std::to_string(id));
      const auto price = row->getInt64(4);
      const int bps = rate_of(*row);
      const std::int64_t fee = (price * bps + 5'000) / 10'000;
      products.push_back({id, price});
      splits[id] = {row->getInt64(6), yizhan::domain::Fen(fee), yizhan::domain::Fen(price - fee)};
    }
    c.commit();
  }
  if (options.side == "minimal") serve_minimal(options, platform, products, splits);

  const int count = options.trace ? 1 : options.buyers;
  std::vector<std::unique_ptr<Buyer>> buyers;
  for (int i = 0; i < count; ++i)
    buyers.push_back(std::make_unique<Buyer>(options, platform, i));
  if (options.trace) {
    buyers[0]->connect();
    buyers[0]->last_split_ = splits.at(products[0].id);
    buyers[0]->buy({products[0]});
    if (buyers[0]->last_reply_bytes) std::cout << "reply " << buyers[0]->last_reply_bytes << "\n";
    return buyers[0]->errors == 0 ? 0 : 1;
  }
  std::barrier ready(count + 1);
  Clock::time_point start, deadline;
  std::vector<Clock::time_point> finished(buyers.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < buyers.size(); ++i)
    threads.emplace_back([&, i] {
      auto& buyer = *buyers[i];
      buyer.connect();
      ready.arrive_and_wait();
      ready.arrive_and_wait();
      std::mt19937_64 pick(i + 17);
      while (Clock::now() < deadline) {
        const auto& product = products[pick() % products.size()];
        buyer.last_split_ = splits.at(product.id);
        buyer.buy({product});
      }
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
  for (const auto& buyer : buyers) {
    latencies.insert(latencies.end(), buyer->latencies_us.begin(), buyer->latencies_us.end());
    retries += buyer->retries;
    errors += buyer->errors;
  }
  std::sort(latencies.begin(), latencies.end());
  const double seconds =
      std::chrono::duration<double>(*std::max_element(finished.begin(), finished.end()) - start)
          .count();
  std::printf("%zu orders in %.3f s: %.1f/s p50 %.3f ms p99 %.3f ms retries %llu errors %llu\n",
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
    std::cerr << "checkout_bare: " << e.getErrorCode() << " " << e.what() << '\n';
  } catch (const std::exception& e) {
    std::cerr << "checkout_bare: " << e.what() << '\n';
  }
  return 2;
}
