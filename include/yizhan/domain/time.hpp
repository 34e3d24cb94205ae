// Business time: stored as UTC, shown in Asia/Shanghai (UTC+8 all year, no daylight saving).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace yizhan::domain {

/// Parses MariaDB's "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) into microseconds since the epoch.
std::optional<std::int64_t> parse_utc_datetime(std::string_view text);

/// ISO 8601 in Asia/Shanghai with offset and milliseconds: "2026-11-25T14:39:00.123+08:00".
std::string format_shanghai_time(std::int64_t unix_microseconds);

}  // namespace yizhan::domain
