#!/usr/bin/env bash
# tests/scripts/lua-reference.sh -- mekong.id against the shared reference
# data (../shared/reference/vn/ids; see its NOTES.md and PROVENANCE.md).
#
# Test files for `mekong test` are generated into a temporary folder (the
# reference data is read, never copied into the repository) and run through
# tests/lua/lib.lua, one ok/not ok line each:
#   cccd-codes      id.cccd accepts a number with each official province code
#                   and reports the province (before and since 2025);
#   cccd-unknown    id.cccd rejects every other code 000..999;
#   mobile-2018     id.phone turns each old 11-digit prefix into its 10-digit
#                   one (0xxx... and +84 forms);
#   landline        id.phone keeps an 11-digit landline of each area code;
#   mst-vectors     id.mst on every tax-code test vector, and the same codes
#                   with another check digit;
#   id-data         the tables of lua/mekong/id_data.lua have the same code
#                   sets (and entries) as the reference files.
# Prints "# skip" lines when the reference folder is not there.
#
# Environment: MEKONG (the binary), MEKONG_SRC, MEKONG_SHARED.
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
SHARED=${MEKONG_SHARED:-$SRC/../shared}
ids=$SHARED/reference/vn/ids
names="cccd-codes cccd-unknown mobile-2018 landline mst-vectors id-data"
if [ ! -d "$ids" ]; then
    for n in $names; do
        echo "# skip: rule library reference $n: no reference data at $ids (set MEKONG_SHARED)"
    done
    exit 0
fi
if ! "$MEKONG" plugins 2>/dev/null | grep -q '^lua '; then
    echo "# skip: rule library reference checks: the lua plugin is not built"
    exit 0
fi
if ! command -v python3 > /dev/null; then
    echo "not ok - rule library reference: python3 is needed to build the test files"
    exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-luaref.XXXXXX")
trap 'rm -rf "$work"' EXIT
if ! IDS="$ids" WORK="$work" LIB="$SRC/tests/lua/lib.lua" python3 - <<'PYTHON'
import csv, json, os, sys

ids, work, lib = os.environ["IDS"], os.environ["WORK"], os.environ["LIB"]

def rows(name):
    with open(os.path.join(ids, name), encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))

def q(v):
    return json.dumps(v, ensure_ascii=False)  # a JSON string is a YAML string

def write(name, cases):
    with open(os.path.join(work, name + ".test.yaml"), "w", encoding="utf-8") as f:
        f.write("script: %s\ntests:\n" % q(lib))
        for title, inp, out in cases:
            f.write("  - name: %s\n" % q(title))
            f.write("    input: { %s }\n" % ", ".join("%s: %s" % (k, q(v)) for k, v in inp.items()))
            f.write("    output: { %s }\n" % ", ".join("%s: %s" % (k, "~" if v is None else q(v))
                                                    for k, v in out.items()))

provinces = rows("cccd_province_codes.csv")
codes = {r["cccd_code"] for r in provinces}
if len(codes) != 63:
    sys.exit("cccd_province_codes.csv: %d codes, expected 63" % len(codes))
write("cccd-codes", [
    ("code %s (%s)" % (r["cccd_code"], r["province_name_pre2025"]),
     {"fn": "id.cccd", "arg": r["cccd_code"] + "085012345"},
     {"r_valid": "true", "r_province_code": r["cccd_code"],
      "r_province_name": r["province_name_pre2025"],
      "r_province_code_2025": r["new_province_code_2025"],
      "r_province_name_2025": r["new_province_name_2025"]})
    for r in provinces])
write("cccd-unknown", [
    ("code %03d is not a province" % c,
     {"fn": "id.cccd", "arg": "%03d" % c + "185012345"},
     {"r_valid": "false", "r_reason": "unknown province code %03d" % c})
    for c in range(1000) if "%03d" % c not in codes])

mobile = rows("mobile_prefix_2018.csv")
cases = []
for r in mobile:
    old, new = r["old_prefix_11digit"], r["new_prefix_10digit"]
    cases.append(("%s -> %s (%s)" % (old, new, r["carrier"]), {"fn": "id.phone", "arg": old + "2345678"},
                  {"out": new + "2345678", "out2": "mobile"}))
    cases.append(("+84 %s -> %s" % (old[1:], new), {"fn": "id.phone", "arg": "+84 " + old[1:] + " 234 5678"},
                  {"out": new + "2345678", "out2": "mobile"}))
    cases.append(("%s kept as a 10-digit number" % new, {"fn": "id.phone", "arg": new + "2345678"},
                  {"out": new + "2345678", "out2": "mobile"}))
write("mobile-2018", cases)

areas = rows("landline_area_codes_2017-09-01.csv")
area_col = [c for c in areas[0] if c.strip().lower().startswith("mã vùng")][0]
area_codes = [r[area_col].strip() for r in areas]
write("landline", [
    ("area %s" % a, {"fn": "id.phone", "arg": "0" + a + "3822111111"[:10 - len(a)]},
     {"out": "0" + a + "3822111111"[:10 - len(a)], "out2": "landline"})
    for a in area_codes])

weights = [31, 29, 23, 19, 17, 13, 7, 5, 3]
cases = []
for r in rows("mst_test_vectors.csv"):
    code, valid = r["input"], r["expected_valid"].strip().lower() == "true"
    cases.append(("%s (%s)" % (code, r["note"]), {"fn": "id.mst", "arg": code},
                  {"out": "true" if valid else "false"}))
    main, rest = code[:10], code[10:]
    c = 10 - sum(int(d) * w for d, w in zip(main[:9], weights)) % 11
    if c != int(r["computed_check_digit"]):
        sys.exit("mst_test_vectors.csv: %s: check digit %s, computed %d" % (code, r["computed_check_digit"], c))
    other = (int(main[9]) + 1) % 10
    if other == c:
        other = (other + 1) % 10
    cases.append(("%s with check digit %d" % (code, other),
                  {"fn": "id.mst", "arg": main[:9] + str(other) + rest},
                  {"out": "false", "out2": "check digit is %d, expected %d" % (other, c)}))
write("mst-vectors", cases)

cases = [("province codes", {"fn": "id_data.keys", "arg": "provinces"},
          {"out": ",".join(sorted(codes))}),
         ("mobile prefixes", {"fn": "id_data.keys", "arg": "mobile_2018"},
          {"out": ",".join(sorted(r["old_prefix_11digit"] for r in mobile))}),
         ("landline area codes", {"fn": "id_data.keys", "arg": "landline_areas"},
          {"out": ",".join(sorted(area_codes))})]
for r in provinces:
    cases.append(("provinces[%s]" % r["cccd_code"], {"fn": "id_data.entry", "arg": "provinces", "arg2": r["cccd_code"]},
                  {"out": "code_2025=%s;name=%s;name_2025=%s" % (r["new_province_code_2025"],
                          r["province_name_pre2025"], r["new_province_name_2025"])}))
for r in mobile:
    cases.append(("mobile_2018[%s]" % r["old_prefix_11digit"],
                  {"fn": "id_data.entry", "arg": "mobile_2018", "arg2": r["old_prefix_11digit"]},
                  {"out": r["new_prefix_10digit"]}))
write("id-data", cases)
PYTHON
then
    echo "not ok - rule library reference: cannot build the test files from $ids"
    exit 0
fi
describe() {
    case $1 in
        cccd-codes) echo "id.cccd accepts every official province code" ;;
        cccd-unknown) echo "id.cccd rejects every code 000..999 not in the list" ;;
        mobile-2018) echo "id.phone: every 2018 prefix change, old 11 digits -> new 10 digits" ;;
        landline) echo "id.phone keeps a landline of every area code" ;;
        mst-vectors) echo "id.mst: every tax-code test vector (and a wrong check digit)" ;;
        id-data) echo "lua/mekong/id_data.lua has the code sets and entries of the reference files" ;;
    esac
}
for n in $names; do
    t=$work/$n.test.yaml
    if out=$("$MEKONG" test "$t" 2>&1); then
        echo "ok - rule library reference: $(describe "$n"): $(tail -1 <<< "$out" | sed 's/^.*: //')"
    else
        echo "not ok - rule library reference: $(describe "$n")"
        sed -e "s|$work/||" -e 's/^/    /' <<< "$out" | head -60
    fi
done
