// Private to src/http: the threads that run database routes (they block on MariaDB).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace yizhan::http {

/// A fixed set of threads running posted jobs, each job handed to the thread that went idle
/// last. Compared with a shared queue and condition variable (Asio's thread_pool), a job costs
/// one wake-up of one thread and no other thread stirs, and a few threads stay warm (their
/// stacks, the allocator's caches) instead of all taking turns: on a saturated machine every
/// wake-up and cold cache is CPU taken from the database. Thread-safe.
class WorkerPool {
 public:
  explicit WorkerPool(std::size_t threads);
  /// Joins (see join()).
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  /// Runs `job` on a worker: at once on an idle one, else after the jobs queued before it.
  /// `job` must not throw (an exception that escapes it is dropped).
  void post(std::function<void()> job);

  /// Runs what is queued, then ends the threads and waits for them. Jobs posted afterwards
  /// never run.
  void join();

 private:
  struct Worker {
    std::condition_variable wake;
    std::function<void()> job;  ///< handed over by post() while the worker was idle
    bool has_job = false;
  };

  void run(Worker& self);

  std::mutex mutex_;
  std::deque<std::function<void()>> queue_;  ///< jobs no idle worker could take
  std::vector<Worker*> idle_;                ///< waiting workers, the last to go idle at the back
  bool stopping_ = false;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
};

}  // namespace yizhan::http
