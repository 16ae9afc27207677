#!/usr/bin/env bash
# A SLURM job array that runs one sweep as N shards, then merges them. From the repository
# root (with the release build done):
#
#   sbatch --array=1-8 scripts/slurm-array.sh experiments/grid500.yaml
#   # when all tasks are done (or as a dependent job: sbatch --dependency=afterok:JOBID ...):
#   build/release/bin/istlab merge results/shards/* --out results
#
# Each task runs `istlab sweep --shard K/N` into results/shards/K-of-N; when tasks were
# preempted or failed, submit the same array again: finished cells are skipped. Shards are
# assigned by cell key, so adding cells to the config never moves existing cells between
# shards. ISTLAB_BIN names another binary (default build/release/bin/istlab; sbatch passes
# the environment on).
#
# Each task's log is slurm-JOBID_K.log in the folder sbatch was called from: SLURM opens it
# before this script runs, so it must name a folder that already exists, and it stays out of
# results/shards/ so the merge glob takes in shard folders only.
#SBATCH --job-name=istlab-sweep
#SBATCH --cpus-per-task=2
#SBATCH --time=01:00:00
#SBATCH --output=slurm-%A_%a.log
set -euo pipefail
config=${1:?usage: sbatch --array=1-N scripts/slurm-array.sh CONFIG.yaml}
index=${SLURM_ARRAY_TASK_ID:?run this script through sbatch --array}
count=${SLURM_ARRAY_TASK_COUNT:?run this script through sbatch --array}
istlab=${ISTLAB_BIN:-build/release/bin/istlab}
command -v "$istlab" >/dev/null || { echo "slurm-array.sh: no $istlab in $PWD: submit from the repository root after the build" >&2; exit 2; }
mkdir -p results/shards
exec "$istlab" sweep "$config" --shard "$index/$count" \
  --out "results/shards/$index-of-$count" --threads "${SLURM_CPUS_PER_TASK:-1}"
