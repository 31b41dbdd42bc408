#!/usr/bin/env bash
# locks.sh -- one run at a time (issue 12): two runs of one pipeline started
# together, 20 times: with lock_wait: 0 one runs and the other exits 4
# naming the holder; with lock_wait: 30 the second waits and runs after
# the first.  Outputs and state are always those of whole runs.  Two
# pipelines writing one file exclude each other too, and the lock of a
# run killed with -9 is free.
set -u
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-locks.XXXXXX")
trap 'rm -rf "$work"' EXIT
plugins=(--plugin-dir "$MEKONG_BUILD/tests/plugins/.libs")
export MEKONG_TEST_PUBLISH_DELAY_MS=40 # a run lasts some 300 ms: the two overlap
mkdir -p "$work/p" "$work/q"
cat > "$work/p/p.yaml" <<'YAML'
lock_wait: ${WAIT}
sources:
  - name: numbers
    plugin: testkit
    count: 1000
    resume: true
sinks:
  - name: a
    plugin: csv
    path: out/a.csv
  - name: b
    plugin: jsonl
    path: out/b.jsonl
rejects: out/rejects.csv
report: out/report.json
html_report: out/report.html
YAML
# another pipeline (another run folder) writing p's a.csv
sed -e 's|path: out/a.csv|path: ../p/out/a.csv|' -e 's|out/b.jsonl|out/qb.jsonl|' "$work/p/p.yaml" > "$work/q/q.yaml"
run() { # pipeline, wait, tag
    ( cd "$work/$(dirname "$1")" && exec "$MEKONG" run "$(basename "$1")" --set WAIT="$2" \
        "${plugins[@]}" ) 2> "$work/err.$3"
    echo $? > "$work/rc.$3"
}
first_row() { sed -n 2p "$work/p/out/a.csv"; }
last_row() { tail -n 1 "$work/p/out/a.csv"; }
state_next() { sed -n 's/.*"next": \([0-9]*\).*/\1/p' "$work/p/.mekong/p/state.json"; }

bad=0 locked=0
for i in $(seq 20); do
    rm -rf "$work/p/out" "$work/p/.mekong"
    run p/p.yaml 0 1 & run p/p.yaml 0 2 & wait
    rcs="$(cat "$work/rc.1") $(cat "$work/rc.2")"
    why=""
    case "$rcs" in
        "0 4"|"4 0") locked=$((locked + 1))
            loser=$([ "$(cat "$work/rc.1")" = 4 ] && echo 1 || echo 2)
            grep -q "another run holds the lock .*: pid [0-9]* on host .*, started 20" "$work/err.$loser" ||
                why="the message does not name the holder" ;;
        "0 0") ;; # they did not overlap: both ran, one after the other
        *) why="exit statuses $rcs" ;;
    esac
    # one run: rows 1..1000; two after each other: 1001..2000; never a mix
    n=$(state_next)
    [ "$rcs" = "0 0" ] && want=2000 || want=1000
    [ "$n" = "$want" ] && [ "$(first_row)" = $((want - 999)) ] && [ "$(last_row)" = "$want" ] &&
        [ "$(sed -n 's/.*"n":"\([0-9]*\)".*/\1/p' "$work/p/out/b.jsonl" | tail -n 1)" = "$want" ] ||
        why="$why; outputs and state not those of one run (state $n, rows $(first_row)..$(last_row))"
    if [ -n "$why" ]; then bad=$((bad + 1)); echo "# lock_wait 0, try $i: $why"; cat "$work"/err.* | sed 's/^/#   /'; fi
done
if [ $bad = 0 ] && [ $locked -ge 15 ]; then
    echo "ok - locks: 20 pairs of runs started together (lock_wait 0): $locked times one ran and the other exited 4 naming the holder; outputs and state of one run"
else
    echo "not ok - locks: lock_wait 0: $bad wrong of 20, $locked locked out"
fi

bad=0
for i in $(seq 20); do
    rm -rf "$work/p/out" "$work/p/.mekong"
    run p/p.yaml 30 1 & run p/p.yaml 30 2 & wait
    rcs="$(cat "$work/rc.1") $(cat "$work/rc.2")"
    if [ "$rcs" != "0 0" ] || [ "$(state_next)" != 2000 ] || [ "$(first_row)" != 1001 ] || [ "$(last_row)" != 2000 ]; then
        bad=$((bad + 1)); echo "# lock_wait 30, try $i: exit $rcs, state $(state_next), rows $(first_row)..$(last_row)"
    fi
done
if [ $bad = 0 ]; then
    echo "ok - locks: 20 pairs of runs started together (lock_wait 30): the second waited and ran after the first, every time"
else
    echo "not ok - locks: lock_wait 30: $bad of 20 pairs went wrong"
fi

rm -rf "$work/p/out" "$work/p/.mekong"
run p/p.yaml 0 1 & sleep 0.1; run q/q.yaml 0 2; wait
if [ "$(cat "$work/rc.2")" = 4 ] && grep -q "another run holds the lock $work/p/out/.a.csv.lock: pid" "$work/err.2" && [ "$(cat "$work/rc.1")" = 0 ]; then
    echo "ok - locks: a pipeline writing another pipeline's output waits for its lock (exit 4)"
else
    echo "not ok - locks: two pipelines writing one file: exits $(cat "$work/rc.1") $(cat "$work/rc.2")"; sed 's/^/# /' "$work"/err.*
fi

( cd "$work/p" && exec "$MEKONG" run p.yaml --set WAIT=0 "${plugins[@]}" ) 2>/dev/null & pid=$!
sleep 0.15; kill -9 $pid; wait $pid 2>/dev/null
holder=$(grep -h '^pid' "$work/p/.mekong/p/lock")
run p/p.yaml 0 1
if [ "$(cat "$work/rc.1")" = 0 ] && [ "$holder" = "pid $pid" ] && grep -q "^pid [0-9]" "$work/p/.mekong/p/lock" && ! grep -q "^pid $pid\$" "$work/p/.mekong/p/lock"; then
    echo "ok - locks: the lock of a run killed with -9 is taken over by the next run"
else
    echo "not ok - locks: after kill -9 (holder '$holder'), the next run exited $(cat "$work/rc.1")"; sed 's/^/# /' "$work/err.1"
fi

# mekong state --reset takes the pipeline's lock too: not while a run runs
( cd "$work/p" && exec "$MEKONG" run p.yaml --set WAIT=0 "${plugins[@]}" ) 2>/dev/null & pid=$!
sleep 0.1
( cd "$work/p" && "$MEKONG" state --reset p.yaml --set WAIT=0 "${plugins[@]}" ) > "$work/out.reset" 2>&1; rc=$?
wait $pid
if [ $rc = 4 ] && grep -q "state not cleared: another run holds the lock" "$work/out.reset" && [ -e "$work/p/.mekong/p/state.json" ]; then
    echo "ok - locks: mekong state --reset during a run exits 4 and clears nothing"
else
    echo "not ok - locks: mekong state --reset during a run exited $rc"; sed 's/^/# /' "$work/out.reset"
fi
