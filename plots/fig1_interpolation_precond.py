#!/usr/bin/python3
"""Figure 1: with n = d, diagonal preconditioning and b_i = 0, IST with γ = 1 converges in one round.

Heterogeneous dense problem under interpolation (every b_i = 0), d = n = 32, Perm-1 sketches
scaled by the diagonal preconditioner, so E[B̄] = I (indeed B̄ = I in every round, docs/theory.md §4,
known answer 3). Relative error vs round for IST with absolute steps γ ∈ {1, 0.5, 0.1}, and for GD and
DCGD (Perm-1, unbiased) at their theoretical step 1/λ_max(L̄). For each curve the geometric
mean over seeds is drawn as a line with a min-max band over seeds. IST with γ = 1 lands on
x* after one round (rel_err ≈ 1e-32, clipped for display); smaller γ contract by exactly
(1 − γ)² per round in rel_err.

Input : <results>/fig1_interpolation_precond/{trace.csv,cells.csv}, produced by
        istlab sweep experiments/fig1_interpolation_precond.yaml --out results
Usage : /usr/bin/python3 plots/fig1_interpolation_precond.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/fig1_interpolation_precond.png) and a PDF with the same stem.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402  (common selects the Agg backend)
    DISPLAY_FLOOR, aggregate_over_seeds, apply_style, figure_parser, fmt_num, fmt_sci,
    load_experiment, method_color, method_sort_key, setup_log_y, style_map, write_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
import numpy as np  # noqa: E402

EXPERIMENT = "fig1_interpolation_precond"
YLABEL = r"rel_err $= \Vert x^k - x^\star\Vert^2 / \Vert x^0 - x^\star\Vert^2$"
YTOP = 3.0
SUPTITLE = ("Interpolation, heterogeneous workers, Perm-1 with diagonal preconditioning (n = d):\n"
            r"$\mathbb{E}[\bar B] = I$, so IST with $\gamma = 1$ converges in one round")


def curve_key(row):
    """(method, sketch, scale, step label value, is_relative) for one trace/cell row."""
    rel = row["relative_step"]
    if np.isfinite(rel):
        return (row["method"], row["sketch"], row["scale"], float(rel), True)
    return (row["method"], row["sketch"], row["scale"], float(row["step_size"]), False)


def curve_label(method, sketch, scale, step, relative):
    sk = sketch if scale == "unbiased" else "{}, {}".format(sketch, scale)
    if method == "gd":
        sk = "identity"
    if relative:
        unit = r"1/\lambda_{\max}(\bar L)" if method in ("gd", "dcgd") else \
            r"1/\lambda_{\max}(\mathbb{E}[\bar B])"
        s = fmt_num(step)
        gamma = r"$\gamma = {}$".format(unit if s == "1" else s + r"\cdot" + unit)
    else:
        gamma = r"$\gamma = {}$".format(fmt_num(step))
    return "{} ({}), {}".format(method, sk, gamma)


def rounds_text(cc):
    """', 71–154 rounds' for a group of cells that all met the tolerance, else the statuses."""
    if cc.empty:
        return ""
    if not (cc["status"] == "converged").all():
        return ": " + "/".join(sorted(cc["status"].unique()))
    lo_it, hi_it = int(cc["iterations"].min()), int(cc["iterations"].max())
    rng = str(lo_it) if lo_it == hi_it else "{}–{}".format(lo_it, hi_it)
    return ": {} round{}".format(rng, "" if hi_it == 1 else "s")


def main():
    args = figure_parser(EXPERIMENT, __doc__).parse_args()
    _, (trace, cells) = load_experiment(args.results, EXPERIMENT, {
        "trace.csv": {"cell_key", "method", "sketch", "scale", "step_size", "relative_step",
                      "seed", "iter", "rel_err"},
        "cells.csv": {"cell_key", "method", "status", "iterations", "dim", "num_workers"},
    })

    trace = trace.copy()
    trace["curve"] = [curve_key(r) for _, r in trace.iterrows()]
    converged = dict(zip(cells["cell_key"], cells["status"] == "converged"))
    seeds = sorted(trace["seed"].dropna().unique())
    dim = int(cells["dim"].iloc[0])
    nw = int(cells["num_workers"].iloc[0])

    ist_steps = sorted({k[3] for k in trace["curve"] if k[0] == "ist"})
    ist_styles = style_map(ist_steps)
    curves = sorted(trace["curve"].unique(), key=lambda k: (method_sort_key(k[0]), -k[3]))

    apply_style(10)
    fig, ax = plt.subplots(figsize=(8.6, 6.6))

    handles, labels = [], []
    xmax = 0.0
    one_round = None
    theory_dev = 0.0
    for key in curves:
        method, sketch, scale, step, relative = key
        g = trace[trace["curve"] == key]
        hold = {s: converged.get(k, False) for s, k in g.groupby("seed")["cell_key"].first().items()}
        agg = aggregate_over_seeds(g, x="iter", y="rel_err", seed="seed", hold_last=hold)
        color = method_color(method)
        ls = ist_styles[step] if method == "ist" else "-"
        lw = {"gd": 2.6, "dcgd": 1.7}.get(method, 1.8)
        z = 3 + method_sort_key(method)[0]
        ax.fill_between(agg["x"], agg["lo"], agg["hi"], color=color, alpha=0.15, lw=0,
                        zorder=z - 0.5)
        marker = "o" if len(agg) <= 5 else None
        ax.plot(agg["x"], agg["center"], color=color, ls=ls, lw=lw, zorder=z, marker=marker,
                ms=5)
        handles.append(Line2D([], [], color=color, ls=ls, lw=lw, marker=marker, ms=5))
        cc = cells[cells["cell_key"].isin(set(g["cell_key"]))]
        labels.append(curve_label(method, sketch, scale, step, relative) + rounds_text(cc))
        xmax = max(xmax, float(agg["x"].max()))
        if method == "ist" and not relative:
            # B̄ = I every round, so rel_err = (1 − γ)^{2k} exactly; measure the agreement.
            k = g["iter"].to_numpy(dtype=float)
            y = g["rel_err"].to_numpy(dtype=float)
            th = (1.0 - step) ** (2.0 * k)
            ok = (th > DISPLAY_FLOOR) & (y > 0)
            if ok.any():
                theory_dev = max(theory_dev, float(np.max(np.abs(np.log10(y[ok] / th[ok])))))
            if step == 1.0:
                at1 = g[g["iter"] == 1]["rel_err"]
                if not at1.empty:
                    one_round = (float(at1.min()), float(at1.max()))

    # Tolerance line; the label sits below it, where no curve goes.
    ax.axhline(1e-14, color="0.45", lw=0.9, ls=(0, (2, 2)), zorder=1)
    ax.text(0.995, 1e-14, r"tolerance $10^{-14}$: runs stop here ", transform=ax.get_yaxis_transform(),
            ha="right", va="top", fontsize=8.5, color="0.35")

    if one_round is not None:
        ax.annotate(r"$\gamma = 1$: $x^1 = x^\star$ (one round); rel_err at round 1 is "
                    "{}–{},\nclipped to {} for display".format(
                        fmt_sci(one_round[0]), fmt_sci(one_round[1]), fmt_sci(DISPLAY_FLOOR)),
                    xy=(1, DISPLAY_FLOOR), xytext=(30, 2), textcoords="offset points",
                    ha="left", va="bottom", fontsize=9, color=method_color("ist"),
                    arrowprops=dict(arrowstyle="->", color=method_color("ist"), lw=1.0,
                                    shrinkA=2, shrinkB=5, relpos=(0, 0.25)))

    ax.set_xlim(-2, xmax * 1.03)
    setup_log_y(ax, bottom=DISPLAY_FLOOR / 3, top=YTOP, decades_per_tick=2)
    ax.set_xlabel("round k")
    ax.set_ylabel(YLABEL)
    ax.set_title("dense generator, {}, h = {}, $b_i = 0$, Perm-{} sketch".format(
        "d = n = {}".format(dim) if dim == nw else "d = {}, n = {}".format(dim, nw),
        fmt_num(cells["heterogeneity"].iloc[0]) if "heterogeneity" in cells else "?",
        dim // nw if nw else "?"),
        fontsize=10.5)
    ax.legend(handles, labels, loc="upper right", frameon=True, framealpha=0.95,
              handlelength=3.0, fontsize=9)

    fig.suptitle(SUPTITLE, fontsize=12, fontweight="bold")
    seeds_txt = ", ".join(fmt_num(s) for s in seeds)
    note = ""
    if theory_dev < 1e-6:
        note = (r"IST curves equal $(1-\gamma)^{2k}$ (to $10^{-6}$ in $\log_{10}$), since $\bar B = I$ "
                "in every round.\n")
    footnote = (
        "Lines: geometric mean over seeds {{{}}}; shaded bands: min–max over seeds; legend: rounds to "
        "tolerance over seeds.\nValues below {} are clipped for display. {}IST steps are absolute "
        "(here $1/\\lambda_{{\\max}}(\\mathbb{{E}}[\\bar B]) = 1$); gd and dcgd use "
        "$1/\\lambda_{{\\max}}(\\bar L)$ of each seed's problem."
    ).format(seeds_txt, fmt_sci(DISPLAY_FLOOR), note)
    fig.tight_layout(rect=(0, 0.075, 1, 1.0))
    write_figure(fig, args.out, footnote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
