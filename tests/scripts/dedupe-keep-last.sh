#!/usr/bin/env bash
# dedupe-keep-last.sh -- dedupe keep: last over 200,000 rows with 120,000
# keys (a key repeats in scrambled order):
#   1. the rows written are exactly the last occurrence of each key, in the
#      order they were read (computed here with awk from the input), and
#      every earlier occurrence is rejected naming the next one's record;
#   2. the memory it holds (held_memory_peak_bytes in the report: keys and
#      held rows) stays under 320 bytes a key for rows of three short
#      columns (the figure docs/PLUGINS.md gives);
#   3. memory_mb: 4 ends the run with the memory_mb message, publishing
#      nothing, instead of growing; with keep: first, memory_mb: 1 does so
#      for the key set (120,000 keys need 6 MB of slots).
set -u
MEKONG=${MEKONG:?set MEKONG to the mekong binary}
if ! { [ -f "${MEKONG_BUILD:-.}/plugins/dedupe/.libs/dedupe.so" ] ||
       "$MEKONG" plugins 2>/dev/null | grep -q '^dedupe '; }; then
    echo "# skip: dedupe-keep-last: the dedupe plugin is not built"
    exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-keep-last.XXXXXX")
trap 'rm -rf "$work"' EXIT
rows=200000 keys=120000
awk -v n=$rows -v k=$keys 'BEGIN {
    print "id,national_id,ten"
    for (i = 1; i <= n; i++)
        printf "%d,%012d,Nguyễn Văn %d\n", i, (i * 7919) % k, i % 977
}' > "$work/in.csv"
# the last occurrence of each key, in input order
awk -F, 'NR == 1 { print; next } { last[$2] = NR; line[NR] = $0 }
         END { for (i = 2; i <= NR; i++) if (last[substr(line[i], index(line[i], ",") + 1, 12)] == i) print line[i] }' \
    "$work/in.csv" > "$work/want.csv"
pipeline() {
    echo "sources: [ { name: people, plugin: csv, path: in.csv } ]"
    echo "transforms: [ { plugin: dedupe, key: [national_id], keep: ${2:-last}, memory_mb: $1 } ]"
    echo "sinks: [ { plugin: csv, path: out-$1.csv } ]"
    echo "rejects: rejects-$1.csv"
    echo "report: report-$1.json"
}
pipeline 256 > "$work/big.yaml"
pipeline 4 > "$work/small.yaml"
pipeline 1 first > "$work/first.yaml"
if ! (cd "$work" && "$MEKONG" run big.yaml -q 2> err.big); then
    echo "not ok - dedupe-keep-last: the run failed: $(tail -1 "$work/err.big")"
    exit 0
fi
distinct=$(($(wc -l < "$work/want.csv") - 1))
if cmp -s "$work/want.csv" "$work/out-256.csv"; then
    echo "ok - dedupe-keep-last: $rows rows, the last of each of $distinct keys written in read order"
else
    echo "not ok - dedupe-keep-last: the rows written are not the last occurrences in read order"
fi
# row 1 (key 7919) repeats at row 1 + 120000/gcd(7919,120000) = row 120001: record 120001
if grep -q '^1,000000007919,.*has a later occurrence in people record 120001 (in.csv)' "$work/rejects-256.csv" &&
   [ $(($(wc -l < "$work/rejects-256.csv") - 1)) = $((rows - distinct)) ]; then
    echo "ok - dedupe-keep-last: $((rows - distinct)) earlier occurrences rejected, each naming the next one"
else
    echo "not ok - dedupe-keep-last: rejects: $(sed -n 2p "$work/rejects-256.csv")"
fi
peak=$(grep -o '"held_memory_peak_bytes":[0-9]*' "$work/report-256.json" | cut -d: -f2)
per_key=$(awk -v p="${peak:-0}" -v n=$distinct 'BEGIN {printf "%.0f", p / n}')
if [ -n "$peak" ] && [ "$per_key" -gt 0 ] && [ "$per_key" -le 320 ]; then
    echo "ok - dedupe-keep-last: $per_key bytes a key held (keys and rows; at most 320)"
else
    echo "not ok - dedupe-keep-last: held_memory_peak_bytes ${peak:-absent}: $per_key bytes a key (at most 320)"
fi
(cd "$work" && "$MEKONG" run small.yaml -q 2> err.small)
rc=$?
if [ $rc = 1 ] && grep -q 'dedupe holds more than memory_mb (4 MB)' "$work/err.small" &&
   [ ! -e "$work/out-4.csv" ]; then
    echo "ok - dedupe-keep-last: memory_mb: 4 ends the run with a message, nothing published"
else
    echo "not ok - dedupe-keep-last: memory_mb: 4 gave exit $rc: $(tail -1 "$work/err.small")"
fi
(cd "$work" && "$MEKONG" run first.yaml -q 2> err.first)
rc=$?
if [ $rc = 1 ] && grep -q 'dedupe holds more than memory_mb (1 MB): [0-9]* keys' "$work/err.first" &&
   [ ! -e "$work/out-1.csv" ]; then
    echo "ok - dedupe-keep-last: keep: first with memory_mb: 1 ends the run when the keys outgrow it"
else
    echo "not ok - dedupe-keep-last: keep: first, memory_mb: 1 gave exit $rc: $(tail -1 "$work/err.first")"
fi
