#!/usr/bin/env python3
"""Generate the registry example's three source files, deterministically.

    python3 pipelines/registry/data/make-data.py      (writes next to this script)

The people are invented: names from common Vietnamese family, middle and given
names, citizen IDs built by the CCCD layout (province of birth, century/sex
digit, two-digit birth year, six random digits), phones from today's mobile
prefixes.  Each source then writes them its own way, and a known number of rows
carries a defect the rules must catch.  The same seed gives the same bytes, so
the committed CSVs and the tests' expected outputs stay in step; rerun this
script only together with updating tests/cases/registry-pipeline/expect/.

  police.csv      Công an (residence registry): UTF-8, comma, dd/mm/yyyy,
                  Nam/Nữ, the old (pre-2025) two-digit province code
  insurance.csv   Bảo hiểm xã hội: Windows-1258 (converted with iconv),
                  semicolon, UPPER-CASE names, d/m/yyyy or the year only,
                  old 11-digit mobile numbers, old province names with
                  their "Tỉnh"/"Thành phố" prefix
  labour.tsv      Sở Lao động: UTF-8, tab, ISO dates, M/F, +84 phones,
                  old province names without diacritics ("Ha Giang")
"""
import csv
import os
import random
import subprocess
import unicodedata

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20250701)


def nfc(s):
    return unicodedata.normalize("NFC", s)


def strip_marks(s):
    s = unicodedata.normalize("NFD", s).replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in s if unicodedata.category(c) != "Mn")


# old province code -> short old name (from the tables mekong ships, data/vn)
with open(os.path.join(HERE, "..", "..", "..", "data", "vn", "province_old_to_new_2025.csv"),
          encoding="utf-8") as f:
    PROVINCES = [(r["old_province_code"],
                  r["old_province_name"].replace("Thành phố ", "", 1).replace("Tỉnh ", "", 1))
                 for r in csv.DictReader(f)]
CITIES = {"Hà Nội", "Hải Phòng", "Huế", "Đà Nẵng", "Hồ Chí Minh", "Cần Thơ"}

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ",
          "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Trương", "Đinh"]
MIDDLE_M = ["Văn", "Hữu", "Minh", "Đức", "Quốc", "Thanh", "Công", "Gia"]
MIDDLE_F = ["Thị", "Ngọc", "Thu", "Thanh", "Minh", "Hoài", "Diệu", "Khánh"]
GIVEN_M = ["An", "Bình", "Cường", "Dũng", "Hải", "Hùng", "Khánh", "Long", "Nam",
           "Phúc", "Quân", "Sơn", "Tuấn", "Việt", "Hòa", "Thủy", "Đạt", "Lực"]
GIVEN_F = ["Anh", "Hà", "Hằng", "Hoa", "Lan", "Linh", "Mai", "Nga", "Thảo",
           "Trang", "Yến", "Hoà", "Thuỷ", "Ngân", "Phượng", "Quyên", "Ánh", "Uyên"]
MOBILE = ["032", "033", "034", "035", "036", "037", "038", "039", "070", "076",
          "077", "078", "079", "081", "082", "083", "084", "085", "086", "088",
          "089", "090", "091", "093", "094", "096", "097", "098"]
# today's prefix -> the old 11-digit one it replaced (2018)
OLD_MOBILE = {"032": "0162", "033": "0163", "034": "0164", "035": "0165",
              "036": "0166", "037": "0167", "038": "0168", "039": "0169",
              "070": "0120", "079": "0121", "077": "0122", "076": "0126",
              "078": "0128", "083": "0123", "084": "0124", "085": "0125",
              "081": "0127", "082": "0129"}
LANDLINE = ["024", "028", "0236", "0225", "0292"]


def leap(y):
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def person():
    male = rng.random() < 0.5
    name = " ".join([rng.choice(FAMILY), rng.choice(MIDDLE_M if male else MIDDLE_F),
                     rng.choice(GIVEN_M if male else GIVEN_F)])
    year = rng.randint(1945, 2007)
    month = rng.randint(1, 12)
    mdays = [31, 29 if leap(year) else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    day = rng.randint(1, mdays[month - 1])
    code, pname = rng.choice(PROVINCES)
    century = 0 if year < 2000 else 2
    cccd = "0%s%d%02d%06d" % (code, century + (0 if male else 1), year % 100,
                             rng.randint(0, 999999))
    phone = rng.choice(MOBILE) + "%07d" % rng.randint(0, 9999999)
    return {"name": nfc(name), "male": male, "y": year, "m": month, "d": day,
            "cccd": cccd, "code": code, "province": pname, "phone": phone}


def messy_name(name):
    r = rng.random()
    if r < 0.08:
        return "  " + name + " "
    if r < 0.14:
        return name.replace(" ", "  ", 1)
    if r < 0.20:
        return name.lower()
    return name


# --- defects: (kind, row positions) chosen up front so the counts are exact
def pick(n, k, taken):
    out = []
    while len(out) < k:
        i = rng.randrange(n)
        if i not in taken:
            taken.add(i)
            out.append(i)
    return out


def bad_cccd(p, how):
    if how == "short":
        return p["cccd"][:11]
    if how == "letters":
        return p["cccd"][:6] + "O" + p["cccd"][7:]
    if how == "sex":     # the century/sex digit of the other sex
        g = int(p["cccd"][3])
        return p["cccd"][:3] + str(g ^ 1) + p["cccd"][4:]
    if how == "year":    # another birth year
        return p["cccd"][:4] + "%02d" % ((p["y"] + 7) % 100) + p["cccd"][6:]
    raise ValueError(how)


BAD_DATES_DMY = ["30/02/1990", "31/04/1985", "29/02/1999"]
BAD_PHONES = ["0123456789", "09123", "1800 1091"]

people = [person() for _ in range(600)]
police_people = people[:300]
# the same people registered elsewhere too: duplicates across sources
insurance_people = people[300:520] + rng.sample(police_people, 30)
rng.shuffle(insurance_people)
labour_people = people[520:600] + rng.sample(people[300:520], 20) + \
    rng.sample(police_people, 20) + [person() for _ in range(80)]
rng.shuffle(labour_people)


def write_police():
    n = len(police_people)
    taken = set()
    cccd_bad = dict(zip(pick(n, 4, taken), ["short", "letters", "sex", "year"]))
    date_bad = dict(zip(pick(n, 3, taken), BAD_DATES_DMY))
    phone_bad = dict(zip(pick(n, 3, taken), BAD_PHONES))
    no_phone = set(pick(n, 6, taken))
    with open(os.path.join(HERE, "police.csv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["so_dinh_danh", "ho_va_ten", "ngay_sinh", "gioi_tinh", "so_dien_thoai", "ma_tinh"])
        for i, p in enumerate(police_people):
            cccd = bad_cccd(p, cccd_bad[i]) if i in cccd_bad else p["cccd"]
            date = date_bad.get(i, "%02d/%02d/%04d" % (p["d"], p["m"], p["y"]))
            phone = phone_bad.get(i, p["phone"])
            if i in no_phone:
                phone = ""
            w.writerow([cccd, messy_name(p["name"]), date, "Nam" if p["male"] else "Nữ",
                        phone, p["code"]])


def write_insurance():
    n = len(insurance_people)
    taken = set()
    cccd_bad = dict(zip(pick(n, 3, taken), ["short", "sex", "year"]))
    unknown_province = set(pick(n, 2, taken))
    year_only = set(pick(n, 30, taken))
    rows = []
    for i, p in enumerate(insurance_people):
        cccd = bad_cccd(p, cccd_bad[i]) if i in cccd_bad else p["cccd"]
        date = str(p["y"]) if i in year_only else "%d/%d/%04d" % (p["d"], p["m"], p["y"])
        phone = p["phone"]
        if phone[:3] in OLD_MOBILE and rng.random() < 0.6:
            phone = OLD_MOBILE[phone[:3]] + phone[3:]
        if rng.random() < 0.1:
            area = rng.choice(LANDLINE)
            phone = area + "%0*d" % (11 - len(area), rng.randint(0, 10 ** (11 - len(area)) - 1))
        province = ("Thành phố " if p["province"] in CITIES else "Tỉnh ") + p["province"]
        # this office puts tone marks the other way: Hòa Bình, Thanh Hoá, Khánh Hoà
        for a, b in (("Hoà Bình", "Hòa Bình"), ("Thanh Hóa", "Thanh Hoá"), ("Khánh Hòa", "Khánh Hoà")):
            province = province.replace(a, b)
        if i in unknown_province:
            province = "Tỉnh Hà Tây"     # merged into Hà Nội in 2008: not in the 63
        rows.append([nfc(p["name"].upper()), date, "Nam" if p["male"] else "Nữ", cccd, phone,
                     province])
    text = []
    for r in rows:
        text.append(";".join(r))
    utf8 = ("HO_TEN;NGAY_SINH;GIOI_TINH;SO_CCCD;DIEN_THOAI;TINH_THANH\n" + "\n".join(text) + "\n")
    legacy = subprocess.run(["iconv", "-f", "UTF-8", "-t", "CP1258"], input=utf8.encode("utf-8"),
                            stdout=subprocess.PIPE, check=True).stdout
    with open(os.path.join(HERE, "insurance.csv"), "wb") as f:
        f.write(legacy)


def write_labour():
    n = len(labour_people)
    taken = set()
    cccd_bad = dict(zip(pick(n, 2, taken), ["letters", "short"]))
    date_bad = dict(zip(pick(n, 2, taken), ["1987-13-01", "2001-02-29"]))
    phone_bad = dict(zip(pick(n, 1, taken), ["+84 12 345"]))
    with open(os.path.join(HERE, "labour.tsv"), "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["citizen_id", "full_name", "date_of_birth", "gender", "mobile", "province"])
        for i, p in enumerate(labour_people):
            cccd = bad_cccd(p, cccd_bad[i]) if i in cccd_bad else p["cccd"]
            date = date_bad.get(i, "%04d-%02d-%02d" % (p["y"], p["m"], p["d"]))
            phone = phone_bad.get(i, "+84 %s %s %s" % (p["phone"][1:3], p["phone"][3:6], p["phone"][6:]))
            w.writerow([cccd, p["name"], date, "M" if p["male"] else "F", phone,
                        strip_marks(p["province"])])


write_police()
write_insurance()
write_labour()
