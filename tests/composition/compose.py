#!/usr/bin/env python3
"""tests/composition/compose.py WORK FIXTURE... -- one composition test.

Builds `csv source -> FIXTURE 1 -> FIXTURE 2 ... -> csv sink` in WORK (each
fixture's files with {N} replaced by its position), runs $MEKONG on it and
checks the output rows byte for byte, the rejects rows, the report totals
and each stage's row counts against the fixtures' models (model.py:
apply(rows, n) -> (rows, rejected, dropped)).  Prints one ok/not ok line.
See tests/README.md, "Composition tests".
"""
import copy
import importlib.util
import json
import os
import subprocess
import sys

sys.dont_write_bytecode = True  # the fixtures are in the source tree

HERE = os.path.dirname(os.path.abspath(__file__))
INPUT = os.path.join(HERE, "input.csv")
SPECIAL = {"step.yaml", "requires", "model.py", "README.md", "__pycache__"}


def parse_csv(text):
    """RFC 4180 records as (start line, [values]); an empty unquoted field
    is None (NULL), a quoted empty one "" (as the csv source reads them)."""
    records, fields, field, quoted, line, start, i = [], [], "", False, 1, 1, 0
    while i < len(text):
        c = text[i]
        if c == '"' and not field and not quoted:
            quoted, field = True, ""
            i += 1
            while not (text[i] == '"' and text[i + 1:i + 2] != '"'):
                line += text[i] == "\n"
                field += text[i]
                i += 2 if text[i] == '"' else 1
        elif c in ",\n":
            fields.append(field if field or quoted else None)
            field, quoted = "", False
            if c == "\n":
                records.append((start, fields))
                fields, line = [], line + 1
                start = line
        else:
            field += c
        i += 1
    return records


def render_field(v):
    if v is None:
        return ""
    if v == "" or v[0] in " \t" or v[-1] in " \t" or any(c in v for c in ',"\r\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def render_csv(rows):
    if not rows:
        return ""
    lines = [",".join(rows[0])] + [",".join(render_field(v) for v in r.values()) for r in rows]
    return "\n".join(lines) + "\n"


def build(work, fixtures):
    """Writes WORK/pipeline.yaml and the fixtures' files; returns the models."""
    steps, models = [], []
    for n, fx in enumerate(fixtures, 1):
        sub = lambda s: s.replace("{N}", str(n))
        for f in sorted(os.listdir(fx)):
            if f not in SPECIAL:
                with open(os.path.join(fx, f), encoding="utf-8") as src, \
                        open(os.path.join(work, sub(f)), "w", encoding="utf-8") as dst:
                    dst.write(sub(src.read()))
        with open(os.path.join(fx, "step.yaml"), encoding="utf-8") as f:
            steps.append("".join("  " + sub(l) for l in f))
        spec = importlib.util.spec_from_file_location("model_%d" % n, os.path.join(fx, "model.py"))
        models.append(importlib.util.module_from_spec(spec))
        spec.loader.exec_module(models[-1])
    with open(os.path.join(work, "pipeline.yaml"), "w", encoding="utf-8") as f:
        f.write("sources:\n  - name: in\n    plugin: csv\n    path: %s\n" % json.dumps(INPUT))
        f.write("transforms:\n" + "".join(steps))
        f.write("sinks:\n  - plugin: csv\n    path: out/rows.csv\n")
        f.write("rejects: out/rejects.csv\nreport: out/report.json\n")
    return models


def expect(models, fixtures):
    """What the models say: final rows, rejected [(stage, row, reason)], stage counts."""
    records = parse_csv(open(INPUT, encoding="utf-8").read())
    header = records[0][1]
    rows = [dict(zip(header, values)) for _, values in records[1:]]
    rejected, stages, dropped = [], [], 0
    for n, (model, fx) in enumerate(zip(models, fixtures), 1):
        name = "%s_%d" % (os.path.basename(fx), n)
        out, rej, drop = model.apply(copy.deepcopy(rows), n)
        stages.append((name, {"in": len(rows), "out": len(out), "rejected": len(rej),
                              "dropped": len(drop)}))
        rejected += [(name, row, reason) for row, reason in rej]
        dropped += len(drop)
        rows = out
    totals = {"read": len(records) - 1, "written": len(rows), "rejected": len(rejected),
              "dropped": dropped, "balanced": True}
    return records, rows, rejected, stages, totals


def check_rejects(work, records, rejected):
    """The rejects file holds each rejected record as the source read it,
    with its line, stage and reason; columns other than those are ignored."""
    problems = []
    got = parse_csv(open(os.path.join(work, "out/rejects.csv"), encoding="utf-8").read())
    cols = got[0][1] if got else []
    got = sorted((dict(zip(cols, v)) for _, v in got[1:]), key=lambda r: int(r.get("_line") or 0))
    source = {values[0]: (line, dict(zip(records[0][1], values))) for line, values in records[1:]}
    want = []
    for stage, row, reason in rejected:
        line, rec = source[row["id"]]  # every fixture keeps the column id
        want.append({**rec, "_source": "in", "_line": str(line), "_stage": stage, "_reason": reason})
    want.sort(key=lambda r: int(r["_line"]))
    if len(got) != len(want):
        problems.append("rejects: %d rows, expected %d" % (len(got), len(want)))
    for g, w in zip(got, want):
        diff = {k: (g.get(k, "(absent)"), v) for k, v in w.items() if g.get(k, "(absent)") != v}
        if diff:
            problems.append("rejects line %s: got/expected %s" % (w["_line"], diff))
    return problems


def check_report(work, stages, totals):
    problems = []
    report = json.load(open(os.path.join(work, "out/report.json"), encoding="utf-8"))
    for k, v in totals.items():
        if report["totals"].get(k) != v:
            problems.append("report totals.%s is %s, expected %s" % (k, report["totals"].get(k), v))
    by_name = {s["name"]: s for s in report["stages"]}
    for name, counts in stages:
        for k, v in counts.items():
            got = by_name.get(name, {}).get(k)
            if got != v:
                problems.append("report stages[%s].%s is %s, expected %s" % (name, k, got, v))
    return problems


def main(work, fixtures):
    label = "composition %s" % " -> ".join(os.path.basename(f) for f in fixtures)
    models = build(work, fixtures)
    run = subprocess.run([os.environ["MEKONG"], "run", "pipeline.yaml", "-q"], cwd=work,
                         capture_output=True, text=True)
    if run.returncode != 0:
        print("not ok - %s: mekong exit status %d" % (label, run.returncode))
        print("\n".join("    " + l for l in run.stderr.splitlines()[:10]))
        return
    records, rows, rejected, stages, totals = expect(models, fixtures)
    problems = []
    want = render_csv(rows).encode("utf-8")
    got = open(os.path.join(work, "out/rows.csv"), "rb").read()  # byte for byte
    if got != want:
        problems.append("out/rows.csv differs:\n      want %r\n      got  %r" % (want, got))
    problems += check_rejects(work, records, rejected) + check_report(work, stages, totals)
    print(("not ok - " if problems else "ok - ") + label +
          ": rows, rejects and report match the models")
    for p in problems:
        print("    " + p)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
