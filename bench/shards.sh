#!/usr/bin/env bash
# bench/shards.sh [CSV] -- what sharding costs (issue 14, docs/SCALE.md):
# mekong plan + mekong merge against one run of the same pipeline.
#
# The input (generated once into $BENCH_WORK, default $MEKONG_BUILD/bench/work)
# has SHARDS_ROWS rows (default 10,000,000; one in 50 with a quoted field
# holding a line break), four columns.  The pipeline: csv -> map (provenance:
# file, record, line) -> csv.  The CSV of run.sh ($1) is not used.
#
# Measured, best of BENCH_RUNS_SHARDS (default 1), peak RSS from GNU time:
#   mekong run (one run)             the peer: what the shards replace
#   mekong plan --shards N           one quote-parity pass over the file
#   mekong run --shard I, each       run one after another here (on a cluster
#                                    they run at once): the slowest and the sum
#   mekong merge                     joins N parts of each output, one report
#   wc -l                            a plain sequential read of the file, for scale
# The merged outputs must equal the single run's (cmp).
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${MEKONG_BUILD:-$here/..}
MEKONG=${MEKONG:-$BUILD/engine/mekong}
ROWS=${SHARDS_ROWS:-10000000}
N=${SHARDS_N:-4}
RUNS=${BENCH_RUNS_SHARDS:-1}
WORK=${BENCH_WORK:-$BUILD/bench/work}
mkdir -p "$WORK" || exit 1
[ -x /usr/bin/time ] || { echo "bench shards: GNU time is needed (apt-get install time)" >&2; exit 1; }
. "$here/measure.bash"

csv=$WORK/shards.csv
if [ ! -f "$csv" ] || [ "$(cat "$csv.rows" 2>/dev/null)" != "$ROWS" ]; then
    echo "bench shards: generating $ROWS rows into $csv"
    awk -v n="$ROWS" 'BEGIN {
        print "ma,ho_ten,dia_chi,ghi_chu"
        for (i = 1; i <= n; i++)
            if (i % 50 == 0)
                printf "%d,Nguyễn Văn %d,\"Số %d, phường Bến Nghé\nQuận 1\",\"ghi \"\"chú\"\"\"\n", i, i % 1000, i % 300
            else
                printf "%d,Trần Thị %d,Số %d phố Hàng Bài,ghi chú %d\n", i, i % 1000, i % 300, i
    }' > "$csv" && echo "$ROWS" > "$csv.rows" || { echo "bench shards: cannot write $csv" >&2; exit 1; }
fi
bytes=$(stat -c %s "$csv")
cat > "$WORK/shards.yaml" <<YAML
sources: [ { name: in, plugin: csv, path: "$csv" } ]
transforms: [ { plugin: map, provenance: { file: f, record: r, line: l } } ]
sinks: [ { plugin: csv, path: "\${OUT}/out.csv" } ]
rejects: "\${OUT}/rejects.csv"
report: "\${OUT}/report.json"
YAML
one=(--set OUT="$WORK/shards-one")
many=(--set OUT="$WORK/shards-merged")
dir=$WORK/shards-shared
rm -rf "$dir" "$WORK/shards-one" "$WORK/shards-merged"

echo "bench shards: $ROWS rows, $bytes bytes, $N shards, $(nproc) cores shared with other work; best of $RUNS"
printf '%-34s %8s %9s %12s %10s %9s\n' "" seconds "MB/s" "rows/s" "peak RSS" "of 1 run"
line() { # label seconds rss_kb
    printf '%-34s %8.2f %9.1f %12.0f %7.1f MB %8.1f%%\n' "$1" "$2" \
        "$(awk -v b="$bytes" -v s="$2" 'BEGIN {print b / 1e6 / s}')" \
        "$(awk -v r="$ROWS" -v s="$2" 'BEGIN {print r / s}')" \
        "$(awk -v k="$3" 'BEGIN {print k / 1024}')" \
        "$(awk -v s="$2" -v o="$one_s" 'BEGIN {print 100 * s / o}')"
}
measure shards-one "$MEKONG" run "$WORK/shards.yaml" "${one[@]}" --quiet || exit 1
one_s=$best_s one_kb=$rss_kb
line "mekong run (one run, the peer)" "$best_s" "$rss_kb"
measure shards-wc wc -l "$csv" || exit 1
line "wc -l (a sequential read)" "$best_s" "$rss_kb"
measure shards-plan "$MEKONG" plan "$WORK/shards.yaml" --shards "$N" --dir "$dir" "${many[@]}" --quiet || exit 1
plan_s=$best_s
line "mekong plan --shards $N" "$best_s" "$rss_kb"
measure_shards shards "$N" "$MEKONG" run "$WORK/shards.yaml" --dir "$dir" "${many[@]}" --quiet || exit 1
line "mekong run --shard (slowest)" "$slowest" "$shard_kb"
line "mekong run --shard (sum of $N)" "$sum" "$shard_kb"
measure shards-merge "$MEKONG" merge "$WORK/shards.yaml" --dir "$dir" "${many[@]}" --quiet || exit 1
merge_s=$best_s
line "mekong merge" "$best_s" "$rss_kb"
echo "    plan + merge: $(awk -v p="$plan_s" -v m="$merge_s" -v o="$one_s" 'BEGIN {printf "%.2f s, %.1f%% of one run", p + m, 100 * (p + m) / o}')" \
     "(the issue asks at most 10%); peak RSS of a shard $(awk -v a="$shard_kb" -v b="$one_kb" 'BEGIN {printf "%.1f MB, one run %.1f MB", a / 1024, b / 1024}')"
status=0
for f in out.csv rejects.csv; do
    cmp -s "$WORK/shards-one/$f" "$WORK/shards-merged/$f" || { echo "bench shards: merged $f differs from one run's" >&2; status=1; }
done
rm -rf "$dir" "$WORK/shards-one" "$WORK/shards-merged"
exit $status
