#!/usr/bin/env bash
# The same sweep with 1 and with 2 threads must give byte-identical trace.csv and cells.csv
# (wall-clock times live in timing.csv, which is allowed to differ).
set -euo pipefail
istlab=$1 config=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
"$istlab" sweep "$config" --out "$work/one" --threads 1 --quiet
"$istlab" sweep "$config" --out "$work/two" --threads 2 --quiet
experiment=$(ls "$work/one")
for file in trace.csv cells.csv; do
  cmp "$work/one/$experiment/$file" "$work/two/$experiment/$file"
  echo "identical: $file ($(wc -l < "$work/one/$experiment/$file") lines)"
done
