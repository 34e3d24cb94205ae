// Pure helpers of the HTTP layer: MIME types, ETag matching, media types, HTTP dates, gzip,
// log escaping and metric labels.
#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <thread>

#include "yizhan/api/message.hpp"
#include "yizhan/http/logging.hpp"
#include "yizhan/http/metrics.hpp"
#include "yizhan/http/static_files.hpp"

using yizhan::api::etag_matches;
using yizhan::api::media_type_is;

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
  EXPECT_TRUE(etag_matches("\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("\"x\", W/\"abc\"", "\"abc\""));
  EXPECT_TRUE(etag_matches("\"x\",W/\"abc\"", "W/\"abc\""));
  EXPECT_TRUE(etag_matches("*", "\"abc\""));
  EXPECT_FALSE(etag_matches("\"abd\"", "\"abc\""));
  EXPECT_FALSE(etag_matches("", "\"abc\""));
}

TEST(MediaType, ComparedWithoutCaseOrParameters) {
  EXPECT_TRUE(media_type_is("Application/JSON; charset=UTF-8", "application/json"));
  EXPECT_TRUE(media_type_is("application/json", "application/json"));
  EXPECT_TRUE(media_type_is(" IMAGE/PNG ", "image/png"));
  EXPECT_FALSE(media_type_is("application/json-seq", "application/json"));
  EXPECT_FALSE(media_type_is("", "application/json"));
}

TEST(Compressible, OneRuleIgnoringCase) {
  EXPECT_TRUE(yizhan::http::is_compressible("text/html; charset=utf-8"));
  EXPECT_TRUE(yizhan::http::is_compressible("Application/JSON"));
  EXPECT_TRUE(yizhan::http::is_compressible("application/javascript; charset=utf-8"));
  EXPECT_FALSE(yizhan::http::is_compressible("image/png"));
}

TEST(LogEscape, ControlCharactersCannotForgeALine) {
  EXPECT_EQ(yizhan::http::escape_for_log("/a\nINFO forged\r\x1b[31m"),
            "/a\\x0aINFO forged\\x0d\\x1b[31m");
  EXPECT_EQ(yizhan::http::escape_for_log("/茶/\"q\""), "/茶/\\x22q\\x22");
}

TEST(MetricLabels, UnknownMethodsAreOther) {
  using yizhan::http::Metrics;
  EXPECT_EQ(Metrics::method_label("GET"), "GET");
  EXPECT_EQ(Metrics::method_label("PATCH"), "PATCH");
  EXPECT_EQ(Metrics::method_label("BREW"), "OTHER");
  EXPECT_EQ(Metrics::method_label(std::string(1000, 'X')), "OTHER");
  Metrics metrics;
  metrics.observe("static", "XYZZY", 404, 0.001);
  EXPECT_EQ(metrics.render().find("XYZZY"), std::string::npos);
}

TEST(MetricLabels, RenderingWhileCountingLosesNothing) {
  using yizhan::http::Metrics;
  Metrics metrics;
  std::atomic<bool> done{false};
  std::thread counter([&] {
    for (int i = 0; i < 20000; ++i)
      metrics.observe("static", "GET", 200, 0.0001);
    done = true;
  });
  while (!done)
    (void)metrics.render();
  counter.join();
  EXPECT_NE(metrics.render().find(
                "yizhan_http_requests_total{route=\"static\",method=\"GET\",status=\"200\"} 20000"),
            std::string::npos);
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
