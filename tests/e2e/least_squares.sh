#!/usr/bin/env bash
# least_squares on heart_scale end to end: a sweep over splits (iid, dirichlet with two α,
# sorted) and methods (gd, dcgd perm, ist perm) gives byte-identical cells.csv, trace.csv and
# problems.csv with 1 and 2 threads; problems.csv describes every problem's workers (rows,
# samples, label counts, ζ² = mean ‖∇f_i(x*)‖² as in cells.csv); bad least_squares configs
# exit 2 naming the key. Exits 77 (skipped) when heart_scale is not installed.
set -uo pipefail
istlab=$1 work=$2
python=/usr/bin/python3
heart_scale=/usr/share/doc/liblinear-tools/examples/heart_scale
if [[ ! -f $heart_scale ]]; then
  echo "SKIP: $heart_scale is absent (apt-get install liblinear-tools)"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
source "$(dirname "$0")/lib.sh"

# ---------------------------------------------------------------------------------------
# The sweep, with 1 and 2 threads

config="$work/least_squares_e2e.yaml"
cat > "$config" <<'EOF'
experiment: least_squares_e2e
description: least squares on heart_scale split four ways among 4 workers.
problem:
  generator: least_squares
  dataset: heart_scale
  num_workers: 4
  split: [iid, dirichlet, sorted]
  concentration: [0.3, 3.0]
  min_samples: 5
  target: label
  regularization: 1e-2
methods:
  - method: gd
  - method: dcgd
    sketch: perm
  - method: ist
    sketch: perm
step_size: {relative: 0.5}
seeds: [1, 2]
run:
  max_iters: 200
  record: {every: 50}
EOF
same_with_threads "$config" least_squares_e2e cells.csv trace.csv problems.csv
results="$work/threads1/least_squares_e2e"

# ---------------------------------------------------------------------------------------
# problems.csv against cells.csv

if [[ ! -x $python ]]; then
  echo "SKIP: $python is absent, problems.csv is not checked"
elif [[ -f $results/problems.csv && -f $results/cells.csv ]]; then
  if ! "$python" - "$results" <<'EOF'; then
import collections, csv, math, sys

folder = sys.argv[1]
with open(f"{folder}/problems.csv", newline="") as f:
    problems = list(csv.DictReader(f))
with open(f"{folder}/cells.csv", newline="") as f:
    cells = list(csv.DictReader(f))
errors = []
by_problem = collections.defaultdict(list)
for row in problems:
    by_problem[row["problem_id"]].append(row)

# 2 seeds × (iid, dirichlet α = 0.3 and 3, sorted); 3 methods on each.
if len(by_problem) != 8:
    errors.append(f"{len(by_problem)} problems in problems.csv, expected 8")
if len(cells) != 24:
    errors.append(f"{len(cells)} cells, expected 24")
splits = collections.Counter(rows[0]["split"] for rows in by_problem.values())
if splits != {"iid": 2, "dirichlet": 4, "sorted": 2}:
    errors.append(f"problems per split {dict(splits)}")

for problem_id, rows in by_problem.items():
    workers = int(rows[0]["num_workers"])
    if sorted(int(r["worker"]) for r in rows) != list(range(workers)):
        errors.append(f"{problem_id}: workers {[r['worker'] for r in rows]}, expected 0..{workers - 1}")
    if sum(int(r["samples"]) for r in rows) != 270:
        errors.append(f"{problem_id}: samples sum to {sum(int(r['samples']) for r in rows)}, not 270")
    for r in rows:
        counts = {}
        for token in r["label_counts"].split():
            label, count = token.split(":")
            counts[float(label)] = int(count)
        if sum(counts.values()) != int(r["samples"]):
            errors.append(f"{problem_id} worker {r['worker']}: label_counts '{r['label_counts']}' "
                          f"sum to {sum(counts.values())}, samples {r['samples']}")
        if not set(counts) <= {-1.0, 1.0}:
            errors.append(f"{problem_id} worker {r['worker']}: labels {sorted(counts)}")
        r["counts"] = counts
    by_worker = sorted(rows, key=lambda r: int(r["worker"]))
    # heart_scale has 150 samples labelled −1 and 120 labelled +1; iid and sorted cut 270 into
    # 68, 68, 67, 67, sorted in label order.
    if rows[0]["split"] in ("iid", "sorted"):
        sizes = [int(r["samples"]) for r in by_worker]
        if sizes != [68, 68, 67, 67]:
            errors.append(f"{problem_id} ({rows[0]['split']}): sizes {sizes}")
    if rows[0]["split"] == "sorted":
        counts = [r["counts"] for r in by_worker]
        expected = [{-1.0: 68}, {-1.0: 68}, {-1.0: 14, 1.0: 53}, {1.0: 67}]
        if counts != expected:
            errors.append(f"{problem_id} (sorted): label counts {counts}, expected {expected}")
    if rows[0]["split"] == "dirichlet" and min(int(r["samples"]) for r in rows) < 5:
        errors.append(f"{problem_id} (dirichlet): a worker below min_samples 5")

mean_grad = {p: sum(float(r["grad_norm2_at_optimum"]) for r in sorted(rows, key=lambda r: int(r["worker"])))
             / len(rows) for p, rows in by_problem.items()}
for cell in cells:
    problem_id = cell["problem_id"]
    if problem_id not in mean_grad:
        errors.append(f"cell {cell['cell_key']}: problem {problem_id} not in problems.csv")
        continue
    zeta2 = float(cell["zeta2"])
    if not (zeta2 > 0 and math.isclose(zeta2, mean_grad[problem_id], rel_tol=1e-12)):
        errors.append(f"cell {cell['cell_key']}: zeta2 {zeta2}, mean grad_norm2_at_optimum "
                      f"{mean_grad[problem_id]}")
    if cell["status"] != "max_iters":
        errors.append(f"cell {cell['cell_key']}: status {cell['status']}")

for error in errors:
    print("  " + error)
print(f"problems.csv: {len(problems)} rows of {len(by_problem)} problems checked against "
      f"{len(cells)} cells")
sys.exit(1 if errors else 0)
EOF
    fail "problems.csv does not match the sweep (above)"
  else
    echo "ok   problems.csv: rows, samples, label counts and zeta2"
  fi
else
  fail "no problems.csv or cells.csv in $results"
fi

# ---------------------------------------------------------------------------------------
# Config errors: exit code 2, the key in the message, no output left behind

expect_error() {  # name, expected message fragment, problem: lines
  local file="$work/$1.yaml"
  printf 'experiment: %s\nmethods:\n  - method: ist\n    sketch: perm\nstep_size: {relative: 0.5}\n' \
    "$1" > "$file"
  printf 'run: {max_iters: 10}\nproblem:\n  generator: least_squares\n%s\n' "$3" >> "$file"
  check_config_error "$1" "$2" "$file"
}

expect_error no_dataset "problem.dataset.name" "  num_workers: 4"
expect_error no_format "problem.dataset.format" "  num_workers: 4
  dataset: {path: x.csv}"
expect_error dim_given "problem.dim: is set by the dataset" "  num_workers: 4
  dataset: heart_scale
  dim: 5"
expect_error more_workers_than_samples "problem.num_workers: value '300' must not exceed the number of samples, 270" "  num_workers: 300
  dataset: heart_scale"
expect_error unknown_dataset "problem.dataset: value 'mnist_digits' is not a dataset" \
  "  num_workers: 4
  dataset: mnist_digits"
expect_error missing_file "problem.dataset.path: $work/absent_features.csv" "  num_workers: 4
  dataset: {path: $work/absent_features.csv, format: csv}"
expect_error bad_positive_classes "problem.positive_classes: value '4-2'" "  num_workers: 4
  dataset: heart_scale
  target: classes
  positive_classes: \"4-2\""

# A name and a path together: the path is read beside a name, so this is an error.
expect_error name_and_path "problem.dataset.name" "  num_workers: 4
  dataset: {name: heart_scale, path: $work/other.csv, format: csv}"

# Real-valued targets (1,500 distinct labels): iid only, whatever the order of the splits.
/usr/bin/python3 -c "
for i in range(1500): print(f'{i % 7},{(i * 3) % 11},{i % 5},{0.001 * i}')" > "$work/real.csv"
expect_error real_valued_dirichlet "problem.split: value 'dirichlet' needs class labels" "  num_workers: 4
  dataset: {path: $work/real.csv, format: csv}
  split: [iid, dirichlet]
  regularization: 1e-3"
expect_error no_label_positive "problem.positive_classes: value '5'" "  num_workers: 4
  dataset: heart_scale
  target: classes
  positive_classes: \"5\""

expect_error too_many_random_features "problem.preprocess.random_relu: value '20000' must be between 0 and 16384" "  num_workers: 4
  dataset: heart_scale
  preprocess: {random_relu: 20000}"

# A λ that overflows fails its problem's cells (exit 1), not the sweep: cells.csv is written.
cat > "$work/huge_lambda.yaml" <<YAML
experiment: huge_lambda
problem: {generator: least_squares, dataset: heart_scale, num_workers: 2,
          relative_regularization: [1e308, 1e-2]}
methods: [{method: gd}]
step_size: 0.1
run: {max_iters: 5}
YAML
"$istlab" sweep "$work/huge_lambda.yaml" --out "$work/huge" --quiet 2>/dev/null
code=$?
"$istlab" status "$work/huge_lambda.yaml" --out "$work/huge" >"$work/huge.err" 2>&1
# (every cell has its row in cells.csv: the failed one with status failed and the reason)
if [[ $code -ne 1 ]] || ! grep -q "not finite" "$work/huge.err" ||
   [[ $(wc -l < "$work/huge/huge_lambda/cells.csv") -ne 3 ]] ||
   [[ $(grep -c ',failed,.*not finite' "$work/huge/huge_lambda/cells.csv") -ne 1 ]]; then
  fail "huge_lambda: exit $code, expected 1, one finished cell, status saying λ is not finite: $(cat "$work/huge.err")"
else
  echo "ok   huge_lambda: the other cell ran; $(head -c 200 "$work/huge.err")"
fi

if [[ $failures -eq 0 ]]; then
  echo "least_squares end to end: all checks passed"
fi
exit $((failures > 0))
