#!/usr/bin/python3
"""Quickstart figure: relative error vs iteration for GD, DCGD and IST.

One panel per (heterogeneity h, interpolation) combination. For each (method, relative
step) the geometric mean over seeds is drawn as a line with a min-max band over seeds.
On panels with b_i != 0 the predicted IST bias floor (ist_relative_bias from cells.csv)
is drawn as a dashed line in IST's colour.

Input : <results>/quickstart/{trace.csv,cells.csv}, produced by
        istlab sweep experiments/quickstart.yaml --out results
Usage : /usr/bin/python3 plots/quickstart.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/quickstart.png) and a PDF with the same stem.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402  (common selects the Agg backend)
    DISPLAY_FLOOR, aggregate_over_seeds, apply_style, figure_parser, fmt_num, fmt_sci, geomean,
    load_experiment, method_color, method_sort_key, setup_log_y, step_text, style_map,
    write_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.patheffects as pe  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
import numpy as np  # noqa: E402

EXPERIMENT = "quickstart"
BIAS_LABEL = r"IST predicted bias $\Vert x^\infty - x^\star\Vert^2 / \Vert x^0 - x^\star\Vert^2$"
YLABEL = r"rel_err $= \Vert x - x^\star\Vert^2 / \Vert x^0 - x^\star\Vert^2$"
YTOP = 3.0
BIAS_LS = (0, (7, 3))
SUPTITLE = ("IST levels off at a bias floor when $b_i \\neq 0$ (DCGD's floor is noise that shrinks with $\\gamma$);\n"
            "all methods converge under interpolation ($b_i = 0$)")


def panel_title(h, interp):
    if interp:
        return "h = {}, interpolation ($b_i = 0$)".format(fmt_num(h))
    return r"h = {}, $b_i \neq 0$".format(fmt_num(h))


def curve_label(method, sketch, step):
    return "{} ({}), {}".format(method, sketch, step_text(step))


def main():
    args = figure_parser(EXPERIMENT, __doc__).parse_args()
    _, (trace, cells) = load_experiment(args.results, EXPERIMENT, {
        "trace.csv": {"heterogeneity", "interpolation", "method", "sketch", "relative_step",
                      "seed", "iter", "rel_err", "cell_key"},
        "cells.csv": {"cell_key", "heterogeneity", "interpolation", "method", "status",
                      "iterations"},
    })

    # Runs that stopped because they met the tolerance are held at their last value when
    # averaging over seeds; runs that stopped for any other reason are not extended.
    stopped_ok = dict(zip(cells["cell_key"], cells["status"] == "converged"))
    tol_note = ""
    if (cells["status"] == "converged").any():
        tol_note = "Runs stop once rel_err < tolerance and are then held at their last value. "

    hs = sorted(trace["heterogeneity"].dropna().unique())
    interps = [v for v in (False, True) if v in set(trace["interpolation"].dropna())]
    steps = sorted(trace["relative_step"].dropna().unique())
    linestyles = style_map(steps)
    seeds = sorted(trace["seed"].dropna().unique())
    methods = sorted(trace["method"].dropna().unique(), key=method_sort_key)

    apply_style(10)
    nrows, ncols = len(hs), len(interps)
    fig, axes = plt.subplots(nrows, ncols, figsize=(5.6 * ncols, 3.9 * nrows + 1.6),
                             squeeze=False, sharey=True)

    legend_handles = {}
    notes = []
    for r, h in enumerate(hs):
        for c, interp in enumerate(interps):
            ax = axes[r][c]
            panel = trace[(trace["heterogeneity"] == h) & (trace["interpolation"] == interp)]
            pcells = cells[(cells["heterogeneity"] == h) & (cells["interpolation"] == interp)]
            ax.set_title(panel_title(h, interp))
            xmax = 0.0
            centers = {}
            groups = sorted(panel.groupby(["method", "sketch", "relative_step"]),
                            key=lambda kv: (method_sort_key(kv[0][0]), -kv[0][2]))
            for (method, sketch, step), g in groups:
                hold = {s: stopped_ok.get(k, False)
                        for s, k in g.groupby("seed")["cell_key"].first().items()}
                agg = aggregate_over_seeds(g, x="iter", y="rel_err", seed="seed",
                                           hold_last=hold)
                color = method_color(method)
                ls = linestyles[step]
                # Earlier methods drawn wider and underneath, so coinciding curves stay visible.
                lw = {0: 2.6, 1: 1.6}.get(method_sort_key(method)[0], 1.5)
                z = 3 + method_sort_key(method)[0]
                ax.fill_between(agg["x"], agg["lo"], agg["hi"], color=color, alpha=0.15,
                                lw=0, zorder=z - 0.5)
                # Few recorded points (fast runs): mark them so the sampling is visible.
                marker = "o" if len(agg) <= 5 else None
                line, = ax.plot(agg["x"], agg["center"], color=color, ls=ls, lw=lw, zorder=z,
                                marker=marker, ms=3.5)
                label = curve_label(method, sketch, step)
                legend_handles.setdefault(label, Line2D([], [], color=color, ls=ls, lw=lw))
                centers[(method, step)] = agg
                xmax = max(xmax, float(agg["x"].max()))

            # Flag curves that coincide (e.g. dcgd == gd when all workers are identical).
            for step in steps:
                ms = [m for m in methods if (m, step) in centers]
                for i, a in enumerate(ms):
                    for b in ms[i + 1:]:
                        A, B = centers[(a, step)], centers[(b, step)]
                        if len(A) == len(B) and np.allclose(A["x"], B["x"]) and np.allclose(
                                np.log10(A["center"]), np.log10(B["center"]), atol=1e-3):
                            note = "{} ≡ {}".format(b, a)
                            if note not in notes:
                                notes.append(note)

            # Methods whose runs all finish within a sliver of the x-range: say how fast.
            for method in methods:
                mc = pcells[pcells["method"] == method]
                if mc.empty or not (mc["status"] == "converged").all():
                    continue
                lo_it, hi_it = int(mc["iterations"].min()), int(mc["iterations"].max())
                if xmax > 0 and hi_it < 0.08 * xmax:
                    ax.annotate("{} converges in {}–{} iterations".format(method, lo_it, hi_it),
                                xy=(hi_it, 1e-14), xytext=(12, 14), textcoords="offset points",
                                ha="left", va="bottom", fontsize=8.5, color=method_color(method),
                                arrowprops=dict(arrowstyle="-", color=method_color(method),
                                                lw=0.8, shrinkA=0, shrinkB=2))

            if not interp:
                ist = pcells[pcells["method"] == "ist"]
                bias = geomean(ist["ist_relative_bias"]) if "ist_relative_bias" in ist else np.nan
                if np.isfinite(bias) and bias > 0:
                    # White halo so the prediction stays visible on top of IST's own curve.
                    bl, = ax.plot([0, xmax], [max(bias, DISPLAY_FLOOR)] * 2,
                                  color=method_color("ist"), ls=BIAS_LS, lw=1.3, zorder=10,
                                  path_effects=[pe.withStroke(linewidth=3.2, foreground="white")])
                    legend_handles.setdefault(BIAS_LABEL, bl)
                    # Measured floor: geometric mean of IST's final rel_err over its cells.
                    final = geomean(ist["rel_err"]) if "rel_err" in ist else np.nan
                    txt = "predicted {}".format(fmt_sci(bias))
                    if np.isfinite(final):
                        txt += "\nIST final {}".format(fmt_sci(final))
                    # Above the line if there is room below the top of the axes, else below.
                    above = np.log10(YTOP / bias) > 2.0
                    ax.annotate(txt, xy=(0.98, bias), xycoords=("axes fraction", "data"),
                                xytext=(0, 5 if above else -5), textcoords="offset points",
                                ha="right", va="bottom" if above else "top", fontsize=8.5,
                                color=method_color("ist"), zorder=11,
                                bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none",
                                          alpha=0.8))

            if notes:
                ax.text(0.02, 0.03, ", ".join(n for n in notes) + " (curves coincide)",
                        transform=ax.transAxes, ha="left", va="bottom", fontsize=8.5,
                        bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="0.7", alpha=0.9))
                notes = []

            ax.set_xlim(0, xmax * 1.02 if xmax > 0 else 1)
            setup_log_y(ax, bottom=DISPLAY_FLOOR / 3, top=YTOP, decades_per_tick=2)
            if r == nrows - 1:
                ax.set_xlabel("iteration")
            if c == 0:
                ax.set_ylabel(YLABEL)

    fig.suptitle(SUPTITLE, fontsize=12.5, fontweight="bold")

    # Legend below the panels, so it never covers data.
    labels = list(legend_handles)
    handles = [legend_handles[k] for k in labels]
    # Filled column-wise: one column per method (its step sizes), the bias line last.
    ncol = len(methods) + (1 if BIAS_LABEL in labels else 0)
    fig.legend(handles, labels, loc="lower center", ncol=ncol, frameon=False,
               bbox_to_anchor=(0.5, 0.062), handlelength=3.2, columnspacing=1.6)

    seeds_txt = ", ".join(fmt_num(s) for s in seeds)
    footnote = (
        "Lines: geometric mean over seeds {{{}}}; shaded bands: min–max over seeds. "
        "Values below {} are clipped for display.\n{}"
        "Dashed line: geometric mean over seeds of ist_relative_bias (cells.csv).\n"
        r"$\gamma$ is a multiple of each method's theoretical step $1/\lambda$: "
        r"$\lambda = \lambda_{{\max}}(\bar L)$ for gd and dcgd, "
        r"$\lambda = \lambda_{{\max}}(\mathbb{{E}}[\bar B])$ for ist."
    ).format(seeds_txt, fmt_sci(DISPLAY_FLOOR), tol_note)
    fig.tight_layout(rect=(0, 0.13, 1, 0.965))
    write_figure(fig, args.out, footnote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
