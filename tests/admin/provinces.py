#!/usr/bin/env python3
"""tests/admin/provinces.py MEKONG WORK -- the three-province harmonization checked row by row.

Copies tests/admin/provinces/ (pipeline.yaml, names.lua, data/, truth.csv; made by
make_provinces.py) to WORK, runs `mekong run pipeline.yaml` there and checks:
  - the pipeline and its Lua are at most 60 lines together;
  - every kept row (source, record) is a row the truth keeps, with exactly its national_id,
    full_name, 2025 province and ward;
  - every rejected row is one the truth rejects, by the rule the truth names;
  - every row of the truth is either kept or rejected, once, and the report balances.
Prints ok/not ok lines."""
import csv
import glob
import json
import os
import shutil
import subprocess
import sys

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "provinces")
FIELDS = ["national_id", "full_name", "province_code", "province_name", "ward_code", "ward_name"]


def main():
    mekong, work = sys.argv[1], sys.argv[2]
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(HERE, work, ignore=shutil.ignore_patterns("out"))
    lines = sum(len(open(f, encoding="utf-8").read().splitlines())
                for f in [os.path.join(work, "pipeline.yaml")] + glob.glob(os.path.join(work, "*.lua")))
    print("%s - three provinces: pipeline and Lua are %d lines (at most 60)"
          % ("ok" if lines <= 60 else "not ok", lines))
    run = subprocess.run([mekong, "run", "pipeline.yaml"], cwd=work, capture_output=True, text=True)
    if run.returncode != 0:
        print("not ok - three provinces: mekong run failed (%d): %s"
              % (run.returncode, run.stderr.strip()[-400:]))
        return
    truth = {(r["source"], r["record"]): r
             for r in csv.DictReader(open(os.path.join(work, "truth.csv"), encoding="utf-8"))}
    seen, wrong = set(), []
    for r in csv.DictReader(open(os.path.join(work, "out", "citizens.csv"), encoding="utf-8")):
        k = (r["source"], r["record"])
        t = truth.get(k)
        if k in seen or not t or t["outcome"] != "ok" or any(r[f] != t[f] for f in FIELDS):
            wrong.append("kept %s: %s, truth %s" % (k, [r[f] for f in FIELDS],
                                                    t and [t["outcome"]] + [t[f] for f in FIELDS]))
        seen.add(k)
    rules = {}
    for r in csv.DictReader(open(os.path.join(work, "out", "rejects.csv"), encoding="utf-8")):
        k = (r["_source"], r["_record"])
        rule = r["_reason"].split(":", 1)[0]
        t = truth.get(k)
        rules[rule] = rules.get(rule, 0) + 1
        if k in seen or not t or t["outcome"] != rule:
            wrong.append("rejected %s as %s, truth %s" % (k, r["_reason"], t and t["outcome"]))
        seen.add(k)
    missing = [k for k in truth if k not in seen]
    for w in wrong[:10]:
        print("# " + w)
    for k in missing[:10]:
        print("# neither kept nor rejected: %s" % (k,))
    report = json.load(open(os.path.join(work, "out", "report.json"), encoding="utf-8"))
    ok = not wrong and not missing and report["totals"]["balanced"] and len(truth) >= 3000
    kept = sum(1 for t in truth.values() if t["outcome"] == "ok")
    print("%s - three provinces: %d rows (UTF-8 BOM+NFD, TCVN3, VNI+CRLF), %d kept as the truth says, "
          "rejects by rule %s; %d wrong, %d missing"
          % ("ok" if ok else "not ok", len(truth), kept,
             ", ".join("%s %d" % kv for kv in sorted(rules.items())), len(wrong), len(missing)))


if __name__ == "__main__":
    main()
