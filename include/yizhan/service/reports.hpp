// The manager's reports (issue 10): sales by day, month, village, product, category, channel or
// payment method; top sellers; commission earned; stock value by village; slow movers; expiring
// lots. Read only, one read transaction per report; refunds count negative on the day they were
// made, online orders from the day they were paid (as the village portal and settlements).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/domain/money.hpp"
#include "yizhan/domain/quantity.hpp"
#include "yizhan/domain/report.hpp"
#include "yizhan/domain/revenue.hpp"
#include "yizhan/domain/time.hpp"

namespace yizhan::store {
class Database;
}

namespace yizhan::service {

/// What the reports need from configuration.
struct ReportSettings {
  domain::TimeZone zone = domain::TimeZone::shanghai();  ///< the business day's zone
  /// The current time; unset = the system clock (tests set it to move "today").
  std::function<std::chrono::system_clock::time_point()> clock;
};

/// A report query as the client sent it (query parameters); unset = the report's default.
struct ReportQuery {
  std::optional<std::string> from;   ///< "YYYY-MM-DD"; default: 30 days up to `to`
  std::optional<std::string> to;     ///< default: today
  std::optional<std::string> group;  ///< sales: day (default) … method; commission: village …
  std::optional<std::string> limit;  ///< top sellers, slow movers
  std::optional<std::string> days;   ///< expiring: within how many days (0–365, default 30)
  std::optional<std::string> provider;  ///< payments: wechat, alipay, card or other; unset: all
};

/// One group's net figures (all, and per channel).
struct SalesItem {
  std::string key;  ///< the day, "YYYY-MM", the id as text, "counter"/"online", or the method
  std::optional<std::int64_t> id;  ///< village, product or category id
  std::string code;                ///< village code, product SKU, category code
  std::string name;
  std::string name_en;
  std::optional<std::int64_t> village_id;  ///< a product's village
  std::optional<domain::Unit> unit;        ///< a product's unit
  domain::RevenueTotals figures;
  std::int64_t refunds = 0;  ///< how many refunds gave something back
};

struct SalesReport {
  std::string from;
  std::string to;
  domain::SalesGroup group = domain::SalesGroup::day;
  domain::RevenueTotals totals;
  std::int64_t refunds = 0;
  std::vector<SalesItem> items;
};

/// A village's goods on the shelf, valued at today's prices.
struct StockValueItem {
  std::int64_t village_id = 0;
  std::string code;
  std::string name;
  std::string name_en;
  std::int64_t products = 0;  ///< products with goods on hand
  std::int64_t pieces = 0;
  std::int64_t grams = 0;
  std::int64_t reserved_pieces = 0;
  std::int64_t reserved_grams = 0;
  domain::Fen value;  ///< on hand × price (per kg for weighed goods)
};

struct StockValueReport {
  std::string business_day;
  std::vector<StockValueItem> items;
  domain::Fen value;
  std::int64_t pieces = 0;
  std::int64_t grams = 0;
};

/// A product whose stock moves slowly: what it sold in the period against what it holds.
struct SlowMover {
  std::int64_t product_id = 0;
  std::string sku;
  std::string name;
  std::string name_en;
  std::int64_t village_id = 0;
  std::string village_name;
  domain::Unit unit = domain::Unit::piece;
  std::int64_t on_hand = 0;
  std::int64_t sold = 0;  ///< net, in the unit's base
  std::optional<std::int64_t> days_of_cover;
  domain::Fen value;
};

struct SlowMoversReport {
  std::string from;
  std::string to;
  std::int64_t days = 0;
  std::vector<SlowMover> items;
};

/// A lot with goods left near (or past) its expiry.
struct ExpiringItem {
  std::int64_t lot_id = 0;
  std::string lot;
  std::int64_t product_id = 0;
  std::string sku;
  std::string name;
  std::string name_en;
  std::int64_t village_id = 0;
  std::string village_name;
  domain::Unit unit = domain::Unit::piece;
  std::string expires_on;
  std::int64_t days_left = 0;  ///< negative: expired that many days ago
  std::int64_t remaining = 0;
  domain::Fen value;
};

struct ExpiringReport {
  std::string business_day;
  std::int64_t within_days = 0;
  std::vector<ExpiringItem> items;
  domain::Fen value;
};

/// One movement through a provider: a posting to its clearing account.
struct PaymentMovement {
  std::string business_day;
  std::int64_t at_us = 0;  ///< when it was booked
  std::string provider;    ///< wechat, alipay, card, other
  std::string method;      ///< the tender: wechat (online or the station's QR), wechat_code, …
  std::string kind;        ///< the journal entry's kind
  domain::Fen amount;      ///< positive in, negative out
  std::string document;    ///< sale or order number
  std::string trade_no;
  std::string transaction_id;
};

/// One provider's movements of one business day, summed.
struct PaymentDay {
  std::string business_day;
  std::string provider;
  domain::PaymentTotals totals;
};

/// The payments reconciliation (对账) of a period: each provider's money in and out by day,
/// and every movement, to tick off against the provider's statement.
struct PaymentsReport {
  std::string from;
  std::string to;
  std::optional<std::string> provider;  ///< the one asked for; unset: all
  domain::PaymentTotals totals;
  std::vector<std::pair<std::string, domain::PaymentTotals>> providers;  ///< by name
  std::vector<PaymentDay> days;                                          ///< by day, provider
  std::vector<PaymentMovement> items;                                    ///< as booked
};

class ReportService {
 public:
  explicit ReportService(store::Database& database, ReportSettings settings = {});

  /// Net sales per group (default day). 422 naming from, to or group when bad.
  SalesReport sales(const ReportQuery& query);
  /// The products sold most (by net gross), at most `limit` (1–100, default 10).
  SalesReport top_sellers(const ReportQuery& query);
  /// Commission earned: sales grouped by village (default), month, day, category or product.
  SalesReport commission(const ReportQuery& query);
  /// Every village's goods on the shelf now, valued at today's prices.
  StockValueReport stock_value();
  /// Products with goods on hand, the least sold in the period first (limit 1–500, default 20).
  SlowMoversReport slow_movers(const ReportQuery& query);
  /// Lots with goods left expiring within `days` (0–365, default 30) of today, expired included.
  ExpiringReport expiring(const ReportQuery& query);
  /// Money through each payment provider (default: all) in the period (at most
  /// kMaxPaymentDays), from the clearing accounts' postings. 422 naming from, to or provider
  /// when bad.
  PaymentsReport payments(const ReportQuery& query);

  /// Default period of the dated reports, in days up to `to`.
  static constexpr int kDefaultDays = 30;
  /// The longest period of the payments reconciliation, in days: a month.
  static constexpr int kMaxPaymentDays = 31;

 private:
  [[nodiscard]] std::chrono::year_month_day today() const;
  SalesReport grouped(const ReportQuery& query, domain::SalesGroup fallback, bool allow_method);

  store::Database& database_;
  ReportSettings settings_;
};

}  // namespace yizhan::service
