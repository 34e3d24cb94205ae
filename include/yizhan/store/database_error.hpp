// What a MariaDB error number means to the caller: retry, reconnect, or report.
#pragma once

#include <stdexcept>

#include "yizhan/domain/error.hpp"

namespace yizhan::store {

/// MariaDB errors sorted by what the caller can do about them (STYLE.md rule 6).
enum class FailureKind {
  retry,              ///< 1213 deadlock, 1205 lock wait timeout: run the unit of work again
  connection_lost,    ///< 2002/2003/2006/2013/…: reconnect
  node_unavailable,   ///< 1047/1053: server shutting down or Galera node not ready: 503
  duplicate,          ///< 1062 unique key
  invalid_reference,  ///< 1452 foreign key has no parent
  still_referenced,   ///< 1451 parent still has children
  invalid_value,      ///< 1048/1264/1265/1292/1366/1406/4025: a value the schema refuses
  other,
};

/// Classifies a MariaDB or client library error number.
FailureKind classify(int error_number);

}  // namespace yizhan::store
