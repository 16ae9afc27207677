#!/usr/bin/python3
"""Benchmark figures: round time vs d, 2-thread speed-up, bandwidth against a STREAM triad.

Reads the Google Benchmark JSON written by build/release/bench/istlab_bench (scripts/bench.sh)
and writes three figures into --out-dir, each as PNG and PDF (the PDF has no creation date, so
the same JSON gives the same bytes):
  bench_rounds     time per round vs d, 1 thread; dense and sparse panels with slope references
  bench_threads    speed-up of 2 threads over 1 vs the 1-thread round time
  bench_bandwidth  triad GB/s vs working set; dense gd round's bytes/s as a fraction of the triad's
Aggregates and errored runs are skipped; a panel whose benchmarks are missing from the JSON
(e.g. a --benchmark_filter run) says so. Exits 2 if the JSON is missing or has no BM_Round.

Usage : /usr/bin/python3 plots/bench_figures.py [--bench-json results/bench/bench.json]
                                                [--out-dir plots]
"""

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
# common from this folder; bench_names (the benchmark-name parser) from bench/.
sys.path[:0] = [HERE, os.path.join(os.path.dirname(HERE), "bench")]

from bench_names import US_PER_UNIT, parse_name  # noqa: E402
from common import (  # noqa: E402  (common selects the Agg backend)
    PLOTS_DIR, REPO_ROOT, apply_style, die, die_results, method_color, method_sort_key,
    save_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter, NullLocator  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

N_STYLES = [("-", "o"), ("--", "s"), (":", "^"), ("-.", "D")]  # (line, marker) per n
STORAGE_MARKER = {"dense": "o", "sparse": "s"}
PARALLEL_ROUND_FLOPS = 1e5  # kParallelRoundFlops in src/istlab/method/worker_loops.hpp
SPEEDUP_TARGET, BANDWIDTH_TARGET = 1.7, 0.6
REF_LS = (0, (5, 3))
SLOPES = {  # storage: (slope, label, docs/theory.md §3 cost rule)
    "dense": (2, r"$\propto d^2$",
              r"gd $\propto n d^2$, dcgd $\propto d^2$, ist (perm) $\propto d^2/n$"),
    "sparse": (1, r"$\propto d$", r"tridiagonal: every method $\propto d$")}


def load(path):
    """Return (context, rounds, triads, sweeps) as DataFrames with times in µs."""
    if not os.path.isfile(path):
        die_results("benchmark JSON not found: {}".format(path), "scripts/bench.sh")
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        die("cannot read {} as JSON: {}".format(path, e))
    rows = {"round": [], "triad": [], "sweep": []}
    for e in doc.get("benchmarks", []):
        if e.get("run_type", "iteration") != "iteration" or "error_occurred" in e:
            continue
        family, fields = parse_name(e.get("name", ""))
        if not family or fields.get("benchmark") == "SweepCompute":
            continue  # the sweep note is about whole sweeps, not their mathematics alone
        counters = {k: v for k, v in e.items() if k.endswith(("_per_second", "_per_round"))}
        us = e.get("real_time", np.nan) * US_PER_UNIT.get(e.get("time_unit"), np.nan)
        rows[family].append(dict(fields, us=us, **counters))
    if not rows["round"]:
        die("{} has no BM_Round entries (was the benchmark run with a --benchmark_filter that "
            "drops them?)".format(path))
    return (doc.get("context", {}),) + tuple(pd.DataFrame(r) for r in rows.values())


def threads_label(t):
    return "{} thread{}".format(t, "" if t == 1 else "s")


def marker(color, mk, label, **kw):
    """Legend handle: a marker without a line."""
    return Line2D([], [], color=color, lw=0, marker=mk, label=label, **kw)


def ref_line(ax, y, text, ls, left=True):
    """Horizontal reference line labelled at the left (above it) or right (below it) edge."""
    ax.axhline(y, color="0.3", lw=1.2, ls=ls)
    ax.annotate(text, (0.005 if left else 0.995, y), xycoords=("axes fraction", "data"),
                xytext=(0, 3 if left else -3), textcoords="offset points", fontsize=8.5,
                ha="left" if left else "right", va="bottom" if left else "top")


def missing(ax, what):
    ax.text(0.5, 0.5, "no {} entries in this JSON:\npanel skipped".format(what), ha="center",
            va="center", transform=ax.transAxes, color="0.4", fontsize=10)
    ax.set(xticks=[], yticks=[])


def pow2_axis(ax, values):
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_locator(FixedLocator(sorted(set(values))))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda v, _: "{:d}".format(int(v)) if v < 4096 else "$2^{{{:d}}}$".format(int(np.log2(v)))))
    ax.set_xlabel("dimension d (log$_2$ scale)")


def slope_line(ax, g, slope, label):
    """Dashed d^slope line through the middle point of the median-n dcgd (or first) curve."""
    meth = "dcgd" if "dcgd" in set(g["method"]) else g["method"].iloc[0]
    c = g[g["method"] == meth]
    c = c[c["n"] == sorted(c["n"].unique())[c["n"].nunique() // 2]].sort_values("d")
    d0, t0 = c["d"].iloc[len(c) // 2], c["us"].iloc[len(c) // 2]
    ds = np.array([g["d"].min(), g["d"].max()], float)
    ax.plot(ds, t0 * (ds / d0) ** slope, color="0.2", ls=REF_LS, lw=1.2, zorder=4)
    ax.plot([d0], [t0], marker="o", ms=11, mfc="none", mec="0.2", zorder=4)
    ax.annotate(label, xy=(ds[0], t0 * (ds[0] / d0) ** slope), xytext=(2, 4),
                textcoords="offset points", ha="left", va="bottom", fontsize=9, zorder=5,
                bbox=dict(boxstyle="round,pad=0.1", fc="white", ec="none", alpha=0.8))
    text = "{} through the circled point\n({}, n = {}, d = {})".format(label, meth, c["n"].iloc[0],
                                                                       d0)
    return Line2D([], [], color="0.2", ls=REF_LS, marker="o", mfc="none", ms=8, label=text)


def fig_rounds(rounds):
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.8))
    one, methods = rounds[rounds["threads"] == 1], {}
    for ax, storage in zip(axes, ("dense", "sparse")):
        slope, label, model = SLOPES[storage]
        g = one[one["storage"] == storage]
        ax.set_title("{} rounds (docs/theory.md §3: {})".format(storage, model), fontsize=10)
        if g.empty:
            missing(ax, "1-thread BM_Round/*_{}".format(storage))
            continue
        ns = sorted(g["n"].unique())
        for meth in sorted(g["method"].unique(), key=method_sort_key):
            methods.setdefault(meth, Line2D([], [], color=method_color(meth), lw=2.5, label=meth))
            for i, n in enumerate(ns):
                c = g[(g["method"] == meth) & (g["n"] == n)].sort_values("d")
                ls, mk = N_STYLES[i % len(N_STYLES)]
                ax.plot(c["d"], c["us"], color=method_color(meth), ls=ls, marker=mk, ms=4.5, lw=1.5)
        handles = [Line2D([], [], color="0.3", ls=N_STYLES[i % 4][0], marker=N_STYLES[i % 4][1],
                          ms=4.5, label="n = {}".format(n)) for i, n in enumerate(ns)]
        handles.append(slope_line(ax, g, slope, label))
        ax.set_yscale("log")
        pow2_axis(ax, g["d"])
        ax.set_ylabel("time per round (µs, log scale)")
        ax.legend(handles=handles, loc="lower right", fontsize=8.5, framealpha=0.9)
    fig.legend(handles=list(methods.values()), loc="lower center", ncol=3, frameon=False)
    fig.suptitle("Time per round vs dimension d, 1 thread: measured growth against the cost "
                 "model's slope (dashed)", fontsize=12, fontweight="bold")
    fig.tight_layout(rect=(0, 0.05, 1, 0.95))
    return fig


def fig_threads(rounds, sweeps):
    fig, ax = plt.subplots(figsize=(9.5, 6))
    ax.set_title("Speed-up of 2 threads over 1 per round (time$_1$ / time$_2$) vs round size",
                 fontsize=12, fontweight="bold")
    key = ["method", "storage", "d", "n"]
    t2 = rounds[rounds["threads"] == 2].set_index(key)["us"].rename("us2")
    s = rounds[rounds["threads"] == 1].set_index(key).join(t2, how="inner").reset_index()
    s["speedup"] = s["us"] / s["us2"]
    if s.empty:
        missing(ax, "BM_Round pairs with 1 and 2 threads")
        return fig
    ytop = max(2.2, min(s["speedup"].max() * 1.08, 3.5))
    for (meth, storage), g in s.groupby(["method", "storage"]):
        serial = g.get("flops_per_round", pd.Series(np.inf, g.index)) < PARALLEL_ROUND_FLOPS
        col, y = method_color(meth), g["speedup"].clip(upper=ytop * 0.97)
        for pick, face in ((~serial, col), (serial, "none")):
            ax.scatter(g["us"][pick], y[pick], facecolor=face, edgecolor=col, s=36, zorder=3,
                       marker=STORAGE_MARKER[storage])
        for _, r in g[g["speedup"] > ytop * 0.97].iterrows():  # off the scale: say how far
            ax.annotate("{:.1f}× ({} {} d={} n={}) ↑".format(r["speedup"], meth, storage, r["d"],
                        r["n"]), (r["us"], ytop * 0.97), xytext=(-6, 0), textcoords="offset points",
                        ha="right", va="center", fontsize=8, color=col)
    ref_line(ax, 1.0, "no gain (1.0×)", "-", left=False)
    ref_line(ax, SPEEDUP_TARGET, "target {}×".format(SPEEDUP_TARGET), "--")
    ax.set(xscale="log", ylim=(0, ytop), xlabel="1-thread time per round (µs, log scale)",
           ylabel="speed-up  time$_1$ / time$_2$")
    handles = [marker(method_color(m), "o", m)
               for m in sorted(s["method"].unique(), key=method_sort_key)]
    handles += [marker("0.3", STORAGE_MARKER[k], k) for k in sorted(s["storage"].unique())]
    handles.append(marker("0.3", "o", "< 10$^5$ flops per round (serial)", mfc="none"))
    ax.legend(handles=handles, loc="lower left", ncol=len(handles), fontsize=8.5, framealpha=0.9,
              columnspacing=1.2, handletextpad=0.3)
    note = ("Rounds below the crossover (flops_per_round < 10$^5$, kParallelRoundFlops) run their "
            "workers serially,\nso 2 threads cannot help them (hollow markers).")
    sw = sweeps.groupby("threads")["us"].first() if len(sweeps) else {}
    if 1 in sw and 2 in sw:
        note += "  Whole {} sweep: {:.2f}× on 2 threads.".format(sweeps["config"].iloc[0],
                                                                  sw[1] / sw[2])
    fig.text(0.5, 0.01, note, ha="center", va="bottom", fontsize=8.5, color="0.25")
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def triad_panel(ax, triads, caches):
    """Triad GB/s vs working set; returns {threads: (bytes/s, bytes) at the largest array}."""
    ref = {}
    for t, g in triads.groupby("threads"):
        g = g.sort_values("elements")
        ax.plot(24.0 * g["elements"], g["bytes_per_second"] / 1e9, marker="o", color="0.2",
                ls="-" if t == 1 else "--", label=threads_label(t))
        ref[t] = (g["bytes_per_second"].iloc[-1], 24.0 * g["elements"].iloc[-1])
    for c in caches:
        if c.get("level") in (2, 3) and c.get("type") in ("Unified", "Data"):
            shared = " shared" if c.get("num_sharing", 1) > 1 else ""
            ax.axvline(c["size"], color="0.45", ls=":", lw=1.2)
            ax.text(c["size"], 1.01, "L{} {:g} MiB{}".format(c["level"], c["size"] / 2 ** 20,
                    shared), transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                    fontsize=8)
    ax.set(xscale="log", yscale="log", ylabel="triad bandwidth (GB/s, log scale)",
           xlabel="working set: 3 arrays × 8 B × elements (bytes, log scale)")
    ax.legend(loc="upper right", fontsize=8.5)
    return ref


def ratio_panel(ax, gd, ref):
    """Dense gd round's bytes/s over the triad's at its largest array, same thread count."""
    ns, lo, hi = sorted(gd["n"].unique()), BANDWIDTH_TARGET, BANDWIDTH_TARGET
    for (n, t), g in gd[gd["threads"].isin(list(ref))].groupby(["n", "threads"]):
        g = g.sort_values("d")
        ratio = g["bytes_per_second"] / ref[t][0]
        lo, hi = min(lo, ratio.min()), max(hi, ratio.max())
        ax.plot(g["d"], ratio, color=method_color("gd"), ms=5, ls="-" if t == 1 else "--",
                marker=N_STYLES[ns.index(n) % 4][1])
    ref_line(ax, BANDWIDTH_TARGET, "target {}".format(BANDWIDTH_TARGET), REF_LS)
    log = hi / lo > 10  # a broken reference can put the ratio decades away
    if log:
        ax.set_yscale("log")
    else:
        ax.set_ylim(0, max(1.1, hi * 1.05))
    plain = FuncFormatter(lambda v, _: "{:g}".format(v))
    ax.yaxis.set_major_formatter(plain)
    ax.yaxis.set_minor_formatter(plain if log and hi / lo < 20 else NullFormatter())
    pow2_axis(ax, gd["d"])
    ax.set_ylabel("gd round bytes/s ÷ triad bytes/s" + (" (log scale)" if log else ""))
    handles = [Line2D([], [], color=method_color("gd"), ls="-" if t == 1 else "--",
                      label=threads_label(t)) for t in sorted(ref)]
    handles += [marker(method_color("gd"), N_STYLES[i % 4][1], "n = {}".format(n))
                for i, n in enumerate(ns)]
    ax.legend(handles=handles, loc="best", fontsize=8.5, framealpha=0.9)
    return "Triad reference (largest array): " + "; ".join(
        "{}: {:.2f} GB/s at {:.3g} GB".format(threads_label(t), b / 1e9, size / 1e9)
        for t, (b, size) in sorted(ref.items()))


def fig_bandwidth(context, rounds, triads):
    fig, (ax_t, ax_r) = plt.subplots(1, 2, figsize=(12, 5.8))
    ax_t.set_title("STREAM triad a = b + s·c (24 B per element)", fontsize=10, pad=16)
    ax_r.set_title("dense gd round's bytes/s as a fraction of the triad's\n"
                   "at its largest array, same thread count", fontsize=10)
    gd = rounds[(rounds["method"] == "gd") & (rounds["storage"] == "dense")]
    if triads.empty:
        missing(ax_t, "BM_Triad")
        missing(ax_r, "BM_Triad")
    else:
        ref = triad_panel(ax_t, triads, context.get("caches", []))
        if gd.empty:
            missing(ax_r, "BM_Round/gd_dense")
        else:
            fig.text(0.5, 0.01, ratio_panel(ax_r, gd, ref), ha="center", va="bottom",
                     fontsize=8.5, color="0.25")
    fig.suptitle("Memory bandwidth: the STREAM triad and the dense gd round measured against it",
                 fontsize=12, fontweight="bold")
    fig.tight_layout(rect=(0, 0.04, 1, 0.96))
    return fig


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bench-json", default=os.path.join(REPO_ROOT, "results/bench/bench.json"),
                   help="Google Benchmark JSON (default: <repo>/results/bench/bench.json)")
    p.add_argument("--out-dir", default=PLOTS_DIR, help="folder for the figures (default: plots/)")
    args = p.parse_args()
    context, rounds, triads, sweeps = load(os.path.abspath(args.bench_json))
    apply_style(10)
    for name, fig in (("bench_rounds", fig_rounds(rounds)),
                      ("bench_threads", fig_threads(rounds, sweeps)),
                      ("bench_bandwidth", fig_bandwidth(context, rounds, triads))):
        png, pdf = save_figure(fig, os.path.join(args.out_dir, name + ".png"))
        plt.close(fig)
        print("wrote {} and {}".format(png, pdf))
    return 0


if __name__ == "__main__":
    sys.exit(main())
