#!/usr/bin/env bash
# bench/encodings.sh -- the cost of decoding legacy Vietnamese encodings
# (issue 4): csv -> csv with NFC over the same registry rows written in
# UTF-8, in Windows-1258 and in TCVN3 (ABC), measured in the same run.
#
#   utf8.csv    bench/gen rows (ENC_ROWS, default 600,000: about 100 MB once
#               encoded in a legacy single-byte form), UTF-8 NFC;
#   cp1258.csv  the same text through glibc iconv -t CP1258 (letters with
#               tones written as base letter + tone mark, as Windows does);
#   tcvn3.csv   the same text through tests/data/encodings/vnenc.py (TCVN3
#               has no toned capitals: those few letters come back lower
#               case, so its output is compared with that expectation).
#
# Each file runs through `mekong run` (csv source with encoding: utf-8 /
# cp1258 / tcvn3, csv sink) BENCH_RUNS times, best run kept.  Printed: MB/s
# of the input as read, rows/s, peak RSS, and the time over the UTF-8 run
# of the same rows; the goal is at most 30% more.  The outputs must be the
# UTF-8 run's output byte for byte (TCVN3: after lower-casing the toned
# capitals), or the figure is not printed as a result.
#
# Usage: bench/encodings.sh [CSV]   (CSV is ignored: the rows are generated
# here so that every file holds exactly the same records.)
# Environment: MEKONG, MEKONG_BUILD, MEKONG_SRC (set by make bench),
# ENC_ROWS, BENCH_RUNS, BENCH_WORK.
set -u
BUILD=${MEKONG_BUILD:-$(pwd)}
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
MEKONG=${MEKONG:-$BUILD/engine/mekong}
GEN=$BUILD/bench/gen
ROWS=${ENC_ROWS:-600000}
RUNS=${BENCH_RUNS:-3}
WORK=${BENCH_WORK:-$BUILD/bench/work}/encodings
die() { echo "bench encodings: $*" >&2; exit 1; }
[ -x "$GEN" ] || die "$GEN is not built (make bench builds it)"
command -v iconv > /dev/null || die "iconv is missing"
command -v python3 > /dev/null || die "python3 is missing"
mkdir -p "$WORK" || die "cannot create $WORK"

echo "== legacy encodings: csv -> csv with NFC, $ROWS rows, best of $RUNS"
if [ ! -f "$WORK/tcvn3.csv" ] || [ "$GEN" -nt "$WORK/tcvn3.csv" ] ||
    [ "$(cat "$WORK/rows" 2>/dev/null)" != "$ROWS" ]; then
    rm -f "$WORK/rows"
    "$GEN" -n "$ROWS" -o "$WORK/utf8.csv" || die "bench/gen failed"
    iconv -f UTF-8 -t CP1258 "$WORK/utf8.csv" > "$WORK/cp1258.csv" || die "iconv -t CP1258 failed"
    PYTHONPATH="$SRC/tests/data/encodings" python3 "$SRC/tests/data/encodings/vnenc.py" \
        encode tcvn3 < "$WORK/utf8.csv" > "$WORK/tcvn3.csv" || die "vnenc.py encode tcvn3 failed"
    echo "$ROWS" > "$WORK/rows"
fi

for enc in utf8 cp1258 tcvn3; do
    case $enc in utf8) name=utf-8 ;; *) name=$enc ;; esac
    cat > "$WORK/$enc.yaml" <<YAML
name: bench-$enc
sources:
  - name: registry
    plugin: csv
    path: $WORK/$enc.csv
    encoding: $name
sinks:
  - plugin: csv
    path: $WORK/out.$enc.csv
rejects: $WORK/rejects.$enc.csv
YAML
done

. "$SRC/bench/measure.bash" # measure NAME CMD...

printf '%-22s %10s %8s %9s %12s %10s %10s\n' "" "input MB" seconds "MB/s" "rows/s" "peak RSS" "vs UTF-8"
status=0
base=""
for enc in utf8 cp1258 tcvn3; do
    bytes=$(stat -c %s "$WORK/$enc.csv")
    if ! measure "$enc" "$MEKONG" run "$WORK/$enc.yaml" --quiet \
        --report "$WORK/report.$enc.json"; then
        echo "bench encodings: $enc: the run failed" >&2
        status=1
        continue
    fi
    read_rows=$(grep -o '"read":[0-9]*' "$WORK/report.$enc.json" | head -1 | cut -d: -f2)
    written=$(grep -o '"written":[0-9]*' "$WORK/report.$enc.json" | head -1 | cut -d: -f2)
    note=""
    case $enc in
    utf8)
        base=$best_s
        cp "$WORK/out.utf8.csv" "$WORK/expected.csv" ;;
    cp1258)
        cmp -s "$WORK/out.cp1258.csv" "$WORK/expected.csv" || note="OUTPUT DIFFERS from the UTF-8 run" ;;
    tcvn3)
        PYTHONPATH="$SRC/tests/data/encodings" python3 "$SRC/tests/data/encodings/vnenc.py" \
            tcvn3-expected < "$WORK/expected.csv" > "$WORK/expected.tcvn3.csv"
        cmp -s "$WORK/out.tcvn3.csv" "$WORK/expected.tcvn3.csv" ||
            note="OUTPUT DIFFERS from the UTF-8 run (toned capitals lower-cased)" ;;
    esac
    [ "$read_rows" = "$written" ] || note="$note only $written of $read_rows rows written"
    over=$(awk -v s="$best_s" -v b="$base" 'BEGIN {printf "%+.0f%%", (s / b - 1) * 100}')
    printf '%-22s %10.1f %8.2f %9.1f %12.0f %7.1f MB %10s\n' "mekong $enc" \
        "$(awk -v b="$bytes" 'BEGIN {print b / 1e6}')" "$best_s" \
        "$(awk -v b="$bytes" -v s="$best_s" 'BEGIN {print b / 1e6 / s}')" \
        "$(awk -v r="$read_rows" -v s="$best_s" 'BEGIN {print r / s}')" \
        "$(awk -v k="$rss_kb" 'BEGIN {print k / 1024}')" "$over"
    if [ -n "$note" ]; then
        echo "  $enc: $note"
        status=1
    elif [ "$enc" != utf8 ]; then
        if awk -v s="$best_s" -v b="$base" 'BEGIN {exit !(s <= b * 1.3)}'; then
            echo "  $enc: output identical to the UTF-8 run; decoding costs $over (goal: at most +30%: met)"
        else
            echo "  $enc: output identical to the UTF-8 run; decoding costs $over (goal: at most +30%: NOT met)"
        fi
    fi
done
rm -f "$WORK"/out.*.csv "$WORK"/expected*.csv "$WORK"/stdout.* "$WORK"/stderr.* "$WORK"/time.*
exit $status
