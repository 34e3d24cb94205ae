// Pure helpers of the static file server: MIME types, ETag matching, HTTP dates, gzip.
#include <gtest/gtest.h>
#include <zlib.h>

#include "yizhan/http/static_files.hpp"

using yizhan::http::gzip_compress;
using yizhan::http::StaticFiles;

TEST(ContentType, TextHasCharsetAndUnknownIsOctetStream) {
  EXPECT_EQ(StaticFiles::content_type_for("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(StaticFiles::content_type_for("app.js"), "application/javascript; charset=utf-8");
  EXPECT_EQ(StaticFiles::content_type_for("a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(StaticFiles::content_type_for("p.webp"), "image/webp");
  EXPECT_EQ(StaticFiles::content_type_for("README"), "application/octet-stream");
}

TEST(ETag, MatchesListsWeakFormAndStar) {
  EXPECT_TRUE(StaticFiles::etag_matches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(StaticFiles::etag_matches("\"x\", W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(StaticFiles::etag_matches("*", "\"abc\""));
  EXPECT_FALSE(StaticFiles::etag_matches("\"abd\"", "\"abc\""));
}

TEST(HttpDate, RoundTripsAndRejectsGarbage) {
  const auto parsed = StaticFiles::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(StaticFiles::format_http_date(*parsed), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_FALSE(StaticFiles::parse_http_date("yesterday").has_value());
  EXPECT_FALSE(StaticFiles::parse_http_date("Sun, 06 Xyz 1994 08:49:37 GMT").has_value());
}

TEST(Gzip, DecompressesToTheOriginal) {
  const std::string text(5000, 'x');
  const auto compressed = gzip_compress(text);
  EXPECT_LT(compressed.size(), text.size());
  std::string out(text.size(), '\0');
  z_stream stream{};
  inflateInit2(&stream, 15 + 16);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&stream, Z_FINISH), Z_STREAM_END);
  inflateEnd(&stream);
  EXPECT_EQ(out, text);
}
