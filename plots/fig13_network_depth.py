#!/usr/bin/python3
"""Figure 13: IST, local SGD and GD on Fashion-MNIST networks of 1, 2 and 3 hidden layers.

ReLU networks of one, two and three hidden layers, trained on minibatches by n workers (n read
from the results) on an iid split and on a Dirichlet(alpha) split. Every method ran at several
step sizes; each curve is the run with the lowest final training loss among its method,
network, n and split (diverged runs never chosen; the test set plays no part in the choice).
One row per split, one column per n: test accuracy against the floats each worker has
communicated, floats_up + floats_down (cumulative, log x; round 0 left out). Colour is the
method, line style and marker the depth. A dotted grey line marks chance accuracy.

Input : <results>/fig13_network_depth/{trace.csv,cells.csv}, produced by
        istlab sweep experiments/fig13_network_depth.yaml --out results
Usage : /usr/bin/python3 plots/fig13_network_depth.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/fig13_network_depth.png) and a PDF with the same stem.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402  (common selects the Agg backend)
    apply_style, die, figure_parser, fmt_num, load_experiment, method_color, method_sort_key,
    write_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
import numpy as np  # noqa: E402

EXPERIMENT = "fig13_network_depth"
SPLITS = ["iid", "dirichlet"]
DEPTH_STYLES = [("-", "o"), ((0, (4, 1.5)), "s"), ((0, (1, 1.2)), "^"), ((0, (6, 2, 1, 2)), "D")]
CHANCE_LS = (0, (1, 2))
CHANCE = 0.1  # Fashion-MNIST's 10 balanced classes


def depth_of(hidden):
    return len(str(hidden).split("-"))


def best_runs(cells):
    """Per (method, hidden, n, split), the cell with the lowest final training loss among those
    that did not diverge."""
    ran = cells[(cells["status"] != "diverged") & np.isfinite(cells["train_loss"])]
    keys = ["method", "hidden", "num_workers", "split"]
    return ran.loc[ran.groupby(keys)["train_loss"].idxmin()]


def panel(ax, trace, chosen, split, n, depth_style):
    rows = chosen[(chosen["split"] == split) & (chosen["num_workers"] == n)]
    for _, cell in sorted(rows.iterrows(), key=lambda kv: (method_sort_key(kv[1]["method"]),
                                                          depth_of(kv[1]["hidden"]))):
        g = trace[(trace["cell_key"] == cell["cell_key"]) & (trace["floats"] > 0)].sort_values("iter")
        ls, marker = depth_style[depth_of(cell["hidden"])]
        ax.plot(g["floats"], 100 * g["test_accuracy"], color=method_color(cell["method"]), ls=ls,
                marker=marker, ms=3.4, lw=1.9 if cell["method"] == "ist" else 1.3,
                zorder=4 if cell["method"] == "ist" else 3)
    ax.set_xscale("log")
    ax.axhline(100 * CHANCE, color="0.45", lw=1.0, ls=CHANCE_LS, zorder=1)
    ax.set_ylim(0, 100)
    ax.set_title("{}, n = {}".format("Dirichlet α = {}".format(fmt_num(chosen["concentration"].dropna().iloc[0]))
                                     if split == "dirichlet" else "iid", n))
    ax.set_xlabel("floats per worker (up + down, cumulative)")
    ax.set_ylabel("test accuracy (%)")


def main():
    args = figure_parser(EXPERIMENT, __doc__).parse_args()
    _, (cells, trace) = load_experiment(args.results, EXPERIMENT, {
        "cells.csv": {"cell_key", "method", "num_workers", "split", "concentration", "dim",
                      "hidden", "batch_size", "local_steps", "step_size", "seed", "status",
                      "train_loss", "test_accuracy", "iterations"},
        "trace.csv": {"cell_key", "iter", "test_accuracy", "floats_up", "floats_down"},
    })
    cells["hidden"] = cells["hidden"].astype(str)
    trace["floats"] = trace["floats_up"] + trace["floats_down"]
    splits = [s for s in SPLITS if s in set(cells["split"])]
    if not splits:
        die("cells.csv has no split among {}; is it a run of experiments/{}.yaml?"
            .format(SPLITS, EXPERIMENT))
    chosen = best_runs(cells)
    ns = sorted(int(n) for n in cells["num_workers"].unique())
    depths = sorted({depth_of(h) for h in cells["hidden"]})
    depth_style = {d: DEPTH_STYLES[i % len(DEPTH_STYLES)] for i, d in enumerate(depths)}
    widths = {depth_of(h): h for h in cells["hidden"]}
    methods = sorted(chosen["method"].unique(), key=method_sort_key)

    apply_style(10)
    fig, axes = plt.subplots(len(splits), len(ns), figsize=(5.2 * len(ns), 4.4 * len(splits) + 2.0),
                             squeeze=False, sharey=True)
    for row, split in zip(axes, splits):
        for ax, n in zip(row, ns):
            panel(ax, trace, chosen, split, n, depth_style)

    steps = ", ".join(fmt_num(s) for s in sorted(cells["step_size"].unique(), reverse=True))
    fig.suptitle("Deeper networks: IST against GD and local SGD on Fashion-MNIST,\neach at its best "
                 "of γ ∈ {{{}}} by final training loss".format(steps), fontsize=12.5, fontweight="bold")
    entries = [(Line2D([], [], color=method_color(m), lw=2.2), m) for m in methods]
    entries += [(Line2D([], [], color="0.3", ls=depth_style[d][0], marker=depth_style[d][1], ms=4.5,
                        lw=1.4), "{} hidden layer{}: {}".format(d, "s" if d > 1 else "", widths[d]))
                for d in depths]
    entries.append((Line2D([], [], color="0.45", lw=1.0, ls=CHANCE_LS), "chance (10%)"))
    handles, labels = zip(*entries)
    fig.legend(handles, labels, loc="lower center", ncol=(len(labels) + 1) // 2, frameon=False,
               bbox_to_anchor=(0.5, 0.05), handlelength=3.2, columnspacing=1.6)
    first = cells.iloc[0]
    tau = cells.loc[cells["method"].isin(["ist", "local_sgd"]), "local_steps"].max()
    chosen_steps = "; ".join(
        "{} {}".format(m, ",".join(sorted({fmt_num(s) for s in chosen.loc[chosen["method"] == m, "step_size"]},
                                          key=float)))
        for m in methods)
    footnote = (
        "{} inputs, ReLU layers as in the legend, softmax cross-entropy; minibatches of {} per "
        "worker and local step; {} rounds; seed {}.\nist and local_sgd take {} local steps a "
        "round, ist on 1/n of every layer's units (activations scaled by n). Floats: parameters "
        "sent per worker, cumulative, up + down.\nEach curve: the step size with the lowest final "
        "training loss (steps chosen: {})."
    ).format(fmt_num(first["dim"]), fmt_num(first["batch_size"]), fmt_num(cells["iterations"].max()),
             ", ".join(fmt_num(s) for s in sorted(cells["seed"].unique())), fmt_num(tau), chosen_steps)
    fig.tight_layout(rect=(0, 0.12, 1, 0.96), h_pad=2.0, w_pad=1.5)
    write_figure(fig, args.out, footnote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
