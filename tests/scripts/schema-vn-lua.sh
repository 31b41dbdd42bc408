#!/usr/bin/env bash
# tests/scripts/schema-vn-lua.sh -- the schema plugin's Vietnamese checks
# (C, plugins/schema/ts_vn.c) against the rule library (lua/mekong/id.lua)
# on the same generated values: for each check (cccd with sex and birth
# date, mst, phone, mobile) every value must pass both or fail both, with
# the same reason.  One ok/not ok line per check.
#
# Environment: MEKONG (the binary), MEKONG_SRC.
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
for p in schema lua csv; do
    if ! "$MEKONG" plugins 2>/dev/null | grep -q "^$p "; then
        echo "# skip: schema Vietnamese checks against the rule library: the $p plugin is not built"
        exit 0
    fi
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1

python3 - <<'PY'
import csv, random
rnd = random.Random(20251201)
provinces = ["001", "079", "048", "002", "096", "001", "079", "000", "003", "099", "100"]
def digits(n): return "".join(rnd.choice("0123456789") for _ in range(n))
rows = []
for i in range(3000):
    k = rnd.random()
    if k < 0.6:
        v = rnd.choice(provinces) + rnd.choice("0123456789" if rnd.random() < 0.3 else "0123") + digits(8)
    elif k < 0.7:
        v = digits(9)
    elif k < 0.8:
        v = digits(rnd.choice([10, 11, 13]))
    else:
        v = rnd.choice(provinces) + rnd.choice("0123") + digits(2) + rnd.choice(["abc", "12 34", "-"]) + digits(3)
    sex = rnd.choice(["male", "female", "Nam", "nữ", "NỮ", "m", "F", " nam ", "khác", None])
    year = 1900 + 100 * (int(v[3]) // 2 if len(v) > 3 and v[3].isdigit() else 0) + (int(v[4:6]) if len(v) > 5 and v[4:6].isdigit() else 0)
    dob = rnd.choice([f"{year}-01-02", f"{year + 1}-01-02", "02/01/1990", None, f" {year}"])
    if rnd.random() < 0.6 and len(v) > 3 and v[3].isdigit():  # mostly agreeing, so most IDs are valid
        sex = rnd.choice(["male", "Nam", "m"]) if int(v[3]) % 2 == 0 else rnd.choice(["female", "nữ", "NỮ", "F"])
        dob = rnd.choice([f"{year}-01-02", None])
    # tax codes: a fifth with the right check digit
    w = [31, 29, 23, 19, 17, 13, 7, 5, 3]
    m = digits(9)
    c = 10 - sum(int(m[j]) * w[j] for j in range(9)) % 11
    mst = m + (str(c) if c < 10 and rnd.random() < 0.5 else digits(1))
    mst = rnd.choice([mst, mst, mst + "-" + rnd.choice(["001", "000", "123"]), digits(12), digits(13), mst[:8], "abc"])
    ph = rnd.choice(["09", "03", "07", "08", "05", "02", "04", "01"]) + digits(8)
    ph = rnd.choice([ph, "0" + rnd.choice(["162", "120", "186", "199", "111"]) + digits(7),
                     "024" + digits(8), "0296" + digits(7), "0233" + digits(7), "0201" + digits(7),
                     "+84 " + ph[1:], "0084" + ph[1:], "84" + ph[1:], ph[:3] + "." + ph[3:6] + "." + ph[6:],
                     "(" + ph[:4] + ") " + ph[4:], ph + "x", "12345", "0" + digits(11)])
    rows.append([str(i + 1), v, sex, dob, mst, ph])
# fixed edge cases: +84 with a written 0, foreign numbers, stray characters
for ph in ["+84 (0) 912 345 678", "(+84) 0912345678", "+1 415 555 0100", "0033 1 23 45 67 89",
           "+8", "+84", "+", "++1", "0912\u00e9", "+0912", ".. ", "0" * 70, "(+84) 024 3825 1234"]:
    rows.append([str(len(rows) + 1), "001099012345", "Nu", None, "0100109106", ph])
with open("input.csv", "w", newline="") as f:
    wr = csv.writer(f, lineterminator="\n")
    wr.writerow(["id", "v", "sex", "dob", "mst", "phone"])
    for r in rows:
        wr.writerow(["" if x is None else x for x in r])
PY

cat > rule.lua <<'LUA'
local id = require "mekong.id"
local which = params and params.check
function setup(p) which = p.check end
function process(row)
  if which == "cccd" then
    local c = id.cccd(row.v, { sex = row.sex, birth_date = row.dob })
    if c and not c.valid then reject("x", c.reason) end
  elseif which == "mst" then
    local ok, why = id.mst(row.mst)
    if ok == false then reject("x", why) end
  else
    local n, kind = id.phone(row.phone)
    if not n then reject("x", kind) end
    if n and which == "mobile" and kind ~= "mobile" then reject("x", "a landline number, not a mobile number") end
  end
end
LUA

for check in cccd mst phone mobile; do
    case $check in
        cccd) field='{"name": "v", "mekong:check": "cccd", "mekong:sexField": "sex", "mekong:birthDateField": "dob"}' ;;
        mst) field='{"name": "mst", "mekong:check": "mst"}' ;;
        *) field="{\"name\": \"phone\", \"mekong:check\": \"$check\"}" ;;
    esac
    echo "{\"fieldsMatch\": \"partial\", \"missingValues\": [], \"fields\": [$field]}" > s-$check.json
    for how in lua schema; do
        {
            echo "sources: [{ name: input, plugin: csv, path: input.csv }]"
            if [ $how = lua ]; then
                echo "transforms: [{ plugin: lua, script: rule.lua, params: { check: $check }, threads: 1 }]"
            else
                echo "transforms: [{ plugin: schema, schema: s-$check.json }]"
            fi
            echo "sinks: [{ plugin: csv, path: out-$how-$check/rows.csv }]"
            echo "rejects: out-$how-$check/rejects.csv"
        } > p-$how-$check.yaml
        "$MEKONG" run p-$how-$check.yaml > log-$how-$check 2>&1 || { echo "not ok - schema check $check against the rule library: $how run failed"; sed 's/^/    /' log-$how-$check | head -5; continue 2; }
    done
    python3 - "$check" <<'PY'
import csv, sys
check = sys.argv[1]
def reasons(how):
    out = {}
    for r in csv.DictReader(open(f"out-{how}-{check}/rejects.csv", newline="")):
        why = r["_reason"]
        if how == "lua":
            why = why.split(": ", 1)[1]
        else:
            why = why.split(f"fails mekong:check {check}: ", 1)[1]
        out[r["id"]] = why
    return out
lua, c = reasons("lua"), reasons("schema")
n = sum(1 for _ in csv.DictReader(open("input.csv", newline="")))
diff = [(i, lua.get(i), c.get(i)) for i in sorted(set(lua) | set(c), key=int) if lua.get(i) != c.get(i)]
if diff or not lua:
    print(f"not ok - schema check {check} against the rule library: {len(diff)} of {n} values differ")
    for i, a, b in diff[:10]:
        print(f"    row {i}: lua {a!r}, schema {b!r}")
else:
    print(f"ok - schema check {check} agrees with the rule library on {n} values ({len(lua)} invalid)")
PY
done
