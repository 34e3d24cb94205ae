// Settlements with the villages (结算): a draft for a village and a period made of its unsettled
// lines, confirmed (frozen, each line settled once), paid (a payout posted against the village
// payable in the same transaction); manual adjustments; the statements.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/domain/access.hpp"
#include "yizhan/domain/settlement.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/accounts.hpp"
#include "yizhan/service/idempotency.hpp"

namespace yizhan::store {
class Database;
}

namespace yizhan::service {

/// What the settlement service needs from configuration.
struct SettlementSettings {
  domain::TimeZone zone = domain::TimeZone::shanghai();  ///< the business day's zone
  std::string station_name = "安海镇乡村联盟驿站";       ///< printed on statements
  /// The current time; unset = the system clock (tests set it to move "today").
  std::function<std::chrono::system_clock::time_point()> clock;
};

/// POST /api/v1/settlements as the client sent it; unset = not given.
struct DraftRequest {
  std::optional<std::int64_t> village_id;
  std::optional<std::string> from;  ///< first business day, "YYYY-MM-DD"
  std::optional<std::string> to;    ///< last business day, included
};

/// A payout as the client sent it.
struct PayoutRequest {
  std::optional<std::int64_t> amount_fen;
  std::optional<std::string> method;     ///< "bank" or "cash"
  std::optional<std::string> reference;  ///< required for bank transfers
  std::optional<std::string> paid_on;    ///< "YYYY-MM-DD"
};

/// An adjustment as the client sent it.
struct AdjustmentRequest {
  std::optional<std::int64_t> amount_fen;  ///< > 0 owed to the village, < 0 charged back
  std::optional<std::string> reason;
};

struct Payout {
  std::int64_t id = 0;
  std::int64_t amount_fen = 0;
  std::string method;
  std::string reference;
  std::string paid_on;
  std::int64_t created_at_us = 0;
};

/// A settlement; `lines` only when asked for one settlement.
struct Settlement {
  std::int64_t id = 0;
  std::int64_t village_id = 0;
  std::string village_name;
  std::string village_code;
  std::string from;
  std::string to;
  domain::SettlementState state = domain::SettlementState::draft;
  domain::SettlementTotals totals;
  std::int64_t created_at_us = 0;
  std::optional<std::int64_t> confirmed_at_us;
  std::vector<Payout> payouts;  ///< in the order they were recorded
  std::vector<domain::StatementLine> lines;

  /// What the payouts paid so far, and what remains of the total (never below zero).
  [[nodiscard]] std::int64_t paid_fen() const;
  [[nodiscard]] std::int64_t remaining_fen() const;
};

struct SettlementList {
  std::vector<Settlement> items;
  std::int64_t total = 0;
};

struct Adjustment {
  std::int64_t id = 0;
  std::int64_t village_id = 0;
  std::int64_t amount_fen = 0;
  std::string reason;
  std::string business_day;
  std::int64_t created_at_us = 0;
  std::optional<std::int64_t> settlement_id;  ///< the confirmed settlement that holds it
};

class SettlementService {
 public:
  SettlementService(store::Database& database, SettlementSettings settings = {},
                    int idempotency_retention_days = 7);

  template <class T>
  using Render = std::function<StoredReply(const T&)>;

  /// A draft for a village and a period: the village's lines that no confirmed settlement holds,
  /// of business days up to the period's end (earlier ones left over are carried into it).
  /// 422 naming village_id, from or to; 409 conflict when the period starts on or before the
  /// village's last settled day. At most once per Idempotency-Key when given.
  StoredReply create_draft(const DraftRequest& request, const Actor& actor,
                           const std::optional<IdempotencyKey>& key,
                           const Render<Settlement>& render);
  Settlement create_draft(const DraftRequest& request, const Actor& actor);

  /// Freezes a draft: 404 when none; 409 invalid_state when not a draft; 409 conflict when its
  /// period overlaps a settled one or a line is already in another confirmed settlement.
  Settlement confirm(std::int64_t id, const Actor& actor);

  /// Records a payout of a confirmed settlement, the whole remaining total or part of it: the
  /// payout, its journal entry (village payable against bank or cash) and its audit entry in one
  /// transaction, which makes the settlement paid when its payouts cover the total. The
  /// settlement's row is locked first, so that concurrent payouts never pay more than the
  /// total. 422 naming the field (amount_fen above what remains: remaining_fen in the details);
  /// 409 invalid_state when not confirmed (a paid one is covered). One payout per
  /// Idempotency-Key.
  StoredReply pay(std::int64_t id, const PayoutRequest& request, const Actor& actor,
                  const std::optional<IdempotencyKey>& key, const Render<Settlement>& render);

  /// Newest first. A village account sees its own village's only (403 for another).
  SettlementList list(const domain::Principal& caller, std::optional<std::int64_t> village_id,
                      std::optional<std::string> state, int limit, int offset);
  /// One settlement with its lines and payouts; 404 when none or another village's.
  Settlement get(const domain::Principal& caller, std::int64_t id);
  /// What its statement shows; 404 like get.
  domain::StatementView statement(const domain::Principal& caller, std::int64_t id);

  /// Records a manual adjustment for a village: a journal entry, audited, on the village's next
  /// statement. 404 for no such village; 422 naming amount_fen or reason.
  StoredReply adjust(std::int64_t village_id, const AdjustmentRequest& request, const Actor& actor,
                     const std::optional<IdempotencyKey>& key, const Render<Adjustment>& render);
  /// A village's adjustments, newest first; 403 for a village account asking for another.
  std::vector<Adjustment> adjustments(const domain::Principal& caller, std::int64_t village_id);

 private:
  [[nodiscard]] std::chrono::year_month_day today() const;

  store::Database& database_;
  SettlementSettings settings_;
  Idempotency idempotency_;
};

}  // namespace yizhan::service
