#!/usr/bin/env python3
"""bench/admin-peer.py TABLES IN.csv OUT.csv -- the peer of bench/admin.sh: what an integrator
writes in Python (csv module, dicts): the last three parts as old ward, district, province (or
two as 2025 ward, province), names lower-cased without type words, looked up in dicts built from
the same tables.  It knows less than admin (no tone-placement key, no NFD, no codes) and is only
a yardstick for speed."""
import csv
import os
import sys

TYPES = ("thành phố ", "tỉnh ", "quận ", "huyện ", "thị xã ", "phường ", "xã ", "thị trấn ",
         "đặc khu ", "tp. ", "t. ", "q. ", "h. ", "tx. ", "p. ", "x. ", "tt. ")


def key(s):
    s = s.strip().lower()
    for t in TYPES:
        if s.startswith(t):
            return s[len(t):]
    return s


def main():
    tables, src, dst = sys.argv[1:4]
    old, new = {}, {}
    for r in csv.DictReader(open(os.path.join(tables, "ward_old_to_new_2025.csv"), encoding="utf-8")):
        k = (key(r["old_ward_name"]), key(r["old_district_name"]), key(r["old_province_name"]))
        old.setdefault(k, set()).add((r["new_ward_code"], r["new_ward_name"]))
    provs = {r["code"]: key(r["full_name"]) for r in
             csv.DictReader(open(os.path.join(tables, "provinces_2025.csv"), encoding="utf-8"))}
    for r in csv.DictReader(open(os.path.join(tables, "wards_2025.csv"), encoding="utf-8")):
        new[(key(r["full_name"]), provs[r["province_code"]])] = (r["code"], r["full_name"])
    with open(src, encoding="utf-8", newline="") as f, open(dst, "w", encoding="utf-8", newline="") as o:
        rd, wr = csv.reader(f), csv.writer(o, lineterminator="\n")
        wr.writerow(next(rd) + ["ward_code", "ward_name"])
        for row in rd:
            parts = [key(p) for p in row[1].split(",")]
            hit = old.get(tuple(parts[-3:])) if len(parts) >= 3 else None
            if hit and len(hit) == 1:
                code, name = next(iter(hit))
            else:
                code, name = new.get(tuple(parts[-2:]), ("", ""))
            wr.writerow(row + [code, name])


if __name__ == "__main__":
    main()
