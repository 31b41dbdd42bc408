#!/usr/bin/env bash
# bench/admin.sh -- the admin transform on BENCH_ADMIN_ROWS addresses (default 1,000,000),
# generated once by bench/admin-gen.py from the shipped tables (old and 2025 forms, abbreviations,
# house parts, 1 in 20 unknown).  Best of BENCH_RUNS runs (default 3) each:
#   mekong csv -> csv            the same file passed through (the floor admin adds to)
#   mekong csv -> admin -> csv   a read-ahead thread parses, the main thread resolves and writes:
#                                2 threads; goal >= 500,000 rows/s
#   python3 bench/admin-peer.py  the integrator's dict lookup in Python (the peer)
# rows/s, MB/s (input bytes / 10^6 / s) and peak RSS for each.
# Environment: MEKONG, MEKONG_SRC, BENCH_RUNS, BENCH_ADMIN_ROWS, BENCH_WORK.
set -u
here=$(cd "$(dirname "$0")" && pwd)
SRC=${MEKONG_SRC:-$here/..}
MEKONG=${MEKONG:-$here/../engine/mekong}
RUNS=${BENCH_RUNS:-3}
ROWS=${BENCH_ADMIN_ROWS:-1000000}
WORK=${BENCH_WORK:-${MEKONG_BUILD:-$here/..}/bench/work}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
tables=$SRC/data/vn
csv=$WORK/admin-$ROWS.csv
if [ ! -s "$csv" ] || [ "$here/admin-gen.py" -nt "$csv" ]; then
    python3 "$here/admin-gen.py" "$tables" "$ROWS" > "$csv.tmp" && mv "$csv.tmp" "$csv" ||
        { echo "bench admin: cannot generate $csv" >&2; exit 1; }
fi
. "$here/measure.bash"
bytes=$(wc -c < "$csv")
line() { # label
    awk -v l="$1" -v s="$best_s" -v r="$ROWS" -v b="$bytes" -v m="$rss_kb" 'BEGIN {
        printf "  %-28s %6.2f s %7.1f MB/s %9.0f rows/s  peak RSS %6.1f MB\n", l, s, b / 1e6 / s, r / s, m / 1024 }'
}
cat > "$WORK/admin-pass.yaml" <<YAML
sources: [ { name: bench, plugin: csv, path: "$csv" } ]
sinks: [ { plugin: csv, path: "$WORK/admin-pass.csv" } ]
rejects: "$WORK/admin-pass.rejects.csv"
YAML
cat > "$WORK/admin-run.yaml" <<YAML
sources: [ { name: bench, plugin: csv, path: "$csv" } ]
transforms: [ { plugin: admin, address: address, on_split: keep, on_unknown: keep } ]
sinks: [ { plugin: csv, path: "$WORK/admin-out.csv" } ]
rejects: "$WORK/admin-run.rejects.csv"
YAML
echo "bench admin: $ROWS addresses, $bytes bytes, $(nproc) cores (shared with other work: figures vary)"
measure admin-pass "$MEKONG" run -q "$WORK/admin-pass.yaml" || exit 1
line "mekong csv -> csv"
measure admin-run "$MEKONG" run -q "$WORK/admin-run.yaml" || exit 1
admin_s=$best_s
line "mekong csv -> admin -> csv"
resolved=$(awk -F, 'NR > 1 && $(NF - 1) != "" { n++ } END { print n + 0 }' "$WORK/admin-out.csv")
RUNS=1 measure admin-peer python3 "$here/admin-peer.py" "$tables" "$csv" "$WORK/admin-peer.csv" || exit 1
line "python3 dict lookup (peer)"
# CPU seconds (all threads) of one more run: what a row costs, whatever the load
/usr/bin/time -f '%U %S' -o "$WORK/time.admin-cpu" "$MEKONG" run -q "$WORK/admin-run.yaml" 2> /dev/null
/usr/bin/time -f '%U %S' -o "$WORK/time.pass-cpu" "$MEKONG" run -q "$WORK/admin-pass.yaml" 2> /dev/null
read -r au as < "$WORK/time.admin-cpu"
read -r pu ps < "$WORK/time.pass-cpu"
awk -v r="$ROWS" -v a="$au" -v b="$as" -v c="$pu" -v d="$ps" 'BEGIN {
    printf "  CPU: csv -> admin -> csv %.2f s, csv -> csv %.2f s: admin costs %.2f us a row\n",
        a + b, c + d, (a + b - c - d) * 1e6 / r }'
uptime | sed 's/^/  load:/'
awk -v r="$ROWS" -v s="$admin_s" -v n="$resolved" 'BEGIN {
    printf "  admin: %.0f rows/s on 2 threads (goal >= 500,000: %s); %d of %d rows resolved to one ward\n",
        r / s, (r / s >= 500000 ? "met" : "NOT met"), n, r }'
