#!/usr/bin/env bash
# rejects-order.sh -- the rejects file is in input order (docs/PIPELINES.md,
# "The rejects file"): a source's rejects (short rows, blank lines) and a
# rule's rejects of the same stretch of input interleave by record, whatever
# the batch size, and 2, 5 and 9 shards give the same file as one run.
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-rejects-order.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
ok() { echo "ok - rejects-order: $*"; }
fail() { echo "not ok - rejects-order: $*"; }
if ! "$MEKONG" plugins 2> /dev/null | grep -q '^lua '; then
    echo "# skip: rejects-order: the lua plugin is not built"
    exit 0
fi
python3 - <<'PYTHON'
import random
random.seed(7)
out = ["ma,ten,ghi_chu"]
for i in range(1, 12001):
    r = random.random()
    if r < 0.03:
        out.append("%d,Trần Thị %d" % (i, i))               # a field short: the source rejects it
    elif r < 0.04:
        out.append("")                                     # a blank line: the source rejects it
    elif r < 0.07:
        out.append('%d,"Lê Văn %d","dòng một\ndòng hai"' % (i, i))
    else:
        out.append("%d,Nguyễn Văn %d,ghi chú %d" % (i, i, i))
open("in.csv", "w", newline="").write("\n".join(out) + "\n")
PYTHON
cat > rules.lua <<'LUA'
function process(row)
  check("ma.seven", tonumber(row.ma) % 7 ~= 0, "ma is a multiple of 7")
end
LUA
cat > p.yaml <<'YAML'
sources: [ { name: in, plugin: csv, path: in.csv } ]
transforms: [ { plugin: lua, script: rules.lua } ]
sinks: [ { plugin: csv, path: out/out.csv } ]
rejects: out/rejects.csv
report: out/report.json
batch_rows: ${B}
YAML
ordered() { # the file's _record column never goes down
    python3 -c 'import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
recs = [int(r["_record"]) for r in rows]
stages = {r["_stage"] for r in rows}
sys.exit(0 if recs == sorted(recs) and len(stages) == 2 and len(rows) > 800 else 1)' "$1"
}
"$MEKONG" run p.yaml --set B=1024 -q && mv out one
"$MEKONG" run p.yaml --set B=100 -q && mv out small
if ordered one/rejects.csv && cmp -s one/rejects.csv small/rejects.csv; then
    ok "one run: source and rule rejects in record order, the same with batch_rows 1024 and 100"
else
    fail "one run: rejects not in record order, or they depend on batch_rows"
fi
bad=""
for n in 2 5 9; do
    rm -rf out "s$n"
    "$MEKONG" plan p.yaml --shards $n --dir "s$n" --set B=1024 -q &&
        for ((i = 0; i < n; i++)); do "$MEKONG" run p.yaml --shard $i --dir "s$n" --set B=1024 -q || exit 1; done &&
        "$MEKONG" merge p.yaml --dir "s$n" --set B=1024 -q
    cmp -s one/rejects.csv out/rejects.csv && cmp -s one/out.csv out/out.csv || bad="$bad $n"
done
if [ -z "$bad" ]; then
    ok "shards: 2, 5 and 9 shards give one run's rejects file byte for byte"
else
    fail "shards: the rejects differ from one run's with$bad shards"
fi
