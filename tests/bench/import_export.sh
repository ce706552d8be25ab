#!/usr/bin/env bash
# import_export.sh - how long `dangan import customers` takes for a CSV and an
# XLSX file of N customers with a contact each, and `dangan export customers`
# to XLSX, against a real dangand on loopback. Each measurement runs RUNS
# times on a fresh data directory; the median is printed.
#
#   tests/bench/import_export.sh [--build DIR] [--rows N] [--runs R] [--port P]
#                                [--on-duplicate skip|create]
#
# Targets on the 2-core Debian 12 machine (100,000 rows): import from CSV
# <= 20 s, from XLSX <= 30 s, export to XLSX <= 20 s. Needs python3-openpyxl
# (Debian's /usr/bin/python3) to make the files.
set -euo pipefail

build=build rows=100000 runs=3 port=17643 on_dup=skip
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift 2 ;;
    --rows) rows=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --port) port=$2; shift 2 ;;
    --on-duplicate) on_dup=$2; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
build=$(cd "$build" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/dangan-bench-io.XXXXXX")
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export DANGAN_CONFIG_DIR=$work/cfg

echo "making $rows rows as CSV and XLSX in $work ..." >&2
/usr/bin/python3 - "$work" "$rows" <<'EOF'
import csv, sys, openpyxl
work, n = sys.argv[1], int(sys.argv[2])
head = ['客户名称', '简称', '行业', '地区', '地址', '电话', '邮箱', '等级', '备注', '联系人', '手机', '职位']
inds = ['制造', '贸易', '软件', '物流', '化工']
regs = ['北京', '上海', '广东', '浙江', '江苏']
def row(i):
    return ['测试客户%06d有限公司' % i, '测试%06d' % i, inds[i % 5], regs[i % 5],
            '%s市某区某路%d号\n%d室' % (regs[i % 5], i % 999, i % 50), '010-%08d' % i,
            'c%06d@example.cn' % i, 'BC'[i % 2], '备注 "%d", 第二行' % i, '联系人%d' % i,
            '139%08d' % i, '经理']
with open(work + '/customers.csv', 'w', encoding='utf-8-sig', newline='') as f:
    w = csv.writer(f, dialect='excel')
    w.writerow(head)
    for i in range(n):
        w.writerow(row(i))
wb = openpyxl.Workbook(write_only=True)
ws = wb.create_sheet()
ws.append(head)
for i in range(n):
    ws.append(row(i))
wb.save(work + '/customers.xlsx')
EOF

start_server() {
  rm -rf "$work/data" "$work/cfg"
  "$build/dangand" init --data "$work/data" --listen "127.0.0.1:$port" > "$work/init.txt"
  "$build/dangand" serve --data "$work/data" 2> "$work/serve.log" &
  server_pid=$!
  for _ in $(seq 50); do grep -q listening "$work/serve.log" && break; sleep 0.1; done
  "$build/dangan" connect "127.0.0.1:$port" --fingerprint \
    "$(awk '/fingerprint:/ {print $2}' "$work/init.txt")" --yes > /dev/null
  awk '/admin password:/ {print $3}' "$work/init.txt" |
    "$build/dangan" login --user admin --password-stdin > /dev/null
}

stop_server() {
  kill "$server_pid"; wait "$server_pid" || true; server_pid=
}

seconds() { # runs the command, prints its wall time in seconds
  local t0 t1
  t0=$(date +%s.%N)
  "$@" > /dev/null
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc -l
}

median() { sort -g | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}'; }

csv_t=() xlsx_t=() export_t=()
for r in $(seq "$runs"); do
  start_server
  csv_t+=("$(seconds "$build/dangan" import customers "$work/customers.csv" --on-duplicate "$on_dup")")
  rm -f "$work/out.xlsx"
  export_t+=("$(seconds "$build/dangan" export customers -o "$work/out.xlsx")")
  stop_server
  start_server
  xlsx_t+=("$(seconds "$build/dangan" import customers "$work/customers.xlsx" --on-duplicate "$on_dup")")
  stop_server
  echo "run $r: csv import ${csv_t[-1]} s, export xlsx ${export_t[-1]} s," \
       "xlsx import ${xlsx_t[-1]} s" >&2
done
printf 'rows %d, runs %d (medians)\n' "$rows" "$runs"
printf 'import CSV   %s s (target <= 20)\n' "$(printf '%s\n' "${csv_t[@]}" | median)"
printf 'import XLSX  %s s (target <= 30)\n' "$(printf '%s\n' "${xlsx_t[@]}" | median)"
printf 'export XLSX  %s s (target <= 20)\n' "$(printf '%s\n' "${export_t[@]}" | median)"
