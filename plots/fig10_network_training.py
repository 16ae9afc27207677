#!/usr/bin/python3
"""Figure 10: IST, local SGD, DCGD and GD training a one-hidden-layer network on Fashion-MNIST.

A network with one hidden ReLU layer, trained on minibatches by n workers (n read from the
results) on an iid split and on a Dirichlet(alpha) split of the training images. One row per
split (iid, then Dirichlet), three columns: (1) training loss against rounds (log y), (2) test
accuracy against rounds, (3) test accuracy against the floats each worker has communicated,
floats_up + floats_down (cumulative, log x; round 0, at 0 floats, is left out). Colour is the
method, line style and marker the number of workers n. A dotted grey line marks chance
accuracy, 1 / (number of classes in the training labels, from problems.csv). The box in
column (3) gives, per n, the floats per worker after which ist and gd first reach gd's final
test accuracy of that n and split ("never" when a method never does).

Input : <results>/fig10_network_training/{trace.csv,cells.csv,problems.csv}, produced by
        istlab sweep experiments/fig10_network_training.yaml --out results
Usage : /usr/bin/python3 plots/fig10_network_training.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/fig10_network_training.png) and a PDF with the same stem.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402  (common selects the Agg backend)
    apply_style, die, figure_parser, first_reaching, fmt_num, fmt_sci, load_experiment,
    method_color,
    method_sort_key, style_map, write_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter, LogLocator  # noqa: E402
import numpy as np  # noqa: E402

EXPERIMENT = "fig10_network_training"
SPLITS = ["iid", "dirichlet"]
MARKERS = ["o", "s", "^", "D", "v"]
CHANCE_LS = (0, (1, 2))
FLOATS_ROOM = 5.0      # right end of the floats axis, as a multiple of the largest value
XLABEL_ROUNDS = "round k"
XLABEL_FLOATS = "floats communicated per worker (up + down, cumulative)"
SUPTITLE = ("A Fashion-MNIST network: on the iid split IST reaches GD's test accuracy with far "
            "fewer floats per worker;\non the Dirichlet α = {alpha} split its accuracy falls as n "
            "grows (at n = {nmax} it never exceeds {ist_max:.0f}%, chance is {chance:.0f}%) "
            "while local_sgd and GD hold up")


def split_title(split, alpha):
    return "Dirichlet α = {}".format(fmt_num(alpha)) if split == "dirichlet" else split


def chance_level(problems):
    """1 / the number of distinct labels the workers hold (from label_counts)."""
    labels = {item.split(":")[0] for counts in problems["label_counts"].dropna()
              for item in str(counts).split()}
    if not labels:
        die("problems.csv has no label_counts; is it a run of experiments/{}.yaml?"
            .format(EXPERIMENT))
    return 1.0 / len(labels)


def draw_curves(ax, panel, x, y, n_style, scale=1.0):
    """One line per (method, n): colour = method, line style and marker = n."""
    for (method, n), g in sorted(panel.groupby(["method", "num_workers"]),
                                 key=lambda kv: (method_sort_key(kv[0][0]), kv[0][1])):
        g = g.sort_values("iter")
        ls, marker = n_style[n]
        ax.plot(g[x], g[y] * scale, color=method_color(method), ls=ls, marker=marker, ms=3.6,
                lw=1.9 if method == "ist" else 1.4, markevery=2, zorder=4 if method == "ist" else 3)


def floats_to_reach(g, level):
    """Floats per worker at the first recorded round with test accuracy >= ``level``."""
    return first_reaching(g, "test_accuracy", level, at="floats")["floats"].min()


def reach_box(ax, panel, ns):
    """Per n: floats after which ist and gd first reach gd's final test accuracy."""
    lines = ["floats per worker to first reach\ngd's final accuracy at that n:"]
    for n in ns:
        pn = panel[panel["num_workers"] == n]
        gd = pn[pn["method"] == "gd"].sort_values("iter")
        if gd.empty:
            continue
        level = gd["test_accuracy"].iloc[-1]
        parts = []
        for method in ("ist", "gd"):
            f = floats_to_reach(pn[pn["method"] == method], level)
            parts.append("{} {}".format(method, fmt_sci(f) if np.isfinite(f) else "never"))
        lines.append("n = {} ({:.0f}%): {}".format(n, 100 * level, ", ".join(parts)))
    ax.text(0.98, 0.14, "\n".join(lines), transform=ax.transAxes, ha="right", va="bottom",
            fontsize=8, linespacing=1.35, multialignment="left", zorder=10,
            bbox=dict(boxstyle="round,pad=0.35", fc="white", ec="0.7", alpha=0.92))


def loss_axis(ax):
    """Log y axis labelled with plain numbers (the losses span less than a decade or two)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 3.0, 5.0)))
    ax.yaxis.set_minor_locator(LogLocator(base=10.0, subs=np.arange(1.0, 10.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_num(v)))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


def split_row(axes, panel, title, n_style, ns, chance):
    """The three panels of one split."""
    ax_loss, ax_acc, ax_fl = axes
    draw_curves(ax_loss, panel, "iter", "train_loss", n_style)
    loss_axis(ax_loss)
    ax_loss.set_title("{}: training loss".format(title))
    ax_loss.set_ylabel("training loss (cross-entropy)")
    ax_loss.set_xlabel(XLABEL_ROUNDS)

    draw_curves(ax_acc, panel, "iter", "test_accuracy", n_style, scale=100)
    ax_acc.set_title("{}: test accuracy".format(title))
    ax_acc.set_ylabel("test accuracy (%)")
    ax_acc.set_xlabel(XLABEL_ROUNDS)

    sent = panel[panel["floats"] > 0]
    draw_curves(ax_fl, sent, "floats", "test_accuracy", n_style, scale=100)
    ax_fl.set_xscale("log")
    # Room on the right, beyond the last round, for the box (the curves end at the top).
    ax_fl.set_xlim(sent["floats"].min() / 1.5, sent["floats"].max() * FLOATS_ROOM)
    ax_fl.set_title("{}: test accuracy against communication".format(title))
    ax_fl.set_xlabel(XLABEL_FLOATS)
    reach_box(ax_fl, sent, ns)

    for ax in (ax_acc, ax_fl):
        ax.axhline(100 * chance, color="0.45", lw=1.0, ls=CHANCE_LS, zorder=1)
        ax.set_ylim(0, 100)


def suptitle(trace, alpha, nmax, chance):
    """SUPTITLE with the best test accuracy ist reaches after round 0 on the Dirichlet split
    at the largest n (rounded up, so that "never exceeds" holds)."""
    hard = trace[(trace["split"] == "dirichlet") & (trace["method"] == "ist")
                 & (trace["num_workers"] == nmax) & (trace["iter"] > 0)]
    if hard.empty:
        die("trace.csv has no ist run on the dirichlet split with n = {}; is it a run of "
            "experiments/{}.yaml?".format(nmax, EXPERIMENT))
    return SUPTITLE.format(alpha=fmt_num(alpha), nmax=nmax, chance=100 * chance,
                           ist_max=np.ceil(100 * hard["test_accuracy"].max()))


def legend_entries(methods, n_style, chance):
    entries = [(Line2D([], [], color=method_color(m), lw=2.2), m) for m in methods]
    entries += [(Line2D([], [], color="0.3", ls=ls, marker=mk, ms=4.5, lw=1.4),
                 "n = {} workers".format(n)) for n, (ls, mk) in sorted(n_style.items())]
    entries.append((Line2D([], [], color="0.45", lw=1.0, ls=CHANCE_LS),
                    "chance ({:.0f}%)".format(100 * chance)))
    return zip(*entries)


def main():
    args = figure_parser(EXPERIMENT, __doc__).parse_args()
    _, (cells, trace, problems) = load_experiment(args.results, EXPERIMENT, {
        "cells.csv": {"method", "num_workers", "split", "concentration", "dim", "hidden",
                      "batch_size", "local_steps", "step_size", "seed", "eval_samples"},
        "trace.csv": {"cell_key", "method", "num_workers", "split", "iter", "train_loss",
                      "test_accuracy", "floats_up", "floats_down"},
        "problems.csv": {"label_counts"},
    })
    trace["floats"] = trace["floats_up"] + trace["floats_down"]
    splits = [s for s in SPLITS if s in set(trace["split"])]
    if not splits:
        die("trace.csv has no split among {}; is it a run of experiments/{}.yaml?"
            .format(SPLITS, EXPERIMENT))
    ns = sorted(int(n) for n in trace["num_workers"].unique())
    n_style = {n: (style_map(ns)[n], MARKERS[i % len(MARKERS)]) for i, n in enumerate(ns)}
    methods = sorted(trace["method"].unique(), key=method_sort_key)
    alpha = cells.loc[cells["split"] == "dirichlet", "concentration"].dropna()
    alpha = alpha.iloc[0] if not alpha.empty else np.nan
    chance = chance_level(problems)

    apply_style(10)
    fig, axes = plt.subplots(len(splits), 3, figsize=(17, 5.0 * len(splits) + 2.2),
                             squeeze=False, gridspec_kw=dict(width_ratios=(1, 1, 1.3)))
    for row, split in zip(axes, splits):
        split_row(row, trace[trace["split"] == split], split_title(split, alpha), n_style, ns,
                  chance)

    fig.suptitle(suptitle(trace, alpha, ns[-1], chance), fontsize=12.5, fontweight="bold")
    handles, labels = legend_entries(methods, n_style, chance)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False,
               bbox_to_anchor=(0.5, 0.045), handlelength=3.2, columnspacing=1.8)
    first = cells.iloc[0]
    tau = cells.loc[cells["method"].isin(["ist", "local_sgd"]), "local_steps"].max()
    footnote = (
        "One hidden layer: {} inputs, {} hidden ReLU units, softmax cross-entropy; minibatches "
        "of {} per worker and local step, γ = {}; ist and local_sgd take {} local steps a round; "
        "seed {}. Training loss on {} training samples, test accuracy on the test set.\n"
        "Floats: parameters sent per worker, cumulative, up + down. Box: the first recorded "
        "round (every {} rounds) at or above gd's final test accuracy of that n and split."
    ).format(fmt_num(first["dim"]), fmt_num(first["hidden"]), fmt_num(first["batch_size"]),
             fmt_num(first["step_size"]), fmt_num(tau),
             ", ".join(fmt_num(s) for s in sorted(cells["seed"].unique())),
             fmt_num(first["eval_samples"]) if first["eval_samples"] else "all",
             fmt_num(np.diff(np.sort(trace["iter"].unique())).min()))
    fig.tight_layout(rect=(0, 0.07, 1, 0.98), h_pad=2.0, w_pad=2.0)
    write_figure(fig, args.out, footnote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
