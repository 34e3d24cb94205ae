// The catalog: villages, categories and products, public reads and audited admin changes.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/service/accounts.hpp"
#include "yizhan/store/products.hpp"
#include "yizhan/store/villages.hpp"

namespace yizhan::store {
class Database;
class ImageStore;
}  // namespace yizhan::store

namespace yizhan::service {

/// Fields of a village to create or change; unset = keep (or required, for create).
struct VillageChanges {
  std::optional<std::string> code, name, name_en, description, contact;
  std::optional<std::int64_t> commission_bps;
  std::optional<bool> active;
};

/// Fields of a product to create or change. For nullable fields the outer optional says
/// "given", the inner one the value (nothing = set to null).
struct ProductChanges {
  std::optional<std::string> sku, name, name_en, description, origin, unit;
  std::optional<std::optional<std::string>> barcode;
  std::optional<std::int64_t> village_id, category_id, price_fen;
  std::optional<std::optional<std::int64_t>> commission_bps, shelf_life_days;
  std::optional<bool> active, online, featured;
};

/// A page of products.
struct ProductPage {
  std::vector<store::ProductRecord> items;
  std::int64_t total = 0;
};

class CatalogService {
 public:
  CatalogService(store::Database& database, store::ImageStore& images)
      : database_(database), images_(images) {}

  /// The catalog version: bumped by this process at once, read from the database (shared by
  /// every process) at most every half second.
  std::int64_t version();

  std::vector<store::VillageRecord> villages(bool include_inactive);
  /// 404 for an unknown village, and for an inactive one unless `include_inactive`.
  store::VillageRecord village(std::int64_t id, bool include_inactive);
  /// A village's commission terms: for that village's own account or an admin; 403 otherwise,
  /// 404 when no such village.
  store::VillageRecord village_terms(const domain::Principal& caller, std::int64_t village_id);
  store::VillageRecord create_village(const VillageChanges& fields, const Actor& actor);
  store::VillageRecord update_village(std::int64_t id, const VillageChanges& changes,
                                      const Actor& actor);

  std::vector<store::CategoryRecord> categories();

  ProductPage products(const store::ProductQuery& query);
  /// 404 for an unknown product, and for a hidden one unless `include_hidden`.
  store::ProductRecord product(std::int64_t id, bool include_hidden);
  store::ProductRecord product_by_barcode(const std::string& barcode);
  store::ProductRecord create_product(const ProductChanges& fields, const Actor& actor);
  store::ProductRecord update_product(std::int64_t id, const ProductChanges& changes,
                                      const Actor& actor);
  /// Checks the bytes really are the declared JPEG, PNG or WebP (415 otherwise), stores them,
  /// and points the product at them.
  store::ProductRecord set_product_image(std::int64_t id, std::string_view bytes,
                                         std::string_view declared_type, const Actor& actor);

 private:
  void changed(std::int64_t new_version);
  /// Runs one catalog change as a transaction that also bumps the catalog version; a
  /// unique-key collision becomes 409 naming the field.
  template <class Change>
  auto write(Change&& change);

  store::Database& database_;
  store::ImageStore& images_;
  std::mutex version_mutex_;
  std::int64_t version_ = 0;
  std::chrono::steady_clock::time_point version_checked_{};
};

}  // namespace yizhan::service
