#!/usr/bin/env bash
# shards-slurm.sh -- one pipeline as 4 shards through a real Slurm (issue
# 14): a single-node cluster started here (munged, slurmctld -D, slurmd -D
# with a generated slurm.conf on free loopback ports; no systemd), stopped
# at the end.  Skips when the Debian packages slurm-wlm and munge are not
# installed.
#
#   slurm-union    plan, `sbatch --array=0-3` running --shard auto, and the
#                  merge with --dependency=afterok: a large TCVN3 file (CRLF,
#                  quoted line breaks, rejected rows) and a glob of files give
#                  one run's outputs, rejects and report totals
#   slurm-dedupe-tcvn3, slurm-dedupe-files
#                  the same inputs through a dedupe step: the keys, decide
#                  and shard arrays and the merge, chained by afterok
#   slurm-retry    array task 2 killed (-9) on its first attempt: the merge
#                  job never runs and nothing is published; `sbatch --array=2`
#                  again, then the merge: one run's outputs
#   slurm-dedupe   a pipeline with a dedupe step: plan, the keys array, the
#                  decide array, the shard array and the merge, each after the
#                  one before (--dependency=afterok), over a large file with
#                  duplicates across shards: one run's outputs and totals;
#                  contrib/scale/slurm.sh submits the same chain by itself
#   slurm-pg       a PostgreSQL table (its own throwaway cluster, tests/pg/lib.sh)
#                  read by key ranges, through a dedupe step, into csv and a
#                  postgres sink: the keys, decide and shard arrays (4 tasks
#                  each) and the merge, chained by afterok, give one run's
#                  csv, rejects, totals and target table (skipped without
#                  PostgreSQL or the plugin)
set -u
SRC=${MEKONG_SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
MEKONG=${MEKONG:-$SRC/engine/mekong}
. "$SRC/tests/pg/lib.sh"
for tool in munged mungekey slurmctld slurmd sbatch sinfo squeue; do
    if ! command -v "$tool" > /dev/null && [ ! -x "/usr/sbin/$tool" ]; then
        echo "# skip: shards-slurm: $tool not found (apt-get install slurm-wlm munge)"
        exit 0
    fi
done
PATH=$PATH:/usr/sbin
# Under AddressSanitizer, LeakSanitizer cannot stop the world inside a Slurm
# step here (it dies with "Tracer caught signal 11", now and then); the jobs
# inherit this environment, so their leak checks are off.  The same code's
# leaks are checked outside Slurm (shards.sh, shards-pg.sh, shards-state.sh).
if [ -n "${ASAN_OPTIONS:-}" ]; then
    export ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0"
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/mekong-slurm.XXXXXX")
chmod 755 "$work"
pids=()
stop() {
    # the jobs are over (slurm_round waits); their slurmstepd exit within a second
    for _ in $(seq 20); do [ -z "$(ls "$work/spool" 2> /dev/null | grep -v -e '^cred_state' -e '^hwloc')" ] && break; sleep 0.2; done
    for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null; done
    for pid in "${pids[@]}"; do wait "$pid" 2> /dev/null; done
    if [ -f "$work/munge/pid" ]; then # munged is not our child: wait for it to go
        local m
        m=$(cat "$work/munge/pid")
        kill "$m" 2> /dev/null
        for _ in $(seq 50); do kill -0 "$m" 2> /dev/null || break; sleep 0.1; done
    fi
    pg_stop
    rm -rf "$work"
}
trap stop EXIT
cd "$work" || exit 1
ok() { echo "ok - shards-slurm: $*"; }
fail() { echo "not ok - shards-slurm: $*"; }

# ---- the cluster -----------------------------------------------------------
mkdir -p munge spool state logs && chmod 700 munge
mungekey --create --keyfile="$work/munge/key" > /dev/null 2>&1 && chmod 600 munge/key
munged --key-file="$work/munge/key" --socket="$work/munge/sock" --pid-file="$work/munge/pid" \
    --log-file="$work/munge/log" --seed-file="$work/munge/seed" --force 2> munge/err ||
    { fail "munged does not start: $(head -2 munge/err)"; exit 0; }
port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
node=$(hostname -s)
cat > slurm.conf <<EOF
ClusterName=mekongtest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$(port)
SlurmdPort=$(port)
AuthType=auth/munge
AuthInfo=socket=$work/munge/sock
CredType=cred/munge
SlurmUser=$(id -un)
SlurmdUser=$(id -un)
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
MpiDefault=none
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
MinJobAge=600
NodeName=$node NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF=$work/slurm.conf
slurmctld -D -f "$SLURM_CONF" > ctld.out 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" > slurmd.out 2>&1 &
pids+=($!)
for _ in $(seq 60); do
    sinfo -h -o %t 2> /dev/null | grep -q idle && break
    sleep 0.5
done
if ! sinfo -h -o %t 2> /dev/null | grep -q idle; then
    fail "the Slurm node does not come up: $(tail -3 slurmctld.log slurmd.log 2> /dev/null | tr '\n' ' ')"
    exit 0
fi

# ---- inputs and pipeline (as tests/scripts/shards.sh) ---------------------------
PYTHONPATH="$SRC/tests/data/encodings" python3 - <<'PYTHON' || { fail "inputs"; exit 0; }
import os, random, vnenc
random.seed(41)
names = ["Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Đức", "Phạm Thu Hà"]
def rows(n, first):
    out = []
    for i in range(first, first + n):
        r = random.random()
        if r < 0.05:
            out.append('%d,"%s","dòng một\ndòng hai, ""trích"""' % (i, names[i % 4]))
        elif r < 0.07:
            out.append('%d,%s' % (i, names[i % 4]))
        elif r < 0.08:
            out.append('')
        else:
            out.append('%d,%s,ghi chú %d' % (i, names[i % 4], i))
    return out
text = "\r\n".join(["ma,ten,ghi_chu"] + rows(20000, 1)) + "\r\n"
open("one-tcvn3.csv", "wb").write(vnenc.encode(text, "tcvn3"))
os.mkdir("many")
first = 1
for k, n in enumerate([3000, 10, 7000, 1, 2500, 4000]):
    open("many/part-%d.csv" % k, "w", newline="").write(
        "\n".join(["ma,ten,ghi_chu"] + rows(n, first)) + "\n")
    first += n
random.seed(4141)
out = ["ma,cccd,ten"]
for i in range(1, 40001):
    key = "" if random.random() < 0.02 else "0790%08d" % random.randint(1, 9000)
    out.append('%d,%s,"%s\ndòng hai"' % (i, key, names[i % 4]) if random.random() < 0.02
               else '%d,%s,%s' % (i, key, names[i % 4]))
open("dd.csv", "w", newline="").write("\n".join(out) + "\n")
PYTHON
cat > p.yaml <<'YAML'
sources:
  - name: in
    plugin: csv
    path: ${IN}
    encoding: ${ENC}
transforms:
  - plugin: map
    provenance: { source: src, file: source_file, record: source_row, line: source_line }
sinks:
  - plugin: csv
    path: out/out.csv
  - plugin: jsonl
    path: out/out.jsonl
rejects: out/rejects.csv
report: out/report.json
YAML
totals() { python3 -c 'import json,sys; r = json.load(open(sys.argv[1])); print(r["totals"], [s["rows_written"] for s in r["sinks"]])' "$1"; }

# slurm_round NAME DIR ARRAY SHARD WRAP_PREFIX: the array, then the merge after it; waits
# (the pipeline file: $pipe, p.yaml unless set)
slurm_round() {
    local array merge
    array=$(sbatch --parsable --array="$3" --output="$work/logs/$1-%a.log" \
        --wrap="$5 exec '$MEKONG' run ${pipe:-p.yaml} --shard $4 --dir '$2' ${vars[*]} -q") || return 1
    merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=yes \
        --output="$work/logs/$1-merge.log" \
        --wrap="exec '$MEKONG' merge ${pipe:-p.yaml} --dir '$2' ${vars[*]} -q") || return 1
    for _ in $(seq 240); do
        [ -z "$(squeue -h -j "$array,$merge" 2> /dev/null)" ] && return 0
        sleep 0.5
    done
    return 1
}

union() { # NAME IN ENC
    vars=(--set "'IN=$2'" --set "ENC=$3")
    rm -rf out && "$MEKONG" run p.yaml --set "IN=$2" --set "ENC=$3" -q && mv out "single-$1"
    "$MEKONG" plan p.yaml --shards 4 --dir "shared-$1" --set "IN=$2" --set "ENC=$3" -q
    if ! slurm_round "$1" "$work/shared-$1" 0-3 auto ""; then
        fail "slurm-union-$1: the jobs did not finish in 120 s"
        return
    fi
    local f
    for f in out.csv out.jsonl rejects.csv; do
        cmp -s "single-$1/$f" "out/$f" || { fail "slurm-union-$1: $f differs from one run's"; return; }
    done
    if [ "$(totals "single-$1/report.json")" = "$(totals out/report.json)" ]; then
        ok "slurm-union-$1: 4 array tasks and an afterok merge give one run's outputs and totals"
    else
        fail "slurm-union-$1: report totals differ"
    fi
}
union tcvn3 one-tcvn3.csv tcvn3
union files 'many/*.csv' utf-8

# the same inputs through a dedupe step: four stages, each array after the one before
sed 's/^sinks:/  - { plugin: dedupe, key: [ten, ghi_chu] }\nsinks:/' p.yaml > pdd.yaml
union_dd() { # NAME IN ENC
    local v=(--set "IN=$2" --set "ENC=$3") d="'$work/shared-$1'" keys decide shards merge finished=0
    rm -rf out && "$MEKONG" run pdd.yaml "${v[@]}" -q && mv out "single-$1" ||
        { fail "slurm-$1: the single run failed"; return; }
    "$MEKONG" plan pdd.yaml --shards 4 --dir "$work/shared-$1" "${v[@]}" -q || { fail "slurm-$1: plan"; return; }
    keys=$(sbatch_after "$1-keys" "" run pdd.yaml --stage keys --shard auto --dir "$d" --set "\"IN=$2\"" --set "ENC=$3")
    decide=$(sbatch_after "$1-decide" "$keys" run pdd.yaml --stage decide --shard auto --dir "$d" --set "\"IN=$2\"" --set "ENC=$3")
    shards=$(sbatch_after "$1-shards" "$decide" run pdd.yaml --shard auto --dir "$d" --set "\"IN=$2\"" --set "ENC=$3")
    merge=$(sbatch --parsable --dependency="afterok:$shards" --kill-on-invalid-dep=yes --output="$work/logs/$1-merge.log" \
        --wrap="exec '$MEKONG' merge pdd.yaml --dir $d --set \"IN=$2\" --set ENC=$3 -q")
    for _ in $(seq 240); do
        [ -z "$(squeue -h -j "$keys,$decide,$shards,$merge" 2> /dev/null)" ] && { finished=1; break; }
        sleep 0.5
    done
    local f
    [ $finished = 1 ] || { fail "slurm-$1: the four stages did not finish in 120 s"; return; }
    for f in out.csv out.jsonl rejects.csv; do
        cmp -s "single-$1/$f" "out/$f" || { fail "slurm-$1: $f differs from one run's"; return; }
    done
    if [ "$(totals "single-$1/report.json")" = "$(totals out/report.json)" ] &&
        [ "$(grep -c 'was seen first' out/rejects.csv)" -gt 100 ]; then
        ok "slurm-$1: with a dedupe step, keys, decide and shard arrays and the afterok merge give one run's outputs and totals"
    else
        fail "slurm-$1: report totals differ, or too few duplicates"
    fi
}

# task 2 killed on its first attempt
vars=(--set "IN=one-tcvn3.csv" --set "ENC=tcvn3")
rm -rf out
"$MEKONG" plan p.yaml --shards 4 --dir "$work/shared-k" "${vars[@]}" -q
kill2='if [ "$SLURM_ARRAY_TASK_ID" = 2 ] && [ ! -e '"$work"'/killed ]; then touch '"$work"'/killed; kill -9 $$; fi;'
slurm_round killed "$work/shared-k" 0-3 auto "$kill2"
first_out=$(ls out 2> /dev/null)
if [ -e killed ] && [ -z "$first_out" ]; then
    # sbatch --array=2 alone has SLURM_ARRAY_TASK_MIN=2: the retry names its shard
    slurm_round retry "$work/shared-k" 2 2 ""
    if cmp -s single-tcvn3/out.csv out/out.csv && cmp -s single-tcvn3/rejects.csv out/rejects.csv &&
        [ "$(totals single-tcvn3/report.json)" = "$(totals out/report.json)" ]; then
        ok "slurm-retry: task 2 killed: no merge, nothing published; its retry and the merge give one run"
    else
        fail "slurm-retry: after the retry the outputs are not one run's"
    fi
else
    fail "slurm-retry: the killed task left outputs published (or was not killed): $first_out"
fi

# ---- dedupe across shards: four chained stages -----------------------------------
cat > dd.yaml <<'YAML'
sources: [ { name: in, plugin: csv, path: dd.csv } ]
transforms:
  - plugin: map
    provenance: { record: source_row, line: source_line }
  - plugin: dedupe
    key: [cccd]
sinks:
  - plugin: csv
    path: out/out.csv
rejects: out/rejects.csv
report: out/report.json
YAML
rm -rf out
"$MEKONG" run dd.yaml -q && mv out single-dd
"$MEKONG" plan dd.yaml --shards 4 --dir "$work/shared-dd" -q
# sbatch_after NAME DEPENDENCY ARGS...: an array 0-3 of mekong ARGS (after DEPENDENCY); its job id
sbatch_after() {
    local name=$1 dep=$2
    shift 2
    sbatch --parsable --array=0-3 ${dep:+--dependency=afterok:$dep --kill-on-invalid-dep=yes} \
        --output="$work/logs/dd-$name-%a.log" --wrap="exec '$MEKONG' $* -q"
}
keys=$(sbatch_after keys "" run dd.yaml --stage keys --shard auto --dir "'$work/shared-dd'")
decide=$(sbatch_after decide "$keys" run dd.yaml --stage decide --shard auto --dir "'$work/shared-dd'")
shards=$(sbatch_after shards "$decide" run dd.yaml --shard auto --dir "'$work/shared-dd'")
merge=$(sbatch --parsable --dependency="afterok:$shards" --kill-on-invalid-dep=yes \
    --output="$work/logs/dd-merge.log" --wrap="exec '$MEKONG' merge dd.yaml --dir '$work/shared-dd' -q")
done=0
for _ in $(seq 240); do
    [ -z "$(squeue -h -j "$keys,$decide,$shards,$merge" 2> /dev/null)" ] && { done=1; break; }
    sleep 0.5
done
if [ $done = 0 ] || [ -z "$merge" ]; then
    fail "slurm-dedupe: the four stages did not finish in 120 s"
elif cmp -s single-dd/out.csv out/out.csv && cmp -s single-dd/rejects.csv out/rejects.csv &&
    [ "$(totals single-dd/report.json)" = "$(totals out/report.json)" ] &&
    [ "$(grep -c 'was seen first' out/rejects.csv)" -gt 1000 ]; then
    ok "slurm-dedupe: keys, decide and shard arrays and the merge chained by afterok give one run's outputs"
else
    fail "slurm-dedupe: the outputs of the four stages differ from one run's"
    tail -3 "$work"/logs/dd-*.log
fi

union_dd dedupe-tcvn3 one-tcvn3.csv tcvn3
union_dd dedupe-files 'many/*.csv' utf-8

# contrib/scale/slurm.sh chains the four stages itself
rm -rf out
PATH="$(dirname "$MEKONG"):$PATH" bash "$SRC/contrib/scale/slurm.sh" dd.yaml "$work/shared-c" 4 > contrib.out 2>&1
done=0
for _ in $(seq 240); do
    [ -z "$(squeue -h 2> /dev/null)" ] && { done=1; break; }
    sleep 0.5
done
if [ $done = 1 ] && grep -q '^keys: job' contrib.out && cmp -s single-dd/out.csv out/out.csv &&
    cmp -s single-dd/rejects.csv out/rejects.csv; then
    ok "slurm-contrib: contrib/scale/slurm.sh submits keys, decide, shards and merge; one run's outputs"
else
    fail "slurm-contrib: contrib/scale/slurm.sh: $(tail -3 contrib.out | tr '\n' ' ')"
fi

# ---- PostgreSQL input: key ranges of a table --------------------------------------
pg_case() {
    if ! "$MEKONG" plugins 2> /dev/null | grep -q '^postgres ' && [ ! -f "$SRC/plugins/postgres/.libs/postgres.so" ]; then
        echo "# skip: shards-slurm: slurm-pg: the postgres plugin is not built"
        return
    fi
    local why
    if ! why=$(pg_have_server); then
        echo "# skip: shards-slurm: slurm-pg: $why"
        return
    fi
    pg_start 2> pg-start.err || { fail "slurm-pg: cannot start PostgreSQL: $(tail -3 pg-start.err)"; return; }
    pg_psql "CREATE TABLE dan_cu AS SELECT g * 7 + g % 5 AS id,
        CASE WHEN g % 97 = 0 THEN NULL ELSE (ARRAY['Nguyễn Văn An', 'Trần Thị Bích', 'Lê Hoàng Đức',
          'Phạm Thu Hà'])[g % 4 + 1] || ' ' || g END AS ho_ten,
        CASE WHEN g % 3 = 0 THEN NULL WHEN g % 3 = 1 THEN '' ELSE 'ghi chú ' || g END AS ghi_chu,
        CASE WHEN g % 211 = 0 THEN -1 ELSE g % 90 END AS tuoi,
        'HO' || lpad((g % 3000)::text, 4, '0') AS ma_ho
      FROM generate_series(1, 20000) g; ALTER TABLE dan_cu ADD PRIMARY KEY (id)" > /dev/null &&
        pg_psql "CREATE DATABASE one" > /dev/null && pg_psql "CREATE DATABASE many" > /dev/null ||
        { fail "slurm-pg: the tables"; return; }
    local db
    for db in one many; do
        psql -X -q -d $db -c "CREATE TABLE cong_dan (id int PRIMARY KEY, ho_ten text NOT NULL,
            ghi_chu text, tuoi int CHECK (tuoi >= 0), ma_ho text, nguon text, ban_ghi bigint)" > /dev/null
    done
    cat > pg.yaml <<'YAML'
sources:
  - name: dan_cu
    plugin: postgres
    conninfo: "host=${PGHOST} port=${PGPORT} user=mk dbname=postgres"
    table: dan_cu
    shard_key: id
transforms:
  - { plugin: dedupe, key: [ma_ho] }
  - plugin: map
    provenance: { source: nguon, record: ban_ghi }
sinks:
  - plugin: csv
    path: out/out.csv
  - plugin: postgres
    conninfo: "host=${PGHOST} port=${PGPORT} user=mk dbname=${DB}"
    table: cong_dan
rejects: out/rejects.csv
report: out/report.json
YAML
    rm -rf out && "$MEKONG" run pg.yaml --set DB=one -q && mv out single-pg ||
        { fail "slurm-pg: the single run failed"; return; }
    pipe=pg.yaml
    vars=(--set DB=many)
    "$MEKONG" plan pg.yaml --shards 4 --dir shared-pg --set DB=many -q || { fail "slurm-pg: plan"; return; }
    # the four stages of a pipeline with a dedupe step, each array after the one before
    local keys decide shards merge d="'$work/shared-pg'" finished=0
    keys=$(sbatch_after pg-keys "" run pg.yaml --stage keys --shard auto --dir "$d" --set DB=many)
    decide=$(sbatch_after pg-decide "$keys" run pg.yaml --stage decide --shard auto --dir "$d" --set DB=many)
    shards=$(sbatch_after pg-shards "$decide" run pg.yaml --shard auto --dir "$d" --set DB=many)
    merge=$(sbatch --parsable --dependency="afterok:$shards" --kill-on-invalid-dep=yes \
        --output="$work/logs/pg-merge.log" --wrap="exec '$MEKONG' merge pg.yaml --dir $d --set DB=many -q")
    for _ in $(seq 240); do
        [ -z "$(squeue -h -j "$keys,$decide,$shards,$merge" 2> /dev/null)" ] && { finished=1; break; }
        sleep 0.5
    done
    if [ $finished = 0 ] || [ -z "$merge" ]; then
        fail "slurm-pg: the four stages did not finish in 120 s"
        return
    fi
    pipe=
    local t1 t2
    t1=$(psql -X -At -d one -c "SELECT md5(string_agg(c::text, E'\n' ORDER BY c.id)), count(*) FROM cong_dan c")
    t2=$(psql -X -At -d many -c "SELECT md5(string_agg(c::text, E'\n' ORDER BY c.id)), count(*) FROM cong_dan c")
    if ! cmp -s single-pg/out.csv out/out.csv || ! cmp -s single-pg/rejects.csv out/rejects.csv; then
        fail "slurm-pg: csv output or rejects differ from one run's: $(tail -2 logs/pg-*.log | tr '\n' ' ')"
    elif [ "$(totals single-pg/report.json)" != "$(totals out/report.json)" ]; then
        fail "slurm-pg: report totals differ"
    elif [ "$t1" != "$t2" ] || [ "$(grep -c 'was seen first' out/rejects.csv)" -lt 1000 ]; then
        fail "slurm-pg: table cong_dan differs (one run $t1, shards $t2), or too few duplicates rejected"
    else
        ok "slurm-pg: a PostgreSQL table by key ranges with a dedupe step: keys, decide and shard arrays and the afterok merge give one run's csv, rejects, totals and table"
    fi
}
pg_case
