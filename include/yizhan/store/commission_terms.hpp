// SQL for effective-dated commission terms: their history and the rates in force on a day.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace yizhan::store {

class UnitOfWork;

/// A row of `commission_terms`, with its product's name.
struct CommissionTermRecord {
  std::int64_t id = 0;
  std::int64_t village_id = 0;
  std::optional<std::int64_t> product_id;  ///< nothing = the village's default
  std::string product_name;                ///< empty for the village's default
  std::optional<int> bps;                  ///< nothing = the product's override ends
  std::string effective_from;              ///< business day "YYYY-MM-DD"
  std::int64_t created_at_us = 0;
  std::optional<std::int64_t> created_by;
  std::string created_by_name;
  std::string note;
};

/// A village's terms: its defaults and the overrides of the products it has now, newest first.
std::vector<CommissionTermRecord> list_commission_terms(UnitOfWork& unit, std::int64_t village_id);

/// Inserts a term; fills in its id and created_at.
void insert_commission_term(UnitOfWork& unit, CommissionTermRecord& term);

/// The terms in force on one business day, for showing the current rates in catalog answers.
struct TermsInForce {
  std::map<std::int64_t, int> village_defaults;  ///< village id → rate
  /// product id → its override term's rate (nothing = the override ended)
  std::map<std::int64_t, std::optional<int>> product_overrides;
};

/// The terms in force on `day` ("YYYY-MM-DD"): of one village, or of all when none is named.
TermsInForce terms_in_force(UnitOfWork& unit, const std::string& day,
                            std::optional<std::int64_t> village_id = std::nullopt);

}  // namespace yizhan::store
