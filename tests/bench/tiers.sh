#!/bin/sh
# tiers.sh - how long `dangan tiers` takes: the ABC suggestion of a whole
# base (every live customer ranked by its won revenue of the last twelve
# months) and its first page, through the real server and CLI. See
# tests/bench/README.md (ABC classification).
#
#   tests/bench/tiers.sh --build DIR --data DATA --user NAME --password PW [--runs N]
#                        [--limit N] [--port P]
#
# DATA is a data directory (e.g. made with `dangand demo-data --customers N`;
# its demo manager chen.jing may classify). The server is started on it once
# (a database of an older schema is migrated first: that time is printed
# separately), then `dangan --json tiers --limit N` (default 100) runs --runs
# times (default 3); each run's wall time, the customers ranked and the
# median are printed. The server is stopped at the end. Nothing in DATA but
# the audit log (each page read is audited) and, at the first start, the
# schema, is changed.
set -eu

build= data= user= password= runs=3 limit=100 port=17556
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --password) password=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    -h | --help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "tiers.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -n "$build" ] && [ -n "$data" ] && [ -n "$user" ] && [ -n "$password" ] || {
    echo "tiers.sh: --build, --data, --user and --password are required" >&2
    exit 2
}

work=$(mktemp -d)
log=$work/dangand.log
cfg=$work/cfg
mkdir -p "$cfg"
now() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }

start=$(now)
"$build/dangand" serve --data "$data" --listen "127.0.0.1:$port" >"$log" 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
until grep -q 'msg="listening"' "$log"; do
    kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.2
done
ready=$(now)
echo "server ready after $(secs $((ready - start))) s"
grep -E 'schema migrated|recomputed duplicate keys' "$log" || true

export DANGAN_CONFIG_DIR=$cfg
"$build/dangan" connect "127.0.0.1:$port" --ca "$data/tls/cert.pem" --yes >/dev/null
echo "$password" | "$build/dangan" login --user "$user" --password-stdin >/dev/null

times=$work/times
i=1
while [ "$i" -le "$runs" ]; do
    t0=$(now)
    "$build/dangan" --json tiers --limit "$limit" >"$work/out.json"
    t1=$(now)
    t=$(secs $((t1 - t0)))
    ranked=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["ranked"], "ranked,", d["changes"], "to change")' \
        "$work/out.json")
    echo "run $i: $t s, $ranked"
    echo "$t" >>"$times"
    i=$((i + 1))
done
echo "median: $(sort -n "$times" | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}') s"
