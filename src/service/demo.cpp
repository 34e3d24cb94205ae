// The demo station: Anhai's member villages and communities, an account for each, and goods on
// the shelves (receipts for every product, some lots close to expiry, a few products low).
#include "yizhan/service/demo.hpp"

#include <cstdio>
#include <map>

#include "demo_products.hpp"
#include "yizhan/domain/access.hpp"
#include "yizhan/domain/catalog.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/accounts.hpp"
#include "yizhan/service/stock.hpp"
#include "yizhan/store/commission_terms.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/products.hpp"
#include "yizhan/store/stock.hpp"
#include "yizhan/store/villages.hpp"

namespace yizhan::service {
namespace {

struct DemoVillage {
  const char* code;
  const char* name;
  const char* story;
  int commission_bps;
  const char* name_en;
  const char* contact;
};

constexpr DemoVillage kVillages[] = {
    {"yaoqian", "瑶前村",
     "安海镇东北的老村，村民世代种茶、炒花生。村集体牵头办起合作社，把各家的手工茶和花生统一包装，"
     "通过驿站卖到镇上和网上。",
     1500, "Yaoqian Village", "村委会服务点"},
    {"renshou", "仁寿村",
     "以红色文化和老宅闻名，村里的红色教育基地每年接待不少学生。村民编织的竹器和红色文创由驿站代销"
     "。",
     1200, "Renshou Village", "村委会服务点"},
    {"xingcuo", "型厝村",
     "靠海的渔村，晒鱿鱼干、虾干是家家户户的手艺。驿站帮助型厝村把海味分级包装，按斤称重销售。",
     1500, "Xingcuo Village", "村委会服务点"},
    {"dongli", "东鲤村",
     "东鲤村的蜜饯和果脯沿用老方子，用本地龙眼、橄榄腌制，是安海人过年的伴手礼。", 1500,
     "Dongli Village", "村委会服务点"},
    {"xingsheng", "兴胜村",
     "兴胜村的手工面线和土笋冻远近有名，村里的小作坊在驿站的帮助下有了统一的标签和保质期管理。",
     1300, "Xingsheng Village", "村委会服务点"},
    {"qianpu", "前埔村",
     "前埔村种植番薯和花生，村集体经营的小工坊把番薯做成番薯干、地瓜粉，供驿站门店和网店销售。",
     1500, "Qianpu Village", "村委会服务点"},
    {"xindian", "新店村",
     "新店村的年轻人回乡创业，做起了本地特产礼盒，把各村的好东西组合成节日礼盒。", 1000,
     "Xindian Village", "村委会服务点"},
    {"anping", "安平社区",
     "安平桥畔的社区，老街上的手艺人做木雕、剪纸和安平桥文创，游客来了总要带一件回去。", 1200,
     "Anping Community", "村委会服务点"},
    {"batou", "坝头溪边经济社",
     "溪边经济社的社员养蜂、种蔬菜，蜂蜜和时令干货由驿站统一收货、检验后上架。", 1500,
     "Batou Xibian Economic Cooperative", "村委会服务点"},
};

/// A demo gift box of several villages' goods: components by their demo product's name.
struct DemoBundle {
  const char* sku;
  const char* name;
  const char* name_en;
  domain::Fen price;
  const char* description;
  std::vector<std::pair<const char*, std::int64_t>> components;
};

const std::vector<DemoBundle>& demo_bundles() {
  static const std::vector<DemoBundle> bundles = {
      {"YZ-BOX-CJ",
       "春节礼盒",
       "Spring Festival gift box",
       domain::Fen(21800),
       "瑶前手工乌龙茶、瑶前五香花生、型厝头水紫菜和东鲤蜜饯橄榄，一盒装下三个村的年味。",
       {{"瑶前手工乌龙茶礼罐 250g", 1},
        {"瑶前五香花生 500g", 1},
        {"型厝头水紫菜 100g", 2},
        {"东鲤蜜饯橄榄 250g", 1}}},
      {"YZ-BOX-AH",
       "安海伴手礼",
       "Anhai souvenir box",
       domain::Fen(5600),
       "东鲤陈皮梅、仁寿红色文创徽章和安平桥明信片，带一份安海回家。",
       {{"东鲤陈皮梅 200g", 1}, {"仁寿红色文创徽章", 2}, {"安平桥明信片套装", 1}}},
  };
  return bundles;
}

/// Weighed demo products get scale codes from here on, in catalog order (README "Scale labels").
constexpr int kFirstDemoPlu = 10001;

/// The business date `days` before `today`, "YYYY-MM-DD".
std::string days_before(std::chrono::year_month_day today, int days) {
  return store::format_sql_date(
      std::chrono::year_month_day{std::chrono::sys_days(today) - std::chrono::days(days)});
}

/// Goods on the shelves: one receipt per village for all its products. Every third product
/// with a shelf life got an older lot that expires within days (so FEFO and the expiry filter
/// have something to show), and every ninth product is below its low-stock threshold.
void receive_demo_stock(store::Database& database, const std::vector<std::int64_t>& product_ids) {
  StockService stock(database);
  const auto today =
      domain::business_day(std::chrono::system_clock::now(), domain::TimeZone::shanghai());
  std::map<std::string, ReceiptRequest> fresh;  // by village code
  std::map<std::string, ReceiptRequest> older;
  const auto& products = demo_products();
  for (std::size_t i = 0; i < products.size(); ++i) {
    const auto& demo = products[i];
    const auto village_id = database.transact([&](store::UnitOfWork& unit) {
      return store::find_product(unit, product_ids[i])->village_id;
    });
    const bool grams = std::string_view(demo.unit) == "g";
    const bool low = i % 9 == 4;
    ReceiptLineRequest line;
    line.product_id = product_ids[i];
    line.quantity = grams ? (low ? 1500 : 6000 + static_cast<std::int64_t>(i % 5) * 2500)
                          : (low ? 4 : 18 + static_cast<std::int64_t>(i * 7 % 30));
    line.certificate = "FJ-AH-" + std::to_string(20260 + i);
    const int shelf = demo.shelf_life_days;
    if (shelf > 0) line.produced_on = days_before(today, std::min(shelf / 4, 20));
    auto& receipt = fresh[demo.village_code];
    receipt.village_id = village_id;
    receipt.note = "演示：村里送货 / demo delivery";
    receipt.lines.push_back(line);
    if (shelf > 0 && i % 3 == 1) {
      // An older lot that expires in one to three days.
      ReceiptLineRequest old_line = line;
      old_line.quantity = grams ? 300 : 3;
      old_line.lot = "OLD-" + std::to_string(i);
      old_line.produced_on = days_before(today, std::max(shelf - 1 - static_cast<int>(i % 3), 0));
      auto& early = older[demo.village_code];
      early.village_id = village_id;
      early.note = "演示：上一批 / demo: the previous lot";
      early.lines.push_back(old_line);
    }
  }
  const Actor actor{std::nullopt, "cli", "", "seed-demo"};
  for (auto* receipts : {&older, &fresh}) {
    for (const auto& [code, receipt] : *receipts)
      stock.receive(receipt, actor);
  }
}

}  // namespace

DemoReport seed_demo(store::Database& database, AccountService& accounts,
                     const std::string& password) {
  DemoReport report;
  report.usernames = {"admin", "cashier1"};
  for (const auto& village : kVillages)
    report.usernames.emplace_back(village.code);
  if (database.transact([](store::UnitOfWork& unit) { return store::any_village(unit); })) {
    return report;
  }
  // Before anything is written: a password the accounts refuse would leave villages and products
  // without accounts, and a database that is no longer empty, so never seeded again.
  if (const auto problem = domain::password_problem(password))
    throw domain::Error::invalid_field("password",
                                       "演示密码不合要求 / the demo password " + *problem);

  std::vector<std::int64_t> product_ids;
  database.transact([&product_ids](store::UnitOfWork& unit) {
    product_ids.clear();
    std::map<std::string, std::int64_t> village_ids;
    for (const auto& village : kVillages) {
      village_ids[village.code] = store::insert_village(
          unit, {0, village.code, village.name, village.story, village.commission_bps, true,
                 village.name_en, village.contact});
      // The rate as a dated term, as the migration carried over existing villages' rates.
      store::CommissionTermRecord term;
      term.village_id = village_ids[village.code];
      term.bps = village.commission_bps;
      term.effective_from = "2000-01-01";
      term.created_by_name = "demo";
      term.note = "演示数据的费率 / demo rate";
      store::insert_commission_term(unit, term);
    }
    std::map<std::string, std::int64_t> category_ids;
    for (const auto& category : store::list_categories(unit)) {
      category_ids[category.code] = category.id;
    }
    int serial = 0;
    int plu = kFirstDemoPlu;
    for (const auto& demo : demo_products()) {
      ++serial;
      // In-store codes: prefix 20 is GS1's "restricted circulation" range for shop use.
      char first_twelve[16];
      std::snprintf(first_twelve, sizeof first_twelve, "2026%08d", serial % 100000000);
      store::ProductRecord product;
      product.sku = "YZ-" + std::to_string(1000 + serial);
      product.barcode =
          std::string(first_twelve) + std::to_string(domain::ean13_check_digit(first_twelve));
      product.name = demo.name;
      product.name_en = demo.name_en;
      product.description = demo.description;
      product.origin = demo.origin;
      product.village_id = village_ids.at(demo.village_code);
      product.category_id = category_ids.at(demo.category_code);
      product.unit = *domain::parse_unit(demo.unit);
      product.price = demo.price;
      if (demo.shelf_life_days > 0) product.shelf_life_days = demo.shelf_life_days;
      product.featured = demo.featured;
      if (product.unit == domain::Unit::gram) product.plu = plu++;
      product.low_stock = product.unit == domain::Unit::gram ? 2000 : 8;
      product_ids.push_back(store::insert_product(unit, product));
    }
    // Gift boxes (礼盒) of several villages: no stock of their own, sold from their components'.
    std::map<std::string, std::int64_t> ids_by_name;
    for (std::size_t i = 0; i < demo_products().size(); ++i)
      ids_by_name[demo_products()[i].name] = product_ids[i];
    for (const auto& box : demo_bundles()) {
      store::ProductRecord product;
      product.sku = box.sku;
      product.kind = domain::ProductKind::bundle;
      product.name = box.name;
      product.name_en = box.name_en;
      product.description = box.description;
      product.origin = "新店村青年团队把各村好物组合包装 / packed by Xindian's young team";
      product.village_id = village_ids.at("xindian");
      product.category_id = category_ids.at("gift-boxes");
      product.unit = domain::Unit::piece;
      product.price = box.price;
      product.featured = true;
      std::vector<domain::BundleComponent> components;
      for (const auto& [name, quantity] : box.components)
        components.push_back({ids_by_name.at(name), quantity});
      store::replace_bundle_components(unit, store::insert_product(unit, product), components);
    }
    store::bump_catalog_version(unit);
  });
  receive_demo_stock(database, product_ids);
  const Actor actor{std::nullopt, "cli", "", "seed-demo"};
  accounts.add_user("admin", domain::Role::admin, std::nullopt, password, actor);
  accounts.add_user("cashier1", domain::Role::cashier, std::nullopt, password, actor);
  for (const auto& village : kVillages) {
    accounts.add_user(village.code, domain::Role::village, std::string(village.code), password,
                      actor);
  }
  report.seeded = true;
  return report;
}

}  // namespace yizhan::service
