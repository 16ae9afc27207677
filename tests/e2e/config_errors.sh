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

# Command-line habits (issue 22): bare `istlab` and `istlab help` print the help (exit 0); an
# unknown command or option is named with the one meant; short flags work.
expect_cli() {  # name, expected exit code, fragment of stdout and stderr, arguments...
  local name=$1 code=$2 fragment=$3 output actual
  shift 3
  output=$("$istlab" "$@" 2>&1)
  actual=$?
  if [[ $actual -eq $code && "$output" == *"$fragment"* ]]; then
    echo "ok   $name: $(printf '%s' "$output" | head -1)"
  else
    fail "$name: exit $actual (expected $code), output lacks '$fragment': $(printf '%s' "$output" | head -3)"
  fi
}
printf '%s\n' "$valid" > "$work/cli.yaml"
expect_cli bare 0 "Subcommands:"
expect_cli help 0 "Subcommands:" help
expect_cli help_sweep 0 "--threads" help sweep
expect_cli help_unknown 2 "no command 'sweeep' (did you mean 'sweep'?)" help sweeep
expect_cli unknown_command 2 "unknown command 'swep' (did you mean 'sweep'?)" swep "$work/cli.yaml"
expect_cli unknown_option 2 "sweep: unknown option '--thread' (did you mean '--threads'?)" sweep "$work/cli.yaml" --thread 1
expect_cli unknown_flag_value 2 "status: unknown option '--verbos' (did you mean '--verbose'?)" status "$work/cli.yaml" --verbos
expect_cli short_flags 0 "memory:" sweep "$work/cli.yaml" -n -j 1 -q -o "$work/short"
[[ -e "$work/short" ]] && fail "short_flags: -n (dry run) wrote output"
expect_cli short_flags_run 0 "ran 1" sweep "$work/cli.yaml" -j 1 -q -o "$work/short"
expect_cli status_verbose 0 "0 missing" status "$work/cli.yaml" -o "$work/short" -v

expect_cli list 0 "local_sgd       local steps on the whole model" list
# --set KEY=VALUE overrides a key, typed and checked like the file, recorded in the manifest.
expect_cli set_override 0 "problem.num_workers              4" sweep "$work/cli.yaml" -n -o "$work/set" --set problem.num_workers=4
expect_cli set_list 0 "step_size absolute 0.02, 0.03" sweep "$work/cli.yaml" -n -o "$work/set" --set 'step_size=[0.02, 0.03]'
expect_cli set_bad_value 2 "--set problem.num_workers=two: problem.num_workers: value 'two' is not an integer" sweep "$work/cli.yaml" -n --set problem.num_workers=two
expect_cli set_unknown_key 2 "unknown key 'num_worker' (did you mean 'num_workers'?)" sweep "$work/cli.yaml" -n --set problem.num_worker=4
expect_cli set_no_equals 2 "--set problem: expected KEY=VALUE" sweep "$work/cli.yaml" -n --set problem
"$istlab" sweep "$work/cli.yaml" -q -o "$work/set" --set problem.num_workers=4 2>/dev/null
grep -q '"problem.num_workers=4"' "$work/set/cli/manifest.json" && echo "ok   set_recorded: in manifest.json" ||
  fail "set_recorded: the override is not in the manifest"

[[ $failures -eq 0 ]] && echo "all config errors reported as expected"
exit $((failures > 0))
