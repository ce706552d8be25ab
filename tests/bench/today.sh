#!/bin/sh
# today.sh - how long the day's contact list takes on a large base: `dangan
# today` for one sales rep and `dangan today --team` for the manager, through
# the real server and CLI. See tests/bench/README.md (the day's list).
#
#   tests/bench/today.sh --build DIR [--customers N] [--data DATA] [--runs N] [--port P]
#                        [--copies K]
#
# Without --data a base of N customers (default 100000) is made with
# `dangand demo-data` in a temp dir (removed at the end); with --data an
# existing one is used (made by demo-data: its users li.na, sales, and
# chen.jing, manager; their passwords are read from DATA/demo-passwords,
# which this script writes when it makes the base). The server runs with a
# debug log, which times each request from its arrival to its answer: each
# run prints the server's time (us=, the request alone), the CPU time of
# the read on its reader thread (read_cpu_us=: what the list costs whatever
# else the machine runs) and the CLI's wall
# time (a process, a TLS connection and a session resumed besides; `dangan
# whoami` is timed the same way as the floor), and the medians of --runs
# runs (default 3). --copies K first adds K SQL copies of every customer
# (another code, the same owner, tier, dates, last call, visit and
# follow-up) and of its open tasks, to reach a base demo-data would take
# hours to make on a loaded machine (the server must not be running on DATA).
set -eu

build= data= n=100000 runs=3 port=17556 copies=0
while [ $# -gt 0 ]; do
    case $1 in
    --build) build=$2; shift 2 ;;
    --data) data=$2; shift 2 ;;
    --customers) n=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --copies) copies=$2; shift 2 ;;
    -h | --help) sed -n '2,26p' "$0"; exit 0 ;;
    *) echo "today.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ -n "$build" ] || { echo "today.sh: --build is required" >&2; exit 2; }

work=$(mktemp -d)
chmod 700 "$work"
cleanup() {
    [ -n "${pid:-}" ] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
now() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.3f", ns / 1e9 }'; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR + 1) / 2)]}'; }

if [ -z "$data" ]; then
    data=$work/data
    "$build/dangand" init --data "$data" >/dev/null
    t0=$(now)
    "$build/dangand" demo-data --data "$data" --customers "$n" >"$work/demo.txt"
    echo "demo-data --customers $n: $(secs $(($(now) - t0))) s"
    awk '$2 == "sales" || $2 == "manager" { print $1, $6 }' "$work/demo.txt" >"$data/demo-passwords"
fi
pw() { awk -v u="$1" '$1 == u { print $2 }' "$data/demo-passwords"; }

if [ "$copies" -gt 0 ]; then
    db=$data/dangan.db
    ccols=$(sqlite3 "$db" "SELECT group_concat(name) FROM pragma_table_info('customers')
                           WHERE name NOT IN ('id', 'code')")
    tcols=$(sqlite3 "$db" "SELECT group_concat(name) FROM pragma_table_info('tasks')
                           WHERE name NOT IN ('id', 'customer_id')")
    t0=$(now)
    k=1
    while [ "$k" -le "$copies" ]; do
        sqlite3 "$db" "BEGIN;
            INSERT INTO customers (code, $ccols) SELECT code || '-$k', $ccols FROM customers
             WHERE code NOT LIKE '%-%-%';
            INSERT INTO tasks (customer_id, $tcols) SELECT n.id, $(echo "$tcols" | sed 's/[a-z_0-9][a-z_0-9]*/t.&/g')
              FROM tasks t JOIN customers c ON c.id = t.customer_id
              JOIN customers n ON n.code = c.code || '-$k' WHERE t.done = 0;
            COMMIT;"
        k=$((k + 1))
    done
    echo "copies: $copies in $(secs $(($(now) - t0))) s"
fi

log=$work/dangand.log
"$build/dangand" serve --data "$data" --listen "127.0.0.1:$port" --log-level debug >"$log" 2>&1 &
pid=$!
until grep -q 'msg="listening"' "$log"; do
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.2
done
grep -E 'schema migrated' "$log" || true
echo "customers: $(sqlite3 "file:$data/dangan.db?mode=ro" 'SELECT count(*) FROM customers')"

login() { # config dir, user
    mkdir -p "$1"
    DANGAN_CONFIG_DIR=$1 "$build/dangan" connect "127.0.0.1:$port" --ca "$data/tls/cert.pem" \
        --yes >/dev/null
    pw "$2" | DANGAN_CONFIG_DIR=$1 "$build/dangan" login --user "$2" --password-stdin >/dev/null
}
login "$work/rep" li.na
login "$work/mgr" chen.jing

bench() { # label, config dir, action, then the command's arguments
    label=$1 cfg=$2 action=$3
    shift 3
    : >"$work/wall"
    : >"$work/server"
    : >"$work/cpu"
    i=1
    while [ "$i" -le "$runs" ]; do
        before=$(grep -c "action=$action " "$log" || true)
        reads=$(grep -c " today user=" "$log" || true)
        t0=$(now)
        DANGAN_CONFIG_DIR=$cfg "$build/dangan" "$@" >"$work/out"
        t1=$(now)
        wall=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.1f", ns / 1e6 }')
        server=$(grep "action=$action " "$log" | sed -n "$((before + 1))p" |
            sed 's/.* us=\([0-9]*\).*/\1/' | awk '{ printf "%.1f", $1 / 1000 }')
        cpu=$(grep " today user=" "$log" | sed -n "$((reads + 1))p" |
            sed -n 's/.* read_cpu_us=\([0-9]*\).*/\1/p' | awk '{ printf "%.1f", $1 / 1000 }')
        echo "$wall" >>"$work/wall"
        echo "$server" >>"$work/server"
        echo "${cpu:-0}" >>"$work/cpu"
        i=$((i + 1))
    done
    printf '%-26s server ms: %s median %s | read CPU ms: %s median %s | CLI wall ms: %s median %s\n' \
        "$label" "$(tr '\n' ' ' <"$work/server")" "$(median <"$work/server")" \
        "$(tr '\n' ' ' <"$work/cpu")" "$(median <"$work/cpu")" \
        "$(tr '\n' ' ' <"$work/wall")" "$(median <"$work/wall")"
}
bench "whoami (floor)" "$work/rep" session.whoami whoami
bench "today (li.na, sales)" "$work/rep" today.read today
bench "today --team (chen.jing)" "$work/mgr" today.read today --team
DANGAN_CONFIG_DIR=$work/rep "$build/dangan" --json today --limit 1 |
    python3 -c 'import json,sys; d=json.load(sys.stdin); print("li.na totals:", {s["name"]: s.get("total", 0) for s in d["lists"][0]["sections"]})'
