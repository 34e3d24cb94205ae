// Private to src/store: the select-list fragments that look up, inside a sale's product query,
// the commission terms in force on the sale's business day (one statement, no extra round trip).
#pragma once

namespace yizhan::store {

/// The product's override term in force on the day bound to its `?`: NULL = no term, -1 = the
/// override ended, else its rate. Reads ix_commission_terms_product backwards, one row.
inline constexpr const char* kProductTermInForce =
    "(SELECT COALESCE(t.bps, -1) FROM commission_terms t "
    "  WHERE t.product_id = p.id AND t.effective_from <= ? "
    "  ORDER BY t.effective_from DESC, t.id DESC LIMIT 1)";

/// The village's default term in force on the day bound to its `?` (NULL when none).
inline constexpr const char* kVillageTermInForce =
    "(SELECT t.bps FROM commission_terms t "
    "  WHERE t.village_id = p.village_id AND t.product_id IS NULL AND t.effective_from <= ? "
    "  ORDER BY t.effective_from DESC, t.id DESC LIMIT 1)";

}  // namespace yizhan::store
