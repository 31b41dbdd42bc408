#!/usr/bin/env bash
# shards-dp.sh -- a datapackage sink in shards (issue 14, docs/SCALE.md,
# "Data packages from shards"): mekong plan, mekong run --shard I, mekong
# merge must publish the package one run writes.
#
#   union-declared  4 shards (at once) of one file (byte ranges): schema:
#                   and jsonl: true, CSV rejects, JSON and HTML reports in
#                   the package; data.csv, data.jsonl, the package's and the
#                   run's rejects byte-identical to one run, the report the
#                   same but for its times, datapackage.json the same but
#                   for "created" and the report resources' bytes and hash
#                   (the reports hold times); the package hashes checked
#                   with Python's hashlib
#   union-inferred  3 shards of 7 files (a glob): the schema inferred from
#                   the column types, JSON Lines rejects, a csv sink beside
#                   the package; the sources list names every file, as one
#                   run's does
#   union-sources   4 shards of two sources (a file and a glob): the
#                   package names both agencies and every file, as one run's
#   dedupe          csv -> dedupe -> datapackage in the four stages (keys,
#                   decide, shards, merge): one run's package
#   part            a shard's part folder holds the data files and
#                   part.json only: no datapackage.json, no copies
#   empty           5 shards of 2 records: empty shards
#   refused         merge with a shard missing: exit 1, names it, publishes
#                   nothing (no package, no rejects, no temporary folder)
#   retry           shards run again after the merge (one of them twice),
#                   merged again: one run's package
#   fallback        the join folder unusable: the merge joins the parts itself
#   elsewhere       the package on another file system than the shared folder
#   merge-faults    the merge made to fail at each rename, and at each write
#                   from the first fsync on (tests/shim/faultshim.so), over
#                   an earlier package: the old package and rejects, or the
#                   new ones, never a mix, no temporary folder left
#   validate        mekong validate passes the merged packages; ajv (as
#                   datapackage.sh) checks them against the Data Package
#                   profiles when node and npm are there
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
. "$SRC/tests/shards/lib.sh"
for p in datapackage schema csv; do
    if ! "$MEKONG" plugins 2> /dev/null | grep -q "^$p "; then
        echo "# skip: shards-dp: the $p plugin is not built"
        exit 0
    fi
done
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-shards-dp.XXXXXX")
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
cd "$work" || exit 1
cp "$SRC/tests/data/datapackage/people.schema.json" .
# the schema step checks a copy without primaryKey, so that the dedupe case
# below may run (a pipeline has one step that decides keys across shards;
# schema keys in shards: shards-sources.sh); the package still declares it
python3 -c 'import json; s = json.load(open("people.schema.json")); s.pop("primaryKey", None)
json.dump(s, open("people-step.schema.json", "w"), ensure_ascii=False, indent=1)'

ok() { echo "ok - shards-dp: $*"; }
fail() { echo "not ok - shards-dp: $*"; }

python3 - <<'PYTHON' || { fail "inputs"; exit 0; }
import csv, io, os, random
random.seed(1414)
names = ["Nguyễn Thị Lan", "Trần Văn Đức", "Lê Hoàng", "Phạm Thu Hà", "Võ Ngọc Ánh"]
def rows(n, first):
    out = []
    for i in range(first, first + n):
        r = random.random()
        d = "%02d/%02d/%d" % (1 + i % 28, 1 + i % 12, 1950 + i % 60)
        note = "ghi chú %d" % i
        if r < 0.04:
            note = 'có dấu "ngoặc", phẩy'
        elif r < 0.07:
            note = "dòng\nmới"
        elif r < 0.09:
            d = "29/02/2001"                               # not a date: rejected
        elif r < 0.10:
            out.append([str(i), "", d, "nam", "1", note])  # a required field empty: rejected
            continue
        money = "%d.%03d,%02d" % (i % 7, i % 1000, i % 100) if i % 3 else str(i % 50)
        out.append([str(i), names[i % 5], d, "nữ" if i % 2 else "nam", money, note])
    return out
def write(path, body):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["ma", "ho_ten", "ngay_sinh", "gioi_tinh", "so_tien", "ghi_chu"])
    w.writerows(body)
    open(path, "w", newline="").write(buf.getvalue())
write("one.csv", rows(12000, 1))
os.mkdir("many")
first = 100001  # keys apart from one.csv's: a primaryKey is checked per shard only
for k, n in enumerate([2000, 7, 0, 3000, 1, 1500, 2500]):
    write("many/part-%d.csv" % k, rows(n, first))
    first += n
write("tiny.csv", rows(2, 1))
PYTHON

cat > declared.yaml <<'YAML'
name: ho-tich
sources:
  - name: hanoi
    plugin: csv
    path: ${IN}
transforms:
  - plugin: schema
    schema: people-step.schema.json
    canonical: true
sinks:
  - plugin: datapackage
    path: ${OUT}/ho-tich
    title: "Đăng ký hộ tịch (thử)"
    version: 1.0.0
    licenses: [CC-BY-4.0]
    sources: { hanoi: "Sở Tư pháp Hà Nội" }
    contributors: { "Nhóm dữ liệu": author }
    schema: people.schema.json
    canonical: true
    jsonl: true
rejects: ${OUT}/rejects.csv
report: ${OUT}/report.json
html_report: ${OUT}/report.html
thresholds:
  max_rejected: 50%
YAML
sed -e 's|^    path: \${IN}|    path: one.csv\
  - name: hue\
    plugin: csv\
    path: many/*.csv|' -e 's|sources: { hanoi: "Sở Tư pháp Hà Nội" }|sources: { hanoi: "Sở Tư pháp Hà Nội", hue: "Sở Tư pháp Huế" }|' \
    declared.yaml > two.yaml
cat > inferred.yaml <<'YAML'
name: ho-tich-suy
sources:
  - name: tinh
    plugin: csv
    path: ${IN}
transforms:
  - plugin: schema
    schema: people-step.schema.json
    canonical: true
  - plugin: map
    provenance: { file: tep }
sinks:
  - name: bang
    plugin: csv
    path: ${OUT}/bang.csv
  - plugin: datapackage
    path: ${OUT}/suy
    resource: ho-so
    jsonl: true
rejects: ${OUT}/rejects.jsonl
report: ${OUT}/report.json
thresholds:
  max_rejected: 50%
YAML

# the reports are compared without the schema step's per-field profile
# (distinct, min, max, null_share), which the merge adds up or takes from the
# first shard (with any sink, not only datapackage: docs/SCALE.md, "Data
# packages from shards")
export SHARD_STRIP_PROFILE=1

# single NAME PIPELINE IN: one run's outputs into single-NAME/
single() {
    rm -rf "single-$1"
    "$MEKONG" run "$2" --set IN="$3" --set OUT="single-$1" -q
}


# sharded NAME PIPELINE IN N [OUT]: plan, N shards at once, merge into out-NAME/
sharded() {
    local out=${5:-out-$1}
    rm -rf "$out" && shard_all "$2" "shared-$1" "$4" --set IN="$3" --set OUT="$out"
}

# same A B PKG: the outputs in folder B are folder A's (one run's): every
# file byte for byte but the reports, the reports but for their times, the
# package's datapackage.json but for created and the reports' bytes/hash;
# the hashes and sizes in B's descriptor are those of B's files
same() {
    local a=$1 b=$2 pkg=$3 f
    for f in $(cd "$a" && find . -type f ! -name 'report.*' ! -name datapackage.json ! -name '.*.lock' | sort); do
        cmp -s "$a/$f" "$b/$f" || { echo "# $b: $f differs from $a's"; return 1; }
    done
    [ "$(cd "$a" && find . ! -name '.*.lock' | sort)" = "$(cd "$b" && find . ! -name '.*.lock' | sort)" ] ||
        { echo "# $b: other files than $a"; diff <(cd "$a" && find . | sort) <(cd "$b" && find . | sort); return 1; }
    [ "$(shard_strip "$a/report.json" "$a")" = "$(shard_strip "$b/report.json" "$b")" ] ||
        { diff <(shard_strip "$a/report.json" "$a") <(shard_strip "$b/report.json" "$b") | head -20; return 1; }
    cmp -s "$b/report.json" "$b/$pkg/report.json" || { echo "# $b: the package's report is not the run's"; return 1; }
    python3 - "$a/$pkg" "$b/$pkg" <<'PY'
import hashlib, json, os, sys
def load(d):
    p = json.load(open(os.path.join(d, "datapackage.json")))
    p.pop("created")
    for r in p["resources"]:
        if r["name"] in ("report", "report-html"):  # reports hold times
            r.pop("bytes"), r.pop("hash")
    return p
a, b = load(sys.argv[1]), load(sys.argv[2])
if a != b:
    print("# datapackage.json differs:")
    print(json.dumps(a, indent=1, ensure_ascii=False)[:3000])
    print(json.dumps(b, indent=1, ensure_ascii=False)[:3000])
    sys.exit(1)
for r in json.load(open(os.path.join(sys.argv[2], "datapackage.json")))["resources"]:
    data = open(os.path.join(sys.argv[2], r["path"]), "rb").read()
    if r["bytes"] != len(data) or r["hash"] != "sha256:" + hashlib.sha256(data).hexdigest():
        print("# %s: bytes or hash not the file's" % r["path"])
        sys.exit(1)
PY
}

union() { # NAME PIPELINE IN N PKG
    if ! single "$1" "$2" "$3"; then
        fail "union-$1: the single run failed"
    elif ! sharded "$1" "$2" "$3" "$4"; then
        fail "union-$1: plan, a shard or the merge failed"
    elif same "single-$1" "out-$1" "$5"; then
        return 0
    else
        fail "union-$1: $4 shards differ from one run"
    fi
    return 1
}

if ! union declared declared.yaml one.csv 4 ho-tich; then
    :
elif grep -q '"mode": "ranges"' shared-declared/plan.json &&
    [ "$(grep -c . single-declared/rejects.csv)" -gt 100 ] && [ -s out-declared/ho-tich/report.html ]; then
    ok "union-declared: 4 shards of one file give one run's package (schema:, jsonl, rejects, reports)"
else
    fail "union-declared: not a ranges plan, too few rejects or no HTML report"
fi

sources() { python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["sources"]))' "$1"; }
if ! union inferred inferred.yaml 'many/*.csv' 3 suy; then
    :
elif grep -q '"mode": "files"' shared-inferred/plan.json &&
    [ "$(sources out-inferred/suy/datapackage.json)" -ge 5 ] &&
    grep -q '"type":"date"' out-inferred/suy/datapackage.json; then
    ok "union-inferred: 3 shards of 7 files give one run's package (types inferred, JSON Lines rejects, every source file named)"
else
    fail "union-inferred: not a files plan, or the package names $(sources out-inferred/suy/datapackage.json) sources, or no inferred date"
fi

agencies() {
    python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted({s["title"] for s in d["sources"]})), len(d["sources"]))' "$1"
}
if ! union sources two.yaml - 4 ho-tich; then
    :
elif grep -q '"mode": "sources"' shared-sources/plan.json &&
    agencies out-sources/ho-tich/datapackage.json | grep -Eq '^Sở Tư pháp Huế Sở Tư pháp Hà Nội [5-9]$'; then
    ok "union-sources: 4 shards of two sources give one run's package (both agencies, every file)"
else
    fail "union-sources: not a sources plan, or the sources listed: $(agencies out-sources/ho-tich/datapackage.json)"
fi

# dedupe across shards: keys, decide, shards, merge
sed -e 's|^transforms:|transforms:\
  - plugin: dedupe\
    key: [ghi_chu]|' declared.yaml > dedupe.yaml
single dedupe dedupe.yaml one.csv
v=(--set IN=one.csv --set OUT=out-dedupe)
rm -rf out-dedupe shared-dedupe
"$MEKONG" plan dedupe.yaml --shards 3 --dir shared-dedupe "${v[@]}" -q 2> /dev/null
for stage in keys decide; do
    for i in 0 1 2; do "$MEKONG" run dedupe.yaml --stage $stage --shard $i --dir shared-dedupe "${v[@]}" -q; done
done
for i in 0 1 2; do "$MEKONG" run dedupe.yaml --shard $i --dir shared-dedupe "${v[@]}" -q; done
if "$MEKONG" merge dedupe.yaml --dir shared-dedupe "${v[@]}" -q && same single-dedupe out-dedupe ho-tich &&
    [ "$(grep -c . out-dedupe/ho-tich/data.csv)" -lt "$(grep -c . single-declared/ho-tich/data.csv)" ]; then
    ok "dedupe: the four stages give one run's package"
else
    fail "dedupe: the four stages differ from one run's package"
fi

id() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1] + "/plan.json"))["plan"])' "$1"; }
part=shared-declared/$(id shared-declared)/shard-1/0-ho-tich
if [ "$(ls -A "$part" | tr '\n' ' ')" = "data.csv data.jsonl part.json " ] &&
    [ -z "$(find shared-declared -name datapackage.json)" ]; then
    ok "part: a shard's part folder holds data.csv, data.jsonl and part.json, no descriptor, no copies"
else
    fail "part: a shard's part folder holds $(ls -A "$part" | tr '\n' ' ')"
fi

single tiny declared.yaml tiny.csv
if sharded tiny declared.yaml tiny.csv 5 && same single-tiny out-tiny ho-tich; then
    ok "empty: 5 shards of 2 records give one run's package"
else
    fail "empty: empty shards change the package"
fi

# merge before every shard finished
v=(--set IN=one.csv --set OUT=out-refused)
rm -rf out-refused shared-refused
"$MEKONG" plan declared.yaml --shards 4 --dir shared-refused "${v[@]}" -q
for i in 0 1 3; do "$MEKONG" run declared.yaml --shard $i --dir shared-refused "${v[@]}" -q; done
"$MEKONG" merge declared.yaml --dir shared-refused "${v[@]}" 2> merge.err
rc=$?
if [ $rc = 1 ] && [ -z "$(ls out-refused 2> /dev/null)" ] && [ -z "$(find . -name '.*tmp-*')" ] &&
    grep -q 'shard 2 (not run' merge.err; then
    ok "refused: merge with shard 2 missing exits 1, names it, publishes nothing"
else
    fail "refused: merge with a shard missing: exit $rc, out-refused: $(ls -A out-refused 2> /dev/null | tr '\n' ' ')"
    sed 's/^/    /' merge.err | head -5
fi

# shards run again after the merge (shard 2 twice, one while the others wait)
"$MEKONG" run declared.yaml --shard 2 --dir shared-refused "${v[@]}" -q
"$MEKONG" merge declared.yaml --dir shared-refused "${v[@]}" -q && same single-declared out-refused ho-tich &&
    r1=ok
for i in 2 0 2 1 3; do "$MEKONG" run declared.yaml --shard $i --dir shared-refused "${v[@]}" -q; done
if [ "${r1:-}" = ok ] && "$MEKONG" merge declared.yaml --dir shared-refused "${v[@]}" -q &&
    same single-declared out-refused ho-tich && [ -z "$(find . -name '.*tmp-*')" ]; then
    ok "retry: the missing shard run, merged; every shard run again (one twice), merged again: one run's package"
else
    fail "retry: a merge after shards ran again differs from one run (${r1:-first merge bad})"
fi

# the join folder unusable: the merge joins the parts itself
v=(--set IN=one.csv --set OUT=out-fallback)
rm -rf out-fallback shared-fallback
"$MEKONG" plan declared.yaml --shards 3 --dir shared-fallback "${v[@]}" -q
for i in 0 1 2; do "$MEKONG" run declared.yaml --shard $i --dir shared-fallback "${v[@]}" -q; done
j=shared-fallback/$(id shared-fallback)/join
rm -rf "$j" && touch "$j"
if "$MEKONG" merge declared.yaml --dir shared-fallback "${v[@]}" -q 2> fallback.err &&
    same single-declared out-fallback ho-tich &&
    [ -z "$(find shared-fallback -name 'merge-*')" ]; then
    ok "fallback: without the joined files the merge joins the parts itself: one run's package"
else
    fail "fallback: the merge without joined files: $(head -3 fallback.err)"
fi

# the package on another file system than the shared folder: copied and hashed
other=$(mktemp -d /dev/shm/mekong-shards-dp.XXXXXX 2> /dev/null)
if [ -n "$other" ] && [ "$(stat -c %d "$other")" != "$(stat -c %d .)" ]; then
    if sharded elsewhere declared.yaml one.csv 3 "$other/out" &&
        same single-declared "$other/out" ho-tich; then
        ok "elsewhere: the package on another file system: the joined files copied and hashed there"
    else
        fail "elsewhere: the package on another file system differs from one run's"
    fi
    rm -rf "$other"
else
    [ -n "$other" ] && rmdir "$other"
    echo "# skip: elsewhere: /dev/shm is not another file system here"
fi

# the merge's publish set: the package and the rejects are both old or both new
shim=${MEKONG_BUILD:-$SRC}/tests/shim/.libs/faultshim.so
set_of() { # the package's data, its copy of the rejects, the published rejects, the hashes
    cat "$1"/ho-tich/data.csv "$1"/ho-tich/rejects.csv "$1"/rejects.csv 2>&1
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1] + "/ho-tich/datapackage.json"))
print([(r["name"], r["hash"]) for r in d["resources"] if not r["name"].startswith("report")])' "$1" 2>&1
}
v=(--set IN=one.csv --set OUT=out-faults)
rm -rf out-faults shared-faults
"$MEKONG" run declared.yaml --set IN=tiny.csv --set OUT=out-faults -q && cp -a out-faults old-faults
old=$(set_of old-faults)
"$MEKONG" plan declared.yaml --shards 3 --dir shared-faults "${v[@]}" -q
for i in 0 1 2; do "$MEKONG" run declared.yaml --shard $i --dir shared-faults "${v[@]}" -q; done
"$MEKONG" merge declared.yaml --dir shared-faults "${v[@]}" -q
new=$(set_of out-faults)
bad="" hits=0 olds=0 news=0
if [ ! -f "$shim" ]; then
    echo "# skip: merge-faults: $shim is not built (make check builds it)"
elif [ "$old" = "$new" ] || ! same single-declared out-faults ho-tich; then
    fail "merge-faults: the merge without faults is not one run's package"
else
    ! ldd "$MEKONG" 2> /dev/null | grep -q libasan ||
        export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
    for spec in rename write:after-fsync; do
        call=${spec%%:*} mode=${spec#"$call"} n=0
        while [ $n -lt 300 ]; do
            n=$((n + 1))
            rm -rf out-faults fault.log && cp -a old-faults out-faults
            MEKONG_FAULT="$call:$n$mode" MEKONG_FAULT_LOG="$work/fault.log" LD_PRELOAD="$shim" \
                "$MEKONG" merge declared.yaml --dir shared-faults "${v[@]}" -q > /dev/null 2>&1
            rc=$?
            grep -q "^$call $n\$" fault.log 2> /dev/null || break
            hits=$((hits + 1))
            now=$(set_of out-faults)
            if [ "$now" = "$new" ] && [ $rc = 0 ]; then news=$((news + 1))
            elif [ "$now" = "$old" ] && [ $rc = 1 ]; then olds=$((olds + 1))
            else bad="$bad; $call $n: exit $rc, $([ "$now" = "$old" ] && echo old || ([ "$now" = "$new" ] && echo new) || echo a mix)"
            fi
            left=$(find out-faults -name '.*tmp-*' | head -3)
            [ -z "$left" ] || bad="$bad; $call $n left $left"
        done
    done
    rm -rf out-faults && cp -a old-faults out-faults
    if [ -z "$bad" ] && [ $olds -gt 0 ] && "$MEKONG" merge declared.yaml --dir shared-faults "${v[@]}" -q &&
        same single-declared out-faults ho-tich; then
        ok "merge-faults: $hits failing renames and writes of the merge leave the old package and rejects ($olds) or the new ones ($news), never a mix; then a merge gives one run's"
    else
        fail "merge-faults: $hits faults, $olds old, $news new$bad"
    fi
fi

if "$MEKONG" validate out-declared/ho-tich > v1.log 2>&1 &&
    "$MEKONG" validate out-inferred/suy > v2.log 2>&1 &&
    "$MEKONG" validate out-tiny/ho-tich > v3.log 2>&1; then
    ok "validate: mekong validate passes the merged packages"
else
    fail "validate: mekong validate: $(cat v1.log v2.log v3.log | grep -v '^ok' | head -5)"
fi

if command -v node > /dev/null && command -v npm > /dev/null; then
    npmdir=${MEKONG_NPM_DIR:-$work/npm}
    mkdir -p "$npmdir"
    if [ ! -d "$npmdir/node_modules/ajv-draft-04" ]; then
        (cd "$npmdir" && npm install --no-audit --no-fund --silent ajv@8.17.1 ajv-draft-04@1.0.0 \
            ajv-formats@2.1.1 > npm.log 2>&1)
    fi
    if [ -d "$npmdir/node_modules/ajv-draft-04" ]; then
        fr=$SRC/tests/data/frictionless
        if out=$(NODE_PATH="$npmdir/node_modules" node "$fr/validate.js" "$fr/data-package.json" \
                 out-declared/ho-tich/datapackage.json "$fr/tabular-data-resource.json" 2>&1) &&
            out=$(NODE_PATH="$npmdir/node_modules" node "$fr/validate.js" "$fr/data-package.json" \
                 out-inferred/suy/datapackage.json "$fr/tabular-data-resource.json" 2>&1); then
            ok "profile: ajv: the merged packages are valid Data Packages with valid Tabular Data Resources"
        else
            fail "profile: ajv: $(echo "$out" | head -5 | tr '\n' ' ')"
        fi
    else
        echo "# skip: profile: npm could not install ajv (see $npmdir/npm.log)"
    fi
else
    echo "# skip: profile: node and npm are needed for the ajv validator"
fi
