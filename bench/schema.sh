#!/usr/bin/env bash
# bench/schema.sh [CSV] -- the schema transform on the benchmark file next to
# the same checks as a Lua rule and as SQL in DuckDB, measured in one run.
#
# The checks (bench/schema/bench.schema.json): national_id required and
# matching [0-9]{12}, full_name required and at most 100 characters,
# birth_date a date in format %Y-%m-%d from 1900 on, sex in the enum
# {Nam, Nữ}, phone matching (\+84 ?|0)[0-9 ]{8,12}, registered_at a
# datetime, national_id the primary key (the first kept row of an ID wins).
#   mekong schema   csv -> schema -> csv, rejects to a file
#   mekong lua      csv -> lua (bench/schema/bench.lua) -> csv, one thread
#                   (a primary key needs one table of IDs: with more threads
#                   each Lua state would see only its share of the rows)
#   duckdb          @duckdb/node-api (npm, installed here into the work
#                   folder): read_csv, the same filters and row_number()
#                   for the key, COPY of the passing rows (no rejects file)
# Each: best wall time of BENCH_RUNS runs (default 3), CPU seconds (user +
# system) of that run, rows/s and MB/s on wall time, peak RSS; then the
# ratios (goals: schema >= 3x the Lua rule's rows/s and >= 2x DuckDB's),
# and the rows each kept, which must be the same.  Without CSV, 200 000
# rows are generated with bench/gen.
#
# Environment: MEKONG, MEKONG_BUILD, BENCH_RUNS, BENCH_WORK.
set -u
here=$(cd "$(dirname "$0")" && pwd)
MEKONG=${MEKONG:-$here/../engine/mekong}
BUILD=${MEKONG_BUILD:-$here/..}
RUNS=${BENCH_RUNS:-3}
WORK=${BENCH_WORK:-$BUILD/bench/work}
mkdir -p "$WORK/schema" || exit 1
w=$WORK/schema
csv=${1:-}
if [ -z "$csv" ]; then
    csv=$w/bench.csv
    "$BUILD/bench/gen" -n 200000 -o "$csv" || { echo "bench schema: bench/gen failed" >&2; exit 1; }
fi
csv=$(cd "$(dirname "$csv")" && pwd)/$(basename "$csv")
bytes=$(stat -c %s "$csv")

for how in schema lua; do
    if [ $how = schema ]; then
        step="{ plugin: schema, schema: \"$here/schema/bench.schema.json\" }"
    else
        step="{ plugin: lua, script: \"$here/schema/bench.lua\", threads: 1 }"
    fi
    cat > "$w/$how.yaml" <<YAML
sources: [ { name: bench, plugin: csv, path: "$csv" } ]
transforms: [ $step ]
sinks: [ { plugin: csv, path: "$w/out-$how.csv" } ]
rejects: "$w/rejects-$how.csv"
report: "$w/report-$how.json"
YAML
done

have_duck=0
if command -v node > /dev/null && command -v npm > /dev/null; then
    if [ ! -d "$w/npm/node_modules/@duckdb/node-api" ]; then
        echo "bench schema: installing @duckdb/node-api (npm) into $w/npm"
        mkdir -p "$w/npm"
        (cd "$w/npm" && npm install --no-audit --no-fund --silent @duckdb/node-api > npm.log 2>&1)
    fi
    [ -d "$w/npm/node_modules/@duckdb/node-api" ] && have_duck=1
fi
[ $have_duck = 1 ] || echo "# skip: DuckDB: node/npm missing or @duckdb/node-api did not install (see $w/npm/npm.log)"
duck_version=$([ $have_duck = 1 ] && sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' \
    "$w/npm/node_modules/@duckdb/node-api/package.json" | head -1)

# measure NAME CMD...: best wall time (best_s), its CPU seconds (cpu_s), the
# largest peak RSS (rss_kb) of RUNS runs.
measure() {
    local name=$1; shift
    best_s="" cpu_s="" rss_kb=0
    for _ in $(seq "$RUNS"); do
        local t0 t1 s
        t0=$(date +%s%N)
        if ! /usr/bin/time -f '%M %U %S' -o "$w/time.$name" "$@" > "$w/stdout.$name" 2> "$w/stderr.$name"; then
            echo "bench schema: $name failed:" >&2
            tail -5 "$w/stderr.$name" >&2
            return 1
        fi
        t1=$(date +%s%N)
        s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", (b - a) / 1e9}')
        read -r rss u sy < <(tail -1 "$w/time.$name")
        [ "$rss" -gt "$rss_kb" ] && rss_kb=$rss
        if [ -z "$best_s" ] || awk -v s="$s" -v b="$best_s" 'BEGIN {exit !(s < b)}'; then
            best_s=$s
            cpu_s=$(awk -v u="$u" -v s="$sy" 'BEGIN {printf "%.2f", u + s}')
        fi
    done
}

rows=""
line() { # label seconds cpu rss_kb kept
    printf '%-16s %8.2f %8.2f %9.1f %11.0f %7.1f MB %9s\n' "$1" "$2" "$3" \
        "$(awk -v b="$bytes" -v s="$2" 'BEGIN {print b / 1e6 / s}')" \
        "$(awk -v r="$rows" -v s="$2" 'BEGIN {print r / s}')" \
        "$(awk -v k="$4" 'BEGIN {print k / 1024}')" "$5"
}
kept_of() { grep -o '"written":[0-9]*' "$w/report-$1.json" | head -1 | cut -d: -f2; }

status=0
declare -A secs kept
measure schema "$MEKONG" run "$w/schema.yaml" -q || status=1
rows=$(grep -o '"read":[0-9]*' "$w/report-schema.json" 2>/dev/null | head -1 | cut -d: -f2)
[ -n "$rows" ] || { echo "bench schema: no report from the schema run" >&2; exit 1; }
echo "bench schema: $rows rows, $bytes bytes, $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "duckdb: ${duck_version:-not available}; best of $RUNS runs; rows/s and MB/s on wall time"
printf '%-16s %8s %8s %9s %11s %10s %9s\n' "" "wall s" "CPU s" "MB/s" "rows/s" "peak RSS" "kept"
secs[schema]=$best_s kept[schema]=$(kept_of schema)
line "mekong schema" "$best_s" "$cpu_s" "$rss_kb" "${kept[schema]}"
if measure lua "$MEKONG" run "$w/lua.yaml" -q; then
    secs[lua]=$best_s kept[lua]=$(kept_of lua)
    line "mekong lua" "$best_s" "$cpu_s" "$rss_kb" "${kept[lua]}"
else
    status=1
fi
if [ $have_duck = 1 ]; then
    if measure duckdb env NODE_PATH="$w/npm/node_modules" node "$here/schema/duckdb-check.js" "$csv" "$w/out-duckdb.csv"; then
        secs[duckdb]=$best_s kept[duckdb]=$(sed -n 's/^passed //p' "$w/stdout.duckdb")
        line "duckdb sql" "$best_s" "$cpu_s" "$rss_kb" "${kept[duckdb]}"
    else
        status=1
    fi
fi
for peer in lua duckdb; do
    [ -n "${secs[$peer]:-}" ] || continue
    goal=$([ $peer = lua ] && echo 3 || echo 2)
    ratio=$(awk -v p="${secs[$peer]}" -v s="${secs[schema]}" 'BEGIN {printf "%.2f", p / s}')
    met=$(awk -v r="$ratio" -v g="$goal" 'BEGIN {print (r >= g ? "met" : "NOT met")}')
    echo "schema / $peer rows/s: ${ratio}x (goal >= ${goal}x: $met)"
    if [ "${kept[$peer]}" != "${kept[schema]}" ]; then
        echo "bench schema: $peer kept ${kept[$peer]} rows, schema ${kept[schema]}: the checks differ" >&2
        status=1
    fi
done
rm -f "$w"/stdout.* "$w"/stderr.* "$w"/time.* "$w"/out-*.csv "$w"/rejects-*.csv
exit $status
