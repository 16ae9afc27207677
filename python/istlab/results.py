"""istlab.load: a sweep's CSV files and manifest as typed pandas DataFrames.

Typing rules (docs/python.md):

- A parameter column (cells.csv's columns before ``status``) whose empty fields mean "does
  not apply here" (concentration on an iid split, relative_step for an absolute step) holds
  NOT_APPLICABLE ("n/a") there, never NaN, so groupby and pivot_table keep those rows. A
  numeric one becomes an ordered Categorical: its numbers, sorted, then "n/a".
- Every other parameter is int64, float64, bool or str, as its values are.
- Outcome columns are float64 (NaN: no value, e.g. rel_err of a failed cell), bool-like
  theory columns pandas' nullable "boolean", text columns str ("" when empty).
- cell_key and problem_id stay hex strings.
"""

import io
import json
import os

import numpy as np
import pandas as pd

from .files import MAX_MANIFEST_BYTES, ResultsError, open_inside
from .style import method_sort_key

NOT_APPLICABLE = "n/a"
CSV_FILES = ("cells.csv", "trace.csv", "problems.csv", "timing.csv")
ID_COLUMNS = ("cell_key", "problem_id")
# step_size is a parameter that a failed or missing cell may not have resolved yet (its step
# was relative): empty there means "unknown", not "does not apply", so it stays a number.
RESOLVED_LATER = ("step_size",)
# Outcome columns that hold text ("" when empty); every other outcome is a number.
TEXT_OUTCOMES = ("status", "converged_on", "error", "label_counts")


class Results:
    """One or more sweeps, loaded: ``cells``, ``trace``, ``problems`` and ``timing`` DataFrames
    (each with an ``experiment`` column), ``manifests`` (experiment -> its manifest.json as a
    dict), ``folders`` (experiment -> its folder) and ``parameters`` (the parameter columns, in
    cells.csv's order)."""

    def __init__(self, cells, trace, problems, timing, manifests, folders, parameters):
        self.cells, self.trace, self.problems, self.timing = cells, trace, problems, timing
        self.manifests, self.folders, self.parameters = manifests, folders, parameters

    @property
    def manifest(self):
        """The manifest of the first experiment (the only one when one folder was loaded)."""
        return next(iter(self.manifests.values()))

    @property
    def experiments(self):
        return list(self.manifests)

    def axes(self):
        """The swept parameters: each parameter column with more than one value, mapped to its
        values in order (seeds included; ``experiment`` too when several are loaded)."""
        found = {}
        for column in ["experiment"] + self.parameters:
            values = _distinct(self.cells[column])
            if len(values) > 1:
                found[column] = values
        return found

    def __repr__(self):
        counts = self.cells["status"].value_counts().to_dict() if len(self.cells) else {}
        return "<istlab.Results {}: {} cells {}, {} trace rows>".format(
            ", ".join(self.experiments), len(self.cells), counts, len(self.trace))


def load(*folders):
    """Loads sweeps written by ``istlab sweep``.

    Each argument is an experiment folder (``results/quickstart``, holding cells.csv) or a
    folder of them (``results``: every subfolder with a cells.csv); several are concatenated,
    with an ``experiment`` column telling them apart. Returns a Results. Raises ResultsError
    naming the file when one is missing, unreadable, a link or not what istlab writes.

    >>> r = istlab.load("results/quickstart")
    >>> r.cells.groupby(["method", "relative_step"]).rel_err.median()
    """
    if len(folders) == 1 and isinstance(folders[0], (list, tuple)):
        folders = tuple(folders[0])
    if not folders:
        raise ResultsError("istlab.load: give at least one results folder")
    experiment_folders = [f for folder in folders for f in _experiment_folders(str(folder))]
    frames = {name: [] for name in CSV_FILES}
    manifests, places, parameters = {}, {}, []
    for folder in experiment_folders:
        manifest = _read_manifest(folder)
        name = str(manifest.get("experiment") or os.path.basename(os.path.normpath(folder)))
        if name in manifests:
            raise ResultsError("{}: experiment '{}' is loaded twice (also from {})".format(
                folder, name, places[name]))
        manifests[name], places[name] = manifest, folder
        for file in CSV_FILES:
            table = _read_csv(folder, file, required=file in ("cells.csv", "trace.csv"))
            table.insert(0, "experiment", name)
            frames[file].append(table)
        cell_columns = list(frames["cells.csv"][-1].columns)
        if "status" not in cell_columns:
            raise ResultsError("{}: has no status column; is it a cells.csv istlab wrote?"
                               .format(os.path.join(folder, "cells.csv")))
        for column in cell_columns[1:cell_columns.index("status")]:
            if column not in parameters and column not in ID_COLUMNS:
                parameters.append(column)
    tables = {file: _typed(pd.concat(parts, ignore_index=True, sort=False), parameters)
              for file, parts in frames.items()}
    trace = tables["trace.csv"]
    if {"floats_up", "floats_down"} <= set(trace.columns):
        trace["floats"] = trace["floats_up"] + trace["floats_down"]
    return Results(tables["cells.csv"], trace, tables["problems.csv"], tables["timing.csv"],
                   manifests, places, parameters)


def _experiment_folders(folder):
    if not os.path.isdir(folder):
        raise ResultsError("{}: no such folder; run `istlab sweep CONFIG --out DIR` and load "
                           "DIR/<experiment>".format(folder))
    if os.path.lexists(os.path.join(folder, "cells.csv")):
        return [folder]
    inside = sorted(os.path.join(folder, entry) for entry in os.listdir(folder)
                    if not os.path.islink(os.path.join(folder, entry))
                    and os.path.isfile(os.path.join(folder, entry, "cells.csv")))
    if not inside:
        raise ResultsError("{}: holds no cells.csv, nor any folder with one; is it the "
                           "--out folder of a sweep?".format(folder))
    return inside


def _read_manifest(folder):
    try:
        with open_inside(folder, "manifest.json", MAX_MANIFEST_BYTES) as stream:
            return json.load(stream)
    except ValueError as error:
        raise ResultsError("{}: is not JSON ({})".format(
            os.path.join(folder, "manifest.json"), error)) from None


def _read_csv(folder, name, required):
    """pandas' own parsing (numbers, true/false) with every empty field NaN; the ids as text."""
    try:
        with open_inside(folder, name) as stream:
            text = stream.read()
    except ResultsError:
        if required or os.path.lexists(os.path.join(folder, name)):
            raise
        return pd.DataFrame()
    if not text.strip():
        return pd.DataFrame()
    try:
        return pd.read_csv(io.StringIO(text), dtype={c: str for c in ID_COLUMNS},
                           keep_default_na=False, na_values=[""], low_memory=False)
    except (pd.errors.ParserError, ValueError) as error:
        raise ResultsError("{}: is not a CSV file istlab wrote ({})".format(
            os.path.join(folder, name), str(error).strip())) from None


def _typed(table, parameters):
    for column in table.columns:
        if column == "experiment" or column in ID_COLUMNS:
            continue
        values = table[column]
        if column in parameters and column not in RESOLVED_LATER:
            table[column] = _parameter(values)
        elif column in TEXT_OUTCOMES:
            table[column] = values.fillna("").astype(str)
        else:
            table[column] = _outcome(values)
    return table


def _kind(values):
    """bool, int, float or str: what the present (non-NaN) values are."""
    if pd.api.types.is_bool_dtype(values):
        return "bool"
    present = values.dropna()
    if not len(present):
        return "empty"
    if values.dtype == object and present.map(type).eq(bool).all():
        return "bool"
    if pd.api.types.is_numeric_dtype(present):
        return "int" if (present == np.round(present)).all() and \
            pd.api.types.is_integer_dtype(present.infer_objects()) else "float"
    return "str"


def _parameter(values):
    kind = _kind(values)
    missing = values.isna()
    if not missing.any():
        return values.astype({"bool": bool, "int": "int64", "float": float, "str": object}[kind])
    if kind in ("str", "empty"):
        return values.astype(object).fillna(NOT_APPLICABLE)
    present = values[~missing]
    if kind == "float" and (present == np.round(present)).all():
        kind = "int"  # (NaN made pandas read whole numbers as floats)
    ordered = sorted(set((present.astype(bool) if kind == "bool" else
                          present.astype("int64" if kind == "int" else float)).tolist()))
    column = pd.Series(NOT_APPLICABLE, index=values.index, dtype=object)
    column[~missing] = [ordered[ordered.index(v)] for v in present.tolist()]
    return pd.Series(pd.Categorical(column, categories=ordered + [NOT_APPLICABLE], ordered=True),
                     index=values.index)


def _outcome(values):
    kind = _kind(values)
    if kind == "bool":
        return values.astype("boolean")
    if kind == "str":
        return values.fillna("").astype(str)
    if kind == "int" and not values.isna().any():
        return values.astype("int64")
    return pd.to_numeric(values, errors="coerce").astype(float)


def _distinct(column):
    values = column.dropna().unique()
    if isinstance(column.dtype, pd.CategoricalDtype):
        return [v for v in column.cat.categories if v in set(values)]
    if column.name == "method":
        return sorted(values, key=method_sort_key)
    try:
        return sorted(values)
    except TypeError:
        return list(values)
