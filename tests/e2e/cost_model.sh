#!/usr/bin/env bash
# The network and compute model end to end on quadratics: a sweep over presets and a custom
# link, server and allreduce, gives byte-identical outputs with 1 and 2 threads; a gd cell's
# model_time_s is its rounds times the model's round by hand (dense: 2d² flops per worker);
# run.time_budget stops a run on modelled time; bad network configs exit 2 naming the key.
set -uo pipefail
istlab=$1 work=$2
python=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
source "$(dirname "$0")/lib.sh"

config="$work/cost_e2e.yaml"
cat > "$config" <<'EOF'
experiment: cost_e2e
description: modelled time on a dense quadratic over three networks and two topologies.
problem: {generator: dense, dim: 40, num_workers: 4, heterogeneity: 0.3}
network:
  name: [wan, ethernet]
  topology: [server, allreduce]
methods:
  - method: [gd, local_sgd]
    local_steps: 2
  - method: [dcgd, ist]
    sketch: perm
step_size: {relative: 0.5}
seeds: [1]
run:
  max_iters: 60
  record: {every: 20}
EOF
same_with_threads "$config" cost_e2e cells.csv trace.csv
results="$work/threads1/cost_e2e"

if ! "$python" - "$results" <<'EOF'; then
import csv, math, sys
with open(f"{sys.argv[1]}/cells.csv", newline="") as f:
    cells = list(csv.DictReader(f))
errors = []
# gd and local_sgd on 2 topologies, dcgd and ist on the server only: 2 networks x 6.
if len(cells) != 12:
    errors.append(f"{len(cells)} cells, expected 12")
d, n, rounds = 40, 4, 60
presets = {"wan": (20e-3, 10e6), "ethernet": (50e-6, 1e9), "custom": (1e-3, 3.2e7)}
for cell in cells:
    latency, bandwidth = presets[cell["network"]]
    if float(cell["latency_s"]) != latency or float(cell["bandwidth_bits_per_s"]) != bandwidth:
        errors.append(f"{cell['network']}: latency {cell['latency_s']}, bandwidth {cell['bandwidth_bits_per_s']}")
    if cell["method"] in ("dcgd", "ist") and cell["topology"] != "server":
        errors.append(f"{cell['method']} on topology {cell['topology']}: the sketched methods use the server")
    if cell["method"] != "gd":
        continue
    flops = 2 * d * d / 1e11  # one worker's L_i x at the default 1e11 flop/s
    if cell["topology"] == "server":
        round_s = flops + 2 * latency + 2 * d * 32 / bandwidth
    else:
        round_s = flops + 2 * (n - 1) * latency + 2 * (n - 1) / n * d * 32 / bandwidth
    if not math.isclose(float(cell["model_time_s"]), rounds * round_s, rel_tol=1e-12):
        errors.append(f"gd {cell['network']} {cell['topology']}: model_time_s {cell['model_time_s']}, "
                      f"by hand {rounds * round_s}")
    if float(cell["flops"]) != rounds * 2 * d * d:
        errors.append(f"gd flops {cell['flops']}, by hand {rounds * 2 * d * d}")
for error in errors:
    print("  " + error)
sys.exit(1 if errors else 0)
EOF
  fail "modelled time (above)"
else
  echo "ok   model_time_s and flops by hand, topologies per method"
fi

# A budget of modelled seconds: gd on a custom link of the wan's 20 ms and 10 Mbit/s takes
# 40 ms + 256 µs a round, so 1 s is 25 rounds.
cat > "$work/budget.yaml" <<'EOF'
experiment: cost_budget
problem: {generator: dense, dim: 40, num_workers: 4, heterogeneity: 0.3}
network: {name: custom, latency_s: 0.02, bandwidth_bits_per_s: 1.0e+7}
methods: [{method: gd}]
step_size: {relative: 0.5}
run: {max_iters: 60, time_budget: 1.0}
EOF
if "$istlab" sweep "$work/budget.yaml" --out "$work/budget" --quiet; then
  line=$(grep ',gd,' "$work/budget/cost_budget/cells.csv")
  if [[ "$line" == *",budget,"*",25,"* ]]; then
    echo "ok   run.time_budget stops gd on the wan after 25 rounds"
  else
    fail "time_budget: $line"
  fi
else
  fail "the budget sweep exited with $?"
fi

expect_error() {  # name, expected message fragment, network: and run: lines
  printf 'experiment: %s\nmethods: [{method: gd}]\nstep_size: 0.1\n%s\n' "$1" "$3" > "$work/$1.yaml"
  check_config_error "$1" "$2" "$work/$1.yaml"
}
expect_error unknown_preset "network: value 'lan' is not a network (did you mean 'ethernet'?); valid: none, datacenter" "network: lan"
expect_error custom_without_bandwidth "network.bandwidth_bits_per_s" \
  "network: {name: custom, latency_s: 1e-3}"
expect_error three_byte_floats "network.bytes_per_float: value '3' must be 4 or 8" \
  "network: {name: wan, bytes_per_float: 3}"
expect_error negative_latency "network.latency_s: value '-1' must be positive" \
  "network: {name: wan, latency_s: -1}"
expect_error budget_without_network "run.time_budget: counts modelled seconds" \
  "run: {time_budget: 5}"
expect_error unknown_network_key "network.speed" "network: {name: wan, speed: 3}"
expect_error bandwidth_without_a_model "network.bandwidth_bits_per_s: value '1000000000' has no effect without a network model" \
  "network: {bandwidth_bits_per_s: 1.0e+9}"

exit_with_failures
