// UTC datetimes from MariaDB to Asia/Shanghai ISO 8601 text, the business time zone and its days,
// all without the process's time zone.
#include "yizhan/domain/time.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <utility>

namespace yizhan::domain {
namespace {
constexpr std::int64_t kShanghaiOffsetSeconds = 8 * 3600;
}

std::optional<std::int64_t> parse_utc_datetime(std::string_view text) {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (text.size() < 19) return std::nullopt;
  const std::string head(text.substr(0, 19));
  if (std::sscanf(head.c_str(), "%4d-%2d-%2d %2d:%2d:%2d", &year, &month, &day, &hour, &minute,
                  &second) != 6) {
    return std::nullopt;
  }
  std::int64_t micros = 0;
  if (text.size() > 20 && text[19] == '.') {
    std::string_view fraction = text.substr(20, 6);
    std::int64_t scale = 100000;
    for (char c : fraction) {
      if (c < '0' || c > '9') return std::nullopt;
      micros += (c - '0') * scale;
      scale /= 10;
    }
  }
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(year),
                            std::chrono::month(static_cast<unsigned>(month)),
                            std::chrono::day(static_cast<unsigned>(day))};
  if (!date.ok()) return std::nullopt;
  const auto seconds = sys_days(date).time_since_epoch() + hours(hour) + minutes(minute) +
                       std::chrono::seconds(second);
  return duration_cast<microseconds>(seconds).count() + micros;
}

std::optional<std::chrono::year_month_day> parse_iso_date(std::string_view text) {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  int parts[3] = {0, 0, 0};
  const std::size_t starts[3] = {0, 5, 8}, lengths[3] = {4, 2, 2};
  for (int i = 0; i < 3; ++i)
    for (std::size_t j = 0; j < lengths[i]; ++j) {
      const char c = text[starts[i] + j];
      if (c < '0' || c > '9') return std::nullopt;
      parts[i] = parts[i] * 10 + (c - '0');
    }
  const std::chrono::year_month_day day{std::chrono::year(parts[0]),
                                        std::chrono::month(static_cast<unsigned>(parts[1])),
                                        std::chrono::day(static_cast<unsigned>(parts[2]))};
  if (!day.ok()) return std::nullopt;
  return day;
}

std::string format_iso_date(std::chrono::year_month_day day) {
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u-%02u", static_cast<int>(day.year()),
                static_cast<unsigned>(day.month()), static_cast<unsigned>(day.day()));
  return text;
}

std::optional<std::int64_t> parse_iso8601(std::string_view text) {
  // RFC 3339: YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM), every part its digits and in its range
  // (no hour 25, no leap second); digits of a fraction beyond microseconds are cut.
  const auto number = [&](std::size_t at, std::size_t digits) -> std::optional<int> {
    if (text.size() < at + digits) return std::nullopt;
    int value = 0;
    for (std::size_t i = at; i < at + digits; ++i) {
      if (text[i] < '0' || text[i] > '9') return std::nullopt;
      value = value * 10 + (text[i] - '0');
    }
    return value;
  };
  if (text.size() < 20 || (text[10] != 'T' && text[10] != 't' && text[10] != ' ') ||
      text[13] != ':' || text[16] != ':')
    return std::nullopt;
  const auto date = parse_iso_date(text.substr(0, 10));
  const auto hour = number(11, 2), minute = number(14, 2), second = number(17, 2);
  if (!date || !hour || !minute || !second || *hour > 23 || *minute > 59 || *second > 59)
    return std::nullopt;
  using namespace std::chrono;
  std::int64_t micros =
      duration_cast<microseconds>(sys_days(*date).time_since_epoch() + hours(*hour) +
                                  minutes(*minute) + seconds(*second))
          .count();
  std::size_t pos = 19;
  if (text[pos] == '.') {
    const std::size_t start = ++pos;
    std::int64_t scale = 100000;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      micros += (text[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  const auto rest = text.substr(pos);
  if (rest == "Z" || rest == "z") return micros;
  if (rest.size() != 6 || (rest[0] != '+' && rest[0] != '-') || rest[3] != ':') return std::nullopt;
  const auto offset_hours = number(pos + 1, 2), offset_minutes = number(pos + 4, 2);
  if (!offset_hours || !offset_minutes || *offset_hours > 14 || *offset_minutes > 59)
    return std::nullopt;
  const std::int64_t offset = (*offset_hours * 3600LL + *offset_minutes * 60LL) * 1'000'000LL;
  return rest[0] == '+' ? micros - offset : micros + offset;
}

std::string format_shanghai_time(std::int64_t unix_microseconds) {
  using namespace std::chrono;
  const auto local =
      sys_time<microseconds>(microseconds(unix_microseconds)) + seconds(kShanghaiOffsetSeconds);
  const auto day_start = floor<days>(local);
  const year_month_day date{day_start};
  const hh_mm_ss time{floor<milliseconds>(local - day_start)};
  char text[64];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02ld:%02ld:%02ld.%03ld+08:00",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<long>(time.hours().count()),
                static_cast<long>(time.minutes().count()),
                static_cast<long>(time.seconds().count()),
                static_cast<long>(time.subseconds().count()));
  return text;
}

namespace {

// Zones whose offset has not changed for decades and has no daylight saving (see time.hpp).
constexpr std::array<std::pair<std::string_view, int>, 9> kFixedZones{{
    {"Asia/Shanghai", 8 * 3600},
    {"Asia/Chongqing", 8 * 3600},
    {"Asia/Harbin", 8 * 3600},
    {"PRC", 8 * 3600},
    {"Asia/Hong_Kong", 8 * 3600},
    {"Asia/Macau", 8 * 3600},
    {"Asia/Taipei", 8 * 3600},
    {"UTC", 0},
    {"Etc/UTC", 0},
}};

/// "+08:00", "-03:30" (also "+0800"), hours 0–14, minutes 00/15/30/45; seconds or nothing.
std::optional<int> parse_offset(std::string_view text) {
  if (text.size() != 6 && text.size() != 5) return std::nullopt;
  if (text[0] != '+' && text[0] != '-') return std::nullopt;
  const bool colon = text.size() == 6;
  if (colon && text[3] != ':') return std::nullopt;
  const std::string_view hh = text.substr(1, 2);
  const std::string_view mm = text.substr(colon ? 4 : 3, 2);
  auto digits = [](std::string_view d) {
    return d.size() == 2 && d[0] >= '0' && d[0] <= '9' && d[1] >= '0' && d[1] <= '9';
  };
  if (!digits(hh) || !digits(mm)) return std::nullopt;
  const int hours = (hh[0] - '0') * 10 + (hh[1] - '0');
  const int minutes = (mm[0] - '0') * 10 + (mm[1] - '0');
  if (hours > 14 || minutes % 15 != 0 || minutes > 45) return std::nullopt;
  const int seconds = hours * 3600 + minutes * 60;
  return text[0] == '-' ? -seconds : seconds;
}

}  // namespace

std::optional<TimeZone> TimeZone::parse(std::string_view name) {
  for (const auto& [known, offset] : kFixedZones) {
    if (name == known) return TimeZone(std::string(name), std::chrono::seconds(offset));
  }
  std::string_view offset_text = name;
  if (offset_text.starts_with("UTC")) offset_text.remove_prefix(3);
  if (const auto offset = parse_offset(offset_text)) {
    return TimeZone(std::string(name), std::chrono::seconds(*offset));
  }
  return std::nullopt;
}

TimeZone TimeZone::shanghai() {
  return TimeZone("Asia/Shanghai", std::chrono::hours(8));
}

std::chrono::year_month_day business_day(std::chrono::system_clock::time_point at,
                                         const TimeZone& zone) {
  using namespace std::chrono;
  const auto local = time_point_cast<microseconds>(at) + zone.offset();
  return year_month_day{floor<days>(local)};
}

UtcRange day_bounds_utc(std::chrono::year_month_day day, const TimeZone& zone) {
  using namespace std::chrono;
  const sys_time<microseconds> local_midnight = sys_days(day);
  return {local_midnight - zone.offset(), local_midnight + days(1) - zone.offset()};
}

}  // namespace yizhan::domain
