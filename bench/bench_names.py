"""The one parser of istlab's Google Benchmark names (the formats are in bench/*.cpp).

    BM_Round/<method>_<storage>/<d>/<n>/<threads>/real_time        -> "round"
    BM_Triad/elements:<elements>/threads:<threads>/real_time       -> "triad"
    BM_<Sweep|SweepCompute>/<config>/threads:<threads>/real_time   -> "sweep"
    BM_NetworkRound/<method>/<d>-<H>-<C>/n:<n>/threads:<threads>/real_time
                                         -> parse_network_name (report.py only, see below)

bench/report.py and bench/compare_numpy.py import it from their own folder (on sys.path when
they run as scripts); plots/bench_figures.py puts this folder on sys.path first. Standard
library only, so the benchmark scripts need neither matplotlib nor pandas.
"""

import re

_PATTERNS = {
    "round": re.compile(r"^BM_Round/(?P<method>[a-z]+)_(?P<storage>dense|sparse)/"
                        r"(?P<d>\d+)/(?P<n>\d+)/(?P<threads>\d+)/real_time$"),
    "triad": re.compile(r"^BM_Triad/elements:(?P<elements>\d+)/threads:(?P<threads>\d+)/real_time$"),
    "sweep": re.compile(r"^BM_(?P<benchmark>Sweep|SweepCompute)/(?P<config>\w+)/"
                        r"threads:(?P<threads>\d+)/real_time$"),
}

# Kept out of _PATTERNS: plots/bench_figures.py keeps one table per family of parse_name and
# draws no network figure, so a new family there would reach it as an unknown key.
_NETWORK = re.compile(r"^BM_NetworkRound/(?P<method>[a-z_]+)/(?P<d>\d+)-(?P<hidden>\d+)-(?P<classes>\d+)/"
                      r"n:(?P<n>\d+)/threads:(?P<threads>\d+)/real_time$")

# Google Benchmark's time_unit values in microseconds.
US_PER_UNIT = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}


def parse_name(name):
    """(family, fields) of a benchmark name, the fields in the name's order and numbers as
    int: "BM_Round/gd_dense/64/16/1/real_time" -> ("round", {"method": "gd", "storage":
    "dense", "d": 64, "n": 16, "threads": 1}). (None, {}) for other names: other families
    (BM_SketchDraw) and aggregates' names (…/real_time_median)."""
    for family, pattern in _PATTERNS.items():
        match = pattern.match(name)
        if match:
            return family, {k: int(v) if v.isdigit() else v for k, v in match.groupdict().items()}
    return None, {}


def parse_network_name(name):
    """The fields of a BM_NetworkRound name (bench/network_bench.cpp), numbers as int, or None:
    "BM_NetworkRound/ist/784-256-10/n:4/threads:1/real_time" -> {"method": "ist", "d": 784,
    "hidden": 256, "classes": 10, "n": 4, "threads": 1}."""
    match = _NETWORK.match(name)
    if not match:
        return None
    return {k: int(v) if v.isdigit() else v for k, v in match.groupdict().items()}
