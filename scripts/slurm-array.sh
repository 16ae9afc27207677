#!/usr/bin/env bash
# A SLURM job array that runs one sweep as N shards, then merges them.
#
#   sbatch --array=1-8 scripts/slurm-array.sh experiments/grid500.yaml
#   # when all tasks are done (or as a dependent job: sbatch --dependency=afterok:JOBID ...):
#   build/release/bin/istlab merge results/shards/* --out results
#
# Each task runs `istlab sweep --shard K/N` into its own folder; a task that is preempted
# or fails can simply be resubmitted: finished cells are skipped. Shards are assigned by
# cell key, so adding cells to the config never moves existing cells between shards.
#SBATCH --job-name=istlab-sweep
#SBATCH --cpus-per-task=2
#SBATCH --time=01:00:00
#SBATCH --output=results/shards/slurm-%A_%a.log
set -euo pipefail
config=${1:?usage: sbatch --array=1-N scripts/slurm-array.sh CONFIG.yaml}
index=${SLURM_ARRAY_TASK_ID:?run this script through sbatch --array}
count=${SLURM_ARRAY_TASK_COUNT:?run this script through sbatch --array}
mkdir -p results/shards
exec build/release/bin/istlab sweep "$config" --shard "$index/$count" \
  --out "results/shards/$index-of-$count" --threads "${SLURM_CPUS_PER_TASK:-1}"
