#!/usr/bin/env bash
# shards.sh -- one pipeline as N shards (issue 14, docs/SCALE.md), the
# shards run as plain processes: mekong plan, mekong run --shard I, mekong
# merge must give the outputs of one run, byte for byte.
#
#   union-*     4 shards of one large file (UTF-8 with a BOM, and TCVN3; CRLF,
#               quoted fields holding line breaks and "", blank lines, rows
#               with a wrong field count) and of 7 files (a glob), through
#               lua (drop, reject) and map (provenance: file, record, line):
#               csv and jsonl outputs and the rejects byte-identical to one
#               run, the report the same but for its times
#   empty       more shards than files, and than records: empty shards
#   refused     merge before every shard finished: exit 1, nothing published
#   killed      a shard killed with -9 while publishing its parts: merge
#               refused; the retry and the merge publish one run's outputs
#   retry       a shard run again replaces its own parts and nothing else
#   twice       merge run twice: the same outputs
#   join-*      the parts joined as the shards finish (shards in any order,
#               a joined shard run again, a joined file cut short or with
#               bytes after what the state names, outputs on another file
#               system): the merge still publishes one run's outputs
#   dedupe-*    csv -> map -> dedupe -> lua -> csv in the four stages (keys,
#               decide, shards, merge) over one large file and a glob, with
#               reject/drop and null_key pass/reject/compare: one run's
#               outputs, rejects and report; record 1's key repeated in
#               shards 2 and 3; a decide before every keys stage finished
#               and a shard before every bucket was decided refused; a keys
#               task killed while publishing, retried, run twice; damaged
#               stage files refused; keep: last refused
#   auto        --shard auto from JOB_COMPLETION_INDEX and SLURM_ARRAY_TASK_*
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
. "$SRC/tests/shards/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-shards.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

ok() { echo "ok - shards: $*"; }
fail() { echo "not ok - shards: $*"; }

PYTHONPATH="$SRC/tests/data/encodings" python3 - <<'PYTHON' || { fail "inputs"; exit 0; }
import os, random, vnenc
random.seed(14)
names = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Đức", "Phạm Thu Hà", "Võ Ngọc Ánh"]
def rows(n, first):
    out = []
    for i in range(first, first + n):
        r = random.random()
        name = names[i % len(names)]
        if r < 0.05:
            out.append('%d,"%s","dòng một\ndòng hai, ""trích"""' % (i, name))
        elif r < 0.07:
            out.append('%d,%s' % (i, name))           # a field short: rejected
        elif r < 0.08:
            out.append('')                           # a blank line: rejected
        elif r < 0.09:
            out.append('%d,"%s","a\r\nb,c"' % (i, name))
        else:
            out.append('%d,%s,ghi chú %d' % (i, name, i))
    return out
text = "\r\n".join(["ma,ten,ghi_chu"] + rows(20000, 1)) + "\r\n"
open("one-utf8.csv", "w", newline="").write("\ufeff" + text)
open("one-tcvn3.csv", "wb").write(vnenc.encode(text, "tcvn3"))
os.mkdir("many")
first = 1
for k, n in enumerate([3000, 10, 0, 7000, 1, 2500, 4000]):
    body = "\n".join(["ma,ten,ghi_chu"] + rows(n, first)) + "\n"
    open("many/part-%d.csv" % k, "w", newline="").write(body)
    first += n
open("tiny.csv", "w").write("ma,ten,ghi_chu\n1,a,b\n")
PYTHON

cat > rules.lua <<'LUA'
function process(row)
  if row.ma ~= nil and row.ma:sub(-1) == "7" then drop() end
  check("ma.short", row.ma == nil or #row.ma < 5 or row.ma:sub(1, 1) ~= "9", "ma starts with 9")
end
LUA
cat > p.yaml <<'YAML'
sources:
  - name: in
    plugin: csv
    path: ${IN}
    encoding: ${ENC}
transforms:
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


# single NAME IN ENC: one run's outputs into single-NAME/
single() {
    rm -rf out
    "$MEKONG" run p.yaml --set IN="$2" --set ENC="$3" -q || return 1
    rm -rf "single-$1" && cp -r out "single-$1" && rm -rf out
}


# sharded NAME IN ENC N: plan, N shards at once (as a scheduler runs them), merge
sharded() { rm -rf out && shard_all p.yaml "shared-$1" "$4" --set IN="$2" --set ENC="$3"; }
# same NAME: out/ equals single-NAME/ (outputs byte for byte, report but times)
same() { shard_same "single-$1" out out.csv out.jsonl rejects.csv; }

union() { # NAME IN ENC N
    if ! single "$1" "$2" "$3"; then
        fail "union-$1: the single run failed"
    elif ! sharded "$1" "$2" "$3" "$4"; then
        fail "union-$1: plan, a shard or the merge failed"
    elif same "$1" && [ "$(wc -l < "single-$1/rejects.csv")" -gt 10 ]; then
        ok "union-$1: $4 shards give one run's outputs, rejects and report"
    else
        fail "union-$1: $4 shards differ from one run"
    fi
}
union utf8-bom one-utf8.csv utf-8 4
union tcvn3 one-tcvn3.csv tcvn3 4
union files 'many/*.csv' utf-8 4
grep -q '"mode": "ranges"' shared-tcvn3/plan.json && grep -q '"mode": "files"' shared-files/plan.json ||
    fail "union: the plans are not of the expected modes"

# the pipeline named otherwise on the nodes (absolute there, relative to plan)
rm -rf out shared-abs
"$MEKONG" plan p.yaml --shards 3 --dir shared-abs --set 'IN=many/*.csv' --set ENC=utf-8 -q
for i in 0 1 2; do
    "$MEKONG" run "$work/p.yaml" --shard $i --dir "$work/shared-abs" --set 'IN=many/*.csv' --set ENC=utf-8 -q
done
if (cd / && "$MEKONG" merge "$work/p.yaml" --dir "$work/shared-abs" --set 'IN=many/*.csv' --set ENC=utf-8 -q) &&
    cmp -s single-files/out.csv out/out.csv && ! grep -q "\"$work" shared-abs/plan.json; then
    ok "paths: the plan names files relative to the pipeline; shards and merge may name it absolutely"
else
    fail "paths: a plan made with a relative pipeline path does not run with an absolute one"
fi

# more shards than files and than records
single tiny tiny.csv utf-8
if sharded files9 'many/*.csv' utf-8 9 && same files && sharded tiny tiny.csv utf-8 5 && same tiny; then
    ok "empty: 9 shards of 7 files and 5 shards of one record give one run's outputs"
else
    fail "empty: empty shards change the outputs"
fi

# merge before every shard finished
v=(--set IN=one-utf8.csv --set ENC=utf-8)
rm -rf out shared
"$MEKONG" plan p.yaml --shards 4 --dir shared "${v[@]}" -q
for i in 0 1 3; do "$MEKONG" run p.yaml --shard $i --dir shared "${v[@]}" -q; done
"$MEKONG" merge p.yaml --dir shared "${v[@]}" 2> merge.err
rc=$?
if [ $rc = 1 ] && [ ! -e out/out.csv ] && [ ! -e out/rejects.csv ] && grep -q 'shard 2 (not run' merge.err; then
    ok "refused: merge with shard 2 missing exits 1, names it, publishes nothing"
else
    fail "refused: merge with a shard missing: exit $rc, $(ls out 2> /dev/null | tr '\n' ' ')"
    cat merge.err
fi

# shard 2 killed with -9 while it publishes its parts (a pod evicted)
id=$(python3 -c 'import json; print(json.load(open("shared/plan.json"))["plan"])')
MEKONG_TEST_PUBLISH_DELAY_MS=3000 "$MEKONG" run p.yaml --shard 2 --dir shared "${v[@]}" -q &
pid=$!
for _ in $(seq 200); do [ -e "shared/$id/shard-2/run/publish.journal" ] && break; sleep 0.05; done
kill -9 $pid 2> /dev/null
wait $pid 2> /dev/null
"$MEKONG" merge p.yaml --dir shared "${v[@]}" -q 2> merge.err
rc=$?
if [ $rc = 1 ] && [ ! -e out/out.csv ] && grep -q 'shard 2' merge.err; then
    "$MEKONG" run p.yaml --shard 2 --dir shared "${v[@]}" -q &&
        "$MEKONG" merge p.yaml --dir shared "${v[@]}" -q
    if same utf8-bom && [ -z "$(find shared -name '.*tmp-*')" ]; then
        ok "killed: shard 2 killed while publishing: merge refused; retry and merge give one run"
    else
        fail "killed: after the retry the outputs are not one run's (or temporaries are left)"
    fi
else
    fail "killed: merge after shard 2 was killed: exit $rc"
    cat merge.err
fi

# a retry replaces its own parts only
before=$(stat -c '%n %i' shared/"$id"/shard-{0,2,3}/* 2> /dev/null | sort)
old1=$(stat -c %i shared/"$id"/shard-1/0-out.csv)
"$MEKONG" run p.yaml --shard 1 --dir shared "${v[@]}" -q
after=$(stat -c '%n %i' shared/"$id"/shard-{0,2,3}/* 2> /dev/null | sort)
new1=$(stat -c %i shared/"$id"/shard-1/0-out.csv)
if [ "$before" = "$after" ] && [ "$old1" != "$new1" ]; then
    ok "retry: shard 1 run again replaced its parts, the other shards' files untouched"
else
    fail "retry: shard 1 run again touched other shards (or not its own parts)"
fi

# merge twice
"$MEKONG" merge p.yaml --dir shared "${v[@]}" -q && same utf8-bom && m1=$(md5sum out/*.csv out/*.jsonl)
"$MEKONG" merge p.yaml --dir shared "${v[@]}" -q && m2=$(md5sum out/*.csv out/*.jsonl)
if [ -n "${m1:-}" ] && [ "$m1" = "${m2:-}" ] && same utf8-bom; then
    ok "twice: a second merge publishes the same outputs"
else
    fail "twice: the second merge differs or failed"
fi

# the parts are joined as the shards finish: DIR/<plan>/join/ (docs/SCALE.md)
joined() { # the number of shards the join state names
    local st="shared-j/$(python3 -c 'import json; print(json.load(open("shared-j/plan.json"))["plan"])')/join/state"
    [ -f "$st" ] && echo $(($(wc -l < "$st") - 1)) || echo none
}
jfile() { echo "shared-j/$(python3 -c 'import json; print(json.load(open("shared-j/plan.json"))["plan"])')/join/$1"; }
rm -rf out shared-j
"$MEKONG" plan p.yaml --shards 4 --dir shared-j "${v[@]}" -q
seen=""
for i in 3 1 0 2; do "$MEKONG" run p.yaml --shard $i --dir shared-j "${v[@]}" -q; seen="$seen $(joined)"; done
"$MEKONG" merge p.yaml --dir shared-j "${v[@]}" -q
if [ "$seen" = " none none 2 4" ] && same utf8-bom && [ "$(joined)" = none ]; then
    ok "join-order: shards 3 1 0 2: joined 0, 0, 2 then 4 parts; the merge takes the joined files"
else
    fail "join-order: joined after each shard:$seen; after the merge $(joined)"
fi
for i in 0 1 2 3; do "$MEKONG" run p.yaml --shard $i --dir shared-j "${v[@]}" -q; done
n1=$(joined)
"$MEKONG" run p.yaml --shard 1 --dir shared-j "${v[@]}" --set OUT=x -q
state=$(cat "$(jfile state)")
"$MEKONG" merge p.yaml --dir shared-j "${v[@]}" -q
if [ "$n1" = 4 ] && [ "$(echo "$state" | wc -l)" = 5 ] && same utf8-bom; then
    ok "join-retry: shard 1 run again after the join: its part and those after it joined again"
else
    fail "join-retry: joined $n1, state after the retry: $state"
fi
for i in 0 1 2 3; do "$MEKONG" run p.yaml --shard $i --dir shared-j "${v[@]}" -q; done
printf 'bytes of a joiner killed halfway' >> "$(jfile 0-out.csv)"
"$MEKONG" merge p.yaml --dir shared-j "${v[@]}" -q && same utf8-bom && r1=ok
for i in 0 1 2 3; do "$MEKONG" run p.yaml --shard $i --dir shared-j "${v[@]}" -q; done
truncate -s 1000 "$(jfile 0-out.csv)"
"$MEKONG" merge p.yaml --dir shared-j "${v[@]}" -q && same utf8-bom && r2=ok
if [ "${r1:-}" = ok ] && [ "${r2:-}" = ok ]; then
    ok "join-damaged: bytes after what the state names are cut; a file cut short is joined again"
else
    fail "join-damaged: the merge of damaged joined files: ${r1:-bad} ${r2:-bad}"
fi
# outputs on another file system than the shared folder: the joined file is copied
other=$(mktemp -d /dev/shm/mekong-shards.XXXXXX 2> /dev/null)
if [ -n "$other" ] && [ "$(stat -c %d "$other")" != "$(stat -c %d .)" ]; then
    sed "s|out/|$other/|" p.yaml > o.yaml
    "$MEKONG" plan o.yaml --shards 4 --dir shared-o "${v[@]}" -q
    for i in 0 1 2 3; do "$MEKONG" run o.yaml --shard $i --dir shared-o "${v[@]}" -q; done
    "$MEKONG" merge o.yaml --dir shared-o "${v[@]}" -q
    if cmp -s single-utf8-bom/out.csv "$other/out.csv" && cmp -s single-utf8-bom/rejects.csv "$other/rejects.csv"; then
        ok "join-elsewhere: outputs on another file system: the joined files are copied there"
    else
        fail "join-elsewhere: outputs on another file system differ from one run's"
    fi
    rm -rf "$other"
else
    [ -n "$other" ] && rmdir "$other"
    echo "# skip: join-elsewhere: /dev/shm is not another file system here"
fi

# ---- dedupe across shards: keys, decide, shards, merge -------------------------
python3 - <<'PYTHON' || fail "dedupe inputs"
import os, random
random.seed(1414)
def rows(n, first, total):
    out = []
    for i in range(first, first + n):
        at = (i - 1) / total
        if i == 1 or abs(at - 0.6) < 1e-4 or abs(at - 0.9) < 1e-4:
            key = "079000000000"                     # shard 0 first, then shards 2 and 3
        elif random.random() < 0.03:
            key = ""                                 # a NULL key
        else:
            key = "0790%08d" % random.randint(1, 4000)
        if random.random() < 0.03:
            out.append('%d,%s,"dòng một\ndòng hai"' % (i, key))
        else:
            out.append('%d,%s,Nguyễn Văn %d' % (i, key, i))
    return out
open("dd-one.csv", "w", newline="").write("\n".join(["ma,cccd,ten"] + rows(20000, 1, 20000)) + "\n")
os.mkdir("dd-many")
first = 1
for k, n in enumerate([3000, 10, 0, 7000, 1, 2500, 4000]):
    open("dd-many/part-%d.csv" % k, "w", newline="").write(
        "\n".join(["ma,cccd,ten"] + rows(n, first, 16511)) + "\n")
    first += n
PYTHON
cat > dd.yaml <<'YAML'
sources:
  - name: in
    plugin: csv
    path: ${IN}
transforms:
  - plugin: map
    provenance: { source: src, file: source_file, record: source_row, line: source_line }
  - plugin: dedupe
    key: [cccd]
    on_duplicate: ${OD}
    null_key: ${NK}
  - plugin: lua
    script: rules.lua
sinks:
  - plugin: csv
    path: out/out.csv
  - plugin: jsonl
    path: out/out.jsonl
rejects: out/rejects.csv
report: out/report.json
YAML
same_dd() { shard_same "dd-single-$1" out out.csv out.jsonl rejects.csv; } # NAME
dd_union() { # NAME IN OD NK
    local v=(--set "IN=$2" --set "OD=$3" --set "NK=$4")
    rm -rf out "dd-shared-$1"
    "$MEKONG" run dd.yaml "${v[@]}" -q && mv out "dd-single-$1" || { fail "dedupe-$1: the single run failed"; return; }
    if ! "$MEKONG" plan dd.yaml --shards 4 --dir "dd-shared-$1" "${v[@]}" -q || ! shard_stages dd.yaml "dd-shared-$1" 4 "${v[@]}"; then
        fail "dedupe-$1: plan, a stage or the merge failed"
    elif same_dd "$1"; then
        ok "dedupe-$1: keys, decide, 4 shards and merge give one run's outputs, rejects and report"
    else
        fail "dedupe-$1: 4 shards with dedupe ($3, null_key $4) differ from one run"
    fi
}
dd_union one-reject dd-one.csv reject pass
dd_union one-drop dd-one.csv drop reject
dd_union one-compare dd-one.csv reject compare
dd_union many-reject 'dd-many/*.csv' reject pass
dd_union many-drop 'dd-many/*.csv' drop reject
# the key of record 1 (shard 0) again in shards 2 and 3; duplicates inside a shard; NULL keys
plan=$(python3 -c 'import json; p = json.load(open("dd-shared-one-reject/plan.json")); print(p["parts"][2]["record"], p["parts"][3]["record"])')
far=$(python3 -c 'import csv, sys
lo2, lo3 = map(int, sys.argv[1].split())
rows = [r for r in csv.DictReader(open("dd-single-one-reject/rejects.csv", newline="")) if "079000000000" in r["_reason"]]
print(sum(1 for r in rows if "seen first in in record 1 (" in r["_reason"] and int(r["_record"]) > lo2),
      sum(1 for r in rows if int(r["_record"]) > lo3))' "$plan")
nulls=$(grep -c 'duplicate.null_key' dd-single-one-drop/rejects.csv)
within=$(python3 -c 'import csv, re, sys
lo, hi = map(int, sys.argv[1].split())
n = 0
for r in csv.DictReader(open("dd-single-one-reject/rejects.csv", newline="")):
    m = re.search(r"seen first in in record (\d+)", r["_reason"])
    n += bool(m) and lo < int(m.group(1)) <= hi and lo < int(r["_record"]) <= hi
print(n)' "$plan")
if [ "${far% *}" -ge 2 ] && [ "${far#* }" -ge 1 ] && [ "$nulls" -gt 100 ] && [ "$within" -gt 100 ]; then
    ok "dedupe-spread: record 1's key rejected in shards 2 and 3 naming record 1; $nulls NULL keys; $within duplicates first seen in shard 2 itself"
else
    fail "dedupe-spread: the input does not spread duplicates as meant (far $far, nulls $nulls, within $within)"
fi

# a decide before every keys stage finished; a shard before every bucket was decided
dv=(--set IN=dd-one.csv --set OD=reject --set NK=pass)
rm -rf out dd-shared
"$MEKONG" plan dd.yaml --shards 4 --dir dd-shared "${dv[@]}" -q
ddid=$(python3 -c 'import json; print(json.load(open("dd-shared/plan.json"))["plan"])')
for i in 0 1 3; do "$MEKONG" run dd.yaml --stage keys --shard $i --dir dd-shared "${dv[@]}" -q; done
"$MEKONG" run dd.yaml --stage decide --shard 0 --dir dd-shared "${dv[@]}" 2> dd.err
rc=$?
if [ $rc = 1 ] && grep -q 'shard 2 (not run' dd.err && [ ! -e "dd-shared/$ddid/bucket-0" ] &&
    [ ! -e "dd-shared/$ddid/shard-2" ]; then
    ok "dedupe-refused-decide: a decide with shard 2's keys stage missing exits 1 and names it"
else
    fail "dedupe-refused-decide: exit $rc"
    cat dd.err
fi
"$MEKONG" run dd.yaml --stage keys --shard 2 --dir dd-shared "${dv[@]}" -q
for b in 0 1 3; do "$MEKONG" run dd.yaml --stage decide --shard $b --dir dd-shared "${dv[@]}" -q; done
"$MEKONG" run dd.yaml --shard 0 --dir dd-shared "${dv[@]}" 2> dd.err
rc=$?
if [ $rc = 1 ] && grep -q 'not decided (2)' dd.err && [ ! -e "dd-shared/$ddid/shard-0/report.json" ] &&
    [ ! -e "dd-shared/$ddid/shard-0/0-out.csv" ]; then
    ok "dedupe-refused-shard: a shard run before bucket 2 was decided exits 1 and names it"
else
    fail "dedupe-refused-shard: exit $rc"
    cat dd.err
fi

# a keys task killed while publishing: decide refused; its retry (and a second run) then give one run
MEKONG_TEST_PUBLISH_DELAY_MS=3000 "$MEKONG" run dd.yaml --stage keys --shard 2 --dir dd-shared "${dv[@]}" -q &
pid=$!
for _ in $(seq 200); do [ -e "dd-shared/$ddid/shard-2/keys/run/publish.journal" ] && break; sleep 0.05; done
kill -9 $pid 2> /dev/null
wait $pid 2> /dev/null
"$MEKONG" run dd.yaml --stage decide --shard 2 --dir dd-shared "${dv[@]}" 2> dd.err
rc=$?
"$MEKONG" run dd.yaml --stage keys --shard 2 --dir dd-shared "${dv[@]}" -q &&
    "$MEKONG" run dd.yaml --stage keys --shard 2 --dir dd-shared "${dv[@]}" -q &&
    for b in 0 1 2 3; do "$MEKONG" run dd.yaml --stage decide --shard $b --dir dd-shared "${dv[@]}" -q; done &&
    for i in 0 1 2 3; do "$MEKONG" run dd.yaml --shard $i --dir dd-shared "${dv[@]}" -q; done &&
    "$MEKONG" merge dd.yaml --dir dd-shared "${dv[@]}" -q
if [ $rc = 1 ] && grep -q 'shard 2 (died while publishing' dd.err && same_dd one-reject &&
    [ -z "$(find dd-shared -name '.*tmp-*')" ]; then
    ok "dedupe-retry: a keys task killed while publishing: decide refused; its retry, run twice, gives one run"
else
    fail "dedupe-retry: decide after the killed keys task exit $rc, or the retry differs"
    cat dd.err
fi

# damaged stage files are refused, naming the file: a keys file cut short, another
# build's hashes (the probe), a duplicates list cut short; nothing published
keysf="dd-shared/$ddid/shard-1/keys/bucket-3.keys"
dupsf="dd-shared/$ddid/bucket-2/duplicates"
cp "$keysf" keys.bak && cp "$dupsf" dups.bak
head -c -40 keys.bak > "$keysf"
"$MEKONG" run dd.yaml --stage decide --shard 3 --dir dd-shared "${dv[@]}" 2> dd.err
rc1=$?
grep -q 'bucket-3.keys: not a keys file .*cut short' dd.err || rc1="$rc1 (message: $(head -c 300 dd.err))"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[30] ^= 1; open(sys.argv[2], "wb").write(b)' keys.bak "$keysf"
"$MEKONG" run dd.yaml --stage decide --shard 3 --dir dd-shared "${dv[@]}" 2> dd.err
rc2=$?
grep -q 'key hashes differ' dd.err || rc2="$rc2 (message: $(head -c 300 dd.err))"
cp keys.bak "$keysf"
head -c 100 dups.bak > "$dupsf"
rm -rf out
"$MEKONG" run dd.yaml --shard 0 --dir dd-shared "${dv[@]}" 2> dd.err
rc3=$?
grep -q 'bucket-2/duplicates is not a duplicates file' dd.err || rc3="$rc3 (message: $(head -c 300 dd.err))"
cp dups.bak "$dupsf"
cp "dd-shared/$ddid/bucket-3/duplicates" dups3.bak # deciding again writes the same bytes
"$MEKONG" run dd.yaml --stage decide --shard 3 --dir dd-shared "${dv[@]}" -q &&
    cmp -s dups3.bak "dd-shared/$ddid/bucket-3/duplicates" || rc4=differs
if [ "$rc1" = 1 ] && [ "$rc2" = 1 ] && [ "$rc3" = 1 ] && [ -z "${rc4:-}" ] && [ ! -e out/out.csv ]; then
    ok "dedupe-damaged: a cut keys file, another build's hashes, a cut duplicates list: refused (exit 1)"
else
    fail "dedupe-damaged: cut keys $rc1, probe $rc2, cut duplicates $rc3, decide again ${rc4:-same}"
fi

# what cannot run across shards
sed 's/    null_key: ${NK}/    null_key: ${NK}\n    keep: last/' dd.yaml > dd-last.yaml
"$MEKONG" plan dd-last.yaml --shards 2 --dir dd-shared-l "${dv[@]}" 2> dd.err
rc1=$?
"$MEKONG" run p.yaml --stage keys --shard 0 --dir shared "${v[@]}" 2> dd2.err
rc2=$?
if [ $rc1 = 2 ] && grep -q 'keep: last, which cannot run across shards' dd.err && [ ! -e dd-shared-l/plan.json ] &&
    [ $rc2 = 2 ] && grep -q 'no dedupe step' dd2.err; then
    ok "dedupe-refusals: keep: last is refused across shards; --stage without a dedupe step too (exit 2)"
else
    fail "dedupe-refusals: keep: last plan exit $rc1, --stage keys without dedupe exit $rc2"
    cat dd.err dd2.err
fi

# --shard auto
rm -rf out shared-a
"$MEKONG" plan p.yaml --shards 3 --dir shared-a "${v[@]}" -q
JOB_COMPLETION_INDEX=0 "$MEKONG" run p.yaml --shard auto --dir shared-a "${v[@]}" -q &&
    SLURM_ARRAY_TASK_ID=6 SLURM_ARRAY_TASK_MIN=5 "$MEKONG" run p.yaml --shard auto --dir shared-a "${v[@]}" -q &&
    SLURM_ARRAY_TASK_ID=2 "$MEKONG" run p.yaml --shard auto --dir shared-a "${v[@]}" -q &&
    "$MEKONG" merge p.yaml --dir shared-a "${v[@]}" -q
rc=$?
env -u JOB_COMPLETION_INDEX -u SLURM_ARRAY_TASK_ID "$MEKONG" run p.yaml --shard auto --dir shared-a \
    "${v[@]}" -q 2> auto.err
rc2=$?
if [ $rc = 0 ] && same utf8-bom && [ $rc2 = 2 ] && grep -q JOB_COMPLETION_INDEX auto.err; then
    ok "auto: --shard auto takes JOB_COMPLETION_INDEX or SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN"
else
    fail "auto: --shard auto (exit $rc, without the variables $rc2)"
fi

# header: false in and out, JSON Lines rejects: nothing to leave out when joining
cat > nh.yaml <<'YAML'
sources:
  - name: in
    plugin: csv
    path: nh.csv
    header: false
    columns: [a, b, c]
transforms:
  - plugin: map
    provenance: { record: r, line: l }
sinks:
  - plugin: csv
    path: nh/out.csv
    header: false
rejects: nh/rejects.jsonl
report: nh/report.json
YAML
tail -n +2 one-utf8.csv > nh.csv
"$MEKONG" run nh.yaml -q && mv nh nh-single
"$MEKONG" plan nh.yaml --shards 3 --dir shared-nh -q &&
    for i in 0 1 2; do "$MEKONG" run nh.yaml --shard $i --dir shared-nh -q; done &&
    "$MEKONG" merge nh.yaml --dir shared-nh -q
if cmp -s nh-single/out.csv nh/out.csv && cmp -s nh-single/rejects.jsonl nh/rejects.jsonl &&
    [ "$(wc -l < nh/rejects.jsonl)" -gt 10 ]; then
    ok "no-header: header: false, a headerless csv sink and JSON Lines rejects join exactly"
else
    fail "no-header: the joined outputs differ from one run's"
fi

# a threshold crossed by the totals: the merge exits 3 and publishes only the report, as one run
sed 's/max_rejected: 50%/max_rejected: 0.1%/' p.yaml > t.yaml
rm -rf out shared-t
"$MEKONG" run t.yaml "${v[@]}" -q 2> /dev/null
rc1=$?
mv out t-single
"$MEKONG" plan t.yaml --shards 3 --dir shared-t "${v[@]}" -q
for i in 0 1 2; do "$MEKONG" run t.yaml --shard $i --dir shared-t "${v[@]}" -q; done
"$MEKONG" merge t.yaml --dir shared-t "${v[@]}" -q 2> /dev/null
rc2=$?
if [ $rc1 = 3 ] && [ $rc2 = 3 ] && [ "$(ls out)" = report.json ] &&
    [ "$(shard_strip t-single/report.json)" = "$(shard_strip out/report.json)" ]; then
    ok "threshold: checked on the merged totals: exit 3, nothing but the report, the same report"
else
    fail "threshold: single run exit $rc1, merge exit $rc2, outputs: $(ls out | tr '\n' ' ')"
fi

# UTF-16 is refused; a file that changed after the plan fails the shard
"$MEKONG" plan p.yaml --shards 2 --dir shared-u --set IN=one-utf8.csv --set ENC=utf-16 2> u.err
rc1=$?
cp one-utf8.csv grown.csv
"$MEKONG" plan p.yaml --shards 2 --dir shared-g --set IN=grown.csv --set ENC=utf-8 -q
echo "20001,x,y" >> grown.csv
"$MEKONG" run p.yaml --shard 1 --dir shared-g --set IN=grown.csv --set ENC=utf-8 2> g.err
rc2=$?
if [ $rc1 = 2 ] && grep -q 'UTF-16' u.err && [ ! -e shared-u/plan.json ] && [ $rc2 = 1 ] &&
    grep -q 'changed since the shard plan' g.err; then
    ok "refusals: UTF-16 is not split (exit 2); a file grown since the plan fails the shard (exit 1)"
else
    fail "refusals: UTF-16 plan exit $rc1, grown file shard exit $rc2"
fi

# random bytes of CSV's alphabet (stray and doubled quotes, CR alone, CRLF,
# quotes after a closing quote): 9 shards still give one run's outputs
cat > fz.yaml <<'YAML'
sources: [ { name: in, plugin: csv, path: fz.csv } ]
transforms: [ { plugin: map, provenance: { record: r, line: l } } ]
sinks: [ { plugin: csv, path: fz/out.csv } ]
rejects: fz/rejects.csv
report: fz/report.json
YAML
bad=""
for seed in 1 2 3; do
    python3 -c 'import random, sys
random.seed(int(sys.argv[1]))
alphabet = ["a", "b", "\"", ",", "\n", "\r", "\r\n", "x", "\"", ",", " ", "ệ", "\"\""]
out = ["c1,c2,c3\n"]
for i in range(40000):
    out.append(random.choice(alphabet) if random.random() < 0.5 else random.choice("ab12"))
open("fz.csv", "w", newline="").write("".join(out))' "$seed"
    rm -rf fz fz-single "shared-fz"
    "$MEKONG" run fz.yaml -q && mv fz fz-single
    "$MEKONG" plan fz.yaml --shards 9 --dir shared-fz -q
    for i in $(seq 0 8); do "$MEKONG" run fz.yaml --shard "$i" --dir shared-fz -q; done
    "$MEKONG" merge fz.yaml --dir shared-fz -q
    for f in out.csv rejects.csv report.json; do
        [ "$f" = report.json ] && { [ "$(shard_strip fz-single/$f)" = "$(shard_strip fz/$f)" ] || bad="$bad $seed:$f"; continue; }
        cmp -s "fz-single/$f" "fz/$f" || bad="$bad $seed:$f"
    done
done
if [ -z "$bad" ]; then
    ok "garbage: 3 random files of quotes, delimiters and line ends: 9 shards give one run's outputs"
else
    fail "garbage: differs from one run:$bad"
fi
