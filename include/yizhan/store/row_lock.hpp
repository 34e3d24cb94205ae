// How a store read locks what it finds (a small header: store headers forward-declare the rest).
#pragma once

namespace yizhan::store {

/// How a read locks the rows it finds until the transaction ends: not at all, shared (no other
/// transaction changes them meanwhile) or exclusive (nobody else locks them either).
enum class RowLock { none, share, update };

}  // namespace yizhan::store
