// Writes product photos under the media root.
#include "yizhan/store/images.hpp"

#include <openssl/evp.h>

#include <fstream>
#include <stdexcept>

#include "yizhan/domain/error.hpp"

namespace yizhan::store {

std::string ImageStore::save_product_image(std::int64_t product_id, std::string_view bytes,
                                           std::string_view extension) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hash;
  for (unsigned int i = 0; i < 6; ++i) {
    hash += kHex[digest[i] >> 4];
    hash += kHex[digest[i] & 0xf];
  }
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
