// The housekeeping thread: runs each task, logs failures, sleeps until the next round or stop.
#include "yizhan/service/maintenance.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <exception>

namespace yizhan::service {

Maintenance::~Maintenance() {
  stop();
}

void Maintenance::add(std::string id, std::string what, std::function<int()> task) {
  Task added;
  added.id = std::move(id);
  added.what = std::move(what);
  added.work = std::move(task);
  tasks_.push_back(std::move(added));
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
    for (auto& task : tasks_) {
      {
        std::lock_guard check(mutex_);
        if (stopping_) return;  // stop() waits for the task in progress only, not the round
      }
      const auto started = std::chrono::steady_clock::now();
      int handled = 0;
      bool failed = false;
      try {
        handled = task.work();
        if (handled > 0) spdlog::info("{}: {}", task.what, handled);
      } catch (const std::exception& error) {
        failed = true;
        spdlog::warn("maintenance task '{}' failed: {}", task.what, error.what());
      } catch (...) {
        failed = true;
        spdlog::warn("maintenance task '{}' failed", task.what);
      }
      const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
      const std::chrono::duration<double> now = std::chrono::system_clock::now().time_since_epoch();
      std::lock_guard stats(stats_mutex_);
      ++task.runs;
      task.failures += failed ? 1 : 0;
      task.handled += static_cast<std::uint64_t>(std::max(0, handled));
      task.last_finished = now.count();
      task.last_seconds = took.count();
    }
    lock.lock();
    wake_.wait_for(lock, interval_, [this] { return stopping_; });
  }
}

std::string Maintenance::metrics(std::initializer_list<const Maintenance*> sets) {
  struct Family {
    const char* name;
    const char* type;
    const char* help;
    std::string (*value)(const Task&);
  };
  static const Family families[] = {
      {"yizhan_maintenance_runs_total", "counter", "Rounds each background task has run.",
       [](const Task& t) { return std::to_string(t.runs); }},
      {"yizhan_maintenance_failures_total", "counter", "Rounds that ended in an error.",
       [](const Task& t) { return std::to_string(t.failures); }},
      {"yizhan_maintenance_handled_total", "counter",
       "What each task handled: orders expired, trades settled, refunds finished ...",
       [](const Task& t) { return std::to_string(t.handled); }},
      {"yizhan_maintenance_last_run_timestamp_seconds", "gauge",
       "When each task last finished a round (unix time; 0: not yet).",
       [](const Task& t) { return fmt::format("{:.3f}", t.last_finished); }},
      {"yizhan_maintenance_last_run_duration_seconds", "gauge",
       "How long each task's last round took.",
       [](const Task& t) { return fmt::format("{:.6f}", t.last_seconds); }},
  };
  std::string out;
  for (const auto& family : families) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", family.name, family.help, family.name,
                       family.type);
    for (const auto* set : sets) {
      std::lock_guard stats(set->stats_mutex_);
      for (const auto& task : set->tasks_)
        out += fmt::format("{}{{task=\"{}\"}} {}\n", family.name, task.id, family.value(task));
    }
  }
  return out;
}

}  // namespace yizhan::service
