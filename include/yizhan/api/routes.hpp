// The whole endpoint table: every resource registers its routes here.
#pragma once

#include "yizhan/api/router.hpp"

namespace yizhan::service {
class HealthService;
class AccountService;
class AuditService;
class CatalogService;
class CounterService;
class OrderService;
class SettlementService;
class StockService;
class VillageReportService;
class ReportService;
}  // namespace yizhan::service

namespace yizhan::api {

/// The services the API calls; owned by main, outliving the router.
struct Services {
  service::HealthService& health;
  service::AccountService& accounts;
  service::AuditService& audit;
  service::CatalogService& catalog;
  service::CounterService* counter = nullptr;         ///< the counter's routes, when set
  service::StockService* stock = nullptr;             ///< the stock routes, when set
  service::OrderService* orders = nullptr;            ///< the online orders' routes, when set
  service::SettlementService* settlements = nullptr;  ///< settlements and adjustments, when set
  service::VillageReportService* village_reports = nullptr;  ///< the village portal, when set
  service::ReportService* reports = nullptr;                 ///< the manager's reports, when set
};

/// The routes whose work lives in the HTTP layer (it owns the counters and the files), declared
/// here so that the one route table, and the route × role test, see them. Unset handlers answer
/// an empty metrics page and 404.
struct ServerEndpoints {
  Handler metrics;  ///< GET /metrics: Prometheus text
  Handler media;    ///< GET /media/{file...}: uploaded photos; the file is path parameter "file"
};

/// Builds the router with every route of the API and the session authenticator.
Router build_router(const Services& services, ServerEndpoints endpoints = {});

}  // namespace yizhan::api
