#!/usr/bin/env python3
"""tests/admin/conversion.py -- admin resolves the conversion table's own old wards back.

    python3 tests/admin/conversion.py MEKONG TABLES_DIR WORK_DIR

Every old ward of TABLES_DIR/ward_old_to_new_2025.csv is written in four forms (full names; type
words abbreviated with numbers zero-padded and TP.HCM; no type words, lower case, the other tone
placement and NFD; upper case, abbreviations glued to the names, the other tone placement, no blank
after the commas), run through `mekong run` with an admin step, and checked: a ward the table sends
to one new ward must come out as that ward; a split ward must be rejected as admin.split naming every
candidate, and each in at least three of the forms.  Where the table itself makes a written form ambiguous (two old wards or districts with
one name where the form drops the type word), admin.ambiguous is expected instead; the oracle
decides that with its own key, written here independently of the C code.  Prints ok/not ok lines.
"""
import collections
import csv
import os
import re
import subprocess
import sys
import unicodedata

TYPES = ["Thị trấn", "Thị xã", "Thành phố", "Đặc khu", "Phường", "Xã", "Quận", "Huyện", "Tỉnh"]
ABBR = {"Thị trấn": "TT.", "Thị xã": "TX.", "Thành phố": "TP.", "Phường": "P.", "Xã": "X.",
        "Quận": "Q.", "Huyện": "H.", "Tỉnh": "T.", "Đặc khu": "Đặc khu "}
TONES = "\u0300\u0301\u0303\u0309\u0323"


def split_type(name):
    for t in TYPES:
        if name.lower().startswith(t.lower() + " "):
            return t, name[len(t) + 1:]
    return None, name


def syllable(w):
    """The tone mark taken off and written after the syllable: hoà and hòa are both hoa + 2."""
    if w.isdigit():
        return w.lstrip("0") or "0"
    tone = "".join(c for c in w if c in TONES)
    return "".join(c for c in w if c not in TONES) + tone


def key(name):
    """Oracle key: no type word, lower case, tone placement free, numbers without leading zeros."""
    d = unicodedata.normalize("NFD", split_type(name)[1].lower()).replace("\u2019", "'")
    return " ".join(syllable(w) for w in re.split(r"[\s\-]+", d) if w)


def new_style(s):
    """hòa -> hoà, thủy -> thuỷ, khỏe -> khoẻ (tone moved onto the second vowel)."""
    d = unicodedata.normalize("NFD", s)
    d = re.sub(r"([oOuU])([" + TONES + r"])([aAeEyY])(?![^\W\d_])", r"\1\3\2", d)
    return d


def forms(w, d, p, pcode):
    full = "%s, %s, %s" % (w, d, p)

    def abbr(name, province=False):
        t, rest = split_type(name)
        if province and pcode == "79":
            return "TP.HCM"
        if t is None:
            return name
        if rest.isdigit():
            return "%s%02d" % (ABBR[t].strip(), int(rest))
        return ABBR[t] + " " + rest if not ABBR[t].endswith(" ") else ABBR[t] + rest

    short = "%s, %s, %s" % (abbr(w), abbr(d), abbr(p, True))
    bare = ", ".join(split_type(x)[1] for x in (w, d, p)).lower()
    bare = unicodedata.normalize("NFD", new_style(bare))

    def glued(name):
        t, rest = split_type(name)
        return (ABBR[t].strip() if t and t != "Đặc khu" else (t + " " if t else "")) + rest

    loud = unicodedata.normalize("NFC", new_style(",".join(glued(x) for x in (w, d, p)))).upper()
    return [full, short, bare, loud]


def main():
    mekong, tables, work = sys.argv[1:4]
    rows = list(csv.DictReader(open(os.path.join(tables, "ward_old_to_new_2025.csv"), encoding="utf-8")))
    targets = collections.defaultdict(set)
    info = {}
    for r in rows:
        if not r["old_ward_code"]:
            continue
        k = (r["old_ward_code"], r["old_district_code"])
        targets[k].add((r["new_ward_code"], r["new_ward_name"]))
        info[k] = r
    # namesakes the oracle knows of: wards per district, districts per old province
    ward_names = collections.defaultdict(list)
    for k, r in info.items():
        ward_names[(r["old_district_code"], key(r["old_ward_name"]))].append(split_type(r["old_ward_name"])[0])
    dist_names = collections.defaultdict(set)
    for r in rows:
        dist_names[(r["old_province_code"], key(r["old_district_name"]))].add(r["old_district_code"])

    os.makedirs(work, exist_ok=True)
    inp = os.path.join(work, "in.csv")
    expect = {}
    with open(inp, "w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(["id", "address"])
        n = 0
        for k in sorted(info):
            r = info[k]
            for form, text in enumerate(forms(r["old_ward_name"], r["old_district_name"],
                                              r["old_province_name"], r["old_province_code"])):
                n += 1
                wt = split_type(r["old_ward_name"])[0]
                same = ward_names[(r["old_district_code"], key(r["old_ward_name"]))]
                typed = form != 2 and wt is not None
                clash = len(same) > 1 and (not typed or same.count(wt) > 1)
                dclash = len(dist_names[(r["old_province_code"], key(r["old_district_name"]))]) > 1 and form == 2
                expect[str(n)] = (k, form, text, "ambiguous" if clash or dclash else
                                  "ok" if len(targets[k]) == 1 else "split")
                out.writerow([n, text])
    with open(os.path.join(work, "p.yaml"), "w") as f:
        f.write("""name: conversion
sources:
  - { name: table, plugin: csv, path: in.csv }
transforms:
  - plugin: admin
    address: address
    tables: %s
    output: { ward_code: new_ward, province_code: null, province_name: null, ward_name: null }
sinks:
  - { plugin: csv, path: out.csv }
rejects: rejects.csv
report: report.json
""" % os.path.abspath(tables))
    run = subprocess.run([mekong, "run", "p.yaml"], cwd=work, check=False, capture_output=True,
                         text=True)
    if run.returncode != 0 or not os.path.exists(os.path.join(work, "out.csv")):
        print("not ok - admin conversion table: mekong run failed (%d): %s"
              % (run.returncode, run.stderr.strip()[-300:]))
        return
    got = {}
    for r in csv.DictReader(open(os.path.join(work, "out.csv"), encoding="utf-8")):
        got[r["id"]] = ("ok", r["new_ward"])
    for r in csv.DictReader(open(os.path.join(work, "rejects.csv"), encoding="utf-8")):
        got[r["id"]] = ("reject", r["_reason"])
    bad = collections.Counter()
    good_forms = collections.Counter()
    shown = 0
    counts = collections.Counter()
    for n, (k, form, text, want) in expect.items():
        g = got.get(n)
        counts[want] += 1
        if want == "ok":
            good = g == ("ok", next(iter(targets[k]))[0])
        elif want == "split":
            good = g and g[0] == "reject" and g[1].startswith("admin.split: ") and all(
                name in g[1] for _, name in targets[k])
        else:
            good = g and g[0] == "reject" and g[1].startswith("admin.ambiguous: ")
        if good and want != "ambiguous":
            good_forms[k] += 1
        if not good:
            bad[(want, form)] += 1
            if shown < 15:
                shown += 1
                print("# %s form %d %r: expected %s, got %r" % (k[0], form, text, want, g))
    for want in ("ok", "split", "ambiguous"):
        for form in range(4):
            label = "admin conversion table: %s, form %d" % (want, form)
            if bad[(want, form)]:
                print("not ok - %s (%d wrong)" % (label, bad[(want, form)]))
    total = sum(counts.values())
    few = [k for k in info if good_forms[k] < 3]
    for k in few[:5]:
        print("# %s resolved in %d forms only" % (k[0], good_forms[k]))
    if few:
        print("not ok - admin conversion table: %d old wards resolve in fewer than 3 forms" % len(few))
    if not bad and not few and counts["ok"] > 10000 and counts["split"] > 1000:
        print("ok - admin resolves the conversion table back: %d one-to-one, %d split, %d ambiguous "
              "by the table itself, in 4 forms (%d rows); each of the %d old wards in at least 3" % (counts["ok"] // 1, counts["split"],
                                                             counts["ambiguous"], total, len(info)))


if __name__ == "__main__":
    main()
