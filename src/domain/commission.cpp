// Commission: fee rounded half-up from basis points, the share is the rest.
#include "yizhan/domain/commission.hpp"

#include "yizhan/domain/error.hpp"

namespace yizhan::domain {

// 128-bit intermediate: |gross| × 10 000 exceeds int64 for large amounts.
__extension__ typedef __int128 Wide;

int effective_commission_bps(std::optional<int> product_bps, int village_bps) {
  return product_bps.value_or(village_bps);
}

CommissionSplit commission(Fen gross, int basis_points) {
  if (basis_points < 0 || basis_points > 10'000) {
    throw Error::invalid_field("commission_bps", "commission_bps must be 0 to 10000");
  }
  const bool negative = gross.value() < 0;
  const Wide magnitude = negative ? -static_cast<Wide>(gross.value()) : gross.value();
  // Half-up on the magnitude, then the sign: a refund mirrors its sale to the fen.
  const Wide fee_magnitude = (magnitude * basis_points + 5'000) / 10'000;
  // fee_magnitude <= magnitude <= 2^63, and the result has gross's sign, so it fits in int64.
  const Wide fee = negative ? -fee_magnitude : fee_magnitude;
  const Wide share = static_cast<Wide>(gross.value()) - fee;
  return {Fen(static_cast<std::int64_t>(fee)), Fen(static_cast<std::int64_t>(share))};
}

std::optional<std::size_t> term_in_force(const std::vector<CommissionTerm>& terms,
                                         std::optional<std::int64_t> product_id,
                                         std::chrono::year_month_day day) {
  std::optional<std::size_t> best;
  for (std::size_t i = 0; i < terms.size(); ++i) {
    const auto& term = terms[i];
    if (term.product_id != product_id || term.effective_from > day) continue;
    if (!best || term.effective_from > terms[*best].effective_from ||
        (term.effective_from == terms[*best].effective_from && term.id > terms[*best].id))
      best = i;
  }
  return best;
}

std::vector<TermStatus> term_statuses(const std::vector<CommissionTerm>& terms,
                                      std::chrono::year_month_day day) {
  std::vector<TermStatus> statuses(terms.size(), TermStatus::past);
  for (std::size_t i = 0; i < terms.size(); ++i) {
    if (terms[i].effective_from > day) {
      statuses[i] = TermStatus::scheduled;
    } else if (term_in_force(terms, terms[i].product_id, day) == i) {
      statuses[i] = TermStatus::current;
    }
  }
  return statuses;
}

const char* to_string(TermStatus status) {
  switch (status) {
    case TermStatus::past: return "past";
    case TermStatus::current: return "current";
    case TermStatus::scheduled: return "scheduled";
  }
  return "past";
}

void check_effective_from(std::chrono::year_month_day effective_from,
                          std::chrono::year_month_day today) {
  if (!effective_from.ok())
    throw Error::invalid_field("effective_from", "effective_from 应为日期 / must be a date");
  if (effective_from < today)
    throw Error::invalid_field(
        "effective_from",
        "生效日期不能早于今天，已售出的商品行不再改变 / effective_from cannot be before today: "
        "lines already sold keep their rate");
  // Terms are agreed for the seasons ahead; a date decades away is a typing slip.
  if (std::chrono::sys_days(effective_from) >
      std::chrono::sys_days(today) + std::chrono::days(3 * 366))
    throw Error::invalid_field(
        "effective_from", "生效日期最多提前三年 / effective_from can be at most three years ahead");
}

void check_term_rate(std::optional<std::int64_t> bps, bool for_product) {
  if (!bps) {
    if (!for_product)
      throw Error::invalid_field("bps", "村的默认费率不能为空 / a village's default needs bps");
    return;
  }
  if (*bps < 0 || *bps > 10'000)
    throw Error::invalid_field("bps", "费率应为 0–10000 个基点 / bps must be 0 to 10000");
}

std::optional<int> product_override_in_force(const RatesInForce& rates) {
  if (rates.product_term) return *rates.product_term;
  return rates.product_column;
}

int rate_in_force(const RatesInForce& rates) {
  if (const auto own = product_override_in_force(rates)) return *own;
  return rates.village_term.value_or(rates.village_column);
}

}  // namespace yizhan::domain
