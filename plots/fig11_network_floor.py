#!/usr/bin/python3
"""Figure 11: full-batch GD, DCGD and IST on a small network, compared at equal gamma*k.

A one-hidden-layer network on Fashion-MNIST, n workers, full batches (every worker's gradient
over all of its samples), on an iid and a Dirichlet(alpha) split, each method run at several
step sizes gamma. GD at step gamma after k rounds approximates the gradient flow at time
gamma*k, the same whatever gamma; so the methods are compared at equal gamma*k, at the horizons
HORIZONS that the runs reach. One column per split.
Top row: grad_norm2 (the squared norm of the full gradient of the equal-weight objective F)
against gamma*k (log-log): ist at every step (shades of its colour, the darker the larger the
step) and gd at the smallest step (gd's runs at the other steps follow the same flow); dotted
vertical lines mark the horizons.
Middle row: what IST (and DCGD) keep of their excess grad_norm2 over gd's when the step shrinks
4x, at each horizon (plots/common.py kept_across_steps: means over gamma*k in (H/2, H] on the
gamma*k both runs recorded; a horizon where gd at the larger step has left gd's flow, its
grad_norm2 more than ON_FLOW times the smaller step's, is left out). A floor keeps 1, an excess
proportional to the step keeps 1/4; the dashed line between them, sqrt(1/4), is the claims
checker's threshold.
Bottom row: training loss at gamma*k = HORIZONS[0] against gamma (log x).

Input : <results>/fig11_network_floor/{trace.csv,cells.csv}, produced by
        istlab sweep experiments/fig11_network_floor.yaml --out results
Usage : /usr/bin/python3 plots/fig11_network_floor.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/fig11_network_floor.png) and a PDF with the same stem.
"""

import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402  (common selects the Agg backend)
    apply_style, die, equal_time_means, figure_parser, fmt_num, kept_across_steps,
    load_experiment, method_color, method_shades, method_sort_key, write_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, NullFormatter  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

EXPERIMENT = "fig11_network_floor"
SPLITS = ["iid", "dirichlet"]
# The claims checker (tests/claims/check_claims.py) imports these three.
HORIZONS = (40, 80, 160, 320)   # the gamma*k at which the runs are compared
SMALL = 0.1                     # steps at or below it are small (the others: large)
ON_FLOW = 1.5                   # gd at a pair's larger step is on gd's flow within this factor
MARKERS = {"gd": "o", "dcgd": "s", "ist": "D"}
GAMMA = r"$\gamma$"
GRAD = r"$\Vert\nabla F\Vert^2$"
# gd is drawn wide underneath, so that dcgd running on top of it leaves it visible.
LINE_STYLE = {"gd": dict(lw=3.6, ms=8.5, zorder=3), "dcgd": dict(lw=1.5, ms=5.5, zorder=4),
              "ist": dict(lw=1.8, ms=6, zorder=5)}
REF_LINES = [(1.0, "-", "a floor keeps 1"), (None, (0, (5, 3)), "threshold: √(step ratio)"),
             ("ratio", (0, (1, 1.6)), "∝ γ keeps the step ratio")]


def split_title(split, alpha):
    return "Dirichlet α = {}".format(fmt_num(alpha)) if split == "dirichlet" else split


def line_style(method, marker_scale=1.0):
    st = dict(LINE_STYLE.get(method, LINE_STYLE["ist"]))
    st["ms"] *= marker_scale
    return st


def pairs_of(steps):
    """The (larger, smaller) step pairs 4x apart."""
    return [(c, f) for c in steps for f in steps if math.isclose(f, c / 4)]


def kept_table(trace, steps):
    """kept_across_steps for every pair 4x apart, with the pair's steps, on gd's flow only."""
    frames = []
    for coarse, fine in pairs_of(steps):
        kept = kept_across_steps(trace, coarse, fine, HORIZONS)
        kept = kept[kept["gd_coarse"] <= ON_FLOW * kept["gd_fine"]].assign(coarse=coarse, fine=fine)
        frames.append(kept)
    if not frames:
        die("no two step sizes 4x apart; is it a run of experiments/{}.yaml?".format(EXPERIMENT))
    return pd.concat(frames, ignore_index=True)


def gradient_panel(ax, runs, steps, horizons):
    """grad_norm2 against gamma*k: ist at every step, gd at the smallest."""
    shades = method_shades("ist", steps)
    top = max(horizons)
    runs = runs[runs["gamma_k"] > 0]
    for step in sorted(steps, reverse=True):
        g = runs[(runs["method"] == "ist") & (runs["step_size"] == step) & (runs["gamma_k"] <= top)]
        g = g.sort_values("gamma_k")
        ax.plot(g["gamma_k"], g["grad_norm2"], color=shades[step], lw=1.4, zorder=5)
    gd = runs[(runs["method"] == "gd") & (runs["step_size"] == min(steps))]
    gd = gd[gd["gamma_k"] <= top].sort_values("gamma_k")
    ax.plot(gd["gamma_k"], gd["grad_norm2"], color=method_color("gd"), lw=3.0, zorder=4)
    for h in horizons:
        ax.axvline(h, color="0.55", lw=0.9, ls=(0, (1, 2)), zorder=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks = [t for t in (5, 10, 20, 40, 80, 160, 320, 640) if t <= top]
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_num(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(GAMMA + "k (step size × round)")


def kept_panel(ax, kept, split):
    """What ist and dcgd keep of their excess over a 4x smaller step, at each horizon."""
    rows = kept[kept["split"] == split]
    ratios = sorted({f / c for c, f in zip(rows["coarse"], rows["fine"])}) or [0.25]
    for (coarse, fine, method), g in sorted(rows.groupby(["coarse", "fine", "method"]),
                                            key=lambda kv: (method_sort_key(kv[0][2]), kv[0][0])):
        g = g[g["kept"] > 0].sort_values("horizon")
        large = coarse > SMALL
        if large and method != "ist":  # the claims concern ist's large step only
            continue
        color = method_color(method)
        ax.plot(g["horizon"], g["kept"], color=color, marker=MARKERS.get(method, "o"),
                mec=color if large else "white", mfc="white" if large else color,
                mew=1.3 if large else 0.7, ls=(0, (4, 2)) if large else "-", lw=1.8, ms=7, zorder=5)
    ratio = ratios[0]
    for value, ls, _ in REF_LINES:
        y = ratio ** 0.5 if value is None else (ratio if value == "ratio" else value)
        ax.axhline(y, color="0.3", lw=1.1, ls=ls, zorder=2)
    ax.axhspan(ratio ** 0.5, 100, color="0.5", alpha=0.07, lw=0, zorder=1)
    ax.text(0.015, 0.97, "above the threshold: does not shrink with γ", transform=ax.transAxes,
            ha="left", va="top", fontsize=8.5, color="0.3")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_ylim(0.004, 4)
    ax.xaxis.set_major_locator(FixedLocator(HORIZONS))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_num(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(HORIZONS[0] / 1.3, HORIZONS[-1] * 1.3)
    ax.set_xlabel("horizon " + GAMMA + "k")


def gamma_axis(ax, steps):
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(steps))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_num(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(steps[0] / 1.3, steps[-1] * 1.3)
    ax.set_xlabel("step size " + GAMMA)


def loss_panel(ax, at):
    """Training loss at the first horizon against the step, one line per method."""
    for method, g in sorted(at.groupby("method"), key=lambda kv: method_sort_key(kv[0])):
        g = g.sort_values("step_size")
        ax.plot(g["step_size"], g["train_loss"], color=method_color(method),
                marker=MARKERS.get(method, "o"), mec="white", mew=0.7, **line_style(method))
    gamma_axis(ax, sorted(at["step_size"].unique()))


def range_text(values, digits=2):
    values = list(values)
    lo, hi = min(values), max(values)
    return "{:.{d}f}".format(lo, d=digits) if round(lo, digits) == round(hi, digits) else \
        "{:.{d}f}–{:.{d}f}".format(lo, hi, d=digits)


def suptitle(trace, kept, steps, reached):
    """What the figure shows, from the data: gd's fall along its flow, what ist and dcgd keep
    over the small-step pair at every horizon, ist's excess over the horizons per split, and
    (where the run has it) the large step on the Dirichlet split."""
    small = kept[kept["coarse"] <= SMALL]
    ist, dcgd = small[small["method"] == "ist"], small[small["method"] == "dcgd"]
    gd = equal_time_means(trace[trace["method"] == "gd"], [min(steps)], reached)
    gd = gd.groupby("horizon")["grad_norm2"].mean()
    if len(gd) >= 2:
        lines = ["Full-batch rounds compared at equal γk: GD follows one flow whatever γ, its {} "
                 "falling {:.0f}× from γk = {} to {};".format(GRAD, gd.iloc[0] / gd.iloc[-1],
                                                             gd.index[0], gd.index[-1])]
    else:
        lines = ["Full-batch rounds compared at equal γk = {}: GD follows one flow whatever γ;"
                 .format(reached[0])]
    if not ist.empty:
        c, f = ist["coarse"].iloc[0], ist["fine"].iloc[0]
        where = sorted(ist["horizon"].unique())
        where = "γk = {}".format(where[0]) if len(where) == 1 else "any horizon (γk = {})".format(
            ", ".join(str(h) for h in where))
        lines.append("IST's excess {} over GD's does not shrink with γ at {}, a floor: from γ = {} "
                     "to {} it keeps {} of it".format(GRAD, where, fmt_num(c), fmt_num(f),
                                                      range_text(ist["kept"])))
        lines.append("(a floor keeps 1, an excess ∝ γ keeps {}), while DCGD's keeps {}.".format(
            fmt_num(f / c), range_text(dcgd["kept"], 3)))
    trends, span, falls = [], None, []
    for split in SPLITS:
        values = []
        for step in [s for s in steps if s <= SMALL]:
            m = equal_time_means(trace[trace["split"] == split], [step], HORIZONS)
            g = m.pivot_table(index="horizon", columns="method", values="grad_norm2")
            if len(g) >= 2:
                excess = g["ist"] - g["gd"]
                values.append(excess.iloc[-1] / excess.iloc[0])
                falls.append(g["gd"].iloc[-1] / g["gd"].iloc[0])
                span = (g.index[0], g.index[-1])
        if values:
            trends.append("{} on {}".format(range_text(values),
                                            "iid" if split == "iid" else "the Dirichlet split"))
    if trends:
        lines.append("IST's excess at γk = {} is {} of its value at γk = {} (each γ ≤ {}), "
                     "GD's {} {}".format(span[1], " and ".join(trends), span[0], fmt_num(SMALL),
                                         GRAD, range_text(falls, 3)))
    large = kept[(kept["coarse"] > SMALL) & (kept["method"] == "ist")
                 & (kept["split"] == "dirichlet")]
    if not large.empty:
        lines[-1] += ";"
        lines.append("at γ = {} on the Dirichlet split IST's excess is larger and does shrink "
                     "with γ, no floor: to γ = {} it keeps {}".format(fmt_num(large["coarse"].iloc[0]),
                                                           fmt_num(large["fine"].iloc[0]),
                                                           range_text(large["kept"])))
    return "\n".join(lines)


def legend_entries(methods, sketch, steps):
    entries = []
    for m in methods:
        st = {k: v for k, v in line_style(m).items() if k != "zorder"}
        handle = Line2D([], [], color=method_color(m), marker=MARKERS.get(m, "o"), mec="white",
                        **st)
        entries.append((handle, m if m == "gd" else "{} ({})".format(m, sketch.get(m, ""))))
    shades = method_shades("ist", steps)
    entries += [(Line2D([], [], color=shades[s], lw=2.2), "ist, γ = {}".format(fmt_num(s)))
                for s in sorted(steps, reverse=True)]
    for coarse, fine in pairs_of(steps):
        large = coarse > SMALL
        handle = Line2D([], [], color="0.35", marker="D", ms=6, lw=1.8,
                        mfc="white" if large else "0.35", mec="0.35" if large else "white",
                        ls=(0, (4, 2)) if large else "-")
        entries.append((handle, "kept from γ = {} to {}".format(fmt_num(coarse), fmt_num(fine))))
    for value, ls, label in REF_LINES:
        entries.append((Line2D([], [], color="0.3", lw=1.1, ls=ls), label))
    return zip(*entries)


def main():
    args = figure_parser(EXPERIMENT, __doc__).parse_args()
    _, (cells, trace) = load_experiment(args.results, EXPERIMENT, {
        "cells.csv": {"method", "sketch", "split", "concentration", "dim", "hidden",
                      "num_workers", "batch_size", "local_steps", "seed", "eval_samples"},
        "trace.csv": {"cell_key", "method", "split", "step_size", "iter", "train_loss",
                      "grad_norm2"},
    })
    splits = [s for s in SPLITS if s in set(trace["split"])]
    if not splits:
        die("trace.csv has no split among {}; is it a run of experiments/{}.yaml?"
            .format(SPLITS, EXPERIMENT))
    trace["gamma_k"] = (trace["step_size"] * trace["iter"]).round(6)
    steps = sorted(trace["step_size"].unique())
    kept = kept_table(trace, steps)
    reach = trace.groupby("cell_key")["gamma_k"].max()
    reached = [h for h in HORIZONS if h <= reach.min()] or [HORIZONS[0]]
    at = trace[trace["gamma_k"] == HORIZONS[0]]
    if at["cell_key"].nunique() != trace["cell_key"].nunique():
        die("some runs have no recorded round at γk = {}; is it a run of experiments/{}.yaml?"
            .format(HORIZONS[0], EXPERIMENT))
    alpha = cells.loc[cells["split"] == "dirichlet", "concentration"].dropna()
    alpha = alpha.iloc[0] if not alpha.empty else np.nan
    methods = sorted(trace["method"].unique(), key=method_sort_key)

    apply_style(10)
    fig, axes = plt.subplots(3, len(splits), figsize=(7.2 * len(splits) + 0.6, 16.4), squeeze=False)
    for j, split in enumerate(splits):
        title = split_title(split, alpha)
        letter = [chr(ord("a") + j + len(splits) * i) for i in range(3)]
        ax_grad, ax_kept, ax_loss = axes[:, j]
        gradient_panel(ax_grad, trace[trace["split"] == split], steps, reached)
        ax_grad.set_title("({}) {}: {} along the flow".format(letter[0], title, GRAD))
        kept_panel(ax_kept, kept, split)
        ax_kept.set_title("({}) {}: excess {} over GD's kept over a 4× smaller step".format(
            letter[1], title, GRAD))
        loss_panel(ax_loss, at[at["split"] == split])
        ax_loss.set_title("({}) {}: training loss at {}k = {}".format(letter[2], title, GAMMA,
                                                                      HORIZONS[0]))
    axes[0][0].set_ylabel(GRAD + " (grad_norm2)")
    axes[1][0].set_ylabel("excess at the smaller step / at the larger")
    axes[2][0].set_ylabel("training loss (cross-entropy)")

    fig.suptitle(suptitle(trace, kept, steps, reached), fontsize=11.5, fontweight="bold")
    sketch = dict(zip(cells["method"], cells["sketch"]))
    handles, labels = legend_entries(methods, sketch, steps)
    fig.legend(handles, labels, loc="lower center", ncol=(len(labels) + 1) // 2, frameon=False,
               bbox_to_anchor=(0.5, 0.045), handlelength=3.0, columnspacing=1.6)
    first = cells.iloc[0]
    rounds = np.sort(trace["iter"].unique())
    footnote = (
        "One hidden layer: {} inputs, {} hidden units, n = {} workers, full batches, {} local "
        "step{} a round; seed {}. F: the mean of the workers' mean losses, its loss and gradient "
        "on {} training samples,\nrecorded every {} rounds. Top: gd at γ = {} (at the other steps "
        "it follows the same flow). Middle: the excess is a method's {} minus gd's at the same "
        "step, each the mean over γk in (H/2, H]\non the γk both runs recorded; a horizon where "
        "gd at the larger step has left the flow (its {} above {}× the smaller step's) is left "
        "out. Bottom: the round k = {}/γ of each run."
    ).format(fmt_num(first["dim"]), fmt_num(first["hidden"]), fmt_num(first["num_workers"]),
             fmt_num(cells["local_steps"].max()), "" if cells["local_steps"].max() == 1 else "s",
             ", ".join(fmt_num(s) for s in sorted(cells["seed"].unique())),
             fmt_num(first["eval_samples"]) if first["eval_samples"] else "all",
             fmt_num(np.diff(rounds).min()), fmt_num(min(steps)), GRAD, GRAD, fmt_num(ON_FLOW),
             fmt_num(HORIZONS[0]))
    fig.tight_layout(rect=(0, 0.095, 1, 0.94), h_pad=2.2, w_pad=2.0)
    write_figure(fig, args.out, footnote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
