#!/usr/bin/python3
"""istlab.load and istlab.measures end to end, on the sweeps of make_sweeps.sh:

- a sweep with iid and Dirichlet splits keeps every row in a groupby over split,
  concentration and method (concentration is "n/a" on iid rows, not NaN);
- the failed cells are rows of cells with status failed and their reason;
- columns are typed; several experiments load and concatenate;
- a planted link or FIFO in a results folder is refused by name (and a FIFO does not hang);
- the measures give known answers on hand-made traces;
- istlab.sweep runs a dict config through the executable and returns its results.

Usage: load_and_measures.py RESULTS WORK   (RESULTS from make_sweeps.sh; ISTLAB_BINARY set)
"""

import os
import shutil
import sys

import numpy as np
import pandas as pd

import istlab

failures = []


def check(name, ok, detail=""):
    print("{} {}{}".format("ok  " if ok else "FAIL", name, ": " + str(detail) if detail else ""))
    if not ok:
        failures.append(name)


def splits_and_failures(results):
    r = istlab.load(os.path.join(results, "split_and_failure"))
    cells = r.cells
    grouped = cells.groupby(["split", "concentration", "method"]).size()
    check("groupby(split, concentration, method) keeps all rows",
          grouped.sum() == len(cells) == 16, "{} of {}".format(grouped.sum(), len(cells)))
    check("pivot_table keeps the iid rows", set(cells.pivot_table(
        index="split", columns="method", values="seed", aggfunc="count").index) ==
          {"iid", "dirichlet"})
    iid = cells[cells["split"] == "iid"]
    check("concentration is n/a on iid rows",
          (iid["concentration"] == istlab.NOT_APPLICABLE).all() and
          (cells.loc[cells["split"] == "dirichlet", "concentration"] == 0.5).all(),
          list(cells["concentration"].cat.categories))
    failed = cells[cells["status"] == "failed"]
    check("failed cells are rows with their reason", len(failed) == 8 and
          failed["error"].str.contains("not finite").all(), failed["error"].head(1).tolist())
    check("the other cells have no error", (cells.loc[cells["status"] != "failed", "error"]
                                            == "").all())
    dtypes = {c: str(cells[c].dtype) for c in ("seed", "num_workers", "rel_err", "method",
                                               "relative_regularization", "iterations")}
    check("typed columns", dtypes == {"seed": "int64", "num_workers": "int64",
                                      "rel_err": "float64", "method": "object",
                                      "relative_regularization": "float64",
                                      "iterations": "float64"}, dtypes)
    check("manifest and axes", r.manifest["experiment"] == "split_and_failure" and
          r.axes()["split"] == ["dirichlet", "iid"], r.axes())


def several(results):
    both = istlab.load(os.path.join(results, "split_and_failure"),
                       os.path.join(results, "net_small"))
    found = istlab.load(results)
    check("two experiments concatenate", len(both.cells) == 24 and
          sorted(both.experiments) == ["net_small", "split_and_failure"] and
          set(both.trace["experiment"]) == set(both.experiments), repr(both))
    check("a folder of experiments loads them all", sorted(found.experiments) ==
          sorted(both.experiments) and len(found.trace) == len(both.trace))
    check("hidden is n/a on the least-squares rows",
          (both.cells.loc[both.cells["experiment"] == "split_and_failure", "hidden"]
           == istlab.NOT_APPLICABLE).all())


def hostile(results, work):
    for planted, name in (("link", "cells.csv"), ("fifo", "trace.csv")):
        folder = os.path.join(work, "hostile_" + planted)
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(os.path.join(results, "net_small"), folder)
        os.remove(os.path.join(folder, name))
        if planted == "link":
            os.symlink("/etc/passwd", os.path.join(folder, name))
        else:
            os.mkfifo(os.path.join(folder, name))
        try:
            istlab.load(folder)
            check("a planted {} is refused".format(planted), False, "loaded")
        except istlab.ResultsError as error:
            check("a planted {} is refused".format(planted), name in str(error) and (
                "link" in str(error) if planted == "link" else "regular" in str(error)),
                error)


def measures():
    trace = pd.DataFrame({"cell_key": ["a"] * 5 + ["b"] * 5, "iter": list(range(0, 50, 10)) * 2,
                          "rel_err": [1, 1e-1, 1e-2, 1e-3, 1e-3, 1, 0.5, 0.4, 0.4, 0.4],
                          "floats": [0, 5, 10, 15, 20] * 2, "seed": [1] * 5 + [2] * 5})
    level = istlab.settled_level(trace, tail=0.25)  # rounds >= 30: the last two
    check("settled_level", np.allclose(level.to_numpy(), [1e-3, 0.4]), level.to_dict())
    first = istlab.first_reaching(trace, "rel_err", 1e-2, at=["iter", "floats"])
    check("first_reaching below a target", first.loc["a", "iter"] == 20 and
          first.loc["a", "floats"] == 10 and np.isnan(first.loc["b", "iter"]), first.to_dict())
    accuracy = trace.assign(test_accuracy=1 - trace["rel_err"])
    up = istlab.first_reaching(accuracy, "test_accuracy", 0.5, at="iter")
    check("first_reaching above a target (accuracies)", up.loc["a", "iter"] == 10 and
          up.loc["b", "iter"] == 10, up.to_dict())
    band = istlab.aggregate_over_seeds(trace, x="iter", y="rel_err", seed="seed")
    check("aggregate_over_seeds: geometric mean and band", np.isclose(
        band["center"].iloc[1], np.sqrt(0.1 * 0.5)) and np.isclose(band["lo"].iloc[2], 1e-2) and
          np.isclose(band["hi"].iloc[2], 0.4) and (band["n"] == 2).all(), band.iloc[1:3].to_dict())
    check("geomean", np.isclose(istlab.geomean([1e-2, 1e-4, np.nan, 0]), 1e-3))


def dict_sweep(work):
    os.makedirs(work, exist_ok=True)
    os.chdir(work)
    config = {"experiment": "from_dict", "problem": {"generator": "dense", "dim": 12,
                                                     "num_workers": 3, "heterogeneity": [0, 0.5]},
              "methods": [{"method": "gd"}, {"method": "ist", "sketch": "perm"}],
              "step_size": {"relative": 0.5}, "seeds": [1], "run": {"max_iters": 60}}
    r = istlab.sweep(config, out=os.path.join(work, "dict_results"), threads=1, echo=False)
    check("istlab.sweep runs a dict config", len(r.cells) == 4 and
          (r.cells["status"] != "failed").all() and len(r.trace) > 0, repr(r))
    try:
        istlab.sweep(dict(config, seeds="many"), out=os.path.join(work, "dict_results"))
        check("istlab.sweep reports a bad config", False, "no error")
    except istlab.SweepError as error:
        check("istlab.sweep reports a bad config", "seeds" in str(error), str(error)[:200])


def main():
    results, work = sys.argv[1], sys.argv[2]
    splits_and_failures(results)
    several(results)
    hostile(results, work)
    measures()
    dict_sweep(work)
    print("{} checks failed: {}".format(len(failures), failures) if failures else
          "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
