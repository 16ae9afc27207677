#!/usr/bin/env bash
# The memory --dry-run predicts for a whole sweep is within 2x of the peak resident set
# the sweep then reaches (GNU time's %M), on sweeps whose memory is dominated by each of
# the estimate's parts: many dense problems, one large dense problem, a large sparse
# problem, many recorded rounds, and two networks (mlp): one whose 1000 classes make the
# output layer outweigh the inputs (every worker holds the whole model), one whose dataset
# is mostly 4096 random ReLU features made from 16 inputs, and a deep one (2048-1024-1024)
# whose weights between hidden layers, and their counts of holders, outweigh the rest.
# Usage: memory_estimate.sh ISTLAB WORKDIR
set -uo pipefail
istlab=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
[[ -x /usr/bin/time ]] || { echo "SKIP: /usr/bin/time (Debian's time) is not installed"; exit 77; }
failures=0

write() { printf '%s\n' "$2" > "$work/$1.yaml"; }
write dense_many 'problem: {generator: dense, dim: 400, num_workers: 8, heterogeneity: 0.5}
methods: [{method: [gd, ist], sketch: perm}]
step_size: {relative: 0.5}
repeats: 8
run: {max_iters: 20}'
write dense_large 'problem: {generator: dense, dim: 1000, num_workers: 4, heterogeneity: 0.5}
methods: [{method: ist, sketch: perm}]
step_size: {relative: 0.5}
repeats: 2
run: {max_iters: 10}'
write sparse_large 'problem: {generator: tridiagonal, dim: 250000, num_workers: 8, heterogeneity: 0.1, mu: 0.01}
methods: [{method: [gd, ist], sketch: perm}]
step_size: {relative: 0.5}
repeats: 2
run: {max_iters: 5}'
write many_records 'problem: {generator: tridiagonal, dim: 50, num_workers: 5, heterogeneity: 0.1, mu: 0.05}
methods: [{method: [gd, dcgd, ist], sketch: perm}]
step_size: {relative: 0.5}
repeats: 2
run: {max_iters: 25000, record: {every: 1}}'

# The networks' data, generated: 2000 samples of 64 features in 1000 classes, and 20000
# samples of 16 features in 10 classes.
awk 'BEGIN { srand(3); for (i = 0; i < 2000; i++) { line = ""
       for (j = 0; j < 64; j++) line = line sprintf("%.3f,", rand()); print line (i % 1000) } }' \
  > "$work/classes1000.csv"
awk 'BEGIN { srand(5); for (i = 0; i < 20000; i++) { line = ""
       for (j = 0; j < 16; j++) line = line sprintf("%.3f,", rand()); print line (i % 10) } }' \
  > "$work/inputs16.csv"
write mlp_many_classes "problem: {generator: mlp, dataset: {path: $work/classes1000.csv, format: csv}, hidden: 1024, num_workers: 8, eval_samples: 64}
methods: [{method: gd, batch_size: 16}]
step_size: [0.05, 0.1]
run: {max_iters: 2}"
write mlp_random_relu "problem: {generator: mlp, dataset: {path: $work/inputs16.csv, format: csv}, preprocess: {random_relu: 4096}, hidden: 64, num_workers: 4, eval_samples: 256}
methods: [{method: [gd, ist], sketch: perm, batch_size: 16}]
step_size: 0.05
run: {max_iters: 2}"

write mlp_deep "problem: {generator: mlp, dataset: {path: $work/inputs16.csv, format: csv}, hidden: 2048-1024-1024, num_workers: 4, eval_samples: 256}
methods: [{method: [gd, ist], sketch: perm, batch_size: 16}]
step_size: 0.05
run: {max_iters: 2}"

for name in dense_many dense_large sparse_large many_records mlp_many_classes mlp_random_relu mlp_deep; do
  estimate=$("$istlab" sweep "$work/$name.yaml" --out "$work/out" --threads 2 --dry-run |
             sed -n 's/^memory: .*(\([0-9]*\) bytes.*/\1/p')
  peak_kib=$( { /usr/bin/time -f '%M' "$istlab" sweep "$work/$name.yaml" --out "$work/out" --threads 2 \
                --quiet 2>&1 >/dev/null; } | tail -1)
  ratio=$(awk -v e="$estimate" -v p="$peak_kib" 'BEGIN { printf "%.2f", e / (p * 1024) }')
  line="$name: estimate $((estimate / 1048576)) MiB, measured peak $((peak_kib / 1024)) MiB, ratio $ratio"
  if awk -v r="$ratio" 'BEGIN { exit !(r >= 0.5 && r <= 2.0) }'; then
    echo "ok   $line"
  else
    echo "FAIL $line (needs 0.5 to 2)"; failures=$((failures + 1))
  fi
done
[[ $failures -eq 0 ]] && echo "every estimate is within 2x of the measured peak"
exit $((failures > 0))
