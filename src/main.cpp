// The yizhan command line: wires config → database → services → router → server.
#include <spdlog/spdlog.h>
#include <termios.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>

#include "yizhan/api/routes.hpp"
#include "yizhan/config.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/http/logging.hpp"
#include "yizhan/http/metrics.hpp"
#include "yizhan/http/server.hpp"
#include "yizhan/http/static_files.hpp"
#include "yizhan/payments/configured.hpp"
#include "yizhan/service/accounts.hpp"
#include "yizhan/service/audit.hpp"
#include "yizhan/service/catalog.hpp"
#include "yizhan/service/check.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/demo.hpp"
#include "yizhan/service/health.hpp"
#include "yizhan/service/history.hpp"
#include "yizhan/service/idempotency.hpp"
#include "yizhan/service/maintenance.hpp"
#include "yizhan/service/orders.hpp"
#include "yizhan/service/reports.hpp"
#include "yizhan/service/settlements.hpp"
#include "yizhan/service/stock.hpp"
#include "yizhan/service/village_reports.hpp"
#include "yizhan/store/database.hpp"
#include "yizhan/store/images.hpp"
#include "yizhan/store/migrations.hpp"

namespace {

std::string pool_metrics(const yizhan::store::Database& database) {
  const auto stats = database.stats();
  return "# HELP yizhan_db_pool_connections Database connections by state.\n"
         "# TYPE yizhan_db_pool_connections gauge\n"
         "yizhan_db_pool_connections{state=\"in_use\"} " +
         std::to_string(stats.in_use) +
         "\n"
         "yizhan_db_pool_connections{state=\"idle\"} " +
         std::to_string(stats.idle) +
         "\n"
         "yizhan_db_pool_connections{state=\"capacity\"} " +
         std::to_string(stats.capacity) +
         "\n"
         "# HELP yizhan_db_errors_total Database errors seen.\n"
         "# TYPE yizhan_db_errors_total counter\n"
         "yizhan_db_errors_total " +
         std::to_string(stats.errors) +
         "\n"
         "# HELP yizhan_db_retries_total Units of work retried after deadlock or lock wait.\n"
         "# TYPE yizhan_db_retries_total counter\n"
         "yizhan_db_retries_total " +
         std::to_string(stats.retries) + "\n";
}

yizhan::service::CounterSettings counter_settings(const yizhan::Config& config) {
  yizhan::service::CounterSettings settings;
  settings.cashier_discount_limit_bps = config.counter.cashier_discount_limit_bps;
  if (!config.counter.scale_labels.empty()) {
    settings.label_formats.clear();
    for (const auto& text : config.counter.scale_labels)
      settings.label_formats.push_back(*yizhan::domain::parse_scale_label_format(text));
  }
  settings.zone = *yizhan::domain::TimeZone::parse(config.business_time_zone);
  settings.code_pay.deadline = config.counter.code_pay_deadline;
  settings.code_pay.poll_interval = config.counter.code_pay_poll;
  return settings;
}

/// The stock service's settings from configuration.
yizhan::service::StockSettings stock_settings(const yizhan::Config& config) {
  yizhan::service::StockSettings settings;
  settings.zone = *yizhan::domain::TimeZone::parse(config.business_time_zone);
  return settings;
}

/// The village portal's settings from configuration.
yizhan::service::VillageReportSettings village_report_settings(const yizhan::Config& config) {
  yizhan::service::VillageReportSettings settings;
  settings.zone = *yizhan::domain::TimeZone::parse(config.business_time_zone);
  return settings;
}

/// The manager's reports' settings from configuration.
yizhan::service::ReportSettings report_settings(const yizhan::Config& config) {
  yizhan::service::ReportSettings settings;
  settings.zone = *yizhan::domain::TimeZone::parse(config.business_time_zone);
  return settings;
}

/// The online orders' settings from configuration.
yizhan::service::OrderSettings order_settings(const yizhan::Config& config) {
  yizhan::service::OrderSettings settings;
  settings.zone = *yizhan::domain::TimeZone::parse(config.business_time_zone);
  settings.unpaid_minutes = config.orders.unpaid_minutes;
  settings.pickup_days = config.orders.pickup_days;
  settings.delivery.flat_fee = yizhan::domain::Fen(config.orders.delivery_fee_fen);
  settings.delivery.free_above =
      config.orders.free_delivery_above_fen > 0
          ? std::optional(yizhan::domain::Fen(config.orders.free_delivery_above_fen))
          : std::nullopt;
  settings.delivery.areas = config.orders.delivery_areas;
  settings.pickup_address = config.orders.pickup_address;
  settings.pickup_hours = config.orders.pickup_hours;
  settings.cash_on_pickup = {
      yizhan::domain::Fen(config.orders.cash_on_pickup_max_fen),
      config.orders.cash_on_pickup_max_pieces, config.orders.cash_on_pickup_max_grams,
      config.orders.cash_on_pickup_open_per_phone, config.orders.cash_on_pickup_open_per_address};
  return settings;
}

/// The settlements' settings from configuration.
yizhan::service::SettlementSettings settlement_settings(const yizhan::Config& config) {
  yizhan::service::SettlementSettings settings;
  settings.zone = *yizhan::domain::TimeZone::parse(config.business_time_zone);
  return settings;
}

/// The serving connection pool: a connection for each database loop (quick routes), each
/// database worker and each provider thread (opened when first needed), so that a
/// payment-code sale's short transactions on the provider pool never wait for a connection
/// behind the database workers, nor a sale on a database loop behind a report on a worker.
yizhan::DatabaseConfig serving_database(const yizhan::Config& config) {
  auto database = config.database;
  database.pool_size = 2 * database.pool_size + config.http.provider_threads;
  return database;
}

/// The database, the services over it and the router: everything a request needs.
struct Application {
  explicit Application(const yizhan::Config& config)
      : database(serving_database(config)),
        health(database),
        accounts(database, yizhan::service::PasswordHasher(), yizhan::service::SessionPolicy(),
                 {config.password_hash_threads, 2 * config.password_hash_threads}),
        audit(database),
        images(config.http.media_root),
        catalog(database, images, config.database.idempotency_retention_days,
                *yizhan::domain::TimeZone::parse(config.business_time_zone)),
        idempotency(database, config.database.idempotency_retention_days),
        wechat_pay(yizhan::payments::configured_wechat_pay(config.wechat_pay)),
        alipay(yizhan::payments::configured_alipay(config.alipay)),
        counter(database, counter_settings(config), config.database.idempotency_retention_days,
                {{"wechat", wechat_pay.get()}, {"alipay", alipay.get()}}),
        stock(database, stock_settings(config), config.database.idempotency_retention_days),
        orders(database, order_settings(config),
               {{"wechat", {wechat_pay.get(), config.wechat_pay.mch_id, config.wechat_pay.app_id}},
                {"alipay", {alipay.get(), config.alipay.seller_id, config.alipay.app_id}}},
               config.database.idempotency_retention_days),
        settlements(database, settlement_settings(config),
                    config.database.idempotency_retention_days),
        village_reports(database, village_report_settings(config)),
        reports(database, report_settings(config)),
        // Upload names carry a hash of their bytes, so a name never changes meaning.
        media(config.http.media_root, "public, max-age=31536000, immutable",
              config.http.static_cache_bytes),
        router(yizhan::api::build_router(
            {health, accounts, audit, catalog, &counter, &stock, &orders, &settlements,
             &village_reports, &reports},
            {yizhan::http::metrics_endpoint(metrics,
                                            [this] {
                                              return pool_metrics(database) +
                                                     yizhan::service::Maintenance::metrics(
                                                         {&maintenance, &sweep});
                                            }),
             yizhan::http::media_endpoint(media)})) {}

  yizhan::store::Database database;
  yizhan::service::HealthService health;
  yizhan::service::AccountService accounts;
  yizhan::service::AuditService audit;
  yizhan::store::ImageStore images;
  yizhan::service::CatalogService catalog;
  yizhan::service::Idempotency idempotency;
  std::unique_ptr<yizhan::payments::Provider> wechat_pay;
  std::unique_ptr<yizhan::payments::Provider> alipay;
  yizhan::service::CounterService counter;
  yizhan::service::StockService stock;
  yizhan::service::OrderService orders;
  yizhan::service::SettlementService settlements;
  yizhan::service::VillageReportService village_reports;
  yizhan::service::ReportService reports;
  yizhan::http::Metrics metrics;
  yizhan::http::StaticFiles media;
  yizhan::api::Router router;
  // Last, so that their threads stop before anything they use is gone. Housekeeping every
  // minute (expired Idempotency-Key answers), and the orders' and payments' sweep every 20 s
  // (several processes may sweep at once: each order or refund moves by a conditional update).
  yizhan::service::Maintenance maintenance{std::chrono::minutes(1)};
  yizhan::service::Maintenance sweep{
      std::chrono::seconds(yizhan::service::OrderService::kSweepSeconds)};
};

int serve(const yizhan::Config& config) {
  Application application(config);
  auto& orders = application.orders;
  auto& counter = application.counter;
  application.maintenance.add("purge_idempotency_keys", "purged expired idempotency keys",
                              [&application] { return application.idempotency.purge_expired(); });
  // Unpaid and uncollected orders expire and give their stock back, their open trades asked
  // about and closed first.
  application.sweep.add("expire_orders", "expired orders",
                        [&orders] { return orders.expire_due(); });
  // Trades of expired or cancelled orders never confirmed closed are asked about again.
  application.sweep.add("settle_unconfirmed_trades",
                        "settled unconfirmed trades of expired or cancelled orders",
                        [&orders] { return orders.settle_unsettled(); });
  // Provider refunds whose answer never came are asked about again (same out_refund_no).
  application.sweep.add("finish_order_refunds", "finished order refunds",
                        [&orders] { return orders.finish_refunds(); });
  // Surplus payments (a second trade of an order paid too) whose return did not finish.
  application.sweep.add("return_surplus_payments", "returned surplus payments",
                        [&orders] { return orders.return_surplus_payments(); });
  // Counter code payments whose request died between the charge and the sale are reversed.
  application.sweep.add("reverse_abandoned_code_payments", "reversed abandoned code payments",
                        [&counter] { return counter.recover_code_payments(); });
  // Refunds to scanned codes whose request died after asking are asked about again and booked.
  application.sweep.add("finish_code_refunds", "finished refunds to payment codes",
                        [&counter] { return counter.recover_code_refunds(); });
  application.maintenance.start();
  application.sweep.start();
  yizhan::http::StaticFiles static_files(config.http.web_root, {}, config.http.static_cache_bytes);
  yizhan::http::Server server(config.http, {application.router, static_files, application.metrics,
                                            config.database.pool_size});
  server.listen();
  server.run();
  spdlog::default_logger()->flush();
  return 0;
}

/// The access table: every route and who may call it, as declared in src/api.
int print_routes(const yizhan::Config& config) {
  const Application application(config);  // the database is not contacted
  for (const auto& route : application.router.routes()) {
    std::printf("%-6s %-40s %s\n", route.method.c_str(), route.pattern.c_str(),
                std::string(yizhan::domain::to_string(route.access)).c_str());
  }
  return 0;
}

int migrate(const yizhan::Config& config) {
  // Schema changes run as their own account: the serving account has no DDL rights.
  auto settings = config.database;
  if (!settings.migrate_user.empty()) {
    settings.user = settings.migrate_user;
    settings.password = settings.migrate_password;
  }
  settings.pool_size = 1;
  yizhan::store::Database database(settings);
  const auto report = yizhan::store::migrate(database, yizhan::store::bundled_migrations());
  for (const auto& name : report.applied)
    std::cout << "applied " << name << '\n';
  std::cout << report.applied.size() << " applied, " << report.already_applied
            << " already applied\n";
  return 0;
}

/// Reads one line from standard input without echo when it is a terminal.
std::string read_password(const std::string& prompt) {
  const bool terminal = ::isatty(STDIN_FILENO);
  termios saved{};
  if (terminal) {
    std::cerr << prompt << std::flush;
    ::tcgetattr(STDIN_FILENO, &saved);
    termios quiet = saved;
    quiet.c_lflag &= static_cast<tcflag_t>(~ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string password;
  std::getline(std::cin, password);
  if (terminal) {
    ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
    std::cerr << '\n';
  }
  if (!password.empty() && password.back() == '\r') password.pop_back();
  return password;
}

const yizhan::service::Actor kCli{std::nullopt, "cli", "", ""};

yizhan::service::Actor cli(const std::string& command) {
  auto actor = kCli;
  actor.action = command;
  return actor;
}

int seed_demo(const yizhan::Config& config, const std::string& password_file) {
  yizhan::store::Database database(config.database);
  yizhan::service::AccountService accounts(database);
  std::string password;
  if (std::ifstream existing(password_file); existing) std::getline(existing, password);
  if (password.empty()) {
    password = yizhan::service::new_password();
    std::ofstream(password_file) << password << '\n';
    std::filesystem::permissions(
        password_file, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  }
  const auto report = yizhan::service::seed_demo(database, accounts, password);
  std::cout << (report.seeded ? "demo data loaded\n"
                              : "database not empty; demo data left as it is\n");
  std::cout << "demo accounts 演示账号:";
  for (const auto& name : report.usernames)
    std::cout << ' ' << name;
  std::cout << "\npassword 密码: " << password << "  (kept in " << password_file << ")\n";
  return 0;
}

/// `yizhan check`: every consistency check; differences on standard output, exit 2 when any.
int check(const yizhan::Config& config) {
  yizhan::store::Database database(config.database);
  yizhan::service::Checker checker(database);
  yizhan::service::add_stock_checks(checker);
  yizhan::service::add_journal_checks(checker);
  const auto results = checker.run();
  for (const auto& result : results) {
    std::cout << (result.problems.empty() ? "ok      " : "FAILED  ") << result.name << '\n';
    for (const auto& problem : result.problems)
      std::cout << "        " << problem << '\n';
  }
  const bool consistent = yizhan::service::clean(results);
  std::cout << (consistent ? "账实相符 / the books agree\n" : "发现差异 / differences found\n");
  return consistent ? 0 : 2;
}

/// `yizhan seed-history`: a year (or --days) of demo sales, orders and refunds, in bulk.
int seed_history(const yizhan::Config& config, yizhan::service::HistoryOptions options) {
  yizhan::store::Database database(config.database);
  options.zone = *yizhan::domain::TimeZone::parse(config.business_time_zone);
  const auto started = std::chrono::steady_clock::now();
  const auto report = yizhan::service::seed_history(database, options);
  const auto seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::cout << "history 历史 " << report.from << " – " << report.to << ": " << report.sales
            << " sales (" << report.sale_lines << " lines), " << report.refunds << " refunds, "
            << report.orders << " orders, " << report.order_refunds << " order refunds, "
            << report.receipts << " deliveries; busiest day " << report.busiest_day << " ("
            << report.busiest_day_sales << " counter sales); " << seconds << " s\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"yizhan — 乡村联盟驿站 commerce and inventory engine"};
  app.require_subcommand(1);
  std::optional<std::string> config_path;
  app.add_option("-c,--config", config_path, "TOML config file (environment YIZHAN_* overrides)");

  auto* serve_command = app.add_subcommand("serve", "serve the pages and the API until SIGTERM");
  auto* migrate_command = app.add_subcommand("migrate", "apply the migrations not yet applied");
  auto* seed_command =
      app.add_subcommand("seed-demo", "load demo villages and accounts into an empty database");
  std::string password_file = "var/demo-password";
  seed_command->add_option("--password-file", password_file, "where the demo password is kept");
  auto* user_command = app.add_subcommand("user", "manage staff and village accounts");
  user_command->require_subcommand(1);
  std::string username;
  std::string role;
  std::optional<std::string> village;
  auto* user_add =
      user_command->add_subcommand("add", "create an account (password on standard input)");
  user_add->add_option("--username", username)->required();
  user_add->add_option("--role", role, "admin, cashier or village")->required();
  user_add->add_option("--village", village, "village code (role village only)");
  auto* user_passwd = user_command->add_subcommand(
      "passwd", "set a password (standard input); ends the user's sessions");
  user_passwd->add_option("--username", username)->required();
  auto* user_disable =
      user_command->add_subcommand("disable", "disable an account; ends its sessions");
  user_disable->add_option("--username", username)->required();
  auto* user_list = user_command->add_subcommand("list", "list the accounts");
  auto* routes_command = app.add_subcommand("routes", "list every API route and who may call it");
  auto* check_command = app.add_subcommand(
      "check", "verify the books (stock levels = ledger = lots); exit 2 on differences");
  app.add_subcommand("version", "print the version");
  yizhan::service::HistoryOptions history;
  auto* history_command = app.add_subcommand(
      "seed-history", "write a year of demo sales, orders and refunds (refuses to run twice)");
  history_command->add_option("--days", history.days, "business days of history (1–800)");
  history_command->add_option("--scale", history.scale, "volume factor (1 = a busy station)");
  history_command->add_option("--seed", history.seed, "random seed (same seed, same history)");
  for (auto* command : {serve_command, migrate_command, seed_command, user_command, check_command,
                        history_command}) {
    command->add_option("-c,--config", config_path, "TOML config file");
  }
  CLI11_PARSE(app, argc, argv);

  try {
    if (app.got_subcommand("version")) {
      std::cout << "yizhan 0.1.0\n";
      return 0;
    }
    const auto config = yizhan::load_config(config_path);
    yizhan::http::configure_logging(config.log_level);
    if (routes_command->parsed()) return print_routes(config);
    if (serve_command->parsed()) return serve(config);
    if (migrate_command->parsed()) return migrate(config);
    if (seed_command->parsed()) return seed_demo(config, password_file);
    if (check_command->parsed()) return check(config);
    if (history_command->parsed()) return seed_history(config, history);

    yizhan::store::Database database(config.database);
    yizhan::service::AccountService accounts(database);
    if (user_add->parsed()) {
      const auto parsed_role = yizhan::domain::parse_role(role);
      if (!parsed_role) throw std::runtime_error("--role must be admin, cashier or village");
      const auto user = accounts.add_user(username, *parsed_role, village,
                                          read_password("password: "), cli("user add"));
      std::cout << "created user " << user.username << " (id " << user.id << ")\n";
    } else if (user_passwd->parsed()) {
      accounts.reset_password(username, read_password("new password: "), cli("user passwd"));
      std::cout << "password changed; " << username << " was signed out everywhere\n";
    } else if (user_disable->parsed()) {
      accounts.disable_user(username, cli("user disable"));
      std::cout << "disabled " << username << '\n';
    } else if (user_list->parsed()) {
      for (const auto& user : accounts.list_users()) {
        std::cout << user.id << '\t' << user.username << '\t'
                  << yizhan::domain::to_string(user.role) << '\t'
                  << (user.village_id ? std::to_string(*user.village_id) : "-") << '\t'
                  << (user.active ? "active" : "disabled") << '\n';
      }
    }
  } catch (const yizhan::domain::Error& error) {
    const auto field = error.details().find("field");
    spdlog::error("{}{}{}{}", error.what(),
                  field != error.details().end() ? " (" + field->second + ")" : "",
                  error.cause().empty() ? "" : ": ", error.cause());
    spdlog::default_logger()->flush();
    return 1;
  } catch (const std::exception& error) {
    spdlog::error("{}", error.what());
    spdlog::default_logger()->flush();
    return 1;
  }
  spdlog::default_logger()->flush();
  return 0;
}
