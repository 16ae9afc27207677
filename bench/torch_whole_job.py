#!/usr/bin/python3
"""One ist cell as a whole process, in PyTorch on CPU: the whole-job reference of
docs/performance.md ("Whole job"), timed beside `istlab sweep` on the same cell.

    /usr/bin/python3 bench/torch_whole_job.py --prepare DIR     # DIR/train_{features,labels}.npy
                                                                # and DIR/whole_job.yaml
    build/release/bin/istlab sweep DIR/whole_job.yaml --out DIR/out --threads 1 --force
    OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 /usr/bin/python3 bench/torch_whole_job.py --run DIR

--prepare writes Fashion-MNIST's 60,000 training images as a 60,000 × 784 float32 .npy
(pixels / 255) with int64 labels, from Debian's dataset-fashion-mnist, and the istlab config
of the same cell. --run trains it as a PyTorch user would write it, the same job as istlab's:

    model      784-256-10, one ReLU layer, PyTorch's default initialisation, no L2
    data       the .npy loaded whole (np.load), split iid among n = 4 workers of 15,000
    ist        each round a fresh permutation of the 256 hidden units gives each worker 64 of
               them (a unit: its W1 row, b1 entry and W2 column, plus the shared b2), with the
               unbiased scale n on their activations; each worker takes τ = 5 SGD steps
               (γ = 0.1) on batches of 64 of its samples (drawn without replacement, a
               shuffled pass at a time); the server copies each unit back from its holder and
               averages b2. Workers run one after another; 300 rounds.
    metrics    the objective F = (1/n) Σ f_i and ‖∇F‖² on every 6th sample of each worker
               (10,000 in all), three times as istlab does: F at the start for its divergence
               rule, then at the recorded rounds 0 and 300

and prints the seconds of loading, of the rounds and of the metrics (the whole process is
timed from outside, with /usr/bin/time or a paired timer). The random streams differ from
istlab's, so losses agree in size, not in bits.

Threads: Debian's torch does its matrix products in OpenBLAS, whose thread count follows
OPENBLAS_NUM_THREADS, not torch.set_num_threads: set it and OMP_NUM_THREADS to 1 for the
one-thread comparison, and leave OPENBLAS_CORETYPE unset (OPENBLAS_VERBOSE=2 prints the kernel
OpenBLAS chose). Not part of the build or the tests: without torch the script says so and
exits 0.
"""

import argparse
import gzip
import importlib.util
import sys
import time
from pathlib import Path

FASHION = Path("/usr/share/datasets/fashion-mnist")
WORKERS = 4
HIDDEN = 256
LOCAL_STEPS = 5
BATCH = 64
STEP_SIZE = 0.1
ROUNDS = 300
EVAL_SAMPLES = 10000

CONFIG = """\
# One ist cell for the whole-job timing (bench/torch_whole_job.py, docs/performance.md).
experiment: whole_job
description: One ist cell on a 60,000 x 784 float32 .npy, timed as a whole process.
problem:
  generator: mlp
  dataset: {{path: {features}, format: npy, labels: {labels}}}
  hidden: {hidden}
  num_workers: {workers}
  split: iid
  eval_samples: {eval_samples}
seeds: [0]
step_size: {step_size}
methods:
  - method: ist
    sketch: perm
    outer_sketch: true
    local_steps: {local_steps}
    batch_size: {batch}
run:
  max_iters: {rounds}
  record: {{every: {rounds}}}
"""


def prepare(folder):
    import numpy as np
    folder.mkdir(parents=True, exist_ok=True)
    with gzip.open(FASHION / "train-images-idx3-ubyte.gz") as images:
        pixels = np.frombuffer(images.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(FASHION / "train-labels-idx1-ubyte.gz") as labels:
        classes = np.frombuffer(labels.read(), np.uint8, offset=8)
    features, labels = folder / "train_features.npy", folder / "train_labels.npy"
    np.save(features, (pixels / 255.0).astype(np.float32))
    np.save(labels, classes.astype(np.int64))
    (folder / "whole_job.yaml").write_text(CONFIG.format(
        features=features.resolve(), labels=labels.resolve(), hidden=HIDDEN, workers=WORKERS,
        eval_samples=EVAL_SAMPLES, step_size=STEP_SIZE, local_steps=LOCAL_STEPS, batch=BATCH,
        rounds=ROUNDS))
    print(f"wrote {features}, {labels} and {folder / 'whole_job.yaml'}")


class Batches:
    """A worker's batches: its samples in a shuffled order, BATCH at a time, reshuffled when used up."""

    def __init__(self, torch, samples, generator):
        self.torch, self.samples, self.generator = torch, samples, generator
        self.order, self.at = samples[torch.randperm(len(samples), generator=generator)], 0

    def next(self):
        if self.at + BATCH > len(self.order):
            self.order = self.samples[self.torch.randperm(len(self.samples), generator=self.generator)]
            self.at = 0
        self.at += BATCH
        return self.order[self.at - BATCH:self.at]


def loss_of(torch, w1, b1, w2, b2, x, y, scale=1.0):
    hidden = torch.relu(torch.nn.functional.linear(x, w1, b1))
    return torch.nn.functional.cross_entropy(torch.nn.functional.linear(scale * hidden, w2, b2), y)


def ist_round(torch, params, features, labels, batches, generator):
    w1, b1, w2, b2 = params
    blocks = torch.randperm(HIDDEN, generator=generator).chunk(WORKERS)
    b2_sum = torch.zeros_like(b2)
    for worker, units in enumerate(blocks):
        sub = [w1[units].clone().requires_grad_(), b1[units].clone().requires_grad_(),
               w2[:, units].clone().requires_grad_(), b2.clone().requires_grad_()]
        for _ in range(LOCAL_STEPS):
            batch = batches[worker].next()
            loss = loss_of(torch, *sub, features[batch], labels[batch], scale=float(WORKERS))
            grads = torch.autograd.grad(loss, sub)
            with torch.no_grad():
                for value, grad in zip(sub, grads):
                    value -= STEP_SIZE * grad
        with torch.no_grad():
            w1[units], b1[units], w2[:, units] = sub[0], sub[1], sub[2]
            b2_sum += sub[3]
    b2.copy_(b2_sum / WORKERS)


def objective(torch, params, features, labels, eval_samples):
    """F = (1/n) Σ f_i and ‖∇F‖² on each worker's evaluation samples."""
    live = [p.detach().requires_grad_() for p in params]
    losses, gradients = [], []
    for samples in eval_samples:
        loss = loss_of(torch, *live, features[samples], labels[samples])
        losses.append(loss.item())
        gradients.append(torch.autograd.grad(loss, live))
    mean = [sum(parts) / len(parts) for parts in zip(*gradients)]
    return sum(losses) / len(losses), sum(float((g * g).sum()) for g in mean)


def run(folder):
    import numpy as np
    import torch
    torch.set_num_threads(1)
    start = time.perf_counter()
    features = torch.from_numpy(np.load(folder / "train_features.npy"))
    labels = torch.from_numpy(np.load(folder / "train_labels.npy"))
    loaded = time.perf_counter()

    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    layer1, layer2 = torch.nn.Linear(features.shape[1], HIDDEN), torch.nn.Linear(HIDDEN, 10)
    params = [layer1.weight.detach().clone(), layer1.bias.detach().clone(),
              layer2.weight.detach().clone(), layer2.bias.detach().clone()]
    order = torch.randperm(len(labels), generator=generator)
    samples_of_worker = order.chunk(WORKERS)
    eval_samples = [samples[::len(samples) * WORKERS // EVAL_SAMPLES] for samples in samples_of_worker]
    batches = [Batches(torch, samples, generator) for samples in samples_of_worker]
    built = time.perf_counter()

    metrics_seconds, rounds_seconds = 0.0, 0.0
    for _ in range(2):  # F at the start (istlab's divergence rule) and at the recorded round 0
        began = time.perf_counter()
        loss, grad_norm2 = objective(torch, params, features, labels, eval_samples)
        metrics_seconds += time.perf_counter() - began
    began = time.perf_counter()
    for _ in range(ROUNDS):
        ist_round(torch, params, features, labels, batches, generator)
    rounds_seconds = time.perf_counter() - began
    began = time.perf_counter()
    loss, grad_norm2 = objective(torch, params, features, labels, eval_samples)
    metrics_seconds += time.perf_counter() - began
    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s): load {loaded - start:.2f} s, "
          f"setup {built - loaded:.2f} s, rounds {rounds_seconds:.2f} s, metrics {metrics_seconds:.2f} s; "
          f"after {ROUNDS} rounds F = {loss:.4f}, |grad F|^2 = {grad_norm2:.3g}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prepare", type=Path, help="write the .npy files and the istlab config here")
    parser.add_argument("--run", type=Path, help="train the cell on the .npy files written here")
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare)
    if args.run:
        if importlib.util.find_spec("torch") is None:
            print("torch_whole_job.py: torch not installed (Debian: apt-get install python3-torch); nothing run")
            return 0
        run(args.run)
    if not args.prepare and not args.run:
        parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
