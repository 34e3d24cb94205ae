// Online orders (issue 9): checkout with stock reserved in the same transaction, the customer's
// tracking token, the order's life through the domain state table, payments through WeChat Pay
// and Alipay (payments::Provider) with verified notifications, and the expiry sweep.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "yizhan/domain/access.hpp"
#include "yizhan/domain/money.hpp"
#include "yizhan/domain/order.hpp"
#include "yizhan/domain/quantity.hpp"
#include "yizhan/domain/time.hpp"
#include "yizhan/service/accounts.hpp"
#include "yizhan/service/idempotency.hpp"

namespace yizhan::store {
class Database;
}
namespace yizhan::payments {
class Provider;
}

namespace yizhan::service {

struct OrderSettings {
  domain::TimeZone zone = domain::TimeZone::shanghai();
  int unpaid_minutes = 30;
  int pickup_days = 2;
  domain::DeliveryFeeRule delivery{domain::Fen(800), domain::Fen(9900), {}};
  std::string pickup_address = "安海镇乡村联盟驿站";
  std::string pickup_hours = "每天 08:00–20:00";
};

/// A provider and the merchant it must be paid to (checked on every notification).
struct PaymentAccount {
  payments::Provider* provider = nullptr;
  std::string merchant_id;  ///< WeChat mch_id / Alipay seller_id (empty: not checked)
  std::string app_id;
};

struct CheckoutLine {
  std::int64_t product_id = 0;
  std::int64_t quantity = 0;
};

struct CheckoutRequest {
  std::vector<CheckoutLine> lines;
  std::string fulfilment;  ///< pickup, delivery
  std::string contact_name;
  std::string contact_phone;
  std::optional<std::string> address_area;
  std::optional<std::string> address_detail;
  std::string note;
  std::string payment;  ///< wechat, alipay, cash_on_pickup
  std::optional<std::int64_t> expected_total_fen;
};

struct OrderLine {
  int line_no = 0;
  std::int64_t product_id = 0;
  std::string name;
  std::int64_t village_id = 0;
  std::string village_name;
  domain::Unit unit = domain::Unit::piece;
  std::int64_t quantity = 0;
  domain::Fen unit_price;
  domain::Fen gross;
};

struct OrderHistoryEntry {
  std::string state;
  std::string by;
  std::string note;
  std::int64_t at = 0;
};

struct OrderPayment {
  std::string provider;
  std::string channel;
  std::optional<std::string> qr_content;
  std::optional<std::string> redirect_url;
  std::optional<std::string> jsapi;  ///< JSON text of the JSAPI parameters
  std::string state;
};

struct Order {
  std::string number;
  std::optional<std::string> token;  ///< only in the checkout's answer
  std::string state;
  std::string fulfilment;
  std::string payment_method;
  std::string contact_name;
  std::string contact_phone;
  std::optional<std::string> address_area;
  std::optional<std::string> address_detail;
  std::string note;
  domain::Fen subtotal, delivery_fee, total, paid, refunded;
  std::optional<std::string> pickup_code;  ///< to its customer and the staff
  std::optional<std::string> carrier, waybill;
  std::optional<std::int64_t> expires_at;
  std::optional<std::string> attention;  ///< for the staff only
  std::int64_t created_at = 0;
  std::vector<OrderLine> lines;
  std::vector<OrderHistoryEntry> history;
  std::optional<OrderPayment> payment;
};

struct OrderPage {
  std::vector<Order> items;
  int page = 1;
  int pages = 1;
};

/// A payment notification's answer, as the provider expects it.
struct NotificationAnswer {
  int status = 200;
  std::string body;
};

class OrderService {
 public:
  OrderService(store::Database& database, OrderSettings settings,
               std::map<std::string, PaymentAccount> providers, int idempotency_retention_days = 7);

  [[nodiscard]] const OrderSettings& settings() const { return settings_; }
  /// The payment methods customers may choose: cash on pickup and each configured provider.
  [[nodiscard]] std::vector<std::string> payment_methods() const;

  /// Checks and prices the cart on the server, refuses 409 price_changed when the total
  /// differs from what the customer saw, reserves every line's stock (ascending product id; 409
  /// out_of_stock naming the product and what is left) and creates the order with a fresh
  /// tracking token: one transaction, idempotent on `key`.
  StoredReply checkout(const CheckoutRequest& request, const IdempotencyKey& key,
                       const std::function<StoredReply(const Order&)>& render);

  /// The order for the holder of its token (404 for a wrong number or token alike).
  Order for_customer(const std::string& number, const std::string& token);
  /// The order for the staff.
  Order for_staff(const std::string& number);
  OrderPage list(const std::optional<std::string>& state, int page, int page_size);

  /// The customer cancels before payment (cash on pickup: before handover); the staff cancel
  /// any order not yet gone (a paid one is refunded). Reservations are released.
  Order cancel(const std::string& number, const std::optional<std::string>& token,
               const std::optional<domain::Principal>& staff);

  /// Staff moves: picking, ready, shipped (carrier, waybill), completed (pickup code checked).
  /// The goods leave at shipped (delivery) or completed (pickup): stock sold FEFO.
  Order transition(const std::string& number, const std::string& to,
                   const std::optional<std::string>& pickup_code,
                   const std::optional<std::string>& carrier,
                   const std::optional<std::string>& waybill, const domain::Principal& staff);

  /// Asks the order's provider for a payment through `channel` (or returns the one asked
  /// before): the provider is called outside any transaction.
  Order start_payment(const std::string& number, const std::string& token,
                      const std::string& channel, const std::string& client_address);

  /// A provider's notification: verified before anything is read from it; a verified payment
  /// of the right amount to the right merchant pays the order once.
  NotificationAnswer notify(const std::string& provider,
                            const std::map<std::string, std::string>& headers,
                            const std::string& body);

  /// Expires due orders (unpaid past their time, cash on pickup not collected): each its own
  /// conditional update, so several processes may sweep at once. Returns how many expired.
  int expire_due(int limit = 100);

 private:
  store::Database& database_;
  OrderSettings settings_;
  std::map<std::string, PaymentAccount> providers_;
  Idempotency idempotency_;
};

}  // namespace yizhan::service
