// Gift boxes (礼盒): what a box may hold, how many can be sold, and how its price splits across
// the villages of its components (by their list prices, with the one allocation function).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "yizhan/domain/commission.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/sale.hpp"

namespace yizhan::domain {

/// A product's kind: an ordinary item with stock of its own, or a box made of items.
enum class ProductKind { item, bundle };
std::string_view to_string(ProductKind kind);
std::optional<ProductKind> parse_product_kind(std::string_view text);

/// One component of a box as defined: `quantity` of `product_id` in each box.
struct BundleComponent {
  std::int64_t product_id = 0;
  std::int64_t quantity = 0;
  friend bool operator==(const BundleComponent&, const BundleComponent&) = default;
};

inline constexpr std::int64_t kMaxComponentQuantity = 1000;
inline constexpr std::size_t kMaxComponents = 20;

/// Checks a box's definition without the database: at least two components, or one with
/// quantity ≥ 2; quantities 1–1000; no product twice; not the box itself (`bundle_id`, 0 when
/// it is being created). 422 naming the field ("components", "components[i].quantity",
/// "components[i].product_id").
void check_bundle_components(std::span<const BundleComponent> components, std::int64_t bundle_id);

/// How many boxes can be sold: the minimum over components of floor(available / quantity),
/// never below 0. `available[i]` belongs to `components[i]`.
std::int64_t bundle_available(std::span<const BundleComponent> components,
                              std::span<const std::int64_t> available);

/// A line as the customer asked for it: `quantity` of `product_id`, or of a box (then
/// `components` says what one box takes of which product).
struct AskedLine {
  std::int64_t product_id = 0;
  std::int64_t quantity = 0;
  std::vector<BundleComponent> components;  ///< empty for an ordinary item
};

/// The line to name when `short_product` has only `available` for all the lines: the first
/// line that takes it (itself or inside a box), and how many of that line's own units (pieces,
/// grams or boxes) are left for it once the other lines that take it have theirs. Taking that
/// line down to `left` makes this product fit unless the other lines alone take more than there
/// is (then the next refusal names one of them): a page that offers it always gets closer and
/// never loops. nullopt when no line takes the product.
struct ShortLine {
  std::size_t index = 0;
  std::int64_t left = 0;
};
std::optional<ShortLine> short_line(std::span<const AskedLine> lines, std::int64_t short_product,
                                    std::int64_t available);

/// What the split needs of a component: its quantity in one box, its list price now and the
/// commission rate in force for it (as a sale of it alone would take).
struct BundleComponentTerms {
  std::int64_t quantity = 0;  ///< per box
  Fen unit_price;             ///< the component's list price (per piece)
  int commission_bps = 0;
};

/// A box line's part for one component: the component line of the sale.
struct BundleComponentPart {
  std::int64_t quantity = 0;  ///< boxes × quantity per box
  Fen list;                   ///< gross + line_discount + sale_discount
  Fen line_discount;
  Fen sale_discount;
  Fen gross;
  int commission_bps = 0;
  CommissionSplit split;  ///< fee + share == gross, at the component's rate
};

/// Splits a priced box line (`boxes` boxes) across its components. The gross and the discount
/// are each split by the components' list amounts (quantity × list price) with allocate(), box
/// by box: the whole fen of one box split once and multiplied by `boxes`, the remainder of the
/// division split on top; so one box's refund of an undiscounted line is exactly the box price
/// and every box gives each village the same part. The price of that: a box whose price does not
/// split evenly rounds the same way in every box, so a village's part may differ from its exact
/// share of the whole line by less than 1 fen per box (never in total: the parts sum exactly). The
/// line's own discount is spread over the components' discount parts, so that every part is
/// ≥ 0 and gross = list − line discount − sale discount per component. The parts of each of
/// list, discounts, gross, fee and share sum exactly to the box line's (fee and share: as each
/// component's gross splits by its own rate). No components, boxes ≤ 0 or a part that would be
/// negative is `internal`.
std::vector<BundleComponentPart> split_bundle_line(
    const PricedLine& line, std::int64_t boxes, std::span<const BundleComponentTerms> components);

}  // namespace yizhan::domain
