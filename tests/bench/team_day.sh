#!/bin/bash
# team_day.sh - the team's-day commands on an existing data directory, as its
# admin: `today --owner USER`, `today --team`, `tiers` and every `report`,
# each RUNS times through the real CLI over TLS (wall time, ms), with
# `whoami` as the floor; the median is printed. For a base that demo-data
# did not finish (no demo passwords printed): the admin's password is read
# from the `dangand init` output saved as DATA/../init.txt or --init FILE.
#
#   tests/bench/team_day.sh --build DIR --data DATA [--init FILE] [--owner USER]
#                           [--runs N] [--port P]
#
# Targets (1,000,000 customers, the 2-core Debian 12 machine): today one rep
# <= 100 ms, --team <= 1 s, tiers <= 2 s, each report <= 1 s.
set -euo pipefail

build= data= init= owner=li.na runs=3 port=17570
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --init) init=$2; shift 2 ;;
    --owner) owner=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    -h | --help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "team_day.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -n "$build" ] && [ -n "$data" ] || { echo "team_day.sh: --build and --data are required" >&2; exit 2; }
init=${init:-$data/../init.txt}
[ -f "$init" ] || { echo "team_day.sh: no dangand init output at $init (--init FILE)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/dangan-team-day.XXXXXX")
"$build/dangand" serve --data "$data" --listen "127.0.0.1:$port" 2>"$work/serve.log" &
server=$!
cleanup() { kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export DANGAN_CONFIG_DIR=$work/cfg
for _ in $(seq 50); do
    "$build/dangan" connect "127.0.0.1:$port" \
        --fingerprint "$(awk '/fingerprint:/ {sub(/^SHA256:/, "", $2); print $2}' "$init")" \
        >/dev/null 2>&1 && break
    sleep 0.2
done
awk '/admin password:/ {print $3}' "$init" | "$build/dangan" login --user admin --password-stdin >/dev/null
echo "customers: $(sqlite3 -readonly "$data/dangan.db" 'SELECT count(*) FROM customers')"

time_it() {
    local xs=() s e
    for _ in $(seq "$runs"); do
        s=$(date +%s%N)
        "$build/dangan" "$@" >/dev/null 2>"$work/err" || { cat "$work/err" >&2; exit 1; }
        e=$(date +%s%N)
        xs+=($(((e - s) / 1000000)))
    done
    printf '%-28s ms: %s  median %s\n' "$*" "${xs[*]}" \
        "$(printf '%s\n' "${xs[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}')"
}
time_it whoami
time_it today --owner "$owner"
time_it today --team
time_it tiers
for r in summary revenue pipeline activity churn satisfaction; do
    time_it report "$r"
done
