# What the end-to-end scripts share; source it after setting `istlab` (the binary) and
# `work` (a scratch folder). Each script ends with `exit_with_failures`.

failures=0
fail() { echo "FAIL $*"; failures=$((failures + 1)); }

# check_config_error NAME FRAGMENT FILE: sweeping FILE exits 2, its message holds FRAGMENT, and
# it leaves no output behind.
check_config_error() {
  local name=$1 fragment=$2 file=$3 out="$work/errors"
  local stderr code
  stderr=$("$istlab" sweep "$file" --out "$out" --quiet 2>&1 >/dev/null)
  code=$?
  if [[ $code -ne 2 ]]; then
    fail "$name: exit code $code, expected 2 ($stderr)"
  elif [[ "$stderr" != *"$fragment"* ]]; then
    fail "$name: message '$stderr' lacks '$fragment'"
  else
    echo "ok   $name: $stderr"
  fi
  if [[ -e "$out" ]]; then
    fail "$name: a bad config left output behind"
    rm -rf "$out"
  fi
}

# same_with_threads CONFIG EXPERIMENT FILE...: sweeps CONFIG with 1 and with 2 threads into
# $work/threads1 and $work/threads2 and compares each FILE of the two byte for byte.
same_with_threads() {
  local config=$1 experiment=$2 threads file
  shift 2
  for threads in 1 2; do
    "$istlab" sweep "$config" --out "$work/threads$threads" --threads "$threads" --quiet ||
      fail "the sweep with --threads $threads exited with $?"
  done
  for file in "$@"; do
    if cmp "$work/threads1/$experiment/$file" "$work/threads2/$experiment/$file"; then
      echo "ok   identical with 1 and 2 threads: $file ($(wc -l < "$work/threads1/$experiment/$file") lines)"
    else
      fail "$file differs between 1 and 2 threads"
    fi
  done
}

# expect NAME CODE FRAGMENT -- ARGS...: runs istlab ARGS (under `ulimit -v $vm_kib` when that
# is set), checks the exit code, that stderr holds FRAGMENT and is one line.
vm_kib=
expect() {
  local name=$1 code=$2 fragment=$3
  shift 4
  local stderr actual
  stderr=$( (if [[ -n $vm_kib ]]; then ulimit -v "$vm_kib"; fi; exec "$istlab" "$@") 2>&1 >/dev/null)
  actual=$?
  if [[ $actual -ne $code ]]; then
    fail "$name: exit code $actual, expected $code ($stderr)"
  elif [[ "$stderr" != *"$fragment"* ]]; then
    fail "$name: message '$stderr' lacks '$fragment'"
  elif [[ $code -ne 0 && $(printf '%s\n' "$stderr" | wc -l) -ne 1 ]]; then
    fail "$name: message is not one line: $stderr"
  else
    echo "ok   $name: ${stderr:-(no message)}"
  fi
}

exit_with_failures() {
  echo "$failures failure(s)"
  ((failures == 0))
}
