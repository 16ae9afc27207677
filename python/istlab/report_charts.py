"""The charts of a report as plain plotly.js figure dicts ({"data": [...], "layout": {...}}):
traces per facet, settled levels against IST's predicted bias, per-worker splits. Every text
taken from the results is HTML-escaped here, since plotly.js renders a few tags in labels."""

import html

import numpy as np
import pandas as pd

from .measures import DISPLAY_FLOOR, aggregate_over_seeds, geomean, settled_level
from .style import HUE_CYCLE, fmt_value, method_color, method_sort_key

TRACE_METRICS = ("rel_err", "train_loss", "test_accuracy")
MAX_FACETS = 16     # trace facets drawn; `istlab plot --row/--col` draws any
MAX_PROBLEMS = 12   # split histograms drawn
LEGEND_BELOW = {"orientation": "h", "y": -0.22, "yanchor": "top", "font": {"size": 11}}
TITLE_FONT = {"size": 13}
TITLE_LEFT = {"x": 0.01, "xanchor": "left"}  # (plotly.js's tool bar sits on the right)
NOT_PROBLEM_KEYS = ("experiment", "problem_id", "problem_seed", "seed", "worker", "samples",
                    "label_counts", "grad_norm2_at_optimum")


def text(value):
    return html.escape(fmt_value(value), quote=True)


def describe(keys, values):
    return "<br>".join("{} = {}".format(text(k), text(v)) for k, v in zip(keys, values))


def facet_keys(results):
    """The swept problem parameters (columns of problems.csv) that tell problems apart, less
    those that follow the others (a split's concentration): one facet per combination."""
    problem_columns = set(results.problems.columns) - set(NOT_PROBLEM_KEYS)
    return _splitting(results.cells, [k for k in results.axes() if k in problem_columns], [])


def line_keys(results, facets):
    """The other swept keys that tell lines apart within a facet (method first; a method's
    sketch follows it), but not seeds or the resolved step."""
    keys = [k for k in results.axes()
            if k not in facets and k not in ("seed", "problem_seed", "step_size", "experiment")]
    keys.sort(key=lambda k: k != "method")
    return _splitting(results.cells, keys, facets)


def groups_of(frame, keys):
    """[(values of ``keys`` as a tuple, rows)] of the combinations present, in sorted order."""
    if not keys:
        return [((), frame)] if len(frame) else []
    groups = frame.groupby(keys[0] if len(keys) == 1 else keys, sort=True, observed=True)
    return [(k if isinstance(k, tuple) else (k,), g) for k, g in groups if len(g)]


def _splitting(cells, keys, given):
    """The keys, in order, that split the groups of ``given`` and the keys kept before them."""
    kept = []
    for key in keys:
        groups = cells.groupby(given + kept, observed=True)[key].nunique() if given + kept \
            else pd.Series([cells[key].nunique()])
        if groups.max() > 1:
            kept.append(key)
    return kept


def trace_charts(results):
    """One chart per (facet, metric): per line the geometric mean over seeds (hover names the
    line's parameters), IST's predicted bias dashed on rel_err. Returns (charts, notes)."""
    trace, cells = results.trace, results.cells
    facets = facet_keys(results)
    lines = line_keys(results, facets)
    metrics = [m for m in TRACE_METRICS if m in trace and np.isfinite(trace[m]).any()]
    groups = groups_of(trace, facets)
    notes = []
    if len(groups) > MAX_FACETS:
        notes.append("{} facets; the first {} are drawn (istlab plot --row/--col draws any)."
                     .format(len(groups), MAX_FACETS))
    charts = []
    for facet_value, panel in groups[:MAX_FACETS]:
        title = ", ".join("{} = {}".format(text(k), text(v)) for k, v in zip(facets, facet_value))
        for metric in metrics:
            charts.append(_trace_chart(panel, cells, lines, metric, title or "all cells"))
    return charts, notes


def _trace_chart(panel, cells, lines, metric, title):
    log = metric != "test_accuracy"
    data = []
    ordered = groups_of(panel, lines)
    ordered.sort(key=lambda kv: method_sort_key(kv[1]["method"].iloc[0]))
    per_method = {}  # a method's lines: solid, then dotted, ... (the colour is the method's)
    for i, (values, curve) in enumerate(ordered):
        curve = curve[np.isfinite(curve[metric])]
        if curve.empty:
            continue
        method = str(curve["method"].iloc[0])
        per_method[method] = per_method.get(method, -1) + 1
        color = method_color(method) if "method" in curve else HUE_CYCLE[i % len(HUE_CYCLE)]
        agg = aggregate_over_seeds(curve, x="iter", y=metric, log=log)
        seeds = ", ".join(fmt_value(s) for s in sorted(curve["seed"].unique()))
        name = describe(lines, values) or text(method)
        data.append({
            "type": "scatter", "mode": "lines", "x": agg["x"].tolist(),
            "y": _finite(agg["center"]), "name": name.replace("<br>", ", "),
            "legendgroup": method, "meta": method, "line": {"color": color, "width": 1.6,
                                                              "dash": _dash(per_method[method])},
            "hovertemplate": "{}<br>seeds {}<br>round %{{x}}<br>{} %{{y:.3g}}<extra></extra>"
            .format(name, text(seeds), text(metric))})
        bias = _bias(cells, curve) if metric == "rel_err" else np.nan
        if np.isfinite(bias):
            data.append({
                "type": "scatter", "mode": "lines", "x": [agg["x"].min(), agg["x"].max()],
                "y": [max(bias, DISPLAY_FLOOR)] * 2, "legendgroup": method, "meta": method,
                "name": "predicted bias: " + name.replace("<br>", ", "), "showlegend": False,
                "line": {"color": color, "width": 1.2, "dash": "dash"},
                "hovertemplate": "IST predicted bias {:.3g}<br>{}<extra></extra>".format(
                    bias, name)})
    layout = {"title": {"text": "{}: {}".format(title, text(metric)), "font": TITLE_FONT, **TITLE_LEFT},
              "xaxis": {"title": {"text": "round k"}},
              "yaxis": {"title": {"text": text(metric)}, "type": "log" if log else "linear"},
              "legend": LEGEND_BELOW, "height": 460,
              "margin": {"t": 40, "r": 10, "b": 40, "l": 70}}
    return {"data": data, "layout": layout, "kind": "trace"}


def _dash(index):
    return ["solid", "dot", "dashdot", "longdash"][index % 4]


def _finite(values):
    return [float(v) if np.isfinite(v) else None for v in values]


def _bias(cells, curve):
    keys = curve[["experiment", "cell_key"]].drop_duplicates()
    mine = cells.merge(keys, on=["experiment", "cell_key"])
    if "ist_relative_bias" not in mine or not (mine["method"] == "ist").all():
        return np.nan
    return geomean(mine["ist_relative_bias"])


def bias_chart(results):
    """Each IST cell's settled rel_err (the tail's geometric mean) against its predicted bias,
    on log axes with the line y = x; None when no cell carries both."""
    cells, trace = results.cells, results.trace
    if "ist_relative_bias" not in cells or "rel_err" not in trace:
        return None
    ist = cells[(cells["method"] == "ist") & np.isfinite(cells["ist_relative_bias"])
                & (cells["ist_relative_bias"] > 0)]
    ist_trace = trace[trace["cell_key"].isin(ist["cell_key"]) & np.isfinite(trace["rel_err"])]
    if ist.empty or ist_trace.empty:
        return None
    level = settled_level(ist_trace).rename("settled")
    ist = ist.join(level, on="cell_key").dropna(subset=["settled"])
    facets = facet_keys(results)
    keys = [k for k in results.axes() if k not in ("experiment", "problem_seed", "step_size")]
    data = []
    for i, (value, group) in enumerate(groups_of(ist, facets)):
        hover = [describe(keys, [row[k] for k in keys]) for _, row in group.iterrows()]
        data.append({
            "type": "scatter", "mode": "markers", "x": group["ist_relative_bias"].tolist(),
            "y": group["settled"].tolist(), "text": hover,
            "name": ", ".join("{} = {}".format(text(k), text(v)) for k, v in zip(facets, value))
            or "ist", "marker": {"size": 8, "color": HUE_CYCLE[i % len(HUE_CYCLE)]},
            "hovertemplate": "%{text}<br>predicted %{x:.3g}<br>settled %{y:.3g}<extra></extra>"})
    lo = float(min(ist["ist_relative_bias"].min(), ist["settled"].min())) / 2
    hi = float(max(ist["ist_relative_bias"].max(), ist["settled"].max())) * 2
    data.append({"type": "scatter", "mode": "lines", "x": [lo, hi], "y": [lo, hi],
                 "name": "settled = predicted", "hoverinfo": "skip",
                 "line": {"color": "#555", "dash": "dash", "width": 1}})
    layout = {"title": {"text": "IST: settled rel_err against its predicted bias",
                        "font": TITLE_FONT, **TITLE_LEFT},
              "xaxis": {"type": "log", "title": {"text": "predicted bias (ist_relative_bias)"}},
              "yaxis": {"type": "log", "title": {
                  "text": "settled rel_err (geometric mean of the last quarter)"}},
              "legend": LEGEND_BELOW, "height": 520,
              "margin": {"t": 40, "r": 10, "b": 40, "l": 80}}
    return {"data": data, "layout": layout, "kind": "bias"}


def split_charts(results):
    """Per distinct problem of the first seed (up to MAX_PROBLEMS): samples per worker, one
    stacked bar per label, from problems.csv's label_counts. Returns (charts, notes)."""
    problems = results.problems
    if problems.empty or "label_counts" not in problems or \
            not (problems["label_counts"] != "").any():
        return [], []
    first_seed = sorted(problems["problem_seed"].unique())[0]
    problems = problems[problems["problem_seed"] == first_seed]
    keys = [k for k in facet_keys(results) if k in problems]
    groups = list(problems.groupby("problem_id", sort=False))
    notes = ["{} problems; the first {} are drawn.".format(len(groups), MAX_PROBLEMS)] \
        if len(groups) > MAX_PROBLEMS else []
    charts = []
    for _, workers in groups[:MAX_PROBLEMS]:
        counts = pd.DataFrame([_label_counts(c) for c in workers["label_counts"]],
                              index=workers["worker"]).fillna(0)
        counts = counts[sorted(counts.columns, key=_label_order)]
        data = [{"type": "bar", "x": [int(w) for w in counts.index], "y": counts[label].tolist(),
                 "name": "label " + text(label), "marker": {"color": HUE_CYCLE[i % len(HUE_CYCLE)]},
                 "hovertemplate": "worker %{x}<br>label " + text(label) +
                 ": %{y} samples<extra></extra>"} for i, label in enumerate(counts.columns)]
        first = workers.iloc[0]
        title = ", ".join("{} = {}".format(text(k), text(first[k])) for k in keys) or "the split"
        layout = {"barmode": "stack", "title": {"text": "{} (problem seed {})".format(
            title, text(first_seed)), "font": TITLE_FONT, **TITLE_LEFT}, "xaxis": {"title": {"text": "worker"}, "dtick": 1},
                  "yaxis": {"title": {"text": "samples"}}, "height": 360,
                  "margin": {"t": 50, "r": 10, "b": 50, "l": 60}}
        charts.append({"data": data, "layout": layout, "kind": "split"})
    return charts, notes


def _label_counts(field):
    pairs = (item.rsplit(":", 1) for item in str(field).split() if ":" in item)
    return {label: float(count) for label, count in pairs}


def _label_order(label):
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)
