# bench/measure.bash -- sourced by the bench scripts (not run by itself:
# bench/run.sh runs only bench/*.sh).  Needs WORK (a folder for the
# command's outputs) and RUNS.

# measure NAME CMD...: best wall time of RUNS runs, and the largest peak RSS
# seen; sets best_s and rss_kb.  The command's standard output and error go
# to $WORK/stdout.NAME and $WORK/stderr.NAME.
measure() {
    local name=$1; shift
    best_s=""
    rss_kb=0
    for _ in $(seq "$RUNS"); do
        local t0 t1 s rss
        t0=$(date +%s%N)
        if ! /usr/bin/time -f '%M' -o "$WORK/time.$name" "$@" > "$WORK/stdout.$name" 2> "$WORK/stderr.$name"; then
            echo "bench: $name failed:" >&2
            sed 's/^/    /' "$WORK/stderr.$name" | tail -5 >&2
            return 1
        fi
        t1=$(date +%s%N)
        s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
        rss=$(tail -1 "$WORK/time.$name")
        [ "$rss" -gt "$rss_kb" ] && rss_kb=$rss
        if [ -z "$best_s" ] || awk -v s="$s" -v b="$best_s" 'BEGIN {exit !(s < b)}'; then
            best_s=$s
        fi
    done
}

# measure_shards NAME N CMD...: measure "CMD --shard I" for I = 0 .. N-1;
# sets slowest and sum (seconds) and shard_kb (the largest peak RSS).
measure_shards() {
    local name=$1 n=$2 i; shift 2
    slowest=0 sum=0 shard_kb=0
    for ((i = 0; i < n; i++)); do
        measure "$name-$i" "$@" --shard "$i" || return 1
        slowest=$(awk -v a="$slowest" -v b="$best_s" 'BEGIN {print (b > a) ? b : a}')
        sum=$(awk -v a="$sum" -v b="$best_s" 'BEGIN {print a + b}')
        if [ "$rss_kb" -gt "$shard_kb" ]; then shard_kb=$rss_kb; fi
    done
}
