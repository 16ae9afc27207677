#!/usr/bin/python3
"""Figure 6: IST's bias as n = d grows (Perm-1 sketches), predicted and measured.

IST with Perm-1 sketches (n = d: each worker keeps one coordinate per round), scales
`unbiased` and `diag_precond`, on the tridiagonal and the dense generator (b_i != 0). Columns:
generators; rows: (top) the relative bias ||x^inf - x*||^2 / ||x^0 - x*||^2, (bottom) the
absolute bias ||x^inf - x*||^2, both against n = d on log-log axes. Lines with shaded bands:
the prediction from cells.csv (ist_relative_bias, ist_bias), geometric mean and min-max over
seeds. Markers with error bars: the measured level, common.settled_level of rel_err (geometric
mean over the last quarter of the run), geometric mean and min-max over seeds; on the bottom
row it is multiplied by the cell's ||x^0 - x*||^2 = ist_bias / ist_relative_bias (cells with a
zero bias have no such factor and are left out). A grey reference line proportional to 1/d is
drawn on the tridiagonal relative panel: there the relative bias falls like 1/d only because
||x^0 - x*||^2 grows like d (x^0 = sqrt(d) e_1), while the absolute bias does not vanish.

Input : <results>/fig6_bias_vs_scale/{trace.csv,cells.csv}, produced by
        istlab sweep experiments/fig6_bias_vs_scale.yaml --out results
Usage : /usr/bin/python3 plots/fig6_bias_vs_scale.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/fig6_bias_vs_scale.png) and a PDF with the same stem.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402  (common selects the Agg backend)
    apply_style, die, figure_parser, fmt_num, fmt_sci, geomean, load_experiment, method_color,
    settled_level, step_text, write_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, LogLocator, NullFormatter  # noqa: E402
import numpy as np  # noqa: E402

EXPERIMENT = "fig6_bias_vs_scale"
# IST's vermillion for the unbiased scale, Okabe-Ito reddish purple for the preconditioned one.
SCALE_STYLE = {
    "unbiased": dict(color=method_color("ist"), marker="o", mfc=None),
    "diag_precond": dict(color="#AA3377", marker="s", mfc="white"),
}
OTHER_COLORS = ["#E69F00", "#56B4E9", "#000000"]
GENERATOR_ORDER = ["tridiagonal", "dense", "counterexample"]
SUPTITLE = ("Bias vs scale n = d: the relative bias falls like 1/d on the tridiagonal problem\n"
            r"because $\Vert x^0 - x^\star\Vert^2$ grows with d; the absolute bias "
            r"$\Vert x^\infty - x^\star\Vert^2$ does not vanish" "\n"
            "(on the dense problem neither falls)")
ROWS = [
    ("relative", r"relative bias $\Vert x^\infty - x^\star\Vert^2 / \Vert x^0 - x^\star\Vert^2$"),
    ("absolute", r"absolute bias $\Vert x^\infty - x^\star\Vert^2$"),
]


def scale_style(scale, i):
    if scale in SCALE_STYLE:
        return SCALE_STYLE[scale]
    return dict(color=OTHER_COLORS[i % len(OTHER_COLORS)], marker="^D"[i % 2], mfc=None)


def summarise(g, col):
    """Per n = d: geometric mean, min, max over seeds of ``col`` (positive finite values)."""
    g = g[np.isfinite(g[col]) & (g[col] > 0)]
    return g.groupby("dim")[col].agg([geomean, "min", "max"]).sort_index()


def main():
    args = figure_parser(EXPERIMENT, __doc__).parse_args()
    exp_dir, (cells, trace) = load_experiment(args.results, EXPERIMENT, {
        "cells.csv": {"cell_key", "generator", "dim", "num_workers", "method", "sketch", "scale",
                      "relative_step", "seed", "ist_bias", "ist_relative_bias"},
        "trace.csv": {"cell_key", "iter", "rel_err"},
    })

    cells = cells[cells["method"] == "ist"].copy()
    if cells.empty:
        die("{} has no ist cells".format(os.path.join(exp_dir, "cells.csv")))
    cells = cells.join(settled_level(trace).rename("settled"), on="cell_key")
    # ||x^0 - x*||^2 of each cell's problem; undefined (NaN) when the bias is 0.
    with np.errstate(divide="ignore", invalid="ignore"):
        x0_dist = cells["ist_bias"] / cells["ist_relative_bias"]
    cells["x0_dist"] = x0_dist.where((cells["ist_relative_bias"] > 0) & np.isfinite(x0_dist))
    cells["settled_abs"] = cells["settled"] * cells["x0_dist"]
    cells["relative"] = cells["ist_relative_bias"]
    cells["absolute"] = cells["ist_bias"]
    measured_col = {"relative": "settled", "absolute": "settled_abs"}

    generators = sorted(cells["generator"].dropna().unique(),
                        key=lambda g: (GENERATOR_ORDER.index(g) if g in GENERATOR_ORDER else 9, g))
    scales = sorted(cells["scale"].dropna().unique(),
                    key=lambda s: (list(SCALE_STYLE).index(s) if s in SCALE_STYLE else 9, s))
    seeds = sorted(cells["seed"].dropna().unique())
    steps = sorted(cells["relative_step"].dropna().unique())

    apply_style(10)
    ncols = len(generators)
    fig, axes = plt.subplots(2, ncols, figsize=(4.9 * ncols + 0.8, 9.0), squeeze=False,
                             sharex="col", sharey="row")
    legend = {}
    for c, gen in enumerate(generators):
        gcells = cells[cells["generator"] == gen]
        pars = []
        if gen == "tridiagonal" and gcells["mu"].notna().any():
            pars.append(r"$\mu$ = {}".format(fmt_num(gcells["mu"].iloc[0])))
        if gen == "dense" and gcells["kappa"].notna().any():
            pars.append(r"$\kappa$ = {}".format(fmt_num(gcells["kappa"].iloc[0])))
        if gcells["heterogeneity"].notna().any():
            pars.append("{} = {}".format("s" if gen == "tridiagonal" else "h",
                                         fmt_num(gcells["heterogeneity"].iloc[0])))
        pars.append(r"$b_i \neq 0$" if not gcells["interpolation"].all() else "$b_i = 0$")
        axes[0][c].set_title("{} generator ({})".format(gen, ", ".join(pars)))

        for r, (row, ylabel) in enumerate(ROWS):
            ax = axes[r][c]
            for i, scale in enumerate(scales):
                for step in steps:
                    g = gcells[(gcells["scale"] == scale) & (gcells["relative_step"] == step)]
                    if g.empty:
                        continue
                    st = scale_style(scale, i)
                    color = st["color"]
                    sketch = g["sketch"].iloc[0]
                    pred = summarise(g, row)
                    meas = summarise(g, measured_col[row])
                    if not pred.empty:
                        x = pred.index.to_numpy(dtype=float)
                        ax.fill_between(x, pred["min"], pred["max"], color=color, alpha=0.14,
                                        lw=0, zorder=2)
                        pl, = ax.plot(x, pred["geomean"], color=color, lw=1.6, zorder=3)
                    if not meas.empty:
                        x = meas.index.to_numpy(dtype=float)
                        y = meas["geomean"].to_numpy()
                        yerr = np.vstack([y - meas["min"].to_numpy(), meas["max"].to_numpy() - y])
                        ax.errorbar(x, y, yerr=yerr, ls="none", marker=st["marker"], ms=6.5,
                                    color=color, mfc=st["mfc"] or color, mew=1.4, elinewidth=1.0,
                                    capsize=2.5, zorder=4)
                    name = "ist ({}-1, {}), {}".format(sketch, scale, step_text(step))
                    legend.setdefault(name + ": predicted (line)",
                                      Line2D([], [], color=color, lw=1.6))
                    legend.setdefault(name + ": measured (markers)",
                                      Line2D([], [], color=color, ls="none", marker=st["marker"],
                                             ms=6.5, mfc=st["mfc"] or color, mew=1.4))

            if gen == "tridiagonal" and row == "relative":
                # Reference slope ∝ 1/d, a factor 2 below the data at the largest n = d.
                pred = summarise(gcells, "relative")
                if len(pred) >= 2:
                    dmax = float(pred.index.max())
                    k = 0.5 * float(pred["geomean"].iloc[-1]) * dmax
                    xs = np.array([float(pred.index.min()), dmax])
                    rl, = ax.plot(xs, k / xs, color="0.4", lw=1.1, ls=(0, (5, 3)), zorder=1)
                    legend.setdefault(r"reference slope $\propto 1/d$", rl)
                x0 = gcells.groupby("dim")["x0_dist"].apply(geomean).dropna().sort_index()
                if len(x0) >= 2:
                    ax.text(0.03, 0.04,
                            r"$\Vert x^0 - x^\star\Vert^2$ grows with d ($x^0 = \sqrt{{d}}\,e_1$):"
                            "\n{} at d = {} … {} at d = {}".format(
                                fmt_sci(x0.iloc[0]), fmt_num(x0.index[0]),
                                fmt_sci(x0.iloc[-1]), fmt_num(x0.index[-1])),
                            transform=ax.transAxes, ha="left", va="bottom", fontsize=8.5,
                            bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="0.7", alpha=0.9))
            if gen == "tridiagonal" and row == "absolute":
                big = gcells[gcells["dim"] >= 8]
                if big["dim"].nunique() >= 2:
                    per_dim = big.groupby(["scale", "dim"])["absolute"].apply(geomean)
                    ax.text(0.97, 0.04,
                            "does not vanish: {} … {} for n = d ≥ {}".format(
                                fmt_sci(per_dim.min()), fmt_sci(per_dim.max()),
                                fmt_num(big["dim"].min())),
                            transform=ax.transAxes, ha="right", va="bottom", fontsize=8.5,
                            bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="0.7", alpha=0.9))

            ax.set_xscale("log", base=2)
            ax.set_yscale("log")
            ax.xaxis.set_major_locator(FixedLocator(sorted(float(d) for d in gcells["dim"].unique())))
            ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_num(v)))
            ax.xaxis.set_minor_formatter(NullFormatter())
            ax.yaxis.set_major_locator(LogLocator(base=10.0, numticks=30))
            ax.yaxis.set_minor_locator(LogLocator(base=10.0, subs=np.arange(2, 10), numticks=60))
            ax.yaxis.set_minor_formatter(NullFormatter())
            if c == 0:
                ax.set_ylabel(ylabel)
            if r == len(ROWS) - 1:
                ax.set_xlabel("n = d (Perm-1: each worker keeps one coordinate per round)")

    # Room around the data on the log axes.
    for r in range(len(ROWS)):
        lo, hi = axes[r][0].get_ylim()
        axes[r][0].set_ylim(lo / 2.5, hi * 1.6)
    for c, gen in enumerate(generators):
        gd = cells.loc[cells["generator"] == gen, "dim"]
        axes[0][c].set_xlim(float(gd.min()) / 1.35, float(gd.max()) * 1.35)

    fig.suptitle(SUPTITLE, fontsize=12.5, fontweight="bold")
    labels = list(legend)
    handles = [legend[k] for k in labels]
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False,
               bbox_to_anchor=(0.5, 0.065), handlelength=2.6, columnspacing=1.8)
    footnote = (
        "Lines and bands: ist_relative_bias (top) and ist_bias (bottom) from cells.csv, geometric mean "
        "and min–max over seeds {{{}}} (each seed draws its own problem).\n"
        "Markers and error bars: the level rel_err settles at (geometric mean over the last quarter of "
        "the run), geometric mean and min–max over seeds;\n"
        r"bottom row: times each cell's $\Vert x^0 - x^\star\Vert^2$ = ist_bias / ist_relative_bias. "
        r"$\gamma$ is a multiple of $1/\lambda$, $\lambda = \lambda_{{\max}}(\mathbb{{E}}[\bar B])$."
    ).format(", ".join(fmt_num(s) for s in seeds))
    fig.tight_layout(rect=(0, 0.125, 1, 1))
    write_figure(fig, args.out, footnote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
