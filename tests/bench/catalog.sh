#!/usr/bin/env bash
# Loads the catalog API with wrk (64 keep-alive connections): the public product list and a
# Chinese search, against the release yizhan on a private MariaDB with the demo catalog, plus
# the static home page for comparison. Prints requests/s and p99 of each.
# Usage: tests/bench/catalog.sh [seconds per run, default 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib.sh

DURATION=${1:-10}
ensure_packages "${YIZHAN_BUILD_PACKAGES[@]}" wrk
cmake -S . -B build/release -DCMAKE_BUILD_TYPE=Release -DYIZHAN_TESTS=OFF >/dev/null
cmake --build build/release -j"$(nproc)" --target yizhan >/dev/null

WORK=$(mktemp -d "${TMPDIR:-/tmp}/yizhan-bench.XXXXXX")
PORT=$(free_port)
cleanup() {
  [ -n "${SERVER_PID:-}" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  deploy/mariadb-private stop "$WORK/db" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
SOCKET=$(deploy/mariadb-private start "$WORK/db" "$(free_port)" 2>/dev/null)
mariadb --no-defaults -uroot --socket="$SOCKET" -e "CREATE DATABASE yizhan CHARACTER SET utf8mb4"
cat >"$WORK/yizhan.toml" <<TOML
[http]
address = "127.0.0.1"
port = $PORT
web_root = "$PWD/web"
media_root = "$WORK/media"
[database]
socket = "$SOCKET"
user = "root"
schema = "yizhan"
TOML
build/release/yizhan migrate --config "$WORK/yizhan.toml" >/dev/null
build/release/yizhan seed-demo --config "$WORK/yizhan.toml" --password-file "$WORK/pw" >/dev/null
build/release/yizhan serve --config "$WORK/yizhan.toml" >"$WORK/yizhan.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.1; done

to_ms() {
  local v=$1
  case "$v" in
    *us) awk -v x="${v%us}" 'BEGIN {printf "%.3f", x / 1000}' ;;
    *ms) awk -v x="${v%ms}" 'BEGIN {printf "%.3f", x}' ;;
    *s) awk -v x="${v%s}" 'BEGIN {printf "%.3f", x * 1000}' ;;
  esac
}
run() {
  local name=$1 url=$2 out
  wrk -t2 -c64 -d2s "$url" >/dev/null
  out=$(wrk -t2 -c64 -d"${DURATION}s" --latency "$url")
  printf '%-34s %12s req/s   p99 %8s ms   non-2xx: %s\n' "$name" \
    "$(awk '/Requests\/sec/ {print $2}' <<<"$out")" "$(to_ms "$(awk '$1 == "99%" {print $2}' <<<"$out")")" \
    "$(awk '/Non-2xx/ {print $4}' <<<"$out" | grep . || echo 0)"
}
echo "wrk -t2 -c64 -d${DURATION}s, keep-alive; $(nproc) cores; 41 demo products"
run "GET / (static)" "http://127.0.0.1:$PORT/"
run "GET /api/v1/products?page_size=20" "http://127.0.0.1:$PORT/api/v1/products?page_size=20"
run "GET /api/v1/products?q=花生" "http://127.0.0.1:$PORT/api/v1/products?q=%E8%8A%B1%E7%94%9F&page_size=20"
