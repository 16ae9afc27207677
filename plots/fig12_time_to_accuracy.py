#!/usr/bin/python3
"""Figure 12: modelled time for gd, dcgd, ist and local_sgd to reach 70% test accuracy.

The small Fashion-MNIST network of experiments/fig12_time_to_accuracy.yaml, trained by n
workers (n read from the results) on an iid and a Dirichlet(alpha) split, on a network model
that turns each round's floats and flops into modelled seconds. Per cell, the time to TARGET
is model_time_s at the first recorded round with test_accuracy >= TARGET. One row per split
(iid, then Dirichlet), one column per link latency (shortest first); each panel plots that
time (log y) against the bandwidth (log x), one line per method. A method that never reaches
TARGET at a bandwidth is an 'x' in the grey "never" band at the top of the panel. A dotted
vertical line marks where ist's curve crosses local_sgd's or gd's (solved exactly: at one
latency a run's modelled time is linear in 1/bandwidth). The box in each panel gives the rounds each method
needs to reach TARGET (the same at every bandwidth: the network changes time, not rounds).

Input : <results>/fig12_time_to_accuracy/{trace.csv,cells.csv}, produced by
        istlab sweep experiments/fig12_time_to_accuracy.yaml --out results
Usage : /usr/bin/python3 plots/fig12_time_to_accuracy.py [--results DIR] [--out FILE]
Output: FILE (PNG, default plots/fig12_time_to_accuracy.png) and a PDF with the same stem.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import (  # noqa: E402  (common selects the Agg backend)
    apply_style, die, figure_parser, first_reaching, fmt_num, fmt_sci, load_experiment,
    method_color, method_sort_key, write_figure,
)
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FixedLocator, FuncFormatter, LogLocator, NullFormatter  # noqa: E402
import numpy as np  # noqa: E402

EXPERIMENT = "fig12_time_to_accuracy"
TARGET = 0.70            # test accuracy whose first crossing is timed
SPLITS = ["iid", "dirichlet"]
CELL_KEYS = ["split", "latency_s", "bandwidth_bits_per_s", "method"]
CROSS_PAIRS = [("ist", "local_sgd"), ("ist", "gd")]  # crossings marked in every panel
ROOM_BELOW = 4.0         # y axis bottom: the column's fastest time / ROOM_BELOW
NEVER_GAP = 1.8          # "never" band starts at the column's slowest time * NEVER_GAP
NEVER_BAND = 4.0         # and spans this factor up to the top of the axis
NEVER_MARKS_AT = 0.3     # markers this far up the band (in log), its label at NEVER_LABEL_AT
NEVER_LABEL_AT = 0.75
NEVER_MARKER = "x"
SHORT_AXIS_DECADES = 3.0  # a time axis spanning fewer decades also labels 2 and 5
CROSS_LS = (0, (1, 2))
PCT = "{:.0f}%".format(100 * TARGET)


def fmt_bandwidth(bits):
    """1e7 -> '10 Mbit/s', 3e8 -> '300 Mbit/s', 5.27e9 -> '5.3 Gbit/s' (2 significant digits)."""
    for scale, unit in ((1e9, "Gbit/s"), (1e6, "Mbit/s"), (1e3, "kbit/s"), (1.0, "bit/s")):
        if bits >= scale:
            return "{:g} {}".format(float("{:.2g}".format(bits / scale)), unit)
    return "{:g} bit/s".format(bits)


def fmt_latency(seconds):
    """5e-05 -> '50 µs', 0.02 -> '20 ms'."""
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if seconds >= scale:
            return "{:g} {}".format(round(seconds / scale, 6), unit)
    return "{:g} s".format(seconds)


def link_name(latency):
    return "{} link ({})".format(fmt_latency(latency), "LAN" if latency < 1e-3 else "wide-area")


def split_title(split, alpha):
    return "Dirichlet α = {}".format(fmt_num(alpha)) if split == "dirichlet" else split


def time_to_target(trace):
    """One row per cell (CELL_KEYS): `time` and `rounds` of the first recorded round at or
    above TARGET, NaN for a cell that never gets there."""
    cells = trace.groupby("cell_key")[CELL_KEYS].first()
    if cells.duplicated().any():
        die("trace.csv has several cells per {}; this figure expects one seed"
            .format(", ".join(CELL_KEYS)))
    hit = first_reaching(trace, "test_accuracy", TARGET, at=["model_time_s", "iter"])
    cells["time"] = hit["model_time_s"]
    cells["rounds"] = hit["iter"]
    return cells.reset_index(drop=True)


def by_bandwidth(panel, column="time"):
    """Table bandwidth x method of ``column`` for one panel's cells."""
    return panel.pivot(index="bandwidth_bits_per_s", columns="method", values=column).sort_index()


def crossings(table, a, b):
    """Bandwidths where methods a and b reach the target at the same time. At one latency a
    run's modelled time is R*(c + s/B): linear in 1/B, so each curve is fitted exactly through
    its slowest and fastest bandwidth and the crossing solved (the claims checker does the
    same); [] when they do not cross inside the swept range or one never reaches the target."""
    if a not in table or b not in table:
        return []
    pair = table[[a, b]].dropna()
    if len(pair) < 2:
        return []
    inverse = 1.0 / pair.index.to_numpy(dtype=float)

    def line(times):
        slope = (times[0] - times[-1]) / (inverse[0] - inverse[-1])
        return times[0] - slope * inverse[0], slope

    (level_a, slope_a), (level_b, slope_b) = (line(pair[m].to_numpy(dtype=float)) for m in (a, b))
    if slope_a == slope_b:
        return []
    at = (level_b - level_a) / (slope_a - slope_b)  # 1/B where the lines meet
    return [1.0 / at] if inverse.min() <= at <= inverse.max() else []


def rounds_text(panel, methods):
    """Each method's rounds to TARGET ('never'; a range if they differ between bandwidths)."""
    parts = []
    for m in methods:
        r = panel.loc[panel["method"] == m, "rounds"].dropna()
        lo, hi = (int(r.min()), int(r.max())) if not r.empty else (None, None)
        parts.append("{} {}".format(m, "never" if lo is None else
                                    lo if lo == hi else "{}–{}".format(lo, hi)))
    half = (len(parts) + 1) // 2
    return "rounds to {}:\n{}\n{}".format(PCT, ", ".join(parts[:half]), ", ".join(parts[half:]))


def draw_methods(ax, table, y_never):
    """One line per method; an 'x' on the never band where it never reaches TARGET."""
    methods = sorted(table.columns, key=method_sort_key)
    for i, m in enumerate(methods):
        t = table[m]
        ist = m == "ist"
        ax.plot(t.index, t.to_numpy(), color=method_color(m), marker="o", ms=4.5,
                lw=2.0 if ist else 1.5, zorder=4 if ist else 3)
        never = t.index[t.isna()]
        if never.empty:
            continue
        shift = 1.10 ** (i - (len(methods) - 1) / 2.0)  # methods side by side on the band
        ax.plot(never * shift, np.full(len(never), y_never), ls="none", color=method_color(m),
                marker=NEVER_MARKER, ms=8, mew=2.2, zorder=5, clip_on=False)


def mark_crossings(ax, table):
    for a, b in CROSS_PAIRS:
        for x in crossings(table, a, b):
            ax.axvline(x, color="0.25", lw=1.2, ls=CROSS_LS, zorder=2)
            ax.text(x * 1.12, 0.5, "{} = {}\nat {}".format(a, b, fmt_bandwidth(x)),
                    transform=ax.get_xaxis_transform(), ha="left", va="center", fontsize=8.5,
                    color="0.15", zorder=6,
                    bbox=dict(boxstyle="round,pad=0.25", fc="white", ec="none", alpha=0.85))


def bandwidth_axis(ax, bandwidths):
    """Log x axis: a labelled tick at each decade, an unlabelled one at each other grid point."""
    ax.set_xscale("log")
    lo, hi = min(bandwidths), max(bandwidths)
    decades = 10.0 ** np.arange(np.ceil(np.log10(lo)), np.floor(np.log10(hi)) + 1)
    ax.xaxis.set_major_locator(FixedLocator(decades))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_bandwidth(v)))
    ax.xaxis.set_minor_locator(FixedLocator([b for b in bandwidths if b not in set(decades)]))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlim(lo / 1.6, hi * 1.6)


def band_point(y_lo, y_hi, frac):
    """The y that lies ``frac`` of the way from y_lo to y_hi on a log axis."""
    return y_lo * (y_hi / y_lo) ** frac


def time_axis(ax, bottom, top):
    """Log y labels: every decade, and 2 and 5 in between when the axis spans few decades."""
    subs = (1.0, 2.0, 5.0) if np.log10(top / bottom) < SHORT_AXIS_DECADES else (1.0,)
    ax.yaxis.set_major_locator(LogLocator(base=10.0, subs=subs))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: fmt_num(v)))


def never_band(ax, y_lo, y_hi):
    ax.axhspan(y_lo, y_hi, color="0.88", zorder=0, lw=0)
    ax.text(0.015, band_point(y_lo, y_hi, NEVER_LABEL_AT), "never reaches {}".format(PCT),
            fontsize=8.5, color="0.3", ha="left", va="center",
            transform=ax.get_yaxis_transform(), zorder=6)


def draw_panel(ax, panel, ylim, methods, title):
    """One (split, latency) panel."""
    bottom, band_lo, top = ylim
    table = by_bandwidth(panel)
    ax.set_yscale("log")
    ax.set_ylim(bottom, top)
    never_band(ax, band_lo, top)
    draw_methods(ax, table, band_point(band_lo, top, NEVER_MARKS_AT))
    mark_crossings(ax, table)
    bandwidth_axis(ax, list(table.index))
    time_axis(ax, bottom, top)
    ax.text(0.015, 0.025, rounds_text(panel, methods), transform=ax.transAxes, fontsize=8,
            ha="left", va="bottom", linespacing=1.3, zorder=6,
            bbox=dict(boxstyle="round,pad=0.35", fc="white", ec="0.7", alpha=0.92))
    ax.set_title(title)
    ax.set_xlabel("bandwidth")
    ax.set_ylabel("modelled time to {} test accuracy (s)".format(PCT))


def column_ylim(times):
    """(bottom, start of the never band, top) shared by a column's panels."""
    t = times["time"].dropna()
    if t.empty:
        die("no cell reaches {} test accuracy; is it a run of experiments/{}.yaml?"
            .format(PCT, EXPERIMENT))
    band_lo = t.max() * NEVER_GAP
    return t.min() / ROOM_BELOW, band_lo, band_lo * NEVER_BAND


def lan_clause(times, latency):
    """'IST fastest up to bandwidth A, local_sgd from B on, crossing at ~X' on the iid split
    at ``latency`` (A, B: the grid points around the crossing), if that is what the data say."""
    panel = times[(times["split"] == "iid") & (times["latency_s"] == latency)]
    table = by_bandwidth(panel)
    xs = crossings(table, "ist", "local_sgd")
    if len(xs) != 1:
        return None
    winners = table.idxmin(axis=1)
    below, above = winners[winners.index < xs[0]], winners[winners.index > xs[0]]
    if set(below) != {"ist"} or set(above) != {"local_sgd"}:
        return None
    rounds = panel.groupby("method")["rounds"].min()
    return ("on the iid split over a {} link IST is fastest up to {} and local_sgd ({:.0f} rounds "
            "vs {:.0f}) from {} on, crossing at ~{}".format(
                fmt_latency(latency), fmt_bandwidth(below.index.max()), rounds["local_sgd"],
                rounds["ist"], fmt_bandwidth(above.index.min()), fmt_bandwidth(xs[0])))


def rounds_rule(panel):
    """At every bandwidth, does each method that needs fewer rounds take less time?"""
    rounds = panel.groupby("method")["rounds"].min()
    for _, t in by_bandwidth(panel).iterrows():
        for a in rounds.index:
            for b in rounds.index:
                if rounds[a] < rounds[b] and not t[a] < t[b]:
                    return False
    return True


def latency_clause(times, latency):
    """'latency makes rounds the cost' at ``latency``, if the fewest rounds win everywhere."""
    at = times[times["latency_s"] == latency]
    if not all(rounds_rule(p) for _, p in at.groupby("split")):
        return None
    fewest = {p.groupby("method")["rounds"].min().idxmin() for _, p in at.groupby("split")}
    who = " ({})".format(fewest.pop()) if len(fewest) == 1 else ""
    return ("over a {} link latency makes rounds the cost: the method with the fewest rounds{} "
            "is fastest at every bandwidth".format(fmt_latency(latency), who))


def never_clause(times, trace, alpha):
    """Methods that reach TARGET in no cell of a split, with their best accuracy."""
    out = []
    for (split, m), g in times.groupby(["split", "method"]):
        if g["time"].isna().all():
            best = trace.loc[(trace["split"] == split) & (trace["method"] == m), "test_accuracy"]
            out.append("on the {} split {} never gets there (best {:.0f}%)".format(
                split_title(split, alpha), m.upper() if m == "ist" else m, 100 * best.max()))
    return "; ".join(out) or None


def suptitle(times, trace, alpha, n):
    latencies = sorted(times["latency_s"].unique())
    clauses = [lan_clause(times, latencies[0])]
    clauses += [latency_clause(times, lat) for lat in latencies[1:]]
    clauses.append(never_clause(times, trace, alpha))
    clauses = [c for c in clauses if c]
    head = "Modelled time to {} test accuracy (n = {})".format(PCT, n)
    return head + (":\n" + ";\n".join(clauses) if clauses else "")


def legend_entries(methods):
    entries = [(Line2D([], [], color=method_color(m), marker="o", ms=4.5, lw=2.0), m)
               for m in methods]
    entries.append((Line2D([], [], ls="none", color="0.3", marker=NEVER_MARKER, ms=8, mew=2.2),
                    "never reaches {} (at that bandwidth)".format(PCT)))
    entries.append((Line2D([], [], color="0.25", lw=1.2, ls=CROSS_LS),
                    "curves cross (exact: times are linear in 1/bandwidth)"))
    return zip(*entries)


def footnote_text(cells, trace):
    c = cells.iloc[0]
    tau = cells.loc[cells["method"] == "local_sgd", "local_steps"].max()
    comm = ("2 latencies + (largest floats down + largest floats up) · {} bytes · 8 / bandwidth"
            .format(fmt_num(c["bytes_per_float"])) if c["topology"] == "server"
            else "communication as src/istlab/run/cost_model.hpp models it")
    return (
        "{} inputs, {} hidden ReLU units; minibatches of {} per worker and local step, γ = {}, "
        "{} rounds (local_sgd: {} local steps a round); seed {}.\nModelled round time ({} "
        "topology): the slowest worker's flops / {} flop/s + {}.\nTime to {}: model_time_s at "
        "the first recorded round (every {} rounds) with test accuracy ≥ {}; the network only "
        "prices each round, so the rounds needed are the same at every bandwidth."
    ).format(fmt_num(c["dim"]), fmt_num(c["hidden"]), fmt_num(c["batch_size"]),
             fmt_num(c["step_size"]), fmt_num(cells["iterations"].max()), fmt_num(tau),
             ", ".join(fmt_num(s) for s in sorted(cells["seed"].unique())), c["topology"],
             fmt_sci(c["flops_per_second"]), comm, PCT,
             fmt_num(np.diff(np.sort(trace["iter"].unique())).min()), PCT)


def main():
    args = figure_parser(EXPERIMENT, __doc__).parse_args()
    _, (cells, trace) = load_experiment(args.results, EXPERIMENT, {
        "cells.csv": {"method", "split", "concentration", "num_workers", "dim", "hidden",
                      "batch_size", "local_steps", "step_size", "seed", "iterations",
                      "bytes_per_float", "flops_per_second", "topology"},
        "trace.csv": {"cell_key", "iter", "test_accuracy", "model_time_s", "split", "method",
                      "latency_s", "bandwidth_bits_per_s"},
    })
    splits = [s for s in SPLITS if s in set(trace["split"])]
    if not splits or trace["model_time_s"].isna().all():
        die("trace.csv has no split among {} with modelled times; is it a run of "
            "experiments/{}.yaml?".format(SPLITS, EXPERIMENT))
    times = time_to_target(trace[trace["split"].isin(splits)])
    latencies = sorted(times["latency_s"].unique())
    methods = sorted(times["method"].unique(), key=method_sort_key)
    alpha = cells.loc[cells["split"] == "dirichlet", "concentration"].dropna()
    alpha = alpha.iloc[0] if not alpha.empty else np.nan
    n = int(cells["num_workers"].max())

    apply_style(10)
    fig, axes = plt.subplots(len(splits), len(latencies), squeeze=False,
                             figsize=(6.6 * len(latencies) + 1.0, 4.6 * len(splits) + 2.6))
    for j, lat in enumerate(latencies):
        ylim = column_ylim(times[times["latency_s"] == lat])
        for i, split in enumerate(splits):
            panel = times[(times["split"] == split) & (times["latency_s"] == lat)]
            draw_panel(axes[i][j], panel, ylim, methods,
                       "{}, {}".format(split_title(split, alpha), link_name(lat)))

    fig.suptitle(suptitle(times, trace, alpha, n), fontsize=12, fontweight="bold")
    handles, labels = legend_entries(methods)
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), frameon=False,
               bbox_to_anchor=(0.5, 0.062), handlelength=2.6, columnspacing=1.6)
    fig.tight_layout(rect=(0, 0.1, 1, 0.99), h_pad=2.0, w_pad=2.5)
    write_figure(fig, args.out, footnote_text(cells, trace))
    return 0


if __name__ == "__main__":
    sys.exit(main())
