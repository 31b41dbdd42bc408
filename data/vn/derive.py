#!/usr/bin/env python3
"""data/vn/derive.py -- derive mekong's administrative-unit tables from the shared reference copies.

    python3 data/vn/derive.py SHARED_VN_DIR OUT_DIR

SHARED_VN_DIR is ../shared/reference/vn (its PROVENANCE.md names every upstream file); OUT_DIR gets
the files that ship in data/vn/ (PROVENANCE.md there says what each holds).  Python 3 standard
library only; the output is the same bytes on every run (UTF-8, NFC, LF, sorted by code).

The conversion table is derived from the raw NSO table itself, not from the shared derived copy:
names and codes are split out of its "Name (code)" cells, every text is NFC with blanks collapsed,
and an old province code that contradicts the pre-2025 list (the old district's own province) is
corrected and said so in the `correction` column.  The shared derived copy is then compared column
by column and every difference is printed, so a new fault in either is seen.
"""
import collections
import csv
import io
import os
import re
import sys
import unicodedata

CODE_CELL = re.compile(r"^(.*?)\s*\((\d+)\)\s*$")


def clean(s):
    """NFC, blanks collapsed, trimmed."""
    return " ".join(unicodedata.normalize("NFC", s).split())


def toneless(s):
    """s without tone marks, lower case, one apostrophe: hoà = hòa, M\u2019gar = M'gar."""
    d = unicodedata.normalize("NFD", s.lower()).replace("\u2019", "'")
    return "".join(c for c in d if c not in "\u0300\u0301\u0303\u0309\u0323")


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def read_dicts(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def name_code(cell):
    m = CODE_CELL.match(cell)
    if not m:
        raise SystemExit("derive.py: no '(code)' in cell %r" % cell)
    return clean(m.group(1)), m.group(2)


def write_csv(out_dir, name, header, rows):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    with open(os.path.join(out_dir, name), "w", encoding="utf-8", newline="") as f:
        f.write(buf.getvalue())
    print("%s: %d rows" % (name, len(rows)))


def pre2025(shared):
    """The 2025-01-04 list: wards by code, districts by code, provinces by code."""
    wards, districts, provinces = {}, {}, {}
    for r in read_dicts(os.path.join(shared, "admin", "units_pre2025_2025-01-04.csv")):
        pcode, dcode, wcode = r["Mã TP"].strip(), r["Mã QH"].strip(), r["Mã PX"].strip()
        provinces[pcode] = clean(r["Tỉnh Thành Phố"])
        districts[dcode] = (clean(r["Quận Huyện"]), pcode)
        if wcode:
            wards[wcode] = (clean(r["Phường Xã"]), clean(r["Cấp"]), dcode)
    return wards, districts, provinces


def conversion(shared, wards, districts, provinces, new_provinces, new_wards):
    """The raw NSO table as rows of the derived file, with corrections."""
    raw = read_csv(os.path.join(shared, "admin", "raw_nso_conversion_table_2025-07-01.csv"))
    used_codes = set(cells[4].strip() for cells in raw[2:] if cells[1].strip())
    rows = []
    for cells in raw[2:]:
        if not cells[1].strip():
            continue  # a province banner row
        new_pname, new_pcode = name_code(cells[0])
        new_wname, new_wcode = clean(cells[1]), cells[2].strip()
        old_wname, old_wcode = clean(cells[3]), cells[4].strip()
        old_dname, old_dcode = name_code(cells[6])
        old_pname, old_pcode = name_code(cells[7])
        fixes = []
        if old_dcode in districts and districts[old_dcode][1] != old_pcode:
            right = districts[old_dcode][1]
            fixes.append("old_province_code %s->%s (%s is in %s)" % (old_pcode, right, old_dname,
                                                                     provinces[right]))
            old_pcode = right
        old_pname = provinces.get(old_pcode, old_pname)
        listed = wards.get(old_wcode)
        if listed and toneless(listed[0]) != toneless(old_wname):
            # the code is another ward's: take this name's code in the district, if the table
            # does not use that code itself
            same = [c for c, w in wards.items()
                    if w[2] == old_dcode and toneless(w[0]) == toneless(old_wname)]
            if len(same) == 1 and same[0] not in used_codes:
                fixes.append("old_ward_code %s->%s (%s is %s in the 2025-01-04 list)"
                             % (old_wcode, same[0], old_wcode, listed[0]))
                old_wcode = same[0]
        if new_pcode not in new_provinces:
            raise SystemExit("derive.py: new province %s not in provinces_2025" % new_pcode)
        if new_wcode not in new_wards or toneless(new_wards[new_wcode][0]) != toneless(new_wname):
            raise SystemExit("derive.py: new ward %s %s not in wards_2025" % (new_wcode, new_wname))
        if new_wards[new_wcode][0] != new_wname:
            fixes.append("new_ward_name %s->%s (as wards_2025)" % (new_wname, new_wards[new_wcode][0]))
            new_wname = new_wards[new_wcode][0]  # as the 2025 register writes it (tone placement)
        new_pname = new_provinces[new_pcode]
        rows.append([old_pcode, old_pname, old_dcode, old_dname, old_wcode, old_wname, new_pcode,
                     new_pname, new_wcode, new_wname, clean(cells[5]), "; ".join(fixes)])
    rows.sort(key=lambda r: (r[0], r[2], r[4], r[8], r[5]))
    return rows


def compare_shared(shared, rows):
    """Print every difference from the shared derived copy (same facts, other columns)."""
    theirs = read_dicts(os.path.join(shared, "admin", "ward_old_to_new_2025.csv"))
    cols = ["old_province_code", "old_province_name", "old_district_code", "old_district_name",
            "old_ward_code", "old_ward_name", "new_province_code", "new_province_name",
            "new_ward_code", "new_ward_name", "note"]
    mine = collections.Counter(tuple(r[:11]) for r in rows)
    other = collections.Counter(tuple(t[c] for c in cols) for t in theirs)
    for k in sorted((mine - other).keys()):
        print("  only here:   %s" % ",".join(k))
    for k in sorted((other - mine).keys()):
        print("  only shared: %s" % ",".join(k))


def main():
    if len(sys.argv) != 3:
        raise SystemExit("usage: derive.py SHARED_VN_DIR OUT_DIR")
    shared, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    admin = os.path.join(shared, "admin")

    new_provinces, prov_rows = {}, []
    for r in read_dicts(os.path.join(admin, "provinces_2025.csv")):
        new_provinces[r["code"]] = clean(r["full_name"])
        prov_rows.append([r["code"], clean(r["full_name"]), clean(r["name"]),
                          clean(r["division_type"])])
    new_wards, ward_rows = {}, []
    for r in read_dicts(os.path.join(admin, "wards_2025.csv")):
        new_wards[r["code"]] = (clean(r["full_name"]), r["province_code"])
        ward_rows.append([r["code"], clean(r["full_name"]), clean(r["division_type"]),
                          r["province_code"]])
    write_csv(out, "provinces_2025.csv", ["code", "full_name", "name", "division_type"],
              sorted(prov_rows))
    write_csv(out, "wards_2025.csv", ["code", "full_name", "division_type", "province_code"],
              sorted(ward_rows))

    wards, districts, provinces = pre2025(shared)
    unit_rows = []
    for r in read_dicts(os.path.join(admin, "units_pre2025_2025-01-04.csv")):
        unit_rows.append([r["Mã TP"].strip(), clean(r["Tỉnh Thành Phố"]), r["Mã QH"].strip(),
                          clean(r["Quận Huyện"]), r["Mã PX"].strip(), clean(r["Phường Xã"]),
                          clean(r["Cấp"])])
    write_csv(out, "units_pre2025.csv",
              ["province_code", "province_name", "district_code", "district_name", "ward_code",
               "ward_name", "ward_type"], sorted(unit_rows))

    rows = conversion(shared, wards, districts, provinces, new_provinces, new_wards)
    write_csv(out, "ward_old_to_new_2025.csv",
              ["old_province_code", "old_province_name", "old_district_code", "old_district_name",
               "old_ward_code", "old_ward_name", "new_province_code", "new_province_name",
               "new_ward_code", "new_ward_name", "note", "correction"], rows)
    for r in rows:
        if r[11]:
            print("  corrected: %s %s: %s" % (r[4] or r[3], r[5] or r[3], r[11]))
    compare_shared(shared, rows)

    old_to_new = {}
    for r in rows:
        old_to_new.setdefault(r[0], set()).add((r[6], r[7]))
    prov_map = []
    for code in sorted(provinces):
        targets = old_to_new.get(code, set())
        if len(targets) != 1:
            raise SystemExit("derive.py: old province %s maps to %r" % (code, sorted(targets)))
        (new_code, new_name), = targets
        prov_map.append([code, provinces[code], new_code, new_name])
    write_csv(out, "province_old_to_new_2025.csv",
              ["old_province_code", "old_province_name", "new_province_code", "new_province_name"],
              prov_map)
    write_csv(out, "cccd_province_codes.csv",
              ["cccd_code", "old_province_code", "old_province_name", "new_province_code",
               "new_province_name"], [["0" + p[0]] + p for p in prov_map])


if __name__ == "__main__":
    main()
