#!/usr/bin/env bash
# tests/scripts/encodings.sh -- the legacy decoders against the reference
# tables in ../shared/reference/vn/encodings (see tests/README.md).
#
# For each table (cp1258, viscii, tcvn3, vni_windows, vps, tcvn5712_1_vn1):
#   decode   every byte sequence the table lists, one per CSV row, through
#            mekong csv -> csv: each must come out as the table's character
#            (NFC); bytes the table calls undefined must be rejected;
#   letters  the 134 Vietnamese letters in both cases and both tone
#            placements, written with the table (its inverse) and read back
#            (TCVN3: toned capitals come back lower-case);
#   encoder  tests/data/encodings/vnenc.py, which the end-to-end cases use,
#            writes the same bytes as the table for all 134 letters.
# The tables list only the bytes whose value differs from their code point;
# the others (e.g. VISCII E0 = à) are read as that code point.
# Prints ok/not ok lines; "# skip" lines when the tables are not there.
#
# Environment: MEKONG (the binary), MEKONG_SRC, MEKONG_SHARED.
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
SHARED=${MEKONG_SHARED:-$SRC/../shared}
tables=$SHARED/reference/vn/encodings
names="decode letters encoder"
if [ ! -d "$tables" ]; then
    for n in $names; do
        echo "# skip: encodings $n: no reference tables at $tables (set MEKONG_SHARED)"
    done
    exit 0
fi
if ! command -v python3 > /dev/null; then
    echo "not ok - encodings: python3 is needed to build the inputs"
    exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-encodings.XXXXXX")
trap 'rm -rf "$work"' EXIT
MEKONG="$MEKONG" TABLES="$tables" WORK="$work" PYTHONPATH="$SRC/tests/data/encodings" \
    python3 - <<'PYTHON'
import csv, io, os, subprocess, sys, unicodedata
import vnenc

MEKONG, TABLES, WORK = os.environ["MEKONG"], os.environ["TABLES"], os.environ["WORK"]
nfc = vnenc.nfc
# table file -> mekong encoding name, bytes the table's notes call undefined (None: every
# byte 80-FF the table does not list)
TABLES_USED = {
    "cp1258.tsv": ("cp1258", [0x81, 0x8A, 0x8D, 0x8E, 0x8F, 0x90, 0x9A, 0x9D, 0x9E]),
    "viscii.tsv": ("viscii", []),
    "tcvn3.tsv": ("tcvn3", None),
    "vni_windows.tsv": ("vni", [0x81, 0x8D, 0x8F, 0x90, 0x9D]),  # undefined in Windows-1252
    "vps.tsv": ("vps", [0x91, 0x92, 0xA0, 0xDF, 0xE7, 0xEE, 0xF6, 0xFC]),
    "tcvn5712_1_vn1.tsv": ("tcvn5712-1", []),
}
CSV_BYTES = {0x0A, 0x0D, 0x22, 0x2C}


def load(name):
    """The table's rows, plus, except for TCVN3 (whose unlisted bytes are undefined), the
    bytes 80-FF it leaves out because they stand for their own code point."""
    rows = []
    with open(os.path.join(TABLES, name), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            legacy, uni = line.rstrip("\n").split("\t")[:2]
            text = "".join(chr(int(u[2:], 16)) for u in uni.split())
            rows.append((bytes.fromhex(legacy), text))
    if name in TABLES_USED and name != "tcvn3.tsv":
        listed = {b[0] for b, _ in rows if len(b) == 1}
        undefined = set(TABLES_USED[name][1])
        rows += [(bytes([c]), chr(c)) for c in range(0x80, 0x100)
                 if c not in listed and c not in undefined]
    return rows


def run(encoding, data):
    """csv -> csv through mekong; (rows written as text, rejected count, stderr)."""
    d = os.path.join(WORK, encoding)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "in.csv"), "wb") as f:
        f.write(data)
    with open(os.path.join(d, "p.yaml"), "w") as f:
        f.write(f"sources:\n  - name: t\n    plugin: csv\n    path: in.csv\n    encoding: {encoding}\n"
                "sinks:\n  - plugin: csv\n    path: out/rows.csv\nrejects: out/rejects.csv\n")
    p = subprocess.run([MEKONG, "run", "p.yaml", "-q"], cwd=d, capture_output=True)
    try:
        with open(os.path.join(d, "out/rows.csv"), "rb") as f:
            out = f.read().decode("utf-8")
        with open(os.path.join(d, "out/rejects.csv"), "rb") as f:
            rejected = f.read().count(b"encoding.invalid")
    except (OSError, UnicodeDecodeError) as e:
        return None, 0, f"exit {p.returncode}: {e}; {p.stderr.decode(errors='replace')[:300]}"
    return out, rejected, p.stderr.decode(errors="replace")


def report(ok, name, why=""):
    print(("ok - " if ok else "not ok - ") + name + ("" if ok or not why else ": " + why))


def first_difference(want, got):
    for i, (w, g) in enumerate(zip(want.splitlines(), got.splitlines())):
        if w != g:
            return f"line {i + 1}: want {w!r}, got {g!r}"
    return f"want {len(want.splitlines())} lines, got {len(got.splitlines())}"


def check_decode(name, encoding, undefined):
    rows = [(b, t) for b, t in load(name) if not CSV_BYTES & set(b)]
    data = b"hex,text\n" + b"".join(b.hex().encode() + b"," + b + b"\n" for b, _ in rows)
    want = "hex,text\n" + "".join(f"{b.hex()},{nfc(t)}\n" for b, t in rows)
    got, _, err = run(encoding, data)
    if got is None:
        return report(False, f"encodings decode {encoding}: {len(rows)} table rows", err)
    report(got == want, f"encodings decode {encoding}: {len(rows)} table rows",
           got != want and first_difference(want, got))
    if undefined is None:
        listed = {b[0] for b, _ in rows if len(b) == 1}
        undefined = [c for c in range(0x80, 0x100) if c not in listed]
    if not undefined:
        return
    data = b"hex,text\n" + b"".join(b"%02x,a%cb\n" % (c, c) for c in undefined)
    got, rejected, err = run(encoding, data)
    report(got == "hex,text\n" and rejected == len(undefined),
           f"encodings decode {encoding}: {len(undefined)} undefined bytes are rejected",
           f"{rejected} rejected; written: {got!r:.200} {err}")


def inverse(name):
    """Unicode -> legacy bytes from a table; the listed rows win over the bytes that stand
    for their own code point (VNI writes à as a + F8, not as the lone byte E0)."""
    inv = {}
    for b, t in load(name):
        inv.setdefault(nfc(t), b)
    return inv


def encode_with(inv, text):
    out = bytearray()
    for ch in nfc(text):
        if ord(ch) < 0x80:
            out.append(ord(ch))
        elif ch in inv:
            out += inv[ch]
        else:  # a base letter and a combining tone (Windows-1258, VN1)
            d = unicodedata.normalize("NFD", ch)  # ặ: a, dot below, breve (canonical order)
            tone = "".join(m for m in d if m in vnenc.TONES)
            base = nfc("".join(m for m in d if m not in vnenc.TONES))
            if base not in inv and not (len(base) == 1 and ord(base) < 0x80) or tone not in inv:
                raise KeyError(ch)
            out += (inv[base] if base in inv else base.encode()) + inv[tone]
    return bytes(out)


def check_letters(name, encoding):
    letters = vnenc.letters_csv()
    if encoding == "tcvn3":
        inv = inverse("tcvn3_encode.tsv")
        want = vnenc.tcvn3_expected(letters)
    else:
        inv = inverse(name)
        want = letters
    label = f"encodings letters {encoding}: 134 letters, both tone placements, written with {name}"
    try:
        data = encode_with(inv, letters)
    except KeyError as e:
        return report(False, label, f"the table cannot write {e}")
    got, _, err = run(encoding, data)
    if got is None:
        return report(False, label, err)
    report(got == want, label, got != want and first_difference(want, got))


def check_encoder(name, encoding):
    inv = inverse(name)
    letters = vnenc.all_letters()
    letters += [c.upper() for c in letters]
    wrong = [c for c in letters if vnenc.encode(c, encoding) != inv.get(c)]
    report(not wrong, f"encodings encoder {encoding}: vnenc.py writes the 134 letters as {name} does",
           f"differs for {''.join(wrong[:20])}")


for name, (encoding, undefined) in TABLES_USED.items():
    check_decode(name, encoding, undefined)
    check_letters(name, encoding)
check_encoder("tcvn3_encode.tsv", "tcvn3")
check_encoder("vni_windows.tsv", "vni")
PYTHON
rc=$?
[ $rc -eq 0 ] || echo "not ok - encodings: the checker stopped with status $rc"
exit 0
