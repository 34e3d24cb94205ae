// SQL for categories, products and the catalog version.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/domain/catalog.hpp"

namespace yizhan::store {

class Session;

/// A row of `categories`.
struct CategoryRecord {
  std::int64_t id = 0;
  std::string code;
  std::string name;
  std::string name_en;
};

/// A row of `products`, with its village's and category's names.
struct ProductRecord {
  std::int64_t id = 0;
  std::string sku;
  std::optional<std::string> barcode;
  std::string name;
  std::string name_en;
  std::string description;
  std::string origin;
  std::int64_t village_id = 0;
  std::int64_t category_id = 0;
  domain::Unit unit = domain::Unit::piece;
  std::int64_t price_fen = 0;
  std::optional<int> commission_bps;
  std::optional<int> shelf_life_days;
  bool active = true;
  bool online = true;
  bool featured = false;
  std::optional<std::string> image_path;  ///< relative to the media root
  std::string village_name;               ///< read only
  std::string category_name;              ///< read only
  bool village_active = true;             ///< read only
};

/// Filters for a product list. `text` matches names and descriptions (substring, so Chinese
/// words work without a tokenizer), and SKU or barcode exactly.
struct ProductQuery {
  std::optional<std::int64_t> village_id;
  std::optional<std::int64_t> category_id;
  std::string text;
  bool public_only = true;  ///< active, online, and of an active village
  bool featured_only = false;
  int limit = 20;
  int offset = 0;
};

std::vector<CategoryRecord> list_categories(Session& session);
bool category_exists(Session& session, std::int64_t id);

/// One page of matching products and the number of all matches; stable order.
std::pair<std::vector<ProductRecord>, std::int64_t> search_products(Session& session,
                                                                    const ProductQuery& query);
std::optional<ProductRecord> find_product(Session& session, std::int64_t id,
                                          bool for_update = false);
std::optional<ProductRecord> find_product_by_barcode(Session& session, const std::string& barcode);
std::int64_t insert_product(Session& session, const ProductRecord& product);
/// Writes every field of an existing product.
void update_product(Session& session, const ProductRecord& product);

/// The catalog version (bumped by every catalog change).
std::int64_t catalog_version(Session& session);
/// Bumps the version inside the caller's transaction; returns the new one.
std::int64_t bump_catalog_version(Session& session);

}  // namespace yizhan::store
