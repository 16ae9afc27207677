#!/usr/bin/env bash
# Hostile inputs and faults (issue 12): each case checks the exit code and the message,
# and that nothing is computed or written when the input is refused.
# Usage: hardening.sh ISTLAB WORKDIR
set -uo pipefail
istlab=$1 work=$2
rm -rf "$work" && mkdir -p "$work"
source "$(dirname "$0")/lib.sh"

valid='methods: [{method: gd}]
step_size: 0.1
run: {max_iters: 3}'
printf '%s\n' "$valid" > "$work/valid.yaml"

# 1. Non-UTF-8 bytes: refused before any work, with the byte's position.
printf '# caf\xe9\n%s\n' "$valid" > "$work/latin1.yaml"
expect latin1_config 2 "latin1.yaml:1:6: byte 0xE9 is not UTF-8" -- sweep "$work/latin1.yaml" --out "$work/out1"
[[ -e "$work/out1" ]] && fail "latin1_config: output written"
cp "$work/valid.yaml" "$work/caf$(printf '\xe9').yaml"
expect latin1_file_name 2 "the file name is not UTF-8 (byte 0xE9" -- sweep "$work/caf$(printf '\xe9').yaml" --out "$work/out1"
# A non-UTF-8 --out path is fine: the manifest stores the command line with a replacement.
printf 'experiment: utf\n%s\n' "$valid" > "$work/utf.yaml"
expect latin1_out_path 0 "" -- sweep "$work/utf.yaml" --out "$work/out$(printf '\xe9')" --quiet
[[ -s "$work/out$(printf '\xe9')/utf/manifest.json" ]] || fail "latin1_out_path: no manifest"

# 2. Output folders come only from safe names.
cp "$work/valid.yaml" "$work/...yaml"
cp "$work/valid.yaml" "$work/..yaml"
expect dots_file_name 2 "experiment: value '..' must be a folder name" -- sweep "$work/...yaml" --out "$work/out2/inner"
expect two_dots_file_name 2 "experiment: value '.' must be a folder name" -- sweep "$work/..yaml" --out "$work/out2/inner"
[[ -e "$work/out2" ]] && fail "dots_file_name: output written"
# merge: a shard manifest naming such a config path is refused too.
"$istlab" sweep "$work/utf.yaml" --out "$work/shard" --quiet
python3 - "$work/shard/utf/manifest.json" "$valid" <<'PY'
import json, sys
manifest = json.load(open(sys.argv[1]))
manifest.update(config_path="/tmp/...yaml", config_text=sys.argv[2])  # no experiment: key
json.dump(manifest, open(sys.argv[1], "w"))
PY
expect merge_config_path 2 "experiment: value '..' must be a folder name" -- merge "$work/shard" --out "$work/out2m"
[[ -e "$work/out2m" ]] && fail "merge_config_path: output written"
printf '{"experiment": "x"}' > "$work/shard/utf/manifest.json"
expect merge_manifest_without_hash 2 "manifest.json: config_hash: missing from the manifest" -- merge "$work/shard" --out "$work/out2m"
printf '{"experiment": "x", "config_hash": "ÿ' > "$work/shard/utf/manifest.json"
expect merge_manifest_not_json 2 "manifest.json: not a manifest" -- merge "$work/shard" --out "$work/out2m"

# 4. log_points cannot exceed max_iters.
printf 'methods: [{method: gd}]\nstep_size: 0.1\nrun: {max_iters: 100, record: {log_points: 2147483647}}\n' > "$work/log_points.yaml"
expect log_points 2 "run.record.log_points: value '2147483647' must be at most max_iters (100)" -- sweep "$work/log_points.yaml" --out "$work/out4"

# 5. Thread counts.
expect threads_huge 2 "istlab: --threads: must be a whole number from 1 to 1024, got '10000000'" -- sweep "$work/valid.yaml" --threads 10000000 --out "$work/out5"
expect threads_zero 2 "istlab: --threads: must be a whole number from 1 to 1024, got '0'" -- sweep "$work/valid.yaml" --threads 0 --out "$work/out5"
if command -v taskset >/dev/null; then
  threads=$(taskset -c 0 "$istlab" sweep "$work/valid.yaml" --out "$work/out5" --dry-run | sed -n 's/.* on \([0-9]*\) threads.*/\1/p')
  [[ "$threads" == 1 ]] && echo "ok   threads_from_affinity: 1 thread under taskset -c 0" ||
    fail "threads_from_affinity: $threads threads under taskset -c 0"
fi

# 6. Huge grids are refused at once; signals end every stage promptly; special files.
printf 'methods: [{method: gd}]\nstep_size: 0.1\nrepeats: 10000000\n' > "$work/huge.yaml"
start=$(date +%s%N)
expect huge_repeats 2 "repeats: value '10000000' must be at least 1 and at most 100000" -- sweep "$work/huge.yaml" --dry-run --out "$work/out6"
(( ($(date +%s%N) - start) / 1000000 < 2000 )) || fail "huge_repeats: took more than 2 s"
printf 'methods: [{method: gd, step_size: [0.1, 0.2, 0.3, 0.4]}]\nrepeats: 25000\nrun: {max_iters: 1}\n' > "$work/slow.yaml"
"$istlab" sweep "$work/slow.yaml" --dry-run --out "$work/out6" >/dev/null 2>&1 &
pid=$!
sleep 0.3
kill -0 $pid 2>/dev/null || fail "sigint_during_grid_expansion: the dry run ended before the signal"
start=$(date +%s%N)
kill -INT $pid
wait $pid
code=$?
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
[[ $code -ne 0 && $elapsed -lt 1000 ]] && echo "ok   sigint_during_grid_expansion: exit $code after $elapsed ms" ||
  fail "sigint_during_grid_expansion: exit $code after $elapsed ms"
# SIGTERM while a large problem is being built (an eigendecomposition of seconds, which cannot
# stop midway) ends the process within the 2 s grace, not after the build.
printf 'experiment: bigbuild\nproblem: {generator: dense, dim: 2500, num_workers: 4, heterogeneity: 0.5}\nmethods: [{method: ist, sketch: perm}]\nstep_size: {relative: 0.5}\nrun: {max_iters: 2}\n' > "$work/bigbuild.yaml"
"$istlab" sweep "$work/bigbuild.yaml" --out "$work/out6b" --quiet --threads 1 2>"$work/bigbuild.log" &
pid=$!
sleep 0.5 && kill -TERM $pid
start=$(date +%s%N)
wait $pid
code=$? elapsed=$((($(date +%s%N) - start) / 1000000))
[[ $code -eq 143 && $elapsed -lt 4000 ]] && grep -q "interrupted while a problem was being built" "$work/bigbuild.log" &&
  echo "ok   sigterm_during_build: exit $code after $elapsed ms" ||
  fail "sigterm_during_build: exit $code after $elapsed ms: $(cat "$work/bigbuild.log")"
expect dev_zero 2 "/dev/zero: is not a regular file" -- sweep /dev/zero --out "$work/out6"
mkfifo "$work/fifo.yaml"
expect fifo 2 "fifo.yaml: is not a regular file" -- sweep "$work/fifo.yaml" --out "$work/out6"

# 7. A record that fails its checksum is named, counted by status and rerun.
printf 'experiment: records\nmethods: [{method: gd}]\nstep_size: [0.1, 0.2]\nrun: {max_iters: 3}\n' > "$work/records.yaml"
"$istlab" sweep "$work/records.yaml" --out "$work/out7" --quiet 2>/dev/null
cp -r "$work/out7/records" "$work/records_reference"
record=$(find "$work/out7/records/cells" -name '*.cell' | sort | head -1)
sed -i '1s/#status max_iters/#status converged/' "$record"
stdout=$("$istlab" status "$work/records.yaml" --out "$work/out7")
code=$?
[[ $code -eq 1 && "$stdout" == *"1 corrupt"* && "$stdout" == *"corrupt $record"* ]] &&
  echo "ok   corrupt_record_status: $(printf '%s' "$stdout" | grep '^corrupt')" || fail "corrupt_record_status: exit $code: $stdout"
stderr=$("$istlab" sweep "$work/records.yaml" --out "$work/out7" --quiet 2>&1 >/dev/null)
[[ "$stderr" == *"corrupt record $record"*"it will be rerun"* && "$stderr" == *"ran 1"* ]] &&
  cmp -s "$work/out7/records/cells.csv" "$work/records_reference/cells.csv" &&
  echo "ok   corrupt_record_rerun: $(printf '%s' "$stderr" | head -1)" || fail "corrupt_record_rerun: $stderr"

# A record copied onto another cell's file name (its checksum intact) is not that cell's:
# it once gave cells.csv two rows of one cell and none of the other, and status said done.
mapfile -t records < <(find "$work/out7/records/cells" -name '*.cell' | sort)
cp "${records[0]}" "${records[1]}"
stdout=$("$istlab" status "$work/records.yaml" --out "$work/out7")
code=$?
[[ $code -eq 1 && "$stdout" == *"corrupt ${records[1]}: it is the record of cell"* ]] &&
  echo "ok   swapped_record_status: $(printf '%s' "$stdout" | grep '^corrupt')" || fail "swapped_record_status: exit $code: $stdout"
"$istlab" sweep "$work/records.yaml" --out "$work/out7" --quiet 2>/dev/null
cmp -s "$work/out7/records/cells.csv" "$work/records_reference/cells.csv" &&
  echo "ok   swapped_record_rerun: cells.csv as before the swap" || fail "swapped_record_rerun: cells.csv differs"

# 8. A file-size limit is an I/O error with a message, not a silent death.
printf 'experiment: big\nmethods: [{method: gd}]\nstep_size: 0.1\nrun: {max_iters: 2000, record: {every: 1}}\n' > "$work/big.yaml"
stderr=$( (ulimit -f 64; "$istlab" sweep "$work/big.yaml" --out "$work/out8" --quiet) 2>&1 >/dev/null)
code=$?
[[ $code -eq 1 && "$stderr" == *"file size limit"* ]] && echo "ok   file_size_limit: $(printf '%s' "$stderr" | tail -1)" ||
  fail "file_size_limit: exit $code: $stderr"
leftovers=$(find "$work/out8" -name '*.tmp*' | wc -l)
[[ $leftovers -eq 0 ]] || fail "file_size_limit: $leftovers temporary files left"
# status checks the assembled outputs, not only the cell records.
"$istlab" sweep "$work/utf.yaml" --out "$work/out8s" --quiet && rm "$work/out8s/utf/trace.csv"
stdout=$("$istlab" status "$work/utf.yaml" --out "$work/out8s")
code=$?
[[ $code -eq 1 && "$stdout" == *"not assembled: trace.csv missing"* ]] && echo "ok   status_missing_output: $(printf '%s' "$stdout" | tail -1)" ||
  fail "status_missing_output: exit $code: $stdout"

# 9. Messages.
python3 -c "print('methods: ' + '[' * 3000 + ']' * 3000 + '\nstep_size: 0.1')" > "$work/deep.yaml"
expect deep_nesting 2 "malformed YAML: nested deeper than" -- sweep "$work/deep.yaml" --out "$work/out9"
expect directory 2 "is a folder, not a config file" -- sweep "$work" --out "$work/out9"
printf '%s\n---\nfoo: 1\n' "$valid" > "$work/two.yaml"
expect two_documents 2 "holds more than one YAML document" -- sweep "$work/two.yaml" --out "$work/out9"
printf '%s\nbad\x1b[31mkey: 1\n' "$valid" > "$work/control.yaml"
expect control_characters 2 'bad\x1b[31mkey' -- sweep "$work/control.yaml" --out "$work/out9"
expect empty_out 2 "--out: give a folder" -- sweep "$work/valid.yaml" --out ""

# 10. One writer per folder.
printf 'experiment: locked\n%s\n' "$valid" > "$work/locked.yaml"
mkdir -p "$work/out10/locked"
# This shell holds the lock (flock(2), as istlab takes it) for just the one check, then lets go:
# no sleeping holder to wait for.
exec {lock}>"$work/out10/locked/.lock"
flock "$lock"
expect second_writer 2 "is writing this folder" -- sweep "$work/locked.yaml" --out "$work/out10"
# A shard takes the folder's one lock too (it once took a lock of its own, .lock.K-of-N, so two
# shards in one folder each assembled their slice over the other's outputs).
expect shard_while_locked 2 "is writing this folder" -- sweep "$work/locked.yaml" --out "$work/out10" --shard 1/2
exec {lock}>&-
expect after_release 0 "" -- sweep "$work/locked.yaml" --out "$work/out10" --quiet
# A shard run in a finished folder assembles its slice only: status says the outputs no longer
# list every stored cell (it said "done", exit 0), and a whole sweep assembles them again.
printf 'experiment: sliced\nmethods: [{method: gd}]\nstep_size: [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]\nrun: {max_iters: 3}\n' > "$work/sliced.yaml"
"$istlab" sweep "$work/sliced.yaml" --out "$work/out10" --quiet 2>/dev/null
"$istlab" sweep "$work/sliced.yaml" --out "$work/out10" --shard 1/2 --quiet 2>/dev/null
stdout=$("$istlab" status "$work/sliced.yaml" --out "$work/out10")
code=$?
[[ $code -eq 1 && "$stdout" == *"out of date: cells.csv has "*" rows, for "*" of the 6 cells"* ]] &&
  echo "ok   status_after_shard: $(printf '%s' "$stdout" | tail -1)" || fail "status_after_shard: exit $code: $stdout"
"$istlab" sweep "$work/sliced.yaml" --out "$work/out10" --quiet 2>/dev/null
expect status_reassembled 0 "" -- status "$work/sliced.yaml" --out "$work/out10"
# A folder where a record belongs is refused before any cell runs, naming it (every rerun
# used to run the cells and then fail with "cannot rename ... Is a directory", exit 1).
slot=$(ls "$work/out10/locked/cells/"*.cell | head -1)
rm "$slot" && mkdir "$slot"
expect folder_in_record_slot 2 "a folder stands where a cell's record belongs" -- sweep "$work/locked.yaml" --out "$work/out10"
stdout=$("$istlab" status "$work/locked.yaml" --out "$work/out10")
[[ $? -eq 1 && "$stdout" == *"corrupt $slot: a folder stands where the cell's record belongs; remove it"* ]] &&
  echo "ok   folder_in_record_slot_status: $(printf '%s' "$stdout" | grep '^corrupt')" ||
  fail "folder_in_record_slot_status: $stdout"
rmdir "$slot"
expect folder_removed 0 "" -- sweep "$work/locked.yaml" --out "$work/out10" --quiet
# A NUL byte in a text value ("d.csv\0junk" read d.csv and wrote raw NULs into every CSV).
printf '1,2,0\n3,4,1\n' > "$work/d.csv"
printf 'problem:\n  generator: least_squares\n  dataset: {path: "%s/d.csv\\0junk", format: csv}\n  num_workers: 1\n%s\n' \
  "$work" "$valid" > "$work/nul.yaml"
expect nul_in_path 2 "problem.dataset.path: value '$work/d.csv\\0junk' holds a NUL byte" -- sweep "$work/nul.yaml" --out "$work/out12"
[[ -e "$work/out12" ]] && fail "nul_in_path: output written"
# A .lock planted as a link to another user's file is refused, and the file keeps its bytes
# (istlab used to truncate it and write its pid into it).
mkdir -p "$work/out11/locked"
printf 'precious\n' > "$work/victim.txt"
ln -s "$work/victim.txt" "$work/out11/locked/.lock"
expect linked_lock 2 "symbolic link, which istlab never follows" -- sweep "$work/locked.yaml" --out "$work/out11"
[[ $(cat "$work/victim.txt") == precious ]] || fail "linked_lock: the link's target was written"

# merge and status work from the stored records and manifests after a data file moved
# (both exited 2: "problem.dataset.path: data/d.csv: expected a readable file").
mkdir -p "$work/moving"
printf '%s\n' 1,2,1 2,1,0 3,3,1 0,1,0 2,2,1 1,0,0 > "$work/moving/d.csv"
printf 'experiment: moved\nproblem: {generator: least_squares, dataset: {path: "%s/moving/d.csv", format: csv}, num_workers: 2}\nmethods: [{method: gd}]\nstep_size: [0.1, 0.2, 0.3, 0.4]\nrun: {max_iters: 3}\n' \
  "$work" > "$work/moved.yaml"
"$istlab" sweep "$work/moved.yaml" --out "$work/out13/whole" --quiet 2>/dev/null
"$istlab" sweep "$work/moved.yaml" --out "$work/out13/a" --shard 1/2 --quiet 2>/dev/null
"$istlab" sweep "$work/moved.yaml" --out "$work/out13/b" --shard 2/2 --quiet 2>/dev/null
mv "$work/moving/d.csv" "$work/moving/elsewhere.csv"
expect merge_without_data 0 "merged" -- merge "$work/out13/a" "$work/out13/b" --out "$work/out13/merged"
cmp -s "$work/out13/merged/moved/cells.csv" "$work/out13/whole/moved/cells.csv" &&
  echo "ok   merge_without_data_bytes: cells.csv as one run's" || fail "merge_without_data_bytes: cells.csv differs"
stdout=$("$istlab" status "$work/moved.yaml" --out "$work/out13/merged")
code=$?
[[ $code -eq 0 && "$stdout" == *"4 done"* && "$stdout" == *"d.csv cannot be read"*"matched by the fingerprint in manifest.json"* ]] &&
  echo "ok   status_without_data: $(printf '%s' "$stdout" | tail -1)" || fail "status_without_data: exit $code: $stdout"

python3 - "$work/out13/a/moved/manifest.json" "$work/out13/b/moved/manifest.json" <<'PY'
import json, sys
for path in sys.argv[1:]:  # (a shard may hold no cell, and then lists no dataset)
    manifest = json.load(open(path))
    for entry in manifest["datasets"]:
        entry["samples"] = -3
    json.dump(manifest, open(path, "w"))
PY
expect merge_bad_stored_dataset 2 "manifest.json: datasets[0].samples: must be a whole number from 1 to 2^31 - 1" -- merge "$work/out13/a" "$work/out13/b" --out "$work/out13/merged2"

# istlab clean: lists (-n), then removes, the records the grid no longer has; a planted link
# is removed itself, never its target; files that are not records stay.
printf 'experiment: tidy\nmethods: [{method: gd}]\nstep_size: [0.1, 0.2, 0.3]\nrun: {max_iters: 3}\n' > "$work/tidy.yaml"
"$istlab" sweep "$work/tidy.yaml" --out "$work/out14" --quiet 2>/dev/null
sed -i 's/\[0.1, 0.2, 0.3\]/[0.1]/' "$work/tidy.yaml"
ln -s "$work/victim.txt" "$work/out14/tidy/cells/0000000000000000.0000000000000000.cell"
touch "$work/out14/tidy/cells/notes.txt"
expect clean_dry_run 0 "" -- clean "$work/tidy.yaml" --out "$work/out14" -n
# (3 records, their 3 checkpoints, the link, notes.txt)
[[ $(ls "$work/out14/tidy/cells" | wc -l) -eq 8 ]] || fail "clean_dry_run: removed something"
stdout=$("$istlab" clean "$work/tidy.yaml" --out "$work/out14")
[[ "$stdout" == *"removed 5 record files"* && $(ls "$work/out14/tidy/cells" | wc -l) -eq 3 &&
   -e "$work/out14/tidy/cells/notes.txt" && $(cat "$work/victim.txt") == precious ]] &&
  echo "ok   clean: $stdout" || fail "clean: $stdout; left $(ls "$work/out14/tidy/cells")"
expect clean_then_sweep 0 "skipped 1 already done" -- sweep "$work/tidy.yaml" --out "$work/out14" --quiet

# A relative data path is read from the config's folder, wherever istlab runs from, and the
# manifest records it resolved (it was read from the working folder: run from elsewhere, the
# file was not found).
mkdir -p "$work/project/data"
printf '%s\n' 1,2,1 2,1,0 3,3,1 0,1,0 > "$work/project/data/d.csv"
printf 'experiment: relative\nproblem: {generator: least_squares, dataset: {path: data/d.csv, format: csv}, num_workers: 2}\nmethods: [{method: gd}]\nstep_size: 0.1\nrun: {max_iters: 3}\n' > "$work/project/relative.yaml"
istlab_path=$(readlink -f "$istlab")
(cd / && "$istlab_path" sweep "$work/project/relative.yaml" --out "$work/out15" --quiet 2>/dev/null)
code=$?
[[ $code -eq 0 ]] && grep -q "\"$work/project/data/d.csv\"" "$work/out15/relative/manifest.json" &&
  echo "ok   config_relative_path: read $work/project/data/d.csv from /" ||
  fail "config_relative_path: exit $code"

[[ $failures -eq 0 ]] && echo "all hardening cases hold"
exit $((failures > 0))
