// Gift boxes: their definition rules, availability and the split of their price across villages.
#include "yizhan/domain/bundle.hpp"

#include <algorithm>
#include <limits>
#include <set>

#include "yizhan/domain/allocation.hpp"
#include "yizhan/domain/error.hpp"

namespace yizhan::domain {
namespace {

[[noreturn]] void bug(std::string cause) {
  throw Error(ErrorCode::internal, "internal error", {}, std::move(cause));
}

std::string component_field(std::size_t index, std::string_view member) {
  return "components[" + std::to_string(index) + "]." + std::string(member);
}

}  // namespace

std::string_view to_string(ProductKind kind) {
  return kind == ProductKind::bundle ? "bundle" : "item";
}

std::optional<ProductKind> parse_product_kind(std::string_view text) {
  if (text == "item") return ProductKind::item;
  if (text == "bundle") return ProductKind::bundle;
  return std::nullopt;
}

void check_bundle_components(std::span<const BundleComponent> components, std::int64_t bundle_id) {
  if (components.empty())
    throw Error::invalid_field("components", "礼盒需要组成商品 / a box needs components");
  if (components.size() > kMaxComponents)
    throw Error::invalid_field("components", "礼盒最多 20 种商品 / at most 20 components");
  std::set<std::int64_t> seen;
  for (std::size_t i = 0; i < components.size(); ++i) {
    const auto& c = components[i];
    if (c.product_id <= 0)
      throw Error::invalid_field(component_field(i, "product_id"),
                                 "需要组成商品 / product_id must name a product");
    if (c.product_id == bundle_id)
      throw Error::invalid_field(component_field(i, "product_id"),
                                 "礼盒不能包含自己 / a box cannot hold itself");
    if (!seen.insert(c.product_id).second)
      throw Error::invalid_field(component_field(i, "product_id"),
                                 "同一商品只能列一次 / each product at most once");
    if (c.quantity < 1 || c.quantity > kMaxComponentQuantity)
      throw Error::invalid_field(component_field(i, "quantity"),
                                 "数量应为 1–1000 / quantity must be 1 to 1000");
  }
  if (components.size() == 1 && components.front().quantity < 2)
    throw Error::invalid_field("components",
                               "礼盒至少两种商品，或一种至少两件 / a box needs two components, "
                               "or one with quantity 2 or more");
}

std::int64_t bundle_available(std::span<const BundleComponent> components,
                              std::span<const std::int64_t> available) {
  if (components.empty() || components.size() != available.size())
    bug("bundle_available: components and availability differ");
  std::int64_t boxes = std::numeric_limits<std::int64_t>::max();
  for (std::size_t i = 0; i < components.size(); ++i) {
    if (components[i].quantity <= 0) bug("bundle_available: quantity ≤ 0");
    boxes = std::min(boxes, std::max<std::int64_t>(0, available[i]) / components[i].quantity);
  }
  return boxes;
}

namespace {

/// `total` split by `weights` box by box: each box's whole fen split alike (so a village's part
/// is the same in every box, and refunding n boxes of a line that is a whole number of fen per
/// box gives back exactly n boxes' price), then the fen left over by the division split once.
std::vector<Fen> allocate_per_box(Fen total, std::int64_t boxes,
                                  std::span<const std::int64_t> weights) {
  auto parts = allocate(Fen(total.value() / boxes), weights);
  const auto rest = allocate(Fen(total.value() % boxes), weights);
  for (std::size_t i = 0; i < parts.size(); ++i)
    parts[i] = Fen(parts[i].value() * boxes) + rest[i];
  return parts;
}

}  // namespace

std::vector<BundleComponentPart> split_bundle_line(
    const PricedLine& line, std::int64_t boxes, std::span<const BundleComponentTerms> components) {
  if (components.empty()) bug("split_bundle_line: no components");
  if (boxes <= 0) bug("split_bundle_line: boxes ≤ 0");
  // 128-bit for the weights' arithmetic is allocate()'s; the weights themselves are small.
  std::vector<std::int64_t> weights;
  weights.reserve(components.size());
  for (const auto& c : components) {
    if (c.quantity <= 0 || c.unit_price < Fen(0)) bug("split_bundle_line: bad component");
    weights.push_back(c.quantity * c.unit_price.value());
  }
  const Fen discount = line.line_discount + line.sale_discount;
  if (line.gross < Fen(0) || discount < Fen(0) || line.gross + discount != line.list)
    bug("split_bundle_line: an inconsistent box line");
  const auto gross_parts = allocate_per_box(line.gross, boxes, weights);
  const auto discount_parts = allocate_per_box(discount, boxes, weights);
  // The line's own discount spread by each component's discount: largest remainder never
  // gives a part more than the ceiling of its exact share, which is ≤ that discount part.
  std::vector<std::int64_t> discount_weights;
  discount_weights.reserve(components.size());
  for (const Fen part : discount_parts)
    discount_weights.push_back(part.value());
  const auto line_discount_parts = allocate(line.line_discount, discount_weights);

  std::vector<BundleComponentPart> parts;
  parts.reserve(components.size());
  for (std::size_t i = 0; i < components.size(); ++i) {
    BundleComponentPart part;
    part.quantity = boxes * components[i].quantity;
    part.gross = gross_parts[i];
    part.line_discount = line_discount_parts[i];
    part.sale_discount = discount_parts[i] - line_discount_parts[i];
    part.list = part.gross + discount_parts[i];
    part.commission_bps = components[i].commission_bps;
    part.split = commission(part.gross, part.commission_bps);
    if (part.gross < Fen(0) || part.line_discount < Fen(0) || part.sale_discount < Fen(0))
      bug("split_bundle_line: a negative part");
    parts.push_back(part);
  }
  return parts;
}

std::optional<ShortLine> short_line(std::span<const AskedLine> lines, std::int64_t short_product,
                                    std::int64_t available) {
  // What each line takes of the product (0 when none), by line.
  std::vector<std::int64_t> takes(lines.size(), 0);
  std::int64_t total = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& line = lines[i];
    if (line.components.empty()) {
      if (line.product_id == short_product) takes[i] = line.quantity;
    } else {
      for (const auto& c : line.components)
        if (c.product_id == short_product) takes[i] += c.quantity * line.quantity;
    }
    total += takes[i];
  }
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (takes[i] == 0) continue;
    const std::int64_t for_this = std::max<std::int64_t>(0, available - (total - takes[i]));
    if (lines[i].components.empty()) return ShortLine{i, std::min(for_this, lines[i].quantity)};
    const std::int64_t per_box = takes[i] / lines[i].quantity;
    return ShortLine{i, std::min(for_this / per_box, lines[i].quantity)};
  }
  return std::nullopt;
}

}  // namespace yizhan::domain
