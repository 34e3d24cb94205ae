// A village's revenue: sale and refund lines summed into net figures.
#include "yizhan/domain/revenue.hpp"

namespace yizhan::domain {

std::string_view to_string(Channel channel) {
  return channel == Channel::online ? "online" : "counter";
}

std::optional<Channel> parse_channel(std::string_view text) {
  if (text == "counter") return Channel::counter;
  if (text == "online") return Channel::online;
  return std::nullopt;
}

void RevenueFigures::add(const RevenueLines& lines) {
  const std::int64_t sign = lines.refund ? -1 : 1;
  gross += lines.gross * sign;
  fee += lines.fee * sign;
  share += lines.share * sign;
  if (lines.refund) {
    refund_gross += lines.gross;
    refund_share += lines.share;
  }
  (lines.unit == Unit::gram ? grams : pieces) += lines.quantity * sign;
}

void RevenueTotals::add(const RevenueLines& lines) {
  all.add(lines);
  (lines.channel == Channel::online ? online : counter).add(lines);
}

void RevenueTotals::add_sales(Channel channel, std::int64_t count) {
  all.sales += count;
  (channel == Channel::online ? online : counter).sales += count;
}

}  // namespace yizhan::domain
