#!/usr/bin/env python3
"""bench/admin-gen.py TABLES N > addresses.csv -- N addresses for bench/admin.sh.

Drawn (fixed seed) from the conversion table's old wards and the 2025 wards, in the forms people
write: full names, abbreviations (P. Q. TP. X. H. T.), no type words, a house part in front, some
in the 2025 two-level form; about 1 in 20 names no ward the tables know."""
import csv
import os
import random
import sys

ABBR = {"Phường": "P.", "Xã": "X.", "Thị trấn": "TT.", "Quận": "Q.", "Huyện": "H.",
        "Thị xã": "TX.", "Thành phố": "TP.", "Tỉnh": "T.", "Đặc khu": "Đặc khu"}


def short(name):
    for t, a in ABBR.items():
        if name.startswith(t + " "):
            return a + " " + name[len(t) + 1:]
    return name


def bare(name):
    for t in ABBR:
        if name.startswith(t + " "):
            return name[len(t) + 1:]
    return name


def main():
    tables, n = sys.argv[1], int(sys.argv[2])
    rnd = random.Random(20250701)
    old = [r for r in csv.DictReader(open(os.path.join(tables, "ward_old_to_new_2025.csv"),
                                          encoding="utf-8")) if r["old_ward_code"]]
    new = list(csv.DictReader(open(os.path.join(tables, "wards_2025.csv"), encoding="utf-8")))
    prov = {r["code"]: r["full_name"] for r in
            csv.DictReader(open(os.path.join(tables, "provinces_2025.csv"), encoding="utf-8"))}
    streets = ["Lê Lợi", "Trần Hưng Đạo", "Nguyễn Huệ", "Hai Bà Trưng", "Lý Thường Kiệt"]
    w = csv.writer(sys.stdout, lineterminator="\n")
    w.writerow(["id", "address"])
    for i in range(n):
        house = "%d %s" % (rnd.randint(1, 300), rnd.choice(streets))
        k = rnd.random()
        if k < 0.25:
            r = rnd.choice(new)
            addr = "%s, %s, %s" % (house, r["full_name"], prov[r["province_code"]])
        else:
            r = rnd.choice(old)
            parts = [r["old_ward_name"], r["old_district_name"], r["old_province_name"]]
            if k < 0.5:
                parts = [short(p) for p in parts]
            elif k < 0.6:
                parts = [bare(p) for p in parts]
            elif k < 0.65:
                parts[0] = "Phường Không Có"
            addr = ", ".join([house] + parts)
        w.writerow([i + 1, addr])


if __name__ == "__main__":
    main()
