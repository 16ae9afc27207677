#!/usr/bin/python3
"""Draws several figures in one Python: runs each plots/<NAME>.py as if from the command line
(`plots/NAME.py --results RESULTS --out FIGURES/NAME.png`), one after the other, so pandas and
matplotlib are imported once instead of once per figure. Each script runs in a fresh namespace
with matplotlib's settings restored afterwards and its figures closed, so it draws what it
draws on its own. scripts/reproduce.sh calls this.

Usage: /usr/bin/python3 scripts/draw_figures.py --results RESULTS --figures FIGURES NAME...
Exit status: 0 when every script succeeded, else the first failing script's status (1 for an
exception).
"""

import argparse
import os
import runpy
import sys
import traceback

PLOTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "plots")
sys.path.insert(0, PLOTS)

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def draw(name, results, figures):
    """Runs plots/<name>.py; returns its exit status."""
    script = os.path.join(PLOTS, name + ".py")
    argv = sys.argv
    sys.argv = [script, "--results", results, "--out", os.path.join(figures, name + ".png")]
    try:
        with matplotlib.rc_context():
            runpy.run_path(script, run_name="__main__")
        return 0
    except SystemExit as stop:  # the scripts end with sys.exit(main())
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0
        sys.stderr.write("{}\n".format(stop.code))
        return 1
    except Exception:  # noqa: BLE001 -- reported like an uncaught exception in its own Python
        traceback.print_exc()
        return 1
    finally:
        plt.close("all")
        sys.argv = argv


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--results", required=True)
    parser.add_argument("--figures", required=True, help="folder for NAME.png and NAME.pdf")
    parser.add_argument("names", nargs="+")
    args = parser.parse_args()
    first_failure = 0
    for i, name in enumerate(args.names):
        sys.stderr.write("[{}/{}] {}: plot -> {}/{}.png\n".format(i + 1, len(args.names), name, args.figures, name))
        sys.stderr.flush()
        status = draw(name, args.results, args.figures)
        if status != 0:
            sys.stderr.write("draw_figures.py: plots/{}.py exited with status {}\n".format(name, status))
            first_failure = first_failure or status
    return first_failure


if __name__ == "__main__":
    sys.exit(main())
