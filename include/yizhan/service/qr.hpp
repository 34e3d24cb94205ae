// QR codes through libqrencode, for drawing one where the printer cannot (an HTML receipt);
// ESC/POS printers draw their own from GS ( k.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace yizhan::service {

/// A QR code's modules, row by row, without the quiet zone.
struct QrMatrix {
  int size = 0;            ///< modules per side: 17 + 4 × version
  std::vector<bool> dark;  ///< size × size, row-major

  [[nodiscard]] bool at(int x, int y) const {
    return dark[static_cast<std::size_t>(y) * static_cast<std::size_t>(size) +
                static_cast<std::size_t>(x)];
  }
};

/// `data` as a QR code (model 2, byte mode, error correction M, the smallest version that holds
/// it and the mask libqrencode picks). A failure of the library (out of memory, more than
/// version 40 holds) is domain::Error `internal`.
QrMatrix encode_qr(std::string_view data);

/// The dark modules as the `d` of one SVG path ("M4 4h1v1h-1z…"), placed inside a 4-module
/// quiet zone: a viewBox of size + 8 on each side holds it.
void append_svg_path(std::string& out, const QrMatrix& qr);

}  // namespace yizhan::service
