// Product photos on disk under the media root, named by content so they can be cached forever.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace yizhan::store {

class ImageStore {
 public:
  explicit ImageStore(std::filesystem::path media_root) : root_(std::move(media_root)) {}
  /// Writes the bytes (atomically: temp file, then rename) and returns the path relative to the
  /// media root, e.g. "products/12-3fa9c0d1e2b4.jpg".
  std::string save_product_image(std::int64_t product_id, std::string_view bytes,
                                 std::string_view extension);

 private:
  std::filesystem::path root_;
};

}  // namespace yizhan::store
