// Catalog use cases: every admin change is validated, written, audited and versioned in one
// transaction.
#include "yizhan/service/catalog.hpp"
#include "audit_entry.hpp"

#include "yizhan/domain/access.hpp"
#include "yizhan/domain/catalog.hpp"
#include "yizhan/domain/commission.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/store/audit.hpp"
#include "yizhan/store/code_payments.hpp"
#include "yizhan/store/commission_terms.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/images.hpp"
#include "yizhan/store/orders.hpp"
#include "yizhan/store/products.hpp"
#include "yizhan/store/stock.hpp"
#include "yizhan/store/villages.hpp"

namespace yizhan::service {

using domain::Error;
using domain::ErrorCode;

namespace {

constexpr auto kVersionRecheck = std::chrono::milliseconds(500);
/// A scale's PLU is the 5-digit W field of its labels (domain/scale_label.hpp).
constexpr std::int64_t kMaxPlu = 99999;
constexpr std::int64_t kMaxLowStock = 1'000'000'000;

void check(const std::optional<std::string>& problem, const char* field) {
  if (problem) throw Error::invalid_field(field, std::string(field) + " " + *problem);
}

template <class T>
const T& required(const std::optional<T>& value, const char* field) {
  if (!value) throw Error::invalid_field(field, std::string(field) + " is required");
  return *value;
}

std::string optional_text(const std::optional<std::string>& value) {
  return value ? *value : "null";
}

std::string optional_number(const std::optional<int>& value) {
  return value ? std::to_string(*value) : "null";
}

store::AuditState village_state(const store::VillageRecord& v) {
  return {{"code", v.code},
          {"name", v.name},
          {"name_en", v.name_en},
          {"contact", v.contact},
          {"commission_bps", std::to_string(v.commission_bps)},
          {"active", v.active ? "true" : "false"}};
}

/// A box's contents for the audit log: "id×quantity" in order, comma separated.
std::string components_text(const std::vector<store::ComponentRecord>& components) {
  std::string text;
  for (const auto& c : components)
    text +=
        (text.empty() ? "" : ",") + std::to_string(c.product_id) + "x" + std::to_string(c.quantity);
  return text;
}

store::AuditState product_state(const store::ProductRecord& p) {
  return {{"sku", p.sku},
          {"barcode", optional_text(p.barcode)},
          {"name", p.name},
          {"village_id", std::to_string(p.village_id)},
          {"category_id", std::to_string(p.category_id)},
          {"unit", std::string(domain::to_string(p.unit))},
          {"price_fen", std::to_string(p.price.value())},
          {"commission_bps", optional_number(p.commission_bps)},
          {"shelf_life_days", optional_number(p.shelf_life_days)},
          {"active", p.active ? "true" : "false"},
          {"online", p.online ? "true" : "false"},
          {"featured", p.featured ? "true" : "false"},
          {"image_path", optional_text(p.image_path)},
          {"plu", optional_number(p.plu)},
          {"low_stock", p.low_stock ? std::to_string(*p.low_stock) : "null"},
          {"kind", std::string(domain::to_string(p.kind))},
          {"components", components_text(p.components)}};
}

/// Applies and validates village changes on top of `village`.
void apply(const VillageChanges& changes, store::VillageRecord& village) {
  if (changes.code) {
    check(domain::village_code_problem(*changes.code), "code");
    village.code = *changes.code;
  }
  if (changes.name) {
    check(domain::text_problem(*changes.name, 1, 100), "name");
    village.name = *changes.name;
  }
  if (changes.name_en) {
    check(domain::text_problem(*changes.name_en, 0, 100), "name_en");
    village.name_en = *changes.name_en;
  }
  if (changes.description) {
    check(domain::text_problem(*changes.description, 0, 4000), "description");
    village.description = *changes.description;
  }
  if (changes.contact) {
    check(domain::text_problem(*changes.contact, 0, 200), "contact");
    village.contact = *changes.contact;
  }
  if (changes.commission_bps) {
    check(domain::commission_problem(*changes.commission_bps), "commission_bps");
    village.commission_bps = static_cast<int>(*changes.commission_bps);
  }
  if (changes.active) village.active = *changes.active;
}

/// Applies and validates the product changes that need no database.
void apply(const ProductChanges& changes, store::ProductRecord& product) {
  if (changes.sku) {
    check(domain::sku_problem(*changes.sku), "sku");
    product.sku = *changes.sku;
  }
  if (changes.barcode) {
    if (*changes.barcode) check(domain::ean13_problem(**changes.barcode), "barcode");
    product.barcode = *changes.barcode;
  }
  if (changes.name) {
    check(domain::text_problem(*changes.name, 1, 100), "name");
    product.name = *changes.name;
  }
  if (changes.name_en) {
    check(domain::text_problem(*changes.name_en, 0, 100), "name_en");
    product.name_en = *changes.name_en;
  }
  if (changes.description) {
    check(domain::text_problem(*changes.description, 0, 2000), "description");
    product.description = *changes.description;
  }
  if (changes.origin) {
    check(domain::text_problem(*changes.origin, 0, 1000), "origin");
    product.origin = *changes.origin;
  }
  if (changes.unit) {
    const auto unit = domain::parse_unit(*changes.unit);
    if (!unit) throw Error::invalid_field("unit", "unit must be \"piece\" or \"g\"");
    product.unit = *unit;
  }
  if (changes.price) {
    check(domain::price_problem(*changes.price), "price_fen");
    product.price = *changes.price;
  }
  if (changes.commission_bps) {
    if (*changes.commission_bps) {
      check(domain::commission_problem(**changes.commission_bps), "commission_bps");
      product.commission_bps = static_cast<int>(**changes.commission_bps);
    } else {
      product.commission_bps.reset();
    }
  }
  if (changes.shelf_life_days) {
    if (*changes.shelf_life_days) {
      check(domain::shelf_life_problem(**changes.shelf_life_days), "shelf_life_days");
      product.shelf_life_days = static_cast<int>(**changes.shelf_life_days);
    } else {
      product.shelf_life_days.reset();
    }
  }
  if (changes.plu) {
    if (*changes.plu && (**changes.plu < 0 || **changes.plu > kMaxPlu)) {
      throw Error::invalid_field("plu", "plu 应为 0–99999 / plu must be 0 to 99999");
    }
    product.plu = *changes.plu ? std::optional<int>(static_cast<int>(**changes.plu)) : std::nullopt;
  }
  if (changes.low_stock) {
    if (*changes.low_stock && (**changes.low_stock < 0 || **changes.low_stock > kMaxLowStock)) {
      throw Error::invalid_field("low_stock",
                                 "low_stock 应为 0 到 10 亿 / low_stock must be 0 to 1000000000");
    }
    product.low_stock = *changes.low_stock;
  }
  if (changes.kind) {
    const auto kind = domain::parse_product_kind(*changes.kind);
    if (!kind) throw Error::invalid_field("kind", "kind must be \"item\" or \"bundle\"");
    product.kind = *kind;
  }
  if (changes.components && product.kind != domain::ProductKind::bundle)
    throw Error::invalid_field("components", "只有礼盒有组成商品 / only a bundle has components");
  if (product.kind == domain::ProductKind::bundle) {
    if (product.unit != domain::Unit::piece)
      throw Error::invalid_field("unit", "礼盒按件卖 / a bundle is sold by the piece");
    if (changes.components) domain::check_bundle_components(*changes.components, product.id);
    // A box's lines take their components' rates: an override of the box would never apply.
    if (changes.commission_bps && *changes.commission_bps)
      throw Error::invalid_field(
          "commission_bps",
          "礼盒按其组成商品的费率分成 / a bundle is split at its components' rates");
  }
  if (changes.village_id) product.village_id = *changes.village_id;
  if (changes.category_id) product.category_id = *changes.category_id;
  if (changes.active) product.active = *changes.active;
  if (changes.online) product.online = *changes.online;
  if (changes.featured) product.featured = *changes.featured;
}

/// Checks the references a product makes, inside the transaction that writes it.
void check_references(store::UnitOfWork& unit, const store::ProductRecord& product) {
  if (!store::find_village(unit, product.village_id)) {
    throw Error::invalid_field("village_id", "village_id names no village");
  }
  if (!store::category_exists(unit, product.category_id)) {
    throw Error::invalid_field("category_id", "category_id names no category");
  }
}

/// Checks a box's contents against the catalog and writes them, inside the transaction that
/// writes the box; a product becoming an item loses its contents. A box holds no stock and is
/// no other box's component; its components are active ordinary products sold by the piece.
void write_components(store::UnitOfWork& unit, const ProductChanges& changes,
                      const store::ProductRecord& product, domain::ProductKind was) {
  if (product.kind != domain::ProductKind::bundle) {
    if (was == domain::ProductKind::bundle) store::replace_bundle_components(unit, product.id, {});
    // A box's components are sold by the piece: a box line splits by quantity × price and
    // takes whole pieces, so a component may not turn into goods sold by weight.
    if (changes.unit && product.unit != domain::Unit::piece &&
        store::is_bundle_component(unit, product.id))
      throw Error::invalid_field(
          "unit", "它是礼盒的组成商品，须按件卖 / it is inside a bundle: sold by the piece");
    return;
  }
  if (was != domain::ProductKind::bundle) {
    if (!changes.components)
      throw Error::invalid_field("components", "礼盒需要组成商品 / a bundle needs components");
    if (store::is_bundle_component(unit, product.id))
      throw Error::invalid_field("kind", "它是别的礼盒的组成商品 / it is inside another bundle");
    if (const auto level = store::find_stock(unit, product.id); level && level->on_hand > 0)
      throw Error::invalid_field("kind", "有库存的商品不能改为礼盒 / it holds stock");
  }
  if (!changes.components) return;
  const auto& components = *changes.components;
  for (std::size_t i = 0; i < components.size(); ++i) {
    const std::string field = "components[" + std::to_string(i) + "].product_id";
    const auto component = store::find_product(unit, components[i].product_id);
    if (!component) throw Error::invalid_field(field, "没有这个商品 / no such product");
    if (component->kind != domain::ProductKind::item)
      throw Error::invalid_field(field, "礼盒不能装礼盒 / a bundle cannot hold a bundle");
    if (component->unit != domain::Unit::piece)
      throw Error::invalid_field(field, "称重商品不能装盒 / goods sold by weight cannot be boxed");
    if (!component->active)
      throw Error::invalid_field(field, "该商品已下架 / the product is not for sale");
  }
  store::replace_bundle_components(unit, product.id, components);
}

/// A unique-key collision as 409 naming the field.
[[noreturn]] void rethrow_duplicate(const Error& error) {
  const auto key = error.details().count("key") ? error.details().at("key") : "";
  std::string field = "code";
  if (key.find("sku") != std::string::npos) field = "sku";
  if (key.find("barcode") != std::string::npos) field = "barcode";
  if (key.find("plu") != std::string::npos) field = "plu";
  throw Error(ErrorCode::duplicate, field + " is already used", {{"field", field}}, error.cause());
}

Village to_village(const store::VillageRecord& v) {
  return {v.id, v.code, v.name, v.name_en, v.description, v.contact, v.commission_bps, v.active};
}

Category to_category(const store::CategoryRecord& c) {
  return {c.id, c.code, c.name, c.name_en};
}

Product to_product(const store::ProductRecord& p) {
  Product out;
  out.id = p.id;
  out.sku = p.sku;
  out.barcode = p.barcode;
  out.name = p.name;
  out.name_en = p.name_en;
  out.description = p.description;
  out.origin = p.origin;
  out.village_id = p.village_id;
  out.village_name = p.village_name;
  out.category_id = p.category_id;
  out.category_name = p.category_name;
  out.unit = p.unit;
  out.price = p.price;
  out.commission_bps = p.commission_bps;
  out.shelf_life_days = p.shelf_life_days;
  out.active = p.active;
  out.online = p.online;
  out.featured = p.featured;
  out.image_path = p.image_path;
  out.plu = p.plu;
  out.low_stock = p.low_stock;
  out.kind = p.kind;
  for (const auto& c : p.components)
    out.components.push_back({c.product_id, c.quantity, c.name, c.name_en, c.village_id,
                              c.village_name, c.price, c.active && c.village_active});
  return out;
}

/// The village's default rate as in force today: a scheduled term takes effect on its day
/// without anything being written then.
void show_rates_in_force(const store::TermsInForce& terms, store::VillageRecord& village) {
  if (const auto found = terms.village_defaults.find(village.id);
      found != terms.village_defaults.end())
    village.commission_bps = found->second;
}

/// The product's own override as in force today (nothing = its village's default applies).
void show_rates_in_force(const store::TermsInForce& terms, store::ProductRecord& product) {
  domain::RatesInForce rates;
  rates.product_column = product.commission_bps;
  if (const auto found = terms.product_overrides.find(product.id);
      found != terms.product_overrides.end())
    rates.product_term = found->second;
  product.commission_bps = domain::product_override_in_force(rates);
}

/// A term as a record to insert, set by `actor` from `day`.
store::CommissionTermRecord new_term(std::int64_t village_id,
                                     std::optional<std::int64_t> product_id, std::optional<int> bps,
                                     const std::string& day, const Actor& actor, std::string note) {
  store::CommissionTermRecord term;
  term.village_id = village_id;
  term.product_id = product_id;
  term.bps = bps;
  term.effective_from = day;
  term.created_by = actor.user_id;
  term.created_by_name = actor.name;
  term.note = std::move(note);
  return term;
}

CommissionTerm to_term(const store::CommissionTermRecord& t, domain::TermStatus status) {
  return {t.id,
          t.village_id,
          t.product_id,
          t.product_name,
          t.bps,
          t.effective_from,
          t.created_at_us,
          t.created_by_name,
          t.note,
          domain::to_string(status)};
}

domain::CommissionTerm domain_term(const store::CommissionTermRecord& t) {
  return {t.id, t.product_id, t.bps, *domain::parse_iso_date(t.effective_from)};
}

store::AuditState term_state(const store::CommissionTermRecord& t) {
  return {{"village_id", std::to_string(t.village_id)},
          {"product_id", t.product_id ? std::to_string(*t.product_id) : "null"},
          {"bps", optional_number(t.bps)},
          {"effective_from", t.effective_from},
          {"note", t.note}};
}

domain::Listing listing_of(const store::ProductRecord& p) {
  return {.active = p.active, .online = p.online, .village_active = p.village_active};
}

}  // namespace

std::int64_t CatalogService::version() {
  std::lock_guard lock(version_mutex_);
  const auto now = std::chrono::steady_clock::now();
  if (now - version_checked_ >= kVersionRecheck) {
    version_ =
        database_.transact([](store::UnitOfWork& unit) { return store::catalog_version(unit); });
    version_checked_ = now;
  }
  return version_;
}

void CatalogService::changed(std::int64_t new_version) {
  std::lock_guard lock(version_mutex_);
  version_ = std::max(version_, new_version);
  version_checked_ = std::chrono::steady_clock::now();
}

void CatalogService::record_change(store::UnitOfWork& unit) {
  const auto new_version = store::bump_catalog_version(unit);
  // Not before the commit: a reader that saw the new version now would read the old rows
  // (READ COMMITTED) and cache them under it; and a rolled-back or retried attempt would leave
  // this process on a version that never existed, blind to the next real one.
  unit.after_commit([this, new_version] { changed(new_version); });
}

template <class Change>
auto CatalogService::write(Change&& change) {
  try {
    return database_.transact([&](store::UnitOfWork& unit) {
      auto result = change(unit);
      record_change(unit);
      return result;
    });
  } catch (const Error& error) {
    if (error.code() == ErrorCode::duplicate) rethrow_duplicate(error);
    throw;
  }
}

template <class Change>
StoredReply CatalogService::write_once(const std::optional<IdempotencyKey>& key, Change&& change) {
  try {
    return idempotency_.run(key, [&](store::UnitOfWork& unit) {
      auto reply = change(unit);
      record_change(unit);
      return reply;
    });
  } catch (const Error& error) {
    if (error.code() == ErrorCode::duplicate) rethrow_duplicate(error);
    throw;
  }
}

std::string CatalogService::today() const {
  return domain::format_iso_date(domain::business_day(std::chrono::system_clock::now(), zone_));
}

std::vector<Village> CatalogService::villages(bool include_inactive) {
  const auto records = database_.transact([&](store::UnitOfWork& unit) {
    auto villages = store::list_villages(unit, include_inactive);
    const auto terms = store::terms_in_force(unit, today());
    for (auto& village : villages)
      show_rates_in_force(terms, village);
    return villages;
  });
  std::vector<Village> villages;
  villages.reserve(records.size());
  for (const auto& record : records)
    villages.push_back(to_village(record));
  return villages;
}

Village CatalogService::village(std::int64_t id, bool include_inactive) {
  auto village = database_.transact([&](store::UnitOfWork& unit) {
    auto found = store::find_village(unit, id);
    if (found) show_rates_in_force(store::terms_in_force(unit, today(), id), *found);
    return found;
  });
  if (!village || (!village->active && !include_inactive)) {
    throw Error(ErrorCode::not_found, "no such village");
  }
  return to_village(*village);
}

Village CatalogService::village_terms(const domain::Principal& caller, std::int64_t village_id) {
  if (!domain::may_read_village(caller, village_id)) {
    throw Error(ErrorCode::forbidden, "this village's data belongs to that village");
  }
  return village(village_id, true);
}

Village CatalogService::create_village(const VillageChanges& fields, const Actor& actor) {
  Village created;
  create_village(fields, actor, std::nullopt, [&created](const Village& village) {
    created = village;
    return StoredReply{};
  });
  return created;
}

StoredReply CatalogService::create_village(const VillageChanges& fields, const Actor& actor,
                                           const std::optional<IdempotencyKey>& key,
                                           const Render<Village>& render) {
  required(fields.code, "code");
  required(fields.name, "name");
  store::VillageRecord village;
  village.commission_bps = 1500;
  apply(fields, village);
  return write_once(key, [&](store::UnitOfWork& unit) {
    village.id = store::insert_village(unit, village);
    auto term = new_term(village.id, std::nullopt, village.commission_bps, today(), actor,
                         "开设时的费率 / rate when the village was added");
    store::insert_commission_term(unit, term);
    auto entry = audit_entry(actor, "village", village.id);
    entry.after = village_state(village);
    store::record_audit(unit, entry);
    return render(to_village(village));
  });
}

Village CatalogService::update_village(std::int64_t id, const VillageChanges& changes,
                                       const Actor& actor) {
  return write([&](store::UnitOfWork& unit) {
    auto village = store::find_village(unit, id, true);
    if (!village) throw Error(ErrorCode::not_found, "no such village");
    const auto day = today();
    show_rates_in_force(store::terms_in_force(unit, day, id), *village);
    const int rate_before = village->commission_bps;
    auto entry = audit_entry(actor, "village", id);
    entry.before = village_state(*village);
    apply(changes, *village);
    store::update_village(unit, *village);
    // A new default rate is a term from today: sales already made keep theirs.
    if (village->commission_bps != rate_before) {
      auto term = new_term(id, std::nullopt, village->commission_bps, day, actor,
                           "修改村信息时设定 / set with the village's details");
      store::insert_commission_term(unit, term);
    }
    entry.after = village_state(*village);
    store::record_audit(unit, entry);
    return to_village(*village);
  });
}

std::vector<Category> CatalogService::categories() {
  const auto records =
      database_.transact([](store::UnitOfWork& unit) { return store::list_categories(unit); });
  std::vector<Category> categories;
  categories.reserve(records.size());
  for (const auto& record : records)
    categories.push_back(to_category(record));
  return categories;
}

ProductPage CatalogService::products(const ProductQuery& query) {
  store::ProductQuery filter;
  filter.village_id = query.village_id;
  filter.category_id = query.category_id;
  filter.text = query.text;
  filter.featured_only = query.featured_only;
  if (!query.include_hidden)
    filter.required = domain::listing_requirement(query.counter ? domain::Channel::counter
                                                                : domain::Channel::online);
  filter.limit = query.limit;
  filter.offset = query.offset;
  return database_.transact([&](store::UnitOfWork& unit) {
    auto [records, total] = store::search_products(unit, filter);
    const auto terms = store::terms_in_force(unit, today(), query.village_id);
    for (auto& record : records)
      show_rates_in_force(terms, record);
    ProductPage page;
    page.total = total;
    page.items.reserve(records.size());
    for (const auto& record : records)
      page.items.push_back(to_product(record));
    return page;
  });
}

Product CatalogService::product(std::int64_t id, bool include_hidden) {
  const auto product = database_.transact([&](store::UnitOfWork& unit) {
    auto found = store::find_product(unit, id);
    if (found) show_rates_in_force(store::terms_in_force(unit, today(), found->village_id), *found);
    return found;
  });
  if (!product ||
      (!include_hidden && !domain::is_offered(listing_of(*product), domain::Channel::online))) {
    throw Error(ErrorCode::not_found, "no such product");
  }
  return to_product(*product);
}

std::int64_t CatalogService::available(std::int64_t id, bool include_hidden) {
  return database_.transact([&](store::UnitOfWork& unit) {
    const auto product = store::find_product(unit, id);
    if (!product ||
        (!include_hidden && !domain::is_offered(listing_of(*product), domain::Channel::online)))
      throw Error(ErrorCode::not_found, "no such product");
    // What an order can still get: expired lots left out, as the checkout's reservation does.
    const auto day = today();
    if (product->kind != domain::ProductKind::bundle) return store::available_stock(unit, id, day);
    std::vector<domain::BundleComponent> components;
    std::vector<std::int64_t> available;
    for (const auto& c : product->components) {
      components.push_back({c.product_id, c.quantity});
      // A component no longer offered makes the box unsellable.
      available.push_back(
          c.active && c.village_active ? store::available_stock(unit, c.product_id, day) : 0);
    }
    if (components.empty()) return std::int64_t{0};
    return domain::bundle_available(components, available);
  });
}

Product CatalogService::product_by_barcode(const std::string& barcode) {
  const auto product = database_.transact([&](store::UnitOfWork& unit) {
    auto found = store::find_product_by_barcode(unit, barcode);
    if (found) show_rates_in_force(store::terms_in_force(unit, today(), found->village_id), *found);
    return found;
  });
  if (!product || !domain::is_offered(listing_of(*product), domain::Channel::counter)) {
    throw Error(ErrorCode::not_found, "no product on sale has this barcode");
  }
  return to_product(*product);
}

Product CatalogService::create_product(const ProductChanges& fields, const Actor& actor) {
  Product created;
  create_product(fields, actor, std::nullopt, [&created](const Product& product) {
    created = product;
    return StoredReply{};
  });
  return created;
}

StoredReply CatalogService::create_product(const ProductChanges& fields, const Actor& actor,
                                           const std::optional<IdempotencyKey>& key,
                                           const Render<Product>& render) {
  required(fields.sku, "sku");
  required(fields.name, "name");
  required(fields.village_id, "village_id");
  required(fields.category_id, "category_id");
  required(fields.unit, "unit");
  required(fields.price, "price_fen");
  store::ProductRecord product;
  apply(fields, product);
  return write_once(key, [&](store::UnitOfWork& unit) {
    check_references(unit, product);
    const auto id = store::insert_product(unit, product);
    product.id = id;
    write_components(unit, fields, product, domain::ProductKind::item);
    if (product.commission_bps) {
      auto term = new_term(product.village_id, id, product.commission_bps, today(), actor,
                           "上架时的费率 / rate when the product was added");
      store::insert_commission_term(unit, term);
    }
    auto stored = *store::find_product(unit, id);
    auto entry = audit_entry(actor, "product", id);
    entry.after = product_state(stored);
    store::record_audit(unit, entry);
    return render(to_product(stored));
  });
}

Product CatalogService::update_product(std::int64_t id, const ProductChanges& changes,
                                       const Actor& actor) {
  return write([&](store::UnitOfWork& unit) {
    auto product = store::find_product(unit, id, store::RowLock::update);
    if (!product) throw Error(ErrorCode::not_found, "no such product");
    const auto day = today();
    show_rates_in_force(store::terms_in_force(unit, day, product->village_id), *product);
    const auto override_before = product->commission_bps;
    auto entry = audit_entry(actor, "product", id);
    entry.before = product_state(*product);
    const auto was = product->kind;
    const domain::ProductBasis basis_before{product->unit, product->kind, product->village_id};
    apply(changes, *product);
    const domain::ProductBasis basis_after{product->unit, product->kind, product->village_id};
    if (basis_after.unit != basis_before.unit || basis_after.kind != basis_before.kind ||
        basis_after.village_id != basis_before.village_id)
      domain::check_basis_change(basis_before, basis_after, store::product_use(unit, id));
    check_references(unit, *product);
    store::update_product(unit, *product);
    // A new override (or its end) is a term from today: sales already made keep their rate.
    if (product->commission_bps != override_before) {
      auto term = new_term(product->village_id, id, product->commission_bps, day, actor,
                           "修改商品信息时设定 / set with the product's details");
      store::insert_commission_term(unit, term);
    }
    write_components(unit, changes, *product, was);
    auto stored = *store::find_product(unit, id);
    show_rates_in_force(store::terms_in_force(unit, day, stored.village_id), stored);
    entry.after = product_state(stored);
    store::record_audit(unit, entry);
    return to_product(stored);
  });
}

Product CatalogService::set_product_image(std::int64_t id, std::string_view bytes,
                                          std::string_view declared_type, const Actor& actor) {
  if (declared_type != "image/jpeg" && declared_type != "image/png" &&
      declared_type != "image/webp") {
    throw Error(ErrorCode::unsupported_media, "send image/jpeg, image/png or image/webp",
                {{"field", "content_type"}});
  }
  if (bytes.empty()) throw Error::invalid_field("image", "the image is empty");
  if (bytes.size() > domain::kMaxImageBytes) {
    throw Error(ErrorCode::too_large, "images may be at most 2 MiB", {{"field", "image"}});
  }
  const auto actual = domain::sniff_image_type(bytes);
  if (!actual) {
    throw Error(ErrorCode::unsupported_media, "the bytes are not a JPEG, PNG or WebP image",
                {{"field", "image"}});
  }
  if (*actual != declared_type) {
    throw Error(ErrorCode::unsupported_media,
                "the bytes are " + *actual + ", not " + std::string(declared_type),
                {{"field", "content_type"}});
  }
  if (const auto problem = domain::image_problem(bytes, *actual))
    throw Error::invalid_field("image", *problem);
  product(id, true);  // 404 before writing a file for nothing
  const auto path = images_.save_product_image(id, bytes, domain::image_extension(*actual));
  return write([&](store::UnitOfWork& unit) {
    auto product = store::find_product(unit, id, store::RowLock::update);
    if (!product) throw Error(ErrorCode::not_found, "no such product");
    auto entry = audit_entry(actor, "product", id);
    entry.before = store::AuditState{{"image_path", optional_text(product->image_path)}};
    product->image_path = path;
    store::update_product(unit, *product);
    entry.after = store::AuditState{{"image_path", path}};
    store::record_audit(unit, entry);
    return to_product(*product);
  });
}

CommissionTerms CatalogService::commission_terms(const domain::Principal& caller,
                                                 std::int64_t village_id) {
  if (!domain::may_read_village(caller, village_id)) {
    throw Error(ErrorCode::forbidden, "this village's data belongs to that village");
  }
  const auto day_text = today();
  const auto day = *domain::parse_iso_date(day_text);
  return database_.transact([&](store::UnitOfWork& unit) {
    auto village = store::find_village(unit, village_id);
    if (!village) throw Error(ErrorCode::not_found, "no such village");
    const auto records = store::list_commission_terms(unit, village_id);
    std::vector<domain::CommissionTerm> terms;
    terms.reserve(records.size());
    for (const auto& record : records)
      terms.push_back(domain_term(record));
    const auto statuses = domain::term_statuses(terms, day);
    CommissionTerms out;
    out.village_id = village_id;
    out.today = day_text;
    const auto in_force = domain::term_in_force(terms, std::nullopt, day);
    out.commission_bps = in_force ? records[*in_force].bps.value_or(village->commission_bps)
                                  : village->commission_bps;
    for (std::size_t i = 0; i < records.size(); ++i)
      out.items.push_back(to_term(records[i], statuses[i]));
    return out;
  });
}

StoredReply CatalogService::add_commission_term(std::int64_t village_id,
                                                const NewCommissionTerm& asked, const Actor& actor,
                                                const std::optional<IdempotencyKey>& key,
                                                const Render<CommissionTerm>& render) {
  const auto day_text = today();
  const auto day = *domain::parse_iso_date(day_text);
  domain::check_term_rate(asked.bps, asked.product_id.has_value());
  const auto& from_text = required(asked.effective_from, "effective_from");
  const auto from = domain::parse_iso_date(from_text);
  if (!from)
    throw Error::invalid_field("effective_from",
                               "effective_from 应为 YYYY-MM-DD / must be a date YYYY-MM-DD");
  domain::check_effective_from(*from, day);
  check(domain::text_problem(asked.note, 0, 500), "note");
  return write_once(key, [&](store::UnitOfWork& unit) {
    if (!store::find_village(unit, village_id))
      throw Error(ErrorCode::not_found, "no such village");
    std::string product_name;
    if (asked.product_id) {
      const auto product = store::find_product(unit, *asked.product_id);
      if (!product)
        throw Error::invalid_field("product_id", "没有这个商品 / product_id names no product");
      if (product->village_id != village_id)
        throw Error::invalid_field("product_id",
                                   "该商品属于另一个村 / the product belongs to another village");
      // A box's lines take their components' rates; a term on the box would never apply.
      if (product->kind == domain::ProductKind::bundle)
        throw Error::invalid_field(
            "product_id",
            "礼盒按其组成商品的费率分成 / a bundle is split at its components' rates");
      product_name = product->name;
    }
    auto term =
        new_term(village_id, asked.product_id,
                 asked.bps ? std::optional<int>(static_cast<int>(*asked.bps)) : std::nullopt,
                 domain::format_iso_date(*from), actor, asked.note);
    store::insert_commission_term(unit, term);
    term.product_name = product_name;
    auto entry = audit_entry(actor, "commission_term", term.id);
    entry.after = term_state(term);
    store::record_audit(unit, entry);
    // Just added, so the latest of its scope: in force now if it starts today.
    return render(
        to_term(term, *from > day ? domain::TermStatus::scheduled : domain::TermStatus::current));
  });
}

}  // namespace yizhan::service
