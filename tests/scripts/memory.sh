#!/usr/bin/env bash
# memory.sh -- memory is bounded whatever the input size: the peak RSS of
# a run over 10,000,000 rows stays within a small margin of a run over
# 100,000 rows, for csv -> csv and csv -> jsonl.
#
# bench/gen writes the rows into a FIFO that the csv source reads, so no
# 1.9 GB input touches the disk.  The outputs go to /dev/shm when it has
# room (else $TMPDIR) and are deleted after each run; page cache and tmpfs
# pages are not in the process's RSS.  Every 10,000th row lacks a field,
# so the rejects file and the rule counters work too, and the run report's
# totals are checked: read = N, rejected = N/10000, written = the rest,
# balanced.
#
# The margin: peak(big) <= peak(small) + max(10% of peak(small), 2 MiB).
# A run keeps a few MiB (batch arenas, the 1 MiB read block, 256 KiB
# output buffers, libcsv's field buffer); what may differ between the runs
# is malloc's page-granular growth and trimming, well under 2 MiB.  Any
# per-row growth shows: 0.2 bytes a row is 2 MiB over 10 million rows.
#
# Under AddressSanitizer (detected with ldd) the runs are ten times
# shorter, 1,000,000 against 100,000 rows, and the output says so.
set -u
gen="$MEKONG_BUILD/bench/gen"
if [ ! -x "$gen" ]; then
    echo "not ok - memory: $gen is not built (make check builds it; or make bench/gen)"
    exit 0
fi
if [ ! -x /usr/bin/time ]; then
    echo "# skip: memory: GNU time is needed for peak RSS (apt-get install time)"
    exit 0
fi
small=100000
big=10000000
note=""
if ldd "$MEKONG" 2>/dev/null | grep -q libasan; then
    big=1000000
    note=" (sanitizer build: 1000000 rows instead of 10000000)"
fi
bad_every=10000

work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-memory.XXXXXX")
out=$work
if [ -d /dev/shm ] && [ -w /dev/shm ] &&
    [ "$(df -Pk /dev/shm | awk 'NR == 2 {print $4}')" -gt $((8 * 1024 * 1024)) ]; then
    out=$(mktemp -d /dev/shm/mekong-memory.XXXXXX)
fi
trap 'rm -rf "$work" "$out"' EXIT

# run_rows SINK ROWS: one run; sets rss_kb, prints a problem and returns 1
# when the run or its accounting is wrong.
run_rows() {
    local sink=$1 rows=$2
    rm -f "$work/in.csv"
    mkfifo "$work/in.csv" || return 1
    cat > "$work/p.yaml" <<YAML
sources:
  - name: registry
    plugin: csv
    path: $work/in.csv
sinks:
  - plugin: $sink
    path: $out/out.$sink
rejects: $out/rejects.csv
YAML
    "$gen" -n "$rows" --bad-every "$bad_every" -o "$work/in.csv" 2> "$work/gen.err" &
    local gen_pid=$!
    /usr/bin/time -f '%M' -o "$work/rss" "$MEKONG" run "$work/p.yaml" --quiet \
        --report "$work/report.json" 2> "$work/err"
    local rc=$?
    # a mekong that failed before opening the FIFO leaves gen blocked in open()
    [ $rc -ne 0 ] && kill "$gen_pid" 2>/dev/null
    wait "$gen_pid"
    local gen_rc=$?
    rm -f "$out/out.$sink" "$out/rejects.csv"
    if [ $rc -ne 0 ] || [ $gen_rc -ne 0 ]; then
        echo "    mekong exit status $rc, bench/gen exit status $gen_rc:"
        grep -hv '^Command exited' "$work/err" "$work/gen.err" | tail -5 | sed 's/^/    /'
        return 1
    fi
    rss_kb=$(tail -1 "$work/rss")
    local rejected=$((rows / bad_every))
    local written=$((rows - rejected))
    local t
    t=$(grep -o '"totals": *{[^}]*}' "$work/report.json")
    case "$t" in
        *'"read":'"$rows",*'"rejected":'"$rejected",*) ;;
        *) echo "    report totals: $t; expected read $rows, rejected $rejected"; return 1 ;;
    esac
    case "$t" in
        *'"written":'"$written",*'"balanced":true'*) ;;
        *) echo "    report totals: $t; expected written $written, balanced"; return 1 ;;
    esac
    return 0
}

for sink in csv jsonl; do
    if ! run_rows "$sink" "$small"; then
        echo "not ok - memory: csv -> $sink over $small rows failed"
        continue
    fi
    small_kb=$rss_kb
    echo "ok - memory: csv -> $sink over $small rows from a FIFO: report totals add up"
    if ! run_rows "$sink" "$big"; then
        echo "not ok - memory: csv -> $sink over $big rows failed"
        continue
    fi
    big_kb=$rss_kb
    echo "ok - memory: csv -> $sink over $big rows from a FIFO: report totals add up"
    margin=$((small_kb / 10))
    [ $margin -lt 2048 ] && margin=2048
    detail="peak RSS $((small_kb)) KiB over $small rows, $((big_kb)) KiB over $big rows (limit $((small_kb + margin)) KiB)"
    if [ "$big_kb" -le $((small_kb + margin)) ]; then
        echo "ok - memory: csv -> $sink peak RSS bounded: $detail$note"
    else
        echo "not ok - memory: csv -> $sink peak RSS grows with the input: $detail$note"
    fi
done
