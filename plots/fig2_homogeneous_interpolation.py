#!/usr/bin/python3
"""Figure 2: identical workers, interpolation: preconditioned IST converges with γ = 1/n.

Two panels (dense generator with κ = 1000; tridiagonal generator with μ = 0.01), d = 100,
n = 10 identical workers, every b_i = 0, Perm-10 sketches. Relative error vs round for GD at
1/λ_max(L̄), IST with the diagonally preconditioned sketch at absolute steps γ = 0.1 (= 1/n)
and γ = 0.5, IST without preconditioning (scale unbiased) at the same γ = 1/n, and IST
without preconditioning at its own theoretical step 1/λ_max(E[B̄]) (a different absolute
value for every problem). For each curve the geometric mean over seeds is drawn as a line
with a min-max band over seeds; runs marked "diverged" in cells.csv end with a cross.

Input : <results>/fig2_homogeneous_interpolation/{trace.csv,cells.csv}, produced by
        istlab sweep experiments/fig2_homogeneous_interpolation.yaml --out results
Usage : /usr/bin/python3 plots/fig2_homogeneous_interpolation.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/fig2_homogeneous_interpolation.png) and a PDF with the same stem.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402  (common selects the Agg backend)
    DISPLAY_FLOOR, aggregate_over_seeds, apply_style, figure_parser, fmt_num, fmt_sci,
    load_experiment, method_color, setup_log_y, write_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
import numpy as np  # noqa: E402

EXPERIMENT = "fig2_homogeneous_interpolation"
YLABEL = r"rel_err $= \Vert x^k - x^\star\Vert^2 / \Vert x^0 - x^\star\Vert^2$"
XLABEL = "round k   (plotted at k + 1, log scale, so round 0 shows)"
SUPTITLE = ("Identical workers, $b_i = 0$: with diagonal preconditioning, IST converges linearly to "
            r"$x^\star$ with $\gamma = 1/n$," "\n"
            "which needs no knowledge of L; without preconditioning the same $\\gamma$ diverges on "
            "the dense problem\n"
            r"and IST needs the problem-dependent step $1/\lambda_{\max}(\mathbb{E}[\bar B])$")
GENERATOR_ORDER = ["dense", "tridiagonal"]

# Darker shade of IST's colour for the sketch without preconditioning.
IST_PLAIN = "#8C3A00"


def curve_key(method, scale, step_size, relative_step):
    """(method, scale, step, is_relative): relative steps are grouped by their multiple."""
    if np.isfinite(relative_step):
        return (method, scale, float(relative_step), True)
    return (method, scale, float(step_size), False)


def curve_sort(key):
    method, scale, step, relative = key
    return ({"gd": 0, "ist": 1}.get(method, 2), scale != "diag_precond", relative, step)


def curve_style(key, num_workers):
    """(colour, line style, line width, label) of one curve."""
    method, scale, step, relative = key
    if method == "gd":
        gamma = r"$\gamma = 1/\lambda_{\max}(\bar L)$" if step == 1.0 else \
            r"$\gamma = {}/\lambda_{{\max}}(\bar L)$".format(fmt_num(step))
        return method_color("gd"), "-", 2.4, "gd (identity), " + gamma
    if relative:
        unit = r"1/\lambda_{\max}(\mathbb{E}[\bar B])"
        gamma = "$\\gamma = {}$".format(unit if step == 1.0 else fmt_num(step) + r"\cdot" + unit)
    else:
        gamma = r"$\gamma = {}$".format(fmt_num(step))
        if num_workers and abs(step * num_workers - 1.0) < 1e-12:
            gamma = r"$\gamma = {} = 1/n$".format(fmt_num(step))
    if scale == "diag_precond":
        color = method_color("ist")
        ls = "-" if np.isclose(step * num_workers, 1.0) else (0, (4, 1.5, 1, 1.5))
        lw = 2.0
        name = "ist (perm, diag_precond)"
    else:
        color = IST_PLAIN
        ls = (0, (1, 1.3)) if not relative else (0, (6, 2))
        lw = 1.8
        name = "ist (perm, unbiased = no precond.)"
    return color, ls, lw, "{}, {}".format(name, gamma)


def rounds_text(cc):
    if cc.empty:
        return ""
    if (cc["status"] == "diverged").all():
        return "diverged (round {})".format(int(cc["iterations"].max()))
    if not (cc["status"] == "converged").all():
        return "/".join(sorted(cc["status"].unique()))
    lo_it, hi_it = int(cc["iterations"].min()), int(cc["iterations"].max())
    return str(lo_it) if lo_it == hi_it else "{}–{}".format(lo_it, hi_it)


def short_name(key):
    method, scale, step, relative = key
    if method == "gd":
        return "gd"
    pre = "precond." if scale == "diag_precond" else "no precond."
    g = r"$1/\lambda_{\max}$" if relative else fmt_num(step)
    return r"ist {} $\gamma$ = {}".format(pre, g)


def main():
    args = figure_parser(EXPERIMENT, __doc__).parse_args()
    _, (trace, cells) = load_experiment(args.results, EXPERIMENT, {
        "trace.csv": {"cell_key", "generator", "method", "scale", "step_size", "relative_step",
                      "seed", "iter", "rel_err"},
        "cells.csv": {"cell_key", "generator", "method", "scale", "status", "iterations",
                      "step_size", "relative_step", "num_workers", "dim", "ist_step"},
    })

    for df in (trace, cells):
        df["curve"] = [curve_key(m, s, g, r) for m, s, g, r in zip(
            df["method"], df["scale"], df["step_size"], df["relative_step"])]
    status = dict(zip(cells["cell_key"], cells["status"]))
    seeds = sorted(trace["seed"].dropna().unique())
    num_workers = int(cells["num_workers"].iloc[0])
    dim = int(cells["dim"].iloc[0])
    tol = None
    conv = cells[cells["status"] == "converged"]
    if not conv.empty:
        # The config's tolerance is not in the CSV; the largest converged rel_err bounds it.
        tol = 10.0 ** np.ceil(np.log10(conv["rel_err"].max()))

    gens = [g for g in GENERATOR_ORDER if g in set(trace["generator"])] + sorted(
        set(trace["generator"]) - set(GENERATOR_ORDER))
    curves = sorted(set(trace["curve"]), key=curve_sort)

    ymax = np.nanmax(trace["rel_err"].replace([np.inf], np.nan))
    ytop = max(3.0, 10.0 ** np.ceil(np.log10(ymax) + 0.6))
    ybottom = max(DISPLAY_FLOOR, 10.0 ** (np.floor(np.log10(trace["rel_err"][trace["rel_err"] > 0].min())) - 1))

    apply_style(10)
    fig, axes = plt.subplots(1, len(gens), figsize=(11, 7.0), squeeze=False, sharey=True)
    axes = axes[0]
    legend = {}
    xmax_all = 1.0
    for ax, gen in zip(axes, gens):
        panel = trace[trace["generator"] == gen]
        pcells = cells[cells["generator"] == gen]
        for key in curves:
            g = panel[panel["curve"] == key]
            if g.empty:
                continue
            color, ls, lw, label = curve_style(key, num_workers)
            hold = {s: status.get(k) == "converged"
                    for s, k in g.groupby("seed")["cell_key"].first().items()}
            g = g.assign(x=g["iter"] + 1.0)
            agg = aggregate_over_seeds(g, x="x", y="rel_err", seed="seed", hold_last=hold)
            z = 4 if key[0] == "gd" else 5
            ax.fill_between(agg["x"], agg["lo"], agg["hi"], color=color, alpha=0.15, lw=0,
                            zorder=z - 0.5)
            ax.plot(agg["x"], agg["center"], color=color, ls=ls, lw=lw, zorder=z)
            legend.setdefault(label, Line2D([], [], color=color, ls=ls, lw=lw))
            xmax_all = max(xmax_all, float(agg["x"].max()))
            cc = pcells[pcells["curve"] == key]
            if not cc.empty and (cc["status"] == "diverged").all():
                xe, ye = float(agg["x"].iloc[-1]), float(agg["center"].iloc[-1])
                ax.plot([xe], [ye], marker="X", ms=9, color=color, mec="white", mew=0.8,
                        zorder=z + 1)
                hi = cc["rel_err"].replace([np.inf], np.nan)
                ax.annotate("diverged: rel_err =\n{} –\n{} at round {}".format(
                                fmt_sci(hi.min()), fmt_sci(hi.max()), int(cc["iterations"].max())),
                            xy=(xe, ye), xytext=(10, -12), textcoords="offset points", ha="left",
                            va="top", fontsize=9, color=color,
                            bbox=dict(boxstyle="round,pad=0.2", fc="white", ec="none", alpha=0.9))

        # Rounds to tolerance per curve, in the empty upper right of the panel.
        lines = []
        for key in curves:
            cc = pcells[pcells["curve"] == key]
            if not cc.empty:
                lines.append("{}: {}".format(short_name(key), rounds_text(cc)))
        head = "rounds to rel_err < {}".format(fmt_sci(tol)) if tol else "rounds run"
        ax.text(0.975, 0.975, head + "\n" + "\n".join(lines), transform=ax.transAxes, ha="right",
                va="top", fontsize=8.5, linespacing=1.35,
                bbox=dict(boxstyle="round,pad=0.35", fc="white", ec="0.7", alpha=0.95), zorder=12)

        # The relative step's absolute value, which differs per problem.
        rel = pcells[(pcells["method"] == "ist") & pcells["relative_step"].notna()]
        if not rel.empty:
            lo_s, hi_s = rel["step_size"].min(), rel["step_size"].max()
            val = fmt_sci(lo_s) if np.isclose(lo_s, hi_s) else "{} – {}".format(fmt_sci(lo_s),
                                                                                fmt_sci(hi_s))
            ax.text(0.025, 0.025,
                    r"$1/\lambda_{\max}(\mathbb{E}[\bar B])$ without precond.: " + val
                    + (" (per seed)" if not np.isclose(lo_s, hi_s) else ""),
                    transform=ax.transAxes, ha="left", va="bottom", fontsize=8.5, color=IST_PLAIN,
                    bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="none", alpha=0.9),
                    zorder=12)

        if tol:
            ax.axhline(tol, color="0.45", lw=0.9, ls=(0, (2, 2)), zorder=1)
        row = pcells.iloc[0]
        if gen == "dense":
            title = r"dense, $\kappa$ = {} (eigenvalues of $\bar L$ in [1, {}])".format(
                fmt_num(row["kappa"]), fmt_num(row["kappa"]))
        elif gen == "tridiagonal":
            title = r"tridiagonal, $\mu = \lambda_{{\min}}(\bar L)$ = {}".format(fmt_num(row["mu"]))
        else:
            title = gen
        ax.set_title(title)
        ax.set_xscale("log")
        ax.set_xlabel(XLABEL)
    for ax in axes:
        ax.set_xlim(0.85, xmax_all * 1.3)
    setup_log_y(axes[0], bottom=ybottom, top=ytop, decades_per_tick=2)
    axes[0].set_ylabel(YLABEL)

    fig.suptitle(SUPTITLE, fontsize=11.5, fontweight="bold")
    labels = list(legend)
    fig.legend([legend[k] for k in labels], labels, loc="lower center", ncol=2, frameon=False,
               bbox_to_anchor=(0.5, 0.055), handlelength=3.2, columnspacing=2.0)
    seeds_txt = ", ".join(fmt_num(s) for s in seeds)
    footnote = (
        "d = {}, n = {} identical workers, Perm-{} sketches. Lines: geometric mean over seeds {{{}}}; "
        "shaded bands: min–max over seeds.{}\nRuns stop once rel_err is below the tolerance (dotted "
        "line). Boxes: rounds to tolerance, min–max over seeds; $\\lambda_{{\\max}}$ stands for "
        "$\\lambda_{{\\max}}(\\mathbb{{E}}[\\bar B])$."
    ).format(dim, num_workers, dim // num_workers if num_workers else "?", seeds_txt,
             "" if ybottom > DISPLAY_FLOOR else " Values below {} are clipped.".format(
                 fmt_sci(DISPLAY_FLOOR)))
    fig.tight_layout(rect=(0, 0.17, 1, 1.0))
    write_figure(fig, args.out, footnote, footnote_y=0.01)
    return 0


if __name__ == "__main__":
    sys.exit(main())
