#!/usr/bin/env bash
# One grid, four ways, the same bytes: uninterrupted; interrupted by SIGINT then resumed;
# killed by SIGKILL then resumed; sharded into three and merged.
set -euo pipefail
istlab=$1 config=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
experiment=$(basename "$config" .yaml)

compare() {  # folder: trace.csv and cells.csv equal the reference's
  for file in trace.csv cells.csv; do
    cmp "$work/reference/$experiment/$file" "$1/$experiment/$file"
  done
  echo "identical to the uninterrupted run: $1"
}

# Starts a sweep with one thread, waits until at least `cells` records are stored, sends `signal`.
interrupt_after() {  # out signal cells
  local out=$1 signal=$2 cells=$3
  "$istlab" sweep "$config" --out "$out" --threads 1 --quiet 2>"$out.log" &
  local pid=$!
  for _ in $(seq 600); do
    local stored
    stored=$(find "$out/$experiment/cells" -name '*.cell' 2>/dev/null | wc -l || true)
    [[ $stored -ge $cells ]] && break
    sleep 0.05
  done
  kill "-$signal" "$pid"
  local code=0
  wait "$pid" || code=$?
  local stored
  stored=$(find "$out/$experiment/cells" -name '*.cell' | wc -l)
  echo "$signal after $stored cells: exit code $code"
  if [[ $stored -ge $(grep -c . "$work/reference/$experiment/cells.csv") ]]; then
    echo "FAIL: the run finished before the $signal arrived; nothing was interrupted"; exit 1
  fi
  # SIGINT lets the running cell finish its write; SIGKILL can land inside one, which leaves
  # that one write's temporary file (never a file under a record's name; the store ignores
  # it). With one thread there is at most one.
  local leftovers
  leftovers=$(find "$out" -name '*.tmp.*' | wc -l)
  if [[ $signal == INT && $leftovers -gt 0 ]] || [[ $leftovers -gt 1 ]]; then
    echo "FAIL: $leftovers temporary files left behind after SIG$signal"; exit 1
  fi
  # SIGINT: the outputs are assembled from what is stored and marked partial, one row per
  # cell in cells.csv (the cells not run yet with status missing).
  if [[ $signal == INT ]]; then
    grep -q '"partial": true' "$out/$experiment/manifest.json" || { echo "FAIL: no partial manifest after SIGINT"; exit 1; }
    [[ $(grep -c ',missing,' "$out/$experiment/cells.csv") -gt 0 ]] || { echo "FAIL: cells.csv lacks the missing cells' rows"; exit 1; }
    [[ $(wc -l < "$out/$experiment/cells.csv") -eq $(wc -l < "$work/reference/$experiment/cells.csv") ]] ||
      { echo "FAIL: cells.csv after SIGINT does not have a row per cell"; exit 1; }
  fi
  [[ $signal != INT ]] || [[ $code -eq 1 ]] || { echo "FAIL: SIGINT should exit 1, got $code"; exit 1; }
  [[ $signal != INT ]] || grep -q "interrupted" "$out.log" || { echo "FAIL: no 'interrupted' message"; exit 1; }
}

"$istlab" sweep "$config" --out "$work/reference" --threads 2 --quiet

interrupt_after "$work/sigint" INT 40
"$istlab" sweep "$config" --out "$work/sigint" --threads 2 --quiet 2>"$work/resume.log"
grep -q "skipped [1-9][0-9]* already done" "$work/resume.log" || { echo "FAIL: resume did not skip stored cells"; cat "$work/resume.log"; exit 1; }
compare "$work/sigint"

interrupt_after "$work/sigkill" KILL 80
"$istlab" sweep "$config" --out "$work/sigkill" --threads 2 --quiet
compare "$work/sigkill"

# A rerun of a complete sweep runs nothing and rewrites the same bytes.
"$istlab" sweep "$config" --out "$work/sigkill" --quiet 2>"$work/rerun.log"
grep -q "ran 0" "$work/rerun.log" || { echo "FAIL: a complete sweep reran cells"; cat "$work/rerun.log"; exit 1; }
compare "$work/sigkill"
"$istlab" status "$config" --out "$work/sigkill" | head -1

for count in 3; do
  shards=()
  for index in $(seq "$count"); do
    "$istlab" sweep "$config" --out "$work/shard$index-of-$count" --shard "$index/$count" --threads 2 --quiet
    shards+=("$work/shard$index-of-$count")
  done
  "$istlab" merge "${shards[@]}" --out "$work/merged$count"
  compare "$work/merged$count"
done

# Merging an incomplete set reports the missing cells and exits 1.
code=0
"$istlab" merge "$work/shard1-of-3" "$work/shard2-of-3" --out "$work/incomplete" 2>"$work/incomplete.log" || code=$?
[[ $code -eq 1 ]] && grep -q "cells missing" "$work/incomplete.log" || { echo "FAIL: incomplete merge not reported"; exit 1; }
echo "all resume and shard checks passed"
