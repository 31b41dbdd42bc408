#!/usr/bin/env bash
# bench/lua.sh [CSV] -- Lua rule benchmarks on the 13-column benchmark file
# (national_id,full_name,birth_date,sex,phone,email,province,district,ward,
# address,ethnicity,occupation,registered_at).  Without CSV, 200 000 rows
# are generated (bench/lua-gen.awk).
#   (a) mekong with a Lua step (trim full_name, upper-case province, keep
#       12-digit national_id) next to Miller doing the same; goal >= 5x.
#   (b) a six-rule script on 1 thread and on all threads; goal: 2 threads
#       >= 1.6x one thread.
# Every figure is the best of BENCH_RUNS runs (default 3), for mekong and
# for Miller alike; the input is in the page cache.
# Environment: MEKONG (default: the build tree's engine/mekong), BENCH_RUNS.
set -u
here=$(cd "$(dirname "$0")" && pwd)
MEKONG=${MEKONG:-$here/../engine/mekong}
cores=$(nproc 2>/dev/null || echo 2)
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-bench-lua.XXXXXX")
trap 'rm -rf "$work"' EXIT
csv=${1:-}
if [ -z "$csv" ]; then
    csv=$work/bench.csv
    awk -v n=200000 -f "$here/lua-gen.awk" > "$csv"
fi
csv=$(cd "$(dirname "$csv")" && pwd)/$(basename "$csv")
# records, not lines: quoted fields may hold line breaks (the csv -> csv
# run's report counts them)
cat > "$work/count.yaml" <<YAML
sources: [ { name: bench, plugin: csv, path: "$csv" } ]
sinks: [ { plugin: csv, path: /dev/null } ]
rejects: /dev/null
YAML
rows=$("$MEKONG" run "$work/count.yaml" -q --report "$work/count.json" 2>/dev/null &&
    grep -o '"read":[0-9]*' "$work/count.json" | head -1 | cut -d: -f2)
[ -n "$rows" ] || { echo "bench lua: cannot count the records of $csv" >&2; exit 1; }
echo "bench lua: $rows records, $(wc -c < "$csv") bytes, $cores cores"

now() { date +%s.%N; }
rate() { awk -v r="$rows" -v a="$1" -v b="$2" 'BEGIN { printf "%.0f", r / (b - a) }'; }

pipeline() { # name script threads
    cat > "$work/$1.yaml" <<YAML
sources: [ { name: bench, plugin: csv, path: "$csv" } ]
transforms: [ { plugin: lua, script: "$here/lua/$2", threads: $3 } ]
sinks: [ { plugin: csv, path: out-$1/rows.csv } ]
rejects: out-$1/rejects.csv
report: out-$1/report.json
YAML
}
# best_rate CMD...: the rows/s of the fastest of RUNS runs of CMD (0 if
# one fails); each figure is taken the same way for mekong and for Miller.
RUNS=${BENCH_RUNS:-3}
best_rate() {
    local best=0 t0 t1 r
    for _ in $(seq "$RUNS"); do
        t0=$(now)
        "$@" 2> "$work/last.err" || { cat "$work/last.err" >&2; echo 0; return; }
        t1=$(now)
        r=$(rate "$t0" "$t1")
        [ "$r" -gt "$best" ] && best=$r
    done
    echo "$best"
}
run() { # name -> rows/s
    best_rate "$MEKONG" run "$work/$1.yaml" -q
}

# (a) next to Miller
pipeline filter filter.lua 0

mk=$(cd "$work" && run filter)
if command -v mlr > /dev/null; then
    ml=$(best_rate sh -c 'mlr --icsv --ocsv filter '"'"'$national_id =~ "^[0-9]{12}$"'"'"' then \
        put '"'"'$full_name = strip($full_name); $province = toupper($province)'"'"' "$1" > "$2"' \
        mlr "$csv" "$work/mlr.csv")
    kept_mk=$(($(wc -l < "$work/out-filter/rows.csv") - 1))
    kept_ml=$(($(wc -l < "$work/mlr.csv") - 1))
    echo "(a) filter+trim+upper: mekong lua $mk rows/s, miller $ml rows/s, ratio $(awk -v a="$mk" -v b="$ml" 'BEGIN { r = a / b; printf "%.2fx (goal >= 5x: %s)", r, (r >= 5 ? "met" : "NOT met") }'); rows kept: mekong $kept_mk, miller $kept_ml"
else
    echo "(a) filter+trim+upper: mekong lua $mk rows/s; miller not installed (apt-get install miller)"
fi

# (b) six rules, one thread and all threads
pipeline six1 six.lua 1
pipeline sixn six.lua "$cores"
one=$(cd "$work" && run six1)
all=$(cd "$work" && run sixn)
if cmp -s "$work/out-six1/rows.csv" "$work/out-sixn/rows.csv"; then same=identical; else same=DIFFERENT; fi
echo "(b) six rules: 1 thread $one rows/s, $cores threads $all rows/s, speedup $(awk -v a="$all" -v b="$one" 'BEGIN { r = a / b; printf "%.2fx (goal >= 1.6x: %s)", r, (r >= 1.6 ? "met" : "NOT met") }'); outputs $same"
