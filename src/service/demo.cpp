// The demo station: Anhai's member villages and communities, and an account for each.
#include "yizhan/service/demo.hpp"

#include <cstdio>
#include <map>

#include "demo_products.hpp"
#include "yizhan/domain/catalog.hpp"
#include "yizhan/service/accounts.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/products.hpp"
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

  database.transact([](store::UnitOfWork& unit) {
    std::map<std::string, std::int64_t> village_ids;
    for (const auto& village : kVillages) {
      village_ids[village.code] = store::insert_village(
          unit, {0, village.code, village.name, village.story, village.commission_bps, true,
                 village.name_en, village.contact});
    }
    std::map<std::string, std::int64_t> category_ids;
    for (const auto& category : store::list_categories(unit)) {
      category_ids[category.code] = category.id;
    }
    int serial = 0;
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
      store::insert_product(unit, product);
    }
    store::bump_catalog_version(unit);
  });
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
