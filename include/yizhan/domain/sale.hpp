// Pricing a counter sale: line and sale discounts, 抹零, the commission split per line, tenders
// and change, the cashier's discount limit, and what a refund of part of a line gives back.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "yizhan/domain/commission.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/quantity.hpp"

namespace yizhan::domain {

/// 抹零: the total rounded down to the jiao (1 角 = 10 fen) or the yuan, as a discount.
enum class Rounding { none, jiao, yuan };
std::optional<Rounding> parse_rounding(std::string_view text);  ///< "none", "jiao", "yuan"

/// A line as rung up: price and quantity known, discount asked for.
struct SaleLineInput {
  Quantity quantity = Quantity::pieces(1);
  Fen unit_price;                  ///< per piece, or per kilogram for grams
  std::optional<Fen> label_total;  ///< a scale label's amount, which then is the list amount
  Fen discount;                    ///< the line's own discount (≥ 0, ≤ its list amount)
  int commission_bps = 0;          ///< the rate in force for this product now
};

/// A line priced: list − line discount − its part of the sale discount = gross = fee + share.
struct PricedLine {
  Fen list;           ///< price × quantity (or the label's amount)
  Fen line_discount;  ///< the line's own discount
  Fen sale_discount;  ///< its part of the sale discount and of the rounding
  Fen gross;          ///< what the customer pays for this line
  int commission_bps = 0;
  CommissionSplit split;  ///< fee + share == gross
};

struct PricedSale {
  std::vector<PricedLine> lines;
  Fen subtotal;  ///< sum of list
  Fen discount;  ///< every discount incl. rounding: subtotal − total
  Fen rounding;  ///< of which 抹零
  Fen total;     ///< sum of gross
};

/// Prices a sale: each line's list (line_total, or label_total), minus its discount; then the
/// sale discount plus the 抹零 of what remains is spread over the lines by their amount after line
/// discounts with the one allocation function (allocate); then each gross is split by
/// commission(). Errors (422 naming the field): no lines ("lines"), a line discount below zero or
/// above its list ("lines[i].discount_fen"), a sale discount below zero or above the total
/// ("discount_fen").
PricedSale price_sale(std::span<const SaleLineInput> lines, Fen sale_discount, Rounding rounding);

/// Refuses (403 discount_limit, details discount_fen and limit_fen) a sale whose discounts,
/// not counting 抹零, exceed `limit_bps` of its subtotal.
void check_discount_limit(const PricedSale& sale, int limit_bps);

/// How a tender pays.
enum class TenderMethod { cash, wechat, alipay, card, other, wechat_code, alipay_code };
std::string_view to_string(TenderMethod method);
std::optional<TenderMethod> parse_tender_method(std::string_view text);

/// A tender as the cashier entered it. For cash, `tendered` is what the customer handed over
/// (≥ amount); the difference is change.
struct TenderInput {
  TenderMethod method = TenderMethod::cash;
  Fen amount;
  std::optional<Fen> tendered;
  std::string reference;
};

struct Tender {
  TenderMethod method = TenderMethod::cash;
  Fen amount;  ///< what this tender pays of the total
  std::optional<Fen> tendered;
  std::string reference;
};

struct SettledTenders {
  std::vector<Tender> tenders;
  Fen change;
};

/// Checks that `tenders` pay `total` exactly: amounts > 0 and summing to the total; a cash
/// tender's tendered ≥ amount gives change; `other` needs a reference; at most one cash tender.
/// Errors are 422 naming the field ("tenders", "tenders[i].amount_fen", "tenders[i].method",
/// "tenders[i].tendered_fen", "tenders[i].reference"); amounts that do not sum to the total
/// name "tenders" with details total_fen and paid_fen. A non-cash tender's `tendered`, if
/// given, must equal its amount. References are at most 100 characters (code points) of UTF-8.
/// A settled cash tender always carries `tendered` (the amount when none was given).
SettledTenders settle_tenders(Fen total, std::span<const TenderInput> tenders);

/// The most change one cash tender may give (¥10,000); more is refused as a typing mistake.
inline constexpr Fen kMaxChange{1'000'000};

/// Whether a refund may pay back through `method` when the sale was paid with `paid_with`:
/// a method the sale used (原路退回), or cash, which the drawer can always pay (a code's
/// provider that refuses, a sale without tenders). Anything else would credit an account that
/// never received the sale's money.
bool refund_method_allowed(TenderMethod method, std::span<const TenderMethod> paid_with);

/// Money that went in or out through one method: a sale's tender, or one of its refunds.
struct MethodAmount {
  TenderMethod method;
  Fen amount;
};

/// What a refund through `method` may still give back of a sale: what its tenders of that
/// method took less what earlier refunds through it gave back (never below 0). Nothing for
/// cash, which the drawer pays whatever the sale was paid with. A refund of ¥18.80 to a WeChat
/// QR that took ¥1.00 of it would leave the station's WeChat account paying out money it never
/// received.
std::optional<Fen> refundable_through(TenderMethod method, std::span<const MethodAmount> tenders,
                                      std::span<const MethodAmount> refunds);

/// Whether the tender is a scanned 付款码 that the provider must confirm before the sale.
bool is_code_method(TenderMethod method);
/// The provider a code method pays through: "wechat" or "alipay".
std::string code_method_provider(TenderMethod method);

/// Why `code` cannot pay by `method` (wechat_code: 18 digits starting 10–15; alipay_code: 16–24
/// digits starting 25–30), or nothing. The text names the code's shape, never the code.
std::optional<std::string> payment_code_problem(TenderMethod method, std::string_view code);

/// Why `rung_at` (an offline till's clock, unix microseconds) cannot be the time a sale was rung
/// up when it reaches the server at `now`, or nothing: before 2020-01-01 (a till whose clock
/// was never set), or more than a day ahead of the server (a clock set far ahead, or nonsense).
std::optional<std::string> rung_at_problem(std::int64_t rung_at, std::int64_t now);

/// How old an offline till's catalog may be: any price a product had in the 7 days before an
/// offline sale was rung up is one the till may have shown.
inline constexpr std::int64_t kOfflinePriceWindow = 7LL * 24 * 3600 * 1'000'000;

/// The list price a sale line is sold at, from the price the till showed (`shown`, when it sent
/// one) and the product's price `now`. An ordinary sale is priced now: a till that showed another
/// price has a stale catalog and the customer has not paid yet, so 409 price_changed naming
/// `field`. An offline sale already happened at the till's price: it stands when the product had
/// that price lately (`earlier`: its prices from kOfflinePriceWindow before rung_at to rung_at, see
/// store::prices_in_force_between), else 422 naming `field`.
Fen line_price(std::optional<Fen> shown, Fen now, std::span<const Fen> earlier, bool offline,
               const std::string& field);

/// The code as it may be stored or logged: its first 4 and last 4 digits, the rest starred.
std::string mask_payment_code(std::string_view code);

/// The out_trade_no of a counter code payment: "Y", the first 24 hex digits of the sale's
/// Idempotency-Key digest, the tender's index (0–9) and the attempt (1–99), e.g.
/// "Y0123456789abcdef01234567-0-01" (at most 32 characters, as WeChat allows). The same sale's
/// retry asks about the same payment; a new attempt is made only after one moved no money.
std::string code_trade_number(std::string_view key_digest_hex, std::size_t tender_index,
                              int attempt);

/// The out_refund_no of a refund to a counter code payment: "R", the first 24 hex digits of the
/// refund request's Idempotency-Key digest and the attempt (1–99), e.g.
/// "R0123456789abcdef01234567-01". A retry asks about the same refund (providers refund once per
/// number); a new attempt is made only after the provider refused the last.
std::string code_refund_number(std::string_view key_digest_hex, int attempt);

/// A sale line's quantities and money, or the part of it already refunded.
struct LineAmounts {
  std::int64_t quantity = 0;
  Fen gross;
  Fen fee;
  Fen share;
  friend bool operator==(const LineAmounts&, const LineAmounts&) = default;
};

/// What refunding `quantity` more of `line` gives back, when `refunded` of it was refunded
/// before. Cumulative: the refund of the first n units is a fixed function of n, so any sequence
/// of partial refunds sums to exactly the line when all of it is refunded, and every part is
/// ≥ 0 with fee + share = gross. More than what is left is 409 refund_exceeds_sale (details
/// line_quantity, refunded, asked); quantity ≤ 0 is 422 naming "quantity". Only
/// `refunded.quantity` is read: the money of the first n units is
///   G(n) = round_half_up(line.gross × n / line.quantity),
///   F(n) = floor(line.fee × G(n) / line.gross) (0 when gross is 0),
/// and the part is (G(r+q) − G(r), F(r+q) − F(r), the difference as share). A line with fee
/// outside 0..gross or fee + share ≠ gross is `internal`.
LineAmounts refund_part(const LineAmounts& line, const LineAmounts& refunded,
                        std::int64_t quantity);

}  // namespace yizhan::domain
