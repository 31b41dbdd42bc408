#!/usr/bin/env bash
# publish-faults.sh -- fault injection over the publish path (issue 13):
# with tests/shim/faultshim.so preloaded, the Nth write, fsync, rename,
# open or malloc of a run with three file sinks, a folder sink, rejects, two reports and a
# state file fails, for N = 1, 2, ... until the run makes fewer calls.
# After each: the outputs are the old set or the new set, whole (compared
# by content); exit 0 means the new set, "nothing was published" the old;
# no temporary file or journal is left.
set -u
shim="$MEKONG_BUILD/tests/shim/.libs/faultshim.so"
if [ ! -f "$shim" ]; then
    echo "# skip: publish-faults: $shim is not built (make check builds it)"
    exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-faults.XXXXXX")
trap 'rm -rf "$work"' EXIT
plugins=(--plugin-dir "$MEKONG_BUILD/tests/plugins/.libs")
mkdir -p "$work/p"
cat > "$work/p/p.yaml" <<'YAML'
sources:
  - name: numbers
    plugin: testkit
    count: 40
    resume: true
transforms:
  - plugin: testkit
    reject_every: 7
    fail_at: ${FAIL:-0}
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
# the set's renames are counted: none for the history, kept after the set (docs/NIGHTLY.md)
history: { keep: 0 }
YAML
run() { ( cd "$work/p" && "$MEKONG" run p.yaml "${plugins[@]}" ) 2> "$work/err"; }
# the set as one text: each output's bytes, and the state's steps
set_of() {
    for f in out/a.csv out/b.jsonl sub/c.csv out/rejects.csv out/package/rows.txt out/package/count.txt; do
        echo "== $f"; cat "$work/p/$f" 2>/dev/null || echo "(missing)"
    done
    echo "== state"; grep -A3 '"steps"' "$work/p/.mekong/p/state.json" 2>/dev/null || echo "(missing)"
}
run || { echo "not ok - publish-faults: the first run failed"; sed 's/^/# /' "$work/err"; exit 0; }
cp -a "$work/p" "$work/old"
old=$(set_of)
run
new=$(set_of)
cp -a "$work/p" "$work/new"
[ "$old" != "$new" ] || { echo "not ok - publish-faults: old and new sets are the same"; exit 0; }
specs="write fsync rename open:after-fsync malloc:after-fsync"
if ldd "$MEKONG" 2>/dev/null | grep -q libasan; then
    # a preload may come before the sanitizer's runtime, but not replace its malloc
    export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
    specs="write fsync rename open:after-fsync"
    echo "# skip: publish-faults: malloc failures need a build without sanitizers (their allocator cannot be interposed)"
fi

for spec in $specs; do
    call=${spec%%:*}
    mode=${spec#"$call"}
    preload=$shim
    [ "$call" = malloc ] && preload=${shim%.so}-malloc.so
    n=0 bad=0 hits=0 olds=0 news=0
    while :; do
        n=$((n + 1))
        rm -rf "$work/p" "$work/log"
        cp -a "$work/old" "$work/p"
        MEKONG_FAULT="$call:$n$mode" MEKONG_FAULT_LOG="$work/log" LD_PRELOAD="$preload" run
        rc=$?
        grep -q "^$call $n\$" "$work/log" 2>/dev/null || break # the run made fewer calls
        hits=$((hits + 1))
        now=$(set_of)
        leftovers=$(cd "$work/p" && find . -name '.*.tmp-*' -o -name publish.journal)
        why=""
        if [ "$now" = "$new" ]; then
            news=$((news + 1))
            [ $rc = 0 ] || why="new set but exit $rc"
        elif [ "$now" = "$old" ]; then
            olds=$((olds + 1))
            [ $rc = 1 ] && grep -q "nothing was published" "$work/err" || why="old set but exit $rc without 'nothing was published'"
        else
            why="a mix of old and new outputs"
        fi
        if [ -n "$leftovers" ] && [ -z "$why" ]; then
            # an old output that could not be removed must be named, and the next run removes it
            for l in $leftovers; do
                grep -q "cannot remove the old output .*/${l#./}: .*(the next run will)" "$work/err" ||
                    why="$why; left behind without a word: $l"
            done
            run
            [ -z "$(cd "$work/p" && find . -name '.*.tmp-*' -o -name publish.journal)" ] ||
                why="$why; the next run did not remove $leftovers"
        elif [ -n "$leftovers" ]; then
            why="$why; left behind: $leftovers"
        fi
        [ $rc -lt 128 ] || why="$why; crashed (exit $rc)"
        if [ -n "$why" ]; then
            bad=$((bad + 1))
            echo "# $call call $n: $why"
            sed 's/^/#   /' "$work/err" | head -5
        fi
        [ $n -lt 2000 ] || break
    done
    if [ $hits = 0 ]; then
        echo "not ok - publish-faults: no $call call was ever made to fail"
    elif [ $bad = 0 ]; then
        echo "ok - publish-faults: each of $hits failing $call calls leaves the old or the new set whole ($olds old, $news new), with a true message"
    else
        echo "not ok - publish-faults: $bad of $hits failing $call calls left a wrong set or message"
    fi
done

# Every rename from the Nth on fails, so that putting the old outputs back
# fails too: the message must say which outputs are new, the journal must
# stay, and the next run (one that fails at once, publishing nothing of its
# own) finishes publishing the new set.
n=0 bad=0 partial=0 olds=0
while :; do
    n=$((n + 1))
    rm -rf "$work/p" "$work/log"
    cp -a "$work/old" "$work/p"
    MEKONG_FAULT="rename:$n:onwards" MEKONG_FAULT_LOG="$work/log" LD_PRELOAD="$shim" run
    rc=$?
    grep -q "^rename $n\$" "$work/log" 2>/dev/null || break
    why=""
    if grep -q "PARTLY PUBLISHED" "$work/err"; then
        partial=$((partial + 1))
        [ $rc = 1 ] && [ -e "$work/p/.mekong/p/publish.journal" ] || why="PARTLY PUBLISHED, but exit $rc or no journal"
        for side in new old; do
            if [ $side = new ]; then
                list=$(sed -n 's/.*PARTLY PUBLISHED: new:\([^;]*\);.*/\1/p' "$work/err")
            else
                list=$(sed -n 's/.*; still old:\([^;]*\);.*/\1/p' "$work/err")
            fi
            for f in $list; do
                rel=${f#"$work/p/"}
                case $rel in
                    out/report.*) same=0 ;; # a report holds its run's times: not compared
                    */state.json) [ "$(grep -A3 '"steps"' "$f")" = "$(grep -A3 '"steps"' "$work/$side/$rel")" ]; same=$? ;;
                    *) diff -r "$f" "$work/$side/$rel" >/dev/null; same=$? ;;
                esac
                [ $same = 0 ] || why="$why; $rel is said to be $side but is not"
            done
        done
        ( cd "$work/p" && FAIL=1 "$MEKONG" run p.yaml "${plugins[@]}" ) 2> "$work/err2"
        [ "$(set_of)" = "$new" ] || why="$why; the next run did not finish publishing the new set"
        [ -z "$(cd "$work/p" && find . -name '.*.tmp-*' -o -name publish.journal)" ] || why="$why; files left after the next run"
    elif [ "$(set_of)" = "$old" ] && [ $rc = 1 ] && grep -q "nothing was published" "$work/err"; then
        olds=$((olds + 1))
    else
        why="neither the old set with 'nothing was published' nor PARTLY PUBLISHED (exit $rc)"
    fi
    if [ -n "$why" ]; then bad=$((bad + 1)); echo "# renames failing from $n on: $why"; sed 's/^/#   /' "$work/err" | head -3; fi
    [ $n -lt 100 ] || break
done
if [ $bad = 0 ] && [ $partial -gt 0 ]; then
    echo "ok - publish-faults: renames failing from the Nth on ($((n - 1)) cases): $olds left the old set, $partial said exactly what was new and the next run finished publishing"
else
    echo "not ok - publish-faults: renames failing from the Nth on: $bad wrong ($partial partly published, $olds old)"
fi
