#!/usr/bin/env python3
"""A deterministic fuzzer for hostile results folders: what someone else who can write a
shared results folder may plant in it. Each case copies a finished sweep's folder, plants one
to three things in it, and runs `istlab status`, `istlab sweep`, `istlab status` and
`istlab merge` on it. The plantings (a pure function of --seed and the case's index):

  link     a symbolic link to a victim file outside the folder, at the name of the lock, an
           output, the manifest, a record or a failure note
  fifo     a FIFO at one of those names
  folder   a folder at one of those names
  devzero  a link to /dev/zero at one of those names
  huge     a sparse 3 GiB file at one of those names
  swap     one record copied over another's name (its checksum intact)
  cut      a record cut short at a random byte
  flip     one byte of a record changed
  drop     a record removed

The contract, checked after every command:
  - it ends within --timeout seconds (a FIFO must never block it);
  - its exit code is 0, 1 or 2, and a non-zero exit says why on stderr, in istlab's words
    (no "terminate called", no bare std:: exception name);
  - the victim files keep their bytes (nothing is written through a link);
  - a sweep that exits 0 leaves cells.csv byte-identical to the untouched run's (corrupt,
    swapped and missing records are rerun to the same bytes);
  - no temporary file is left behind.

Usage: results_folder_fuzz.py ISTLAB WORK [--seed S] [--count N] [--timeout SECONDS]
Exit code: 0 when every case holds, 1 otherwise.
"""

import argparse
import os
import random
import shutil
import subprocess
import sys

CONFIG = """experiment: planted
methods: [{method: [gd, ist], sketch: perm}]
problem: {generator: tridiagonal, dim: 12, num_workers: 3, heterogeneity: 0.5, mu: 0.1}
step_size: [0.05, 0.1, 0.2]
run: {max_iters: 20}
"""
OUTPUTS = ["cells.csv", "trace.csv", "timing.csv", "problems.csv", "manifest.json"]
KINDS = ["link", "fifo", "folder", "devzero", "huge", "swap", "cut", "flip", "drop"]


def run(istlab, args, timeout):
    try:
        done = subprocess.run([istlab] + args, capture_output=True, timeout=timeout)
        return done.returncode, done.stderr.decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return None, f"still running after {timeout} s"


def plant(rng, folder, victims, log):
    cells = os.path.join(folder, "cells")
    records = sorted(f for f in os.listdir(cells) if f.endswith(".cell"))
    kind = rng.choice(KINDS)
    record = os.path.join(cells, rng.choice(records))
    # A name istlab writes or reads: the lock, an output, a record, a failure note.
    name = rng.choice(
        [os.path.join(folder, ".lock")]
        + [os.path.join(folder, out) for out in OUTPUTS]
        + [record, record[: -len(".cell")] + ".failed"])
    if kind in ("link", "fifo", "folder", "devzero", "huge"):
        if os.path.lexists(name):
            if os.path.isdir(name) and not os.path.islink(name):
                shutil.rmtree(name)
            else:
                os.remove(name)
        if kind == "link":
            os.symlink(rng.choice(victims), name)
        elif kind == "fifo":
            os.mkfifo(name)
        elif kind == "folder":
            os.mkdir(name)
        elif kind == "devzero":
            os.symlink("/dev/zero", name)
        else:
            with open(name, "wb") as f:
                f.truncate(3 << 30)
        log.append(f"{kind} at {os.path.relpath(name, folder)}")
        return
    if not os.path.isfile(record) or os.path.islink(record):
        return
    if kind == "swap":
        other = os.path.join(cells, rng.choice(records))
        if other != record and os.path.isfile(other) and not os.path.islink(other):
            shutil.copyfile(other, record)
            log.append(f"swap {os.path.basename(other)} onto {os.path.basename(record)}")
    elif kind == "cut":
        size = os.path.getsize(record)
        at = rng.randrange(size) if size else 0
        with open(record, "r+b") as f:
            f.truncate(at)
        log.append(f"cut {os.path.basename(record)} at {at}")
    elif kind == "flip":
        data = bytearray(open(record, "rb").read())
        if data:
            at = rng.randrange(len(data))
            data[at] = rng.randrange(256)
            open(record, "wb").write(bytes(data))
            log.append(f"flip byte {at} of {os.path.basename(record)}")
    else:
        os.remove(record)
        log.append(f"drop {os.path.basename(record)}")


def temporaries(folder):
    found = []
    for root, dirs, files in os.walk(folder):
        found += [os.path.join(root, f) for f in files if ".tmp." in f]
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("istlab")
    parser.add_argument("work")
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--count", type=int, default=60)
    parser.add_argument("--timeout", type=float, default=20.0)
    options = parser.parse_args()
    istlab, work = os.path.abspath(options.istlab), os.path.abspath(options.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    config = os.path.join(work, "planted.yaml")
    open(config, "w").write(CONFIG)
    reference = os.path.join(work, "reference")
    code, stderr = run(istlab, ["sweep", config, "--out", reference, "--quiet"], 60)
    if code != 0:
        print(f"FAIL the reference sweep exited {code}: {stderr}")
        return 1
    reference_cells = open(os.path.join(reference, "planted", "cells.csv"), "rb").read()
    victims = []
    for i in range(2):
        victim = os.path.join(work, f"victim{i}.txt")
        open(victim, "w").write(f"another user's file {i}\n")
        victims.append(victim)
    victim_bytes = {v: open(v, "rb").read() for v in victims}

    failures = 0
    for index in range(options.count):
        rng = random.Random(options.seed * 1_000_003 + index)
        out = os.path.join(work, f"case{index}")
        folder = os.path.join(out, "planted")
        shutil.copytree(reference, out, symlinks=True)
        log = []
        for _ in range(rng.randint(1, 3)):
            plant(rng, folder, victims, log)
        merged = os.path.join(work, f"merged{index}")
        commands = [
            ("status", ["status", config, "--out", out]),
            ("sweep", ["sweep", config, "--out", out, "--quiet"]),
            ("status again", ["status", config, "--out", out]),
            ("merge", ["merge", out, "--out", merged]),
        ]
        problems = []
        for label, args in commands:
            code, stderr = run(istlab, args, options.timeout)
            if code is None or code not in (0, 1, 2):
                problems.append(f"{label}: exit {code}: {stderr.strip()[:300]}")
            elif code != 0 and not stderr.strip() and label != "status" and label != "status again":
                problems.append(f"{label}: exit {code} with nothing on stderr")
            elif "terminate called" in stderr or "std::" in stderr:
                problems.append(f"{label}: not istlab's words: {stderr.strip()[:300]}")
            if label == "sweep" and code == 0:
                cells_csv = os.path.join(folder, "cells.csv")
                if open(cells_csv, "rb").read() != reference_cells:
                    problems.append("sweep: exit 0 but cells.csv differs from the untouched run's")
        for victim, data in victim_bytes.items():
            if open(victim, "rb").read() != data:
                problems.append(f"{os.path.basename(victim)} was written through a link")
                open(victim, "wb").write(data)
        for leftover in temporaries(out) + temporaries(merged):
            problems.append(f"temporary file left: {os.path.relpath(leftover, work)}")
        status = "FAIL" if problems else "ok  "
        print(f"{status} case {index}: {'; '.join(log) or 'nothing planted'}")
        for problem in problems:
            print(f"       {problem}")
        failures += bool(problems)
        # (the sparse files and FIFOs go with the case: keep the work folder small)
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(merged, ignore_errors=True)
    print(f"{options.count - failures} of {options.count} cases hold (seed {options.seed})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
