#!/usr/bin/env bash
# csv-random.sh -- hostile CSV input: seeded random files made of quotes,
# delimiters, CR, LF, NUL, blanks and bytes that are not UTF-8.  mekong must
# neither crash nor hang, and every record must be accounted for: the rows
# written plus the rows rejected equal the rows read, in the report and in
# the files.
set -u
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-random.XXXXXX")
trap 'rm -rf "$work"' EXIT
python3 - "$work" <<'PY'
import random, sys
work = sys.argv[1]
rng = random.Random(20251101)
alphabet = [b'"', b',', b'\n', b'\r\n', b'\r', b'\x00', b' ', b'a', b'b', b'\xff', b'\xc3',
            "Nguyễn".encode(), b'""', b'\t']
for i in range(40):
    parts = [b"a,b,c\n"]
    for _ in range(rng.randint(0, 400)):
        parts.append(rng.choice(alphabet))
    with open(f"{work}/in{i}.csv", "wb") as f:
        f.write(b"".join(parts))
PY
fails=0
for f in "$work"/in*.csv; do
    n=$(basename "$f" .csv)
    cat > "$work/p.yaml" <<YAML
sources:
  - name: r
    plugin: csv
    path: $f
sinks:
  - plugin: jsonl
    path: $work/$n.jsonl
    invalid_utf8: replace
rejects: $work/$n.rejects.csv
report: $work/$n.report.json
YAML
    timeout 20 "$MEKONG" run "$work/p.yaml" --quiet 2> "$work/err"
    rc=$?
    if [ $rc -ne 0 ]; then
        echo "# $n: exit status $rc: $(head -2 "$work/err")"
        fails=$((fails + 1))
        continue
    fi
    if ! python3 - "$work/$n.report.json" "$work/$n.jsonl" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
t = r["totals"]
written = sum(1 for _ in open(sys.argv[2], "rb"))
ok = t["balanced"] and t["read"] == t["written"] + t["rejected"] and written == t["written"]
if not ok:
    print("# totals", t, "lines written", written)
sys.exit(0 if ok else 1)
PY
    then
        fails=$((fails + 1))
    fi
done
if [ $fails -eq 0 ]; then
    echo "ok - 40 random hostile CSV files: no crash, no hang, every record accounted for"
else
    echo "not ok - random hostile CSV files: $fails of 40 failed"
fi
