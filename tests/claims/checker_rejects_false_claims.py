#!/usr/bin/python3
"""The claims checker must fail when a claim is false: doctor copies of real results so
that one claim no longer holds, and expect the checker to exit 1 naming that claim.

The checker (check_claims.py, with pandas) is imported once and each honest and doctored
run calls its check() in this Python: one interpreter start instead of two per case.

Usage: checker_rejects_false_claims.py RESULTS_DIR WORK_DIR
(RESULTS_DIR: results of scripts/reproduce.sh, full or --quick.)
"""

import io
import os
import shutil
import sys
import traceback

import pandas as pd

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import check_claims  # noqa: E402


def copy(results, work, experiment, name):
    """A fresh copy of one experiment's CSV files under work/name/."""
    target = os.path.join(work, name, experiment)
    shutil.rmtree(os.path.join(work, name), ignore_errors=True)
    os.makedirs(target)
    for file in os.listdir(os.path.join(results, experiment)):
        if file.endswith(".csv"):
            shutil.copy(os.path.join(results, experiment, file), target)
    return target


def doctor_psd_counterexample(folder):
    """W̄ positive semidefinite: the counterexample's point is gone."""
    cells = pd.read_csv(os.path.join(folder, "cells.csv"))
    cells["w_bar_min_eigenvalue"] = cells["w_bar_min_eigenvalue"].abs()
    cells.to_csv(os.path.join(folder, "cells.csv"), index=False)


def doctor_ist_floor_moves_with_step(folder):
    """IST's floor scaled by its step, as if it were variance like DCGD's."""
    cells = pd.read_csv(os.path.join(folder, "cells.csv"))
    trace = pd.read_csv(os.path.join(folder, "trace.csv"))
    factor = trace.cell_key.map(cells.set_index("cell_key").relative_step).fillna(1.0)
    ist = trace.cell_key.isin(cells[cells.method == "ist"].cell_key)
    trace.loc[ist, "rel_err"] *= factor[ist]
    trace.to_csv(os.path.join(folder, "trace.csv"), index=False)


def doctor_mean_iterate_goes_to_x_star(folder):
    """Mean iterate at x*: report x^∞ as x* so the distance to x^∞ is the bias."""
    iterates = pd.read_csv(os.path.join(folder, "iterates.csv"))
    last = iterates.iter == iterates.iter.max()
    iterates.loc[last, "value"] = iterates.loc[last, "x_star"]
    iterates.to_csv(os.path.join(folder, "iterates.csv"), index=False)


def doctor_real_data_floor_above_bias(folder):
    """IST's floor on real data 30% above its predicted bias."""
    cells = pd.read_csv(os.path.join(folder, "cells.csv"))
    trace = pd.read_csv(os.path.join(folder, "trace.csv"))
    trace.loc[trace.cell_key.isin(cells[cells.method == "ist"].cell_key), "rel_err"] *= 1.3
    trace.to_csv(os.path.join(folder, "trace.csv"), index=False)


def doctor_network_ist_unharmed_by_heterogeneity(folder):
    """IST's network as accurate on the Dirichlet split as on iid data, for every n and step."""
    cells = pd.read_csv(os.path.join(folder, "cells.csv"))
    ist = cells.method == "ist"
    key = ["num_workers", "step_size"]
    iid = cells[ist & (cells.split == "iid")].set_index(key).test_accuracy
    dirichlet = ist & (cells.split == "dirichlet")
    cells.loc[dirichlet, "test_accuracy"] = iid.reindex(
        pd.MultiIndex.from_frame(cells.loc[dirichlet, key])).values
    cells.to_csv(os.path.join(folder, "cells.csv"), index=False)


def doctor_network_ist_collapse_is_bias(folder):
    """IST's collapse at the largest n on the Dirichlet split staying at every smaller step, as a
    bias would: its accuracy there that of its largest step."""
    cells = pd.read_csv(os.path.join(folder, "cells.csv"))
    rows = (cells.method == "ist") & (cells.split == "dirichlet") & (cells.num_workers == cells.num_workers.max())
    largest = cells[rows].sort_values("step_size").test_accuracy.iloc[-1]
    cells.loc[rows, "test_accuracy"] = largest
    cells.to_csv(os.path.join(folder, "cells.csv"), index=False)


def doctor_network_ist_excess_shrinks_with_step(folder):
    """IST's excess gradient over GD shrinking in proportion to the step (the slowest shrinking
    that is not a floor: it keeps the step ratio, below the check's square root of it)."""
    trace = pd.read_csv(os.path.join(folder, "trace.csv"))
    key = ["split", "step_size", "iter"]
    gd = trace[trace.method == "gd"].set_index(key).grad_norm2
    ist = trace.method == "ist"
    base = pd.Series(gd.reindex(pd.MultiIndex.from_frame(trace.loc[ist, key])).values, index=trace.index[ist])
    factor = trace.loc[ist, "step_size"] / 0.1
    trace.loc[ist, "grad_norm2"] = base + (trace.loc[ist, "grad_norm2"] - base) * factor
    trace.to_csv(os.path.join(folder, "trace.csv"), index=False)


def doctor_ist_reaches_accuracy_on_dirichlet(folder):
    """IST as accurate on the Dirichlet split as gd: its bias gone."""
    trace = pd.read_csv(os.path.join(folder, "trace.csv"))
    rows = (trace.method == "ist") & (trace.split == "dirichlet") & (trace.iter > 0)
    trace.loc[rows, "test_accuracy"] = 0.9
    trace.to_csv(os.path.join(folder, "trace.csv"), index=False)


def doctor_deep_ist_keeps_its_accuracy(folder):
    """IST as accurate on every network as on the one-hidden-layer one: depth costs it nothing."""
    cells = pd.read_csv(os.path.join(folder, "cells.csv"))
    cells["hidden"] = cells.hidden.astype(str)
    ist = cells.method == "ist"
    shallow = cells[ist & ~cells.hidden.str.contains("-")].set_index(
        ["num_workers", "split", "step_size"]).test_accuracy
    keys = pd.MultiIndex.from_frame(cells.loc[ist, ["num_workers", "split", "step_size"]])
    cells.loc[ist, "test_accuracy"] = shallow.reindex(keys).values
    cells.to_csv(os.path.join(folder, "cells.csv"), index=False)


CASES = [
    ("fig3_counterexample", doctor_psd_counterexample, "W-bar eigenvalues"),
    ("fig4_irreducible_bias", doctor_ist_floor_moves_with_step, "IST floor across"),
    ("fig8_mean_iterate", doctor_mean_iterate_goes_to_x_star, "|mean x - x_inf|^2 / |mean x - x*|^2"),
    ("fig9_real_data_bias", doctor_real_data_floor_above_bias, "IST floor / predicted bias"),
    ("fig10_network_training", doctor_network_ist_unharmed_by_heterogeneity, "IST's accuracy drop from iid"),
    ("fig10_network_training", doctor_network_ist_collapse_is_bias, "IST's final test accuracy at gamma ="),
    ("fig11_network_floor", doctor_network_ist_excess_shrinks_with_step, "IST's excess |grad F|^2"),
    ("fig12_time_to_accuracy", doctor_ist_reaches_accuracy_on_dirichlet, "cells where IST reaches 70%"),
    ("fig13_network_depth", doctor_deep_ist_keeps_its_accuracy, "accuracy lost from depth"),
]


class Run:
    """One run of the checker on one experiment: the exit status it would have as a program
    (0 all claims hold, 1 one fails, 2 results missing), what it printed, and any traceback."""

    def __init__(self, results, experiment):
        out = io.StringIO()
        self.stderr = ""
        try:
            self.returncode = check_claims.check(results, [experiment], out)
        except SystemExit as stop:  # plots/common.py's die(): missing or unreadable results
            self.returncode = stop.code if isinstance(stop.code, int) else 2
        except Exception:  # noqa: BLE001 -- a crash of the checker is reported, not detected
            self.returncode = 1
            self.stderr = traceback.format_exc()
        self.stdout = out.getvalue()


def main():
    results, work = sys.argv[1], sys.argv[2]
    failures = 0
    for experiment, doctor, claim in CASES:
        folder = copy(results, work, experiment, doctor.__name__)
        honest = Run(os.path.dirname(folder), experiment)
        doctor(folder)
        false = Run(os.path.dirname(folder), experiment)
        failed_lines = [line for line in false.stdout.splitlines() if line.startswith("FAIL") and claim in line]
        if honest.returncode != 0 or false.returncode != 1 or not failed_lines:
            failures += 1
            print("NOT DETECTED: {} after {}: honest exit {}, doctored exit {}\n{}{}".format(
                experiment, doctor.__name__, honest.returncode, false.returncode, false.stdout, false.stderr))
        else:
            print("detected: {} after {}: {}".format(experiment, doctor.__name__, failed_lines[0]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
