#!/usr/bin/env bash
# Smoke test of the benchmark pipeline: one small case of every benchmark family, then
# bench/report.py and plots/bench_figures.py on its JSON. Checks that they run and produce
# their outputs; it asserts no timing (speed is measured by scripts/bench.sh, not tests).
set -euo pipefail
bench=$1 work=$2
source_dir=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$work" && mkdir -p "$work"
filter='BM_SketchDraw/(perm|rand)/d:256/n:4$|BM_Round/(gd|dcgd|ist)_(dense|sparse)/(64|4096)/16/(1|2)/|BM_Triad/elements:65536/|BM_Sweep(Compute)?/(quickstart|engine_overhead)/threads:1/|BM_Gemm/d:784/|BM_Gram/fashion_mnist/n:10/|BM_ReadIdx/|BM_PrepareNpy/none/|BM_NetworkRound/ist/784-256-10/n:4/threads:1/|BM_NetworkWorkerStep/784-512-256-10/threads:1/'
"$bench" --benchmark_filter="$filter" --benchmark_min_time=0.001 \
  --benchmark_out="$work/bench.json" --benchmark_out_format=json >"$work/bench.log"
count=$(grep -c '"run_type": "iteration"' "$work/bench.json")
# 2 draws + 3 methods x 2 storages x 2 thread counts + 2 triads + 3 sweeps + GEMM, Grams, IDX
# read (the last two report an error, still counted, when Fashion-MNIST is not installed) + one
# .npy preparation + one network round + one worker step of a two-layer network
[[ $count -eq 25 ]] || { echo "expected 25 benchmark results, got $count" >&2; exit 1; }
/usr/bin/python3 "$source_dir/bench/report.py" --bench-json "$work/bench.json" --out "$work/report.md" >/dev/null
grep -q "sweep engine per cell" "$work/report.md" || { echo "report lacks the sweep row" >&2; exit 1; }
grep -q "1-thread time ÷ 2-thread time" "$work/report.md" || { echo "report lacks the threads rows" >&2; exit 1; }
/usr/bin/python3 "$source_dir/plots/bench_figures.py" --bench-json "$work/bench.json" --out-dir "$work/plots" >/dev/null
for figure in bench_rounds bench_threads bench_bandwidth; do
  [[ -s $work/plots/$figure.png && -s $work/plots/$figure.pdf ]] || { echo "missing $figure" >&2; exit 1; }
done
echo "bench smoke: $count results, report and 3 figures"
