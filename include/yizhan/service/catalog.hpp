// The catalog: villages, categories and products, public reads and audited admin changes.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "yizhan/domain/bundle.hpp"
#include "yizhan/domain/catalog.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/accounts.hpp"
#include "yizhan/service/idempotency.hpp"

namespace yizhan::store {
class Database;
class ImageStore;
class UnitOfWork;
}  // namespace yizhan::store

namespace yizhan::service {

/// A member village as the catalog shows it.
struct Village {
  std::int64_t id = 0;
  std::string code;
  std::string name;
  std::string name_en;
  std::string description;
  std::string contact;
  int commission_bps = 0;  ///< the village's default rate; for admins and the village only
  bool active = true;
};

/// A product category.
struct Category {
  std::int64_t id = 0;
  std::string code;
  std::string name;
  std::string name_en;
};

/// One component of a gift box as the catalog shows it.
struct ProductComponent {
  std::int64_t product_id = 0;
  std::int64_t quantity = 0;  ///< in one box
  std::string name;
  std::string name_en;
  std::int64_t village_id = 0;
  std::string village_name;
  domain::Fen price;  ///< its list price now
  bool active = true;
};

/// A product as the catalog shows it.
struct Product {
  std::int64_t id = 0;
  std::string sku;
  domain::ProductKind kind = domain::ProductKind::item;
  std::vector<ProductComponent> components;  ///< a box's contents; empty for an item
  std::optional<std::string> barcode;
  std::string name;
  std::string name_en;
  std::string description;
  std::string origin;
  std::int64_t village_id = 0;
  std::string village_name;
  std::int64_t category_id = 0;
  std::string category_name;
  domain::Unit unit = domain::Unit::piece;
  domain::Fen price;                  ///< per piece, or per kilogram when sold by weight
  std::optional<int> commission_bps;  ///< nothing = the village's rate applies
  std::optional<int> shelf_life_days;
  bool active = true;
  bool online = true;
  bool featured = false;
  std::optional<std::string> image_path;  ///< relative to the media root
  std::optional<int> plu;                 ///< the label scale's code (0–99999), unique
  std::optional<std::int64_t> low_stock;  ///< alert when available is at or below it
};

/// What a product list asks for. `text` matches names, descriptions, category and village
/// names (substring), and SKU or barcode exactly.
struct ProductQuery {
  std::optional<std::int64_t> village_id;
  std::optional<std::int64_t> category_id;
  std::string text;
  bool featured_only = false;
  bool include_hidden = false;  ///< admins: also delisted, offline and inactive villages' products
  bool counter = false;         ///< what the counter sells: also products not shown online
  int limit = 20;
  int offset = 0;
};

/// Fields of a village to create or change; unset = keep (or required, for create).
struct VillageChanges {
  std::optional<std::string> code, name, name_en, description, contact;
  std::optional<std::int64_t> commission_bps;
  std::optional<bool> active;
};

/// Fields of a product to create or change. For nullable fields the outer optional says
/// "given", the inner one the value (nothing = set to null).
struct ProductChanges {
  std::optional<std::string> sku, name, name_en, description, origin, unit, kind;
  std::optional<std::optional<std::string>> barcode;
  /// A box's contents (with kind "bundle"); replaces the whole list.
  std::optional<std::vector<domain::BundleComponent>> components;
  std::optional<std::int64_t> village_id, category_id;
  std::optional<domain::Fen> price;
  std::optional<std::optional<std::int64_t>> commission_bps, shelf_life_days, plu, low_stock;
  std::optional<bool> active, online, featured;
};

/// One commission term of a village: its default rate, or a product's override, from a day on.
struct CommissionTerm {
  std::int64_t id = 0;
  std::int64_t village_id = 0;
  std::optional<std::int64_t> product_id;  ///< nothing = the village's default
  std::string product_name;
  std::optional<int> bps;      ///< nothing = the product's override ends (village default again)
  std::string effective_from;  ///< business day "YYYY-MM-DD" (Asia/Shanghai)
  std::int64_t created_at_us = 0;
  std::string created_by;  ///< username ("migration" for rates carried over)
  std::string note;
  std::string status;  ///< "current", "scheduled" or "past" on today's business day
};

/// A village's commission terms: the rates in force today and the whole history.
struct CommissionTerms {
  std::int64_t village_id = 0;
  std::string today;                  ///< the business day the statuses refer to
  int commission_bps = 0;             ///< the village's default rate in force today
  std::vector<CommissionTerm> items;  ///< newest effective_from first
};

/// A new term as asked: `bps` nothing with a product ends its override.
struct NewCommissionTerm {
  std::optional<std::int64_t> bps;
  std::optional<std::int64_t> product_id;
  std::optional<std::string> effective_from;
  std::string note;
};

/// A page of products.
struct ProductPage {
  std::vector<Product> items;
  std::int64_t total = 0;
};

class CatalogService {
 public:
  CatalogService(store::Database& database, store::ImageStore& images,
                 int idempotency_retention_days = 7,
                 domain::TimeZone zone = domain::TimeZone::shanghai())
      : database_(database),
        images_(images),
        idempotency_(database, idempotency_retention_days),
        zone_(std::move(zone)) {}

  /// Renders what a create made as the answer stored for its Idempotency-Key.
  template <class T>
  using Render = std::function<StoredReply(const T&)>;

  /// The catalog version: this process moves to a new one as soon as its own change has
  /// committed, and reads the database's (shared by every process) at most every half second.
  std::int64_t version();

  std::vector<Village> villages(bool include_inactive);
  /// 404 for an unknown village, and for an inactive one unless `include_inactive`.
  Village village(std::int64_t id, bool include_inactive);
  /// A village's commission terms: for that village's own account or an admin; 403 otherwise,
  /// 404 when no such village.
  Village village_terms(const domain::Principal& caller, std::int64_t village_id);
  Village create_village(const VillageChanges& fields, const Actor& actor);
  /// Creates a village at most once per Idempotency-Key: a repeat replays the first answer.
  StoredReply create_village(const VillageChanges& fields, const Actor& actor,
                             const std::optional<IdempotencyKey>& key,
                             const Render<Village>& render);
  Village update_village(std::int64_t id, const VillageChanges& changes, const Actor& actor);

  /// Today's business day in the station's zone, "YYYY-MM-DD" (the day rates are shown for).
  std::string today() const;
  /// A village's commission terms, current, scheduled and past: for that village's own account
  /// or an admin; 403 for anyone else (before looking), 404 when no such village.
  CommissionTerms commission_terms(const domain::Principal& caller, std::int64_t village_id);
  /// Adds a term from `effective_from` (today or later; 422 naming the field for a past day, a
  /// bad rate, or a product that is unknown or another village's), audited, at most once per
  /// Idempotency-Key. 404 when no such village.
  StoredReply add_commission_term(std::int64_t village_id, const NewCommissionTerm& term,
                                  const Actor& actor, const std::optional<IdempotencyKey>& key,
                                  const Render<CommissionTerm>& render);

  std::vector<Category> categories();

  ProductPage products(const ProductQuery& query);
  /// 404 for an unknown product, and for one not offered online unless `include_hidden`.
  Product product(std::int64_t id, bool include_hidden);
  /// The product a cashier scanned: 404 unless it is offered at the counter (a delisted
  /// product, or one of an inactive village, cannot be sold by scanning).
  Product product_by_barcode(const std::string& barcode);
  /// What can be sold of a product now (on hand − reserved; for a box the minimum over its
  /// components of floor(available / quantity)); 404 as product() for hidden ones.
  std::int64_t available(std::int64_t id, bool include_hidden);
  Product create_product(const ProductChanges& fields, const Actor& actor);
  /// Creates a product at most once per Idempotency-Key: a repeat replays the first answer.
  StoredReply create_product(const ProductChanges& fields, const Actor& actor,
                             const std::optional<IdempotencyKey>& key,
                             const Render<Product>& render);
  Product update_product(std::int64_t id, const ProductChanges& changes, const Actor& actor);
  /// Checks the bytes really are the declared JPEG, PNG or WebP (415 otherwise), stores them,
  /// and points the product at them.
  Product set_product_image(std::int64_t id, std::string_view bytes, std::string_view declared_type,
                            const Actor& actor);

  /// Records a catalog change inside `unit`: bumps the shared version in the database, and
  /// once `unit` has committed (never before, never for an attempt that rolled back) moves this
  /// process's version, so caches drop what they built from the old catalog. Every catalog
  /// write calls it; public for tests of that ordering.
  void record_change(store::UnitOfWork& unit);

 private:
  void changed(std::int64_t new_version);
  /// Runs one catalog change as a transaction that also records the change; a unique-key
  /// collision becomes 409 naming the field.
  template <class Change>
  auto write(Change&& change);
  /// write() under an Idempotency-Key; `change` returns the reply to store.
  template <class Change>
  StoredReply write_once(const std::optional<IdempotencyKey>& key, Change&& change);

  store::Database& database_;
  store::ImageStore& images_;
  Idempotency idempotency_;
  domain::TimeZone zone_;
  std::mutex version_mutex_;
  std::int64_t version_ = 0;
  std::chrono::steady_clock::time_point version_checked_{};
};

}  // namespace yizhan::service
