// The housekeeping thread: runs every task each round, survives a failing task, stops promptly.
#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <thread>

#include "yizhan/service/maintenance.hpp"

using namespace yizhan;

TEST(Maintenance, RunsEveryTaskEachRoundAndAFailingTaskDoesNotStopTheOthers) {
  std::atomic<int> purges{0};
  std::atomic<int> failures{0};
  service::Maintenance maintenance(std::chrono::milliseconds(5));
  maintenance.add("fails", "fails", [&]() -> int {
    ++failures;
    throw std::runtime_error("database down");
  });
  maintenance.add("purge", "purged", [&] {
    ++purges;
    return 2;
  });
  maintenance.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (purges < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  maintenance.stop();
  EXPECT_GE(purges.load(), 3);
  EXPECT_GE(failures.load(), purges.load() - 1);
  // /metrics counts rounds, failures and what was handled, per task.
  service::Maintenance other(std::chrono::hours(1));
  other.add("never", "never ran", [] { return 0; });
  const auto text = service::Maintenance::metrics({&maintenance, &other});
  const auto line = [&](const std::string& prefix) {
    const auto at = text.find(prefix);
    return at == std::string::npos ? std::string() : text.substr(at, text.find('\n', at) - at);
  };
  EXPECT_EQ(line("yizhan_maintenance_runs_total{task=\"purge\"}"),
            "yizhan_maintenance_runs_total{task=\"purge\"} " + std::to_string(purges.load()));
  EXPECT_EQ(
      line("yizhan_maintenance_handled_total{task=\"purge\"}"),
      "yizhan_maintenance_handled_total{task=\"purge\"} " + std::to_string(2 * purges.load()));
  EXPECT_EQ(line("yizhan_maintenance_failures_total{task=\"purge\"}"),
            "yizhan_maintenance_failures_total{task=\"purge\"} 0");
  EXPECT_EQ(line("yizhan_maintenance_failures_total{task=\"fails\"}"),
            "yizhan_maintenance_failures_total{task=\"fails\"} " + std::to_string(failures.load()));
  EXPECT_NE(text.find("# TYPE yizhan_maintenance_last_run_timestamp_seconds gauge"),
            std::string::npos);
  EXPECT_EQ(line("yizhan_maintenance_last_run_timestamp_seconds{task=\"purge\"} 0."), std::string())
      << "a finished round has a time";
}

TEST(Maintenance, StopDoesNotWaitForTheNextRound) {
  std::atomic<int> runs{0};
  service::Maintenance maintenance(std::chrono::hours(1));
  maintenance.add("once", "once", [&] {
    ++runs;
    return 0;
  });
  maintenance.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (runs < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto started = std::chrono::steady_clock::now();
  maintenance.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(runs.load(), 1);
}

TEST(Maintenance, StopWaitsForTheTaskInProgressNotTheRestOfTheRound) {
  std::atomic<bool> first_started{false};
  std::atomic<bool> release{false};
  std::atomic<int> second_runs{0};
  service::Maintenance maintenance(std::chrono::hours(1));
  maintenance.add("slow", "slow", [&] {
    first_started = true;
    while (!release)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return 0;
  });
  maintenance.add("second", "second", [&] {
    ++second_runs;
    return 0;
  });
  maintenance.start();
  while (!first_started)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::thread stopper([&] { maintenance.stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // stop() is waiting by now
  release = true;
  stopper.join();
  EXPECT_EQ(second_runs.load(), 0) << "the round ends with the task in progress";
}
