// The real yizhan-paysim with fresh keys, driven through the Provider implementations over
// HTTP: start → pay on the simulator → signed notification received and verified → query →
// refund; code payments with their password wait; forged notifications and bad keys refused.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>

#include "yizhan/payments/crypto.hpp"
#include "yizhan/payments/form.hpp"
#include "yizhan/payments/transport.hpp"
#include "yizhan/payments/wechat_pay_protocol.hpp"

namespace yizhan::payments {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  std::string content = text.str();
  if (path.extension() == ".txt")
    while (!content.empty() && content.back() == '\n')
      content.pop_back();
  return content;
}

// A merchant's notify endpoint: keeps what arrives and answers as the provider expects.
class NotifyListener {
 public:
  explicit NotifyListener(std::function<std::pair<int, std::string>()> answer)
      : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address);
    ::listen(fd_, 16);
    socklen_t length = sizeof address;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { run(); });
  }
  ~NotifyListener() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/notify"; }

  /// Waits for a notification about `out_trade_no` (matched in the raw body, WeChat's is
  /// encrypted, so any new one when empty).
  std::optional<Notification> wait(std::size_t count, std::chrono::seconds limit = 10s) {
    std::unique_lock lock(mutex_);
    if (!arrived_.wait_for(lock, limit, [&] { return received_.size() >= count; }))
      return std::nullopt;
    return received_[count - 1];
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return received_.size();
  }

 private:
  void run() {
    while (!stop_) {
      pollfd poller{fd_, POLLIN, 0};
      if (::poll(&poller, 1, 100) <= 0) continue;
      const int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      std::string data;
      char buffer[8192];
      std::size_t header_end = std::string::npos, length = 0;
      while (true) {
        const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        data.append(buffer, static_cast<std::size_t>(n));
        if (header_end == std::string::npos &&
            (header_end = data.find("\r\n\r\n")) != std::string::npos) {
          std::string lower = data.substr(0, header_end);
          for (char& c : lower)
            c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
          const auto at = lower.find("content-length:");
          if (at != std::string::npos) length = std::stoul(lower.substr(at + 15));
        }
        if (header_end != std::string::npos && data.size() >= header_end + 4 + length) break;
      }
      Notification notification;
      std::istringstream lines(data.substr(0, header_end));
      std::string line;
      std::getline(lines, line);
      while (std::getline(lines, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        std::string name = line.substr(0, colon);
        for (char& c : name)
          c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string value = line.substr(colon + 1);
        while (!value.empty() && value.front() == ' ')
          value.erase(0, 1);
        notification.headers[name] = value;
      }
      if (header_end != std::string::npos) notification.body = data.substr(header_end + 4, length);
      const auto [status, body] = answer_();
      const std::string response =
          "HTTP/1.1 " + std::to_string(status) +
          " X\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
          "\r\nConnection: close\r\n\r\n" + body;
      ::send(client, response.data(), response.size(), MSG_NOSIGNAL);
      ::close(client);
      {
        std::lock_guard lock(mutex_);
        received_.push_back(std::move(notification));
      }
      arrived_.notify_all();
    }
  }

  std::function<std::pair<int, std::string>()> answer_;
  int fd_ = -1, port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable arrived_;
  std::vector<Notification> received_;
};

class Paysim : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    std::string pattern = (fs::temp_directory_path() / "yizhan-paysim.XXXXXX").string();
    keys_ = ::mkdtemp(pattern.data());
    port_ = free_port();
    const std::string keygen = std::string(YIZHAN_PAYSIM_BINARY) + " keygen '" + keys_.string() +
                               "' --port " + std::to_string(port_) + " > /dev/null";
    ASSERT_EQ(std::system(keygen.c_str()), 0);
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string port = std::to_string(port_);
      ::execl(YIZHAN_PAYSIM_BINARY, YIZHAN_PAYSIM_BINARY, "serve", "--keys", keys_.c_str(),
              "--port", port.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 100; ++i) {
      try {
        if (get("/healthz").status == 200) return;
      } catch (const ProviderError&) {
      }
      std::this_thread::sleep_for(50ms);
    }
    FAIL() << "yizhan-paysim did not start";
  }

  static void TearDownTestSuite() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
      EXPECT_TRUE(WIFEXITED(status)) << "the simulator crashed";
    }
    std::error_code ignored;
    fs::remove_all(keys_, ignored);
  }

  static std::string base() { return "http://127.0.0.1:" + std::to_string(port_); }

  static HttpResponse get(const std::string& path) {
    HttpRequest request;
    request.url = path.starts_with("http") ? path : base() + path;
    return make_https_transport()->send(request, 5s);
  }
  static HttpResponse post(const std::string& path, const std::string& body) {
    HttpRequest request;
    request.method = "POST";
    request.url = base() + path;
    request.headers["Content-Type"] = "application/json";
    request.body = body;
    return make_https_transport()->send(request, 5s);
  }
  static json sim_order(const std::string& provider, const std::string& out_trade_no) {
    for (const json& order : json::parse(get("/sim/orders").body))
      if (order["provider"] == provider && order["out_trade_no"] == out_trade_no) return order;
    return nullptr;
  }

  static WechatPaySettings wechat_settings(const std::string& notify_url) {
    WechatPaySettings settings;
    settings.base_url = base();
    settings.mch_id = read_file(keys_ / "wechat_mch_id.txt");
    settings.app_id = read_file(keys_ / "wechat_app_id.txt");
    settings.merchant_serial = read_file(keys_ / "wechat_merchant_serial.txt");
    settings.merchant_private_key = read_file(keys_ / "wechat_merchant_private_key.pem");
    settings.api_v3_key = read_file(keys_ / "wechat_api_v3_key.txt");
    settings.api_v2_key = read_file(keys_ / "wechat_api_v2_key.txt");
    settings.platform_public_key = read_file(keys_ / "wechat_pay_public_key.pem");
    settings.platform_serial = read_file(keys_ / "wechat_pay_public_key_id.txt");
    settings.notify_url = notify_url;
    settings.timeout = 3000ms;
    return settings;
  }
  static AlipaySettings alipay_settings(const std::string& notify_url) {
    AlipaySettings settings;
    settings.gateway_url = base() + "/gateway.do";
    settings.app_id = read_file(keys_ / "alipay_app_id.txt");
    settings.seller_id = read_file(keys_ / "alipay_seller_id.txt");
    settings.app_private_key = read_file(keys_ / "alipay_app_private_key.pem");
    settings.alipay_public_key = read_file(keys_ / "alipay_public_key.pem");
    settings.notify_url = notify_url;
    settings.return_url = "http://127.0.0.1:1/order.html";
    settings.timeout = 3000ms;
    return settings;
  }

  static std::string unique(const std::string& prefix) {
    static int counter = 0;
    return prefix + std::to_string(::getpid()) + "x" + std::to_string(++counter);
  }

  static inline fs::path keys_;
  static inline int port_ = 0;
  static inline pid_t pid_ = -1;
};

TEST_F(Paysim, WechatNativePaidNotifiedQueriedRefundedOnce) {
  std::unique_ptr<Provider> provider;
  NotifyListener listener([&] { return provider->notification_answer(true); });
  provider = make_wechat_pay(wechat_settings(listener.url()));

  PaymentRequest request;
  request.out_trade_no = unique("WN");
  request.amount = domain::Fen(1230);
  request.description = "驿站订单 测试";
  request.expires_at = Clock::now() + 15min;
  const auto start = provider->start(request);
  ASSERT_TRUE(start.qr_content);
  EXPECT_EQ(provider->query(request.out_trade_no).state, PaymentState::State::not_paid);

  const auto page = get(*start.qr_content);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("模拟支付"), std::string::npos);
  EXPECT_NE(page.body.find("确认支付"), std::string::npos);
  EXPECT_NE(page.body.find("12.30"), std::string::npos);

  ASSERT_EQ(
      post("/sim/pay", json{{"provider", "wechat"}, {"out_trade_no", request.out_trade_no}}.dump())
          .status,
      200);
  const auto notification = listener.wait(1);
  ASSERT_TRUE(notification) << "no notification arrived";
  const auto notified = provider->verify_notification(*notification, Clock::now());
  EXPECT_EQ(notified.state, PaymentState::State::paid);
  EXPECT_EQ(notified.out_trade_no, request.out_trade_no);
  EXPECT_EQ(notified.amount, domain::Fen(1230));
  EXPECT_EQ(notified.merchant_id, read_file(keys_ / "wechat_mch_id.txt"));
  EXPECT_FALSE(notified.transaction_id.empty());

  // Forged: body changed, signature changed, replayed too late, unknown serial.
  Notification forged = *notification;
  forged.body.insert(forged.body.size() - 1, " ");
  EXPECT_THROW(provider->verify_notification(forged, Clock::now()), RejectedNotification);
  forged = *notification;
  forged.headers["wechatpay-signature"] = base64_encode(std::string(256, 'x'));
  EXPECT_THROW(provider->verify_notification(forged, Clock::now()), RejectedNotification);
  EXPECT_THROW(provider->verify_notification(*notification, Clock::now() + 6min),
               RejectedNotification);
  forged = *notification;
  forged.headers["wechatpay-serial"] = "PUB_KEY_ID_0000";
  EXPECT_THROW(provider->verify_notification(forged, Clock::now()), RejectedNotification);

  const auto paid = provider->query(request.out_trade_no);
  EXPECT_EQ(paid.state, PaymentState::State::paid);
  EXPECT_EQ(paid.transaction_id, notified.transaction_id);
  for (int i = 0;
       i < 20 && sim_order("wechat", request.out_trade_no)["notifications_acknowledged"] == 0; ++i)
    std::this_thread::sleep_for(50ms);
  EXPECT_GE(sim_order("wechat", request.out_trade_no)["notifications_acknowledged"], 1);

  RefundRequest refund{request.out_trade_no, request.out_trade_no + "R1", domain::Fen(230),
                       domain::Fen(1230), "退货"};
  const auto first = provider->refund(refund);
  EXPECT_EQ(first.state, RefundState::State::succeeded);
  const auto again = provider->refund(refund);
  EXPECT_EQ(again.refund_id, first.refund_id);
  EXPECT_EQ(sim_order("wechat", request.out_trade_no)["refunded_fen"], 230);
  EXPECT_EQ(provider->query(request.out_trade_no).state, PaymentState::State::refunded);
  RefundRequest too_much{request.out_trade_no, request.out_trade_no + "R2", domain::Fen(1001),
                         domain::Fen(1230), ""};
  EXPECT_THROW(provider->refund(too_much), ProviderError);
  // The lookup of a refund number: the one made, and one never made.
  const auto looked_up = provider->query_refund(request.out_trade_no, refund.out_refund_no);
  EXPECT_EQ(looked_up.state, RefundState::State::succeeded);
  EXPECT_EQ(looked_up.refund_id, first.refund_id);
  const auto never = provider->query_refund(request.out_trade_no, too_much.out_refund_no);
  EXPECT_EQ(never.state, RefundState::State::failed);
  EXPECT_EQ(never.raw_state, "NOT_FOUND");
}

TEST_F(Paysim, WechatJsapiAndH5StartAndCloseStopsPayment) {
  auto provider = make_wechat_pay(wechat_settings("http://127.0.0.1:1/notify"));
  PaymentRequest request;
  request.out_trade_no = unique("WJ");
  request.amount = domain::Fen(100);
  request.description = "JSAPI";
  request.channel = Channel::wechat_jsapi;
  request.payer_openid = "oSimulated";
  const auto jsapi = provider->start(request);
  ASSERT_TRUE(jsapi.jsapi);
  EXPECT_TRUE(jsapi.jsapi->package.starts_with("prepay_id=wx"));

  request.out_trade_no = unique("WH");
  request.channel = Channel::wechat_h5;
  request.client_ip = "127.0.0.1";
  const auto h5 = provider->start(request);
  ASSERT_TRUE(h5.redirect_url);
  provider->close(request.out_trade_no);
  EXPECT_EQ(provider->query(request.out_trade_no).state, PaymentState::State::closed);
  EXPECT_EQ(
      post("/sim/pay", json{{"provider", "wechat"}, {"out_trade_no", request.out_trade_no}}.dump())
          .status,
      409);
  EXPECT_NE(get(*h5.redirect_url).body.find("订单已关闭"), std::string::npos);
}

TEST_F(Paysim, WechatCodePayAtOnceAfterPasswordAndRefused) {
  auto provider = make_wechat_pay(wechat_settings(""));
  const auto now =
      provider->pay_with_code(unique("WC"), "134567890123456789", domain::Fen(500), "柜台");
  EXPECT_EQ(now.state, PaymentState::State::paid);

  const std::string waiting = unique("WC");
  EXPECT_EQ(provider->pay_with_code(waiting, "134567890123450000", domain::Fen(500), "柜台").state,
            PaymentState::State::paying);
  EXPECT_EQ(provider->query(waiting).state, PaymentState::State::paying);
  PaymentState::State state = PaymentState::State::paying;
  for (int i = 0; i < 40 && state == PaymentState::State::paying; ++i) {
    std::this_thread::sleep_for(250ms);
    state = provider->query(waiting).state;
  }
  EXPECT_EQ(state, PaymentState::State::paid);

  const auto refused =
      provider->pay_with_code(unique("WC"), "134567890123459999", domain::Fen(500), "柜台");
  EXPECT_EQ(refused.state, PaymentState::State::failed);

  const std::string reversed = unique("WC");
  provider->pay_with_code(reversed, "134567890123450000", domain::Fen(500), "柜台");
  provider->reverse(reversed);
  EXPECT_EQ(provider->query(reversed).state, PaymentState::State::closed);
  const auto not_a_code = provider->pay_with_code(unique("WC"), "999", domain::Fen(500), "柜台");
  EXPECT_EQ(not_a_code.state, PaymentState::State::failed);
  EXPECT_EQ(not_a_code.raw_state, "PARAM_ERROR");
}

TEST_F(Paysim, WechatV2MicropayPays) {
  auto settings = wechat_settings("");
  settings.code_pay_v2 = true;
  auto provider = make_wechat_pay(settings);
  const std::string no = unique("WV");
  EXPECT_EQ(provider->pay_with_code(no, "134567890123456789", domain::Fen(250), "柜台").state,
            PaymentState::State::paid);
  EXPECT_EQ(provider->query(no).state, PaymentState::State::paid);
  const auto queried = provider->query_code(no);
  EXPECT_EQ(queried.state, PaymentState::State::paid);
  EXPECT_EQ(queried.amount, domain::Fen(250));
  EXPECT_EQ(queried.transaction_id, sim_order("wechat", no)["transaction_id"]);
  EXPECT_TRUE(queried.paid_at);
  EXPECT_EQ(
      provider->pay_with_code(unique("WV"), "134567890123450000", domain::Fen(250), "柜台").state,
      PaymentState::State::paying);
}

// The payer types the password: v2 orderquery says USERPAYING, then SUCCESS once the simulator
// completes it; an unknown trade is not paid, a reversed one closed, a wrong APIv2 key refused.
TEST_F(Paysim, WechatV2CodeIsPolledWithOrderQueryUntilPaid) {
  auto settings = wechat_settings("");
  settings.code_pay_v2 = true;
  auto provider = make_wechat_pay(settings);
  const std::string waiting = unique("WQ");
  ASSERT_EQ(provider->pay_with_code(waiting, "134567890123450000", domain::Fen(300), "柜台").state,
            PaymentState::State::paying);
  auto state = provider->query_code(waiting);
  EXPECT_EQ(state.state, PaymentState::State::paying);
  EXPECT_EQ(state.raw_state, "USERPAYING");
  for (int i = 0; i < 40 && state.state == PaymentState::State::paying; ++i) {
    std::this_thread::sleep_for(250ms);
    state = provider->query_code(waiting);
  }
  EXPECT_EQ(state.state, PaymentState::State::paid);
  EXPECT_EQ(state.raw_state, "SUCCESS");
  EXPECT_EQ(state.amount, domain::Fen(300));
  EXPECT_EQ(state.merchant_id, settings.mch_id);
  const auto order = sim_order("wechat", waiting);
  EXPECT_EQ(state.transaction_id, order["transaction_id"]);
  EXPECT_GE(order["queries"]["v2"].get<int>(), 2);
  EXPECT_FALSE(order["queries"].contains("v3")) << order;

  const auto unknown = provider->query_code(unique("WQ"));
  EXPECT_EQ(unknown.state, PaymentState::State::not_paid);
  EXPECT_EQ(unknown.raw_state, "ORDERNOTEXIST");

  const std::string reversed = unique("WQ");
  provider->pay_with_code(reversed, "134567890123450000", domain::Fen(300), "柜台");
  provider->reverse(reversed);
  EXPECT_EQ(provider->query_code(reversed).state, PaymentState::State::closed);
  EXPECT_EQ(provider->query_code(reversed).raw_state, "REVOKED");
  try {
    provider->reverse(unique("WQ"));
    FAIL() << "an unknown trade is not reversed";
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::refused);
    EXPECT_EQ(error.provider_code, "ORDERNOTEXIST");
  }

  // Asked with HMAC-SHA256, the answer is signed with HMAC-SHA256 too.
  std::map<std::string, std::string> ask = {{"appid", settings.app_id},
                                            {"mch_id", settings.mch_id},
                                            {"nonce_str", "hmacnonce"},
                                            {"out_trade_no", waiting},
                                            {"sign_type", "HMAC-SHA256"}};
  ask["sign"] = wechat::v2_sign(ask, settings.api_v2_key, true);
  auto answer = wechat::parse_v2_xml(post("/pay/orderquery", wechat::v2_xml(ask)).body).value();
  EXPECT_EQ(answer["trade_state"], "SUCCESS");
  EXPECT_EQ(answer["sign"], wechat::v2_sign(answer, settings.api_v2_key, true));

  auto wrong = settings;
  wrong.api_v2_key = "00000000000000000000000000000000";
  try {
    make_wechat_pay(wrong)->query_code(waiting);
    FAIL() << "a request signed with another APIv2 key is refused";
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::refused);
  }
}

TEST_F(Paysim, RequestsSignedWithTheWrongKeyAreRefused) {
  auto settings = wechat_settings("");
  settings.merchant_private_key = generate_rsa_key().pem();
  auto provider = make_wechat_pay(settings);
  try {
    provider->query("WHATEVER1");
    FAIL();
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::refused);
    EXPECT_EQ(error.provider_code, "SIGN_ERROR");
  }
  auto alipay = alipay_settings("");
  alipay.app_private_key = generate_rsa_key().pem();
  auto wrong = make_alipay(alipay);
  try {
    wrong->query("WHATEVER1");
    FAIL();
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::refused);
    EXPECT_EQ(error.provider_code, "isv.invalid-signature");
  }
  // An answer signed by someone else than the platform is not trusted.
  settings = wechat_settings("");
  settings.platform_public_key = generate_rsa_key().public_key_pem();
  try {
    make_wechat_pay(settings)->query("WHATEVER1");
  } catch (const ProviderError& error) {
    EXPECT_NE(error.kind, ProviderError::Kind::unreachable);
  }
}

TEST_F(Paysim, AlipayPrecreatePaidNotifiedQueriedRefunded) {
  std::unique_ptr<Provider> provider;
  NotifyListener listener([&] { return provider->notification_answer(true); });
  provider = make_alipay(alipay_settings(listener.url()));
  PaymentRequest request;
  request.out_trade_no = unique("AQ");
  request.amount = domain::Fen(990);
  request.description = "驿站订单";
  request.channel = Channel::alipay_qr;
  const auto start = provider->start(request);
  ASSERT_TRUE(start.qr_content);
  EXPECT_EQ(provider->query(request.out_trade_no).state, PaymentState::State::not_paid);
  // The payer presses 确认支付 on the page.
  HttpRequest press;
  press.method = "POST";
  press.url = *start.qr_content;
  const auto pressed = make_https_transport()->send(press, 5s);
  EXPECT_NE(pressed.body.find("支付成功"), std::string::npos);

  const auto notification = listener.wait(1);
  ASSERT_TRUE(notification);
  const auto notified = provider->verify_notification(*notification, Clock::now());
  EXPECT_EQ(notified.state, PaymentState::State::paid);
  EXPECT_EQ(notified.amount, domain::Fen(990));
  EXPECT_EQ(notified.merchant_id, read_file(keys_ / "alipay_seller_id.txt"));
  Notification forged = *notification;
  forged.body.replace(forged.body.find("total_amount=9.90"), 17, "total_amount=0.01");
  EXPECT_THROW(provider->verify_notification(forged, Clock::now()), RejectedNotification);

  EXPECT_EQ(provider->query(request.out_trade_no).state, PaymentState::State::paid);
  RefundRequest refund{request.out_trade_no, request.out_trade_no + "R1", domain::Fen(990),
                       domain::Fen(990), ""};
  EXPECT_EQ(provider->refund(refund).state, RefundState::State::succeeded);
  EXPECT_EQ(provider->refund(refund).state, RefundState::State::succeeded);
  EXPECT_EQ(sim_order("alipay", request.out_trade_no)["refunded_fen"], 990);
  EXPECT_EQ(provider->query(request.out_trade_no).state, PaymentState::State::closed);
  // alipay.trade.fastpay.refund.query: the request number made, and one never made.
  EXPECT_EQ(provider->query_refund(request.out_trade_no, refund.out_refund_no).state,
            RefundState::State::succeeded);
  const auto never = provider->query_refund(request.out_trade_no, request.out_trade_no + "R9");
  EXPECT_EQ(never.state, RefundState::State::failed);
  EXPECT_EQ(never.raw_state, "NOT_FOUND");
}

TEST_F(Paysim, AlipayWapRedirectShowsThePageAndBarcodeCodes) {
  auto provider = make_alipay(alipay_settings(""));
  PaymentRequest request;
  request.out_trade_no = unique("AW");
  request.amount = domain::Fen(100);
  request.description = "wap";
  request.channel = Channel::alipay_wap;
  const auto start = provider->start(request);
  ASSERT_TRUE(start.redirect_url);
  const auto page = get(*start.redirect_url);
  EXPECT_EQ(page.status, 200);
  EXPECT_NE(page.body.find("确认支付"), std::string::npos);
  // A tampered redirect is refused by the gateway.
  std::string tampered = *start.redirect_url;
  tampered.replace(tampered.find("total_amount%22%3A%221.00"), 25, "total_amount%22%3A%220.01");
  EXPECT_EQ(get(tampered).body.find("确认支付"), std::string::npos);

  EXPECT_EQ(
      provider->pay_with_code(unique("AB"), "281234567890123456", domain::Fen(100), "柜台").state,
      PaymentState::State::paid);
  const std::string waiting = unique("AB");
  EXPECT_EQ(provider->pay_with_code(waiting, "281234567890120000", domain::Fen(100), "柜台").state,
            PaymentState::State::paying);
  PaymentState::State state = PaymentState::State::not_paid;
  for (int i = 0; i < 40 && state != PaymentState::State::paid; ++i) {
    std::this_thread::sleep_for(250ms);
    state = provider->query(waiting).state;
  }
  EXPECT_EQ(state, PaymentState::State::paid);
  EXPECT_EQ(
      provider->pay_with_code(unique("AB"), "281234567890129999", domain::Fen(100), "柜台").state,
      PaymentState::State::failed);
  const std::string cancelled = unique("AB");
  provider->pay_with_code(cancelled, "281234567890120000", domain::Fen(100), "柜台");
  provider->reverse(cancelled);
  EXPECT_EQ(provider->query(cancelled).state, PaymentState::State::closed);
}

TEST_F(Paysim, UnreachableProviderIsReportedAsSuch) {
  auto settings = wechat_settings("");
  settings.base_url = "http://127.0.0.1:" + std::to_string(free_port());
  try {
    make_wechat_pay(settings)->query("X12345");
    FAIL();
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::unreachable);
  }
}

TEST_F(Paysim, SurvivesGarbage) {
  for (const char* path :
       {"/v3/pay/transactions/native", "/v3/refund/domestic/refunds", "/gateway.do", "/sim/pay",
        "/pay/micropay", "/sim/pay/wechat/%ZZ", "/v3/pay/transactions/out-trade-no/%/close"}) {
    EXPECT_LT(post(path, "\x01\x02{{[[ not json").status, 500) << path;
    EXPECT_LT(post(path, "").status, 500) << path;
  }
  try {  // the simulator may answer 413 and close while the body is still being sent
    EXPECT_EQ(post("/sim/pay", std::string(2 * 1024 * 1024, 'a')).status, 413);
  } catch (const ProviderError& error) {
    EXPECT_EQ(error.kind, ProviderError::Kind::unreachable);
  }
  // Raw bytes that are not HTTP at all.
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port_));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const std::string junk = "\x16\x03\x01 garbage \r\n\r\n\r\n";
  ::send(fd, junk.data(), junk.size(), MSG_NOSIGNAL);
  ::close(fd);
  EXPECT_EQ(get("/healthz").status, 200);
}

}  // namespace
}  // namespace yizhan::payments
