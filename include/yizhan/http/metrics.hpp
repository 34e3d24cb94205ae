// Request counters and latency histograms per route, and the occupancy of the server's request
// pools, rendered in Prometheus text format.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace yizhan::http {

/// Thread-safe request metrics. Every label comes from a closed set: routes are patterns or fixed
/// labels chosen by the server, methods outside the standard ones count as `OTHER`, statuses are
/// the server's own. Counting is a few relaxed atomic additions; rendering copies the counters
/// and never holds a lock that counting needs.
class Metrics {
 public:
  static constexpr std::array<double, 12> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02,
                                                   0.05,   0.1,   0.25,   0.5,   1.0,  5.0};

  /// The counters of one label set, in a few shards so that I/O threads counting the same
  /// series do not fight over one cache line. Its address stays valid as long as the Metrics.
  struct Series {
    struct alignas(64) Shard {
      std::atomic<std::uint64_t> count{0};
      std::atomic<std::uint64_t> nanoseconds{0};
      std::array<std::atomic<std::uint64_t>, kBuckets.size()> buckets{};  ///< not cumulative
    };
    static constexpr std::size_t kShards = 8;
    std::array<Shard, kShards> shards;
  };

  /// The method's label: itself when it is a standard method, else "OTHER".
  static std::string_view method_label(std::string_view method);

  /// The series of one label set, created on first use. `route` must be a pattern or a fixed
  /// label, never a raw path.
  Series& series(std::string_view route, std::string_view method, int status);
  /// Adds one request to a series.
  static void record(Series& series, double seconds);
  /// Records one finished request.
  void observe(std::string_view route, std::string_view method, int status, double seconds) {
    record(series(route, method, status), seconds);
  }
  /// The metrics in Prometheus text exposition format.
  [[nodiscard]] std::string render() const;

  /// Occupancy of one of the server's request pools, kept by the server, shown by render().
  struct Pool {
    std::atomic<int> capacity{0};           ///< threads
    std::atomic<int> busy{0};               ///< requests taken by a thread (or about to be)
    std::atomic<int> queued{0};             ///< requests waiting for a thread
    std::atomic<std::uint64_t> refused{0};  ///< requests answered 503 because it was full
  };
  /// The database workers: every route that touches the database.
  Pool& database_pool() { return database_pool_; }
  /// The provider threads: requests that wait on a payment provider (Route::waits_on_provider).
  Pool& provider_pool() { return provider_pool_; }

 private:
  Pool database_pool_;
  Pool provider_pool_;
  mutable std::shared_mutex mutex_;  ///< guards the map's shape only, never the counters
  std::map<std::tuple<std::string, std::string, int>, std::unique_ptr<Series>, std::less<>> series_;
};

}  // namespace yizhan::http
