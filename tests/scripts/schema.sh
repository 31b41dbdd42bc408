#!/usr/bin/env bash
# tests/scripts/schema.sh -- the schema transform against tests/data/schema/.
#
# Each folder of tests/data/schema/ holds schema.json (or .yaml), input.csv
# and optionally step.yaml (extra options of the schema step, indented) and
# lookup files.  input.csv has the columns id and expect: expect is "ok"
# (the row must pass) or "RULE" / "RULE:CHECK" (the row must be rejected
# with that rule, and the first error of its reason must name CHECK, the
# constraint in parentheses; mekong:NAME for the Vietnamese checks), and
# expect-warnings, if there, the report's warnings total.  One ok/not ok line per folder, naming every
# row that went another way.  A folder with needs-shared uses the shared
# reference data (../shared/reference/vn/admin) and skips without it.  A folder with expect-error holds a message the
# run must fail with (exit 1) instead.  Then:
#   vn-ids-data      plugins/schema/vn_ids_data.c is what gen-vn-ids.sh makes
#                    from lua/mekong/id_data.lua (the C checks read the
#                    rule library's facts).
#
# Environment: MEKONG (the binary), MEKONG_SRC.
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
if ! "$MEKONG" plugins 2>/dev/null | grep -q '^schema '; then
    echo "# skip: schema tests: the schema plugin is not built"
    exit 0
fi
if ! "$MEKONG" plugins 2>/dev/null | grep -q '^csv '; then
    echo "# skip: schema tests: the csv plugin is not built"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# the 2025 administrative codes come from the shared reference data
SHARED=${MEKONG_SHARED:-$SRC/../shared}
export MEKONG_VN_ADMIN=$SHARED/reference/vn/admin

for d in "$SRC"/tests/data/schema/*/; do
    name=$(basename "$d")
    if [ -f "$d/needs-shared" ] && [ ! -f "$MEKONG_VN_ADMIN/wards_2025.csv" ]; then
        echo "# skip: schema $name: no reference data at $MEKONG_VN_ADMIN (set MEKONG_SHARED)"
        continue
    fi
    w=$tmp/$name
    cp -r "$d" "$w"
    schema=schema.json
    [ -f "$w/schema.yaml" ] && schema=schema.yaml
    {
        echo "sources:"
        echo "  - name: input"
        echo "    plugin: csv"
        echo "    path: input.csv"
        echo "transforms:"
        echo "  - plugin: schema"
        echo "    schema: $schema"
        [ -f "$w/step.yaml" ] && cat "$w/step.yaml"
        echo "sinks:"
        echo "  - plugin: csv"
        echo "    path: out/rows.csv"
        echo "rejects: out/rejects.csv"
        echo "report: out/report.json"
        echo "html_report: out/report.html"
    } > "$w/pipeline.yaml"
    (cd "$w" && "$MEKONG" run pipeline.yaml > out.log 2>&1)
    rc=$?
    if [ -f "$w/expect-error" ]; then
        if [ $rc -eq 1 ] && grep -qF -- "$(cat "$w/expect-error")" "$w/out.log"; then
            echo "ok - schema $name: the run fails with the expected message"
        else
            echo "not ok - schema $name: expected exit 1 and '$(cat "$w/expect-error")', got $rc:"
            sed 's/^/    /' "$w/out.log" | head -5
        fi
        continue
    fi
    if [ $rc -ne 0 ]; then
        echo "not ok - schema $name: mekong run exited $rc"
        sed 's/^/    /' "$w/out.log" | head -10
        continue
    fi
    python3 - "$w" "$name" <<'PY'
import csv, re, sys
w, name = sys.argv[1], sys.argv[2]
rows = {r["id"]: r for r in csv.DictReader(open(f"{w}/input.csv", newline=""))}
passed = {r["id"] for r in csv.DictReader(open(f"{w}/out/rows.csv", newline=""))}
rejected = {}
for r in csv.DictReader(open(f"{w}/out/rejects.csv", newline="")):
    rejected[r["id"]] = r["_reason"]
bad = []
for i, r in rows.items():
    exp = r["expect"]
    if exp == "ok":
        if i not in passed:
            bad.append(f"row {i}: expected to pass, rejected: {rejected.get(i, '(lost)')}")
        continue
    rule, _, check = exp.partition(":")
    if rule == "mekong":  # the Vietnamese checks' rules are mekong:NAME
        rule, check = exp, ""
    reason = rejected.get(i)
    if reason is None:
        bad.append(f"row {i}: expected {exp}, but it passed")
        continue
    got_rule, _, rest = reason.partition(": ")
    first = rest.split("; ")[0]
    m = re.search(r"\(([^()]*)\)$", first)
    got_check = m.group(1) if m else ""
    if got_rule != rule or (check and got_check != check):
        bad.append(f"row {i}: expected {exp}, got {got_rule}:{got_check} ({reason})")
lost = set(rows) - passed - set(rejected)
try:
    want = int(open(f"{w}/expect-warnings").read())
    import json
    got = json.load(open(f"{w}/out/report.json"))["totals"]["warnings"]
    if got != want:
        bad.append(f"the report counts {got} warnings, expected {want}")
except FileNotFoundError:
    pass
if bad or lost:
    print(f"not ok - schema {name}: {len(bad)} of {len(rows)} rows went another way")
    for b in bad[:20]:
        print("    " + b)
else:
    print(f"ok - schema {name}: {len(rows)} rows, each passed or rejected as expected")
PY
done

# 1 thread and 4 threads give the same rows, rejects and per-field counts
# (the types cases repeated 60 times: batches big enough to be split)
t=$tmp/threads
mkdir -p "$t"
cp "$SRC/tests/data/schema/types/schema.json" "$t/"
python3 - "$SRC/tests/data/schema/types/input.csv" "$t/input.csv" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
w = csv.writer(open(sys.argv[2], "w", newline=""), lineterminator="\n")
w.writerow(rows[0])
for k in range(60):
    for r in rows[1:]:
        w.writerow([str(int(r[0]) + 1000 * k)] + r[1:])
w.writerow(["5"] + rows[1][1:])  # a repeated key at the end
PY
for n in 1 4; do
    printf 'sources: [{ name: input, plugin: csv, path: input.csv }]\ntransforms: [{ plugin: schema, schema: schema.json, threads: %s, canonical: true }]\nsinks: [{ plugin: csv, path: out%s/rows.csv }]\nrejects: out%s/rejects.csv\nreport: out%s/report.json\n' \
        $n $n $n $n > "$t/p$n.yaml"
    (cd "$t" && "$MEKONG" run p$n.yaml > log$n 2>&1)
done
if cmp -s "$t/out1/rows.csv" "$t/out4/rows.csv" && cmp -s "$t/out1/rejects.csv" "$t/out4/rejects.csv" &&
    python3 -c "
import json, sys
f = lambda n: [{k: v for k, v in s.items() if k.startswith('fields.')} for s in json.load(open(n))['stages']]
a, b = f('$t/out1/report.json'), f('$t/out4/report.json')
n = sum(1 for _ in open('$t/input.csv')) - 1
sys.exit(0 if a == b and a[0]['fields.id.checked'] == n else 1)"; then
    echo "ok - schema threads: 1 and 4 threads give the same rows, rejects and per-field counts"
else
    echo "not ok - schema threads: 1 and 4 threads differ (see $t)"
fi

# the HTML report has a table of the fields, the failing ones marked
html=$tmp/types/out/report.html
nrows=$(($(wc -l < "$SRC/tests/data/schema/types/input.csv") - 1))
if [ -f "$html" ] && grep -q '<h2>Fields checked by schema#1</h2>' "$html" &&
    grep -q "<tr class=\"bad\"><td>s_str</td><td>string</td><td class=\"n\">$nrows</td>" "$html" &&
    grep -q '<td>minLength 1, maxLength 1, pattern 1</td>' "$html" &&
    grep -q '<tr><td>any</td>' "$html"; then
    echo "ok - schema html-fields: the HTML report shows each field, failing fields marked, by constraint"
else
    echo "not ok - schema html-fields: the HTML report lacks the per-field table of the types run"
fi

if sh "$SRC/plugins/schema/gen-vn-ids.sh" "$SRC/lua/mekong/id_data.lua" | cmp -s - "$SRC/plugins/schema/vn_ids_data.c"; then
    echo "ok - schema vn-ids-data: vn_ids_data.c is made from lua/mekong/id_data.lua"
else
    echo "not ok - schema vn-ids-data: vn_ids_data.c differs from what gen-vn-ids.sh makes (run it)"
fi
