// QR codes through libqrencode (QRcode_encodeData: byte mode, so a payload is encoded as the
// bytes a thermal printer's GS ( k gets).
#include "yizhan/service/qr.hpp"

#include <qrencode.h>

#include <cerrno>
#include <memory>
#include <string>
#include <system_error>

#include "yizhan/domain/error.hpp"

namespace yizhan::service {

QrMatrix encode_qr(std::string_view data) {
  errno = 0;
  const std::unique_ptr<QRcode, decltype(&QRcode_free)> code(
      QRcode_encodeData(static_cast<int>(data.size()),
                        reinterpret_cast<const unsigned char*>(data.data()), 0, QR_ECLEVEL_M),
      &QRcode_free);
  if (!code) {
    const int error = errno;
    throw domain::Error(
        domain::ErrorCode::internal, "二维码生成失败 The QR code could not be made", {},
        "libqrencode: " + std::to_string(data.size()) +
            " bytes: " + (error != 0 ? std::generic_category().message(error) : "no reason given"));
  }
  QrMatrix matrix;
  matrix.size = code->width;
  const auto modules =
      static_cast<std::size_t>(code->width) * static_cast<std::size_t>(code->width);
  matrix.dark.resize(modules);
  // Bit 0 of each byte is the module's colour (1 dark); the other bits say what it is part of.
  for (std::size_t i = 0; i < modules; ++i)
    matrix.dark[i] = (code->data[i] & 1) != 0;
  return matrix;
}

void append_svg_path(std::string& out, const QrMatrix& qr) {
  for (int y = 0; y < qr.size; ++y)
    for (int x = 0; x < qr.size; ++x)
      if (qr.at(x, y)) {
        out += 'M';
        out += std::to_string(x + 4);
        out += ' ';
        out += std::to_string(y + 4);
        out += "h1v1h-1z";
      }
}

}  // namespace yizhan::service
