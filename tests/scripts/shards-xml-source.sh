#!/usr/bin/env bash
# shards-xml-source.sh -- xml sources in shards (docs/SCALE.md): an XML feed
# of several documents is split by whole files (a document is never cut).
#
#   labels      every row of a document of the glob is labelled feed/<file>
#               (the xml source used to label a first file's early rows
#               "feed", before the read-ahead had opened the second)
#   union-N     seven documents (one of them UTF-16, one empty of records,
#               records the source rejects: a field repeated), xml -> lua -> map (provenance) -> csv + jsonl + xml:
#               2, 4 and 9 shards give one run's outputs, rejects and report
#   one-file    a single document: one shard reads it, the others are
#               empty, the union is one run's
#   mixed       an xml source and a csv source in one pipeline, 3 shards
#   changed     a document removed after the plan: the shard refuses
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
. "$SRC/tests/shards/lib.sh"
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-shards-xml.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1

ok() { echo "ok - shards-xml-source: $*"; }
fail() { echo "not ok - shards-xml-source: $*"; }

python3 - <<'PYTHON' || { fail "inputs"; exit 0; }
import os, random
random.seed(9)
names = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Đức", "Phạm Thu Hà", "Võ Ngọc Ánh"]
def doc(first, n, encoding="UTF-8"):
    out = ['<?xml version="1.0" encoding="%s"?>' % encoding,
           '<dc:DanhSach xmlns:dc="urn:example:dancu">']
    for i in range(first, first + n):
        r = random.random()
        name = names[i % len(names)]
        if r < 0.03:    # a field twice: the record is rejected (repeated: reject)
            out.append('  <dc:CongDan SoDinhDanh="%d"><dc:HoTen>%s</dc:HoTen><dc:HoTen>x</dc:HoTen></dc:CongDan>' % (i, name))
        elif r < 0.05:  # no DiaChi: ward is NULL
            out.append('  <dc:CongDan SoDinhDanh="%d"><dc:HoTen>%s</dc:HoTen></dc:CongDan>' % (i, name))
        else:
            out.append('  <dc:CongDan SoDinhDanh="%d"><dc:HoTen>%s &amp; %d</dc:HoTen>'
                       '<dc:DiaChi><dc:Xa>Phúc Xá</dc:Xa></dc:DiaChi></dc:CongDan>' % (i, name, i))
    out.append('</dc:DanhSach>')
    return "\n".join(out) + "\n"
os.mkdir("feed")
first = 1
for k, n in enumerate([1500, 20, 0, 2600, 3, 900, 1200]):
    enc = "UTF-16" if k == 5 else "UTF-8"
    text = doc(first, n, enc)
    data = text.encode("utf-16") if k == 5 else text.encode()
    open("feed/f-%d.xml" % k, "wb").write(data)
    first += n
open("one.xml", "w").write(doc(50001, 800))
open("extra.csv", "w").write("national_id,full_name,ward\n" +
    "".join("%d,%s,Xã %d\n" % (i, names[i % 5], i) for i in range(90001, 93001)))
PYTHON

cat > rules.lua <<'LUA'
function process(row)
  if row.national_id:sub(-1) == "7" then drop() end
  check("id.nine", row.national_id:sub(1, 1) ~= "9" or #row.national_id < 5, "starts with 9")
end
LUA
# pipeline FILE GLOB EXTRA-SOURCE
pipeline() {
    cat > "$1" <<YAML
sources:
  - name: feed
    plugin: xml
    path: "$2"
    record: /dc:DanhSach/dc:CongDan
    namespaces: { dc: "urn:example:dancu" }
    fields:
      national_id: "@SoDinhDanh"
      full_name: dc:HoTen
      ward: dc:DiaChi/dc:Xa
$3
transforms:
  - plugin: lua
    script: rules.lua
  - plugin: map
    provenance: { source: src, file: source_file, record: source_row, line: source_line }
sinks:
  - plugin: csv
    path: out/out.csv
  - plugin: jsonl
    path: out/out.jsonl
  - plugin: xml
    path: out/out.xml
    root: DanhSach
    record: CongDan
rejects: out/rejects.csv
report: out/report.json
thresholds:
  max_rejected: 50%
YAML
}
same() { shard_same "single-$1" out out.csv out.jsonl out.xml rejects.csv; } # NAME
sharded() { rm -rf out && shard_all "$@"; } # PIPELINE DIR N
single() { # PIPELINE NAME
    rm -rf out
    "$MEKONG" run "$1" -q || return 1
    rm -rf "single-$2" && cp -r out "single-$2" && rm -rf out
}

pipeline p.yaml 'feed/*.xml' ""
single p.yaml p || fail "the single run failed"
rejected=$(($(wc -l < single-p/rejects.csv) - 1))
[ "$rejected" -gt 50 ] || fail "the single run rejected only $rejected rows"
# a file of a glob is labelled source/file in every row, from the first on
if python3 - single-p/rejects.csv <<'PYTHON'; then
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], encoding="utf-8")))
bad = [r for r in rows if r["_source"] != "feed/" + r["_file"].split("/")[-1]]
sys.exit(1 if bad or not rows else 0)
PYTHON
    ok "labels: every reject of the glob's documents has _source feed/<file>, the first file's too"
else
    fail "labels: some rejects of a document of the glob are not labelled feed/<file>"
fi
for n in 2 4 9; do
    if sharded p.yaml "shared-$n" "$n" && same p &&
        grep -q '"mode": "files"' "shared-$n/plan.json"; then
        ok "union-$n: $n shards of 7 XML documents give one run's outputs, rejects ($rejected) and report"
    else
        fail "union-$n: $n shards of 7 XML documents differ from one run"
    fi
done

pipeline one.yaml one.xml ""
single one.yaml one || fail "the single run of one document failed"
if sharded one.yaml shared-one 3 && same one; then
    ok "one-file: one document in 3 shards (one reads it, two are empty) gives one run's outputs"
else
    fail "one-file: one document in 3 shards differs from one run"
fi

pipeline mixed.yaml 'feed/*.xml' '  - name: extra
    plugin: csv
    path: extra.csv'
single mixed.yaml mixed || fail "the single mixed run failed"
if sharded mixed.yaml shared-mixed 3 && same mixed && grep -q '"mode": "sources"' shared-mixed/plan.json; then
    ok "mixed: an xml source and a csv source, 3 shards, give one run's outputs"
else
    fail "mixed: an xml source and a csv source in 3 shards differ from one run"
fi

rm -rf out shared-changed
"$MEKONG" plan p.yaml --shards 2 --dir shared-changed -q
mv feed/f-6.xml f-6.xml
"$MEKONG" run p.yaml --shard 1 --dir shared-changed -q 2> changed.err
rc=$?
mv f-6.xml feed/f-6.xml
if [ $rc != 0 ] && grep -q 'changed since the shard plan was made' changed.err; then
    ok "changed: a document removed after the plan: the shard exits $rc and says make the plan again"
else
    fail "changed: exit $rc: $(cat changed.err)"
fi
