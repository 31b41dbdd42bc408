#!/usr/bin/env bash
# tests/scripts/datapackage.sh -- the datapackage sink, mekong validate and
# mekong infer, on tests/data/datapackage/ (Vietnamese text, quotes, a line
# break in a field, a bad date).
#   dp-files        datapackage.json and the data files are there; bytes,
#                   sha256 (Python's hashlib), row counts (Python's csv and
#                   json) and the metadata agree with the files;
#   dp-runfiles     the rejects file (CSV, and JSON Lines) and the reports
#                   (JSON, HTML) are resources: copies of the files the run
#                   published, bytes and sha256 of the copies, the rejects
#                   with a schema of their columns and a row count;
#                   rejects: false / report: false leave them out;
#   dp-profile      ajv (an independent validator, run offline; the v1
#                   profiles are vendored in tests/data/frictionless, see
#                   its PROVENANCE.md: no v2 profile is to be had offline):
#                   packages with a report pass the Data Package profile and
#                   their tables the Tabular Data Resource profile, the
#                   others the Tabular Data Package profile; skipped when
#                   node/npm are missing;
#   dp-validate     mekong validate: the package is valid; a changed byte is
#                   a hash failure, a bad row a schema failure (exit 3);
#   dp-atomic       a second run replaces the package whole; a failing run
#                   leaves the previous one untouched and no temporary folder;
#   dp-publish-set  the package is one output of the run's publish set: with
#                   each rename, and each write from the first fsync on,
#                   made to fail in turn (tests/shim/faultshim.so), and with
#                   a crossed threshold, the package and the rejects file are
#                   both old or both new, never a mix, no temporary left;
#   dp-inferred     without schema:, the schema comes from the column types
#                   and the package still validates;
#   infer-roundtrip mekong infer proposes the expected types and keys, and
#                   the rows pass the schema it proposes;
#   infer-pipeline  mekong infer PIPELINE infers from what the transforms
#                   produce (typed columns after canonical: true) and writes
#                   none of the pipeline's outputs.
#
# Environment: MEKONG, MEKONG_SRC; MEKONG_NPM_DIR keeps the npm packages
# between runs (default: a temporary folder).
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
for p in datapackage schema csv; do
    if ! "$MEKONG" plugins 2>/dev/null | grep -q "^$p "; then
        echo "# skip: datapackage tests: the $p plugin is not built"
        exit 0
    fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$SRC/tests/data/datapackage/." "$tmp/"
cd "$tmp" || exit 1

if ! "$MEKONG" run pipeline.yaml > run.log 2>&1; then
    echo "not ok - dp-files: the pipeline failed"
    sed 's/^/    /' run.log | head
    exit 0
fi
pkg=out/ho-tich

python3 - "$pkg" <<'PY'
import csv, hashlib, json, os, sys, datetime
pkg = sys.argv[1]
d = json.load(open(f"{pkg}/datapackage.json"))
bad = []
def want(cond, what):
    if not cond:
        bad.append(what)
want(d.get("$schema") == "https://datapackage.org/profiles/2.0/datapackage.json", "$schema is the v2 profile")
want(d.get("name") == "ho-tich", "name from the pipeline option")
want(d.get("title") == "Đăng ký hộ tịch (thử)", "title kept byte for byte")
want(d.get("version") == "1.0.0", "version")
try:
    datetime.datetime.strptime(d["created"], "%Y-%m-%dT%H:%M:%SZ")
except Exception:
    bad.append("created is an RFC 3339 UTC time")
want(d.get("licenses") == [{"name": "CC-BY-4.0"}], "licenses")
want(d.get("contributors") == [{"title": "Nhóm dữ liệu", "roles": ["author"]}], "contributors with v2 roles")
src = d.get("sources", [])
want(len(src) == 1 and src[0]["title"] == "Sở Tư pháp Hà Nội" and src[0]["mekong:step"] == "hanoi"
     and src[0]["path"] == "people.csv", "sources name the input and its agency")
res = {r["name"]: r for r in d["resources"]}
want(set(res) == {"data", "data-jsonl", "rejects", "report"}, "two data resources, rejects, report")
want(d.get("profile") == "data-package", "v1 profile: a data package (the report is not a table)")
for r in d["resources"]:
    if r["name"] not in ("data", "data-jsonl"):
        continue
    path = f"{pkg}/{r['path']}"
    data = open(path, "rb").read()
    want(r["bytes"] == len(data), f"{r['name']}: bytes")
    want(r["hash"] == "sha256:" + hashlib.sha256(data).hexdigest(), f"{r['name']}: sha256")
    want(r["encoding"] == "utf-8", f"{r['name']}: encoding")
    if r["format"] == "csv":
        rows = list(csv.reader(open(path, newline="", encoding="utf-8")))
        n = len(rows) - 1
        want(r["mediatype"] == "text/csv" and r["dialect"]["delimiter"] == ",", "csv mediatype, dialect")
        want(rows[0] == ["ma", "ho_ten", "ngay_sinh", "gioi_tinh", "so_tien", "ghi_chu"], "csv header")
        want(rows[1][1] == "Nguyễn Thị Lan" and rows[1][5] == 'có dấu "ngoặc", phẩy', "text survives")
        want(rows[1][2] == "1990-02-05" and rows[1][4] == "1234.50", "canonical date and number")
        want(rows[3][5] == "dòng\nmới", "a line break inside a field")
    else:
        lines = [json.loads(l) for l in open(path, encoding="utf-8")]
        n = len(lines)
        want(lines[1]["ghi_chu"] is None, "NULL is null in JSON Lines")
    want(r["stats"]["rows"] == n == 3, f"{r['name']}: row count {r['stats']['rows']} == {n} == 3 (one rejected)")
    f = {x["name"]: x for x in r["schema"]["fields"]}
    want("format" not in f["ngay_sinh"] and "decimalChar" not in f["so_tien"], "canonical schema: no patterns")
    want(f["ngay_sinh"]["constraints"]["minimum"] == "1900-01-01", "canonical constraint value")
    want(r["schema"]["primaryKey"] == ["ma"], "declared schema kept")
if bad:
    print("not ok - dp-files: " + "; ".join(bad))
else:
    print("ok - dp-files: descriptor, bytes, sha256, row counts and metadata agree with the files")
PY

# The run's own files as resources: copies of what the run published
# beside the package, with bytes and hashes of the copies; the rejects with
# a schema of the rejects file's columns.
check_runfiles() { # PACKAGE REJECTS REPORT [HTML]
    python3 - "$@" <<'PY'
import csv, hashlib, json, sys
pkg, rejects, report = sys.argv[1:4]
html = sys.argv[4] if len(sys.argv) > 4 else None
d = json.load(open(f"{pkg}/datapackage.json"))
res = {r["name"]: r for r in d["resources"]}
bad = []
def want(cond, what):
    if not cond:
        bad.append(what)
kinds = {"rejects": rejects, "report": report}
if html:
    kinds["report-html"] = html
for name, outside in kinds.items():
    r = res.get(name)
    if not r:
        bad.append(f"no {name} resource")
        continue
    data = open(f"{pkg}/{r['path']}", "rb").read()
    want(data == open(outside, "rb").read(), f"{name}: the package's copy is the published {outside}")
    want(r["bytes"] == len(data), f"{name}: bytes")
    want(r["hash"] == "sha256:" + hashlib.sha256(data).hexdigest(), f"{name}: sha256")
    want("/" not in r["path"] and not r["path"].startswith("."), f"{name}: a path inside the package")
r = res.get("rejects", {})
fields = [f["name"] for f in r.get("schema", {}).get("fields", [])]
if rejects.endswith(".csv"):
    rows = list(csv.reader(open(rejects, newline="", encoding="utf-8")))
    want(r.get("format") == "csv" and r.get("mediatype") == "text/csv", "rejects: csv")
    want(fields == rows[0], f"rejects: the schema's fields {fields} are the header {rows[0]}")
    want(r.get("stats", {}).get("rows") == len(rows) - 1 >= 1, "rejects: row count")
else:
    lines = [json.loads(l) for l in open(rejects, encoding="utf-8")]
    want(r.get("format") == "jsonl" and r.get("mediatype") == "application/x-ndjson", "rejects: jsonl")
    want(set(lines[0]) <= set(fields), f"rejects: every key of a line is a field {sorted(lines[0])}")
    want(r.get("stats", {}).get("rows") == len(lines) >= 1, "rejects: row count")
want(res.get("report", {}).get("mediatype") == "application/json", "report: json")
want(json.load(open(report))["status"] == "ok", "the report in the package is the run's")
if html:
    want(res["report-html"]["mediatype"] == "text/html" and res["report-html"]["path"] == "report.html", "html report")
print(("not ok - " if bad else "ok - ") + f"dp-runfiles {pkg}: " +
      ("; ".join(bad) if bad else "rejects and reports are resources, copies of the published files, hashes match"))
PY
}
check_runfiles "$pkg" out/rejects.csv out/report.json
# JSON Lines rejects and an HTML report; then rejects: false, report: false
sed -e 's|rejects: out/rejects.csv|rejects: out/rejects.jsonl\nhtml_report: out/report.html|' \
    -e 's|path: out/ho-tich|path: out/ho-tich-2|' pipeline.yaml > p2.yaml
sed -e 's|path: out/ho-tich|path: out/ho-tich-3\n    rejects: false\n    report: false|' \
    -e 's|rejects: out/rejects.csv|rejects: out/rejects-3.csv|' -e 's|out/report.json|out/report-3.json|' \
    pipeline.yaml > p3.yaml
if "$MEKONG" run p2.yaml > p2.log 2>&1 && "$MEKONG" run p3.yaml > p3.log 2>&1; then
    check_runfiles out/ho-tich-2 out/rejects.jsonl out/report.json out/report.html
    names=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["profile"], *[r["name"] for r in d["resources"]])' out/ho-tich-3/datapackage.json)
    if [ "$names" = "tabular-data-package data data-jsonl" ] && [ ! -e out/ho-tich-3/rejects.csv ]; then
        echo "ok - dp-runfiles-off: rejects: false and report: false leave them out"
    else
        echo "not ok - dp-runfiles-off: $names"
    fi
else
    echo "not ok - dp-runfiles: a run failed: $(cat p2.log p3.log | head -5)"
fi

if command -v node > /dev/null && command -v npm > /dev/null; then
    npmdir=${MEKONG_NPM_DIR:-$tmp/npm}
    mkdir -p "$npmdir"
    if [ ! -d "$npmdir/node_modules/ajv-draft-04" ]; then
        (cd "$npmdir" && npm install --no-audit --no-fund --silent ajv@8.17.1 ajv-draft-04@1.0.0 \
            ajv-formats@2.1.1 > npm.log 2>&1)
    fi
    if [ -d "$npmdir/node_modules/ajv-draft-04" ]; then
        # a schema with the mekong:* extension properties stays a valid Table Schema
        printf 'id,cccd,sex\n1,001099012345,nam\n' > vn.csv
        echo '{"fields": [{"name": "id", "type": "integer"}, {"name": "cccd", "mekong:check": "cccd",
               "mekong:sexField": "sex", "mekong:onError": "warn"}, {"name": "sex"}]}' > vn.schema.json
        echo "sources: [{ name: s, plugin: csv, path: vn.csv }]
transforms: [{ plugin: schema, schema: vn.schema.json }]
sinks: [{ plugin: datapackage, path: out/vn, schema: vn.schema.json, report: false }]
rejects: out/vn-rejects.csv" > vn.yaml
        "$MEKONG" run vn.yaml > vn.log 2>&1
        fr=$SRC/tests/data/frictionless
        ajv() { NODE_PATH="$npmdir/node_modules" node "$fr/validate.js" "$@"; }
        if out=$(ajv "$fr/data-package.json" "$pkg/datapackage.json" \
                 "$fr/tabular-data-resource.json" 2>&1) &&
            out=$(ajv "$fr/data-package.json" out/ho-tich-2/datapackage.json \
                 "$fr/tabular-data-resource.json" 2>&1) &&
            out=$(ajv "$fr/tabular-data-package.json" out/ho-tich-3/datapackage.json 2>&1) &&
            out=$(ajv "$fr/tabular-data-package.json" out/vn/datapackage.json 2>&1); then
            echo "ok - dp-profile: ajv: packages with the run's files are valid Data Packages with valid Tabular Data Resources, those without (and with only rejects) valid Tabular Data Packages (mekong:* properties too)"
        else
            echo "not ok - dp-profile: ajv: $(echo "$out" | head -5 | tr '\n' ' ')"
        fi
    else
        echo "# skip: dp-profile: npm could not install ajv (see $npmdir/npm.log)"
    fi
else
    echo "# skip: dp-profile: node and npm are needed for the ajv validator"
fi

cp -r "$pkg" check
if "$MEKONG" validate check > v1.log 2>&1; then
    printf '1' | dd of=check/data.csv bs=1 seek=20 conv=notrunc 2> /dev/null
    "$MEKONG" validate check/datapackage.json > v2.log 2>&1
    rc2=$?
    rm -rf check && cp -r "$pkg" check
    python3 - <<'PY'
import hashlib, json
p = "check/data.csv"
t = open(p, encoding="utf-8").read().replace("1990-02-05", "1990-02-30")
open(p, "w", encoding="utf-8").write(t)
d = json.load(open("check/datapackage.json"))
data = open(p, "rb").read()
d["resources"][0]["bytes"] = len(data)
d["resources"][0]["hash"] = "sha256:" + hashlib.sha256(data).hexdigest()
json.dump(d, open("check/datapackage.json", "w"), ensure_ascii=False)
PY
    "$MEKONG" validate check > v3.log 2>&1
    rc3=$?
    if [ $rc2 -eq 3 ] && grep -q "FAIL data: hash is" v2.log && [ $rc3 -eq 3 ] &&
        grep -q "1 rows break the schema" v3.log && grep -q "1990-02-30" v3.log; then
        echo "ok - dp-validate: valid package passes; a changed byte and a bad row fail (exit 3)"
    else
        echo "not ok - dp-validate: expected exit 3 with hash and schema failures, got $rc2 and $rc3"
        sed 's/^/    /' v2.log v3.log | head -20
    fi
else
    echo "not ok - dp-validate: mekong validate rejects the package the sink wrote"
    sed 's/^/    /' v1.log | head -10
fi

before=$(sha256sum "$pkg/datapackage.json" | cut -d' ' -f1)
sleep 1
"$MEKONG" run pipeline.yaml > run2.log 2>&1
after=$(sha256sum "$pkg/datapackage.json" | cut -d' ' -f1)
sed 's/ma,ho_ten/ma,ten/' people.csv > people-bad.csv
# the header no longer matches the schema: the run fails after the sink opened
sed 's/path: people.csv/path: people-bad.csv/' pipeline.yaml > bad.yaml
"$MEKONG" run bad.yaml > run3.log 2>&1
rc3=$?
kept=$(sha256sum "$pkg/datapackage.json" | cut -d' ' -f1)
leftover=$(find out -maxdepth 1 -name '*.tmp-*' | wc -l)
if [ "$before" != "$after" ] && [ $rc3 -eq 1 ] && [ "$kept" = "$after" ] && [ "$leftover" -eq 0 ] &&
    "$MEKONG" validate "$pkg" > /dev/null 2>&1; then
    echo "ok - dp-atomic: a new run replaces the package whole, a failed run keeps the old one"
else
    echo "not ok - dp-atomic: replaced=$([ "$before" != "$after" ] && echo yes || echo no) failed-run-exit=$rc3 kept=$([ "$kept" = "$after" ] && echo yes || echo no) leftovers=$leftover"
    sed 's/^/    /' run3.log | head -5
fi

# The package folder is one output of the run's publish set: a run that
# fails at any rename or write of the publish (tests/shim/faultshim.so),
# or that crosses a threshold, leaves the old package and the old rejects
# file; one that succeeds puts both new ones in place; never a mix, never
# a temporary folder left.  No process is killed.
shim=${MEKONG_BUILD:-$SRC}/tests/shim/.libs/faultshim.so
mkdir set && cp people.csv people.schema.json set/ &&
    sed 's|^rejects:.*|rejects: out/rejects.csv\nhtml_report: out/report.html|' pipeline.yaml > set/p.yaml
set_of() { # the package's data, its copy of the rejects, the published rejects, the hashes
    (cd set && cat out/ho-tich/data.csv out/ho-tich/rejects.csv out/rejects.csv 2>&1
     python3 -c 'import json; d=json.load(open("out/ho-tich/datapackage.json"))
print([(r["name"], r["hash"]) for r in d["resources"] if not r["name"].startswith("report")])' 2>&1)
}
consistent() { # the package's copies are the published rejects and report
    (cd set && cmp -s out/ho-tich/rejects.csv out/rejects.csv && cmp -s out/ho-tich/report.json out/report.json &&
     cmp -s out/ho-tich/report.html out/report.html)
}
(cd set && "$MEKONG" run p.yaml > run.log 2>&1)
cp -a set/out old-out
old=$(set_of)
printf 'T9,Trần Văn Chín,01/01/1991,Nam,"10,00",mới\n' >> set/people.csv
(cd set && "$MEKONG" run p.yaml > run.log 2>&1)
new=$(set_of)
cp -a set/out new-out
bad="" hits=0 olds=0 news=0
if [ ! -f "$shim" ]; then
    echo "# skip: dp-publish-set: $shim is not built (make check builds it)"
elif [ "$old" = "$new" ] || ! consistent; then
    echo "not ok - dp-publish-set: the two good runs did not give two consistent sets"
else
    # a preload may come before the sanitizer's runtime (as publish-faults.sh says)
    ! ldd "$MEKONG" 2>/dev/null | grep -q libasan ||
        export ASAN_OPTIONS="${ASAN_OPTIONS:-}:verify_asan_link_order=0"
    for spec in rename write:after-fsync; do
        call=${spec%%:*} mode=${spec#"$call"}
        n=0
        while [ $n -lt 500 ]; do
            n=$((n + 1))
            rm -rf set/out fault.log && cp -a old-out set/out
            (cd set && MEKONG_FAULT="$call:$n$mode" MEKONG_FAULT_LOG="$tmp/fault.log" LD_PRELOAD="$shim" \
                "$MEKONG" run p.yaml > run.log 2>&1)
            rc=$?
            grep -q "^$call $n\$" fault.log 2>/dev/null || break
            hits=$((hits + 1))
            now=$(set_of)
            left=$(find set/out -name '*.tmp-*' | head -3)
            if [ "$now" = "$new" ] && [ $rc = 0 ] && consistent; then news=$((news + 1))
            elif [ "$now" = "$old" ] && [ $rc = 1 ]; then olds=$((olds + 1))
            else bad="$bad; $call $n: exit $rc, $([ "$now" = "$old" ] && echo old || ([ "$now" = "$new" ] && echo new) || echo a mix)"
            fi
            [ -z "$left" ] || bad="$bad; $call $n left $left"
        done
    done
    # a crossed threshold: nothing published, without a fault
    rm -rf set/out && cp -a old-out set/out
    printf 'thresholds:\n  max_rejected: 0\n' >> set/p.yaml
    (cd set && "$MEKONG" run p.yaml > run.log 2>&1)
    rc=$?
    [ $rc = 3 ] && [ "$(set_of)" = "$old" ] && [ -z "$(find set/out -name '*.tmp-*')" ] ||
        bad="$bad; threshold run: exit $rc, $([ "$(set_of)" = "$old" ] && echo old set || echo changed)"
    if [ -z "$bad" ] && [ $olds -gt 0 ]; then
        echo "ok - dp-publish-set: $hits failing renames and writes leave the old package and rejects ($olds) or the new ones ($news), never a mix; a crossed threshold publishes nothing"
    else
        echo "not ok - dp-publish-set: $hits faults, $olds old, $news new$bad"
    fi
fi

cat > inferred.yaml <<'EOF'
sources: [{ name: hanoi, plugin: csv, path: people.csv }]
transforms: [{ plugin: schema, schema: people.schema.json, canonical: true }]
sinks: [{ plugin: datapackage, path: out/inferred }]
rejects: out/inferred-rejects.csv
EOF
if "$MEKONG" run inferred.yaml > run4.log 2>&1 && "$MEKONG" validate out/inferred > v4.log 2>&1 &&
    python3 -c "
import json, sys
d = json.load(open('out/inferred/datapackage.json'))
t = {f['name']: f['type'] for f in d['resources'][0]['schema']['fields']}
sys.exit(0 if t == {'ma': 'integer', 'ho_ten': 'string', 'ngay_sinh': 'date', 'gioi_tinh': 'string',
                    'so_tien': 'number', 'ghi_chu': 'string'} and d['name'] == 'inferred' else 1)"; then
    echo "ok - dp-inferred: the schema comes from the column types, and the package validates"
else
    echo "not ok - dp-inferred: the inferred package is not as expected"
    sed 's/^/    /' run4.log v4.log 2>/dev/null | head -10
fi

cat > ids.csv <<'EOF'
cccd,ho_ten,ngay_sinh,ngay_dk,so_con,ty_le,da_cuoi,tinh
001099012345,Nguyễn Lan,1999-05-01,05/02/2024,2,0.5,true,Hà Nội
001099012346,Trần Đức,1999-06-01,06/02/2024,0,1.25,false,Hà Nội
001199012347,Lê Hoa,1999-07-01,07/02/2024,1,2,true,Huế
EOF
for i in $(seq 1 20); do echo "0010990123$((50 + i)),Tên $i,1999-05-01,05/02/2024,$i,0.5,true,Huế" >> ids.csv; done
"$MEKONG" infer ids.csv -o ids.schema.json > infer.log 2>&1
irc=$?
if [ $irc -eq 0 ] && python3 -c "
import json, sys
d = json.load(open('ids.schema.json'))
f = {x['name']: x for x in d['fields']}
t = {k: v['type'] for k, v in f.items()}
ok = t == {'cccd': 'string', 'ho_ten': 'string', 'ngay_sinh': 'date', 'ngay_dk': 'date', 'so_con': 'integer',
           'ty_le': 'number', 'da_cuoi': 'boolean', 'tinh': 'string'}
ok = ok and f['ngay_dk'].get('format') == '%d/%m/%Y' and f['cccd']['constraints'].get('pattern') == '[0-9]{12}'
ok = ok and d.get('primaryKey') == 'cccd' and sorted(f['tinh']['constraints']['enum']) == ['Huế', 'Hà Nội']
sys.exit(0 if ok else 1)" &&
    echo "sources: [{ name: f, plugin: csv, path: ids.csv }]
transforms: [{ plugin: schema, schema: ids.schema.json }]
sinks: [{ plugin: csv, path: out/ids.csv }]
rejects: out/ids-rejects.csv" > ids.yaml && "$MEKONG" run ids.yaml > run5.log 2>&1 &&
    [ "$(wc -l < out/ids-rejects.csv)" -eq 1 ] && [ "$(wc -l < out/ids.csv)" -eq 24 ]; then
    echo "ok - infer-roundtrip: types, formats, pattern, enum and key as expected; every row passes the proposal"
else
    echo "not ok - infer-roundtrip: mekong infer exited $irc or its proposal is not as expected"
    sed 's/^/    /' infer.log ids.schema.json run5.log 2>/dev/null | head -30
fi

rm -rf out
if "$MEKONG" infer pipeline.yaml > pipe.schema.json 2> infer2.log && [ ! -e out ] && python3 -c "
import json, sys
d = json.load(open('pipe.schema.json'))
t = {f['name']: f['type'] for f in d['fields']}
sys.exit(0 if t['ma'] == 'integer' and t['ngay_sinh'] == 'date' and t['so_tien'] == 'number'
         and 'format' not in [f for f in d['fields'] if f['name'] == 'ngay_sinh'][0]
         and d.get('primaryKey') == 'ma' else 1)"; then
    echo "ok - infer-pipeline: infers from the transformed rows and writes none of the pipeline's outputs"
else
    echo "not ok - infer-pipeline: unexpected proposal or outputs written"
    sed 's/^/    /' infer2.log pipe.schema.json | head -20
fi
