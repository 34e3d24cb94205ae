// Request counters and latency histograms per route, rendered in Prometheus text format.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace yizhan::http {

/// Thread-safe request metrics; routes are labelled by pattern, never by raw path.
class Metrics {
 public:
  /// Records one finished request.
  void observe(std::string_view route, std::string_view method, int status, double seconds);
  /// The metrics in Prometheus text exposition format.
  [[nodiscard]] std::string render() const;

  static constexpr std::array<double, 12> kBuckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02,
                                                   0.05,   0.1,   0.25,   0.5,   1.0,  5.0};

 private:
  struct Series {
    std::uint64_t count = 0;
    double sum = 0;
    std::array<std::uint64_t, kBuckets.size()> buckets{};
  };
  mutable std::mutex mutex_;
  std::map<std::tuple<std::string, std::string, int>, Series, std::less<>> series_;
};

}  // namespace yizhan::http
