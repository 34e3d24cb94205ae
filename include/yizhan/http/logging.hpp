// Process-wide logging: one line per request must not cost a system call each.
#pragma once

#include <string>

namespace yizhan::http {

/// Logs to standard output through stdio's buffer, flushed every second and at once for
/// warnings and errors, with ISO 8601 timestamps. `level`: trace, debug, info, warn, error.
void configure_logging(const std::string& level);

}  // namespace yizhan::http
