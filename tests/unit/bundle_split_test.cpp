// Gift boxes (礼盒): the split of a box's price across its components' villages, always exact and
// never negative; availability as the minimum over components; the definition rules; and
// refunds of boxes, in any order, reversing exactly what the sale gave each village.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "yizhan/domain/bundle.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/domain/sale.hpp"

namespace yizhan::domain {
namespace {

template <class F>
Error error_of(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "no domain::Error thrown";
  return Error(ErrorCode::internal, "none");
}

/// A box line priced as the counter prices it: `boxes` at `price`, a line discount, and the
/// sale discount spread over it and a second, ordinary line.
PricedLine priced_box(std::int64_t boxes, std::int64_t price, std::int64_t line_discount,
                      std::int64_t sale_discount, std::int64_t other_line) {
  std::vector<SaleLineInput> inputs(2);
  inputs[0].quantity = Quantity::pieces(boxes);
  inputs[0].unit_price = Fen(price);
  inputs[0].discount = Fen(line_discount);
  inputs[1].quantity = Quantity::pieces(1);
  inputs[1].unit_price = Fen(other_line);
  inputs[1].commission_bps = 1500;
  return price_sale(inputs, Fen(sale_discount), Rounding::jiao).lines[0];
}

/// One batch of `batch` boxes refunded as the counter does: that many boxes of every component
/// line, each by refund_part of its own line; `refunded` grows by the parts, which are returned.
std::vector<LineAmounts> refund_boxes(const std::vector<BundleComponentPart>& parts,
                                      const std::vector<BundleComponentTerms>& terms,
                                      std::vector<LineAmounts>& refunded, std::int64_t batch) {
  std::vector<LineAmounts> batch_parts;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const LineAmounts whole{parts[i].quantity, parts[i].gross, parts[i].split.fee,
                            parts[i].split.share};
    const auto part = refund_part(whole, refunded[i], batch * terms[i].quantity);
    refunded[i].quantity += part.quantity;
    refunded[i].gross += part.gross;
    refunded[i].fee += part.fee;
    refunded[i].share += part.share;
    batch_parts.push_back(part);
  }
  return batch_parts;
}

TEST(BundleSplit, TheBoxPriceSplitsByTheComponentsListPricesAndEachByItsOwnRate) {
  // 100 yuan box: tea 60 (1500 bps), peanuts 2 × 10 (1200 bps), seafood 20 (1000 bps): list 100.
  PricedLine line;
  line.list = line.gross = Fen(30000);  // three boxes
  const std::vector<BundleComponentTerms> terms = {
      {1, Fen(6000), 1500}, {2, Fen(1000), 1200}, {1, Fen(2000), 1000}};
  const auto parts = split_bundle_line(line, 3, terms);
  ASSERT_EQ(parts.size(), 3u);
  EXPECT_EQ(parts[0].gross, Fen(18000));
  EXPECT_EQ(parts[1].gross, Fen(6000));
  EXPECT_EQ(parts[2].gross, Fen(6000));
  EXPECT_EQ(parts[0].quantity, 3);
  EXPECT_EQ(parts[1].quantity, 6);
  EXPECT_EQ(parts[0].split, commission(Fen(18000), 1500));
  EXPECT_EQ(parts[1].split, commission(Fen(6000), 1200));
  EXPECT_EQ(parts[2].split.fee, Fen(600));
}

TEST(BundleSplit, RandomBoxesWithDiscountsSplitExactlyAndNeverNegative) {
  std::mt19937_64 random(20261206);
  auto between = [&](std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(random);
  };
  for (int round = 0; round < 20000; ++round) {
    const std::int64_t boxes = between(1, 12);
    const std::int64_t price = between(1, 200000);
    const std::int64_t list = boxes * price;
    const std::int64_t line_discount = between(0, 3) == 0 ? 0 : between(0, list);
    const std::int64_t other = between(1, 50000);
    const std::int64_t sale_discount = between(0, list - line_discount + other);
    const auto line = priced_box(boxes, price, line_discount, sale_discount, other);
    std::vector<BundleComponentTerms> terms(static_cast<std::size_t>(between(1, 6)));
    for (auto& t : terms)
      t = {between(1, 5), Fen(between(1, 100000)), static_cast<int>(between(0, 10000))};

    const auto parts = split_bundle_line(line, boxes, terms);
    ASSERT_EQ(parts.size(), terms.size());
    Fen list_sum, line_discount_sum, sale_discount_sum, gross_sum, fee_sum, share_sum;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const auto& p = parts[i];
      ASSERT_GE(p.gross, Fen(0));
      ASSERT_GE(p.line_discount, Fen(0));
      ASSERT_GE(p.sale_discount, Fen(0));
      ASSERT_GE(p.split.fee, Fen(0));
      ASSERT_GE(p.split.share, Fen(0));
      ASSERT_EQ(p.list - p.line_discount - p.sale_discount, p.gross);
      ASSERT_EQ(p.split.fee + p.split.share, p.gross);
      ASSERT_EQ(p.quantity, boxes * terms[i].quantity);
      list_sum += p.list;
      line_discount_sum += p.line_discount;
      sale_discount_sum += p.sale_discount;
      gross_sum += p.gross;
      fee_sum += p.split.fee;
      share_sum += p.split.share;
    }
    ASSERT_EQ(list_sum, line.list);
    ASSERT_EQ(line_discount_sum, line.line_discount);
    ASSERT_EQ(sale_discount_sum, line.sale_discount);
    ASSERT_EQ(gross_sum, line.gross);
    ASSERT_EQ(fee_sum + share_sum, line.gross);
  }
}

TEST(BundleSplit, PartialRefundsOfBoxesInAnyOrderReverseExactlyTheirParts) {
  std::mt19937_64 random(7);
  auto between = [&](std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(random);
  };
  for (int round = 0; round < 3000; ++round) {
    const std::int64_t boxes = between(1, 9);
    const std::int64_t price = between(100, 50000);
    const auto line = priced_box(boxes, price, between(0, boxes * price / 3), between(0, 999),
                                 between(1000, 5000));
    std::vector<BundleComponentTerms> terms(static_cast<std::size_t>(between(2, 5)));
    for (auto& t : terms)
      t = {between(1, 4), Fen(between(1, 30000)), static_cast<int>(between(0, 3000))};
    const auto parts = split_bundle_line(line, boxes, terms);

    // Refund the boxes in random batches: each batch refunds that many boxes of every
    // component line (as the counter does), by refund_part of each component line.
    std::vector<LineAmounts> refunded(parts.size());
    std::int64_t left = boxes;
    while (left > 0) {
      const std::int64_t batch = between(1, left);
      Fen batch_gross;
      for (const auto& part : refund_boxes(parts, terms, refunded, batch)) {
        ASSERT_GE(part.gross, Fen(0));
        ASSERT_GE(part.fee, Fen(0));
        ASSERT_GE(part.share, Fen(0));
        ASSERT_EQ(part.fee + part.share, part.gross);
        batch_gross += part.gross;
      }
      ASSERT_GE(batch_gross, Fen(0));
      left -= batch;
    }
    // Everything refunded: each village got back exactly what the sale gave it.
    for (std::size_t i = 0; i < parts.size(); ++i) {
      ASSERT_EQ(refunded[i].quantity, parts[i].quantity);
      ASSERT_EQ(refunded[i].gross, parts[i].gross);
      ASSERT_EQ(refunded[i].fee, parts[i].split.fee);
      ASSERT_EQ(refunded[i].share, parts[i].split.share);
    }
  }
}

TEST(BundleSplit, RefundingBoxesOfAWholeFenBoxPriceGivesBackExactlyThoseBoxes) {
  // ¥1.00 box of parts 50 : 50 : 200 bought 3 times: each box gives 17, 17 and 66 fen (not the
  // line's 51 : 51 : 198 thirds rounded one by one, which came to ¥1.01 for one box).
  std::mt19937_64 random(20261207);
  auto between = [&](std::int64_t low, std::int64_t high) {
    return std::uniform_int_distribution<std::int64_t>(low, high)(random);
  };
  for (int round = 0; round < 5000; ++round) {
    const std::int64_t boxes = round == 0 ? 3 : between(2, 12);
    const std::int64_t price = round == 0 ? 100 : between(1, 100000);
    PricedLine line;
    line.list = line.gross = Fen(boxes * price);
    std::vector<BundleComponentTerms> terms = {{1, Fen(50), 0}, {1, Fen(50), 0}, {1, Fen(200), 0}};
    if (round > 0) {
      terms.resize(static_cast<std::size_t>(between(2, 6)));
      for (auto& t : terms)
        t = {between(1, 4), Fen(between(1, 30000)), static_cast<int>(between(0, 3000))};
    }
    const auto parts = split_bundle_line(line, boxes, terms);
    if (round == 0) {
      EXPECT_EQ(parts[0].gross, Fen(51));
      EXPECT_EQ(parts[2].gross, Fen(198));
    }
    std::vector<LineAmounts> refunded(parts.size());
    std::int64_t left = boxes;
    while (left > 0) {
      const std::int64_t batch = between(1, left);
      Fen batch_gross;
      for (const auto& part : refund_boxes(parts, terms, refunded, batch))
        batch_gross += part.gross;
      ASSERT_EQ(batch_gross, Fen(batch * price)) << boxes << " boxes at " << price;
      left -= batch;
    }
  }
}

TEST(BundleSplit, AnInconsistentBoxLineIsABug) {
  PricedLine line;
  line.list = Fen(100);
  line.gross = Fen(120);
  const std::vector<BundleComponentTerms> terms = {{1, Fen(50), 0}, {1, Fen(50), 0}};
  EXPECT_EQ(error_of([&] { split_bundle_line(line, 1, terms); }).code(), ErrorCode::internal);
  line.gross = Fen(100);
  EXPECT_EQ(error_of([&] { split_bundle_line(line, 0, terms); }).code(), ErrorCode::internal);
  EXPECT_EQ(error_of([&] { split_bundle_line(line, 1, {}); }).code(), ErrorCode::internal);
}

TEST(BundleAvailability, IsTheMinimumOverComponentsOfWholeBoxes) {
  const std::vector<BundleComponent> components = {{1, 1}, {2, 3}, {3, 2}};
  EXPECT_EQ(bundle_available(components, std::vector<std::int64_t>{10, 10, 10}), 3);
  EXPECT_EQ(bundle_available(components, std::vector<std::int64_t>{2, 100, 100}), 2);
  EXPECT_EQ(bundle_available(components, std::vector<std::int64_t>{10, 10, 1}), 0);
  EXPECT_EQ(bundle_available(components, std::vector<std::int64_t>{10, -4, 10}), 0);
}

TEST(BundleShortLine, NamesTheFirstLineTakingTheProductWithWhatTheOthersLeaveIt) {
  // A box of 2 tea + 1 peanuts; tea on its own line too.
  const std::vector<AskedLine> lines = {{7, 3, {}}, {90, 2, {{5, 2}, {6, 1}}}, {5, 4, {}}};
  // Peanuts (6) only in the box: the box line, in boxes.
  auto found = short_line(lines, 6, 1);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->index, 1u);
  EXPECT_EQ(found->left, 1);
  // Tea (5): the box first (2 boxes take 4), the tea line's 4 stay: 9 available leave the box
  // 5 tea, 2 boxes; 7 leave 3, one box; 3 leave none.
  found = short_line(lines, 5, 7);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->index, 1u);
  EXPECT_EQ(found->left, 1);
  EXPECT_EQ(short_line(lines, 5, 3)->left, 0);
  EXPECT_EQ(short_line(lines, 5, -2)->left, 0);  // overdrawn stock counts as none
  EXPECT_EQ(short_line(lines, 7, 2)->index, 0u);
  EXPECT_EQ(short_line(lines, 7, 2)->left, 2);
  EXPECT_FALSE(short_line(lines, 8, 0));
  // Taking the named line down to `left` leaves no more than the other lines' own need.
  for (std::int64_t available = 0; available < 12; ++available) {
    auto changed = lines;
    const auto line = short_line(changed, 5, available);
    changed[line->index].quantity = line->left;
    std::int64_t tea = 0;
    for (const auto& l : changed)
      tea += l.components.empty() ? (l.product_id == 5 ? l.quantity : 0)
                                  : l.quantity * (l.components[0].product_id == 5 ? 2 : 0);
    EXPECT_LE(tea, std::max<std::int64_t>(available, 4)) << available;  // the tea line's 4 stay
  }
}

TEST(BundleDefinition, NeedsTwoComponentsOrOneOfAtLeastTwoAndPositiveQuantities) {
  auto field_of = [](std::vector<BundleComponent> components, std::int64_t self = 0) {
    const auto error = error_of([&] { check_bundle_components(components, self); });
    EXPECT_EQ(error.code(), ErrorCode::invalid);
    return error.details().count("field") ? error.details().at("field") : std::string();
  };
  EXPECT_NO_THROW(check_bundle_components(std::vector<BundleComponent>{{1, 1}, {2, 1}}, 0));
  EXPECT_NO_THROW(check_bundle_components(std::vector<BundleComponent>{{1, 2}}, 0));
  EXPECT_EQ(field_of({}), "components");
  EXPECT_EQ(field_of({{1, 1}}), "components");
  EXPECT_EQ(field_of({{1, 1}, {2, 0}}), "components[1].quantity");
  EXPECT_EQ(field_of({{1, -2}, {2, 1}}), "components[0].quantity");
  EXPECT_EQ(field_of({{1, 1}, {1, 2}}), "components[1].product_id");
  EXPECT_EQ(field_of({{0, 1}, {2, 1}}), "components[0].product_id");
  EXPECT_EQ(field_of({{7, 1}, {2, 1}}, 7), "components[0].product_id");
  EXPECT_EQ(field_of({{1, 1001}, {2, 1}}), "components[0].quantity");
}

}  // namespace
}  // namespace yizhan::domain
