// Static files from the web root: path safety, MIME types, ETag/Last-Modified, gzip, a bounded
// LRU cache keyed by the canonical path.
#include "yizhan/http/static_files.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "yizhan/api/message.hpp"

namespace yizhan::http {
namespace fs = std::filesystem;
namespace {

constexpr auto kRecheckInterval = std::chrono::seconds(1);
constexpr std::int64_t kUseResolution =
    std::chrono::steady_clock::duration(std::chrono::milliseconds(1)).count();
constexpr std::uintmax_t kMaxFileBytes = 64 * 1024 * 1024;
constexpr std::size_t kMinGzipBytes = 256;

constexpr std::array<const char*, 7> kDays{"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<const char*, 12> kMonths{"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                              "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool path_within(const fs::path& path, const fs::path& root) {
  auto [root_end, path_end] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return root_end == root.end();
}

std::int64_t ticks(std::chrono::steady_clock::time_point time) {
  return time.time_since_epoch().count();
}

/// Writes the canonical key of `decoded_path` into `key`; false when it is never a file.
bool canonical_key_into(std::string& key, std::string_view decoded_path) {
  key.clear();
  if (decoded_path.empty() || decoded_path.front() != '/') return false;
  std::string_view rest = decoded_path;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    const std::string_view segment = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (segment.empty() || segment == ".") continue;
    // No parent references, hidden files, NUL or Windows separators: none is ever a real asset.
    if (segment.front() == '.' || segment.find('\0') != std::string_view::npos ||
        segment.find('\\') != std::string_view::npos ||
        segment.find(':') != std::string_view::npos) {
      return false;
    }
    if (!key.empty()) key += '/';
    key += segment;
  }
  return true;
}

}  // namespace

bool is_compressible(std::string_view content_type) {
  const auto type = content_type.substr(0, content_type.find(';'));
  return type.starts_with("text/") || api::media_type_is(type, "application/json") ||
         api::media_type_is(type, "application/javascript") ||
         api::media_type_is(type, "image/svg+xml") ||
         api::media_type_is(type, "application/manifest+json") ||
         api::media_type_is(type, "application/xml");
}

std::size_t StaticFile::bytes() const {
  return sizeof(StaticFile) + (body ? body->size() : 0) + (gzip_body ? gzip_body->size() : 0) +
         content_type.size() + etag.size() + gzip_etag.size() + last_modified.size() +
         cache_control.size() + identity_fields.size() + gzip_fields.size();
}

std::optional<std::string> StaticFiles::canonical_key(std::string_view decoded_path) {
  std::string key;
  if (!canonical_key_into(key, decoded_path)) return std::nullopt;
  return key;
}

StaticFiles::StaticFiles(fs::path root, std::string cache_control, std::size_t cache_bytes)
    : cache_control_(std::move(cache_control)), cache_limit_(cache_bytes) {
  std::error_code error;
  fs::create_directories(root, error);
  root_ = fs::canonical(root, error);
  if (error) throw std::runtime_error("web root not found: " + root.string());
}

std::string StaticFiles::content_type_for(std::string_view file_name) {
  const auto dot = file_name.rfind('.');
  const std::string_view extension =
      dot == std::string_view::npos ? std::string_view{} : file_name.substr(dot + 1);
  static const std::unordered_map<std::string_view, const char*> kTypes{
      {"html", "text/html; charset=utf-8"},
      {"htm", "text/html; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"js", "application/javascript; charset=utf-8"},
      {"mjs", "application/javascript; charset=utf-8"},
      {"json", "application/json; charset=utf-8"},
      {"map", "application/json; charset=utf-8"},
      {"webmanifest", "application/manifest+json; charset=utf-8"},
      {"txt", "text/plain; charset=utf-8"},
      {"csv", "text/csv; charset=utf-8"},
      {"xml", "application/xml; charset=utf-8"},
      {"svg", "image/svg+xml; charset=utf-8"},
      {"png", "image/png"},
      {"jpg", "image/jpeg"},
      {"jpeg", "image/jpeg"},
      {"webp", "image/webp"},
      {"gif", "image/gif"},
      {"ico", "image/x-icon"},
      {"woff2", "font/woff2"},
      {"woff", "font/woff"},
      {"pdf", "application/pdf"},
  };
  const auto found = kTypes.find(extension);
  return found == kTypes.end() ? "application/octet-stream" : found->second;
}

std::string StaticFiles::format_http_date(std::chrono::system_clock::time_point time) {
  const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[40];
  std::snprintf(text, sizeof text, "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[utc.tm_wday],
                utc.tm_mday, kMonths[utc.tm_mon], utc.tm_year + 1900, utc.tm_hour, utc.tm_min,
                utc.tm_sec);
  return text;
}

std::optional<std::chrono::system_clock::time_point> StaticFiles::parse_http_date(
    std::string_view text) {
  // "Sun, 06 Nov 1994 08:49:37 GMT"
  if (text.size() != 29 || text.substr(25) != " GMT") return std::nullopt;
  std::tm utc{};
  char month[4] = {};
  const std::string copy(text);
  if (std::sscanf(copy.c_str() + 5, "%2d %3s %4d %2d:%2d:%2d", &utc.tm_mday, month, &utc.tm_year,
                  &utc.tm_hour, &utc.tm_min, &utc.tm_sec) != 6) {
    return std::nullopt;
  }
  utc.tm_mon = -1;
  for (int i = 0; i < 12; ++i) {
    if (std::string_view(month) == kMonths[i]) utc.tm_mon = i;
  }
  if (utc.tm_mon < 0) return std::nullopt;
  utc.tm_year -= 1900;
  return std::chrono::system_clock::from_time_t(timegm(&utc));
}

std::optional<fs::path> StaticFiles::resolve(const std::string& key) const {
  std::error_code error;
  fs::path candidate = key.empty() ? root_ : root_ / key;
  if (fs::is_directory(candidate, error)) candidate /= "index.html";
  // canonical() follows symlinks, so a link that leads out of the root is caught here.
  const fs::path real = fs::canonical(candidate, error);
  if (error || !path_within(real, root_) || !fs::is_regular_file(real, error)) return std::nullopt;
  return real;
}

std::shared_ptr<const StaticFile> StaticFiles::find(std::string_view decoded_path) {
  thread_local std::string key;
  if (!canonical_key_into(key, decoded_path)) return nullptr;
  const auto now = std::chrono::steady_clock::now();
  {
    std::shared_lock lock(mutex_);
    if (const auto found = cache_.find(key); found != cache_.end()) {
      const Entry& entry = *found->second;
      // Recency to a millisecond: a hit writes the shared entry at most once per millisecond.
      if (ticks(now) - entry.last_used.load(std::memory_order_relaxed) > kUseResolution) {
        entry.last_used.store(ticks(now), std::memory_order_relaxed);
      }
      if (ticks(now) - entry.checked.load(std::memory_order_relaxed) <
          std::chrono::steady_clock::duration(kRecheckInterval).count()) {
        return entry.file;
      }
    }
  }
  const auto path = resolve(key);
  if (!path) {
    std::unique_lock lock(mutex_);
    if (const auto found = cache_.find(key); found != cache_.end()) {
      cache_bytes_ -= found->second->bytes;
      cache_.erase(found);
    }
    return nullptr;
  }
  std::error_code error;
  const auto write_time = fs::last_write_time(*path, error);
  const auto size = fs::file_size(*path, error);
  if (error || size > kMaxFileBytes) return nullptr;
  {
    std::shared_lock lock(mutex_);
    const auto found = cache_.find(key);
    if (found != cache_.end() && found->second->write_time == write_time &&
        found->second->size == size) {
      found->second->checked.store(ticks(now), std::memory_order_relaxed);
      return found->second->file;
    }
  }
  auto file = load(*path);
  if (!file) return nullptr;
  insert(key, file, write_time, size);
  return file;
}

void StaticFiles::insert(const std::string& key, std::shared_ptr<const StaticFile> file,
                         fs::file_time_type write_time, std::uintmax_t size) {
  const std::size_t bytes = file->bytes() + key.size() + sizeof(Entry);
  if (bytes > cache_limit_) return;  // served, never kept
  auto entry = std::make_unique<Entry>();
  entry->file = std::move(file);
  entry->write_time = write_time;
  entry->size = size;
  entry->bytes = bytes;
  entry->checked.store(ticks(std::chrono::steady_clock::now()), std::memory_order_relaxed);
  entry->last_used.store(entry->checked.load(), std::memory_order_relaxed);
  std::unique_lock lock(mutex_);
  if (const auto found = cache_.find(key); found != cache_.end()) {
    cache_bytes_ -= found->second->bytes;
    cache_.erase(found);
  }
  if (cache_bytes_ + bytes > cache_limit_) {
    // Least recently used out first, down to three quarters of the bound, so a full cache
    // sorts once per many insertions rather than once each.
    std::vector<std::pair<std::int64_t, const std::string*>> by_use;
    by_use.reserve(cache_.size());
    for (const auto& [name, cached] : cache_)
      by_use.emplace_back(cached->last_used.load(std::memory_order_relaxed), &name);
    std::sort(by_use.begin(), by_use.end());
    const std::size_t target = cache_limit_ / 4 * 3;
    std::vector<std::string> evicted;
    std::size_t remaining = cache_bytes_;
    for (const auto& [used, name] : by_use) {
      if (remaining + bytes <= target) break;
      remaining -= cache_.find(*name)->second->bytes;
      evicted.push_back(*name);
    }
    for (const auto& name : evicted)
      cache_.erase(name);
    cache_bytes_ = remaining;
  }
  cache_bytes_ += bytes;
  cache_.emplace(key, std::move(entry));
}

std::size_t StaticFiles::cached_files() const {
  std::shared_lock lock(mutex_);
  return cache_.size();
}

std::size_t StaticFiles::cached_bytes() const {
  std::shared_lock lock(mutex_);
  return cache_bytes_;
}

std::shared_ptr<const StaticFile> StaticFiles::load(const fs::path& path) {
  std::ifstream input(path, std::ios::binary);
  if (!input) return nullptr;
  std::ostringstream bytes;
  bytes << input.rdbuf();
  auto loaded = std::make_shared<StaticFile>();
  StaticFile& file = *loaded;
  file.body = std::make_shared<const std::string>(bytes.str());
  file.content_type = content_type_for(path.filename().string());
  if (is_compressible(file.content_type) && file.body->size() >= kMinGzipBytes) {
    file.gzip_body = std::make_shared<const std::string>(gzip_compress(*file.body));
  }
  std::error_code error;
  const auto write_time = fs::last_write_time(path, error);
  file.modified = std::chrono::time_point_cast<std::chrono::seconds>(
      std::chrono::file_clock::to_sys(write_time));
  file.last_modified = format_http_date(file.modified);
  const auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(write_time.time_since_epoch()).count();
  char etag[64];
  std::snprintf(etag, sizeof etag, "\"%zx-%llx\"", file.body->size(),
                static_cast<unsigned long long>(nanos));
  file.etag = etag;
  if (file.gzip_body) file.gzip_etag = file.etag.substr(0, file.etag.size() - 1) + "-gz\"";
  // Pages revalidate every time (they name the API they call); assets may be cached an hour.
  file.cache_control = !cache_control_.empty()                      ? cache_control_
                       : file.content_type.starts_with("text/html") ? "no-cache"
                                                                    : "public, max-age=3600";
  auto fields = [&file](const std::string& etag, const std::string& body, bool gzip) {
    std::string text = "\r\nContent-Type: " + file.content_type + "\r\nETag: " + etag +
                       "\r\nLast-Modified: " + file.last_modified +
                       "\r\nCache-Control: " + file.cache_control;
    if (file.gzip_body) text += "\r\nVary: Accept-Encoding";
    if (gzip) text += "\r\nContent-Encoding: gzip";
    return text + "\r\nContent-Length: " + std::to_string(body.size());
  };
  file.identity_fields = fields(file.etag, *file.body, false);
  if (file.gzip_body) file.gzip_fields = fields(file.gzip_etag, *file.gzip_body, true);
  return loaded;
}

std::string gzip_compress(std::string_view data) {
  z_stream stream{};
  if (deflateInit2(&stream, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("deflateInit2 failed");
  }
  std::string out(deflateBound(&stream, data.size()), '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) throw std::runtime_error("deflate failed");
  return out;
}

}  // namespace yizhan::http
