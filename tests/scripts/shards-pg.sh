#!/usr/bin/env bash
# shards-pg.sh -- PostgreSQL inputs and outputs in shards (issue 14,
# docs/SCALE.md "PostgreSQL"): a throwaway cluster (tests/pg/lib.sh), a
# table of 20,000 rows (Vietnamese text, NULLs, rows lua rejects and drops,
# rows PostgreSQL refuses) read by key ranges -> lua -> map -> csv and a
# postgres sink.  One run loads database "one", the shards database "many"
# (the same table names, so reports compare).
#
#   union-MODE  4 shards + merge (append, replace, upsert on a repeating key):
#               csv output, rejects and report as one run's; the target
#               table's rows as one run's; no staging table left
#   twice       merge run again: exit 0, the table unchanged (the ledger)
#   sink-fails  shard 2's sink fails: merge refused, target unchanged; the
#               retry and the merge then give one run's table
#   merge-fails the merge's transaction fails (a key already in the target):
#               target unchanged, staging tables kept, no file published;
#               after the cause is removed (and shard 1 retried after its
#               success: its staging table replaced) the merge gives one run's
#   changed     a row added in shard 1's range after the plan: shard 1
#               refuses (exit 1, "changed since the shard plan")
#   csv-create  a csv file into a postgres sink with create: true: the table is
#               made by the merge (not by a shard), one run's table and rejects
#   hostile     a target table named like SQL, a column with quotes
#   small       1000 rows in 4 shards of 1024-row batches: no cut past the last row
#   refused     a query source, no shard_key, NULL keys, repeated keys:
#               mekong plan refuses with the reason
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${MEKONG_BUILD:-$SRC}
MEKONG=${MEKONG:-$BUILD/engine/mekong}
. "$SRC/tests/shards/lib.sh"
. "$SRC/tests/pg/lib.sh"

pg_script_begin shards-pg
cd "$work" || exit 1
ok() { echo "ok - shards-pg: $*"; }
fail() { echo "not ok - shards-pg: $*"; }
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d "${DB:-postgres}" -c "$1"; }

# ---- the source table ----------------------------------------------------------
python3 - <<'PYTHON' || { fail "inputs"; finished=1; exit 0; }
import random
random.seed(8)
ho = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Võ", "Đặng"]
ten = ["Văn An", "Thị Bích", "Hoàng Đức", "Thu Hà", "Ngọc Ánh", "Quốc Việt"]
def esc(v):
    return "\\N" if v is None else v.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
with open("dan_cu.copy", "w") as f:
    for i in range(20000):
        r = random.random()
        name = "%s %s" % (ho[i % 7], ten[(i * 5) % 6])
        note = "ghi chú %d\tcó tab" % i if r < 0.3 else ("" if r < 0.35 else None)
        age = str(random.randint(0, 99))
        if r > 0.995:
            age = "-1"              # refused by the target's CHECK
        elif 0.98 < r < 0.985:
            name = None             # refused by the target's NOT NULL
        elif 0.97 < r < 0.972:
            name = "Tên 0%d" % i    # lua rejects: a digit in a name
        hh = "HO%04d" % random.randint(0, 4000)   # repeats: upsert's key
        row = [str(i * 3 + i % 7 + 5), name, note, age, hh]
        f.write("\t".join(esc(v) for v in row) + "\n")
PYTHON
q "CREATE TABLE dan_cu (id int PRIMARY KEY, ho_ten text, ghi_chu text, tuoi int, ma_ho text)" >/dev/null
q "\\copy dan_cu FROM 'dan_cu.copy'" > /dev/null 2>&1 ||
    psql -X -q -v ON_ERROR_STOP=1 -c "\\copy dan_cu FROM '$work/dan_cu.copy'" > /dev/null
[ "$(q 'SELECT count(*) FROM dan_cu')" = 20000 ] || { fail "loading the source table"; finished=1; exit 0; }
q "CREATE DATABASE one" > /dev/null && q "CREATE DATABASE many" > /dev/null
# targets: append/replace keyed by id; upsert by household, with a column the input lacks
target_sql="CREATE SCHEMA exchange;
  CREATE TABLE exchange.cong_dan (id int PRIMARY KEY, ho_ten text NOT NULL, ghi_chu text,
    tuoi int CHECK (tuoi >= 0), ma_ho text, nguon text, ban_ghi bigint, nap text DEFAULT 'mặc định');
  CREATE TABLE exchange.ho (ma_ho text PRIMARY KEY, id int, ho_ten text NOT NULL, ghi_chu text,
    tuoi int CHECK (tuoi >= 0), nguon text, ban_ghi bigint, cu text DEFAULT 'cũ');
  INSERT INTO exchange.ho (ma_ho, id, ho_ten, cu) SELECT 'HO' || lpad(g::text, 4, '0'), -g, 'Cũ', 'giữ'
    FROM generate_series(3000, 4500) g"
for DB in one many; do q "$target_sql" > /dev/null; done
DB=

cat > rules.lua <<'LUA'
function process(row)
  if row.id:sub(-1) == "7" then drop() end
  check("ten.chu_so", row.ho_ten == nil or not row.ho_ten:find("%d"), "tên có chữ số")
end
LUA
CONN="host=\${PGHOST} port=\${PGPORT} user=mk"
# pipeline MODE: the pipeline for a sink mode (append -> cong_dan, replace, upsert -> ho)
pipeline() {
    local table=exchange.cong_dan key=
    [ "$1" = upsert ] && table=exchange.ho && key="    key: [ma_ho]"
    cat > p.yaml <<YAML
sources:
  - name: dan_cu
    plugin: postgres
    conninfo: "$CONN dbname=postgres"
    table: dan_cu
    shard_key: id
transforms:
  - plugin: lua
    script: rules.lua
  - plugin: map
    provenance: { source: nguon, record: ban_ghi }
sinks:
  - name: table
    plugin: csv
    path: out/out.csv
  - name: db
    plugin: postgres
    conninfo: "$CONN dbname=\${DB}"
    table: $table
    mode: $1
$key
rejects: out/rejects.csv
report: out/report.json
YAML
}
# rows DB TABLE: the table's rows in key order, as text
rows() { DB=$1 q "SELECT md5(string_agg(t::text, E'\n' ORDER BY t::text)), count(*) FROM (SELECT * FROM $2) t"; }
stages() { DB=many q "SELECT count(*) FROM pg_tables WHERE schemaname = 'mekong_shard' AND tablename LIKE 'plan%'"; }
single() { rm -rf out && "$MEKONG" run p.yaml --set DB=one -q && rm -rf single && mv out single; }
shards() { # DIR: the 4 shards at once; 0 when all succeeded
    local pids=() i failed=0
    for i in 0 1 2 3; do
        "$MEKONG" run p.yaml --shard $i --dir "$1" --set DB=many -q 2> "shard-$i.err" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || failed=1; done
    return $failed
}
same_files() { shard_same single out out.csv rejects.csv; }

# ---- union per mode -------------------------------------------------------------
for mode in append replace upsert; do
    pipeline $mode
    table=exchange.cong_dan
    [ $mode = upsert ] && table=exchange.ho
    rm -rf "shared-$mode" out
    if ! single; then
        fail "union-$mode: the single run failed"
        continue
    fi
    "$MEKONG" plan p.yaml --shards 4 --dir "shared-$mode" --set DB=many -q &&
        shards "shared-$mode" && "$MEKONG" merge p.yaml --dir "shared-$mode" --set DB=many -q
    rc=$?
    refused=$(python3 -c 'import json; r = json.load(open("single/report.json")); print(sum(s.get("refused_by_server", 0) for s in r["sinks"]))')
    if [ $rc != 0 ]; then
        fail "union-$mode: plan, a shard or the merge failed (exit $rc): $(cat shard-*.err | head -5)"
    elif ! same_files; then
        fail "union-$mode: the csv output, rejects or report differ from one run's"
    elif [ "$(rows one $table)" != "$(rows many $table)" ]; then
        fail "union-$mode: table $table differs from one run's (< one run, > shards):"
        diff <(DB=one q "SELECT * FROM $table ORDER BY 1") <(DB=many q "SELECT * FROM $table ORDER BY 1") | head -6 | sed 's/^/    /'
    elif [ "$(stages)" != 0 ] || [ "$refused" -lt 50 ] || [ "$(wc -l < single/rejects.csv)" -lt 100 ]; then
        fail "union-$mode: staging tables left ($(stages)), or too few refused ($refused) or rejected rows"
    else
        ok "union-$mode: 4 shards + merge: csv, rejects ($refused refused by PostgreSQL), report and table $table as one run's"
    fi
done
if grep -q '"mode": "keys"' shared-append/plan.json && grep -q '"records": 20000' shared-append/plan.json &&
    grep -q '"shard": 1, "from": "[0-9]*", "to": "[0-9]*", "record": 5120, "rows": 5120' shared-append/plan.json; then
    ok "plan: key ranges of the table with the record number each starts at"
else
    fail "plan: plan.json lacks the key ranges: $(head -c 600 shared-append/plan.json)"
fi

# ---- merge twice ----------------------------------------------------------------
before=$(rows many exchange.ho)
if "$MEKONG" merge p.yaml --dir shared-upsert --set DB=many -q 2> twice.err && same_files &&
    [ "$(rows many exchange.ho)" = "$before" ] &&
    [ "$(DB=many q "SELECT count(*) FROM mekong_shard.merged")" = 3 ]; then
    ok "twice: a second merge publishes the same files and leaves the table as it was (the ledger)"
else
    fail "twice: the second merge changed something: $(cat twice.err)"
fi

# ---- a shard's sink fails; the retry ----------------------------------------------
pipeline append
for DB in one many; do q "TRUNCATE exchange.cong_dan" > /dev/null; done
DB=
single
rm -rf out shared-f
"$MEKONG" plan p.yaml --shards 4 --dir shared-f --set DB=many -q
id=$(python3 -c 'import json; print(json.load(open("shared-f/plan.json"))["plan"])')
# a view where shard 2's staging table goes: its DROP TABLE fails
DB=many q "CREATE VIEW mekong_shard.plan_${id}_sink1_shard2 AS SELECT 1 AS x" > /dev/null
shards shared-f
rc_shards=$?
"$MEKONG" merge p.yaml --dir shared-f --set DB=many -q 2> merge-f.err
rc_merge=$?
if [ $rc_shards != 0 ] && grep -q "staging table" shard-2.err && [ $rc_merge = 1 ] &&
    [ "$(DB=many q "SELECT count(*) FROM exchange.cong_dan")" = 0 ] && [ ! -e out/out.csv ]; then
    ok "sink-fails: shard 2's sink fails: the merge is refused, the target unchanged, nothing published"
else
    fail "sink-fails: shards exit $rc_shards, merge exit $rc_merge, target $(DB=many q "SELECT count(*) FROM exchange.cong_dan") rows: $(head -3 shard-2.err merge-f.err)"
fi
DB=many q "DROP VIEW mekong_shard.plan_${id}_sink1_shard2" > /dev/null
if "$MEKONG" run p.yaml --shard 2 --dir shared-f --set DB=many -q &&
    "$MEKONG" merge p.yaml --dir shared-f --set DB=many -q && same_files &&
    [ "$(rows one exchange.cong_dan)" = "$(rows many exchange.cong_dan)" ] && [ "$(stages)" = 0 ]; then
    ok "sink-fails: the retry of shard 2 and the merge give one run's outputs and table"
else
    fail "sink-fails: after the retry: one run $(rows one exchange.cong_dan), shards $(rows many exchange.cong_dan)"
fi

# ---- the merge's transaction fails ---------------------------------------------------
DB=many q "TRUNCATE exchange.cong_dan" > /dev/null
rm -rf out shared-m
"$MEKONG" plan p.yaml --shards 4 --dir shared-m --set DB=many -q && shards shared-m
last=$(DB=postgres q "SELECT max(id) FROM dan_cu WHERE id % 10 <> 7 AND ho_ten IS NOT NULL AND tuoi >= 0 AND ho_ten !~ '[0-9]'")
DB=many q "INSERT INTO exchange.cong_dan (id, ho_ten) VALUES ($last, 'chặn')" > /dev/null
"$MEKONG" merge p.yaml --dir shared-m --set DB=many -q 2> merge-m.err
rc=$?
if [ $rc = 1 ] && grep -q "the table is as it was" merge-m.err && [ "$(stages)" = 4 ] &&
    [ "$(DB=many q "SELECT count(*) FROM exchange.cong_dan")" = 1 ] && [ ! -e out/out.csv ]; then
    ok "merge-fails: a key already in the target: exit 1, target unchanged, staging tables kept, no file published"
else
    fail "merge-fails: exit $rc, $(stages) staging tables, $(DB=many q "SELECT count(*) FROM exchange.cong_dan") rows: $(head -c 400 merge-m.err)"
fi
DB=many q "DELETE FROM exchange.cong_dan" > /dev/null
# shard 1 run again after it succeeded: it replaces its own staging table, nothing doubles
if "$MEKONG" run p.yaml --shard 1 --dir shared-m --set DB=many -q &&
    "$MEKONG" merge p.yaml --dir shared-m --set DB=many -q && same_files &&
    [ "$(rows one exchange.cong_dan)" = "$(rows many exchange.cong_dan)" ] && [ "$(stages)" = 0 ]; then
    ok "merge-fails: once the cause is gone (and shard 1 run again), the merge gives one run's table and outputs"
else
    fail "merge-fails: the merge after the fix differs from one run: $(stages) staging tables; one run $(rows one exchange.cong_dan), shards $(rows many exchange.cong_dan)"
fi

# ---- the table changed after the plan --------------------------------------------------
rm -rf shared-c
"$MEKONG" plan p.yaml --shards 4 --dir shared-c --set DB=many -q
lo=$(python3 -c 'import json; print(json.load(open("shared-c/plan.json"))["parts"][1]["from"])')
q "INSERT INTO dan_cu VALUES ($lo + 1, 'Mới Thêm', NULL, 30, 'HO0001')" > /dev/null 2>&1 ||
    q "INSERT INTO dan_cu VALUES ($lo + 2, 'Mới Thêm', NULL, 30, 'HO0001')" > /dev/null
"$MEKONG" run p.yaml --shard 1 --dir shared-c --set DB=many -q 2> changed.err
rc=$?
"$MEKONG" run p.yaml --shard 0 --dir shared-c --set DB=many -q 2> /dev/null
rc0=$?
if [ $rc = 1 ] && grep -q "changed since the shard plan" changed.err && grep -q "plan again\|make the plan again" changed.err && [ $rc0 = 0 ]; then
    ok "changed: a row added in shard 1's range after the plan: shard 1 refuses (exit 1), shard 0 runs"
else
    fail "changed: shard 1 exit $rc, shard 0 exit $rc0: $(cat changed.err)"
fi
q "DELETE FROM dan_cu WHERE ho_ten = 'Mới Thêm'" > /dev/null

# ---- csv source -> postgres sink, the table created by the merge ----------------------------
q "COPY (SELECT id, ho_ten, ghi_chu, CASE WHEN id % 499 = 0 THEN 'không rõ' ELSE tuoi::text END AS tuoi,
    ma_ho FROM dan_cu ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)" > dan_cu.csv
cat > c.yaml <<YAML
sources:
  - name: tep
    plugin: csv
    path: dan_cu.csv
sinks:
  - name: db
    plugin: postgres
    conninfo: "$CONN dbname=\${DB}"
    table: moi.cong_dan
    create: true
    types: { id: integer, tuoi: integer }
rejects: out/rejects.csv
report: out/report.json
YAML
for DB in one many; do q "CREATE SCHEMA moi" > /dev/null; done
DB=
rm -rf out shared-csv
one_by_one() { local i; for i in 0 1 2 3; do "$MEKONG" run "$1" --shard $i --dir "$2" --set DB=many -q || return 1; done; }
cols() { DB=$1 q "SELECT string_agg(attname || ' ' || format_type(atttypid, atttypmod), ', ' ORDER BY attnum)
    FROM pg_attribute WHERE attrelid = 'moi.cong_dan'::regclass AND attnum > 0 AND NOT attisdropped"; }
if "$MEKONG" run c.yaml --set DB=one -q && mv out single-csv &&
    "$MEKONG" plan c.yaml --shards 4 --dir shared-csv --set DB=many -q &&
    [ "$(DB=many q "SELECT to_regclass('moi.cong_dan') IS NULL")" = t ] &&
    one_by_one c.yaml shared-csv &&
    [ "$(DB=many q "SELECT to_regclass('moi.cong_dan') IS NULL")" = t ] &&
    "$MEKONG" merge c.yaml --dir shared-csv --set DB=many -q &&
    cmp -s single-csv/rejects.csv out/rejects.csv && [ "$(wc -l < out/rejects.csv)" -gt 30 ] &&
    [ "$(cols one)" = "$(cols many)" ] && [ "$(rows one moi.cong_dan)" = "$(rows many moi.cong_dan)" ]; then
    ok "csv-create: a csv source into a postgres sink with create: true: the merge creates the table; one run's table and rejects"
else
    fail "csv-create: one run $(cols one) $(rows one moi.cong_dan), shards $(cols many) $(rows many moi.cong_dan)"
fi

# ---- hostile identifiers: the target and a column named like SQL -----------------------------
python3 -c 'import sys
print("ma,\"t\u00ean \"\"a\"\"; --\"")
for i in range(3000): print("%d,%s" % (i, "Ph\u1ea1m %d" % i if i % 600 else ""))' > hostile.csv
cat > h.yaml <<YAML
sources: [ { name: tep, plugin: csv, path: hostile.csv } ]
sinks:
  - plugin: postgres
    conninfo: "$CONN dbname=\${DB}"
    table: '"Bảng ""x""; DROP TABLE dan_cu; --"'
rejects: out/rejects.csv
YAML
for DB in one many; do
    q 'CREATE TABLE "Bảng ""x""; DROP TABLE dan_cu; --" (ma int PRIMARY KEY, "tên ""a""; --" text NOT NULL)' > /dev/null
done
DB=
rm -rf out shared-h
hostile='"Bảng ""x""; DROP TABLE dan_cu; --"'
if "$MEKONG" run h.yaml --set DB=one -q && mv out single-h &&
    "$MEKONG" plan h.yaml --shards 2 --dir shared-h --set DB=many -q &&
    "$MEKONG" run h.yaml --shard 0 --dir shared-h --set DB=many -q &&
    "$MEKONG" run h.yaml --shard 1 --dir shared-h --set DB=many -q &&
    "$MEKONG" merge h.yaml --dir shared-h --set DB=many -q &&
    cmp -s single-h/rejects.csv out/rejects.csv && [ "$(wc -l < out/rejects.csv)" = 6 ] &&
    grep -qF 'of relation ""Bảng ""x""; DROP TABLE dan_cu; --"" violates' out/rejects.csv &&
    [ "$(rows one "$hostile")" = "$(rows many "$hostile")" ] && [ "$(q 'SELECT count(*) FROM dan_cu')" = 20000 ]; then
    ok "hostile: a target named like SQL and a column with quotes: one run's table and rejects (in the target's name)"
else
    fail "hostile: one run $(rows one "$hostile"), shards $(rows many "$hostile"): $(head -3 out/rejects.csv)"
fi

# ---- a table of fewer rows than shards x batch_rows, not a multiple of a batch ------------------
q "CREATE TABLE klein (id int PRIMARY KEY, v text); INSERT INTO klein SELECT g, 'giá trị ' || g FROM generate_series(1, 1000) g" > /dev/null
cat > k.yaml <<YAML
sources:
  - plugin: postgres
    conninfo: "$CONN dbname=postgres"
    table: klein
    shard_key: id
sinks:
  - plugin: csv
    path: out/out.csv
rejects: out/rejects.csv
YAML
k_shards() { local i; for i in 0 1 2 3; do "$MEKONG" run k.yaml --shard $i --dir shared-k -q 2>> k.err || return 1; done; }
rm -rf out shared-k && "$MEKONG" run k.yaml -q && mv out/out.csv single-k.csv
if "$MEKONG" plan k.yaml --shards 4 --dir shared-k -q 2> k.err && k_shards &&
    "$MEKONG" merge k.yaml --dir shared-k -q 2>> k.err && cmp -s single-k.csv out/out.csv; then
    ok "small: 1000 rows in 4 shards of whole 1024-row batches (a cut near the end rounds down, not past the last row): one run's output"
else
    fail "small: $(head -3 k.err); $(grep '"shard"' shared-k/plan.json)"
fi

# ---- what the plan refuses ---------------------------------------------------------------
q "CREATE TABLE lap (k int, v text); INSERT INTO lap VALUES (1, 'a'), (1, 'b'), (NULL, 'c')" > /dev/null
refuse() { # NAME WANT SED-EXPRESSION
    sed "$3" p.yaml > r.yaml
    "$MEKONG" plan r.yaml --shards 4 --dir "shared-r" --set DB=many -q 2> r.err
    local rc=$?
    if [ $rc != 0 ] && grep -q "$2" r.err; then
        ok "refused: $1 (exit $rc)"
    else
        fail "refused: $1: exit $rc: $(cat r.err)"
    fi
}
refuse "a query source" "not a query\|reads a query" 's/^    table: dan_cu/    query: "SELECT * FROM dan_cu"/'
refuse "no shard_key" "needs shard_key" '/shard_key: id/d'
refuse "NULL keys" "is NULL in 1 of the 3 rows" 's/table: dan_cu/table: lap/; s/shard_key: id/shard_key: k/'
q "DELETE FROM lap WHERE k IS NULL" > /dev/null
refuse "a key that repeats" "is not unique" 's/table: dan_cu/table: lap/; s/shard_key: id/shard_key: k/'
finished=1
