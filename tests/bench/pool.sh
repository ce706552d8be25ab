#!/usr/bin/env bash
# pool.sh - what the public pool's and the lifecycle's queries cost on a big
# customer base: the daily auto-return query (owned, live customers whose
# owner was last active before a day, oldest first, a batch of 1000), a
# sales user's pool-claim count, a page of the pool, and the lifecycle
# suggestions' query for one owner and for everyone. Each runs 3 times with
# sqlite3 on the database (server stopped), printing every run and the
# median in ms, and the query plan of each.
#
# Usage: tests/bench/pool.sh [BUILD_DIR] [N | DATA_DIR]
#   N (default 100000): makes a data dir with `dangand demo-data --customers N`
#   DATA_DIR: an existing one (e.g. 1,000,000 demo customers made before)
set -eu
build=${1:-build}
arg=${2:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [[ -d $arg ]]; then
    data=$arg
else
    data=$work/data
    "$build/dangand" init --data "$data" >/dev/null
    "$build/dangand" demo-data --data "$data" --customers "$arg" >/dev/null
fi
db=$data/dangan.db
now_ms=$(($(date +%s) * 1000))
day_ms=86400000
owner=$(sqlite3 "$db" "SELECT owner_id FROM customers WHERE owner_id IS NOT NULL GROUP BY owner_id ORDER BY count(*) DESC LIMIT 1")
echo "customers: $(sqlite3 "$db" "SELECT count(*) FROM customers")," \
    "owner $owner holds $(sqlite3 "$db" "SELECT count(*) FROM customers WHERE owner_id = $owner")"

# the lifecycle query as store_life.c builds it (won stage: 'won'; 90 and 180 days)
life() {
    local recent=$((now_ms - 89 * day_ms)) lost=$((now_ms - 179 * day_ms))
    local since="(CASE WHEN c.last_contact_at > 0 THEN c.last_contact_at ELSE c.created_at END)"
    local owner="0 = 0" scan="NOT INDEXED"
    [[ $1 != 0 ]] && owner="c.owner_id = $1" && scan=""
    echo "SELECT c.id, c.code, c.name, coalesce(c.owner_id, 0), c.status, c.version,
 c.last_contact_at, c.created_at,
 (SELECT max(d.at_ms) FROM deals d WHERE d.customer_id = c.id AND d.archived_at IS NULL
  AND +d.stage IN ('won')),
 EXISTS (SELECT 1 FROM interactions i WHERE i.customer_id = c.id AND i.archived_at IS NULL
  AND i.channel IN ('meeting', 'visit') AND i.at_ms >= $recent)
 FROM customers c $scan WHERE c.archived_at IS NULL AND $owner AND (
 (c.status = 'potential' AND (EXISTS (SELECT 1 FROM deals d WHERE d.customer_id = c.id
  AND d.archived_at IS NULL AND +d.stage IN ('won'))
  OR EXISTS (SELECT 1 FROM interactions i WHERE i.customer_id = c.id AND i.archived_at IS NULL
  AND i.channel IN ('meeting', 'visit') AND i.at_ms >= $recent)))
 OR (c.status = 'active' AND $since < $recent)
 OR (c.status = 'dormant' AND ($since < $lost OR c.last_contact_at >= $recent))
 OR (c.status = 'lost' AND c.last_contact_at >= $recent))
 ORDER BY c.id LIMIT 1001"
}

queries=(
    "auto-return batch (30 days)|SELECT id FROM customers WHERE owner_id IS NOT NULL AND archived_at IS NULL AND owner_active_at < $((now_ms - 30 * day_ms)) ORDER BY owner_active_at, id LIMIT 1000"
    "pool claims of one user|SELECT count(*) FROM customers WHERE owner_id = $owner AND claimed_from_pool_at IS NOT NULL AND archived_at IS NULL"
    "pool page (by id)|SELECT id, code, name FROM customers c WHERE c.archived_at IS NULL AND c.owner_id IS NULL ORDER BY id LIMIT 51"
    "lifecycle, one owner|$(life "$owner")"
    "lifecycle, everyone|$(life 0)"
)

median() { sort -n | sed -n 2p; }
for q in "${queries[@]}"; do
    label=${q%%|*}
    sql=${q#*|}
    echo "== $label"
    sqlite3 "$db" "EXPLAIN QUERY PLAN $sql" | sed 's/^/   plan: /'
    : >"$work/times"
    for i in 1 2 3; do
        t0=$(date +%s%N)
        rows=$(sqlite3 "$db" "$sql" | wc -l)
        t1=$(date +%s%N)
        ms=$(((t1 - t0) / 1000000))
        echo "   run $i: $ms ms ($rows rows)"
        echo "$ms" >>"$work/times"
    done
    echo "   median: $(median <"$work/times") ms"
done
