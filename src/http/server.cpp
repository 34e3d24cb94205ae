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
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <cstring>
#include <ctime>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <unordered_map>
#include <vector>

#include <unistd.h>

#include "worker_pool.hpp"
#include "yizhan/api/error.hpp"
#include "yizhan/api/router.hpp"
#include "yizhan/http/logging.hpp"
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

/// A client that wrote a body we refuse still gets our answer: we read and discard this much
/// (and wait this long) before closing, since closing with unread bytes sends a reset that
/// destroys the response in the client's buffers.
constexpr std::size_t kLingerBytes = 2 * 1024 * 1024;
constexpr auto kLingerTime = std::chrono::seconds(3);

/// What a payment-code sale refused because every provider thread is busy is told to wait: a
/// wait ends within the provider's deadline (30 s), and with 16 threads one frees up far sooner.
constexpr int kProviderBusyRetryAfterSeconds = 3;

enum class AccessLog { off, errors, sampled, all };

AccessLog parse_access_log(std::string_view text) {
  if (text == "off") return AccessLog::off;
  if (text == "sampled") return AccessLog::sampled;
  if (text == "all") return AccessLog::all;
  return AccessLog::errors;
}

/// An address in one form: IPv4-mapped IPv6 as IPv4.
std::optional<net::ip::address> parse_address(std::string_view text) {
  beast::error_code ec;
  auto address = net::ip::make_address(std::string(text), ec);
  if (ec) return std::nullopt;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::address(net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()));
  }
  return address;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
    text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t'))
    text.remove_suffix(1);
  return text;
}

/// A request id a trusted proxy may hand us: 1–128 of [A-Za-z0-9._:-].
bool sane_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (const char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != ':' &&
        c != '-') {
      return false;
    }
  }
  return true;
}

/// The current time as IMF-fixdate, formatted at most once a second per thread.
const std::string& http_date_now() {
  thread_local std::time_t formatted_second = 0;
  thread_local std::string text;
  const std::time_t now = std::time(nullptr);
  if (now != formatted_second) {
    formatted_second = now;
    text = StaticFiles::format_http_date(std::chrono::system_clock::from_time_t(now));
  }
  return text;
}

/// The not-modified decision for a file: If-None-Match wins over If-Modified-Since.
bool not_modified(const StaticFile& file, std::string_view if_none_match,
                  std::string_view if_modified_since) {
  if (!if_none_match.empty()) {
    return api::etag_matches(if_none_match, file.etag) ||
           (!file.gzip_etag.empty() && api::etag_matches(if_none_match, file.gzip_etag));
  }
  if (!if_modified_since.empty()) {
    const auto since = StaticFiles::parse_http_date(if_modified_since);
    return since && file.modified <= *since;
  }
  return false;
}

/// A 304 or 200 for a file as a plain response (media; the web root has its own fast path).
api::Response file_response(const StaticFile& file, bool gzip, std::string_view if_none_match,
                            std::string_view if_modified_since) {
  api::Response response;
  response.headers.emplace_back("ETag", gzip ? file.gzip_etag : file.etag);
  response.headers.emplace_back("Last-Modified", file.last_modified);
  response.headers.emplace_back("Cache-Control", file.cache_control);
  if (file.gzip_body) response.headers.emplace_back("Vary", "Accept-Encoding");
  if (not_modified(file, if_none_match, if_modified_since)) {
    response.status = 304;
    response.content_type.clear();
    return response;
  }
  response.content_type = file.content_type;
  response.shared_body = gzip ? file.gzip_body : file.body;
  if (gzip) response.headers.emplace_back("Content-Encoding", "gzip");
  return response;
}

}  // namespace

api::Handler metrics_endpoint(const Metrics& metrics, std::function<std::string()> extra) {
  return [&metrics, extra = std::move(extra)](const api::Request&) {
    api::Response response;
    response.content_type = "text/plain; version=0.0.4; charset=utf-8";
    response.body = metrics.render();
    if (extra) response.body += extra();
    response.headers.emplace_back("Cache-Control", "no-store");
    return response;
  };
}

api::Handler media_endpoint(StaticFiles& media) {
  return [&media](const api::Request& request) {
    const auto file = media.find("/" + request.path_parameters.at("file"));
    if (!file) return api::error_response(Error(ErrorCode::not_found, "no such file"));
    const bool gzip =
        file->gzip_body && accepts_gzip(request.header("accept-encoding").value_or(""));
    return file_response(*file, gzip, request.header("if-none-match").value_or(""),
                         request.header("if-modified-since").value_or(""));
  };
}

struct Server::Impl {
  Impl(const HttpConfig& http_config, ServerParts server_parts)
      : config(http_config),
        parts(server_parts),
        io_threads(config.io_threads > 0
                       ? config.io_threads
                       : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()))),
        access_log(parse_access_log(config.access_log)),
        database_loop_sessions(std::make_unique<std::atomic<int>[]>(
            static_cast<std::size_t>(std::max(1, parts.database_threads)))),
        database_loops(make_contexts(std::max(1, parts.database_threads))),
        contexts(make_contexts(io_threads)),
        ioc(*contexts.front()),
        acceptor(ioc),
        signals(ioc),
        workers(static_cast<std::size_t>(std::max(1, parts.database_threads))),
        provider_threads(std::max(1, config.provider_threads)),
        providers(static_cast<std::size_t>(provider_threads)),
        database_pool(parts.metrics.database_pool()),
        provider_pool(parts.metrics.provider_pool()) {
    database_pool.capacity = 2 * std::max(1, parts.database_threads);  // workers and loops
    provider_pool.capacity = provider_threads;
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
    for (const auto& text : config.trusted_proxies) {
      if (auto address = parse_address(text)) {
        trusted_proxies.push_back(*address);
      } else {
        spdlog::warn("http.trusted_proxies: {} is not an IP address; ignored",
                     escape_for_log(text));
      }
    }
    char prefix[16];
    std::snprintf(prefix, sizeof prefix, "%08x", static_cast<unsigned>(std::random_device{}()));
    request_id_prefix = prefix;
  }

  HttpConfig config;
  ServerParts parts;
  int io_threads;
  AccessLog access_log;
  std::vector<net::ip::address> trusted_proxies;
  std::string request_id_prefix;  ///< random per process, so ids of two processes differ
  std::atomic<std::uint64_t> connection_serial{0};
  // Declared before ioc: sessions still queued in ioc untrack themselves when it is destroyed.
  std::atomic<int> connections{0};
  std::atomic<bool> stopping{false};
  std::mutex connections_mutex;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> live;
  /// One loop per database worker, each with its thread, where plain connections live once
  /// they ask a quick route (Session::move_to_database_loop). Declared before contexts, as the
  /// counts are: a session still queued anywhere when the loops are destroyed holds a socket
  /// on one of them and counts itself out.
  std::unique_ptr<std::atomic<int>[]> database_loop_sessions;  ///< connections living on each
  std::vector<std::unique_ptr<net::io_context>> database_loops;
  /// One event loop per I/O thread, each connection on one of them (until it moves to a
  /// database loop, once, for good): no strands, and no thread wakes another to run a handler.
  std::vector<std::unique_ptr<net::io_context>> contexts;
  net::io_context& ioc;  ///< the first: listener, signals, shutdown
  std::vector<net::executor_work_guard<net::io_context::executor_type>> keep_running;
  std::size_t next_context = 0;  ///< used by the listener only
  std::optional<ssl::context> tls;
  tcp::acceptor acceptor;
  net::signal_set signals;
  WorkerPool workers;  ///< runs the database routes
  int provider_threads;
  /// Runs the requests that wait on a payment provider (Route::waits_on_provider): a wait of up
  /// to the provider's deadline must not hold a database worker that everyone else needs.
  WorkerPool providers;
  Metrics::Pool& database_pool;  ///< occupancy, kept here, shown at /metrics
  Metrics::Pool& provider_pool;
  std::optional<net::steady_timer> drain_timer;

  static std::vector<std::unique_ptr<net::io_context>> make_contexts(int count) {
    std::vector<std::unique_ptr<net::io_context>> made;
    for (int i = 0; i < count; ++i)
      made.push_back(std::make_unique<net::io_context>(1));
    return made;
  }

  /// Ends every event loop (after the shutdown grace).
  void stop_contexts() {
    keep_running.clear();
    for (auto& context : contexts)
      context->stop();
    for (auto& loop : database_loops)
      loop->stop();
  }

  /// Whether some database loop has no connection.
  [[nodiscard]] bool database_loop_free() const {
    for (std::size_t i = 0; i < database_loops.size(); ++i)
      if (database_loop_sessions[i] == 0) return true;
    return false;
  }

  /// A database loop with no connection, taken for the caller; none when every loop has its
  /// connection. One connection per loop: a loop runs its connection's quick routes one at a
  /// time, so two busy connections on one loop would wait for each other while another loop
  /// idles (at 32 counters that made p99 three times worse); connections beyond the loops
  /// keep the workers' shared queue, where any free worker takes the next request.
  std::optional<std::size_t> take_database_loop() {
    for (std::size_t i = 0; i < database_loops.size(); ++i) {
      int none = 0;
      if (database_loop_sessions[i].compare_exchange_strong(none, 1)) return i;
    }
    return std::nullopt;
  }

  [[nodiscard]] bool trusted(const net::ip::address& address) const {
    return std::find(trusted_proxies.begin(), trusted_proxies.end(), address) !=
           trusted_proxies.end();
  }

  /// Whether a finished request gets an access log line (errors always, unless off).
  [[nodiscard]] bool logs(int status, std::uint64_t number) const {
    switch (access_log) {
      case AccessLog::off: return false;
      case AccessLog::errors: return status >= 400;
      case AccessLog::sampled:
        return status >= 400 ||
               number % static_cast<std::uint64_t>(std::max(1, config.access_log_sample)) == 0;
      case AccessLog::all: return true;
    }
    return true;
  }

  /// Runs `work` on a database worker; an exception that escapes it is logged, never fatal.
  template <class Work>
  void post_work(Work&& work) {
    post_to(workers, std::forward<Work>(work));
  }

  /// Runs `work` on a thread of `pool`; an exception that escapes it is logged, never fatal.
  template <class Work>
  static void post_to(WorkerPool& pool, Work&& work) {
    pool.post([work = std::forward<Work>(work)]() mutable {
      try {
        work();
      } catch (const std::exception& error) {
        spdlog::error("worker task failed: {}", error.what());
      } catch (...) {
        spdlog::error("worker task failed with a non-standard exception");
      }
    });
  }

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
/// Three deadlines, one at a time: reading a request (http.request_timeout, which also bounds
/// an idle keep-alive connection), the work in the queue (http.handler_timeout), and writing
/// the answer (http.write_timeout). While a request is handled the socket has no deadline.
template <class Stream>
class Session : public Connection, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;
  using Parser = bhttp::request_parser<bhttp::string_body>;

 public:
  template <class... StreamArguments>
  explicit Session(Server::Impl& server, StreamArguments&&... arguments)
      : server_(server), stream_(std::in_place, std::forward<StreamArguments>(arguments)...) {
    timer_.emplace(stream_->get_executor());
  }

  ~Session() override {
    server_.untrack(this);
    if (database_loop_) --server_.database_loop_sessions[*database_loop_];
    --server_.connections;
  }

  void start() {
    net::dispatch(stream_->get_executor(),
                  beast::bind_front_handler(&Session::on_start, this->shared_from_this()));
  }

  void stop_when_idle() override {
    std::lock_guard lock(moving_);  // not while the connection moves to a database loop
    const bool moved = database_loop_.has_value();
    net::post(stream_->get_executor(), [self = this->shared_from_this(), moved] {
      {
        // Posted to the loop it lived on just before it moved: asked again where it lives now.
        std::unique_lock lock(self->moving_);
        if (self->database_loop_.has_value() != moved) {
          lock.unlock();
          return self->stop_when_idle();
        }
      }
      if (self->state_ == State::reading || self->state_ == State::lingering) {
        beast::get_lowest_layer(*self->stream_).cancel();
      } else {
        self->close_after_response_ = true;
      }
    });
  }

 private:
  enum class State { reading, handling, writing, lingering };

  // --- deadlines --------------------------------------------------------------------------
  // One timer per connection that wakes at most once per deadline span: moving the deadline is
  // a store, not a timer operation (Beast's per-operation timers cost more than a static hit).

  void set_deadline(std::chrono::steady_clock::duration span) {
    deadline_ = std::chrono::steady_clock::now() + span;
    // A later deadline waits for the timer already set; an earlier one needs it moved.
    if (!timer_armed_ || deadline_ < timer_->expiry()) arm_timer();
  }

  void clear_deadline() { deadline_ = std::chrono::steady_clock::time_point::max(); }

  void arm_timer() {
    timer_armed_ = true;
    timer_->expires_at(deadline_);
    timer_->async_wait([weak = this->weak_from_this()](beast::error_code ec) {
      if (ec) return;  // the session is gone
      if (auto self = weak.lock()) self->on_timer();
    });
  }

  void on_timer() {
    timer_armed_ = false;
    if (deadline_ == std::chrono::steady_clock::time_point::max()) return;
    if (std::chrono::steady_clock::now() < deadline_) return arm_timer();
    // Past the deadline: whatever the connection waits for (a request, the client reading our
    // answer, a TLS close) is abandoned with it.
    timed_out_ = true;
    beast::error_code ignored;
    beast::get_lowest_layer(*stream_).socket().close(ignored);
  }

  void on_start() {
    beast::error_code ec;
    const auto peer = beast::get_lowest_layer(*stream_).socket().remote_endpoint(ec);
    if (!ec) {
      peer_ = parse_address(peer.address().to_string()).value_or(peer.address());
      peer_text_ = peer_.to_string();
      peer_trusted_ = server_.trusted(peer_);
    }
    char serial[24];
    std::snprintf(serial, sizeof serial, "-%llx-",
                  static_cast<unsigned long long>(++server_.connection_serial));
    id_base_ = server_.request_id_prefix + serial;
    if constexpr (kTls) {
      set_deadline(server_.config.request_timeout);
      stream_->async_handshake(
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

  // --- reading ----------------------------------------------------------------------------

  void do_read() {
    state_ = State::reading;
    if (server_.stopping) return do_close();
    client_ = peer_text_;
    forwarded_tls_ = false;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_.config.header_limit_bytes));
    // The header may announce an upload; the route decides below what it may really send.
    parser_->body_limit(
        std::max(server_.config.body_limit_bytes, server_.config.upload_body_limit_bytes));
    // One deadline for the whole request: a client trickling bytes cannot hold the slot.
    set_deadline(server_.config.request_timeout);
    read_header();
  }

  /// Reads until the buffer holds a whole header, checks its raw bytes, then parses it.
  void read_header() {
    const auto data = buffer_.data();
    const std::string_view bytes(static_cast<const char*>(data.data()), data.size());
    const auto end = bytes.find("\r\n\r\n");
    if (end == std::string_view::npos) {
      if (bytes.size() >= server_.config.header_limit_bytes) {
        // Still in the request line: its target is what is too long (RFC 9112 3.2: 414).
        if (bytes.find("\r\n") == std::string_view::npos)
          return reject(Error(ErrorCode::uri_too_long, "request target too long"), "uri_too_long");
        return reject(Error(ErrorCode::too_large, "request header too large"), "too_large");
      }
      stream_->async_read_some(
          buffer_.prepare(std::max<std::size_t>(4096, server_.config.header_limit_bytes / 2)),
          beast::bind_front_handler(&Session::on_read_some, this->shared_from_this()));
      return;
    }
    // Obsolete line folding (RFC 9112 5.2): a line of the header that starts with a space or tab.
    const auto header = bytes.substr(0, end + 2);
    if (header.find("\r\n ") != std::string_view::npos ||
        header.find("\r\n\t") != std::string_view::npos) {
      return reject(Error(ErrorCode::malformed, "obsolete line folding"), "malformed");
    }
    beast::error_code ec;
    const auto used = parser_->put(data, ec);
    buffer_.consume(used);
    if (ec == bhttp::error::need_more && !parser_->is_header_done()) {
      return reject(Error(ErrorCode::malformed, "malformed HTTP request"), "malformed");
    }
    if (ec && ec != bhttp::error::need_more) return on_parse_error(ec);
    on_header();
  }

  void on_read_some(beast::error_code ec, std::size_t bytes) {
    if (ec) {
      if (ec == net::error::eof && buffer_.size() > 0) {
        return reject(Error(ErrorCode::malformed, "incomplete request"), "malformed");
      }
      // End of stream, timeouts, resets, cancellation at shutdown: nothing useful to send.
      if (ec != net::error::eof && ec != beast::error::timeout &&
          ec != net::error::operation_aborted && ec != net::ssl::error::stream_truncated) {
        spdlog::debug("read failed: {}", ec.message());
      }
      return;
    }
    buffer_.commit(bytes);
    read_header();
  }

  void on_parse_error(beast::error_code ec) {
    if (ec == bhttp::error::header_limit || ec == bhttp::error::body_limit ||
        ec == bhttp::error::buffer_overflow) {
      return reject(Error(ErrorCode::too_large, "request too large"), "too_large");
    }
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
      return reject(Error(ErrorCode::malformed, "malformed HTTP request"), "malformed");
    }
    if (ec != beast::error::timeout && ec != net::error::operation_aborted &&
        ec != net::error::eof) {
      spdlog::debug("read failed: {}", ec.message());
    }
  }

  /// The header is in: strictness checks, the caller's identity, the route, then the body.
  void on_header() {
    state_ = State::handling;
    started_ = std::chrono::steady_clock::now();
    auto& message = parser_->get();
    version_ = message.version();
    keep_alive_ = message.keep_alive();
    head_ = message.method() == bhttp::verb::head;
    const auto method = message.method_string();
    method_.assign(method.data(), method.size());
    route_ = "-";
    new_request_id();
    client_ = peer_text_;
    forwarded_tls_ = false;
    if (peer_trusted_) believe_proxy(message);

    // RFC 9112 6.1: a Transfer-Encoding we cannot frame (not ending in chunked) is refused,
    // since reading it any other way lets a second request hide in the body.
    if (message.find(bhttp::field::transfer_encoding) != message.end() && !parser_->chunked()) {
      return reject(Error(ErrorCode::malformed, "Transfer-Encoding must end with chunked"),
                    "malformed");
    }
    // RFC 9112 3.2: exactly one Host in HTTP/1.1, at most one before.
    const auto hosts = message.count(bhttp::field::host);
    if (hosts > 1 || (hosts == 0 && version_ >= 11)) {
      return reject(Error(ErrorCode::malformed, "exactly one Host header is required"),
                    "malformed");
    }

    const std::string_view target(message.target().data(), message.target().size());
    const auto question = target.find('?');
    const auto raw_path = target.substr(0, question);
    auto decoded = api::percent_decode(raw_path, false);
    if (raw_path.empty() || raw_path.front() != '/' || !decoded ||
        decoded->find('\0') != std::string::npos) {
      return reject(Error(ErrorCode::malformed, "malformed request target"), "malformed");
    }
    path_ = std::move(*decoded);
    client_accepts_gzip_ = accepts_gzip(field_value(message, bhttp::field::accept_encoding));

    if (!server_.parts.router.may_match(path_)) {
      route_ = "static";
      if (!parser_->is_done()) {
        // Static files take no body: read what fits the default limit, then answer.
        return read_body(server_.config.body_limit_bytes, [](Session& self) { self.serve_file(); });
      }
      return serve_file();
    }

    match_ = server_.parts.router.match(method_, path_);
    route_ = match_.route ? std::string_view(match_.route->pattern) : "unmatched";
    if (parser_->is_done() || !match_.route) {
      if (!parser_->is_done()) {
        return read_body(server_.config.body_limit_bytes, [](Session& self) { self.dispatch(); });
      }
      return dispatch();
    }
    const bool upload = match_.route->body_limit == api::BodyLimit::upload;
    const auto announced = parser_->content_length();
    const bool larger = !announced || *announced > server_.config.body_limit_bytes;
    if (upload && larger) {
      // The larger limit is for a caller who may use the route: ask first, read after.
      return check_then_read_upload();
    }
    read_body(upload ? server_.config.upload_body_limit_bytes : server_.config.body_limit_bytes,
              [](Session& self) { self.dispatch(); });
  }

  /// This connection's next request id: process prefix, connection serial, request number.
  void new_request_id() {
    ++requests_;
    request_id_.assign(id_base_);
    char number[20];
    const int length =
        std::snprintf(number, sizeof number, "%llx", static_cast<unsigned long long>(requests_));
    request_id_.append(number, static_cast<std::size_t>(length));
  }

  /// X-Forwarded-For and X-Forwarded-Proto from a trusted proxy: the client is the rightmost
  /// address that is not itself a trusted proxy; "https" means the proxy terminated TLS.
  void believe_proxy(const bhttp::request_header<>& message) {
    std::string forwarded_for;
    const auto [first, last] = message.equal_range("X-Forwarded-For");
    for (auto field = first; field != last; ++field) {
      if (!forwarded_for.empty()) forwarded_for += ',';
      forwarded_for.append(field->value().data(), field->value().size());
    }
    std::string_view rest = forwarded_for;
    while (!rest.empty()) {
      const auto comma = rest.rfind(',');
      const auto item = trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(0, comma);
      const auto address = parse_address(item);
      if (!address) break;  // garbage: keep the last address we could believe
      client_ = address->to_string();
      if (!server_.trusted(*address)) break;
    }
    const auto proto = trim(field_value(message, "X-Forwarded-Proto"));
    forwarded_tls_ = beast::iequals(proto, "https");
    const auto incoming_id = trim(field_value(message, "X-Request-Id"));
    if (sane_request_id(incoming_id)) request_id_.assign(incoming_id.data(), incoming_id.size());
  }

  /// Asks the router (on a worker: it may read the session from the database) whether the
  /// caller may use the upload route; only then reads its large body.
  void check_then_read_upload() {
    auto request = std::make_shared<api::Request>(make_request());
    server_.post_work([self = this->shared_from_this(), request] {
      auto refused = self->server_.parts.router.refuse(self->match_, *request);
      net::post(self->stream_->get_executor(),
                [self, request, refused = std::move(refused)]() mutable {
                  if (refused) {
                    self->close_after_response_ = true;
                    self->linger_ = true;
                    return self->send(std::move(*refused));
                  }
                  self->upload_principal_ = request->principal;
                  self->read_body(self->server_.config.upload_body_limit_bytes,
                                  [](Session& session) { session.dispatch(); });
                });
    });
  }

  template <class Next>
  void read_body(std::size_t limit, Next next) {
    const auto announced = parser_->content_length();
    if (announced && *announced > limit) {
      return reject(Error(ErrorCode::too_large, "request body too large"), "too_large");
    }
    parser_->body_limit(limit);
    bhttp::async_read(*stream_, buffer_, *parser_,
                      [self = this->shared_from_this(), next](beast::error_code ec, std::size_t) {
                        if (ec) return self->on_parse_error(ec);
                        next(*self);
                      });
  }

  // --- handling ---------------------------------------------------------------------------

  /// The parsed message as handlers see it.
  api::Request make_request() {
    const auto& message = parser_->get();
    api::Request request;
    request.method = method_;
    request.path = path_;
    const std::string_view target(message.target().data(), message.target().size());
    if (const auto question = target.find('?'); question != std::string_view::npos) {
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
    request.tls = kTls || forwarded_tls_;
    request.client_address = client_;
    request.request_id = request_id_;
    return request;
  }

  void dispatch() {
    clear_deadline();
    auto request = make_request();
    request.body = std::move(parser_->get().body());
    if (upload_principal_) {
      request.principal = std::move(upload_principal_);
      upload_principal_.reset();
    }
    if (!match_.route || match_.route->executor == api::Executor::inline_io) {
      return send(server_.parts.router.dispatch(match_, std::move(request)));
    }
    if (waits_on_provider(request)) return run_on_provider(std::move(request));
    if constexpr (!kTls) {
      if (match_.route->executor == api::Executor::quick) {
        if (database_loop_) return run_here(std::move(request));
        if (!server_.database_loop_free()) return run_on_worker(std::move(request));
        // The move waits for what this loop already queued for the connection (a deadline
        // that fired as the request arrived, the cancelled timer's wait) to run here first.
        timer_->cancel();
        timer_armed_ = false;  // armed again by the next deadline, wherever it then lives
        return net::post(stream_->get_executor(),
                         [self = this->shared_from_this(), request = std::move(request)]() mutable {
                           self->move_to_database_loop(std::move(request));
                         });
      }
    }
    run_on_worker(std::move(request));
  }

  /// Runs a quick database route on this thread, a database loop's, and answers: no hand-off to
  /// a worker and back, which on a busy machine cost more than the HTTP around the statements.
  /// The loop's other connections wait meanwhile, as they would for a free worker.
  void run_here(api::Request request) {
    auto& pool = server_.database_pool;
    ++pool.busy;
    auto response = dispatch_caught(std::move(request));
    --pool.busy;
    send(std::move(response));
  }

  /// The matched route's answer; whatever it throws becomes an error response (500 for what is
  /// not a domain error), on whichever thread runs it.
  api::Response dispatch_caught(api::Request request) {
    try {
      return server_.parts.router.dispatch(match_, std::move(request));
    } catch (...) {
      return api::error_response(std::current_exception(), "dispatch");
    }
  }

  /// The first quick route a plain connection asks moves it, socket and all, from its I/O loop
  /// to a database loop of its own, where it stays: its quick routes then run where they are
  /// read (run_here). With every loop taken it stays, its quick routes go to the workers, and
  /// it tries again with the next one. Connections that only fetch files never move, so the
  /// I/O loops stay as fast as they were; TLS connections stay (their state is not moved).
  void move_to_database_loop(api::Request request) {
    beast::error_code ec;
    const auto protocol = stream_->socket().local_endpoint(ec).protocol();
    if (ec) return run_on_worker(std::move(request));  // the client is gone or going
    const auto taken = server_.take_database_loop();
    if (!taken) return run_on_worker(std::move(request));  // taken meanwhile: asked next time
    const auto index = *taken;
    auto& loop = *server_.database_loops[index];
    // Counted in already: counted out unless the connection ends up living there.
    struct CountOut {
      std::atomic<int>& count;
      bool keep = false;
      ~CountOut() {
        if (!keep) --count;
      }
    } counted{server_.database_loop_sessions[index]};
    {
      std::lock_guard lock(moving_);
      tcp::socket moved(loop);
      const auto handle = stream_->socket().release(ec);
      if (ec) return run_on_worker(std::move(request));  // still open here: answered as before
      moved.assign(protocol, handle, ec);
      if (ec) {
        // Not registered there: back where it was, and answered as before.
        spdlog::warn("request {}: cannot move the connection to a database loop: {}", request_id_,
                     ec.message());
        beast::error_code back;
        stream_->socket().assign(protocol, handle, back);
        if (back) {
          ::close(handle);
          return;
        }
        return run_on_worker(std::move(request));
      }
      timer_.reset();  // its waits were cancelled and have run (dispatch)
      stream_.emplace(std::move(moved));
      timer_.emplace(stream_->get_executor());
      database_loop_ = index;
      counted.keep = true;
    }
    timer_armed_ = false;
    net::post(stream_->get_executor(),
              [self = this->shared_from_this(), request = std::move(request)]() mutable {
                self->run_here(std::move(request));
              });
  }

  /// Whether the matched route says this request waits on a payment provider.
  bool waits_on_provider(const api::Request& request) const {
    const auto& waits = match_.route->waits_on_provider;
    if (!waits) return false;
    try {
      return waits(request);
    } catch (const std::exception& error) {
      spdlog::warn("request {}: waits_on_provider failed: {}", request_id_, error.what());
      return false;
    }
  }

  /// Runs a request that waits on a payment provider on the provider pool, then answers on this
  /// connection's strand. It is never queued: behind another such wait it could wait the
  /// provider's whole deadline, the till hanging meanwhile. With every provider thread taken it
  /// is 503 with Retry-After at once, and the till (or the cashier) asks again.
  void run_on_provider(api::Request request) {
    auto& pool = server_.provider_pool;
    if (pool.busy.fetch_add(1) >= server_.provider_threads) {
      --pool.busy;
      ++pool.refused;
      return send(api::error_response(Error(
          ErrorCode::unavailable,
          "支付渠道繁忙，请稍后再试 / too many requests are waiting on payment providers: try "
          "again shortly",
          {{"retry_after_seconds", std::to_string(kProviderBusyRetryAfterSeconds)}})));
    }
    Server::Impl::post_to(server_.providers, [self = this->shared_from_this(),
                                              request = std::move(request)]() mutable {
      auto response = self->dispatch_caught(std::move(request));
      --self->server_.provider_pool.busy;
      net::post(self->stream_->get_executor(), [self, response = std::move(response)]() mutable {
        self->send(std::move(response));
      });
    });
  }

  /// Runs a database route on the worker pool, then answers on this connection's strand. Work
  /// that waited in the queue past its deadline is not started: the client has given up or
  /// soon will, and starting it would only make the queue longer.
  void run_on_worker(api::Request request) {
    auto& pool = server_.database_pool;
    if (pool.queued.fetch_add(1) >= server_.config.max_queued_requests) {
      --pool.queued;
      ++pool.refused;
      return send(api::error_response(Error(ErrorCode::unavailable, "server busy")));
    }
    const auto deadline = started_ + server_.config.handler_timeout;
    server_.post_work([self = this->shared_from_this(), deadline,
                       request = std::move(request)]() mutable {
      auto& pool = self->server_.database_pool;
      --pool.queued;
      ++pool.busy;
      api::Response response;
      if (std::chrono::steady_clock::now() > deadline) {
        spdlog::warn("request {} waited past its deadline in the queue; not started",
                     self->request_id_);
        ++pool.refused;
        response = api::error_response(Error(ErrorCode::unavailable, "server busy, try again"));
      } else {
        response = self->dispatch_caught(std::move(request));
      }
      --pool.busy;
      net::post(self->stream_->get_executor(), [self, response = std::move(response)]() mutable {
        self->send(std::move(response));
      });
    });
  }

  static std::string_view field_value(const bhttp::request_header<>& message, bhttp::field name) {
    const auto found = message.find(name);
    return found == message.end() ? std::string_view{}
                                  : std::string_view(found->value().data(), found->value().size());
  }
  static std::string_view field_value(const bhttp::request_header<>& message,
                                      std::string_view name) {
    const auto found = message.find(beast::string_view(name.data(), name.size()));
    return found == message.end() ? std::string_view{}
                                  : std::string_view(found->value().data(), found->value().size());
  }

  /// The web root's hot path: the file's fields were formatted when it was loaded.
  void serve_file() {
    clear_deadline();
    auto& files = server_.parts.static_files;
    if (method_ != "GET" && !head_) {
      auto response =
          api::error_response(Error(ErrorCode::method_not_allowed, "method not allowed"));
      response.headers.emplace_back("Allow", "GET, HEAD");
      return send(std::move(response));
    }
    auto file = files.find(path_);
    if (!file) {
      auto not_found = files.find("/404.html");
      if (!not_found) return send(api::error_response(Error(ErrorCode::not_found, "no such file")));
      api::Response response;
      response.status = 404;
      response.content_type = not_found->content_type;
      response.shared_body = not_found->body;
      response.headers.emplace_back("Cache-Control", "no-cache");
      return send(std::move(response));
    }
    const auto& message = parser_->get();
    const auto if_none_match = field_value(message, bhttp::field::if_none_match);
    const auto if_modified_since = field_value(message, bhttp::field::if_modified_since);
    const bool gzip = file->gzip_body && client_accepts_gzip_;
    if ((!if_none_match.empty() || !if_modified_since.empty()) &&
        not_modified(*file, if_none_match, if_modified_since)) {
      return send(file_response(*file, gzip, if_none_match, if_modified_since));
    }
    begin_head(200);
    head_bytes_ += gzip ? file->gzip_fields : file->identity_fields;
    const auto& body = gzip ? *file->gzip_body : *file->body;
    file_ = std::move(file);  // keeps the bytes alive while they are written
    finish_and_write(200, head_ ? std::string_view{} : std::string_view(body));
  }

  // --- writing ----------------------------------------------------------------------------

  /// Answers a request that could not be read, then closes the connection (after reading
  /// what the client still sends, so that it sees the answer rather than a reset).
  void reject(const Error& error, std::string_view label) {
    if (state_ == State::reading) {
      // Refused before the header was understood: a request of its own for the log.
      started_ = std::chrono::steady_clock::now();
      new_request_id();
      head_ = false;
      version_ = 11;
    }
    state_ = State::handling;
    close_after_response_ = true;
    linger_ = true;
    if (method_.empty()) method_ = "-";
    if (path_.empty()) path_ = "-";
    route_ = label;
    send(api::error_response(error));
  }

  void send(api::Response response) {
    response_ = std::move(response);
    if (client_accepts_gzip_ && !head_) compress(response_);
    const auto payload = response_.payload();
    const int status = response_.status;
    const bool bodiless_status = status == 304 || status == 204 || status < 200;
    const std::string_view body = head_ || bodiless_status ? std::string_view{} : payload;

    begin_head(status);
    if (!response_.content_type.empty()) append_header("Content-Type", response_.content_type);
    for (const auto& [name, value] : response_.headers)
      append_header(name, value);
    if (!bodiless_status) append_header("Content-Length", std::to_string(payload.size()));
    finish_and_write(status, body);
  }

  /// The status line and the fields every response carries.
  void begin_head(int status) {
    // The response head is written by hand into one buffer: Beast's serializer was the largest
    // cost per static request (profiled with callgrind). Parsing stays with Beast.
    head_bytes_.clear();
    head_bytes_ += version_ == 10 ? "HTTP/1.0 " : "HTTP/1.1 ";
    char code[8];
    const int length = std::snprintf(code, sizeof code, "%d ", status);
    head_bytes_.append(code, static_cast<std::size_t>(length));
    const auto reason = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    head_bytes_.append(reason.data(), reason.size());
    head_bytes_ += "\r\nServer: yizhan\r\nDate: ";
    head_bytes_ += http_date_now();
    head_bytes_ += kSecurityHeaders;
    if (kTls || forwarded_tls_) head_bytes_ += "\r\nStrict-Transport-Security: max-age=31536000";
  }

  /// Ends the head (request id, connection), counts and logs the request, writes head and body
  /// in one gather write under the write deadline.
  void finish_and_write(int status, std::string_view body) {
    const bool keep = keep_alive_ && !close_after_response_ && !server_.stopping;
    head_bytes_ += "\r\nX-Request-Id: ";
    head_bytes_ += request_id_;
    if (!keep && version_ != 10) head_bytes_ += "\r\nConnection: close";
    if (keep && version_ == 10) head_bytes_ += "\r\nConnection: keep-alive";
    head_bytes_ += "\r\n\r\n";

    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    Metrics::record(metric_series(status), seconds);
    if (server_.logs(status, requests_)) {
      spdlog::info("request {} {} \"{} {}\" {} {:.2f}ms", request_id_, client_,
                   escape_for_log(method_), escape_for_log(path_), status, seconds * 1000);
    }

    state_ = State::writing;
    const std::array<net::const_buffer, 2> buffers{net::buffer(head_bytes_),
                                                   net::buffer(body.data(), body.size())};
    beast::buffers_suffix<std::array<net::const_buffer, 2>> rest(buffers);
    if constexpr (!kTls) {
      // Most answers fit the socket's send buffer: one writev now, no timer, no handler.
      auto& socket = stream_->socket();
      beast::error_code ec;
      if (!socket.non_blocking()) socket.non_blocking(true, ec);
      const auto written = ec ? 0 : socket.write_some(buffers, ec);
      if (!ec && written == head_bytes_.size() + body.size()) return on_written(keep);
      if (ec && ec != net::error::would_block && ec != net::error::try_again) return;
      rest.consume(written);
    }
    set_deadline(server_.config.write_timeout);
    net::async_write(*stream_, rest,
                     beast::bind_front_handler(&Session::on_write, this->shared_from_this(), keep));
  }

  /// The series for this request's labels; the last one is remembered, since a connection
  /// mostly asks the same kind of thing again.
  Metrics::Series& metric_series(int status) {
    const auto method = Metrics::method_label(method_);
    if (!series_ || series_status_ != status || series_route_ != route_ ||
        series_method_ != method) {
      series_ = &server_.parts.metrics.series(route_, method, status);
      series_route_.assign(route_.data(), route_.size());
      series_method_ = method;
      series_status_ = status;
    }
    return *series_;
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

  void on_write(bool keep, beast::error_code ec, std::size_t) {
    file_.reset();
    response_ = {};
    if (ec) {
      if (timed_out_) {
        spdlog::info("request {}: client did not read the response in time; closed", request_id_);
      }
      return;
    }
    on_written(keep);
  }

  void on_written(bool keep) {
    file_.reset();
    if (linger_) return do_linger();
    if (!keep) return do_close();
    method_.clear();
    path_.clear();
    if (buffer_.size() > 0) {
      // A pipelined request is waiting: go through the executor rather than recurse.
      return net::post(stream_->get_executor(),
                       beast::bind_front_handler(&Session::do_read, this->shared_from_this()));
    }
    do_read();
  }

  /// After refusing a request whose body we did not read: stop sending, then read and discard
  /// (bounded in bytes and time) until the client has finished, so it reads our answer.
  void do_linger() {
    state_ = State::lingering;
    if constexpr (kTls) {
      return do_close();
    } else {
      beast::error_code ignored;
      stream_->socket().shutdown(tcp::socket::shutdown_send, ignored);
      set_deadline(kLingerTime);
      buffer_.clear();
      linger_read();
    }
  }

  void linger_read() {
    stream_->async_read_some(buffer_.prepare(65536), [self = this->shared_from_this()](
                                                         beast::error_code ec, std::size_t bytes) {
      self->lingered_ += bytes;
      self->buffer_.clear();
      if (ec || self->lingered_ > kLingerBytes) {
        beast::error_code ignored;
        beast::get_lowest_layer(*self->stream_).socket().close(ignored);
        return;
      }
      self->linger_read();
    });
  }

  void do_close() {
    if constexpr (kTls) {
      set_deadline(std::chrono::seconds(2));
      stream_->async_shutdown([self = this->shared_from_this()](beast::error_code) {});
    } else {
      beast::error_code ignored;
      stream_->socket().shutdown(tcp::socket::shutdown_send, ignored);
    }
  }

  Server::Impl& server_;
  std::mutex moving_;  ///< held while stream_ is replaced, and by other threads reading it
  std::optional<Stream> stream_;  ///< replaced (same socket) when it moves to a database loop
  std::optional<net::steady_timer> timer_;  ///< on stream_'s loop
  /// Where it lives once it asked a quick route; set under moving_, read by other threads
  /// under it only.
  std::optional<std::size_t> database_loop_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  bool timer_armed_ = false;
  bool timed_out_ = false;
  beast::flat_buffer buffer_;
  std::optional<Parser> parser_;
  api::Match match_;
  api::Response response_;
  std::shared_ptr<const StaticFile> file_;
  std::optional<domain::Principal> upload_principal_;
  std::string head_bytes_;
  State state_ = State::reading;
  bool close_after_response_ = false;
  bool linger_ = false;
  std::size_t lingered_ = 0;
  bool keep_alive_ = false;
  bool head_ = false;
  bool client_accepts_gzip_ = false;
  bool forwarded_tls_ = false;
  bool peer_trusted_ = false;
  unsigned version_ = 11;
  std::uint64_t requests_ = 0;
  net::ip::address peer_;
  std::string peer_text_;
  std::string client_;
  std::string id_base_;
  std::string request_id_;
  std::string method_;
  std::string path_;
  std::string_view route_ = "-";  ///< a route pattern (owned by the router) or a literal
  Metrics::Series* series_ = nullptr;
  std::string series_route_;
  std::string_view series_method_;
  int series_status_ = 0;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

void Server::Impl::do_accept() {
  auto& context = *contexts[next_context++ % contexts.size()];
  acceptor.async_accept(context.get_executor(), beast::bind_front_handler(&Impl::on_accept, this));
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
    stop_contexts();
    return;
  }
  drain_timer.emplace(ioc, std::chrono::milliseconds(20));
  drain_timer->async_wait([this, deadline](beast::error_code) { check_drained(deadline); });
}

Server::Server(const HttpConfig& config, ServerParts parts)
    : impl_(std::make_unique<Impl>(config, parts)) {}

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

namespace {

/// Runs the I/O loop until it stops; an exception escaping a completion handler is logged and
/// the loop goes on (the connection it belonged to is dropped with its handler).
void run_io(net::io_context& ioc) {
  for (;;) {
    try {
      ioc.run();
      return;
    } catch (const std::exception& error) {
      spdlog::error("I/O handler failed: {}", error.what());
    } catch (...) {
      spdlog::error("I/O handler failed with a non-standard exception");
    }
  }
}

}  // namespace

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
  for (auto& context : impl.contexts)
    impl.keep_running.push_back(net::make_work_guard(*context));
  for (auto& loop : impl.database_loops)
    impl.keep_running.push_back(net::make_work_guard(*loop));
  std::vector<std::thread> threads;
  for (std::size_t i = 1; i < impl.contexts.size(); ++i)
    threads.emplace_back([&impl, i] { run_io(*impl.contexts[i]); });
  for (auto& loop : impl.database_loops)
    threads.emplace_back([&loop = *loop] { run_io(loop); });
  run_io(impl.ioc);
  for (auto& thread : threads)
    thread.join();
  // A payment-code sale still waiting for its payer ends as it would have (sold, or reversed):
  // its answer is lost with the connection, and the till's retry with the key gets it.
  if (const int waiting = impl.provider_pool.busy; waiting > 0)
    spdlog::info("waiting for {} requests still waiting on a payment provider", waiting);
  impl.providers.join();
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
