// Beast server for the simulator in the shape of Beast's advanced server: a listener, a session
// per connection, a fresh parser with a body limit per request, a timeout before every read.
#include "server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <cctype>
#include <iostream>
#include <memory>
#include <optional>

namespace yizhan::paysim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

constexpr std::uint64_t kBodyLimit = 1024 * 1024;
constexpr auto kReadTimeout = std::chrono::seconds(30);

void fail(beast::error_code ec, const char* what) {
  if (ec == asio::error::operation_aborted || ec == http::error::end_of_stream) return;
  std::cerr << "paysim: " << what << ": " << ec.message() << "\n";
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A request to a response, never touching the socket.
http::response<http::string_body> handle_request(Simulator& simulator,
                                                 const http::request<http::string_body>& req) {
  SimRequest request;
  request.method = std::string(req.method_string());
  request.target = std::string(req.target());
  for (const auto& field : req)
    request.headers[lower(field.name_string())] = std::string(field.value());
  request.body = req.body();
  const SimResponse answer = simulator.handle(request);
  http::response<http::string_body> res{static_cast<http::status>(answer.status), req.version()};
  res.set(http::field::server, "yizhan-paysim");
  res.set(http::field::content_type, answer.content_type);
  for (const auto& [name, value] : answer.headers)
    res.set(name, value);
  res.keep_alive(req.keep_alive());
  res.body() = answer.body;
  res.prepare_payload();
  return res;
}

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket&& socket, Simulator& simulator)
      : stream_(std::move(socket)), simulator_(simulator) {}

  void run() {
    asio::dispatch(stream_.get_executor(),
                   beast::bind_front_handler(&Session::do_read, shared_from_this()));
  }

 private:
  void do_read() {
    parser_.emplace();
    parser_->body_limit(kBodyLimit);
    stream_.expires_after(kReadTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     beast::bind_front_handler(&Session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    if (ec == http::error::end_of_stream) return do_close();
    if (ec) {
      if (ec == http::error::body_limit || ec == http::error::header_limit) {
        response_ = std::make_shared<http::response<http::string_body>>(
            http::status::payload_too_large, 11);
        response_->body() = R"({"code":"PARAM_ERROR","message":"请求体过大 / body too large"})";
        response_->keep_alive(false);
        response_->prepare_payload();
        return do_write();
      }
      return fail(ec, "read");
    }
    response_ = std::make_shared<http::response<http::string_body>>(
        handle_request(simulator_, parser_->get()));
    do_write();
  }

  void do_write() {
    http::async_write(
        stream_, *response_,
        beast::bind_front_handler(&Session::on_write, shared_from_this(), response_->need_eof()));
  }

  void on_write(bool close, beast::error_code ec, std::size_t) {
    if (ec) return fail(ec, "write");
    if (close) return do_close();
    response_.reset();
    do_read();
  }

  void do_close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<http::response<http::string_body>> response_;
  Simulator& simulator_;
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  Listener(asio::io_context& io, tcp::endpoint endpoint, Simulator& simulator)
      : io_(io), acceptor_(asio::make_strand(io)), simulator_(simulator) {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen(asio::socket_base::max_listen_connections);
  }

  void run() { do_accept(); }

 private:
  void do_accept() {
    acceptor_.async_accept(asio::make_strand(io_),
                           beast::bind_front_handler(&Listener::on_accept, shared_from_this()));
  }

  void on_accept(beast::error_code ec, tcp::socket socket) {
    if (ec)
      fail(ec, "accept");
    else
      std::make_shared<Session>(std::move(socket), simulator_)->run();
    do_accept();
  }

  asio::io_context& io_;
  tcp::acceptor acceptor_;
  Simulator& simulator_;
};

}  // namespace

int serve(Simulator& simulator, const std::string& host, unsigned short port) {
  asio::io_context io;
  try {
    std::make_shared<Listener>(io, tcp::endpoint(asio::ip::make_address(host), port), simulator)
        ->run();
  } catch (const std::exception& error) {
    std::cerr << "paysim: cannot listen on " << host << ":" << port << ": " << error.what() << "\n";
    return 1;
  }
  asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&io](beast::error_code, int) { io.stop(); });
  std::cerr << "paysim: serving on http://" << host << ":" << port << "\n";
  io.run();
  return 0;
}

}  // namespace yizhan::paysim
