// A file compiled into the binary (migrations, the OpenAPI description).
#pragma once

#include <string_view>

namespace yizhan::domain {

/// Name and bytes of a file that cmake/embed.cmake compiled into the binary.
struct EmbeddedFile {
  std::string_view name;
  std::string_view content;
};

}  // namespace yizhan::domain
