// Private to src/store: Connector/C++ exceptions to domain errors.
#pragma once

#include "yizhan/domain/error.hpp"

namespace sql {
class SQLException;
}

namespace yizhan::store {

/// The domain error a MariaDB failure means for a client; SQL text only in `cause`.
domain::Error translate(const sql::SQLException& e);

}  // namespace yizhan::store
