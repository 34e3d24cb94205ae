// The simulator's HTTP server: plain HTTP/1.1 on Beast, one session per connection, every
// request handed to Simulator::handle.
#pragma once

#include <string>

#include "simulator.hpp"

namespace yizhan::paysim {

/// Listens on host:port and serves until SIGINT/SIGTERM. Returns the exit status.
int serve(Simulator& simulator, const std::string& host, unsigned short port);

}  // namespace yizhan::paysim
