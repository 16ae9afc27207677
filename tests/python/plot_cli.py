#!/usr/bin/python3
"""`istlab plot` end to end: on the quickstart sweep (panels by heterogeneity and
interpolation, rel_err in log scale, IST's predicted bias dashed) and on a network sweep
(test accuracy against floats, a panel per split), the figure's panel titles, axis labels and
legend (read from the SVG, whose text stays text) and the summary line match the flags; a
mistyped key exits 2 naming the key meant.

Usage: plot_cli.py ISTLAB QUICKSTART_FOLDER NETWORK_FOLDER WORK
"""

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

failures = []


def check(name, ok, detail=""):
    print("{} {}{}".format("ok  " if ok else "FAIL", name, ": " + str(detail) if detail else ""))
    if not ok:
        failures.append(name)


def run(istlab, *args):
    done = subprocess.run([istlab, "plot", *args], capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout.strip(), done.stderr.strip()


def svg_texts(path):
    """Every piece of text in the SVG (matplotlib writes one <text> per label with
    svg.fonttype none)."""
    tree = ET.parse(path)
    return {"".join(node.itertext()).strip() for node in tree.iter()
            if node.tag.endswith("}text")}


def figure(istlab, name, args, out, summary_parts, texts, absent=()):
    code, stdout, stderr = run(istlab, *args, "--out", out)
    check("{}: exit 0 and wrote {}".format(name, os.path.basename(out)),
          code == 0 and os.path.getsize(out) > 10000 if os.path.exists(out) else False,
          stderr[-300:])
    if code != 0:
        return
    check("{}: summary names the flags".format(name),
          all(part in stdout for part in summary_parts), stdout)
    found = svg_texts(out)
    missing = [t for t in texts if t not in found]
    check("{}: titles, axis labels and legend".format(name), not missing,
          "missing {} among {}".format(missing, sorted(found)[:40]))
    present = [t for t in absent if any(t in f for f in found)]
    check("{}: nothing that does not belong".format(name), not present, present)


def main():
    istlab, quickstart, network, work = sys.argv[1:5]
    os.makedirs(work, exist_ok=True)
    figure(istlab, "quickstart", [quickstart, "--row", "heterogeneity", "--col",
                                  "interpolation"], os.path.join(work, "quickstart.svg"),
           ["2x2 panels (rows: heterogeneity, columns: interpolation)", "x iter (linear)",
            "y rel_err (log)", "hue method: gd, dcgd, ist"],
           ["heterogeneity = 0, interpolation = false", "heterogeneity = 0.5, interpolation = "
            "true", "round k", "gd", "dcgd", "ist", "relative_step = 0.5", "relative_step = 1",
            "min–max over seeds", "IST predicted bias (ist_relative_bias)"])
    figure(istlab, "network", [network, "--y", "test_accuracy", "--x", "floats", "--col",
                               "split"], os.path.join(work, "network.svg"),
           ["1x2 panels (one row, columns: split)", "x floats", "y test_accuracy (linear)",
            "hue method: gd, ist"],
           ["split = dirichlet", "split = iid", "floats per worker, up + down (cumulative)",
            "test_accuracy", "gd", "ist", "min–max over seeds"],
           absent=["IST predicted bias", "concentration = "])
    code, _, stderr = run(istlab, network, "--col", "splt", "--out", os.path.join(work, "x.png"))
    check("a mistyped key exits 2 naming the one meant", code == 2 and
          re.search(r"--col splt: .*did you mean split", stderr) is not None, stderr)
    code, stdout, _ = run(istlab, "--help")
    check("istlab plot --help is the package's", code == 0 and "--hue" in stdout and
          "--row" in stdout, stdout[:200])
    print("{} checks failed: {}".format(len(failures), failures) if failures else
          "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
