"""What the figures measure on a trace: the level a run settles at, the first round (or
floats, or modelled time) at which it reaches a target, and the centre and band of a curve
over seeds. The paper figures (plots/), the claims checker, `istlab plot` and `istlab report`
all use these, so each number is computed one way.
"""

import warnings

import numpy as np
import pandas as pd

# Smallest value shown on log axes; anything below is clipped for display only.
DISPLAY_FLOOR = 1e-16


def geomean(values):
    """Geometric mean of the finite positive values (NaN when there are none).

    >>> istlab.geomean([1e-2, 1e-4])
    0.001
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v) & (v > 0)]
    return float(np.exp(np.mean(np.log(v)))) if v.size else np.nan


def clip_for_log(values, floor=DISPLAY_FLOOR):
    """Replace values below ``floor`` (including 0) by ``floor``; NaN stays NaN."""
    v = np.asarray(values, dtype=float)
    return np.where(np.isnan(v), np.nan, np.maximum(v, floor))


def settled_level(trace, y="rel_err", tail=0.25, key="cell_key"):
    """Per cell, the level ``y`` settles at: the geometric mean of its recorded values over
    the last ``tail`` fraction of the run's rounds (iter >= (1 - tail) * last iter).

    A single final value of a stochastic method is one noisy sample; averaging the tail
    measures the floor (bias plus the stationary spread). Returns a Series indexed by ``key``.

    >>> istlab.settled_level(results.trace)            # rel_err's floor of every cell
    """
    def level(g):
        last = g["iter"].max()
        tail_rows = g[g["iter"] >= (1.0 - tail) * last]
        return geomean(tail_rows[y])
    return trace.groupby(key, sort=True).apply(level)


def higher_is_better(metric):
    """Accuracies rise towards their target; errors, gaps and losses fall."""
    return "accuracy" in metric


def first_reaching(trace, metric, target, at=("iter",), key="cell_key", above=None):
    """Per cell, the row of the first recorded round at which ``metric`` reaches ``target``:
    at or below it for errors and losses, at or above it for accuracies (``above`` overrides).

    ``at`` names the columns returned, e.g. ``("iter", "floats", "model_time_s")``: the rounds,
    floats per worker or modelled seconds to the target. A cell that never reaches it has NaN.
    Returns a DataFrame indexed by ``key`` with one row per cell of ``trace``.

    >>> istlab.first_reaching(results.trace, "rel_err", 1e-6, at=["iter", "floats"])
    """
    at = [at] if isinstance(at, str) else list(at)
    above = higher_is_better(metric) if above is None else above
    hit = trace[trace[metric] >= target] if above else trace[trace[metric] <= target]
    first = hit.sort_values([key, "iter"], kind="stable").drop_duplicates(key)
    cells = pd.Index(trace[key].unique(), name=key)
    return first.set_index(key)[at].reindex(cells)


def aggregate_over_seeds(df, x="iter", y="rel_err", seed="seed", hold_last=False,
                         floor=DISPLAY_FLOOR, log=True):
    """Centre and band of ``y`` over seeds on the union of the seeds' ``x`` grids.

    Each seed's curve is interpolated linearly onto the common grid, in log10(y) when ``log``
    (exact for linear convergence; y is clipped at ``floor`` first), inside its own recorded
    range. Beyond a seed's last point it is held at its last value if ``hold_last`` is true
    for it (a bool, or a dict / Series seed -> bool, e.g. "this run stopped because it met the
    tolerance"), else NaN.

    Returns a DataFrame with columns x, center (geometric mean when ``log``, else the mean),
    lo, hi (min / max over seeds) and n (seeds contributing).

    >>> one_curve = trace[(trace.method == "ist") & (trace.relative_step == 0.5)]
    >>> band = istlab.aggregate_over_seeds(one_curve, x="iter", y="rel_err")
    """
    grid = np.unique(df[x].to_numpy(dtype=float))
    rows = []
    for s, g in df.groupby(seed, sort=True):
        g = g.sort_values(x)
        xs = g[x].to_numpy(dtype=float)
        ys = g[y].to_numpy(dtype=float)
        ys = np.log10(clip_for_log(ys, floor)) if log else ys
        ok = np.isfinite(ys) & np.isfinite(xs)
        xs, ys = xs[ok], ys[ok]
        row = np.full(grid.shape, np.nan)
        if xs.size:
            inside = (grid >= xs[0]) & (grid <= xs[-1])
            row[inside] = np.interp(grid[inside], xs, ys)
            hold = hold_last if isinstance(hold_last, bool) else bool(hold_last.get(s, False))
            if hold:
                row[grid > xs[-1]] = ys[-1]
        rows.append(row)
    rows = np.vstack(rows) if rows else np.empty((0, grid.size))
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", category=RuntimeWarning)  # all-NaN columns
        center = np.nanmean(rows, axis=0)
        lo = np.nanmin(rows, axis=0)
        hi = np.nanmax(rows, axis=0)
    n = np.sum(np.isfinite(rows), axis=0)
    if log:
        center, lo, hi = 10.0 ** center, 10.0 ** lo, 10.0 ** hi
    return pd.DataFrame({"x": grid, "center": center, "lo": lo, "hi": hi, "n": n})
