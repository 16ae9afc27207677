#!/usr/bin/env bash
# A sweep reruns only what changed (issue 22): reordered or removed seeds run nothing; a larger
# max_iters runs only the extra rounds of each stored cell (quadratic cells, priced on two
# networks, and network cells) and gives the bytes of a fresh run of the longer length; a
# smaller max_iters, or a log-spaced schedule (whose rounds move with max_iters), reruns from
# round 0, the same bytes again; a split that cannot be drawn fails its cells with the reason
# on stderr and in cells.csv; `istlab clean` removes the records the grid no longer holds.
set -uo pipefail
istlab=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
source "$(dirname "$0")/lib.sh"

# sweep NAME OUT [ARGS...]: sweeps $work/NAME.yaml into OUT; its stderr in OUT.log.
sweep() {
  local name=$1 out=$2
  shift 2
  "$istlab" sweep "$work/$name.yaml" --out "$out" --threads 2 --quiet "$@" 2>"$out.log" ||
    fail "$name into $out exited with $? ($(cat "$out.log"))"
}
same_bytes() {  # what A B EXPERIMENT: trace.csv and cells.csv of A and B are identical
  local file
  for file in trace.csv cells.csv; do
    if cmp -s "$2/$4/$file" "$3/$4/$file"; then
      echo "ok   $1: $file identical"
    else
      fail "$1: $file differs"
    fi
  done
}
ran() { sed -n 's/.*: ran \([0-9]*\) .*/\1/p' "$1.log"; }

# --- Seeds: keys hold values, never positions. ---
quadratic() {  # name max_iters seeds [record]
  cat > "$work/$1.yaml" <<EOF
experiment: extend_q
problem: {generator: dense, dim: 30, num_workers: 4, heterogeneity: 0.5}
network: {name: [ethernet, wan]}
methods:
  - method: [gd, ist, local_sgd]
    sketch: perm
    local_steps: 2
step_size: {relative: 0.5}
seeds: $3
run: {max_iters: $2, record: ${4:-{every: 10\}}}
EOF
}
quadratic q123 40 '[1, 2, 3]'
quadratic q312 40 '[3, 1, 2]'
quadratic q13 40 '[1, 3]'
sweep q123 "$work/seeds"
sweep q312 "$work/seeds"
[[ $(ran "$work/seeds") == 0 ]] && echo "ok   seeds reordered: ran 0" ||
  fail "seeds reordered: $(cat "$work/seeds.log")"
sweep q13 "$work/seeds"
[[ $(ran "$work/seeds") == 0 ]] && echo "ok   a seed removed: ran 0" ||
  fail "a seed removed: $(cat "$work/seeds.log")"
rows=$(($(wc -l < "$work/seeds/extend_q/cells.csv") - 1))
[[ $rows == 12 ]] && echo "ok   cells.csv has the 12 cells of seeds [1, 3]" ||
  fail "cells.csv has $rows rows, expected 12"

# --- Clean: the records of seed 2 (and their checkpoints) no longer belong to the grid. ---
listed=$("$istlab" clean "$work/q13.yaml" --out "$work/seeds" -n 2>&1)
[[ $listed == *"would remove 12 record files"* ]] &&
  echo "ok   clean -n lists seed 2's 6 records and 6 checkpoints" || fail "clean -n: $listed"
before=$(find "$work/seeds/extend_q/cells" -name '*.state' | wc -l)
"$istlab" clean "$work/q13.yaml" --out "$work/seeds" >/dev/null 2>&1 || fail "clean exited with $?"
after=$(find "$work/seeds/extend_q/cells" -name '*.state' | wc -l)
records=$(find "$work/seeds/extend_q/cells" -name '*.cell' | wc -l)
[[ $before == 18 && $after == 12 && $records == 12 ]] &&
  echo "ok   clean removed seed 2's records and checkpoints (checkpoints $before -> $after)" ||
  fail "clean: checkpoints $before -> $after, records $records (expected 18 -> 12, 12)"

# --- max_iters raised: only the extra rounds, the bytes of a fresh longer run. ---
quadratic q100 100 '[1, 3]'
sweep q13 "$work/extended"
cp "$work/extended/extend_q/timing.csv" "$work/short_timing.csv"
dry=$("$istlab" sweep "$work/q100.yaml" --out "$work/extended" --dry-run 2>&1)
[[ $dry == *"12 cells stored with another max_iters"* ]] &&
  echo "ok   --dry-run counts the cells stored to another length" || fail "--dry-run: $dry"
sweep q100 "$work/extended"
if grep -q "ran 12 (.*12 went on from stored shorter runs" "$work/extended.log"; then
  echo "ok   max_iters 40 -> 100: $(head -1 "$work/extended.log" | cut -c1-110)"
else
  fail "max_iters raised did not go on from the stored runs: $(cat "$work/extended.log")"
fi
sweep q100 "$work/fresh"
same_bytes "quadratic, extended vs fresh" "$work/extended" "$work/fresh" extend_q
# The first rounds were not run again: their compute times (timing.csv) are the short run's.
short_times=$(grep -E ',(0|10|20|30|40),' "$work/short_timing.csv" | sort | md5sum)
kept_times=$(grep -E ',(0|10|20|30|40),' "$work/extended/extend_q/timing.csv" | sort | md5sum)
[[ $short_times == "$kept_times" ]] && echo "ok   rounds 0-40 kept their stored compute times" ||
  fail "rounds 0-40 were run again (their timing.csv rows changed)"

# --- max_iters lowered, and a log-spaced schedule: rerun from round 0, same bytes. ---
sweep q13 "$work/extended"
grep -q "went on" "$work/extended.log" && fail "a shorter run went on from a longer one"
[[ $(ran "$work/extended") == 12 ]] && echo "ok   max_iters 100 -> 40 reran the 12 cells" ||
  fail "max_iters lowered: $(cat "$work/extended.log")"
same_bytes "quadratic, shortened vs fresh" "$work/extended" "$work/seeds" extend_q
quadratic log40 40 '[1, 3]' '{log_points: 8}'
quadratic log100 100 '[1, 3]' '{log_points: 8}'
sweep log40 "$work/log"
sweep log100 "$work/log"
grep -q "went on" "$work/log.log" && fail "a log-spaced schedule went on from a run of another length"
sweep log100 "$work/log_fresh"
same_bytes "log-spaced schedule, rerun vs fresh" "$work/log" "$work/log_fresh" extend_q

# --- Network cells: the same. ---
awk 'BEGIN { srand(11); for (i = 0; i < 240; i++) { c = i % 3; line = ""
       for (j = 0; j < 6; j++) line = line sprintf("%.3f,", rand() + (j == c ? 1.5 : 0)); print line c } }' \
  > "$work/three_classes.csv"
network() {  # name max_iters
  cat > "$work/$1.yaml" <<EOF
experiment: extend_n
problem: {generator: mlp, dataset: {path: three_classes.csv, format: csv}, hidden: 16, num_workers: 3}
methods:
  - method: [gd, ist, local_sgd]
    sketch: perm
    local_steps: 2
    batch_size: 16
step_size: 0.1
seeds: [1]
run: {max_iters: $2, record: {every: 5}}
EOF
}
network n12 12
network n30 30
sweep n12 "$work/net"
sweep n30 "$work/net"
grep -q "ran 3 (.*3 went on from stored shorter runs" "$work/net.log" &&
  echo "ok   network max_iters 12 -> 30 went on from the stored models" ||
  fail "network cells did not go on: $(cat "$work/net.log")"
sweep n30 "$work/net_fresh"
same_bytes "network, extended vs fresh" "$work/net" "$work/net_fresh" extend_n

# --- A split that cannot be drawn: the reason on stderr and in cells.csv. ---
cat > "$work/infeasible.yaml" <<'EOF'
experiment: infeasible
problem:
  generator: least_squares
  dataset: {path: three_classes.csv, format: csv}
  num_workers: 13
  split: dirichlet
  concentration: 0.05
  min_samples: 15
methods: [{method: gd}]
step_size: {relative: 0.5}
run: {max_iters: 5}
EOF
dry=$("$istlab" sweep "$work/infeasible.yaml" --out "$work/infeasible" --dry-run 2>&1)
[[ $dry == *"cannot be built: 1 cell: dirichlet split: no draw gave every worker at least 15"* &&
   $dry == *"1 of 1 cells would fail"* ]] && echo "ok   --dry-run names the split that cannot be drawn" ||
  fail "--dry-run does not say the split cannot be drawn: $dry"
"$istlab" sweep "$work/infeasible.yaml" --out "$work/infeasible" --quiet 2>"$work/infeasible.log"
code=$?
[[ $code == 1 ]] || fail "an infeasible split: exit $code, expected 1"
grep -q "istlab: failed 1 cell: .*no draw gave every worker at least 15 samples" "$work/infeasible.log" &&
  echo "ok   infeasible split: $(grep 'failed 1 cell' "$work/infeasible.log" | cut -c1-140)" ||
  fail "infeasible split: stderr lacks the reason: $(cat "$work/infeasible.log")"
grep -q ',failed,.*no draw gave every worker' "$work/infeasible/infeasible/cells.csv" &&
  echo "ok   infeasible split: a failed row with the reason in cells.csv" ||
  fail "cells.csv lacks the failed row: $(cat "$work/infeasible/infeasible/cells.csv")"

exit_with_failures
