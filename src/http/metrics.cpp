// Prometheus text rendering of the request metrics.
#include "yizhan/http/metrics.hpp"

#include <sstream>

namespace yizhan::http {

void Metrics::observe(std::string_view route, std::string_view method, int status, double seconds) {
  std::lock_guard lock(mutex_);
  // Look up without allocating; a new series (rare) is created once.
  auto found =
      series_.find(std::tuple<std::string_view, std::string_view, int>(route, method, status));
  if (found == series_.end()) {
    found = series_.emplace(std::tuple(std::string(route), std::string(method), status), Series{})
                .first;
  }
  auto& series = found->second;
  ++series.count;
  series.sum += seconds;
  for (std::size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++series.buckets[i];
  }
}

std::string Metrics::render() const {
  std::ostringstream out;
  std::lock_guard lock(mutex_);
  out << "# HELP yizhan_http_requests_total Requests served, by route pattern, method and status.\n"
         "# TYPE yizhan_http_requests_total counter\n";
  for (const auto& [key, series] : series_) {
    const auto& [route, method, status] = key;
    out << "yizhan_http_requests_total{route=\"" << route << "\",method=\"" << method
        << "\",status=\"" << status << "\"} " << series.count << '\n';
  }
  out << "# HELP yizhan_http_request_duration_seconds Time from request read to response "
         "queued.\n# TYPE yizhan_http_request_duration_seconds histogram\n";
  for (const auto& [key, series] : series_) {
    const auto& [route, method, status] = key;
    std::ostringstream labels;
    labels << "route=\"" << route << "\",method=\"" << method << "\",status=\"" << status << '"';
    for (std::size_t i = 0; i < kBuckets.size(); ++i) {
      out << "yizhan_http_request_duration_seconds_bucket{" << labels.str() << ",le=\""
          << kBuckets[i] << "\"} " << series.buckets[i] << '\n';
    }
    out << "yizhan_http_request_duration_seconds_bucket{" << labels.str() << ",le=\"+Inf\"} "
        << series.count << '\n';
    out << "yizhan_http_request_duration_seconds_sum{" << labels.str() << "} " << series.sum
        << '\n';
    out << "yizhan_http_request_duration_seconds_count{" << labels.str() << "} " << series.count
        << '\n';
  }
  return out.str();
}

}  // namespace yizhan::http
