#!/usr/bin/env bash
# contrib/scale/slurm.sh -- one mekong pipeline as N shards on Slurm
# (docs/SCALE.md): plan now, a job array of N shards, and a merge job that
# starts only when every array task succeeded (--dependency=afterok).  A
# pipeline with a dedupe step first runs two more arrays, each after the
# one before: the keys stage of every shard, then the decide stage of every
# bucket (the plan lists the stages in plan.json, "stages").
#
#   contrib/scale/slurm.sh PIPELINE SHARED_DIR [N]
#
# SHARED_DIR must be on a file system every node mounts (NFS, Lustre,
# GPFS).  Extra sbatch options (partition, account) go in SBATCH_* variables.
set -eu
pipeline=$1 dir=$2 n=${3:-8}
mekong plan "$pipeline" --shards "$n" --dir "$dir"
mkdir -p "$dir/slurm-logs"
# array NAME AFTER ARGS: an array of N tasks running mekong ARGS, started only
# once every task of job AFTER succeeded (none: at once); prints its job id.
# --shard auto: SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN; a failed task
# can be run again alone: sbatch --array=I with the same command.
array() {
    local name=$1 after=$2
    shift 2
    sbatch --parsable --job-name="mekong-$name" --array="0-$((n - 1))" \
        ${after:+--dependency=afterok:$after --kill-on-invalid-dep=yes} \
        --output="$dir/slurm-logs/$name-%a.log" --wrap="mekong $*"
}
after=""
if grep -q '"stage": "keys"' "$dir/plan.json"; then # dedupe across shards
    keys=$(array keys "" run "'$pipeline'" --stage keys --shard auto --dir "'$dir'")
    after=$(array decide "$keys" run "'$pipeline'" --stage decide --shard auto --dir "'$dir'")
    echo "keys: job $keys (shards 0-$((n - 1))); decide: job $after (buckets 0-$((n - 1)))"
fi
shards=$(array shard "$after" run "'$pipeline'" --shard auto --dir "'$dir'")
merge=$(sbatch --parsable --job-name=mekong-merge --dependency="afterok:$shards" \
    --kill-on-invalid-dep=yes --output="$dir/slurm-logs/merge.log" \
    --wrap="mekong merge '$pipeline' --dir '$dir'")
echo "shards: job $shards (array 0-$((n - 1))); merge: job $merge after all of them"
