// Periodic housekeeping inside the server (expired idempotency keys …), on its own thread so
// that no request waits for it. Safe with several processes: each task is bounded batches of
// short transactions that tolerate a peer doing the same.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace yizhan::service {

/// Runs registered tasks every `interval` until destroyed. A failing task is logged and tried
/// again next round. What each task did is counted for /metrics.
class Maintenance {
 public:
  explicit Maintenance(std::chrono::milliseconds interval) : interval_(interval) {}
  ~Maintenance();
  Maintenance(const Maintenance&) = delete;
  Maintenance& operator=(const Maintenance&) = delete;

  /// Registers a task, which returns how many things it handled (orders expired, refunds
  /// finished …; logged when not 0); call before start(). `id` names it in /metrics
  /// (lower case and underscores), `what` in the log.
  void add(std::string id, std::string what, std::function<int()> task);
  /// Starts the thread; the first round runs at once.
  void start();
  /// Stops after the task in progress, if any (the rest of its round does not run).
  void stop();

  /// Prometheus text for the tasks of all `sets`, each metric named once: per task, rounds run
  /// and failed, things handled, and when and how long the last round ran. Thread-safe.
  [[nodiscard]] static std::string metrics(std::initializer_list<const Maintenance*> sets);

 private:
  void run();

  struct Task {
    std::string id;
    std::string what;
    std::function<int()> work;
    // Under stats_mutex_:
    std::uint64_t runs = 0;
    std::uint64_t failures = 0;
    std::uint64_t handled = 0;
    double last_finished = 0;  ///< unix seconds
    double last_seconds = 0;
  };
  std::chrono::milliseconds interval_;
  std::vector<Task> tasks_;
  mutable std::mutex stats_mutex_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace yizhan::service
