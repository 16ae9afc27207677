#!/usr/bin/env bash
# Networks of any depth end to end, on Fashion-MNIST: the one-hidden-layer results stored in
# tests/golden/mlp_depth1/ (made before networks could be deeper) come out byte for byte; a sweep
# over architectures (hidden: [16, 24-12, 16-12-8]) gives the same bytes with 1 and 2 threads,
# and each depth's floats are its own; a bad `hidden` exits 2 naming the key, the value and
# the rule.
set -uo pipefail
istlab=$1 work=$2
golden="$(dirname "$0")/../golden"
if [[ ! -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]]; then
  echo "SKIP: Debian's dataset-fashion-mnist is not installed"
  exit 77
fi
rm -rf "$work" && mkdir -p "$work"
source "$(dirname "$0")/lib.sh"

"$istlab" sweep "$golden/mlp_depth1.yaml" --out "$work/golden" --threads 2 --quiet ||
  fail "the stored sweep exited with $?"
for file in trace.csv cells.csv problems.csv; do
  if cmp "$work/golden/mlp_depth1_golden/$file" "$golden/mlp_depth1/$file"; then
    echo "ok   one hidden layer: $file as stored, byte for byte"
  else
    fail "one hidden layer: $file differs from tests/golden/mlp_depth1/$file"
  fi
done

config="$work/depths.yaml"
sed -e 's/^experiment: .*/experiment: depths/' \
    -e 's/^  hidden: 16$/  hidden: [16, 24-12, 16-12-8]/' \
    -e 's/^  split: .*/  split: dirichlet/' "$golden/mlp_depth1.yaml" > "$config"
grep -q '24-12' "$config" || fail "the architecture axis was not written into $config"
same_with_threads "$config" depths trace.csv cells.csv problems.csv
cells="$work/threads1/depths/cells.csv"
# 49 inputs, 10 classes: gd sends every parameter each of its 30 rounds.
/usr/bin/python3 - "$cells" <<'PY' || fail "the architectures' floats or statuses are wrong"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
def parameters(widths):
    sizes = [49] + widths + [10]
    return sum(o * (i + 1) for i, o in zip(sizes, sizes[1:]))
for hidden in ("16", "24-12", "16-12-8"):
    gd = [r for r in rows if r["hidden"] == hidden and r["method"] == "gd"]
    assert len(gd) == 1, (hidden, len(gd))
    want = 30 * parameters([int(w) for w in hidden.split("-")])
    assert float(gd[0]["floats_up"]) == want, (hidden, gd[0]["floats_up"], want)
    ist = [r for r in rows if r["hidden"] == hidden and r["method"] == "ist"]
    assert all(float(r["floats_up"]) < want / 2 for r in ist), hidden
assert all(r["status"] == "max_iters" for r in rows), {r["status"] for r in rows}
print(f"ok   {len(rows)} cells over three architectures: gd's floats are each network's parameters")
PY

bad="$work/bad.yaml"
for value in 0 512--256 256- 0256 1-2-3-4-5-6-7-8-9 70000; do
  sed -e "s/^  hidden: 16$/  hidden: $value/" "$golden/mlp_depth1.yaml" > "$bad"
  check_config_error "hidden: $value" "problem.hidden: value '$value' must be widths" "$bad"
done
exit_with_failures
