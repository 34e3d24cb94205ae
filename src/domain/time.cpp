// UTC datetimes from MariaDB to Asia/Shanghai ISO 8601 text, without the process's time zone.
#include "yizhan/domain/time.hpp"

#include <chrono>
#include <cstdio>

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

}  // namespace yizhan::domain
