"""istlab.sweep: run the istlab executable on a config from Python (a notebook) and load
what it wrote."""

import json
import os
import re
import shutil
import subprocess
import sys

from .results import load

PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
SOURCE_TREE = os.path.dirname(os.path.dirname(PACKAGE_DIR))
# Where a checkout's builds put the executable (README: build/release, tests: build/ci).
BUILD_TREES = ("build/release/bin/istlab", "build/ci/bin/istlab")
WRITTEN_MARK = "# written by istlab.sweep from a Python dict; rewritten on the next call\n"
SUMMARY = re.compile(r"^(?P<experiment>\S+): \d+ cells: .* -> (?P<folder>.+)$")


class SweepError(Exception):
    """The executable refused the config or could not be run; the message says why."""


def find_binary(binary=None):
    """The istlab executable: ``binary`` if given, else $ISTLAB_BINARY (`istlab plot` and
    `istlab report` set it to themselves), else this checkout's build/release or build/ci
    build, else `istlab` on PATH. Raises SweepError naming the places tried."""
    tried = []
    candidates = [binary] if binary else [os.environ.get("ISTLAB_BINARY")]
    if not binary:
        candidates += [os.path.join(SOURCE_TREE, tree) for tree in BUILD_TREES]
        candidates.append(shutil.which("istlab"))
    for candidate in candidates:
        if not candidate:
            continue
        tried.append(candidate)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    raise SweepError("no istlab executable found (tried {}); build it with "
                     "scripts/quickstart.sh, or pass binary=PATH".format(", ".join(tried) or
                                                                          "nothing"))


def sweep(config, out="results", binary=None, threads=None, quick=False, force=False,
          overrides=(), echo=True):
    """Runs ``istlab sweep`` and returns the loaded Results of the experiment it wrote.

    ``config`` is a YAML file's path, or a dict with the same content: a dict is written as
    ``<experiment>.istlab.yaml`` in the current folder (so its relative paths, such as a
    dataset's, are read from there, as the executable reads them from a config file's folder).
    ``overrides`` are ``KEY=VALUE`` texts as `--set` takes. Finished cells are kept (``force``
    reruns them). A run where some cell failed still returns its results: the failed cells are
    rows of ``cells`` with their ``error``. Raises SweepError on a bad config (exit 2), with
    the executable's message.

    >>> results = istlab.sweep("experiments/quickstart.yaml", out="results", threads=2)
    """
    path = _config_file(config)
    command = [find_binary(binary), "sweep", path, "--out", str(out), "--quiet"]
    if threads:
        command += ["--threads", str(int(threads))]
    if quick:
        command.append("--quick")
    if force:
        command.append("--force")
    for override in overrides:
        command += ["--set", override]
    finished = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, errors="replace")
    messages = finished.stderr.strip()
    if finished.returncode not in (0, 1):
        raise SweepError("istlab sweep {} exited with {}:\n{}".format(
            path, finished.returncode, messages))
    if echo and messages:
        print(messages, file=sys.stderr)
    for line in reversed(messages.splitlines()):
        match = SUMMARY.match(line)
        if match:
            return load(match.group("folder"))
    raise SweepError("istlab sweep {} exited with {} without its summary line:\n{}".format(
        path, finished.returncode, messages))


def _config_file(config):
    if isinstance(config, (str, os.PathLike)):
        if not os.path.isfile(config):
            raise SweepError("{}: no such config file".format(config))
        return os.fspath(config)
    if not isinstance(config, dict) or not config.get("experiment"):
        raise SweepError("istlab.sweep: config must be a YAML file's path or a dict with an "
                         "'experiment' key, got {!r}".format(type(config).__name__))
    path = os.path.abspath("{}.istlab.yaml".format(config["experiment"]))
    if os.path.exists(path):
        with open(path, encoding="utf-8") as existing:
            if existing.readline() != WRITTEN_MARK:
                raise SweepError("{}: exists and was not written by istlab.sweep; rename the "
                                 "experiment or the file".format(path))
    with open(path, "w", encoding="utf-8") as stream:
        # JSON is YAML: the executable reads this file as it reads any config.
        stream.write(WRITTEN_MARK + json.dumps(config, indent=2) + "\n")
    return path
