// The counter: registers, shifts with their cash, sales with split tenders, refunds and held
// carts; each write one transaction with its stock moves and journal entry.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/domain/access.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/quantity.hpp"
#include "yizhan/domain/sale.hpp"
#include "yizhan/domain/scale_label.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/accounts.hpp"
#include "yizhan/service/idempotency.hpp"

namespace yizhan::store {
class Database;
class UnitOfWork;
struct SaleRecord;
struct RefundRecord;
}  // namespace yizhan::store
namespace yizhan::payments {
class Provider;
}

namespace yizhan::service {

/// A till: its drawer, its receipt printer and its paper width.
struct Register {
  std::int64_t id = 0;
  std::string name;  ///< e.g. 柜台1
  std::optional<std::string> printer_host;
  std::optional<int> printer_port;
  int receipt_columns = 32;  ///< 58 mm: 32; 80 mm: 48 (42 on an Epson TM-T88)
};

struct Shift {
  std::int64_t id = 0;
  Register register_;
  std::int64_t cashier_id = 0;
  std::string cashier;
  std::string state;  ///< open, closed
  domain::Fen float_amount;
  std::int64_t opened_at = 0;  ///< unix microseconds
  std::optional<std::int64_t> closed_at;
  std::optional<domain::Fen> expected_cash;
  std::optional<domain::Fen> counted_cash;
};

/// X report (any time) and Z report (at close, with counted and difference).
struct ShiftReport {
  Shift shift;
  std::int64_t sales_count = 0;
  std::int64_t refunds_count = 0;
  domain::Fen gross;     ///< sum of sales' totals
  domain::Fen discount;  ///< sum of their discounts
  domain::Fen refunds;   ///< sum of refunds paid
  struct ByMethod {
    std::string method;
    domain::Fen sales;
    domain::Fen refunds;
    domain::Fen net;
  };
  std::vector<ByMethod> by_method;
  struct ByVillage {
    std::int64_t village_id = 0;
    std::string village_name;
    domain::Fen gross;
    domain::Fen fee;
    domain::Fen share;
  };
  std::vector<ByVillage> by_village;
  domain::Fen cash_in;                 ///< cash movements in, after the float
  domain::Fen cash_out;                ///< cash movements out (positive)
  std::int64_t orders_paid_count = 0;  ///< cash-on-pickup orders paid into this drawer
  domain::Fen orders_paid;             ///< their cash
  std::int64_t owed_repaid_count = 0;  ///< refunds owed to customers paid back from this drawer
  domain::Fen owed_repaid;             ///< their cash
  /// float + cash sales − cash refunds + in − out + orders paid − owed refunds repaid
  domain::Fen expected_cash;
  std::optional<domain::Fen> counted_cash;
  std::optional<domain::Fen> difference;  ///< counted − expected (over > 0, short < 0)
};

/// One line of a sale as asked for: a product by id, or a scanned code (EAN-13 or scale label).
struct SaleLineRequest {
  std::optional<std::int64_t> product_id;
  std::optional<std::string> code;
  std::optional<std::int64_t> quantity;  ///< pieces or grams; from the label when scanned
  domain::Fen discount;
  /// The list price the till showed (per piece or kg), when it sent one: see domain::line_price.
  std::optional<domain::Fen> unit_price;
};

struct SaleRequest {
  std::vector<SaleLineRequest> lines;
  domain::Fen discount;
  domain::Rounding rounding = domain::Rounding::none;
  std::vector<domain::TenderInput> tenders;
  /// Scanned 付款码 by tender index, for the wechat_code / alipay_code tenders: charged through
  /// the provider before the sale is written. Never stored or logged in full.
  std::map<std::size_t, std::string> payment_codes;
  bool offline = false;                 ///< rung up by an offline till, synced later
  std::optional<std::int64_t> rung_at;  ///< unix microseconds, for offline sales
};

struct SaleLine {
  std::int64_t id = 0;
  int line_no = 0;
  std::int64_t product_id = 0;
  std::string name;
  std::int64_t village_id = 0;
  std::string village_name;
  domain::Unit unit = domain::Unit::piece;
  std::int64_t quantity = 0;
  domain::Fen unit_price;
  domain::Fen list;
  domain::Fen line_discount;
  domain::Fen sale_discount;
  domain::Fen gross;
  int commission_bps = 0;
  domain::Fen fee;
  domain::Fen share;
  std::int64_t refunded_quantity = 0;
  std::optional<std::string> code;
  /// A component line of a gift box (礼盒): the box, its name, how many boxes, and the line
  /// number of the box's first component line, which all its lines share. A box is refunded
  /// whole: refunding any of its lines refunds that many boxes of every component.
  std::optional<std::int64_t> bundle_product_id;
  std::string bundle_name;
  std::int64_t bundle_quantity = 0;
  int bundle_group = 0;
  struct Lot {
    std::int64_t lot_id = 0;
    std::string lot;
    std::int64_t quantity = 0;
  };
  std::vector<Lot> lots;
};

struct SaleRefundSummary {
  std::int64_t id = 0;
  std::string method;
  domain::Fen total;
  std::int64_t created_at = 0;
};

struct Sale {
  std::int64_t id = 0;
  std::string number;  ///< business day, register and that register's sequence: 20261202-1-0042
  std::int64_t shift_id = 0;
  Register register_;
  std::int64_t cashier_id = 0;
  std::string cashier;
  domain::Fen subtotal;
  domain::Fen discount;
  domain::Fen rounding;
  domain::Fen total;
  domain::Fen change;
  bool offline = false;
  std::int64_t created_at = 0;  ///< unix microseconds
  std::vector<SaleLine> lines;
  std::vector<domain::Tender> tenders;
  std::vector<SaleRefundSummary> refunds;
};

/// A line to refund; for a line of a gift box, `quantity` counts boxes and every line of the
/// box is refunded with it.
struct RefundLineRequest {
  std::int64_t line_id = 0;
  std::int64_t quantity = 0;
  bool restock = true;  ///< back to its lot; false = written off as damaged
};

struct RefundRequest {
  std::int64_t sale_id = 0;
  std::vector<RefundLineRequest> lines;        ///< empty = everything not yet refunded
  std::optional<domain::TenderMethod> method;  ///< nothing = the sale's first tender
  std::string reason;
};

struct RefundLine {
  std::int64_t line_id = 0;
  std::int64_t quantity = 0;
  domain::Fen gross;
  domain::Fen fee;
  domain::Fen share;
  bool restock = true;
};

struct Refund {
  std::int64_t id = 0;
  std::int64_t sale_id = 0;
  std::string sale_number;
  std::string method;
  domain::Fen total;
  std::int64_t created_at = 0;
  std::vector<RefundLine> lines;
  /// A refund to a scanned code: the provider's word (SUCCESS, or PROCESSING: accepted, the
  /// money on its way) and its refund id; empty otherwise.
  std::string provider_state;
  std::string provider_refund_id;
};

/// A refund to a scanned code that was booked (the goods came back) and then ended by its
/// provider without paying (CLOSED, ABNORMAL): the customer is owed it until staff pay it back.
struct OwedRefund {
  std::int64_t refund_id = 0;
  std::int64_t sale_id = 0;
  std::string sale_number;
  std::string method;  ///< how it was booked: wechat_code, alipay_code
  domain::Fen amount;
  std::string provider_state;
  std::string out_refund_no;
  std::string state;             ///< owed, repaid
  std::int64_t owed_at = 0;      ///< unix microseconds: when the provider's answer was recorded
  std::int64_t refunded_at = 0;  ///< when the refund was booked
  struct Repayment {
    std::int64_t id = 0;
    std::int64_t shift_id = 0;
    std::int64_t register_id = 0;
    std::string cashier;
    std::string method;  ///< cash
    domain::Fen amount;
    std::int64_t created_at = 0;
  };
  std::optional<Repayment> repayment;
};

/// Cash put into (amount > 0) or taken out of (amount < 0) a shift's drawer.
struct CashMovement {
  std::int64_t id = 0;
  std::int64_t shift_id = 0;
  domain::Fen amount;
  std::string reason;
};

/// How the counter waits for a scanned code's payment.
struct CodePaySettings {
  std::chrono::milliseconds deadline{30'000};      ///< the customer's time to enter a password
  std::chrono::milliseconds poll_interval{3'000};  ///< between queries while they do
  /// Beyond the deadline before a retry or the sweep may take over a request that died.
  std::chrono::milliseconds lease_margin{60'000};
  /// How often a refund booked while the provider said PROCESSING is looked up again.
  std::chrono::milliseconds refund_recheck{60'000};

  /// What a retry that finds its key still charging (409 payment_pending) is told to wait
  /// before asking again: about one poll, 1–10 s.
  [[nodiscard]] std::chrono::seconds retry_after() const {
    const auto poll = std::chrono::ceil<std::chrono::seconds>(poll_interval);
    return std::clamp(poll, std::chrono::seconds(1), std::chrono::seconds(10));
  }
};

/// Counter settings from configuration.
struct CounterSettings {
  int cashier_discount_limit_bps = 1000;  ///< a cashier may give at most 10 % off
  std::vector<domain::ScaleLabelFormat> label_formats = domain::default_scale_label_formats();
  domain::TimeZone zone = domain::TimeZone::shanghai();
  std::string station_name = "安海镇乡村联盟驿站";
  CodePaySettings code_pay;
};

/// A cart put aside at a register (挂单); `cart` is the page's JSON, kept as it came.
struct HeldCart {
  std::int64_t id = 0;
  std::int64_t register_id = 0;
  std::string cashier;
  std::string label;
  std::string cart;
  std::int64_t created_at = 0;
};

/// A page of sales.
struct SaleQuery {
  std::optional<std::int64_t> shift_id;
  std::optional<std::int64_t> cashier_id;
  std::optional<std::chrono::year_month_day> day;  ///< business day
  std::optional<std::int64_t> before_id;           ///< paging by key
  int limit = 50;
};

class CounterService {
 public:
  /// `payment_providers`: "wechat" and "alipay" for 付款码 tenders (null or absent: not taken).
  CounterService(store::Database& database, CounterSettings settings,
                 int idempotency_retention_days = 7,
                 std::map<std::string, payments::Provider*> payment_providers = {});

  [[nodiscard]] const CounterSettings& settings() const { return settings_; }

  std::vector<Register> registers();
  /// Opens a shift for the caller at the named register with a float (cash put in the drawer
  /// from the station's cash, journalled). 409 shift_open when the caller or the register
  /// already has an open shift; 422 for an unknown register or a bad float.
  Shift open_shift(const domain::Principal& caller, const std::string& register_name,
                   domain::Fen float_amount, const Actor& actor);
  /// The caller's open shift; 404 when none.
  Shift current_shift(const domain::Principal& caller);
  /// Cash in (> 0) or out (< 0) of the drawer of an open shift with a reason; journalled, once
  /// per Idempotency-Key when one is given (a retry answers the first movement). 422 naming
  /// amount_fen for 0 or beyond ±¥1,000,000; 409 conflict naming amount_fen for a cash out of
  /// more than the drawer's expected cash (details expected_cash_fen).
  StoredReply move_cash(const domain::Principal& caller, std::int64_t shift_id, domain::Fen amount,
                        const std::string& reason, const Actor& actor,
                        const std::optional<IdempotencyKey>& key,
                        const std::function<StoredReply(const CashMovement&)>& render);
  /// X report. A cashier sees only their own shifts (404 otherwise).
  ShiftReport shift_report(const domain::Principal& caller, std::int64_t shift_id);
  /// Z report: closes with the counted drawer, books the difference as over/short.
  ShiftReport close_shift(const domain::Principal& caller, std::int64_t shift_id,
                          domain::Fen counted_cash, const Actor& actor);

  /// Rings up a sale on the caller's open shift, exactly once per Idempotency-Key. A sale with
  /// 付款码 tenders is checked (prices, stock), then each code is charged through its provider
  /// (polled while the customer enters a password, reversed on timeout), then written; if the
  /// write fails the charges are reversed. A declined code is 402 payment_declined, an
  /// unreachable provider 503 unavailable; in both cases nothing is sold and no money kept.
  StoredReply sell(const domain::Principal& caller, const SaleRequest& request,
                   const IdempotencyKey& key,
                   const std::function<StoredReply(const Sale&)>& render);
  /// Reverses the charges of requests that died between charging a code and writing the sale
  /// (their lease ran out); returns how many charges were settled. Safe with several processes.
  int recover_code_payments();
  /// Prices a cart as a sale would (codes and labels resolved, discounts spread, split per
  /// line) without selling anything or checking stock: for the counter page's display.
  Sale quote(const SaleRequest& request);
  Sale sale(std::int64_t id);
  Sale sale_by_number(const std::string& number);
  std::vector<Sale> sales(const SaleQuery& query);  ///< without lines' lots

  /// Refunds lines of a sale, exactly once per Idempotency-Key. A cashier refunds only sales of
  /// the current business day (403 otherwise); an admin any. A refund to a scanned code
  /// (wechat_code, alipay_code) goes back through its provider: the ask is recorded, the
  /// provider asked outside any transaction, and the refund booked once it accepted (402
  /// payment_declined when it refused, 503 when its answer never came: the retry with the same
  /// key asks again). While such an ask is open, other refunds of the sale are 409 conflict.
  StoredReply refund(const domain::Principal& caller, const RefundRequest& request,
                     const IdempotencyKey& key,
                     const std::function<StoredReply(const Refund&)>& render);

  /// Finishes refunds to codes whose request died after asking the provider (their lease ran
  /// out): asks again and books or fails them; and asks again about booked ones the provider
  /// still called PROCESSING. One the provider then ended unpaid (CLOSED, ABNORMAL) becomes owed
  /// to the customer in the same transaction, once: a refund_failed entry (the provider's
  /// clearing account back, refunds_owed credited) and an audit entry. Returns how many it
  /// settled. Safe with several processes.
  int recover_code_refunds();

  /// Refunds owed to customers, newest first (paged by refund id): those not paid back yet, or
  /// with `repaid_too` also those paid back. Any staff member sees them all (a customer comes
  /// back to whichever till is open).
  std::vector<OwedRefund> owed_refunds(bool repaid_too, std::optional<std::int64_t> before_id,
                                       int limit);
  /// Pays an owed refund back to the customer in cash from the caller's open shift's drawer,
  /// exactly once per Idempotency-Key: journalled owed → drawer (the shift's expected cash goes
  /// down by it), audited. Any cashier or admin with an open shift may (the amount is the
  /// books', not theirs to choose; the drawer and the audit name who paid). 404 not_found for
  /// an unknown refund; 409 invalid_state for one not owed or repaid already (details state:
  /// not_owed, repaid); 409 no_open_shift; 422 naming `method` for anything but cash.
  StoredReply repay_owed_refund(const domain::Principal& caller, std::int64_t refund_id,
                                const std::string& method, const Actor& actor,
                                const IdempotencyKey& key,
                                const std::function<StoredReply(const OwedRefund&)>& render);

  HeldCart hold_cart(const domain::Principal& caller, const std::string& label,
                     const std::string& cart_json);
  std::vector<HeldCart> held_carts(const domain::Principal& caller);
  /// Takes a held cart back (it is removed); 404 when gone (resumed elsewhere).
  HeldCart resume_cart(const domain::Principal& caller, std::int64_t id);

 private:
  StoredReply sell_with_codes(const domain::Principal& caller, const SaleRequest& request,
                              const IdempotencyKey& key,
                              const std::function<StoredReply(const Sale&)>& render);
  /// What a sale would be refused for, without writing: shift, lines, prices, tenders, stock.
  void check_sale(store::UnitOfWork& unit, const domain::Principal& caller,
                  const SaleRequest& request);
  /// Writes the sale: stock, sale, lines, tenders, moves and journal, in `unit`.
  Sale write_sale(store::UnitOfWork& unit, const domain::Principal& caller,
                  const SaleRequest& request);
  StoredReply refund_to_code(const domain::Principal& caller, const RefundRequest& request,
                             domain::TenderMethod method, const IdempotencyKey& key,
                             const std::function<StoredReply(const Refund&)>& render);
  /// Books an ask to refund to a code that its provider accepted, once (an ask booked meanwhile
  /// is answered as it was): the refund with its stock and journal, the ask marked refunded.
  Refund book_code_refund(store::UnitOfWork& unit, std::int64_t ask_id,
                          const std::string& provider_state, const std::string& provider_refund_id);
  /// The same-day rule for cashiers, and no refund while one to a code is being asked.
  void check_refund_allowed(store::UnitOfWork& unit, const domain::Principal& caller,
                            const store::SaleRecord& sale);
  /// What the request gives back of the locked `sale`: lines with their exact parts.
  store::RefundRecord plan_refund(const domain::Principal& caller, const RefundRequest& request,
                                  const store::SaleRecord& sale, domain::TenderMethod method) const;
  /// Writes a planned refund: refunded quantities, refund, stock moves and journal, in `unit`.
  Refund book_refund(store::UnitOfWork& unit, std::int64_t user_id, const store::SaleRecord& sale,
                     store::RefundRecord& refund, std::int64_t register_id);
  Shift open_shift_once(const domain::Principal& caller, const std::string& register_name,
                        domain::Fen float_amount, const Actor& actor, const std::string& day);

  store::Database& database_;
  CounterSettings settings_;
  Idempotency idempotency_;
  std::map<std::string, payments::Provider*> payment_providers_;
};

}  // namespace yizhan::service
