#!/usr/bin/env bash
# Resident memory of the release yizhan with the demo data: at start, after 40 sign-ins (8 at a
# time) and catalog load, and after a 64-connection flood of wrong sign-ins; plus the public
# catalog's median latency quiet and during that flood. The issue's bound: under 64 MB.
# Usage: tests/bench/memory.sh [flood seconds, default 10]
set -euo pipefail
cd "$(dirname "$0")/../.."
source deploy/lib.sh

DURATION=${1:-10}
ensure_packages "${YIZHAN_BUILD_PACKAGES[@]}" wrk curl
BUILD=${YIZHAN_RELEASE_DIR:-build/release}
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DYIZHAN_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j"$(nproc)" --target yizhan >/dev/null

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
"$BUILD/yizhan" migrate --config "$WORK/yizhan.toml" >/dev/null
"$BUILD/yizhan" seed-demo --config "$WORK/yizhan.toml" --password-file "$WORK/pw" >/dev/null
PASSWORD=$(cat "$WORK/pw")
"$BUILD/yizhan" serve --config "$WORK/yizhan.toml" >"$WORK/yizhan.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.1; done

rss() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER_PID/status"; }
login() {
  curl -s -o /dev/null -w '%{http_code}\n' -H 'Content-Type: application/json' \
    -H 'X-Requested-With: yizhan' -d "{\"username\":\"$1\",\"password\":\"$2\"}" \
    "http://127.0.0.1:$PORT/api/v1/auth/login"
}
catalog_median_ms() {
  for _ in $(seq 1 40); do
    curl -s -o /dev/null -w '%{time_total}\n' "http://127.0.0.1:$PORT/api/v1/products?page_size=20"
  done | sort -n | awk '{a[NR] = $1} END {printf "%.1f", a[int(NR / 2) + 1] * 1000}'
}

echo "release yizhan, demo data, $(nproc) cores"
echo "RSS at start:                        $(rss) MiB"
for round in 1 2 3 4 5; do
  pids=()
  for user in admin cashier1 yaoqian renshou xingcuo dongli anping batou; do
    login "$user" "$PASSWORD" >/dev/null &
    pids+=($!)
  done
  wait "${pids[@]}"
done
wrk -t2 -c64 -d5s "http://127.0.0.1:$PORT/api/v1/products?page_size=20" >/dev/null
echo "RSS after 40 sign-ins + catalog load: $(rss) MiB"
QUIET=$(catalog_median_ms)
cat >"$WORK/flood.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-Requested-With"] = "yizhan"
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "/api/v1/auth/login", nil,
                    '{"username":"guess' .. counter .. '","password":"wrong password"}')
end
LUA
wrk -t2 -c64 -d"${DURATION}s" -s "$WORK/flood.lua" "http://127.0.0.1:$PORT" >"$WORK/flood.txt" &
FLOOD=$!
sleep 2
ATTACKED=$(catalog_median_ms)
wait "$FLOOD"
echo "catalog median: ${QUIET} ms quiet, ${ATTACKED} ms during a 64-connection wrong sign-in flood"
echo "flood: $(awk '/Requests\/sec/ {print $2}' "$WORK/flood.txt") req/s, refused (non-2xx) $(awk '/Non-2xx/ {print $5}' "$WORK/flood.txt")"
echo "RSS after the flood:                 $(rss) MiB"
