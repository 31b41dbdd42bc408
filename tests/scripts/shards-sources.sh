#!/usr/bin/env bash
# shards-sources.sh -- a pipeline of several sources as N shards (docs/SCALE.md
# "Several sources"): one run reads its sources one after another, so the
# shards take contiguous stretches of their concatenation.
#
#   union-N     three csv sources of different shapes (one large UTF-8 file
#               with quoted line breaks, a glob of five files with other
#               column names and a map of their own, a TCVN3 file), through
#               lua and map (provenance) into csv and jsonl: 2, 3, 4 and 9
#               shards give one run's outputs, rejects and report
#   plan        the plan splits every source, and a shard between two
#               sources reads the end of one and the start of the next
#   dedupe      a dedupe step whose keys repeat across the sources, in the
#               four stages: one run's outputs, rejects and report
#   changed     a pipeline with a source more than its plan: refused
#   refused     a postgres or an incremental source among several: plan refused
#   keys-N      a schema step with primaryKey, a unique field and uniqueKeys,
#               keys repeated across the sources: N shards in the four stages
#               give one run's outputs, rejects and report
#   keys-changed  the schema changed after the keys stage: the shard refuses
#   keys-refused  a dedupe step with such a schema step (two steps deciding
#               keys): plan refused; a foreign key to the table itself: the
#               shard refuses it, saying what to do
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
. "$SRC/tests/shards/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-shards-sources.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work" || exit 1

ok() { echo "ok - shards-sources: $*"; }
fail() { echo "not ok - shards-sources: $*"; }

PYTHONPATH="$SRC/tests/data/encodings" python3 - <<'PYTHON' || { fail "inputs"; exit 0; }
import os, random, vnenc
random.seed(41)
names = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Đức", "Phạm Thu Hà", "Võ Ngọc Ánh"]
def rows(n, first, dup_every=0):
    out = []
    for i in range(first, first + n):
        key = i if not dup_every or i % dup_every else i // dup_every  # repeats an earlier key
        r = random.random()
        name = names[i % len(names)]
        if r < 0.05:
            out.append('%d,"%s","dòng một\ndòng hai, ""trích"""' % (key, name))
        elif r < 0.07:
            out.append('%d,%s' % (key, name))          # a field short: rejected
        else:
            out.append('%d,%s,ghi chú %d' % (key, name, i))
    return out
open("a.csv", "w", newline="").write("\n".join(["ma,ten,ghi_chu"] + rows(12000, 1, 50)) + "\n")
os.mkdir("b")
first = 20001
for k, n in enumerate([2000, 5, 0, 3000, 900]):
    body = "\n".join(["id,name,note"] + rows(n, first, 40)) + "\n"
    open("b/part-%d.csv" % k, "w", newline="").write(body)
    first += n
text = "\r\n".join(["ma,ten,ghi_chu"] + rows(6000, 40001, 30)) + "\r\n"
open("c.csv", "wb").write(vnenc.encode(text, "tcvn3"))
PYTHON

cat > rules.lua <<'LUA'
function process(row)
  if row.ma ~= nil and row.ma:sub(-1) == "7" then drop() end
  check("ma.short", row.ma == nil or #row.ma < 5 or row.ma:sub(1, 1) ~= "9", "ma starts with 9")
end
LUA
# p.yaml: three sources; DEDUPE adds a dedupe step (keep: first) before the rules
write_pipeline() { # FILE DEDUPE(0/1) EXTRA-SOURCE
    {
        cat <<'YAML'
sources:
  - name: a
    plugin: csv
    path: a.csv
  - name: b
    plugin: csv
    path: b/*.csv
    transforms:
      - plugin: map
        rename: { id: ma, name: ten, note: ghi_chu }
  - name: c
    plugin: csv
    path: c.csv
    encoding: tcvn3
YAML
        printf '%s' "$3"
        echo "transforms:"
        [ "$2" = 1 ] && printf '  - plugin: dedupe\n    key: [ma]\n'
        cat <<'YAML'
  - plugin: lua
    script: rules.lua
  - plugin: map
    provenance: { source: src, file: source_file, record: source_row, line: source_line }
sinks:
  - name: table
    plugin: csv
    path: out/out.csv
  - name: lines
    plugin: jsonl
    path: out/out.jsonl
rejects: out/rejects.csv
report: out/report.json
thresholds:
  max_rejected: 50%
YAML
    } > "$1"
}
write_pipeline p.yaml 0 ""
write_pipeline dd.yaml 1 ""

same() { shard_same "single-$1" out out.csv out.jsonl rejects.csv; } # NAME
single() { # PIPELINE NAME
    rm -rf out
    "$MEKONG" run "$1" -q || return 1
    rm -rf "single-$2" && cp -r out "single-$2" && rm -rf out
}

single p.yaml p || fail "the single run failed"
[ "$(python3 -c 'import json; print(json.load(open("single-p/report.json"))["totals"]["read"])')" -gt 20000 ] &&
    [ "$(wc -l < single-p/rejects.csv)" -gt 100 ] || fail "the single run read or rejected too little"
for n in 2 3 4 9; do
    rm -rf out "shared-$n"
    if shard_all p.yaml "shared-$n" "$n" && same p; then
        ok "union-$n: $n shards of three sources give one run's outputs, rejects and report"
    else
        fail "union-$n: $n shards of three sources differ from one run"
    fi
done

# the 4-shard plan: a, b, c each split, a shard reading the end of one
# source and the start of the next
if python3 - shared-4/plan.json <<'PYTHON'; then
import json, sys
plan = json.load(open(sys.argv[1]))
assert plan["mode"] == "sources" and [s["source"] for s in plan["sources"]] == ["a", "b", "c"]
def reads(s, k):
    part = s["parts"][k]
    return bool(part["files"]) if s["mode"] == "files" else part["start"] < part["end"]
modes = [s["mode"] for s in plan["sources"]]
assert modes == ["ranges", "files", "ranges"], modes
for s in plan["sources"]:
    assert len(s["parts"]) == 4
read = [[reads(s, k) for s in plan["sources"]] for k in range(4)]
assert all(any(r) for r in read), read                 # no shard idle
assert any(sum(r) > 1 for r in read), read             # one shard spans two sources
for i in range(3):                                     # each source's shards are contiguous
    ks = [k for k in range(4) if read[k][i]]
    assert ks == list(range(ks[0], ks[-1] + 1)), (i, ks)
PYTHON
    ok "plan: each source has a part per shard; the shards' stretches are contiguous, one spans two sources"
else
    fail "plan: the several-sources plan is not as expected"
    cat shared-4/plan.json
fi

# dedupe across the sources, four stages
single dd.yaml dd || fail "the single dedupe run failed"
dups=$(grep -c 'duplicate' single-dd/rejects.csv)
rm -rf out dd-shared
if [ "$dups" -gt 100 ] && "$MEKONG" plan dd.yaml --shards 4 --dir dd-shared -q &&
    shard_stages dd.yaml dd-shared 4 && same dd; then
    ok "dedupe: keys repeated across the sources ($dups duplicates), 4 shards in four stages give one run's outputs"
else
    fail "dedupe: across several sources the shards differ from one run ($dups duplicates)"
fi

# a pipeline with a source more than its plan
write_pipeline p4.yaml 0 '  - name: d
    plugin: csv
    path: a.csv
'
"$MEKONG" plan p.yaml --shards 2 --dir shared-changed -q
cp p4.yaml p.yaml
"$MEKONG" run p.yaml --shard 0 --dir shared-changed -q 2> changed.err
rc=$?
write_pipeline p.yaml 0 ""
if [ $rc != 0 ] && grep -q 'plan is for 3 source(s), the pipeline has 4' changed.err; then
    ok "changed: a shard of a pipeline with a source more than its plan is refused (exit $rc), with the reason"
else
    fail "changed: exit $rc: $(cat changed.err)"
fi

# a postgres source, or an incremental one, among several
write_pipeline pg.yaml 0 '  - name: d
    plugin: postgres
    conninfo: "host=127.0.0.1 port=1 dbname=x"
    table: t
'
write_pipeline inc.yaml 0 '  - name: d
    plugin: csv
    path: a.csv
    incremental: true
'
"$MEKONG" plan pg.yaml --shards 2 --dir shared-pg -q 2> pg.err
rc1=$?
"$MEKONG" plan inc.yaml --shards 2 --dir shared-inc -q 2> inc.err
rc2=$?
if [ $rc1 = 2 ] && [ $rc2 = 2 ] && grep -q 'source d (plugin postgres).*several sources' pg.err &&
    grep -q 'source d (plugin csv, incremental)' inc.err && [ ! -e shared-pg/plan.json ]; then
    ok "refused: a postgres or an incremental source among several: plan exits 2 and says why"
else
    fail "refused: exit $rc1 / $rc2: $(cat pg.err inc.err)"
fi

# a schema step whose keys must hold over all rows: decided by the four stages
cat > keys.schema.json <<'JSON'
{"fields": [{"name": "ma", "type": "integer"}, {"name": "ten", "type": "string"},
            {"name": "ghi_chu", "type": "string", "constraints": {"unique": true}}],
 "missingValues": [""], "primaryKey": ["ma"], "uniqueKeys": [["ten", "ghi_chu"]]}
JSON
sed 's|^transforms:|transforms:\n  - plugin: schema\n    schema: keys.schema.json|' p.yaml > k.yaml
single k.yaml k || fail "the single run with schema keys failed"
pk=$(grep -c 'primary key (ma) repeats' single-k/rejects.csv)
uf=$(grep -c "is not unique" single-k/rejects.csv)
uk=$(grep -c "unique key (ten, ghi_chu) repeats" single-k/rejects.csv)
for n in 3 4; do
    rm -rf out
    if [ "$pk" -gt 100 ] && [ "$uf" -gt 100 ] && [ "$uk" -gt 100 ] && "$MEKONG" plan k.yaml --shards $n --dir shared-k -q &&
        grep -q '"stage": "decide"' shared-k/plan.json && shard_stages k.yaml shared-k $n &&
        SHARD_STRIP_PROFILE=1 same k; then
        ok "keys-$n: primaryKey, a unique field and uniqueKeys repeated across sources and shards ($pk, $uf, $uk repeats): $n shards in four stages give one run's outputs, rejects and report"
    else
        fail "keys-$n: schema keys in $n shards differ from one run ($pk, $uf, $uk repeats)"
    fi
done

# the shards check the keys stage's rows: a schema changed after it (ghi_chu
# now needs a digit, so rows listed as repeats fail their cells) fails the shard
cp keys.schema.json keys-kept.schema.json
sed 's|"constraints": {"unique": true}|"constraints": {"unique": true, "pattern": ".*[0-9].*"}|' \
    keys-kept.schema.json > keys.schema.json
rm -rf out
"$MEKONG" run k.yaml --shard 0 --dir shared-k -q 2> changed.err
ch_rc=$?
grep -q '"pattern"' keys.schema.json && changed=yes
mv keys-kept.schema.json keys.schema.json
if [ "${changed:-}" = yes ] && [ $ch_rc = 1 ] &&
    grep -q 'schema#1.*run the keys and decide stages again' changed.err; then
    ok "keys-changed: a schema changed after the keys stage: the shard exits 1, naming the step, and says to run the keys and decide stages again"
else
    fail "keys-changed: exit $ch_rc: $(cat changed.err)"
fi

# what stays refused: a second step deciding keys; a foreign key to the table itself
sed 's|^transforms:|transforms:\n  - plugin: schema\n    schema: keys.schema.json|' dd.yaml > k2.yaml
"$MEKONG" plan k2.yaml --shards 2 --dir shared-k2 -q 2> k2.err
k2_rc=$?
sed 's|"uniqueKeys": \[\["ten", "ghi_chu"\]\]|"foreignKeys": [{"fields": ["ten"], "reference": {"resource": "", "fields": ["ghi_chu"]}}]|' \
    keys.schema.json > fk.schema.json
sed 's|^transforms:|transforms:\n  - plugin: schema\n    schema: fk.schema.json|' p.yaml > fk.yaml
rm -rf out
"$MEKONG" plan fk.yaml --shards 2 --dir shared-fk -q
"$MEKONG" run fk.yaml --stage keys --shard 0 --dir shared-fk -q 2> fk.err
fk_rc=$?
if [ $k2_rc = 2 ] && grep -q '2 steps that decide keys over all rows' k2.err && [ ! -e shared-k2/plan.json ] &&
    grep -q '"foreignKeys"' fk.schema.json && [ $fk_rc = 1 ] && grep -q 'foreign key to this table itself.*resources' fk.err; then
    ok "keys-refused: a dedupe step and a schema step with keys: plan exits 2; a foreign key to the table itself: the shard exits 1; both say what to do"
else
    fail "keys-refused: two keyed steps plan exit $k2_rc, self foreign key exit $fk_rc: $(cat k2.err fk.err)"
fi
