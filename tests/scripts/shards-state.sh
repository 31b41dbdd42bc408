#!/usr/bin/env bash
# shards-state.sh -- incremental state and XML sinks in sharded runs (issue
# 14, docs/SCALE.md).  Folder A runs the pipeline as one run, folder B as
# plan + 4 shards + merge, on the same files (copied with their times):
#
#   inc-files-N  a glob with incremental: true, round after round: first all
#                files, then rows appended to two files, one file touched and
#                one added, then nothing new: outputs (csv, xml), rejects,
#                report totals and the state (but its "saved" time) equal
#   inc-range    one file split into byte ranges: whole, then the rows
#                appended (ranges of the new bytes only, numbered on)
#   failed       a shard that fails: merge refused, state and outputs
#                untouched; its retry and the merge give one run's
#   killed       the merge killed with -9 while it publishes: the next merge
#                finishes it; state and outputs are one run's, and the next
#                round reads only the new rows
#   moved-on     the state advanced since the plan (a run): merge refused
#   xml          csv -> map -> xml, 4 shards of 3 files (one shard empty),
#                and of files without rows (the sink then writes the root
#                element alone): the document of one run
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
. "$SRC/tests/shards/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-shards-state.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work" || exit 1

ok() { echo "ok - shards-state: $*"; }
fail() { echo "not ok - shards-state: $*"; }

mkdir -p A/data
python3 - <<'PYTHON' || { fail "inputs"; exit 0; }
import random
random.seed(14)
def rows(n, first):
    out = []
    for i in range(first, first + n):
        r = random.random()
        if r < 0.05:
            out.append('%d,"Nguyễn\nVăn An",x' % i)       # a line break in quotes
        elif r < 0.08:
            out.append('%d,thiếu' % i)                    # a field short: rejected
        else:
            out.append('%d,Trần Thị %d,ghi chú' % (i, i))
    return out
first = 1
for k, n in enumerate([2500, 20, 0, 4000, 1500]):
    open("A/data/p%d.csv" % k, "w").write("\n".join(["ma,ten,ghi"] + rows(n, first)) + "\n")
    first += n
open("A/big.csv", "w").write("\n".join(["ma,ten,ghi"] + rows(8000, 1)) + "\n")
PYTHON
cat > A/p.yaml <<'YAML'
sources:
  - name: in
    plugin: csv
    path: ${IN}
    incremental: true
transforms:
  - plugin: map
    provenance: { source: src, file: f, record: r, line: l }
sinks:
  - { name: table, plugin: csv, path: out/out.csv }
  - { name: doc, plugin: xml, path: out/out.xml, root: dan, record: nguoi }
rejects: out/rejects.csv
report: out/report.json
YAML
cp -a A B

# append ROWS to file F in A (rows numbered from N)
append() {
    python3 -c 'import sys
f, n, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
open(f, "a").write("".join("%d,\"mới\n%d\",y\n" % (i, i) if i % 5 == 0 else "%d,mới %d,x\n" % (i, i)
                           for i in range(first, first + n)))' "$@"
}
records() { python3 -c 'import csv,sys; print(sum(1 for _ in csv.reader(open(sys.argv[1], newline=""))) - 1)' "$1"; }
sync_data() { cp -a A/data/. B/data/ && cp -a A/big.csv B/big.csv; }

single() { (cd A && "$MEKONG" run p.yaml --set IN="$1" -q); }
plan() { (cd B && rm -rf sh && "$MEKONG" plan p.yaml --shards 4 --dir sh --set IN="$1" -q); }
shards() { # IN: the 4 shards at once, as a scheduler runs them
    local pids=() i bad=0
    for i in 0 1 2 3; do
        (cd B && "$MEKONG" run p.yaml --shard $i --dir sh --set IN="$1" -q) &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || bad=1; done
    return $bad
}
merge() { (cd B && "$MEKONG" merge p.yaml --dir sh --set IN="$1" -q); }

# the report and the state without their times
strip_state() { grep -v '"saved":' "$1"; }

# same: B's outputs, rejects, report and state are A's
same() {
    local f
    for f in out.csv out.xml rejects.csv; do
        cmp -s "A/out/$f" "B/out/$f" || { echo "# $f differs"; return 1; }
    done
    [ "$(strip_report A/out/report.json)" = "$(strip_report B/out/report.json)" ] ||
        { diff <(strip_report A/out/report.json) <(strip_report B/out/report.json) | head; return 1; }
    [ -s A/.mekong/p/state.json ] && [ "$(strip_state A/.mekong/p/state.json)" = "$(strip_state B/.mekong/p/state.json)" ] ||
        { diff A/.mekong/p/state.json B/.mekong/p/state.json | head; return 1; }
}

round() { # NAME IN: one run in A, plan + shards + merge in B, compared
    if ! single "$2"; then
        fail "$1: the single run failed"
    elif ! plan "$2" || ! shards "$2" || ! merge "$2"; then
        fail "$1: plan, a shard or the merge failed"
    elif same; then
        ok "$1: $3"
    else
        fail "$1: plan + 4 shards + merge differ from one run"
    fi
}

G='data/*.csv'
round inc-files-1 "$G" "first run: every file; outputs, rejects, report and state of one run"
append A/data/p0.csv 30 10001
append A/data/p3.csv 700 20001
printf 'ma,ten,ghi\n30001,mới,z\n30002,thiếu\n' > A/data/p5.csv
touch A/data/p4.csv
sync_data
round inc-files-2 "$G" "appended rows, a touched and a new file: only the new rows, numbered on"
grep -q '"read": \["data/p0.csv", "data/p3.csv", "data/p5.csv"\]' B/sh/plan.json &&
    [ "$(records B/out/out.csv)" = 731 ] ||
    fail "inc-files-2: the plan does not read just the new rows"
round inc-files-3 "$G" "nothing new: no rows, the state kept"
[ "$(wc -l < B/out/out.csv)" = 1 ] || fail "inc-files-3: rows were read again"

round inc-range-1 big.csv "one file in byte ranges, first run"
append A/big.csv 3000 40001
sync_data
round inc-range-2 big.csv "one file that grew: ranges of the new bytes only, one run's state"
grep -q '"mode": "ranges"' B/sh/plan.json && grep -q '"grown": 1' B/sh/plan.json &&
    [ "$(records B/out/out.csv)" = 3000 ] || fail "inc-range-2: not a ranges plan of the new bytes"

# a shard that fails (its file gone while it ran) and its retry
append A/data/p1.csv 50 50001
append A/data/p4.csv 50 50101
sync_data
single "$G"
plan "$G"
state0=$(md5sum < B/.mekong/p/state.json)
out0=$(md5sum < B/out/out.csv)
k=$(python3 -c 'import json
for p in json.load(open("B/sh/plan.json"))["parts"]:
    if "data/p4.csv" in p["files"]: print(p["shard"])')
mv B/data/p4.csv p4.away
shards "$G" 2> /dev/null
rc1=$?
merge "$G" 2> merge.err
rc2=$?
if [ $rc1 != 0 ] && [ $rc2 = 1 ] && grep -q "shard $k" merge.err &&
    [ "$(md5sum < B/.mekong/p/state.json)" = "$state0" ] && [ "$(md5sum < B/out/out.csv)" = "$out0" ]; then
    mv p4.away B/data/p4.csv
    (cd B && "$MEKONG" run p.yaml --shard "$k" --dir sh --set IN="$G" -q) && merge "$G"
    if same; then
        ok "failed: a failed shard: merge refused, state and outputs untouched; retry + merge: one run"
    else
        fail "failed: after the retry the merge differs from one run"
    fi
else
    fail "failed: shards exit $rc1, merge exit $rc2 (the state or outputs changed?)"
    cat merge.err
    mv p4.away B/data/p4.csv 2> /dev/null
fi

# the merge killed with -9 while it publishes, then merged again
append A/data/p0.csv 40 60001
append A/data/p5.csv 40 60101
sync_data
single "$G"
plan "$G" && shards "$G"
(cd B && MEKONG_TEST_PUBLISH_DELAY_MS=2000 exec "$MEKONG" merge p.yaml --dir sh --set IN="$G" -q) &
pid=$!
for _ in $(seq 200); do [ -e B/.mekong/p/publish.journal ] && break; sleep 0.05; done
journal=$([ -e B/.mekong/p/publish.journal ] && echo yes)
kill -9 $pid 2> /dev/null
wait $pid 2> /dev/null
if [ "$journal" = yes ] && merge "$G" && same && [ ! -e B/.mekong/p/publish.journal ] &&
    [ -z "$(find B -name '.*tmp-*')" ]; then
    append A/data/p3.csv 20 70001
    sync_data
    round killed "$G" "merge killed while publishing, merged again: one run's state and outputs; the next round reads only the new rows"
else
    fail "killed: after the killed merge (journal seen: ${journal:-no}) the next merge is not one run's"
fi

# the state moved on since the plan: the merge is refused
append A/data/p1.csv 5 80001
sync_data
plan "$G" && shards "$G"
append B/data/p1.csv 5 80101
(cd B && "$MEKONG" run p.yaml --set IN="$G" -q)
state1=$(md5sum < B/.mekong/p/state.json)
merge "$G" 2> merge.err
rc=$?
if [ $rc = 1 ] && grep -q 'changed since the plan' merge.err && [ "$(md5sum < B/.mekong/p/state.json)" = "$state1" ]; then
    ok "moved-on: a run advanced the state after the plan: merge refused, state untouched"
else
    fail "moved-on: merge exit $rc"
    cat merge.err
fi

# XML: 3 files in 4 shards (one shard empty), and files without rows
mkdir -p X/in X/none
printf 'ma,ten\n1,Nguyễn <Văn> & "An"\n2,\n' > X/in/a.csv
printf 'ma,ten\n3,"dòng\nhai"\n' > X/in/b.csv
python3 -c 'open("X/in/c.csv","w").write("ma,ten\n" + "".join("%d,tên %d\n" % (i, i) for i in range(4, 3000)))'
printf 'ma,ten\n' > X/none/a.csv
printf 'ma,ten\n' > X/none/b.csv
cat > X/x.yaml <<'YAML'
sources: [ { name: in, plugin: csv, path: "${IN}" } ]
transforms: [ { plugin: map, provenance: { file: f, record: r, line: l } } ]
sinks:
  - { plugin: xml, path: out/out.xml, root: danh_sach, record: nguoi, null: nil, namespace: "urn:vn:dan" }
rejects: out/rejects.csv
report: out/report.json
YAML
bad=""
for in in 'in/*.csv' 'none/*.csv'; do
    (cd X && rm -rf out sh && "$MEKONG" run x.yaml --set IN="$in" -q && mv out/out.xml single.xml &&
        "$MEKONG" plan x.yaml --shards 4 --dir sh --set IN="$in" -q &&
        for i in 0 1 2 3; do "$MEKONG" run x.yaml --shard $i --dir sh --set IN="$in" -q || exit 1; done &&
        "$MEKONG" merge x.yaml --dir sh --set IN="$in" -q && cmp -s single.xml out/out.xml &&
        cp sh/plan.json "plan-${in%%/*}.json" && cp out/out.xml "${in%%/*}.xml") || bad="$bad $in"
done
empty_shard=$(cd X && python3 -c 'import json; print(sum(1 for p in json.load(open("plan-in.json"))["parts"] if not p["files"]))')
n_in=$(grep -c '<nguoi>' X/single.xml) # (the last: none/*.csv)
if [ -z "$bad" ] && [ "$n_in" = 0 ] && [ "$empty_shard" -ge 1 ] &&
    [ "$(grep -c '<nguoi>' X/in.xml)" = 2999 ]; then
    ok "xml: 4 shards of 3 files (one empty) and of files without rows: one run's document, byte for byte"
else
    fail "xml: the merged document differs from one run's:$bad"
fi
