// Product photos read far enough to know they are whole images: PNG chunks with their CRCs,
// JPEG segments up to a frame header and the end of the image, WebP's RIFF sizes and its
// bitstream header. Nothing is decoded; a file that passes has the structure a browser needs.
#include <array>
#include <cstdint>

#include "yizhan/domain/catalog.hpp"

namespace yizhan::domain {
namespace {

using Problem = std::optional<std::string>;

std::uint8_t byte_at(std::string_view bytes, std::size_t at) {
  return static_cast<std::uint8_t>(bytes[at]);
}

std::uint32_t big_endian_16(std::string_view bytes, std::size_t at) {
  return std::uint32_t{byte_at(bytes, at)} << 8 | byte_at(bytes, at + 1);
}

std::uint32_t big_endian_32(std::string_view bytes, std::size_t at) {
  return big_endian_16(bytes, at) << 16 | big_endian_16(bytes, at + 2);
}

std::uint32_t little_endian(std::string_view bytes, std::size_t at, int count) {
  std::uint32_t value = 0;
  for (int i = count - 1; i >= 0; --i)
    value = value << 8 | byte_at(bytes, at + static_cast<std::size_t>(i));
  return value;
}

Problem size_problem(std::uint32_t width, std::uint32_t height) {
  if (width == 0 || height == 0 || width > kMaxImageSide || height > kMaxImageSide)
    return "图片尺寸不合理（每边 1–" + std::to_string(kMaxImageSide) +
           " 像素） / the image must be 1 to " + std::to_string(kMaxImageSide) +
           " pixels on each side";
  return std::nullopt;
}

const std::string kIncomplete = "图片不完整或已损坏 / the image is incomplete or damaged";

// --- PNG (ISO/IEC 15948) ---------------------------------------------------------------------

constexpr std::array<std::uint32_t, 256> crc_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t n = 0; n < 256; ++n) {
    std::uint32_t c = n;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[n] = c;
  }
  return table;
}

std::uint32_t crc32(std::string_view bytes) {
  static constexpr auto table = crc_table();
  std::uint32_t c = 0xFFFFFFFFu;
  for (const char b : bytes)
    c = table[(c ^ static_cast<std::uint8_t>(b)) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

bool valid_png_depth(int colour_type, int depth) {
  switch (colour_type) {
    case 0: return depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
    case 3: return depth == 1 || depth == 2 || depth == 4 || depth == 8;
    case 2:
    case 4:
    case 6: return depth == 8 || depth == 16;
    default: return false;
  }
}

Problem png_problem(std::string_view bytes) {
  if (bytes.substr(0, 8) != std::string_view("\x89PNG\r\n\x1A\n", 8)) return kIncomplete;
  std::size_t at = 8;  // after the signature
  bool header = false, palette = false, data = false;
  int colour_type = 0;
  while (at + 12 <= bytes.size()) {
    const std::uint32_t length = big_endian_32(bytes, at);
    if (length > bytes.size() - at - 12) return kIncomplete;
    const auto type = bytes.substr(at + 4, 4);
    const auto body = bytes.substr(at + 8, length);
    if (crc32(bytes.substr(at + 4, 4 + length)) != big_endian_32(bytes, at + 8 + length))
      return kIncomplete;
    at += 12 + length;
    if (!header) {
      if (type != "IHDR" || length != 13) return kIncomplete;
      header = true;
      colour_type = byte_at(body, 9);
      if (!valid_png_depth(colour_type, byte_at(body, 8)) || byte_at(body, 10) != 0 ||
          byte_at(body, 11) != 0 || byte_at(body, 12) > 1)
        return kIncomplete;
      if (auto problem = size_problem(big_endian_32(body, 0), big_endian_32(body, 4)))
        return problem;
      continue;
    }
    if (type == "IHDR") return kIncomplete;
    if (type == "PLTE") palette = true;
    if (type == "IDAT") data = true;
    if (type == "IEND") {
      // Nothing may follow the end: a file that goes on is something else as well.
      if (!data || (colour_type == 3 && !palette) || at != bytes.size()) return kIncomplete;
      return std::nullopt;
    }
  }
  return kIncomplete;
}

// --- JPEG (ITU T.81) -------------------------------------------------------------------------

bool is_frame_header(std::uint8_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

Problem jpeg_problem(std::string_view bytes) {
  if (bytes.substr(0, 2) != "\xFF\xD8") return kIncomplete;
  std::size_t at = 2;  // after SOI
  bool frame = false, scan = false;
  while (at < bytes.size()) {
    if (byte_at(bytes, at) != 0xFF) return kIncomplete;
    while (at < bytes.size() && byte_at(bytes, at) == 0xFF)
      ++at;  // fill bytes
    if (at >= bytes.size()) break;
    const std::uint8_t marker = byte_at(bytes, at++);
    // What follows the end of the image is not read: phones append data there (motion photos).
    if (marker == 0xD9) return frame && scan ? std::nullopt : Problem(kIncomplete);
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;  // no length
    if (marker < 0xC0 || marker == 0xD8) return kIncomplete;
    if (at + 2 > bytes.size()) break;
    const std::uint32_t length = big_endian_16(bytes, at);
    if (length < 2 || at + length > bytes.size()) return kIncomplete;
    const auto segment = bytes.substr(at, length);
    at += length;
    if (is_frame_header(marker)) {
      if (frame || length < 8) return kIncomplete;
      frame = true;
      const int components = byte_at(segment, 7);
      if (components < 1 || components > 4 || length != 8u + 3u * components) return kIncomplete;
      if (auto problem = size_problem(big_endian_16(segment, 5), big_endian_16(segment, 3)))
        return problem;
    } else if (marker == 0xDA) {
      if (!frame) return kIncomplete;
      scan = true;
      // The entropy-coded data runs to the next marker that is not a stuffed 0xFF00 or a
      // restart marker.
      while (at + 1 < bytes.size()) {
        if (byte_at(bytes, at) != 0xFF) {
          ++at;
          continue;
        }
        const std::uint8_t next = byte_at(bytes, at + 1);
        if (next == 0x00 || (next >= 0xD0 && next <= 0xD7)) {
          at += 2;
        } else if (next == 0xFF) {
          ++at;
        } else {
          break;
        }
      }
      if (at + 1 >= bytes.size()) return kIncomplete;
    }
  }
  return kIncomplete;
}

// --- WebP (RFC 9649) -------------------------------------------------------------------------

/// The size in a lossy ("VP8 ") or lossless ("VP8L") bitstream's header.
Problem bitstream_problem(std::string_view fourcc, std::string_view data) {
  if (fourcc == "VP8 ") {
    // A key frame's tag (bit 0 clear), its start code, then 14-bit width and height.
    if (data.size() < 10 || (byte_at(data, 0) & 1) != 0 || data.substr(3, 3) != "\x9D\x01\x2A")
      return kIncomplete;
    return size_problem(little_endian(data, 6, 2) & 0x3FFF, little_endian(data, 8, 2) & 0x3FFF);
  }
  if (data.size() < 5 || byte_at(data, 0) != 0x2F) return kIncomplete;
  const std::uint32_t bits = little_endian(data, 1, 4);
  if (bits >> 29 != 0) return kIncomplete;  // version 0 only
  return size_problem((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
}

Problem webp_problem(std::string_view bytes) {
  if (bytes.size() < 12 || bytes.substr(0, 4) != "RIFF" || bytes.substr(8, 4) != "WEBP")
    return kIncomplete;
  const std::uint32_t riff = little_endian(bytes, 4, 4);
  if (riff < 4 + 8 || riff > bytes.size() - 8) return kIncomplete;
  const auto end = std::size_t{riff} + 8;
  std::size_t at = 12;
  bool first = true, extended = false;
  while (at + 8 <= end) {
    const auto fourcc = bytes.substr(at, 4);
    const std::uint32_t length = little_endian(bytes, at + 4, 4);
    if (length > end - at - 8) return kIncomplete;
    const auto data = bytes.substr(at + 8, length);
    at += 8 + length + (length & 1);  // chunks are padded to an even size
    if (fourcc == "VP8 " || fourcc == "VP8L") return bitstream_problem(fourcc, data);
    if (first) {
      first = false;
      // The first chunk: a simple file is its bitstream, an extended one starts with VP8X.
      if (fourcc != "VP8X" || length < 10) return kIncomplete;
      if (byte_at(data, 0) & 0x02) return "不接受动图 / animated images are not accepted";
      if (auto problem = size_problem(little_endian(data, 4, 3) + 1, little_endian(data, 7, 3) + 1))
        return problem;
      extended = true;
    } else if (!extended) {
      return kIncomplete;
    }
  }
  return kIncomplete;
}

}  // namespace

std::optional<std::string> image_problem(std::string_view bytes, std::string_view content_type) {
  if (content_type == "image/png") return png_problem(bytes);
  if (content_type == "image/jpeg") return jpeg_problem(bytes);
  if (content_type == "image/webp") return webp_problem(bytes);
  return "不是 JPEG、PNG 或 WebP 图片 / not a JPEG, PNG or WebP image";
}

}  // namespace yizhan::domain
