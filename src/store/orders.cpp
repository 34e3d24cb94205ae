// Online orders in MariaDB: see include/yizhan/store/orders.hpp and sql/008_orders.sql.
#include "yizhan/store/orders.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <map>
#include <memory>
#include <sstream>

#include "commission_terms_sql.hpp"
#include "rows.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/text.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::store {
namespace {

using Rows = std::unique_ptr<sql::ResultSet>;
using domain::Error;
using domain::ErrorCode;

void set_text(sql::PreparedStatement& statement, int index,
              const std::optional<std::string>& value) {
  if (value)
    statement.setString(index, *value);
  else
    statement.setNull(index, 0);
}

std::optional<std::string> optional_text(sql::ResultSet& row, int column) {
  if (row.isNull(column)) return std::nullopt;
  return std::string(row.getString(column));
}

constexpr const char* kOrderColumns =
    "SELECT id, number, token_hash, state, fulfilment, payment_method, contact_name, "
    "contact_phone, address_area, address_detail, note, business_day, subtotal_fen, "
    "delivery_fee_fen, total_fen, paid_fen, refunded_fen, pickup_code, carrier, waybill, "
    "expires_at, attention, created_at, unsold_payment FROM orders ";

OrderRecord read_order(sql::ResultSet& row) {
  OrderRecord o;
  o.id = row.getInt64(1);
  o.number = row.isNull(2) ? std::string() : std::string(row.getString(2));
  o.token_hash = row.getString(3);
  o.state = row.getString(4);
  o.fulfilment = row.getString(5);
  o.payment_method = row.getString(6);
  o.contact_name = row.getString(7);
  o.contact_phone = row.getString(8);
  o.address_area = optional_text(row, 9);
  o.address_detail = optional_text(row, 10);
  o.note = row.getString(11);
  o.business_day = row.getString(12);
  o.subtotal_fen = row.getInt64(13);
  o.delivery_fee_fen = row.getInt64(14);
  o.total_fen = row.getInt64(15);
  o.paid_fen = row.getInt64(16);
  o.refunded_fen = row.getInt64(17);
  o.pickup_code = row.getString(18);
  o.carrier = optional_text(row, 19);
  o.waybill = optional_text(row, 20);
  if (!row.isNull(21)) o.expires_at = micros(row, 21);
  o.attention = optional_text(row, 22);
  o.created_at = micros(row, 23);
  o.unsold_payment = row.getBoolean(24);
  return o;
}

constexpr const char* kOrderLineSelect =
    "SELECT l.id, l.line_no, l.product_id, l.village_id, v.name, l.name, l.unit, l.quantity, "
    "l.unit_price_fen, l.gross_fen, l.commission_bps, l.fee_fen, l.share_fen, "
    "l.bundle_product_id, l.bundle_name, l.bundle_quantity, l.bundle_group";
constexpr const char* kOrderLineFrom =
    " FROM order_lines l JOIN villages v ON v.id = l.village_id ";

OrderLineRecord read_order_line(sql::ResultSet& row) {
  OrderLineRecord l;
  l.id = row.getInt64(1);
  l.line_no = row.getInt(2);
  l.product_id = row.getInt64(3);
  l.village_id = row.getInt64(4);
  l.village_name = row.getString(5);
  l.name = row.getString(6);
  l.unit = domain::parse_unit(std::string(row.getString(7))).value_or(domain::Unit::piece);
  l.quantity = row.getInt64(8);
  l.unit_price_fen = row.getInt64(9);
  l.gross_fen = row.getInt64(10);
  l.commission_bps = row.getInt(11);
  l.fee_fen = row.getInt64(12);
  l.share_fen = row.getInt64(13);
  if (!row.isNull(14)) {
    l.bundle_product_id = row.getInt64(14);
    l.bundle_name = row.getString(15);
    l.bundle_quantity = row.getInt64(16);
    l.bundle_group = row.getInt(17);
  }
  return l;
}

std::vector<OrderLineRecord> order_lines(UnitOfWork& unit, std::int64_t order_id) {
  auto& statement = unit.statement(std::string(kOrderLineSelect) + kOrderLineFrom +
                                   "WHERE l.order_id = ? ORDER BY l.line_no");
  statement.setInt64(1, order_id);
  Rows rows(statement.executeQuery());
  std::vector<OrderLineRecord> lines;
  while (rows->next())
    lines.push_back(read_order_line(*rows));
  return lines;
}

std::vector<OrderEventRecord> order_events(UnitOfWork& unit, std::int64_t order_id) {
  auto& statement = unit.statement(
      "SELECT state, by_kind, by_user, note, created_at, internal FROM order_events "
      "WHERE order_id = ? "
      "ORDER BY id");
  statement.setInt64(1, order_id);
  Rows rows(statement.executeQuery());
  std::vector<OrderEventRecord> events;
  while (rows->next())
    events.push_back({rows->getString(1), rows->getString(2), optional_int64(*rows, 3),
                      rows->getString(4), micros(*rows, 5), rows->getBoolean(6)});
  return events;
}

constexpr const char* kPaymentColumns =
    "SELECT id, order_id, provider, channel, out_trade_no, amount_fen, state, transaction_id, "
    "qr_content, redirect_url, jsapi, return_failure FROM order_payments ";

OrderPaymentRecord read_payment(sql::ResultSet& row) {
  OrderPaymentRecord p;
  p.id = row.getInt64(1);
  p.order_id = row.getInt64(2);
  p.provider = row.getString(3);
  p.channel = row.getString(4);
  p.out_trade_no = row.getString(5);
  p.amount_fen = row.getInt64(6);
  p.state = row.getString(7);
  p.transaction_id = optional_text(row, 8);
  p.qr_content = optional_text(row, 9);
  p.redirect_url = optional_text(row, 10);
  p.jsapi = optional_text(row, 11);
  p.return_failure = optional_text(row, 12);
  return p;
}

std::optional<OrderPaymentRecord> latest_payment(UnitOfWork& unit, std::int64_t order_id) {
  auto& statement =
      unit.statement(std::string(kPaymentColumns) + "WHERE order_id = ? ORDER BY id DESC LIMIT 1");
  statement.setInt64(1, order_id);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return read_payment(*row);
}

std::optional<OrderRecord> complete(UnitOfWork& unit, Rows row,
                                    OrderDetail detail = OrderDetail::whole) {
  if (!row->next()) return std::nullopt;
  auto order = read_order(*row);
  row.reset();
  order.lines = order_lines(unit, order.id);
  if (detail == OrderDetail::lines) return order;
  order.events = order_events(unit, order.id);
  order.payment = latest_payment(unit, order.id);
  return order;
}

}  // namespace

std::optional<OrderableProduct> orderable_product(UnitOfWork& unit, std::int64_t id,
                                                  const std::string& day) {
  auto& statement = unit.statement(
      std::string("SELECT p.id, p.name, p.unit, p.price_fen, p.commission_bps, p.village_id, "
                  "v.name, v.commission_bps, p.active AND p.online AND v.active, p.kind, ") +
      kProductTermInForce + ", " + kVillageTermInForce +
      " FROM products p JOIN villages v ON v.id = p.village_id WHERE p.id = ?");
  statement.setString(1, day);
  statement.setString(2, day);
  statement.setInt64(3, id);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  OrderableProduct p;
  p.id = row->getInt64(1);
  p.name = row->getString(2);
  p.unit = domain::parse_unit(std::string(row->getString(3))).value_or(domain::Unit::piece);
  p.price = domain::Fen(row->getInt64(4));
  if (!row->isNull(5)) p.rates.product_column = row->getInt(5);
  p.village_id = row->getInt64(6);
  p.village_name = row->getString(7);
  p.rates.village_column = row->getInt(8);
  p.offered = row->getBoolean(9);
  p.kind = domain::parse_product_kind(std::string(row->getString(10)))
               .value_or(domain::ProductKind::item);
  if (!row->isNull(11)) {
    const int product = row->getInt(11);  // -1: the override ended
    p.rates.product_term = product < 0 ? std::optional<int>() : std::optional<int>(product);
  }
  if (!row->isNull(12)) p.rates.village_term = row->getInt(12);
  return p;
}

std::optional<std::int64_t> open_shift_register(UnitOfWork& unit, std::int64_t cashier_id) {
  auto& statement =
      unit.statement("SELECT register_id FROM shifts WHERE open_cashier_id = ? LOCK IN SHARE MODE");
  statement.setInt64(1, cashier_id);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return row->getInt64(1);
}

void lock_checkout_guard(UnitOfWork& unit, const std::string& guard) {
  // ON DUPLICATE KEY takes the existing row's exclusive lock (a no-op update, nothing written).
  auto& statement = unit.statement(
      "INSERT INTO checkout_guards (guard) VALUES (?) ON DUPLICATE KEY UPDATE guard = guard");
  statement.setString(1, guard);
  statement.executeUpdate();
}

namespace {

std::int64_t count_open_cash_on_pickup(UnitOfWork& unit, const char* sql,
                                       const std::string& value) {
  auto& statement = unit.statement(sql);
  statement.setString(1, value);
  Rows row(statement.executeQuery());
  row->next();
  return row->getInt64(1);
}

}  // namespace

std::int64_t count_open_cash_on_pickup_for_phone(UnitOfWork& unit, const std::string& phone) {
  return count_open_cash_on_pickup(
      unit,
      "SELECT COUNT(*) FROM orders WHERE contact_phone = ? AND payment_method = 'cash_on_pickup' "
      "AND state IN ('confirmed', 'picking', 'ready')",
      phone);
}

std::int64_t count_open_cash_on_pickup_from(UnitOfWork& unit, const std::string& client_address) {
  return count_open_cash_on_pickup(
      unit,
      "SELECT COUNT(*) FROM orders WHERE client_address = ? AND payment_method = "
      "'cash_on_pickup' AND state IN ('confirmed', 'picking', 'ready')",
      client_address);
}

void insert_order(UnitOfWork& unit, OrderRecord& order, std::int64_t expires_in_seconds,
                  const std::function<std::string(std::int64_t)>& number_for) {
  auto& head = unit.statement(
      "INSERT INTO orders (token_hash, state, fulfilment, payment_method, contact_name, "
      "contact_phone, address_area, address_detail, note, business_day, subtotal_fen, "
      "delivery_fee_fen, total_fen, pickup_code, expires_at, client_address) VALUES (?, ?, ?, ?, "
      "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, UTC_TIMESTAMP(6) + INTERVAL ? SECOND, ?) "
      "RETURNING id, created_at, expires_at");
  std::istringstream token(order.token_hash);
  head.setBlob(1, &token);
  head.setString(2, order.state);
  head.setString(3, order.fulfilment);
  head.setString(4, order.payment_method);
  head.setString(5, order.contact_name);
  head.setString(6, order.contact_phone);
  set_text(head, 7, order.address_area);
  set_text(head, 8, order.address_detail);
  head.setString(9, order.note);
  head.setString(10, order.business_day);
  head.setInt64(11, order.subtotal_fen);
  head.setInt64(12, order.delivery_fee_fen);
  head.setInt64(13, order.total_fen);
  head.setString(14, order.pickup_code);
  head.setInt64(15, expires_in_seconds);
  head.setString(16, order.client_address);
  {
    Rows row(head.executeQuery());
    row->next();
    order.id = row->getInt64(1);
    order.created_at = micros(*row, 2);
    order.expires_at = micros(*row, 3);
  }
  order.number = number_for(order.id);
  auto& number = unit.statement("UPDATE orders SET number = ? WHERE id = ?");
  number.setString(1, order.number);
  number.setInt64(2, order.id);
  number.executeUpdate();

  std::string query =
      "INSERT INTO order_lines (order_id, line_no, product_id, village_id, name, unit, quantity, "
      "unit_price_fen, gross_fen, commission_bps, fee_fen, share_fen, bundle_product_id, "
      "bundle_name, bundle_quantity, bundle_group) VALUES ";
  query += value_rows(order.lines.size(), 16);
  query += " RETURNING id, line_no";
  auto& lines = unit.statement(query);
  int index = 1;
  for (const auto& line : order.lines) {
    lines.setInt64(index++, order.id);
    lines.setInt(index++, line.line_no);
    lines.setInt64(index++, line.product_id);
    lines.setInt64(index++, line.village_id);
    lines.setString(index++, line.name);
    lines.setString(index++, std::string(domain::to_string(line.unit)));
    lines.setInt64(index++, line.quantity);
    lines.setInt64(index++, line.unit_price_fen);
    lines.setInt64(index++, line.gross_fen);
    lines.setInt(index++, line.commission_bps);
    lines.setInt64(index++, line.fee_fen);
    lines.setInt64(index++, line.share_fen);
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
  Rows ids(lines.executeQuery());
  while (ids->next())
    for (auto& line : order.lines)
      if (line.line_no == ids->getInt(2)) line.id = ids->getInt64(1);
}

std::optional<OrderRecord> find_order(UnitOfWork& unit, const std::string& number, bool lock) {
  auto& statement =
      unit.statement(std::string(kOrderColumns) + "WHERE number = ?" + (lock ? " FOR UPDATE" : ""));
  statement.setString(1, number);
  return complete(unit, Rows(statement.executeQuery()));
}

std::optional<OrderRecord> find_order_by_id(UnitOfWork& unit, std::int64_t id, bool lock,
                                            OrderDetail detail) {
  auto& statement =
      unit.statement(std::string(kOrderColumns) + "WHERE id = ?" + (lock ? " FOR UPDATE" : ""));
  statement.setInt64(1, id);
  return complete(unit, Rows(statement.executeQuery()), detail);
}

namespace {

/// The WHERE clause of `filter` (empty when it is empty), its parameters bound by bind_filter.
std::string filter_clause(const OrderFilter& filter) {
  std::string clause;
  if (filter.state) clause = "state = ?";
  if (filter.attention)
    clause += std::string(clause.empty() ? "" : " AND ") + "attention IS NOT NULL";
  return clause.empty() ? "" : "WHERE " + clause + " ";
}

int bind_filter(sql::PreparedStatement& statement, const OrderFilter& filter, int at = 1) {
  if (filter.state) statement.setString(at++, *filter.state);
  return at;
}

}  // namespace

std::vector<OrderRecord> list_orders(UnitOfWork& unit, const OrderFilter& filter, int offset,
                                     int limit) {
  const std::string order_by =
      filter.oldest_first ? "ORDER BY id LIMIT ? OFFSET ?" : "ORDER BY id DESC LIMIT ? OFFSET ?";
  auto& statement = unit.statement(std::string(kOrderColumns) + filter_clause(filter) + order_by);
  int index = bind_filter(statement, filter);
  statement.setInt(index++, limit);
  statement.setInt(index++, offset);
  std::vector<OrderRecord> orders;
  {
    Rows rows(statement.executeQuery());
    while (rows->next())
      orders.push_back(read_order(*rows));
  }
  if (orders.empty()) return orders;
  // The page's lines and latest payments in two statements (not two per order): the same page
  // chosen again inside the statement, which this transaction's snapshot keeps identical.
  const std::string page =
      "(SELECT id FROM (SELECT id FROM orders " + filter_clause(filter) + order_by + ") page)";
  const auto bind_page = [&](sql::PreparedStatement& statement) {
    int at = bind_filter(statement, filter);
    statement.setInt(at++, limit);
    statement.setInt(at++, offset);
  };
  std::map<std::int64_t, OrderRecord*> by_id;
  for (auto& order : orders)
    by_id[order.id] = &order;
  {
    auto& lines = unit.statement(std::string(kOrderLineSelect) + ", l.order_id" + kOrderLineFrom +
                                 "WHERE l.order_id IN " + page + " ORDER BY l.order_id, l.line_no");
    bind_page(lines);
    Rows rows(lines.executeQuery());
    while (rows->next())
      if (const auto found = by_id.find(rows->getInt64(18)); found != by_id.end())
        found->second->lines.push_back(read_order_line(*rows));
  }
  {
    auto& payments = unit.statement(std::string(kPaymentColumns) + "WHERE order_id IN " + page +
                                    " ORDER BY order_id, id");
    bind_page(payments);
    Rows rows(payments.executeQuery());
    while (rows->next()) {
      auto payment = read_payment(*rows);  // the last one of an order is its latest
      if (const auto found = by_id.find(payment.order_id); found != by_id.end())
        found->second->payment = std::move(payment);
    }
  }
  return orders;
}

std::int64_t count_orders(UnitOfWork& unit, const OrderFilter& filter) {
  auto& statement = unit.statement("SELECT COUNT(*) FROM orders " + filter_clause(filter));
  bind_filter(statement, filter);
  Rows row(statement.executeQuery());
  row->next();
  return row->getInt64(1);
}

bool move_order(UnitOfWork& unit, std::int64_t order_id, const std::string& from,
                const std::string& to, const std::string& by_kind,
                std::optional<std::int64_t> by_user, const std::string& note) {
  auto& statement = unit.statement(
      "UPDATE orders SET state = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = ? AND state = ?");
  statement.setString(1, to);
  statement.setInt64(2, order_id);
  statement.setString(3, from);
  if (statement.executeUpdate() != 1) return false;
  record_order_event(unit, order_id, to, by_kind, by_user, note);
  return true;
}

bool move_order_paid(UnitOfWork& unit, std::int64_t order_id, const std::string& from,
                     std::int64_t amount_fen, const std::string& note) {
  auto& statement = unit.statement(
      "UPDATE orders SET state = 'paid', paid_fen = paid_fen + ?, updated_at = UTC_TIMESTAMP(6) "
      "WHERE id = ? AND state = ?");
  statement.setInt64(1, amount_fen);
  statement.setInt64(2, order_id);
  statement.setString(3, from);
  if (statement.executeUpdate() != 1) return false;
  record_order_event(unit, order_id, "paid", "provider", std::nullopt, note);
  return true;
}

std::int64_t record_order_event(UnitOfWork& unit, std::int64_t order_id, const std::string& state,
                                const std::string& by_kind, std::optional<std::int64_t> by_user,
                                const std::string& note, bool internal) {
  auto& statement = unit.statement(
      "INSERT INTO order_events (order_id, state, by_kind, by_user, note, internal) "
      "VALUES (?, ?, ?, ?, ?, ?) RETURNING created_at");
  statement.setInt64(1, order_id);
  statement.setString(2, state);
  statement.setString(3, by_kind);
  if (by_user)
    statement.setInt64(4, *by_user);
  else
    statement.setNull(4, 0);
  statement.setString(5, domain::storable_text(note, 200));
  statement.setBoolean(6, internal);
  Rows row(statement.executeQuery());
  row->next();
  return micros(*row, 1);
}

namespace {

constexpr const char* kPickupGuard =
    "SELECT id, fulfilment = 'pickup', COALESCE(pickup_code, ''), pickup_failures, "
    "GREATEST(0, COALESCE(CEIL(TIMESTAMPDIFF(MICROSECOND, UTC_TIMESTAMP(6), "
    "pickup_locked_until) / 1000000), 0)) FROM orders ";

std::optional<PickupGuard> read_pickup_guard(sql::PreparedStatement& statement) {
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return PickupGuard{row->getInt64(1), row->getBoolean(2), row->getString(3), row->getInt(4),
                     row->getInt64(5)};
}

}  // namespace

std::optional<PickupGuard> pickup_guard(UnitOfWork& unit, const std::string& number) {
  auto& statement = unit.statement(std::string(kPickupGuard) + "WHERE number = ? FOR UPDATE");
  statement.setString(1, number);
  return read_pickup_guard(statement);
}

PickupGuard record_pickup_failure(UnitOfWork& unit, std::int64_t order_id, int limit,
                                  int lock_seconds) {
  auto& statement = unit.statement(
      "UPDATE orders SET "
      "pickup_locked_until = IF(pickup_failures + 1 >= ?, "
      "  UTC_TIMESTAMP(6) + INTERVAL ? SECOND, pickup_locked_until), "
      "pickup_failures = IF(pickup_failures + 1 >= ?, 0, pickup_failures + 1) WHERE id = ?");
  statement.setInt(1, limit);
  statement.setInt(2, lock_seconds);
  statement.setInt(3, limit);
  statement.setInt64(4, order_id);
  statement.executeUpdate();
  auto& guard = unit.statement(std::string(kPickupGuard) + "WHERE id = ?");
  guard.setInt64(1, order_id);
  return read_pickup_guard(guard).value_or(PickupGuard{});
}

void clear_pickup_failures(UnitOfWork& unit, std::int64_t order_id) {
  auto& statement = unit.statement(
      "UPDATE orders SET pickup_failures = 0, pickup_locked_until = NULL WHERE id = ? "
      "AND (pickup_failures <> 0 OR pickup_locked_until IS NOT NULL)");
  statement.setInt64(1, order_id);
  statement.executeUpdate();
}

void set_order_shipping(UnitOfWork& unit, std::int64_t order_id, const std::string& carrier,
                        const std::string& waybill) {
  auto& statement = unit.statement("UPDATE orders SET carrier = ?, waybill = ? WHERE id = ?");
  statement.setString(1, carrier);
  statement.setString(2, waybill);
  statement.setInt64(3, order_id);
  statement.executeUpdate();
}

void add_order_paid(UnitOfWork& unit, std::int64_t order_id, std::int64_t amount_fen) {
  auto& statement = unit.statement("UPDATE orders SET paid_fen = paid_fen + ? WHERE id = ?");
  statement.setInt64(1, amount_fen);
  statement.setInt64(2, order_id);
  statement.executeUpdate();
}

void add_order_refunded(UnitOfWork& unit, std::int64_t order_id, std::int64_t amount_fen) {
  auto& statement =
      unit.statement("UPDATE orders SET refunded_fen = refunded_fen + ? WHERE id = ?");
  statement.setInt64(1, amount_fen);
  statement.setInt64(2, order_id);
  statement.executeUpdate();
}

void set_order_attention(UnitOfWork& unit, std::int64_t order_id, const std::string& attention) {
  auto& statement = unit.statement("UPDATE orders SET attention = ? WHERE id = ?");
  statement.setString(1, domain::storable_text(attention, 200));
  statement.setInt64(2, order_id);
  statement.executeUpdate();
}

bool flag_order(UnitOfWork& unit, std::int64_t order_id, const std::string& attention) {
  auto& statement =
      unit.statement("UPDATE orders SET attention = ? WHERE id = ? AND attention IS NULL");
  statement.setString(1, domain::storable_text(attention, 200));
  statement.setInt64(2, order_id);
  return statement.executeUpdate() == 1;
}

bool clear_order_attention(UnitOfWork& unit, std::int64_t order_id, const std::string& seen) {
  auto& statement =
      unit.statement("UPDATE orders SET attention = NULL WHERE id = ? AND attention = ?");
  statement.setInt64(1, order_id);
  statement.setString(2, seen);
  return statement.executeUpdate() == 1;
}

bool claim_payment_check(UnitOfWork& unit, std::int64_t order_id, int seconds) {
  auto& statement = unit.statement(
      "UPDATE orders SET payment_checked_at = UTC_TIMESTAMP(6) WHERE id = ? AND "
      "(payment_checked_at IS NULL OR payment_checked_at < UTC_TIMESTAMP(6) - INTERVAL ? SECOND)");
  statement.setInt64(1, order_id);
  statement.setInt(2, seconds);
  return statement.executeUpdate() == 1;
}

void close_order_payments(UnitOfWork& unit, std::int64_t order_id) {
  auto& statement = unit.statement(
      "UPDATE order_payments SET state = 'closed' WHERE order_id = ? AND state = 'started'");
  statement.setInt64(1, order_id);
  statement.executeUpdate();
}

namespace {
/// Expired or cancelled orders whose payment is still `started`: nobody knows whether it was paid.
constexpr std::string_view kUnconfirmedTrades =
    "SELECT o.id FROM orders o WHERE o.id IN (SELECT order_id FROM order_payments "
    "WHERE state = 'started') AND o.state IN ('expired', 'cancelled') ";
}  // namespace

std::vector<std::int64_t> orders_with_unsettled_payments(UnitOfWork& unit, int days, int limit) {
  auto& statement = unit.statement(std::string(kUnconfirmedTrades) +
                                   "AND o.updated_at > UTC_TIMESTAMP(6) - INTERVAL ? DAY "
                                   "ORDER BY o.payment_checked_at IS NOT NULL, "
                                   "o.payment_checked_at, o.id LIMIT ?");
  statement.setInt(1, days);
  statement.setInt(2, limit);
  return ids_of(statement);
}

std::vector<std::int64_t> orders_never_confirmed(UnitOfWork& unit, int days, int limit) {
  auto& statement = unit.statement(std::string(kUnconfirmedTrades) +
                                   "AND o.updated_at <= UTC_TIMESTAMP(6) - INTERVAL ? DAY "
                                   "AND o.attention IS NULL ORDER BY o.id LIMIT ?");
  statement.setInt(1, days);
  statement.setInt(2, limit);
  return ids_of(statement);
}

std::vector<std::int64_t> due_to_expire(UnitOfWork& unit, int limit) {
  auto& statement = unit.statement(
      "SELECT id FROM orders WHERE state IN ('pending_payment', 'confirmed') "
      "AND expires_at < UTC_TIMESTAMP(6) ORDER BY expires_at LIMIT ?");
  statement.setInt(1, limit);
  return ids_of(statement);
}

std::int64_t expired_stock(UnitOfWork& unit, std::int64_t product_id, const std::string& day) {
  auto& statement = unit.statement(
      "SELECT COALESCE(SUM(remaining), 0) FROM stock_lots WHERE product_id = ? AND expires_on < ?");
  statement.setInt64(1, product_id);
  statement.setString(2, day);
  Rows row(statement.executeQuery());
  return row->next() ? row->getInt64(1) : 0;
}

bool reserve_stock(UnitOfWork& unit, std::int64_t product_id, std::int64_t quantity,
                   std::int64_t unusable) {
  auto& statement = unit.statement(
      "UPDATE stock_levels SET reserved = reserved + ?, updated_at = UTC_TIMESTAMP(6) "
      "WHERE product_id = ? AND on_hand - reserved - ? >= ?");
  statement.setInt64(1, quantity);
  statement.setInt64(2, product_id);
  statement.setInt64(3, unusable);
  statement.setInt64(4, quantity);
  return statement.executeUpdate() == 1;
}

void release_stock(UnitOfWork& unit, std::int64_t product_id, std::int64_t quantity) {
  auto& statement = unit.statement(
      "UPDATE stock_levels SET reserved = reserved - ?, updated_at = UTC_TIMESTAMP(6) "
      "WHERE product_id = ? AND reserved >= ?");
  statement.setInt64(1, quantity);
  statement.setInt64(2, product_id);
  statement.setInt64(3, quantity);
  if (statement.executeUpdate() != 1)
    throw Error(ErrorCode::internal, "internal error", {},
                "product " + std::to_string(product_id) + " has less reserved than released");
}

void sell_reserved(UnitOfWork& unit, std::int64_t product_id, std::int64_t quantity) {
  auto& statement = unit.statement(
      "UPDATE stock_levels SET on_hand = on_hand - ?, reserved = reserved - ?, "
      "updated_at = UTC_TIMESTAMP(6) WHERE product_id = ? AND reserved >= ? AND on_hand >= ?");
  statement.setInt64(1, quantity);
  statement.setInt64(2, quantity);
  statement.setInt64(3, product_id);
  statement.setInt64(4, quantity);
  statement.setInt64(5, quantity);
  if (statement.executeUpdate() != 1)
    throw Error(ErrorCode::internal, "internal error", {},
                "product " + std::to_string(product_id) + " lost its reservation");
}

std::int64_t available_stock(UnitOfWork& unit, std::int64_t product_id, const std::string& day) {
  auto& statement = unit.statement(
      "SELECT s.on_hand - s.reserved - COALESCE((SELECT SUM(l.remaining) FROM stock_lots l "
      "  WHERE l.product_id = s.product_id AND l.expires_on < ?), 0) "
      "FROM stock_levels s WHERE s.product_id = ?");
  statement.setString(1, day);
  statement.setInt64(2, product_id);
  Rows row(statement.executeQuery());
  return row->next() ? std::max<std::int64_t>(0, row->getInt64(1)) : 0;
}

void insert_order_line_lots(UnitOfWork& unit, std::int64_t order_line_id, std::int64_t lot_id,
                            std::int64_t quantity) {
  auto& statement = unit.statement(
      "INSERT INTO order_line_lots (order_line_id, lot_id, quantity) VALUES (?, ?, ?)");
  statement.setInt64(1, order_line_id);
  statement.setInt64(2, lot_id);
  statement.setInt64(3, quantity);
  statement.executeUpdate();
}

std::vector<OrderPaymentRecord> order_payments(UnitOfWork& unit, std::int64_t order_id) {
  auto& statement = unit.statement(std::string(kPaymentColumns) + "WHERE order_id = ? ORDER BY id");
  statement.setInt64(1, order_id);
  Rows rows(statement.executeQuery());
  std::vector<OrderPaymentRecord> out;
  while (rows->next())
    out.push_back(read_payment(*rows));
  return out;
}

std::optional<OrderPaymentRecord> find_paid_payment(UnitOfWork& unit, std::int64_t order_id) {
  auto& statement =
      unit.statement(std::string(kPaymentColumns) +
                     "WHERE order_id = ? ORDER BY state = 'paid' DESC, id DESC LIMIT 1");
  statement.setInt64(1, order_id);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return read_payment(*row);
}

std::optional<OrderPaymentRecord> find_payment_by_trade(UnitOfWork& unit,
                                                        const std::string& provider,
                                                        const std::string& out_trade_no,
                                                        bool lock) {
  auto& statement =
      unit.statement(std::string(kPaymentColumns) + "WHERE provider = ? AND out_trade_no = ? " +
                     "ORDER BY state = 'paid' DESC, id DESC LIMIT 1" + (lock ? " FOR UPDATE" : ""));
  statement.setString(1, provider);
  statement.setString(2, out_trade_no);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  auto payment = read_payment(*row);
  // Exactly the number asked: the column's collation also matches "w…" or "W…  ", which are
  // other trades at the provider (its numbers are case-sensitive) that this server never made.
  if (payment.out_trade_no != out_trade_no) return std::nullopt;
  return payment;
}

std::int64_t insert_order_payment(UnitOfWork& unit, const OrderPaymentRecord& payment) {
  auto& statement = unit.statement(
      "INSERT INTO order_payments (order_id, provider, channel, out_trade_no, amount_fen, "
      "qr_content, redirect_url, jsapi) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
  statement.setInt64(1, payment.order_id);
  statement.setString(2, payment.provider);
  statement.setString(3, payment.channel);
  statement.setString(4, payment.out_trade_no);
  statement.setInt64(5, payment.amount_fen);
  set_text(statement, 6, payment.qr_content);
  set_text(statement, 7, payment.redirect_url);
  set_text(statement, 8, payment.jsapi);
  Rows row(statement.executeQuery());
  row->next();
  return row->getInt64(1);
}

void show_payment(UnitOfWork& unit, const OrderPaymentRecord& payment) {
  auto& statement = unit.statement(
      "UPDATE order_payments SET qr_content = ?, redirect_url = ?, jsapi = ? "
      "WHERE id = ? AND state = 'started'");
  set_text(statement, 1, payment.qr_content);
  set_text(statement, 2, payment.redirect_url);
  set_text(statement, 3, payment.jsapi);
  statement.setInt64(4, payment.id);
  statement.executeUpdate();
}

void close_payment(UnitOfWork& unit, std::int64_t payment_id) {
  auto& statement = unit.statement(
      "UPDATE order_payments SET state = 'closed' WHERE id = ? AND state = 'started'");
  statement.setInt64(1, payment_id);
  statement.executeUpdate();
}

void mark_payment_paid(UnitOfWork& unit, std::int64_t payment_id, std::int64_t order_id,
                       const std::optional<std::string>& transaction_id) {
  auto& statement = unit.statement(
      "UPDATE order_payments SET state = IF(id = ?, 'paid', 'closed'), "
      "transaction_id = IF(id = ?, COALESCE(?, transaction_id), transaction_id), "
      "paid_at = IF(id = ?, UTC_TIMESTAMP(6), paid_at) "
      "WHERE order_id = ? AND (id = ? OR state = 'started')");
  statement.setInt64(1, payment_id);
  statement.setInt64(2, payment_id);
  set_text(statement, 3, transaction_id);
  statement.setInt64(4, payment_id);
  statement.setInt64(5, order_id);
  statement.setInt64(6, payment_id);
  statement.executeUpdate();
}

bool mark_payment_surplus(UnitOfWork& unit, std::int64_t payment_id,
                          const std::optional<std::string>& transaction_id) {
  auto& statement = unit.statement(
      "UPDATE order_payments SET state = 'surplus', "
      "transaction_id = COALESCE(?, transaction_id), paid_at = UTC_TIMESTAMP(6) "
      "WHERE id = ? AND state IN ('started', 'closed')");
  set_text(statement, 1, transaction_id);
  statement.setInt64(2, payment_id);
  return statement.executeUpdate() == 1;
}

std::optional<OrderPaymentRecord> find_payment(UnitOfWork& unit, std::int64_t payment_id,
                                               bool lock) {
  auto& statement =
      unit.statement(std::string(kPaymentColumns) + "WHERE id = ?" + (lock ? " FOR UPDATE" : ""));
  statement.setInt64(1, payment_id);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return read_payment(*row);
}

void note_return_attempt(UnitOfWork& unit, std::int64_t payment_id,
                         const std::string& provider_state) {
  auto& statement = unit.statement(
      "UPDATE order_payments SET return_attempts = return_attempts + 1, return_state = ?, "
      "return_asked_at = UTC_TIMESTAMP(6) WHERE id = ? AND state = 'surplus'");
  statement.setString(1, domain::storable_text(provider_state, 32));
  statement.setInt64(2, payment_id);
  statement.executeUpdate();
}

bool finish_surplus_return(UnitOfWork& unit, std::int64_t payment_id, bool returned,
                           const std::string& provider_state,
                           const std::optional<std::string>& failure) {
  auto& statement = unit.statement(
      "UPDATE order_payments SET state = IF(?, 'returned', 'surplus'), "
      "return_attempts = return_attempts + 1, return_state = ?, return_failure = ?, "
      "return_asked_at = UTC_TIMESTAMP(6), returned_at = IF(?, UTC_TIMESTAMP(6), NULL) "
      "WHERE id = ? AND state = 'surplus'");
  statement.setBoolean(1, returned);
  statement.setString(2, domain::storable_text(provider_state, 32));
  set_text(statement, 3,
           failure ? std::optional(domain::storable_text(*failure, 250)) : std::nullopt);
  statement.setBoolean(4, returned);
  statement.setInt64(5, payment_id);
  return statement.executeUpdate() == 1;
}

std::vector<std::int64_t> surplus_payments_to_return(UnitOfWork& unit, int idle_seconds,
                                                     int limit) {
  auto& statement = unit.statement(
      "SELECT id FROM order_payments WHERE state = 'surplus' "
      "AND COALESCE(return_asked_at, paid_at) <= UTC_TIMESTAMP(6) - INTERVAL "
      "IF(return_failure IS NULL, ?, GREATEST(?, ?)) SECOND "
      "ORDER BY COALESCE(return_asked_at, paid_at) LIMIT ?");
  statement.setInt(1, idle_seconds);
  statement.setInt(2, idle_seconds);
  statement.setInt(3, kRefusedReturnRetrySeconds);
  statement.setInt(4, limit);
  return ids_of(statement);
}

void record_notification(UnitOfWork& unit, const std::string& provider, const std::string& verdict,
                         const std::optional<std::string>& out_trade_no,
                         const std::optional<std::string>& transaction_id,
                         std::optional<std::int64_t> amount_fen, const std::string& reason) {
  auto& statement = unit.statement(
      "INSERT INTO payment_notifications (provider, verdict, out_trade_no, transaction_id, "
      "amount_fen, reason) VALUES (?, ?, ?, ?, ?, ?)");
  statement.setString(1, provider);
  statement.setString(2, verdict);
  // What a notification says is untrusted text until verified: stored cut and made valid.
  const auto cut = [](const std::optional<std::string>& text) -> std::optional<std::string> {
    if (!text) return std::nullopt;
    return domain::storable_text(*text, 64);
  };
  set_text(statement, 3, cut(out_trade_no));
  set_text(statement, 4, cut(transaction_id));
  if (amount_fen)
    statement.setInt64(5, *amount_fen);
  else
    statement.setNull(5, 0);
  statement.setString(6, domain::storable_text(reason, 300));
  statement.executeUpdate();
}

namespace {

constexpr const char* kRefundColumns =
    "SELECT id, order_id, seq, out_refund_no, method, state, origin, goods_fen, delivery_fee_fen, "
    "amount_fen, unsold, reason, shift_id, register_id, created_by, provider_refund_id, "
    "provider_state, failure, attempts, created_at, finished_at FROM order_refunds ";

OrderRefundRecord read_refund(sql::ResultSet& row) {
  OrderRefundRecord r;
  r.id = row.getInt64(1);
  r.order_id = row.getInt64(2);
  r.seq = row.getInt(3);
  r.out_refund_no = row.getString(4);
  r.method = row.getString(5);
  r.state = row.getString(6);
  r.origin = row.getString(7);
  r.goods_fen = row.getInt64(8);
  r.delivery_fee_fen = row.getInt64(9);
  r.amount_fen = row.getInt64(10);
  r.unsold = row.getBoolean(11);
  r.reason = row.getString(12);
  r.shift_id = optional_int64(row, 13);
  r.register_id = optional_int64(row, 14);
  r.created_by = optional_int64(row, 15);
  r.provider_refund_id = optional_text(row, 16);
  r.provider_state = optional_text(row, 17);
  r.failure = optional_text(row, 18);
  r.attempts = row.getInt(19);
  r.created_at = micros(row, 20);
  if (!row.isNull(21)) r.finished_at = micros(row, 21);
  return r;
}

void load_refund_lines(UnitOfWork& unit, std::vector<OrderRefundRecord>& refunds) {
  for (auto& refund : refunds) {
    auto& statement = unit.statement(
        "SELECT rl.order_line_id, l.line_no, l.product_id, l.village_id, rl.quantity, "
        "rl.gross_fen, rl.fee_fen, rl.share_fen, rl.stock FROM order_refund_lines rl "
        "JOIN order_lines l ON l.id = rl.order_line_id WHERE rl.refund_id = ? ORDER BY l.line_no");
    statement.setInt64(1, refund.id);
    Rows rows(statement.executeQuery());
    while (rows->next())
      refund.lines.push_back({rows->getInt64(1), rows->getInt(2), rows->getInt64(3),
                              rows->getInt64(4), rows->getInt64(5), rows->getInt64(6),
                              rows->getInt64(7), rows->getInt64(8), rows->getString(9)});
  }
}

}  // namespace

void insert_order_refund(UnitOfWork& unit, OrderRefundRecord& refund) {
  auto& statement = unit.statement(
      "INSERT INTO order_refunds (order_id, seq, out_refund_no, method, state, origin, goods_fen, "
      "delivery_fee_fen, amount_fen, unsold, reason, shift_id, register_id, created_by) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id, created_at");
  statement.setInt64(1, refund.order_id);
  statement.setInt(2, refund.seq);
  statement.setString(3, refund.out_refund_no);
  statement.setString(4, refund.method);
  statement.setString(5, refund.state);
  statement.setString(6, refund.origin);
  statement.setInt64(7, refund.goods_fen);
  statement.setInt64(8, refund.delivery_fee_fen);
  statement.setInt64(9, refund.amount_fen);
  statement.setBoolean(10, refund.unsold);
  statement.setString(11, domain::storable_text(refund.reason, 200));
  set_optional(statement, 12, refund.shift_id);
  set_optional(statement, 13, refund.register_id);
  set_optional(statement, 14, refund.created_by);
  {
    Rows row(statement.executeQuery());
    row->next();
    refund.id = row->getInt64(1);
    refund.created_at = micros(*row, 2);
  }
  for (const auto& line : refund.lines) {
    auto& insert = unit.statement(
        "INSERT INTO order_refund_lines (refund_id, order_line_id, quantity, gross_fen, fee_fen, "
        "share_fen, stock) VALUES (?, ?, ?, ?, ?, ?, ?)");
    insert.setInt64(1, refund.id);
    insert.setInt64(2, line.order_line_id);
    insert.setInt64(3, line.quantity);
    insert.setInt64(4, line.gross_fen);
    insert.setInt64(5, line.fee_fen);
    insert.setInt64(6, line.share_fen);
    insert.setString(7, line.stock);
    insert.executeUpdate();
  }
}

std::vector<OrderRefundRecord> order_refunds(UnitOfWork& unit, std::int64_t order_id) {
  auto& statement = unit.statement(std::string(kRefundColumns) + "WHERE order_id = ? ORDER BY seq");
  statement.setInt64(1, order_id);
  std::vector<OrderRefundRecord> refunds;
  {
    Rows rows(statement.executeQuery());
    while (rows->next())
      refunds.push_back(read_refund(*rows));
  }
  load_refund_lines(unit, refunds);
  return refunds;
}

std::optional<OrderRefundRecord> find_order_refund(UnitOfWork& unit, std::int64_t id) {
  auto& statement = unit.statement(std::string(kRefundColumns) + "WHERE id = ?");
  statement.setInt64(1, id);
  std::vector<OrderRefundRecord> refunds;
  {
    Rows rows(statement.executeQuery());
    if (rows->next()) refunds.push_back(read_refund(*rows));
  }
  if (refunds.empty()) return std::nullopt;
  load_refund_lines(unit, refunds);
  return refunds.front();
}

bool finish_order_refund(UnitOfWork& unit, std::int64_t id, const std::string& state,
                         const std::optional<std::string>& provider_refund_id,
                         const std::string& provider_state,
                         const std::optional<std::string>& failure) {
  auto& statement = unit.statement(
      "UPDATE order_refunds SET state = ?, provider_refund_id = COALESCE(?, provider_refund_id), "
      "provider_state = ?, failure = ?, finished_at = UTC_TIMESTAMP(6), "
      "updated_at = UTC_TIMESTAMP(6) WHERE id = ? AND state = 'processing'");
  statement.setString(1, state);
  set_text(statement, 2, provider_refund_id);
  statement.setString(3, domain::storable_text(provider_state, 64));
  set_text(statement, 4,
           failure ? std::optional(domain::storable_text(*failure, 300)) : std::nullopt);
  statement.setInt64(5, id);
  return statement.executeUpdate() == 1;
}

void note_refund_attempt(UnitOfWork& unit, std::int64_t id, const std::string& provider_state) {
  auto& statement = unit.statement(
      "UPDATE order_refunds SET attempts = attempts + 1, provider_state = ?, "
      "updated_at = UTC_TIMESTAMP(6) WHERE id = ? AND state = 'processing'");
  statement.setString(1, domain::storable_text(provider_state, 64));
  statement.setInt64(2, id);
  statement.executeUpdate();
}

std::vector<std::int64_t> refunds_to_finish(UnitOfWork& unit, int idle_seconds, int limit) {
  auto& statement = unit.statement(
      "SELECT id FROM order_refunds WHERE state = 'processing' AND method <> 'cash' "
      "AND updated_at <= UTC_TIMESTAMP(6) - INTERVAL ? SECOND ORDER BY updated_at LIMIT ?");
  statement.setInt(1, idle_seconds);
  statement.setInt(2, limit);
  return ids_of(statement);
}

std::map<std::int64_t, std::int64_t> released_by_refunds(UnitOfWork& unit, std::int64_t order_id) {
  auto& statement = unit.statement(
      "SELECT rl.order_line_id, SUM(rl.quantity) FROM order_refund_lines rl "
      "JOIN order_refunds r ON r.id = rl.refund_id "
      "WHERE r.order_id = ? AND r.state = 'succeeded' AND rl.stock = 'release' "
      "GROUP BY rl.order_line_id");
  statement.setInt64(1, order_id);
  Rows rows(statement.executeQuery());
  std::map<std::int64_t, std::int64_t> released;
  while (rows->next())
    released[rows->getInt64(1)] = rows->getInt64(2);
  return released;
}

std::optional<std::int64_t> last_lot_of_line(UnitOfWork& unit, std::int64_t order_line_id) {
  auto& statement = unit.statement(
      "SELECT ll.lot_id FROM order_line_lots ll JOIN stock_lots s ON s.id = ll.lot_id "
      "WHERE ll.order_line_id = ? ORDER BY s.expires_on IS NULL, s.expires_on DESC, ll.lot_id DESC "
      "LIMIT 1");
  statement.setInt64(1, order_line_id);
  Rows row(statement.executeQuery());
  if (!row->next()) return std::nullopt;
  return row->getInt64(1);
}

void set_order_unsold(UnitOfWork& unit, std::int64_t order_id) {
  auto& statement = unit.statement("UPDATE orders SET unsold_payment = 1 WHERE id = ?");
  statement.setInt64(1, order_id);
  statement.executeUpdate();
}

void set_order_payment_method(UnitOfWork& unit, std::int64_t order_id, const std::string& method) {
  auto& statement = unit.statement(
      "UPDATE orders SET payment_method = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = ? AND "
      "payment_method <> 'cash_on_pickup'");
  statement.setString(1, method);
  statement.setInt64(2, order_id);
  statement.executeUpdate();
}

}  // namespace yizhan::store
