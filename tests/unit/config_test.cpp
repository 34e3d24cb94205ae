// Config: TOML values, environment overrides, and clear errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "yizhan/config.hpp"

namespace {
std::string write_temp(const std::string& name, const std::string& text) {
  const auto path = std::filesystem::temp_directory_path() / name;
  std::ofstream(path) << text;
  return path.string();
}
}  // namespace

TEST(Config, DefaultsWithoutFile) {
  const auto config = yizhan::load_config(std::nullopt);
  EXPECT_EQ(config.http.port, 8080);
  EXPECT_EQ(config.database.schema, "yizhan");
}

TEST(Config, ReadsTomlThenEnvironmentWins) {
  const auto path = write_temp("yizhan-config-test.toml",
                               "[http]\nport = 9001\nrequest_timeout_ms = 1500\n"
                               "[database]\nsocket = \"/tmp/x.sock\"\npool_size = 3\n");
  setenv("YIZHAN_PORT", "9002", 1);
  const auto config = yizhan::load_config(path);
  unsetenv("YIZHAN_PORT");
  EXPECT_EQ(config.http.port, 9002);
  EXPECT_EQ(config.http.request_timeout.count(), 1500);
  EXPECT_EQ(config.database.socket, "/tmp/x.sock");
  EXPECT_EQ(config.database.pool_size, 3);
}

TEST(Config, BadValuesNameTheKey) {
  const auto path = write_temp("yizhan-config-bad.toml", "[http]\nport = \"eighty\"\n");
  try {
    yizhan::load_config(path);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("http.port"), std::string::npos) << error.what();
  }
  const auto syntax = write_temp("yizhan-config-syntax.toml", "[http\nport = 1\n");
  EXPECT_THROW(yizhan::load_config(syntax), std::runtime_error);
}

TEST(Config, TheBusinessTimeZoneMustBeOneWeCanTrust) {
  EXPECT_EQ(yizhan::load_config(std::nullopt).business_time_zone, "Asia/Shanghai");
  const auto offset =
      write_temp("yizhan-config-zone.toml", "[station]\nbusiness_time_zone = \"+08:00\"\n");
  EXPECT_EQ(yizhan::load_config(offset).business_time_zone, "+08:00");
  const auto daylight = write_temp("yizhan-config-zone-bad.toml",
                                   "[station]\nbusiness_time_zone = \"Europe/Berlin\"\n");
  try {
    yizhan::load_config(daylight);
    FAIL() << "a zone with daylight saving must be refused at load";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("business_time_zone"), std::string::npos)
        << error.what();
  }
  setenv("YIZHAN_BUSINESS_TIME_ZONE", "Mars/Olympus", 1);
  EXPECT_THROW(yizhan::load_config(std::nullopt), std::runtime_error);
  unsetenv("YIZHAN_BUSINESS_TIME_ZONE");
}
