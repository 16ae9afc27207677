#!/usr/bin/env bash
# docs/running.md's SLURM recipe on a real one-node cluster, from a fresh copy of the repository:
#
#   sbatch --array=1-2 scripts/slurm-array.sh experiments/grid500.yaml
#   build/release/bin/istlab merge results/shards/* --out results
#
# must give trace.csv and cells.csv byte-identical to one process. As root, starts its own
# munged, slurmctld and slurmd from a slurm.conf in WORKDIR (own ports, socket, spool and
# state: the machine's SLURM and munge set-up is not touched) and stops them on exit. The
# copy lives in WORKDIR/clone with build/release/bin/istlab linked to the binary under test.
# Prints "SKIP: reason" and exits 77 where SLURM cannot start (not root, not installed, a
# daemon does not come up).
#
#   tests/e2e/slurm.sh ISTLAB_BINARY WORKDIR
set -euo pipefail
istlab=$(realpath "$1") work=$(realpath -m "$2")
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
tasks=2 timeout=120
run=$work/run    # the daemons' sockets, pid files, logs, state and spool
clone=$work/clone
export SLURM_CONF=$run/slurm.conf
unset ISTLAB_BIN SLURM_JOB_ID SLURM_ARRAY_TASK_ID

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }
log_tail() { [[ ! -f $1 ]] || { echo "--- $1"; tail -n 15 "$1"; }; }

# Our processes, from this run or from an earlier one killed before its trap ran: the
# daemons name $run in their command line, SLURM's job steps hold a log under it open, and
# the jobs' processes carry ISTLAB_SLURM_TEST=$run (set for sbatch only), so nothing else
# is matched.
our_pids() {
  {
    grep -lzF -e "$run/" /proc/[0-9]*/cmdline
    grep -lzx -e "ISTLAB_SLURM_TEST=$run" /proc/[0-9]*/environ
    find /proc/[0-9]*/fd -lname "$run/*"
  } 2>/dev/null | cut -d/ -f3 | sort -u | grep -vx -e "$$" -e "$PPID" || true
}
running() {  # pid: alive and not a zombie
  local stat
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}
stop_all() {
  local pids=() pid left signal
  for pid in $(our_pids); do running "$pid" && pids+=("$pid"); done  # not the grep that found itself
  ((${#pids[@]})) || return 0
  for signal in TERM KILL; do  # TERM lets slurmctld reap its slurmscriptd
    kill -s "$signal" "${pids[@]}" 2>/dev/null || true
    for _ in $(seq 30); do
      left=0
      for pid in "${pids[@]}"; do running "$pid" && left=1; done
      ((left)) || return 0
      sleep 0.1
    done
  done
  echo "could not stop processes ${pids[*]}"
}
job=""
cleanup() {
  [[ -z $job ]] || scancel "$job" 2>/dev/null || true
  stop_all || true
}

[[ $(id -u) -eq 0 ]] || skip "not root: this test starts its own munged, slurmctld and slurmd"
export PATH=$PATH:/usr/sbin
for program in munged slurmctld slurmd sbatch squeue scontrol sinfo scancel; do
  command -v "$program" >/dev/null ||
    skip "$program not installed (Debian: apt-get install slurm-wlm munge; scripts/setup.sh installs them)"
done
node=$(hostname -s 2>/dev/null || true)
[[ -n $node ]] || skip "no host name"

stop_all
rm -rf "$work"
mkdir -p "$run/state" "$run/spool" "$clone"
chmod 700 "$run"
trap cleanup EXIT

# Two free TCP ports (a port is taken when it appears in /proc/net/tcp*).
port_free() { ! grep -qi ":$(printf '%04X' "$1") " /proc/net/tcp /proc/net/tcp6 2>/dev/null; }
for _ in $(seq 100); do
  port=$((20000 + RANDOM % 30000))
  port_free "$port" && port_free $((port + 1)) && break
done

dd if=/dev/urandom of="$run/munge.key" bs=1024 count=1 status=none
chmod 600 "$run/munge.key"
munged --foreground --force --socket="$run/munge.socket" --key-file="$run/munge.key" \
  --pid-file="$run/munged.pid" --seed-file="$run/munged.seed" --log-file="$run/munged.log" \
  >"$run/munged.out" 2>&1 &
disown  # stopped by stop_all, without a "Killed" line from bash
for _ in $(seq 100); do [[ -S $run/munge.socket ]] && break; sleep 0.1; done
[[ -S $run/munge.socket ]] || { log_tail "$run/munged.out"; log_tail "$run/munged.log"; skip "munged did not start"; }

# All tasks at once (2 CPUs each: the recipe's --cpus-per-task) fit on the node whatever
# nproc says (config_overrides: the node is not drained for having fewer real CPUs).
cpus=$(nproc)
((cpus >= 2 * tasks)) || cpus=$((2 * tasks))
cat >"$SLURM_CONF" <<EOF
ClusterName=istlabtest
SlurmctldHost=$node(127.0.0.1)
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$run/munge.socket
StateSaveLocation=$run/state
SlurmdSpoolDir=$run/spool
SlurmctldPidFile=$run/slurmctld.pid
SlurmdPidFile=$run/slurmd.pid
SlurmctldLogFile=$run/slurmctld.log
SlurmdLogFile=$run/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/builtin
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
SlurmdParameters=config_overrides
NodeName=$node NodeAddr=127.0.0.1 CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$node Default=YES MaxTime=INFINITE State=UP
EOF

slurmctld -D -i -f "$SLURM_CONF" >"$run/slurmctld.out" 2>&1 &
daemons=($!)
disown
slurmd -D -N "$node" -f "$SLURM_CONF" >"$run/slurmd.out" 2>&1 &
daemons+=($!)
disown
state=""
for _ in $(seq 300); do
  state=$(sinfo -h -N -n "$node" -o %t 2>/dev/null || true)
  [[ $state == idle ]] && break
  for pid in "${daemons[@]}"; do running "$pid" || break 2; done  # a daemon died: no use waiting
  sleep 0.1
done
if [[ $state != idle ]]; then
  for file in "$run"/slurmctld.out "$run"/slurmctld.log "$run"/slurmd.out "$run"/slurmd.log; do log_tail "$file"; done
  skip "the one-node SLURM cluster did not come up (node $node: ${state:-no answer})"
fi
echo "SLURM up: node $node, $cpus CPUs, slurmctld port $port"

# A fresh clone of the working tree (tracked and new files, as they are now), built: its
# build/release/bin/istlab is the binary under test.
if git -C "$source_dir" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$source_dir" ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' file; do [[ ! -e $source_dir/$file ]] || printf '%s\0' "$file"; done |
    tar -C "$source_dir" --null -T - -cf - | tar -C "$clone" -xf -
else
  tar -C "$source_dir" --exclude=./build --exclude=./.git --exclude='./results/*' -cf - . | tar -C "$clone" -xf -
  mkdir -p "$clone/results"
fi
mkdir -p "$clone/build/release/bin"
ln -s "$istlab" "$clone/build/release/bin/istlab"
cd "$clone"

start=$SECONDS
echo "\$ sbatch --array=1-$tasks scripts/slurm-array.sh experiments/grid500.yaml"
submitted=$(ISTLAB_SLURM_TEST=$run sbatch --array=1-$tasks scripts/slurm-array.sh experiments/grid500.yaml) ||
  fail "sbatch refused the array"
echo "$submitted"
job=${submitted##* }
[[ $job =~ ^[0-9]+$ ]] || fail "no job id in: $submitted"

# Done when every task is in a final state (no accounting, so scontrol, which keeps
# finished jobs for MinJobAge = 300 s).
final='^(COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|PREEMPTED)$'
while :; do
  states=$(scontrol -o show job "$job" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 || true)
  if [[ -n $states ]]; then
    done=1
    while read -r state; do [[ $state =~ $final ]] || done=0; done <<<"$states"
    ((done)) && break
  fi
  ((SECONDS - start < timeout)) || { squeue -j "$job" || true; fail "the array did not finish within $timeout s"; }
  sleep 0.2
done
echo "array $job finished in $((SECONDS - start)) s"

bad=0
for task in $(seq "$tasks"); do
  line=$(scontrol -o show job "$job" | grep " ArrayTaskId=$task " || true)
  state=$(grep -o 'JobState=[^ ]*' <<<"$line" | cut -d= -f2)
  code=$(grep -o ' ExitCode=[^ ]*' <<<"$line" | cut -d= -f2)
  output=$(grep -o 'StdOut=[^ ]*' <<<"$line" | cut -d= -f2)
  note="log $output"
  [[ -f $output ]] || note="no log: $output could not be opened"
  echo "task $task: $state, exit code $code, $note"
  [[ $state == COMPLETED && $code == 0:0 && -f $output ]] || bad=1
  [[ ! -f $output ]] || sed 's/^/    /' "$output"
done
((bad == 0)) || fail "the array's tasks did not all complete with a log"

echo "\$ build/release/bin/istlab merge results/shards/* --out results"
code=0
build/release/bin/istlab merge results/shards/* --out results 2>"$work/merge.log" || code=$?
sed 's/^/    /' "$work/merge.log"
((code == 0)) || fail "the recipe's merge command exited $code"

"$istlab" sweep experiments/grid500.yaml --out "$work/single" --quiet 2>"$work/single.log"
for file in trace.csv cells.csv; do
  cmp "$work/single/grid500/$file" "results/grid500/$file" || fail "$file differs from one process's"
  echo "identical to one process: $file"
done

# merge skips a file among its folders (a log a glob took in) but refuses a missing path.
code=0
build/release/bin/istlab merge results/shards/* slurm-*.log --out "$work/with_logs" 2>"$work/with_logs.log" || code=$?
if ((code != 0)) || ! grep -q "^merge: skipping slurm-.*: not a folder" "$work/with_logs.log"; then
  cat "$work/with_logs.log"; fail "merge did not skip a log file among its folders (exit $code)"
fi
cmp "$work/single/grid500/trace.csv" "$work/with_logs/grid500/trace.csv"
code=0
build/release/bin/istlab merge results/shards/* results/no-such-folder --out "$work/missing" 2>"$work/missing.log" || code=$?
((code == 2)) || { cat "$work/missing.log"; fail "merge of a missing folder exited $code, not 2"; }
echo "merge skips files among its folders and refuses a missing one (exit 2)"
echo "PASS: the SLURM recipe of docs/running.md, $tasks tasks, $((SECONDS - start)) s from sbatch to the checks' end"
