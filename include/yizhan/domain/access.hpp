// Who may do what: roles, route access levels, and the rules for account names and passwords.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace yizhan::domain {

/// A staff or village account's role (API.md "Sessions and roles").
enum class Role { admin, cashier, village };

std::string_view to_string(Role role);
std::optional<Role> parse_role(std::string_view text);

/// The signed-in user a request acts for.
struct Principal {
  std::int64_t user_id = 0;
  std::string username;
  Role role = Role::cashier;
  std::optional<std::int64_t> village_id;  ///< set exactly for village accounts
};

/// Who may call a route. Every route declares one; there is no default.
enum class Access {
  anyone,     ///< no account needed (storefront, probes, login)
  signed_in,  ///< any role
  staff,      ///< admin or cashier (the counter)
  admin,      ///< the station manager only
  village,    ///< a village account (its own village) or an admin (any village)
};

std::string_view to_string(Access access);

/// Whether a caller with `role` (nothing = anonymous) may call a route declared `access`.
bool allows(Access access, std::optional<Role> role);

/// Whether `principal` may read the private data (sales, shares, settlements) of a village.
bool may_read_village(const Principal& principal, std::int64_t village_id);

/// A problem with a proposed username, or nothing: 3–64 of [a-z0-9_.-], starting with a letter
/// or digit.
std::optional<std::string> username_problem(std::string_view username);

/// A sign-in name as far as MariaDB's utf8mb4_unicode_ci would take it for the same name,
/// without its tables: spaces around it (also no-break and ideographic ones) dropped, full-width
/// ASCII made ASCII, ASCII lower-cased. The throttle counts a name that matches no account under
/// this spelling (one that does counts under the account's own name).
std::string folded_username(std::string_view username);

/// A problem with a proposed password, or nothing: at least 10 bytes and at most 128 characters
/// of UTF-8, not only blanks (OWASP: length over rules).
std::optional<std::string> password_problem(std::string_view password);

}  // namespace yizhan::domain
