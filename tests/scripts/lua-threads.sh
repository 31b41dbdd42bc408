#!/usr/bin/env bash
# tests/scripts/lua-threads.sh -- the lua step gives byte-identical outputs
# (rows, rejects, rule counts) on 1 and on 4 threads, over a few thousand
# rows with rejects, drops, warnings and emitted rows mixed in.
set -u
MEKONG=${MEKONG:?set MEKONG}
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-lua-threads.XXXXXX")
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
"$MEKONG" plugins 2>/dev/null | grep -q '^lua ' || { echo "# skip: lua threads: the lua plugin is not built"; exit 0; }
awk 'BEGIN {
    print "national_id,full_name,phone";
    srand(7);
    for (i = 1; i <= 5000; i++) {
        id = sprintf("%012d", int(rand() * 1e12));
        if (i % 13 == 0) id = substr(id, 1, 9);
        printf "%s,\"  Người %d, Hà Nội \",09%08d\n", id, i, int(rand() * 1e8);
    }
}' > rows.csv
cat > rules.lua <<'LUA'
columns = { add = { "n" } }
function process(row)
  row.full_name = row.full_name:match("^%s*(.-)%s*$")
  check("cccd", #row.national_id == 12, "not 12 digits")
  local d = tonumber(row.phone:sub(-1))
  if d == 7 then drop() end
  check_warn("phone.three", d ~= 3, "ends in 3")
  row.n = position()
  if d == 5 then emit{ full_name = row.full_name .. " (copy)" } end
  count("seen")
end
function finish(t) emit{ full_name = "seen " .. t.seen } end
LUA
for t in 1 4; do
    cat > p$t.yaml <<YAML
sources: [ { name: s, plugin: csv, path: rows.csv } ]
transforms: [ { plugin: lua, script: rules.lua, threads: $t } ]
sinks: [ { plugin: csv, path: out$t/rows.csv } ]
rejects: out$t/rejects.csv
report: out$t/report.json
YAML
    "$MEKONG" run p$t.yaml -q || { echo "not ok - lua threads: run with threads: $t failed"; exit 0; }
done
rules() { grep -o '"rule":"[^"]*","stage":"[^"]*","checked":[0-9]*,"rejected":[0-9]*,"warned":[0-9]*' "$1"; }
if cmp -s out1/rows.csv out4/rows.csv && cmp -s out1/rejects.csv out4/rejects.csv &&
   [ "$(rules out1/report.json)" = "$(rules out4/report.json)" ] &&
   [ "$(wc -l < out1/rows.csv)" -gt 4000 ] && [ "$(wc -l < out1/rejects.csv)" -gt 300 ]; then
    echo "ok - lua threads: 1 and 4 threads give byte-identical rows, rejects and rule counts"
else
    echo "not ok - lua threads: outputs differ between threads: 1 and threads: 4"
    diff out1/rows.csv out4/rows.csv | head -5
fi
