// The village portal's figures: access first (a village reads only itself), then one read
// transaction, so that a summary's figures and balance are of the same moment.
#include "yizhan/service/village_reports.hpp"

#include <algorithm>
#include <map>

#include "yizhan/domain/error.hpp"
#include "yizhan/domain/stock.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/journal.hpp"
#include "yizhan/store/village_reports.hpp"
#include "yizhan/store/villages.hpp"

namespace yizhan::service {
namespace {

using domain::Error;
using domain::ErrorCode;
using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

/// 403 unless the caller may read the village; then 404 unless it exists.
store::VillageRecord readable_village(store::UnitOfWork& unit, const domain::Principal& caller,
                                      std::int64_t village_id) {
  if (!domain::may_read_village(caller, village_id))
    throw Error(ErrorCode::forbidden,
                "只能查看本村的数据 / this village's data belongs to that village");
  auto village = store::find_village(unit, village_id);
  if (!village) throw Error(ErrorCode::not_found, "没有这个村 / no such village");
  return *village;
}

void check_access(const domain::Principal& caller, std::int64_t village_id) {
  if (!domain::may_read_village(caller, village_id))
    throw Error(ErrorCode::forbidden,
                "只能查看本村的数据 / this village's data belongs to that village");
}

year_month_day date_field(const std::optional<std::string>& text, const char* field,
                          year_month_day fallback) {
  if (!text || text->empty()) return fallback;
  const auto day = domain::parse_iso_date(*text);
  if (!day)
    throw Error::invalid_field(field, std::string(field) + " 须为日期 YYYY-MM-DD / " + field +
                                          " must be a date YYYY-MM-DD");
  return *day;
}

/// Sums the rows of [from, to] into totals (and, per row, `each`).
template <class Each>
domain::RevenueTotals sum_rows(const std::vector<store::RevenueRow>& rows,
                               const std::vector<store::SalesCountRow>& counts,
                               const std::string& from, const std::string& to, Each&& each) {
  domain::RevenueTotals totals;
  for (const auto& row : rows) {
    if (row.day < from || row.day > to) continue;
    totals.add(row.lines);
    each(row);
  }
  for (const auto& count : counts)
    if (count.day >= from && count.day <= to) totals.add_sales(count.channel, count.count);
  return totals;
}

domain::Fen payable_balance(store::UnitOfWork& unit, std::int64_t village_id) {
  // The payable is a liability: its credits (negative postings) are what the station owes.
  return domain::Fen(
      -store::account_balance(unit, "village_payable:" + std::to_string(village_id)));
}

}  // namespace

VillageReportService::VillageReportService(store::Database& database,
                                           VillageReportSettings settings)
    : database_(database), settings_(std::move(settings)) {}

year_month_day VillageReportService::today() const {
  const auto now = settings_.clock ? settings_.clock() : std::chrono::system_clock::now();
  return domain::business_day(now, settings_.zone);
}

VillageSummary VillageReportService::summary(const domain::Principal& caller,
                                             std::int64_t village_id) {
  check_access(caller, village_id);
  const auto day = today();
  const year_month_day first{day.year(), day.month(), std::chrono::day{1}};
  VillageSummary summary;
  summary.village_id = village_id;
  summary.today = domain::format_iso_date(day);
  summary.month_from = domain::format_iso_date(first);
  database_.transact([&](store::UnitOfWork& unit) {
    const auto village = readable_village(unit, caller, village_id);
    summary.village_name = village.name;
    summary.village_name_en = village.name_en;
    const auto rows = store::village_revenue(unit, village_id, summary.month_from, summary.today);
    const auto counts =
        store::village_sales_counts(unit, village_id, summary.month_from, summary.today);
    const auto ignore = [](const store::RevenueRow&) {};
    summary.month_totals = sum_rows(rows, counts, summary.month_from, summary.today, ignore);
    summary.today_totals = sum_rows(rows, counts, summary.today, summary.today, ignore);
    summary.balance = payable_balance(unit, village_id);
  });
  return summary;
}

RevenueReport VillageReportService::revenue(const domain::Principal& caller,
                                            std::int64_t village_id, const RevenueQuery& query) {
  check_access(caller, village_id);
  const auto day = today();
  const auto to = date_field(query.to, "to", day);
  const auto from =
      date_field(query.from, "from", year_month_day{to.year(), to.month(), std::chrono::day{1}});
  if (sys_days(from) > sys_days(to))
    throw Error::invalid_field("from", "from 不能晚于 to / from must not be after to");
  if (sys_days(to) - sys_days(from) >= days(kMaxDays))
    throw Error::invalid_field("to", "查询期间最长366天 / the period is at most 366 days");
  const auto group = query.group.value_or("day");
  if (group != "day" && group != "product")
    throw Error::invalid_field("group", "group 须为 day 或 product / group is day or product");

  RevenueReport report;
  report.village_id = village_id;
  report.from = domain::format_iso_date(from);
  report.to = domain::format_iso_date(to);
  report.group = group;
  database_.transact([&](store::UnitOfWork& unit) {
    readable_village(unit, caller, village_id);
    const auto rows = store::village_revenue(unit, village_id, report.from, report.to);
    const auto counts = store::village_sales_counts(unit, village_id, report.from, report.to);
    if (group == "day") {
      std::map<std::string, RevenueItem> by_day;
      for (auto d = sys_days(from); d <= sys_days(to); d += days(1)) {
        const auto text = domain::format_iso_date(year_month_day{d});
        by_day[text].day = text;
      }
      report.totals =
          sum_rows(rows, counts, report.from, report.to,
                   [&](const store::RevenueRow& row) { by_day[row.day].figures.add(row.lines); });
      for (const auto& count : counts)
        by_day[count.day].figures.sales += count.count;
      for (auto& [text, item] : by_day)
        report.items.push_back(std::move(item));
      return;
    }
    std::map<std::int64_t, RevenueItem> by_product;
    report.totals =
        sum_rows(rows, counts, report.from, report.to, [&](const store::RevenueRow& row) {
          auto& item = by_product[row.product_id];
          item.product_id = row.product_id;
          item.unit = row.lines.unit;
          item.figures.add(row.lines);
        });
    for (const auto& product : store::village_products(unit, village_id)) {
      const auto found = by_product.find(product.id);
      if (found == by_product.end()) continue;
      found->second.name = product.name;
      found->second.name_en = product.name_en;
    }
    for (auto& [id, item] : by_product)
      report.items.push_back(std::move(item));
    // Best sellers first; the id breaks ties so the order is stable.
    std::stable_sort(report.items.begin(), report.items.end(),
                     [](const RevenueItem& a, const RevenueItem& b) {
                       return a.figures.gross > b.figures.gross;
                     });
  });
  return report;
}

domain::Fen VillageReportService::balance(const domain::Principal& caller,
                                          std::int64_t village_id) {
  check_access(caller, village_id);
  return database_.transact([&](store::UnitOfWork& unit) {
    readable_village(unit, caller, village_id);
    return payable_balance(unit, village_id);
  });
}

VillageStock VillageReportService::stock(const domain::Principal& caller, std::int64_t village_id,
                                         std::optional<std::int64_t> expiring_days) {
  check_access(caller, village_id);
  const auto within = expiring_days.value_or(30);
  if (within < 0 || within > 365)
    throw Error::invalid_field("expiring_days",
                               "expiring_days 须为 0 到 365 / expiring_days is 0 to 365");
  const auto day = today();
  VillageStock stock;
  stock.village_id = village_id;
  stock.today = domain::format_iso_date(day);
  stock.expiring_days = within;
  const auto until = domain::format_iso_date(year_month_day{sys_days(day) + days(within)});
  database_.transact([&](store::UnitOfWork& unit) {
    readable_village(unit, caller, village_id);
    std::map<std::int64_t, const store::VillageProductRow*> products;
    const auto rows = store::village_products(unit, village_id);
    for (const auto& p : rows) {
      products[p.id] = &p;
      if (!p.active && p.on_hand <= 0) continue;
      VillageStockItem item;
      item.product_id = p.id;
      item.name = p.name;
      item.name_en = p.name_en;
      item.unit = p.unit;
      item.on_hand = p.on_hand;
      item.reserved = p.reserved;
      item.available = domain::available(p.on_hand, p.reserved);
      item.low_stock = p.low_stock;
      // The same rule as the stock pages: at or below the threshold.
      item.low = p.low_stock && item.available <= *p.low_stock;
      item.next_expiry = p.next_expiry;
      stock.items.push_back(std::move(item));
    }
    for (const auto& lot : store::village_lots_expiring(unit, village_id, until)) {
      ExpiringLot out;
      out.lot_id = lot.lot_id;
      out.product_id = lot.product_id;
      if (const auto found = products.find(lot.product_id); found != products.end()) {
        out.product_name = found->second->name;
        out.product_name_en = found->second->name_en;
        out.unit = found->second->unit;
      }
      out.lot = lot.lot;
      out.expires_on = lot.expires_on;
      out.remaining = lot.remaining;
      if (const auto expires = domain::parse_iso_date(lot.expires_on))
        out.days_left = (sys_days(*expires) - sys_days(day)).count();
      stock.expiring.push_back(std::move(out));
    }
  });
  return stock;
}

}  // namespace yizhan::service
