// The yizhan command line: wires config → database → services → router → server.
#include <spdlog/spdlog.h>
#include <CLI/CLI.hpp>

#include <iostream>
#include <optional>

#include "yizhan/api/routes.hpp"
#include "yizhan/config.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/http/logging.hpp"
#include "yizhan/http/metrics.hpp"
#include "yizhan/http/server.hpp"
#include "yizhan/http/static_files.hpp"
#include "yizhan/service/health.hpp"
#include "yizhan/store/database.hpp"
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

int serve(const yizhan::Config& config) {
  yizhan::store::Database database(config.database);
  yizhan::service::HealthService health(database);
  const auto router = yizhan::api::build_router({health});
  yizhan::http::StaticFiles static_files(config.http.web_root);
  yizhan::http::Metrics metrics;
  yizhan::http::Server server(config.http,
                              {router, static_files, metrics, config.database.pool_size,
                               [&database] { return pool_metrics(database); }});
  server.listen();
  server.run();
  spdlog::default_logger()->flush();
  return 0;
}

int migrate(const yizhan::Config& config) {
  yizhan::store::Database database(config.database);
  const auto report = yizhan::store::migrate(database, yizhan::store::bundled_migrations());
  for (const auto& name : report.applied)
    std::cout << "applied " << name << '\n';
  std::cout << report.applied.size() << " applied, " << report.already_applied
            << " already applied\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"yizhan — 乡村联盟驿站 commerce and inventory engine"};
  app.require_subcommand(1);
  std::optional<std::string> config_path;
  app.add_option("-c,--config", config_path, "TOML config file (environment YIZHAN_* overrides)");

  auto* serve_command =
      app.add_subcommand("serve", "serve the storefront, POS, village and admin pages and the API");
  auto* migrate_command =
      app.add_subcommand("migrate", "apply the database migrations not yet applied");
  app.add_subcommand("version", "print the version");
  for (auto* command : {serve_command, migrate_command}) {
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
    if (app.got_subcommand("serve")) return serve(config);
    if (app.got_subcommand("migrate")) return migrate(config);
  } catch (const yizhan::domain::Error& error) {
    spdlog::error("{}{}{}", error.what(), error.cause().empty() ? "" : ": ", error.cause());
    return 1;
  } catch (const std::exception& error) {
    spdlog::error("{}", error.what());
    return 1;
  }
  return 0;
}
