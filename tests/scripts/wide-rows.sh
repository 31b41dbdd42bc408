#!/usr/bin/env bash
# wide-rows.sh -- 100,000 columns go through csv -> map -> lua -> csv and
# jsonl sinks, with a rejected row, byte-exact and in linear time: each
# step that looked at every pair of column names (the csv header's
# duplicate check, the rejects file's union of columns, map's check of its
# output names) made this take 15-35 s; now it takes well under a second.
# The bound (8 s of CPU time, user + system: the wall clock also counts
# waiting for fsync on a busy disk) is far above that, ASan builds too, and
# below what one quadratic step alone takes.
set -u
if [ ! -x /usr/bin/time ]; then
    echo "# skip: wide-rows.sh needs GNU time as /usr/bin/time (apt-get install time)"
    exit 0
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-wide.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
python3 - <<'PY'
n = 100000
with open("in.csv", "w") as f:
    f.write(",".join("c%d" % i for i in range(n)) + "\n")
    f.write(",".join(str(i) for i in range(n)) + "\n")
    f.write(",".join("r%d" % i for i in range(n)) + "\n")
    f.write("too,few\n")
with open("want.csv", "w") as f:
    f.write(",".join("five" if i == 5 else "c%d" % i for i in range(n)) + "\n")
    f.write(",".join("x" if i == 7 else str(i) for i in range(n)) + "\n")
    f.write(",".join("x" if i == 7 else "r%d" % i for i in range(n)) + "\n")
PY
cat > r.lua <<'LUA'
function process(row) row.c7 = "x" end
LUA
cat > p.yaml <<'YAML'
sources:
  - name: in
    plugin: csv
    path: in.csv
transforms:
  - plugin: map
    rename: { c5: five }
  - plugin: lua
    script: r.lua
sinks:
  - plugin: csv
    path: out/out.csv
  - plugin: jsonl
    path: out/out.jsonl
rejects: out/rejects.csv
YAML
timeout 60 /usr/bin/time -f '%U %S' -o cpu "$MEKONG" run -q p.yaml 2> err
rc=$?
took=$(awk '{ printf "%d", $1 + $2 + 0.999 }' cpu 2>/dev/null)
took=${took:-999}
problems=""
[ "$rc" = 0 ] || problems="$problems exit status $rc;"
[ "$took" -le 8 ] || problems="$problems took $took s of CPU;"
cmp -s out/out.csv want.csv || problems="$problems out/out.csv differs;"
[ "$(wc -l < out/out.jsonl)" = 2 ] || problems="$problems out/out.jsonl is not 2 lines;"
grep -q '"c99999":"r99999"' out/out.jsonl || problems="$problems jsonl lacks the last column;"
[ "$(wc -l < out/rejects.csv)" = 2 ] || problems="$problems rejects is not a header and a row;"
head -1 out/rejects.csv | grep -q ',c99999,_source,' || problems="$problems rejects header lacks columns;"
if [ -z "$problems" ]; then
    echo "ok - 100,000 columns through csv, map, lua, csv and jsonl in linear time (< ${took} s CPU)"
else
    echo "not ok - 100,000 columns through csv, map, lua, csv and jsonl:$problems"
    sed 's/^/    /' err | tail -5
fi
