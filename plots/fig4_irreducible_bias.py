#!/usr/bin/python3
"""Figure 4: irreducible bias: IST's floor does not move with γ, DCGD's floor shrinks with γ.

Heterogeneous dense problem with b_i ≠ 0 (d = 100, n = 10, Perm-10 sketches). Two panels,
IST and DCGD, each with relative steps γ ∈ {1, 0.5, 0.25, 0.125} times the method's
theoretical step; GD at 1/λ_max(L̄) is drawn in both panels for reference. For each curve the
geometric mean over seeds is drawn as a line with a min-max band over seeds. The dashed line
is IST's predicted bias ‖x^∞ − x*‖²/‖x⁰ − x*‖² (cells.csv ist_relative_bias, geometric mean
over seeds), drawn in both panels. A box in each panel lists the level every step size
settles at (common.settled_level: geometric mean over the last quarter of the rounds, then
over seeds).

Input : <results>/fig4_irreducible_bias/{trace.csv,cells.csv}, produced by
        istlab sweep experiments/fig4_irreducible_bias.yaml --out results
Usage : /usr/bin/python3 plots/fig4_irreducible_bias.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/fig4_irreducible_bias.png) and a PDF with the same stem.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402  (common selects the Agg backend)
    DISPLAY_FLOOR, aggregate_over_seeds, apply_style, die, figure_parser, fmt_num, fmt_sci,
    geomean, load_experiment, method_color, settled_level, setup_log_y, style_map, write_figure,
)
import matplotlib.colors as mcolors  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
import numpy as np  # noqa: E402

EXPERIMENT = "fig4_irreducible_bias"
YLABEL = r"rel_err $= \Vert x^k - x^\star\Vert^2 / \Vert x^0 - x^\star\Vert^2$"
XLABEL = "round k   (plotted at k + 1, log scale, so round 0 shows)"
BIAS_LABEL = r"IST predicted bias $\Vert x^\infty - x^\star\Vert^2 / \Vert x^0 - x^\star\Vert^2$"
BIAS_LS = (0, (7, 3))
YTOP = 3.0
SUPTITLE = ("Irreducible bias: IST's floor does not move with $\\gamma$, DCGD's floor shrinks "
            "with $\\gamma$, GD converges")
PANEL_METHODS = ["ist", "dcgd"]


def shade(color, rank, count):
    """Rank 0 (largest step) gets a darkened ``color``, the last rank a lightened one."""
    rgb = np.array(mcolors.to_rgb(color))
    if count <= 1:
        return mcolors.to_hex(rgb)
    t = rank / (count - 1)          # 0 … 1
    if t < 0.34:                    # darken towards black
        mix = (0.34 - t) / 0.34 * 0.35
        out = rgb * (1 - mix)
    else:                           # lighten towards white
        mix = (t - 0.34) / 0.66 * 0.45
        out = rgb + (1 - rgb) * mix
    return mcolors.to_hex(np.clip(out, 0, 1))


def gamma_label(step, method):
    unit = r"1/\lambda_{\max}(\bar L)" if method in ("gd", "dcgd") else \
        r"1/\lambda_{\max}(\mathbb{E}[\bar B])"
    s = fmt_num(step)
    return r"$\gamma = {}$".format(unit if s == "1" else s + unit[1:])


def main():
    args = figure_parser(EXPERIMENT, __doc__).parse_args()
    exp_dir, (trace, cells) = load_experiment(args.results, EXPERIMENT, {
        "trace.csv": {"cell_key", "method", "sketch", "relative_step", "seed", "iter", "rel_err"},
        "cells.csv": {"cell_key", "method", "sketch", "relative_step", "status", "iterations",
                      "ist_relative_bias", "dim", "num_workers"},
    })
    trace_path = os.path.join(exp_dir, "trace.csv")
    if trace["relative_step"].isna().any():
        die("{}: every method must use relative steps here (step_size: {{relative: …}})".format(
            os.path.join(exp_dir, "cells.csv")))

    converged = dict(zip(cells["cell_key"], cells["status"] == "converged"))
    settled = settled_level(trace)
    cells = cells.assign(settled=cells["cell_key"].map(settled))
    seeds = sorted(trace["seed"].dropna().unique())
    steps = sorted(trace["relative_step"].unique(), reverse=True)
    linestyles = style_map(steps)
    ist_cells = cells[cells["method"] == "ist"]
    bias = geomean(ist_cells["ist_relative_bias"]) if not ist_cells.empty else np.nan
    methods = [m for m in PANEL_METHODS if m in set(trace["method"])]
    if not methods:
        die("{} has neither ist nor dcgd rows".format(trace_path))

    apply_style(10)
    fig, axes = plt.subplots(1, len(methods), figsize=(11, 6.8), squeeze=False, sharey=True)
    axes = axes[0]
    legend = {}
    xmax = 1.0

    def draw(ax, g, color, ls, lw, z, label):
        nonlocal xmax
        hold = {s: converged.get(k, False) for s, k in g.groupby("seed")["cell_key"].first().items()}
        g = g.assign(x=g["iter"] + 1.0)
        agg = aggregate_over_seeds(g, x="x", y="rel_err", seed="seed", hold_last=hold)
        ax.fill_between(agg["x"], agg["lo"], agg["hi"], color=color, alpha=0.13, lw=0,
                        zorder=z - 0.5)
        ax.plot(agg["x"], agg["center"], color=color, ls=ls, lw=lw, zorder=z)
        legend.setdefault(label, Line2D([], [], color=color, ls=ls, lw=lw))
        xmax = max(xmax, float(agg["x"].max()))

    for ax, method in zip(axes, methods):
        # GD reference first (underneath).
        for step, g in trace[trace["method"] == "gd"].groupby("relative_step"):
            draw(ax, g, method_color("gd"), "-", 2.6, 3,
                 "gd (identity), " + gamma_label(step, "gd"))
        mt = trace[trace["method"] == method]
        for rank, step in enumerate(steps):
            g = mt[mt["relative_step"] == step]
            if g.empty:
                continue
            sketch = g["sketch"].iloc[0]
            draw(ax, g, shade(method_color(method), rank, len(steps)), linestyles[step],
                 2.0, 5 + rank * 0.1, "{} ({}), {}".format(method, sketch, gamma_label(step, method)))
        ax.set_title("{} ({}) vs gd".format(method, mt["sketch"].iloc[0] if not mt.empty else "?"))

    for ax, method in zip(axes, methods):
        if np.isfinite(bias) and bias > 0:
            # Thin and on top, so IST's curves stay visible underneath where they meet it.
            bl, = ax.plot([0.5, xmax * 2], [max(bias, DISPLAY_FLOOR)] * 2,
                          color="black", ls=BIAS_LS, lw=1.1, zorder=10)
            legend.setdefault(BIAS_LABEL, bl)
            ax.annotate("predicted IST bias {}".format(fmt_sci(bias, 3)), xy=(0.985, bias),
                        xycoords=("axes fraction", "data"), xytext=(0, 6),
                        textcoords="offset points", ha="right", va="bottom", fontsize=8.5,
                        color="black", zorder=11,
                        bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))

        # Settled levels per step, in the empty lower right of the panel.
        mc = cells[cells["method"] == method]
        lines = []
        for step in steps:
            c = mc[mc["relative_step"] == step]
            if c.empty:
                continue
            lvl = geomean(c["settled"])
            lines.append(r"$\gamma$ = {}$/\lambda$:  {}".format(fmt_num(step), fmt_sci(lvl, 3)))
        gdc = cells[cells["method"] == "gd"]
        if not gdc.empty and (gdc["status"] == "converged").all():
            lines.append("gd: converged in {}–{} rounds".format(int(gdc["iterations"].min()),
                                                                 int(gdc["iterations"].max())))
        if lines:
            ax.text(0.975, 0.04, "{} settles at (last quarter of rounds,\ngeometric mean over "
                    "seeds):\n".format(method) + "\n".join(lines),
                    transform=ax.transAxes, ha="right", va="bottom", fontsize=8.5,
                    linespacing=1.35, zorder=12,
                    bbox=dict(boxstyle="round,pad=0.35", fc="white", ec="0.7", alpha=0.95))
        ax.set_xscale("log")
        ax.set_xlabel(XLABEL)

    for ax in axes:
        ax.set_xlim(0.85, xmax * 1.3)
    setup_log_y(axes[0], bottom=DISPLAY_FLOOR / 3, top=YTOP, decades_per_tick=2)
    axes[0].set_ylabel(YLABEL)

    fig.suptitle(SUPTITLE, fontsize=12.5, fontweight="bold")
    labels = list(legend)
    # GD first, then IST's steps, DCGD's steps, the bias line.
    # Filled column-wise: IST's steps, DCGD's steps, then GD and the bias line.
    order = sorted(range(len(labels)), key=lambda i: (
        0 if labels[i].startswith("ist") else 1 if labels[i].startswith("dcgd") else
        2 if labels[i].startswith("gd") else 3, i))
    labels = [labels[i] for i in order]
    handles = [legend[k] for k in labels]
    ncol = 3
    # Pad with invisible entries so every column has the same number of rows.
    while len(labels) % ncol:
        labels.append(" ")
        handles.append(Line2D([], [], alpha=0))
    fig.legend(handles, labels, loc="lower center", ncol=ncol, frameon=False,
               bbox_to_anchor=(0.5, 0.06), handlelength=3.2, columnspacing=1.5)
    row = cells.iloc[0]
    footnote = (
        "dense, d = {}, n = {}, h = {}, $\\kappa$ = {}, $b_i \\neq 0$. Lines: geometric mean over seeds "
        "{{{}}}; shaded bands: min–max over seeds. Values below {} are clipped.\n"
        "$\\gamma$ is a multiple of each method's theoretical step $1/\\lambda$: "
        "$\\lambda = \\lambda_{{\\max}}(\\bar L)$ for gd and dcgd, "
        "$\\lambda = \\lambda_{{\\max}}(\\mathbb{{E}}[\\bar B])$ for ist. Black dashed line: geometric "
        "mean over seeds of ist_relative_bias (cells.csv)."
    ).format(int(row["dim"]), int(row["num_workers"]), fmt_num(row["heterogeneity"]),
             fmt_num(row["kappa"]), ", ".join(fmt_num(s) for s in seeds), fmt_sci(DISPLAY_FLOOR))
    fig.tight_layout(rect=(0, 0.225, 1, 1.0))
    write_figure(fig, args.out, footnote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
