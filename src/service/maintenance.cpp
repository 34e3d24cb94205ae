// The housekeeping thread: runs each task, logs failures, sleeps until the next round or stop.
#include "yizhan/service/maintenance.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace yizhan::service {

Maintenance::~Maintenance() {
  stop();
}

void Maintenance::add(std::string name, std::function<void()> task) {
  tasks_.push_back({std::move(name), std::move(task)});
}

void Maintenance::start() {
  thread_ = std::thread([this] { run(); });
}

void Maintenance::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Maintenance::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    for (const auto& task : tasks_) {
      try {
        task.work();
      } catch (const std::exception& error) {
        spdlog::warn("maintenance task '{}' failed: {}", task.name, error.what());
      } catch (...) {
        spdlog::warn("maintenance task '{}' failed", task.name);
      }
    }
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

}  // namespace yizhan::service
