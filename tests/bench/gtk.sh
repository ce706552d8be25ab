#!/bin/sh
# gtk.sh - dangan-gtk benchmarks at 100,000 customers (tests/bench/README.md):
# process start to a usable window, keystroke to drawn search results, and
# frame times and memory while scrolling the whole Customers list.
#
#   tests/bench/gtk.sh [BUILD_DIR] [RUNS] [KEY_TRIALS]
#
# Works on a copy of the 100k demo base (DANGAN_BENCH_BASE, default /tmp/b1m:
# d/ the data directory, init.txt and demo.txt as dangand printed them);
# the base itself is never written. The app runs under Xvfb with its own
# session bus, as the GUI tests do.
set -eu
BUILD=$(cd "${1:-build}" && pwd)
RUNS=${2:-3}
TRIALS=${3:-20}
BASE=${DANGAN_BENCH_BASE:-/tmp/b1m}
HERE=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/gtkbench.XXXXXX)
SRV=
cleanup() {
    [ -n "$SRV" ] && kill "$SRV" 2>/dev/null && wait "$SRV" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT INT TERM

cp -a "$BASE/d" "$T/d"
: >"$T/conf"
"$BUILD/dangand" serve --data "$T/d" --config "$T/conf" --listen 127.0.0.1:0 \
    </dev/null >/dev/null 2>"$T/server.log" &
SRV=$!
for _ in $(seq 600); do
    ADDR=$(sed -n 's/.*msg="listening" addr=\(127\.0\.0\.1:[0-9]*\).*/\1/p' "$T/server.log")
    [ -n "$ADDR" ] && break
    sleep 0.1
done
[ -n "$ADDR" ] || { cat "$T/server.log"; exit 1; }
FP=$(sed -n 's/.*fingerprint: *\(SHA256:[^ ]*\).*/\1/p' "$BASE/init.txt")
USER=${DANGAN_BENCH_USER:-chen.jing} # a manager: sees all 100,000 customers
PW=$(awk -v u="$USER" '$1 == u { for (i = 1; i <= NF; i++) if ($i == "password:") print $(i + 1) }' \
    "$BASE/demo.txt")
export DANGAN_CONFIG_DIR="$T/config"
"$BUILD/dangan" connect "$ADDR" --fingerprint "$FP" >/dev/null
printf '%s\n' "$PW" | "$BUILD/dangan" login --user "$USER" --password-stdin >/dev/null
# the server's part of the first page: the List the Customers page sends first
for i in 1 2 3; do
    /usr/bin/time -f "server: customer list --limit 100 (the first page) %e s" \
        "$BUILD/dangan" customer list --limit 100 >/dev/null
done
echo "dangan-gtk at 100,000 customers as $USER on $ADDR ($RUNS runs, $TRIALS key trials)"
xvfb-run -a -s '-screen 0 1280x800x24 -noreset' dbus-run-session -- \
    /usr/bin/python3 "$HERE/gtk_bench.py" "$BUILD" "$T/config" "$RUNS" "$TRIALS" 2>&1 |
    grep -v 'fd limit\|dbind\|dbus-daemon\|SpiRegistry\|^$'
