#!/usr/bin/python3
"""Figure 5: the error each method settles at against the heterogeneity knob.

One panel per generator: dense (heterogeneity h in [0, 1]) and tridiagonal (s in [0, 0.3]),
d = 100, n = 10, b_i != 0. Methods gd, dcgd (perm) and ist (perm) at the same relative step.
For every cell the level it settles at is common.settled_level (geometric mean of rel_err
over the last quarter of its rounds); a run that stopped because it met the tolerance is
shown at its final rel_err (below the tolerance) with a downward triangle. Markers are the
geometric mean over seeds, shaded bands the min-max over seeds (each seed draws its own
problem). IST's predicted floor, ist_relative_bias = ||x^inf - x*||^2 / ||x^0 - x*||^2 from
cells.csv (geometric mean over seeds), is the dashed curve in IST's colour.

Input : <results>/fig5_floor_vs_heterogeneity/{trace.csv,cells.csv} (manifest.json, if
        present, supplies the tolerance), produced by
        istlab sweep experiments/fig5_floor_vs_heterogeneity.yaml --out results
Usage : /usr/bin/python3 plots/fig5_floor_vs_heterogeneity.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/fig5_floor_vs_heterogeneity.png) and a PDF with the same stem.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402  (common selects the Agg backend)
    apply_style, clip_for_log, figure_parser, fmt_num, fmt_sci, geomean, load_experiment,
    method_color, method_sort_key, settled_level, setup_log_y, sketch_text, step_text,
    write_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.patheffects as pe  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
import numpy as np  # noqa: E402

EXPERIMENT = "fig5_floor_vs_heterogeneity"
FLOOR = 1e-15          # display floor of this figure (values below are clipped)
YTOP = 3.0
BIAS_LS = (0, (7, 3))
YLABEL = (r"final error: settled rel_err $= \Vert x - x^\star\Vert^2 / \Vert x^0 - x^\star\Vert^2$")
SUPTITLE = ("Floor vs heterogeneity: IST settles at its predicted bias at every level,\n"
            "non-zero even for identical workers when $b_i \\neq 0$; "
            "DCGD's floor grows with heterogeneity; GD converges")
GENERATOR_TEXT = {
    "dense": ("dense generator", "heterogeneity $h$  ($L_i = (1-h)S + hP_i$, "
                                 "$b_i = (1-h)c + h\\xi_i$)"),
    "tridiagonal": ("tridiagonal generator", "heterogeneity $s$  ($\\nu_s = 1 + s\\,\\xi_s$, "
                                             "$\\nu_b = s\\,\\xi_b$)"),
}


def read_tolerance(exp_dir, cells):
    """rel_err tolerance from manifest.json; else the largest final rel_err of a converged cell."""
    try:
        with open(os.path.join(exp_dir, "manifest.json")) as f:
            tol = json.load(f)["config"]["run"]["tolerance"]
        tol = tol.get("rel_err", 0.0) if isinstance(tol, dict) else float(tol)
        if tol > 0:
            return float(tol)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    conv = cells[(cells["status"] == "converged") & (cells["converged_on"] == "rel_err")]
    return float(conv["rel_err"].max()) if not conv.empty else np.nan


def main():
    args = figure_parser(EXPERIMENT, __doc__).parse_args()
    exp_dir, (cells, trace) = load_experiment(args.results, EXPERIMENT, {
        "cells.csv": {"cell_key", "generator", "heterogeneity", "method", "sketch", "scale",
                      "relative_step", "seed", "status", "rel_err", "ist_relative_bias"},
        "trace.csv": {"cell_key", "iter", "rel_err"},
    })

    # Level each cell settles at; a run that met the tolerance is shown at its final rel_err.
    cells = cells.join(settled_level(trace).rename("settled"), on="cell_key")
    cells["converged"] = cells["status"] == "converged"
    cells["level"] = np.where(cells["converged"], cells["rel_err"], cells["settled"])
    tol = read_tolerance(exp_dir, cells)

    generators = sorted(cells["generator"].dropna().unique(),
                        key=lambda g: (list(GENERATOR_TEXT).index(g) if g in GENERATOR_TEXT else 9, g))
    methods = sorted(cells["method"].dropna().unique(), key=method_sort_key)
    seeds = sorted(cells["seed"].dropna().unique())

    apply_style(10)
    fig, axes = plt.subplots(1, len(generators), figsize=(5.2 * len(generators) + 0.6, 6.6),
                             squeeze=False, sharey=True)
    legend = {}
    conv_handle = Line2D([], [], color="0.35", marker="v", ls="none", ms=7, mfc="white")
    conv_label = None
    for ax, gen in zip(axes[0], generators):
        gcells = cells[cells["generator"] == gen]
        title, xlabel = GENERATOR_TEXT.get(gen, (gen + " generator", "heterogeneity"))
        d = gcells["dim"].iloc[0]
        n = gcells["num_workers"].iloc[0]
        ax.set_title(r"{}, d = {}, n = {}, $b_i \neq 0$".format(title, fmt_num(d), fmt_num(n)))
        ax.set_xlabel(xlabel)
        hs = np.array(sorted(gcells["heterogeneity"].dropna().unique()), dtype=float)

        for method in methods:
            mc = gcells[gcells["method"] == method]
            if mc.empty:
                continue
            for (sketch, scale, step), g in sorted(mc.groupby(["sketch", "scale", "relative_step"])):
                agg = g.groupby("heterogeneity").agg(
                    center=("level", geomean), lo=("level", "min"), hi=("level", "max"),
                    conv=("converged", "all")).sort_index()
                x = agg.index.to_numpy(dtype=float)
                c, lo, hi = (clip_for_log(agg[k], FLOOR) for k in ("center", "lo", "hi"))
                conv = agg["conv"].to_numpy(dtype=bool)
                color = method_color(method)
                rank = method_sort_key(method)[0]
                z = 3 + rank
                ms = {0: 10, 1: 7.5}.get(rank, 6)   # earlier methods larger, drawn underneath
                ax.fill_between(x, lo, hi, color=color, alpha=0.16, lw=0, zorder=z - 0.5)
                # IST: markers only, so that its predicted curve (dashed) runs through them.
                # Segments from a level where every run met the tolerance to one where none
                # did are dotted: there the error is only bounded by the tolerance.
                joined = method != "ist"
                for i in range(len(x) - 1) if joined else []:
                    ls = ":" if (conv[i] or conv[i + 1]) and not (conv[i] and conv[i + 1]) else "-"
                    ax.plot(x[i:i + 2], c[i:i + 2], color=color, ls=ls, lw=1.8, zorder=z)
                dot_ms = 8 if method == "ist" else ms * 0.75
                ax.plot(x[~conv], c[~conv], ls="none", marker="o", ms=dot_ms, color=color,
                        mec="white", mew=0.8, zorder=z + 0.2)
                ax.plot(x[conv], c[conv], ls="none", marker="v", ms=ms, color=color,
                        mfc="white", mew=1.6, zorder=z + 0.2)
                label = "{} ({}), {}".format(method, sketch_text(sketch, scale), step_text(step))
                label += ": reaches the tolerance" if conv.all() else ": settled level"
                legend.setdefault(label, Line2D([], [], color=color, lw=1.8 if joined else 0,
                                                marker="v" if conv.all() else "o",
                                                ms=8 if conv.all() else dot_ms,
                                                mfc="white" if conv.all() else color,
                                                mec=color if conv.all() else "white"))
                if conv.any():
                    conv_label = "every seed met the tolerance: shown at its final rel_err"
                # Key numbers at both ends of the non-trivial curves.
                if not conv.all():
                    for i in (0, len(x) - 1):
                        if conv[i]:
                            continue
                        ax.annotate(fmt_sci(agg["center"].iloc[i]), xy=(x[i], c[i]),
                                    xytext=(4 if i == 0 else -4, 9 if method == "ist" else -13),
                                    textcoords="offset points",
                                    ha="left" if i == 0 else "right", va="center", fontsize=8.5,
                                    color=color, zorder=12,
                                    bbox=dict(boxstyle="round,pad=0.12", fc="white", ec="none",
                                              alpha=0.8))

        # IST's predicted floor.
        ist = gcells[gcells["method"] == "ist"]
        if not ist.empty:
            pred = ist.groupby("heterogeneity")["ist_relative_bias"].apply(geomean).sort_index()
            bl, = ax.plot(pred.index.to_numpy(dtype=float), clip_for_log(pred, FLOOR),
                          color=method_color("ist"), ls=BIAS_LS, lw=1.4, zorder=10,
                          path_effects=[pe.withStroke(linewidth=3.4, foreground="white")])
            legend.setdefault(r"ist predicted bias $\Vert x^\infty - x^\star\Vert^2 / "
                              r"\Vert x^0 - x^\star\Vert^2$ (cells.csv)", bl)

        if np.isfinite(tol):
            tl = ax.axhline(tol, color="0.45", lw=0.9, ls=(0, (2, 2)), zorder=1)
            legend.setdefault("tolerance: runs stop once rel_err < {}".format(fmt_sci(tol)), tl)
        span = hs.max() - hs.min() if hs.size else 1.0
        ax.set_xlim(hs.min() - 0.04 * span, hs.max() + 0.04 * span)
        setup_log_y(ax, bottom=FLOOR, top=YTOP, decades_per_tick=2)

    axes[0][0].set_ylabel(YLABEL)
    fig.suptitle(SUPTITLE, fontsize=12.5, fontweight="bold")

    labels = list(legend)
    handles = [legend[k] for k in labels]
    if conv_label:
        labels.append(conv_label)
        handles.append(conv_handle)
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False,
               bbox_to_anchor=(0.5, 0.075), handlelength=3.0, columnspacing=2.0)
    seeds_txt = ", ".join(fmt_num(s) for s in seeds)
    footnote = (
        "Markers: geometric mean over seeds {{{}}} (each seed draws its own problem) of the level a run "
        "settles at (geometric mean of rel_err over the last quarter of its rounds);\n"
        "bands: min–max over seeds. Dashed: geometric mean over seeds of ist_relative_bias. "
        "Values below {} are clipped for display.\n"
        r"$\gamma$ is a multiple of each method's theoretical step $1/\lambda$: "
        r"$\lambda = \lambda_{{\max}}(\bar L)$ for gd and dcgd, "
        r"$\lambda = \lambda_{{\max}}(\mathbb{{E}}[\bar B])$ for ist; perm sketches use the unbiased scale."
    ).format(seeds_txt, fmt_sci(FLOOR))
    fig.tight_layout(rect=(0, 0.2, 1, 1))
    write_figure(fig, args.out, footnote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
