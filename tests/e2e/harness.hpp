// End-to-end helpers: start the real yizhan binary, talk raw HTTP to it over a socket.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace yizhan::e2e {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

/// A port nobody listens on right now, below the kernel's ephemeral range: a server that is
/// killed and restarted on its port must find it free, and a port the kernel hands out to
/// outgoing connections could meanwhile be some client's own end, or a connect() to the dead
/// port could connect to itself (TCP simultaneous open) and hold it.
inline int free_port() {
  int low = 32768;
  if (std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range"); range) range >> low;
  static thread_local unsigned seed =
      static_cast<unsigned>(::getpid()) * 2654435761u ^
      static_cast<unsigned>(std::chrono::steady_clock::now().time_since_epoch().count());
  for (;;) {
    seed = seed * 1103515245u + 12345u;
    const int port = 10000 + static_cast<int>((seed >> 8) % static_cast<unsigned>(low - 10000));
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(static_cast<std::uint16_t>(port));
    const bool bound = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    if (bound) return port;
  }
}

/// Starts `arguments` (the first a path to the program) with its standard output and error
/// appended to `log` (or inherited when `log` is empty, or truncated first when `truncate`).
/// posix_spawn, not fork: these tests start servers while their own threads run, and a forked
/// child that allocates before exec can block forever on an allocator lock some other thread
/// held at the fork (a server restarted under load then never starts, with an empty log).
inline pid_t spawn(const std::vector<std::string>& arguments, const fs::path& log = {},
                   bool truncate = false) {
  std::vector<char*> argv;
  for (const auto& argument : arguments)
    argv.push_back(const_cast<char*>(argument.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  if (!log.empty()) {
    ::posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                       O_WRONLY | O_CREAT | (truncate ? O_TRUNC : O_APPEND), 0644);
    ::posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  }
  pid_t pid = -1;
  const int error = ::posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  if (error != 0)
    throw std::runtime_error("cannot start " + arguments.front() + ": " + std::strerror(error));
  return pid;
}

/// Runs a shell command, failing the test on a non-zero exit; returns its standard output.
inline std::string shell(const std::string& command) {
  std::string output;
  FILE* pipe = ::popen(command.c_str(), "r");
  if (!pipe) throw std::runtime_error("popen failed");
  char buffer[4096];
  while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe))
    output.append(buffer, n);
  const int status = ::pclose(pipe);
  if (status != 0) throw std::runtime_error("command failed: " + command + "\n" + output);
  return output;
}

inline std::string source_dir() {
  const char* dir = std::getenv("YIZHAN_TEST_SOURCE_DIR");
  if (!dir) throw std::runtime_error("YIZHAN_TEST_SOURCE_DIR is not set: run ./deploy/test");
  return dir;
}

/// A fresh temporary folder, removed at scope exit.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "yizhan-e2e.XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  [[nodiscard]] const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

/// A parsed HTTP response. Header names are lower-case.
struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;
  std::string body;
  [[nodiscard]] std::string header(const std::string& name) const {
    const auto found = headers.find(name);
    return found == headers.end() ? "" : found->second;
  }
};

/// One TCP connection to the server, for keep-alive, raw bytes and slow clients.
class Connection {
 public:
  explicit Connection(int port, std::chrono::milliseconds timeout = 5000ms) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(port));
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    timeval tv{static_cast<time_t>(timeout.count() / 1000),
               static_cast<suseconds_t>((timeout.count() % 1000) * 1000)};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  ~Connection() { ::close(fd_); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }

  /// Sends bytes; false when the peer has closed.
  bool send(std::string_view bytes) {
    while (!bytes.empty()) {
      const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
  }

  /// True when the server closed the connection (reads EOF or reset) within the timeout.
  bool closed_by_server() {
    char byte;
    const auto n = ::recv(fd_, &byte, 1, 0);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
  }

  /// Reads whatever arrives until the server closes or `timeout` passes; returns the byte count.
  std::size_t drain(std::chrono::milliseconds timeout) {
    std::size_t total = buffer_.size();
    buffer_.clear();
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    char chunk[65536];
    while (std::chrono::steady_clock::now() < deadline) {
      const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      total += static_cast<std::size_t>(n);
    }
    return total;
  }

  /// Reads one response; nothing if the connection closed or timed out first.
  std::optional<HttpResponse> read_response(bool head = false) {
    while (buffer_.find("\r\n\r\n") == std::string::npos) {
      if (!fill()) return std::nullopt;
    }
    const auto header_end = buffer_.find("\r\n\r\n");
    std::istringstream head_lines(buffer_.substr(0, header_end));
    buffer_.erase(0, header_end + 4);
    HttpResponse response;
    std::string line;
    std::getline(head_lines, line);
    if (line.size() < 12) return std::nullopt;
    response.status = std::stoi(line.substr(9, 3));
    while (std::getline(head_lines, line)) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      for (auto& c : name)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      response.headers[name] = line.substr(line.find_first_not_of(' ', colon + 1));
    }
    std::size_t length = 0;
    if (!head && response.status != 304 && response.status != 204 &&
        response.headers.count("content-length")) {
      length = std::stoul(response.headers["content-length"]);
    }
    while (buffer_.size() < length) {
      if (!fill()) return std::nullopt;
    }
    response.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return response;
  }

 private:
  bool fill() {
    char chunk[65536];
    const auto n = ::recv(fd_, chunk, sizeof chunk, 0);
    if (n <= 0) return false;
    buffer_.append(chunk, static_cast<std::size_t>(n));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

/// One request on a new connection.
inline HttpResponse fetch(int port, const std::string& method, const std::string& target,
                          const std::vector<std::string>& headers = {},
                          const std::string& body = {}) {
  Connection connection(port, 10000ms);
  std::string request = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n";
  for (const auto& header : headers)
    request += header + "\r\n";
  if (!body.empty() || method == "POST") {
    request += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "Connection: close\r\n\r\n" + body;
  connection.send(request);
  auto response = connection.read_response(method == "HEAD");
  if (!response) throw std::runtime_error("no response to " + method + " " + target);
  return *response;
}

/// Gunzips a body.
inline std::string gunzip(const std::string& compressed) {
  std::string out;
  z_stream stream{};
  inflateInit2(&stream, 15 + 16);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  stream.avail_in = static_cast<uInt>(compressed.size());
  char chunk[16384];
  int result = Z_OK;
  while (result == Z_OK) {
    stream.next_out = reinterpret_cast<Bytef*>(chunk);
    stream.avail_out = sizeof chunk;
    result = inflate(&stream, Z_NO_FLUSH);
    out.append(chunk, sizeof chunk - stream.avail_out);
  }
  inflateEnd(&stream);
  return out;
}

#ifdef YIZHAN_BINARY  // the rest runs the real binary; in-process tests use only the above

/// Creates a schema on a MariaDB reachable through `socket` as root.
inline void create_schema(const std::string& socket, const std::string& schema) {
  shell("mariadb --no-defaults -uroot --socket='" + socket + "' -e 'DROP DATABASE IF EXISTS " +
        schema + "; CREATE DATABASE " + schema + " CHARACTER SET utf8mb4'");
}

/// The real `yizhan serve`, started with a generated config and stopped at scope exit.
class ServerProcess {
 public:
  /// `extra_toml` is appended to the [http] section.
  ServerProcess(const fs::path& work_dir, const fs::path& web_root, const std::string& db_socket,
                const std::string& schema, const std::string& extra_http_toml = {},
                const std::string& extra_database_toml = {})
      : port_(free_port()), log_(work_dir / "yizhan.log"), config_(work_dir / "yizhan.toml") {
    std::ofstream(config_) << "[http]\naddress = \"127.0.0.1\"\nport = " << port_
                           << "\nweb_root = \"" << web_root.string() << "\"\n"
                           << extra_http_toml << "\n[database]\nsocket = \"" << db_socket
                           << "\"\nuser = \"root\"\nschema = \"" << schema << "\"\n"
                           << extra_database_toml << "\n";
    shell(std::string(YIZHAN_BINARY) + " migrate --config '" + config_.string() + "' 2>&1");
    pid_ = spawn({YIZHAN_BINARY, "serve", "--config", config_.string()}, log_, true);
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      if (Connection(port_, 1000ms).connected()) return;
      std::this_thread::sleep_for(50ms);
    }
    throw std::runtime_error("yizhan did not start; log:\n" + log());
  }

  ~ServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  [[nodiscard]] int port() const { return port_; }

  /// Runs `yizhan ARGS` with this server's config; returns its output (throws on failure).
  [[nodiscard]] std::string command(const std::string& arguments) const {
    return shell(std::string(YIZHAN_BINARY) + " " + arguments + " --config '" + config_.string() +
                 "' 2>&1");
  }

  /// Sends a signal without waiting.
  void signal(int number) const { ::kill(pid_, number); }

  /// Waits for the process to end; returns its exit code (or 128 + signal).
  int wait_for_exit(std::chrono::seconds limit = 20s) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(20ms);
    }
    return -1;
  }

  [[nodiscard]] std::string log() const {
    std::ifstream file(log_);
    return std::string(std::istreambuf_iterator<char>(file), {});
  }

 private:
  int port_;
  pid_t pid_ = -1;
  fs::path log_;
  fs::path config_;
};

/// A yizhan on a schema of its own on the test MariaDB, with a one-page web root, in a
/// temporary folder. `extra_http_toml` goes into the [http] section.
class TestServer {
 public:
  TestServer(const std::string& schema, const std::string& extra_http_toml = {}) {
    const char* socket = std::getenv("YIZHAN_TEST_DB_SOCKET");
    if (!socket) throw std::runtime_error("YIZHAN_TEST_DB_SOCKET is not set: run ./deploy/test");
    fs::create_directories(dir_.path() / "web");
    std::ofstream(dir_.path() / "web" / "index.html") << "<h1>驿站</h1>";
    create_schema(socket, schema);
    server_.emplace(dir_.path(), dir_.path() / "web", socket, schema, extra_http_toml);
  }
  [[nodiscard]] const fs::path& dir() const { return dir_.path(); }
  ServerProcess& process() { return *server_; }
  [[nodiscard]] int port() const { return server_->port(); }

 private:
  TempDir dir_;
  std::optional<ServerProcess> server_;
};

#endif  // YIZHAN_BINARY

}  // namespace yizhan::e2e
