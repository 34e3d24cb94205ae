// Network receipt printing: a receipt sent to a local TCP listener arrives byte for byte; an
// unreachable or stalled printer is a clean 503 within the time limits, never a hang.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "yizhan/domain/error.hpp"
#include "yizhan/service/printer.hpp"

namespace {

using namespace std::chrono_literals;
namespace service = yizhan::service;
namespace domain = yizhan::domain;

/// A listening socket on 127.0.0.1 and an ephemeral port, closed at the end of the test.
class Listener {
 public:
  explicit Listener(int backlog = 4) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(::listen(fd_, backlog), 0);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
  }
  ~Listener() { ::close(fd_); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  [[nodiscard]] int port() const { return port_; }

  /// Accepts one connection and reads it to the end.
  std::string receive_one() const {
    const int client = ::accept(fd_, nullptr, nullptr);
    std::string received;
    char buffer[4096];
    for (;;) {
      const ssize_t n = ::read(client, buffer, sizeof buffer);
      if (n <= 0) break;
      received.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(client);
    return received;
  }

  /// Accepts one connection, holds it unread for `hold`, then closes it.
  void accept_and_stall(std::chrono::milliseconds hold) const {
    const int client = ::accept(fd_, nullptr, nullptr);
    std::this_thread::sleep_for(hold);
    ::close(client);
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

/// A port on 127.0.0.1 where nothing listens (bound, then closed).
int closed_port() {
  const Listener listener;
  return listener.port();
}

/// A small ESC/POS job: init, Chinese mode, "中文" in GB18030, a QR code (with NUL bytes), cut.
std::string sample_receipt_bytes() {
  return std::string(
      "\x1b@\x1c&\xd6\xd0\xce\xc4\n"
      "\x1d(k\x04\x00"
      "1A2\x00"
      "\x1d(k\x07\x00"
      "1P01234\x1d(k\x03\x00"
      "1Q0\n\x1b\x64\x04\x1dV\x01",
      45);
}

TEST(Printer, AReceiptArrivesByteForByte) {
  const Listener printer;
  auto received = std::async(std::launch::async, [&] { return printer.receive_one(); });
  const std::string bytes = sample_receipt_bytes();
  ASSERT_NE(bytes.find('\0'), std::string::npos) << "binary bytes (NUL in GS ( k) included";
  service::send_to_printer("127.0.0.1", printer.port(), bytes);
  ASSERT_EQ(received.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(received.get(), bytes);
}

TEST(Printer, ALargeJobArrivesWhole) {
  const Listener printer;
  auto received = std::async(std::launch::async, [&] { return printer.receive_one(); });
  std::string bytes;
  for (int i = 0; i < 20000; ++i)
    bytes += sample_receipt_bytes();  // ~4 MB, past socket buffers
  service::send_to_printer("localhost", printer.port(), bytes);
  ASSERT_EQ(received.wait_for(10s), std::future_status::ready);
  EXPECT_EQ(received.get(), bytes);
}

TEST(Printer, ARefusedConnectionIsUnavailableAndNamesThePrinter) {
  const int port = closed_port();
  try {
    service::send_to_printer("127.0.0.1", port, "x");
    FAIL() << "printing to a closed port succeeded";
  } catch (const domain::Error& error) {
    EXPECT_EQ(error.code(), domain::ErrorCode::unavailable);
    const std::string message = error.what();
    EXPECT_NE(message.find("127.0.0.1:" + std::to_string(port)), std::string::npos) << message;
    EXPECT_NE(message.find("小票打印机"), std::string::npos) << message;
    EXPECT_EQ(error.details().at("printer"), "127.0.0.1:" + std::to_string(port));
  }
}

TEST(Printer, AnUnknownHostOrBadPortIsUnavailable) {
  EXPECT_THROW(service::send_to_printer("printer.invalid", 9100, "x"), domain::Error);
  EXPECT_THROW(service::send_to_printer("127.0.0.1", 0, "x"), domain::Error);
  EXPECT_THROW(service::send_to_printer("", 9100, "x"), domain::Error);
}

TEST(Printer, AnUnansweredConnectGivesUpAtTheConnectTimeout) {
  // A listener that never accepts, its queue filled: Linux then drops further SYNs, so the
  // next connect goes unanswered, as to a printer that is switched off.
  const Listener printer(0);
  std::vector<int> queued;
  for (int i = 0; i < 8; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(printer.port()));
    ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    queued.push_back(fd);
  }
  std::this_thread::sleep_for(100ms);
  const auto start = std::chrono::steady_clock::now();
  try {
    service::send_to_printer("127.0.0.1", printer.port(), "x", {300ms, 300ms});
    ADD_FAILURE() << "connected to a full queue";
  } catch (const domain::Error& error) {
    EXPECT_EQ(error.code(), domain::ErrorCode::unavailable);
    EXPECT_NE(std::string(error.what()).find("connect timed out"), std::string::npos)
        << error.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  for (const int fd : queued)
    ::close(fd);
}

TEST(Printer, APrinterThatStopsReadingGivesUpAtTheWriteTimeout) {
  const Listener printer;
  auto stalled = std::async(std::launch::async, [&] { printer.accept_and_stall(1500ms); });
  const std::string bytes(64 * 1024 * 1024, 'x');  // more than any socket buffer holds
  const auto start = std::chrono::steady_clock::now();
  try {
    service::send_to_printer("127.0.0.1", printer.port(), bytes, {1000ms, 400ms});
    FAIL() << "a stalled printer took 64 MiB";
  } catch (const domain::Error& error) {
    EXPECT_EQ(error.code(), domain::ErrorCode::unavailable);
    EXPECT_NE(std::string(error.what()).find("write timed out"), std::string::npos);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
}

}  // namespace
