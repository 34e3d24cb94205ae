// The manager's reports: the period and grouping checked first (422 before any work), then one
// read transaction whose rows are named, grouped and sorted here.
#include "yizhan/service/reports.hpp"

#include <algorithm>
#include <map>

#include "yizhan/domain/error.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/reports.hpp"

namespace yizhan::service {
namespace {

using domain::Error;
using domain::SalesGroup;
using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;

/// Adds one group row (sales or refunds of one channel) to figures.
void add_row(domain::RevenueTotals& figures, std::int64_t& refunds,
             const store::SalesGroupRow& row) {
  figures.add(
      {row.channel, row.refund, domain::Unit::piece, row.gross, row.fee, row.share, row.pieces});
  figures.add({row.channel, row.refund, domain::Unit::gram, domain::Fen(0), domain::Fen(0),
               domain::Fen(0), row.grams});
  if (row.refund)
    refunds += row.count;
  else
    figures.add_sales(row.channel, row.count);
}

std::optional<std::int64_t> id_of(const std::string& key) {
  try {
    return std::stoll(key);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// Every day (or month) of the period, in order, so that a chart has no gaps.
std::vector<std::string> calendar(const domain::ReportPeriod& period, bool months) {
  std::vector<std::string> keys;
  for (auto d = sys_days(period.from); d <= sys_days(period.to); d += days(1)) {
    auto text = domain::format_iso_date(year_month_day{d});
    if (months) text.resize(7);
    if (keys.empty() || keys.back() != text) keys.push_back(std::move(text));
  }
  return keys;
}

/// The period's closed days (before today: read from their sums, sql/016) and its open part
/// (today, read live), either possibly empty.
struct SplitPeriod {
  std::vector<std::string> closed_days;
  std::optional<std::pair<std::string, std::string>> open;
};

SplitPeriod split(const domain::ReportPeriod& period, year_month_day today) {
  SplitPeriod out;
  for (auto d = sys_days(period.from); d <= sys_days(period.to); d += days(1)) {
    if (d >= sys_days(today)) {
      out.open = {domain::format_iso_date(year_month_day{d}), domain::format_iso_date(period.to)};
      break;
    }
    out.closed_days.push_back(domain::format_iso_date(year_month_day{d}));
  }
  return out;
}

/// The sales rows of a period: closed days from their sums, the rest live.
std::vector<store::SalesGroupRow> period_rows(store::UnitOfWork& unit, SalesGroup group,
                                              const SplitPeriod& parts) {
  std::vector<store::SalesGroupRow> rows;
  if (!parts.closed_days.empty()) {
    store::refresh_report_days(unit, parts.closed_days);
    rows = store::summed_sales_by_group(unit, group, parts.closed_days.front(),
                                        parts.closed_days.back());
  }
  if (parts.open) {
    auto live = store::sales_by_group(unit, group, parts.open->first, parts.open->second);
    rows.insert(rows.end(), live.begin(), live.end());
  }
  return rows;
}

std::vector<store::MethodRow> period_methods(store::UnitOfWork& unit, const SplitPeriod& parts) {
  std::vector<store::MethodRow> rows;
  if (!parts.closed_days.empty())
    rows = store::summed_sales_by_method(unit, parts.closed_days.front(), parts.closed_days.back());
  if (parts.open) {
    auto live = store::sales_by_method(unit, parts.open->first, parts.open->second);
    rows.insert(rows.end(), live.begin(), live.end());
  }
  return rows;
}

bool sold_more(const SalesItem& a, const SalesItem& b) {
  return a.figures.all.gross > b.figures.all.gross;
}

}  // namespace

ReportService::ReportService(store::Database& database, ReportSettings settings)
    : database_(database), settings_(std::move(settings)) {}

year_month_day ReportService::today() const {
  const auto now = settings_.clock ? settings_.clock() : std::chrono::system_clock::now();
  return domain::business_day(now, settings_.zone);
}

SalesReport ReportService::grouped(const ReportQuery& query, SalesGroup fallback,
                                   bool allow_method) {
  const auto period = domain::report_period(query.from, query.to, today(), kDefaultDays);
  auto group = fallback;
  if (query.group && !query.group->empty()) {
    const auto parsed = domain::parse_sales_group(*query.group);
    if (!parsed || (!allow_method && *parsed == SalesGroup::method))
      throw Error::invalid_field(
          "group", allow_method ? "group 须为 day、month、village、product、category、channel 或 "
                                  "method / group is day, month, village, product, category, "
                                  "channel or method"
                                : "group 须为 day、month、village、product、category 或 channel / "
                                  "group is day, month, village, product, category or channel");
    group = *parsed;
  }
  SalesReport report;
  report.from = domain::format_iso_date(period.from);
  report.to = domain::format_iso_date(period.to);
  report.group = group;
  database_.transact([&](store::UnitOfWork& unit) {
    std::map<std::string, SalesItem> items;
    auto item = [&](const std::string& key) -> SalesItem& {
      auto& found = items[key];
      found.key = key;
      return found;
    };
    if (group == SalesGroup::day || group == SalesGroup::month) {
      for (const auto& key : calendar(period, group == SalesGroup::month))
        item(key);
    } else if (group == SalesGroup::channel) {
      item("counter");
      item("online");
    }
    const bool by_method = group == SalesGroup::method;
    const auto parts = split(period, today());
    const auto rows = period_rows(unit, by_method ? SalesGroup::channel : group, parts);
    // Totals from each part's total row: a sale spans several villages, products or
    // categories, so the groups' counts do not add up to the sales.
    for (const auto& row : rows)
      if (row.total) add_row(report.totals, report.refunds, row);
    if (by_method) {
      for (const auto& row : period_methods(unit, parts)) {
        auto& target = item(row.method);
        target.figures.add({row.channel, row.refund, domain::Unit::piece, row.amount,
                            domain::Fen(0), domain::Fen(0), 0});
        if (row.refund)
          target.refunds += row.count;
        else
          target.figures.add_sales(row.channel, row.count);
      }
    } else {
      for (const auto& row : rows) {
        if (row.total) continue;
        const auto key =
            group == SalesGroup::channel ? std::string(domain::to_string(row.channel)) : row.key;
        auto& target = item(key);
        add_row(target.figures, target.refunds, row);
      }
    }
    if (group == SalesGroup::village) {
      for (const auto& village : store::report_villages(unit)) {
        auto& target = item(std::to_string(village.id));
        target.id = village.id;
        target.code = village.code;
        target.name = village.name;
        target.name_en = village.name_en;
      }
    } else if (group == SalesGroup::category) {
      for (const auto& category : store::report_categories(unit)) {
        auto& target = item(std::to_string(category.id));
        target.id = category.id;
        target.code = category.code;
        target.name = category.name;
        target.name_en = category.name_en;
      }
    } else if (group == SalesGroup::product) {
      for (const auto& product : store::report_products(unit)) {
        const auto found = items.find(std::to_string(product.id));
        if (found == items.end()) continue;
        auto& target = found->second;
        target.id = product.id;
        target.code = product.sku;
        target.name = product.name;
        target.name_en = product.name_en;
        target.village_id = product.village_id;
        target.unit = product.unit;
      }
    }
    for (auto& [key, value] : items) {
      if (!value.id && (group == SalesGroup::village || group == SalesGroup::product ||
                        group == SalesGroup::category))
        value.id = id_of(key);
      report.items.push_back(std::move(value));
    }
  });
  if (group == SalesGroup::village || group == SalesGroup::category) {
    std::stable_sort(report.items.begin(), report.items.end(),
                     [](const SalesItem& a, const SalesItem& b) { return a.id < b.id; });
  } else if (group == SalesGroup::product || group == SalesGroup::method) {
    // Best sellers first; ties keep the key's order, so the order is stable.
    std::stable_sort(report.items.begin(), report.items.end(), sold_more);
  }
  return report;
}

SalesReport ReportService::sales(const ReportQuery& query) {
  return grouped(query, SalesGroup::day, true);
}

SalesReport ReportService::commission(const ReportQuery& query) {
  return grouped(query, SalesGroup::village, false);
}

SalesReport ReportService::top_sellers(const ReportQuery& query) {
  const auto limit = domain::bounded_parameter(query.limit, "limit", 1, 100, 10);
  if (query.group && !query.group->empty() && *query.group != "product")
    throw Error::invalid_field("group", "top-sellers 只按商品 / top sellers are by product");
  auto product_query = query;
  product_query.group = "product";
  auto report = grouped(product_query, SalesGroup::product, false);
  std::erase_if(report.items,
                [](const SalesItem& item) { return item.figures.all.gross <= domain::Fen(0); });
  if (report.items.size() > static_cast<std::size_t>(limit)) report.items.resize(limit);
  return report;
}

StockValueReport ReportService::stock_value() {
  StockValueReport report;
  report.business_day = domain::format_iso_date(today());
  database_.transact([&](store::UnitOfWork& unit) {
    std::map<std::int64_t, StockValueItem> items;
    for (const auto& village : store::report_villages(unit)) {
      auto& item = items[village.id];
      item.village_id = village.id;
      item.code = village.code;
      item.name = village.name;
      item.name_en = village.name_en;
    }
    for (const auto& product : store::report_products(unit)) {
      if (product.on_hand <= 0) continue;
      auto& item = items[product.village_id];
      item.village_id = product.village_id;
      ++item.products;
      const bool weighed = product.unit == domain::Unit::gram;
      (weighed ? item.grams : item.pieces) += product.on_hand;
      (weighed ? item.reserved_grams : item.reserved_pieces) += product.reserved;
      const auto value = domain::stock_value(product.unit, product.price, product.on_hand);
      item.value += value;
      report.value += value;
      (weighed ? report.grams : report.pieces) += product.on_hand;
    }
    for (auto& [id, item] : items)
      report.items.push_back(std::move(item));
  });
  return report;
}

SlowMoversReport ReportService::slow_movers(const ReportQuery& query) {
  const auto period = domain::report_period(query.from, query.to, today(), kDefaultDays);
  const auto limit = domain::bounded_parameter(query.limit, "limit", 1, 500, 20);
  SlowMoversReport report;
  report.from = domain::format_iso_date(period.from);
  report.to = domain::format_iso_date(period.to);
  report.days = period.days();
  database_.transact([&](store::UnitOfWork& unit) {
    std::map<std::int64_t, std::int64_t> sold;
    for (const auto& row : period_rows(unit, SalesGroup::product, split(period, today()))) {
      if (row.total) continue;
      const auto id = id_of(row.key).value_or(0);
      const auto quantity = row.pieces + row.grams;  // a product has one unit
      sold[id] += row.refund ? -quantity : quantity;
    }
    std::map<std::int64_t, std::string> villages;
    for (const auto& village : store::report_villages(unit))
      villages[village.id] = village.name;
    for (const auto& product : store::report_products(unit)) {
      if (product.on_hand <= 0) continue;
      SlowMover item;
      item.product_id = product.id;
      item.sku = product.sku;
      item.name = product.name;
      item.name_en = product.name_en;
      item.village_id = product.village_id;
      item.village_name = villages[product.village_id];
      item.unit = product.unit;
      item.on_hand = product.on_hand;
      item.sold = sold[product.id];
      item.days_of_cover = domain::days_of_cover(item.on_hand, item.sold, report.days);
      item.value = domain::stock_value(product.unit, product.price, product.on_hand);
      report.items.push_back(std::move(item));
    }
  });
  // Nothing sold first (most money tied up first), then the longest cover.
  std::stable_sort(report.items.begin(), report.items.end(),
                   [](const SlowMover& a, const SlowMover& b) {
                     const auto cover_a = a.days_of_cover.value_or(INT64_MAX);
                     const auto cover_b = b.days_of_cover.value_or(INT64_MAX);
                     if (cover_a != cover_b) return cover_a > cover_b;
                     return a.value > b.value;
                   });
  if (report.items.size() > static_cast<std::size_t>(limit)) report.items.resize(limit);
  return report;
}

ExpiringReport ReportService::expiring(const ReportQuery& query) {
  const auto within = domain::bounded_parameter(query.days, "days", 0, 365, 30);
  const auto day = today();
  ExpiringReport report;
  report.business_day = domain::format_iso_date(day);
  report.within_days = within;
  const auto until = domain::format_iso_date(year_month_day{sys_days(day) + days(within)});
  database_.transact([&](store::UnitOfWork& unit) {
    std::map<std::int64_t, store::ReportProductRow> products;
    for (auto& product : store::report_products(unit))
      products.emplace(product.id, std::move(product));
    std::map<std::int64_t, std::string> villages;
    for (const auto& village : store::report_villages(unit))
      villages[village.id] = village.name;
    for (const auto& lot : store::lots_expiring(unit, until)) {
      ExpiringItem item;
      item.lot_id = lot.lot_id;
      item.lot = lot.lot;
      item.product_id = lot.product_id;
      item.expires_on = lot.expires_on;
      item.remaining = lot.remaining;
      if (const auto expires = domain::parse_iso_date(lot.expires_on))
        item.days_left = (sys_days(*expires) - sys_days(day)).count();
      if (const auto found = products.find(lot.product_id); found != products.end()) {
        const auto& p = found->second;
        item.sku = p.sku;
        item.name = p.name;
        item.name_en = p.name_en;
        item.village_id = p.village_id;
        item.village_name = villages[p.village_id];
        item.unit = p.unit;
        item.value = domain::stock_value(p.unit, p.price, lot.remaining);
      }
      report.value += item.value;
      report.items.push_back(std::move(item));
    }
  });
  return report;
}

PaymentsReport ReportService::payments(const ReportQuery& query) {
  const auto period = domain::report_period(query.from, query.to, today(), kDefaultDays);
  // A statement is checked a day or a month at a time; a year of movements (~90 000 rows at a
  // busy station) would take ~150 MB to answer.
  if (period.days() > kMaxPaymentDays)
    throw Error::invalid_field("from", "对账期间最长 " + std::to_string(kMaxPaymentDays) +
                                           " 天 / the reconciliation covers at most " +
                                           std::to_string(kMaxPaymentDays) + " days");
  PaymentsReport report;
  if (query.provider && !query.provider->empty()) {
    if (!domain::is_payment_provider(*query.provider))
      throw Error::invalid_field("provider",
                                 "provider 应为 wechat、alipay、card 或 other / provider must be "
                                 "wechat, alipay, card or other");
    report.provider = *query.provider;
  }
  report.from = domain::format_iso_date(period.from);
  report.to = domain::format_iso_date(period.to);
  std::vector<store::ClearingPostingRow> rows;
  database_.transact([&](store::UnitOfWork& unit) {
    rows = store::clearing_postings(unit, report.from, report.to);
  });
  std::map<std::string, domain::PaymentTotals> providers;
  std::map<std::pair<std::string, std::string>, domain::PaymentTotals> days;
  for (auto& row : rows) {
    const auto provider = domain::payment_provider(row.method);
    if (!provider || (report.provider && *report.provider != *provider)) continue;
    report.totals.add(row.amount);
    providers[std::string(*provider)].add(row.amount);
    days[{row.business_day, std::string(*provider)}].add(row.amount);
    report.items.push_back({std::move(row.business_day), row.at_us, std::string(*provider),
                            std::move(row.method), std::move(row.kind), row.amount,
                            std::move(row.document), std::move(row.trade_no),
                            std::move(row.transaction_id)});
  }
  for (auto& [name, totals] : providers)
    report.providers.emplace_back(name, totals);
  for (auto& [key, totals] : days)
    report.days.push_back({key.first, key.second, totals});
  return report;
}

}  // namespace yizhan::service
