// The one error type that services throw and the API turns into the JSON envelope.
#pragma once

#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace yizhan::domain {

/// The closed set of error codes a client can see (STYLE.md rule 4).
enum class ErrorCode {
  invalid,             // a field is wrong (422) or the request is malformed (400, see `malformed`)
  malformed,           // the request cannot be read at all (400)
  not_found,           // 404
  method_not_allowed,  // 405
  duplicate,           // 409, unique key taken
  out_of_stock,        // 409
  conflict,            // 409, state does not allow it
  idempotency_mismatch,      // 409, an Idempotency-Key reused with a different request
  idempotency_key_required,  // 400, a POS or checkout write without an Idempotency-Key
  expired,                   // 409, only expired lots are left (write them off first)
  label_price_mismatch,      // 409, a scale label's amount disagrees with price × weight
  shift_open,                // 409, this cashier or register already has an open shift
  no_open_shift,             // 409, selling or paying out without an open shift
  refund_exceeds_sale,       // 409, refunding more than was sold (and not yet refunded)
  invalid_state,             // 409, a document's state does not allow the change
  price_changed,             // 409, the checkout's total is not what the customer saw
  discount_limit,            // 403, a cashier's discount beyond the configured limit
  payment_declined,          // 402, the payer's provider declined a scanned code (or it timed out)
  payment_pending,           // 409, this Idempotency-Key's code payment is still in progress
  unauthorized,              // 401, not signed in
  invalid_credentials,       // 401, wrong username or password
  forbidden,                 // 403
  csrf,                      // 403
  too_large,                 // 413
  uri_too_long,              // 414
  unsupported_media,         // 415
  too_many_attempts,         // 429
  unavailable,               // 503, database down or overloaded
  commit_unknown,            // 503, the connection was lost during COMMIT: retry with the same key
  internal,                  // 500, a bug of ours
};

/// The code as the client sees it in `error.code`.
std::string_view to_string(ErrorCode code);

/// A failure with a code, a message for the client and details (e.g. {"field": "price_fen"}).
/// `cause` is for the log only and never reaches a client.
class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message, std::map<std::string, std::string> details = {},
        std::string cause = {});

  [[nodiscard]] ErrorCode code() const { return code_; }
  [[nodiscard]] const std::map<std::string, std::string>& details() const { return details_; }
  [[nodiscard]] const std::string& cause() const { return cause_; }

  /// A 422 naming the field that is wrong.
  static Error invalid_field(std::string field, std::string message);

  /// The same error with its field named inside `prefix` ("lines[2]" + "quantity" →
  /// "lines[2].quantity"); unchanged when it names no field.
  [[nodiscard]] Error within(std::string_view prefix) const;
  /// The same error with one more detail.
  [[nodiscard]] Error with_detail(std::string key, std::string value) const;

 private:
  ErrorCode code_;
  std::map<std::string, std::string> details_;
  std::string cause_;
};

}  // namespace yizhan::domain
