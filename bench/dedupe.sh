#!/usr/bin/env bash
# bench/dedupe.sh [CSV] -- the dedupe transform on 10,000,000 distinct keys.
#
# The input (generated once into $BENCH_WORK, default $MEKONG_BUILD/bench/work,
# or a temporary folder) has DEDUPE_KEYS distinct 12-digit national IDs
# (default 10,000,000, in a scrambled order) and one repeat of an earlier
# ID every 20 rows: 10,500,000 rows, two columns (national_id, ten).  The
# CSV of run.sh ($1) is not used: it has too few keys.
#
# Four commands, best of BENCH_RUNS (default 1: each reads 10.5M rows),
# peak RSS from GNU time:
#   mekong csv -> csv              the same pipeline without dedupe (baseline)
#   mekong csv -> dedupe -> csv    key: [national_id], duplicates dropped
#   the same with keep: last       rows held until the end (peer: tac | awk | tac)
#   awk '!seen[$1]++'              the classic one-liner (mawk or gawk)
#   mlr head -n 1 -g national_id   Miller, when installed
# Peak memory per key = (peak RSS of the run - peak RSS of the baseline) /
# distinct keys, and the peak RSS over keys of the peers.  The outputs of
# all of them must have the same row count.
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${MEKONG_BUILD:-$here/..}
MEKONG=${MEKONG:-$BUILD/engine/mekong}
KEYS=${DEDUPE_KEYS:-10000000}
RUNS=${BENCH_RUNS_DEDUPE:-1}
WORK=${BENCH_WORK:-$BUILD/bench/work}
mkdir -p "$WORK" || exit 1
[ -x /usr/bin/time ] || { echo "bench dedupe: GNU time is needed (apt-get install time)" >&2; exit 1; }
. "$here/measure.bash"

csv=$WORK/dedupe.csv
if [ ! -f "$csv" ] || [ "$(cat "$csv.keys" 2>/dev/null)" != "$KEYS" ]; then
    echo "bench dedupe: generating $KEYS keys into $csv"
    # i * 999983 mod 10^12 is a bijection (999983 is prime, not 2 or 5), so
    # the keys are distinct; every 20th row repeats the key of row i / 2.
    awk -v n="$KEYS" 'BEGIN {
        print "national_id,ten"
        for (i = 1; i <= n; i++) {
            printf "%012.0f,Nguyễn Văn %d\n", (i * 999983) % 1000000000000, i % 1000
            if (i % 20 == 0)
                printf "%012.0f,lặp %d\n", (int(i / 2) * 999983) % 1000000000000, i
        }
    }' > "$csv" && echo "$KEYS" > "$csv.keys" || { echo "bench dedupe: cannot write $csv" >&2; exit 1; }
fi
rows=$((KEYS + KEYS / 20))
bytes=$(stat -c %s "$csv")

for mode in pass dedupe last; do
    {
        echo "sources: [ { name: ids, plugin: csv, path: \"$csv\" } ]"
        [ $mode = dedupe ] && echo "transforms: [ { plugin: dedupe, key: [national_id], on_duplicate: drop } ]"
        [ $mode = last ] && echo "transforms: [ { plugin: dedupe, key: [national_id], keep: last, on_duplicate: drop, memory_mb: 65536 } ]"
        echo "sinks: [ { plugin: csv, path: \"$WORK/dedupe-$mode.out.csv\" } ]"
        echo "rejects: \"$WORK/dedupe-$mode.rejects.csv\""
    } > "$WORK/dedupe-$mode.yaml"
done

echo "bench dedupe: $rows rows ($KEYS distinct keys), $bytes bytes, $(nproc) cores shared with other work; best of $RUNS"
printf '%-32s %8s %9s %12s %10s %14s\n' "" seconds "MB/s" "rows/s" "peak RSS" "bytes/key"
line() { # label seconds rss_kb bytes_per_key
    printf '%-32s %8.2f %9.1f %12.0f %7.1f MB %14s\n' "$1" "$2" \
        "$(awk -v b="$bytes" -v s="$2" 'BEGIN {print b / 1e6 / s}')" \
        "$(awk -v r="$rows" -v s="$2" 'BEGIN {print r / s}')" \
        "$(awk -v k="$3" 'BEGIN {print k / 1024}')" "$4"
}
per_key() { awk -v a="$1" -v b="$2" -v n="$KEYS" 'BEGIN {printf "%.1f", (a - b) * 1024 / n}'; }
out_rows() { echo $(($(wc -l < "$1") - 1)); }
status=0
want=$KEYS

measure dedupe-pass "$MEKONG" run "$WORK/dedupe-pass.yaml" --quiet \
    --report "$WORK/dedupe-pass.report.json" || exit 1
base_kb=$rss_kb
line "mekong csv -> csv (baseline)" "$best_s" "$rss_kb" "-"

measure dedupe "$MEKONG" run "$WORK/dedupe-dedupe.yaml" --quiet \
    --report "$WORK/dedupe-dedupe.report.json" || exit 1
got=$(out_rows "$WORK/dedupe-dedupe.out.csv")
table=$(grep -o '"key_memory_bytes":[0-9]*' "$WORK/dedupe-dedupe.report.json" | cut -d: -f2)
line "mekong csv -> dedupe -> csv" "$best_s" "$rss_kb" "$(per_key "$rss_kb" "$base_kb") over base"
echo "    key table at the end: $table bytes, $(awk -v t="$table" -v n="$KEYS" 'BEGIN {printf "%.1f", t / n}') bytes/key; rows out $got (want $want)"
[ "$got" = "$want" ] || status=1

measure dedupe-last "$MEKONG" run "$WORK/dedupe-last.yaml" --quiet \
    --report "$WORK/dedupe-last.report.json" || exit 1
got=$(out_rows "$WORK/dedupe-last.out.csv")
held=$(grep -o '"held_memory_peak_bytes":[0-9]*' "$WORK/dedupe-last.report.json" | cut -d: -f2)
line "mekong ... dedupe keep: last" "$best_s" "$rss_kb" "$(per_key "$rss_kb" "$base_kb") over base"
echo "    held at the peak (keys and rows): $held bytes, $(awk -v t="$held" -v n="$KEYS" 'BEGIN {printf "%.1f", t / n}') bytes/key; rows out $got (want $want)"
[ "$got" = "$want" ] || status=1

awk_bin=$(command -v gawk || command -v mawk || command -v awk)
measure dedupe-tac sh -c 'tac "$2" | "$1" -F, '"'"'!seen[$1]++'"'"' | tac > "$3"' sh "$awk_bin" "$csv" \
    "$WORK/dedupe-tac.out.csv" || status=1
got=$(($(wc -l < "$WORK/dedupe-tac.out.csv") - 1)) # the header passes too (a key of its own)
line "tac | awk '!seen[\$1]++' | tac" "$best_s" "$rss_kb" "$(per_key "$rss_kb" 0) total"
[ "$got" = "$want" ] || { echo "    tac | awk kept $got rows (want $want)"; status=1; }

measure dedupe-awk sh -c '"$1" -F, '"'"'!seen[$1]++'"'"' "$2" > "$3"' sh "$awk_bin" "$csv" "$WORK/dedupe-awk.out.csv" ||
    status=1
got=$(out_rows "$WORK/dedupe-awk.out.csv")
line "$(basename "$awk_bin") '!seen[\$1]++'" "$best_s" "$rss_kb" "$(per_key "$rss_kb" 0) total"
[ "$got" = "$want" ] || { echo "    awk kept $got rows (want $want)"; status=1; }

if command -v mlr > /dev/null; then
    measure dedupe-mlr sh -c 'mlr --icsv --ocsv head -n 1 -g national_id "$1" > "$2"' sh "$csv" \
        "$WORK/dedupe-mlr.out.csv" || status=1
    got=$(out_rows "$WORK/dedupe-mlr.out.csv")
    line "mlr head -n 1 -g national_id" "$best_s" "$rss_kb" "$(per_key "$rss_kb" 0) total"
    [ "$got" = "$want" ] || { echo "    Miller kept $got rows (want $want)"; status=1; }
else
    echo "# skip: Miller is not installed (apt-get install miller)"
fi
rm -f "$WORK"/dedupe-*.out.csv "$WORK"/stdout.dedupe* "$WORK"/stderr.dedupe* "$WORK"/time.dedupe*
exit $status
