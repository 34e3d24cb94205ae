// Prometheus text rendering of the request metrics; counting with relaxed atomics.
#include "yizhan/http/metrics.hpp"

#include <algorithm>
#include <mutex>
#include <sstream>
#include <vector>

namespace yizhan::http {

std::string_view Metrics::method_label(std::string_view method) {
  static constexpr std::array<std::string_view, 9> kMethods{
      "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"};
  for (const auto known : kMethods) {
    if (method == known) return known;
  }
  return "OTHER";
}

Metrics::Series& Metrics::series(std::string_view route, std::string_view method, int status) {
  method = method_label(method);
  const std::tuple<std::string_view, std::string_view, int> key(route, method, status);
  {
    std::shared_lock lock(mutex_);
    if (const auto found = series_.find(key); found != series_.end()) return *found->second;
  }
  std::unique_lock lock(mutex_);
  auto found = series_.find(key);
  if (found == series_.end()) {
    found = series_
                .emplace(std::tuple(std::string(route), std::string(method), status),
                         std::make_unique<Series>())
                .first;
  }
  return *found->second;
}

namespace {

/// This thread's shard: threads take turns, so a few I/O threads each get their own.
std::size_t shard_of_this_thread() {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t shard =
      next.fetch_add(1, std::memory_order_relaxed) % Metrics::Series::kShards;
  return shard;
}

}  // namespace

void Metrics::record(Series& series, double seconds) {
  auto& shard = series.shards[shard_of_this_thread()];
  shard.count.fetch_add(1, std::memory_order_relaxed);
  shard.nanoseconds.fetch_add(static_cast<std::uint64_t>(seconds * 1e9), std::memory_order_relaxed);
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      shard.buckets[i].fetch_add(1, std::memory_order_relaxed);
      break;
    }
  }
}

std::string Metrics::render() const {
  struct Copy {
    std::string labels;
    std::uint64_t count;
    double sum;
    std::array<std::uint64_t, kBuckets.size()> buckets;
  };
  std::vector<std::pair<std::string, const Series*>> listed;
  {
    // Only the list of series is taken under the lock; a series is never removed.
    std::shared_lock lock(mutex_);
    listed.reserve(series_.size());
    for (const auto& [key, series] : series_) {
      const auto& [route, method, status] = key;
      listed.emplace_back("route=\"" + route + "\",method=\"" + method + "\",status=\"" +
                              std::to_string(status) + '"',
                          series.get());
    }
  }
  std::vector<Copy> copies;
  copies.reserve(listed.size());
  for (auto& [labels, series] : listed) {
    Copy copy{std::move(labels), 0, 0, {}};
    std::uint64_t cumulative = 0;
    std::uint64_t count = 0;
    std::uint64_t nanoseconds = 0;
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      for (const auto& shard : series->shards)
        cumulative += shard.buckets[i].load(std::memory_order_relaxed);
      copy.buckets[i] = cumulative;
    }
    // Read after the buckets, so the +Inf bucket is never below the last finite one.
    for (const auto& shard : series->shards) {
      count += shard.count.load(std::memory_order_relaxed);
      nanoseconds += shard.nanoseconds.load(std::memory_order_relaxed);
    }
    copy.count = std::max(count, cumulative);
    copy.sum = static_cast<double>(nanoseconds) / 1e9;
    copies.push_back(std::move(copy));
  }

  std::ostringstream out;
  out << "# HELP yizhan_http_requests_total Requests served, by route pattern, method and status.\n"
         "# TYPE yizhan_http_requests_total counter\n";
  for (const auto& copy : copies)
    out << "yizhan_http_requests_total{" << copy.labels << "} " << copy.count << '\n';
  out << "# HELP yizhan_http_request_duration_seconds Time from request read to response "
         "queued.\n# TYPE yizhan_http_request_duration_seconds histogram\n";
  for (const auto& copy : copies) {
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out << "yizhan_http_request_duration_seconds_bucket{" << copy.labels << ",le=\""
          << kBuckets[i] << "\"} " << copy.buckets[i] << '\n';
    }
    out << "yizhan_http_request_duration_seconds_bucket{" << copy.labels << ",le=\"+Inf\"} "
        << copy.count << '\n';
    out << "yizhan_http_request_duration_seconds_sum{" << copy.labels << "} " << copy.sum << '\n';
    out << "yizhan_http_request_duration_seconds_count{" << copy.labels << "} " << copy.count
        << '\n';
  }
  const std::array<std::pair<const char*, const Pool*>, 2> pools{
      {{"database", &database_pool_}, {"provider", &provider_pool_}}};
  out << "# HELP yizhan_http_pool_threads Threads of the server's request pools, by state.\n"
         "# TYPE yizhan_http_pool_threads gauge\n";
  for (const auto& [name, pool] : pools) {
    out << "yizhan_http_pool_threads{pool=\"" << name << "\",state=\"busy\"} "
        << pool->busy.load(std::memory_order_relaxed) << '\n';
    out << "yizhan_http_pool_threads{pool=\"" << name << "\",state=\"capacity\"} "
        << pool->capacity.load(std::memory_order_relaxed) << '\n';
  }
  out << "# HELP yizhan_http_pool_queued Requests waiting for a thread of the pool.\n"
         "# TYPE yizhan_http_pool_queued gauge\n";
  for (const auto& [name, pool] : pools)
    out << "yizhan_http_pool_queued{pool=\"" << name << "\"} "
        << pool->queued.load(std::memory_order_relaxed) << '\n';
  out << "# HELP yizhan_http_pool_refused_total Requests answered 503 because the pool was "
         "full.\n# TYPE yizhan_http_pool_refused_total counter\n";
  for (const auto& [name, pool] : pools)
    out << "yizhan_http_pool_refused_total{pool=\"" << name << "\"} "
        << pool->refused.load(std::memory_order_relaxed) << '\n';
  return out.str();
}

}  // namespace yizhan::http
