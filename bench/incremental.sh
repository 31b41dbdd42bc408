#!/usr/bin/env bash
# bench/incremental.sh [CSV] -- what incremental: true costs on the csv
# source: the SHA-256 of every byte read, next to the same run without
# it and to sha256sum (coreutils) hashing the same file; and what a night
# with nothing new costs (a stat per file).  Best of BENCH_RUNS runs
# (default 3), input in the page cache.  Without CSV, 200 000 rows are
# generated (bench/lua-gen.awk).
set -u
here=$(cd "$(dirname "$0")" && pwd)
MEKONG=${MEKONG:-$here/../engine/mekong}
RUNS=${BENCH_RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-bench-inc.XXXXXX")
trap 'rm -rf "$work"' EXIT
WORK=$work
csv=${1:-}
if [ -z "$csv" ]; then
    csv=$work/bench.csv
    awk -v n=200000 -f "$here/lua-gen.awk" > "$csv"
fi
csv=$(cd "$(dirname "$csv")" && pwd)/$(basename "$csv")
bytes=$(stat -c %s "$csv")
. "$here/measure.bash"
for inc in false true; do
    cat > "$work/inc-$inc.yaml" <<YAML
sources: [ { name: registry, plugin: csv, path: "$csv", incremental: $inc } ]
sinks: [ { plugin: csv, path: "$work/out-$inc.csv" } ]
rejects: "$work/rejects-$inc.csv"
report: "$work/report-$inc.json"
YAML
done
"$MEKONG" run "$work/inc-false.yaml" -q || exit 1
rows=$(grep -o '"read":[0-9]*' "$work/report-false.json" | head -1 | cut -d: -f2)
echo "bench incremental: $rows records, $bytes bytes"
printf '%-44s %8s %9s %12s %10s\n' "" seconds "MB/s" "rows/s" "peak RSS"
line() {
    printf '%-44s %8.3f %9.1f %12.0f %7.1f MB\n' "$1" "$2" \
        "$(awk -v b="$bytes" -v s="$2" 'BEGIN {print b / 1e6 / s}')" \
        "$(awk -v r="$rows" -v s="$2" 'BEGIN {print r / s}')" \
        "$(awk -v k="$3" 'BEGIN {print k / 1024}')"
}
measure plain "$MEKONG" run "$work/inc-false.yaml" -q && line "mekong csv -> csv" "$best_s" "$rss_kb"
measure hashed "$MEKONG" run "$work/inc-true.yaml" -q --full-refresh &&
    line "mekong csv -> csv, incremental (SHA-256)" "$best_s" "$rss_kb"
measure sha256sum sha256sum "$csv" && line "sha256sum (the hash alone, peer)" "$best_s" "$rss_kb"
"$MEKONG" run "$work/inc-true.yaml" -q
measure nothing "$MEKONG" run "$work/inc-true.yaml" -q &&
    printf '%-44s %8.3f  (nothing new: the file is not opened)\n' "mekong, incremental, next night" "$best_s"
