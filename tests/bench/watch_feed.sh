#!/usr/bin/env bash
# watch_feed.sh - what the change feed costs with watchers: updates at a
# fixed rate while M subscribers watch, and per run the updates' rate, each
# event's commit-to-receipt latency at the watchers (p50, p99) and dangand's
# CPU seconds (tests/bench/README.md, "The change feed with watchers").
# Usage: tests/bench/watch_feed.sh [BUILD_DIR] [PORT] [WATCHERS] [RATE] [RUNS]
set -euo pipefail
B=${1:-build}
PORT=${2:-7443}
WATCHERS=${3:-100}
RATE=${4:-500}
RUNS=${5:-3}
D=$(mktemp -d "${TMPDIR:-/tmp}/dangan-watch.XXXXXX")
DPID=
cleanup() {
    [ -n "$DPID" ] && kill "$DPID" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$D"
}
trap cleanup EXIT

"$B/dangand" init --data "$D/data" > "$D/init.txt"
awk '/admin password:/ {print $3}' "$D/init.txt" > "$D/admin.pw"
FP=$(awk '/fingerprint:/ {print $2}' "$D/init.txt")
"$B/dangand" demo-data --data "$D/data" --customers 2000 --seed 1 > /dev/null
"$B/dangand" serve --data "$D/data" --listen "127.0.0.1:$PORT" 2> "$D/serve.log" &
DPID=$!
until grep -q listening "$D/serve.log"; do
    kill -0 "$DPID" || { cat "$D/serve.log"; exit 1; }
    sleep 0.1
done

cpu_s() { # dangand's user + system CPU seconds so far
    awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$DPID/stat"
}

for i in $(seq "$RUNS"); do
    before=$(cpu_s)
    "$B/dangan-bench" --server "127.0.0.1:$PORT" --fingerprint "$FP" --user admin \
        --password-stdin --connections 4 --mix update=1 --rate "$RATE" --duration 15 \
        --watchers "$WATCHERS" --json < "$D/admin.pw" > "$D/bench.json"
    after=$(cpu_s)
    printf 'run %d: updates %s/s, events %s, event p50 %s ms p99 %s ms, dangand CPU %.2f s\n' \
        "$i" "$(jq .ops.update.ops_per_s "$D/bench.json")" "$(jq .ops.event.count "$D/bench.json")" \
        "$(jq .ops.event.latency_ms.p50 "$D/bench.json")" \
        "$(jq .ops.event.latency_ms.p99 "$D/bench.json")" "$(echo "$after - $before" | bc)"
done
