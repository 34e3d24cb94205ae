// A village's revenue: groups of frozen sale and refund lines summed into net figures, where a
// refund reduces the sales of the business day it was made (as it does the village's payable).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "yizhan/domain/catalog.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/quantity.hpp"

namespace yizhan::domain {

/// The channel's name in the API; online orders count from the day they were paid.
std::string_view to_string(Channel channel);  ///< "counter" or "online"
std::optional<Channel> parse_channel(std::string_view text);

/// A group of lines of one channel, one unit and one kind, as frozen when sold or refunded.
struct RevenueLines {
  Channel channel = Channel::counter;
  bool refund = false;  ///< refund lines: subtracted from the sales
  Unit unit = Unit::piece;
  Fen gross{0};
  Fen fee{0};
  Fen share{0};
  std::int64_t quantity = 0;  ///< in the unit's base (pieces or grams)
};

/// Net sales figures: what was sold less what was refunded.
struct RevenueFigures {
  Fen gross{0};             ///< sold gross less refunded gross (after discounts)
  Fen fee{0};               ///< the station's commission, net
  Fen share{0};             ///< the village's share, net: fee + share = gross
  Fen refund_gross{0};      ///< of which refunded (gross, positive)
  Fen refund_share{0};      ///< the share those refunds took back (positive)
  std::int64_t pieces = 0;  ///< net pieces of goods sold by the piece
  std::int64_t grams = 0;   ///< net grams of goods sold by weight
  std::int64_t sales = 0;   ///< how many sales and paid orders had this village's goods

  /// Adds a group of lines (a refund subtracts).
  void add(const RevenueLines& lines);
};

/// Net figures in all and per channel.
struct RevenueTotals {
  RevenueFigures all;
  RevenueFigures counter;
  RevenueFigures online;

  void add(const RevenueLines& lines);
  /// Counts `count` sales (or paid orders) of `channel`.
  void add_sales(Channel channel, std::int64_t count);
};

}  // namespace yizhan::domain
