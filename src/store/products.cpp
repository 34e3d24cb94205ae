// Categories, products and the catalog version in MariaDB.
#include "yizhan/store/products.hpp"

#include <cppconn/prepared_statement.h>
#include <cppconn/resultset.h>

#include <memory>

#include "commission_terms_sql.hpp"
#include "rows.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/stock.hpp"

namespace yizhan::store {
namespace {

constexpr const char* kProductColumns =
    "SELECT p.id, p.sku, p.barcode, p.name, p.name_en, p.description, p.origin, p.village_id, "
    "       p.category_id, p.unit, p.price_fen, p.commission_bps, p.shelf_life_days, p.active, "
    "       p.online, p.featured, p.image_path, v.name, c.name, v.active, p.plu, p.low_stock, "
    "       p.kind "
    "FROM products p JOIN villages v ON v.id = p.village_id "
    "JOIN categories c ON c.id = p.category_id ";

// One statement text for every filter combination, so it is prepared once per connection.
constexpr const char* kFilter =
    "WHERE (? IS NULL OR p.village_id = ?) AND (? IS NULL OR p.category_id = ?) "
    "  AND (? = '' OR p.name LIKE ? OR p.name_en LIKE ? OR p.description LIKE ? "
    "       OR c.name LIKE ? OR v.name LIKE ? OR p.sku = ? OR p.barcode = ?) "
    "  AND (? = 0 OR p.active) AND (? = 0 OR p.online) AND (? = 0 OR v.active) "
    "  AND (? = 0 OR p.featured) ";

ProductRecord read_product(sql::ResultSet& row) {
  ProductRecord p;
  p.id = row.getInt64(1);
  p.sku = row.getString(2);
  if (!row.isNull(3)) p.barcode = row.getString(3);
  p.name = row.getString(4);
  p.name_en = row.getString(5);
  p.description = row.getString(6);
  p.origin = row.getString(7);
  p.village_id = row.getInt64(8);
  p.category_id = row.getInt64(9);
  p.unit = domain::parse_unit(std::string(row.getString(10))).value_or(domain::Unit::piece);
  p.price = domain::Fen(row.getInt64(11));
  if (!row.isNull(12)) p.commission_bps = row.getInt(12);
  if (!row.isNull(13)) p.shelf_life_days = row.getInt(13);
  p.active = row.getBoolean(14);
  p.online = row.getBoolean(15);
  p.featured = row.getBoolean(16);
  if (!row.isNull(17)) p.image_path = row.getString(17);
  p.village_name = row.getString(18);
  p.category_name = row.getString(19);
  p.village_active = row.getBoolean(20);
  if (!row.isNull(21)) p.plu = row.getInt(21);
  if (!row.isNull(22)) p.low_stock = row.getInt64(22);
  p.kind = domain::parse_product_kind(std::string(row.getString(23)))
               .value_or(domain::ProductKind::item);
  return p;
}

/// '%text%' with LIKE's wildcards in the text taken literally.
std::string like_pattern(const std::string& text) {
  std::string pattern = "%";
  for (char c : text) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += c;
  }
  return pattern + "%";
}

void bind_optional_id(sql::PreparedStatement& statement, int index,
                      const std::optional<std::int64_t>& id) {
  if (id) {
    statement.setInt64(index, *id);
    statement.setInt64(index + 1, *id);
  } else {
    statement.setNull(index, 0);
    statement.setNull(index + 1, 0);
  }
}

/// The number of placeholders in kFilter.
constexpr int kFilterParameters = 16;

/// Binds the kFilterParameters placeholders of kFilter starting at 1.
void bind_filter(sql::PreparedStatement& statement, const ProductQuery& query) {
  bind_optional_id(statement, 1, query.village_id);
  bind_optional_id(statement, 3, query.category_id);
  const auto pattern = like_pattern(query.text);
  statement.setString(5, query.text);
  statement.setString(6, pattern);
  statement.setString(7, pattern);
  statement.setString(8, pattern);
  statement.setString(9, pattern);
  statement.setString(10, pattern);
  statement.setString(11, query.text);
  statement.setString(12, query.text);
  // The flags come from domain::listing_requirement: the rule itself is not written here.
  const auto required = query.required.value_or(domain::Listing{false, false, false});
  statement.setBoolean(13, query.required && required.active);
  statement.setBoolean(14, query.required && required.online);
  statement.setBoolean(15, query.required && required.village_active);
  statement.setBoolean(16, query.featured_only);
}

template <class T>
void bind_nullable(sql::PreparedStatement& statement, int index, const std::optional<T>& value) {
  if (!value) {
    statement.setNull(index, 0);
  } else if constexpr (std::is_same_v<T, std::string>) {
    statement.setString(index, *value);
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    statement.setInt64(index, *value);
  } else {
    statement.setInt(index, *value);
  }
}

/// Binds the 19 writable columns in the order of the INSERT and UPDATE below.
void bind_product(sql::PreparedStatement& statement, const ProductRecord& p) {
  statement.setString(1, p.sku);
  bind_nullable(statement, 2, p.barcode);
  statement.setString(3, p.name);
  statement.setString(4, p.name_en);
  statement.setString(5, p.description);
  statement.setString(6, p.origin);
  statement.setInt64(7, p.village_id);
  statement.setInt64(8, p.category_id);
  statement.setString(9, std::string(domain::to_string(p.unit)));
  statement.setInt64(10, p.price.value());
  bind_nullable(statement, 11, p.commission_bps);
  bind_nullable(statement, 12, p.shelf_life_days);
  statement.setBoolean(13, p.active);
  statement.setBoolean(14, p.online);
  statement.setBoolean(15, p.featured);
  bind_nullable(statement, 16, p.image_path);
  bind_nullable(statement, 17, p.plu);
  bind_nullable(statement, 18, p.low_stock);
  statement.setString(19, std::string(domain::to_string(p.kind)));
}

}  // namespace

std::vector<CategoryRecord> list_categories(UnitOfWork& unit) {
  std::unique_ptr<sql::ResultSet> rows(
      unit.statement("SELECT id, code, name, name_en FROM categories ORDER BY sort_order, id")
          .executeQuery());
  std::vector<CategoryRecord> categories;
  while (rows->next()) {
    categories.push_back(
        {rows->getInt64(1), rows->getString(2), rows->getString(3), rows->getString(4)});
  }
  return categories;
}

bool category_exists(UnitOfWork& unit, std::int64_t id) {
  auto& statement = unit.statement("SELECT 1 FROM categories WHERE id = ?");
  statement.setInt64(1, id);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  return rows->next();
}

std::pair<std::vector<ProductRecord>, std::int64_t> search_products(UnitOfWork& unit,
                                                                    const ProductQuery& query) {
  std::int64_t total = 0;
  {
    auto& count = unit.statement(
        std::string("SELECT COUNT(*) FROM products p JOIN villages v ON v.id = p.village_id "
                    "JOIN categories c ON c.id = p.category_id ") +
        kFilter);
    bind_filter(count, query);
    std::unique_ptr<sql::ResultSet> rows(count.executeQuery());
    rows->next();
    total = rows->getInt64(1);
  }
  auto& statement =
      unit.statement(std::string(kProductColumns) + kFilter +
                     "ORDER BY (? <> '' AND p.name LIKE ?) DESC, "
                     "(? <> '' AND p.description LIKE ?) DESC, p.id LIMIT ? OFFSET ?");
  bind_filter(statement, query);
  constexpr int k = kFilterParameters;
  statement.setString(k + 1, query.text);
  statement.setString(k + 2, like_pattern(query.text));
  statement.setString(k + 3, query.text);
  statement.setString(k + 4, like_pattern(query.text));
  statement.setInt(k + 5, query.limit);
  statement.setInt(k + 6, query.offset);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  std::vector<ProductRecord> products;
  while (rows->next())
    products.push_back(read_product(*rows));
  rows.reset();
  for (auto& product : products)
    if (product.kind == domain::ProductKind::bundle)
      product.components = bundle_components(unit, product.id);
  return {std::move(products), total};
}

std::optional<ProductRecord> find_product(UnitOfWork& unit, std::int64_t id, RowLock lock) {
  if (lock != RowLock::none) {
    // The product's row alone: a locking read of the join below would lock its village and
    // category too, which every sale's lines need for their foreign keys (receipts racing sales
    // deadlocked). READ COMMITTED: the plain read after the lock sees the row as locked.
    auto& locking = unit.statement(lock == RowLock::update
                                       ? "SELECT id FROM products WHERE id = ? FOR UPDATE"
                                       : "SELECT id FROM products WHERE id = ? LOCK IN SHARE MODE");
    locking.setInt64(1, id);
    std::unique_ptr<sql::ResultSet> locked(locking.executeQuery());
    if (!locked->next()) return std::nullopt;
  }
  auto& statement = unit.statement(std::string(kProductColumns) + "WHERE p.id = ?");
  statement.setInt64(1, id);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  auto product = read_product(*rows);
  rows.reset();
  if (product.kind == domain::ProductKind::bundle)
    product.components = bundle_components(unit, product.id);
  return product;
}

std::optional<ProductRecord> find_product_by_barcode(UnitOfWork& unit, const std::string& barcode) {
  auto& statement = unit.statement(std::string(kProductColumns) + "WHERE p.barcode = ?");
  statement.setString(1, barcode);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  if (!rows->next()) return std::nullopt;
  auto product = read_product(*rows);
  rows.reset();
  if (product.kind == domain::ProductKind::bundle)
    product.components = bundle_components(unit, product.id);
  return product;
}

std::int64_t insert_product(UnitOfWork& unit, const ProductRecord& product) {
  auto& statement = unit.statement(
      "INSERT INTO products (sku, barcode, name, name_en, description, origin, village_id, "
      "category_id, unit, price_fen, commission_bps, shelf_life_days, active, online, featured, "
      "image_path, plu, low_stock, kind) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  bind_product(statement, product);
  statement.executeUpdate();
  std::unique_ptr<sql::ResultSet> rows(unit.statement("SELECT LAST_INSERT_ID()").executeQuery());
  rows->next();
  const auto id = rows->getInt64(1);
  // Every product has its level row from the start: sales and receipts only ever update it.
  insert_stock_level(unit, id);
  return id;
}

void update_product(UnitOfWork& unit, const ProductRecord& product) {
  // The old price is kept before it is overwritten (an offline till may have sold at it).
  auto& history = unit.statement(
      "INSERT INTO product_price_changes (product_id, old_price_fen, new_price_fen) "
      "SELECT id, price_fen, ? FROM products WHERE id = ? AND price_fen <> ?");
  history.setInt64(1, product.price.value());
  history.setInt64(2, product.id);
  history.setInt64(3, product.price.value());
  history.executeUpdate();
  auto& statement = unit.statement(
      "UPDATE products SET sku = ?, barcode = ?, name = ?, name_en = ?, description = ?, "
      "origin = ?, village_id = ?, category_id = ?, unit = ?, price_fen = ?, commission_bps = ?, "
      "shelf_life_days = ?, active = ?, online = ?, featured = ?, image_path = ?, plu = ?, "
      "low_stock = ?, kind = ?, updated_at = UTC_TIMESTAMP(6) WHERE id = ?");
  bind_product(statement, product);
  statement.setInt64(20, product.id);
  statement.executeUpdate();
}

domain::ProductUse product_use(UnitOfWork& unit, std::int64_t product_id) {
  domain::ProductUse use;
  const auto level = lock_level(unit, product_id);
  if (level) use.holds_stock = level->on_hand != 0 || level->reserved != 0;
  // Every stock change is a ledger row, but a count that found nothing writes only its line,
  // and a box's sales are lines of its components that name it.
  auto& statement = unit.statement(
      "SELECT EXISTS (SELECT 1 FROM stock_lots WHERE product_id = ? AND remaining > 0), "
      "  EXISTS (SELECT 1 FROM stock_moves WHERE product_id = ?) "
      "  OR EXISTS (SELECT 1 FROM stock_lots WHERE product_id = ?) "
      "  OR EXISTS (SELECT 1 FROM stock_document_lines WHERE product_id = ?) "
      "  OR EXISTS (SELECT 1 FROM sale_lines WHERE product_id = ?) "
      "  OR EXISTS (SELECT 1 FROM sale_lines WHERE bundle_product_id = ?) "
      "  OR EXISTS (SELECT 1 FROM order_lines WHERE product_id = ?) "
      "  OR EXISTS (SELECT 1 FROM order_lines WHERE bundle_product_id = ?)");
  for (int i = 1; i <= 8; ++i)
    statement.setInt64(i, product_id);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  rows->next();
  use.holds_stock = use.holds_stock || rows->getBoolean(1);
  use.has_history = use.holds_stock || rows->getBoolean(2);
  return use;
}

namespace {

std::vector<ComponentRecord> read_components(UnitOfWork& unit, std::int64_t bundle_id,
                                             const std::string* day) {
  const std::string terms =
      day ? std::string(", ") + kProductTermInForce + ", " + kVillageTermInForce : std::string();
  auto& statement = unit.statement(
      "SELECT pc.component_id, pc.quantity, p.name, p.name_en, p.kind, p.unit, p.price_fen, "
      "       p.commission_bps, p.village_id, v.name, v.commission_bps, p.active, v.active" +
      terms +
      " FROM product_components pc JOIN products p ON p.id = pc.component_id "
      "JOIN villages v ON v.id = p.village_id WHERE pc.bundle_id = ? ORDER BY pc.position");
  int index = 1;
  if (day) {
    statement.setString(index++, *day);
    statement.setString(index++, *day);
  }
  statement.setInt64(index, bundle_id);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  std::vector<ComponentRecord> components;
  while (rows->next()) {
    ComponentRecord c;
    c.product_id = rows->getInt64(1);
    c.quantity = rows->getInt64(2);
    c.name = rows->getString(3);
    c.name_en = rows->getString(4);
    c.kind = domain::parse_product_kind(std::string(rows->getString(5)))
                 .value_or(domain::ProductKind::item);
    c.unit = domain::parse_unit(std::string(rows->getString(6))).value_or(domain::Unit::piece);
    c.price = domain::Fen(rows->getInt64(7));
    if (!rows->isNull(8)) c.rates.product_column = rows->getInt(8);
    c.village_id = rows->getInt64(9);
    c.village_name = rows->getString(10);
    c.rates.village_column = rows->getInt(11);
    c.active = rows->getBoolean(12);
    c.village_active = rows->getBoolean(13);
    if (day) {
      if (!rows->isNull(14)) {
        const int product = rows->getInt(14);  // -1: the override ended
        c.rates.product_term = product < 0 ? std::optional<int>() : std::optional<int>(product);
      }
      if (!rows->isNull(15)) c.rates.village_term = rows->getInt(15);
    }
    components.push_back(std::move(c));
  }
  return components;
}

}  // namespace

std::vector<ComponentRecord> bundle_components(UnitOfWork& unit, std::int64_t bundle_id) {
  return read_components(unit, bundle_id, nullptr);
}

std::vector<ComponentRecord> bundle_components(UnitOfWork& unit, std::int64_t bundle_id,
                                               const std::string& day) {
  return read_components(unit, bundle_id, &day);
}

void replace_bundle_components(UnitOfWork& unit, std::int64_t bundle_id,
                               const std::vector<domain::BundleComponent>& components) {
  auto& remove = unit.statement("DELETE FROM product_components WHERE bundle_id = ?");
  remove.setInt64(1, bundle_id);
  remove.executeUpdate();
  if (components.empty()) return;
  auto& insert = unit.statement(
      "INSERT INTO product_components (bundle_id, component_id, position, quantity) VALUES " +
      value_rows(components.size(), 4));
  int index = 1;
  for (std::size_t i = 0; i < components.size(); ++i) {
    insert.setInt64(index++, bundle_id);
    insert.setInt64(index++, components[i].product_id);
    insert.setInt(index++, static_cast<int>(i + 1));
    insert.setInt64(index++, components[i].quantity);
  }
  insert.executeUpdate();
}

bool is_bundle_component(UnitOfWork& unit, std::int64_t product_id) {
  auto& statement =
      unit.statement("SELECT 1 FROM product_components WHERE component_id = ? LIMIT 1");
  statement.setInt64(1, product_id);
  std::unique_ptr<sql::ResultSet> rows(statement.executeQuery());
  return rows->next();
}

std::int64_t catalog_version(UnitOfWork& unit) {
  std::unique_ptr<sql::ResultSet> rows(
      unit.statement("SELECT version FROM catalog_state WHERE id = 1").executeQuery());
  return rows->next() ? rows->getInt64(1) : 0;
}

std::int64_t bump_catalog_version(UnitOfWork& unit) {
  unit.statement("UPDATE catalog_state SET version = version + 1 WHERE id = 1").executeUpdate();
  return catalog_version(unit);
}

}  // namespace yizhan::store
