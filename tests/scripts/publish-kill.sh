#!/usr/bin/env bash
# publish-kill.sh -- kill -9 at 100 random moments of a run with three
# sinks, rejects, two reports and a state file, many of them inside the
# publish step (MEKONG_TEST_PUBLISH_DELAY_MS slows it down).  Then the next
# run (one that fails at once, so that it publishes nothing of its own)
# finishes or drops what the dead one left: the outputs are the old set or
# the new set whole, and no temporary file or journal remains.
set -u
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-kill.XXXXXX")
trap 'rm -rf "$work"' EXIT
plugins=(--plugin-dir "$MEKONG_BUILD/tests/plugins/.libs")
moments=${MEKONG_KILL_MOMENTS:-100}
mkdir -p "$work/p"
cat > "$work/p/p.yaml" <<'YAML'
sources:
  - name: numbers
    plugin: testkit
    count: 60000
    resume: true
transforms:
  - plugin: testkit
    reject_every: 7
    fail_at: ${FAIL}
sinks:
  - name: a
    plugin: csv
    path: out/a.csv
  - name: b
    plugin: jsonl
    path: out/b.jsonl
  - name: c
    plugin: csv
    path: sub/c.csv
  - name: package
    plugin: testkit
    path: out/package
rejects: out/rejects.csv
report: out/report.json
html_report: out/report.html
YAML
run() { ( cd "$work/p" && exec "$MEKONG" run p.yaml --set FAIL="${FAIL:-0}" "${plugins[@]}" --quiet ) 2>> "$work/err"; }
set_of() {
    for f in out/a.csv out/b.jsonl sub/c.csv out/rejects.csv out/package/rows.txt out/package/count.txt; do
        echo "== $f"; cksum < "$work/p/$f" 2>/dev/null || echo "(missing)"
    done
    echo "== state"; grep -A3 '"steps"' "$work/p/.mekong/p/state.json" 2>/dev/null || echo "(missing)"
}
run || { echo "not ok - publish-kill: the first run failed"; exit 0; }
cp -a "$work/p" "$work/old"
old=$(set_of)
start=$(date +%s%N)
run
span=$(( ($(date +%s%N) - start) / 1000000 ))
new=$(set_of)
export MEKONG_TEST_PUBLISH_DELAY_MS=25
start=$(date +%s%N)
rm -rf "$work/p"; cp -a "$work/old" "$work/p"; run
slow=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$(set_of)" = "$new" ] || { echo "not ok - publish-kill: a slowed run gives another set"; exit 0; }

bad=0 olds=0 news=0 inside=0
for i in $(seq "$moments"); do
    rm -rf "$work/p"; cp -a "$work/old" "$work/p"
    ms=$(( RANDOM % (slow + 20) ))
    ( cd "$work/p" && exec "$MEKONG" run p.yaml --set FAIL=0 "${plugins[@]}" --quiet ) 2>/dev/null &
    pid=$!
    sleep "$(printf '0.%03d' "$ms")"
    kill -9 "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ -e "$work/p/.mekong/p/publish.journal" ] && inside=$((inside + 1))
    : > "$work/err"
    FAIL=1 MEKONG_TEST_PUBLISH_DELAY_MS=0 run # finishes the journal, then fails: publishes nothing
    now=$(set_of)
    left=$(cd "$work/p" && find . -name '.*.tmp-*' -o -name publish.journal)
    why=""
    if [ "$now" = "$old" ]; then olds=$((olds + 1))
    elif [ "$now" = "$new" ]; then news=$((news + 1))
    else why="a mix of old and new outputs"; fi
    [ -z "$left" ] || why="$why; left behind: $(tr '\n' ' ' <<< "$left")"
    grep -q "nothing was published" "$work/err" || why="$why; the next run did not end as expected"
    if [ -n "$why" ]; then
        bad=$((bad + 1)); echo "# kill at ${ms} ms: $why"; sed 's/^/#   /' "$work/err" | head -5
    fi
done
unset MEKONG_TEST_PUBLISH_DELAY_MS
if [ $bad = 0 ] && [ $olds -gt 0 ] && [ $news -gt 0 ] && [ $inside -gt 0 ]; then
    echo "ok - publish-kill: $moments kill -9 moments (run ${span} ms, slowed ${slow} ms; $inside inside the publish step) leave the old set ($olds) or the new set ($news) whole, no temporary file"
else
    echo "not ok - publish-kill: $bad of $moments kills left a wrong set or files behind ($olds old, $news new, $inside inside publishing)"
fi
