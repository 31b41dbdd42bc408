#!/usr/bin/env bash
# contrib/scale/slurm.sh -- one mekong pipeline as N shards on Slurm
# (docs/SCALE.md): plan now, a job array of N shards, and a merge job that
# starts only when every array task succeeded (--dependency=afterok).
#
#   contrib/scale/slurm.sh PIPELINE SHARED_DIR [N]
#
# SHARED_DIR must be on a file system every node mounts (NFS, Lustre,
# GPFS).  Extra sbatch options (partition, account) go in SBATCH_* variables.
set -eu
pipeline=$1 dir=$2 n=${3:-8}
mekong plan "$pipeline" --shards "$n" --dir "$dir"
mkdir -p "$dir/slurm-logs"
# --shard auto: SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN; a failed task
# can be run again alone: sbatch --array=I with the same command.
array=$(sbatch --parsable --job-name=mekong-shard --array="0-$((n - 1))" \
    --output="$dir/slurm-logs/shard-%a.log" \
    --wrap="mekong run '$pipeline' --shard auto --dir '$dir'")
merge=$(sbatch --parsable --job-name=mekong-merge --dependency="afterok:$array" \
    --kill-on-invalid-dep=yes --output="$dir/slurm-logs/merge.log" \
    --wrap="mekong merge '$pipeline' --dir '$dir'")
echo "shards: job $array (array 0-$((n - 1))); merge: job $merge after all of them"
