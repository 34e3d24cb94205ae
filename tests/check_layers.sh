#!/usr/bin/env bash
# Fails when a file includes a layer it must not (STYLE.md "The shape"): the link graph alone does
# not stop it, since every library shares include/ and third-party headers are on every path.
# Prints each offence as file:line. Usage: check_layers.sh [SOURCE_DIR] | --self-test
set -uo pipefail

# Which layer a file belongs to, by its path relative to the source root.
layer_of() {
  case "$1" in
    src/domain/* | include/yizhan/domain/*) echo domain ;;
    src/store/* | include/yizhan/store/*) echo store ;;
    src/service/* | include/yizhan/service/*) echo service ;;
    src/api/* | include/yizhan/api/*) echo api ;;
    src/http/* | include/yizhan/http/*) echo http ;;
    src/payments/* | include/yizhan/payments/*) echo payments ;;
    src/config.cpp | include/yizhan/config.hpp) echo config ;;
    src/main.cpp) echo main ;;
    *) echo other ;;
  esac
}

# Project layers a layer may include ("yizhan/<layer>/…" or "yizhan/config.hpp").
allowed_layers() {
  case "$1" in
    domain) echo "domain" ;;
    config) echo "domain config" ;;
    store) echo "domain store config" ;;
    payments) echo "domain payments config" ;;
    service) echo "domain store payments service config" ;;
    api) echo "domain service api config" ;;
    http) echo "domain api http config" ;;
    main) echo "domain store payments service api http config" ;;
  esac
}

# Third-party and system headers (<…> that are not the standard library) a layer may include,
# as shell patterns. Only store/ speaks to MariaDB, only http/ (and main) to Beast, JSON stays in
# api/ (config reads TOML).
allowed_system() {
  case "$1" in
    domain) echo "" ;;
    config) echo "toml++/*" ;;
    store) echo "cppconn/* mysql_driver.h mysql_connection.h mysql_error.h openssl/* spdlog/* unistd.h" ;;
    payments) echo "openssl/* nlohmann/* boost/* spdlog/* unistd.h" ;;
    service) echo "openssl/* argon2.h qrencode.h sys/mman.h unistd.h spdlog/* iconv.h netdb.h poll.h sys/socket.h fcntl.h" ;;
    api) echo "nlohmann/* spdlog/*" ;;
    http) echo "boost/* openssl/* zlib.h spdlog/* sys/* unistd.h fcntl.h netinet/* arpa/*" ;;
    main) echo "CLI/* spdlog/* sys/* unistd.h termios.h signal.h" ;;
  esac
}

is_standard_header() {
  # <string>, <cstdint>, <unordered_map>: no extension, no directory.
  [[ "$1" =~ ^[a-z_0-9]+$ ]]
}

check_tree() {
  local root=$1 failures=0 file relative layer line number text target
  while IFS= read -r file; do
    relative=${file#"$root"/}
    layer=$(layer_of "$relative")
    [[ $layer == other ]] && continue
    while IFS= read -r line; do
      number=${line%%:*}
      text=${line#*:}
      if [[ $text =~ \#[[:space:]]*include[[:space:]]*\<([^>]+)\> ]]; then
        target=${BASH_REMATCH[1]}
        is_standard_header "$target" && continue
        local ok=0 pattern
        for pattern in $(allowed_system "$layer"); do
          # shellcheck disable=SC2053
          [[ $target == $pattern ]] && ok=1
        done
        if ((!ok)); then
          echo "$relative:$number: <$target>: the $layer layer may not include it"
          failures=$((failures + 1))
        fi
      elif [[ $text =~ \#[[:space:]]*include[[:space:]]*\"([^\"]+)\" ]]; then
        target=${BASH_REMATCH[1]}
        if [[ $target == yizhan/config.hpp ]]; then
          target_layer=config
        elif [[ $target =~ ^yizhan/([a-z_]+)/ ]]; then
          target_layer=${BASH_REMATCH[1]}
        elif [[ -f "$(dirname "$file")/$target" ]]; then
          continue  # a private header beside it, in the same layer
        else
          echo "$relative:$number: \"$target\": not a header of this layer's folder"
          failures=$((failures + 1))
          continue
        fi
        if [[ " $(allowed_layers "$layer") " != *" $target_layer "* ]]; then
          echo "$relative:$number: \"$target\": the $layer layer may not include $target_layer"
          failures=$((failures + 1))
        elif [[ $relative == include/yizhan/service/* && $target_layer == store ]]; then
          # The api layer sees services only through these headers: they speak service types.
          echo "$relative:$number: \"$target\": a service header may not expose store records"
          failures=$((failures + 1))
        fi
      fi
    done < <(grep -n '^[[:space:]]*#[[:space:]]*include' "$file")
  done < <(find "$root/src" "$root/include" -type f \( -name '*.cpp' -o -name '*.hpp' -o -name '*.h' \) | sort)
  if ((failures > 0)); then
    echo "$failures include(s) break the layer rules (STYLE.md \"The shape\")"
    return 1
  fi
  return 0
}

self_test() {
  local tree
  tree=$(mktemp -d)
  trap 'rm -rf "$tree"' RETURN
  mkdir -p "$tree"/src/{domain,api,http,service,store} "$tree"/include/yizhan/service
  printf '#include <string>\n#include "yizhan/domain/money.hpp"\n' >"$tree/src/domain/ok.cpp"
  printf '#include <string>\n#include <nlohmann/json.hpp>\n' >"$tree/src/domain/json.cpp"
  printf '#include "json.hpp"\n#include "yizhan/store/products.hpp"\n' >"$tree/src/api/records.cpp"
  printf '// private\n' >"$tree/src/api/json.hpp"
  printf '#include "yizhan/store/products.hpp"\n' >"$tree/include/yizhan/service/leak.hpp"
  printf '#include <boost/beast/http.hpp>\n  #  include <cppconn/resultset.h>\n' \
    >"$tree/src/service/io.cpp"
  printf '#include <cppconn/resultset.h>\n#include "yizhan/api/router.hpp"\n' \
    >"$tree/src/http/sql.cpp"
  printf '#include "translate.hpp"\n' >"$tree/src/store/missing.cpp"
  local output status
  output=$(check_tree "$tree")
  status=$?
  local expected=(
    "src/api/records.cpp:2:"
    "src/domain/json.cpp:2:"
    "include/yizhan/service/leak.hpp:1:"
    "src/service/io.cpp:1:"
    "src/service/io.cpp:2:"
    "src/http/sql.cpp:1:"
    "src/store/missing.cpp:1:"
  )
  local bad=0 want
  ((status != 0)) || { echo "self-test: violations were not detected"; bad=1; }
  for want in "${expected[@]}"; do
    grep -q "^$want" <<<"$output" || { echo "self-test: missed $want"; bad=1; }
  done
  if grep -q "ok.cpp\|src/http/sql.cpp:2:\|src/api/records.cpp:1:" <<<"$output"; then
    echo "self-test: flagged an allowed include"
    bad=1
  fi
  ((bad == 0)) && echo "self-test passed: ${#expected[@]} violations found, allowed includes kept"
  return $bad
}

if [[ ${1:-} == --self-test ]]; then
  self_test
  exit $?
fi
check_tree "$(cd "${1:-$(dirname "$0")/..}" && pwd)"
