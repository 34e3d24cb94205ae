// yizhan-paysim: WeChat Pay v3 and Alipay as a merchant sees them, with test keys, so the whole
// payment flow runs on one machine. Only wires: keys → simulator → notifier → server.
#include <atomic>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "keys.hpp"
#include "notifier.hpp"
#include "server.hpp"
#include "simulator.hpp"

namespace {

constexpr const char* kUsage =
    "usage: yizhan-paysim keygen DIR [--port N]\n"
    "       yizhan-paysim serve --keys DIR [--port N] [--host 127.0.0.1] [--public-url URL]\n"
    "keygen writes fresh test keys and DIR/yizhan-payments.toml (the merchant's side, pointing\n"
    "at port N, default 8089); serve runs the simulator with them.\n";

int usage() {
  std::cerr << kUsage;
  return 2;
}

std::optional<int> parse_port(const std::string& text) {
  try {
    std::size_t used = 0;
    const int port = std::stoi(text, &used);
    if (used == text.size() && port > 0 && port < 65536) return port;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace yizhan::paysim;
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) return usage();
  std::string keys_dir, host = "127.0.0.1", public_url;
  int port = 8089;
  std::vector<std::string> positional;
  for (std::size_t i = 1; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const bool has_value = i + 1 < args.size();
    if (arg == "--keys" && has_value)
      keys_dir = args[++i];
    else if (arg == "--host" && has_value)
      host = args[++i];
    else if (arg == "--public-url" && has_value)
      public_url = args[++i];
    else if (arg == "--port" && has_value) {
      const auto parsed = parse_port(args[++i]);
      if (!parsed) return usage();
      port = *parsed;
    } else if (arg.starts_with("--"))
      return usage();
    else
      positional.push_back(arg);
  }
  try {
    if (args[0] == "keygen" && positional.size() == 1) {
      write_keys(generate_keys(), positional[0], port);
      std::cout << positional[0] << "/yizhan-payments.toml\n";
      return 0;
    }
    if (args[0] == "serve" && !keys_dir.empty() && positional.empty()) {
      if (public_url.empty()) public_url = "http://" + host + ":" + std::to_string(port);
      // The notifier is destroyed (its thread joined) before the simulator it reports to.
      std::atomic<Notifier*> notifier_ptr{nullptr};
      Simulator simulator(read_keys(keys_dir), public_url, [&notifier_ptr](Delivery delivery) {
        if (Notifier* notifier = notifier_ptr.load()) notifier->push(std::move(delivery));
      });
      Notifier notifier(
          [&simulator](const Delivery& delivery, bool acknowledged) {
            simulator.delivered(delivery.provider, delivery.out_trade_no, acknowledged);
          },
          [&simulator] { simulator.tick(Clock::now()); });
      notifier_ptr = &notifier;
      const int status = serve(simulator, host, static_cast<unsigned short>(port));
      notifier_ptr = nullptr;
      return status;
    }
  } catch (const std::exception& error) {
    std::cerr << "yizhan-paysim: " << error.what() << "\n";
    return 1;
  }
  return usage();
}
