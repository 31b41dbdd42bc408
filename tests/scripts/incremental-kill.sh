#!/usr/bin/env bash
# incremental-kill.sh -- kill -9 at random moments of 50 runs of an
# incremental pipeline (csv source, incremental: true) over growing inputs
# (issue 12): before each run a new file arrives, or (every third run) rows
# are appended to the last file (read from where it ended).  Each run writes its own
# output file (out/rows-RUN.csv), so every published row can be counted.
# After each kill the state never claims a file whose rows are not in a
# published output, and after a last clean run every input row has been
# published exactly once.
set -u
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-inckill.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/data"
cat > "$work/p.yaml" <<'YAML'
sources:
  - name: arrivals
    plugin: csv
    path: data/*.csv
    incremental: true
sinks:
  - plugin: csv
    path: out/rows-${RUN}.csv
  - plugin: jsonl
    path: out/rows-${RUN}.jsonl
rejects: out/rejects-${RUN}.csv
report: out/report-${RUN}.json
YAML
runs=${MEKONG_KILL_RUNS:-50}
export MEKONG_TEST_PUBLISH_DELAY_MS=30
published() { cat "$work"/out/rows-*.csv 2>/dev/null | grep -v '^id,' | sort; }
# "PATH SIZE" for every file the state claims (up to SIZE bytes)
claimed() {
    [ -f "$work/.mekong/p/state.json" ] || return 0
    python3 -c 'import json,sys
for f in json.load(open(sys.argv[1]))["steps"]["arrivals"]["files"]: print(f["path"], f["size"])' \
        "$work/.mekong/p/state.json"
}
bad=0 killed=0 inside=0
for i in $(seq "$runs"); do
    if [ $((i % 3)) = 0 ]; then # rows appended to the last file
        for k in $(seq 200); do echo "$i-$k,Hồ Chí Minh $k"; done >> "$work/$f"
    else
        f=$(printf 'data/f%03d.csv' "$i")
        { echo id,name; for k in $(seq 200); do echo "$i-$k,Hồ Chí Minh $k"; done; } > "$work/$f"
    fi
    ( cd "$work" && exec "$MEKONG" run p.yaml --set RUN="$i" --quiet ) 2>/dev/null &
    pid=$!
    sleep "$(printf '0.%03d' $(( RANDOM % 250 )))"
    kill -9 "$pid" 2>/dev/null && killed=$((killed + 1))
    wait "$pid" 2>/dev/null
    [ -e "$work/.mekong/p/publish.journal" ] && inside=$((inside + 1))
    # every claimed file's rows are in published outputs (the state is put in place last)
    published > "$work/have"
    while read -r c size; do
        head -c "$size" "$work/$c" | tail -n +2 > "$work/claimed"
        want=$(wc -l < "$work/claimed")
        n=$(grep -cxFf "$work/claimed" "$work/have")
        if [ "$n" != "$want" ]; then
            bad=$((bad + 1)); echo "# run $i: the state claims $c up to byte $size, but $n of its $want rows are published"
        fi
    done < <(claimed)
done
unset MEKONG_TEST_PUBLISH_DELAY_MS
( cd "$work" && "$MEKONG" run p.yaml --set RUN=last --quiet ) 2> "$work/err" ||
    { bad=$((bad + 1)); echo "# the last clean run failed"; sed 's/^/#   /' "$work/err"; }
want=$(cat "$work"/data/*.csv | grep -v '^id,' | sort)
got=$(published)
dups=$(uniq -d <<< "$got" | wc -l)
missing=$(comm -23 <(echo "$want") <(echo "$got") | wc -l)
left=$(cd "$work" && find . -name '.*.tmp-*' -o -name publish.journal | wc -l)
if [ $bad = 0 ] && [ "$dups" = 0 ] && [ "$missing" = 0 ] && [ "$left" = 0 ] && [ "$got" = "$want" ]; then
    echo "ok - incremental-kill: $runs runs over growing inputs, $killed killed with -9 ($inside inside publishing): the state never ran ahead of the outputs, every one of $(wc -l <<< "$want") rows published exactly once"
else
    echo "not ok - incremental-kill: $bad state claims ahead of outputs, $dups rows published twice, $missing never, $left temporary files left"
fi
