#!/usr/bin/env bash
# reports.sh - how long each `dangan report` takes over N demo customers
# (`dangand demo-data --customers N`, dossiers included), against a real
# dangand on loopback: the wall time of the whole command (connect, resume
# the session, the report computed in SQL, the tables printed), RUNS times
# each; the median is printed. As the admin (every customer) and as a sales
# user of the demo (restricted tiers left out inside the queries).
#
#   tests/bench/reports.sh [--build DIR] [--customers N] [--runs R] [--port P]
#                          [--keep DIR]
#
# Target on the 2-core Debian 12 machine (1,000,000 customers): each report
# <= 1 s. The server's CPU time per report is printed too (from /proc). --keep DIR reuses (or leaves) the data directory there: demo data of
# a million customers takes a while to make.
set -euo pipefail

build=build customers=100000 runs=3 port=17653 keep=
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --customers) customers=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
build=$(cd "$build" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dangan-bench-reports.XXXXXX")
data=${keep:-$work/data}
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

if [ ! -f "$data/init.txt" ]; then
  echo "making $customers demo customers in $data ..." >&2
  "$build/dangand" init --data "$data" --listen "127.0.0.1:$port" > "$work/init.txt"
  "$build/dangand" demo-data --data "$data" --customers "$customers" > "$work/demo.txt"
  # deals the demo leaves without a stage get the default pipeline's, 60 % won
  sqlite3 "$data/dangan.db" "UPDATE deals SET
    stage = CASE id % 10 WHEN 6 THEN 'lead' WHEN 7 THEN 'qualified' WHEN 8 THEN 'proposal'
            WHEN 9 THEN 'negotiation' ELSE 'won' END,
    probability = CASE id % 10 WHEN 6 THEN 10 WHEN 7 THEN 25 WHEN 8 THEN 50 WHEN 9 THEN 75
                  ELSE 100 END WHERE stage = ''"
  cp "$work/init.txt" "$data/init.txt"
  cp "$work/demo.txt" "$data/demo.txt"
fi
"$build/dangand" serve --data "$data" --listen "127.0.0.1:$port" 2> "$work/serve.log" &
server_pid=$!
for _ in $(seq 300); do grep -q listening "$work/serve.log" && break; sleep 0.1; done

login() { # config dir, user, password
  DANGAN_CONFIG_DIR=$1 "$build/dangan" connect "127.0.0.1:$port" --fingerprint \
    "$(awk '/fingerprint:/ {print $2}' "$data/init.txt")" --yes > /dev/null
  echo "$3" | DANGAN_CONFIG_DIR=$1 "$build/dangan" login --user "$2" --password-stdin > /dev/null
}
login "$work/admin" admin "$(awk '/admin password:/ {print $3}' "$data/init.txt")"
# the first sales account the demo summary names, with its password
read -r sales_user sales_pw < <(awk '$2 == "sales" {
  for (i = 3; i < NF; i++) if ($i == "password:") { print $1, $(i + 1); exit } }' "$data/demo.txt")
login "$work/sales" "$sales_user" "$sales_pw"

cpu() { # the server's CPU time so far (user + system), in seconds
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$server_pid/stat"
}
measure() { # runs the command; prints its wall time and the server's CPU time in seconds
  local t0 t1 c0 c1
  c0=$(cpu); t0=$(date +%s.%N)
  "$@" > /dev/null
  t1=$(date +%s.%N); c1=$(cpu)
  echo "$(echo "$t1 - $t0" | bc -l) $(echo "$c1 - $c0" | bc -l)"
}
median() { sort -g | awk '{a[NR]=$1} END {printf "%.3f", a[int((NR+1)/2)]}'; }

printf 'customers %s, runs %d, sales user %s (medians in seconds: the command'"'"'s wall time,\n' \
  "$(awk '$1 == "customers" {print $2; exit}' "$data/demo.txt")" "$runs" "$sales_user"
printf 'and the CPU time the server spent on it, which a loaded machine does not inflate)\n'
for who in admin sales; do
  for kind in summary revenue pipeline activity churn satisfaction; do
    wall=() serv=()
    for _ in $(seq "$runs"); do
      read -r w c < <(DANGAN_CONFIG_DIR=$work/$who measure "$build/dangan" report "$kind")
      wall+=("$w") serv+=("$c")
    done
    printf '%-6s %-13s wall %s  server cpu %s\n' "$who" "$kind" \
      "$(printf '%s\n' "${wall[@]}" | median)" "$(printf '%s\n' "${serv[@]}" | median)"
  done
done
