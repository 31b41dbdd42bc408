#!/usr/bin/env python3
"""tests/report-check.py EXPECT [REPORT] -- check a run report against
`PATH VALUE` lines (see tests/README.md, "Report expectations").

PATH is a JSON key path into the report: keys joined by dots, an array
element by its index (`stages.0.in`), or by the name it carries in
brackets (`stages[map#1].in`: the element whose "name" is map#1;
`rules[rule=cccd].rejected`: the element whose "rule" is cccd); on an
object, brackets name a key that holds a dot (`stages[dedupe][dup.x]`).  VALUE is
JSON: 4, true, "utf-8", null.  A first line `file: PATH` names the report;
else REPORT is used.  Lines starting with # and blank lines are skipped.
Prints one line per problem; exit status 1 when there was one.
"""
import json
import re
import sys

SEGMENT = re.compile(r"\[([^\]]*)\]|([^.\[\]]+)")


def parse_path(path):
    """'stages[map#1].in' -> [('sel', 'map#1'), ...]; None when malformed."""
    segs, pos = [], 0
    while pos < len(path):
        if path[pos] == "." and segs:
            pos += 1
        m = SEGMENT.match(path, pos)
        if not m:
            return None
        segs.append(("sel", m.group(1)) if m.group(1) is not None else ("key", m.group(2)))
        pos = m.end()
    return segs


def select(items, sel):
    key, _, want = sel.rpartition("=") if "=" in sel else ("name", "", sel)
    for item in items:
        if isinstance(item, dict) and str(item.get(key)) == want:
            return item
    raise LookupError


def step(node, kind, seg):
    if kind == "sel" and isinstance(node, list):
        return select(node, seg)
    if kind == "sel" and isinstance(node, dict) and seg in node:
        return node[seg]  # a key with a dot: stages[dedupe][duplicate.labour]
    if kind == "key" and isinstance(node, dict) and seg in node:
        return node[seg]
    if kind == "key" and isinstance(node, list) and seg.isdigit() and int(seg) < len(node):
        return node[int(seg)]
    raise LookupError


def nearby(node):
    """What the path could have named instead, for the failure message."""
    if isinstance(node, dict):
        return "keys: " + ", ".join(node)
    if isinstance(node, list):
        names = [str(i.get("name", i.get("rule"))) for i in node if isinstance(i, dict)]
        return "an array of %d%s" % (len(node), (", names: " + ", ".join(names)) if names else "")
    return "a value: " + json.dumps(node, ensure_ascii=False)


def lookup(report, path):
    """(value, None) or (None, problem)."""
    segs = parse_path(path)
    if not segs:
        return None, "malformed path %r" % path
    node, done = report, ""
    for kind, seg in segs:
        here = "[%s]" % seg if kind == "sel" else ("." if done else "") + seg
        try:
            node = step(node, kind, seg)
        except LookupError:
            return None, "%s: %s has no %s (%s)" % (path, done or "the report", here.lstrip("."),
                                                   nearby(node))
        done += here
    return node, None


def same(want, got):
    if isinstance(want, bool) or isinstance(got, bool):
        return want is got
    return want == got


def check_line(report, line):
    path, _, text = line.partition(" ")
    try:
        want = json.loads(text.strip())
    except ValueError:
        return "%s: expected value %r is not JSON (strings need quotes)" % (path, text.strip())
    got, problem = lookup(report, path)
    if problem:
        return problem
    if not same(want, got):
        return "%s is %s, expected %s" % (path, json.dumps(got, ensure_ascii=False), text.strip())
    return None


def main(argv):
    with open(argv[1], encoding="utf-8") as f:
        lines = [l.strip() for l in f if l.strip() and not l.lstrip().startswith("#")]
    report_path = argv[2] if len(argv) > 2 else None
    if lines and lines[0].startswith("file:"):
        report_path = lines.pop(0)[len("file:"):].strip()
    if not report_path:
        print("report: no run report found (expected out/*.report.json or a 'file:' line)")
        return 1
    try:
        with open(report_path, encoding="utf-8") as f:
            report = json.load(f)
    except (OSError, ValueError) as e:
        print("report: cannot read %s: %s" % (report_path, e))
        return 1
    problems = [p for p in (check_line(report, l) for l in lines) if p]
    for p in problems:
        print("report %s: %s" % (report_path, p))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
