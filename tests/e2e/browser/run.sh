#!/usr/bin/env bash
# Runs the page tests: the real yizhan (with demo data, on the test MariaDB), the payment
# simulator beside it (yizhan-paysim from the same build directory, fresh keys, its merchant
# sections in the server's config) and Playwright driving Debian's headless Chromium.
# Usage: run.sh YIZHAN_BINARY ARTIFACTS_DIR [TEST_FILE…] (default: every *.test.mjs here)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source_dir=$(cd "$here/../../.." && pwd)
binary=$1
artifacts=$2
paysim=$(dirname "$binary")/yizhan-paysim
[ -x "$paysim" ] || { echo "run.sh: no $paysim: build the yizhan-paysim target" >&2; exit 1; }
tests=("${@:3}")
[ ${#tests[@]} -gt 0 ] || tests=("$here"/*.test.mjs)
: "${YIZHAN_TEST_DB_SOCKET:?run ./deploy/test}"
mkdir -p "$artifacts"

[ -d "$here/node_modules/playwright-core" ] || (cd "$here" && npm ci --no-audit --no-fund >&2)

work=$(mktemp -d "${TMPDIR:-/tmp}/yizhan-browser.XXXXXX")
# A free port below the kernel's ephemeral range: the offline-till test stops and restarts the
# server on its port, and an ephemeral port could meanwhile be some client's own end.
free_port() {
  python3 -c '
import random, socket
low = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
while True:
    port = random.randrange(10000, low)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break'
}
port=$(free_port)
paysim_port=$(free_port)
schema=yz_browser_$$
cleanup() {
  [ -n "${server_pid:-}" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  [ -n "${paysim_pid:-}" ] && kill -TERM "$paysim_pid" 2>/dev/null && wait "$paysim_pid" 2>/dev/null
  mariadb --no-defaults -uroot --socket="$YIZHAN_TEST_DB_SOCKET" -e "DROP DATABASE IF EXISTS $schema" || true
  rm -rf "$work"
}
trap cleanup EXIT

mariadb --no-defaults -uroot --socket="$YIZHAN_TEST_DB_SOCKET" \
  -e "CREATE DATABASE $schema CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
cat >"$work/yizhan.toml" <<TOML
[http]
address = "127.0.0.1"
port = $port
web_root = "$source_dir/web"
media_root = "$work/media"
[database]
socket = "$YIZHAN_TEST_DB_SOCKET"
user = "root"
schema = "$schema"
[orders]
# The shortest the server allows, so the expiry test sees an unpaid order go within ~80 s (the
# sweep runs every 20 s).
unpaid_minutes = 1
TOML
# The simulator's keys, and the merchant's sections pointing its callbacks at this server.
"$paysim" keygen "$work/paysim" --port "$paysim_port" >/dev/null
sed "s#http://127.0.0.1:8080/#http://127.0.0.1:$port/#" "$work/paysim/yizhan-payments.toml" >>"$work/yizhan.toml"
"$paysim" serve --keys "$work/paysim" --port "$paysim_port" >"$artifacts/yizhan-paysim.log" 2>&1 &
paysim_pid=$!
"$binary" migrate --config "$work/yizhan.toml" >/dev/null
"$binary" seed-demo --config "$work/yizhan.toml" --password-file "$work/demo-password" >/dev/null
"$binary" serve --config "$work/yizhan.toml" >"$artifacts/yizhan-browser.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break
  sleep 0.1
done
for _ in $(seq 1 50); do
  curl -sf -o /dev/null "http://127.0.0.1:$paysim_port/healthz" && break
  sleep 0.1
done

cd "$here"
BASE_URL="http://127.0.0.1:$port" PAYSIM_URL="http://127.0.0.1:$paysim_port" DEMO_PASSWORD=$(cat "$work/demo-password") ARTIFACTS="$artifacts" \
  node --test --test-concurrency=1 "${tests[@]}"
