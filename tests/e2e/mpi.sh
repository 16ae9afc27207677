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
