#!/usr/bin/env bash
# shards-pg-inc.sh -- an incremental postgres source (incremental: [c1, ...])
# in shards (issue 14; docs/SCALE.md "Incremental sources", docs/POSTGRES.md
# "Shards"), against a throwaway cluster (tests/pg/lib.sh).  One table of
# events is read night after night by one run (folder one/, database one)
# and by shards (folder many/, database many): the same pipeline file, each
# folder with its own state file.
#
#   night-V-N   variant V (ts: incremental [updated_at], 4 shards, many rows
#               share a time; ts-id: [updated_at, id] with lookback, 3 shards),
#               night N: rows added, rows at the mark's time, a row updated to
#               an older time and one to a newer, a night of fewer rows than a
#               batch (empty shards), a night of none -- the csv output, the
#               rejects, the report, the state file's mark and the target table
#               as one run's
#   cuts        a cut falls between rows that share the incremental value
#   late        rows committed after the plan are read neither by the shards
#               nor by the merge's mark: the next night reads them
#   early       a merge before every shard finished: refused, mark unchanged
#   merge-fails the merge fails (a staging table gone): mark unchanged; after
#               the shard runs again, the merge gives one run's mark
#   changed     the state advanced after the plan: the merge refuses
#   full        plan --full-refresh: every row, the new mark, as run --full-refresh
#   refused     NULL in an incremental column; plan --full-refresh of a csv source
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${MEKONG_BUILD:-$SRC}
MEKONG=${MEKONG:-$BUILD/engine/mekong}
. "$SRC/tests/shards/lib.sh"
. "$SRC/tests/pg/lib.sh"

pg_script_begin shards-pg-inc
cd "$work" || exit 1
ok() { echo "ok - shards-pg-inc: $*"; }
fail() { echo "not ok - shards-pg-inc: $*"; }
q() { psql -X -q -v ON_ERROR_STOP=1 -At -d "${DB:-postgres}" -c "$1"; }

# add N FIRST_ID MINUTE: N events from id FIRST_ID, 40 to a minute from MINUTE
# (so many share updated_at), Vietnamese names, some rows lua rejects
# (a digit in the name) and PostgreSQL refuses (amount < 0)
add() {
    q "INSERT INTO ev (id, updated_at, ten, amount)
       SELECT g, timestamptz '2026-01-01 00:00:00+00' + (($3 + (g - $2) / 40) || ' minutes')::interval,
              CASE WHEN g % 97 = 0 THEN 'Tên ' || g ELSE (ARRAY['Nguyễn Văn An', 'Trần Thị Bích',
              'Lê Hoàng Đức', 'Phạm Thu Hà'])[g % 4 + 1] END,
              CASE WHEN g % 89 = 0 THEN -1 ELSE g % 1000 END
       FROM generate_series($2, $2 + $1 - 1) g" > /dev/null
}
q "CREATE TABLE ev (id int PRIMARY KEY, updated_at timestamptz NOT NULL, ten text, amount int)" > /dev/null
q "CREATE DATABASE one" > /dev/null && q "CREATE DATABASE many" > /dev/null
for DB in one many; do
    q "CREATE TABLE ev_copy (id int PRIMARY KEY, updated_at timestamptz, ten text,
        amount int CHECK (amount >= 0), nguon text, ban_ghi bigint)" > /dev/null
done
DB=
mkdir -p one many
cat > one/rules.lua <<'LUA'
function process(row)
  check("ten.chu_so", row.ten == nil or not row.ten:find("%d"), "tên có chữ số")
end
LUA
cp one/rules.lua many/rules.lua
CONN="host=\${PGHOST} port=\${PGPORT} user=mk"
# pipeline VARIANT [SOURCE-EXTRA]: p.yaml in one/ and many/
pipeline() {
    local inc="[updated_at]" extra=
    [ "$1" = ts-id ] && inc="[updated_at, id]" && extra="    lookback: 2 minutes"
    local f
    for f in one/p.yaml many/p.yaml; do
        cat > $f <<YAML
name: ev
batch_rows: 256
sources:
  - name: ev
    plugin: postgres
    conninfo: "$CONN dbname=postgres"
    table: ev
    shard_key: id
    incremental: $inc
$extra
${2:-}
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
    table: ev_copy
    mode: upsert
    key: [id]
rejects: out/rejects.csv
report: out/report.json
YAML
    done
}
# mark DIR: the source's entry of the state file (not its "saved" time)
mark() {
    python3 -c 'import json,sys
try:
    s = json.load(open(sys.argv[1]))
except FileNotFoundError:
    print("none"); sys.exit(0)
print(json.dumps(s["steps"].get("ev"), sort_keys=True))' "${2:-$1/.mekong/ev/state.json}"
}
rows() { DB=$1 q "SELECT md5(string_agg(t::text, E'\n' ORDER BY t::text)), count(*) FROM ev_copy t"; }
single() { # [FLAGS]: one run in one/
    (cd one && rm -rf out && "$MEKONG" run p.yaml --set DB=one -q "$@")
}
SHARDS=4
plan() { (cd many && rm -rf shared out && "$MEKONG" plan p.yaml --shards $SHARDS --dir shared --set DB=many -q "$@"); }
shard() { (cd many && "$MEKONG" run p.yaml --shard "$1" --dir shared --set DB=many -q); }
merge() { (cd many && "$MEKONG" merge p.yaml --dir shared --set DB=many -q); }
shards() { # all shards at once; 0 when every one succeeded
    local pids=() i failed=0
    for ((i = 0; i < SHARDS; i++)); do
        shard $i 2> "shard-$i.err" &
        pids+=($!)
    done
    for i in "${pids[@]}"; do wait "$i" || failed=1; done
    return $failed
}
same() { # WHAT: outputs, rejects, report, mark and table as one run's
    local f
    for f in out.csv rejects.csv; do
        cmp -s "one/out/$f" "many/out/$f" || { echo "$f differs: $(diff one/out/$f many/out/$f | head -4)"; return 1; }
    done
    [ "$(shard_strip one/out/report.json)" = "$(shard_strip many/out/report.json)" ] ||
        { echo "report differs: $(diff <(shard_strip one/out/report.json) <(shard_strip many/out/report.json) | head -10)"; return 1; }
    [ "$(mark one)" = "$(mark many)" ] || { echo "mark $(mark one) (one run) vs $(mark many) (shards)"; return 1; }
    [ "$(rows one)" = "$(rows many)" ] || { echo "table ev_copy $(rows one) (one run) vs $(rows many)"; return 1; }
}
read_of() { python3 -c 'import json,sys; r = json.load(open(sys.argv[1])); print(r["rows_read"] if "rows_read" in r else r["totals"]["read"])' "$1" 2>/dev/null || echo "?"; }
# night NAME: one run, then plan + shards + merge; compare
night() {
    local why
    if ! single 2> single.err; then
        fail "$1: the single run failed: $(head -3 single.err)"
    elif ! { plan 2> plan.err && shards && merge 2> merge.err; }; then
        fail "$1: plan, a shard or the merge failed: $(cat plan.err shard-*.err merge.err | head -5)"
    elif ! why=$(same); then
        fail "$1: $why"
    else
        ok "$1: $SHARDS shards + merge: csv ($(($(wc -l < one/out/out.csv) - 1)) rows), rejects ($(wc -l < one/out/rejects.csv) lines), report, mark $(mark one | cut -c1-80) and table as one run's"
    fi
}

# ---- variant ts: incremental [updated_at], ties everywhere ---------------------------
pipeline ts
add 5000 1 0                           # night 1: no mark yet
night "night-ts-1"
if python3 - many/shared/plan.json <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
parts = p["parts"]
# a cut between rows of one updated_at: the part before ends, the next starts, at the same time
ties = any(a["upto"] and b["after"] and a["upto"][0] == b["after"][0] and b["rows"]
           for a, b in zip(parts, parts[1:]))
ok = (p["mark"]["from"] is None and p["mark"]["next"]["values"] == [parts[-1]["upto"][0]]
      and all(x["record"] % 256 == 0 for x in parts) and sum(x["rows"] for x in parts) == 5000)
sys.exit(0 if ties and ok else 1)
PY
then
    ok "cuts: at whole batches, between rows that share updated_at (split by shard_key), the last tuple is the next mark"
else
    fail "cuts: plan.json: $(head -c 900 many/shared/plan.json)"
fi
# night 2: more rows, and rows at the mark's very time (above it by id only: neither reads them)
last=$(q "SELECT max(updated_at) FROM ev")
q "INSERT INTO ev SELECT 100000 + g, '$last', 'Cùng giờ', 5 FROM generate_series(1, 30) g" > /dev/null
add 3000 5001 200
night "night-ts-2"
# night 3: a row updated to an older time (missed by both), one to a newer (read again), new rows
q "UPDATE ev SET updated_at = '2026-01-01 00:10:00+00', ten = 'Lùi giờ' WHERE id = 6000" > /dev/null
q "UPDATE ev SET updated_at = updated_at + interval '1 day', ten = 'Sửa lại' WHERE id = 17" > /dev/null
add 2000 8001 1000
night "night-ts-3"
# night 4: fewer rows than a batch: the first shards are empty
add 100 10001 2000
night "night-ts-4"
if grep -q '"after": null, "upto": null, "record": 0, "rows": 0' many/shared/plan.json; then
    ok "empty: a shard with no rows has no bounds and reads none"
else
    fail "empty: plan.json: $(head -c 900 many/shared/plan.json)"
fi
# night 5: nothing new: the mark stays
before=$(mark one)
night "night-ts-5"
[ "$(mark one)" = "$before" ] && [ "$(mark many)" = "$before" ] &&
    ok "none: a night without new rows keeps the mark" ||
    fail "none: the mark moved: $(mark one) / $(mark many)"

# ---- late rows: committed between the plan and the shards -----------------------------------
add 700 10101 3000
single 2> single.err
plan 2> plan.err
add 300 10801 3100                     # after the plan (one run never saw them either)
if shards && merge 2> merge.err && why=$(same); then
    ok "late: rows committed after the plan are left out; the mark is the plan's last row"
else
    fail "late: ${why:-$(cat shard-*.err merge.err | head -5)}"
fi
night "late-next"                      # the next night reads them
[ "$(python3 -c 'import json; print(json.load(open("many/out/report.json"))["totals"]["read"])' 2>/dev/null)" = 300 ] &&
    ok "late: the next night reads the 300 late rows" ||
    fail "late: the next night read $(grep -o '"read": [0-9]*' many/out/report.json | head -1)"

# ---- a merge before every shard finished; a merge that fails -----------------------------
add 1500 11101 4000
single 2> single.err
before=$(mark many)
plan 2> plan.err
for i in 0 1 2; do shard $i 2> "shard-$i.err"; done
if ! merge 2> merge.err && grep -q "not every shard" merge.err && [ "$(mark many)" = "$before" ]; then
    ok "early: a merge before shard 3 ran is refused; the mark stays"
else
    fail "early: exit 0 or the mark moved: $(cat merge.err | head -3)"
fi
shard 3 2> shard-3.err
stage=$(DB=many q "SELECT tablename FROM pg_tables WHERE schemaname = 'mekong_shard' AND tablename LIKE 'plan%shard1'")
DB=many q "DROP TABLE mekong_shard.\"$stage\"" > /dev/null
if ! merge 2> merge.err && [ "$(mark many)" = "$before" ] && [ ! -e many/out/out.csv ]; then
    ok "merge-fails: a merge whose postgres sink fails publishes nothing and leaves the mark"
else
    fail "merge-fails: $(cat merge.err | head -3); mark $(mark many)"
fi
if shard 1 2> shard-1.err && merge 2> merge.err && why=$(same); then
    ok "merge-fails: after shard 1 ran again the merge gives one run's outputs and mark"
else
    fail "merge-fails: the retry: ${why:-$(cat shard-1.err merge.err | head -3)}"
fi

# ---- the state advanced after the plan -------------------------------------------------------
add 500 12601 5000
plan 2> plan.err && shards
add 200 13101 5100                     # then a run reads them too: its mark is not the plan's
(cd many && "$MEKONG" run p.yaml --set DB=many -q 2> ../run.err) # one run advances the mark
if ! merge 2> merge.err && grep -q "changed since the plan" merge.err; then
    ok "changed: the mark advanced after the plan: the merge refuses"
else
    fail "changed: $(cat merge.err | head -3)"
fi
# back in step: one/ reads these rows too
single 2> single.err

# ---- --full-refresh ---------------------------------------------------------------------------
single --full-refresh 2> single.err
if plan --full-refresh 2> plan.err && shards && merge 2> merge.err && why=$(same) &&
    [ "$(python3 -c 'import json; print(json.load(open("many/out/report.json"))["totals"]["read"])')" = "$(q 'SELECT count(*) FROM ev')" ]; then
    ok "full: plan --full-refresh reads every row and saves the new mark, as run --full-refresh"
else
    fail "full: ${why:-$(cat plan.err shard-*.err merge.err | head -5)}"
fi

# ---- variant ts-id: incremental [updated_at, id], lookback, 3 shards, state: file ---------------
SHARDS=3
q "TRUNCATE ev" > /dev/null
for DB in one many; do q "TRUNCATE ev_copy" > /dev/null; done
DB=
rm -rf one/.mekong many/.mekong
pipeline ts-id "    state: marks/ev.json"
mark() {
    python3 -c 'import json,sys
try:
    s = json.load(open(sys.argv[1]))
except FileNotFoundError:
    print("none"); sys.exit(0)
print(json.dumps(s["steps"].get("ev"), sort_keys=True))' "$1/marks/ev.json"
}
add 4000 1 0
night "night-ts-id-1"
last=$(q "SELECT max(updated_at) FROM ev")
q "INSERT INTO ev SELECT 100000 + g, '$last', 'Cùng giờ', 5 FROM generate_series(1, 30) g" > /dev/null
add 2500 4001 101                      # within lookback of the mark: rows read again
night "night-ts-id-2"
q "UPDATE ev SET updated_at = '2026-01-01 00:10:00+00' WHERE id = 4500" > /dev/null
q "UPDATE ev SET updated_at = updated_at + interval '1 day', ten = 'Sửa lại' WHERE id = 9" > /dev/null
add 1000 6501 170
night "night-ts-id-3"
add 50 7501 3000
night "night-ts-id-4"
[ -e many/marks/ev.json ] && [ ! -e many/.mekong/ev/state.json ] &&
    ok "state: the source's state: file holds the mark (shards and merge alike)" ||
    fail "state: the mark is not in the source's state: file"

# ---- refused ---------------------------------------------------------------------------------
q "CREATE TABLE ev_null (id int PRIMARY KEY, updated_at timestamptz, ten text, amount int);
   INSERT INTO ev_null SELECT g, CASE WHEN g % 10 = 0 THEN NULL ELSE now() END, 'x', 1 FROM generate_series(1, 100) g" > /dev/null
sed -i 's/^    table: ev$/    table: ev_null/' many/p.yaml
rm -rf many/marks
if ! plan 2> plan.err && grep -q "NULL in 10 of the 100 rows" plan.err; then
    ok "refused: NULL in an incremental column (exit 1, the count said)"
else
    fail "refused: NULL marks: $(cat plan.err)"
fi
mkdir -p c && printf 'a,b\n1,2\n' > c/in.csv
cat > c/p.yaml <<'YAML'
sources:
  - plugin: csv
    path: in.csv
    incremental: true
sinks:
  - plugin: csv
    path: out.csv
rejects: rejects.csv
YAML
(cd c && "$MEKONG" plan p.yaml --shards 2 --dir shared --full-refresh -q 2> ../c.err)
rc=$?
if [ $rc = 2 ] && grep -q "state --reset" c.err; then
    ok "refused: plan --full-refresh of a csv source (exit 2, mekong state --reset said)"
else
    fail "refused: csv --full-refresh: exit $rc: $(cat c.err)"
fi
finished=1
