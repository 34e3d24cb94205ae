// Writes product photos under the media root.
#include "yizhan/store/images.hpp"

#include <fstream>

#include "yizhan/domain/error.hpp"
#include "yizhan/store/digest.hpp"

namespace yizhan::store {

std::string ImageStore::save_product_image(std::int64_t product_id, std::string_view bytes,
                                           std::string_view extension) {
  // Named by content (the first 48 bits of its SHA-256), so a new photo gets a new URL.
  const auto hash = sha256_hex(bytes).substr(0, 12);
  const std::string relative =
      "products/" + std::to_string(product_id) + "-" + hash + "." + std::string(extension);
  const auto target = root_ / relative;
  std::error_code error;
  std::filesystem::create_directories(target.parent_path(), error);
  const auto temporary = target.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      throw domain::Error(domain::ErrorCode::internal, "could not store the image", {},
                          "write failed: " + temporary);
    }
  }
  std::filesystem::rename(temporary, target, error);
  if (error) {
    throw domain::Error(domain::ErrorCode::internal, "could not store the image", {},
                        "rename failed: " + error.message());
  }
  return relative;
}

}  // namespace yizhan::store
