#!/usr/bin/env bash
# bench/lookup.sh [CSV] -- mekong.lookup against a plain Lua table.
#
# A 10,000-row ward table (code, name; the issue's size) and LOOKUP_ROWS
# rows (default 1,000,000) whose code is looked up.  Four runs of a lua step,
# best of BENCH_RUNS (default 3), on 1 thread and on 2:
#   lookup.load      the table parsed once in C, shared by the workers
#   lua table        the same table built by the rule in setup(), one per
#                    worker (what a rule would do by hand)
# plus the table of 1,000,000 rows (LOOKUP_BIG) loaded by 2 workers: peak RSS
# with lookup.load (one copy) and with a Lua table per worker.  The CSV of
# run.sh ($1) is not used.  The machine may be shared: compare within a run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
BUILD=${MEKONG_BUILD:-$here/..}
MEKONG=${MEKONG:-$BUILD/engine/mekong}
ROWS=${LOOKUP_ROWS:-1000000}
BIG=${LOOKUP_BIG:-1000000}
RUNS=${BENCH_RUNS:-3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mekong-bench-lookup.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
[ -x /usr/bin/time ] || { echo "bench lookup: GNU time is needed (apt-get install time)" >&2; exit 1; }
"$MEKONG" plugins 2>/dev/null | grep -q '^lua ' || { echo "# skip: bench lookup: no lua plugin"; exit 0; }
. "$here/measure.bash"

awk 'BEGIN { print "code,name"; for (i = 1; i <= 10000; i++) printf "%05d,Phường %d\n", i, i }' > "$WORK/wards.csv"
awk -v n="$BIG" 'BEGIN { print "code,name"; for (i = 1; i <= n; i++) printf "%07d,Xã số %d\n", i, i }' > "$WORK/big.csv"
awk -v n="$ROWS" 'BEGIN { print "id,code"; for (i = 1; i <= n; i++) printf "%d,%05d\n", i, (i * 7919) % 10000 + 1 }' > "$WORK/in.csv"

cat > "$WORK/shared.lua" <<'EOF'
local lookup = require "mekong.lookup"
columns = { add = { "name" } }
local t
function setup(p) t = lookup.load(p.table, { key = "code", value = "name" }) end
function process(row) row.name = t[row.code] end
EOF
cat > "$WORK/own.lua" <<'EOF'
columns = { add = { "name" } }
local t = {}
function setup(p)
  local f = assert(io.open(p.table, "rb"))
  f:read("l")
  for line in f:lines() do
    local code, name = line:match("^([^,]*),(.*)$")
    t[code] = name
  end
  f:close()
end
function process(row) row.name = t[row.code] end
EOF
pipeline() { # name script threads table rows
    cat > "$WORK/$1.yaml" <<YAML
sources: [ { name: rows, plugin: csv, path: "$5" } ]
transforms: [ { plugin: lua, script: "$WORK/$2.lua", threads: $3, params: { table: "$4" },
                read: ["$WORK"], instruction_budget: 0 } ]
sinks: [ { plugin: csv, path: "$WORK/out-$1.csv" } ]
rejects: "$WORK/rejects-$1.csv"
YAML
}
echo "bench lookup: $ROWS rows, a 10,000-row table; $(nproc) cores shared with other work; best of $RUNS"
printf '%-34s %8s %12s %10s\n' "" seconds "rows/s" "peak RSS"
status=0
for script in shared own; do
    for threads in 1 2; do
        name=$script-$threads
        pipeline "$name" "$script" "$threads" "$WORK/wards.csv" "$WORK/in.csv"
        if measure "$name" "$MEKONG" run "$WORK/$name.yaml" -q; then
            label=$([ $script = shared ] && echo "lookup.load" || echo "lua table in setup")
            printf '%-34s %8.2f %12.0f %7.1f MB\n' "$label, threads $threads" "$best_s" \
                "$(awk -v r="$ROWS" -v s="$best_s" 'BEGIN {print r / s}')" "$(awk -v k="$rss_kb" 'BEGIN {print k / 1024}')"
        else
            status=1
        fi
    done
done
cmp -s "$WORK/out-shared-2.csv" "$WORK/out-own-2.csv" || { echo "bench lookup: the two ways gave different rows" >&2; status=1; }
head -1001 "$WORK/in.csv" > "$WORK/few.csv"
for script in shared own; do
    name=big-$script
    pipeline "$name" "$script" 2 "$WORK/big.csv" "$WORK/few.csv"
    if measure "$name" "$MEKONG" run "$WORK/$name.yaml" -q; then
        label=$([ $script = shared ] && echo "lookup.load" || echo "lua table in setup")
        printf '%-34s %8.2f %12s %7.1f MB\n' "$BIG-row table, 2 threads: $label" "$best_s" "-" \
            "$(awk -v k="$rss_kb" 'BEGIN {print k / 1024}')"
    else
        status=1
    fi
done
exit $status
