// SQL for categories, products and the catalog version.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/domain/bundle.hpp"
#include "yizhan/domain/catalog.hpp"
#include "yizhan/domain/commission.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/store/row_lock.hpp"

namespace yizhan::store {

class UnitOfWork;

/// A row of `categories`.
struct CategoryRecord {
  std::int64_t id = 0;
  std::string code;
  std::string name;
  std::string name_en;
};

/// A component of a box, with what the catalog and a sale need to know of it now.
struct ComponentRecord {
  std::int64_t product_id = 0;
  std::int64_t quantity = 0;  ///< in one box
  std::string name;
  std::string name_en;
  domain::ProductKind kind = domain::ProductKind::item;
  domain::Unit unit = domain::Unit::piece;
  domain::Fen price;
  domain::RatesInForce rates;  ///< its commission; the dated terms only when read for a day
  std::int64_t village_id = 0;
  std::string village_name;
  bool active = true;
  bool village_active = true;
};

/// A row of `products`, with its village's and category's names.
struct ProductRecord {
  std::int64_t id = 0;
  std::string sku;
  domain::ProductKind kind = domain::ProductKind::item;
  std::optional<std::string> barcode;
  std::string name;
  std::string name_en;
  std::string description;
  std::string origin;
  std::int64_t village_id = 0;
  std::int64_t category_id = 0;
  domain::Unit unit = domain::Unit::piece;
  domain::Fen price;  ///< per piece, or per kilogram when sold by weight
  std::optional<int> commission_bps;
  std::optional<int> shelf_life_days;
  bool active = true;
  bool online = true;
  bool featured = false;
  std::optional<std::string> image_path;    ///< relative to the media root
  std::optional<int> plu;                   ///< the scale's code for the product (0–99999)
  std::optional<std::int64_t> low_stock;    ///< stock alert threshold, in the base unit
  std::string village_name;                 ///< read only
  std::string category_name;                ///< read only
  bool village_active = true;               ///< read only
  std::vector<ComponentRecord> components;  ///< a box's contents (read by bundle_components)
};

/// Filters for a product list. `text` matches names and descriptions (substring, so Chinese
/// words work without a tokenizer), and SKU or barcode exactly.
struct ProductQuery {
  std::optional<std::int64_t> village_id;
  std::optional<std::int64_t> category_id;
  std::string text;
  /// Only products whose flags meet these (domain::listing_requirement); nothing = all.
  std::optional<domain::Listing> required;
  bool featured_only = false;
  int limit = 20;
  int offset = 0;
};

std::vector<CategoryRecord> list_categories(UnitOfWork& unit);
bool category_exists(UnitOfWork& unit, std::int64_t id);

/// One page of matching products and the number of all matches; stable order.
std::pair<std::vector<ProductRecord>, std::int64_t> search_products(UnitOfWork& unit,
                                                                    const ProductQuery& query);
/// A product by id, its row locked as `lock` asks (only its own row: not its village's nor its
/// category's, which every sale's lines need for their foreign keys).
std::optional<ProductRecord> find_product(UnitOfWork& unit, std::int64_t id,
                                          RowLock lock = RowLock::none);
std::optional<ProductRecord> find_product_by_barcode(UnitOfWork& unit, const std::string& barcode);
/// Inserts a product with its (empty) stock level row; returns its id.
std::int64_t insert_product(UnitOfWork& unit, const ProductRecord& product);
/// Writes every field of an existing product.
void update_product(UnitOfWork& unit, const ProductRecord& product);

/// What the ledger, the lots, the sales and the orders have recorded of a product, read after
/// taking its stock level row FOR UPDATE: a receipt, sale or reservation in flight finishes
/// first or waits until the caller's transaction ends.
domain::ProductUse product_use(UnitOfWork& unit, std::int64_t product_id);

/// What one box holds, in the order defined, with each component's product and village now.
std::vector<ComponentRecord> bundle_components(UnitOfWork& unit, std::int64_t bundle_id);
/// The same with each component's commission terms in force on `day` ("YYYY-MM-DD", the
/// sale's business day), for selling the box: one statement.
std::vector<ComponentRecord> bundle_components(UnitOfWork& unit, std::int64_t bundle_id,
                                               const std::string& day);
/// Replaces a box's contents (an empty list: it holds nothing, e.g. it became an item).
void replace_bundle_components(UnitOfWork& unit, std::int64_t bundle_id,
                               const std::vector<domain::BundleComponent>& components);
/// Whether some box holds the product.
bool is_bundle_component(UnitOfWork& unit, std::int64_t product_id);

/// The catalog version (bumped by every catalog change).
std::int64_t catalog_version(UnitOfWork& unit);
/// Bumps the version inside the caller's transaction; returns the new one.
std::int64_t bump_catalog_version(UnitOfWork& unit);

}  // namespace yizhan::store
