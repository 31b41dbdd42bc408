#!/usr/bin/env python3
"""tests/lua/tone/tone_cases.py OUT.csv -- every syllable the two tone
placements write differently, for tests/scripts/tone-style.sh.

The rule, stated here on its own (not read from the C code): a syllable whose
vowel is exactly "oa", "oe" or "uy", after one of the consonant onsets of
Vietnamese other than qu and gi (or none), with no final consonant, carries
its tone on the first vowel in the old style (hòa, khỏe, thủy) and on the
second in the new style of QĐ 1989/QĐ-BGDĐT (hoà, khoẻ, thuỷ).  Everything
else is written the same way in both.

Rows: word, style, want.  For every onset, vowel, tone and upper/lower case
of each letter: the syllable in each style converted to each style, and the
same in NFD; then syllables both styles write alike (qu/gi onsets, a final
consonant, three vowels, other vowel pairs), which must not change.
"""
import csv
import itertools
import sys
import unicodedata

ONSETS = ["", "b", "c", "ch", "d", "đ", "g", "gh", "h", "k", "kh", "l", "m", "n", "ng", "ngh",
          "nh", "p", "ph", "r", "s", "t", "th", "tr", "v", "x"]
PAIRS = ["oa", "oe", "uy"]
TONES = ["\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]  # huyền sắc hỏi ngã nặng


def spell(letters, tone, at):
    """letters with the tone mark after letter at, NFC."""
    return unicodedata.normalize("NFC", "".join(
        c + (tone if i == at else "") for i, c in enumerate(letters)))


def cases(letters):
    """letters in every upper/lower mix."""
    for mask in itertools.product((False, True), repeat=len(letters)):
        yield [c.upper() if up else c for c, up in zip(letters, mask)]


def affected():
    for onset, pair, tone in itertools.product(ONSETS, PAIRS, TONES):
        base = list(onset + pair)
        first, second = len(onset), len(onset) + 1
        for letters in cases(base):
            old, new = spell(letters, tone, first), spell(letters, tone, second)
            for word, style, want in ((old, "new", new), (new, "old", old),
                                      (old, "old", old), (new, "new", new)):
                yield word, style, want
            # NFD input that must move: the result is NFC
            yield unicodedata.normalize("NFD", old), "new", new
            yield unicodedata.normalize("NFD", new), "old", old


# Syllables both conventions write alike, with the tone where they agree.
ALIKE = ["quý", "quỳ", "quỷ", "quỹ", "quỵ", "quà", "quá", "quả", "quạ", "quẻ", "què",
         "gió", "giỏi", "già", "giữa", "giỏ", "gìa",
         "hoàng", "toán", "huỳnh", "khoèn", "thuyền", "quyết", "xoắn",
         "ngoài", "khuỷu", "ngoẹo", "khuấy", "thuở", "hoạch",
         "mùa", "mía", "mưa", "túi", "hỏi", "tài", "cày", "thuế", "huệ",
         "hoa", "thuy", "khoe", "Hoàng", "HUỲNH", "QUÝ", "Quý", "GIỎI", "Gió",
         "joà", "zuỷ", "hoàa", "oàn", "xyz"]


def main():
    with open(sys.argv[1], "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["word", "style", "want"])
        n = 0
        for row in affected():
            w.writerow(row)
            n += 1
        for word in ALIKE:
            for style in ("old", "new"):
                w.writerow([word, style, word])
                n += 1
    print(n)


main()
