// Beast HTTP/1.1 server: listener, one session per connection on a strand, TLS, shutdown.
#include "yizhan/http/server.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <ctime>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <vector>

#include "yizhan/api/error.hpp"
#include "yizhan/api/router.hpp"
#include "yizhan/http/metrics.hpp"
#include "yizhan/http/static_files.hpp"

namespace yizhan::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
namespace ssl = boost::asio::ssl;
using tcp = net::ip::tcp;
using domain::Error;
using domain::ErrorCode;

namespace {

/// A connection the server can ask to finish, for graceful shutdown.
class Connection {
 public:
  virtual ~Connection() = default;
  /// Closes the connection if it waits for a request; otherwise closes after the response.
  virtual void stop_when_idle() = 0;
};

bool accepts_gzip(std::string_view accept_encoding) {
  // "gzip", "gzip;q=0.8", "br, gzip" — but not "gzip;q=0".
  const auto at = accept_encoding.find("gzip");
  if (at == std::string_view::npos) return false;
  const auto rest = accept_encoding.substr(at + 4);
  const auto end = rest.find(',');
  const auto parameters = rest.substr(0, end);
  const auto q = parameters.find("q=");
  if (q == std::string_view::npos) return true;
  const auto value = parameters.substr(q + 2);
  return !(value.starts_with("0") && value.find_first_not_of("0. ") == std::string_view::npos);
}

// On every response. Pages load only their own scripts, styles and images (plus data: URLs for
// generated placeholders) and may not be framed; JSON gains nothing from these but loses nothing.
constexpr std::string_view kSecurityHeaders =
    "\r\nX-Content-Type-Options: nosniff"
    "\r\nReferrer-Policy: same-origin"
    "\r\nX-Frame-Options: DENY"
    "\r\nContent-Security-Policy: default-src 'self'; img-src 'self' data:; "
    "style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'";

bool is_compressible(std::string_view content_type) {
  return content_type.starts_with("application/json") || content_type.starts_with("text/");
}

std::string gzip_etag(const std::string& etag) {
  return etag.substr(0, etag.size() - 1) + "-gz\"";
}

}  // namespace

struct Server::Impl {
  Impl(const HttpConfig& http_config, ServerParts server_parts)
      : config(http_config),
        parts(std::move(server_parts)),
        io_threads(config.io_threads > 0
                       ? config.io_threads
                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
        ioc(io_threads),
        acceptor(net::make_strand(ioc)),
        signals(ioc),
        workers(static_cast<std::size_t>(std::max(1, parts.database_threads))) {
    if (!config.tls_certificate.empty()) {
      tls.emplace(ssl::context::tls_server);
      tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use);
      // Explicit, rather than relying on OpenSSL 3's default security level to refuse TLS < 1.2.
      SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION);
      tls->use_certificate_chain_file(config.tls_certificate);
      tls->use_private_key_file(config.tls_key, ssl::context::pem);
    }
  }

  HttpConfig config;
  ServerParts parts;
  int io_threads;
  // Declared before ioc: sessions still queued in ioc untrack themselves when it is destroyed.
  std::atomic<int> connections{0};
  std::atomic<int> queued{0};
  std::atomic<bool> stopping{false};
  std::mutex connections_mutex;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> live;
  net::io_context ioc;
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::thread_pool workers;
  std::optional<net::steady_timer> drain_timer;

  /// The gzip of a response body. Bodies shared by a cache (the public catalog) are compressed
  /// once and the result kept while the original lives; others are compressed each time.
  std::shared_ptr<const std::string> gzipped(const api::Response& response) {
    if (!response.shared_body) {
      return std::make_shared<const std::string>(gzip_compress(response.body));
    }
    const auto* key = response.shared_body.get();
    {
      std::lock_guard lock(gzip_mutex);
      if (const auto found = gzip_cache.find(key); found != gzip_cache.end()) {
        if (found->second.source.lock() == response.shared_body) return found->second.compressed;
      }
    }
    auto compressed = std::make_shared<const std::string>(gzip_compress(*response.shared_body));
    std::lock_guard lock(gzip_mutex);
    if (gzip_cache.size() >= kGzipCacheEntries) gzip_cache.clear();
    gzip_cache[key] = {response.shared_body, compressed};
    return compressed;
  }

  struct Gzipped {
    std::weak_ptr<const std::string> source;
    std::shared_ptr<const std::string> compressed;
  };
  static constexpr std::size_t kGzipCacheEntries = 512;
  std::mutex gzip_mutex;
  std::unordered_map<const std::string*, Gzipped> gzip_cache;

  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void begin_shutdown();
  void check_drained(std::chrono::steady_clock::time_point deadline);

  void track(const std::shared_ptr<Connection>& connection) {
    std::lock_guard lock(connections_mutex);
    live.emplace(connection.get(), connection);
  }
  void untrack(Connection* connection) {
    std::lock_guard lock(connections_mutex);
    live.erase(connection);
  }
};

namespace {

/// One connection: reads requests one at a time, answers each, keeps the connection alive.
template <class Stream>
class Session : public Connection, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... StreamArguments>
  explicit Session(Server::Impl& server, StreamArguments&&... arguments)
      : server_(server), stream_(std::forward<StreamArguments>(arguments)...) {}

  ~Session() override {
    server_.untrack(this);
    --server_.connections;
  }

  void start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::on_start, this->shared_from_this()));
  }

  void stop_when_idle() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (self->state_ == State::reading) {
        beast::get_lowest_layer(self->stream_).cancel();
      } else {
        self->close_after_response_ = true;
      }
    });
  }

 private:
  enum class State { reading, handling };

  void on_start() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(server_.config.request_timeout);
      stream_.async_handshake(
          ssl::stream_base::server,
          beast::bind_front_handler(&Session::on_handshake, this->shared_from_this()));
    } else {
      do_read();
    }
  }

  void on_handshake(beast::error_code ec) {
    if (ec) {
      spdlog::debug("TLS handshake failed: {}", ec.message());
      return;
    }
    do_read();
  }

  void do_read() {
    state_ = State::reading;
    if (server_.stopping) return do_close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.config.header_limit_bytes));
    parser_->body_limit(server_.config.body_limit_bytes);
    // One deadline for the whole request: a client trickling bytes cannot hold the slot.
    beast::get_lowest_layer(stream_).expires_after(server_.config.request_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_read, this->shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    state_ = State::handling;
    started_ = std::chrono::steady_clock::now();
    if (ec == bhttp::error::end_of_stream) return do_close();
    if (ec == bhttp::error::header_limit || ec == bhttp::error::body_limit ||
        ec == bhttp::error::buffer_overflow) {
      return reject(Error(ErrorCode::too_large, "request too large"), "too_large");
    }
    if (ec && ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
      return reject(Error(ErrorCode::malformed, "malformed HTTP request"), "malformed");
    }
    if (ec) {
      // Timeouts, resets and cancellation at shutdown: nothing useful can be sent.
      if (ec != beast::error::timeout && ec != net::error::operation_aborted) {
        spdlog::debug("read failed: {}", ec.message());
      }
      return;
    }
    handle(parser_->release());
  }

  /// Answers a request that could not be read, then closes the connection.
  void reject(const Error& error, std::string_view label) {
    close_after_response_ = true;
    method_ = "-";
    path_ = "-";
    route_ = label;
    version_ = 11;
    send(api::error_response(error));
  }

  void handle(bhttp::request<bhttp::string_body>&& message) {
    version_ = message.version();
    keep_alive_ = message.keep_alive();
    head_ = message.method() == bhttp::verb::head;
    client_accepts_gzip_ = accepts_gzip(field_value(message, bhttp::field::accept_encoding));
    method_ = std::string(message.method_string());

    const std::string_view target(message.target().data(), message.target().size());
    const auto question = target.find('?');
    const auto raw_path = target.substr(0, question);
    auto decoded = api::percent_decode(raw_path, false);
    if (raw_path.empty() || raw_path.front() != '/' || !decoded ||
        decoded->find('\0') != std::string::npos) {
      path_ = "-";
      return reject(Error(ErrorCode::malformed, "malformed request target"), "malformed");
    }
    path_ = std::move(*decoded);

    if (path_ == "/metrics" && (method_ == "GET" || head_)) {
      route_ = "/metrics";
      api::Response response;
      response.content_type = "text/plain; version=0.0.4; charset=utf-8";
      response.body = server_.parts.metrics.render();
      if (server_.parts.extra_metrics) response.body += server_.parts.extra_metrics();
      return send(std::move(response));
    }

    auto match = server_.parts.router.match(method_, path_);
    if (!match.route && !path_.starts_with("/api/") && !match.path_known) {
      // Static files are the hot path: they read headers straight from the message.
      if (server_.parts.media && path_.starts_with("/media/")) {
        route_ = "media";
        return send(serve_static(message, *server_.parts.media, path_.substr(6)));
      }
      route_ = "static";
      return send(serve_static(message, server_.parts.static_files, path_));
    }

    api::Request request;
    request.method = method_;
    request.path = path_;
    if (question != std::string_view::npos) {
      request.query = api::parse_query(target.substr(question + 1));
    }
    for (const auto& field : message) {
      std::string name(field.name_string().data(), field.name_string().size());
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const std::string value(field.value().data(), field.value().size());
      auto [at, inserted] = request.headers.emplace(std::move(name), value);
      if (!inserted) at->second += ", " + value;
    }
    request.body = std::move(message.body());
    request.tls = kTls;
    beast::error_code ignored;
    request.client_address =
        beast::get_lowest_layer(stream_).socket().remote_endpoint(ignored).address().to_string();

    if (!match.route) {
      route_ = "unmatched";
      return send(server_.parts.router.dispatch(match, std::move(request)));
    }
    route_ = match.route->pattern;
    if (match.route->executor == api::Executor::inline_io) {
      return send(server_.parts.router.dispatch(match, std::move(request)));
    }
    run_on_worker(std::move(match), std::move(request));
  }

  /// Runs a database route on the worker pool, then answers on this connection's strand.
  void run_on_worker(api::Match match, api::Request request) {
    if (server_.queued.fetch_add(1) >= server_.config.max_queued_requests) {
      --server_.queued;
      return send(api::error_response(Error(ErrorCode::unavailable, "server busy")));
    }
    net::post(server_.workers, [self = this->shared_from_this(), match = std::move(match),
                                request = std::move(request)]() mutable {
      --self->server_.queued;
      auto response = self->server_.parts.router.dispatch(match, std::move(request));
      net::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->send(std::move(response));
      });
    });
  }

  static std::string_view field_value(const bhttp::request<bhttp::string_body>& message,
                                      bhttp::field name) {
    const auto found = message.find(name);
    return found == message.end() ? std::string_view{}
                                  : std::string_view(found->value().data(), found->value().size());
  }

  api::Response serve_static(const bhttp::request<bhttp::string_body>& message, StaticFiles& files,
                             const std::string& path) {
    if (method_ != "GET" && !head_) {
      auto response =
          api::error_response(Error(ErrorCode::method_not_allowed, "method not allowed"));
      response.headers.emplace_back("Allow", "GET, HEAD");
      return response;
    }
    auto file = files.find(path);
    if (!file) {
      auto not_found = server_.parts.static_files.find("/404.html");
      if (!not_found) return api::error_response(Error(ErrorCode::not_found, "no such file"));
      api::Response response;
      response.status = 404;
      response.content_type = not_found->content_type;
      response.shared_body = not_found->body;
      response.headers.emplace_back("Cache-Control", "no-cache");
      return response;
    }
    const bool gzip =
        file->gzip_body && accepts_gzip(field_value(message, bhttp::field::accept_encoding));
    const std::string etag = gzip ? gzip_etag(file->etag) : file->etag;

    api::Response response;
    response.headers.emplace_back("ETag", etag);
    response.headers.emplace_back("Last-Modified", file->last_modified);
    response.headers.emplace_back("Cache-Control", file->cache_control);
    if (file->gzip_body) response.headers.emplace_back("Vary", "Accept-Encoding");

    const auto if_none_match = field_value(message, bhttp::field::if_none_match);
    const auto if_modified_since = field_value(message, bhttp::field::if_modified_since);
    bool not_modified = false;
    if (!if_none_match.empty()) {
      not_modified = StaticFiles::etag_matches(if_none_match, file->etag) ||
                     StaticFiles::etag_matches(if_none_match, gzip_etag(file->etag));
    } else if (!if_modified_since.empty()) {
      const auto since = StaticFiles::parse_http_date(if_modified_since);
      not_modified = since && file->modified <= *since;
    }
    if (not_modified) {
      response.status = 304;
      response.content_type.clear();
      return response;
    }
    response.content_type = file->content_type;
    response.shared_body = gzip ? file->gzip_body : file->body;
    if (gzip) response.headers.emplace_back("Content-Encoding", "gzip");
    return response;
  }

  void send(api::Response response) {
    response_ = std::move(response);
    if (client_accepts_gzip_ && !head_) compress(response_);
    const bool keep = keep_alive_ && !close_after_response_ && !server_.stopping;
    const auto payload = response_.payload();
    const int status = response_.status;
    const bool bodiless_status = status == 304 || status == 204 || status < 200;
    const std::string_view body = head_ || bodiless_status ? std::string_view{} : payload;

    // The response head is written by hand into one buffer: Beast's serializer was the largest
    // cost per static request (profiled with callgrind). Parsing stays with Beast.
    head_bytes_.clear();
    head_bytes_ += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    head_bytes_ += std::to_string(status);
    head_bytes_ += ' ';
    const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    head_bytes_.append(reason.data(), reason.size());
    head_bytes_ += "\r\nServer: yizhan\r\nDate: ";
    head_bytes_ += http_date_now();
    if (!response_.content_type.empty()) append_header("Content-Type", response_.content_type);
    head_bytes_ += kSecurityHeaders;
    if constexpr (kTls) head_bytes_ += "\r\nStrict-Transport-Security: max-age=31536000";
    for (const auto& [name, value] : response_.headers)
      append_header(name, value);
    if (!bodiless_status) append_header("Content-Length", std::to_string(payload.size()));
    if (!keep && version_ != 10) head_bytes_ += "\r\nConnection: close";
    if (keep && version_ == 10) head_bytes_ += "\r\nConnection: keep-alive";
    head_bytes_ += "\r\n\r\n";

    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    server_.parts.metrics.observe(route_, method_, status, seconds);
    spdlog::info("{} {} {} {:.2f}ms", method_, path_, status, seconds * 1000);

    const std::array<net::const_buffer, 2> buffers{net::buffer(head_bytes_),
                                                   net::buffer(body.data(), body.size())};
    net::async_write(stream_, buffers,
                     beast::bind_front_handler(&Session::on_write, this->shared_from_this(), keep));
  }

  /// Gzips a compressible API response of 1 KiB or more (static files come compressed already).
  /// Its ETag becomes weak, as nginx does, so revalidation still matches the same entity.
  void compress(api::Response& response) {
    const auto payload = response.payload();
    if (response.status != 200 || payload.size() < 1024 ||
        !is_compressible(response.content_type)) {
      return;
    }
    for (const auto& [name, value] : response.headers) {
      if (name == "Content-Encoding") return;
    }
    response.shared_body = server_.gzipped(response);
    response.body.clear();
    response.headers.emplace_back("Content-Encoding", "gzip");
    response.headers.emplace_back("Vary", "Accept-Encoding");
    for (auto& [name, value] : response.headers) {
      if (name == "ETag" && !value.starts_with("W/")) value = "W/" + value;
    }
  }

  /// Appends "\r\nName: value", dropping CR and LF so no handler can split the response.
  void append_header(std::string_view name, std::string_view value) {
    head_bytes_ += "\r\n";
    head_bytes_ += name;
    head_bytes_ += ": ";
    for (char c : value) {
      if (c != '\r' && c != '\n') head_bytes_ += c;
    }
  }

  /// The current time as IMF-fixdate, formatted at most once a second per thread.
  static const std::string& http_date_now() {
    thread_local std::time_t formatted_second = 0;
    thread_local std::string text;
    const std::time_t now = std::time(nullptr);
    if (now != formatted_second) {
      formatted_second = now;
      text = StaticFiles::format_http_date(std::chrono::system_clock::from_time_t(now));
    }
    return text;
  }

  void on_write(bool keep, beast::error_code ec, std::size_t) {
    if (ec) return;
    if (!keep) return do_close();
    do_read();
  }

  void do_close() {
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  Server::Impl& server_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  api::Response response_;
  std::string head_bytes_;
  State state_ = State::reading;
  bool close_after_response_ = false;
  bool keep_alive_ = false;
  bool head_ = false;
  bool client_accepts_gzip_ = false;
  unsigned version_ = 11;
  std::string method_;
  std::string path_;
  std::string route_;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

void Server::Impl::do_accept() {
  acceptor.async_accept(net::make_strand(ioc), beast::bind_front_handler(&Impl::on_accept, this));
}

void Server::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (!acceptor.is_open() || stopping) return;
  if (ec) {
    spdlog::warn("accept failed: {}", ec.message());
    return do_accept();
  }
  if (connections >= config.max_connections) {
    spdlog::warn("connection limit {} reached, refusing a connection", config.max_connections);
    beast::error_code ignored;
    socket.close(ignored);
    return do_accept();
  }
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  ++connections;
  if (tls) {
    auto session = std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(
        *this, std::move(socket), *tls);
    track(session);
    session->start();
  } else {
    auto session = std::make_shared<Session<beast::tcp_stream>>(*this, std::move(socket));
    track(session);
    session->start();
  }
  do_accept();
}

void Server::Impl::begin_shutdown() {
  if (stopping.exchange(true)) return;
  spdlog::info("shutting down: finishing {} open connections", connections.load());
  beast::error_code ignored;
  acceptor.close(ignored);
  signals.cancel(ignored);
  // Collect under the lock but act outside it: the last reference may be dropped here, and a
  // session's destructor takes the same lock to untrack itself.
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard lock(connections_mutex);
    for (auto& [raw, weak] : live) {
      if (auto connection = weak.lock()) open.push_back(std::move(connection));
    }
  }
  for (auto& connection : open)
    connection->stop_when_idle();
  open.clear();
  check_drained(std::chrono::steady_clock::now() + config.shutdown_grace);
}

void Server::Impl::check_drained(std::chrono::steady_clock::time_point deadline) {
  if (connections == 0 || std::chrono::steady_clock::now() >= deadline) {
    if (connections > 0)
      spdlog::warn("shutdown grace over, {} connections cut", connections.load());
    ioc.stop();
    return;
  }
  drain_timer.emplace(ioc, std::chrono::milliseconds(20));
  drain_timer->async_wait([this, deadline](beast::error_code) { check_drained(deadline); });
}

Server::Server(const HttpConfig& config, ServerParts parts)
    : impl_(std::make_unique<Impl>(config, std::move(parts))) {}

Server::~Server() = default;

void Server::listen() {
  auto& acceptor = impl_->acceptor;
  beast::error_code ec;
  const auto address = net::ip::make_address(impl_->config.address, ec);
  if (ec) throw std::runtime_error("bad listen address " + impl_->config.address);
  const tcp::endpoint endpoint(address, impl_->config.port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    throw std::runtime_error("cannot listen on " + impl_->config.address + ":" +
                             std::to_string(impl_->config.port) + ": " + ec.message());
  }
}

void Server::run() {
  auto& impl = *impl_;
  impl.signals.add(SIGINT);
  impl.signals.add(SIGTERM);
  impl.signals.async_wait([&impl](beast::error_code ec, int signal) {
    if (ec) return;
    spdlog::info("signal {} received", signal);
    impl.begin_shutdown();
  });
  impl.do_accept();
  spdlog::info("serving {}://{}:{} with {} I/O threads", impl.tls ? "https" : "http",
               impl.config.address, port(), impl.io_threads);
  std::vector<std::thread> threads;
  for (int i = 1; i < impl.io_threads; ++i)
    threads.emplace_back([&impl] { impl.ioc.run(); });
  impl.ioc.run();
  for (auto& thread : threads)
    thread.join();
  impl.workers.join();
  spdlog::info("server stopped");
}

void Server::stop() {
  net::post(impl_->ioc, [impl = impl_.get()] { impl->begin_shutdown(); });
}

unsigned short Server::port() const {
  beast::error_code ignored;
  return impl_->acceptor.local_endpoint(ignored).port();
}

}  // namespace yizhan::http
