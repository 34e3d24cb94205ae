#!/usr/bin/env bash
# Serves web/index.html from yizhan and from nginx (same file, same machine, one run) and loads
# each with wrk: 64 keep-alive connections. Prints requests/s, p99 and the ratio yizhan/nginx.
# Both servers log every request to a file, as they would in production.
# Usage: tests/bench/static_vs_nginx.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib.sh

DURATION=${1:-10}
ensure_packages "${YIZHAN_BUILD_PACKAGES[@]}" wrk nginx-light
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DYIZHAN_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target yizhan >/dev/null

WORK=$(mktemp -d "${TMPDIR:-/tmp}/yizhan-bench.XXXXXX")
YIZHAN_PORT=$(free_port)
NGINX_PORT=$(free_port)
cleanup() {
  [ -n "${YIZHAN_PID:-}" ] && kill -TERM "$YIZHAN_PID" 2>/dev/null && wait "$YIZHAN_PID" 2>/dev/null
  [ -f "$WORK/nginx.pid" ] && kill -QUIT "$(cat "$WORK/nginx.pid")" 2>/dev/null
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/yizhan.toml" <<TOML
[http]
address = "127.0.0.1"
port = $YIZHAN_PORT
web_root = "$PWD/web"
[database]
socket = "$WORK/no-database.sock"
TOML
build/release/yizhan serve --config "$WORK/yizhan.toml" >"$WORK/yizhan.log" 2>&1 &
YIZHAN_PID=$!

cat >"$WORK/nginx.conf" <<NGINX
worker_processes $(nproc);
pid $WORK/nginx.pid;
error_log $WORK/nginx-error.log warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  access_log $WORK/nginx-access.log;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  client_body_temp_path $WORK/body; proxy_temp_path $WORK/proxy; fastcgi_temp_path $WORK/fcgi;
  uwsgi_temp_path $WORK/uwsgi; scgi_temp_path $WORK/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $PWD/web;
    index index.html;
  }
}
NGINX
nginx -c "$WORK/nginx.conf"

for port in "$YIZHAN_PORT" "$NGINX_PORT"; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
done
size_yizhan=$(curl -s "http://127.0.0.1:$YIZHAN_PORT/" | wc -c)
size_nginx=$(curl -s "http://127.0.0.1:$NGINX_PORT/" | wc -c)
[ "$size_yizhan" = "$size_nginx" ] || die "the two servers return different bodies ($size_yizhan vs $size_nginx bytes)"

# run NAME PORT → prints "requests_per_second p99_ms"
run() {
  wrk -t2 -c64 -d2s "http://127.0.0.1:$2/" >/dev/null  # warm-up
  local out
  out=$(wrk -t2 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:$2/")
  echo "$out" >"$WORK/wrk-$1.txt"
  local rps p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "$rps $(to_ms "$p99")"
}
to_ms() {
  local v=$1
  case "$v" in
    *us) awk -v x="${v%us}" 'BEGIN {printf "%.3f", x / 1000}' ;;
    *ms) awk -v x="${v%ms}" 'BEGIN {printf "%.3f", x}' ;;
    *s) awk -v x="${v%s}" 'BEGIN {printf "%.3f", x * 1000}' ;;
  esac
}

echo "home page: $size_yizhan bytes; wrk -t2 -c64 -d${DURATION}s, keep-alive; $(nproc) cores"
read -r y_rps y_p99 < <(run yizhan "$YIZHAN_PORT")
read -r n_rps n_p99 < <(run nginx "$NGINX_PORT")
printf '%-8s %12s req/s   p99 %8s ms\n' yizhan "$y_rps" "$y_p99" nginx "$n_rps" "$n_p99"
awk -v y="$y_rps" -v n="$n_rps" 'BEGIN {printf "ratio yizhan/nginx: %.2f\n", y / n}'
