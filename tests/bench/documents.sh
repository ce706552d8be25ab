#!/usr/bin/env bash
# documents.sh - document transfer rates on loopback: `dangan doc upload` and
# `dangan doc get` of a 50 MiB file (new random content each run, so nothing
# is deduplicated), each timed from the command's start to its end (connect,
# session, the file's SHA-256, every chunk, the server's check), 3 runs each;
# prints every run and the medians in MiB/s, with the CPU seconds the CLI and
# dangand spent on each transfer (on a busy machine the rate says more about
# the neighbours than about dangan; the CPU time does not) (tests/bench/README.md).
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
server_cpu() { awk '{ print $14 + $15 }' "/proc/$DPID/stat"; } # clock ticks
TICK=$(getconf CLK_TCK)
cpu_s() { awk -v t="$1" -v hz="$TICK" 'BEGIN { printf "%.2f", t / hz }'; }
# the CLI's user + system seconds, from /usr/bin/time's output file
cli_cpu() { awk '{ printf "%.2f", $1 + $2 }' "$D/time.txt"; }
rate() { awk -v mib="$MIB" -v ns="$1" 'BEGIN { printf "%.1f", mib / (ns / 1e9) }'; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

UP=()
DOWN=()
for i in $(seq 1 "$RUNS"); do
    head -c $((MIB << 20)) /dev/urandom > "$D/file.bin"
    s0=$(server_cpu)
    t0=$(now_ns)
    ID=$(/usr/bin/time -o "$D/time.txt" -f "%U %S" "$B/dangan" --json doc upload "$CUSTOMER" \
        "$D/file.bin" --kind contract --title "run $i" | jq -r .document.id)
    t1=$(now_ns)
    s1=$(server_cpu)
    UP_CPU="cli $(cli_cpu) s, dangand $(cpu_s $((s1 - s0))) s"
    /usr/bin/time -o "$D/time.txt" -f "%U %S" "$B/dangan" --json doc get "$ID" -o "$D/back.bin" \
        > /dev/null
    t2=$(now_ns)
    DOWN_CPU="cli $(cli_cpu) s, dangand $(cpu_s $(($(server_cpu) - s1))) s"
    cmp -s "$D/file.bin" "$D/back.bin" || { echo "run $i: the download differs" >&2; exit 1; }
    rm -f "$D/back.bin"
    UP+=("$(rate $((t1 - t0)))")
    DOWN+=("$(rate $((t2 - t1)))")
    printf 'run %d: upload %6s MiB/s (CPU: %s)   download %6s MiB/s (CPU: %s)\n' "$i" \
        "${UP[-1]}" "$UP_CPU" "${DOWN[-1]}" "$DOWN_CPU"
done
printf 'median of %d (%d MiB): upload %s MiB/s, download %s MiB/s; load average %s\n' \
    "$RUNS" "$MIB" "$(printf '%s\n' "${UP[@]}" | median)" "$(printf '%s\n' "${DOWN[@]}" | median)" \
    "$(cut -d' ' -f1-3 /proc/loadavg)"
