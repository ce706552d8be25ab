#!/usr/bin/env bash
# stalled_subscribers.sh - what subscribers that stop reading cost dangand in
# memory: its RSS after 20 s of updates with nobody subscribed, with four
# subscribers reading, and with four that never read (tests/bench/README.md).
# Usage: tests/bench/stalled_subscribers.sh [BUILD_DIR] [PORT]
set -euo pipefail
B=${1:-build}
PORT=${2:-7443}
D=$(mktemp -d "${TMPDIR:-/tmp}/dangan-stalled.XXXXXX")
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
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
PIDS+=("$DPID")
until grep -q listening "$D/serve.log"; do
    kill -0 "$DPID" || { cat "$D/serve.log"; exit 1; }
    sleep 0.1
done
export DANGAN_CONFIG_DIR=$D/cli
"$B/dangan" connect "127.0.0.1:$PORT" --fingerprint "$FP" > /dev/null
"$B/dangan" login --user admin --password-stdin < "$D/admin.pw" > /dev/null

run() { # 20 s of updates from 4 connections, then dangand's resident memory
    "$B/dangan-bench" --server "127.0.0.1:$PORT" --fingerprint "$FP" --user admin \
        --password-stdin --connections 4 --mix update=1 --duration 20 --warmup 0 --json \
        < "$D/admin.pw" > "$D/bench.json"
    printf '%-28s RSS %7d KiB after %s updates\n' "$1:" "$(ps -o rss= -p "$DPID")" \
        "$(jq .ops.update.count "$D/bench.json")"
}

run "nobody subscribed"
READERS=()
for _ in 1 2 3 4; do
    "$B/dangan" --json watch --records > /dev/null &
    READERS+=("$!")
done
PIDS+=("${READERS[@]}")
run "4 subscribers reading"
kill "${READERS[@]}"
# Subscribers that never read: each CLI blocks writing to a FIFO that nobody
# reads, so it stops reading its socket while the server has events for it.
mkfifo "$D/stall"
exec 3<> "$D/stall"
for _ in 1 2 3 4; do
    "$B/dangan" --json watch --records > "$D/stall" &
    PIDS+=("$!")
done
run "4 subscribers not reading"
