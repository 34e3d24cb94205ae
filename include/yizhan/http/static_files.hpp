// The web root: safe path resolution, content types, validators and a bounded cache.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
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
  std::string gzip_etag;      ///< the validator of the gzip bytes (empty without them)
  std::string last_modified;  ///< IMF-fixdate
  std::chrono::system_clock::time_point modified;
  std::string cache_control;
  /// The response fields of a 200, each as "\r\nName: value", Content-Length last: written as
  /// they are, so a hit formats nothing.
  std::string identity_fields;
  std::string gzip_fields;

  /// What this file holds in memory.
  [[nodiscard]] std::size_t bytes() const;
};

/// Serves files below one root. Thread-safe. Files are read once and kept in a cache bounded in
/// bytes (least recently used out first); a file's change is noticed within a second. The cache
/// is keyed by the canonical path ("/./a.css", "//a.css" and "/a.css" are one entry) and holds
/// only files that exist, so no client can grow it.
class StaticFiles {
 public:
  /// `cache_control`, when given, is sent for every file (e.g. immutable uploads).
  explicit StaticFiles(std::filesystem::path root, std::string cache_control = {},
                       std::size_t cache_bytes = 32 * 1024 * 1024);

  /// The file for a decoded URL path, or nothing when it does not exist or would leave the root
  /// (`..`, hidden files, NUL, backslashes, symlinks pointing outside). "/" and folders map to
  /// their index.html.
  std::shared_ptr<const StaticFile> find(std::string_view decoded_path);

  /// The canonical cache key of a decoded path ("a/b.css"), or nothing when it is never a file
  /// of the root (a segment "..", a hidden file, NUL, '\\' or ':').
  static std::optional<std::string> canonical_key(std::string_view decoded_path);

  /// Files in the cache and the bytes they hold.
  [[nodiscard]] std::size_t cached_files() const;
  [[nodiscard]] std::size_t cached_bytes() const;

  /// The MIME type for a file name, with charset for text.
  static std::string content_type_for(std::string_view file_name);

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
    std::size_t bytes = 0;
    mutable std::atomic<std::int64_t> checked{0};    ///< steady clock ticks of the last stat
    mutable std::atomic<std::int64_t> last_used{0};  ///< steady clock ticks of the last use
  };
  std::optional<std::filesystem::path> resolve(const std::string& key) const;
  std::shared_ptr<const StaticFile> load(const std::filesystem::path& path);
  void insert(const std::string& key, std::shared_ptr<const StaticFile> file,
              std::filesystem::file_time_type write_time, std::uintmax_t size);

  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view key) const {
      return std::hash<std::string_view>{}(key);
    }
  };

  std::filesystem::path root_;
  std::string cache_control_;
  std::size_t cache_limit_;
  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::unique_ptr<Entry>, KeyHash, std::equal_to<>> cache_;
  std::size_t cache_bytes_ = 0;
};

/// Whether a response of this Content-Type is worth compressing (text, JSON, JavaScript, SVG):
/// the one rule, for static files and API responses alike.
bool is_compressible(std::string_view content_type);

/// Gzip-compresses bytes (zlib, level 6).
std::string gzip_compress(std::string_view data);

}  // namespace yizhan::http
