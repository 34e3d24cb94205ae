// seed-history: the day's business is generated in memory first (a seeded RNG, so the same seed
// gives the same history), its goods received where the shelf would run short, then written in
// one transaction through store/history's bulk inserts. The amounts come from the same domain
// rules the counter and the orders use: commission(), weighed_line_total(), sale_postings(),
// refund_postings(), order_payment_postings() and shift_close_postings().
#include "yizhan/service/history.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "yizhan/domain/commission.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/journal.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/order.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/history.hpp"
#include "yizhan/store/reports.hpp"

namespace yizhan::service {
namespace {

using domain::Error;
using domain::ErrorCode;
using domain::Fen;
using domain::TenderMethod;
using std::chrono::days;
using std::chrono::sys_days;
using std::chrono::year_month_day;
using store::BulkInsert;
using store::HistoryTable;
using store::SqlValue;

// Spring Festival (春节) and Mid-Autumn (中秋) dates, Gregorian.
constexpr std::array<const char*, 7> kSpringFestivals{"2024-02-10", "2025-01-29", "2026-02-17",
                                                      "2027-02-06", "2028-01-26", "2029-02-13",
                                                      "2030-02-03"};
constexpr std::array<const char*, 7> kMidAutumns{"2024-09-17", "2025-10-06", "2026-09-25",
                                                 "2027-09-15", "2028-10-03", "2029-09-22",
                                                 "2030-09-12"};

// A busy ordinary weekday: counter sales and paid online orders.
constexpr double kCounterSalesPerDay = 120;
constexpr double kOrdersPerDay = 35;
constexpr double kCounterRefundRate = 0.012;
constexpr double kOrderRefundRate = 0.015;

/// Portable randomness: only mt19937_64's raw output (fixed by the standard), never the
/// library's distributions (whose results differ between standard libraries).
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  std::uint64_t next() { return engine_(); }
  /// [0, n)
  std::int64_t below(std::int64_t n) { return static_cast<std::int64_t>(next() % n); }
  /// [0, 1)
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return unit() < p; }
  /// A whole number whose expectation is `x` (x ≥ 0).
  std::int64_t round(double x) {
    const auto whole = std::floor(x);
    return static_cast<std::int64_t>(whole) + (chance(x - whole) ? 1 : 0);
  }
  std::string hex(int bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    for (int i = 0; i < bytes; ++i) {
      const auto b = next() & 0xff;
      out += kDigits[b >> 4];
      out += kDigits[b & 15];
    }
    return out;
  }
  std::string digits(int count) {
    std::string out;
    for (int i = 0; i < count; ++i)
      out += static_cast<char>('0' + below(10));
    return out;
  }

 private:
  std::mt19937_64 engine_;
};

std::string iso(sys_days day) {
  return domain::format_iso_date(year_month_day{day});
}

std::string compact(sys_days day) {
  auto text = iso(day);
  std::erase(text, '-');
  return text;
}

/// UTC "YYYY-MM-DD HH:MM:SS" of `seconds` after local midnight of `day` in `zone`.
std::string utc_time(sys_days day, std::int64_t seconds, const domain::TimeZone& zone) {
  const auto at = std::chrono::sys_seconds(day) + std::chrono::seconds(seconds) - zone.offset();
  const auto date = std::chrono::floor<days>(at);
  const std::chrono::hh_mm_ss clock(at - date);
  char text[32];
  std::snprintf(text, sizeof text, "%s %02d:%02d:%02d", iso(date).c_str(),
                static_cast<int>(clock.hours().count()), static_cast<int>(clock.minutes().count()),
                static_cast<int>(clock.seconds().count()));
  return text;
}

std::vector<sys_days> dates(const auto& texts) {
  std::vector<sys_days> out;
  for (const auto* text : texts)
    out.push_back(sys_days(*domain::parse_iso_date(text)));
  return out;
}

/// How busy a day is against an ordinary weekday, and whether it is a festival rush.
struct DayMood {
  double factor = 1;
  bool festival = false;
};

DayMood mood_of(sys_days day) {
  static const auto spring = dates(kSpringFestivals);
  static const auto autumn = dates(kMidAutumns);
  DayMood mood;
  const auto weekday = std::chrono::weekday(day).c_encoding();  // 0 = Sunday
  mood.factor = (weekday == 0 || weekday == 6) ? 1.4 : 1.0;
  // A gentle year: quieter in high summer, busier towards the year's end.
  const auto month = static_cast<unsigned>(year_month_day(day).month());
  mood.factor *= 1.0 + 0.15 * std::cos((static_cast<double>(month) - 12.0) / 12.0 * 2 * M_PI);
  for (const auto festival : spring) {
    const auto before = (festival - day).count();
    if (before >= 1 && before <= 15) {
      // 年货: the two weeks before the New Year, peaking five days before (~22×).
      mood.factor = 6 + 16 * std::max(0.0, 1 - std::abs(static_cast<double>(before) - 5) / 10);
      mood.festival = true;
    } else if (before <= 0 && before > -7) {
      mood.factor *= 0.5;  // the holiday itself: the town is at home
    }
  }
  for (const auto festival : autumn) {
    const auto before = (festival - day).count();
    if (before >= 1 && before <= 8) {
      // 中秋 gifts: the week before, peaking three days before (~17×).
      mood.factor = 5 + 12 * std::max(0.0, 1 - std::abs(static_cast<double>(before) - 3) / 5);
      mood.festival = true;
    }
  }
  const auto date = year_month_day(day);
  if (!mood.festival && static_cast<unsigned>(date.month()) == 10 &&
      static_cast<unsigned>(date.day()) <= 7)
    mood.factor *= 2;  // National Day golden week
  return mood;
}

/// Picks an index by weight.
class Picker {
 public:
  explicit Picker(const std::vector<double>& weights) {
    double sum = 0;
    for (const auto w : weights)
      cumulative_.push_back(sum += w);
  }
  [[nodiscard]] bool empty() const { return cumulative_.empty() || cumulative_.back() <= 0; }
  std::size_t pick(Random& random) const {
    const auto x = random.unit() * cumulative_.back();
    return static_cast<std::size_t>(std::upper_bound(cumulative_.begin(), cumulative_.end(), x) -
                                    cumulative_.begin());
  }

 private:
  std::vector<double> cumulative_;
};

struct Lot {
  std::int64_t id = 0;
  std::int64_t product_id = 0;
  std::int64_t receipt_id = 0;
  std::string name;
  std::string produced_on;
  std::optional<sys_days> expires;
  std::int64_t received = 0;
  std::int64_t remaining = 0;
  std::string created_at;
};

/// One take of goods from a lot.
struct Take {
  std::size_t lot = 0;  ///< index into the lots
  std::int64_t quantity = 0;
};

/// A sale line as sold, remembered for a refund on a later day.
struct SoldLine {
  std::int64_t id = 0;
  std::int64_t sale_id = 0;
  std::int64_t register_id = 0;
  TenderMethod method = TenderMethod::cash;
  std::int64_t product_id = 0;
  std::int64_t village_id = 0;
  bool weighed = false;
  std::int64_t quantity = 0;
  Fen gross;
  Fen fee;
  Fen share;
  std::size_t first_lot = 0;
};

/// Everything one business day writes, in foreign-key order.
struct DayRows {
  BulkInsert documents{HistoryTable::stock_documents};
  BulkInsert lots{HistoryTable::stock_lots};
  BulkInsert shifts{HistoryTable::shifts};
  BulkInsert sales{HistoryTable::sales};
  BulkInsert sale_lines{HistoryTable::sale_lines};
  BulkInsert sale_line_lots{HistoryTable::sale_line_lots};
  BulkInsert tenders{HistoryTable::sale_tenders};
  BulkInsert refunds{HistoryTable::refunds};
  BulkInsert refund_lines{HistoryTable::refund_lines};
  BulkInsert refunded{HistoryTable::refunded_quantities};
  BulkInsert orders{HistoryTable::orders};
  BulkInsert order_lines{HistoryTable::order_lines};
  BulkInsert order_line_lots{HistoryTable::order_line_lots};
  BulkInsert events{HistoryTable::order_events};
  BulkInsert payments{HistoryTable::order_payments};
  BulkInsert order_refunds{HistoryTable::order_refunds};
  BulkInsert order_refund_lines{HistoryTable::order_refund_lines};
  BulkInsert moves{HistoryTable::stock_moves};
  BulkInsert entries{HistoryTable::journal_entries};
  BulkInsert postings{HistoryTable::postings};
  BulkInsert levels{HistoryTable::stock_levels};

  void write(store::UnitOfWork& unit) const {
    for (const auto* rows : {&documents,
                             &lots,
                             &shifts,
                             &sales,
                             &sale_lines,
                             &sale_line_lots,
                             &tenders,
                             &refunds,
                             &refund_lines,
                             &refunded,
                             &orders,
                             &order_lines,
                             &order_line_lots,
                             &events,
                             &payments,
                             &order_refunds,
                             &order_refund_lines,
                             &moves,
                             &entries,
                             &postings,
                             &levels})
      rows->flush(unit);
  }
};

const std::array<const char*, 12> kSurnames{"陈", "林", "黄", "张", "李", "王",
                                            "吴", "刘", "蔡", "杨", "许", "郑"};
const std::array<const char*, 6> kStreets{"安平路", "中山路", "西安路", "新街", "镇前路", "海滨路"};

class Generator {
 public:
  Generator(store::Database& database, const HistoryOptions& options)
      : database_(database), options_(options), random_(options.seed) {}

  HistoryReport run();

 private:
  struct PlannedLine {
    std::size_t product = 0;
    std::int64_t quantity = 0;
  };
  struct PlannedSale {
    std::int64_t register_id = 0;
    std::int64_t seconds = 0;
    std::vector<PlannedLine> lines;
  };
  struct PlannedOrder {
    std::int64_t seconds = 0;
    std::vector<PlannedLine> lines;
  };

  void load();
  std::vector<PlannedLine> plan_lines(bool festival, bool online);
  void stock_up(sys_days day, const std::map<std::size_t, std::int64_t>& need, DayRows& rows);
  std::vector<Take> take(std::size_t product, std::int64_t quantity, sys_days day);
  void post(DayRows& rows, const char* kind, std::int64_t document, sys_days day,
            const std::string& memo, const std::string& at,
            const std::vector<domain::Posting>& postings);
  std::int64_t shift_of(std::int64_t register_id);
  void sell(sys_days day, const PlannedSale& planned, DayRows& rows);
  void refund(sys_days day, const SoldLine& line, DayRows& rows);
  void order(sys_days day, const PlannedOrder& planned, DayRows& rows);
  void close_shifts(sys_days day, DayRows& rows);
  Fen line_gross(const store::HistoryProduct& product, std::int64_t quantity) const;

  store::Database& database_;
  HistoryOptions options_;
  Random random_;
  HistoryReport report_;

  std::vector<store::HistoryProduct> products_;
  std::vector<std::vector<std::size_t>> product_lots_;  ///< per product, FEFO order
  std::vector<Lot> lots_;
  std::set<std::size_t> touched_lots_;
  std::map<std::int64_t, std::int64_t> on_hand_delta_;  ///< per product id, today
  Picker counter_normal_{{}}, counter_festival_{{}}, online_normal_{{}}, online_festival_{{}};
  std::vector<std::int64_t> registers_;
  std::int64_t cashier_ = 0;
  std::map<std::string, std::int64_t> accounts_;
  std::map<std::string, std::int64_t> ids_;
  std::map<std::int64_t, std::int64_t> shifts_today_;   ///< register → shift
  std::map<std::int64_t, Fen> cash_today_;              ///< register → net cash taken
  std::map<std::int64_t, std::int64_t> numbers_today_;  ///< register → today's last sale number
  std::map<std::int64_t, std::vector<SoldLine>> refunds_due_;  ///< day → lines to refund
};

void Generator::load() {
  database_.transact([&](store::UnitOfWork& unit) {
    products_ = store::history_products(unit);
    registers_ = store::active_registers(unit);
    const auto cashier = store::history_cashier(unit);
    cashier_ = cashier.value_or(0);
    accounts_ = store::account_ids(unit);
    ids_ = store::next_ids(unit);
  });
  if (products_.empty() || registers_.empty() || cashier_ == 0)
    throw Error(ErrorCode::conflict,
                "需要商品、收银台和收银员账号（先运行 seed-demo）/ products, a register and a "
                "cashier are needed (run seed-demo first)");
  product_lots_.assign(products_.size(), {});
  // Popularity: a seeded shuffle of the catalog, Zipf-like, with one product in eight hardly
  // selling (the slow movers); tea and gift boxes sell far more in the festival rush.
  std::vector<std::size_t> order(products_.size());
  for (std::size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  for (std::size_t i = order.size(); i > 1; --i)
    std::swap(order[i - 1],
              order[static_cast<std::size_t>(random_.below(static_cast<std::int64_t>(i)))]);
  std::vector<double> normal(products_.size()), festival(products_.size()),
      online(products_.size()), online_festival(products_.size());
  for (std::size_t rank = 0; rank < order.size(); ++rank) {
    const auto i = order[rank];
    double w = 1.0 / std::pow(static_cast<double>(rank) + 1, 0.8);
    if (rank % 8 == 7) w *= 0.03;
    const auto& category = products_[i].category_code;
    const double boost = category == "gift-boxes" ? 6 : category == "tea" ? 3 : 1;
    normal[i] = w;
    festival[i] = w * boost;
    online[i] = products_[i].online ? w : 0;
    online_festival[i] = products_[i].online ? w * boost : 0;
  }
  counter_normal_ = Picker(normal);
  counter_festival_ = Picker(festival);
  online_normal_ = Picker(online);
  online_festival_ = Picker(online_festival);
}

std::vector<Generator::PlannedLine> Generator::plan_lines(bool festival, bool online) {
  const auto& picker = online ? (festival ? online_festival_ : online_normal_)
                              : (festival ? counter_festival_ : counter_normal_);
  std::vector<PlannedLine> lines;
  const int count = 1 + (random_.chance(0.45) ? 1 : 0) + (random_.chance(0.25) ? 1 : 0) +
                    (random_.chance(0.1) ? 1 : 0);
  for (int n = 0; n < count; ++n) {
    const auto product = picker.pick(random_);
    if (std::any_of(lines.begin(), lines.end(),
                    [&](const PlannedLine& l) { return l.product == product; }))
      continue;
    const auto& p = products_[product];
    std::int64_t quantity = 0;
    if (p.unit == "g") {
      quantity = 50 * (2 + random_.below(p.category_code == "tea" ? 9 : 19));  // 100 g – 1 kg
    } else {
      const auto roll = random_.unit();
      quantity = roll < 0.7 ? 1 : roll < 0.9 ? 2 : 3 + random_.below(3);
      if (festival && p.category_code == "gift-boxes") quantity += random_.below(4);
    }
    lines.push_back({product, quantity});
  }
  return lines;
}

Fen Generator::line_gross(const store::HistoryProduct& product, std::int64_t quantity) const {
  const Fen price(product.price_fen);
  return product.unit == "g" ? domain::weighed_line_total(price, quantity) : price * quantity;
}

void Generator::stock_up(sys_days day, const std::map<std::size_t, std::int64_t>& need,
                         DayRows& rows) {
  std::map<std::int64_t, std::int64_t> receipts;  // village → document id
  for (const auto& [index, quantity] : need) {
    std::int64_t available = 0;
    for (const auto lot : product_lots_[index]) {
      if (lots_[lot].expires && *lots_[lot].expires <= day) continue;
      available += lots_[lot].remaining;
    }
    if (available >= quantity) continue;
    const auto& p = products_[index];
    // A delivery from the village: what the day lacks and about two weeks more.
    const std::int64_t minimum = p.unit == "g" ? 5000 : 20;
    auto received = quantity - available + std::max(quantity * 2, minimum);
    if (p.unit == "g") received = (received + 499) / 500 * 500;
    const auto created_at = utc_time(day, 8 * 3600 + random_.below(1800), options_.zone);
    auto [found, added] = receipts.try_emplace(p.village_id, 0);
    if (added) {
      found->second = ids_["stock_documents"]++;
      rows.documents.add({found->second, std::string("receipt"), p.village_id,
                          std::string("历史演示：村里送货 / history demo: village delivery"),
                          created_at});
      ++report_.receipts;
    }
    Lot lot;
    lot.id = ids_["stock_lots"]++;
    lot.product_id = p.id;
    lot.receipt_id = found->second;
    lot.name = std::string("H").append(compact(day)).append("-").append(std::to_string(p.id));
    lot.produced_on = iso(day - days(1));
    if (p.shelf_life_days && *p.shelf_life_days > 0)
      lot.expires = day - days(1) + days(*p.shelf_life_days);
    lot.received = received;
    lot.remaining = received;
    lot.created_at = created_at;
    lots_.push_back(lot);
    product_lots_[index].push_back(lots_.size() - 1);
    touched_lots_.insert(lots_.size() - 1);
    on_hand_delta_[p.id] += received;
    rows.moves.add({p.id, lot.id, std::string("receipt"), received, std::string("stock"),
                    found->second, SqlValue{}, created_at});
  }
}

std::vector<Take> Generator::take(std::size_t product, std::int64_t quantity, sys_days day) {
  std::vector<Take> taken;
  for (const auto lot : product_lots_[product]) {
    if (quantity == 0) break;
    auto& l = lots_[lot];
    if (l.remaining == 0 || (l.expires && *l.expires <= day)) continue;
    const auto part = std::min(quantity, l.remaining);
    l.remaining -= part;
    quantity -= part;
    touched_lots_.insert(lot);
    taken.push_back({lot, part});
  }
  if (quantity != 0)
    throw Error(ErrorCode::internal, "internal error", {}, "history ran out of stock");
  on_hand_delta_[products_[product].id] -= [&] {
    std::int64_t sum = 0;
    for (const auto& t : taken)
      sum += t.quantity;
    return sum;
  }();
  return taken;
}

void Generator::post(DayRows& rows, const char* kind, std::int64_t document, sys_days day,
                     const std::string& memo, const std::string& at,
                     const std::vector<domain::Posting>& postings) {
  if (postings.empty()) return;
  const auto entry = ids_["journal_entries"]++;
  rows.entries.add({entry, std::string(kind), document, iso(day), memo, at});
  for (const auto& posting : postings) {
    const auto account = accounts_.find(posting.account);
    if (account == accounts_.end())
      throw Error(ErrorCode::internal, "internal error", {},
                  "no ledger account " + posting.account);
    rows.postings.add({entry, account->second, posting.amount.value()});
  }
}

std::int64_t Generator::shift_of(std::int64_t register_id) {
  auto [found, added] = shifts_today_.try_emplace(register_id, 0);
  if (added) found->second = ids_["shifts"]++;
  return found->second;
}

void Generator::sell(sys_days day, const PlannedSale& planned, DayRows& rows) {
  const auto sale_id = ids_["sales"]++;
  const auto at = utc_time(day, planned.seconds, options_.zone);
  const auto number_seq = ++numbers_today_[planned.register_id];
  char number[48];
  std::snprintf(number, sizeof number, "%s-%lld-%04lld", compact(day).c_str(),
                static_cast<long long>(planned.register_id), static_cast<long long>(number_seq));
  const auto shift = shift_of(planned.register_id);
  // The method: mostly phones, some cash and cards.
  const auto roll = random_.unit();
  const auto method = roll < 0.42   ? TenderMethod::wechat
                      : roll < 0.66 ? TenderMethod::alipay
                      : roll < 0.88 ? TenderMethod::cash
                      : roll < 0.94 ? TenderMethod::card
                      : roll < 0.98 ? TenderMethod::wechat_code
                                    : TenderMethod::alipay_code;
  Fen total;
  std::vector<domain::VillageSplit> splits;
  std::vector<SoldLine> sold;
  int line_no = 0;
  for (const auto& line : planned.lines) {
    const auto& p = products_[line.product];
    const auto gross = line_gross(p, line.quantity);
    const auto split = domain::commission(gross, p.commission_bps);
    const auto line_id = ids_["sale_lines"]++;
    rows.sale_lines.add({line_id, sale_id, ++line_no, p.id, p.village_id, p.name, p.unit,
                         line.quantity, p.price_fen, gross.value(), std::int64_t{0},
                         std::int64_t{0}, gross.value(), std::int64_t{p.commission_bps},
                         split.fee.value(), split.share.value()});
    const auto taken = take(line.product, line.quantity, day);
    for (const auto& t : taken) {
      rows.sale_line_lots.add({line_id, lots_[t.lot].id, t.quantity});
      rows.moves.add({p.id, lots_[t.lot].id, std::string("sale"), -t.quantity, std::string("sale"),
                      sale_id, cashier_, at});
    }
    total += gross;
    splits.push_back({p.village_id, split.fee, split.share});
    sold.push_back({line_id, sale_id, planned.register_id, method, p.id, p.village_id,
                    p.unit == "g", line.quantity, gross, split.fee, split.share,
                    taken.front().lot});
  }
  std::optional<Fen> tendered;
  if (method == TenderMethod::cash) {
    // Customers hand over whole tens of yuan.
    tendered = Fen((total.value() + 999) / 1000 * 1000);
    cash_today_[planned.register_id] += total;
  }
  rows.sales.add({sale_id, std::string(number), shift, planned.register_id, cashier_, iso(day),
                  total.value(), std::int64_t{0}, std::int64_t{0}, total.value(),
                  tendered ? (*tendered - total).value() : 0, at});
  rows.tenders.add({sale_id, std::string(domain::to_string(method)), total.value(),
                    tendered ? SqlValue(tendered->value()) : SqlValue{}});
  const domain::Tender tender{method, total, tendered, {}};
  post(rows, "sale", sale_id, day, number, at,
       domain::sale_postings(planned.register_id, std::span(&tender, 1), splits));
  ++report_.sales;
  report_.sale_lines += static_cast<std::int64_t>(sold.size());
  if (random_.chance(kCounterRefundRate)) {
    // A customer comes back within three days with one line.
    const auto& line =
        sold[static_cast<std::size_t>(random_.below(static_cast<std::int64_t>(sold.size())))];
    refunds_due_[(day + days(random_.below(4))).time_since_epoch().count()].push_back(line);
  }
}

void Generator::refund(sys_days day, const SoldLine& line, DayRows& rows) {
  const auto refund_id = ids_["refunds"]++;
  const auto at = utc_time(day, 19 * 3600 + random_.below(3000), options_.zone);
  const auto shift = shift_of(line.register_id);
  const bool restock = !line.weighed && random_.chance(0.6);
  // A 付款码 sale is refunded in cash here: a refund to the code is made through its provider
  // (code_refunds), which history does not write, and `yizhan check` finds a code refund
  // without one.
  const auto method =
      line.method == TenderMethod::wechat_code || line.method == TenderMethod::alipay_code
          ? TenderMethod::cash
          : line.method;
  rows.refunds.add(
      {refund_id, line.sale_id, shift, cashier_, std::string(domain::to_string(method)),
       line.gross.value(), iso(day),
       std::string(restock ? "不合适，退货 / returned unused" : "质量问题 / quality complaint"),
       at});
  rows.refund_lines.add({refund_id, line.id, line.quantity, line.gross.value(), line.fee.value(),
                         line.share.value(), std::int64_t{restock ? 1 : 0}});
  rows.refunded.add({line.id, line.quantity});
  if (restock) {
    auto& lot = lots_[line.first_lot];
    lot.remaining += line.quantity;
    touched_lots_.insert(line.first_lot);
    on_hand_delta_[line.product_id] += line.quantity;
    rows.moves.add({line.product_id, lot.id, std::string("refund"), line.quantity,
                    std::string("refund"), refund_id, cashier_, at});
  }
  if (method == TenderMethod::cash) cash_today_[line.register_id] -= line.gross;
  const domain::VillageSplit split{line.village_id, line.fee, line.share};
  post(rows, "refund", refund_id, day, "refund " + std::to_string(refund_id), at,
       domain::refund_postings(line.register_id, method, std::span(&split, 1)));
  ++report_.refunds;
}

void Generator::order(sys_days day, const PlannedOrder& planned, DayRows& rows) {
  const auto order_id = ids_["orders"]++;
  const auto number = domain::format_order_number(year_month_day{day}, order_id);
  const auto placed = utc_time(day, planned.seconds, options_.zone);
  const auto paid = utc_time(day, planned.seconds + 60 + random_.below(240), options_.zone);
  const auto done =
      utc_time(day, std::min<std::int64_t>(planned.seconds + 3600 + random_.below(7200), 86399),
               options_.zone);
  const bool alipay = random_.chance(0.4);
  const auto provider = std::string(alipay ? "alipay" : "wechat");
  const auto tender = alipay ? TenderMethod::alipay : TenderMethod::wechat;
  const bool delivery = random_.chance(0.6);
  Fen subtotal;
  std::vector<domain::VillageSplit> splits;
  struct Line {
    std::int64_t id;
    domain::VillageSplit split;
    Fen gross;
    std::int64_t quantity;
  };
  std::vector<Line> lines;
  int line_no = 0;
  for (const auto& line : planned.lines) {
    const auto& p = products_[line.product];
    const auto gross = line_gross(p, line.quantity);
    const auto split = domain::commission(gross, p.commission_bps);
    const auto line_id = ids_["order_lines"]++;
    rows.order_lines.add({line_id, order_id, ++line_no, p.id, p.village_id, p.name, p.unit,
                          line.quantity, p.price_fen, gross.value(), std::int64_t{p.commission_bps},
                          split.fee.value(), split.share.value()});
    // Reserved at checkout, then handed over (or shipped) from the lots that expire first.
    rows.moves.add({p.id, SqlValue{}, std::string("reserve"), line.quantity, std::string("order"),
                    order_id, SqlValue{}, placed});
    rows.moves.add({p.id, SqlValue{}, std::string("release"), -line.quantity, std::string("order"),
                    order_id, cashier_, done});
    for (const auto& t : take(line.product, line.quantity, day)) {
      rows.order_line_lots.add({line_id, lots_[t.lot].id, t.quantity});
      rows.moves.add({p.id, lots_[t.lot].id, std::string("sale"), -t.quantity, std::string("order"),
                      order_id, cashier_, done});
    }
    subtotal += gross;
    splits.push_back({p.village_id, split.fee, split.share});
    lines.push_back({line_id, {p.village_id, split.fee, split.share}, gross, line.quantity});
  }
  const Fen delivery_fee(delivery && subtotal < Fen(9900) ? 800 : 0);
  const auto total = subtotal + delivery_fee;
  // Now and then a customer is paid back for one line (damaged on the way: goods kept).
  const bool refunded = random_.chance(kOrderRefundRate);
  const auto& refunded_line =
      lines[static_cast<std::size_t>(random_.below(static_cast<std::int64_t>(lines.size())))];
  const auto name =
      std::string(kSurnames[static_cast<std::size_t>(random_.below(kSurnames.size()))]) +
      (random_.chance(0.5) ? "先生" : "女士");
  rows.orders.add(
      {order_id, number, random_.hex(32), std::string("completed"),
       std::string(delivery ? "delivery" : "pickup"), provider, name, "13" + random_.digits(9),
       delivery ? SqlValue(std::string("安海镇")) : SqlValue{},
       delivery ? SqlValue(std::string(
                               kStreets[static_cast<std::size_t>(random_.below(kStreets.size()))]) +
                           std::to_string(1 + random_.below(200)) + "号")
                : SqlValue{},
       iso(day), subtotal.value(), delivery_fee.value(), total.value(), total.value(),
       refunded ? refunded_line.gross.value() : 0, random_.digits(6), placed, done});
  rows.events.add(
      {order_id, std::string("pending_payment"), std::string("customer"), SqlValue{}, placed});
  rows.events.add({order_id, std::string("paid"), std::string("provider"), SqlValue{}, paid});
  rows.events.add({order_id, std::string("completed"), std::string("staff"), cashier_, done});
  rows.payments.add({order_id, provider, std::string(alipay ? "page" : "native"), number,
                     total.value(), std::string("paid"),
                     std::string(alipay ? "2026" : "4200") + random_.digits(20), placed, paid});
  post(rows, "order_payment", order_id, day, number, paid,
       domain::order_payment_postings(tender, 0, splits, delivery_fee));
  ++report_.orders;
  if (!refunded) return;
  const auto refund_id = ids_["order_refunds"]++;
  const auto refund_at = utc_time(day, 86399 - random_.below(1800), options_.zone);
  rows.order_refunds.add({refund_id, order_id, std::int64_t{1}, number + "-R1", provider,
                          std::string("succeeded"), std::string("staff"),
                          refunded_line.gross.value(), std::int64_t{0}, refunded_line.gross.value(),
                          std::string("运输破损，退款 / damaged on the way, refunded"), cashier_,
                          refund_at, refund_at, refund_at});
  rows.order_refund_lines.add({refund_id, refunded_line.id, refunded_line.quantity,
                               refunded_line.gross.value(), refunded_line.split.fee.value(),
                               refunded_line.split.share.value(), std::string("none")});
  auto postings =
      domain::order_payment_postings(tender, 0, std::span(&refunded_line.split, 1), Fen(0));
  for (auto& posting : postings)
    posting.amount = -posting.amount;
  post(rows, "order_refund", refund_id, day, number + "-R1", refund_at, postings);
  ++report_.order_refunds;
}

void Generator::close_shifts(sys_days day, DayRows& rows) {
  for (const auto& [register_id, shift] : shifts_today_) {
    const auto cash = cash_today_[register_id];
    const auto closed = utc_time(day, 21 * 3600, options_.zone);
    rows.shifts.add({shift, register_id, cashier_, std::string("closed"), std::int64_t{0},
                     utc_time(day, 8 * 3600 + 1800, options_.zone), closed, cash.value(),
                     cash.value()});
    // The drawer goes back to the safe, counted exactly (no postings when it held nothing).
    if (cash != Fen(0))
      post(rows, "shift_close", shift, day, "shift " + std::to_string(shift), closed,
           domain::shift_close_postings(register_id, cash, cash));
  }
}

HistoryReport Generator::run() {
  if (options_.days < 1 || options_.days > 800)
    throw Error::invalid_field("days", "days 须为 1 到 800 / days is 1 to 800");
  if (!(options_.scale > 0 && options_.scale <= 10))
    throw Error::invalid_field("scale", "scale 须大于 0、不超过 10 / scale is above 0, at most 10");
  const auto today = sys_days(options_.today.value_or(
      domain::business_day(std::chrono::system_clock::now(), options_.zone)));
  const auto first = today - days(options_.days);
  const auto last = today - days(1);
  report_.from = iso(first);
  report_.to = iso(last);
  if (database_.transact([&](store::UnitOfWork& unit) {
        return store::history_present(unit, report_.from, report_.to);
      }))
    throw Error(ErrorCode::conflict,
                "这段时间已有销售记录，不再生成 / the period already has sales: history is not "
                "written twice",
                {{"from", report_.from}, {"to", report_.to}});
  load();
  for (auto day = first; day <= last; day += days(1)) {
    const auto mood = mood_of(day);
    const auto noise = 0.85 + 0.3 * random_.unit();
    const auto counter = random_.round(kCounterSalesPerDay * mood.factor * noise * options_.scale);
    const auto online = random_.round(kOrdersPerDay * mood.factor * noise * options_.scale);
    std::vector<PlannedSale> sales;
    std::vector<PlannedOrder> orders;
    std::map<std::size_t, std::int64_t> need;
    for (std::int64_t i = 0; i < counter; ++i) {
      PlannedSale sale;
      sale.register_id = registers_[static_cast<std::size_t>(
          random_.below(static_cast<std::int64_t>(registers_.size())))];
      sale.seconds = 9 * 3600 + (counter > 0 ? i * 11 * 3600 / counter : 0) + random_.below(60);
      sale.lines = plan_lines(mood.festival, false);
      for (const auto& line : sale.lines)
        need[line.product] += line.quantity;
      sales.push_back(std::move(sale));
    }
    if (!online_normal_.empty()) {
      for (std::int64_t i = 0; i < online; ++i) {
        PlannedOrder planned;
        planned.seconds = 7 * 3600 + (online > 0 ? i * 15 * 3600 / online : 0) + random_.below(60);
        planned.lines = plan_lines(mood.festival, true);
        for (const auto& line : planned.lines)
          need[line.product] += line.quantity;
        orders.push_back(std::move(planned));
      }
    }
    DayRows rows;
    shifts_today_.clear();
    cash_today_.clear();
    touched_lots_.clear();
    on_hand_delta_.clear();
    numbers_today_.clear();
    stock_up(day, need, rows);
    for (const auto& sale : sales)
      sell(day, sale, rows);
    for (const auto& planned : orders)
      order(day, planned, rows);
    if (const auto due = refunds_due_.find(day.time_since_epoch().count());
        due != refunds_due_.end()) {
      for (const auto& line : due->second)
        if (day <= last) refund(day, line, rows);
      refunds_due_.erase(due);
    }
    close_shifts(day, rows);
    for (const auto index : touched_lots_) {
      const auto& lot = lots_[index];
      rows.lots.add({lot.id, lot.product_id, lot.receipt_id, lot.name, lot.produced_on,
                     lot.expires ? SqlValue(iso(*lot.expires)) : SqlValue{}, lot.received,
                     lot.remaining, lot.created_at});
    }
    for (const auto& [product_id, delta] : on_hand_delta_)
      if (delta != 0) rows.levels.add({product_id, delta});
    database_.transact([&](store::UnitOfWork& unit) { rows.write(unit); });
    if (counter > report_.busiest_day_sales) {
      report_.busiest_day_sales = counter;
      report_.busiest_day = iso(day);
    }
  }
  // The reports read closed days from their sums (sql/016): sum the history now, a month per
  // transaction, rather than in the manager's first report.
  std::vector<std::string> month;
  for (auto day = first; day <= last; day += days(1)) {
    month.push_back(iso(day));
    if (month.size() == 31 || day == last) {
      database_.transact([&](store::UnitOfWork& unit) { store::refresh_report_days(unit, month); });
      month.clear();
    }
  }
  return report_;
}

}  // namespace

HistoryReport seed_history(store::Database& database, const HistoryOptions& options) {
  Generator generator(database, options);
  return generator.run();
}

}  // namespace yizhan::service
