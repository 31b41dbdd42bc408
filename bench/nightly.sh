#!/usr/bin/env bash
# bench/nightly.sh [CSV] -- what nightly operations cost a run: the same
# csv -> csv pipeline on the 13-column benchmark file (a) plain and (b) with
# three null_share checks, a source_rows check against a history of 30
# kept reports, metrics and an HTML report with the trend.  No other tool
# does drift checks, so the peer is mekong itself without them, measured in
# the same run.  Without CSV, 200 000 rows are generated (bench/lua-gen.awk).
# Every figure is the best of BENCH_RUNS runs (default 3); input in the page
# cache.  Environment: MEKONG, BENCH_RUNS.
set -u
here=$(cd "$(dirname "$0")" && pwd)
MEKONG=${MEKONG:-$here/../engine/mekong}
RUNS=${BENCH_RUNS:-3}
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-bench-nightly.XXXXXX")
trap 'rm -rf "$work"' EXIT
WORK=$work
. "$here/measure.bash"
csv=${1:-}
if [ -z "$csv" ]; then
    csv=$work/bench.csv
    awk -v n=200000 -f "$here/lua-gen.awk" > "$csv"
fi
csv=$(cd "$(dirname "$csv")" && pwd)/$(basename "$csv")
bytes=$(wc -c < "$csv")

cat > "$work/plain.yaml" <<YAML
name: plain
sources: [ { name: bench, plugin: csv, path: "$csv" } ]
sinks: [ { plugin: csv, path: out-plain/rows.csv } ]
rejects: out-plain/rejects.csv
history: { keep: 0 }
YAML
cat > "$work/nightly.yaml" <<YAML
name: nightly
sources: [ { name: bench, plugin: csv, path: "$csv" } ]
sinks: [ { plugin: csv, path: out-nightly/rows.csv } ]
rejects: out-nightly/rejects.csv
html_report: out-nightly/report.html
metrics: out-nightly/nightly.prom
history: { keep: 30 }
checks:
  source_rows: { bench: { fail: 40% } }
  null_share: { email: { fail: 3x }, phone: { fail: 3x }, ward: { fail: 3x } }
YAML
# a history of 30 reports first (their own runs, not measured)
for _ in $(seq 30); do "$MEKONG" run "$work/nightly.yaml" -q 2>/dev/null || break; done
rows=$(grep -o '"read":[0-9]*' "$work/out-nightly/nightly.report.json" | head -1 | cut -d: -f2)
[ -n "$rows" ] || { echo "bench nightly: the pipeline did not run" >&2; exit 1; }

line() { # name
    awk -v n="$1" -v s="$best_s" -v r="$rows" -v b="$bytes" -v m="$rss_kb" \
        'BEGIN {printf "  %-34s %7.3f s  %9.0f rows/s  %7.1f MB/s  peak RSS %6.1f MB\n", n, s, r / s, b / 1e6 / s, m / 1024}'
}
echo "bench nightly: $rows rows, $bytes bytes, best of $RUNS runs"
measure plain "$MEKONG" run "$work/plain.yaml" -q || exit 1
plain_s=$best_s
line "mekong csv -> csv (plain)"
measure nightly "$MEKONG" run "$work/nightly.yaml" -q || exit 1
line "mekong with checks, history, metrics"
awk -v a="$plain_s" -v b="$best_s" 'BEGIN {printf "  nightly operations cost %+.1f%% of the plain run'"'"'s time\n", (b - a) / a * 100}'
# Wall time on a shared machine is noisy; the instructions executed are not.
if command -v valgrind >/dev/null 2>&1; then
    instrs() {
        valgrind --tool=lackey --basic-counts=yes "$MEKONG" run "$1" -q 2>&1 |
            awk '/guest instrs:/ {gsub(",", "", $NF); print $NF}'
    }
    a=$(instrs "$work/plain.yaml")
    b=$(instrs "$work/nightly.yaml")
    awk -v a="$a" -v b="$b" 'BEGIN {printf "  instructions (valgrind lackey): plain %d, nightly %d: %+.2f%%\n", a, b, (b - a) / a * 100}'
else
    echo "  # valgrind not installed: no instruction counts"
fi
