#!/bin/sh
# backup_encrypt.sh - what encryption costs a backup and a restore.
#
# Makes a data directory with `dangand demo-data --customers N` (default
# 20000), then times, three times each, `dangand backup` plain, `dangand
# backup --key-file` (encrypted) and `dangand restore` of the encrypted copy
# into a scratch directory, and prints each run and the median in seconds
# with the database's size. Everything lives in a fresh temp dir, removed at
# the end. Usage: tests/bench/backup_encrypt.sh [BUILD_DIR] [N]
set -eu
build=${1:-build}
n=${2:-20000}
dangand="$build/dangand"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 700 "$work"

"$dangand" init --data "$work/data" >/dev/null
"$dangand" demo-data --data "$work/data" --customers "$n" >/dev/null
head -c 32 /dev/urandom | base64 >"$work/key"
chmod 600 "$work/key"
"$dangand" init --data "$work/scratch" >/dev/null

now() { date +%s.%N; }
median() { sort -n | sed -n 2p; }

run3() { # label, then a function run with the run's number
    label=$1
    : >"$work/times"
    for i in 1 2 3; do
        t0=$(now)
        "$2" "$i" >/dev/null
        t1=$(now)
        awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", b - a }' >>"$work/times"
    done
    printf '%-22s runs %s  median %.2f s\n' "$label" "$(tr '\n' ' ' <"$work/times")" \
        "$(median <"$work/times")"
}
plain() { "$dangand" backup --data "$work/data" --to "$work/plain-$1.db"; }
sealed() { "$dangand" backup --data "$work/data" --to "$work/enc-$1.dgbk" --key-file "$work/key"; }
opened() { "$dangand" restore --data "$work/scratch" --from "$work/enc-$1.dgbk" --key-file "$work/key"; }

size=$(stat -c %s "$work/data/dangan.db")
printf 'database: %d customers, %s MiB\n' "$n" "$(awk -v s="$size" 'BEGIN { printf "%.1f", s / 1048576 }')"
run3 "backup (plain)" plain
run3 "backup --key-file" sealed
run3 "restore (encrypted)" opened
