#!/usr/bin/python3
"""Compare istlab's time per round with NumPy's (typical and vectorised; bench/numpy_reference.py).

istlab's times come from Google Benchmark rows named
    BM_Round/<method>_<kind>/<d>/<n>/<threads>/real_time      (one iteration = one round)
read from --bench-json, or (default) produced by running build/release/bench/istlab_bench
restricted to the compared rows (writes results/bench/round_for_numpy.json). NumPy's times come
from bench/numpy_reference.py run in a child process with its default threading, and with
OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE removed from that child's environment (OpenBLAS reads them
once, at load time, so they cannot be unset from inside an already running numpy).

Rows: dense d ∈ {64, 256, 1024, 2048} × n ∈ {4, 16}; sparse (tridiagonal) d ∈ {4096, 65536} ×
n ∈ {16, 256}; methods gd, dcgd, ist. Ratios are NumPy time / istlab time, with istlab at 2
threads (the same 2-core budget NumPy's OpenBLAS uses); the 1-thread ratios are shown too.

Targets checked at the end (a report: the exit code is 0 whatever the verdict):
  (a) istlab ≥ 20× faster than typical NumPy on sketched rounds (ist rows; dcgd rows with
      q = d/n ≤ d/16) and on small problems (d ≤ 256);
  (b) istlab never slower than either NumPy version on any row.

Usage (from the repository root, with Debian's /usr/bin/python3):
  /usr/bin/python3 bench/compare_numpy.py                         # runs istlab_bench, then NumPy
  /usr/bin/python3 bench/compare_numpy.py --bench-json FILE.json  # istlab times from FILE
  /usr/bin/python3 bench/compare_numpy.py --numpy-json FILE.json  # reuse NumPy timings
  /usr/bin/python3 bench/compare_numpy.py --repetitions 3         # istlab median of 3 (noisy machine)
Output: the table on stdout and results/bench/numpy_compare.{csv,json}. Exit code 1 on errors
(binary missing or failing, unreadable JSON, NumPy run failing).
"""

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

from bench_names import US_PER_UNIT, parse_name

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
SYSTEM_PYTHON = "/usr/bin/python3"

METHODS = ("gd", "dcgd", "ist")
DENSE_ROWS = [("dense", d, n) for d in (64, 256, 1024, 2048) for n in (4, 16)]
SPARSE_ROWS = [("sparse", d, n) for d in (4096, 65536) for n in (16, 256)]
ROWS = DENSE_ROWS + SPARSE_ROWS
THREADS = (1, 2)
RATIO_THREADS = 2  # istlab's thread count for the headline ratios: NumPy's 2-core budget
SPEEDUP_TARGET = 20.0
SMALL_DIM = 256
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


class CompareError(Exception):
    """A failure that makes the comparison impossible (exit code 1)."""


# ----------------------------------------------------------------------------- istlab side

def benchmark_filter(rows):
    """A --benchmark_filter regex matching exactly the compared rows at 1 and 2 threads."""
    parts = []
    for kind in ("dense", "sparse"):
        dims = sorted({d for k, d, _ in rows if k == kind})
        workers = sorted({n for k, _, n in rows if k == kind})
        if dims:
            parts.append(f"^BM_Round/({'|'.join(METHODS)})_{kind}/({'|'.join(map(str, dims))})/"
                         f"({'|'.join(map(str, workers))})/({'|'.join(map(str, THREADS))})/real_time$")
    return "|".join(parts)


def run_istlab(binary, out_path, min_time, repetitions):
    if not os.access(binary, os.X_OK):
        raise CompareError(f"istlab benchmark binary '{binary}' not found or not executable; "
                           "build the release preset first, or pass --bench-json FILE")
    command = [binary, f"--benchmark_filter={benchmark_filter(ROWS)}", "--benchmark_format=json",
               f"--benchmark_min_time={min_time}", f"--benchmark_out={out_path}",
               "--benchmark_out_format=json", f"--benchmark_repetitions={repetitions}"]
    print("running:", " ".join(f"'{c}'" if "|" in c else c for c in command), file=sys.stderr, flush=True)
    # stdout is the same JSON as the out file; progress and errors go to stderr.
    result = subprocess.run(command, stdout=subprocess.DEVNULL)
    if result.returncode != 0:
        raise CompareError(f"{binary} exited with code {result.returncode}")


def read_istlab_times(path):
    """{(method, kind, d, n, threads): µs per round} from a Google Benchmark JSON file."""
    try:
        with open(path) as source:
            benchmarks = json.load(source)["benchmarks"]
    except (OSError, ValueError, KeyError) as error:
        raise CompareError(f"cannot read Google Benchmark JSON '{path}': {error}") from error
    samples = {}
    for entry in benchmarks:
        family, fields = parse_name(entry.get("run_name", entry["name"]))
        if family != "round" or entry.get("run_type", "iteration") != "iteration" or entry.get("error_occurred"):
            continue  # repetitions' aggregates are recomputed below as a median
        unit = entry.get("time_unit", "ns")
        if unit not in US_PER_UNIT:
            raise CompareError(f"{path}: {entry['name']}: unknown time_unit '{unit}'")
        key = tuple(fields.values())  # (method, kind, d, n, threads)
        samples.setdefault(key, []).append(entry["real_time"] * US_PER_UNIT[unit])
    return {key: median(values) for key, values in samples.items()}


def median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else 0.5 * (ordered[middle - 1] + ordered[middle])


# ----------------------------------------------------------------------------- numpy side

def numpy_environment():
    environment = dict(os.environ)
    for name in OPENBLAS_OVERRIDES:
        environment.pop(name, None)
    return environment


def run_numpy(out_path, min_time):
    rows = [f"{kind}:{d}:{n}" for kind, d, n in ROWS]
    command = [SYSTEM_PYTHON, os.path.join(BENCH_DIR, "numpy_reference.py"), "--time", *rows,
               "--min-time", str(min_time), "--json", out_path]
    print("running NumPy reference (progress below)", file=sys.stderr, flush=True)
    result = subprocess.run(command, env=numpy_environment(), stdout=sys.stderr)
    if result.returncode != 0:
        raise CompareError(f"numpy_reference.py exited with code {result.returncode}")


def read_numpy_times(path):
    """(BLAS info, {(method, kind, d, n, style): µs per round})."""
    try:
        with open(path) as source:
            report = json.load(source)
    except (OSError, ValueError) as error:
        raise CompareError(f"cannot read NumPy timings '{path}': {error}") from error
    times = {(r["method"], r["kind"], r["d"], r["n"], r["style"]): r["us_per_round"] for r in report["records"]}
    return report, times


# ----------------------------------------------------------------------------- table

def ratio(numerator, denominator):
    return numerator / denominator if numerator and denominator else math.nan


def build_table(istlab, numpy_times):
    table = []
    for kind, dim, workers in ROWS:
        for method in METHODS:
            row = dict(method=method, kind=kind, d=dim, n=workers, q=dim if method == "gd" else dim // workers)
            for threads in THREADS:
                row[f"istlab_us_t{threads}"] = istlab.get((method, kind, dim, workers, threads), math.nan)
            for style in ("typical", "vectorised"):
                row[f"numpy_{style}_us"] = numpy_times.get((method, kind, dim, workers, style), math.nan)
            for threads in THREADS:
                for style in ("typical", "vectorised"):
                    row[f"{style}_over_istlab_t{threads}"] = ratio(row[f"numpy_{style}_us"],
                                                                   row[f"istlab_us_t{threads}"])
            table.append(row)
    return table


def format_number(value, digits=1):
    return "n/a" if math.isnan(value) else f"{value:,.{digits}f}"


def print_table(table):
    header = (f"{'method':6s} {'kind':6s} {'d':>6s} {'n':>4s} {'|S_i|':>6s} | {'istlab@1':>10s} "
              f"{'istlab@2':>10s} | {'np typical':>11s} {'np vector':>11s} | {'typ/ist2':>8s} "
              f"{'vec/ist2':>8s} | {'typ/ist1':>8s} {'vec/ist1':>8s}")
    print("time per round in µs; ratios = NumPy time / istlab time (> 1: istlab faster)")
    print(header)
    print("-" * len(header))
    for row in table:
        print(f"{row['method']:6s} {row['kind']:6s} {row['d']:6d} {row['n']:4d} {row['q']:6d} | "
              f"{format_number(row['istlab_us_t1']):>10s} {format_number(row['istlab_us_t2']):>10s} | "
              f"{format_number(row['numpy_typical_us']):>11s} {format_number(row['numpy_vectorised_us']):>11s} | "
              f"{format_number(row['typical_over_istlab_t2'], 2):>8s} "
              f"{format_number(row['vectorised_over_istlab_t2'], 2):>8s} | "
              f"{format_number(row['typical_over_istlab_t1'], 2):>8s} "
              f"{format_number(row['vectorised_over_istlab_t1'], 2):>8s}")


# ----------------------------------------------------------------------------- verdict

def row_label(row):
    return f"{row['method']} {row['kind']} d={row['d']} n={row['n']}"


def speedup_target_applies(row):
    """Target (a): sketched rounds (ist; dcgd with q ≤ d/16) and small problems (d ≤ 256)."""
    sketched = row["method"] == "ist" or (row["method"] == "dcgd" and 16 * row["q"] <= row["d"])
    return sketched or row["d"] <= SMALL_DIM


def verdict(table):
    """Prints both targets with the rows that miss them; returns {target: passed}."""
    ratio_key = f"_over_istlab_t{RATIO_THREADS}"
    speedup_rows = [row for row in table if speedup_target_applies(row)]
    speedup_misses = [row for row in speedup_rows if not row["typical" + ratio_key] >= SPEEDUP_TARGET]
    slower_misses = [row for row in table
                     if not (row["typical" + ratio_key] >= 1.0 and row["vectorised" + ratio_key] >= 1.0)]
    print()
    print(f"(a) istlab@{RATIO_THREADS} >= {SPEEDUP_TARGET:g}x faster than typical NumPy on sketched rounds "
          f"and small problems: {'PASS' if not speedup_misses else 'MISS'} "
          f"({len(speedup_rows) - len(speedup_misses)}/{len(speedup_rows)} rows)")
    for row in speedup_misses:
        print(f"    miss: {row_label(row)}: typical/istlab = {format_number(row['typical' + ratio_key], 2)}")
    print(f"(b) istlab@{RATIO_THREADS} never slower than either NumPy version: "
          f"{'PASS' if not slower_misses else 'MISS'} ({len(table) - len(slower_misses)}/{len(table)} rows)")
    for row in slower_misses:
        print(f"    miss: {row_label(row)}: typical/istlab = {format_number(row['typical' + ratio_key], 2)}, "
              f"vectorised/istlab = {format_number(row['vectorised' + ratio_key], 2)}")
    missing = [row_label(row) for row in table
               if any(math.isnan(row[key]) for key in ("istlab_us_t1", "istlab_us_t2"))]
    if missing:
        print(f"    (no istlab time for {len(missing)} rows, counted as misses: {', '.join(missing)})")
    return {"a_speedup_vs_typical": not speedup_misses, "b_never_slower": not slower_misses}


# ----------------------------------------------------------------------------- output

def write_outputs(table, numpy_report, verdicts, bench_json, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    csv_path = os.path.join(out_dir, "numpy_compare.csv")
    with open(csv_path, "w", newline="") as sink:
        writer = csv.DictWriter(sink, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    json_path = os.path.join(out_dir, "numpy_compare.json")
    with open(json_path, "w") as sink:
        json.dump({"istlab_bench_json": os.path.relpath(bench_json, REPO_ROOT),
                   "ratio_threads": RATIO_THREADS,
                   "numpy": numpy_report,
                   "verdict": verdicts,
                   "rows": [{key: (None if isinstance(value, float) and math.isnan(value) else value)
                             for key, value in row.items()} for row in table]}, sink, indent=1)
    print(f"\nwrote {os.path.relpath(csv_path)} and {os.path.relpath(json_path)}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bench-json", metavar="FILE",
                        help="istlab Google Benchmark JSON to use instead of running the binary")
    parser.add_argument("--binary", default=os.path.join(REPO_ROOT, "build/release/bench/istlab_bench"))
    parser.add_argument("--numpy-json", metavar="FILE",
                        help="NumPy timings from an earlier numpy_reference.py --json run")
    parser.add_argument("--out-dir", default=os.path.join(REPO_ROOT, "results/bench"))
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds per row, both sides (default 0.2)")
    parser.add_argument("--repetitions", type=int, default=1,
                        help="istlab repetitions per row; the median is used (default 1)")
    args = parser.parse_args()
    try:
        os.makedirs(args.out_dir, exist_ok=True)
        bench_json = args.bench_json
        if bench_json is None:
            bench_json = os.path.join(args.out_dir, "round_for_numpy.json")
            run_istlab(args.binary, bench_json, args.min_time, args.repetitions)
        istlab = read_istlab_times(bench_json)
        numpy_json = args.numpy_json
        if numpy_json is None:
            numpy_json = os.path.join(tempfile.mkdtemp(prefix="numpy_compare_"), "numpy_times.json")
            run_numpy(numpy_json, args.min_time)
        numpy_report, numpy_times = read_numpy_times(numpy_json)
    except CompareError as error:
        print(f"compare_numpy: {error}", file=sys.stderr)
        return 1
    blas = numpy_report["blas"]
    print(f"istlab: {os.path.relpath(bench_json)} (ratios use istlab at {RATIO_THREADS} threads)")
    print(f"NumPy {blas['numpy']}, SciPy {blas['scipy']}, BLAS: {blas['name']} "
          f"{blas.get('core', '')} threads={blas['threads']} ({', '.join(blas['libraries'])}); "
          f"time = {numpy_report['statistic']}, >= {numpy_report['min_time_s']} s per row")
    table = build_table(istlab, numpy_times)
    print_table(table)
    verdicts = verdict(table)
    write_outputs(table, numpy_report, verdicts, bench_json, args.out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
