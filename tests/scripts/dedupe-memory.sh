#!/usr/bin/env bash
# dedupe-memory.sh -- dedupe keeps hashes, not keys: 1,000,000 distinct keys
# of 40 bytes each (a long composite key) cost at most 64 bytes a key of
# peak RSS over a run without dedupe, doubling included, and every first
# occurrence passes while every repeat is rejected (the report's totals).
#
# 1,000,000 keys need 2^21 slots of 24 bytes: 50 bytes a key once the table
# has doubled; a doubling that held the old table beside the new one would
# peak at 75, keeping the keys' bytes would pass 64 by their length alone.
# Under AddressSanitizer the memory bound is not checked (its allocator
# has other costs); the counts still are.
set -u
MEKONG=${MEKONG:?set MEKONG to the mekong binary}
if ! { [ -f "${MEKONG_BUILD:-.}/plugins/dedupe/.libs/dedupe.so" ] ||
       "$MEKONG" plugins 2>/dev/null | grep -q '^dedupe '; }; then
    echo "# skip: dedupe-memory: the dedupe plugin is not built"
    exit 0
fi
if [ ! -x /usr/bin/time ]; then
    echo "# skip: dedupe-memory: GNU time is needed for peak RSS (apt-get install time)"
    exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-dedupe-mem.XXXXXX")
trap 'rm -rf "$work"' EXIT
keys=1000000
# i * 999983 mod 10^12 is a bijection: distinct IDs; every 10th row repeats one
awk -v n=$keys 'BEGIN {
    print "id,ho_ten,dia_chi"
    for (i = 1; i <= n; i++) {
        id = sprintf("%012.0f", (i * 999983) % 1000000000000)
        printf "%s,Nguyễn Văn %d,Số %d đường Lê Lợi\n", id, i % 977, i % 1013
        if (i % 10 == 0) printf "%s,Nguyễn Văn %d,Số %d đường Lê Lợi\n", id, i % 977, i % 1013
    }
}' > "$work/in.csv"
for mode in pass dedupe; do
    {
        echo "sources: [ { name: people, plugin: csv, path: in.csv } ]"
        [ $mode = dedupe ] && echo "transforms: [ { plugin: dedupe, key: [id, ho_ten, dia_chi] } ]"
        echo "sinks: [ { plugin: csv, path: /dev/null } ]"
        echo "rejects: rejects-$mode.csv"
        echo "report: report-$mode.json"
    } > "$work/$mode.yaml"
    if ! (cd "$work" && /usr/bin/time -f %M -o "rss.$mode" "$MEKONG" run "$mode.yaml" -q 2> "err.$mode"); then
        echo "not ok - dedupe-memory: the $mode run failed: $(tail -1 "$work/err.$mode")"
        exit 0
    fi
done
report=$work/report-dedupe.json
total() { grep -o "\"$1\":[0-9]*" "$report" | head -1 | cut -d: -f2; }
read=$(total read) written=$(total written) rejected=$(total rejected)
if [ "$read" != $((keys + keys / 10)) ] || [ "$written" != $keys ] || [ "$rejected" != $((keys / 10)) ]; then
    echo "not ok - dedupe-memory: read $read, written $written, rejected $rejected (want $((keys + keys / 10)), $keys, $((keys / 10)))"
    exit 0
fi
base=$(tail -1 "$work/rss.pass") peak=$(tail -1 "$work/rss.dedupe")
per_key=$(awk -v a="$peak" -v b="$base" -v n=$keys 'BEGIN {printf "%.1f", (a - b) * 1024 / n}')
if ldd "$MEKONG" 2>/dev/null | grep -q libasan; then
    echo "ok - dedupe-memory: $keys keys, counts right (sanitizer build: $per_key bytes a key, not checked)"
elif awk -v p="$per_key" 'BEGIN {exit !(p <= 64)}'; then
    echo "ok - dedupe-memory: $keys keys of 40+ bytes, $per_key bytes a key of peak RSS (at most 64)"
else
    echo "not ok - dedupe-memory: $per_key bytes a key of peak RSS over the run without dedupe (at most 64)"
fi
