// Delivers the simulator's notifications in the background, retrying unacknowledged ones a few
// times (WeChat and Alipay both keep sending until the merchant acknowledges).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "simulator.hpp"

namespace yizhan::paysim {

class Notifier {
 public:
  /// `report` hears of every attempt; `tick` runs about twice a second (pending code payments).
  Notifier(std::function<void(const Delivery&, bool acknowledged)> report,
           std::function<void()> tick);
  ~Notifier();
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void push(Delivery delivery);

 private:
  struct Pending {
    Delivery delivery;
    int attempts = 0;
    std::chrono::steady_clock::time_point due;
  };
  void run();
  bool attempt(const Delivery& delivery);

  std::function<void(const Delivery&, bool)> report_;
  std::function<void()> tick_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::vector<Pending> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace yizhan::paysim
