#!/usr/bin/env bash
# bench/run.sh -- what `make bench` runs: mekong against Miller on one
# generated file, measured in the same run.
#
#   1. bench/gen writes bench/work/bench.csv (BENCH_ROWS rows, default
#      1,000,000; 13 columns of citizen-registry-like Vietnamese text), once:
#      it is made again only when bench/gen is newer or the row count changed.
#   2. Three commands run BENCH_RUNS times each (default 3), best run kept:
#        mekong csv -> csv     (pass-through, the goal's figure)
#        mekong csv -> jsonl
#        mlr --icsv --ocsv cat (Miller, what a user would reach for instead)
#      For each: seconds, MB/s (input bytes / 10^6 / s), rows/s and peak RSS
#      (/usr/bin/time), and mekong/Miller rows/s.  The goal of issue 2:
#      csv -> csv at least 3 times Miller's rows/s.
#   3. Every other bench/*.sh runs with the CSV's path as $1 and the mekong
#      binary in $MEKONG (MEKONG_BUILD, MEKONG_SRC set too).
#
# Miller and GNU time are installed with apt-get when missing (as root).
# All runs read the file from the page cache (it was just written or read)
# and write their output to bench/work on the same disk; mekong's sinks
# fsync before they rename, Miller's redirected output does not.
#
# Environment: MEKONG, MEKONG_BUILD, MEKONG_SRC, BENCH_GEN (set by make),
# BENCH_ROWS, BENCH_RUNS, BENCH_WORK (default $MEKONG_BUILD/bench/work).
set -u
BUILD=${MEKONG_BUILD:-$(pwd)}
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
MEKONG=${MEKONG:-$BUILD/engine/mekong}
GEN=${BENCH_GEN:-$BUILD/bench/gen}
ROWS=${BENCH_ROWS:-1000000}
RUNS=${BENCH_RUNS:-3}
WORK=${BENCH_WORK:-$BUILD/bench/work}
export MEKONG MEKONG_BUILD="$BUILD" MEKONG_SRC="$SRC"

die() { echo "bench: $*" >&2; exit 1; }
[ -x "$MEKONG" ] || die "$MEKONG is not built: run make first"
[ -x "$GEN" ] || die "$GEN is not built: run make bench (it builds bench/gen)"
mkdir -p "$WORK" || die "cannot create $WORK"

# apt_install COMMAND PACKAGE: make COMMAND available, or say why not.
apt_install() {
    command -v "$1" >/dev/null 2>&1 && return 0
    echo "bench: $1 is missing; installing the Debian package $2"
    local sudo=()
    if [ "$(id -u)" -ne 0 ]; then
        command -v sudo >/dev/null 2>&1 || { echo "bench: not root and no sudo: apt-get install $2" >&2; return 1; }
        sudo=(sudo)
    fi
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get install -y -q --no-install-recommends "$2" >/dev/null 2>&1 ||
        { "${sudo[@]}" apt-get update -q >/dev/null 2>&1 &&
          "${sudo[@]}" apt-get install -y -q --no-install-recommends "$2" >/dev/null 2>&1; } ||
        { echo "bench: apt-get install $2 failed" >&2; return 1; }
}
[ -x /usr/bin/time ] || apt_install /usr/bin/time time || die "GNU time is needed for peak RSS"
have_mlr=1
apt_install mlr miller || have_mlr=0

if ldd "$MEKONG" 2>/dev/null | grep -q libasan; then
    echo "bench: WARNING: $MEKONG is a sanitizer build; these figures mean nothing"
fi

# ---- the data ------------------------------------------------------------
csv="$WORK/bench.csv"
stamp="$WORK/bench.csv.rows"
if [ ! -f "$csv" ] || [ "$GEN" -nt "$csv" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$ROWS" ]; then
    echo "bench: generating $ROWS rows into $csv"
    rm -f "$stamp"
    "$GEN" -n "$ROWS" -o "$csv" || die "bench/gen failed"
    echo "$ROWS" > "$stamp"
fi
bytes=$(stat -c %s "$csv")

# ---- the machine ----------------------------------------------------------
cpu=$(lscpu 2>/dev/null | sed -n 's/^Model name: *//p' | head -1)
mem=$(awk '/^MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo)
os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
echo "== mekong benchmark, $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine:  ${cpu:-unknown CPU}, $(nproc) cores, $mem RAM, ${os:-unknown OS}, Linux $(uname -r)"
echo "build:    $("$MEKONG" --version 2>&1 | head -1), CFLAGS ${BENCH_CFLAGS:-unknown}, $(${CC:-cc} --version 2>/dev/null | head -1)"
echo "miller:   $([ $have_mlr = 1 ] && mlr --version || echo 'not available')"
echo "input:    $csv: $ROWS rows, $bytes bytes ($(awk -v b="$bytes" -v r="$ROWS" 'BEGIN {printf "%.0f", b / r}') bytes a row)"
echo "runs:     best of $RUNS; input in the page cache; outputs written to $WORK"
echo

pipeline() { # sink-plugin output-path yaml-path
    cat > "$3" <<YAML
name: bench-$1
sources:
  - name: registry
    plugin: csv
    path: $csv
sinks:
  - plugin: $1
    path: $2
rejects: $WORK/rejects.csv
YAML
}
pipeline csv "$WORK/out.csv" "$WORK/csv.yaml"
pipeline jsonl "$WORK/out.jsonl" "$WORK/jsonl.yaml"

. "$SRC/bench/measure.bash" # measure NAME CMD...

# check_report NAME: the last run's report says every row was written.
check_report() {
    local r="$WORK/report.$1.json"
    grep -q "\"read\":$ROWS," "$r" && grep -q "\"written\":$ROWS," "$r" &&
        grep -q '"balanced":true' "$r" && return 0
    echo "bench: $1: the run report does not show $ROWS rows read and written:" >&2
    grep -o '"totals".*' "$r" >&2
    return 1
}

printf '%-26s %8s %9s %12s %10s\n' "" seconds "MB/s" "rows/s" "peak RSS"
line() { # label seconds rss_kb
    printf '%-26s %8.2f %9.1f %12.0f %7.1f MB\n' "$1" "$2" \
        "$(awk -v b="$bytes" -v s="$2" 'BEGIN {print b / 1e6 / s}')" \
        "$(awk -v r="$ROWS" -v s="$2" 'BEGIN {print r / s}')" \
        "$(awk -v k="$3" 'BEGIN {print k / 1024}')"
}
status=0
declare -A secs
for sink in csv jsonl; do
    if measure "mekong-$sink" "$MEKONG" run "$WORK/$sink.yaml" --quiet \
           --report "$WORK/report.mekong-$sink.json" && check_report "mekong-$sink"; then
        secs[$sink]=$best_s
        line "mekong csv -> $sink" "$best_s" "$rss_kb"
    else
        status=1
    fi
done
if [ $have_mlr = 1 ]; then
    if measure mlr mlr --icsv --ocsv cat "$csv"; then
        mv "$WORK/stdout.mlr" "$WORK/out.mlr.csv"
        secs[mlr]=$best_s
        line "mlr --icsv --ocsv cat" "$best_s" "$rss_kb"
    else
        status=1
    fi
else
    echo "# skip: Miller is not available, so there is no ratio (install the package miller)"
fi
echo
if [ -n "${secs[mlr]:-}" ]; then
    for sink in csv jsonl; do
        [ -n "${secs[$sink]:-}" ] || continue
        ratio=$(awk -v m="${secs[mlr]}" -v k="${secs[$sink]}" 'BEGIN {printf "%.2f", m / k}')
        printf 'mekong csv -> %-5s / Miller rows/s: %sx' "$sink" "$ratio"
        if [ "$sink" = csv ]; then
            if awk -v r="$ratio" 'BEGIN {exit !(r >= 3)}'; then
                printf '   (goal: at least 3x: met)'
            else
                printf '   (goal: at least 3x: NOT met)'
            fi
        fi
        echo
    done
fi
rm -f "$WORK"/stdout.* "$WORK"/stderr.* "$WORK"/time.*

# ---- the other benchmarks ------------------------------------------------
for script in "$SRC"/bench/*.sh; do
    [ "$(basename "$script")" = run.sh ] && continue
    [ -f "$script" ] || continue
    echo
    echo "== $(basename "$script")"
    bash "$script" "$csv" || { echo "bench: $(basename "$script") failed" >&2; status=1; }
done
exit $status
