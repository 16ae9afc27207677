"""`istlab report`: one self-contained HTML file of a sweep that opens from disk with no
network. plotly.js (Debian's python3-plotly ships it) is inlined once; the charts' data sits
in a JSON script element; everything taken from the results is escaped (docs/python.md)."""

import html
import json
import os
import tempfile
import urllib.parse

from .files import ResultsError, regular_file
from .report_charts import bias_chart, split_charts, trace_charts
from .results import Results, load
from .style import fmt_value, method_color, method_sort_key

LINKED_FILES = ("cells.csv", "trace.csv", "problems.csv", "timing.csv", "iterates.csv",
                "manifest.json")
# Columns that follow the swept keys (the resolved step, the problem's seed): not axes.
FOLLOWERS = ("step_size", "problem_seed")
PROVENANCE = ("experiment", "description", "command_line", "mode", "config_path", "config_hash",
              "overrides", "istlab_version", "build_tag", "git_commit", "git_dirty", "compiler",
              "flags", "libraries", "host_cpu", "threads", "started_at", "finished_at",
              "partial", "datasets")
STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:0 16px;color:#222}
h1{margin:18px 0 4px}h2{border-bottom:1px solid #ccc;padding-bottom:3px;margin-top:32px}
table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #ccc;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#f3f3f3}pre{background:#f7f7f7;padding:8px;
overflow:auto;max-height:420px}.chart{min-height:360px}.grid{display:grid;
grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:8px}.failed{color:#a00}
.note{color:#555}nav a{margin-right:14px}#methods label{margin-right:14px}
.swatch{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
"""
# Draws every chart, then marks the page: data-istlab-ready="1", data-istlab-charts
# "drawn/total" (a chart counts as drawn when plotly.js made its SVG and it has visible marks)
# and data-istlab-errors, and says the same in one console line starting "istlab-report:", so
# a headless browser can tell a blank chart from a drawn one without dumping the page.
SCRIPT = """
(function () {
  var body = document.body, errors = [], charts = [];
  function rows(id) { var t = document.getElementById(id); return t ? t.rows.length - 1 : -1; }
  function finish(drawn) {
    body.setAttribute('data-istlab-charts', drawn + '/' + charts.length);
    if (errors.length) body.setAttribute('data-istlab-errors', errors.join(' | '));
    body.setAttribute('data-istlab-ready', '1');
    console.log('istlab-report: ' + JSON.stringify({charts: drawn + '/' + charts.length,
      status_rows: rows('status-table'), failure_rows: rows('failures'), errors: errors}));
  }
  window.addEventListener('error', function (e) { errors.push(String(e.message)); });
  charts = JSON.parse(document.getElementById('istlab-charts').textContent);
  if (typeof Plotly === 'undefined') { errors.push('plotly.js did not load'); finish(0); return; }
  var drawing = charts.map(function (chart, i) {
    var div = document.getElementById('chart-' + i);
    return Plotly.newPlot(div, chart.data, chart.layout, {displaylogo: false, responsive: true});
  });
  Promise.all(drawing).then(function (divs) {
    finish(divs.filter(function (div) {
      return div.querySelector('.main-svg') && div.querySelectorAll('.scatterlayer .trace path, .barlayer .trace path, .scatterlayer .point').length > 0;
    }).length);
  }).catch(function (e) { errors.push(String(e)); finish(0); });
  // The methods toggle: shows or hides a method's lines in every chart at once.
  document.querySelectorAll('#methods input').forEach(function (box) {
    box.addEventListener('change', function () {
      charts.forEach(function (chart, i) {
        var indices = [];
        chart.data.forEach(function (trace, j) { if (trace.meta === box.value) indices.push(j); });
        if (indices.length) Plotly.restyle('chart-' + i, {visible: box.checked ? true : 'legendonly'}, indices);
      });
    });
  });
})();
"""


def write_report(results, out=None):
    """Writes the report of ``results`` (a Results or an experiment folder) to ``out``
    (default: report.html in the experiment's folder) and returns its path. The file is
    written to a temporary name and renamed, so a link planted at ``out`` is replaced, not
    written through."""
    import plotly.offline  # Debian's python3-plotly: its plotly.min.js, inlined below

    if not isinstance(results, Results):
        results = load(results)
    if len(results.experiments) != 1:
        raise ResultsError("istlab report: give one experiment folder, got {}".format(
            ", ".join(results.experiments)))
    folder = results.folders[results.experiments[0]]
    out = os.path.abspath(out or os.path.join(folder, "report.html"))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    page = render(results, folder, os.path.dirname(out), plotly.offline.get_plotlyjs())
    handle, temporary = tempfile.mkstemp(prefix=".report.", suffix=".tmp",
                                         dir=os.path.dirname(out))
    with os.fdopen(handle, "w", encoding="utf-8") as stream:
        stream.write(page)
    os.chmod(temporary, 0o644)
    os.replace(temporary, out)
    return out


def e(value):
    return html.escape(str(value), quote=True)


def render(results, folder, out_folder, plotly_js):
    manifest = results.manifest
    charts, notes = trace_charts(results)
    bias = bias_chart(results)
    splits, split_notes = split_charts(results)
    all_charts = charts + ([bias] if bias else []) + splits
    numbered = iter(range(len(all_charts)))
    sections = [
        status_section(results),
        chart_section("traces", "Traces", charts, numbered, notes, methods_toggle(results)),
        chart_section("bias", "Settled level against IST's predicted bias", [bias] if bias
                      else [], numbered, [] if bias else ["No IST cell here carries a "
                                                          "predicted bias."]),
        chart_section("splits", "How the data is split among workers", splits, numbered,
                      split_notes or ([] if splits else ["Not a data problem: problems.csv "
                                                         "has no label counts."])),
        config_section(results),
        files_section(folder, out_folder),
    ]
    experiment = manifest.get("experiment", "")
    return "".join([
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width\">",
        "<title>istlab report: {}</title><style>{}</style>".format(e(experiment), STYLE),
        "<script>{}</script></head>\n<body data-istlab-ready=\"0\">".format(plotly_js),
        "<h1>istlab report: {}</h1><p>{}</p>".format(e(experiment),
                                                     e(manifest.get("description", ""))),
        "<p>{} cells: {}. Written from <code>{}</code>.</p>".format(
            len(results.cells), e(status_counts_text(results.cells)), e(folder)),
        "<nav>", "".join("<a href=\"#{}\">{}</a>".format(a, t) for a, t in (
            ("status", "Cells by status"), ("traces", "Traces"), ("bias", "Settled vs bias"),
            ("splits", "Splits"), ("config", "What ran"), ("files", "Files"))), "</nav>",
        "".join(sections),
        "<script type=\"application/json\" id=\"istlab-charts\">{}</script>".format(
            script_json([{"data": c["data"], "layout": c["layout"]} for c in all_charts])),
        "<script>{}</script></body></html>\n".format(SCRIPT),
    ])


def script_json(value):
    """JSON that cannot end its <script> element: <, > and & written as \\u escapes."""
    text = json.dumps(value, allow_nan=False, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


def status_counts_text(cells):
    return ", ".join("{} {}".format(n, s) for s, n in cells["status"].value_counts().items())


def status_section(results):
    cells = results.cells
    rows = "".join("<tr><td>{}</td><td>{}</td></tr>".format(e(s), n)
                   for s, n in cells["status"].value_counts().items())
    parts = ["<section id=\"status\"><h2>Cells by status</h2>",
             "<table id=\"status-table\"><tr><th>status</th><th>cells</th></tr>{}</table>"
             .format(rows)]
    failed = cells[cells["error"] != ""] if "error" in cells else cells.iloc[0:0]
    if len(failed):
        keys = [k for k in results.axes() if k not in FOLLOWERS]
        parts.append("<h3>Failure reasons</h3><table id=\"failures\"><tr><th>reason</th>"
                     "<th>status</th><th>cells</th><th>one of them</th></tr>")
        for reason, group in failed.groupby("error", sort=False):
            first = group.iloc[0]
            example = ", ".join("{} = {}".format(k, first[k]) for k in keys)
            parts.append("<tr class=\"failed\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"
                         .format(e(reason), e(", ".join(sorted(group["status"].unique()))),
                                 len(group), e(example)))
        parts.append("</table>")
    else:
        parts.append("<p class=\"note\">No cell failed.</p>")
    return "".join(parts) + "</section>"


def methods_toggle(results):
    methods = sorted(results.trace["method"].unique(), key=method_sort_key)
    boxes = "".join(
        "<label><input type=\"checkbox\" value=\"{0}\" checked><span class=\"swatch\" "
        "style=\"background:{1}\"></span>{0}</label>".format(e(m), e(method_color(m)))
        for m in methods)
    return "<p id=\"methods\">Methods (in every chart): {}</p>".format(boxes)


def chart_section(anchor, title, charts, numbered, notes, before=""):
    divs = "".join("<div class=\"chart\" id=\"chart-{}\"></div>".format(next(numbered))
                   for _ in charts)
    return "<section id=\"{}\"><h2>{}</h2>{}{}<div class=\"grid\">{}</div></section>".format(
        anchor, title, before if charts else "",
        "".join("<p class=\"note\">{}</p>".format(n) for n in notes), divs)


def config_section(results):
    manifest = results.manifest
    axes = "".join("<tr><td>{}</td><td>{}</td></tr>".format(
        e(k), e(", ".join(fmt_value(v) for v in values))) for k, values in results.axes().items()
        if k not in FOLLOWERS)
    provenance = "".join("<tr><td>{}</td><td>{}</td></tr>".format(
        e(k), e(json.dumps(manifest[k]) if isinstance(manifest[k], (dict, list))
                else manifest[k])) for k in PROVENANCE if k in manifest)
    return ("<section id=\"config\"><h2>What ran</h2><h3>Axes</h3><table id=\"axes\">"
            "<tr><th>key</th><th>values</th></tr>{}</table><h3>The config</h3><pre>{}</pre>"
            "<h3>Provenance (manifest.json)</h3><table id=\"provenance\">{}</table></section>"
            ).format(axes, e(manifest.get("config_text", "")), provenance)


def files_section(folder, out_folder):
    """Links to the result files that are regular files in the folder (never a planted link)."""
    items = []
    for name in LINKED_FILES:
        path = regular_file(folder, name)
        if path:
            href = urllib.parse.quote(os.path.relpath(path, out_folder))
            items.append("<li><a href=\"{}\">{}</a> ({:,} bytes)</li>".format(
                e(href), e(name), os.path.getsize(path)))
    return "<section id=\"files\"><h2>Files</h2><ul>{}</ul></section>".format("".join(items))
