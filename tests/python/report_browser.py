#!/usr/bin/python3
"""`istlab report` in a real browser: reports of a quadratic, a real-data and a network sweep
open from disk in headless Chromium, with no network, and each must

- draw every chart (the page marks data-istlab-charts="drawn/total" once plotly.js has made
  each chart's SVG with visible marks) and at least the charts its sweep calls for;
- log nothing to the console and record no script error;
- hold the status table (and, with failed cells, the failure reasons);
- load nothing from outside the file.

The real-data sweep is shown from a hostile copy (a failure reason, the description and the
config text try to inject script; iterates.csv is planted as a link to /etc/passwd): it must
pass every check above, show the injected text as text, run none of it and not link the
planted file. A control page without plotly.js must
be reported as broken, so the check itself can fail. Screenshots stay in WORK/*.png.

Usage: report_browser.py ISTLAB QUICKSTART_FOLDER DATA_FOLDER NETWORK_FOLDER WORK
"""

import json
import os
import re
import shutil
import subprocess
import sys

import matplotlib.image
import numpy as np

CHROMIUM = ("chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
            "--no-first-run", "--disable-extensions", "--disable-background-networking",
            "--enable-logging=stderr", "--v=0", "--window-size=1280,2400")
PAYLOAD = "</script><img src=x onerror=document.body.dataset.pwned=1>"
failures = []


def check(name, ok, detail=""):
    print("{} {}{}".format("ok  " if ok else "FAIL", name, ": " + str(detail) if detail else ""))
    if not ok:
        failures.append(name)
    return ok


def open_in_chromium(page, screenshot, profile):
    """(DOM after the scripts ran, the console lines Chromium logged)."""
    done = subprocess.run(CHROMIUM + ("--user-data-dir=" + profile,
                                      "--screenshot=" + screenshot, "--dump-dom",
                                      "file://" + os.path.abspath(page)),
                          capture_output=True, text=True, errors="replace", timeout=180)
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return done.stdout, console


def body_attributes(dom):
    body = re.search(r"<body([^>]*)>", dom)
    return dict(re.findall(r'([\w-]+)="([^"]*)"', body.group(1))) if body else {}


def examine(name, page, work, min_charts, failed_reasons=False):
    """Every check on one report; returns the DOM."""
    html = open(page, encoding="utf-8").read()
    external = re.findall(r'<(?:script|link|img|iframe)[^>]*(?:src|href)="(?:https?:)?//',
                          html)
    check("{}: loads nothing from the network".format(name), not external, external[:3])
    shot = os.path.join(work, name + ".png")
    dom, console = open_in_chromium(page, shot, os.path.join(work, "profile-" + name))
    body = body_attributes(dom)
    drawn, _, total = body.get("data-istlab-charts", "0/-1").partition("/")
    check("{}: every chart drawn ({} of at least {})".format(name, body.get(
        "data-istlab-charts"), min_charts), body.get("data-istlab-ready") == "1" and
          drawn == total and int(drawn) >= min_charts, body)
    check("{}: no console message or script error".format(name), not console and
          "data-istlab-errors" not in body, (console + [body.get("data-istlab-errors", "")])[:3])
    check("{}: status table".format(name), re.search(
        r'<table id="status-table">.*?<td>\w+</td><td>\d+</td>', dom) is not None)
    if failed_reasons:
        check("{}: failure reasons table".format(name), '<table id="failures">' in dom)
    ok = os.path.exists(shot) and os.path.getsize(shot) > 20000
    if ok:
        pixels = matplotlib.image.imread(shot)
        ok = float(np.std(pixels[:, :, :3])) > 0.05
    check("{}: screenshot {} is not blank".format(name, os.path.basename(shot)), ok)
    return dom


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
    shutil.rmtree(os.path.dirname(copy), ignore_errors=True)
    shutil.copytree(folder, copy)
    cells = os.path.join(copy, "cells.csv")
    text = open(cells, encoding="utf-8").read()
    text = re.sub(r",failed,(.*),\"?[^,\n]*\"?\n", lambda m: ",failed,{},\"{}\"\n".format(
        m.group(1), PAYLOAD.replace('"', '""')), text)
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
    # The real-data report is of a hostile copy: every check of a report holds on it too.
    pages = {name: report(istlab, folder, os.path.join(work, name, "report.html"))
             for name, folder in (("quadratic", quickstart), ("network", network),
                                  ("data", hostile_copy(data, work)))}
    # quickstart: 4 facets of traces and the bias chart; network: 2 facets x 2 metrics and 2
    # split histograms; data: 2 facets (the failed regularization has no trace), the bias
    # chart and 2 split histograms.
    examine("quadratic", pages["quadratic"], work, 5)
    examine("network", pages["network"], work, 6)
    dom = examine("data", pages["data"], work, 5, failed_reasons=True)
    check("data: the injected text is shown, not run", "pwned" not in body_attributes(dom)
          and "&lt;/script&gt;&lt;img src=x" in dom)
    check("data: the planted link is not linked", "iterates.csv" not in re.sub(
        r"<script.*?</script>", "", dom, flags=re.S) and "cells.csv" in dom)

    # The control: the same page without plotly.js must fail the chart check.
    control = os.path.join(work, "control.html")
    html = open(pages["quadratic"], encoding="utf-8").read()
    start = html.index("<script>")
    end = html.index("</script>", start)
    open(control, "w", encoding="utf-8").write(html[:start] + "<script>" + html[end:])
    dom, _ = open_in_chromium(control, os.path.join(work, "control.png"),
                              os.path.join(work, "profile-control"))
    body = body_attributes(dom)
    check("control without plotly.js is caught", "data-istlab-charts" not in body and
          "plotly.js did not load" in body.get("data-istlab-errors", ""), body)
    print("{} checks failed: {}".format(len(failures), failures) if failures else
          "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
