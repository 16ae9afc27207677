#!/usr/bin/env bash
# Hostile data files (issue 21, items 3 and 10): small files that promise gigabytes are
# refused from their header or a first pass over the text, before anything of that size is
# allocated, naming the file, the shape and the bytes; running out of memory all the same
# names the file (a dataset) or the command (anything else); gzip data followed by other
# bytes, an unreadable plain file and real-valued labels for a classifier are refusals with
# reasons. ISTLAB_MEMORY_LIMIT_BYTES stands in for a small machine, `ulimit -v` for memory
# that runs out, so no case allocates more than a few tens of MB.
# Usage: data_bombs.sh ISTLAB WORKDIR
set -uo pipefail
istlab=$1 work=$2
python=/usr/bin/python3
rm -rf "$work" && mkdir -p "$work"
source "$(dirname "$0")/lib.sh"

# config NAME GENERATOR DATASET [MORE PROBLEM KEYS]: a one-cell sweep on a dataset.
config() {
  printf 'experiment: %s\nproblem: {generator: %s, dataset: %s, num_workers: 2%s}\nmethods: [{method: gd}]\nstep_size: 0.1\nrun: {max_iters: 2}\n' \
    "$1" "$2" "$3" "${4:-}" > "$work/$1.yaml"
}
dry_run() { echo sweep "$work/$1.yaml" --out "$work/out" --dry-run; }

# --- Item 3: sized before anything is allocated -------------------------------------------

# An IDX header promising 2^31 pixels (10 GiB as floats), gzip-compressed, with 4 of them.
"$python" - "$work" <<'EOF'
import gzip, struct, sys
folder = sys.argv[1]
with gzip.open(f"{folder}/images.gz", "wb") as f:
    f.write(b"\0\0\x08\x03" + struct.pack(">III", 32768, 256, 256) + b"\x01\x02\x03\x04")
with gzip.open(f"{folder}/labels.gz", "wb") as f:
    f.write(b"\0\0\x08\x01" + struct.pack(">I", 32768) + bytes(32768))
# One LIBSVM line with index 2·10^9 in a 2 MiB file: within the sparse-size rule, 7.5 GiB dense.
with open(f"{folder}/wide.svm", "w") as f:
    f.write("1 2000000000:1\n#" + "x" * (2 << 20) + "\n")
# One CSV line of 2^22 fields, gzip-compressed to a few kB.
with gzip.open(f"{folder}/line.csv.gz", "wb", compresslevel=1) as f:
    f.write(b"0," * ((1 << 22) - 1) + b"1\n")
# 4 LIBSVM lines up to index 4·10^6: 16·10^6 values (64 MB), within the sparse-size rule.
with open(f"{folder}/four.svm", "w") as f:
    for label in range(4): f.write(f"{label % 2} 4000000:1\n")
# 1000 samples of 4 features: small, but not with 16384 random features (65 MB).
with open(f"{folder}/small.csv", "w") as f:
    for i in range(1000): f.write(f"{i % 3},{i % 5},{i % 7},{i % 11},{i % 2}\n")
EOF
config idx_header least_squares "{path: $work/images.gz, labels: $work/labels.gz, format: idx}"
ISTLAB_MEMORY_LIMIT_BYTES=1073741824 expect idx_header_promises_10_gib 2 \
  "images.gz: expected a dataset that fits in memory: its 32768 samples × 65536 features need about 10.00 GiB (10.00 GiB to read), but 1.00 GiB available (capped by ISTLAB_MEMORY_LIMIT_BYTES)" -- $(dry_run idx_header)
config wide least_squares "{path: $work/wide.svm, format: libsvm}"
ISTLAB_MEMORY_LIMIT_BYTES=1073741824 expect libsvm_huge_index 2 \
  "wide.svm: expected a dataset that fits in memory: its 1 sample × 2000000000 features need about 7.46 GiB" -- $(dry_run wide)
config line least_squares "{path: $work/line.csv.gz, format: csv}"
ISTLAB_MEMORY_LIMIT_BYTES=16777216 expect csv_one_long_line 2 \
  "line.csv.gz: expected a dataset that fits in memory: its 1 sample × 4194303 features need about 33.0 MiB (33.0 MiB to read), but 16.0 MiB available" -- $(dry_run line)
config relu least_squares "{path: $work/small.csv, format: csv}" ", preprocess: {random_relu: 16384}"
ISTLAB_MEMORY_LIMIT_BYTES=33554432 expect random_relu_too_wide 2 \
  "MiB to preprocess), but 32.0 MiB available (capped by ISTLAB_MEMORY_LIMIT_BYTES); use a smaller file or fewer preprocess.random_relu features, or free memory" -- $(dry_run relu)
ISTLAB_MEMORY_LIMIT_BYTES=1G expect memory_limit_not_bytes 2 \
  "ISTLAB_MEMORY_LIMIT_BYTES: expected a whole number of bytes of at least 1, found '1G'" -- $(dry_run relu)

# Memory that runs out all the same (a 60 MB address space, a 64 MB matrix): the file is named.
config four least_squares "{path: $work/four.svm, format: libsvm}"
vm_kib=60000
expect out_of_memory_reading 2 \
  "four.svm: expected enough memory to read it (4 samples × 4000000 features): out of memory while reading it" -- $(dry_run four)
# ... and anywhere else the command is (100,000 cells do not fit in 60 MB).
printf 'experiment: grid\nmethods: [{method: gd}]\nstep_size: 0.1\nrepeats: 100000\nrun: {max_iters: 1}\n' > "$work/grid.yaml"
expect out_of_memory_elsewhere 1 \
  "istlab: run failed: out of memory while running 'istlab sweep $work/grid.yaml' (std::bad_alloc)" -- $(dry_run grid)
vm_kib=

# --- Item 10: gzip's end, unreadable files, labels that are not classes -------------------

printf '1,2,0\n3,4,1\n5,6,0\n7,8,1\n' | gzip > "$work/rows.csv.gz"
size=$(stat -c %s "$work/rows.csv.gz")
{ cat "$work/rows.csv.gz"; printf 'junk'; } > "$work/trailing.csv.gz"
config trailing least_squares "{path: $work/trailing.csv.gz, format: csv}"
expect gzip_trailing_bytes 2 \
  "trailing.csv.gz: offset $size: expected the end of the file after the gzip data (found 4 trailing bytes that are not gzip)" -- $(dry_run trailing)
{ printf '1,2,0\n3,4,1\n' | gzip; printf '5,6,0\n7,8,1\n' | gzip; } > "$work/members.csv.gz"
config members least_squares "{path: $work/members.csv.gz, format: csv}"
expect gzip_members_concatenated 0 "" -- $(dry_run members)
config unreadable least_squares "{path: /proc/self/mem, format: csv}"
expect unreadable_plain_file 2 "/proc/self/mem: offset 0: expected a readable file (Input/output error)" -- $(dry_run unreadable)
"$python" -c "
for i in range(200): print(f'{i % 7},{i % 5},{0.013 * (i + 1):.3f}')" > "$work/real.csv"
config real_mlp mlp "{path: $work/real.csv, format: csv}"
expect real_labels_for_mlp 2 \
  "problem.generator: value 'mlp' classifies: it needs integer class labels (or ±1), but in dataset $work/real.csv the label 0.013 of sample 0 (counted from 0) is not an integer" -- $(dry_run real_mlp)
config real_least_squares least_squares "{path: $work/real.csv, format: csv}"
expect real_targets_for_least_squares 0 "" -- $(dry_run real_least_squares)

exit_with_failures
