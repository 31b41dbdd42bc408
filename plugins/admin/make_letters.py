#!/usr/bin/env python3
"""plugins/admin/make_letters.py -- writes admin_letters.c (python3 make_letters.py > admin_letters.c).

For every precomposed Latin letter in U+00C0..U+01B0 and U+1EA0..U+1EF9: its lower-case letter
without the tone mark (a, ă, â, ..., đ) and the tone (1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng).
"""
import unicodedata

TONES = {"\u0301": 1, "\u0300": 2, "\u0309": 3, "\u0303": 4, "\u0323": 5}
RANGES = [(0x00C0, 0x01B0), (0x1EA0, 0x1EF9)]


def entry(cp):
    d = unicodedata.normalize("NFD", chr(cp).lower())
    tone = 0
    rest = ""
    for c in d:
        if c in TONES:
            tone = TONES[c]
        else:
            rest += c
    base = unicodedata.normalize("NFC", rest)
    if len(base) != 1 or not base.isalpha():
        return 0, 0
    return ord(base), tone


print("/* admin_letters.c -- made by make_letters.py (do not edit): per letter, the lower-case")
print(" * letter without its tone mark and the tone (1 sac, 2 huyen, 3 hoi, 4 nga, 5 nang). */")
print('#include "admin.h"')
print()
for i, (lo, hi) in enumerate(RANGES):
    print("const adm_letter adm_letters_%d[%d] = {" % (i, hi - lo + 1))
    for cp in range(lo, hi + 1):
        base, tone = entry(cp)
        print("    {0x%04X, %d}, /* U+%04X */" % (base, tone, cp))
    print("};")
