// Business time: stored as UTC, shown and counted in the station's zone (Asia/Shanghai).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace yizhan::domain {

/// Parses MariaDB's "YYYY-MM-DD HH:MM:SS[.ffffff]" (UTC) into microseconds since the epoch.
std::optional<std::int64_t> parse_utc_datetime(std::string_view text);

/// Parses an RFC 3339 date-time, ISO 8601 with an offset ("2026-12-02T10:15:00+08:00",
/// "…T02:15:00.123Z"), into microseconds since the epoch (a longer fraction is cut to
/// microseconds); nothing for anything else (no offset, a bad date, hour 24 or more, minute or
/// second 60 or more, an offset beyond ±14:59).
std::optional<std::int64_t> parse_iso8601(std::string_view text);

/// Parses a calendar date "YYYY-MM-DD"; nothing for anything else or an impossible date.
std::optional<std::chrono::year_month_day> parse_iso_date(std::string_view text);

/// Formats a calendar date as "YYYY-MM-DD".
std::string format_iso_date(std::chrono::year_month_day day);

/// ISO 8601 in Asia/Shanghai with offset and milliseconds: "2026-11-25T14:39:00.123+08:00".
std::string format_shanghai_time(std::int64_t unix_microseconds);

/// The business day's time zone as a fixed offset from UTC.
///
/// Why fixed: GCC 12's libstdc++ has no std::chrono::tzdb/locate_zone, and the station's zone,
/// Asia/Shanghai, has been UTC+08:00 all year since 1991 (China ended daylight saving then).
/// So a name maps to its one offset, and a name whose offset changes over the year is refused
/// rather than silently wrong. Accepted: "Asia/Shanghai" (and its aliases "Asia/Chongqing",
/// "Asia/Harbin", "PRC"), "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei", "UTC", "Etc/UTC",
/// and explicit offsets "+08:00", "-03:30", "UTC+08:00" (hours up to 14).
class TimeZone {
 public:
  /// The zone named by configuration, or nothing for a name we cannot trust.
  static std::optional<TimeZone> parse(std::string_view name);
  /// Asia/Shanghai (UTC+08:00), the default.
  static TimeZone shanghai();

  [[nodiscard]] std::chrono::seconds offset() const { return offset_; }
  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  TimeZone(std::string name, std::chrono::seconds offset)
      : name_(std::move(name)), offset_(offset) {}
  std::string name_;
  std::chrono::seconds offset_;
};

/// A half-open interval of UTC time points [start, end).
struct UtcRange {
  std::chrono::sys_time<std::chrono::microseconds> start;
  std::chrono::sys_time<std::chrono::microseconds> end;
};

/// The business day (a local calendar date in `zone`) that the instant `at` falls in.
std::chrono::year_month_day business_day(std::chrono::system_clock::time_point at,
                                         const TimeZone& zone);

/// The UTC instants of business day `day` in `zone`: [local midnight, next local midnight).
/// For queries like `created_at >= start AND created_at < end` over UTC DATETIME columns.
UtcRange day_bounds_utc(std::chrono::year_month_day day, const TimeZone& zone);

}  // namespace yizhan::domain
