// Process-wide logging: one line per request must not cost a system call each.
#pragma once

#include <string>
#include <string_view>

namespace yizhan::http {

/// Logs to standard output through stdio's buffer, flushed every second and at once for
/// warnings and errors, with ISO 8601 timestamps. `level`: trace, debug, info, warn, error.
void configure_logging(const std::string& level);

/// Client text (paths, header values) made safe for one log line: control characters, '\\' and
/// '"' become \xNN escapes, so a "%0a" in a path cannot forge a line.
std::string escape_for_log(std::string_view text);

}  // namespace yizhan::http
