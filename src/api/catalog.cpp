// Villages, categories and products (API.md "Catalog"), with a cache of public responses.
#include "catalog.hpp"

#include <functional>
#include <mutex>
#include <unordered_map>

#include "idempotency.hpp"
#include "json.hpp"
#include "yizhan/service/catalog.hpp"

namespace yizhan::api {
namespace {

using domain::Error;
using domain::ErrorCode;

bool is_admin(const Request& request) {
  return request.principal && request.principal->role == domain::Role::admin;
}

// --- reading requests -----------------------------------------------------------------------

service::VillageChanges village_changes(const json& body) {
  reject_unknown_fields(
      body, {"code", "name", "name_en", "description", "contact", "commission_bps", "active"});
  service::VillageChanges changes;
  changes.code = string_field(body, "code");
  changes.name = string_field(body, "name");
  changes.name_en = string_field(body, "name_en");
  changes.description = string_field(body, "description");
  changes.contact = string_field(body, "contact");
  changes.commission_bps = integer_field(body, "commission_bps");
  changes.active = boolean_field(body, "active");
  return changes;
}

service::ProductChanges product_changes(const json& body) {
  reject_unknown_fields(
      body, {"sku", "barcode", "name", "name_en", "description", "origin", "village_id",
             "category_id", "unit", "price_fen", "commission_bps", "shelf_life_days", "active",
             "online", "featured", "plu", "low_stock", "kind", "components"});
  service::ProductChanges changes;
  changes.kind = string_field(body, "kind");
  if (const auto found = body.find("components"); found != body.end()) {
    if (!found->is_array()) throw Error::invalid_field("components", "components must be a list");
    std::vector<domain::BundleComponent> components;
    for (std::size_t i = 0; i < found->size(); ++i) {
      const auto& item = (*found)[i];
      const std::string at = "components[" + std::to_string(i) + "]";
      if (!item.is_object()) throw Error::invalid_field(at, at + " must be an object");
      for (const auto& [name, value] : item.items())
        if (name != "product_id" && name != "quantity")
          throw Error::invalid_field(at + "." + name, "unknown field " + name);
      domain::BundleComponent component;
      try {
        const auto product_id = integer_field(item, "product_id");
        const auto quantity = integer_field(item, "quantity");
        if (!product_id) throw Error::invalid_field("product_id", "product_id is required");
        component.product_id = *product_id;
        component.quantity = quantity.value_or(1);
      } catch (const Error& error) {
        throw error.within(at);
      }
      components.push_back(component);
    }
    changes.components = std::move(components);
  }
  changes.sku = string_field(body, "sku");
  changes.barcode = nullable_string_field(body, "barcode");
  changes.name = string_field(body, "name");
  changes.name_en = string_field(body, "name_en");
  changes.description = string_field(body, "description");
  changes.origin = string_field(body, "origin");
  changes.unit = string_field(body, "unit");
  changes.village_id = integer_field(body, "village_id");
  changes.category_id = integer_field(body, "category_id");
  if (const auto price = integer_field(body, "price_fen")) changes.price = domain::Fen(*price);
  changes.commission_bps = nullable_integer_field(body, "commission_bps");
  changes.shelf_life_days = nullable_integer_field(body, "shelf_life_days");
  changes.plu = nullable_integer_field(body, "plu");
  changes.low_stock = nullable_integer_field(body, "low_stock");
  changes.active = boolean_field(body, "active");
  changes.online = boolean_field(body, "online");
  changes.featured = boolean_field(body, "featured");
  return changes;
}

std::optional<std::int64_t> id_query(const Request& request, const char* name) {
  const auto found = request.query.find(name);
  if (found == request.query.end() || found->second.empty()) return std::nullopt;
  const auto id = positive_integer(found->second);
  if (!id) throw Error::invalid_field(name, std::string(name) + " must be a positive integer");
  return id;
}

/// The cache key of a product list: only the parameters the route understood, normalized.
std::string products_key(const service::ProductQuery& query, const Page& page) {
  auto id = [](const std::optional<std::int64_t>& value) {
    return value ? std::to_string(*value) : std::string();
  };
  // The text goes last, so that whatever it contains cannot be mistaken for another field.
  return "products village=" + id(query.village_id) + " category=" + id(query.category_id) +
         " featured=" + (query.featured_only ? "1" : "0") +
         " counter=" + (query.counter ? "1" : "0") + " page=" + std::to_string(page.page) +
         " size=" + std::to_string(page.page_size) + " q=" + query.text;
}

// --- writing responses ----------------------------------------------------------------------

json village_json(const service::Village& v, bool with_terms) {
  json out = {{"id", v.id},
              {"code", v.code},
              {"name", v.name},
              {"name_en", v.name_en},
              {"description", v.description},
              {"contact", v.contact},
              {"active", v.active}};
  if (with_terms) out["commission_bps"] = v.commission_bps;
  return out;
}

json term_json(const service::CommissionTerm& t) {
  return {{"id", t.id},
          {"village_id", t.village_id},
          {"bps", nullable(t.bps)},
          {"product_id", nullable(t.product_id)},
          {"product_name", t.product_id ? json(t.product_name) : json(nullptr)},
          {"effective_from", t.effective_from},
          {"created_at", time_json(t.created_at_us)},
          {"created_by", t.created_by},
          {"note", t.note},
          {"status", t.status},
          {"current", t.status == "current"},
          {"scheduled", t.status == "scheduled"}};
}

/// The body of POST …/commission; 422 naming a field of the wrong type.
service::NewCommissionTerm new_term(const json& body) {
  reject_unknown_fields(body, {"bps", "product_id", "effective_from", "note"});
  service::NewCommissionTerm term;
  if (const auto bps = nullable_integer_field(body, "bps"); bps) term.bps = *bps;
  if (const auto product = nullable_integer_field(body, "product_id"); product)
    term.product_id = *product;
  if (term.product_id && *term.product_id <= 0)
    throw Error::invalid_field("product_id", "product_id must be a positive id");
  if (!body.contains("bps") || (body["bps"].is_null() && !term.product_id))
    throw Error::invalid_field("bps", "bps is required (null only ends a product's override)");
  term.effective_from = string_field(body, "effective_from");
  term.note = string_field(body, "note").value_or("");
  return term;
}

json category_json(const service::Category& c) {
  return {{"id", c.id}, {"code", c.code}, {"name", c.name}, {"name_en", c.name_en}};
}

json product_json(const service::Product& p, std::optional<std::int64_t> available = std::nullopt) {
  json components = json::array();
  for (const auto& c : p.components)
    components.push_back({{"product_id", c.product_id},
                          {"quantity", c.quantity},
                          {"name", c.name},
                          {"name_en", c.name_en},
                          {"village_id", c.village_id},
                          {"village_name", c.village_name},
                          {"price_fen", c.price.value()},
                          {"active", c.active}});
  json out = {{"id", p.id},
              {"kind", domain::to_string(p.kind)},
              {"components", std::move(components)},
              {"sku", p.sku},
              {"barcode", nullable(p.barcode)},
              {"name", p.name},
              {"name_en", p.name_en},
              {"description", p.description},
              {"origin", p.origin},
              {"village_id", p.village_id},
              {"village_name", p.village_name},
              {"category_id", p.category_id},
              {"category_name", p.category_name},
              {"unit", domain::to_string(p.unit)},
              {"price_fen", p.price.value()},
              {"commission_bps", nullable(p.commission_bps)},
              {"shelf_life_days", nullable(p.shelf_life_days)},
              {"active", p.active},
              {"online", p.online},
              {"featured", p.featured},
              {"plu", nullable(p.plu)},
              {"low_stock", nullable(p.low_stock)},
              {"image_url", p.image_path ? json("/media/" + *p.image_path) : json(nullptr)}};
  if (available) out["available"] = *available;
  return out;
}

/// Public catalog responses, serialized once per catalog version and bounded in entries. Admin
/// responses (which show hidden products and commission terms) are never cached.
class PublicCache {
 public:
  /// `key` names the answer by the parameters the route understood, in canonical form (never
  /// the raw path or query), so junk parameters or "007" for "7" cannot add entries.
  Response serve(const Request& request, const std::string& key, std::int64_t version,
                 const std::function<json()>& build) {
    if (is_admin(request)) {
      auto response = json_response(200, build());
      response.headers.emplace_back("Cache-Control", "no-store");
      return response;
    }
    std::shared_ptr<const Entry> entry;
    {
      std::lock_guard lock(mutex_);
      if (version != version_) {
        entries_.clear();
        bytes_ = 0;
        version_ = version;
      }
      if (const auto found = entries_.find(key); found != entries_.end()) entry = found->second;
    }
    if (!entry) {
      auto body = std::make_shared<const std::string>(build().dump());
      const auto etag = "\"c" + std::to_string(version) + "-" +
                        std::to_string(std::hash<std::string>{}(*body) & 0xffffffffffff) + "\"";
      entry = std::make_shared<const Entry>(Entry{std::move(body), etag});
      std::lock_guard lock(mutex_);
      if (version == version_) {
        // Full: start over (searches are a long tail; the hot pages refill at once).
        const auto size = key.size() + entry->body->size();
        if (entries_.size() >= kMaxEntries || bytes_ + size > kMaxBytes) {
          entries_.clear();
          bytes_ = 0;
        }
        if (entries_.emplace(key, entry).second) bytes_ += size;
      }
    }
    Response response;
    response.headers.emplace_back("ETag", entry->etag);
    response.headers.emplace_back("Cache-Control", "no-cache");
    // Weak comparison: a compressed copy carries W/"…" (see http/server.cpp).
    if (etag_matches(request.header("if-none-match").value_or(""), entry->etag)) {
      response.status = 304;
      response.content_type.clear();
      return response;
    }
    response.shared_body = entry->body;
    return response;
  }

 private:
  struct Entry {
    std::shared_ptr<const std::string> body;
    std::string etag;
  };
  static constexpr std::size_t kMaxEntries = 2000;
  static constexpr std::size_t kMaxBytes = 4 * 1024 * 1024;  ///< bodies and keys together
  std::mutex mutex_;
  std::int64_t version_ = -1;
  std::unordered_map<std::string, std::shared_ptr<const Entry>> entries_;
  std::size_t bytes_ = 0;
};

}  // namespace

void add_catalog_routes(Router& router, service::CatalogService& catalog) {
  auto cache = std::make_shared<PublicCache>();

  // GET /api/v1/villages
  router.add({"GET", "/api/v1/villages", Access::anyone, Executor::database,
              [&catalog, cache](const Request& request) {
                return cache->serve(request, "villages", catalog.version(), [&] {
                  json items = json::array();
                  for (const auto& v : catalog.villages(is_admin(request))) {
                    items.push_back(village_json(v, is_admin(request)));
                  }
                  return json{{"items", items}};
                });
              }});

  // GET /api/v1/villages/{id}
  router.add(
      {"GET", "/api/v1/villages/{id}", Access::anyone, Executor::database,
       [&catalog, cache](const Request& request) {
         const auto id = path_id(request);
         return cache->serve(request, "village " + std::to_string(id), catalog.version(), [&] {
           return village_json(catalog.village(id, is_admin(request)), is_admin(request));
         });
       }});

  // GET /api/v1/villages/{id}/terms
  router.add({"GET", "/api/v1/villages/{id}/terms", Access::village, Executor::database,
              [&catalog](const Request& request) {
                const auto village = catalog.village_terms(*request.principal, path_id(request));
                return json_response(200, {{"village_id", village.id},
                                           {"code", village.code},
                                           {"name", village.name},
                                           {"commission_bps", village.commission_bps}});
              }});

  // GET /api/v1/villages/{id}/commission
  router.add({"GET", "/api/v1/villages/{id}/commission", Access::village, Executor::database,
              [&catalog](const Request& request) {
                const auto terms = catalog.commission_terms(*request.principal, path_id(request));
                json items = json::array();
                json current = json::array();
                json scheduled = json::array();
                for (const auto& term : terms.items) {
                  items.push_back(term_json(term));
                  if (term.status == "current") current.push_back(items.back());
                  if (term.status == "scheduled") scheduled.push_back(items.back());
                }
                return json_response(200, {{"village_id", terms.village_id},
                                           {"today", terms.today},
                                           {"commission_bps", terms.commission_bps},
                                           {"current", current},
                                           {"scheduled", scheduled},
                                           {"items", items}});
              }});

  // POST /api/v1/villages/{id}/commission
  router.add({"POST", "/api/v1/villages/{id}/commission", Access::admin, Executor::database,
              [&catalog](const Request& request) {
                const auto village_id = path_id(request);
                return from_stored(catalog.add_commission_term(
                    village_id, new_term(parse_object(request)), actor_of(request),
                    idempotency_key(request, "POST /api/v1/villages/{id}/commission"),
                    [](const service::CommissionTerm& term) {
                      return to_stored(json_response(201, term_json(term)));
                    }));
              }});

  // POST /api/v1/villages
  router.add({"POST", "/api/v1/villages", Access::admin, Executor::database,
              [&catalog](const Request& request) {
                return from_stored(catalog.create_village(
                    village_changes(parse_object(request)), actor_of(request),
                    idempotency_key(request, "POST /api/v1/villages"),
                    [](const service::Village& village) {
                      return to_stored(json_response(201, village_json(village, true)));
                    }));
              }});

  // PATCH /api/v1/villages/{id}
  router.add({"PATCH", "/api/v1/villages/{id}", Access::admin, Executor::database,
              [&catalog](const Request& request) {
                const auto id = path_id(request);
                const auto village = catalog.update_village(
                    id, village_changes(parse_object(request)), actor_of(request));
                return json_response(200, village_json(village, true));
              }});

  // GET /api/v1/categories
  router.add({"GET", "/api/v1/categories", Access::anyone, Executor::database,
              [&catalog, cache](const Request& request) {
                return cache->serve(request, "categories", catalog.version(), [&] {
                  json items = json::array();
                  for (const auto& c : catalog.categories())
                    items.push_back(category_json(c));
                  return json{{"items", items}};
                });
              }});

  // GET /api/v1/products
  router.add({"GET", "/api/v1/products", Access::anyone, Executor::database,
              [&catalog, cache](const Request& request) {
                const auto page = parse_page(request);
                service::ProductQuery query;
                query.village_id = id_query(request, "village_id");
                query.category_id = id_query(request, "category_id");
                if (const auto q = request.query.find("q"); q != request.query.end()) {
                  query.text = q->second.substr(0, q->second.find_last_not_of(' ') + 1);
                  query.text.erase(0, query.text.find_first_not_of(' '));
                  if (domain::character_count(query.text) > 100) {
                    throw Error::invalid_field("q", "q is too long (at most 100)");
                  }
                }
                query.featured_only =
                    request.query.count("featured") && request.query.at("featured") == "1";
                query.include_hidden = is_admin(request);
                // ?channel=counter: what the counter sells (its offline catalog), staff only.
                if (const auto channel = request.query.find("channel");
                    channel != request.query.end() && channel->second != "online") {
                  if (channel->second != "counter")
                    throw Error::invalid_field("channel", "channel is online or counter");
                  if (!request.principal || request.principal->role == domain::Role::village)
                    throw Error(ErrorCode::forbidden, "the counter's catalog is for staff");
                  query.counter = true;
                }
                query.limit = page.page_size;
                query.offset = page.offset();
                // The day is in the key: a scheduled commission term changes the answer at
                // midnight without a catalog write.
                return cache->serve(request, products_key(query, page) + " day=" + catalog.today(),
                                    catalog.version(), [&] {
                                      const auto result = catalog.products(query);
                                      json items = json::array();
                                      for (const auto& p : result.items)
                                        items.push_back(product_json(p));
                                      return json{{"items", items},
                                                  {"total", result.total},
                                                  {"page", page.page},
                                                  {"page_size", page.page_size}};
                                    });
              }});

  // GET /api/v1/products/{id}
  router.add({"GET", "/api/v1/products/{id}", Access::anyone, Executor::database,
              [&catalog, cache](const Request& request) {
                const auto id = path_id(request);
                return cache->serve(
                    request, "product " + std::to_string(id) + " day=" + catalog.today(),
                    catalog.version(),
                    [&] { return product_json(catalog.product(id, is_admin(request))); });
              }});

  // GET /api/v1/products/{id}/availability (never cached: it follows the stock)
  router.add({"GET", "/api/v1/products/{id}/availability", Access::anyone, Executor::database,
              [&catalog](const Request& request) {
                const auto id = path_id(request);
                auto response = json_response(
                    200,
                    {{"product_id", id}, {"available", catalog.available(id, is_admin(request))}});
                response.headers.emplace_back("Cache-Control", "no-store");
                return response;
              }});

  // GET /api/v1/products/by-barcode/{code}
  router.add({"GET", "/api/v1/products/by-barcode/{code}", Access::staff, Executor::database,
              [&catalog](const Request& request) {
                const auto product = catalog.product_by_barcode(request.path_parameters.at("code"));
                return json_response(
                    200,
                    product_json(product, product.kind == domain::ProductKind::bundle
                                              ? std::optional(catalog.available(product.id, true))
                                              : std::nullopt));
              }});

  // POST /api/v1/products
  router.add({"POST", "/api/v1/products", Access::admin, Executor::database,
              [&catalog](const Request& request) {
                return from_stored(catalog.create_product(
                    product_changes(parse_object(request)), actor_of(request),
                    idempotency_key(request, "POST /api/v1/products"),
                    [](const service::Product& product) {
                      return to_stored(json_response(201, product_json(product)));
                    }));
              }});

  // PATCH /api/v1/products/{id}
  router.add({"PATCH", "/api/v1/products/{id}", Access::admin, Executor::database,
              [&catalog](const Request& request) {
                const auto id = path_id(request);
                const auto product = catalog.update_product(
                    id, product_changes(parse_object(request)), actor_of(request));
                return json_response(200, product_json(product));
              }});

  // POST /api/v1/products/{id}/image
  router.add({"POST", "/api/v1/products/{id}/image", Access::admin, Executor::database,
              [&catalog](const Request& request) {
                const auto id = path_id(request);
                // Media types compare without case or parameters ("Image/PNG; q=1").
                const auto declared = request.header("content-type").value_or("");
                std::string type(declared.substr(0, declared.find(';')));
                for (const auto* known : {"image/jpeg", "image/png", "image/webp"}) {
                  if (media_type_is(declared, known)) type = known;
                }
                const auto product =
                    catalog.set_product_image(id, request.body, type, actor_of(request));
                return json_response(200, product_json(product));
              },
              BodyLimit::upload});
}

}  // namespace yizhan::api
