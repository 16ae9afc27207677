#!/usr/bin/env bash
# The mlp family end to end, on precomputed features in .npy files (the documented way to run
# the paper's own setting, ResNet-50 features of CIFAR-10, elsewhere): a small generated
# dataset of 4 Gaussian classes, 32 float32 features, a training and a test file. A sweep of
# gd, dcgd, ist and local_sgd on an iid and a Dirichlet split gives byte-identical cells.csv,
# trace.csv and problems.csv with 1 and 2 threads, reaches a test accuracy a linear
# classifier would on such data, and resumes without rerunning; a step too large for the
# network is the status diverged; bad mlp configs exit 2 naming the key.
set -uo pipefail
istlab=$1 work=$2
python=/usr/bin/python3
if ! "$python" -c "import numpy" 2>/dev/null; then
  echo "SKIP: $python has no numpy (apt-get install python3-numpy)"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
source "$(dirname "$0")/lib.sh"

# Four classes with means 3 standard deviations apart along their own axis.
"$python" - "$work" <<'EOF'
import sys
import numpy as np
folder = sys.argv[1]
rng = np.random.default_rng(7)
for name, count in (("train", 800), ("test", 400)):
    labels = rng.integers(0, 4, size=count).astype(np.int64)
    features = rng.normal(size=(count, 32)).astype(np.float32)
    features[np.arange(count), labels] += 3.0
    np.save(f"{folder}/{name}_features.npy", features)
    np.save(f"{folder}/{name}_labels.npy", labels)
EOF

config="$work/mlp_e2e.yaml"
cat > "$config" <<EOF
experiment: mlp_e2e
description: the mlp family on precomputed features read from .npy files.
problem:
  generator: mlp
  dataset: {path: $work/train_features.npy, format: npy, labels: $work/train_labels.npy}
  test_dataset: {path: $work/test_features.npy, labels: $work/test_labels.npy}
  preprocess: {scale: standardize}
  hidden: 32
  num_workers: 4
  split: [iid, dirichlet]
  concentration: 0.3
  min_samples: 20
  eval_samples: 400
seeds: [3]
step_size: 0.1
methods:
  - method: [gd, dcgd]
    sketch: perm
    batch_size: 32
  - method: [ist, local_sgd]
    sketch: perm
    local_steps: 2
    batch_size: 32
run:
  max_iters: 150
  record: {every: 50}
EOF
same_with_threads "$config" mlp_e2e cells.csv trace.csv problems.csv
results="$work/threads1/mlp_e2e"

if ! "$python" - "$results" <<'EOF'; then
import csv, math, sys
folder = sys.argv[1]
with open(f"{folder}/cells.csv", newline="") as f:
    cells = list(csv.DictReader(f))
with open(f"{folder}/trace.csv", newline="") as f:
    trace = list(csv.DictReader(f))
with open(f"{folder}/problems.csv", newline="") as f:
    problems = list(csv.DictReader(f))
errors = []
if len(cells) != 8:
    errors.append(f"{len(cells)} cells, expected 8")
d, hidden, classes, n = 32, 32, 4, 4
model = hidden * (d + 1 + classes) + classes
for cell in cells:
    name = f"{cell['method']} {cell['split']}"
    if cell["status"] != "max_iters":
        errors.append(f"{name}: status {cell['status']}")
    # A well-separated problem: every method classifies most test samples on iid data.
    if cell["split"] == "iid" and not float(cell["test_accuracy"]) >= 0.9:
        errors.append(f"{name}: test accuracy {cell['test_accuracy']} below 0.9")
    for empty in ("rel_err", "f_gap", "dist_fixed", "lambda_max", "zeta2"):
        if cell[empty] != "":
            errors.append(f"{name}: {empty} = '{cell[empty]}' on a network")
    # Floats per worker per round: the parameters sent (docs/theory.md §7's counts, 150 rounds).
    kept = hidden // n
    submodel = kept * (d + 1 + classes) + classes
    up = {"gd": model, "local_sgd": model, "dcgd": submodel, "ist": submodel}[cell["method"]]
    down = submodel if cell["method"] == "ist" else model
    if float(cell["floats_up"]) != 150 * up or float(cell["floats_down"]) != 150 * down:
        errors.append(f"{name}: floats {cell['floats_up']} up, {cell['floats_down']} down; "
                      f"expected {150 * up}, {150 * down}")
rows = [r for r in trace if r["iter"] == "0"]
if len({(r["train_loss"], r["test_loss"]) for r in rows if r["split"] == "iid"}) != 1:
    errors.append("the cells of one problem start from different models")
for r in trace:
    if not (math.isfinite(float(r["train_loss"])) and 0 <= float(r["test_accuracy"]) <= 1):
        errors.append(f"trace row {r['cell_key']} {r['iter']}: {r['train_loss']} {r['test_accuracy']}")
        break
if sorted({int(r["samples"]) for r in problems if r["split"] == "iid"}) != [200]:
    errors.append("iid problem rows do not hold 200 samples each")
for error in errors:
    print("  " + error)
print(f"checked {len(cells)} cells, {len(trace)} trace rows, {len(problems)} problem rows")
sys.exit(1 if errors else 0)
EOF
  fail "the mlp sweep's outputs (above)"
else
  echo "ok   mlp outputs: accuracy, floats, empty quadratic columns, problems.csv"
fi

# A rerun finds every cell stored.
rerun=$("$istlab" sweep "$config" --out "$work/threads1" --quiet 2>&1)
if [[ "$rerun" == *"ran 0"*"skipped 8"* ]] || grep -q '"ran": 0' "$results/manifest.json"; then
  echo "ok   a rerun resumes: nothing rerun"
else
  fail "a rerun ran cells again: $rerun"
fi

# A step far too large: the parameters overflow, the cell is diverged with an empty
# test_accuracy, the sweep goes on.
sed -e 's/^step_size: 0.1/step_size: 1.0e+30/' -e 's/experiment: mlp_e2e/experiment: mlp_diverge/' \
  "$config" > "$work/diverge.yaml"
if "$istlab" sweep "$work/diverge.yaml" --out "$work/diverge" --quiet; then
  accuracies=$("$python" -c '
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1], newline="")) if r["status"] == "diverged"]
print(len(rows), sum(r["test_accuracy"] != "" for r in rows))' "$work/diverge/mlp_diverge/cells.csv")
  if [[ ${accuracies% *} -ge 1 && ${accuracies#* } -eq 0 ]]; then
    echo "ok   a diverging network is the status diverged with an empty test_accuracy (${accuracies% *} cells)"
  else
    fail "at step 1e30: diverged cells and how many report an accuracy: $accuracies"
  fi
else
  fail "the diverging sweep exited with $?"
fi

# A batch far above any worker's samples is its whole share (nothing sized by batch_size).
sed -e 's/batch_size: 32/batch_size: 2000000000/' -e 's/experiment: mlp_e2e/experiment: mlp_huge_batch/' \
  "$config" > "$work/huge_batch.yaml"
if "$istlab" sweep "$work/huge_batch.yaml" --out "$work/huge_batch" --quiet &&
  [[ $(grep -c ',max_iters,' "$work/huge_batch/mlp_huge_batch/cells.csv") -eq 8 ]]; then
  echo "ok   batch_size 2e9: every cell runs on full batches"
else
  fail "batch_size 2e9: $(cat "$work/huge_batch/mlp_huge_batch/cells.csv" 2>/dev/null | cut -c1-200)"
fi

# A round of a million local steps (minutes of work) ends at the time limit within a step, and
# on SIGINT: the loop used to check both only between rounds (13 s past a 2 s limit; only a
# second signal ended it).
long_round() {  # experiment name, extra run: keys
  cat > "$work/$1.yaml" <<EOF
experiment: $1
problem:
  generator: mlp
  dataset: {path: $work/train_features.npy, format: npy, labels: $work/train_labels.npy}
  hidden: 32
  num_workers: 2
step_size: 0.01
methods: [{method: ist, sketch: perm, local_steps: 1000000, batch_size: 32}]
run: {max_iters: 2$2}
EOF
}
long_round long_round_limit ", max_seconds: 1"
start=$(date +%s%N)
"$istlab" sweep "$work/long_round_limit.yaml" --out "$work/long" --quiet
code=$? elapsed=$((($(date +%s%N) - start) / 1000000))
if [[ $code -eq 0 && $elapsed -lt 10000 ]] &&
  grep -q ',time_limit,,0,' "$work/long/long_round_limit/cells.csv"; then
  echo "ok   a round of 10^6 local steps ends at max_seconds 1, midway (round 0), after $elapsed ms"
else
  fail "long round with max_seconds: exit $code after $elapsed ms: $(tail -1 "$work/long/long_round_limit/cells.csv" 2>/dev/null | cut -c1-300)"
fi
long_round long_round_sigint ""
"$istlab" sweep "$work/long_round_sigint.yaml" --out "$work/long" 2>"$work/long.log" &
pid=$!
sleep 3.5
# While it runs: the cell's rounds in the sweep's own lines (not --quiet, a pipe), and status
# names the live run and its cell.
live=$("$istlab" status "$work/long_round_sigint.yaml" --out "$work/long")
if [[ "$live" == *"running: pid $pid"* && "$live" == *"running cell "*"round 0 of 2"* ]] &&
   grep -q "running cell .*: round 0 of 2" "$work/long.log"; then
  echo "ok   a long cell is reported while it runs: $(grep -m1 'running cell' "$work/long.log")"
else
  fail "no report of the running cell: status '$live'; log '$(cat "$work/long.log")'"
fi
kill -INT $pid
start=$(date +%s%N)
wait $pid
code=$? elapsed=$((($(date +%s%N) - start) / 1000000))
if [[ $code -eq 1 && $elapsed -lt 5000 ]] && grep -q "interrupted" "$work/long.log"; then
  echo "ok   SIGINT ends a round of 10^6 local steps after $elapsed ms (exit 1: $(tail -1 "$work/long.log"))"
else
  fail "SIGINT in a long round: exit $code after $elapsed ms: $(cat "$work/long.log")"
fi

# ---------------------------------------------------------------------------------------
# Config errors: exit code 2, the key in the message, no output left behind

expect_error() {  # name, expected message fragment, extra top-level lines, problem: lines
  local file="$work/$1.yaml"
  printf 'experiment: %s\nmethods:\n  - method: ist\n    sketch: perm\n%s\n' "$1" "$3" > "$file"
  printf 'problem:\n  generator: mlp\n  num_workers: 2\n%s\n' "$4" >> "$file"
  check_config_error "$1" "$2" "$file"
}
data="  dataset: {path: $work/train_features.npy, format: npy, labels: $work/train_labels.npy}"
steps='step_size: 0.1
run: {max_iters: 10}'

expect_error relative_step "step_size: relative steps need the theory of docs/theory.md §4" \
  'step_size: {relative: 0.5}
run: {max_iters: 10}' "$data"
expect_error local_steps_beyond_bound "local_steps: value '2000000000' must be between 1 and 1000000" '    local_steps: 2000000000
step_size: 0.1
run: {max_iters: 10}' "$data"
expect_error rel_err_tolerance "run.tolerance.rel_err: does not apply to generator 'mlp'" \
  'step_size: 0.1
run: {max_iters: 10, tolerance: {rel_err: 1e-3}}' "$data"
expect_error no_hidden_units "problem.hidden" "$steps" "$data
  hidden: 0"
expect_error test_labels_missing "problem.test_dataset.labels" "$steps" "$data
  test_dataset: {path: $work/test_features.npy}"
expect_error test_path_beside_a_name "problem.test_dataset.format" "$steps" "  dataset: fashion_mnist
  test_dataset: {path: $work/test_features.npy}"
expect_error test_header_on_npy "problem.test_dataset.header: value 'true' is for a csv test set" "$steps" "$data
  test_dataset: {path: $work/test_features.npy, labels: $work/test_labels.npy, header: true}"
expect_error test_format_without_path "problem.test_dataset.format: value 'csv' is for a test set given by test_dataset.path" "$steps" "$data
  test_dataset: {name: fashion_mnist_test, format: csv}"
# test_dataset takes dataset's keys: an npy training set, a csv test set with a header and
# its label first, gives the test accuracy of the same test set stored as npy.
"$python" -c "
import numpy as np
x = np.load('$work/test_features.npy'); y = np.load('$work/test_labels.npy')
with open('$work/test_first.csv', 'w') as f:
    f.write('label,' + ','.join(f'x{j}' for j in range(x.shape[1])) + '\\n')
    for row, label in zip(x, y): f.write(str(int(label)) + ',' + ','.join(repr(float(v)) for v in row) + '\\n')"
for test in "{path: $work/test_features.npy, labels: $work/test_labels.npy}" \
            "{path: test_first.csv, format: csv, header: true, label_column: 0}"; do
  name=$([[ $test == *csv* ]] && echo csv || echo npy)
  printf 'experiment: test_%s\nmethods: [{method: gd}]\n%s\nproblem:\n  generator: mlp\n  num_workers: 2\n%s\n  test_dataset: %s\n' \
    "$name" "$steps" "$data" "$test" > "$work/test_$name.yaml"
  "$istlab" sweep "$work/test_$name.yaml" --out "$work/test_sets" --quiet 2>/dev/null ||
    fail "a $name test set: exit $?"
done
"$python" - "$work/test_sets" <<'PYEOF' || fail "a csv test set with its own keys differs from the same set as npy"
import csv, sys
rows = {n: list(csv.DictReader(open(f"{sys.argv[1]}/test_{n}/trace.csv"))) for n in ("npy", "csv")}
for key in ("test_loss", "test_accuracy"):
    a, b = [r[key] for r in rows["npy"]], [r[key] for r in rows["csv"]]
    assert a == b and a[-1] != "", (key, a, b)
print("ok   test_dataset with format, header and label_column of its own: the npy set's test metrics", rows["csv"][-1]["test_accuracy"])
PYEOF
"$python" -c "
import numpy as np
np.save('$work/wide.npy', np.zeros((400, 33), np.float32))
np.save('$work/labels9.npy', np.full(400, 9, np.int64))
np.save('$work/real.npy', np.arange(2000, dtype=np.float64) / 7)
np.save('$work/rows2000.npy', np.zeros((2000, 3), np.float32))"
expect_error test_features_differ "wide.npy, $work/test_labels.npy: expected a test set with the training set's 32 features (it has 33)" "$steps" "$data
  test_dataset: {path: $work/wide.npy, labels: $work/test_labels.npy}"
expect_error test_label_unknown "sample 0: expected a label the training set has (it has 9" "$steps" "$data
  test_dataset: {path: $work/test_features.npy, labels: $work/labels9.npy}"
expect_error real_valued_labels "problem.generator: value 'mlp' classifies" "$steps" \
  "  dataset: {path: $work/rows2000.npy, format: npy, labels: $work/real.npy}"

exit_with_failures
