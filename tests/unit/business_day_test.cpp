// The business day: a fixed-offset zone from configuration, the day an instant falls in, and
// that day's bounds in UTC.
#include <gtest/gtest.h>

#include <random>

#include "yizhan/domain/time.hpp"

using namespace yizhan::domain;
using namespace std::chrono;

namespace {
sys_time<microseconds> utc(int y, unsigned mo, unsigned d, int h, int mi, int s, int us = 0) {
  return sys_days(year(y) / month(mo) / day(d)) + hours(h) + minutes(mi) + seconds(s) +
         microseconds(us);
}
}  // namespace

TEST(TimeZone, ShanghaiAndItsAliasesAreUtcPlusEight) {
  for (const char* name : {"Asia/Shanghai", "Asia/Chongqing", "PRC", "Asia/Hong_Kong"}) {
    const auto zone = TimeZone::parse(name);
    ASSERT_TRUE(zone) << name;
    EXPECT_EQ(zone->offset(), hours(8)) << name;
    EXPECT_EQ(zone->name(), name);
  }
  EXPECT_EQ(TimeZone::shanghai().offset(), hours(8));
  EXPECT_EQ(TimeZone::parse("UTC")->offset(), seconds(0));
}

TEST(TimeZone, ExplicitOffsetsAreAccepted) {
  EXPECT_EQ(TimeZone::parse("+08:00")->offset(), hours(8));
  EXPECT_EQ(TimeZone::parse("UTC+08:00")->offset(), hours(8));
  EXPECT_EQ(TimeZone::parse("-03:30")->offset(), -(hours(3) + minutes(30)));
  EXPECT_EQ(TimeZone::parse("+0545")->offset(), hours(5) + minutes(45));
  EXPECT_EQ(TimeZone::parse("+14:00")->offset(), hours(14));
}

TEST(TimeZone, NamesWeCannotTrustAreRefused) {
  // Zones with daylight saving would be silently wrong for half the year with a fixed offset.
  for (const char* name : {"Europe/Berlin", "America/New_York", "Asia/Shangai", "", "+8", "+08:0",
                           "+15:00", "+08:20", "08:00", "asia/shanghai", "CST"}) {
    EXPECT_FALSE(TimeZone::parse(name)) << name;
  }
}

TEST(BusinessDay, ChangesAtMidnightInShanghaiNotInUtc) {
  const auto zone = TimeZone::shanghai();
  // 2026-11-25 23:59:59.999999 in Shanghai is 15:59:59.999999 UTC.
  EXPECT_EQ(business_day(utc(2026, 11, 25, 15, 59, 59, 999999), zone),
            year(2026) / month(11) / day(25));
  EXPECT_EQ(business_day(utc(2026, 11, 25, 16, 0, 0), zone), year(2026) / month(11) / day(26));
  // 07:59 UTC on the 25th is still the 25th in Shanghai; 00:30 UTC too.
  EXPECT_EQ(business_day(utc(2026, 11, 25, 0, 30, 0), zone), year(2026) / month(11) / day(25));
  // New Year's Eve across the year boundary.
  EXPECT_EQ(business_day(utc(2026, 12, 31, 16, 0, 0), zone), year(2027) / month(1) / day(1));
  EXPECT_EQ(business_day(utc(2026, 11, 25, 16, 0, 0), *TimeZone::parse("UTC")),
            year(2026) / month(11) / day(25));
}

TEST(BusinessDay, BoundsAreLocalMidnightToNextLocalMidnightInUtc) {
  const auto bounds = day_bounds_utc(year(2026) / month(11) / day(25), TimeZone::shanghai());
  EXPECT_EQ(bounds.start, utc(2026, 11, 24, 16, 0, 0));
  EXPECT_EQ(bounds.end, utc(2026, 11, 25, 16, 0, 0));
  const auto leap = day_bounds_utc(year(2028) / month(2) / day(29), *TimeZone::parse("-03:30"));
  EXPECT_EQ(leap.start, utc(2028, 2, 29, 3, 30, 0));
  EXPECT_EQ(leap.end - leap.start, hours(24));
}

TEST(BusinessDay, EveryInstantLiesInTheBoundsOfItsOwnDay) {
  std::mt19937_64 random(5);
  // 2000-01-01 to about 2060, in microseconds.
  std::uniform_int_distribution<std::int64_t> micros(946'684'800'000'000, 2'840'000'000'000'000);
  for (const auto& zone : {TimeZone::shanghai(), *TimeZone::parse("-09:30")}) {
    for (int i = 0; i < 10000; ++i) {
      const sys_time<microseconds> at{microseconds(micros(random))};
      const auto bounds = day_bounds_utc(business_day(at, zone), zone);
      ASSERT_LE(bounds.start, at);
      ASSERT_LT(at, bounds.end);
    }
  }
}

TEST(Iso8601, OffsetsAndFractionsGiveTheInstantToTheMicrosecond) {
  const auto at = [](int y, unsigned mo, unsigned d, int h, int mi, int s, int us = 0) {
    return utc(y, mo, d, h, mi, s, us).time_since_epoch().count();
  };
  EXPECT_EQ(parse_iso8601("2026-12-02T10:15:00+08:00"), at(2026, 12, 2, 2, 15, 0));
  EXPECT_EQ(parse_iso8601("2026-12-02T02:15:00Z"), at(2026, 12, 2, 2, 15, 0));
  EXPECT_EQ(parse_iso8601("2026-12-02t02:15:00.5z"), at(2026, 12, 2, 2, 15, 0, 500000));
  EXPECT_EQ(parse_iso8601("2026-12-01T23:59:59.123456789-05:30"),
            at(2026, 12, 2, 5, 29, 59, 123456));
  EXPECT_EQ(parse_iso8601("2100-01-01T00:00:00+08:00"), at(2099, 12, 31, 16, 0, 0))
      << "no 2038 limit";
  EXPECT_EQ(parse_iso8601("1969-12-31T23:59:59Z"), -1'000'000);
}

TEST(Iso8601, AnythingOutOfItsRangeOrShapeIsNothing) {
  for (const char* bad :
       {"2026-12-07T25:00:00+08:00", "2026-12-07T24:00:00Z", "2026-12-07T23:60:00Z",
        "2026-12-07T23:59:60Z", "2026-02-30T10:00:00Z", "2026-13-01T10:00:00Z",
        "2026-12-07T10:00:00", "2026-12-07T10:00:00+8:00", "2026-12-07T10:00:00+15:00",
        "2026-12-07T10:00:00+08:60", "2026-12-07T10:00:00.Z", "2026-12-07T10:00:00Zx",
        "2026-12-07T 1:00:00Z", "2026-12-07T+1:00:00Z", "2026-12-07T10:0:00Z+", "2026-12-07",
        "2026-12-07X10:00:00Z", "２０２６-12-07T10:00:00Z", ""})
    EXPECT_FALSE(parse_iso8601(bad)) << bad;
}
