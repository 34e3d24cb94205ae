// UTF-8 text rules: validity, and cutting by characters (never inside a multi-byte sequence).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace yizhan::domain {

/// Whether `text` is well-formed UTF-8 (no overlong forms, surrogates or code points past
/// U+10FFFF), which is what a utf8mb4 column accepts.
bool is_valid_utf8(std::string_view text);

/// The number of characters (code points) in valid UTF-8 `text`.
std::size_t count_characters(std::string_view text);

/// The first `max_characters` characters of valid UTF-8 `text`. A VARCHAR(n) column counts
/// characters, so this is the cut that fits it; a byte cut could split a hanzi (MariaDB 1366).
std::string_view truncate_characters(std::string_view text, std::size_t max_characters);

/// `text` with every ill-formed byte sequence replaced by U+FFFD, so it can always be stored.
std::string replace_invalid_utf8(std::string_view text);

/// Any text made storable in a VARCHAR(`max_characters`) utf8mb4 column: ill-formed bytes
/// replaced, then cut by characters (audit fields, client addresses, logged names).
std::string storable_text(std::string_view text, std::size_t max_characters);

}  // namespace yizhan::domain
