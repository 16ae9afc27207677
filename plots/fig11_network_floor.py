#!/usr/bin/python3
"""Figure 11: full-batch GD, DCGD and IST on a small network, compared at equal gamma*k.

A one-hidden-layer network on Fashion-MNIST, n workers, full batches (every worker's gradient
over all of its samples), on an iid and a Dirichlet(alpha) split, each method run at several
step sizes gamma. GD at step gamma after k rounds approximates the gradient flow at time
gamma*k, the same whatever gamma; so the methods are compared at the largest gamma*k every run
reaches (the trace rows with round(step_size * iter, 6) equal to it). One column per split.
Top row: training loss at that gamma*k against gamma (log x). Middle row: the squared norm of
the full gradient, grad_norm2, at that gamma*k against gamma (log-log); where dcgd's value at
the largest gamma is at least REF_MIN_RATIO times gd's, a thin dotted line proportional to
gamma^2 is drawn through it. Bottom row: training loss against gamma*k at the smallest gamma,
with the comparison point marked by a vertical dotted line.

Input : <results>/fig11_network_floor/{trace.csv,cells.csv}, produced by
        istlab sweep experiments/fig11_network_floor.yaml --out results
Usage : /usr/bin/python3 plots/fig11_network_floor.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/fig11_network_floor.png) and a PDF with the same stem.
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
from matplotlib.ticker import FixedLocator, NullFormatter  # noqa: E402
import numpy as np  # noqa: E402

EXPERIMENT = "fig11_network_floor"
SPLITS = ["iid", "dirichlet"]
MARKERS = {"gd": "o", "dcgd": "s", "ist": "D"}
REF_LS = (0, (1, 1.5))
MARK_LS = (0, (4, 3))
REF_MIN_RATIO = 2.0    # draw the gamma^2 reference only where dcgd's gradient clearly exceeds gd's
GAMMA = r"$\gamma$"
SUPTITLE = (
    "Full-batch rounds at equal γk = {gk}: GD follows one flow whatever γ;\n"
    "DCGD's excess gradient over GD shrinks with γ on the Dirichlet split (as its neighbourhood "
    "does on quadratics; on iid DCGD stays on GD's flow);\n"
    "IST's gradient stays well above GD's at every γ (its floor appears to carry over), though "
    "at small γ its training loss sits below GD's:\nit has descended faster from the first "
    "rounds (bottom row)")
# gd is drawn wide underneath, so that dcgd running on top of it leaves it visible.
LINE_STYLE = {"gd": dict(lw=3.6, ms=8.5, zorder=3), "dcgd": dict(lw=1.5, ms=5.5, zorder=4),
              "ist": dict(lw=1.8, ms=6, zorder=5)}


def split_title(split, alpha):
    return "Dirichlet α = {}".format(fmt_num(alpha)) if split == "dirichlet" else split


def common_horizon(trace):
    """The largest gamma*k that every run reaches; exits when some run has no row there."""
    last = trace.groupby("cell_key").apply(lambda g: (g["step_size"] * g["iter"]).max())
    gk = round(float(last.min()), 6)
    at = trace[(trace["step_size"] * trace["iter"]).round(6) == gk]
    missing = set(trace["cell_key"]) - set(at["cell_key"])
    if missing:
        die("{} runs have no recorded round at γk = {}; is it a run of experiments/{}.yaml?"
            .format(len(missing), fmt_num(gk), EXPERIMENT))
    return gk, at


def line_style(method, marker_scale=1.0):
    st = dict(LINE_STYLE.get(method, LINE_STYLE["ist"]))
    st["ms"] *= marker_scale
    return st


def method_lines(ax, at, y):
    """One line per method against the step size, markers at the runs."""
    for method, g in sorted(at.groupby("method"), key=lambda kv: method_sort_key(kv[0])):
        g = g.sort_values("step_size")
        ax.plot(g["step_size"], g[y], color=method_color(method), marker=MARKERS.get(method, "o"),
                mec="white", mew=0.7, **line_style(method))


def gamma_axis(ax, steps):
    ax.set_xscale("log")
    ax.xaxis.set_major_locator(FixedLocator(steps))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_num(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(steps[0] / 1.3, steps[-1] * 1.3)
    ax.set_xlabel("step size " + GAMMA)


def gamma2_reference(ax, at):
    """Dotted line proportional to gamma^2 through dcgd's largest-gamma point, when that point
    clearly lies above gd's; returns whether it was drawn."""
    top = at[at["step_size"] == at["step_size"].max()].set_index("method")["grad_norm2"]
    if "dcgd" not in top or "gd" not in top or top["dcgd"] < REF_MIN_RATIO * top["gd"]:
        return False
    g = np.sort(at["step_size"].unique())
    ax.plot(g, top["dcgd"] * (g / g[-1]) ** 2, color="0.3", lw=1.0, ls=REF_LS, zorder=2)
    return True


def flow_panel(ax, trace, step, gk):
    """Training loss against gamma*k for the runs at step ``step``, up to ``gk``."""
    runs = trace[(trace["step_size"] == step) & (trace["step_size"] * trace["iter"] <= gk + 1e-9)]
    for method, g in sorted(runs.groupby("method"), key=lambda kv: method_sort_key(kv[0])):
        g = g.sort_values("iter")
        ax.plot(g["step_size"] * g["iter"], g["train_loss"], color=method_color(method),
                marker=MARKERS.get(method, "o"), mec="white", mew=0.5,
                **line_style(method, marker_scale=0.65))
    ax.axvline(gk, color="0.4", lw=1.0, ls=MARK_LS, zorder=1)
    ax.set_xlabel(GAMMA + "k (step size × round)")


def split_column(axes, trace, at, split, title, gk, letters):
    """The three panels of one split; returns whether the gamma^2 reference was drawn."""
    ax_loss, ax_grad, ax_flow = axes
    a, t = at[at["split"] == split], trace[trace["split"] == split]
    steps = sorted(a["step_size"].unique())
    method_lines(ax_loss, a, "train_loss")
    gamma_axis(ax_loss, steps)
    ax_loss.set_title("({}) {}: training loss at {}k = {}".format(letters[0], title, GAMMA,
                                                                    fmt_num(gk)))
    method_lines(ax_grad, a, "grad_norm2")
    drawn = gamma2_reference(ax_grad, a)
    gamma_axis(ax_grad, steps)
    ax_grad.set_yscale("log")
    ax_grad.set_title(r"({}) {}: $\Vert\nabla F\Vert^2$ at {}k = {}".format(
        letters[1], title, GAMMA, fmt_num(gk)))
    flow_panel(ax_flow, t, steps[0], gk)
    ax_flow.set_title("({}) {}: training loss along the run, {} = {}".format(
        letters[2], title, GAMMA, fmt_num(steps[0])))
    return drawn


def legend_entries(methods, sketch, ref_drawn, gk):
    entries = []
    for m in methods:
        st = {k: v for k, v in line_style(m).items() if k != "zorder"}
        handle = Line2D([], [], color=method_color(m), marker=MARKERS.get(m, "o"), mec="white",
                        **st)
        entries.append((handle, m if m == "gd" else "{} ({})".format(m, sketch.get(m, ""))))
    if ref_drawn:
        entries.append((Line2D([], [], color="0.3", lw=1.0, ls=REF_LS),
                        r"$\propto \gamma^2$ through dcgd's largest-$\gamma$ point"))
    entries.append((Line2D([], [], color="0.4", lw=1.0, ls=MARK_LS),
                    "{}k = {}: where the upper rows compare the runs".format(GAMMA, fmt_num(gk))))
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
    gk, at = common_horizon(trace)
    alpha = cells.loc[cells["split"] == "dirichlet", "concentration"].dropna()
    alpha = alpha.iloc[0] if not alpha.empty else np.nan
    methods = sorted(trace["method"].unique(), key=method_sort_key)

    apply_style(10)
    fig, axes = plt.subplots(3, len(splits), figsize=(6.4 * len(splits) + 0.8, 15.2),
                             squeeze=False)
    ref_drawn = False
    for j, split in enumerate(splits):
        letters = [chr(ord("a") + j + len(splits) * i) for i in range(3)]
        ref_drawn |= split_column(axes[:, j], trace, at, split, split_title(split, alpha), gk,
                                  letters)
    axes[0][0].set_ylabel("training loss (cross-entropy)")
    axes[1][0].set_ylabel(r"$\Vert\nabla F(x)\Vert^2$, $F = \frac{1}{n}\sum_i f_i$ (grad_norm2)")
    axes[2][0].set_ylabel("training loss (cross-entropy)")

    fig.suptitle(SUPTITLE.format(gk=fmt_num(gk)), fontsize=11.5, fontweight="bold")
    sketch = dict(zip(cells["method"], cells["sketch"]))
    handles, labels = legend_entries(methods, sketch, ref_drawn, gk)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False,
               bbox_to_anchor=(0.5, 0.035), handlelength=3.0, columnspacing=1.8)
    first = cells.iloc[0]
    rounds = np.sort(trace["iter"].unique())
    footnote = (
        "One hidden layer: {} inputs, {} hidden units, n = {} workers, full batches, {} local "
        "step{} a round; seed {}. Loss and gradient on {} training samples.\nRounds recorded "
        "every {}; the upper rows take each run's round k = {}/{}. "
        r"$\gamma^2$ reference only where dcgd's value at the largest $\gamma$ is ≥ {}× gd's."
    ).format(fmt_num(first["dim"]), fmt_num(first["hidden"]), fmt_num(first["num_workers"]),
             fmt_num(cells["local_steps"].max()), "" if cells["local_steps"].max() == 1 else "s",
             ", ".join(fmt_num(s) for s in sorted(cells["seed"].unique())),
             fmt_num(first["eval_samples"]) if first["eval_samples"] else "all",
             fmt_num(np.diff(rounds).min()), fmt_num(gk), GAMMA, fmt_num(REF_MIN_RATIO))
    fig.tight_layout(rect=(0, 0.065, 1, 0.96), h_pad=2.2, w_pad=2.0)
    write_figure(fig, args.out, footnote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
