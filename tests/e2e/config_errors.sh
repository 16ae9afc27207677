#!/usr/bin/env bash
# Bad configs exit with code 2 and a message naming file:line:column, the key and the value.
set -uo pipefail
istlab=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
source "$(dirname "$0")/lib.sh"

expect_error() {  # name, expected message fragment, config text
  printf '%s\n' "$3" > "$work/$1.yaml"
  check_config_error "$1" "$2" "$work/$1.yaml"
}

valid='problem: {generator: dense, dim: 8, num_workers: 2}
methods:
  - method: ist
    sketch: perm
step_size: 0.01'

expect_error unknown_key "unknown_key.yaml:6:1: stepsize: unknown key 'stepsize'" "$valid
stepsize: 0.1"
expect_error wrong_type "wrong_type.yaml:1:50: problem.num_workers: value 'two' is not an integer" \
  "${valid/num_workers: 2/num_workers: two}"
expect_error negative_step "negative_step.yaml:5:12: step_size: value '-0.01' must be positive" \
  "${valid/step_size: 0.01/step_size: -0.01}"
expect_error unknown_method "unknown_method.yaml:3:13: methods[0].method: value 'adam' is not a method; valid: gd, dcgd, ist" \
  "${valid/method: ist/method: adam}"
expect_error malformed "malformed.yaml:" "${valid/step_size: 0.01/step_size: [0.01}"

# Usage errors are exit code 2 too.
"$istlab" sweep 2>/dev/null; code=$?
[[ $code -eq 2 ]] || { echo "FAIL usage: exit code $code, expected 2"; failures=$((failures + 1)); }
"$istlab" sweep "$work/missing.yaml" 2>/dev/null; code=$?
[[ $code -eq 2 ]] || { echo "FAIL missing file: exit code $code, expected 2"; failures=$((failures + 1)); }

[[ $failures -eq 0 ]] && echo "all config errors reported as expected"
exit $((failures > 0))
