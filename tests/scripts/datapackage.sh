#!/usr/bin/env bash
# tests/scripts/datapackage.sh -- the datapackage sink, mekong validate and
# mekong infer, on tests/data/datapackage/ (Vietnamese text, quotes, a line
# break in a field, a bad date).
#   dp-files        datapackage.json and the data files are there; bytes,
#                   sha256 (Python's hashlib), row counts (Python's csv and
#                   json) and the metadata agree with the files;
#   dp-profile      the descriptor passes the Tabular Data Package profile
#                   with ajv (an independent validator, run offline; the
#                   profile is vendored in tests/data/frictionless, see its
#                   PROVENANCE.md); skipped when node/npm are missing;
#   dp-validate     mekong validate: the package is valid; a changed byte is
#                   a hash failure, a bad row a schema failure (exit 3);
#   dp-atomic       a second run replaces the package whole; a failing run
#                   leaves the previous one untouched and no temporary folder;
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
want(set(res) == {"data", "data-jsonl"}, "two resources")
for r in d["resources"]:
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

if command -v node > /dev/null && command -v npm > /dev/null; then
    npmdir=${MEKONG_NPM_DIR:-$tmp/npm}
    mkdir -p "$npmdir"
    if [ ! -d "$npmdir/node_modules/ajv-draft-04" ]; then
        (cd "$npmdir" && npm install --no-audit --no-fund --silent ajv@8.17.1 ajv-draft-04@1.0.0 \
            ajv-formats@2.1.1 > npm.log 2>&1)
    fi
    if [ -d "$npmdir/node_modules/ajv-draft-04" ]; then
        cat > "$npmdir/validate.js" <<'JS'
const Ajv = require("ajv-draft-04");
const addFormats = require("ajv-formats");
const fs = require("fs");
const [profile, descriptor] = process.argv.slice(2);
const ajv = new Ajv({ allErrors: true, strict: false, logger: false });
addFormats(ajv);
ajv.addFormat("textarea", true);
const validate = ajv.compile(JSON.parse(fs.readFileSync(profile, "utf8")));
if (!validate(JSON.parse(fs.readFileSync(descriptor, "utf8")))) {
  for (const e of validate.errors) console.log(`${e.instancePath || "/"} ${e.message}`);
  process.exit(1);
}
JS
        # a schema with the mekong:* extension properties stays a valid Table Schema
        printf 'id,cccd,sex\n1,001099012345,nam\n' > vn.csv
        echo '{"fields": [{"name": "id", "type": "integer"}, {"name": "cccd", "mekong:check": "cccd",
               "mekong:sexField": "sex", "mekong:onError": "warn"}, {"name": "sex"}]}' > vn.schema.json
        echo "sources: [{ name: s, plugin: csv, path: vn.csv }]
transforms: [{ plugin: schema, schema: vn.schema.json }]
sinks: [{ plugin: datapackage, path: out/vn, schema: vn.schema.json }]
rejects: out/vn-rejects.csv" > vn.yaml
        "$MEKONG" run vn.yaml > vn.log 2>&1
        if out=$(node "$npmdir/validate.js" "$SRC/tests/data/frictionless/tabular-data-package.json" \
            "$pkg/datapackage.json" 2>&1) &&
            out=$(node "$npmdir/validate.js" "$SRC/tests/data/frictionless/tabular-data-package.json" \
            out/vn/datapackage.json 2>&1); then
            echo "ok - dp-profile: ajv finds the descriptors valid against the Tabular Data Package profile (mekong:* properties too)"
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
