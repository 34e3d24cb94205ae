// Role and access rules; account name and password rules.
#include "yizhan/domain/access.hpp"

namespace yizhan::domain {

std::string_view to_string(Role role) {
  switch (role) {
    case Role::admin: return "admin";
    case Role::cashier: return "cashier";
    case Role::village: return "village";
  }
  return "cashier";
}

std::optional<Role> parse_role(std::string_view text) {
  if (text == "admin") return Role::admin;
  if (text == "cashier") return Role::cashier;
  if (text == "village") return Role::village;
  return std::nullopt;
}

std::string_view to_string(Access access) {
  switch (access) {
    case Access::anyone: return "anyone";
    case Access::signed_in: return "signed_in";
    case Access::staff: return "staff";
    case Access::admin: return "admin";
    case Access::village: return "village";
  }
  return "admin";
}

bool allows(Access access, std::optional<Role> role) {
  switch (access) {
    case Access::anyone: return true;
    case Access::signed_in: return role.has_value();
    case Access::staff: return role == Role::admin || role == Role::cashier;
    case Access::admin: return role == Role::admin;
    case Access::village: return role == Role::admin || role == Role::village;
  }
  return false;
}

bool may_read_village(const Principal& principal, std::int64_t village_id) {
  if (principal.role == Role::admin) return true;
  return principal.role == Role::village && principal.village_id == village_id;
}

std::optional<std::string> username_problem(std::string_view username) {
  if (username.size() < 3 || username.size() > 64) return "must be 3 to 64 characters";
  auto allowed = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  };
  for (char c : username) {
    if (!allowed(c)) return "only lower-case letters, digits, '_', '.' and '-'";
  }
  const char first = username.front();
  if (!((first >= 'a' && first <= 'z') || (first >= '0' && first <= '9'))) {
    return "must start with a letter or digit";
  }
  return std::nullopt;
}

std::optional<std::string> password_problem(std::string_view password) {
  if (password.size() < 10) return "must be at least 10 characters";
  if (password.size() > 128) return "must be at most 128 characters";
  return std::nullopt;
}

}  // namespace yizhan::domain
