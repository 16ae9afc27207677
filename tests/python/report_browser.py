#!/usr/bin/python3
"""`istlab report` in a real browser: reports of a quadratic, a real-data and a network sweep
open from disk in headless Chromium, with no network, and each must

- draw every chart, and at least the charts its sweep calls for: the page says, in one
  console line starting "istlab-report:", how many charts plotly.js drew (made the SVG of,
  with visible marks) and how many rows its status and failure tables have;
- log nothing else to the console (no script error, no warning) and record no error;
- hold the status table (and, with failed cells, the failure reasons);
- load nothing from outside the file; its screenshot (kept in WORK/*.png) is not blank.

The real-data sweep is shown from a hostile copy (a failure reason, the description and the
config text try to inject script that would log to the console; iterates.csv is planted as a
link to /etc/passwd): it must pass every check above, carry the injected text escaped, and not
link the planted file. A control page without plotly.js must fail, so the check can fail.

Usage: report_browser.py ISTLAB QUICKSTART_FOLDER DATA_FOLDER NETWORK_FOLDER WORK
(exit 77 when chromium is not installed)
"""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys

import matplotlib.image
import numpy as np

# One Chromium per page: its screenshot, with the page's console lines on stderr.
CHROMIUM = ("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--disable-extensions", "--disable-background-networking",
            "--enable-logging=stderr", "--v=0", "--window-size=1280,2400")
MARK = re.compile(r':CONSOLE[:(]\d+\)?\] "istlab-report: (\{.*\})", source:')
PAYLOAD = "</script><img src=x onerror=console.log(document.domain)>"
failures = []


def check(name, ok, detail=""):
    print("{} {}{}".format("ok  " if ok else "FAIL", name, ": " + str(detail) if detail else ""))
    if not ok:
        failures.append(name)
    return ok


def open_in_chromium(page, screenshot, profile):
    """(the page's own report as a dict or None, every other console line)."""
    done = subprocess.run(CHROMIUM + ("--user-data-dir=" + profile, "--screenshot=" + screenshot,
                                      "file://" + os.path.abspath(page)),
                          capture_output=True, text=True, errors="replace", timeout=180)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    marks = [MARK.search(line) for line in console]
    found = [json.loads(m.group(1)) for m in marks if m]
    others = [line for line, m in zip(console, marks) if not m]
    return (found[0] if len(found) == 1 else None), others


def open_all(pages, work):
    """open_in_chromium of every page at once: each Chromium mostly waits (start-up, layout),
    so running them side by side takes about as long as the slowest."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=len(pages)) as pool:
        futures = {name: pool.submit(open_in_chromium, page, os.path.join(work, name + ".png"),
                                     os.path.join(work, "profile-" + name))
                   for name, page in pages.items()}
        return {name: future.result() for name, future in futures.items()}


def examine(name, page, work, min_charts, opened, failed_reasons=False):
    html = open(page, encoding="utf-8").read()
    external = re.findall(r'<(?:script|link|img|iframe)[^>]*(?:src|href)="(?:https?:)?//',
                          html)
    check("{}: loads nothing from the network".format(name), not external, external[:3])
    shot = os.path.join(work, name + ".png")
    mark, others = opened[name]
    check("{}: the page reported once".format(name), mark is not None, others[:3])
    mark = mark or {}
    drawn, _, total = mark.get("charts", "0/-1").partition("/")
    check("{}: every chart drawn ({} of at least {})".format(name, mark.get("charts"),
                                                               min_charts),
          drawn == total and int(drawn) >= min_charts, mark)
    check("{}: no other console line, no script error".format(name),
          not others and not mark.get("errors"), others[:3] + mark.get("errors", [])[:3])
    check("{}: status table".format(name), mark.get("status_rows", 0) >= 1, mark)
    if failed_reasons:
        check("{}: failure reasons table".format(name), mark.get("failure_rows", 0) >= 1, mark)
    ok = os.path.exists(shot) and os.path.getsize(shot) > 20000
    if ok:
        ok = float(np.std(matplotlib.image.imread(shot)[:, :, :3])) > 0.05
    check("{}: screenshot {} is not blank".format(name, os.path.basename(shot)), ok)
    return html


def report(istlab, folder, out):
    done = subprocess.run([istlab, "report", folder, "--out", out], capture_output=True,
                          text=True, timeout=120)
    check("istlab report {}: exit 0".format(os.path.basename(folder)), done.returncode == 0,
          done.stderr[-300:])
    return out


def hostile_copy(folder, work):
    """A copy of ``folder`` whose failure reasons, description and config text try to inject
    script, with iterates.csv planted as a link out of the folder."""
    copy = os.path.join(work, "hostile", os.path.basename(folder))
    shutil.copytree(folder, copy)
    cells = os.path.join(copy, "cells.csv")
    text = open(cells, encoding="utf-8").read()
    text, count = re.subn(r",failed,(.*),\"?[^,\n]*\"?\n", lambda m: ",failed,{},\"{}\"\n".format(
        m.group(1), PAYLOAD.replace('"', '""')), text)
    check("hostile copy: failure reasons replaced", count > 0, count)
    open(cells, "w", encoding="utf-8").write(text)
    manifest_path = os.path.join(copy, "manifest.json")
    manifest = json.load(open(manifest_path, encoding="utf-8"))
    manifest["description"] = PAYLOAD
    manifest["config_text"] = "</pre>" + PAYLOAD + manifest.get("config_text", "")
    json.dump(manifest, open(manifest_path, "w", encoding="utf-8"))
    os.symlink("/etc/passwd", os.path.join(copy, "iterates.csv"))
    return copy


def main():
    istlab, quickstart, data, network, work = sys.argv[1:6]
    if shutil.which(CHROMIUM[0]) is None:
        print("SKIP: no chromium (apt-get install chromium; scripts/setup.sh does)")
        return 77
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    pages = {name: report(istlab, folder, os.path.join(work, name, "report.html"))
             for name, folder in (("quadratic", quickstart), ("network", network),
                                  ("data", hostile_copy(data, work)))}
    # The control: the quadratic page without plotly.js must fail the chart check.
    control = os.path.join(work, "control.html")
    html = open(pages["quadratic"], encoding="utf-8").read()
    start = html.index("<script>")
    open(control, "w", encoding="utf-8").write(
        html[:start] + "<script>" + html[html.index("</script>", start):])
    opened = open_all(dict(pages, control=control), work)
    # quickstart: 4 facets of traces and the bias chart; network: 2 facets x 2 metrics and 2
    # split histograms; data: 2 facets (the failed regularization has no trace), the bias
    # chart and 2 split histograms.
    html = examine("quadratic", pages["quadratic"], work, 5, opened)
    check("quadratic: booleans written as in the configs", "<td>false, true</td>" in html)
    examine("network", pages["network"], work, 6, opened)
    html = examine("data", pages["data"], work, 5, opened, failed_reasons=True)
    escaped = "&lt;/script&gt;&lt;img src=x onerror=console.log(document.domain)&gt;"
    check("data: the injected text is there, escaped", html.count(escaped) >= 3 and
          PAYLOAD not in html, html.count(escaped))
    check("data: the planted link is not linked", 'href="iterates.csv"' not in html and
          'href="../hostile/split_and_failure/cells.csv"' in html)
    mark, _ = opened["control"]
    check("control without plotly.js is caught", mark is not None and
          mark["charts"].startswith("0/") and "plotly.js did not load" in mark["errors"], mark)
    print("{} checks failed: {}".format(len(failures), failures) if failures else
          "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
