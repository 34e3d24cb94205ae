#!/usr/bin/env bash
# Static files, yizhan against nginx on the same machine and the same files: the home page and a
# 12 KB stylesheet, each loaded by wrk with 64 keep-alive connections. Two nginx configurations:
#   nginx-logged   an access log line per request, as yizhan's "all" would;
#   nginx-fastest  no access log, open_file_cache, sendfile, tcp_nopush, high keepalive_requests.
# yizhan runs as shipped (access_log = "errors": no line per successful hit). The three servers
# are measured in turn, round after round (interleaved), so a noisy neighbour hurts all alike.
# The Release build is built first. Ends with one line per comparison: ratio <what> <ours/theirs>.
# Usage: tests/bench/static_vs_nginx.sh [seconds per run, default 10] [rounds, default 3]
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib.sh

DURATION=${1:-10}
ROUNDS=${2:-3}
ensure_packages "${YIZHAN_BUILD_PACKAGES[@]}" wrk nginx-light
BUILD=${YIZHAN_BENCH_BUILD_DIR:-build/release}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DYIZHAN_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target yizhan >/dev/null

WORK=$(mktemp -d "${TMPDIR:-/tmp}/yizhan-bench.XXXXXX")
chmod 755 "$WORK"  # nginx's workers run as another user
YIZHAN_PORT=$(free_port)
LOGGED_PORT=$(free_port)
FASTEST_PORT=$(free_port)
cleanup() {
  [ -n "${YIZHAN_PID:-}" ] && kill -TERM "$YIZHAN_PID" 2>/dev/null && wait "$YIZHAN_PID" 2>/dev/null
  for name in logged fastest; do
    [ -f "$WORK/nginx-$name.pid" ] && kill -QUIT "$(cat "$WORK/nginx-$name.pid")" 2>/dev/null
  done
  sleep 0.5
  rm -rf "$WORK"
}
trap cleanup EXIT

# The shipped pages plus a 12 KB asset (the site's stylesheet repeated), in a web root of our own.
cp -r web "$WORK/web"
ASSET=/assets/css/bench-12k.css
while [ "$(stat -c %s "$WORK/web$ASSET" 2>/dev/null || echo 0)" -lt 12288 ]; do
  cat web/assets/css/site.css >>"$WORK/web$ASSET"
done
truncate -s 12288 "$WORK/web$ASSET"

cat >"$WORK/yizhan.toml" <<TOML
[http]
address = "127.0.0.1"
port = $YIZHAN_PORT
web_root = "$WORK/web"
[database]
socket = "$WORK/no-database.sock"
TOML
"$BUILD/yizhan" serve --config "$WORK/yizhan.toml" >"$WORK/yizhan.log" 2>&1 &
YIZHAN_PID=$!

# nginx_conf NAME PORT EXTRA-DIRECTIVES
nginx_conf() {
  cat >"$WORK/nginx-$1.conf" <<NGINX
worker_processes $(nproc);
pid $WORK/nginx-$1.pid;
error_log $WORK/nginx-$1-error.log warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  $3
  client_body_temp_path $WORK/body-$1; proxy_temp_path $WORK/proxy-$1;
  fastcgi_temp_path $WORK/fcgi-$1; uwsgi_temp_path $WORK/uwsgi-$1; scgi_temp_path $WORK/scgi-$1;
  server {
    listen 127.0.0.1:$2;
    root $WORK/web;
    index index.html;
  }
}
NGINX
  nginx -c "$WORK/nginx-$1.conf"
}
nginx_conf logged "$LOGGED_PORT" "access_log $WORK/nginx-logged-access.log; sendfile on; keepalive_requests 1000000;"
nginx_conf fastest "$FASTEST_PORT" "access_log off; open_file_cache max=1000 inactive=60s; open_file_cache_valid 60s; sendfile on; tcp_nopush on; tcp_nodelay on; keepalive_requests 1000000;"

declare -A PORTS=([yizhan]=$YIZHAN_PORT [nginx-logged]=$LOGGED_PORT [nginx-fastest]=$FASTEST_PORT)
SERVERS=(yizhan nginx-logged nginx-fastest)
for server in "${SERVERS[@]}"; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:${PORTS[$server]}/" && break; sleep 0.1; done
done
for path in / "$ASSET"; do
  sizes=$(for server in "${SERVERS[@]}"; do curl -s "http://127.0.0.1:${PORTS[$server]}$path" | wc -c; done | sort -u)
  [ "$(wc -l <<<"$sizes")" = 1 ] || die "the servers return different bodies for $path: $sizes"
done

to_ms() {
  local v=$1
  case "$v" in
    *us) awk -v x="${v%us}" 'BEGIN {printf "%.3f", x / 1000}' ;;
    *ms) awk -v x="${v%ms}" 'BEGIN {printf "%.3f", x}' ;;
    *s) awk -v x="${v%s}" 'BEGIN {printf "%.3f", x * 1000}' ;;
  esac
}

# run SERVER PATH → "requests_per_second p99_ms"
run() {
  local out rps p99
  out=$(wrk -t2 -c64 -d"${DURATION}s" --latency "http://127.0.0.1:${PORTS[$1]}$2")
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  echo "$rps $(to_ms "$p99")"
}

declare -A RPS P99
echo "wrk -t2 -c64 -d${DURATION}s, keep-alive, identity bodies; $(nproc) cores; $ROUNDS rounds, interleaved"
for path in / "$ASSET"; do
  for server in "${SERVERS[@]}"; do wrk -t2 -c64 -d1s "http://127.0.0.1:${PORTS[$server]}$path" >/dev/null; done
  for round in $(seq 1 "$ROUNDS"); do
    for server in "${SERVERS[@]}"; do
      read -r rps p99 < <(run "$server" "$path")
      printf '  %-26s round %d %-14s %10s req/s  p99 %8s ms\n' "$path" "$round" "$server" "$rps" "$p99"
      RPS[$path,$server]="${RPS[$path,$server]:-} $rps"
      P99[$path,$server]="${P99[$path,$server]:-} $p99"
    done
  done
done

# The mean over the rounds.
mean() { tr ' ' '\n' <<<"$1" | awk 'NF {s += $1; n++} END {printf "%.0f", s / n}'; }
echo
printf '%-26s %-14s %12s %12s\n' path server "req/s" "p99 ms"
for path in / "$ASSET"; do
  for server in "${SERVERS[@]}"; do
    printf '%-26s %-14s %12s %12s\n' "$path" "$server" "$(mean "${RPS[$path,$server]}")" \
      "$(tr ' ' '\n' <<<"${P99[$path,$server]}" | awk 'NF {s += $1; n++} END {printf "%.3f", s / n}')"
  done
done
echo
for path in / "$ASSET"; do
  what=$([ "$path" = / ] && echo home || echo asset-12k)
  y=$(mean "${RPS[$path,yizhan]}")
  for reference in nginx-logged nginx-fastest; do
    awk -v w="$what-vs-$reference" -v y="$y" -v n="$(mean "${RPS[$path,$reference]}")" \
      'BEGIN {printf "ratio %s %.2f\n", w, y / n}'
  done
done
