// The Transport to the providers: Beast over TCP with OpenSSL TLS, one connection per request,
// a deadline on every step. Any failure before a complete answer is `unreachable`.
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>

#include <cctype>
#include <optional>

#include "yizhan/payments/form.hpp"
#include "yizhan/payments/transport.hpp"

namespace yizhan::payments {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Kind = ProviderError::Kind;

constexpr std::uint64_t kAnswerLimit = 4 * 1024 * 1024;

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One request on one connection, driven to completion by the caller's io_context.
class Exchange {
 public:
  Exchange(asio::io_context& io, ssl::context* tls, Url url, http::request<http::string_body> req,
           std::chrono::milliseconds timeout)
      : resolver_(io),
        timer_(io),
        url_(std::move(url)),
        request_(std::move(req)),
        timeout_(timeout) {
    if (tls)
      tls_stream_.emplace(io, *tls);
    else
      plain_.emplace(io);
    parser_.body_limit(kAnswerLimit);
  }

  void start() {
    timer_.expires_after(timeout_);
    timer_.async_wait([this](beast::error_code ec) {
      if (!ec) resolver_.cancel();
    });
    resolver_.async_resolve(
        url_.host, url_.port, [this](beast::error_code ec, tcp::resolver::results_type results) {
          timer_.cancel();
          if (ec) return fail(ec, "resolve");
          tcp().expires_after(timeout_);
          tcp().async_connect(
              results, [this](beast::error_code ec2, const tcp::endpoint&) { on_connect(ec2); });
        });
  }

  std::optional<std::string> failure;  ///< where and why it failed
  http::response_parser<http::string_body> parser_;

 private:
  beast::tcp_stream& tcp() { return tls_stream_ ? beast::get_lowest_layer(*tls_stream_) : *plain_; }

  void on_connect(beast::error_code ec) {
    if (ec) return fail(ec, "connect");
    if (!tls_stream_) return write();
    if (!SSL_set_tlsext_host_name(tls_stream_->native_handle(), url_.host.c_str()))
      return fail(
          beast::error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category()),
          "tls sni");
    tls_stream_->set_verify_callback(ssl::host_name_verification(url_.host));
    tcp().expires_after(timeout_);
    tls_stream_->async_handshake(ssl::stream_base::client, [this](beast::error_code ec2) {
      if (ec2) return fail(ec2, "tls handshake");
      write();
    });
  }

  void write() {
    tcp().expires_after(timeout_);
    auto on_write = [this](beast::error_code ec, std::size_t) {
      if (ec) return fail(ec, "write");
      read();
    };
    if (tls_stream_)
      http::async_write(*tls_stream_, request_, on_write);
    else
      http::async_write(*plain_, request_, on_write);
  }

  void read() {
    tcp().expires_after(timeout_);
    auto on_read = [this](beast::error_code ec, std::size_t) {
      if (ec) return fail(ec, "read");
      // The answer is complete; the connection is not reused, so no TLS close_notify dance.
      beast::error_code ignored;
      tcp().socket().shutdown(tcp::socket::shutdown_both, ignored);
    };
    if (tls_stream_)
      http::async_read(*tls_stream_, buffer_, parser_, on_read);
    else
      http::async_read(*plain_, buffer_, parser_, on_read);
  }

  void fail(beast::error_code ec, const char* stage) {
    failure = std::string(stage) + ": " + ec.message();
    beast::error_code ignored;
    tcp().socket().close(ignored);
  }

  tcp::resolver resolver_;
  asio::steady_timer timer_;
  Url url_;
  http::request<http::string_body> request_;
  std::chrono::milliseconds timeout_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<beast::ssl_stream<beast::tcp_stream>> tls_stream_;
  beast::flat_buffer buffer_;
};

class HttpsTransport final : public Transport {
 public:
  HttpsTransport() : tls_(ssl::context::tls_client) {
    tls_.set_default_verify_paths();
    tls_.set_verify_mode(ssl::verify_peer);
    tls_.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  }

  HttpResponse send(const HttpRequest& request, std::chrono::milliseconds timeout) override {
    const auto url = parse_url(request.url);
    if (!url) throw ProviderError(Kind::refused, "not an http(s) URL: " + request.url);
    http::request<http::string_body> message;
    message.method_string(request.method);
    message.target(url->target);
    message.version(11);
    const bool default_port = url->port == (url->tls ? "443" : "80");
    message.set(http::field::host, default_port ? url->host : url->host + ":" + url->port);
    message.set(http::field::connection, "close");
    for (const auto& [name, value] : request.headers)
      message.set(name, value);
    message.body() = request.body;
    message.prepare_payload();

    asio::io_context io;
    Exchange exchange(io, url->tls ? &tls_ : nullptr, *url, std::move(message), timeout);
    exchange.start();
    io.run();
    if (exchange.failure)
      throw ProviderError(Kind::unreachable, request.url + ": " + *exchange.failure);
    auto& answer = exchange.parser_.get();
    HttpResponse response;
    response.status = static_cast<int>(answer.result_int());
    for (const auto& field : answer)
      response.headers[lower(field.name_string())] = std::string(field.value());
    response.body = std::move(answer.body());
    return response;
  }

 private:
  ssl::context tls_;  // read-only once built: shared by concurrent sends
};

}  // namespace

std::shared_ptr<Transport> make_https_transport() {
  return std::make_shared<HttpsTransport>();
}

}  // namespace yizhan::payments
