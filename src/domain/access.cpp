// Role and access rules; account name and password rules.
#include "yizhan/domain/access.hpp"

#include <cctype>

#include "yizhan/domain/catalog.hpp"
#include "yizhan/domain/text.hpp"

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

std::string folded_username(std::string_view username) {
  std::string folded;
  folded.reserve(username.size());
  for (std::size_t i = 0; i < username.size();) {
    const auto byte = static_cast<unsigned char>(username[i]);
    // U+FF01–U+FF5E (EF BC 81 – EF BD 9E) are the full-width forms of '!'–'~'.
    if (byte == 0xEF && i + 2 < username.size()) {
      const auto second = static_cast<unsigned char>(username[i + 1]);
      const auto third = static_cast<unsigned char>(username[i + 2]);
      const int code = ((second & 0x3F) << 6 | (third & 0x3F)) + 0xF000;
      if ((second == 0xBC || second == 0xBD) && code >= 0xFF01 && code <= 0xFF5E) {
        folded += static_cast<char>(std::tolower(code - 0xFF01 + '!'));
        i += 3;
        continue;
      }
    }
    folded += byte < 0x80 ? static_cast<char>(std::tolower(byte)) : static_cast<char>(byte);
    ++i;
  }
  // Spaces at either end: ASCII white space, U+00A0 (C2 A0) and U+3000 (E3 80 80).
  auto space_at_front = [&](std::string_view text) -> std::size_t {
    if (text.empty()) return 0;
    if (std::isspace(static_cast<unsigned char>(text.front()))) return 1;
    if (text.starts_with("\xC2\xA0")) return 2;
    if (text.starts_with("\xE3\x80\x80")) return 3;
    return 0;
  };
  auto space_at_back = [&](std::string_view text) -> std::size_t {
    if (text.empty()) return 0;
    if (std::isspace(static_cast<unsigned char>(text.back()))) return 1;
    if (text.ends_with("\xC2\xA0")) return 2;
    if (text.ends_with("\xE3\x80\x80")) return 3;
    return 0;
  };
  std::string_view view = folded;
  while (const auto n = space_at_front(view))
    view.remove_prefix(n);
  while (const auto n = space_at_back(view))
    view.remove_suffix(n);
  return std::string(view);
}

std::optional<std::string> password_problem(std::string_view password) {
  if (password.size() < 10)
    return "must be at least 10 characters (a Chinese character counts as 3)";
  // Characters, not bytes: 128 of them (at most 512 bytes of UTF-8, which bounds the hashing).
  if (count_characters(password) > 128 || password.size() > 512)
    return "must be at most 128 characters";
  if (trim_blanks(password).empty()) return "must not be only spaces";
  return std::nullopt;
}

}  // namespace yizhan::domain
