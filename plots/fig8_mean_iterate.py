#!/usr/bin/python3
"""Figure 8: the Monte-Carlo mean of the IST iterates converges to x^inf, not to x*.

One fixed heterogeneous dense problem with b_i != 0 (problem.seed), IST with perm sketches
run with many sketch seeds (repeats), one panel per step size. From iterates.csv, for each
recorded round k the Monte-Carlo mean iterate x̄^k = (1/N) sum_s x_s^k over the N seeds is
compared with x^inf = E[B̄]^-1 E[c̄] (column x_fixed) and with x* (column x_star):
||x̄^k - x^inf||^2 and ||x̄^k - x*||^2 on a log y axis. Grey dotted: the Monte-Carlo noise
level of the mean, sum_s ||x_s^k - x̄^k||^2 / (N (N - 1)) (the expected ||x̄^k - E x^k||^2 with
N seeds; once the mean has settled it equals the mean over seeds of ||x^k - x^inf||^2 / N).
Dashed: IST's bias ||x^inf - x*||^2 (cells.csv ist_bias). Shaded bands: the single runs,
min-max over seeds of ||x_s^k - x^inf||^2 and ||x_s^k - x*||^2. The x axis is symlog so
that round 0 and the fast first rounds are both visible.

Input : <results>/fig8_mean_iterate/{iterates.csv,cells.csv}, produced by
        istlab sweep experiments/fig8_mean_iterate.yaml --out results
        (the config sets run.record_iterates: true, which writes iterates.csv)
Usage : /usr/bin/python3 plots/fig8_mean_iterate.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/fig8_mean_iterate.png) and a PDF with the same stem.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402  (common selects the Agg backend)
    apply_style, die, figure_parser, fmt_num, fmt_sci, geomean, load_experiment, method_color,
    setup_log_y, step_text, write_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.patheffects as pe  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import FixedLocator, NullFormatter  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

EXPERIMENT = "fig8_mean_iterate"
TO_FIXED_COLOR = method_color("ist")   # distance to IST's own fixed point
TO_STAR_COLOR = "#000000"
NOISE_COLOR = "0.45"
BIAS_LS = (0, (7, 3))
YTOP = 3.0
ITERATE_DTYPES = {"cell_key": "category", "iter": np.int64, "coordinate": np.int64,
                  "value": np.float64, "x_star": np.float64, "x_fixed": np.float64}
LBL_TO_FIXED = r"$\Vert \bar x^k - x^\infty\Vert^2$  (mean iterate to IST's fixed point)"
LBL_TO_STAR = r"$\Vert \bar x^k - x^\star\Vert^2$  (mean iterate to the solution)"
LBL_NOISE = (r"Monte-Carlo noise level of $\bar x^k$: $\sum_s \Vert x_s^k - \bar x^k\Vert^2 / "
             r"(N(N-1))$")
LBL_BIAS = r"IST bias $\Vert x^\infty - x^\star\Vert^2$ (cells.csv ist_bias)"
LBL_BAND_FIXED = r"single runs: $\Vert x_s^k - x^\infty\Vert^2$, min–max over seeds"
LBL_BAND_STAR = r"single runs: $\Vert x_s^k - x^\star\Vert^2$, min–max over seeds"


def mean_iterate_curves(it):
    """Per recorded round: distances of the Monte-Carlo mean iterate, its noise level and the
    single-run min / max. ``it`` holds the iterates of one step size (all cells, one problem)."""
    n_seeds = it.groupby("iter")["cell_key"].nunique()
    by_coord = it.groupby(["iter", "coordinate"], sort=True)
    per_coord = pd.DataFrame({
        "mean": by_coord["value"].mean(),
        "var": by_coord["value"].var(ddof=1),
        "x_star": by_coord["x_star"].first(),
        "x_fixed": by_coord["x_fixed"].first(),
        "star_spread": by_coord["x_star"].max() - by_coord["x_star"].min(),
        "fixed_spread": by_coord["x_fixed"].max() - by_coord["x_fixed"].min(),
    })
    if (per_coord[["star_spread", "fixed_spread"]].to_numpy() > 1e-12).any():
        die("x_star / x_fixed differ between seeds: the cells are not one fixed problem")
    per_coord["to_fixed"] = (per_coord["mean"] - per_coord["x_fixed"]) ** 2
    per_coord["to_star"] = (per_coord["mean"] - per_coord["x_star"]) ** 2
    out = per_coord.groupby(level="iter")[["to_fixed", "to_star", "var"]].sum()
    out["n"] = n_seeds
    out["noise"] = out["var"] / out["n"]
    # Single runs.
    single = it.assign(d_fixed=(it["value"] - it["x_fixed"]) ** 2,
                       d_star=(it["value"] - it["x_star"]) ** 2)
    single = single.groupby(["cell_key", "iter"], observed=True)[["d_fixed", "d_star"]].sum()
    g = single.groupby(level="iter")
    out["fixed_lo"], out["fixed_hi"] = g["d_fixed"].min(), g["d_fixed"].max()
    out["star_lo"], out["star_hi"] = g["d_star"].min(), g["d_star"].max()
    return out.sort_index()


def main():
    args = figure_parser(EXPERIMENT, __doc__).parse_args()
    exp_dir, (cells, it) = load_experiment(args.results, EXPERIMENT, {
        "cells.csv": {"cell_key", "method", "sketch", "scale", "relative_step", "problem_seed",
                      "ist_bias", "dim", "num_workers"},
        "iterates.csv": ITERATE_DTYPES,  # only these columns, typed: the file is large
    })
    cells_path = os.path.join(exp_dir, "cells.csv")
    iter_path = os.path.join(exp_dir, "iterates.csv")
    if it["x_fixed"].isna().any():
        die("{} has rows without x_fixed (x^inf is only defined for ist cells)".format(iter_path))

    cells = cells[cells["method"] == "ist"]
    if cells["problem_seed"].nunique() != 1:
        die("{} holds {} problems; this figure needs one fixed problem (problem.seed)".format(
            cells_path, cells["problem_seed"].nunique()))
    step_of = cells.set_index("cell_key")["relative_step"]
    it = it[it["cell_key"].isin(step_of.index)]
    it["relative_step"] = it["cell_key"].map(step_of).astype(float)
    steps = sorted(it["relative_step"].dropna().unique(), reverse=True)
    if not steps:
        die("no ist iterates in {}".format(iter_path))
    first = cells.iloc[0]
    bias = geomean(cells["ist_bias"])
    n_total = it.groupby("relative_step")["cell_key"].nunique()
    n_seeds = int(n_total.min())

    apply_style(10)
    fig, axes = plt.subplots(1, len(steps), figsize=(5.3 * len(steps) + 0.6, 6.6), squeeze=False,
                             sharey=True)
    kmax = 0
    for ax, step in zip(axes[0], steps):
        cur = mean_iterate_curves(it[it["relative_step"] == step])
        k = cur.index.to_numpy(dtype=float)
        kmax = max(kmax, int(k.max()))
        sc = cells[cells["relative_step"] == step]
        ax.set_title("ist ({}{}), {}, N = {} sketch seeds".format(
            sc["sketch"].iloc[0], "" if sc["scale"].iloc[0] == "unbiased" else ", " + sc["scale"].iloc[0],
            step_text(step), int(cur["n"].min())))
        ax.fill_between(k, cur["star_lo"], cur["star_hi"], color=TO_STAR_COLOR, alpha=0.08, lw=0,
                        zorder=1)
        ax.fill_between(k, cur["fixed_lo"], cur["fixed_hi"], color=TO_FIXED_COLOR, alpha=0.13, lw=0,
                        zorder=1)
        # Round 0: every seed starts at the same x^0, the spread is 0 (not drawable on log y).
        noise = cur["noise"].where(cur["noise"] > 0)
        ax.plot(k, noise, color=NOISE_COLOR, lw=1.6, ls=(0, (1, 1.2)), zorder=2)
        if np.isfinite(bias) and bias > 0:
            ax.axhline(bias, color=method_color("ist"), ls=BIAS_LS, lw=1.2, zorder=3,
                       path_effects=[pe.withStroke(linewidth=2.6, foreground="white")])
        ax.plot(k, cur["to_star"], color=TO_STAR_COLOR, lw=1.6, marker="s", ms=4.2, zorder=5)
        ax.plot(k, cur["to_fixed"], color=TO_FIXED_COLOR, lw=2.0, marker="o", ms=4.5, zorder=6)

        last = cur.iloc[-1]
        txt = ("round k = {}:\n"
               r"$\Vert \bar x^k - x^\star\Vert^2$ = {}  (bias {})" "\n"
               r"$\Vert \bar x^k - x^\infty\Vert^2$ = {}  (noise level {})").format(
            int(cur.index[-1]), fmt_sci(last["to_star"]), fmt_sci(bias),
            fmt_sci(last["to_fixed"]), fmt_sci(last["noise"]))
        ax.text(0.97, 0.03, txt, transform=ax.transAxes, ha="right", va="bottom", fontsize=8.8,
                zorder=10, linespacing=1.5,
                bbox=dict(boxstyle="round,pad=0.35", fc="white", ec="0.7", alpha=0.92))

        ax.set_xscale("symlog", linthresh=1, linscale=0.4)
        ax.set_xlabel("round k (symlog scale)")

    ticks = [0] + [v for v in (1, 3, 10, 30, 100, 300, 1000, 3000) if v <= kmax * 1.01]
    for ax in axes[0]:
        ax.set_xlim(0, kmax * 1.15)
        ax.xaxis.set_major_locator(FixedLocator(ticks))
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_num(v)))
        ax.xaxis.set_minor_formatter(NullFormatter())
        setup_log_y(ax, bottom=1e-10, top=YTOP, decades_per_tick=1)
    axes[0][0].set_ylabel("squared distance")

    fig.suptitle(("The mean IST iterate converges to $x^\\infty = \\mathbb{{E}}[\\bar B]^{{-1}}"
                  "\\mathbb{{E}}[\\bar c]$, not to $x^\\star$:\naveraged over {} sketch seeds on one "
                  "problem").format(n_seeds), fontsize=12.5, fontweight="bold")
    handles = [
        Line2D([], [], color=TO_FIXED_COLOR, lw=2.0, marker="o", ms=4.5),
        Line2D([], [], color=TO_STAR_COLOR, lw=1.6, marker="s", ms=4.2),
        Line2D([], [], color=NOISE_COLOR, lw=1.6, ls=(0, (1, 1.2))),
        Line2D([], [], color=method_color("ist"), lw=1.2, ls=BIAS_LS),
        Patch(color=TO_FIXED_COLOR, alpha=0.13, lw=0),
        Patch(color=TO_STAR_COLOR, alpha=0.08, lw=0),
    ]
    labels = [LBL_TO_FIXED, LBL_TO_STAR, LBL_NOISE, LBL_BIAS, LBL_BAND_FIXED, LBL_BAND_STAR]
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False,
               bbox_to_anchor=(0.5, 0.07), handlelength=3.0, columnspacing=2.0)
    pars = r"dense generator, d = {}, n = {}, h = {}, $\kappa$ = {}, $b_i \neq 0$, problem seed {}".format(
        fmt_num(first["dim"]), fmt_num(first["num_workers"]), fmt_num(first["heterogeneity"]),
        fmt_num(first["kappa"]), fmt_num(first["problem_seed"]))
    footnote = (
        r"{}; every seed starts from the same $x^0$ and draws its own sketches. "
        r"$\bar x^k = \frac{{1}}{{N}}\sum_s x_s^k$.  "
        r"$\gamma$ is a multiple of $1/\lambda$, $\lambda = \lambda_{{\max}}(\mathbb{{E}}[\bar B])$."
        "\nOnce settled, the noise level equals the mean over seeds of "
        r"$\Vert x_s^k - x^\infty\Vert^2$ divided by N: $\Vert \bar x^k - x^\infty\Vert^2$ is at "
        "the Monte-Carlo resolution, while $\\Vert \\bar x^k - x^\\star\\Vert^2$ stays at the bias."
    ).format(pars)
    fig.tight_layout(rect=(0, 0.19, 1, 1))
    write_figure(fig, args.out, footnote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
