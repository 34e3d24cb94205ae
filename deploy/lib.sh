# Shared by deploy/run and deploy/test: Debian packages and a private MariaDB for this checkout.
# Source it; it defines functions only.

# Packages the build, the server and the tests need, all from Debian 12.
YIZHAN_BUILD_PACKAGES=(
  build-essential cmake pkg-config git
  libboost-dev libmysqlcppconn-dev nlohmann-json3-dev libspdlog-dev libtomlplusplus-dev
  libcli11-dev libssl-dev zlib1g-dev libargon2-dev libqrencode-dev
  mariadb-server mariadb-client openssl curl python3
)
YIZHAN_TEST_PACKAGES=(libgtest-dev chromium fonts-noto-cjk python3)

# ensure_node: Node.js and npm for the page tests (any recent node on PATH will do).
ensure_node() {
  if command -v node >/dev/null && command -v npm >/dev/null; then return 0; fi
  ensure_packages nodejs npm
}

# vendor_web_libraries: the pages' npm libraries (web/package.json, pinned by its lock) installed
# under build/web-vendor and their browser builds copied to web/assets/vendor/ (not in git); does
# nothing when the copy matches the lock.
vendor_web_libraries() {
  local vendor=web/assets/vendor work=build/web-vendor stamp
  stamp=$(sha256sum web/package-lock.json | cut -d' ' -f1)
  [ "$(cat "$vendor/.lock-sha256" 2>/dev/null)" = "$stamp" ] && return 0
  ensure_node
  say "installing the pages' libraries (web/package-lock.json)"
  mkdir -p "$work" && cp web/package.json web/package-lock.json "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error >&2) || die "npm ci for web/ failed"
  rm -rf "$vendor" && mkdir -p "$vendor/idb" "$vendor/pinyin-pro" "$vendor/echarts"
  cp "$work/node_modules/idb/build/index.js" "$work/node_modules/idb/LICENSE" "$vendor/idb/"
  cp "$work/node_modules/pinyin-pro/dist/index.js" "$work/node_modules/pinyin-pro/LICENSE" \
    "$vendor/pinyin-pro/"
  # The village portal's charts: the prebuilt bundle (sets window.echarts), with its licence.
  cp "$work/node_modules/echarts/dist/echarts.min.js" "$work/node_modules/echarts/LICENSE" \
    "$vendor/echarts/"
  echo "$stamp" >"$vendor/.lock-sha256"
}

say() { printf '\033[1m[yizhan]\033[0m %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# ensure_packages PKG…: installs the missing ones with apt-get; does nothing when all are there.
ensure_packages() {
  local missing=()
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' ||
      missing+=("$package")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  say "installing from Debian: ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  # A package's postinst must not start system services (mariadb-server would): we run our own.
  local policy=/usr/sbin/policy-rc.d created_policy=""
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod +x "$policy"
    created_policy=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >&2
  local status=$?
  [ -n "$created_policy" ] && as_root rm -f "$policy"
  [ $status -eq 0 ] || die "apt-get install failed"
}

# Where Debian puts the server binaries.
mariadb_bin() {
  for dir in /usr/sbin /usr/bin; do
    [ -x "$dir/$1" ] && { echo "$dir/$1"; return; }
  done
  command -v "$1" || die "$1 not found (is mariadb-server installed?)"
}

# free_port: a TCP port on 127.0.0.1 nobody listens on now.
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

# mariadb_start DIR PORT: initialises DIR on first use, starts mariadbd on DIR/mysql.sock and
# 127.0.0.1:PORT, and waits until it answers. Sets MARIADB_PID and MARIADB_SOCKET.
mariadb_start() {
  local dir=$1 port=$2
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  MARIADB_SOCKET=$dir/mysql.sock
  local user_flag=()
  [ "$(id -u)" -eq 0 ] && user_flag=(--user=root)
  if [ ! -d "$dir/data/mysql" ]; then
    say "initialising a private MariaDB in $dir/data"
    "$(mariadb_bin mariadb-install-db)" --no-defaults --datadir="$dir/data" \
      --auth-root-authentication-method=normal --skip-test-db "${user_flag[@]}" \
      >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; die "mariadb-install-db failed"; }
  fi
  if [ -S "$MARIADB_SOCKET" ] && mariadb_client -e 'SELECT 1' >/dev/null 2>&1; then
    die "a MariaDB already runs on $MARIADB_SOCKET (another ./deploy/run?)"
  fi
  rm -f "$MARIADB_SOCKET"
  "$(mariadb_bin mariadbd)" --no-defaults --datadir="$dir/data" --socket="$MARIADB_SOCKET" \
    --port="$port" --bind-address=127.0.0.1 --pid-file="$dir/mariadbd.pid" \
    --log-error="$dir/mariadbd.err" --character-set-server=utf8mb4 \
    --collation-server=utf8mb4_unicode_ci --innodb-buffer-pool-size=256M \
    --innodb-flush-log-at-trx-commit=1 --max-connections=500 "${user_flag[@]}" &
  MARIADB_PID=$!
  for _ in $(seq 1 150); do
    if mariadb_client -e 'SELECT 1' >/dev/null 2>&1; then return 0; fi
    kill -0 "$MARIADB_PID" 2>/dev/null || { tail -20 "$dir/mariadbd.err" >&2; die "mariadbd exited"; }
    sleep 0.1
  done
  tail -20 "$dir/mariadbd.err" >&2
  die "MariaDB did not become ready"
}

# mariadb_client ARGS…: the mariadb client as root over the private socket.
mariadb_client() {
  mariadb --no-defaults --socket="$MARIADB_SOCKET" -uroot "$@"
}

# mariadb_stop: stops the private server started by mariadb_start and waits for it.
mariadb_stop() {
  [ -n "${MARIADB_PID:-}" ] || return 0
  kill -TERM "$MARIADB_PID" 2>/dev/null
  wait "$MARIADB_PID" 2>/dev/null
  MARIADB_PID=""
}

# mariadb_create_app SCHEMA USER PASSWORD MIGRATE_USER MIGRATE_PASSWORD: the schema, a serving
# user that may only read and write rows (no DDL: a hijacked server cannot drop or alter tables)
# and a migrate user with every right on the schema, for `yizhan migrate` alone.
mariadb_create_app() {
  local schema=$1 user=$2 password=$3 migrate_user=$4 migrate_password=$5
  mariadb_client <<SQL
CREATE DATABASE IF NOT EXISTS \`$schema\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$user'@'localhost' IDENTIFIED BY '$password';
CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$password';
ALTER USER '$user'@'localhost' IDENTIFIED BY '$password';
ALTER USER '$user'@'127.0.0.1' IDENTIFIED BY '$password';
REVOKE ALL PRIVILEGES, GRANT OPTION FROM '$user'@'localhost';
REVOKE ALL PRIVILEGES, GRANT OPTION FROM '$user'@'127.0.0.1';
GRANT SELECT, INSERT, UPDATE, DELETE ON \`$schema\`.* TO '$user'@'localhost';
GRANT SELECT, INSERT, UPDATE, DELETE ON \`$schema\`.* TO '$user'@'127.0.0.1';
CREATE USER IF NOT EXISTS '$migrate_user'@'localhost' IDENTIFIED BY '$migrate_password';
CREATE USER IF NOT EXISTS '$migrate_user'@'127.0.0.1' IDENTIFIED BY '$migrate_password';
ALTER USER '$migrate_user'@'localhost' IDENTIFIED BY '$migrate_password';
ALTER USER '$migrate_user'@'127.0.0.1' IDENTIFIED BY '$migrate_password';
GRANT ALL PRIVILEGES ON \`$schema\`.* TO '$migrate_user'@'localhost';
GRANT ALL PRIVILEGES ON \`$schema\`.* TO '$migrate_user'@'127.0.0.1';
SQL
}

# new_secret: 24 random URL-safe characters.
new_secret() {
  openssl rand -base64 32 | tr -dc 'A-Za-z0-9' | head -c 24
}
