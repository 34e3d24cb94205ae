// The web root: safe path resolution, content types, validators and a gzip cache.
#pragma once

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace yizhan::http {

/// A file ready to send: bytes (and a gzip variant when worth it) with its validators.
struct StaticFile {
  std::shared_ptr<const std::string> body;
  std::shared_ptr<const std::string> gzip_body;  ///< null when not compressible
  std::string content_type;
  std::string etag;           ///< strong validator of the identity bytes, quoted
  std::string last_modified;  ///< IMF-fixdate
  std::chrono::system_clock::time_point modified;
  std::string cache_control;
};

/// Serves files below one root. Thread-safe. Files are read once and kept in memory; a file's
/// change is noticed within a second.
class StaticFiles {
 public:
  /// `cache_control`, when given, is sent for every file (e.g. immutable uploads).
  explicit StaticFiles(std::filesystem::path root, std::string cache_control = {});

  /// The file for a decoded URL path, or nothing when it does not exist or would leave the root
  /// (`..`, absolute paths, NUL, backslashes, symlinks pointing outside). "/" and folders map to
  /// their index.html.
  std::shared_ptr<const StaticFile> find(std::string_view decoded_path);

  /// The MIME type for a file name, with charset for text.
  static std::string content_type_for(std::string_view file_name);

  /// Whether an If-None-Match header value matches `etag` (weak comparison, lists, "*").
  static bool etag_matches(std::string_view if_none_match, std::string_view etag);

  /// Parses an IMF-fixdate (RFC 9110 date); nothing when malformed.
  static std::optional<std::chrono::system_clock::time_point> parse_http_date(
      std::string_view text);

  /// Formats a time as IMF-fixdate.
  static std::string format_http_date(std::chrono::system_clock::time_point time);

 private:
  struct Entry {
    std::shared_ptr<const StaticFile> file;
    std::filesystem::file_time_type write_time;
    std::uintmax_t size = 0;
    std::chrono::steady_clock::time_point checked;
  };
  std::optional<std::filesystem::path> resolve(std::string_view decoded_path) const;
  std::shared_ptr<const StaticFile> load(const std::filesystem::path& path);

  struct PathHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view path) const {
      return std::hash<std::string_view>{}(path);
    }
  };

  std::filesystem::path root_;
  std::string cache_control_;
  std::shared_mutex mutex_;
  std::unordered_map<std::string, Entry, PathHash, std::equal_to<>> cache_;
};

/// Gzip-compresses bytes (zlib, level 6).
std::string gzip_compress(std::string_view data);

}  // namespace yizhan::http
