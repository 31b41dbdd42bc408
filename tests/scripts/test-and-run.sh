#!/usr/bin/env bash
# test-and-run.sh -- `mekong test` and `mekong run` give the same fates for
# the same rule and rows.  The cases below become both a rule test file
# (each with the fate it expects) and the rows of a CSV that a pipeline
# runs through the same rule; mekong test must pass, and the run's output,
# rejects (by rule) and drops must say the same for every case.
set -u
MEKONG=${MEKONG:?set MEKONG}
BUILD=${MEKONG_BUILD:?set MEKONG_BUILD}
if [ ! -f "$BUILD/plugins/lua/.libs/lua.so" ] || [ ! -f "$BUILD/plugins/csv/.libs/csv.so" ]; then
    echo "# skip: test and run: needs the csv and lua plugins, which this build lacks"
    exit 0
fi
here=$(cd "$(dirname "$0")/../data/test-and-run" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-testrun.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$here/rule.lua" "$work/"
WORK="$work" MEKONG="$MEKONG" python3 - <<'PY'
import csv, json, os, subprocess, sys
work, mekong = os.environ["WORK"], os.environ["MEKONG"]
# name, national_id, full_name, phone, note, expected fate
cases = [
    ("clean", "001085012345", "  Nguyễn  Văn An ", "0912345678", "", "pass"),
    ("bad id", "00109", "Trần Thị Bình", "0987654321", "", "reject cccd"),
    ("letters", "00108501234A", "Lê Văn Cường", "0901234567", "", "reject cccd"),
    ("test row", "001085012345", "Test", "0912345678", "test", "drop"),
    ("no phone", "001178009876", "Phạm Thị Dung", None, "", "pass warn"),
    ("twins", "001085012345", "Hoàng Văn Em", "0912345678", "twins", "rows 2"),
    ("null name", "001085012345", None, "0912345678", "", "reject lua.error"),
]
def q(v):
    return "~" if v is None else json.dumps(v, ensure_ascii=False)
with open(f"{work}/rule.test.yaml", "w", encoding="utf-8") as t:
    t.write("tests:\n")
    for i, (name, nid, full, phone, note, fate) in enumerate(cases):
        t.write(f"  - name: {name}\n    input: {{ case: {q(str(i))}, national_id: {q(nid)}, "
                f"full_name: {q(full)}, phone: {q(phone)}, note: {q(note)} }}\n")
        kind = fate.split()
        if kind[0] == "reject":
            t.write(f"    reject: {kind[1]}\n")
        elif kind[0] == "drop":
            t.write("    drop: true\n")
        elif kind[0] == "rows":
            t.write("    rows: [ {}, {} ]\n")
        if "warn" in kind:
            t.write("    warn: phone\n")
with open(f"{work}/rows.csv", "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f)
    w.writerow(["case", "national_id", "full_name", "phone", "note"])
    for i, (name, nid, full, phone, note, fate) in enumerate(cases):
        w.writerow([i, nid, full if full is not None else "", phone or "", note])
with open(f"{work}/pipeline.yaml", "w") as p:
    p.write("sources:\n  - name: rows\n    plugin: csv\n    path: rows.csv\n    null: ''\n"
            "transforms:\n  - plugin: lua\n    script: rule.lua\n"
            "sinks:\n  - plugin: csv\n    path: out/out.csv\n"
            "rejects: out/rejects.jsonl\nreport: out/report.json\n")
t = subprocess.run([mekong, "test", f"{work}/rule.test.yaml"], capture_output=True, text=True)
ok = t.returncode == 0
print(("ok" if ok else "not ok") + f" - test and run: mekong test passes the {len(cases)} cases")
if not ok:
    print(t.stdout + t.stderr)
r = subprocess.run([mekong, "run", f"{work}/pipeline.yaml"], capture_output=True, text=True)
if r.returncode != 0:
    print("not ok - test and run: the pipeline failed: " + r.stderr)
    sys.exit(0)
out = list(csv.DictReader(open(f"{work}/out/out.csv", encoding="utf-8")))
rejects = [json.loads(l) for l in open(f"{work}/out/rejects.jsonl", encoding="utf-8")]
report = json.load(open(f"{work}/out/report.json"))
rows_of = {}
for row in out:
    rows_of.setdefault(row["case"], []).append(row)
rejected = {j["fields"]["case"]: j["_rule"] for j in rejects}
problems = []
for i, (name, *_, fate) in enumerate(cases):
    k, got = str(i), None
    if k in rejected:
        got = "reject " + rejected[k]
    elif k in rows_of:
        got = "pass" if len(rows_of[k]) == 1 else f"rows {len(rows_of[k])}"
    else:
        got = "drop"
    want = fate.replace(" warn", "")
    if got != want:
        problems.append(f"case {name}: mekong test says {want}, mekong run says {got}")
warned = sum(r["warned"] for r in report["rules"] if r["rule"] == "phone")
if warned != sum("warn" in c[-1] for c in cases):
    problems.append(f"mekong run warned {warned} times for phone")
if report["totals"]["dropped"] != sum(c[-1] == "drop" for c in cases):
    problems.append("the run's dropped total differs")
print(("not ok" if problems else "ok") + " - test and run: mekong run gives every case the fate mekong test gave it")
for p in problems:
    print("    " + p)
PY
