// Reads the TOML config file and the YIZHAN_* environment overrides into Config.
#include "yizhan/config.hpp"

#include <toml++/toml.h>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "yizhan/domain/scale_label.hpp"
#include "yizhan/domain/time.hpp"

namespace yizhan {
namespace {

template <class T>
void read_value(const toml::table& table, std::string_view section, std::string_view key,
                T& target) {
  const auto node = table[section][key];
  if (!node) return;
  if constexpr (std::is_same_v<T, std::string>) {
    const auto value = node.template value<std::string>();
    if (!value)
      throw std::runtime_error(std::string(section) + "." + std::string(key) +
                               ": expected a string");
    target = *value;
  } else {
    const auto value = node.template value<std::int64_t>();
    if (!value)
      throw std::runtime_error(std::string(section) + "." + std::string(key) +
                               ": expected an integer");
    target = static_cast<T>(*value);
  }
}

void read_millis(const toml::table& table, std::string_view section, std::string_view key,
                 std::chrono::milliseconds& target) {
  std::int64_t ms = target.count();
  read_value(table, section, key, ms);
  target = std::chrono::milliseconds(ms);
}

const char* env(const char* name) {
  const char* value = std::getenv(name);
  return value && *value ? value : nullptr;
}

long long env_integer(const char* name, long long current) {
  const char* value = env(name);
  if (!value) return current;
  char* end = nullptr;
  const long long parsed = std::strtoll(value, &end, 10);
  if (*end != '\0') throw std::runtime_error(std::string(name) + ": expected an integer");
  return parsed;
}

void read_strings(const toml::table& table, std::string_view section, std::string_view key,
                  std::vector<std::string>& target) {
  const auto node = table[section][key];
  if (!node) return;
  const auto* array = node.as_array();
  if (!array)
    throw std::runtime_error(std::string(section) + "." + std::string(key) +
                             ": expected an array of strings");
  target.clear();
  for (const auto& item : *array) {
    const auto value = item.value<std::string>();
    if (!value)
      throw std::runtime_error(std::string(section) + "." + std::string(key) +
                               ": expected an array of strings");
    target.push_back(*value);
  }
}

std::string read_secret_file(const std::string& path) {
  std::ifstream file(path);
  if (!file) throw std::runtime_error("cannot read password file " + path);
  std::string secret;
  std::getline(file, secret);
  return secret;
}

}  // namespace

Config load_config(const std::optional<std::string>& path) {
  Config config;
  if (path && !path->empty()) {
    toml::table table;
    try {
      table = toml::parse_file(*path);
    } catch (const toml::parse_error& error) {
      std::ostringstream message;
      message << *path << ": " << error.description() << " (line " << error.source().begin.line
              << ")";
      throw std::runtime_error(message.str());
    }
    try {
      auto& http = config.http;
      read_value(table, "http", "address", http.address);
      read_value(table, "http", "port", http.port);
      read_value(table, "http", "io_threads", http.io_threads);
      read_value(table, "http", "tls_certificate", http.tls_certificate);
      read_value(table, "http", "tls_key", http.tls_key);
      read_value(table, "http", "web_root", http.web_root);
      read_value(table, "http", "media_root", http.media_root);
      read_value(table, "http", "header_limit_bytes", http.header_limit_bytes);
      read_value(table, "http", "body_limit_bytes", http.body_limit_bytes);
      read_value(table, "http", "upload_body_limit_bytes", http.upload_body_limit_bytes);
      read_millis(table, "http", "request_timeout_ms", http.request_timeout);
      read_millis(table, "http", "handler_timeout_ms", http.handler_timeout);
      read_millis(table, "http", "write_timeout_ms", http.write_timeout);
      read_strings(table, "http", "trusted_proxies", http.trusted_proxies);
      read_value(table, "http", "access_log", http.access_log);
      read_value(table, "http", "access_log_sample", http.access_log_sample);
      read_value(table, "http", "static_cache_bytes", http.static_cache_bytes);
      read_value(table, "http", "max_connections", http.max_connections);
      read_value(table, "http", "max_queued_requests", http.max_queued_requests);
      read_value(table, "http", "provider_threads", http.provider_threads);
      read_millis(table, "http", "shutdown_grace_ms", http.shutdown_grace);

      auto& db = config.database;
      read_value(table, "database", "host", db.host);
      read_value(table, "database", "port", db.port);
      read_value(table, "database", "socket", db.socket);
      read_value(table, "database", "user", db.user);
      read_value(table, "database", "password", db.password);
      std::string password_file;
      read_value(table, "database", "password_file", password_file);
      if (!password_file.empty()) db.password = read_secret_file(password_file);
      read_value(table, "database", "schema", db.schema);
      read_value(table, "database", "pool_size", db.pool_size);
      read_millis(table, "database", "connect_timeout_ms", db.connect_timeout);
      read_millis(table, "database", "acquire_timeout_ms", db.acquire_timeout);
      std::int64_t read_timeout_seconds = db.read_timeout.count();
      read_value(table, "database", "read_timeout_seconds", read_timeout_seconds);
      db.read_timeout = std::chrono::seconds(read_timeout_seconds);
      std::int64_t lock_wait_seconds = db.lock_wait_timeout.count();
      read_value(table, "database", "lock_wait_timeout_seconds", lock_wait_seconds);
      db.lock_wait_timeout = std::chrono::seconds(lock_wait_seconds);
      read_value(table, "database", "idempotency_retention_days", db.idempotency_retention_days);
      read_value(table, "database", "migrate_user", db.migrate_user);
      std::string migrate_password_file;
      read_value(table, "database", "migrate_password_file", migrate_password_file);
      if (!migrate_password_file.empty())
        db.migrate_password = read_secret_file(migrate_password_file);

      read_value(table, "station", "business_time_zone", config.business_time_zone);
      read_value(table, "auth", "password_hash_threads", config.password_hash_threads);
      read_value(table, "counter", "cashier_discount_limit_bps",
                 config.counter.cashier_discount_limit_bps);
      read_strings(table, "counter", "scale_labels", config.counter.scale_labels);
      read_millis(table, "counter", "code_pay_deadline_ms", config.counter.code_pay_deadline);
      read_millis(table, "counter", "code_pay_poll_ms", config.counter.code_pay_poll);

      read_value(table, "orders", "unpaid_minutes", config.orders.unpaid_minutes);
      read_value(table, "orders", "pickup_days", config.orders.pickup_days);
      read_value(table, "orders", "delivery_fee_fen", config.orders.delivery_fee_fen);
      read_value(table, "orders", "free_delivery_above_fen", config.orders.free_delivery_above_fen);
      read_strings(table, "orders", "delivery_areas", config.orders.delivery_areas);
      read_value(table, "orders", "pickup_address", config.orders.pickup_address);
      read_value(table, "orders", "pickup_hours", config.orders.pickup_hours);
      read_value(table, "orders", "cash_on_pickup_max_fen", config.orders.cash_on_pickup_max_fen);
      read_value(table, "orders", "cash_on_pickup_max_pieces",
                 config.orders.cash_on_pickup_max_pieces);
      read_value(table, "orders", "cash_on_pickup_max_grams",
                 config.orders.cash_on_pickup_max_grams);
      read_value(table, "orders", "cash_on_pickup_open_per_phone",
                 config.orders.cash_on_pickup_open_per_phone);
      read_value(table, "orders", "cash_on_pickup_open_per_address",
                 config.orders.cash_on_pickup_open_per_address);

      // [payments.wechat] and [payments.alipay]: a table of tables.
      if (const auto* payments = table["payments"].as_table()) try {
          auto& wechat = config.wechat_pay;
          for (const auto& [key, target] :
               std::initializer_list<std::pair<const char*, std::string*>>{
                   {"base_url", &wechat.base_url},
                   {"mch_id", &wechat.mch_id},
                   {"app_id", &wechat.app_id},
                   {"merchant_serial", &wechat.merchant_serial},
                   {"platform_serial", &wechat.platform_serial},
                   {"notify_url", &wechat.notify_url},
                   {"merchant_private_key_file", &wechat.merchant_private_key_file},
                   {"api_v3_key_file", &wechat.api_v3_key_file},
                   {"platform_public_key_file", &wechat.platform_public_key_file},
                   {"api_v2_key_file", &wechat.api_v2_key_file},
                   {"app_secret_file", &wechat.app_secret_file},
                   {"sign_in_base_url", &wechat.sign_in_base_url},
                   {"sns_base_url", &wechat.sns_base_url},
                   {"sign_in_redirect_url", &wechat.sign_in_redirect_url}})
            read_value(*payments, "wechat", key, *target);
          if (const auto v2 = (*payments)["wechat"]["code_pay_v2"]) {
            if (!v2.is_boolean())
              throw std::runtime_error("payments.wechat.code_pay_v2: expected true or false");
            wechat.code_pay_v2 = v2.value_or(false);
          }
          read_millis(*payments, "wechat", "timeout_ms", wechat.timeout);
          auto& alipay = config.alipay;
          for (const auto& [key, target] :
               std::initializer_list<std::pair<const char*, std::string*>>{
                   {"gateway_url", &alipay.gateway_url},
                   {"app_id", &alipay.app_id},
                   {"seller_id", &alipay.seller_id},
                   {"notify_url", &alipay.notify_url},
                   {"return_url", &alipay.return_url},
                   {"app_private_key_file", &alipay.app_private_key_file},
                   {"alipay_public_key_file", &alipay.alipay_public_key_file}})
            read_value(*payments, "alipay", key, *target);
          read_millis(*payments, "alipay", "timeout_ms", alipay.timeout);
        } catch (const std::runtime_error& error) {
          const std::string what = error.what();
          throw std::runtime_error(what.starts_with("payments.") ? what : "payments." + what);
        }

      read_value(table, "log", "level", config.log_level);
    } catch (const std::runtime_error& error) {
      throw std::runtime_error(*path + ": " + error.what());
    }
  }

  auto& http = config.http;
  if (const char* v = env("YIZHAN_ADDRESS")) http.address = v;
  http.port = static_cast<std::uint16_t>(env_integer("YIZHAN_PORT", http.port));
  http.io_threads = static_cast<int>(env_integer("YIZHAN_IO_THREADS", http.io_threads));
  http.provider_threads =
      static_cast<int>(env_integer("YIZHAN_PROVIDER_THREADS", http.provider_threads));
  if (const char* v = env("YIZHAN_TLS_CERTIFICATE")) http.tls_certificate = v;
  if (const char* v = env("YIZHAN_TLS_KEY")) http.tls_key = v;
  if (const char* v = env("YIZHAN_WEB_ROOT")) http.web_root = v;
  if (const char* v = env("YIZHAN_MEDIA_ROOT")) http.media_root = v;
  auto& db = config.database;
  if (const char* v = env("YIZHAN_DB_HOST")) db.host = v;
  db.port = static_cast<std::uint16_t>(env_integer("YIZHAN_DB_PORT", db.port));
  if (const char* v = env("YIZHAN_DB_SOCKET")) db.socket = v;
  if (const char* v = env("YIZHAN_DB_USER")) db.user = v;
  if (const char* v = env("YIZHAN_DB_PASSWORD_FILE")) db.password = read_secret_file(v);
  if (const char* v = env("YIZHAN_DB_PASSWORD")) db.password = v;
  if (const char* v = env("YIZHAN_DB_NAME")) db.schema = v;
  db.pool_size = static_cast<int>(env_integer("YIZHAN_DB_POOL_SIZE", db.pool_size));
  if (const char* v = env("YIZHAN_DB_MIGRATE_USER")) db.migrate_user = v;
  if (const char* v = env("YIZHAN_DB_MIGRATE_PASSWORD_FILE"))
    db.migrate_password = read_secret_file(v);
  if (const char* v = env("YIZHAN_LOG_LEVEL")) config.log_level = v;
  if (const char* v = env("YIZHAN_ACCESS_LOG")) http.access_log = v;
  if (const char* v = env("YIZHAN_BUSINESS_TIME_ZONE")) config.business_time_zone = v;
  if (const char* v = env("YIZHAN_TRUSTED_PROXIES")) {
    http.trusted_proxies.clear();
    std::string_view rest = v;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      auto item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      while (!item.empty() && item.front() == ' ')
        item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ')
        item.remove_suffix(1);
      if (!item.empty()) http.trusted_proxies.emplace_back(item);
    }
  }

  if (http.port == 0) throw std::runtime_error("http.port must be between 1 and 65535");
  if (db.pool_size < 1) throw std::runtime_error("database.pool_size must be at least 1");
  if (http.provider_threads < 1 || http.provider_threads > 256)
    throw std::runtime_error("http.provider_threads must be 1 to 256");
  if (db.lock_wait_timeout.count() < 1) {
    throw std::runtime_error("database.lock_wait_timeout_seconds must be at least 1");
  }
  // A lock wait as long as a query may take would end as a dropped connection, not a 1205.
  if (db.lock_wait_timeout >= db.read_timeout) {
    db.lock_wait_timeout =
        std::max(std::chrono::seconds(1), db.read_timeout - std::chrono::seconds(1));
  }
  if (db.idempotency_retention_days < 1) {
    throw std::runtime_error("database.idempotency_retention_days must be at least 1");
  }
  if (http.access_log != "off" && http.access_log != "errors" && http.access_log != "sampled" &&
      http.access_log != "all") {
    throw std::runtime_error("http.access_log must be off, errors, sampled or all");
  }
  if (http.access_log_sample < 1)
    throw std::runtime_error("http.access_log_sample must be at least 1");
  if (config.password_hash_threads < 1) {
    throw std::runtime_error("auth.password_hash_threads must be at least 1");
  }
  if (!domain::TimeZone::parse(config.business_time_zone)) {
    throw std::runtime_error("station.business_time_zone: unknown or not a fixed-offset zone \"" +
                             config.business_time_zone +
                             "\" (use Asia/Shanghai, UTC or an offset like +08:00)");
  }
  const auto& orders = config.orders;
  if (orders.unpaid_minutes < 1 || orders.unpaid_minutes > 24 * 60)
    throw std::runtime_error("orders.unpaid_minutes must be 1 to 1440");
  if (orders.pickup_days < 1 || orders.pickup_days > 30)
    throw std::runtime_error("orders.pickup_days must be 1 to 30");
  if (orders.delivery_fee_fen < 0 || orders.delivery_fee_fen > 100'000)
    throw std::runtime_error("orders.delivery_fee_fen must be 0 to 100000 (¥1000)");
  if (orders.free_delivery_above_fen < 0)
    throw std::runtime_error("orders.free_delivery_above_fen must not be negative");
  for (const auto& [name, value] : std::initializer_list<std::pair<const char*, std::int64_t>>{
           {"cash_on_pickup_max_fen", orders.cash_on_pickup_max_fen},
           {"cash_on_pickup_max_pieces", orders.cash_on_pickup_max_pieces},
           {"cash_on_pickup_max_grams", orders.cash_on_pickup_max_grams},
           {"cash_on_pickup_open_per_phone", orders.cash_on_pickup_open_per_phone},
           {"cash_on_pickup_open_per_address", orders.cash_on_pickup_open_per_address}})
    if (value < 0)
      throw std::runtime_error(std::string("orders.") + name +
                               " must not be negative (0 = no limit)");
  const auto& wechat = config.wechat_pay;
  if (wechat.configured() &&
      (wechat.app_id.empty() || wechat.merchant_serial.empty() ||
       wechat.merchant_private_key_file.empty() || wechat.api_v3_key_file.empty() ||
       wechat.platform_public_key_file.empty() || wechat.platform_serial.empty() ||
       wechat.notify_url.empty()))
    throw std::runtime_error(
        "payments.wechat: with mch_id set, app_id, merchant_serial, merchant_private_key_file, "
        "api_v3_key_file, platform_public_key_file, platform_serial and notify_url are needed");
  const auto& alipay = config.alipay;
  // seller_id (the merchant's 2088… PID): every notification's seller is checked against it.
  if (alipay.configured() && (alipay.seller_id.empty() || alipay.app_private_key_file.empty() ||
                              alipay.alipay_public_key_file.empty() || alipay.notify_url.empty()))
    throw std::runtime_error(
        "payments.alipay: with app_id set, seller_id, app_private_key_file, "
        "alipay_public_key_file and notify_url are needed");
  if (config.counter.cashier_discount_limit_bps < 0 ||
      config.counter.cashier_discount_limit_bps > 10000)
    throw std::runtime_error("counter.cashier_discount_limit_bps must be 0 to 10000");
  if (config.counter.code_pay_deadline < std::chrono::seconds(1) ||
      config.counter.code_pay_deadline > std::chrono::minutes(2))
    throw std::runtime_error("counter.code_pay_deadline_ms must be 1000 to 120000");
  if (config.counter.code_pay_poll < std::chrono::milliseconds(100) ||
      config.counter.code_pay_poll > config.counter.code_pay_deadline)
    throw std::runtime_error("counter.code_pay_poll_ms must be 100 to the deadline");
  for (const auto& format : config.counter.scale_labels)
    if (!domain::parse_scale_label_format(format))
      throw std::runtime_error("counter.scale_labels: bad layout \"" + format +
                               "\" (use e.g. 21:amount, 22:weight, 26:amount+weight)");
  if (http.tls_certificate.empty() != http.tls_key.empty()) {
    throw std::runtime_error("http.tls_certificate and http.tls_key go together");
  }
  return config;
}

}  // namespace yizhan
