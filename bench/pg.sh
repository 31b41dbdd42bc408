#!/usr/bin/env bash
# bench/pg.sh [CSV] -- the postgres plugin against its peers, on one
# throwaway PostgreSQL server (tests/pg/lib.sh) started for this run:
#
#   (a) CSV -> PostgreSQL, mode append: mekong next to `psql \copy ... FROM`
#       of the same file into the same server and to pgloader (Debian
#       package) on the same file.  Goals: >= 1.0x \copy, >= 10x pgloader.
#   (b) the same load into a table with a CHECK that refuses about one row
#       in 10,000 (national_id ending in 0000), next to the load into a table
#       with a CHECK of the same cost that refuses none: goal >= 0.8x.
#   (c) PostgreSQL -> CSV: mekong next to `psql \copy ... TO`: goal >= 1.0x.
#   (d) peak RSS of a 10,000,000-row extraction against a 100,000-row one:
#       goal: within 2 MB.
#
# Every load starts from an empty table (TRUNCATE between runs, the same
# for every tool) in a server with fsync on and max_wal_size 8GB (no
# checkpoint in a load); figures are the best of BENCH_RUNS runs (default
# 3; pgloader runs once: it is slow).  The input is in the page cache.
# Without CSV, bench/gen writes 1,000,000 rows.  BENCH_PG_BIG (default
# 10000000) sets the row count of (d).
# BENCH_PG_NO_PGLOADER=1 leaves pgloader out (it takes minutes).  BENCH_PG_BATCHES
# (default "1024 10000") lists the batch_rows values the loads (a) and (b) use.
# Environment: MEKONG, MEKONG_BUILD, MEKONG_SRC, BENCH_RUNS, BENCH_GEN.
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/.." && pwd)}
BUILD=${MEKONG_BUILD:-$SRC}
MEKONG=${MEKONG:-$BUILD/engine/mekong}
RUNS=${BENCH_RUNS:-3}
BIG=${BENCH_PG_BIG:-10000000}
BATCHES=${BENCH_PG_BATCHES:-1024 10000}
. "$SRC/tests/pg/lib.sh"

if ! [ -f "$BUILD/plugins/postgres/.libs/postgres.so" ] && ! "$MEKONG" plugins 2>/dev/null | grep -q '^postgres '; then
    echo "bench pg: skipped: the postgres plugin is not built (install libpq-dev, configure again)"
    exit 0
fi
if ! why=$(pg_have_server); then
    echo "bench pg: skipped: $why"
    exit 0
fi
WORK=$(mktemp -d "${TMPDIR:-/tmp}/mekong-bench-pg.XXXXXX")
trap 'pg_stop; rm -rf "$WORK"' EXIT
chmod 755 "$WORK"
csv=${1:-}
if [ -z "$csv" ]; then
    csv=$WORK/bench.csv
    "${BENCH_GEN:-$BUILD/bench/gen}" -n 1000000 -o "$csv" || { echo "bench pg: bench/gen failed" >&2; exit 1; }
fi
csv=$(cd "$(dirname "$csv")" && pwd)/$(basename "$csv")
bytes=$(stat -c %s "$csv")

if ! command -v pgloader >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
    echo "bench pg: installing the Debian package pgloader"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends pgloader >/dev/null 2>&1 ||
        { apt-get update -q >/dev/null 2>&1 &&
          apt-get install -y -q --no-install-recommends pgloader >/dev/null 2>&1; } ||
        echo "bench pg: apt-get install pgloader failed; no pgloader figure"
fi
PG_FSYNC=on PG_SERVER_OPTIONS="-c max_wal_size=8GB -c checkpoint_timeout=30min" pg_start ||
    { echo "bench pg: cannot start a PostgreSQL cluster" >&2; exit 1; }
. "$SRC/bench/measure.bash" # measure NAME CMD...: best_s, rss_kb

cols="national_id text, full_name text, birth_date text, sex text, phone text, email text,
      province text, district text, ward text, address text, ethnicity text, occupation text,
      registered_at text"
# bench_check refuses national_ids ending in 0000 (about one row in 10,000);
# bench_ok has a CHECK of the same cost that refuses nothing: the clean
# load (b) is compared with
pg_psql "CREATE TABLE bench ($cols); CREATE TABLE bench_check ($cols, CHECK (right(national_id, 4) <> '0000'));
         CREATE TABLE bench_ok ($cols, CHECK (right(national_id, 4) <> 'none'))" >/dev/null
CONN="host=127.0.0.1 port=$PGPORT user=mk dbname=postgres"
cat > "$WORK/count.yaml" <<YAML
sources: [ { name: bench, plugin: csv, path: "$csv" } ]
sinks: [ { plugin: csv, path: /dev/null } ]
rejects: $WORK/count-rejects.csv
YAML
rows=$("$MEKONG" run "$WORK/count.yaml" -q --report "$WORK/count.json" >/dev/null 2>&1 &&
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["read"])' "$WORK/count.json")
[ -n "$rows" ] || { echo "bench pg: cannot count the records of $csv" >&2; exit 1; }

echo "bench pg: $rows records, $bytes bytes; PostgreSQL $(pg_psql 'SHOW server_version'), fsync on, on this machine's loopback"
echo "bench pg: the machine is shared (2 cores, other jobs running): compare the figures of one run, not across runs"
printf '%-40s %8s %9s %12s %10s\n' "" seconds "MB/s" "rows/s" "peak RSS"
line() { # label seconds rss_kb
    printf '%-40s %8.2f %9.1f %12.0f %7.1f MB\n' "$1" "$2" \
        "$(awk -v b="$bytes" -v s="$2" 'BEGIN {print b / 1e6 / s}')" \
        "$(awk -v r="$rows" -v s="$2" 'BEGIN {print r / s}')" \
        "$(awk -v k="$3" 'BEGIN {print k / 1024}')"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", b / a}'; } # seconds a vs b: b/a
goal() { awk -v r="$1" -v g="$2" 'BEGIN {print (r >= g ? "met" : "NOT met")}'; }
count() { pg_psql "SELECT count(*) FROM $1"; }
status=0

# ---- (a) CSV -> PostgreSQL ---------------------------------------------------------
load_yaml() { # table batch_rows
    cat > "$WORK/load-$1-$2.yaml" <<YAML
name: load
batch_rows: $2
sources: [ { name: bench, plugin: csv, path: "$csv" } ]
sinks: [ { plugin: postgres, conninfo: "$CONN", table: $1 } ]
rejects: $WORK/rejects-$1.csv
report: $WORK/report-$1.json
YAML
}
for b in $BATCHES; do load_yaml bench $b; load_yaml bench_check $b; load_yaml bench_ok $b; done
# truncating TABLE CMD...: empty TABLE, then run CMD (a script, for /usr/bin/time)
cat > "$WORK/truncating" <<'SH'
#!/bin/sh
psql -X -q -c "TRUNCATE $1" >/dev/null || exit 1
shift
exec "$@"
SH
chmod +x "$WORK/truncating"
truncating=$WORK/truncating
declare -A s
for b in $BATCHES; do
    if measure "mk-load-$b" "$truncating" bench "$MEKONG" run "$WORK/load-bench-$b.yaml" -q &&
       [ "$(count bench)" = "$rows" ]; then
        s[mk$b]=$best_s; line "mekong csv -> postgres (batch_rows $b)" "$best_s" "$rss_kb"
    else echo "bench pg: mekong load (batch_rows $b) failed or lost rows ($(count bench) of $rows)"; status=1; fi
done
if measure psql-load "$truncating" bench psql -X -q -c "\\copy bench FROM '$csv' CSV HEADER" &&
   [ "$(count bench)" = "$rows" ]; then
    s[psql]=$best_s; line "psql \\copy FROM" "$best_s" "$rss_kb"
else echo "bench pg: psql \\copy failed"; status=1; fi
if [ -n "${BENCH_PG_NO_PGLOADER:-}" ]; then
    echo "bench pg: BENCH_PG_NO_PGLOADER is set: no pgloader figure"
elif command -v pgloader >/dev/null 2>&1; then
    cat > "$WORK/load.pgloader" <<EOF
LOAD CSV FROM '$csv'
  HAVING FIELDS (national_id, full_name, birth_date, sex, phone, email, province, district, ward,
                 address, ethnicity, occupation, registered_at)
  INTO postgresql://mk@127.0.0.1:$PGPORT/postgres?bench
  WITH skip header = 1, fields optionally enclosed by '"', fields escaped by double-quote,
       fields terminated by ','
  BEFORE LOAD DO \$\$ TRUNCATE bench; \$\$;
EOF
    RUNS_SAVED=$RUNS; RUNS=1
    if measure pgloader pgloader --quiet "$WORK/load.pgloader" && [ "$(count bench)" = "$rows" ]; then
        s[pgloader]=$best_s; line "pgloader (1 run)" "$best_s" "$rss_kb"
    else echo "bench pg: pgloader failed or lost rows ($(count bench) of $rows)"; tail -5 "$WORK/stderr.pgloader"; fi
    RUNS=$RUNS_SAVED
else
    echo "bench pg: pgloader is not installed (apt-get install pgloader): no figure"
fi

# ---- (b) one refused row in 10,000 -----------------------------------------------------
for b in $BATCHES; do
    if measure "mk-ok-$b" "$truncating" bench_ok "$MEKONG" run "$WORK/load-bench_ok-$b.yaml" -q &&
       [ "$(count bench_ok)" = "$rows" ]; then
        s[ok$b]=$best_s; line "mekong, same CHECK, none refused ($b)" "$best_s" "$rss_kb"
    else status=1; fi
    if measure "mk-refused-$b" "$truncating" bench_check "$MEKONG" run "$WORK/load-bench_check-$b.yaml" -q; then
        refused=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["totals"]["rejected"])' "$WORK/report-bench_check.json")
        loaded=$(count bench_check)
        s[refused$b]=$best_s; line "mekong, same CHECK, $refused refused ($b)" "$best_s" "$rss_kb"
        [ $((loaded + refused)) = "$rows" ] || { echo "bench pg: refused load: $loaded + $refused != $rows"; status=1; }
    else status=1; fi
done

# ---- (c) PostgreSQL -> CSV ---------------------------------------------------------------
cat > "$WORK/extract.yaml" <<YAML
name: extract
sources: [ { name: bench, plugin: postgres, conninfo: "$CONN", table: bench } ]
sinks: [ { plugin: csv, path: $WORK/extract.csv } ]
rejects: $WORK/extract-rejects.csv
YAML
if measure mk-extract "$MEKONG" run "$WORK/extract.yaml" -q; then
    s[mkx]=$best_s; line "mekong postgres -> csv" "$best_s" "$rss_kb"
else status=1; fi
if measure psql-extract psql -X -q -c "\\copy bench TO '$WORK/psql.csv' CSV HEADER"; then
    s[psqlx]=$best_s; line "psql \\copy TO" "$best_s" "$rss_kb"
else status=1; fi
# mekong's csv sink fsyncs its file before it renames it into place; psql
# does not: the same copy followed by an fsync of the file (sync FILE)
if measure psql-extract-sync sh -c "psql -X -q -c \"\\\\copy bench TO '$WORK/psql.csv' CSV HEADER\" && sync '$WORK/psql.csv'"; then
    s[psqlxs]=$best_s; line "psql \\copy TO, then fsync" "$best_s" "$rss_kb"
else status=1; fi
# COPY or a cursor?  The same rows through psql's cursor (FETCH_COUNT:
# DECLARE ... CURSOR, FETCH 10000 at a time) and through COPY, both to
# /dev/null: the server's side and libpq's, without mekong.
if measure psql-cursor psql -X -q -At -v FETCH_COUNT=10000 -o /dev/null -c "SELECT * FROM bench" &&
   (s[cursor]=$best_s; true) && line "psql cursor, FETCH 10000 (to /dev/null)" "$best_s" "$rss_kb" &&
   measure psql-copy-null psql -X -q -c "\\copy bench TO '/dev/null'"; then
    line "psql \\copy TO /dev/null (text)" "$best_s" "$rss_kb"
fi
cmp -s "$csv" "$WORK/extract.csv" && echo "(the extracted CSV is byte-identical to the input)" ||
    echo "(the extracted CSV differs from the input: bench/gen writes some edge blanks unquoted, mekong quotes them)"

echo
for b in $BATCHES; do
    [ -n "${s[mk$b]:-}" ] && [ -n "${s[psql]:-}" ] &&
        echo "load, batch_rows $b: mekong / psql \\copy rows/s: $(ratio "${s[mk$b]}" "${s[psql]}")x (goal >= 1.0x: $(goal "$(ratio "${s[mk$b]}" "${s[psql]}")" 1.0))"
    [ -n "${s[mk$b]:-}" ] && [ -n "${s[pgloader]:-}" ] &&
        echo "load, batch_rows $b: mekong / pgloader rows/s:   $(ratio "${s[mk$b]}" "${s[pgloader]}")x (goal >= 10x: $(goal "$(ratio "${s[mk$b]}" "${s[pgloader]}")" 10))"
done
for b in $BATCHES; do
    [ -n "${s[refused$b]:-}" ] && [ -n "${s[ok$b]:-}" ] &&
        echo "load with refused rows / the same load with none refused, batch_rows $b: $(ratio "${s[refused$b]}" "${s[ok$b]}")x (goal >= 0.8x: $(goal "$(ratio "${s[refused$b]}" "${s[ok$b]}")" 0.8))"
done
[ -n "${s[mkx]:-}" ] && [ -n "${s[psqlx]:-}" ] &&
    echo "extract: mekong / psql \\copy TO rows/s: $(ratio "${s[mkx]}" "${s[psqlx]}")x (goal >= 1.0x: $(goal "$(ratio "${s[mkx]}" "${s[psqlx]}")" 1.0))"
[ -n "${s[mkx]:-}" ] && [ -n "${s[psqlxs]:-}" ] &&
    echo "extract: mekong / psql \\copy TO + fsync rows/s: $(ratio "${s[mkx]}" "${s[psqlxs]}")x (the same work: both files on disk)"

# ---- (d) memory of a long extraction ---------------------------------------------------
echo
echo "bench pg: making a $BIG-row table for the memory check"
pg_psql "CREATE UNLOGGED TABLE big AS SELECT i AS id, md5(i::text) AS h, 'Nguyễn Văn ' || (i % 997) AS name,
           DATE '2000-01-01' + (i % 9000) AS d, now() AS ts FROM generate_series(1, $BIG) i" >/dev/null || status=1
peak() { # rows -> peak RSS in kB of mekong reading the first rows of big
    cat > "$WORK/mem.yaml" <<YAML
sources: [ { name: big, plugin: postgres, conninfo: "$CONN", query: "SELECT * FROM big WHERE id <= $1" } ]
sinks: [ { plugin: csv, path: /dev/null } ]
rejects: $WORK/mem-rejects.csv
YAML
    /usr/bin/time -f '%M' -o "$WORK/mem.time" "$MEKONG" run "$WORK/mem.yaml" -q >/dev/null 2>&1 &&
        tail -1 "$WORK/mem.time"
}
small_kb=$(peak 100000)
big_kb=$(peak "$BIG")
if [ -n "$small_kb" ] && [ -n "$big_kb" ]; then
    diff_kb=$((big_kb - small_kb))
    echo "peak RSS: 100000 rows $((small_kb / 1024)) MB ($small_kb kB), $BIG rows $((big_kb / 1024)) MB ($big_kb kB), difference $diff_kb kB (goal: within 2048 kB: $([ ${diff_kb#-} -le 2048 ] && echo met || echo NOT met))"
else
    echo "bench pg: the memory runs failed"; status=1
fi
exit $status
