// Raw TCP printing with POSIX sockets: non-blocking connect and writes under poll() deadlines.
#include "yizhan/service/printer.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "yizhan/domain/error.hpp"

namespace yizhan::service {
namespace {

using Clock = std::chrono::steady_clock;

/// Closes the socket on every path.
class Socket {
 public:
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;
  [[nodiscard]] int fd() const { return fd_; }

 private:
  int fd_;
};

struct AddressList {
  void operator()(addrinfo* list) const { ::freeaddrinfo(list); }
};

[[noreturn]] void fail(const std::string& printer, const std::string& what,
                       const std::string& cause = {}) {
  throw domain::Error(
      domain::ErrorCode::unavailable,
      "小票打印机 " + printer + " " + what + " (receipt printer " + printer + ": " + cause + ")",
      {{"printer", printer}}, "printer " + printer + ": " + cause);
}

/// Milliseconds left until `deadline`, at least 0.
int remaining(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left > 0 ? static_cast<int>(left) : 0;
}

/// Waits until `fd` is writable; false on timeout.
bool wait_writable(int fd, Clock::time_point deadline) {
  for (;;) {
    pollfd entry{fd, POLLOUT, 0};
    const int ready = ::poll(&entry, 1, remaining(deadline));
    if (ready > 0) return true;
    if (ready == 0) return false;
    if (errno != EINTR) return false;
  }
}

/// Connects to one address within the deadline; the connected socket, or -1 with `error` set.
int connect_one(const addrinfo& address, Clock::time_point deadline, std::string& error) {
  const int fd = ::socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                          address.ai_protocol);
  if (fd < 0) {
    error = std::strerror(errno);
    return -1;
  }
  if (::connect(fd, address.ai_addr, address.ai_addrlen) == 0) return fd;
  if (errno != EINPROGRESS) {
    error = std::strerror(errno);
    ::close(fd);
    return -1;
  }
  if (!wait_writable(fd, deadline)) {
    error = "connect timed out";
    ::close(fd);
    return -1;
  }
  int status = 0;
  socklen_t length = sizeof status;
  if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &status, &length) != 0 || status != 0) {
    error = std::strerror(status != 0 ? status : errno);
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace

void send_to_printer(const std::string& host, int port, std::string_view bytes,
                     PrinterTimeouts timeouts) {
  const std::string printer = host + ":" + std::to_string(port);
  if (host.empty() || port < 1 || port > 65535) fail(printer, "地址无效", "invalid address");

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (const int status = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &found);
      status != 0) {
    fail(printer, "找不到", std::string("address lookup failed: ") + ::gai_strerror(status));
  }
  const std::unique_ptr<addrinfo, AddressList> addresses(found);

  const auto connect_deadline = Clock::now() + timeouts.connect;
  std::string error = "no address";
  int fd = -1;
  for (const addrinfo* address = addresses.get(); address != nullptr && fd < 0;
       address = address->ai_next) {
    fd = connect_one(*address, connect_deadline, error);
  }
  if (fd < 0) fail(printer, "连不上", "cannot connect: " + error);
  const Socket socket(fd);

  const auto write_deadline = Clock::now() + timeouts.write;
  while (!bytes.empty()) {
    // MSG_NOSIGNAL: a printer that hung up is an error here, not a SIGPIPE for the process.
    const ssize_t sent = ::send(socket.fd(), bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (sent > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(sent));
      continue;
    }
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_writable(socket.fd(), write_deadline)) {
        fail(printer, "没有接收数据（缺纸或忙？）", "write timed out");
      }
      continue;
    }
    fail(printer, "中断了连接", std::string("write failed: ") + std::strerror(errno));
  }
  ::shutdown(socket.fd(), SHUT_WR);
}

}  // namespace yizhan::service
