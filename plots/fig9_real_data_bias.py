#!/usr/bin/python3
"""Figure 9: IST's floor on real data, against the split's heterogeneity and n, beside DCGD and GD.

Least squares on Fashion-MNIST (d = 49 and 196, target +1 for classes 0-4) and heart_scale
(d = 13), the samples split among the workers from iid through Dirichlet(alpha) to one class
per worker (or sorted by label). Methods gd, dcgd (perm) and ist (perm) at two relative steps.
Panels (a) Fashion-MNIST d = 49, n = 10, (b) d = 196, n = 10 and (d) heart_scale, n = 4: the
level each method settles at against the split's heterogeneity zeta^2 = (1/n) sum_i
||grad f_i(x*)||^2; each split level is named at the top of its panel. Panel (c): Fashion-MNIST
d = 49 against n for the iid split and Dirichlet alpha = 0.1, ist and dcgd at the smaller step.
The measured floor of a cell is common.settled_level (geometric mean of rel_err over the last
quarter of its rounds); gd has no floor: its final rel_err, far below the others, is clipped to
the display floor and drawn as downward triangles on the bottom edge. Markers and x positions
are geometric means over seeds (each seed draws its own split), shaded bands the min-max over
seeds. IST's predicted floor, ist_relative_bias = ||x^inf - x*||^2 / ||x^0 - x*||^2 of the ist
cells in cells.csv (geometric mean over seeds), is the dashed curve in IST's colour.

Input : <results>/fig9_real_data_bias/{trace.csv,cells.csv}, produced by
        istlab sweep experiments/fig9_real_data_bias.yaml --out results
Usage : /usr/bin/python3 plots/fig9_real_data_bias.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/fig9_real_data_bias.png) and a PDF with the same stem.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402  (common selects the Agg backend)
    apply_style, clip_for_log, die, figure_parser, fmt_num, fmt_sci, geomean, load_experiment,
    method_color, settled_level, setup_log_y, step_text, write_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.patheffects as pe  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, NullFormatter  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402
import numpy as np  # noqa: E402

EXPERIMENT = "fig9_real_data_bias"
FLOOR = 1e-8           # display floor (values below, i.e. gd's, are clipped to it)
YTOP = 1e3             # room above the data for the split labels
LABEL_Y = 0.85         # axes height of the split labels' feet; the zeta^2 bars sit below,
BAR_Y = (0.82, 0.80)   # at two heights taken in turn, so that overlapping ranges stay apart
LABEL_GAP = 0.034      # least distance between two split labels, in axes widths
BIAS_LS = (0, (7, 3))
YLABEL = r"final error: settled rel_err $= \Vert x - x^\star\Vert^2 / \Vert x^0 - x^\star\Vert^2$"
ZETA_LABEL = (r"heterogeneity of the split $\zeta^2 = \frac{1}{n}\sum_i "
              r"\Vert\nabla f_i(x^\star)\Vert^2$")
SUPTITLE = ("Real data: IST settles at its predicted bias at every split level, a floor set by the "
            "sketch cutting correlated features\n(≈ 0.6 of the initial error at d = 49, ≈ 0.45 at "
            "d = 196, growing with n), hardly by heterogeneity;\n"
            "DCGD's floor grows with heterogeneity and shrinks with the step; GD converges")
DATASET_TEXT = {"fashion_mnist": "Fashion-MNIST", "heart_scale": "heart_scale"}
# Heterogeneity panels: (letter, dataset, dim, num_workers).
ZETA_PANELS = [("a", "fashion_mnist", 49, 10), ("b", "fashion_mnist", 196, 10),
               ("d", "heart_scale", 13, 4)]
# Panel (c): Fashion-MNIST d = 49 against n, one marker (and size) per split level; the squares
# are smaller, so that both show where ist's levels coincide.
N_PANEL = ("c", "fashion_mnist", 49)
N_LEVELS = {"iid": ("o", 8.5), r"$\alpha$=0.1": ("s", 5.5)}


def split_label(split, alpha, per_worker):
    """Short name of a split level: iid, α = 0.1, 1 class, sorted."""
    if split == "dirichlet":
        return r"$\alpha$={}".format(fmt_num(alpha))
    if split == "classes":
        return "{} class{}".format(fmt_num(per_worker), "" if per_worker == 1 else "es")
    return split


def step_style(step, solid_step):
    """The smaller step: filled markers, solid lines; the larger: hollow, thin dashed, lighter."""
    if step == solid_step:
        return dict(ls="-", lw=1.8, band=0.16, filled=True, ms=7)
    return dict(ls=(0, (3, 2)), lw=1.1, band=0.07, filled=False, ms=10)


def draw_measured(ax, g, method, st, marker="o"):
    """Markers at the geometric mean over seeds of the cells' level, band over min-max;
    ist gets markers only, so that its predicted curve runs through them."""
    s = g.groupby("x")["level"].agg([geomean, "min", "max"]).sort_index()
    x = s.index.to_numpy(dtype=float)
    color = method_color(method)
    if method != "gd":
        ax.fill_between(x, clip_for_log(s["min"], FLOOR), clip_for_log(s["max"], FLOOR),
                        color=color, alpha=st["band"], lw=0, zorder=2)
    ax.plot(x, clip_for_log(s["geomean"], FLOOR), ls="none" if method == "ist" else st["ls"],
            lw=st["lw"], marker="v" if method == "gd" else marker, ms=st["ms"], color=color,
            mfc=color if st["filled"] else "white", mec="white" if st["filled"] else color,
            mew=0.8 if st["filled"] else 1.4, zorder=5 if st["filled"] else 4)


def draw_predicted(ax, g):
    """IST's predicted floor: geometric mean over seeds of ist_relative_bias, dashed."""
    pred = g[g["method"] == "ist"].groupby("x")["ist_relative_bias"].apply(geomean).sort_index()
    ax.plot(pred.index.to_numpy(dtype=float), clip_for_log(pred, FLOOR), color=method_color("ist"),
            ls=BIAS_LS, lw=1.4, zorder=3,
            path_effects=[pe.withStroke(linewidth=3.4, foreground="white")])
    return pred


def spread(pos, gap, hi=1.0):
    """Positions (sorted) moved apart to at least ``gap``, pushed right, then back inside ``hi``."""
    out = np.array(pos, dtype=float)
    for i in range(1, len(out)):
        out[i] = max(out[i], out[i - 1] + gap)
    out[-1] = min(out[-1], hi - gap / 2)
    for i in range(len(out) - 2, -1, -1):
        out[i] = min(out[i], out[i + 1] - gap)
    return out


def label_levels(ax, p):
    """Name each split level at the top of the panel above a bar spanning its zeta^2 over seeds."""
    z = p.groupby("split_level")["zeta2"].agg([geomean, "min", "max"]).sort_values("geomean")
    lo, hi = np.log10(ax.get_xlim())
    frac = (np.log10(z["geomean"].to_numpy()) - lo) / (hi - lo)
    at = spread(frac, LABEL_GAP)
    bar = blended_transform_factory(ax.transData, ax.transAxes)
    for i, ((name, row), f, a) in enumerate(zip(z.iterrows(), frac, at)):
        y = BAR_Y[i % 2]
        ax.plot([row["min"], row["max"]], [y, y], color="0.35", lw=1.6, marker="|", ms=5,
                transform=bar, zorder=3)
        ax.plot([f, a], [y, LABEL_Y], color="0.55", lw=0.7, transform=ax.transAxes, zorder=3)
        ax.text(a, LABEL_Y + 0.005, name, rotation=90, ha="center", va="bottom", fontsize=8,
                transform=ax.transAxes, zorder=7)


def select(cells, panel, **match):
    """The cells of one panel (column == value for each of ``match``); exits with status 2
    when the results hold none."""
    keep = np.ones(len(cells), dtype=bool)
    for col, val in match.items():
        keep &= (cells[col] == val).to_numpy()
    if not keep.any():
        wanted = ", ".join("{} = {}".format(k, v) for k, v in match.items())
        die("panel ({}): cells.csv has no cells with {}; is it a run of experiments/{}.yaml?"
            .format(panel, wanted, EXPERIMENT))
    return cells[keep].copy()


def zeta_panel(ax, cells, letter, dataset, dim, n, steps):
    """Panels (a), (b), (d): settled level against the split's zeta^2."""
    p = select(cells, letter, dataset=dataset, dim=dim, num_workers=n)
    p["x"] = p["split_level"].map(p.groupby("split_level")["zeta2"].apply(geomean))
    for method in ("gd", "dcgd", "ist"):
        for step in steps:
            g = p[(p["method"] == method) & (p["relative_step"] == step)]
            if not g.empty:
                draw_measured(ax, g, method, step_style(step, steps[0]))
    pred = draw_predicted(ax, p)
    ax.set_title("({}) {}, d = {}, n = {}: ist predicted bias {:#.2g} … {:#.2g} over the splits"
                 .format(letter, DATASET_TEXT.get(dataset, dataset), dim, n, pred.min(),
                         pred.max()), fontsize=10.5)
    ax.set_xscale("log")
    ax.set_xlim(p["zeta2"].min() / 2.5, p["zeta2"].max() * 2.5)
    ax.set_xlabel(ZETA_LABEL)
    setup_log_y(ax, bottom=FLOOR / 3, top=YTOP)  # clipped triangles stay inside the axes
    label_levels(ax, p)


def n_panel(ax, cells, step):
    """Panel (c): settled level against n for the iid and the Dirichlet 0.1 split."""
    letter, dataset, dim = N_PANEL
    p = select(cells, letter, dataset=dataset, dim=dim, relative_step=step)
    p = p[p["split_level"].isin(list(N_LEVELS)) & p["method"].isin(["dcgd", "ist"])].copy()
    p["x"] = p["num_workers"].astype(float)
    st = step_style(step, step)
    for level, (marker, ms) in N_LEVELS.items():
        q = p[p["split_level"] == level]
        for method in ("dcgd", "ist"):
            draw_measured(ax, q[q["method"] == method], method, dict(st, ms=ms), marker)
        draw_predicted(ax, q)
    ax.set_title("({}) {}, d = {}: floor against n, {}".format(
        letter, DATASET_TEXT.get(dataset, dataset), dim, step_text(step)), fontsize=10.5)
    ax.set_xscale("log")
    ns = sorted(p["x"].unique())
    ax.xaxis.set_major_locator(FixedLocator(ns))
    ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_num(v)))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(ns[0] / 1.4, ns[-1] * 1.4)
    ax.set_xlabel("number of workers n (samples split among them)")
    lo = np.nanmin(clip_for_log(p["level"], FLOOR))
    setup_log_y(ax, bottom=10 ** np.floor(np.log10(lo) - 0.5), top=3.0)


def gd_text(cells):
    """What the gd runs reached, per step they ran at: the tolerance, or max_iters."""
    parts = []
    for step, g in cells[cells["method"] == "gd"].groupby("relative_step"):
        how = "tolerance met" if (g["status"] == "converged").all() else "at max_iters"
        parts.append("{}: {}".format(step_text(step), how))
    return "gd: no floor; final rel_err, clipped to {}\n({})".format(fmt_sci(FLOOR),
                                                                      "; ".join(parts))


def legend_entries(cells, steps):
    """Handles and labels explaining colours, marker fills, line styles and panel (c)'s markers."""
    grey, ist = "0.35", method_color("ist")
    big, small = step_style(steps[-1], steps[0]), step_style(steps[0], steps[0])
    dot = dict(ms=7, mec="white")
    entries = [
        (Line2D([], [], color=ist, ls="none", marker="o", **dot), "ist (perm): measured floor"),
        (Line2D([], [], color=ist, ls=BIAS_LS, lw=1.4),
         r"ist predicted bias $\Vert x^\infty - x^\star\Vert^2 / \Vert x^0 - x^\star\Vert^2$ "
         "(cells.csv)"),
        (Line2D([], [], color=method_color("dcgd"), lw=1.8, marker="o", **dot),
         "dcgd (perm): measured floor"),
        (Line2D([], [], color=method_color("gd"), lw=1.8, marker="v", **dot), gd_text(cells)),
        (Line2D([], [], color=grey, ls=small["ls"], lw=small["lw"], marker="o", ms=small["ms"]),
         "{}: filled markers, solid lines".format(step_text(steps[0]))),
        (Line2D([], [], color=grey, ls=big["ls"], lw=big["lw"], marker="o", ms=big["ms"],
                mfc="white"),
         "{}: hollow markers, thin dashed lines".format(step_text(steps[-1]))),
        (Line2D([], [], color=grey, lw=1.6, marker="|", ms=5),
         r"split level: its $\zeta^2$ over seeds (min–max) and name"),
    ]
    entries += [(Line2D([], [], color=grey, ls="none", marker=m, ms=ms),
                 "(c) split {}".format(level)) for level, (m, ms) in N_LEVELS.items()]
    return zip(*entries)


def main():
    args = figure_parser(EXPERIMENT, __doc__).parse_args()
    _, (cells, trace) = load_experiment(args.results, EXPERIMENT, {
        "cells.csv": {"cell_key", "dataset", "dim", "num_workers", "split", "concentration",
                      "classes_per_worker", "method", "relative_step", "seed", "status",
                      "rel_err", "ist_relative_bias", "zeta2"},
        "trace.csv": {"cell_key", "iter", "rel_err"},
    })

    # Level each cell settles at; gd, which has no floor, is shown at its final rel_err.
    cells = cells.join(settled_level(trace).rename("settled"), on="cell_key")
    cells["level"] = np.where(cells["method"] == "gd", cells["rel_err"], cells["settled"])
    cells["split_level"] = [split_label(s, a, k) for s, a, k in zip(
        cells["split"], cells["concentration"], cells["classes_per_worker"])]
    steps = sorted(cells["relative_step"].dropna().unique())
    seeds = sorted(cells["seed"].dropna().unique())

    apply_style(10)
    fig, axes = plt.subplots(2, 2, figsize=(13.5, 12.4))
    for ax, spec in zip([axes[0][0], axes[0][1], axes[1][1]], ZETA_PANELS):
        zeta_panel(ax, cells, *spec, steps)
    n_panel(axes[1][0], cells, steps[0])
    for ax in axes[:, 0]:
        ax.set_ylabel(YLABEL)
    fig.suptitle(SUPTITLE, fontsize=12.5, fontweight="bold")

    handles, labels = legend_entries(cells, steps)
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False,
               bbox_to_anchor=(0.5, 0.06), handlelength=3.0, columnspacing=1.6)
    footnote = (
        "Markers: geometric mean over seeds {{{}}} (each seed draws its own split) of the level a "
        "run settles at (geometric mean of rel_err over the last quarter of its rounds); bands: "
        "min–max over seeds.\nx: geometric mean over seeds of the split's $\\zeta^2$. Dashed: "
        "geometric mean over seeds of ist_relative_bias. Values below {} are clipped for display.\n"
        r"$\gamma$ is a multiple of each method's theoretical step $1/\lambda$: "
        r"$\lambda = \lambda_{{\max}}(\bar L)$ for gd and dcgd, "
        r"$\lambda = \lambda_{{\max}}(\mathbb{{E}}[\bar B])$ for ist; "
        "perm sketches use the unbiased scale."
    ).format(", ".join(fmt_num(s) for s in seeds), fmt_sci(FLOOR))
    fig.tight_layout(rect=(0, 0.135, 1, 1), h_pad=2.0, w_pad=2.0)
    write_figure(fig, args.out, footnote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
