#!/usr/bin/env bash
# bench/shards-dedupe.sh -- what dedupe across shards costs (issue 14,
# docs/SCALE.md): the keys and decide stages against one run of the same
# pipeline, csv -> dedupe (key: cccd, keep: first) -> csv.  With
# DEDUPE_SHARDS_STEP=schema the step is a schema step whose primaryKey is
# cccd (the same stages, docs/SCALE.md "Schema keys across shards").
#
# The input (generated once into $BENCH_WORK, default $MEKONG_BUILD/bench/work)
# has DEDUPE_SHARDS_ROWS rows (default 1,000,000), keys drawn from 60% as many
# values (about a third of the rows are duplicates, spread over all shards).
# Measured, best of BENCH_RUNS_SHARDS (default 1), peak RSS from GNU time; the
# N tasks of a stage run one after another here (on a cluster they run at
# once): the sum and the slowest task of each stage.
#   mekong run (one run)                the peer
#   mekong run --stage keys --shard I   the source and the steps before dedupe
#   mekong run --stage decide --shard B one bucket's keys of every shard
#   mekong run --shard I                the shards themselves
#   mekong merge
# The merged outputs must equal the single run's (cmp).
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${MEKONG_BUILD:-$here/..}
MEKONG=${MEKONG:-$BUILD/engine/mekong}
ROWS=${DEDUPE_SHARDS_ROWS:-1000000}
N=${SHARDS_N:-4}
RUNS=${BENCH_RUNS_SHARDS:-1}
STEP=${DEDUPE_SHARDS_STEP:-dedupe}
WORK=${BENCH_WORK:-$BUILD/bench/work}
mkdir -p "$WORK" || exit 1
[ -x /usr/bin/time ] || { echo "bench shards-dedupe: GNU time is needed (apt-get install time)" >&2; exit 1; }
. "$here/measure.bash"

csv=$WORK/shards-dedupe.csv
if [ ! -f "$csv" ] || [ "$(cat "$csv.rows" 2>/dev/null)" != "$ROWS" ]; then
    echo "bench shards-dedupe: generating $ROWS rows into $csv"
    awk -v n="$ROWS" 'BEGIN {
        srand(14); print "ma,cccd,ho_ten,dia_chi"
        for (i = 1; i <= n; i++)
            printf "%d,0790%08d,Nguyễn Văn %d,Số %d phố Hàng Bài\n", i, int(rand() * n * 0.6), i % 1000, i % 300
    }' > "$csv" && echo "$ROWS" > "$csv.rows" || { echo "bench shards-dedupe: cannot write $csv" >&2; exit 1; }
fi
step="{ plugin: dedupe, key: [cccd] }"
if [ "$STEP" = schema ]; then
    echo '{"fields": [{"name": "ma", "type": "integer"}, {"name": "cccd", "type": "string"},
  {"name": "ho_ten", "type": "string"}, {"name": "dia_chi", "type": "string"}],
 "primaryKey": ["cccd"]}' > "$WORK/shards-dedupe.schema.json"
    step="{ plugin: schema, schema: \"$WORK/shards-dedupe.schema.json\" }"
fi
echo "bench shards-dedupe: the step that decides keys: $step"
cat > "$WORK/shards-dedupe.yaml" <<YAML
sources: [ { name: in, plugin: csv, path: "$csv" } ]
transforms: [ $step ]
sinks: [ { plugin: csv, path: "\${OUT}/out.csv" } ]
rejects: "\${OUT}/rejects.csv"
report: "\${OUT}/report.json"
YAML
p=$WORK/shards-dedupe.yaml dir=$WORK/shards-dedupe-dir
rm -rf "$WORK/dd-one" "$WORK/dd-merged" "$dir"
line() { printf '  %-34s %8s s  %8s MB peak\n' "$1" "$2" "$(awk -v k="$3" 'BEGIN {printf "%.1f", k / 1024}')"; }
cat "$csv" > /dev/null # the file in the page cache for every command alike
measure one "$MEKONG" run "$p" --set OUT="$WORK/dd-one" -q || exit 1
line "one run ($ROWS rows)" "$best_s" "$rss_kb"
one_s=$best_s
"$MEKONG" plan "$p" --shards "$N" --dir "$dir" --set OUT="$WORK/dd-merged" -q || exit 1
# stage NAME ARGS...: every task of a stage in turn; the sum and the slowest
stage() {
    local name=$1 sum=0 max=0 peak=0 i
    shift
    for ((i = 0; i < N; i++)); do
        measure "$name-$i" "$MEKONG" run "$p" "$@" --shard "$i" --dir "$dir" --set OUT="$WORK/dd-merged" -q || exit 1
        sum=$(awk -v a="$sum" -v b="$best_s" 'BEGIN {print a + b}')
        max=$(awk -v a="$max" -v b="$best_s" 'BEGIN {print (b > a ? b : a)}')
        [ "$rss_kb" -gt "$peak" ] && peak=$rss_kb
    done
    line "$name: $N tasks, sum" "$sum" "$peak"
    line "$name: slowest task" "$max" "$peak"
    stage_sum=$sum
}
stage keys --stage keys
keys=$stage_sum
stage decide --stage decide
decide=$stage_sum
stage shards
shards=$stage_sum
measure merge "$MEKONG" merge "$p" --dir "$dir" --set OUT="$WORK/dd-merged" -q || exit 1
line "merge" "$best_s" "$rss_kb"
du -sb "$dir" | awk '{printf "  shared folder after the stages:  %.1f MB\n", $1 / 1048576}'
awk -v k="$keys" -v d="$decide" -v s="$shards" -v m="$best_s" -v o="$one_s" 'BEGIN {
    printf "  keys + decide (summed) / one run: %.0f%%\n", (k + d) / o * 100
    printf "  all stages (summed) / one run:    %.0f%%\n", (k + d + s + m) / o * 100 }'
for f in out.csv rejects.csv; do
    cmp -s "$WORK/dd-one/$f" "$WORK/dd-merged/$f" || { echo "bench shards-dedupe: merged $f differs from one run's" >&2; exit 1; }
done
