"""One colour per method, the same in every figure and report (Okabe-Ito, colour-blind safe),
and the order methods are listed in."""

import numpy as np

METHOD_COLORS = {
    "gd": "#0072B2",         # blue
    "dcgd": "#009E73",       # bluish green
    "ist": "#D55E00",        # vermillion
    "local_sgd": "#CC79A7",  # reddish purple
}
METHOD_ORDER = ["gd", "dcgd", "ist", "local_sgd"]
_FALLBACK_COLORS = ["#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]
# Colours for a hue that is not the method (any swept key), in order of its values.
HUE_CYCLE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
             "#F0E442"]


def method_color(method):
    """Colour for a method name; unknown methods get stable fallback colours."""
    if method in METHOD_COLORS:
        return METHOD_COLORS[method]
    return _FALLBACK_COLORS[sum(map(ord, str(method))) % len(_FALLBACK_COLORS)]


def method_sort_key(method):
    return (METHOD_ORDER.index(method) if method in METHOD_ORDER else len(METHOD_ORDER),
            str(method))


def fmt_value(value):
    """A parameter value for a label: 0.5 -> '0.5', 1e-05 -> '1e-05', True -> 'true' (as in
    the CSV files and configs)."""
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (float, np.floating)):
        return "{:g}".format(value)
    return str(value)
