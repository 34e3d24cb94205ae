// Config: TOML values, environment overrides, and clear errors.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

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

TEST(Config, PaymentAccountsAndOrderRulesAreRead) {
  const auto path =
      write_temp("yizhan-config-payments.toml",
                 "[orders]\nunpaid_minutes = 15\ndelivery_areas = [\"安海镇\", \"东石镇\"]\n"
                 "[payments.wechat]\nmch_id = \"1900000001\"\napp_id = \"wx1\"\n"
                 "merchant_serial = \"S1\"\nmerchant_private_key_file = \"/k/m.pem\"\n"
                 "api_v3_key_file = \"/k/v3.txt\"\nplatform_public_key_file = \"/k/p.pem\"\n"
                 "platform_serial = \"PUB_KEY_ID_1\"\nnotify_url = \"https://s/n\"\n"
                 "code_pay_v2 = true\ntimeout_ms = 3000\n"
                 "[payments.alipay]\napp_id = \"2021\"\nseller_id = \"2088000000000001\"\n"
                 "app_private_key_file = \"/k/a.pem\"\n"
                 "alipay_public_key_file = \"/k/ap.pem\"\nnotify_url = \"https://s/a\"\n");
  const auto config = yizhan::load_config(path);
  EXPECT_EQ(config.orders.unpaid_minutes, 15);
  EXPECT_EQ(config.orders.pickup_days, 2);
  EXPECT_EQ(config.orders.delivery_areas, (std::vector<std::string>{"安海镇", "东石镇"}));
  EXPECT_TRUE(config.wechat_pay.configured());
  EXPECT_EQ(config.wechat_pay.platform_serial, "PUB_KEY_ID_1");
  EXPECT_TRUE(config.wechat_pay.code_pay_v2);
  EXPECT_EQ(config.wechat_pay.timeout, std::chrono::milliseconds(3000));
  EXPECT_TRUE(config.alipay.configured());
  EXPECT_EQ(config.alipay.gateway_url, "https://openapi.alipay.com/gateway.do");
  EXPECT_FALSE(yizhan::load_config(std::nullopt).wechat_pay.configured())
      << "no merchant account unless one is configured";
}

TEST(Config, AHalfConfiguredMerchantAccountOrBadOrderRuleIsRefusedNamingTheKey) {
  for (const auto& [text, key] : std::vector<std::pair<std::string, std::string>>{
           {"[payments.wechat]\nmch_id = \"1900000001\"\n", "payments.wechat"},
           {"[payments.alipay]\napp_id = \"2021\"\n", "payments.alipay"},
           {"[payments.alipay]\napp_id = \"2021\"\napp_private_key_file = \"/k/a.pem\"\n"
            "alipay_public_key_file = \"/k/ap.pem\"\nnotify_url = \"https://s/a\"\n",
            "seller_id"},
           {"[payments.wechat]\ncode_pay_v2 = \"yes\"\n", "payments.wechat.code_pay_v2"},
           {"[orders]\nunpaid_minutes = 0\n", "orders.unpaid_minutes"},
           {"[orders]\ndelivery_fee_fen = -1\n", "orders.delivery_fee_fen"}}) {
    const auto path = write_temp("yizhan-config-bad-payments.toml", text);
    try {
      yizhan::load_config(path);
      ADD_FAILURE() << text;
    } catch (const std::runtime_error& error) {
      EXPECT_NE(std::string(error.what()).find(key), std::string::npos) << error.what();
    }
  }
}

TEST(Config, TheProviderPoolHasSixteenThreadsUnlessToldAndNeverNone) {
  EXPECT_EQ(yizhan::load_config(std::nullopt).http.provider_threads, 16);
  const auto path = write_temp("yizhan-config-provider.toml", "[http]\nprovider_threads = 4\n");
  EXPECT_EQ(yizhan::load_config(path).http.provider_threads, 4);
  setenv("YIZHAN_PROVIDER_THREADS", "6", 1);
  const auto from_environment = yizhan::load_config(path);
  unsetenv("YIZHAN_PROVIDER_THREADS");
  EXPECT_EQ(from_environment.http.provider_threads, 6);
  const auto none =
      write_temp("yizhan-config-provider-none.toml", "[http]\nprovider_threads = 0\n");
  try {
    yizhan::load_config(none);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& error) {
    EXPECT_NE(std::string(error.what()).find("http.provider_threads"), std::string::npos)
        << error.what();
  }
}
