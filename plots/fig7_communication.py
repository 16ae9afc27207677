#!/usr/bin/python3
"""Figure 7: relative error against the floats each worker communicates.

Dense problem (d = 100, n = 10, h = 0.5), one panel with b_i != 0 and one under
interpolation (b_i = 0). Methods gd, dcgd (perm) and ist (perm) at relative step 1. The x
axis is the cumulative number of floats sent per worker, up + down (docs/theory.md §3: gd sends d each
way, dcgd d down and |S_i| up, ist |S_i| each way), on a log scale (round 0, at 0 floats, is
left out). For each method the geometric mean over seeds is drawn as a line with a min-max
band over seeds, on the union of the seeds' x grids (common.aggregate_over_seeds; runs that
met the tolerance are held at their last value). A dotted horizontal reference level marks
how many floats each method needs to first reach it (geometric mean over seeds of the first
recorded round at or below the level). On the b_i != 0 panel IST's predicted bias
(ist_relative_bias, geometric mean over seeds) is dashed in IST's colour.

Input : <results>/fig7_communication/{trace.csv,cells.csv}, produced by
        istlab sweep experiments/fig7_communication.yaml --out results
Usage : /usr/bin/python3 plots/fig7_communication.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/fig7_communication.png) and a PDF with the same stem.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402  (common selects the Agg backend)
    DISPLAY_FLOOR, aggregate_over_seeds, apply_style, figure_parser, first_reaching, fmt_num,
    fmt_sci, geomean, load_experiment, method_color, method_sort_key, setup_log_y, sketch_text, step_text,
    write_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.patheffects as pe  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
import numpy as np  # noqa: E402

EXPERIMENT = "fig7_communication"
YLABEL = r"rel_err $= \Vert x - x^\star\Vert^2 / \Vert x^0 - x^\star\Vert^2$"
XLABEL = "floats communicated per worker (up + down, cumulative)"
YTOP = 3.0
BIAS_LS = (0, (7, 3))
# Reference accuracy marked on each panel (same levels as the claims checker).
REF_LEVEL = {False: 1e-2, True: 1e-10}
SUPTITLE = ("Communication: IST reaches a given accuracy with far fewer floats per worker "
            "($|S_i|$ each way)\n— until its bias floor when $b_i \\neq 0$")


def floats_to_reach(trace, level):
    """Geometric mean over cells of the floats sent before rel_err first reaches ``level``;
    NaN when some cell never does."""
    first = first_reaching(trace, "rel_err", level, at="floats")["floats"]
    return np.nan if first.isna().any() else geomean(first)


def main():
    args = figure_parser(EXPERIMENT, __doc__).parse_args()
    _, (cells, trace) = load_experiment(args.results, EXPERIMENT, {
        "cells.csv": {"cell_key", "interpolation", "method", "status", "ist_relative_bias"},
        "trace.csv": {"cell_key", "interpolation", "method", "sketch", "scale", "relative_step",
                      "seed", "iter", "rel_err", "floats_up", "floats_down"},
    })
    trace["floats"] = trace["floats_up"] + trace["floats_down"]
    stopped_ok = dict(zip(cells["cell_key"], cells["status"] == "converged"))
    seeds = sorted(trace["seed"].dropna().unique())
    interps = [v for v in (False, True) if v in set(trace["interpolation"].dropna())]
    first = cells.iloc[0]

    apply_style(10)
    fig, axes = plt.subplots(1, len(interps), figsize=(5.6 * len(interps) + 0.6, 6.6),
                             squeeze=False, sharey=True)
    legend = {}
    xmin_all, xmax_all = np.inf, 0.0
    for ax, interp in zip(axes[0], interps):
        panel = trace[(trace["interpolation"] == interp) & (trace["floats"] > 0)]
        pcells = cells[cells["interpolation"] == interp]
        ax.set_title("interpolation ($b_i = 0$)" if interp else r"$b_i \neq 0$")
        level = REF_LEVEL.get(interp)
        need = []
        groups = sorted(panel.groupby(["method", "sketch", "scale", "relative_step"]),
                        key=lambda kv: (method_sort_key(kv[0][0]), -kv[0][3]))
        for (method, sketch, scale, step), g in groups:
            hold = {s: stopped_ok.get(k, False)
                    for s, k in g.groupby("seed")["cell_key"].first().items()}
            agg = aggregate_over_seeds(g, x="floats", y="rel_err", seed="seed", hold_last=hold)
            color = method_color(method)
            rank = method_sort_key(method)[0]
            lw = {0: 2.4, 1: 1.9}.get(rank, 2.6)
            z = 3 + rank
            ax.fill_between(agg["x"], agg["lo"], agg["hi"], color=color, alpha=0.16, lw=0,
                            zorder=z - 0.5)
            marker = "o" if len(agg) <= 20 else None
            ax.plot(agg["x"], agg["center"], color=color, lw=lw, zorder=z, marker=marker, ms=3.5)
            label = "{} ({}), {}".format(method, sketch_text(sketch, scale), step_text(step))
            legend.setdefault(label, Line2D([], [], color=color, lw=lw))
            xmin_all = min(xmin_all, float(agg["x"].min()))
            xmax_all = max(xmax_all, float(agg["x"].max()))
            if level is not None:
                need.append((method, floats_to_reach(g, level), color))

        if not interp:
            ist = pcells[pcells["method"] == "ist"]
            bias = geomean(ist["ist_relative_bias"]) if not ist.empty else np.nan
            if np.isfinite(bias) and bias > 0:
                # Thin, with a thin white halo: IST's own (wider) curve stays visible around it.
                bl = ax.axhline(max(bias, DISPLAY_FLOOR), color=method_color("ist"), ls=BIAS_LS,
                                lw=1.1, zorder=10,
                                path_effects=[pe.withStroke(linewidth=2.0, foreground="white")])
                legend.setdefault(r"ist predicted bias $\Vert x^\infty - x^\star\Vert^2 / "
                                  r"\Vert x^0 - x^\star\Vert^2$ (cells.csv)", bl)
                ax.annotate("IST bias {}".format(fmt_sci(bias)), xy=(0.98, bias),
                            xycoords=("axes fraction", "data"), xytext=(0, 5),
                            textcoords="offset points", ha="right", va="bottom", fontsize=8.5,
                            color=method_color("ist"), zorder=11,
                            bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.85))

        if level is not None and need:
            rl = ax.axhline(level, color="0.35", lw=0.9, ls=(0, (1, 1.5)), zorder=1)
            legend.setdefault("reference level, with the floats each method needs to reach it", rl)
            lines = ["floats per worker to reach {}:".format(fmt_sci(level))]
            for method, f, color in need:
                if np.isfinite(f):
                    ax.plot([f], [level], marker="D", ms=6.5, color=color, mec="black",
                            mew=0.7, zorder=12, ls="none")
                    ax.plot([f, f], [DISPLAY_FLOOR, level], color=color, lw=0.8, ls=(0, (1, 1.5)),
                            zorder=1)
                    lines.append("{}  {:,.0f}".format(method, f))
                else:
                    lines.append("{}  never".format(method))
            # Upper right under interpolation (IST is far left there), else lower left.
            ax.text(0.97 if interp else 0.03, 0.97 if interp else 0.05, "\n".join(lines),
                    transform=ax.transAxes, ha="right" if interp else "left",
                    va="top" if interp else "bottom", fontsize=8.8, zorder=13, linespacing=1.35,
                    bbox=dict(boxstyle="round,pad=0.35", fc="white", ec="0.7", alpha=0.92))
        ax.set_xscale("log")
        ax.set_xlabel(XLABEL)

    for ax in axes[0]:
        ax.set_xlim(xmin_all / 1.5, xmax_all * 1.5)
        setup_log_y(ax, bottom=1e-13, top=YTOP, decades_per_tick=2)
    axes[0][0].set_ylabel(YLABEL)

    fig.suptitle(SUPTITLE, fontsize=12.5, fontweight="bold")
    labels = list(legend)
    handles = [legend[k] for k in labels]
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False,
               bbox_to_anchor=(0.5, 0.095), handlelength=3.0, columnspacing=2.0)
    pars = "dense generator, d = {}, n = {}, h = {}, κ = {}".format(
        fmt_num(first["dim"]), fmt_num(first["num_workers"]), fmt_num(first["heterogeneity"]),
        fmt_num(first["kappa"]))
    footnote = (
        "{}. Lines: geometric mean over seeds {{{}}} (each seed draws its own problem); bands: "
        "min–max over seeds; round 0 (0 floats) is not shown.\n"
        "Runs stop once rel_err < tolerance and are then held at their last value. "
        "Floats to reach the level: geometric mean over seeds of the first recorded round at or below it.\n"
        r"$\gamma$ is a multiple of each method's theoretical step $1/\lambda$: "
        r"$\lambda = \lambda_{{\max}}(\bar L)$ for gd and dcgd, "
        r"$\lambda = \lambda_{{\max}}(\mathbb{{E}}[\bar B])$ for ist; perm sketches use the unbiased scale."
    ).format(pars, ", ".join(fmt_num(s) for s in seeds))
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    write_figure(fig, args.out, footnote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
