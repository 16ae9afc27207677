#!/usr/bin/python3
"""Figure 3: on the 2×2 counterexample f rises along IST although the iterates contract.

Every worker holds L = [[1, 5], [5, 100]] (b = 0, so x* = 0 and f* = 0), n = 2 workers with
Perm-1 sketches; then E[B̄] = 2·Diag(L) and W̄ = ½(L̄E[B̄] + E[B̄]L̄) has a negative
eigenvalue (docs/theory.md §4, known answer 5). Four panels:
  (a) f(x^k) − f* and ‖x^k − x*‖², each relative to its value at round 0, on a linear axis:
      for IST, f rises during the first rounds while ‖x^k − x*‖ only shrinks; for GD both fall;
  (b) the same two quantities (absolute) on a log axis down to the tolerance: all runs converge;
  (c) the iterate path in the (x1, x2) plane over level sets of f (from iterates.csv);
  (d) the extreme eigenvalues of W̄ from cells.csv for IST (Perm-1) and GD (identity sketch,
      where W̄ = L̄² ⪰ 0).
One seed; the IST runs are deterministic here (both Perm-1 draws give the same B̄).

Input : <results>/fig3_counterexample/{trace.csv,cells.csv,iterates.csv}, produced by
        istlab sweep experiments/fig3_counterexample.yaml --out results
Usage : /usr/bin/python3 plots/fig3_counterexample.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/fig3_counterexample.png) and a PDF with the same stem.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402  (common selects the Agg backend)
    DISPLAY_FLOOR, apply_style, clip_for_log, figure_parser, fmt_num, fmt_sci, load_experiment,
    method_color, setup_log_y, write_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.gridspec import GridSpec  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
import numpy as np  # noqa: E402

EXPERIMENT = "fig3_counterexample"
XLABEL = "round k   (plotted at k + 1, log scale, so round 0 shows)"
SUPTITLE = (r"The 2×2 counterexample: $\bar W$ has a negative eigenvalue, so $f(x^k) - f^\star$ "
            "rises along IST\n" r"although $\Vert x^k - x^\star\Vert$ shrinks")
# The counterexample's matrix (docs/theory.md §1.1); used only to draw the level sets of f in panel (c).
L_COUNTER = np.array([[1.0, 5.0], [5.0, 100.0]])
# Shades of IST's colour, darkest for the largest step.
IST_SHADES = ["#7A2F00", "#D55E00", "#F0A064", "#F5C7A0"]
LS_F = "-"
LS_X = (0, (4, 2))


def main():
    args = figure_parser(EXPERIMENT, __doc__).parse_args()
    exp_dir, (trace, cells, iterates) = load_experiment(args.results, EXPERIMENT, {
        "trace.csv": {"cell_key", "method", "step_size", "seed", "iter", "rel_err", "f_gap"},
        "cells.csv": {"cell_key", "method", "sketch", "step_size", "status", "iterations",
                      "w_bar_min_eigenvalue", "w_bar_max_eigenvalue"},
        "iterates.csv": {"cell_key", "iter", "coordinate", "value", "x_star"},
    })
    if len(trace["seed"].unique()) > 1:
        sys.stderr.write("note: several seeds in {}; drawing the first one\n".format(
            os.path.join(exp_dir, "trace.csv")))
        trace = trace[trace["seed"] == sorted(trace["seed"].unique())[0]]

    # Curves: GD first, then IST from the largest step down (darkest shade first).
    cells = cells[cells["cell_key"].isin(set(trace["cell_key"]))]
    gd_cells = cells[cells["method"] == "gd"].sort_values("step_size", ascending=False)
    ist_cells = cells[cells["method"] == "ist"].sort_values("step_size", ascending=False)
    curves = []  # (cell_key, method, step, colour, label)
    for i, (_, c) in enumerate(gd_cells.iterrows()):
        curves.append((c["cell_key"], "gd", c["step_size"], method_color("gd"),
                       r"gd (identity), $\gamma$ = {}".format(fmt_num(c["step_size"]))))
    for i, (_, c) in enumerate(ist_cells.iterrows()):
        curves.append((c["cell_key"], "ist", c["step_size"], IST_SHADES[i % len(IST_SHADES)],
                       r"ist ({}), $\gamma$ = {}".format(c["sketch"], fmt_num(c["step_size"]))))

    apply_style(10)
    fig = plt.figure(figsize=(11, 8.8))
    gs = GridSpec(2, 2, figure=fig, width_ratios=[1.15, 1.0], hspace=0.42, wspace=0.26)
    ax_a = fig.add_subplot(gs[0, 0])
    ax_b = fig.add_subplot(gs[1, 0], sharex=ax_a)
    ax_c = fig.add_subplot(gs[0, 1])
    ax_d = fig.add_subplot(gs[1, 1])

    xmax = 1.0
    ist_rise = []  # (step, f0, fmax, k at max)
    for key, method, step, color, label in curves:
        g = trace[trace["cell_key"] == key].sort_values("iter")
        x = g["iter"].to_numpy(dtype=float) + 1.0
        f = g["f_gap"].to_numpy(dtype=float)
        r = g["rel_err"].to_numpy(dtype=float)
        lw = 2.4 if method == "gd" else 1.9
        z = 3 if method == "gd" else 4
        ax_a.plot(x, f / f[0], color=color, ls=LS_F, lw=lw, zorder=z)
        ax_a.plot(x, r, color=color, ls=LS_X, lw=lw * 0.8, zorder=z)
        # ‖x − x*‖² in absolute terms: rel_err times ‖x⁰ − x*‖² from iterates.csv.
        it0 = iterates[(iterates["cell_key"] == key) & (iterates["iter"] == 0)]
        d0 = float(((it0["value"] - it0["x_star"]) ** 2).sum()) if not it0.empty else 1.0
        ax_b.plot(x, clip_for_log(f), color=color, ls=LS_F, lw=lw, zorder=z)
        ax_b.plot(x, clip_for_log(r * d0), color=color, ls=LS_X, lw=lw * 0.8, zorder=z)
        xmax = max(xmax, float(x.max()))
        if method == "ist":
            i = int(np.argmax(f))
            ist_rise.append((step, f[0], f[i], int(g["iter"].iloc[i]), color))
            ax_a.plot([x[i]], [f[i] / f[0]], "o", color=color, ms=5, zorder=6)

    # (a) the rise of f, in words next to the curves.
    if ist_rise:
        step, f0, fmax, kmax, color = ist_rise[0]
        ax_a.annotate("ist $\\gamma$ = {}: f − f* rises {:.3f} → {:.3f}\n(+{:.0f}%, max at round {})"
                      .format(fmt_num(step), f0, fmax, 100 * (fmax / f0 - 1), kmax),
                      xy=(kmax + 1, fmax / f0), xytext=(60, 8), textcoords="offset points",
                      ha="left", va="bottom", fontsize=8.5, color=color,
                      arrowprops=dict(arrowstyle="->", color=color, lw=0.9, shrinkB=4))
    ax_a.axhline(1.0, color="0.5", lw=0.8, zorder=1)
    ax_a.set_xscale("log")
    ax_a.set_xlim(0.9, xmax * 1.3)
    top = max(1.4, max((fm / f0 for _, f0, fm, _, _ in ist_rise), default=1.0) + 0.22)
    ax_a.set_ylim(0, top)
    ax_a.set_ylabel("value relative to round 0")
    ax_a.set_title(r"(a) $f(x^k) - f^\star$ rises for IST while $\Vert x^k - x^\star\Vert^2$ shrinks",
                   fontsize=10.5)
    ax_a.tick_params(labelbottom=True)
    ax_a.set_xlabel(XLABEL)

    # (b) everything converges.
    tol = None
    conv = cells[cells["status"] == "converged"]
    if not conv.empty:
        tol = 10.0 ** np.ceil(np.log10(conv["rel_err"].max()))
        ax_b.axhline(tol, color="0.45", lw=0.9, ls=(0, (2, 2)), zorder=1)
    lo = np.nanmin(clip_for_log(trace["f_gap"]))
    setup_log_y(ax_b, bottom=max(DISPLAY_FLOOR, 10.0 ** (np.floor(np.log10(lo)) - 1)), top=3.0,
                decades_per_tick=2)
    ax_b.set_ylabel("absolute value")
    ax_b.set_xlabel(XLABEL)
    lines = []
    for key, method, step, color, label in curves:
        c = cells[cells["cell_key"] == key].iloc[0]
        lines.append("{} $\\gamma$ = {}: {} rounds".format(method, fmt_num(step), int(c["iterations"]))
                     if c["status"] == "converged" else "{} $\\gamma$ = {}: {}".format(
                         method, fmt_num(step), c["status"]))
    ax_b.text(0.03, 0.04, ("rounds to rel_err < {}\n".format(fmt_sci(tol)) if tol else "")
              + "\n".join(lines), transform=ax_b.transAxes, ha="left", va="bottom", fontsize=8.5,
              bbox=dict(boxstyle="round,pad=0.3", fc="white", ec="0.7", alpha=0.95))
    ax_b.set_title("(b) both quantities converge for every run (log scale)", fontsize=10.5)

    # (c) the path of the iterates over level sets of f.
    paths = {}
    for key, method, step, color, label in curves:
        it = iterates[iterates["cell_key"] == key]
        if it.empty:
            continue
        p = it.pivot(index="iter", columns="coordinate", values="value").sort_index()
        xs = it.pivot(index="iter", columns="coordinate", values="x_star").iloc[0]
        paths[key] = (p.to_numpy(dtype=float), xs.to_numpy(dtype=float))
    if paths and all(v[0].shape[1] == 2 for v in paths.values()):
        xstar = next(iter(paths.values()))[1]
        start = next(iter(paths.values()))[0][0]
        # Zoom on the corner near x⁰ where IST's path leaves the valley of f: x* is far to
        # the left on the scale of x2, so the whole path would squeeze the rise into a dot.
        allp = np.vstack([v[0] for v in paths.values()])
        dx1 = 0.12 * max(abs(start[0] - xstar[0]), 1e-12)
        x1lo, x1hi = start[0] - dx1, start[0] + 0.1 * dx1
        near = allp[(allp[:, 0] >= x1lo) & (allp[:, 0] <= x1hi)]
        x2lo, x2hi = min(near[:, 1].min(), xstar[1]), max(near[:, 1].max(), xstar[1])
        pad2 = 0.08 * (x2hi - x2lo)
        g1 = np.linspace(x1lo, x1hi, 500)
        g2 = np.linspace(x2lo - pad2, x2hi + 1.5 * pad2, 500)
        X1, X2 = np.meshgrid(g1, g2)
        D1, D2 = X1 - xstar[0], X2 - xstar[1]
        F = 0.5 * (L_COUNTER[0, 0] * D1 ** 2 + 2 * L_COUNTER[0, 1] * D1 * D2
                   + L_COUNTER[1, 1] * D2 ** 2)
        f0 = float(trace[trace["iter"] == 0]["f_gap"].iloc[0])
        fpeak = max((fm for _, _, fm, _, _ in ist_rise), default=f0)
        step_lv = 0.025
        others = [v for v in np.arange(np.floor(F.min() / step_lv) * step_lv, F.max(), step_lv)
                  if min(abs(v - f0), abs(v - fpeak)) > 0.4 * step_lv]
        ax_c.contour(X1, X2, F, levels=sorted(others), colors="0.7", linewidths=0.7, zorder=1)
        ax_c.contour(X1, X2, F, levels=[f0], colors="0.2", linewidths=1.2, zorder=2)
        ax_c.contour(X1, X2, F, levels=[fpeak], colors="0.2", linewidths=1.2,
                     linestyles=[(0, (4, 2))], zorder=2)
        for key, method, step, color, label in curves:
            if key not in paths:
                continue
            pts = paths[key][0]
            ax_c.plot(pts[:, 0], pts[:, 1], color=color, lw=1.5 if method == "ist" else 2.2,
                      marker="o", ms=3.0, zorder=4 if method == "ist" else 3)
        ax_c.plot([start[0]], [start[1]], "s", color="black", ms=6, zorder=6)
        ax_c.annotate("$x^0$", xy=start, xytext=(-8, 0), textcoords="offset points", ha="right",
                      va="center", fontsize=10)
        ax_c.annotate(r"towards $x^\star$ = ({}, {})".format(fmt_num(xstar[0]), fmt_num(xstar[1])),
                      xy=(x1lo, xstar[1]), xytext=(20, -22), textcoords="offset points",
                      ha="left", va="top", fontsize=8.5,
                      arrowprops=dict(arrowstyle="->", color="0.2", lw=0.9))
        ax_c.legend([Line2D([], [], color="0.2", lw=1.2),
                     Line2D([], [], color="0.2", lw=1.2, ls=(0, (4, 2))),
                     Line2D([], [], color="0.7", lw=0.7)],
                    ["f = {:.3f} = f($x^0$)".format(f0),
                     "f = {:.3f}: IST's highest f".format(fpeak),
                     "level sets of f every {:g}".format(step_lv)],
                    loc="center left", bbox_to_anchor=(0.0, 0.47), fontsize=8, framealpha=0.95,
                    title="dots: recorded rounds", title_fontsize=8)
        ax_c.set_xlim(g1[0], g1[-1])
        ax_c.set_ylim(g2[0], g2[-1])
        ax_c.set_xlabel(r"$x_1$")
        ax_c.set_ylabel(r"$x_2$   (axes not to scale)")
        ax_c.grid(False)
        ax_c.set_title("(c) iterates near $x^0$: IST climbs out of the valley of f\n"
                       "to higher level sets on its way to $x^\\star$; GD descends", fontsize=10.5)
    else:
        ax_c.text(0.5, 0.5, "no 2-d iterates recorded", transform=ax_c.transAxes, ha="center")

    # (d) W̄'s extreme eigenvalues: IST (Perm-1) vs GD (identity sketch, W̄ = L̄²).
    rows = []
    for name, cc, color in (("gd (identity):\n" r"$\bar W = \bar L^2$", gd_cells, method_color("gd")),
                            ("ist (Perm-1):\n" r"$\bar W = \frac{1}{2}(\bar L\,\mathbb{E}[\bar B]"
                             r" + \mathbb{E}[\bar B]\,\bar L)$", ist_cells, method_color("ist"))):
        if cc.empty:
            continue
        rows.append((name, float(cc["w_bar_min_eigenvalue"].iloc[0]),
                     float(cc["w_bar_max_eigenvalue"].iloc[0]), color))
    width = 0.36
    for j, (name, lmin, lmax, color) in enumerate(rows):
        off = (j - (len(rows) - 1) / 2) * (width + 0.04)
        for i, v in enumerate((lmin, lmax)):
            bar_color = "#B2182B" if v < 0 else color
            ax_d.bar(i + off, v, width=width, color=bar_color, alpha=0.85, zorder=3,
                     edgecolor="black", linewidth=0.6)
            ax_d.annotate("{:.5g}".format(v), xy=(i + off, v),
                          xytext=(0, 3 if v >= 0 else -3), textcoords="offset points",
                          ha="center", va="bottom" if v >= 0 else "top", fontsize=8.5,
                          color="#B2182B" if v < 0 else "black", fontweight="bold" if v < 0 else None)
    ax_d.set_yscale("symlog", linthresh=1.0)
    ax_d.axhline(0, color="black", lw=0.8, zorder=4)
    ax_d.set_xticks([0, 1])
    ax_d.set_xticklabels([r"$\lambda_{\min}(\bar W)$", r"$\lambda_{\max}(\bar W)$"], fontsize=10)
    vals = [v for _, a, b, _ in rows for v in (a, b)]
    if vals:
        ax_d.set_ylim(-10.0 ** (np.ceil(np.log10(max(1.0, -min(vals)))) + 1.2),
                      10.0 ** (np.ceil(np.log10(max(vals))) + 1.0))
    ax_d.set_ylabel("eigenvalue (symlog scale)")
    ax_d.grid(axis="x", visible=False)
    ax_d.legend([Line2D([], [], color=c, lw=8, alpha=0.85) for _, _, _, c in rows],
                [n for n, _, _, _ in rows], loc="upper left", fontsize=8.5, frameon=True,
                framealpha=0.95, handlelength=1.2, labelspacing=0.9)
    ax_d.set_title(r"(d) $\bar W$ is indefinite for IST (red bar: negative), PSD for GD",
                   fontsize=10.5)

    fig.suptitle(SUPTITLE, fontsize=12.5, fontweight="bold")
    handles = [Line2D([], [], color=c, lw=2.2) for _, _, _, c, _ in curves]
    labels = [lab for _, _, _, _, lab in curves]
    handles += [Line2D([], [], color="0.3", ls=LS_F, lw=1.8), Line2D([], [], color="0.3", ls=LS_X, lw=1.5)]
    labels += [r"solid: $f(x^k) - f^\star$", r"dashed: $\Vert x^k - x^\star\Vert^2$"]
    fig.legend(handles, labels, loc="lower center", ncol=3, frameon=False,
               bbox_to_anchor=(0.5, 0.035), handlelength=3.0, columnspacing=2.0)
    footnote = ("L = [[1, 5], [5, 100]] on n = 2 workers, b = 0, so $x^\\star = 0$, $f^\\star = 0$; "
                "one seed (both Perm-1 draws give the same $\\bar B$, so IST is deterministic). "
                "Values below {} are clipped.").format(fmt_sci(DISPLAY_FLOOR))
    fig.subplots_adjust(left=0.07, right=0.98, top=0.86, bottom=0.17)
    write_figure(fig, args.out, footnote)
    return 0


if __name__ == "__main__":
    sys.exit(main())
