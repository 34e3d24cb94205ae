// Counter 付款码 payments in MariaDB (table code_payments): recorded before the provider is
// asked, updated as it answers, linked to the sale when it is written.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace yizhan::store {

class UnitOfWork;

/// One charge of a scanned code, as recorded.
struct CodePaymentRecord {
  std::int64_t id = 0;
  std::string out_trade_no;
  std::string key_hash;  ///< 32 raw bytes: the sale's idempotency_keys.key_hash
  int tender_index = 0;
  int attempt = 1;
  std::string provider;  ///< wechat, alipay
  std::int64_t cashier_id = 0;
  std::int64_t amount_fen = 0;
  std::string code_masked;
  std::string state;  ///< charging, paid, sold, reversed, failed
  std::string transaction_id;
  std::string provider_code;
  std::optional<std::int64_t> sale_id;
};

/// The latest attempt at a sale's tender, locked; nothing when none was made.
std::optional<CodePaymentRecord> latest_code_payment(UnitOfWork& unit, const std::string& key_hash,
                                                     int tender_index);
/// Records a charge about to be asked (state charging); returns its id.
std::int64_t insert_code_payment(UnitOfWork& unit, const CodePaymentRecord& record);
/// Moves a charge to `state` with what the provider said.
void set_code_payment_state(UnitOfWork& unit, std::int64_t id, const std::string& state,
                            const std::string& transaction_id, const std::string& provider_code);
/// Links the paid charges `ids` to their sale (state sold); false if one was not paid.
bool mark_code_payments_sold(UnitOfWork& unit, const std::vector<std::int64_t>& ids,
                             std::int64_t sale_id);
/// The charges of a sale's key still charging or paid without a sale, oldest first.
std::vector<CodePaymentRecord> open_code_payments(UnitOfWork& unit, const std::string& key_hash);
/// Keys with a charge left charging or paid for longer than `older_than_micros`: a request
/// that died between the charge and the sale.
std::vector<std::string> stale_code_payment_keys(UnitOfWork& unit, std::int64_t older_than_micros,
                                                 int limit);
/// What a product has available to sell now (on hand − reserved), 0 when it has no stock row.
std::int64_t available_to_sell(UnitOfWork& unit, std::int64_t product_id);

}  // namespace yizhan::store
