#!/usr/bin/env bash
# dev.sh - the two commands of the README, for a fresh Debian 12 machine.
#
#   deploy/dev.sh run    install what is missing, build, create ./data on first
#                        use (prints the admin password and the certificate
#                        fingerprint) with 3,000 demo customers and the demo
#                        accounts that own them (their passwords are printed
#                        too), then run dangand in the foreground
#   deploy/dev.sh run --no-demo
#                        the same, but a new ./data starts empty
#   deploy/dev.sh test   install what is missing, build a sanitizer build and a
#                        plain build, run the whole test suite in both
#
# Environment: DANGAN_DATA (default ./data), DANGAN_JOBS (parallel tests, default 2),
# DANGAN_DEMO_CUSTOMERS (demo customers for a new ./data, default 3000).
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake ninja-build pkg-config
  protobuf-c-compiler libprotobuf-c-dev libuv1-dev libmbedtls-dev libsqlite3-dev
  libargon2-dev libinih-dev libjansson-dev libutf8proc-dev libicu-dev libcmocka-dev sqlite3
  python3 python3-protobuf protobuf-compiler man-db groff-base
  libcsv-dev libzip-dev libexpat1-dev libxlsxwriter-dev python3-openpyxl
  # dangan-gtk and its tests (under Xvfb, driven over AT-SPI, Chinese in the screenshots)
  libgtk-4-dev libadwaita-1-dev gettext xvfb xauth dbus at-spi2-core python3-pyatspi
  gir1.2-atspi-2.0 fonts-noto-cjk imagemagick python3-dogtail
  libglib2.0-dev libepoxy-dev
)

install_deps() {
  local missing=() p sudo=""
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  echo "dev.sh: installing ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
  local dir=$1 gen=(-G Ninja)
  shift
  # A build dir configured before keeps its generator: cmake refuses to switch.
  [ -f "$dir/CMakeCache.txt" ] && gen=()
  cmake -S . -B "$dir" "${gen[@]}" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  cmake --build "$dir" -j "$(nproc)"
}

case "${1:-}" in
run)
  demo=yes
  case "${2:-}" in
  "") ;;
  --no-demo) demo=no ;;
  *)
    echo "usage: deploy/dev.sh run [--no-demo]" >&2
    exit 2
    ;;
  esac
  install_deps
  build build
  data=${DANGAN_DATA:-./data}
  if [ ! -e "$data/dangan.db" ]; then
    ./build/dangand init --data "$data"
    echo
    if [ "$demo" = yes ]; then
      ./build/dangand demo-data --data "$data" --customers "${DANGAN_DEMO_CUSTOMERS:-3000}"
      echo
    fi
  fi
  echo "dev.sh: starting dangand (Ctrl-C stops it cleanly)"
  exec ./build/dangand serve --data "$data"
  ;;
test)
  install_deps
  build build-asan -DDANGAN_SANITIZE=ON
  build build
  jobs=${DANGAN_JOBS:-2}
  echo "dev.sh: test suite, AddressSanitizer + UndefinedBehaviorSanitizer build"
  ctest --test-dir build-asan --output-on-failure -j "$jobs"
  echo "dev.sh: test suite, plain build"
  ctest --test-dir build --output-on-failure -j "$jobs"
  ;;
*)
  echo "usage: deploy/dev.sh run [--no-demo] | test" >&2
  exit 2
  ;;
esac
