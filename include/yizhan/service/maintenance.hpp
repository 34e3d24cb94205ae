// Periodic housekeeping inside the server (expired idempotency keys …), on its own thread so
// that no request waits for it. Safe with several processes: each task is bounded batches of
// short transactions that tolerate a peer doing the same.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace yizhan::service {

/// Runs registered tasks every `interval` until destroyed. A failing task is logged and tried
/// again next round.
class Maintenance {
 public:
  explicit Maintenance(std::chrono::milliseconds interval) : interval_(interval) {}
  ~Maintenance();
  Maintenance(const Maintenance&) = delete;
  Maintenance& operator=(const Maintenance&) = delete;

  /// Registers a task; call before start().
  void add(std::string name, std::function<void()> task);
  /// Starts the thread; the first round runs at once.
  void start();
  /// Stops after the task in progress, if any.
  void stop();

 private:
  void run();

  struct Task {
    std::string name;
    std::function<void()> work;
  };
  std::chrono::milliseconds interval_;
  std::vector<Task> tasks_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace yizhan::service
