// CSV for Excel: quoting, formula-safe text and rows.
#include "yizhan/domain/csv.hpp"

namespace yizhan::domain {

std::string csv_text(std::string_view text) {
  std::string value(text);
  if (!value.empty() && std::string_view("=+-@\t\r").find(value.front()) != std::string_view::npos)
    value.insert(value.begin(), '\'');
  if (value.find_first_of(",\"\r\n") == std::string::npos) return value;
  std::string quoted = "\"";
  for (const char c : value) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + '"';
}

namespace {

template <class Fields>
std::string join_row(const Fields& fields) {
  std::string row;
  bool first = true;
  for (const auto& field : fields) {
    if (!first) row += ',';
    row += field;
    first = false;
  }
  return row + "\r\n";
}

}  // namespace

std::string csv_row(std::initializer_list<std::string> fields) {
  return join_row(fields);
}

std::string csv_row(const std::vector<std::string>& fields) {
  return join_row(fields);
}

}  // namespace yizhan::domain
