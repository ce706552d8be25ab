#!/usr/bin/env bash
# documents.sh - document transfer rates on loopback: `dangan doc upload` and
# `dangan doc get` of a 50 MiB file (new random content each run, so nothing
# is deduplicated), each timed from the command's start to its end (connect,
# session, the file's SHA-256, every chunk, the server's check), 3 runs each;
# prints every run and the medians in MiB/s (tests/bench/README.md).
# Usage: tests/bench/documents.sh [BUILD_DIR] [PORT] [MIB] [RUNS]
set -euo pipefail
B=${1:-build}
PORT=${2:-7443}
MIB=${3:-50}
RUNS=${4:-3}
D=$(mktemp -d "${TMPDIR:-/tmp}/dangan-docs.XXXXXX")
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
"$B/dangand" serve --data "$D/data" --listen "127.0.0.1:$PORT" 2> "$D/serve.log" &
DPID=$!
until grep -q listening "$D/serve.log"; do
    kill -0 "$DPID" || { cat "$D/serve.log"; exit 1; }
    sleep 0.1
done
export DANGAN_CONFIG_DIR=$D/cli
"$B/dangan" connect "127.0.0.1:$PORT" --fingerprint "$FP" > /dev/null
"$B/dangan" login --user admin --password-stdin < "$D/admin.pw" > /dev/null
CUSTOMER=$("$B/dangan" --json customer add --name "文档基准公司" | jq -r '.record.customer.id // .id')

now_ns() { date +%s%N; }
rate() { awk -v mib="$MIB" -v ns="$1" 'BEGIN { printf "%.1f", mib / (ns / 1e9) }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

UP=()
DOWN=()
for i in $(seq 1 "$RUNS"); do
    head -c $((MIB << 20)) /dev/urandom > "$D/file.bin"
    t0=$(now_ns)
    ID=$("$B/dangan" --json doc upload "$CUSTOMER" "$D/file.bin" --kind contract --title "run $i" |
        jq -r .document.id)
    t1=$(now_ns)
    "$B/dangan" --json doc get "$ID" -o "$D/back.bin" > /dev/null
    t2=$(now_ns)
    cmp -s "$D/file.bin" "$D/back.bin" || { echo "run $i: the download differs" >&2; exit 1; }
    rm -f "$D/back.bin"
    UP+=("$(rate $((t1 - t0)))")
    DOWN+=("$(rate $((t2 - t1)))")
    printf 'run %d: upload %6s MiB/s   download %6s MiB/s\n' "$i" "${UP[-1]}" "${DOWN[-1]}"
done
printf 'median of %d (%d MiB): upload %s MiB/s, download %s MiB/s\n' "$RUNS" "$MIB" \
    "$(printf '%s\n' "${UP[@]}" | median)" "$(printf '%s\n' "${DOWN[@]}" | median)"
