// Network receipt printing: a receipt sent to a local TCP listener arrives byte for byte; an
// unreachable or stalled printer is a clean 503 within the time limits, never a hang. And the
// receipt routes on the real MariaDB: HTML, ESC/POS, printing on the register's printer, 补打.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <cppconn/prepared_statement.h>

#include "support/api_client.hpp"
#include "yizhan/domain/error.hpp"
#include "yizhan/service/counter.hpp"
#include "yizhan/service/printer.hpp"
#include "yizhan/service/receipts.hpp"
#include "yizhan/service/stock.hpp"
#include "yizhan/store/database.hpp"

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

/// The counter's API on a fresh station, with one product in stock and an open shift.
class ReceiptRoutes : public ::testing::Test {
 protected:
  ReceiptRoutes() {
    api.router = yizhan::api::build_router(
        {api.health, api.station.accounts, api.audit, api.catalog, &counter, &stock});
    const auto product = api.call_json("POST", "/api/v1/products", "admin",
                                       {{"sku", "TEA1"},
                                        {"name", "安溪铁观音礼盒装（浓香型）特级 500g 送礼佳品"},
                                        {"village_id", api.station.village_a},
                                        {"category_id", 3},
                                        {"unit", "piece"},
                                        {"price_fen", 12800}});
    EXPECT_EQ(product.status, 201) << product.body;
    product_id = product.body["id"].get<std::int64_t>();
    const auto received =
        api.call_json("POST", "/api/v1/stock/receipts", "admin",
                      {{"village_id", api.station.village_a},
                       {"lines", {{{"product_id", product_id}, {"quantity", 10}, {"lot", "L1"}}}}});
    EXPECT_EQ(received.status, 201) << received.body;
    const auto shift = api.call_json("POST", "/api/v1/pos/shifts", "cashier1",
                                     {{"register", "柜台1"}, {"float_fen", 50000}});
    EXPECT_EQ(shift.status, 201) << shift.body;
    shift_id = shift.body["id"].get<std::int64_t>();
    const nlohmann::json sale = {
        {"lines", {{{"product_id", product_id}, {"quantity", 2}}}},
        {"tenders", {{{"method", "cash"}, {"amount_fen", 25600}, {"tendered_fen", 30000}}}}};
    const auto sold = api.call("POST", "/api/v1/pos/sales", "cashier1", sale.dump(),
                               {{"idempotency-key", "receipt-sale-1"}});
    EXPECT_EQ(sold.status, 201) << sold.body;
    sale_id = sold.body["id"].get<std::int64_t>();
    sale_number = sold.body["number"].get<std::string>();
  }

  void set_printer(const std::optional<std::string>& host, int port) {
    api.station.database.transact([&](yizhan::store::UnitOfWork& unit) {
      auto& update = unit.statement(
          "UPDATE registers SET printer_host = ?, printer_port = ? WHERE name = '柜台1'");
      if (host) {
        update.setString(1, *host);
      } else {
        update.setNull(1, 0);
      }
      update.setInt(2, port);
      update.executeUpdate();
    });
  }

  std::string receipt_path(const std::string& query = {}) const {
    return "/api/v1/pos/sales/" + std::to_string(sale_id) + "/receipt" + query;
  }
  std::string print_path() const {
    return "/api/v1/pos/sales/" + std::to_string(sale_id) + "/print";
  }

  yizhan::test_support::ApiFixture api;
  service::StockService stock{api.station.database};
  service::CounterService counter{api.station.database, service::CounterSettings{}};
  std::int64_t product_id = 0;
  std::int64_t shift_id = 0;
  std::int64_t sale_id = 0;
  std::string sale_number;
};

TEST_F(ReceiptRoutes, HtmlReceiptFitsTheRegistersPaperOrTheOneAskedFor) {
  const auto html = api.call("GET", receipt_path(), "cashier1");
  ASSERT_EQ(html.status, 200) << html.raw.body;
  EXPECT_EQ(html.raw.content_type, "text/html; charset=utf-8");
  const auto& page = html.raw.body;
  EXPECT_NE(page.find("class=\"paper-58 columns-32\""), std::string::npos);
  EXPECT_NE(page.find(sale_number), std::string::npos);
  EXPECT_NE(page.find("安溪铁观音礼盒装"), std::string::npos);
  EXPECT_NE(page.find("找零 Change"), std::string::npos);
  EXPECT_EQ(page.find("补打"), std::string::npos);
  const auto wide = api.call("GET", receipt_path("?width=80&reprint=true"), "admin");
  ASSERT_EQ(wide.status, 200);
  EXPECT_NE(wide.raw.body.find("class=\"paper-80 columns-48\""), std::string::npos);
  EXPECT_NE(wide.raw.body.find("补打 REPRINT"), std::string::npos);

  EXPECT_EQ(api.call("GET", receipt_path("?width=76"), "cashier1").status, 422);
  EXPECT_EQ(api.call("GET", receipt_path("?format=pdf"), "cashier1").status, 422);
  EXPECT_EQ(api.call("GET", "/api/v1/pos/sales/999999/receipt", "cashier1").status, 404);
  EXPECT_EQ(api.call("GET", receipt_path(), "village1").status, 403);
  EXPECT_EQ(api.call("GET", receipt_path(), "").status, 401);
  const auto css = api.call("GET", "/api/v1/pos/receipt.css");
  EXPECT_EQ(css.status, 200);
  EXPECT_EQ(css.raw.content_type, "text/css; charset=utf-8");
}

TEST_F(ReceiptRoutes, EscPosBytesAreGb18030WithTheSaleNumbersQrCode) {
  const auto reply = api.call("GET", receipt_path("?format=escpos&width=80"), "cashier1");
  ASSERT_EQ(reply.status, 200) << reply.raw.body;
  EXPECT_EQ(reply.raw.content_type, "application/octet-stream");
  const auto& bytes = reply.raw.body;
  EXPECT_EQ(bytes.substr(0, 4), "\x1b@\x1c&");
  EXPECT_NE(bytes.find(service::to_gb18030("安溪铁观音礼盒装")), std::string::npos);
  EXPECT_NE(bytes.find("1P0" + sale_number), std::string::npos) << "QR store of the sale number";
  EXPECT_EQ(bytes.substr(bytes.size() - 3), "\x1dV\x01");
}

TEST_F(ReceiptRoutes, PrintingSendsTheReceiptToTheRegistersPrinter) {
  // No printer configured: a conflict the page can explain, nothing sent.
  const auto none = api.call("POST", print_path(), "cashier1");
  EXPECT_EQ(none.status, 409) << none.raw.body;
  EXPECT_EQ(none.body["error"]["code"], "conflict");

  const Listener printer;
  set_printer("127.0.0.1", printer.port());
  auto received = std::async(std::launch::async, [&] { return printer.receive_one(); });
  const auto printed = api.call("POST", print_path(), "cashier1");
  ASSERT_EQ(printed.status, 200) << printed.raw.body;
  EXPECT_EQ(printed.body["printer"], "127.0.0.1:" + std::to_string(printer.port()));
  EXPECT_EQ(printed.body["reprint"], false);
  EXPECT_EQ(printed.body["columns"], 32);
  ASSERT_EQ(received.wait_for(5s), std::future_status::ready);
  const auto bytes = received.get();
  // The printer gets exactly the bytes the ESC/POS download gives for the register's paper.
  EXPECT_EQ(bytes, api.call("GET", receipt_path("?format=escpos"), "cashier1").raw.body);
  EXPECT_EQ(printed.body["bytes"], bytes.size());

  auto again = std::async(std::launch::async, [&] { return printer.receive_one(); });
  const auto reprinted = api.call_json("POST", print_path(), "cashier1", {{"reprint", true}});
  ASSERT_EQ(reprinted.status, 200) << reprinted.raw.body;
  EXPECT_EQ(reprinted.body["reprint"], true);
  ASSERT_EQ(again.wait_for(5s), std::future_status::ready);
  EXPECT_NE(again.get().find(service::to_gb18030("补打")), std::string::npos);

  EXPECT_EQ(api.call_json("POST", print_path(), "cashier1", {{"copies", 2}}).status, 422);
}

TEST_F(ReceiptRoutes, AnUnreachablePrinterIsA503NamingIt) {
  const int port = closed_port();
  set_printer("127.0.0.1", port);
  const auto reply = api.call("POST", print_path(), "cashier1");
  EXPECT_EQ(reply.status, 503) << reply.raw.body;
  EXPECT_EQ(reply.body["error"]["code"], "unavailable");
  EXPECT_EQ(reply.body["error"]["details"]["printer"], "127.0.0.1:" + std::to_string(port));
}

TEST_F(ReceiptRoutes, ShiftReportPrintsAsXThenZ) {
  const std::string path = "/api/v1/pos/shifts/" + std::to_string(shift_id) + "/report/print";
  const auto x = api.call("GET", path, "cashier1");
  ASSERT_EQ(x.status, 200) << x.raw.body;
  EXPECT_NE(x.raw.body.find("班次报表 X report"), std::string::npos);
  EXPECT_NE(x.raw.body.find("256.00"), std::string::npos);
  const auto closed =
      api.call_json("POST", "/api/v1/pos/shifts/" + std::to_string(shift_id) + "/close", "cashier1",
                    {{"counted_cash_fen", 50000 + 25600 - 100}});
  ASSERT_EQ(closed.status, 200) << closed.raw.body;
  const auto z = api.call("GET", path + "?format=escpos&width=80", "cashier1");
  ASSERT_EQ(z.status, 200) << z.raw.body;
  EXPECT_NE(z.raw.body.find(service::to_gb18030("交班报表 Z report")), std::string::npos);
  EXPECT_NE(z.raw.body.find(service::to_gb18030("短款 Short")), std::string::npos);
}

}  // namespace
