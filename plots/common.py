"""Shared helpers for istlab plot scripts.

Import from a script in plots/ with ``from common import ...`` (the script's own
folder is on sys.path when it is run as ``/usr/bin/python3 plots/<name>.py``). Every figure
script takes its command line from figure_parser, its CSV files from load_experiment (which
names ISTLAB_BINARY in its errors) and writes its PNG and PDF with write_figure. What the
figures measure (settled levels, first reaching a target, bands over seeds) and the method
colours come from the istlab package in python/ (docs/python.md), re-exported here.

Targets Debian's python3-matplotlib 3.6 / python3-pandas 1.5 / python3-numpy 1.24.
"""

import argparse
import os
import sys

import matplotlib

matplotlib.use("Agg")  # headless; must happen before pyplot is imported anywhere

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.colors import to_rgb  # noqa: E402
from matplotlib.ticker import LogLocator, NullFormatter  # noqa: E402

PLOTS_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(PLOTS_DIR)
# The measures and colours live in the Python package (python/istlab), used by the figures,
# the claims checker, `istlab plot` and `istlab report` alike.
sys.path.insert(0, os.path.join(REPO_ROOT, "python"))
from istlab.measures import (  # noqa: E402,F401  (re-exported for the figure scripts)
    DISPLAY_FLOOR, aggregate_over_seeds, clip_for_log, first_reaching, geomean, settled_level,
)
from istlab.style import METHOD_COLORS, METHOD_ORDER, method_color, method_sort_key  # noqa: E402,F401

# The istlab binary, relative to REPO_ROOT; every "produce it with" message names it.
ISTLAB_BINARY = "build/release/bin/istlab"

# Line styles handed out to a second parameter (e.g. relative step size).
LINESTYLES = ["-", (0, (1, 1.3)), (0, (4, 1.5, 1, 1.5)), (0, (8, 2, 1, 2, 1, 2))]


def style_map(values, styles=LINESTYLES):
    """Map each distinct value (sorted descending, so the largest gets a solid line) to a style."""
    vals = sorted(set(values), reverse=True)
    return {v: styles[i % len(styles)] for i, v in enumerate(vals)}


def method_shades(method, values):
    """Shades of a method's colour for the values of a second parameter (a step size): the
    largest value darkest, the smallest lightest. Returns {value: RGB tuple}."""
    base = np.array(to_rgb(method_color(method)))
    dark, light = 0.72 * base, base + 0.6 * (1.0 - base)
    ordered = sorted(set(values), reverse=True)
    spread = max(len(ordered) - 1, 1)
    return {v: tuple(dark + (light - dark) * i / spread) for i, v in enumerate(ordered)}


def fmt_num(x):
    """Compact number: 1.0 -> '1', 0.5 -> '0.5', 1e-3 -> '0.001'."""
    return "{:g}".format(float(x))


def fmt_sci(x, digits=2):
    """Number for annotations, e.g. 8.8e-02 -> '8.8·10⁻²' written in mathtext."""
    if not np.isfinite(x) or x == 0:
        return fmt_num(x)
    exp = int(np.floor(np.log10(abs(x))))
    mant = x / 10.0 ** exp
    if -2 <= exp <= 2:
        return "{:.{d}g}".format(x, d=digits)
    return r"${:.{d}g}\times10^{{{}}}$".format(mant, exp, d=digits)


def die(msg, code=2):
    sys.stderr.write("error: " + msg.rstrip() + "\n")
    sys.exit(code)


def produce_command(experiment, results):
    """The command that writes <results>/<experiment>/ (``results`` relative to the
    repository when it lies inside it)."""
    results = os.path.abspath(results)
    out_arg = os.path.relpath(results, REPO_ROOT)
    if out_arg.startswith(".."):
        out_arg = results
    return "cd {} && ./{} sweep experiments/{}.yaml --out {}".format(
        REPO_ROOT, ISTLAB_BINARY, experiment, out_arg)


def die_results(problem, produce_cmd):
    """Exit with status 2 on one line: what is wrong with the results, and how to make them."""
    die("{}; produce it with: {}".format(problem, produce_cmd))


def require_file(path, produce_cmd):
    """Exit with status 2 and a helpful message if ``path`` is missing."""
    if not os.path.isfile(path):
        die_results("results file not found: {}".format(path), produce_cmd)
    return path


def to_bool(series):
    """Parse a true/false text column (pandas may already have made it bool)."""
    if series.dtype == bool:
        return series
    m = {"true": True, "false": False, "1": True, "0": False}
    return series.map(lambda v: m.get(str(v).strip().lower(), np.nan) if pd.notna(v) else np.nan)


def read_results_csv(path, produce_cmd, **read_csv_args):
    """Read an istlab CSV (empty fields -> NaN) after checking that it exists."""
    require_file(path, produce_cmd)
    df = pd.read_csv(path, **read_csv_args)
    if "interpolation" in df.columns:
        df["interpolation"] = to_bool(df["interpolation"])
    return df


def figure_parser(experiment, doc):
    """The command line every figure script shares: --results and --out."""
    p = argparse.ArgumentParser(description=doc.split("\n")[0])
    p.add_argument("--results", default=os.path.join(REPO_ROOT, "results"),
                   help="results folder given to `istlab sweep --out` (default: <repo>/results)")
    p.add_argument("--out", default=os.path.join(PLOTS_DIR, experiment + ".png"),
                   help="output PNG (a PDF with the same stem is written too; "
                        "default: plots/{}.png)".format(experiment))
    return p


def load_experiment(results, experiment, needed):
    """Read the CSV files of <results>/<experiment>/ that a figure needs.

    ``results`` may also be the experiment folder itself. ``needed`` maps each file name to
    the columns the figure uses: a set of names, or a dict name -> dtype to read only those
    columns with those types (for large files such as iterates.csv). A missing file, a
    missing column or a file without rows exits with status 2, naming the file and the
    command that produces it. Returns (experiment folder, [one DataFrame per file, in the
    order of ``needed``]).
    """
    results = os.path.abspath(results)
    exp_dir = os.path.join(results, experiment)
    # Also accept the experiment folder itself (…/results/<experiment>).
    if not os.path.isdir(exp_dir) and any(os.path.isfile(os.path.join(results, f)) for f in needed):
        exp_dir, results = results, os.path.dirname(results)
    cmd = produce_command(experiment, results)
    frames = []
    for name, columns in needed.items():
        path = require_file(os.path.join(exp_dir, name), cmd)
        try:
            header = pd.read_csv(path, nrows=0).columns
        except pd.errors.EmptyDataError:  # a 0-byte file: no columns at all
            header = []
        missing = set(columns) - set(header)
        if missing:
            die_results("{} lacks columns {}".format(path, sorted(missing)), cmd)
        typed = dict(usecols=list(columns), dtype=columns) if isinstance(columns, dict) else {}
        df = read_results_csv(path, cmd, **typed)
        if df.empty:
            die_results("{} has no rows".format(path), cmd)
        frames.append(df)
    return exp_dir, frames


def step_text(step):
    """A relative step in mathtext: 1 -> γ = 1/λ, 0.5 -> γ = 0.5/λ."""
    s = fmt_num(step)
    return r"$\gamma = 1/\lambda$" if s == "1" else r"$\gamma = {}/\lambda$".format(s)


def sketch_text(sketch, scale):
    """A sketch with its scale, which is left out when it is the default (unbiased)."""
    return sketch if scale == "unbiased" else "{}, {}".format(sketch, scale)


def setup_log_y(ax, bottom=DISPLAY_FLOOR, top=None, decades_per_tick=None):
    """Log y-axis with decade ticks (every ``decades_per_tick`` decades) and minor ticks."""
    ax.set_yscale("log")
    if top is not None:
        ax.set_ylim(bottom, top)
    else:
        ax.set_ylim(bottom=bottom)
    lo, hi = ax.get_ylim()
    span = np.log10(hi) - np.log10(lo)
    if decades_per_tick is None:
        decades_per_tick = max(1, int(np.ceil(span / 9)))
    ax.yaxis.set_major_locator(LogLocator(base=10.0 ** decades_per_tick, numticks=30))
    ax.yaxis.set_minor_locator(LogLocator(base=10.0, subs=(1.0,), numticks=60))
    ax.yaxis.set_minor_formatter(NullFormatter())


def apply_style(base_fontsize=10):
    plt.rcParams.update({
        "font.size": base_fontsize,
        "axes.titlesize": base_fontsize + 1,
        "axes.labelsize": base_fontsize,
        "legend.fontsize": base_fontsize - 1,
        "xtick.labelsize": base_fontsize - 1,
        "ytick.labelsize": base_fontsize - 1,
        "axes.grid": True,
        "grid.alpha": 0.3,
        "grid.linewidth": 0.6,
        "savefig.dpi": 150,
        "pdf.fonttype": 42,  # embed TrueType, keeps text editable in the PDF
    })


def save_figure(fig, out_png, dpi=150):
    """Save ``out_png`` and a PDF with the same stem; returns both paths."""
    out_png = os.path.abspath(out_png)
    d = os.path.dirname(out_png)
    if d:
        os.makedirs(d, exist_ok=True)
    stem, ext = os.path.splitext(out_png)
    if ext.lower() == ".pdf":
        out_png = stem + ".png"
    out_pdf = stem + ".pdf"
    fig.savefig(out_png, dpi=dpi)
    fig.savefig(out_pdf, metadata={"CreationDate": None})  # same bytes for the same data
    return out_png, out_pdf


def write_figure(fig, out, footnote, footnote_y=0.008):
    """Add the figure's footnote (small, grey, centred at the bottom, in the room its layout
    left there), then write ``out`` and the PDF next to it at 150 dpi and print both paths."""
    fig.text(0.5, footnote_y, footnote, ha="center", va="bottom", fontsize=8, color="0.25")
    png, pdf = save_figure(fig, out, dpi=150)
    print("wrote {}\nwrote {}".format(png, pdf))


def equal_time_means(trace, steps, horizons, columns=("grad_norm2",)):
    """Means over the windows γk ∈ (H/2, H] of ``columns``, per split, method and step size,
    for each horizon H of ``horizons`` that every run at ``steps`` reaches.

    A run at step γ recorded every r rounds records at γk = γr, 2γr, …, so runs at two steps
    record at different γk; the means take only the γk that every run at ``steps`` recorded,
    so that both average the same points of the flow. A window, not the single round at γk = H,
    because one full-batch IST round's gradient norm jumps with the round's sketch.
    Returns a DataFrame with the columns split, method, step_size, horizon, points (the
    records averaged) and ``columns`` (empty when no horizon is reached).
    """
    columns = list(columns)
    runs = trace[trace["step_size"].isin(steps)].copy()
    runs["gamma_k"] = (runs["step_size"] * runs["iter"]).round(6)
    if runs.empty:
        return pd.DataFrame(columns=["split", "method", "step_size", "horizon", "points"] + columns)
    grid = set.intersection(*(set(g["gamma_k"]) for _, g in runs.groupby("cell_key")))
    reach = runs.groupby("cell_key")["gamma_k"].max().min()
    frames = []
    for h in horizons:
        gamma_k = runs["gamma_k"]
        window = runs[gamma_k.isin(grid) & (gamma_k > h / 2) & (gamma_k <= h)]
        if h > reach or window.empty:
            continue
        keys = ["split", "method", "step_size"]
        means = window.groupby(keys)[columns].mean()
        means["points"] = window.groupby(keys).size()
        means["horizon"] = h
        frames.append(means.reset_index())
    if not frames:
        return pd.DataFrame(columns=["split", "method", "step_size", "horizon", "points"] + columns)
    return pd.concat(frames, ignore_index=True)


def kept_across_steps(trace, coarse, fine, horizons, column="grad_norm2"):
    """What each method keeps of its excess over gd when the step shrinks from ``coarse`` to
    ``fine`` at equal γk: per split, horizon H and method other than gd, the excess
    (its mean of ``column`` minus gd's at the same step, equal_time_means) at ``fine`` over
    that at ``coarse``. A floor keeps 1; an excess proportional to the step keeps fine/coarse.

    Returns a DataFrame with the columns split, horizon, method, excess_coarse, excess_fine,
    kept, gd_coarse and gd_fine (gd's own means at the two steps; where they differ, gd has
    left the flow at the larger step).
    """
    means = equal_time_means(trace, [coarse, fine], horizons, [column])
    wide = means.pivot_table(index=["split", "horizon", "step_size"], columns="method",
                             values=column)
    rows = []
    for (split, h), g in wide.groupby(level=["split", "horizon"]):
        g = g.droplevel(["split", "horizon"])
        if coarse not in g.index or fine not in g.index or "gd" not in g.columns:
            continue
        for method in g.columns.drop("gd"):
            ex_c = g.at[coarse, method] - g.at[coarse, "gd"]
            ex_f = g.at[fine, method] - g.at[fine, "gd"]
            rows.append(dict(split=split, horizon=h, method=method, excess_coarse=ex_c,
                             excess_fine=ex_f, kept=ex_f / ex_c, gd_coarse=g.at[coarse, "gd"],
                             gd_fine=g.at[fine, "gd"]))
    return pd.DataFrame(rows, columns=["split", "horizon", "method", "excess_coarse", "excess_fine",
                                       "kept", "gd_coarse", "gd_fine"])
