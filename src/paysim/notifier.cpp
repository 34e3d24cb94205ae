// Background delivery of notifications with retries at 0 s, 1 s, 3 s, 10 s and 30 s.
#include "notifier.hpp"

#include <iostream>

#include "yizhan/payments/transport.hpp"

namespace yizhan::paysim {
namespace {

constexpr std::chrono::seconds kRetryDelays[] = {std::chrono::seconds(1), std::chrono::seconds(3),
                                                 std::chrono::seconds(10),
                                                 std::chrono::seconds(30)};
constexpr int kAttempts = 1 + std::size(kRetryDelays);

}  // namespace

Notifier::Notifier(std::function<void(const Delivery&, bool)> report, std::function<void()> tick)
    : report_(std::move(report)), tick_(std::move(tick)), thread_([this] { run(); }) {}

Notifier::~Notifier() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Notifier::push(Delivery delivery) {
  {
    std::lock_guard lock(mutex_);
    pending_.push_back(Pending{std::move(delivery), 0, std::chrono::steady_clock::now()});
  }
  wake_.notify_all();
}

bool Notifier::attempt(const Delivery& delivery) {
  static const auto transport = payments::make_https_transport();
  payments::HttpRequest request;
  request.method = "POST";
  request.url = delivery.url;
  request.headers = delivery.headers;
  request.body = delivery.body;
  try {
    const auto response = transport->send(request, std::chrono::seconds(5));
    const bool acknowledged = delivery.acknowledged(response.status, response.body);
    std::cerr << "paysim: notified " << delivery.provider << " " << delivery.out_trade_no << " → "
              << response.status << (acknowledged ? " acknowledged" : " NOT acknowledged") << "\n";
    return acknowledged;
  } catch (const std::exception& error) {
    std::cerr << "paysim: notifying " << delivery.url << " failed: " << error.what() << "\n";
    return false;
  }
}

void Notifier::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(500));
    if (stopping_) break;
    const auto now = std::chrono::steady_clock::now();
    std::vector<Pending> due;
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (it->due <= now) {
        due.push_back(std::move(*it));
        it = pending_.erase(it);
      } else {
        ++it;
      }
    }
    lock.unlock();
    tick_();
    std::vector<Pending> again;
    for (Pending& item : due) {
      const bool acknowledged = attempt(item.delivery);
      report_(item.delivery, acknowledged);
      if (!acknowledged && ++item.attempts < kAttempts) {
        item.due = std::chrono::steady_clock::now() + kRetryDelays[item.attempts - 1];
        again.push_back(std::move(item));
      }
    }
    lock.lock();
    for (Pending& item : again)
      pending_.push_back(std::move(item));
  }
}

}  // namespace yizhan::paysim
