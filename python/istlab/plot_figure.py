"""The generic figure of any sweep (`istlab plot`): a metric against rounds, floats, modelled
or wall time, one colour per value of a hue key, one panel per value of a row and a column
key, the geometric mean over seeds with a min-max band, and IST's predicted bias as a dashed
level wherever the cells carry it."""

import difflib
import os

import matplotlib

matplotlib.use("Agg")  # headless; before pyplot is imported
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib import patheffects  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from .files import ResultsError  # noqa: E402
from .measures import DISPLAY_FLOOR, aggregate_over_seeds, geomean  # noqa: E402
from .results import Results, load  # noqa: E402
from .style import HUE_CYCLE, fmt_value, method_color, method_sort_key  # noqa: E402

X_LABELS = {
    "iter": "round k",
    "floats": "floats per worker, up + down (cumulative)",
    "floats_up": "floats sent up per worker (cumulative)",
    "floats_down": "floats sent down per worker (cumulative)",
    "flops": "flops per worker (cumulative)",
    "model_time_s": "modelled time (s)",
    "wall_s": "wall-clock compute time (s)",
}
Y_LABELS = {
    "rel_err": r"rel_err $= \Vert x - x^\star\Vert^2 / \Vert x^0 - x^\star\Vert^2$",
    "f_gap": r"f_gap $= f(x) - f^\star$",
    "grad_norm2": r"grad_norm2 $= \Vert\nabla f(x)\Vert^2$",
    "dist_fixed": r"dist_fixed $= \Vert x - x^\infty\Vert^2$",
    "train_loss": "train_loss", "test_loss": "test_loss", "test_accuracy": "test_accuracy",
}
DEFAULT_Y = ("rel_err", "train_loss", "test_accuracy", "grad_norm2")
# Keys that follow others (a cell's resolved step follows its relative step and method; the
# problem's seed follows the seed): never a line of their own.
DERIVED = ("problem_seed", "step_size")
LINESTYLES = ["-", (0, (5, 2)), (0, (1, 1.3)), (0, (6, 1.5, 1, 1.5)), (0, (8, 2, 1, 2, 1, 2))]
MARKERS = [None, "o", "s", "^", "D", "v"]
BIAS_LS = (0, (9, 2, 2, 2))  # dash-dot: unlike the line styles of swept keys
LINE_WIDTHS = [2.8, 2.1, 1.6, 1.3]
LOG_SPAN = 100.0  # a positive axis spanning more than this factor is drawn in log scale
FORMATS = (".png", ".pdf", ".svg")


class PlotError(ResultsError):
    """A flag that does not fit the results (unknown metric or key); the message lists the
    ones that do."""


def plot_to_file(results, out, **options):
    """Draws the figure (see draw) and writes it to ``out``; returns a one-line summary."""
    ext = os.path.splitext(str(out))[1].lower()
    if ext not in FORMATS:
        raise PlotError("--out {}: give a .png, .pdf or .svg file".format(out))
    fig, summary = draw(results, **options)
    folder = os.path.dirname(os.path.abspath(str(out)))
    os.makedirs(folder, exist_ok=True)
    # Text stays text in an SVG (editable, searchable); no dates, so the bytes repeat.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "istlab"}):
        fig.savefig(str(out), dpi=150, metadata={"png": {}, ".pdf": {"CreationDate": None},
                                                 ".svg": {"Date": None}}.get(ext, {}))
    plt.close(fig)
    return "wrote {}: {}".format(out, summary)


def draw(results, x="iter", y=None, hue="method", col=None, row=None, logx=None, logy=None):
    """The figure of ``results`` (a Results, or a folder or list of folders to load) and a
    one-line summary of what it shows. ``x``: iter, floats, floats_up, floats_down, flops,
    model_time_s or wall_s; ``y``: any metric of trace.csv (default: rel_err, else train_loss,
    test_accuracy, grad_norm2: the first with values); ``hue``, ``col``, ``row``: parameter
    columns (or "experiment"); ``logx``/``logy``: True, False or None (chosen from the data).
    Returns (matplotlib Figure, summary)."""
    if not isinstance(results, Results):
        results = load(results)
    trace = _with_wall_time(results)
    y = y or _default_metric(trace)
    _check_metric(trace, x, "--x", list(X_LABELS))
    _check_metric(trace, y, "--y", _metrics(trace))
    keys = [k for k in (hue, col, row) if k]
    for flag, key in (("--hue", hue), ("--col", col), ("--row", row)):
        if key:
            _check_key(results, flag, key)
    if len(set(keys)) < len(keys):
        raise PlotError("--hue, --col and --row must be different keys, got {}".format(keys))
    trace = trace[np.isfinite(trace[x].astype(float)) & np.isfinite(trace[y].astype(float))]
    logy = _auto_log(trace[y]) if logy is None else logy
    logx = _auto_log(trace[x][trace[x] > 0]) and x != "iter" if logx is None else logx
    if logx:
        trace = trace[trace[x] > 0]
    if trace.empty:
        raise PlotError("no finite values of {} against {} to draw".format(y, x))

    lines = _line_keys(results, trace, keys)
    hues = _values(trace, hue) if hue else [None]
    colors = _hue_colors(hue, hues)
    styles = _line_styles(trace, lines)
    rows, cols = (_values(trace, row) if row else [None]), (_values(trace, col) if col else [None])
    fig, axes = plt.subplots(len(rows), len(cols), squeeze=False, sharex=True, sharey=True,
                             figsize=(4.8 * len(cols) + 0.6, 3.6 * len(rows) + 1.9))
    converged = dict(zip(zip(results.cells["experiment"], results.cells["cell_key"]),
                         results.cells["status"] == "converged"))
    drew_band = drew_bias = False
    for i, row_value in enumerate(rows):
        for j, col_value in enumerate(cols):
            ax = axes[i][j]
            panel = _select(trace, {row: row_value, col: col_value})
            ax.set_title(_panel_title(row, row_value, col, col_value), fontsize=10)
            for hue_value in hues:
                for style_key, curve in _curves(_select(panel, {hue: hue_value}), lines):
                    # Earlier hues wider and underneath: coinciding curves stay visible.
                    width = LINE_WIDTHS[min(hues.index(hue_value), len(LINE_WIDTHS) - 1)]
                    band = _draw_curve(ax, curve, x, y, logy, colors[hue_value],
                                       styles[style_key], width, converged)
                    drew_band |= band
            drew_bias |= _draw_bias(ax, results.cells, panel, y, hue, colors)
            ax.set_xscale("log" if logx else "linear")
            ax.set_yscale("log" if logy else "linear")
            if i == len(rows) - 1:
                ax.set_xlabel(X_LABELS.get(x, x))
            if j == 0:
                ax.set_ylabel(Y_LABELS.get(y, y))
    _legend(fig, hue, hues, colors, lines, styles, drew_band, drew_bias)
    mean = "geometric mean" if logy else "mean"
    fig.suptitle("{}: {} against {}".format(", ".join(results.experiments), y, x),
                 fontsize=12, fontweight="bold")
    fig.text(0.5, 0.006, _footnote(results, trace, mean), ha="center", va="bottom", fontsize=8,
             color="0.25")
    legend_rows = 1 + (len(hues) + len(styles) + 2) // 4
    fig.tight_layout(rect=(0, min(0.4, (0.35 + 0.22 * legend_rows) / fig.get_figheight()),
                           1, 0.95))
    summary = "{}x{} panels ({}{}), x {} ({}), y {} ({}), hue {}: {}".format(
        len(rows), len(cols), "rows: {}".format(row) if row else "one row",
        ", columns: {}".format(col) if col else "", x, "log" if logx else "linear", y,
        "log" if logy else "linear", hue or "none",
        ", ".join(fmt_value(h) for h in hues if h is not None) or "-")
    return fig, summary


def _with_wall_time(results):
    trace = results.trace
    if len(results.timing) and "wall_s" in results.timing:
        trace = trace.merge(results.timing[["experiment", "cell_key", "iter", "wall_s"]],
                            on=["experiment", "cell_key", "iter"], how="left")
    return trace


def _metrics(trace):
    return [c for c in trace.columns if c in Y_LABELS or c in X_LABELS
            if pd.api.types.is_numeric_dtype(trace[c]) and np.isfinite(trace[c]).any()]


def _default_metric(trace):
    for metric in DEFAULT_Y:
        if metric in trace and np.isfinite(trace[metric]).any():
            return metric
    raise PlotError("trace.csv has none of {} with values; give --y".format(", ".join(DEFAULT_Y)))


def _check_metric(trace, name, flag, allowed):
    if name in trace and pd.api.types.is_numeric_dtype(trace[name]) \
            and np.isfinite(trace[name]).any():
        return
    ok = [m for m in allowed if m in trace and np.isfinite(trace[m]).any()]
    close = difflib.get_close_matches(name, ok, n=1)
    raise PlotError("{} {}: {}{}; with values here: {}".format(
        flag, name, "has no values in this sweep" if name in trace else "no such column",
        " (did you mean {}?)".format(close[0]) if close else "", ", ".join(ok)))


def _check_key(results, flag, key):
    if key == "experiment" or key in results.parameters:
        return
    close = difflib.get_close_matches(key, results.parameters, n=1)
    swept = [k for k in results.axes() if k not in ("seed",) + DERIVED]
    raise PlotError("{} {}: not a parameter column{}; swept here: {}".format(
        flag, key, " (did you mean {}?)".format(close[0]) if close else "",
        ", ".join(swept) or "none"))


def _auto_log(values):
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return bool(v.size and (v > 0).all() and v.max() > LOG_SPAN * v.min())


def _values(trace, key):
    column = trace[key]
    present = set(column.unique())
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [v for v in column.cat.categories if v in present]
    if key == "method":
        return sorted(present, key=method_sort_key)
    return sorted(present, key=lambda v: (isinstance(v, str), v))


def _select(frame, match):
    for key, value in match.items():
        if key is not None:
            frame = frame[frame[key] == value]
    return frame


def _line_keys(results, trace, keys):
    """The swept keys that tell lines apart within a panel and hue: not the seed, not the keys
    that follow others, and not those the hue and panel fix (a method's sketch, a split's
    concentration)."""
    lines = []
    for key in results.axes():
        if key in ("seed",) + DERIVED or key in keys or key not in trace:
            continue
        within = trace.groupby(keys, observed=True)[key].nunique() if keys else \
            pd.Series([trace[key].nunique()])
        if within.max() > 1:
            lines.append(key)
    return lines


def _curves(frame, lines):
    """(values of the line keys as a tuple, rows) per line of one panel and hue value."""
    if not lines:
        return [((), frame)] if len(frame) else []
    groups = frame.groupby(lines[0] if len(lines) == 1 else lines, sort=True, observed=True)
    return [(k if isinstance(k, tuple) else (k,), g) for k, g in groups if len(g)]


def _hue_colors(hue, hues):
    if hue == "method":
        return {h: method_color(h) for h in hues}
    return {h: HUE_CYCLE[i % len(HUE_CYCLE)] for i, h in enumerate(hues)}


def _line_styles(trace, lines):
    """A line style (then a marker) per combination of the line keys present."""
    combos = sorted({tuple(r) for r in trace[lines].drop_duplicates().itertuples(index=False)},
                    key=lambda t: tuple((isinstance(v, str), v) for v in t)) if lines else [()]
    return {c: (LINESTYLES[i % len(LINESTYLES)], MARKERS[(i // len(LINESTYLES)) % len(MARKERS)],
                c) for i, c in enumerate(combos)}


def _draw_curve(ax, curve, x, y, logy, color, style, width, converged):
    """Centre over seeds and, with several seeds, the min-max band; True when a band was drawn."""
    linestyle, marker, _ = style
    hold = {seed: converged.get((e, k), False) for seed, e, k in curve.groupby("seed")[
        ["experiment", "cell_key"]].first().itertuples()}
    agg = aggregate_over_seeds(curve, x=x, y=y, seed="seed", hold_last=hold, log=logy)
    seeds = curve["seed"].nunique()
    if seeds > 1:
        ax.fill_between(agg["x"], agg["lo"], agg["hi"], color=color, alpha=0.15, lw=0)
    ax.plot(agg["x"], agg["center"], color=color, ls=linestyle, lw=width, marker=marker,
            ms=3.5, markevery=max(1, len(agg) // 12))
    return seeds > 1


def _draw_bias(ax, cells, panel, y, hue, colors):
    """IST's predicted bias as a dashed level for each hue value of the panel's ist cells
    (the geometric mean over them); only on rel_err, the quantity the bias predicts."""
    if y != "rel_err" or "ist_relative_bias" not in cells:
        return False
    keys = panel[["experiment", "cell_key"]].drop_duplicates()
    mine = cells.merge(keys, on=["experiment", "cell_key"])
    ist = mine[(mine["method"] == "ist") & np.isfinite(mine["ist_relative_bias"])]
    drew = False
    for hue_value, group in (ist.groupby(hue, observed=True) if hue else [(None, ist)]):
        bias = geomean(group["ist_relative_bias"])
        if np.isfinite(bias):
            # On top with a white halo, so it stays visible on the curve that settles at it.
            ax.axhline(max(bias, DISPLAY_FLOOR), color=colors.get(hue_value, "0.3"), ls=BIAS_LS,
                       lw=1.3, zorder=10, path_effects=[
                           patheffects.withStroke(linewidth=3.2, foreground="white")])
            drew = True
    return drew


def _panel_title(row, row_value, col, col_value):
    parts = ["{} = {}".format(k, fmt_value(v)) for k, v in ((row, row_value), (col, col_value))
             if k]
    return ", ".join(parts)


def _legend(fig, hue, hues, colors, lines, styles, drew_band, drew_bias):
    handles = [Line2D([], [], color=colors[h], lw=2.2) for h in hues if h is not None]
    labels = ["{} = {}".format(hue, fmt_value(h)) if hue != "method" else str(h)
              for h in hues if h is not None]
    if len(styles) > 1:
        for linestyle, marker, combo in styles.values():
            handles.append(Line2D([], [], color="0.3", ls=linestyle, marker=marker, lw=1.6))
            labels.append(", ".join("{} = {}".format(k, fmt_value(v)) for k, v in zip(lines, combo)))
    if drew_band:
        handles.append(Patch(color="0.3", alpha=0.2, lw=0))
        labels.append("min–max over seeds")
    if drew_bias:
        handles.append(Line2D([], [], color="0.3", ls=BIAS_LS, lw=1.3))
        labels.append("IST predicted bias (ist_relative_bias)")
    fig.legend(handles, labels, loc="lower center", ncol=min(4, len(labels)), frameon=False,
               bbox_to_anchor=(0.5, 0.035), fontsize=9, handlelength=2.8)


def _footnote(results, trace, mean):
    seeds = sorted(trace["seed"].unique())
    note = "Lines: {} over seeds {}".format(mean, ", ".join(fmt_value(s) for s in seeds))
    if len(seeds) > 1:
        note += "; bands: min–max over seeds"
    not_drawn = results.cells[~results.cells["status"].isin(
        ["converged", "max_iters", "budget", "time_limit", "diverged"])]
    if len(not_drawn):
        counts = not_drawn["status"].value_counts()
        note += ". Not drawn: " + ", ".join("{} {}".format(n, s) for s, n in counts.items()) + \
            " cells (cells.csv has their error)"
    return note
