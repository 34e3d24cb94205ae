// The manager's reports in MariaDB: sums over the frozen lines (sale_lines, refund_lines,
// order_lines, order_refund_lines) reached through the business-day indexes, counted as the
// village portal (store/village_reports.cpp) and the settlements count them.
#include "yizhan/store/reports.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <map>
#include <memory>
#include <string_view>
#include <tuple>
#include <vector>

#include "rows.hpp"
#include "yizhan/store/database.hpp"

namespace yizhan::store {
namespace {

using Rows = std::unique_ptr<sql::ResultSet>;

/// The group key of each SalesGroup (a closed set of SQL expressions: never a client's text).
/// `x` is the part's dated row (sale, refund or journal entry), `l` the frozen line, `p` the
/// product (joined only for the category).
const char* key_expression(domain::SalesGroup group) {
  switch (group) {
    case domain::SalesGroup::day: return "CAST(x.business_day AS CHAR)";
    case domain::SalesGroup::month: return "DATE_FORMAT(x.business_day, '%Y-%m')";
    case domain::SalesGroup::village: return "CAST(l.village_id AS CHAR)";
    case domain::SalesGroup::product: return "CAST(l.product_id AS CHAR)";
    case domain::SalesGroup::category: return "CAST(p.category_id AS CHAR)";
    case domain::SalesGroup::channel:
    case domain::SalesGroup::method: return "''";
  }
  return "''";
}

/// The four parts of every sales sum, each selecting `keys` (over `x`, the part's dated row —
/// sale, refund or journal entry —, `l`, the frozen line, and `p`, the product, joined when
/// `with_product`), then channel, refund, gross, fee, share, pieces, grams and the distinct
/// documents, grouped by `group_by`: counter sales by their day, counter refunds by theirs,
/// online orders by the day of their one order_payment entry (unless the goods were gone),
/// online refunds by the day of their order_refund entry (sql/012's
/// ix_journal_entries_kind_day finds both). Columns are named c1, c2, … after the keys.
std::string parts_query(const std::string& keys, const std::string& group_by, bool with_product) {
  const std::string product = with_product ? " JOIN products p ON p.id = l.product_id " : " ";
  auto part = [&](const char* channel, const char* refund, const char* q, const char* counted,
                  const std::string& from) {
    return "SELECT " + keys + ", '" + channel + "' AS ch, " + refund + " AS rf, SUM(" + q +
           ".gross_fen) AS gross, SUM(" + q + ".fee_fen) AS fee, SUM(" + q +
           ".share_fen) AS share, SUM(IF(l.unit = 'piece', " + q +
           ".quantity, 0)) AS pieces, SUM(IF(l.unit = 'g', " + q +
           ".quantity, 0)) AS grams, COUNT(DISTINCT " + counted + ") AS docs " + from + product;
  };
  return part("counter", "0", "l", "x.id", "FROM sales x JOIN sale_lines l ON l.sale_id = x.id") +
         "WHERE x.business_day BETWEEN ? AND ? GROUP BY " + group_by + " UNION ALL " +
         part("counter", "1", "rl", "x.id",
              "FROM refunds x JOIN refund_lines rl ON rl.refund_id = x.id "
              "JOIN sale_lines l ON l.id = rl.sale_line_id") +
         "WHERE x.business_day BETWEEN ? AND ? GROUP BY " + group_by + " UNION ALL " +
         part("online", "0", "l", "x.document_id",
              "FROM journal_entries x JOIN orders o ON o.id = x.document_id AND "
              "o.unsold_payment = 0 JOIN order_lines l ON l.order_id = o.id") +
         "WHERE x.kind = 'order_payment' AND x.business_day BETWEEN ? AND ? GROUP BY " + group_by +
         " UNION ALL " +
         part("online", "1", "rl", "x.document_id",
              "FROM journal_entries x JOIN order_refund_lines rl ON rl.refund_id = x.document_id "
              "JOIN order_lines l ON l.id = rl.order_line_id") +
         "WHERE x.kind = 'order_refund' AND x.business_day BETWEEN ? AND ? GROUP BY " + group_by;
}

/// A sales sum per group, each part WITH ROLLUP so that its distinct documents are counted once
/// in its total row (key NULL), not once per group.
std::string sales_query(domain::SalesGroup group) {
  return parts_query(std::string(key_expression(group)) + " AS k", "1 WITH ROLLUP",
                     group == domain::SalesGroup::category);
}

constexpr const char* kMethods =
    "SELECT t.method AS m, 'counter' AS ch, 0 AS rf, SUM(t.amount_fen) AS amount, "
    "       COUNT(DISTINCT x.id) AS docs "
    "FROM sales x JOIN sale_tenders t ON t.sale_id = x.id "
    "WHERE x.business_day BETWEEN ? AND ? GROUP BY t.method "
    "UNION ALL "
    "SELECT x.method, 'counter', 1, SUM(x.total_fen), COUNT(*) FROM refunds x "
    "WHERE x.business_day BETWEEN ? AND ? GROUP BY x.method "
    "UNION ALL "
    // Cash on pickup is cash into the drawer.
    "SELECT IF(o.payment_method = 'cash_on_pickup', 'cash', o.payment_method), 'online', 0, "
    "       SUM(o.subtotal_fen), COUNT(*) "
    "FROM journal_entries x JOIN orders o ON o.id = x.document_id AND o.unsold_payment = 0 "
    "WHERE x.kind = 'order_payment' AND x.business_day BETWEEN ? AND ? GROUP BY 1 "
    "UNION ALL "
    "SELECT r.method, 'online', 1, SUM(r.goods_fen), COUNT(*) "
    "FROM journal_entries x JOIN order_refunds r ON r.id = x.document_id AND r.unsold = 0 "
    "WHERE x.kind = 'order_refund' AND x.business_day BETWEEN ? AND ? GROUP BY r.method";

void bind_parts(sql::PreparedStatement& statement, int parts, const std::string& from,
                const std::string& to) {
  for (int part = 0; part < parts; ++part) {
    statement.setString(part * 2 + 1, from);
    statement.setString(part * 2 + 2, to);
  }
}

domain::Channel channel_of(const sql::SQLString& text) {
  return domain::parse_channel(std::string(text)).value_or(domain::Channel::counter);
}

}  // namespace

std::vector<SalesGroupRow> sales_by_group(UnitOfWork& unit, domain::SalesGroup group,
                                          const std::string& from, const std::string& to) {
  // One prepared statement per group, kept by the connection like any other.
  static const std::map<domain::SalesGroup, std::string> kQueries = [] {
    std::map<domain::SalesGroup, std::string> queries;
    for (const auto group :
         {domain::SalesGroup::day, domain::SalesGroup::month, domain::SalesGroup::village,
          domain::SalesGroup::product, domain::SalesGroup::category, domain::SalesGroup::channel})
      queries.emplace(group, sales_query(group));
    return queries;
  }();
  const auto found = kQueries.find(group);
  auto& statement = unit.statement(found != kQueries.end() ? found->second
                                                           : kQueries.at(domain::SalesGroup::day));
  bind_parts(statement, 4, from, to);
  Rows rows(statement.executeQuery());
  std::vector<SalesGroupRow> out;
  while (rows->next()) {
    SalesGroupRow row;
    // WITH ROLLUP: each part ends with its total, whose key is NULL.
    row.total = rows->isNull(1);
    if (!row.total) row.key = rows->getString(1);
    row.channel = channel_of(rows->getString(2));
    row.refund = rows->getInt(3) != 0;
    row.gross = domain::Fen(rows->getInt64(4));
    row.fee = domain::Fen(rows->getInt64(5));
    row.share = domain::Fen(rows->getInt64(6));
    row.pieces = rows->getInt64(7);
    row.grams = rows->getInt64(8);
    row.count = rows->getInt64(9);
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<MethodRow> sales_by_method(UnitOfWork& unit, const std::string& from,
                                       const std::string& to) {
  auto& statement = unit.statement(kMethods);
  bind_parts(statement, 4, from, to);
  Rows rows(statement.executeQuery());
  std::vector<MethodRow> out;
  while (rows->next()) {
    out.push_back({rows->getString(1), channel_of(rows->getString(2)), rows->getInt(3) != 0,
                   domain::Fen(rows->getInt64(4)), rows->getInt64(5)});
  }
  return out;
}

namespace {

// The document of each entry kind that can touch a clearing account, and the provider's trade:
// a counter sale's 付款码 charges (code_payments) and refunds (code_refunds), an order's paid
// trade, an order refund's number, a surplus payment's trade and its return (<trade>-D).
constexpr const char* kClearingPostings =
    "SELECT e.kind, CAST(e.business_day AS CHAR), e.created_at, "
    "       SUBSTRING(a.code, 17) AS method, p.amount_fen, "
    "       COALESCE(s.number, rs.number, o.number, o2.number, ''), "
    "       COALESCE(CASE "
    "         WHEN e.kind = 'sale' THEN (SELECT GROUP_CONCAT(c.out_trade_no ORDER BY c.id "
    "           SEPARATOR ' ') FROM code_payments c WHERE c.sale_id = e.document_id "
    "           AND c.state = 'sold' AND CONCAT(c.provider, '_code') = SUBSTRING(a.code, 17)) "
    "         WHEN r.id IS NOT NULL THEN (SELECT GROUP_CONCAT(c.out_refund_no ORDER BY c.id "
    "           SEPARATOR ' ') FROM code_refunds c WHERE c.sale_id = r.sale_id "
    "           AND c.refund_id = r.id) "
    "         WHEN o.id IS NOT NULL THEN (SELECT GROUP_CONCAT(t.out_trade_no ORDER BY t.id "
    "           SEPARATOR ' ') FROM order_payments t WHERE t.order_id = o.id "
    "           AND t.state IN ('paid', 'refunded')) "
    "         WHEN orf.id IS NOT NULL THEN orf.out_refund_no "
    "         WHEN e.kind = 'surplus_return' THEN CONCAT(sp.out_trade_no, '-D') "
    "         ELSE sp.out_trade_no END, ''), "
    "       COALESCE(CASE "
    "         WHEN e.kind = 'sale' THEN (SELECT GROUP_CONCAT(c.transaction_id ORDER BY c.id "
    "           SEPARATOR ' ') FROM code_payments c WHERE c.sale_id = e.document_id "
    "           AND c.state = 'sold' AND CONCAT(c.provider, '_code') = SUBSTRING(a.code, 17)) "
    "         WHEN r.id IS NOT NULL THEN (SELECT GROUP_CONCAT(c.provider_refund_id "
    "           ORDER BY c.id SEPARATOR ' ') FROM code_refunds c WHERE c.sale_id = r.sale_id "
    "           AND c.refund_id = r.id) "
    "         WHEN o.id IS NOT NULL THEN (SELECT GROUP_CONCAT(t.transaction_id ORDER BY t.id "
    "           SEPARATOR ' ') FROM order_payments t WHERE t.order_id = o.id "
    "           AND t.state IN ('paid', 'refunded')) "
    "         WHEN orf.id IS NOT NULL THEN orf.provider_refund_id "
    "         WHEN e.kind = 'surplus_payment' THEN sp.transaction_id END, '') "
    "FROM ledger_accounts a "
    "JOIN postings p ON p.account_id = a.id "
    "JOIN journal_entries e ON e.id = p.entry_id "
    "LEFT JOIN sales s ON e.kind = 'sale' AND s.id = e.document_id "
    "LEFT JOIN refunds r ON e.kind IN ('refund', 'refund_failed') AND r.id = e.document_id "
    "LEFT JOIN sales rs ON rs.id = r.sale_id "
    "LEFT JOIN orders o ON e.kind = 'order_payment' AND o.id = e.document_id "
    "LEFT JOIN order_refunds orf ON e.kind = 'order_refund' AND orf.id = e.document_id "
    "LEFT JOIN order_payments sp ON e.kind IN ('surplus_payment', 'surplus_return') "
    "  AND sp.id = e.document_id "
    "LEFT JOIN orders o2 ON o2.id = COALESCE(orf.order_id, sp.order_id) "
    "WHERE a.code LIKE 'tender\\_clearing:%' AND e.business_day BETWEEN ? AND ? "
    "ORDER BY e.created_at, e.id, p.id";

}  // namespace

std::vector<ClearingPostingRow> clearing_postings(UnitOfWork& unit, const std::string& from,
                                                  const std::string& to) {
  auto& statement = unit.statement(kClearingPostings);
  statement.setString(1, from);
  statement.setString(2, to);
  Rows rows(statement.executeQuery());
  std::vector<ClearingPostingRow> out;
  while (rows->next()) {
    ClearingPostingRow row;
    row.kind = rows->getString(1);
    row.business_day = rows->getString(2);
    row.at_us = micros(*rows, 3);
    row.method = rows->getString(4);
    row.amount = domain::Fen(rows->getInt64(5));
    row.document = rows->getString(6);
    row.trade_no = rows->getString(7);
    row.transaction_id = rows->getString(8);
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<ReportProductRow> report_products(UnitOfWork& unit) {
  auto& statement = unit.statement(
      "SELECT p.id, p.sku, p.name, p.name_en, p.village_id, p.category_id, p.unit, p.price_fen, "
      "       p.active, COALESCE(sl.on_hand, 0), COALESCE(sl.reserved, 0) "
      "FROM products p LEFT JOIN stock_levels sl ON sl.product_id = p.id ORDER BY p.id");
  Rows rows(statement.executeQuery());
  std::vector<ReportProductRow> out;
  while (rows->next()) {
    ReportProductRow row;
    row.id = rows->getInt64(1);
    row.sku = rows->getString(2);
    row.name = rows->getString(3);
    row.name_en = rows->getString(4);
    row.village_id = rows->getInt64(5);
    row.category_id = rows->getInt64(6);
    row.unit = domain::parse_unit(std::string(rows->getString(7))).value_or(domain::Unit::piece);
    row.price = domain::Fen(rows->getInt64(8));
    row.active = rows->getBoolean(9);
    row.on_hand = rows->getInt64(10);
    row.reserved = rows->getInt64(11);
    out.push_back(std::move(row));
  }
  return out;
}

namespace {

std::vector<NamedRow> named_rows(UnitOfWork& unit, const char* query) {
  auto& statement = unit.statement(query);
  Rows rows(statement.executeQuery());
  std::vector<NamedRow> out;
  while (rows->next())
    out.push_back({rows->getInt64(1), rows->getString(2), rows->getString(3), rows->getString(4)});
  return out;
}

}  // namespace

std::vector<NamedRow> report_villages(UnitOfWork& unit) {
  return named_rows(unit, "SELECT id, code, name, name_en FROM villages ORDER BY id");
}

std::vector<NamedRow> report_categories(UnitOfWork& unit) {
  return named_rows(unit, "SELECT id, code, name, name_en FROM categories ORDER BY sort_order, id");
}

std::vector<ReportLotRow> lots_expiring(UnitOfWork& unit, const std::string& until) {
  auto& statement = unit.statement(
      "SELECT lt.id, lt.product_id, lt.lot, lt.expires_on, lt.remaining FROM stock_lots lt "
      "WHERE lt.expires_on <= ? AND lt.remaining > 0 ORDER BY lt.expires_on, lt.id");
  statement.setString(1, until);
  Rows rows(statement.executeQuery());
  std::vector<ReportLotRow> out;
  while (rows->next()) {
    out.push_back({rows->getInt64(1), rows->getInt64(2), rows->getString(3), rows->getString(4),
                   rows->getInt64(5)});
  }
  return out;
}

// --- closed days, summed once (sql/016) ---------------------------------------------------------

namespace {

/// A day's fingerprint: how many sales, refunds and online payment and refund entries it has,
/// and their largest ids (all index-only reads).
constexpr const char* kFingerprints =
    "SELECT d, GROUP_CONCAT(part, ':', n, ':', m ORDER BY part SEPARATOR ' ') FROM ("
    "  SELECT business_day AS d, 1 AS part, COUNT(*) AS n, MAX(id) AS m FROM sales "
    "  WHERE business_day BETWEEN ? AND ? GROUP BY business_day "
    "  UNION ALL SELECT business_day, 2, COUNT(*), MAX(id) FROM refunds "
    "  WHERE business_day BETWEEN ? AND ? GROUP BY business_day "
    "  UNION ALL SELECT business_day, 3, COUNT(*), MAX(id) FROM journal_entries "
    "  WHERE kind = 'order_payment' AND business_day BETWEEN ? AND ? GROUP BY business_day "
    "  UNION ALL SELECT business_day, 4, COUNT(*), MAX(id) FROM journal_entries "
    "  WHERE kind = 'order_refund' AND business_day BETWEEN ? AND ? GROUP BY business_day"
    ") t GROUP BY d";

void bind_day(sql::PreparedStatement& statement, const std::string& day, int pairs) {
  statement.setString(1, day);
  for (int i = 0; i < pairs * 2; ++i)
    statement.setString(i + 2, day);
}

/// Sums one day into the report_day_* tables (after removing what they held of it).
void sum_day(UnitOfWork& unit, const std::string& day, const std::string& fingerprint) {
  for (const char* query : {"DELETE FROM report_day_lines WHERE business_day = ?",
                            "DELETE FROM report_day_counts WHERE business_day = ?",
                            "DELETE FROM report_day_methods WHERE business_day = ?"}) {
    auto& statement = unit.statement(query);
    statement.setString(1, day);
    statement.executeUpdate();
  }
  static const std::string kLines =
      "INSERT INTO report_day_lines (business_day, product_id, village_id, category_id, channel, "
      "refund, gross_fen, fee_fen, share_fen, pieces, grams) "
      "SELECT ?, product_id, village_id, category_id, ch, rf, gross, fee, share, pieces, grams "
      "FROM (" +
      parts_query(
          "l.product_id AS product_id, l.village_id AS village_id, "
          "p.category_id AS category_id",
          "l.product_id, l.village_id, p.category_id", true) +
      ") t";
  auto& lines = unit.statement(kLines);
  bind_day(lines, day, 4);
  lines.executeUpdate();
  static const std::vector<std::string> kCounts = [] {
    std::vector<std::string> queries;
    for (const auto& [scope, key, product] :
         {std::tuple<const char*, const char*, bool>{"all", "0", false},
          {"village", "l.village_id", false},
          {"product", "l.product_id", false},
          {"category", "p.category_id", true}}) {
      queries.push_back(
          std::string("INSERT INTO report_day_counts (business_day, channel, refund, scope, "
                      "scope_id, documents) SELECT ?, ch, rf, '") +
          scope + "', sid, docs FROM (" + parts_query(std::string(key) + " AS sid", "1", product) +
          ") t");
    }
    return queries;
  }();
  for (const auto& query : kCounts) {
    auto& counts = unit.statement(query);
    bind_day(counts, day, 4);
    counts.executeUpdate();
  }
  static const std::string kDayMethods =
      std::string(
          "INSERT INTO report_day_methods (business_day, channel, refund, method, "
          "amount_fen, documents) SELECT ?, ch, rf, m, amount, docs FROM (") +
      kMethods + ") t";
  auto& methods = unit.statement(kDayMethods);
  bind_day(methods, day, 4);
  methods.executeUpdate();
  auto& done = unit.statement(
      "REPLACE INTO report_days (business_day, fingerprint, built_at) "
      "VALUES (?, ?, UTC_TIMESTAMP(6))");
  done.setString(1, day);
  done.setString(2, fingerprint);
  done.executeUpdate();
}

const char* summary_key(domain::SalesGroup group, bool counts) {
  switch (group) {
    // The day as it is (its index order, no temporary table); read as "YYYY-MM-DD".
    case domain::SalesGroup::day: return "business_day";
    case domain::SalesGroup::month: return "DATE_FORMAT(business_day, '%Y-%m')";
    case domain::SalesGroup::village:
      return counts ? "CAST(scope_id AS CHAR)" : "CAST(village_id AS CHAR)";
    case domain::SalesGroup::product:
      return counts ? "CAST(scope_id AS CHAR)" : "CAST(product_id AS CHAR)";
    case domain::SalesGroup::category:
      return counts ? "CAST(scope_id AS CHAR)" : "CAST(category_id AS CHAR)";
    case domain::SalesGroup::channel:
    case domain::SalesGroup::method: return "''";
  }
  return "''";
}

const char* summary_scope(domain::SalesGroup group) {
  switch (group) {
    case domain::SalesGroup::village: return "village";
    case domain::SalesGroup::product: return "product";
    case domain::SalesGroup::category: return "category";
    default: return "all";
  }
}

}  // namespace

int refresh_report_days(UnitOfWork& unit, const std::vector<std::string>& days) {
  if (days.empty()) return 0;
  const auto& from = days.front();
  const auto& to = days.back();
  std::map<std::string, std::string> now;
  {
    auto& statement = unit.statement(kFingerprints);
    for (int i = 0; i < 4; ++i) {
      statement.setString(i * 2 + 1, from);
      statement.setString(i * 2 + 2, to);
    }
    Rows rows(statement.executeQuery());
    while (rows->next())
      now[rows->getString(1)] = rows->getString(2);
  }
  std::map<std::string, std::string> summed;
  {
    auto& statement = unit.statement(
        "SELECT business_day, fingerprint FROM report_days WHERE business_day BETWEEN ? AND ?");
    statement.setString(1, from);
    statement.setString(2, to);
    Rows rows(statement.executeQuery());
    while (rows->next())
      summed[rows->getString(1)] = rows->getString(2);
  }
  int done = 0;
  for (const auto& day : days) {
    const auto found = now.find(day);
    const std::string fingerprint = found == now.end() ? std::string() : found->second;
    const auto have = summed.find(day);
    if (have != summed.end() && have->second == fingerprint) continue;
    sum_day(unit, day, fingerprint);
    ++done;
  }
  return done;
}

std::vector<SalesGroupRow> summed_sales_by_group(UnitOfWork& unit, domain::SalesGroup group,
                                                 const std::string& from, const std::string& to) {
  struct Queries {
    std::string amounts, counts;
  };
  static const std::map<domain::SalesGroup, Queries> kQueries = [] {
    std::map<domain::SalesGroup, Queries> queries;
    for (const auto g :
         {domain::SalesGroup::day, domain::SalesGroup::month, domain::SalesGroup::village,
          domain::SalesGroup::product, domain::SalesGroup::category, domain::SalesGroup::channel}) {
      queries[g] = {std::string("SELECT ") + summary_key(g, false) +
                        ", channel, refund, SUM(gross_fen), SUM(fee_fen), SUM(share_fen), "
                        "SUM(pieces), SUM(grams) FROM report_day_lines "
                        "WHERE business_day BETWEEN ? AND ? GROUP BY 1, channel, refund",
                    std::string("SELECT ") + summary_key(g, true) +
                        ", channel, refund, SUM(documents) FROM report_day_counts "
                        "WHERE scope = '" +
                        summary_scope(g) +
                        "' AND business_day BETWEEN ? AND ? GROUP BY 1, channel, refund"};
    }
    return queries;
  }();
  const auto& queries =
      kQueries.at(group == domain::SalesGroup::method ? domain::SalesGroup::channel : group);
  std::map<std::tuple<std::string, int, int, bool>, SalesGroupRow> rows;
  auto row_of = [&](std::string key, const sql::SQLString& channel, int refund,
                    bool total) -> SalesGroupRow& {
    const auto parsed = channel_of(channel);
    auto& row = rows[{key, static_cast<int>(parsed), refund, total}];
    row.key = std::move(key);
    row.channel = parsed;
    row.refund = refund != 0;
    row.total = total;
    return row;
  };
  auto read_amounts = [&](const std::string& query, bool total) {
    auto& statement = unit.statement(query);
    statement.setString(1, from);
    statement.setString(2, to);
    Rows result(statement.executeQuery());
    while (result->next()) {
      const int shift = total ? 0 : 1;
      auto& row = row_of(total ? std::string() : std::string(result->getString(1)),
                         result->getString(1 + shift), result->getInt(2 + shift), total);
      row.gross = domain::Fen(result->getInt64(3 + shift));
      row.fee = domain::Fen(result->getInt64(4 + shift));
      row.share = domain::Fen(result->getInt64(5 + shift));
      row.pieces = result->getInt64(6 + shift);
      row.grams = result->getInt64(7 + shift);
    }
  };
  auto read_counts = [&](const std::string& query, bool total) {
    auto& statement = unit.statement(query);
    statement.setString(1, from);
    statement.setString(2, to);
    Rows result(statement.executeQuery());
    while (result->next()) {
      const int shift = total ? 0 : 1;
      auto& row = row_of(total ? std::string() : std::string(result->getString(1)),
                         result->getString(1 + shift), result->getInt(2 + shift), total);
      row.count = result->getInt64(3 + shift);
    }
  };
  read_amounts(queries.amounts, false);
  read_counts(queries.counts, false);
  // Totals: the amounts add up over any grouping (a line is in one group); the distinct sales
  // do over days and months, not over villages, products or categories (a sale spans several).
  const bool counts_add_up = std::string_view(summary_scope(group)) == "all";
  std::map<std::pair<int, int>, SalesGroupRow> totals;
  for (const auto& [key, row] : rows) {
    auto& total = totals[{static_cast<int>(row.channel), row.refund ? 1 : 0}];
    total.channel = row.channel;
    total.refund = row.refund;
    total.total = true;
    total.gross += row.gross;
    total.fee += row.fee;
    total.share += row.share;
    total.pieces += row.pieces;
    total.grams += row.grams;
    if (counts_add_up) total.count += row.count;
  }
  if (!counts_add_up) {
    auto& statement = unit.statement(
        "SELECT channel, refund, SUM(documents) FROM report_day_counts "
        "WHERE scope = 'all' AND business_day BETWEEN ? AND ? GROUP BY channel, refund");
    statement.setString(1, from);
    statement.setString(2, to);
    Rows result(statement.executeQuery());
    while (result->next()) {
      const auto channel = channel_of(result->getString(1));
      const int refund = result->getInt(2);
      auto& total = totals[{static_cast<int>(channel), refund}];
      total.channel = channel;
      total.refund = refund != 0;
      total.total = true;
      total.count = result->getInt64(3);
    }
  }
  std::vector<SalesGroupRow> out;
  for (auto& [key, row] : rows)
    out.push_back(std::move(row));
  for (auto& [key, row] : totals)
    out.push_back(std::move(row));
  return out;
}

std::vector<MethodRow> summed_sales_by_method(UnitOfWork& unit, const std::string& from,
                                              const std::string& to) {
  auto& statement = unit.statement(
      "SELECT method, channel, refund, SUM(amount_fen), SUM(documents) FROM report_day_methods "
      "WHERE business_day BETWEEN ? AND ? GROUP BY method, channel, refund");
  statement.setString(1, from);
  statement.setString(2, to);
  Rows rows(statement.executeQuery());
  std::vector<MethodRow> out;
  while (rows->next()) {
    out.push_back({rows->getString(1), channel_of(rows->getString(2)), rows->getInt(3) != 0,
                   domain::Fen(rows->getInt64(4)), rows->getInt64(5)});
  }
  return out;
}

}  // namespace yizhan::store
