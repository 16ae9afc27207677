#!/usr/bin/env bash
# Microbenchmarks: install what is missing, build istlab_bench, run every Google Benchmark
# (sketch draws, one round of each method, the triad bandwidth reference, a whole sweep, dense
# GEMM, Fashion-MNIST's Grams and IDX reading), compare one round against NumPy, then print the
# performance targets and draw the figures.
#
#   scripts/bench.sh [--quick] [--filter REGEX] [--no-numpy] [--out DIR]
#
# --quick     shorter timings (--benchmark_min_time=0.05) and no NumPy comparison: a smoke run
# --filter    only benchmarks matching REGEX (Google Benchmark's --benchmark_filter)
# --no-numpy  skip bench/compare_numpy.py
# --out DIR   where the JSON goes (default results/bench); figures go to plots/bench_*.png
#             for a full run, DIR/plots/ otherwise
# Writes DIR/bench.json (Google Benchmark's JSON, with the machine's context), DIR/medians.json
# (the target rows repeated), DIR/numpy_compare.{csv,json}, DIR/report.md (docs/performance.md's table).
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0 numpy=1 filter="" out=results/bench
while (($#)); do
  case "$1" in
    --quick) quick=1; numpy=0 ;;
    --no-numpy) numpy=0 ;;
    --filter) filter="$2"; shift ;;
    --out) out="$2"; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "bench.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

scripts/setup.sh
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target istlab_bench
mkdir -p "$out"

min_time=0.3
((quick)) && min_time=0.05
args=(--benchmark_min_time="$min_time" --benchmark_out="$out/bench.json.tmp" --benchmark_out_format=json)
[[ -n "$filter" ]] && args+=(--benchmark_filter="$filter")
start=$SECONDS
echo "bench: running build/release/bench/istlab_bench (a full run takes about 7 minutes)" >&2
build/release/bench/istlab_bench "${args[@]}"
mv "$out/bench.json.tmp" "$out/bench.json"   # only a finished run replaces the last one

# The rows the targets rest on, again with 5 repetitions: their medians go into the report
# (on a shared machine one timing can be off by 10-30%).
if [[ -z "$filter" ]] && ((!quick)); then
  echo "bench: the target rows again, 5 repetitions each" >&2
  build/release/bench/istlab_bench --benchmark_min_time="$min_time" --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true --benchmark_out="$out/medians.json.tmp" --benchmark_out_format=json \
    --benchmark_filter='^BM_Round/(gd|ist)_dense/2048/|^BM_Round/ist_sparse/(1048576|4194304)/(16|1024)/|^BM_Triad/elements:134217728/|^BM_Sweep(Compute)?/|^BM_Gemm/|^BM_Gram/|^BM_NetworkRound/(gd|ist)/|^BM_GemmFloat/' \
    >/dev/null
  mv "$out/medians.json.tmp" "$out/medians.json"
fi

# Peak memory of a process that builds the largest sparse problem (d = 2^20, n = 1024
# workers) and runs IST rounds on it.
if [[ -z "$filter" ]]; then
  /usr/bin/time -f '{"max_rss_kib": %M}' -o "$out/memory.json" build/release/bench/istlab_bench \
    --benchmark_filter='^BM_Round/ist_sparse/1048576/1024/1/' --benchmark_min_time=0.01 >/dev/null
fi

if ((numpy)); then
  echo "bench: one round against NumPy (bench/compare_numpy.py)" >&2
  /usr/bin/python3 bench/compare_numpy.py --bench-json "$out/bench.json" --out-dir "$out"
fi

figures=plots
((quick)) || [[ -n "$filter" || "$out" != results/bench ]] && figures=$out/plots
/usr/bin/python3 bench/report.py --bench-json "$out/bench.json" --numpy-json "$out/numpy_compare.json" \
  --memory-json "$out/memory.json" --medians-json "$out/medians.json" --out "$out/report.md"
/usr/bin/python3 plots/bench_figures.py --bench-json "$out/bench.json" --out-dir "$figures"
echo "bench: done in $((SECONDS - start)) s: $out/bench.json, $out/report.md, $figures/bench_*.png" >&2
