#!/usr/bin/python3
"""Claims checker: each paper figure's claim, asserted numerically on its sweep's CSV.

For every figure in experiments/fig*.yaml this reads <results>/<experiment>/{cells,trace,
iterates}.csv and checks the claim the figure shows (docs/figures.md),
printing one line per check with the number it measured and the threshold it needs.
Exit status 0 when every claim holds, 1 when one fails, 2 when results are missing.

Usage: /usr/bin/python3 tests/claims/check_claims.py [--results DIR] [FIGURE ...]
       (FIGURE: an experiment name such as fig4_irreducible_bias; default: all)
The same thresholds apply to the full sweeps and to their --quick variants.
"""

import argparse
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "plots"))

from common import (  # noqa: E402  (istlab.measures, through plots/common.py)
    equal_time_means, first_reaching, geomean, kept_across_steps, produce_command, read_results_csv,
    settled_level,
)
# Figure 11's horizons (the gamma*k it compares runs at), its small steps (at or below SMALL)
# and the factor within which gd at a pair's larger step is still on gd's flow: the figure's own.
from fig11_network_floor import (  # noqa: E402
    HORIZONS as FIG11_HORIZONS, ON_FLOW as FIG11_ON_FLOW, SMALL as FIG11_SMALL,
)
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


class Report:
    """Collects checks: claim text, measured value, requirement, verdict."""

    def __init__(self):
        self.rows = []

    def check(self, figure, claim, measured, requirement, ok):
        self.rows.append((figure, claim, measured, requirement, bool(ok)))

    def failed(self):
        return [r for r in self.rows if not r[4]]

    def print(self, out=None):
        out = sys.stdout if out is None else out
        for figure, claim, measured, requirement, ok in self.rows:
            out.write("{:<4} {:<5} {}: {} (needs {})\n".format(
                "ok" if ok else "FAIL", figure.split("_")[0], claim, measured, requirement))


def sci(x):
    return "{:.3g}".format(x) if np.isfinite(x) else str(x)


def load(results, experiment, name):
    return read_results_csv(os.path.join(results, experiment, name),
                            produce_command(experiment, results))


def with_settled(cells, trace):
    """cells plus `settled`: the level each cell's rel_err settles at (common.settled_level)."""
    level = settled_level(trace).rename("settled")
    return cells.join(level, on="cell_key")


def by_step(frame, column="settled", step="relative_step"):
    """Geometric mean over seeds of `column`, per step size."""
    return frame.groupby(step)[column].apply(geomean).sort_index()


# --------------------------------------------------------------------------------------
def fig1(results, report):
    name = "fig1_interpolation_precond"
    cells = load(results, name, "cells.csv")
    trace = load(results, name, "trace.csv")
    ist = cells[cells.method == "ist"]
    one = ist[ist.step_size == 1.0]
    at_round_1 = trace[trace.cell_key.isin(one.cell_key) & (trace.iter == 1)].rel_err
    report.check(name, "IST gamma=1: max rel_err after round 1", sci(at_round_1.max()), "<= 1e-28",
                 len(at_round_1) == len(one) > 0 and at_round_1.max() <= 1e-28)
    tolerance = 1e-14
    for gamma in (0.5, 0.1):
        rows = ist[ist.step_size == gamma]
        predicted = math.ceil(math.log(tolerance) / (2.0 * math.log(1.0 - gamma)))
        measured = sorted(set(rows.iterations))
        report.check(name, "IST gamma={}: rounds to 1e-14 (contraction (1-gamma)^2)".format(gamma),
                     str(measured), "= {} on every seed".format(predicted),
                     len(rows) > 0 and measured == [predicted] and (rows.status == "converged").all())
    for method in ("gd", "dcgd"):
        rows = cells[cells.method == method]
        report.check(name, "{}: converged, fewest rounds over seeds".format(method.upper()),
                     "{} ({})".format(int(rows.iterations.min()), ",".join(sorted(set(rows.status)))),
                     ">= 10, converged", len(rows) > 0 and (rows.status == "converged").all()
                     and rows.iterations.min() >= 10)


def fig2(results, report):
    name = "fig2_homogeneous_interpolation"
    cells = load(results, name, "cells.csv")
    ist = cells[cells.method == "ist"]
    report.check(name, "IST predicted bias (homogeneous, b_i = 0), max", sci(ist.ist_bias.abs().max()),
                 "<= 1e-20", len(ist) > 0 and ist.ist_bias.abs().max() <= 1e-20)
    for generator, rows in cells.groupby("generator"):
        gd = rows[rows.method == "gd"]
        precond = rows[(rows.method == "ist") & (rows.scale == "diag_precond") & (rows.step_size == 0.1)]
        ok = (len(precond) > 0 and len(gd) > 0 and (precond.status == "converged").all()
              and (gd.status == "converged").all())
        report.check(name, "{}: IST diag_precond gamma=1/n rounds (max) vs GD (min)".format(generator),
                     "{} vs {}".format(int(precond.iterations.max()), int(gd.iterations.min())),
                     "converged, IST < GD", ok and precond.iterations.max() < gd.iterations.min())
        own = rows[(rows.method == "ist") & (rows.scale == "unbiased") & rows.relative_step.notna()]
        report.check(name, "{}: IST unbiased at 1/lambda_max(E[B]) statuses".format(generator),
                     ",".join(sorted(set(own.status))), "converged",
                     len(own) > 0 and (own.status == "converged").all())
    dense = cells[(cells.generator == "dense") & (cells.method == "ist") & (cells.scale == "unbiased")
                  & (cells.step_size == 0.1)]
    report.check(name, "dense: IST unbiased (no preconditioning) gamma=1/n statuses",
                 ",".join(sorted(set(dense.status))), "diverged",
                 len(dense) > 0 and (dense.status == "diverged").all())


def fig3(results, report):
    name = "fig3_counterexample"
    cells = load(results, name, "cells.csv")
    trace = load(results, name, "trace.csv").sort_values(["cell_key", "iter"])
    ist = cells[cells.method == "ist"]
    report.check(name, "W-bar eigenvalues (min, max) with Perm-1",
                 "{}, {}".format(sci(ist.w_bar_min_eigenvalue.max()), sci(ist.w_bar_max_eigenvalue.min())),
                 "min < 0", len(ist) > 0 and (ist.w_bar_min_eigenvalue < 0).all())
    limit = 1.0 / (cells.num_workers.iloc[0] * 100.0)
    for _, cell in ist.sort_values("step_size").iterrows():
        run = trace[trace.cell_key == cell.cell_key]
        f0 = run.f_gap.iloc[0]
        peak = run.f_gap.max()
        peak_iter = int(run.iter[run.f_gap.idxmax()])
        growth = (run.rel_err.values[1:] / run.rel_err.values[:-1]).max()
        report.check(name, "IST gamma={}: f peak / f at round 0 (at round {})".format(cell.step_size, peak_iter),
                     "{:.4f}".format(peak / f0), "> 1", peak > f0)
        report.check(name, "IST gamma={}: largest rel_err ratio between records".format(cell.step_size),
                     "{:.6f}".format(growth), "<= 1 (never rises)", growth <= 1.0 + 1e-12)
        report.check(name, "IST gamma={} < 1/(100 n) = {:g}: status, final rel_err".format(cell.step_size, limit),
                     "{} {}".format(cell.status, sci(cell.rel_err)), "converged",
                     cell.step_size < limit and cell.status == "converged")
    gd = cells[cells.method == "gd"]
    for _, cell in gd.iterrows():
        run = trace[trace.cell_key == cell.cell_key]
        rise = (run.f_gap.values[1:] / run.f_gap.values[:-1]).max()
        report.check(name, "GD: largest f ratio between records", "{:.6f}".format(rise), "<= 1", rise <= 1.0)


def fig4(results, report):
    name = "fig4_irreducible_bias"
    cells = with_settled(load(results, name, "cells.csv"), load(results, name, "trace.csv"))
    ist = by_step(cells[cells.method == "ist"])
    dcgd = by_step(cells[cells.method == "dcgd"])
    spread = ist.max() / ist.min() - 1.0
    report.check(name, "IST floor across {} steps: max/min - 1".format(len(ist)), "{:.2%}".format(spread),
                 "< 10%", len(ist) >= 2 and spread < 0.10)
    predicted = geomean(cells[cells.method == "ist"].ist_relative_bias)
    report.check(name, "IST floor / predicted bias (each gamma)",
                 ", ".join("{:.3f}".format(v / predicted) for v in ist.values), "in [0.95, 1.10]",
                 ((ist / predicted).between(0.95, 1.10)).all())
    drop = dcgd.iloc[-1] / dcgd.iloc[0]
    report.check(name, "DCGD floor, largest / smallest gamma", "{:.1f}x ({} -> {})".format(
        drop, sci(dcgd.iloc[-1]), sci(dcgd.iloc[0])), ">= 5x", len(dcgd) >= 2 and drop >= 5.0)
    gd = cells[cells.method == "gd"]
    report.check(name, "GD statuses, largest final rel_err", "{} {}".format(
        ",".join(sorted(set(gd.status))), sci(gd.rel_err.max())), "converged",
        len(gd) > 0 and (gd.status == "converged").all())


def fig5(results, report):
    name = "fig5_floor_vs_heterogeneity"
    cells = with_settled(load(results, name, "cells.csv"), load(results, name, "trace.csv"))
    for generator, rows in cells.groupby("generator"):
        ist = rows[rows.method == "ist"]
        measured = ist.groupby("heterogeneity").settled.apply(geomean)
        predicted = ist.groupby("heterogeneity").ist_relative_bias.apply(geomean)
        ratio = measured / predicted
        report.check(name, "{}: IST floor / predicted bias over {} levels".format(generator, len(ratio)),
                     "{:.3f}..{:.3f}".format(ratio.min(), ratio.max()), "in [0.95, 1.10]",
                     len(ratio) >= 3 and ratio.between(0.95, 1.10).all())
        report.check(name, "{}: IST floor with identical workers (h = 0)".format(generator),
                     sci(measured.iloc[0]), "> 1e-4 (biased even when homogeneous)",
                     measured.index[0] == 0.0 and measured.iloc[0] > 1e-4)
        dcgd = rows[rows.method == "dcgd"].groupby("heterogeneity").settled.apply(geomean)
        homogeneous = rows[(rows.method == "dcgd") & (rows.heterogeneity == 0.0)]
        report.check(name, "{}: DCGD at h = 0 statuses".format(generator), ",".join(sorted(set(homogeneous.status))),
                     "converged (DCGD = GD)", len(homogeneous) > 0 and (homogeneous.status == "converged").all())
        growth = dcgd.iloc[-1] / dcgd.iloc[1]
        report.check(name, "{}: DCGD floor, largest / smallest positive h".format(generator),
                     "{:.1f}x".format(growth), ">= 10x", len(dcgd) >= 3 and growth >= 10.0)
        gd = rows[rows.method == "gd"]
        report.check(name, "{}: GD statuses".format(generator), ",".join(sorted(set(gd.status))), "converged",
                     len(gd) > 0 and (gd.status == "converged").all())


def fig6(results, report):
    name = "fig6_bias_vs_scale"
    cells = with_settled(load(results, name, "cells.csv"), load(results, name, "trace.csv"))
    for (generator, scale), rows in cells.groupby(["generator", "scale"]):
        large = rows[rows.dim >= 16]
        ratio = large.settled / large.ist_relative_bias
        report.check(name, "{} {}: measured / predicted bias, n = d >= 16".format(generator, scale),
                     "{:.3f}..{:.3f}".format(ratio.min(), ratio.max()), "in [0.85, 1.15]",
                     len(ratio) > 0 and ratio.between(0.85, 1.15).all())
        if generator != "tridiagonal":
            continue
        relative = rows.groupby("dim").ist_relative_bias.apply(geomean)
        absolute = rows[rows.dim >= 16].groupby("dim").ist_bias.apply(geomean)
        fall = relative.iloc[0] / relative.iloc[-1]
        report.check(name, "tridiagonal {}: relative bias n={} / n={}".format(
            scale, relative.index[0], relative.index[-1]), "{:.0f}x".format(fall), ">= 100x (falls ~1/d)",
            relative.index[-1] >= 1024 and fall >= 100)
        spread = absolute.max() / absolute.min()
        report.check(name, "tridiagonal {}: absolute bias max/min, n = d >= 16".format(scale),
                     "{:.2f} ({}..{})".format(spread, sci(absolute.min()), sci(absolute.max())),
                     "< 1.5 (does not vanish)", len(absolute) >= 3 and spread < 1.5)


def floats_to_reach(cells, trace, level):
    """Per method: geometric mean over seeds of the floats per worker (up + down) sent
    before rel_err first reaches `level` (NaN when a seed never does)."""
    trace = trace.assign(floats=trace.floats_up + trace.floats_down)
    first = first_reaching(trace, "rel_err", level, at="floats")["floats"]
    cells = cells.join(first.rename("floats_needed"), on="cell_key")
    return cells.groupby("method").floats_needed.apply(
        lambda v: geomean(v) if v.notna().all() else np.nan)


def fig7(results, report):
    name = "fig7_communication"
    cells = load(results, name, "cells.csv")
    trace = load(results, name, "trace.csv")
    for interpolation, rows in cells.groupby("interpolation"):
        panel = "b_i = 0" if interpolation else "b_i != 0"
        level = 1e-10 if interpolation else 1e-2
        need = floats_to_reach(rows, trace[trace.cell_key.isin(rows.cell_key)], level)
        saving = min(need.get("gd", np.nan), need.get("dcgd", np.nan)) / need.get("ist", np.nan)
        report.check(name, "{}: floats/worker to rel_err {:g}: IST, DCGD, GD".format(panel, level),
                     "{:.0f}, {:.0f}, {:.0f} ({:.0f}x)".format(need.get("ist", np.nan), need.get("dcgd", np.nan),
                                                              need.get("gd", np.nan), saving),
                     "IST >= 10x fewer than both", saving >= 10.0)
        if not interpolation:
            ist = with_settled(rows[rows.method == "ist"], trace)
            ratio = geomean(ist.settled) / geomean(ist.ist_relative_bias)
            report.check(name, "{}: IST settles at its predicted bias (ratio)".format(panel), "{:.3f}".format(ratio),
                         "in [0.95, 1.10]", 0.95 <= ratio <= 1.10)


def fig8(results, report):
    name = "fig8_mean_iterate"
    cells = load(results, name, "cells.csv")
    path = os.path.join(results, name, "iterates.csv")
    iterates = pd.read_csv(path, dtype={"cell_key": str, "iter": np.int64, "coordinate": np.int64,
                                        "value": float, "x_star": float, "x_fixed": float})
    iterates = iterates.merge(cells[["cell_key", "relative_step"]], on="cell_key")
    for step, rows in iterates.groupby("relative_step"):
        last = rows[rows.iter == rows.iter.max()]
        seeds = last.cell_key.nunique()
        mean = last.groupby("coordinate").agg(value=("value", "mean"), x_star=("x_star", "first"),
                                              x_fixed=("x_fixed", "first"))
        to_fixed = float(((mean.value - mean.x_fixed) ** 2).sum())
        to_star = float(((mean.value - mean.x_star) ** 2).sum())
        bias = float(((mean.x_fixed - mean.x_star) ** 2).sum())
        report.check(name, "relative step {:g}, {} seeds: |mean x - x_inf|^2 / |mean x - x*|^2".format(step, seeds),
                     "{} ({} / {})".format(sci(to_fixed / to_star), sci(to_fixed), sci(to_star)), "< 1%",
                     seeds >= 50 and to_fixed < 0.01 * to_star)
        report.check(name, "relative step {:g}: |mean x - x*|^2 / bias |x_inf - x*|^2".format(step),
                     "{:.3f}".format(to_star / bias), "in [0.9, 1.1]", 0.9 <= to_star / bias <= 1.1)


def split_level(rows):
    """A problem's split as one label: iid, a=<alpha>, classes or sorted."""
    return rows.split.where(rows.split != "dirichlet", "a=" + rows.concentration.map("{:g}".format))


def fig9(results, report):
    name = "fig9_real_data_bias"
    cells = with_settled(load(results, name, "cells.csv"), load(results, name, "trace.csv"))
    cells["level"] = split_level(cells)
    small = cells[cells.relative_step == 0.1]
    fashion = small[(small.dataset == "fashion_mnist") & (small.num_workers == 10)]
    for (dataset, dim, n), rows in small.groupby(["dataset", "dim", "num_workers"]):
        ist = rows[rows.method == "ist"]
        ratio = ist.groupby("level").settled.apply(geomean) / ist.groupby("level").ist_relative_bias.apply(geomean)
        report.check(name, "{} d={} n={}: IST floor / predicted bias over {} splits, step 0.1".format(
            dataset, dim, n, len(ratio)), "{:.3f}..{:.3f}".format(ratio.min(), ratio.max()), "in [0.95, 1.10]",
            len(ratio) >= 2 and ratio.between(0.95, 1.10).all())
    for dim, rows in fashion.groupby("dim"):
        zeta2 = rows.groupby("level").zeta2.apply(geomean)
        bias = rows[rows.method == "ist"].groupby("level").ist_relative_bias.apply(geomean)
        report.check(name, "fashion d={}: zeta^2 one class / iid".format(dim),
                     "{:.0f}x".format(zeta2["classes"] / zeta2["iid"]), ">= 1000x", zeta2["classes"] >= 1000 * zeta2["iid"])
        report.check(name, "fashion d={}: IST predicted bias, max / min over {} splits".format(dim, len(bias)),
                     "{:.3f} ({}..{})".format(bias.max() / bias.min(), sci(bias.min()), sci(bias.max())),
                     "<= 1.25 (set by the sketch, not the split)", len(bias) >= 8 and bias.max() <= 1.25 * bias.min())
        same = rows[rows.method == "ist"].groupby("level").ist_relative_bias
        gap = abs(same.max()["classes"] / same.min()["iid"] - 1)
        report.check(name, "fashion d={}: IST predicted bias, one class vs iid (equal m_i)".format(dim),
                     sci(gap), "relative gap <= 1e-9 (the split moves neither L-bar nor b-bar)", gap <= 1e-9)
        dcgd = rows[rows.method == "dcgd"].groupby("level").settled.apply(geomean)
        report.check(name, "fashion d={}: DCGD floor one class / iid, step 0.1".format(dim),
                     "{:.0f}x".format(dcgd["classes"] / dcgd["iid"]), ">= 100x", dcgd["classes"] >= 100 * dcgd["iid"])
    one_class = cells[(cells.dataset == "fashion_mnist") & (cells.level == "classes")]
    for dim, rows in one_class.groupby("dim"):
        floors = rows.groupby(["method", "relative_step"]).settled.apply(geomean)
        dcgd_fall = floors["dcgd", 0.5] / floors["dcgd", 0.1]
        ist_fall = floors["ist", 0.5] / floors["ist", 0.1]
        report.check(name, "fashion d={} one class: DCGD floor step 0.5 / step 0.1".format(dim),
                     "{:.1f}x".format(dcgd_fall), ">= 3x (variance shrinks with the step)", dcgd_fall >= 3)
        report.check(name, "fashion d={} one class: IST floor step 0.5 / step 0.1".format(dim),
                     "{:.2f}x".format(ist_fall), "<= 1.5x (the bias stays)", ist_fall <= 1.5)
    large = cells[(cells.dataset == "fashion_mnist") & (cells.num_workers == 10) & (cells.method == "ist") &
                  (cells.relative_step == 0.5)]
    for dim, rows in large.groupby("dim"):
        spread = rows.groupby("level").settled.apply(geomean) / rows.groupby("level").ist_relative_bias.apply(geomean)
        report.check(name, "fashion d={} step 0.5: IST floor / bias, one class and iid".format(dim),
                     "{:.3f} and {:.3f}".format(spread["classes"], spread["iid"]),
                     ">= 1.05 and <= 1.02 (the spread around x_inf grows with heterogeneity)",
                     spread["classes"] >= 1.05 and spread["iid"] <= 1.02)
    by_n = small[(small.dataset == "fashion_mnist") & (small.dim == 49) & (small.method == "ist")]
    by_n = by_n[by_n.level.isin(["iid", "a=0.1"])]
    bias = by_n.groupby(["level", "num_workers"]).ist_relative_bias.apply(geomean)
    for level in ("iid", "a=0.1"):
        curve = bias[level]
        report.check(name, "fashion d=49 {}: IST predicted bias n={} / n={}".format(
            level, curve.index[-1], curve.index[0]), "{:.1f}x ({})".format(
            curve.iloc[-1] / curve.iloc[0], " ".join(sci(v) for v in curve)),
            ">= 4x, rising with n", len(curve) >= 5 and curve.is_monotonic_increasing and
            curve.iloc[-1] >= 4 * curve.iloc[0])
    spread = (bias["iid"] / bias["a=0.1"]).apply(lambda r: max(r, 1 / r))
    report.check(name, "fashion d=49: IST predicted bias iid vs Dirichlet 0.1, largest ratio over n",
                 "{:.3f}".format(spread.max()), "<= 1.15", spread.max() <= 1.15)
    heart = small[small.dataset == "heart_scale"]
    dcgd = heart[heart.method == "dcgd"].groupby("level").settled.apply(geomean)
    report.check(name, "heart_scale: DCGD floor sorted / iid, step 0.1", "{:.0f}x".format(dcgd["sorted"] / dcgd["iid"]),
                 ">= 5x", dcgd["sorted"] >= 5 * dcgd["iid"])
    gd = cells[cells.method == "gd"]
    report.check(name, "GD statuses ({} cells)".format(len(gd)), ",".join(sorted(set(gd.status))), "converged",
                 len(gd) > 0 and (gd.status == "converged").all())


def network_floats(cells):
    """Per round and worker, the floats a cell sends up, and gd's, from the network's shape:
    H(d+1+C)+C for the whole model, (H/n)(d+1+C)+C for a Perm submodel (C = 10 classes)."""
    unit = cells.dim + 1 + 10
    return (cells.hidden // cells.num_workers) * unit + 10, cells.hidden * unit + 10


def fig10(results, report):
    name = "fig10_network_training"
    cells = load(results, name, "cells.csv")
    trace = load(results, name, "trace.csv")
    shared = sorted(set(cells[cells.method == "gd"].step_size))
    report.check(name, "every method at one shared step (gd's)", str(shared), "one step",
                 len(shared) == 1 and set(cells[cells.method != "ist"].step_size) == set(shared))
    shared = shared[0]
    at_shared = cells[cells.step_size == shared]
    final = at_shared.pivot_table(index="num_workers", columns=["split", "method"], values="test_accuracy")
    ns = list(final.index)
    ist_steps = sorted(set(cells[cells.method == "ist"].step_size), reverse=True)
    report.check(name, "cells ({} over n = {}, ist at steps {})".format(len(cells), ns, ist_steps),
                 ",".join(sorted(set(cells.status))), "max_iters, 2+ worker counts, ist at 2+ steps below gd's",
                 len(ns) >= 2 and (cells.status == "max_iters").all() and ist_steps[0] == shared
                 and len(ist_steps) >= 3)
    ist, gd = final["iid", "ist"], final["iid", "gd"]
    report.check(name, "iid, gamma={:g}: IST's final test accuracy - GD's, per n".format(shared), " ".join(
        "{:+.3f}".format(v) for v in ist - gd), ">= +0.03 for every n", (ist - gd >= 0.03).all())
    local = ist - final["iid", "local_sgd"]
    report.check(name, "iid, gamma={:g}: IST's final test accuracy - local_sgd's (same 4 local steps), per n".format(
        shared), " ".join("{:+.3f}".format(v) for v in local), "within 0.03 for every n", (local.abs() <= 0.03).all())
    rows = cells[cells.method == "ist"]
    submodel, model = network_floats(rows)
    per_round = rows.floats_up / rows.iterations
    report.check(name, "IST floats per round and worker = its submodel's", "{} of {} cells".format(
        int((per_round == submodel).sum()), len(rows)), "all (H/n)(d+1+C)+C, about 1/n of GD's {:.0f}".format(
        model.iloc[0]), len(rows) > 0 and (per_round == submodel).all())
    trace["floats"] = trace.floats_up + trace.floats_down
    reach = trace[(trace.split == "iid") & (trace.step_size == shared) & (trace.test_accuracy >= 0.75)].groupby(
        ["num_workers", "method"]).floats.min().unstack()
    saving = reach["gd"] / reach["ist"]
    report.check(name, "iid: floats per worker to 75% test accuracy, GD / IST, per n",
                 " ".join("{:.1f}x".format(v) for v in saving), ">= 5x for every n",
                 len(saving) == len(ns) and (saving >= 5).all())
    drop = final["iid"] - final["dirichlet"]
    report.check(name, "Dirichlet 0.1, gamma={:g}: IST's accuracy drop from iid, n={} vs n={}".format(
        shared, ns[0], ns[-1]), "{:.3f} vs {:.3f}".format(drop["ist"].iloc[0], drop["ist"].iloc[-1]),
        "larger at the largest n by >= 0.3", drop["ist"].iloc[-1] >= drop["ist"].iloc[0] + 0.3)
    largest = final.loc[ns[-1], "dirichlet"]
    report.check(name, "Dirichlet 0.1, n={}, gamma={:g}: test accuracy of ist vs gd and local_sgd".format(
        ns[-1], shared), "{:.3f} vs {:.3f}, {:.3f}".format(largest["ist"], largest["gd"], largest["local_sgd"]),
        "ist < 0.5 <= 0.75 <= both", largest["ist"] < 0.5 and min(largest["gd"], largest["local_sgd"]) >= 0.75)
    # The step-size axis: a bias would stay as the step shrinks (figures 4, 9), an instability
    # of the x n scaled submodels goes away.
    ist = rows.pivot_table(index="step_size", columns=["split", "num_workers"], values="test_accuracy")
    hard = ist["dirichlet", ns[-1]].sort_index(ascending=False)
    report.check(name, "Dirichlet 0.1, n={}: IST's final test accuracy at gamma = {}".format(
        ns[-1], ", ".join("{:g}".format(g) for g in hard.index)), " ".join("{:.3f}".format(v) for v in hard),
        "never falls as gamma falls, and at the smallest gamma >= GD's {:.3f} - 0.03".format(largest["gd"]),
        hard.is_monotonic_increasing and hard.iloc[-1] >= largest["gd"] - 0.03)
    loss = rows[(rows.split == "dirichlet") & (rows.num_workers == ns[-1])].set_index("step_size").train_loss
    start = trace[(trace.method == "ist") & (trace.split == "dirichlet") & (trace.num_workers == ns[-1])
                  & (trace.iter == 0)].train_loss.max()
    gd_loss = at_shared[(at_shared.method == "gd") & (at_shared.split == "dirichlet")
                        & (at_shared.num_workers == ns[-1])].train_loss.iloc[0]
    smallest = loss.index.min()
    report.check(name, "Dirichlet 0.1, n={}: IST's final training loss / its start at gamma={:g}; "
                 "at gamma={:g} - GD's".format(ns[-1], shared, smallest),
                 "{:.3f} ({:.3f} / {:.3f}); {:+.3f}".format(loss[shared] / start, loss[shared], start,
                                                            loss[smallest] - gd_loss),
                 ">= 0.9 (it does not train); <= +0.1 (it trains as GD does)",
                 loss[shared] >= 0.9 * start and loss[smallest] - gd_loss <= 0.1)
    best = ist["dirichlet"].max() - final["dirichlet", "gd"]
    report.check(name, "Dirichlet 0.1: IST's best final test accuracy over its steps - GD's, per n",
                 " ".join("{:+.3f}".format(v) for v in best), ">= -0.03 for every n (no collapse at a smaller step)",
                 (best >= -0.03).all())
    slower = ist["iid"].loc[ist_steps[-1]] - ist["iid"].loc[shared]
    report.check(name, "iid: IST's final test accuracy at gamma={:g} - at gamma={:g}, per n".format(
        ist_steps[-1], shared), " ".join("{:+.3f}".format(v) for v in slower),
        "< 0 for every n (the smaller step trains slower)", (slower < 0).all())
    report.check(name, "local_sgd's accuracy drop from iid to Dirichlet 0.1, per n",
                 " ".join("{:.3f}".format(v) for v in drop["local_sgd"]), "<= 0.05 for every n",
                 (drop["local_sgd"] <= 0.05).all())
    dcgd = final["dirichlet", "dcgd"] - final["dirichlet", "gd"]
    report.check(name, "Dirichlet 0.1: DCGD's final test accuracy - GD's, per n",
                 " ".join("{:+.3f}".format(v) for v in dcgd), "< 0 for every n (compression noise)",
                 (dcgd < 0).all())




def fig11(results, report):
    name = "fig11_network_floor"
    trace = load(results, name, "trace.csv")
    trace["gamma_k"] = (trace.step_size * trace.iter).round(6)
    steps = sorted(set(trace.step_size))
    pairs = [(coarse, fine) for coarse in steps for fine in steps if math.isclose(fine, coarse / 4)]
    small = [pair for pair in pairs if pair[0] <= FIG11_SMALL]
    report.check(name, "steps {}, pairs 4x apart {}".format(steps, pairs), "{} small".format(len(small)),
                 "a pair with both steps <= {:g}".format(FIG11_SMALL), len(small) >= 1)
    for split, rows in trace.groupby("split"):
        # One gradient flow: gd's training loss at each horizon two or more steps reach.
        spreads = []
        for h in FIG11_HORIZONS:
            loss = rows[(rows.method == "gd") & (rows.gamma_k == h)].train_loss
            if len(loss) >= 2:
                spreads.append((h, loss.max() / loss.min() - 1))
        report.check(name, "{}: GD's training loss across steps at gamma*k = {}".format(
            split, ", ".join(str(h) for h, _ in spreads)), " ".join("{:.2%}".format(v) for _, v in spreads),
            "<= 1% at each (one gradient flow)", len(spreads) >= 1 and all(v <= 0.01 for _, v in spreads))
    # A floor keeps its excess (ratio 1) as the step shrinks; an excess proportional to the step
    # keeps the step ratio r. The threshold sqrt(r) lies midway between them (in log), so an
    # excess proportional to the step cannot pass it and a floor cannot fail it. Each horizon is
    # a check of its own; a horizon where gd at the larger step has left the flow is left out.
    for coarse, fine in pairs:
        ratio = fine / coarse
        kept = kept_across_steps(trace, coarse, fine, FIG11_HORIZONS)
        kept = kept[kept.gd_coarse <= FIG11_ON_FLOW * kept.gd_fine]
        for split, rows in kept.groupby("split"):
            ist, dcgd = rows[rows.method == "ist"], rows[rows.method == "dcgd"]
            label = "{}: {{}}'s excess |grad F|^2 over GD, step {:g} / step {:g}, at gamma*k = {}".format(
                split, fine, coarse, ", ".join(str(h) for h in ist.horizon))
            numbers = " ".join("{:.2f}".format(v) for v in ist.kept)
            if coarse <= FIG11_SMALL:
                means = equal_time_means(trace[trace.split == split], [coarse, fine], FIG11_HORIZONS)
                grad = means.pivot_table(index=["horizon", "step_size"], columns="method", values="grad_norm2")
                above = (grad.ist / grad.gd).min()
                report.check(name, label.format("IST"), "{} (IST's |grad F|^2 >= {:.1f}x GD's)".format(
                    numbers, above), ">= {:.2f} = sqrt of the step ratio at each (a floor keeps 1, an excess "
                    "proportional to the step {:.2f}), and >= 1.5x GD's".format(ratio ** 0.5, ratio),
                    len(ist) >= 1 and (ist.kept >= ratio ** 0.5).all() and above >= 1.5)
                report.check(name, label.format("DCGD"), " ".join("{:.3f}".format(v) for v in dcgd.kept),
                             "< {:.2f} = sqrt of the step ratio at each (it shrinks with the step: "
                             "variance)".format(ratio ** 0.5),
                             len(dcgd) >= 1 and (dcgd.kept < ratio ** 0.5).all())
            elif split == "dirichlet":  # the large step's excess on the heterogeneous split
                report.check(name, label.format("IST"), numbers, "< {:.2f} = sqrt of the step ratio at each "
                             "(the large step's excess shrinks with the step: no floor)".format(ratio ** 0.5),
                             len(ist) >= 1 and (ist.kept < ratio ** 0.5).all())
    # Over the horizons: a floor stays while gd's own gradient falls along its flow. Midway (in
    # log) between staying (1) and falling as gd's |grad F|^2 does (its ratio g) lies sqrt(g).
    for split, rows in trace.groupby("split"):
        trends = []
        for step in [s for s in steps if s <= FIG11_SMALL]:
            means = equal_time_means(rows, [step], FIG11_HORIZONS)
            grad = means.pivot_table(index="horizon", columns="method", values="grad_norm2")
            if len(grad) >= 2:
                excess = grad.ist - grad.gd
                trends.append((step, grad.index[0], grad.index[-1], excess.iloc[-1] / excess.iloc[0],
                               grad.gd.iloc[-1] / grad.gd.iloc[0], excess.iloc[0], excess.iloc[-1]))
        report.check(name, "{}: IST's excess |grad F|^2 over GD, gamma*k = last / first, per step <= {:g}".format(
            split, FIG11_SMALL), "; ".join("step {:g} ({:g} -> {:g}): {:.2f} ({} -> {}), GD's own {:.3f}".format(
                step, first, last, kept, sci(e0), sci(e1), gd) for step, first, last, kept, gd, e0, e1 in trends),
            ">= sqrt of GD's own ratio (it does not fall as GD's gradient does)",
            len(trends) >= 1 and all(kept >= gd ** 0.5 for _, _, _, kept, gd, _, _ in trends))
    at = trace[trace.gamma_k == FIG11_HORIZONS[0]]
    for split, rows in at.groupby("split"):
        loss = rows.pivot_table(index="step_size", columns="method", values="train_loss")
        below = (loss.ist - loss.gd)[[s for s in loss.index if s <= FIG11_SMALL]]
        report.check(name, "{}: IST's training loss - GD's at gamma*k = {}, steps <= {:g}".format(
            split, FIG11_HORIZONS[0], FIG11_SMALL), " ".join("{:+.3f}".format(v) for v in below),
            "< 0 (IST's flow fits faster here)", len(below) >= 1 and (below < 0).all())
    large = at[at.step_size > FIG11_SMALL].pivot_table(index=["step_size", "split"], columns="method",
                                                       values="train_loss")
    for step, rows in large.groupby(level="step_size"):
        gap = (rows.ist - rows.gd).droplevel("step_size")
        report.check(name, "step {:g}: IST's training loss - GD's at gamma*k = {}, Dirichlet vs iid".format(
            step, FIG11_HORIZONS[0]), "{:+.3f} vs {:+.3f}".format(gap["dirichlet"], gap["iid"]),
            "Dirichlet >= +0.2 > iid", gap["dirichlet"] >= 0.2 > gap["iid"])


def time_to(trace, target):
    """Per cell: the modelled time and round of the first recorded round at test accuracy >= target
    (NaN when it never gets there), with the cell's split, latency, bandwidth and method."""
    keys = ["cell_key", "split", "latency_s", "bandwidth_bits_per_s", "method"]
    reached = first_reaching(trace, "test_accuracy", target, at=["model_time_s", "iter"])
    cells = trace.groupby("cell_key")[keys[1:]].first()
    return cells.join(reached)


def crossover(first, second):
    """The bandwidth at which two methods' times to the target are equal. At a fixed latency a
    run's modelled time is R·(c + a/B) (R rounds, each c seconds of compute and latency plus a
    bits over bandwidth B), linear in 1/B: fitted exactly through the slowest and fastest
    bandwidth of each series (indexed by B). NaN when the lines do not cross at a positive B."""
    def line(times):
        b1, b2 = times.index[0], times.index[-1]
        slope = (times.iloc[0] - times.iloc[-1]) / (1 / b1 - 1 / b2)
        return times.iloc[0] - slope / b1, slope
    (c1, a1), (c2, a2) = line(first), line(second)
    cross = -(a1 - a2) / (c1 - c2) if c1 != c2 else float("nan")
    return cross if cross > 0 else float("nan")


def fig12(results, report):
    name = "fig12_time_to_accuracy"
    trace = load(results, name, "trace.csv")
    times = time_to(trace, 0.70)
    table = times.pivot_table(index=["split", "latency_s", "bandwidth_bits_per_s"], columns="method",
                              values="model_time_s", dropna=False)
    bandwidths = sorted(set(times.bandwidth_bits_per_s))
    report.check(name, "bandwidths swept", " ".join(sci(b) for b in bandwidths), "10 Mbit/s to 100 Gbit/s",
                 bandwidths[0] <= 1e7 and bandwidths[-1] >= 1e11)
    het = table.loc["dirichlet"]
    report.check(name, "Dirichlet 0.1: cells where IST reaches 70% / where gd, dcgd, local_sgd do",
                 "{} / {} of {}".format(int(het.ist.notna().sum()), int(het[["gd", "dcgd", "local_sgd"]].notna().all(
                     axis=1).sum()), len(het)), "0 / all (its bias, at every bandwidth)",
                 het.ist.isna().all() and het[["gd", "dcgd", "local_sgd"]].notna().all().all())
    for latency, rows in table.loc["iid"].groupby(level="latency_s"):
        rows = rows.droplevel("latency_s")
        label = "iid, latency {}".format(sci(latency))
        monotone = all((rows[m].diff().dropna() <= 0).all() for m in rows.columns)
        report.check(name, label + ": time to 70% never rises with bandwidth", str(monotone), "True", monotone)
        report.check(name, label + ": IST / GD time to 70%, per bandwidth", "{:.2f}..{:.2f}".format(
            (rows.ist / rows.gd).min(), (rows.ist / rows.gd).max()), "< 1 at every bandwidth",
            (rows.ist < rows.gd).all())
        ratio = rows.ist / rows.local_sgd
        if latency < 1e-3:
            cross = crossover(rows.ist, rows.local_sgd)
            report.check(name, label + ": IST vs local_sgd, crossover bandwidth", "{} bit/s ({:.2f} at {}, "
                         "{:.2f} at {})".format(sci(cross), ratio.iloc[0], sci(rows.index[0]), ratio.iloc[-1],
                                                sci(rows.index[-1])),
                         "IST faster on the slowest link, slower on the fastest, crossing between 1e8 and 1e11",
                         ratio.iloc[0] < 1 < ratio.iloc[-1] and 1e8 <= cross <= 1e11)
        else:
            report.check(name, label + ": IST / local_sgd time to 70%, per bandwidth",
                         "{:.2f}..{:.2f}".format(ratio.min(), ratio.max()),
                         "> 1 at every bandwidth (latency-bound: fewer rounds win)", (ratio > 1).all())


def network_parameters(dim, widths, classes=10):
    """Weights and biases of a dim-widths-classes network (widths a list)."""
    sizes = [dim] + list(widths) + [classes]
    return sum(out * (inp + 1) for inp, out in zip(sizes, sizes[1:]))


def fig13(results, report):
    name = "fig13_network_depth"
    cells = load(results, name, "cells.csv")
    cells["hidden"] = cells.hidden.astype(str)
    cells["depth"] = cells.hidden.str.count("-") + 1
    keys = ["method", "depth", "num_workers", "split"]
    ran = cells[(cells.status != "diverged") & cells.train_loss.notna()]
    best = ran.loc[ran.groupby(keys).train_loss.idxmin()].set_index(keys)
    groups = cells.groupby(keys).ngroups
    depths, ns = sorted(set(cells.depth)), sorted(set(cells.num_workers))
    report.check(name, "settings (method, depth, n, split) with a run that did not diverge",
                 "{} of {}; depths {}, n = {}".format(len(best), groups, depths, ns),
                 "all, 3 depths, 2+ worker counts",
                 len(best) == groups and len(depths) == 3 and len(ns) >= 2)
    ist = cells[cells.method == "ist"]
    widths = ist.hidden.map(lambda h: [int(w) for w in h.split("-")])
    submodel = [network_parameters(d, [w // n for w in ws]) for d, ws, n in zip(ist.dim, widths, ist.num_workers)]
    per_round = ist.floats_up / ist.iterations
    report.check(name, "IST floats per round and worker = its submodel's parameters", "{} of {} cells".format(
        int((per_round == submodel).sum()), len(ist)),
        "all: every layer's H/n units and the weights between them", len(ist) > 0 and (per_round == submodel).all())
    small, large = ns[0], ns[-1]
    acc = best.test_accuracy
    gap = [acc["ist", d, small, "iid"] - acc["gd", d, small, "iid"] for d in depths]
    report.check(name, "iid, n={}: IST's test accuracy - GD's, each at its best step, per depth".format(small),
                 " ".join("{:+.3f}".format(g) for g in gap), ">= -0.01 at every depth", min(gap) >= -0.01)
    lsgd = [acc["local_sgd", d, n, s] - acc["gd", d, n, s] for d in depths for n in ns for s in set(cells.split)]
    report.check(name, "local_sgd's test accuracy - GD's, every depth, n and split", "{:+.3f}..{:+.3f}".format(
        min(lsgd), max(lsgd)), ">= -0.01 everywhere", min(lsgd) >= -0.01)
    trace = load(results, name, "trace.csv")
    trace["floats"] = trace.floats_up + trace.floats_down
    fewer = []
    for d in depths:
        gd_level = acc["gd", d, small, "iid"]
        reach = [trace[(trace.cell_key == best.loc[(m, d, small, "iid"), "cell_key"])
                       & (trace.test_accuracy >= gd_level)].floats.min() for m in ("gd", "ist")]
        fewer.append(reach[0] / reach[1])
    report.check(name, "iid, n={}: floats per worker to reach GD's final accuracy, GD / IST, per depth".format(small),
                 " ".join("{:.1f}x".format(f) for f in fewer), ">= 2x at every depth",
                 all(f >= 2 for f in fewer))
    diverged = cells[(cells.method == "ist") & (cells.status == "diverged")]
    deepest = diverged[(diverged.depth == depths[-1]) & (diverged.num_workers == large)
                       & (diverged.step_size == cells.step_size.max())]
    report.check(name, "IST runs diverged at depth {}; splits where the deepest diverges at n={}, largest step".format(
        depths[0], large), "{}; on {} split(s)".format(int((diverged.depth == depths[0]).sum()), len(deepest)),
        "none at depth 1; the deepest diverges on at least one split",
        (diverged.depth == depths[0]).sum() == 0 and len(deepest) >= 1)
    for split in sorted(set(cells.split)):
        drop = {m: acc[m, depths[0], large, split] - acc[m, depths[-1], large, split] for m in ("ist", "local_sgd")}
        report.check(name, "{}, n={}: accuracy lost from depth {} to {}, IST vs local_sgd".format(
            split, large, depths[0], depths[-1]), "{:.3f} vs {:.3f}".format(drop["ist"], drop["local_sgd"]),
            "IST loses at least 0.05 more", drop["ist"] >= drop["local_sgd"] + 0.05)


FIGURES = {
    "fig1_interpolation_precond": fig1,
    "fig2_homogeneous_interpolation": fig2,
    "fig3_counterexample": fig3,
    "fig4_irreducible_bias": fig4,
    "fig5_floor_vs_heterogeneity": fig5,
    "fig6_bias_vs_scale": fig6,
    "fig7_communication": fig7,
    "fig8_mean_iterate": fig8,
    "fig9_real_data_bias": fig9,
    "fig10_network_training": fig10,
    "fig11_network_floor": fig11,
    "fig12_time_to_accuracy": fig12,
    "fig13_network_depth": fig13,
}


def check(results, figures, out=None):
    """Checks the claims of `figures` (experiment names; all when empty) on the CSV files under
    `results`, writing one line per check to `out` (default stdout). Returns the exit status:
    0 when every claim holds, 1 when one fails. Missing results exit with status 2 (SystemExit,
    from plots/common.py). Callers in the same Python (tests/claims/checker_rejects_false_claims.py)
    use this instead of starting a new interpreter per run."""
    out = sys.stdout if out is None else out
    report = Report()
    for figure in figures or FIGURES:
        FIGURES[figure](results, report)
    report.print(out)
    failed = report.failed()
    out.write("{} of {} claim checks hold\n".format(len(report.rows) - len(failed), len(report.rows)))
    return 1 if failed else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", default=os.path.join(REPO, "results"))
    parser.add_argument("figures", nargs="*", help="experiment names (default: all)")
    args = parser.parse_args()
    unknown = [f for f in args.figures if f not in FIGURES]
    if unknown:
        sys.stderr.write("error: unknown figure(s) {}; valid: {}\n".format(", ".join(unknown), ", ".join(FIGURES)))
        return 2
    return check(args.results, args.figures)


if __name__ == "__main__":
    sys.exit(main())
