"""`python3 -m istlab plot|report ...`: what `istlab plot` and `istlab report` run (the
executable starts Debian's /usr/bin/python3 on this package). Exit codes as the executable's:
0 done, 2 bad usage or results that cannot be read."""

import argparse
import sys

BAD_INPUT = 2
NEEDS = {
    "plot": ("numpy", "pandas", "matplotlib"),
    "report": ("numpy", "pandas", "plotly"),
}
DEBIAN_PACKAGE = {"numpy": "python3-numpy", "pandas": "python3-pandas",
                  "matplotlib": "python3-matplotlib", "plotly": "python3-plotly"}


def parser():
    main = argparse.ArgumentParser(prog="istlab", description="plots and reports of sweeps")
    commands = main.add_subparsers(dest="command", required=True)
    plot = commands.add_parser(
        "plot", help="the generic figure of a sweep",
        description="A metric of trace.csv against rounds, floats or time: one colour per "
                    "--hue value, a panel per --row and --col value, the geometric mean over "
                    "seeds with a min-max band, IST's predicted bias dashed (on rel_err).")
    plot.add_argument("results", nargs="+", help="experiment folders (results/NAME), or "
                                                 "folders of them")
    plot.add_argument("-o", "--out", help="the figure: .png, .pdf or .svg (default: "
                                          "<experiment>_<y>.png in the current folder)")
    plot.add_argument("--y", help="the metric (default: rel_err, else train_loss, "
                                  "test_accuracy, grad_norm2)")
    plot.add_argument("--x", default="iter", help="iter (default), floats (up + down per "
                      "worker), floats_up, floats_down, flops, model_time_s or wall_s")
    plot.add_argument("--hue", default="method", help="a key: one colour per value "
                                                      "(default: method; 'none' for one)")
    plot.add_argument("--col", help="a key: one panel column per value")
    plot.add_argument("--row", help="a key: one panel row per value")
    scale = plot.add_mutually_exclusive_group()
    scale.add_argument("--logy", dest="logy", action="store_true", default=None,
                       help="log y axis (default: log when the values are positive and span "
                            "more than two decades)")
    scale.add_argument("--linear-y", dest="logy", action="store_false", help="linear y axis")
    xscale = plot.add_mutually_exclusive_group()
    xscale.add_argument("--logx", dest="logx", action="store_true", default=None,
                        help="log x axis (default: log for floats, flops and times spanning "
                             "more than two decades, never for iter)")
    xscale.add_argument("--linear-x", dest="logx", action="store_false", help="linear x axis")

    report = commands.add_parser(
        "report", help="a self-contained HTML report of a sweep",
        description="One HTML file that opens from disk with no network: the config, axes and "
                    "provenance, cells by status with each failure reason, interactive traces "
                    "per facet, settled levels against IST's predicted bias, per-worker splits "
                    "and links to the CSV files.")
    report.add_argument("results", help="an experiment folder (results/NAME)")
    report.add_argument("-o", "--out", help="the HTML file (default: RESULTS/report.html)")
    return main


def missing_modules(command):
    missing = []
    for module in NEEDS[command]:
        try:
            __import__(module)
        except ImportError:
            missing.append(module)
    return missing


def main(argv=None):
    args = parser().parse_args(argv)
    missing = missing_modules(args.command)
    if missing:
        sys.stderr.write("istlab {}: {} lacks {}; install {} (scripts/setup.sh does)\n".format(
            args.command, sys.executable, ", ".join(missing),
            " ".join(DEBIAN_PACKAGE[m] for m in missing)))
        return BAD_INPUT
    from .files import ResultsError
    try:
        if args.command == "plot":
            return run_plot(args)
        from .report import write_report
        print("wrote {}".format(write_report(args.results, args.out)))
        return 0
    except ResultsError as error:
        sys.stderr.write("istlab {}: {}\n".format(args.command, error))
        return BAD_INPUT


def run_plot(args):
    from .plot_figure import plot_to_file
    from .results import load
    results = load(args.results)
    out = args.out or "{}_{}.png".format("_".join(results.experiments), args.y or "plot")
    print(plot_to_file(results, out, x=args.x, y=args.y,
                       hue=None if args.hue == "none" else args.hue, col=args.col,
                       row=args.row, logx=args.logx, logy=args.logy))
    return 0


if __name__ == "__main__":
    sys.exit(main())
