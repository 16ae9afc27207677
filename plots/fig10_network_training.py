#!/usr/bin/python3
"""Figure 10: IST, local SGD, DCGD and GD training a one-hidden-layer network on Fashion-MNIST.

A network with one hidden ReLU layer, trained on minibatches by n workers (n read from the
results) on an iid split and on a Dirichlet(alpha) split of the training images. Every method
runs at one step size (the shared step: the one gd ran at); ist also runs at smaller steps.
The first two rows, one per split (iid, then Dirichlet), show the runs at the shared step in
three columns: (1) training loss against rounds (log y), (2) test accuracy against rounds,
(3) test accuracy against the floats each worker has communicated, floats_up + floats_down
(cumulative, log x; round 0, at 0 floats, is left out). Colour is the method, line style and
marker the number of workers n. A dotted grey line marks chance accuracy, 1 / (number of
classes in the training labels, from problems.csv). The box in column (3) gives, per n, the
floats per worker after which ist and gd first reach gd's final test accuracy of that n and
split ("never" when a method never does). The third row is the step-size axis: the final test
accuracy of every run against its step size, one panel per split (ist's runs of one n joined by
a line), and the training loss along the rounds of ist at each step on the Dirichlet split at
the largest n, with gd's at the shared step; there ist is drawn in shades of its colour, the
darker the larger the step.

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
    method_color, method_shades, method_sort_key, style_map, write_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter  # noqa: E402
import numpy as np  # noqa: E402

EXPERIMENT = "fig10_network_training"
SPLITS = ["iid", "dirichlet"]
MARKERS = ["o", "s", "^", "D", "v"]
CHANCE_LS = (0, (1, 2))
FLOATS_ROOM = 5.0      # right end of the floats axis, as a multiple of the largest value
XLABEL_ROUNDS = "round k"
XLABEL_FLOATS = "floats communicated per worker (up + down, cumulative)"
SUPTITLE = ("A Fashion-MNIST network: on the iid split IST reaches GD's test accuracy with far "
            "fewer floats per worker;\non the Dirichlet α = {alpha} split at n = {nmax} and "
            "γ = {shared} its accuracy never exceeds {ist_max:.0f}% (chance is {chance:.0f}%), "
            "yet at γ = {small} it ends at {ist_small:.0f}% against GD's {gd:.0f}%:\nthe collapse "
            "is a step-size instability of the scaled submodels, not a bias that a smaller step "
            "leaves in place")


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


def suptitle(trace, cells, alpha, nmax, chance, shared):
    """SUPTITLE with the best test accuracy ist reaches after round 0 on the Dirichlet split
    at the largest n and the shared step (rounded up, so that "never exceeds" holds), and the
    final accuracies of ist at its smallest step and of gd there."""
    hard = trace[(trace["split"] == "dirichlet") & (trace["method"] == "ist")
                 & (trace["num_workers"] == nmax) & (trace["iter"] > 0)
                 & (trace["step_size"] == shared)]
    final = cells[(cells["split"] == "dirichlet") & (cells["num_workers"] == nmax)]
    ist = final[final["method"] == "ist"].sort_values("step_size")
    gd = final[(final["method"] == "gd") & (final["step_size"] == shared)]
    if hard.empty or ist.empty or gd.empty:
        die("no ist and gd runs on the dirichlet split with n = {}; is it a run of "
            "experiments/{}.yaml?".format(nmax, EXPERIMENT))
    return SUPTITLE.format(alpha=fmt_num(alpha), nmax=nmax, chance=100 * chance,
                           shared=fmt_num(shared),
                           ist_max=np.ceil(100 * hard["test_accuracy"].max()),
                           small=fmt_num(ist["step_size"].iloc[0]),
                           ist_small=100 * ist["test_accuracy"].iloc[0],
                           gd=100 * gd["test_accuracy"].iloc[0])


def shared_step(cells):
    """The step size every method ran at (gd's): the first two rows compare the methods there."""
    steps = sorted(set(cells.loc[cells["method"] == "gd", "step_size"]))
    if len(steps) != 1:
        die("expected gd at one step size, found {}; is it a run of experiments/{}.yaml?"
            .format(steps or "none", EXPERIMENT))
    return steps[0]


def accuracy_by_step(ax, final, title, n_style, chance, steps, shared, label_n=None):
    """Final test accuracy of every run against its step: ist's runs of one n joined by a line
    (style = n), the other methods' runs as markers at their step; a pale band spans gd's final
    accuracies over n at the shared step. ist's points at n = ``label_n`` carry their values."""
    gd = final.loc[(final["method"] == "gd") & (final["step_size"] == shared), "test_accuracy"]
    if not gd.empty:
        band = ax.axhspan(100 * gd.min() - 0.4, 100 * gd.max() + 0.4, color=method_color("gd"),
                          alpha=0.16, lw=0, zorder=1)
        label = "gd's final accuracy at γ = {}\n(from the lowest to the highest n)".format(
            fmt_num(shared))
        ax.legend([band], [label], loc="lower left", fontsize=8.5, framealpha=0.92)
    for (method, n), g in sorted(final.groupby(["method", "num_workers"]),
                                 key=lambda kv: (method_sort_key(kv[0][0]), kv[0][1])):
        g = g.sort_values("step_size")
        ls, marker = n_style[n]
        many = len(g) > 1
        ax.plot(g["step_size"], 100 * g["test_accuracy"], color=method_color(method),
                ls=ls if many else "none", marker=marker, ms=5.5 if many else 6.5,
                mec="white", mew=0.6, lw=1.9, zorder=4 if method == "ist" else 3)
        if method == "ist" and n == label_n:
            for step, acc in zip(g["step_size"], g["test_accuracy"]):
                ax.annotate("{:.0f}%".format(100 * acc), (step, 100 * acc), xytext=(0, -8),
                            textcoords="offset points", fontsize=8.5, color=method_color("ist"),
                            ha="center", va="top", fontweight="bold")
    ax.axhline(100 * chance, color="0.45", lw=1.0, ls=CHANCE_LS, zorder=1)
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(steps))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_num(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(steps[0] / 1.35, steps[-1] * 1.35)
    ax.set_ylim(0, 100)
    ax.set_xlabel("step size γ")
    ax.set_ylabel("test accuracy after the last round (%)")
    ax.set_title(title)


def loss_by_step(ax, trace, shared, nmax, title):
    """Training loss along the rounds of ist at each of its steps, and gd's at the shared step
    (the Dirichlet split at the largest n), named in a legend of the panel."""
    runs = trace[(trace["split"] == "dirichlet") & (trace["num_workers"] == nmax)]
    ist = runs[runs["method"] == "ist"]
    shades = method_shades("ist", ist["step_size"].unique())
    lines = [(g.sort_values("iter"), shades[step], "ist, γ = {}".format(fmt_num(step)), 5)
             for step, g in sorted(ist.groupby("step_size"), reverse=True)]
    gd = runs[(runs["method"] == "gd") & (runs["step_size"] == shared)].sort_values("iter")
    lines.append((gd, method_color("gd"), "gd, γ = {}".format(fmt_num(shared)), 4))
    for g, color, label, z in lines:
        ax.plot(g["iter"], g["train_loss"], color=color, lw=1.9, marker="^", ms=3.6, markevery=2,
                zorder=z, label=label)
    loss_axis(ax)
    ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 1.5, 2.0, 3.0, 6.0, 8.0)))
    ax.legend(loc="lower left", frameon=True, framealpha=0.92, fontsize=8.5)
    ax.set_title(title)
    ax.set_ylabel("training loss (cross-entropy)")
    ax.set_xlabel(XLABEL_ROUNDS)


def step_row(axes, cells, trace, alpha, n_style, chance, shared, nmax):
    """The third row: final accuracy against the step, per split, and the Dirichlet split's
    training loss along the rounds at the largest n, per step."""
    steps = sorted(cells["step_size"].unique())
    for ax, split in zip(axes[:2], SPLITS):
        accuracy_by_step(ax, cells[cells["split"] == split],
                         "{}: final test accuracy against the step size".format(
                             split_title(split, alpha)), n_style, chance, steps, shared,
                         label_n=nmax if split == "dirichlet" else None)
    loss_by_step(axes[2], trace, shared, nmax,
                 "{}, n = {}: training loss of ist at each step".format(
                     split_title("dirichlet", alpha), nmax))


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
                      "batch_size", "local_steps", "step_size", "seed", "eval_samples",
                      "test_accuracy"},
        "trace.csv": {"cell_key", "method", "num_workers", "split", "step_size", "iter",
                      "train_loss", "test_accuracy", "floats_up", "floats_down"},
        "problems.csv": {"label_counts"},
    })
    trace["floats"] = trace["floats_up"] + trace["floats_down"]
    splits = [s for s in SPLITS if s in set(trace["split"])]
    if splits != SPLITS:
        die("trace.csv lacks a split among {}; is it a run of experiments/{}.yaml?"
            .format(SPLITS, EXPERIMENT))
    shared = shared_step(cells)
    at_shared = trace[trace["step_size"] == shared]
    ns = sorted(int(n) for n in trace["num_workers"].unique())
    n_style = {n: (style_map(ns)[n], MARKERS[i % len(MARKERS)]) for i, n in enumerate(ns)}
    methods = sorted(trace["method"].unique(), key=method_sort_key)
    alpha = cells.loc[cells["split"] == "dirichlet", "concentration"].dropna()
    alpha = alpha.iloc[0] if not alpha.empty else np.nan
    chance = chance_level(problems)

    apply_style(10)
    fig, axes = plt.subplots(len(splits) + 1, 3, figsize=(17, 5.0 * (len(splits) + 1) + 2.6),
                             squeeze=False, gridspec_kw=dict(width_ratios=(1, 1, 1.3)))
    for row, split in zip(axes, splits):
        split_row(row, at_shared[at_shared["split"] == split],
                  "{}, γ = {}".format(split_title(split, alpha), fmt_num(shared)), n_style, ns,
                  chance)
    step_row(axes[-1], cells, trace, alpha, n_style, chance, shared, ns[-1])

    fig.suptitle(suptitle(trace, cells, alpha, ns[-1], chance, shared), fontsize=12.5,
                 fontweight="bold")
    handles, labels = legend_entries(methods, n_style, chance)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False,
               bbox_to_anchor=(0.5, 0.04), handlelength=3.2, columnspacing=1.8)
    first = cells.iloc[0]
    tau = cells.loc[cells["method"].isin(["ist", "local_sgd"]), "local_steps"].max()
    ist_steps = sorted(cells.loc[cells["method"] == "ist", "step_size"].unique(), reverse=True)
    footnote = (
        "One hidden layer: {} inputs, {} hidden ReLU units, softmax cross-entropy; minibatches "
        "of {} per worker and local step; every method at γ = {}, ist also at γ = {}; ist and "
        "local_sgd take {} local steps a round; seed {}.\nTraining loss on {} training samples, "
        "test accuracy on the test set. Floats: parameters sent per worker, cumulative, up + "
        "down. Box: the first recorded round (every {} rounds) at or above gd's final test "
        "accuracy of that n and split.\nBottom row, left and middle: the test accuracy after the "
        "last round ({}) of every run; ist's runs of one n are joined across their steps."
    ).format(fmt_num(first["dim"]), fmt_num(first["hidden"]), fmt_num(first["batch_size"]),
             fmt_num(shared), ", ".join(fmt_num(g) for g in ist_steps if g != shared),
             fmt_num(tau), ", ".join(fmt_num(s) for s in sorted(cells["seed"].unique())),
             fmt_num(first["eval_samples"]) if first["eval_samples"] else "all",
             fmt_num(np.diff(np.sort(trace["iter"].unique())).min()),
             fmt_num(trace["iter"].max()))
    fig.tight_layout(rect=(0, 0.06, 1, 0.975), h_pad=2.0, w_pad=2.0)
    write_figure(fig, args.out, footnote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
