// SQL for the counter: registers, shifts, cash movements, sales, refunds, held carts, and
// taking stock for them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "yizhan/domain/bundle.hpp"
#include "yizhan/domain/commission.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/quantity.hpp"
#include "yizhan/domain/sale.hpp"
#include "yizhan/domain/stock.hpp"
#include "yizhan/store/row_lock.hpp"

namespace yizhan::store {

class UnitOfWork;

struct RegisterRecord {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::string> printer_host;
  std::optional<int> printer_port;
  int receipt_columns = 32;
};

std::vector<RegisterRecord> list_registers(UnitOfWork& unit);
std::optional<RegisterRecord> find_register(UnitOfWork& unit, std::int64_t id);
std::optional<RegisterRecord> find_register_by_name(UnitOfWork& unit, const std::string& name);

struct ShiftRecord {
  std::int64_t id = 0;
  std::int64_t register_id = 0;
  std::int64_t cashier_id = 0;
  std::string cashier;
  std::string state;
  std::int64_t float_fen = 0;
  std::int64_t opened_at = 0;  ///< unix microseconds
  std::optional<std::int64_t> closed_at;
  std::optional<std::int64_t> expected_cash_fen;
  std::optional<std::int64_t> counted_cash_fen;
};

/// Inserts an open shift; a second open shift of the cashier or the register is
/// domain::Error duplicate (unique keys over open shifts).
std::int64_t insert_shift(UnitOfWork& unit, std::int64_t register_id, std::int64_t cashier_id,
                          std::int64_t float_fen);
std::optional<ShiftRecord> find_shift(UnitOfWork& unit, std::int64_t id, RowLock lock);
std::optional<ShiftRecord> open_shift_of(UnitOfWork& unit, std::int64_t cashier_id, RowLock lock);
/// Closes an open shift; false when it was not open.
bool close_shift(UnitOfWork& unit, std::int64_t id, std::int64_t expected_cash_fen,
                 std::int64_t counted_cash_fen);
std::int64_t insert_cash_movement(UnitOfWork& unit, std::int64_t shift_id, std::int64_t amount_fen,
                                  const std::string& reason, std::int64_t by);

/// What a shift did, summed from its sales, refunds and cash movements.
struct ShiftTotals {
  std::int64_t sales_count = 0;
  std::int64_t refunds_count = 0;
  std::int64_t gross_fen = 0;
  std::int64_t discount_fen = 0;
  std::int64_t refund_fen = 0;
  std::int64_t cash_in_fen = 0;
  std::int64_t cash_out_fen = 0;
  /// Cash-on-pickup orders paid at handover into this shift's drawer (journalled as
  /// order_payment entries on the drawer while the shift was open; one open shift per register).
  std::int64_t orders_paid_count = 0;
  std::int64_t orders_paid_fen = 0;
  /// Refunds owed to customers (a code refund its provider ended unpaid) paid back in cash from
  /// this shift's drawer.
  std::int64_t owed_repaid_count = 0;
  std::int64_t owed_repaid_fen = 0;
  struct Method {
    std::string method;
    std::int64_t sales_fen = 0;
    std::int64_t refunds_fen = 0;
  };
  std::vector<Method> by_method;
  struct Village {
    std::int64_t village_id = 0;
    std::string village_name;
    std::int64_t gross_fen = 0;
    std::int64_t fee_fen = 0;
    std::int64_t share_fen = 0;
  };
  std::vector<Village> by_village;
};
/// `drawer_account`: the code of the shift's register's cash drawer account.
ShiftTotals shift_totals(UnitOfWork& unit, std::int64_t shift_id,
                         const std::string& drawer_account);

/// A product as the counter sells it.
struct SellableProduct {
  std::int64_t id = 0;
  std::string name;
  domain::Unit unit = domain::Unit::piece;
  domain::Fen price;
  domain::RatesInForce rates;  ///< the commission terms in force on the day asked
  std::int64_t village_id = 0;
  bool active = true;
  bool village_active = true;
  std::string village_name;
  domain::ProductKind kind = domain::ProductKind::item;
};
/// The product by id, barcode or scale code, with the commission terms in force on `day`
/// ("YYYY-MM-DD", the sale's business day), all in one statement.
std::optional<SellableProduct> sellable_by_id(UnitOfWork& unit, std::int64_t id,
                                              const std::string& day);
std::optional<SellableProduct> sellable_by_barcode(UnitOfWork& unit, const std::string& barcode,
                                                   const std::string& day);
std::optional<SellableProduct> sellable_by_plu(UnitOfWork& unit, int plu, const std::string& day);

/// The prices other than today's that the product had at some moment from `from` to `to`
/// (microseconds since the epoch, UTC): the price a change after `from` replaced, when that
/// price had come into force before `to` (the change before it, if any, was before `to`).
std::vector<domain::Fen> prices_in_force_between(UnitOfWork& unit, std::int64_t product_id,
                                                 std::int64_t from, std::int64_t to);

/// Takes `quantity` of a product off the shelf for a sale: the level row first (a conditional
/// update that keeps available ≥ 0; locking the rows of a sale in ascending product id is the
/// caller's job), then its lots FEFO. Returns the lots taken. Throws out_of_stock / expired.
/// `shortfall_document`: for an offline sale, a stock document to book what the shelf lacks
/// (the goods have left), instead of refusing.
struct Taken {
  std::vector<domain::LotTake> lots;
  std::int64_t shortfall = 0;  ///< booked as found missing before the sale (offline only)
  std::map<std::int64_t, std::string> lot_names;  ///< of the lots taken, by id
};
Taken take_stock(UnitOfWork& unit, std::int64_t product_id, std::int64_t quantity,
                 std::chrono::year_month_day today, bool offline, std::int64_t by);

/// The next sale number of a register for a business day ("YYYYMMDD-<register>-<seq>"): the
/// register's own per-day sequence (only its sales touch its row); with the register itself.
struct NumberedRegister {
  std::string number;
  RegisterRecord register_;
};
NumberedRegister next_sale_number(UnitOfWork& unit, std::int64_t register_id,
                                  const std::string& business_day);

struct SaleLineRecord {
  std::int64_t id = 0;
  int line_no = 0;
  std::int64_t product_id = 0;
  std::int64_t village_id = 0;
  std::string village_name;
  std::string name;
  domain::Unit unit = domain::Unit::piece;
  std::int64_t quantity = 0;
  std::int64_t unit_price_fen = 0;
  std::int64_t list_fen = 0;
  std::int64_t line_discount_fen = 0;
  std::int64_t sale_discount_fen = 0;
  std::int64_t gross_fen = 0;
  int commission_bps = 0;
  std::int64_t fee_fen = 0;
  std::int64_t share_fen = 0;
  std::int64_t refunded_quantity = 0;
  std::optional<std::string> code;
  /// The village the product belongs to now (find_sale): another than village_id once it moved.
  std::int64_t product_village_id = 0;
  /// A component line of a gift box: the box's product and name, how many boxes, and the
  /// line number of the box's first component line (what ties the box's lines together).
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

struct TenderRecord {
  std::string method;
  std::int64_t amount_fen = 0;
  std::optional<std::int64_t> tendered_fen;
  std::string reference;
};

struct RefundSummaryRecord {
  std::int64_t id = 0;
  std::string method;
  std::int64_t total_fen = 0;
  std::int64_t created_at = 0;
};

struct SaleRecord {
  std::int64_t id = 0;
  std::string number;
  std::int64_t shift_id = 0;
  std::int64_t register_id = 0;
  std::int64_t cashier_id = 0;
  std::string cashier;
  std::string business_day;
  std::int64_t subtotal_fen = 0;
  std::int64_t discount_fen = 0;
  std::int64_t rounding_fen = 0;
  std::int64_t total_fen = 0;
  std::int64_t change_fen = 0;
  bool offline = false;
  std::optional<std::int64_t> rung_at;
  std::int64_t created_at = 0;
  std::vector<SaleLineRecord> lines;
  std::vector<TenderRecord> tenders;
  std::vector<RefundSummaryRecord> refunds;
};

/// Inserts the sale (id and created_at filled in), its lines (ids filled in) and its tenders;
/// the lines' lots, known once the stock is taken, come after with insert_sale_lots.
std::int64_t insert_sale(UnitOfWork& unit, SaleRecord& sale);
/// Inserts which lots each of the (inserted) sale's lines took.
void insert_sale_lots(UnitOfWork& unit, const SaleRecord& sale);
/// A sale with its lines, lots, tenders and refunds; lines locked FOR UPDATE when asked.
std::optional<SaleRecord> find_sale(UnitOfWork& unit, std::int64_t id, bool lock_lines = false);
/// The method of a sale's first tender ("cash" when it has none); nothing when there is no
/// such sale.
std::optional<std::string> sale_first_tender(UnitOfWork& unit, std::int64_t sale_id);
std::optional<std::int64_t> find_sale_id_by_number(UnitOfWork& unit, const std::string& number);
/// Sales newest first (no lines), filtered.
std::vector<SaleRecord> list_sales(UnitOfWork& unit, std::optional<std::int64_t> shift_id,
                                   std::optional<std::int64_t> cashier_id,
                                   std::optional<std::string> business_day,
                                   std::optional<std::int64_t> before_id, int limit);

struct RefundLineRecord {
  std::int64_t sale_line_id = 0;
  std::int64_t quantity = 0;
  std::int64_t gross_fen = 0;
  std::int64_t fee_fen = 0;
  std::int64_t share_fen = 0;
  bool restock = true;
};

struct RefundRecord {
  std::int64_t id = 0;
  std::int64_t sale_id = 0;
  std::optional<std::int64_t> shift_id;
  std::int64_t cashier_id = 0;
  std::string method;
  std::int64_t total_fen = 0;
  std::string business_day;
  std::string reason;
  std::int64_t created_at = 0;
  std::vector<RefundLineRecord> lines;
};

/// Inserts a refund and its lines and adds their quantities to the sale lines' refunded
/// quantity (conditionally: never beyond what was sold; false when that failed).
bool insert_refund(UnitOfWork& unit, RefundRecord& refund);

struct HeldCartRecord {
  std::int64_t id = 0;
  std::int64_t register_id = 0;
  std::string cashier;
  std::string label;
  std::string cart;
  std::int64_t created_at = 0;
};
std::int64_t insert_held_cart(UnitOfWork& unit, std::int64_t register_id, std::int64_t cashier_id,
                              const std::string& label, const std::string& cart);
std::vector<HeldCartRecord> list_held_carts(UnitOfWork& unit, std::int64_t register_id);
/// A held cart of the register, locked when asked; nothing when there is none.
std::optional<HeldCartRecord> find_held_cart(UnitOfWork& unit, std::int64_t register_id,
                                             std::int64_t id, RowLock lock = RowLock::none);
/// Removes and returns a held cart of the register; nothing when it is gone.
std::optional<HeldCartRecord> take_held_cart(UnitOfWork& unit, std::int64_t register_id,
                                             std::int64_t id);

}  // namespace yizhan::store
