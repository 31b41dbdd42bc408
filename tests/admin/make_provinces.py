#!/usr/bin/env python3
"""tests/admin/make_provinces.py ENCODINGS_DIR OUT_DIR -- the three-province harmonization set.

Three citizen registries of one person each per row, as three provinces keep them before 2025:

  data/hanoi.csv    UTF-8 with a BOM, decomposed (NFD), LF; so_dinh_danh, ho_ten, dia_chi, ma_xa
                    (the old ward code, leading zeros lost in half the rows, wrong in a few)
  data/namdinh.csv  TCVN3 (toned capitals cannot be written: they come back lower case), LF;
                    cccd, ho_va_ten, dia_chi_thuong_tru (most addresses do not name the province)
  data/hcm.csv      VNI-Windows, CRLF; national_id, full_name, address (TP.HCM in every spelling,
                    numbered wards and districts with and without zero padding)

Addresses are old (ward, district, province) in every written form -- full names, abbreviations
with and without dot and space, no type words, upper case, legacy case damage, the other tone
placement -- or already in the 2025 two-level form.  Planted: old wards the conversion table
splits, wards that do not exist, ward codes that contradict the text, national IDs repeated
within and across files, names in the new tone placement (hoà; the national dataset writes hòa).
truth.csv says, per source and record, what the pipeline must do: the 2025 province and ward of a
kept row, or the rule that rejects it.

Deterministic (fixed seed); the legacy bytes come from the shared reference tables
(ENCODINGS_DIR = ../shared/reference/vn/encodings: tcvn3_encode.tsv, vni_windows.tsv).  The
administrative units come from the shipped data/vn tables.
"""
import csv
import collections
import io
import os
import random
import sys
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "data", "vn")
sys.path.insert(0, HERE)
import conversion  # noqa: E402  (the oracle's key and type words)

ROWS = 1200
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Thanh", "Quốc", "Ngọc"]
GIVEN = ["Hòa", "Thủy", "Khỏe", "Hoàng", "Ánh", "Ích", "Ổn", "Ứng", "Ưng", "Lan", "Hương", "Bình",
         "Thúy", "Quý", "Tùng", "Hạnh", "Ý", "Ân", "Oanh", "Thoại", "Xòe", "Đạo"]
STREETS = ["Lê Lợi", "Trần Hưng Đạo", "Nguyễn Trãi", "Hai Bà Trưng", "Lý Thường Kiệt", "Quang Trung"]
TONES = "\u0300\u0301\u0303\u0309\u0323"


def nfc(s):
    return unicodedata.normalize("NFC", s)


def load_table(path):
    """unicode text -> legacy bytes, from a reference table (one letter per line)."""
    enc = {}
    for line in open(path, encoding="utf-8"):
        if line.startswith("#") or not line.strip():
            continue
        legacy, uni = line.rstrip("\n").split("\t")[:2]
        ch = "".join(chr(int(u[2:], 16)) for u in uni.split())
        enc.setdefault(nfc(ch), bytes.fromhex(legacy))
    return enc


def encode(text, table):
    out = bytearray()
    for ch in nfc(text):
        if ord(ch) < 0x80:
            out += ch.encode()
        elif ch in table:
            out += table[ch]
        else:
            raise SystemExit("make_provinces.py: %r has no byte in the table" % ch)
    return bytes(out)


def new_style(s):
    return nfc(conversion.new_style(s))


def abbreviate(name, glue):
    t, rest = conversion.split_type(name)
    if t is None:
        return name
    a = conversion.ABBR[t].strip()
    if a == "Đặc khu":
        return name
    if rest.isdigit():
        return a + (rest.zfill(2) if glue == "pad" else rest)
    return {"dot": a + " " + rest, "pad": a + " " + rest, "glued": a + rest,
            "nodot": a.rstrip(".") + " " + rest}[glue]


def case_damage(name):
    """The first letter of the name after the type word in lower case: "Huyện ý Yên"."""
    t, rest = conversion.split_type(name)
    return (t + " " if t else "") + rest[:1].lower() + rest[1:]


HCM_SPELLINGS = ["TP.HCM", "TP HCM", "TPHCM", "Tp.HCM", "Thành phố Hồ Chí Minh", "Hồ Chí Minh",
                 "TP. Hồ Chí Minh"]


def old_address(rnd, form, w, d, p, province_mode):
    """One old address in written form number form."""
    if form == 0:
        parts = [w, d]
    elif form in (1, 2, 3):
        glue = {1: "dot", 2: "glued", 3: "nodot"}[form]
        parts = [abbreviate(w, glue), abbreviate(d, glue)]
    elif form == 4:
        parts = [conversion.split_type(w)[1], conversion.split_type(d)[1]]
    elif form == 5:
        parts = [w.upper(), d.upper()]
    elif form == 6:
        parts = [case_damage(w), case_damage(d)]
    elif form == 7:
        parts = [new_style(w), new_style(d)]
    else:
        parts = [abbreviate(w, "pad"), abbreviate(d, "pad")]
    if province_mode == "hcm":
        parts.append(HCM_SPELLINGS[rnd.randrange(len(HCM_SPELLINGS))])
    elif province_mode == "default":
        if conversion.key(parts[-1]) == conversion.key(p):
            parts.append(p)  # "Quang Trung, Nam Định" would name the province, not the city
    
    elif province_mode == "short":
        parts.append(abbreviate(p, "dot"))
    else:
        parts.append(p if form != 4 else conversion.split_type(p)[1])
    house = "Số %d %s" % (rnd.randint(1, 300), STREETS[rnd.randrange(len(STREETS))])
    return ", ".join([house] + parts) if rnd.random() < 0.7 else ", ".join(parts)


def units(old_code, new_code):
    """Old wards (one-to-one and split) of an old province without namesakes, and 2025 wards."""
    rows = list(csv.DictReader(open(os.path.join(DATA, "ward_old_to_new_2025.csv"), encoding="utf-8")))
    targets = collections.defaultdict(set)
    info = {}
    for r in rows:
        if r["old_province_code"] == old_code and r["old_ward_code"]:
            targets[r["old_ward_code"]].add((r["new_ward_code"], r["new_ward_name"]))
            info[r["old_ward_code"]] = r
    names = collections.Counter((r["old_district_code"], conversion.key(r["old_ward_name"]))
                                for r in info.values())
    dists = collections.defaultdict(set)
    for r in info.values():
        dists[conversion.key(r["old_district_name"])].add(r["old_district_code"])
    clean = [c for c, r in sorted(info.items())
             if names[(r["old_district_code"], conversion.key(r["old_ward_name"]))] == 1
             and len(dists[conversion.key(r["old_district_name"])]) == 1]
    one = [info[c] for c in clean if len(targets[c]) == 1]
    split = [(info[c], sorted(targets[c])) for c in clean if len(targets[c]) > 1]
    new = [r for r in csv.DictReader(open(os.path.join(DATA, "wards_2025.csv"), encoding="utf-8"))
           if r["province_code"] == new_code]
    new_names = collections.Counter(conversion.key(r["full_name"]) for r in new)
    new = [r for r in new if new_names[conversion.key(r["full_name"])] == 1]
    return one, split, new, targets


def person(rnd):
    name = "%s %s %s" % (rnd.choice(SURNAMES), rnd.choice(MIDDLE), rnd.choice(GIVEN))
    return name, (new_style(name) if rnd.random() < 0.3 else name)


class Province:
    def __init__(self, key, old_code, new_code, province_name, new_province_name, mode):
        self.key, self.old_code, self.new_code, self.mode = key, old_code, new_code, mode
        self.province_name, self.new_province_name = province_name, new_province_name
        self.one, self.split, self.new, self.targets = units(old_code, new_code)
        self.new_keys = {conversion.key(r["full_name"]) for r in csv.DictReader(
            open(os.path.join(DATA, "wards_2025.csv"), encoding="utf-8"))
            if r["province_code"] == new_code}


def make_rows(rnd, prov, seen_ids, kept_ids):
    """(fields, truth) per row: truth = (national_id, full_name, outcome, ward code, ward name)."""
    out = []
    for i in range(ROWS):
        name, written = person(rnd)
        nid = "0%s%d%02d%06d" % (prov.old_code.zfill(2), rnd.choice([0, 1, 2, 3]) % 4,
                                 rnd.randint(50, 99), rnd.randint(0, 999999))
        while nid in seen_ids:
            nid = nid[:-6] + "%06d" % rnd.randint(0, 999999)
        code = ""
        k = i % 40
        if k == 39 and kept_ids:          # an ID seen before (this file or an earlier one)
            nid = kept_ids[rnd.randrange(len(kept_ids))]
        if k in (5, 25) and prov.split:   # an old ward the table splits
            r, cands = prov.split[rnd.randrange(len(prov.split))]
            addr = old_address(rnd, i % 9, r["old_ward_name"], r["old_district_name"],
                               prov.province_name, prov.mode)
            truth = ("admin.split", None, None)
        elif k == 15:                     # a ward that does not exist
            r = prov.one[rnd.randrange(len(prov.one))]
            addr = old_address(rnd, i % 9, "Xã Hư Cấu", r["old_district_name"],
                               prov.province_name, prov.mode)
            truth = ("admin.unknown", None, None)
            if i % 9 == 4 and conversion.key(r["old_district_name"]) in prov.new_keys:
                truth = ("admin.ambiguous", None, None)  # "Hư Cấu, Mỹ Đức": a street and a ward?
        elif k in (3, 13, 23, 33):        # the 2025 two-level form
            r = prov.new[rnd.randrange(len(prov.new))]
            p = prov.new_province_name if prov.mode != "hcm" else HCM_SPELLINGS[i % 7]
            addr = "Số %d %s, %s, %s" % (i, STREETS[i % 6], r["full_name"], p)
            truth = ("ok", r["code"], r["full_name"])
        else:
            r = prov.one[rnd.randrange(len(prov.one))]
            addr = old_address(rnd, i % 9, r["old_ward_name"], r["old_district_name"],
                               prov.province_name, prov.mode)
            (nc, nn), = prov.targets[r["old_ward_code"]]
            truth = ("ok", nc, nn)
            if prov.key == "hanoi" and i % 2:
                code = str(int(r["old_ward_code"])) if i % 4 == 1 else r["old_ward_code"]
                if k == 37:               # a code of another ward: the text and the code disagree
                    other = prov.one[(prov.one.index(r) + 7) % len(prov.one)]
                    code = str(int(other["old_ward_code"]))
                    truth = ("admin.code_mismatch", None, None)  # even when both became one ward
        if truth[0] == "ok":
            if nid in seen_ids:
                truth = ("duplicate", None, None)
            else:
                kept_ids.append(nid)
        seen_ids.add(nid)
        fields = [nid, written, addr] + ([code] if prov.key == "hanoi" else [])
        out.append((fields, (nid, name) + truth))
    return out


def write(path, header, rows, encoding, crlf):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n" if crlf else "\n")
    w.writerow(header)
    for fields, _ in rows:
        w.writerow(fields)
    text = buf.getvalue()
    if encoding == "utf-8-nfd":
        data = b"\xef\xbb\xbf" + unicodedata.normalize("NFD", text).encode()
    else:
        data = encode(text, encoding)
    with open(path, "wb") as f:
        f.write(data)


def main():
    encodings, out = sys.argv[1], sys.argv[2]
    os.makedirs(os.path.join(out, "data"), exist_ok=True)
    tcvn3 = load_table(os.path.join(encodings, "tcvn3_encode.tsv"))
    vni = load_table(os.path.join(encodings, "vni_windows.tsv"))
    rnd = random.Random(10)
    seen, kept = set(), []
    provinces = [
        (Province("hanoi", "01", "01", "Thành phố Hà Nội", "Thành phố Hà Nội", "full"),
         ["so_dinh_danh", "ho_ten", "dia_chi", "ma_xa"], "utf-8-nfd", False),
        (Province("namdinh", "36", "37", "Tỉnh Nam Định", "Tỉnh Ninh Bình", "default"),
         ["cccd", "ho_va_ten", "dia_chi_thuong_tru"], tcvn3, False),
        (Province("hcm", "79", "79", "Thành phố Hồ Chí Minh", "Thành phố Hồ Chí Minh", "hcm"),
         ["national_id", "full_name", "address"], vni, True),
    ]
    new_names = {r["code"]: r["full_name"] for r in
                 csv.DictReader(open(os.path.join(DATA, "provinces_2025.csv"), encoding="utf-8"))}
    with open(os.path.join(out, "truth.csv"), "w", encoding="utf-8", newline="") as f:
        t = csv.writer(f, lineterminator="\n")
        t.writerow(["source", "record", "national_id", "full_name", "outcome", "province_code",
                    "province_name", "ward_code", "ward_name"])
        for prov, header, enc, crlf in provinces:
            rows = make_rows(rnd, prov, seen, kept)
            if prov.key == "namdinh":  # a third of them name the province anyway
                for n, (fields, _) in enumerate(rows):
                    if n % 3 == 0 and "Ninh Bình" not in fields[2] and not fields[2].endswith("Nam Định"):
                        fields[2] += ", " + ("T. Nam Định", "Nam Định", "Tỉnh Nam Định")[n % 9 // 3]
            write(os.path.join(out, "data", prov.key + ".csv"), header, rows, enc, crlf)
            for n, (_, (nid, name, outcome, code, wname)) in enumerate(rows, 1):
                ok = outcome == "ok"
                t.writerow([prov.key, n, nid, name, outcome, prov.new_code if ok else "",
                            new_names[prov.new_code] if ok else "", code or "", wname or ""])


if __name__ == "__main__":
    main()
