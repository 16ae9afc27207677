#!/usr/bin/env bash
# The small sweeps the Python package's tests read (a few seconds in all), into WORK/results:
#   split_and_failure  least squares on heart_scale, iid and Dirichlet splits (concentration
#                      does not apply to iid), and a regularization that overflows, so half
#                      the cells fail with a reason: 2 splits x 2 regularizations x 2 methods
#                      x 2 seeds = 16 cells, 8 failed
#   net_small          the mlp family on generated .npy features, iid and Dirichlet splits
# Usage: make_sweeps.sh ISTLAB WORK     (exit 77 when heart_scale is not installed)
set -euo pipefail
istlab=$1 work=$2
heart=/usr/share/doc/liblinear-tools/examples/heart_scale
[[ -f $heart ]] || { echo "SKIP: $heart is missing (apt-get install liblinear-tools)"; exit 77; }
rm -rf "$work" && mkdir -p "$work/results"

cat > "$work/split_and_failure.yaml" <<YAML
experiment: split_and_failure
description: least squares on heart_scale; the 1e308 regularization overflows and fails.
problem:
  generator: least_squares
  dataset: {path: $heart, format: libsvm}
  num_workers: 4
  split: [iid, dirichlet]
  concentration: 0.5
  relative_regularization: [1e308, 1e-2]
methods:
  - method: gd
  - method: ist
    sketch: perm
step_size: {relative: 0.5}
seeds: [1, 2]
run: {max_iters: 300, record: {log_points: 30}}
YAML

/usr/bin/python3 - "$work" <<'PY'
import sys
import numpy as np
folder = sys.argv[1]
rng = np.random.default_rng(5)
for name, count in (("train", 600), ("test", 300)):
    labels = rng.integers(0, 4, size=count).astype(np.int64)
    features = rng.normal(size=(count, 16)).astype(np.float32)
    features[np.arange(count), labels] += 3.0
    np.save(f"{folder}/{name}_features.npy", features)
    np.save(f"{folder}/{name}_labels.npy", labels)
PY
cat > "$work/net_small.yaml" <<YAML
experiment: net_small
description: a one-hidden-layer network on four Gaussian classes.
problem:
  generator: mlp
  dataset: {path: train_features.npy, format: npy, labels: train_labels.npy}
  test_dataset: {path: test_features.npy, labels: test_labels.npy}
  hidden: 16
  num_workers: 4
  split: [iid, dirichlet]
  concentration: 0.3
  min_samples: 20
  eval_samples: 300
seeds: [1, 2]
step_size: 0.1
methods:
  - method: gd
  - method: ist
    sketch: perm
    local_steps: 2
run: {max_iters: 120, record: {every: 10}}
YAML

# Exit 1: the failed cells are the point of the first sweep.
"$istlab" sweep "$work/split_and_failure.yaml" --out "$work/results" --quiet || [[ $? -eq 1 ]]
"$istlab" sweep "$work/net_small.yaml" --out "$work/results" --quiet
grep -c ',failed,' "$work/results/split_and_failure/cells.csv" | grep -qx 8 ||
  { echo "expected 8 failed cells in split_and_failure/cells.csv"; exit 1; }
