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
