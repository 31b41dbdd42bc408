#!/usr/bin/env bash
# bench/shards-pg.sh [CSV] -- what sharding costs with PostgreSQL on both
# ends (issue 14, docs/SCALE.md, docs/POSTGRES.md "Shards"): mekong plan +
# mekong merge against one run of the same pipeline.
#
# A throwaway cluster (tests/pg/lib.sh) holds a table of SHARDS_PG_ROWS rows
# (default 1,000,000; an int key, Vietnamese text, NULLs).  The pipeline:
# postgres (shard_key: id) -> map (provenance) -> csv and a postgres sink
# (mode: replace, into database one for the single run, many for the shards).
# The CSV of run.sh ($1) is not used.
#
# Measured, best of BENCH_RUNS_SHARDS (default 1), peak RSS from GNU time:
#   mekong run (one run)             the peer
#   mekong plan --shards N           count + one window pass over the key
#   mekong run --shard I, each       one after another here: slowest and sum
#   mekong merge                     joins the csv parts; INSERT ... SELECT of
#                                    every staging table into the target, one
#                                    transaction
# The merged csv and target table must equal the single run's.
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${MEKONG_BUILD:-$here/..}
SRC=${MEKONG_SRC:-$here/..}
MEKONG=${MEKONG:-$BUILD/engine/mekong}
ROWS=${SHARDS_PG_ROWS:-1000000}
N=${SHARDS_N:-4}
RUNS=${BENCH_RUNS_SHARDS:-1}
[ -x /usr/bin/time ] || { echo "bench shards-pg: GNU time is needed (apt-get install time)" >&2; exit 1; }
. "$SRC/tests/pg/lib.sh"
if ! why=$(pg_have_server); then
    echo "bench shards-pg: skipped: $why"
    exit 0
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mekong-bench-shards-pg.XXXXXX") || exit 1
trap 'pg_stop; rm -rf "$WORK"' EXIT
. "$here/measure.bash"
pg_start 2> "$WORK/pg.err" || { echo "bench shards-pg: cannot start PostgreSQL:" >&2; cat "$WORK/pg.err" >&2; exit 1; }
[ -n "${PG_RUNAS:-}" ] && chmod 755 "$WORK"
pg_psql "CREATE TABLE dan_cu AS SELECT g AS id, 'Nguyễn Văn ' || (g % 1000) AS ho_ten,
    CASE WHEN g % 7 = 0 THEN NULL ELSE 'Số ' || (g % 300) || ' phố Hàng Bài, phường Tràng Tiền' END AS dia_chi,
    g % 90 AS tuoi FROM generate_series(1, $ROWS) g; ALTER TABLE dan_cu ADD PRIMARY KEY (id)" > /dev/null || exit 1
for db in one many; do
    pg_psql "CREATE DATABASE $db" > /dev/null || exit 1
    psql -X -q -d $db -c "CREATE TABLE cong_dan (id int PRIMARY KEY, ho_ten text NOT NULL, dia_chi text,
        tuoi int, nguon text, ban_ghi bigint)" > /dev/null || exit 1
done
cat > "$WORK/p.yaml" <<YAML
sources:
  - { name: dan_cu, plugin: postgres, conninfo: "dbname=postgres", table: dan_cu, shard_key: id }
transforms: [ { plugin: map, provenance: { source: nguon, record: ban_ghi } } ]
sinks:
  - { plugin: csv, path: "\${OUT}/out.csv" }
  - { plugin: postgres, conninfo: "dbname=\${DB}", table: cong_dan, mode: replace }
rejects: "\${OUT}/rejects.csv"
report: "\${OUT}/report.json"
YAML
one=(--set OUT="$WORK/one" --set DB=one)
many=(--set OUT="$WORK/merged" --set DB=many)
dir=$WORK/shared

echo "bench shards-pg: $ROWS rows, $N shards, $(nproc) cores shared with other work (and the server); best of $RUNS"
printf '%-34s %8s %12s %10s %9s\n' "" seconds "rows/s" "peak RSS" "of 1 run"
line() { # label seconds rss_kb
    printf '%-34s %8.2f %12.0f %7.1f MB %8.1f%%\n' "$1" "$2" \
        "$(awk -v r="$ROWS" -v s="$2" 'BEGIN {print r / s}')" \
        "$(awk -v k="$3" 'BEGIN {print k / 1024}')" \
        "$(awk -v s="$2" -v o="$one_s" 'BEGIN {print 100 * s / o}')"
}
measure pg-one "$MEKONG" run "$WORK/p.yaml" "${one[@]}" --quiet || exit 1
one_s=$best_s one_kb=$rss_kb
line "mekong run (one run, the peer)" "$best_s" "$rss_kb"
measure pg-plan "$MEKONG" plan "$WORK/p.yaml" --shards "$N" --dir "$dir" "${many[@]}" --quiet || exit 1
plan_s=$best_s
line "mekong plan --shards $N" "$best_s" "$rss_kb"
measure_shards pg "$N" "$MEKONG" run "$WORK/p.yaml" --dir "$dir" "${many[@]}" --quiet || exit 1
line "mekong run --shard (slowest)" "$slowest" "$shard_kb"
line "mekong run --shard (sum of $N)" "$sum" "$shard_kb"
RUNS=1 measure pg-merge "$MEKONG" merge "$WORK/p.yaml" --dir "$dir" "${many[@]}" --quiet || exit 1
merge_s=$best_s
line "mekong merge (csv + one transaction)" "$best_s" "$rss_kb"
echo "    plan + merge: $(awk -v p="$plan_s" -v m="$merge_s" -v o="$one_s" 'BEGIN {printf "%.2f s, %.1f%% of one run", p + m, 100 * (p + m) / o}');" \
     "peak RSS of a shard $(awk -v a="$shard_kb" -v b="$one_kb" 'BEGIN {printf "%.1f MB, one run %.1f MB", a / 1024, b / 1024}')"
status=0
cmp -s "$WORK/one/out.csv" "$WORK/merged/out.csv" || { echo "bench shards-pg: merged out.csv differs from one run's" >&2; status=1; }
t1=$(psql -X -At -d one -c "SELECT md5(string_agg(c::text, E'\n' ORDER BY c.id)) FROM cong_dan c")
t2=$(psql -X -At -d many -c "SELECT md5(string_agg(c::text, E'\n' ORDER BY c.id)) FROM cong_dan c")
[ "$t1" = "$t2" ] || { echo "bench shards-pg: the merged table differs from one run's" >&2; status=1; }
exit $status
