// CSV that Excel opens correctly (UTF-8 with a BOM, CRLF rows, formula-safe text), shared by the
// settlement statement and the manager's reports.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace yizhan::domain {

/// The UTF-8 byte order mark: without it Excel reads UTF-8 as the local code page.
inline constexpr std::string_view kCsvBom = "\xEF\xBB\xBF";

/// A CSV field, quoted when it needs to be; text a spreadsheet would take for a formula
/// (=, +, -, @, tab, CR first) is prefixed with ' (OWASP "CSV injection").
std::string csv_text(std::string_view text);

/// One row of fields already made (csv_text for text, Fen::format for money), ending in CRLF.
std::string csv_row(std::initializer_list<std::string> fields);
std::string csv_row(const std::vector<std::string>& fields);

}  // namespace yizhan::domain
