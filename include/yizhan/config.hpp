// The server's configuration: one typed struct, loaded once from TOML then the environment.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace yizhan {

/// How to reach MariaDB.
struct DatabaseConfig {
  std::string host = "127.0.0.1";
  std::uint16_t port = 3306;
  std::string socket;  ///< unix socket path; used instead of host and port when set
  std::string user = "yizhan";
  std::string password;
  std::string schema = "yizhan";
  int pool_size = 8;  ///< database workers and database loops (each); connections: see main.cpp
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds acquire_timeout{2000};  ///< waiting for a free connection
  std::chrono::seconds read_timeout{10};            ///< one query, then the server is "down"
  /// innodb_lock_wait_timeout per session: well below read_timeout, so a wait on a hot row
  /// ends as a retryable 1205 instead of a lost connection.
  std::chrono::seconds lock_wait_timeout{3};
  int idempotency_retention_days = 7;  ///< stored Idempotency-Key answers are kept this long
  /// A separate account with DDL rights for `yizhan migrate`; empty = the serving account.
  std::string migrate_user;
  std::string migrate_password;
};

/// The HTTP listener and its limits.
struct HttpConfig {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;
  int io_threads = 0;           ///< 0 = one per core
  std::string tls_certificate;  ///< PEM chain; with tls_key, the server speaks HTTPS only
  std::string tls_key;
  std::string web_root = "web";
  std::string media_root = "var/media";  ///< uploaded product photos, served under /media/
  std::size_t header_limit_bytes = 16 * 1024;
  std::size_t body_limit_bytes = 64 * 1024;               ///< every route but uploads
  std::size_t upload_body_limit_bytes = 4 * 1024 * 1024;  ///< the photo route, after sign-in
  std::chrono::milliseconds request_timeout{10000};       ///< read one whole request, or idle
  std::chrono::milliseconds handler_timeout{5000};        ///< queued + handled; not started after
  std::chrono::milliseconds write_timeout{10000};         ///< write one whole response
  /// Peers whose X-Forwarded-For / X-Forwarded-Proto are believed (exact addresses).
  std::vector<std::string> trusted_proxies;
  std::string access_log = "errors";  ///< off, errors, sampled, all
  int access_log_sample = 100;        ///< "sampled": one request in this many (errors always)
  std::size_t static_cache_bytes = 32 * 1024 * 1024;  ///< static file cache bound (LRU)
  int max_connections = 10000;
  int max_queued_requests = 1024;  ///< waiting for a database thread, then 503
  /// Threads for requests that wait on a payment provider (a counter sale with a scanned
  /// 付款码, polled until the payer enters the password), so that the wait holds no database
  /// worker. With all of them busy such a request is 503 with Retry-After at once, never queued.
  int provider_threads = 16;
  std::chrono::milliseconds shutdown_grace{10000};
};

/// The counter: what a cashier may do alone, and how the label scale prints.
struct CounterConfig {
  int cashier_discount_limit_bps = 1000;  ///< above this share of a sale, only an admin
  /// Scale label layouts "FLAG:fields" (README "Scale labels"); empty = the defaults
  /// 21:amount, 22:weight, 26:amount+weight, 27:weight+amount.
  std::vector<std::string> scale_labels;
  /// 付款码: how long the customer has to enter a password (polling meanwhile), and how often
  /// the provider is asked; at the deadline the payment is reversed.
  std::chrono::milliseconds code_pay_deadline{30000};
  std::chrono::milliseconds code_pay_poll{3000};
};

/// A WeChat Pay merchant account (README "Payments"): ids, and the files that hold its keys,
/// kept outside the repository. `yizhan-paysim keygen` writes one for the simulator. Not
/// configured while mch_id is empty.
struct WechatPayConfig {
  std::string base_url = "https://api.mch.weixin.qq.com";
  std::string mch_id, app_id, merchant_serial, platform_serial, notify_url;
  std::string merchant_private_key_file, api_v3_key_file, platform_public_key_file;
  bool code_pay_v2 = false;  ///< counter codes through v2 micropay instead of v3 codepay
  std::string api_v2_key_file;
  /// JSAPI inside WeChat: the official account's secret (a file) and the sign-in's hosts and
  /// return address; JSAPI is offered only when app_secret_file and sign_in_redirect_url are set.
  std::string app_secret_file;
  std::string sign_in_base_url = "https://open.weixin.qq.com";
  std::string sns_base_url = "https://api.weixin.qq.com";
  std::string sign_in_redirect_url;
  std::chrono::milliseconds timeout{5000};
  [[nodiscard]] bool configured() const { return !mch_id.empty(); }
};

/// An Alipay application (README "Payments"), likewise; not configured while app_id is empty.
struct AlipayConfig {
  std::string gateway_url = "https://openapi.alipay.com/gateway.do";
  std::string app_id, seller_id, notify_url, return_url;
  std::string app_private_key_file, alipay_public_key_file;
  std::chrono::milliseconds timeout{5000};
  [[nodiscard]] bool configured() const { return !app_id.empty(); }
};

/// Online orders: how long an order waits, what delivery costs, where pickup happens.
struct OrdersConfig {
  int unpaid_minutes = 30;  ///< an unpaid online-payment order expires and frees its stock
  int pickup_days = 2;      ///< a cash-on-pickup order not collected by then expires
  std::int64_t delivery_fee_fen = 800;
  std::int64_t free_delivery_above_fen = 9900;  ///< 满99包邮; 0 = never free
  std::vector<std::string> delivery_areas;      ///< where the station delivers; empty = anywhere
  std::string pickup_address = "安海镇乡村联盟驿站";
  std::string pickup_hours = "每天 08:30–20:30";
  /// Cash-on-pickup orders reserve goods unpaid for pickup_days: limits (0 = none).
  std::int64_t cash_on_pickup_max_fen = 200'000;  ///< an order's total (¥2000)
  std::int64_t cash_on_pickup_max_pieces = 20;    ///< per product
  std::int64_t cash_on_pickup_max_grams = 5'000;  ///< per weighed product
  std::int64_t cash_on_pickup_open_per_phone = 3;
  std::int64_t cash_on_pickup_open_per_address = 10;
};

/// Everything `yizhan serve` needs.
struct Config {
  HttpConfig http;
  DatabaseConfig database;
  std::string log_level = "info";
  std::string business_time_zone = "Asia/Shanghai";  ///< the business day's time zone
  int password_hash_threads = 2;  ///< argon2 runs on its own pool, never on database workers
  CounterConfig counter;
  OrdersConfig orders;
  WechatPayConfig wechat_pay;
  AlipayConfig alipay;
};

/// Loads `path` (TOML; empty = defaults only), then applies YIZHAN_* environment variables.
/// Throws std::runtime_error naming the file, key and problem on a bad value.
Config load_config(const std::optional<std::string>& path);

}  // namespace yizhan
