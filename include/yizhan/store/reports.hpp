// SQL for the manager's reports (issue 10): the frozen sale, refund and order lines of a period
// summed per group (day, month, village, product, category or channel), the money taken per
// payment method, and the catalog and shelf the reports name and value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/domain/report.hpp"
#include "yizhan/domain/revenue.hpp"

namespace yizhan::store {

class UnitOfWork;

/// One group's lines of one channel and kind (sales or refunds), summed.
struct SalesGroupRow {
  std::string key;     ///< the day, "YYYY-MM", or the village, product or category id as text
  bool total = false;  ///< the channel and kind's total over every group (key empty)
  domain::Channel channel = domain::Channel::counter;
  bool refund = false;
  domain::Fen gross;
  domain::Fen fee;
  domain::Fen share;
  std::int64_t pieces = 0;  ///< positive, also for refunds
  std::int64_t grams = 0;
  std::int64_t count = 0;  ///< distinct sales (or paid orders, or refunds) in the group
};

/// Counter sales and refunds by their business day, online orders by the day they were paid and
/// online refunds by the day they succeeded (as the village portal and the settlements count),
/// in [from, to], summed per `group` (not `method`: see sales_by_method), and per channel and
/// kind in all (`total` rows, whose counts are distinct sales over every group).
std::vector<SalesGroupRow> sales_by_group(UnitOfWork& unit, domain::SalesGroup group,
                                          const std::string& from, const std::string& to);

/// Goods paid for with one method (counter tenders; an order's payment method), and paid back.
struct MethodRow {
  std::string method;  ///< cash, wechat, alipay, card, other, wechat_code, alipay_code,
                       ///< cash_on_pickup
  domain::Channel channel = domain::Channel::counter;
  bool refund = false;
  domain::Fen amount;
  std::int64_t count = 0;
};

/// The goods' money per method in [from, to] (delivery fees left out, so that the methods add up
/// to the sales' gross).
std::vector<MethodRow> sales_by_method(UnitOfWork& unit, const std::string& from,
                                       const std::string& to);

/// Sums each of `days` (closed business days, "YYYY-MM-DD", ascending) into the report_day_*
/// tables (sql/016) unless already summed with the same fingerprint (its sales, refunds and
/// online payment and refund entries: how many, and the largest id). Returns how many days it
/// summed.
int refresh_report_days(UnitOfWork& unit, const std::vector<std::string>& days);

/// sales_by_group read from the summed days (refresh them first), with the same rows.
std::vector<SalesGroupRow> summed_sales_by_group(UnitOfWork& unit, domain::SalesGroup group,
                                                 const std::string& from, const std::string& to);

/// sales_by_method read from the summed days.
std::vector<MethodRow> summed_sales_by_method(UnitOfWork& unit, const std::string& from,
                                              const std::string& to);

/// One posting to a provider's clearing account (tender_clearing:<method>), with the document
/// and the provider's trade it records.
struct ClearingPostingRow {
  std::string kind;            ///< the journal entry's: sale, refund, order_payment, …
  std::string business_day;    ///< "YYYY-MM-DD"
  std::int64_t at_us = 0;      ///< when it was booked (UTC microseconds)
  std::string method;          ///< the account's: wechat, wechat_code, alipay, …
  domain::Fen amount;          ///< positive: money in; negative: out
  std::string document;        ///< the sale's or the order's number
  std::string trade_no;        ///< out_trade_no / out_refund_no (several: space-separated)
  std::string transaction_id;  ///< the provider's own number, when it gave one
};

/// Every posting to a tender_clearing account booked on business days [from, to], in the order
/// they were booked.
std::vector<ClearingPostingRow> clearing_postings(UnitOfWork& unit, const std::string& from,
                                                  const std::string& to);

/// A product as the reports name, group and value it: names and price as now in the catalog.
struct ReportProductRow {
  std::int64_t id = 0;
  std::string sku;
  std::string name;
  std::string name_en;
  std::int64_t village_id = 0;
  std::int64_t category_id = 0;
  domain::Unit unit = domain::Unit::piece;
  domain::Fen price;
  bool active = true;
  std::int64_t on_hand = 0;
  std::int64_t reserved = 0;
};

std::vector<ReportProductRow> report_products(UnitOfWork& unit);

/// A village or a category: id and names.
struct NamedRow {
  std::int64_t id = 0;
  std::string code;
  std::string name;
  std::string name_en;
};

std::vector<NamedRow> report_villages(UnitOfWork& unit);
std::vector<NamedRow> report_categories(UnitOfWork& unit);

/// A lot with goods left that expires on or before a day.
struct ReportLotRow {
  std::int64_t lot_id = 0;
  std::int64_t product_id = 0;
  std::string lot;
  std::string expires_on;
  std::int64_t remaining = 0;
};

/// Every village's lots with goods left expiring on or before `until`, first expiry first.
std::vector<ReportLotRow> lots_expiring(UnitOfWork& unit, const std::string& until);

}  // namespace yizhan::store
