#!/usr/bin/python3
"""One worker's training step in PyTorch on CPU, the reference for bench/network_bench.cpp:
forward, softmax cross-entropy, backward and an SGD update of a ReLU network (float32, batch
128), for the full model (a gd worker's step) and for a submodel of H/n units of every hidden
layer (an ist worker's step, n = 4), at 784-256-10, 2048-512-10 and 784-512-256-10, with 1 and
2 threads.

    /usr/bin/python3 bench/torch_reference.py [--out results/bench/torch_reference.json]
        [--bench-json results/bench/bench.json] [--min-time 0.5]

Prints microseconds per step (the median of --repeats timings of at least --min-time seconds
each) and writes them as JSON. With --bench-json (a run of istlab_bench that includes
BM_NetworkRound and BM_NetworkWorkerStep) it also prints istlab's time per worker step next to
them: for the one-layer shapes the n = 4 round time ÷ 4 (gd and ist, the server's part
included); for gd's steps BM_NetworkWorkerStep's steps per second inverted (t workers each
taking steps on t threads). torch spends its threads inside one step, istlab on different
workers: at 2 threads both are steps per second of the machine.

OpenBLAS picks its kernel for the CPU unless OPENBLAS_CORETYPE names one (some hosts set it,
and a wrong one is slower): the children run with it removed and OPENBLAS_VERBOSE=2, and the
kernel OpenBLAS reports ("Core: Haswell", "Core: Zen", ...) is printed and stored.

Threads: Debian's torch does its matrix products in OpenBLAS (own thread pool, 2 threads by
default here, whatever torch.set_num_threads says) and the rest under OpenMP. Each thread count
is therefore timed in a child process with OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = t and
torch.set_num_threads(t), and OMP_WAIT_POLICY=PASSIVE: spinning OpenMP workers would otherwise
take the cores from OpenBLAS's (2–5× slower steps at 2 threads on 2 cores).

Not part of the build or the tests: PyTorch is Debian's python3-torch, which the setup script
does not install. Without it the script says so and exits 0.
"""

import argparse
import importlib.util
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

SHAPES = ((784, (256,), 10), (2048, (512,), 10), (784, (512, 256), 10))
WORKER_STEP = re.compile(r"^BM_NetworkWorkerStep/(?P<d>\d+)-(?P<widths>[\d-]+)-(?P<classes>\d+)/"
                         r"threads:(?P<threads>\d+)/real_time$")
BATCH = 128
IST_WORKERS = 4
THREADS = (1, 2)


def widths_text(widths):
    return "-".join(str(w) for w in widths)


def time_step(torch, d, widths, classes, threads, min_time, repeats):
    """Median microseconds of one step of a d-widths-classes network on a fixed batch."""
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    layers, inputs_of = [], d
    for width in widths:
        layers += [torch.nn.Linear(inputs_of, width), torch.nn.ReLU()]
        inputs_of = width
    model = torch.nn.Sequential(*layers, torch.nn.Linear(inputs_of, classes))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    inputs = torch.rand(BATCH, d)
    labels = torch.randint(0, classes, (BATCH,))

    def step():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(inputs), labels)
        loss.backward()
        optimizer.step()

    for _ in range(5):  # warm-up: allocator, thread pool, oneDNN kernels
        step()
    timings = []
    for _ in range(repeats):
        steps, start = 0, time.perf_counter()
        while True:
            step()
            steps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        timings.append(1e6 * elapsed / steps)
    return statistics.median(timings)


def istlab_per_step(bench_json):
    """istlab's µs per worker step: {(kind, d, "H", C, t): µs}, from BM_NetworkRound n = 4 rounds
    (one hidden layer) and BM_NetworkWorkerStep (gd's step, any depth)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_names import US_PER_UNIT, parse_network_name
    runs = json.loads(Path(bench_json).read_text()).get("benchmarks", [])
    found = {}
    for run in runs:
        step = WORKER_STEP.match(run.get("name", ""))
        if step and run.get("run_type", "iteration") == "iteration" and "error_occurred" not in run:
            key = ("gd", int(step["d"]), step["widths"], int(step["classes"]), int(step["threads"]))
            found[key] = 1e6 / run["items_per_second"]
            continue
        fields = parse_network_name(run.get("name", ""))
        if (not fields or fields["n"] != IST_WORKERS or fields["method"] not in ("gd", "ist")
                or run.get("run_type", "iteration") != "iteration" or "error_occurred" in run):
            continue
        us = run["real_time"] * US_PER_UNIT[run.get("time_unit", "ns")] / IST_WORKERS
        key = (fields["method"], fields["d"], str(fields["hidden"]), fields["classes"], fields["threads"])
        found.setdefault(key, us)
    return found


def child(threads, min_time, repeats):
    """Times every shape and kind at `threads` (set up by the parent's environment); JSON rows."""
    import torch
    rows = []
    for d, widths, classes in SHAPES:
        quarter = tuple(w // IST_WORKERS for w in widths)
        for kind, kept in (("gd", widths), ("ist", quarter)):
            us = time_step(torch, d, kept, classes, threads, min_time, repeats)
            rows.append({"kind": kind, "d": d, "hidden": widths_text(widths), "kept": widths_text(kept),
                         "classes": classes, "threads": threads, "torch_us_per_step": us})
    print(json.dumps({"torch": torch.__version__, "rows": rows}))


def timed_in_child(threads, args):
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads), OMP_WAIT_POLICY="PASSIVE", OPENBLAS_VERBOSE="2")
    env.pop("OPENBLAS_CORETYPE", None)
    command = [sys.executable, __file__, "--child", str(threads), "--min-time", str(args.min_time),
               "--repeats", str(args.repeats)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    cores = re.findall(r"Core:\s*(\S+)", done.stdout + done.stderr)
    result["openblas_core"] = cores[0] if cores else "not reported"
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default="", help="JSON file to write")
    parser.add_argument("--bench-json", default="", help="an istlab_bench JSON run to compare with")
    parser.add_argument("--min-time", type=float, default=0.5, help="seconds per timing")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if importlib.util.find_spec("torch") is None:
        print("torch_reference.py: torch not installed (Debian: apt-get install python3-torch); nothing timed")
        return 0
    if args.child:
        child(args.child, args.min_time, args.repeats)
        return 0

    istlab = istlab_per_step(args.bench_json) if args.bench_json else {}
    rows, version, core = [], "?", "?"
    for threads in THREADS:
        result = timed_in_child(threads, args)
        version, core = result["torch"], result["openblas_core"]
        rows += result["rows"]
    coretype = os.environ.get("OPENBLAS_CORETYPE")
    print(f"PyTorch {version} on CPU, float32, batch {BATCH}: µs per step; OpenBLAS kernel: {core}"
          + (f" (OPENBLAS_CORETYPE={coretype} removed for the timings)" if coretype else ""))
    for row in rows:
        line = (f"  {row['kind']:3s} {row['d']}-{row['kept']}-{row['classes']}, {row['threads']} thread(s): "
                f"torch {row['torch_us_per_step']:8.1f} µs")
        ours = istlab.get((row["kind"], row["d"], row["hidden"], row["classes"], row["threads"]))
        if ours is not None:
            row["istlab_us_per_step"] = ours
            line += f", istlab {ours:8.1f} µs (torch ÷ istlab {row['torch_us_per_step'] / ours:.2f})"
        print(line)
    if args.out:
        meta = {"torch": version, "batch": BATCH, "ist_workers": IST_WORKERS, "openblas_core": core,
                "threads": "OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = t, OMP_WAIT_POLICY=PASSIVE",
                "istlab_note": "n = 4 round time ÷ 4, server's part included" if istlab else None}
        Path(args.out).write_text(json.dumps({"meta": meta, "rows": rows}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
