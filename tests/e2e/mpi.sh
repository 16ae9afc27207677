#!/usr/bin/env bash
# Two MPI ranks share the quickstart grid; rank 0 assembles the same bytes as one process.
set -euo pipefail
mpirun=$1 istlab=$2 config=$3 reference=$4 work=$5
rm -rf "$work"
root_flag=()
[[ $(id -u) -ne 0 ]] || root_flag=(--allow-run-as-root)
"$mpirun" "${root_flag[@]}" --oversubscribe -np 2 "$istlab" sweep "$config" --out "$work" --mpi --threads 1 --quiet
experiment=$(basename "$config" .yaml)
for file in trace.csv cells.csv; do
  cmp "$reference/$experiment/$file" "$work/$experiment/$file"
  echo "identical with 2 MPI ranks: $file"
done
grep -q '"mode": "mpi, 2 ranks"' "$work/$experiment/manifest.json"

# Each rank bound to one core, with the default thread count: the count follows the
# process's CPU affinity, so TBB is never asked for more workers than it may run.
rm -rf "$work"
stderr=$("$mpirun" "${root_flag[@]}" --oversubscribe -np 2 --bind-to core "$istlab" sweep "$config" --out "$work" \
         --mpi --quiet 2>&1 >/dev/null)
if [[ "$stderr" == *"TBB Warning"* ]]; then
  echo "FAIL: TBB warned under --bind-to core: $stderr"
  exit 1
fi
cmp "$reference/$experiment/trace.csv" "$work/$experiment/trace.csv"
echo "no TBB warning with ranks bound to cores, same bytes"
