#!/usr/bin/env python3
"""vnenc.py -- test and benchmark inputs in legacy Vietnamese encodings.

Encoders for the two encodings glibc iconv does not have, built here from the
structure of each standard (not copied from any table), and the texts the
end-to-end cases feed through them:

  vnenc.py encode tcvn3|vni  < UTF-8 text > legacy bytes
  vnenc.py tcvn3-expected    < UTF-8 text > what decoding TCVN3 gives back
                               (toned capitals come back lower-case)
  vnenc.py letters           all 134 Vietnamese letters, both cases, and
                               both tone placements (hòa/hoà), as CSV
  vnenc.py corpus N [SEED]   N rows of Vietnamese registry-like CSV

tests/scripts/encodings.sh checks these encoders against the reference tables
in ../shared/reference/vn/encodings when they are there.
"""
import random
import sys
import unicodedata

# Tone marks, in the order TCVN3 lays out each vowel's five toned forms.
GRAVE, HOOK, TILDE, ACUTE, DOT = "\u0300", "\u0309", "\u0303", "\u0301", "\u0323"
TONES = (GRAVE, HOOK, TILDE, ACUTE, DOT)
CIRCUMFLEX, BREVE, HORN = "\u0302", "\u0306", "\u031b"
VOWELS = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"]


def nfc(s):
    return unicodedata.normalize("NFC", s)


# ---- TCVN 5712:1993 VN3 (ABC) ----------------------------------------------
# A1-A7 the plain capitals Ă Â Ê Ô Ơ Ư Đ, A8-AE their lower-case forms; then,
# vowel by vowel (a ă â e ê i o ô ơ u ư y), the five toned lower-case forms in
# the order grave, hook, tilde, acute, dot, skipping the bytes the standard
# leaves to other uses (BA, C0-C5, CD, D9-DB, E0, F0).  No toned capitals.
TCVN3_TONED_START = [0xB5, 0xBB, 0xC7, 0xCC, 0xD2, 0xD7, 0xDF, 0xE5, 0xEA, 0xEF, 0xF5, 0xFA]
TCVN3_SKIPPED = {0xBA, 0xBF, 0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xCD, 0xD9, 0xDA, 0xDB, 0xE0, 0xF0}


def tcvn3_table():
    table = {}
    for i, ch in enumerate("ĂÂÊÔƠƯĐ"):
        table[ch] = 0xA1 + i
        table[ch.lower()] = 0xA8 + i
    for vowel, start in zip(VOWELS, TCVN3_TONED_START):
        byte = start
        for tone in TONES:
            while byte in TCVN3_SKIPPED:
                byte += 1
            lower = nfc(vowel + tone)
            table[lower] = byte
            table[lower.upper()] = byte  # lossy: the capital shares the byte
            byte += 1
    return table


# ---- VNI-Windows --------------------------------------------------------------
# An ASCII base letter followed by one mark byte that carries the vowel's
# modifier and tone together; upper-case marks are the lower-case ones - 0x20.
# ơ ư đ and the toned i's (and ỵ) have bytes of their own.
VNI_MARKS = {
    ("", ACUTE): 0xF9, ("", GRAVE): 0xF8, ("", HOOK): 0xFB, ("", TILDE): 0xF5, ("", DOT): 0xEF,
    (CIRCUMFLEX, ""): 0xE2, (CIRCUMFLEX, ACUTE): 0xE1, (CIRCUMFLEX, GRAVE): 0xE0,
    (CIRCUMFLEX, HOOK): 0xE5, (CIRCUMFLEX, TILDE): 0xE3, (CIRCUMFLEX, DOT): 0xE4,
    (BREVE, ""): 0xEA, (BREVE, ACUTE): 0xE9, (BREVE, GRAVE): 0xE8,
    (BREVE, HOOK): 0xFA, (BREVE, TILDE): 0xFC, (BREVE, DOT): 0xEB,
}
VNI_SINGLE = {"ơ": 0xF4, "ư": 0xF6, "đ": 0xF1, "í": 0xED, "ì": 0xEC, "ỉ": 0xE6, "ĩ": 0xF3,
              "ị": 0xF2, "ỵ": 0xEE}


def vni_letter(ch):
    low = ch.lower()
    upper = ch != low
    shift = 0x20 if upper else 0
    if low in VNI_SINGLE:
        return bytes([VNI_SINGLE[low] - shift])
    d = unicodedata.normalize("NFD", low)
    base, marks = d[0], d[1:]
    modifier = "".join(m for m in marks if m in (CIRCUMFLEX, BREVE, HORN))
    tone = "".join(m for m in marks if m in TONES)
    if modifier == HORN:  # ớ = ơ + acute mark
        return vni_letter(nfc(("O" if upper else "o") + HORN) if base == "o" else
                          nfc(("U" if upper else "u") + HORN)) + bytes([VNI_MARKS[("", tone)] - shift])
    lead = (base.upper() if upper else base).encode("ascii")
    return lead + bytes([VNI_MARKS[(modifier, tone)] - shift])


def encode(text, encoding):
    text = nfc(text)
    out = bytearray()
    table = tcvn3_table() if encoding == "tcvn3" else None
    cache = {}
    for ch in text:
        if ord(ch) < 0x80:
            out.append(ord(ch))
            continue
        if ch not in cache:
            if table is not None:
                if ch not in table:
                    sys.exit(f"vnenc: {ch!r} (U+{ord(ch):04X}) cannot be written in TCVN3")
                cache[ch] = bytes([table[ch]])
            else:
                try:
                    cache[ch] = vni_letter(ch)
                except (KeyError, IndexError):
                    sys.exit(f"vnenc: {ch!r} (U+{ord(ch):04X}) cannot be written in VNI")
        out += cache[ch]
    return bytes(out)


def tcvn3_expected(text):
    table = tcvn3_table()
    lower_of = {ch: ch.lower() for ch in table if ch != ch.lower() and ch.lower() in table
                and table[ch] == table[ch.lower()]}
    return "".join(lower_of.get(ch, ch) for ch in nfc(text))


def all_letters():
    lower = []
    for vowel in VOWELS:
        lower.append(vowel)
        lower += [nfc(vowel + t) for t in TONES]
    lower.append("đ")
    letters = [ch for ch in lower if ord(ch) >= 0x80]
    assert len(letters) == 67, len(letters)
    return letters


def letters_csv():
    letters = all_letters()
    rows = ["kind,text"]
    rows.append("lower," + "".join(letters))
    rows.append("upper," + "".join(ch.upper() for ch in letters))
    rows.append("spaced," + " ".join(letters))
    # Tone placement: old style (hòa, thủy) and new style (hoà, thuỷ), both kept as they are.
    rows.append("old-style,hòa khỏe thủy quý tòa Hòa Thủy HÒA THỦY")
    rows.append("new-style,hoà khoẻ thuỷ quý toà Hoà Thuỷ HOÀ THUỶ")
    rows.append("sentence,Cộng hoà xã hội chủ nghĩa Việt Nam - Độc lập Tự do Hạnh phúc")
    rows.append("ascii,Le Van Tam 123")
    return "\n".join(rows) + "\n"


FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Thuỳ", "Xuân"]
GIVEN = ["Ánh", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hương", "Khánh", "Lan", "Linh", "Long",
         "Mai", "Nam", "Nga", "Phúc", "Quang", "Sơn", "Thảo", "Thắng", "Trung", "Tuấn", "Vy",
         "Yến", "Hoà", "Thuỷ", "Hiếu", "Lộc", "Nhung", "Trâm", "Việt"]
PROVINCES = ["Hà Nội", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Thanh Hoá", "Nghệ An", "Quảng Ninh",
             "Bắc Ninh", "Thừa Thiên Huế", "Khánh Hoà", "Đắk Lắk", "Lâm Đồng", "Bình Dương",
             "Đồng Nai", "Bà Rịa - Vũng Tàu", "Long An", "Tiền Giang", "Vĩnh Long", "Sóc Trăng",
             "Cà Mau", "Lạng Sơn", "Điện Biên", "Hưng Yên", "Quảng Trị"]
PLACES = ["phường Hoàn Kiếm", "quận Ba Đình", "xã Mỹ Khánh", "thị trấn Đông Anh",
          "phường Lạch Tray", "huyện Hải Hậu", "quận Hải Châu", "xã Tân Phước", "phường Bến Nghé",
          "huyện Củ Chi"]
OCCUPATIONS = ["giáo viên", "nông dân", "công nhân", "bác sĩ", "kỹ sư", "kế toán", "học sinh",
               "buôn bán", "thợ điện", "y tá", "cán bộ xã", "nội trợ"]
NOTES = ["đăng ký hộ khẩu thường trú", "giấy chứng nhận quyền sử dụng đất",
         "chuyển đến từ tỉnh khác", "đã cấp căn cước công dân", "hồ sơ chờ bổ sung",
         "người dân tộc thiểu số", "trường học gần nhà", "khuyến nông năm trước"]


def corpus(n, seed):
    rnd = random.Random(seed)
    rows = ["id,ho_ten,gioi_tinh,tinh,dia_chi,nghe_nghiep,ghi_chu"]
    for i in range(1, n + 1):
        name = " ".join([rnd.choice(FAMILY), rnd.choice(MIDDLE), rnd.choice(GIVEN)])
        rows.append(",".join([str(i), name, rnd.choice(["nam", "nữ"]), rnd.choice(PROVINCES),
                              f"số {rnd.randint(1, 300)} {rnd.choice(PLACES)}",
                              rnd.choice(OCCUPATIONS), rnd.choice(NOTES)]))
    return "\n".join(rows) + "\n"


def main(argv):
    out = sys.stdout.buffer
    if len(argv) == 3 and argv[1] == "encode" and argv[2] in ("tcvn3", "vni"):
        out.write(encode(sys.stdin.buffer.read().decode("utf-8"), argv[2]))
    elif len(argv) == 2 and argv[1] == "tcvn3-expected":
        out.write(tcvn3_expected(sys.stdin.buffer.read().decode("utf-8")).encode("utf-8"))
    elif len(argv) == 2 and argv[1] == "letters":
        out.write(letters_csv().encode("utf-8"))
    elif len(argv) in (3, 4) and argv[1] == "corpus":
        out.write(corpus(int(argv[2]), int(argv[3]) if len(argv) == 4 else 1).encode("utf-8"))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
