"""The admin fixture's effect (step.yaml), worked out from the shipped tables (data/vn).

The address (city) names a province at most, so the ward comes from the code (id, zero-padded):
an old code goes through the conversion table (several new wards: a split, kept with its
candidates), a 2025 code is its ward; a code of another province than the city's, an unknown
code, or a code that is an old ward and a different 2025 ward keeps the row with empty units."""
import csv
import os

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "data", "vn")


def tables():
    conv, new, provinces = {}, {}, {}
    with open(os.path.join(DATA, "ward_old_to_new_2025.csv"), encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if r["old_ward_code"]:
                conv.setdefault(r["old_ward_code"], []).append(r["new_ward_code"])
            provinces[r["old_province_name"].split(" ", 1)[1].replace("phố ", "")] = r["new_province_code"]
    with open(os.path.join(DATA, "wards_2025.csv"), encoding="utf-8") as f:
        for r in csv.DictReader(f):
            new[r["code"]] = (r["full_name"], r["province_code"])
    return conv, new, provinces


CONV, NEW, PROVINCES = tables()


def resolve(city, code):
    """(province, ward, ward name, candidates) as the step writes them."""
    province = PROVINCES.get(city) if city else None
    old, nw = CONV.get(code), NEW.get(code)
    if old and nw and old != [code]:
        return None, None, None, None
    if nw:
        found = [code]
    elif old:
        found = old
    else:
        return None, None, None, None
    prov = {NEW[w][1] for w in found}
    if len(prov) != 1 or (province and province not in prov):
        return None, None, None, None
    if len(found) > 1:
        cands = "; ".join("%s (%s)" % (NEW[w][0], w) for w in found)
        return prov.pop(), None, None, cands
    return prov.pop(), found[0], NEW[found[0]][0], None


def apply(rows, n):
    out = []
    for row in rows:
        code = row["id"].zfill(5) if row["id"] and row["id"].isdigit() else None
        p, w, name, cands = resolve(row["city"], code) if code else (None,) * 4
        r = dict(row)
        r["province_%d" % n], r["ward_%d" % n] = p, w
        r["ward_name_%d" % n], r["candidates_%d" % n] = name, cands
        out.append(r)
    return out, [], []
