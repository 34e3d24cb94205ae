// A network receipt printer: raw bytes over TCP (port 9100, "JetDirect"), with time limits so
// an unplugged printer never holds a worker.
#pragma once

#include <chrono>
#include <string>
#include <string_view>

namespace yizhan::service {

/// The port network receipt printers listen on for raw print jobs.
inline constexpr int kDefaultPrinterPort = 9100;

struct PrinterTimeouts {
  std::chrono::milliseconds connect{3000};
  std::chrono::milliseconds write{5000};  ///< for the whole job
};

/// Sends `bytes` to host:port and closes the connection. Waits for the printer to accept the
/// connection and every byte, never longer than the timeouts. Any failure (name not found,
/// refused, unreachable, timed out, reset) is domain::Error `unavailable` (503) with a message
/// naming the printer and what happened.
void send_to_printer(const std::string& host, int port, std::string_view bytes,
                     PrinterTimeouts timeouts = {});

}  // namespace yizhan::service
