#!/usr/bin/python3
"""Checks a quickstart sweep's CSV: schema, completeness, and the claims the figure shows.

Usage: /usr/bin/python3 tests/e2e/check_quickstart.py RESULTS/quickstart
"""
import json
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]


def documented_parameter_columns():
    """The parameter columns that start trace.csv and cells.csv, as docs/config-reference.md
    lists them (generated from the parameter tables by `istlab keys --markdown`; the test
    config_reference_up_to_date keeps it current)."""
    text = (ROOT / "docs" / "config-reference.md").read_text(encoding="utf-8")
    section = text.split("\n## CSV parameter columns\n", 1)[1]
    return section.split("```text\n", 1)[1].split("```", 1)[0].split()


PARAMETERS = documented_parameter_columns()
TRACE = PARAMETERS + ["iter", "rel_err", "f_gap", "grad_norm2", "dist_fixed", "floats_up", "floats_down",
                      "train_loss", "test_loss", "test_accuracy", "train_loss_pooled", "grad_norm2_pooled", "flops",
                      "model_time_s"]
CELLS = PARAMETERS + ["status", "converged_on", "iterations", "rel_err", "f_gap", "grad_norm2", "dist_fixed",
                      "floats_up", "floats_down", "train_loss", "test_loss", "test_accuracy", "train_loss_pooled",
                      "grad_norm2_pooled", "flops",
                      "model_time_s", "lambda_min", "lambda_max", "gd_step", "ist_step",
                      "ist_stability_limit", "ist_bias", "ist_relative_bias", "w_bar_psd",
                      "w_bar_min_eigenvalue", "w_bar_max_eigenvalue", "zeta2", "regularization_used", "problem_id", "error"]

failures = []


def check(condition, message):
    print(("ok   " if condition else "FAIL ") + message)
    if not condition:
        failures.append(message)


def main(folder):
    folder = Path(folder)
    trace = pd.read_csv(folder / "trace.csv")
    cells = pd.read_csv(folder / "cells.csv")
    timing = pd.read_csv(folder / "timing.csv")
    manifest = json.loads((folder / "manifest.json").read_text())

    check(list(trace.columns) == TRACE, "trace.csv has the documented columns in order")
    check(list(cells.columns) == CELLS, "cells.csv has the documented columns in order")
    check(list(timing.columns) == ["cell_key", "iter", "wall_s"], "timing.csv has cell_key, iter, wall_s")
    # 2 heterogeneity × 2 interpolation × 3 seeds × 3 methods × 2 step sizes
    check(len(cells) == 72 and cells.cell_key.is_unique, f"72 distinct cells (got {len(cells)})")
    check(cells.cell_key.is_monotonic_increasing and trace.cell_key.is_monotonic_increasing,
          "rows are sorted by cell key")
    check("repeat" not in cells.columns and cells.seed.nunique() == 3,
          "three seeds, each cell keyed by its seed, not its place in the list")
    check(((cells.status == "converged") == (cells.converged_on == "rel_err")).all(),
          "converged_on names rel_err exactly for converged cells")
    check(manifest["cells"] == 72 and manifest["distinct_problems"] == 12,
          "manifest counts 72 cells on 12 distinct problems")
    for key in ["config_hash", "git_commit", "compiler", "libraries", "threads", "started_at", "finished_at"]:
        check(key in manifest, f"manifest records {key}")
    starts = trace[trace.iter == 0]
    check(len(starts) == 72 and (starts.rel_err == 1.0).all(), "every cell records round 0 with rel_err = 1")
    last = trace.groupby("cell_key").iter.max()
    check((last.sort_index() == cells.set_index("cell_key").iterations.sort_index()).all(),
          "every cell records its last round")
    check(len(timing) == len(trace) and (timing.wall_s >= 0).all(), "timing.csv has one wall_s per trace row")

    interpolation = cells[cells.interpolation]
    check((interpolation.status == "converged").all(),
          "interpolation (b_i = 0): every method reaches the tolerance")
    biased = cells[~cells.interpolation]
    gd = biased[biased.method == "gd"]
    check((gd.status == "converged").all(), "b_i != 0: GD reaches the tolerance")
    ist = biased[biased.method == "ist"]
    ratio = ist.rel_err / ist.ist_relative_bias
    check(ratio.between(0.95, 1.05).all(),
          f"b_i != 0: IST levels off at its predicted bias (final/predicted in [{ratio.min():.3f}, {ratio.max():.3f}])")
    check((ist.rel_err > 1e-4).all(), "b_i != 0: IST's floor is far above the tolerance")
    closeness = (ist.dist_fixed / ist.ist_bias).max()
    check(closeness < 1e-2, f"IST ends near its fixed point x^inf, not x* (max ||x-x^inf||^2/bias = {closeness:.2g})")
    dcgd = biased[(biased.method == "dcgd") & (biased.heterogeneity > 0)]
    by_step = dcgd.groupby("relative_step").rel_err.mean()
    check(by_step[0.5] < 0.7 * by_step[1.0],
          f"heterogeneous DCGD's floor shrinks with the step ({by_step[1.0]:.3g} -> {by_step[0.5]:.3g})")
    homogeneous = cells[(cells.heterogeneity == 0) & (cells.method != "ist")]
    pairs = homogeneous.pivot_table(index=["interpolation", "seed", "relative_step"], columns="method",
                                    values="iterations")
    check((pairs.gd == pairs.dcgd).all(), "homogeneous: DCGD with Perm takes exactly GD's rounds")

    print(f"{len(failures)} failed" if failures else "all quickstart checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
