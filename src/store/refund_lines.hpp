// Private to src/store: the lines of a refund and of an ask to refund to a code share one shape.
#pragma once

#include <cstdint>
#include <vector>

#include "yizhan/store/counter.hpp"

namespace yizhan::store {

class UnitOfWork;

/// Inserts `lines` into `table` (refund_lines or code_refund_lines) under `parent_column` =
/// `parent_id`, in one statement.
void insert_refund_line_rows(UnitOfWork& unit, const char* table, const char* parent_column,
                             std::int64_t parent_id, const std::vector<RefundLineRecord>& lines);

}  // namespace yizhan::store
