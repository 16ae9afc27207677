#!/usr/bin/python3
"""The performance targets of istlab, measured: reads the JSON of one benchmark run (and,
if present, the NumPy comparison and the memory probe) and prints a Markdown table of the
ratios, each against its target. scripts/bench.sh writes it to results/bench/report.md;
docs/performance.md's "Measured" section is that table.

    /usr/bin/python3 bench/report.py --bench-json results/bench/bench.json \
        [--numpy-json results/bench/numpy_compare.json] [--memory-json results/bench/memory.json] \
        [--out results/bench/report.md]

Every ratio compares numbers from the same run, so the machine's speed cancels out.
Exit code 0 whatever the verdicts (it is a report), 2 when the benchmark JSON is unusable.
"""

import argparse
import json
import math
import sys
from pathlib import Path

from bench_names import US_PER_UNIT, parse_name, parse_network_name


def load_runs(path):
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        sys.exit(f"report.py: cannot read {path}: {error}")
    runs = [b for b in data.get("benchmarks", [])
            if b.get("run_type", "iteration") == "iteration" and "error_occurred" not in b]
    if not runs:
        sys.exit(f"report.py: {path} has no benchmark results")
    return data.get("context", {}), runs


def load_medians(path):
    """Median aggregates of a run with --benchmark_repetitions, named like single runs, so
    they replace those: the target rows then rest on several timings, not one."""
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as error:
        sys.exit(f"report.py: cannot read {path}: {error}")
    medians = []
    for b in data.get("benchmarks", []):
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median" and "error_occurred" not in b:
            medians.append(dict(b, name=b["run_name"]))
    return medians


def microseconds(run):
    return run["real_time"] * US_PER_UNIT[run.get("time_unit", "ns")]


def index_runs(runs):
    """Runs by family, each keyed by its name's fields: rounds by (method, storage, d, n,
    threads), triads by (elements, threads), sweeps by (benchmark, config, threads)."""
    found = {"round": {}, "triad": {}, "sweep": {}}
    for run in runs:
        family, fields = parse_name(run["name"])
        if family:
            found[family][tuple(fields.values())] = run
    return found["round"], found["triad"], found["sweep"]


def verdict(ok):
    return "met" if ok else "**not met**"


def bandwidth_rows(rounds, triads):
    """Dense gd rounds (d >= 2048) against the triad on arrays beyond the last-level cache."""
    rows = []
    for threads in (1, 2):
        sizes = [size for size, t in triads if t == threads]
        if not sizes:
            continue
        reference = triads[(max(sizes), threads)]["bytes_per_second"]
        for (method, storage, d, n, t), run in sorted(rounds.items()):
            if method == "gd" and storage == "dense" and d >= 2048 and t == threads:
                fraction = run["bytes_per_second"] / reference
                rows.append((f"dense gd round, d = {d}, n = {n}, {threads} thread(s): bytes/s ÷ triad bytes/s "
                             f"({reference / 1e9:.1f} GB/s, {24 * max(sizes) / 2**30:.1f} GiB arrays)",
                             f"{fraction:.2f} ({run['bytes_per_second'] / 1e9:.1f} GB/s)", "≥ 0.60",
                             verdict(fraction >= 0.6)))
    return rows


def ist_over_gd_rows(rounds):
    rows = []
    for n in (4, 16, 64):
        for threads in (1, 2):
            gd, ist = rounds.get(("gd", "dense", 2048, n, threads)), rounds.get(("ist", "dense", 2048, n, threads))
            if gd and ist:
                ratio = microseconds(gd) / microseconds(ist)
                rows.append((f"dense d = 2048, n = {n}, {threads} thread(s): gd round time ÷ ist round time",
                             f"{ratio:,.0f} ({microseconds(gd):,.0f} µs ÷ {microseconds(ist):,.1f} µs)",
                             f"≥ n²/4 = {n * n // 4}", verdict(ratio >= n * n / 4)))
    return rows


def sparse_growth_rows(rounds, memory):
    """Time per coordinate of the sparse ist round across d: flat means linear in d."""
    rows = []
    for n in (16, 1024):
        for threads in (1, 2):
            points = sorted((d, microseconds(run)) for (m, s, d, nn, t), run in rounds.items()
                            if m == "ist" and s == "sparse" and nn == n and t == threads)
            if len(points) < 2:
                continue
            per_coordinate = ", ".join(f"2^{int(math.log2(d))}: {1e3 * us / d:.1f}" for d, us in points)
            (d0, t0), (d1, t1) = points[-2], points[-1]
            slope = math.log(t1 / t0) / math.log(d1 / d0)
            rows.append((f"sparse ist round, n = {n}, {threads} thread(s): ns per coordinate by d; "
                         f"log-log slope over the last two sizes",
                         f"{per_coordinate}; slope {slope:.2f}", "time ∝ d (slope 1)",
                         verdict(slope <= 1.15)))
    if memory:
        kib = memory.get("max_rss_kib")
        rows.append(("sparse ist, d = 2^20, n = 1024: peak memory of a process that builds the problem "
                     "and runs rounds", f"{kib / 2**20:.2f} GiB", "fits in 24 GiB",
                     verdict(kib is not None and kib < 24 * 2**20)))
    return rows


def thread_rows(rounds):
    """Speed-up of 2 threads over 1 for the largest round of every family, and the smallest
    rounds (which stay serial) must not get slower."""
    rows, families = [], sorted({(m, s) for (m, s, d, n, t) in rounds})
    slowest_small = []
    for method, storage in families:
        pairs = [(microseconds(rounds[(method, storage, d, n, 1)]), microseconds(rounds[(method, storage, d, n, 2)]), d, n)
                 for (m, s, d, n, t) in rounds if (m, s, t) == (method, storage, 1) and (m, s, d, n, 2) in rounds]
        if not pairs:
            continue
        one, two, d, n = max(pairs)
        speedup = one / two
        rows.append((f"{method} {storage}, largest round (d = {d}, n = {n}): 1-thread time ÷ 2-thread time",
                     f"{speedup:.2f} ({one:,.0f} → {two:,.0f} µs)", "≥ 1.7", verdict(speedup >= 1.7)))
        slowest_small += [(one / two, method, storage, d, n, one) for one, two, d, n in pairs if one < 30]
    if slowest_small:
        worst = min(slowest_small)
        rows.append(("rounds under 30 µs (serial below the crossover): worst 1-thread ÷ 2-thread time",
                     f"{worst[0]:.2f} ({worst[1]} {worst[2]} d = {worst[3]}, n = {worst[4]})",
                     "≥ 0.9 (no slower)", verdict(worst[0] >= 0.9)))
    return rows


def sweep_rows(sweeps):
    """The engine's cost per cell against a quickstart cell's compute. Measured directly on
    1005 one-round cells (whose time is nearly all engine), and as the difference between the
    whole quickstart sweep and its mathematics alone (a difference of two noisy timings)."""
    rows = []
    trivial, compute = sweeps.get(("Sweep", "engine_overhead", 1)), sweeps.get(("SweepCompute", "quickstart", 1))
    if trivial and compute:
        engine_per_cell = microseconds(trivial) / trivial.get("cells", 1005)
        compute_per_cell = microseconds(compute) / compute.get("cells", 72)
        share = engine_per_cell / compute_per_cell
        rows.append(("sweep engine per cell (1005 one-round cells) ÷ a quickstart cell's compute, 1 thread",
                     f"{100 * share:.1f}% ({engine_per_cell / 1e3:.2f} ms ÷ {compute_per_cell / 1e3:.1f} ms)", "< 5%",
                     verdict(share < 0.05)))
    for threads in (1, 2):
        whole, compute = sweeps.get(("Sweep", "quickstart", threads)), sweeps.get(("SweepCompute", "quickstart", threads))
        if whole and compute:
            cells = whole.get("cells", 72)
            overhead = (microseconds(whole) - microseconds(compute)) / microseconds(compute)
            rows.append((f"quickstart sweep ({cells:.0f} cells), {threads} thread(s): (whole sweep − its mathematics) "
                         "÷ its mathematics (difference of two timings, ±5% noise)",
                         f"{100 * overhead:.1f}% ({microseconds(whole) / 1e3:.0f} ms vs {microseconds(compute) / 1e3:.0f} ms; "
                         f"{whole['cells_per_second']:.0f} cells/s)", "< 5%", verdict(overhead < 0.05)))
    return rows


def numpy_rows(path):
    try:
        comparison = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return []
    rows = comparison.get("rows", [])
    sketched = [r for r in rows if r["method"] == "ist" or (r["method"] == "dcgd" and r["q"] * 16 <= r["d"])]
    small = [r for r in rows if r["d"] <= 256]

    def worst(selection, key):
        valid = [r for r in selection if r.get(key)]
        return min(valid, key=lambda r: r[key]) if valid else None

    def describe(row, key):
        return f"{row[key]:.1f}× ({row['method']} {row['kind']} d = {row['d']}, n = {row['n']})"

    result = []
    blas = comparison.get("numpy", {}).get("blas", {})
    setup = f"NumPy {blas.get('numpy', '?')} with {blas.get('name', '?')} on {blas.get('threads', '?')} threads, istlab on 2"
    for label, selection, target in (("sketched rounds (ist; dcgd with q ≤ d/16)", sketched, 20),
                                     ("small problems (d ≤ 256)", small, 20)):
        row = worst(selection, "typical_over_istlab_t2")
        if row:
            met = sum(1 for r in selection if (r.get("typical_over_istlab_t2") or 0) >= target)
            result.append((f"{label}: typical NumPy time ÷ istlab time, worst row ({setup})",
                           f"{describe(row, 'typical_over_istlab_t2')}; {met} of {len(selection)} rows ≥ {target}×",
                           f"≥ {target}×", verdict(met == len(selection))))
    for style in ("typical", "vectorised"):
        key = f"{style}_over_istlab_t2"
        row = worst(rows, key)
        if row:
            slower = sum(1 for r in rows if (r.get(key) or 0) < 1)
            result.append((f"every row: {style} NumPy time ÷ istlab time, worst row",
                           f"{describe(row, key)}; {slower} of {len(rows)} rows below 1×", "≥ 1× (never slower)",
                           verdict(slower == 0)))
    return result


def best_gemm(runs, prefix):
    """The fastest GEMM of the run among benchmarks named `prefix`/d:<d>: (flop/s, "d = <d>"),
    or None. The best size, not one size: one size alone moves by 10-20% between runs."""
    gemms = [(run["flops_per_second"], run["name"].split("/")[1].replace(":", " = "))
             for run in runs if run["name"].startswith(prefix + "/")]
    return max(gemms) if gemms else None


def gemm_fraction_row(what, kind, run, gemm):
    """A row: `run`'s flop/s as a fraction of the best GEMM's, target ≥ 0.50."""
    rate, size = gemm
    ratio = run["flops_per_second"] / rate
    return (f"{what}: flop/s ÷ {kind} GEMM flop/s (Eigen, best of this run: {rate / 1e9:.1f} GFLOP/s at {size})",
            f"{ratio:.2f} ({run['flops_per_second'] / 1e9:.1f} GFLOP/s)", "≥ 0.50", verdict(ratio >= 0.5))


def gram_rows(runs):
    """Fashion-MNIST's Grams (bench/data_bench.cpp) against the best dense GEMM of the run."""
    by_name = {run["name"]: run for run in runs}
    gemm = best_gemm(runs, "BM_Gemm")
    rows = []
    for n in (1, 10):
        gram = by_name.get(f"BM_Gram/fashion_mnist/n:{n}/real_time")
        if gemm and gram:
            rows.append(gemm_fraction_row(f"Fashion-MNIST Grams (d = 784, 60,000 samples, n = {n}), 1 thread",
                                          "dense", gram, gemm))
    return rows


def index_network_runs(runs):
    """BM_NetworkRound runs (bench/network_bench.cpp) keyed by (method, d, H, C, n, threads)."""
    found = {}
    for run in runs:
        fields = parse_network_name(run["name"])
        if fields:
            found[tuple(fields.values())] = run
    return found


def network_gemm_rows(runs, network):
    """A one-worker gd round of the float network as a fraction of the best float GEMM flop/s of
    the same run (d = 784 or 1024), as gram_rows does for the double Grams."""
    gemm = best_gemm(runs, "BM_GemmFloat")
    rows = []
    for d, hidden, classes in ((784, 256, 10), (2048, 512, 10)):
        gd = network.get(("gd", d, hidden, classes, 1, 1))
        if gemm and gd:
            rows.append(gemm_fraction_row(f"network gd round {d}-{hidden}-{classes} (batch 128, n = 1), 1 thread",
                                          "float", gd, gemm))
    by_name = {run["name"]: run for run in runs}
    for shape in ("784-256-10", "784-512-256-10"):
        step = by_name.get(f"BM_NetworkWorkerStep/{shape}/threads:1/real_time")
        if gemm and step:
            rows.append(gemm_fraction_row(f"a worker's training step {shape} (batch 128), 1 thread",
                                          "float", step, gemm))
    return rows


def network_ist_rows(network):
    """An ist worker's step against a gd worker's: a round is n worker steps plus the server's
    part, so with 1 thread gd's round time ÷ ist's is the ratio of their total work, i.e. of a
    worker's step. The 2-thread rows add how well each round spreads over the two cores."""
    rows = []
    for d, hidden, classes in ((784, 256, 10), (2048, 512, 10)):
        for n in (2, 4, 8):
            for threads in (1, 2):
                gd = network.get(("gd", d, hidden, classes, n, threads))
                ist = network.get(("ist", d, hidden, classes, n, threads))
                if not gd or not ist:
                    continue
                ratio = microseconds(gd) / microseconds(ist)
                what = ("total work, i.e. a gd worker's step ÷ an ist worker's" if threads == 1
                        else "both rounds spread over 2 cores")
                rows.append((f"network {d}-{hidden}-{classes}, n = {n}, {threads} thread(s): gd round time ÷ ist "
                             f"round time ({what})",
                             f"{ratio:.2f} ({microseconds(gd):,.0f} µs ÷ {microseconds(ist):,.0f} µs)",
                             f"≥ 0.7·n = {0.7 * n:.1f}", verdict(ratio >= 0.7 * n)))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench-json", required=True)
    parser.add_argument("--numpy-json", default="")
    parser.add_argument("--memory-json", default="")
    parser.add_argument("--medians-json", default="",
                        help="a run of the target rows with --benchmark_repetitions: its medians replace them")
    parser.add_argument("--out", default="")
    args = parser.parse_args()

    context, runs = load_runs(args.bench_json)
    repeated = 0
    if args.medians_json and Path(args.medians_json).exists():
        medians = load_medians(args.medians_json)
        replaced = {m["name"] for m in medians}
        runs = [r for r in runs if r["name"] not in replaced] + medians
        repeated = len(medians)
    rounds, triads, sweeps = index_runs(runs)
    network = index_network_runs(runs)
    memory = {}
    if args.memory_json and Path(args.memory_json).exists():
        memory = json.loads(Path(args.memory_json).read_text())
    rows = (bandwidth_rows(rounds, triads) + ist_over_gd_rows(rounds) + sparse_growth_rows(rounds, memory) +
            thread_rows(rounds) + sweep_rows(sweeps) + gram_rows(runs) +
            network_gemm_rows(runs, network) + network_ist_rows(network) +
            (numpy_rows(args.numpy_json) if args.numpy_json else []))

    machine = (f"{context.get('host_name', '?')}: {context.get('num_cpus', '?')} CPUs at "
               f"{context.get('mhz_per_cpu', '?')} MHz, {context.get('date', '?')}")
    note = f" The {repeated} benchmarks behind the target rows are medians of repeated runs." if repeated else ""
    lines = [f"Measured by `scripts/bench.sh` on {machine}.{note}", "",
             "| what | measured | target | verdict |", "|---|---|---|---|"]
    lines += [f"| {what} | {measured} | {target} | {status} |" for what, measured, target, status in rows]
    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        Path(args.out).write_text(text)


if __name__ == "__main__":
    main()
