// The database route workers: a job goes straight to the most recently idle thread.
#include "worker_pool.hpp"

#include <algorithm>
#include <memory>

namespace yizhan::http {

WorkerPool::WorkerPool(std::size_t threads) {
  threads = std::max<std::size_t>(1, threads);
  workers_.reserve(threads);
  idle_.reserve(threads);
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i)
    workers_.push_back(std::make_unique<Worker>());
  for (auto& worker : workers_)
    threads_.emplace_back([this, &self = *worker] { run(self); });
}

WorkerPool::~WorkerPool() {
  join();
}

void WorkerPool::post(std::function<void()> job) {
  std::unique_lock lock(mutex_);
  if (idle_.empty()) {
    queue_.push_back(std::move(job));
    return;
  }
  Worker& worker = *idle_.back();
  idle_.pop_back();
  worker.job = std::move(job);
  worker.has_job = true;
  lock.unlock();
  worker.wake.notify_one();
}

void WorkerPool::join() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    for (auto* worker : idle_)
      worker->wake.notify_one();
  }
  for (auto& thread : threads_)
    if (thread.joinable()) thread.join();
  std::lock_guard lock(mutex_);
  threads_.clear();
}

void WorkerPool::run(Worker& self) {
  std::unique_lock lock(mutex_);
  for (;;) {
    std::function<void()> job;
    if (self.has_job) {
      job = std::move(self.job);
      self.job = nullptr;
      self.has_job = false;
    } else if (!queue_.empty()) {
      job = std::move(queue_.front());
      queue_.pop_front();
    } else if (stopping_) {
      return;
    } else {
      idle_.push_back(&self);
      self.wake.wait(lock, [&] { return self.has_job || stopping_; });
      // Woken to stop: leave the idle list so that no job is handed to a thread that is gone.
      if (!self.has_job) idle_.erase(std::find(idle_.begin(), idle_.end(), &self));
      continue;
    }
    lock.unlock();
    try {
      job();
    } catch (...) {
    }
    job = nullptr;  // the job's captures die here, outside the lock
    lock.lock();
  }
}

}  // namespace yizhan::http
