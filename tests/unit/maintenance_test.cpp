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
  maintenance.add("fails", [&] {
    ++failures;
    throw std::runtime_error("database down");
  });
  maintenance.add("purge", [&] { ++purges; });
  maintenance.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (purges < 3 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  maintenance.stop();
  EXPECT_GE(purges.load(), 3);
  EXPECT_GE(failures.load(), purges.load() - 1);
}

TEST(Maintenance, StopDoesNotWaitForTheNextRound) {
  std::atomic<int> runs{0};
  service::Maintenance maintenance(std::chrono::hours(1));
  maintenance.add("once", [&] { ++runs; });
  maintenance.start();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (runs < 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  const auto started = std::chrono::steady_clock::now();
  maintenance.stop();
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(runs.load(), 1);
}
