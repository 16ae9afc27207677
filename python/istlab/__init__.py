"""istlab's Python side: load a sweep's results, measure them, plot and report them, and run
sweeps from a notebook. Needs Debian's python3-numpy, python3-pandas and python3-matplotlib
(python3-plotly for reports); docs/python.md documents every function.

    import istlab
    results = istlab.load("results/quickstart")
    results.cells.groupby(["method", "relative_step"]).rel_err.median()
"""

from .files import ResultsError
from .measures import (DISPLAY_FLOOR, aggregate_over_seeds, clip_for_log, first_reaching,
                       geomean, settled_level)
from .results import NOT_APPLICABLE, Results, load
from .runner import SweepError, find_binary, sweep
from .style import method_color, method_sort_key

__all__ = [
    "DISPLAY_FLOOR", "NOT_APPLICABLE", "Results", "ResultsError", "SweepError",
    "aggregate_over_seeds", "clip_for_log", "find_binary", "first_reaching", "geomean", "load",
    "method_color", "method_sort_key", "settled_level", "sweep", "plot", "report",
]


def plot(results, out, **options):
    """Draws the generic figure of ``results`` (a Results or a folder) into ``out`` (.png, .pdf
    or .svg) and returns a one-line summary; ``options`` as `istlab plot`'s flags
    (x, y, hue, col, row, logx, logy). See istlab.plot_figure.draw."""
    from .plot_figure import plot_to_file
    return plot_to_file(results, out, **options)


def report(results, out=None):
    """Writes the self-contained HTML report of ``results`` (a Results or a folder) to ``out``
    (default: report.html in the experiment's folder) and returns its path."""
    from .report import write_report
    return write_report(results, out)
