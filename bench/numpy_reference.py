#!/usr/bin/python3
"""NumPy reference for one round of gd, dcgd and ist (docs/theory.md §3), for timing against istlab.

One round is x ← x − γ·(1/n) Σ_i g_i with
    gd:   g_i = L_i x − b_i
    dcgd: g_i = C_i (L_i x − b_i)
    ist:  g_i = C_i (L_i C_i x − b_i)          (outer sketch on)
and C_i = Diag(c_i) from a Perm sketch: one permutation of [d] per round cut into n blocks
S_i of q = d/n coordinates, scale n on S_i (unbiased, so (1/n) Σ_i C_i = I). gd uses the
identity sketch. Here n must divide d (every row istlab's benchmark times does).

Each round is written in two styles:
  typical     the way a researcher writes it: a Python loop over workers; each builds its
              dense mask c_i (length d) and does full products with L_i (a dense array, or a
              scipy.sparse CSR matrix for tridiagonal problems).
  vectorised  no Python loop over workers: dense L_i stacked as an (n, d, d) array, dcgd
              gathers only the rows S_i, ist only the blocks L_i[S_i, S_i], each followed by
              one batched matvec; tridiagonal problems use L_i = a_i T + σ I, b_i = β_i e_1
              with the shared T = tridiag(−1, 2, −1) applied by slicing.
Both give the same x^{k+1} up to rounding (checked by --selftest).

Problems match istlab's benchmark in structure and size (values do not affect timing):
  dense   L_i = 3 I + (G_i + G_iᵀ)/(2√d), G_i iid N(0,1); b_i ~ N(0, I/d); x⁰ ~ N(0, I/d)
  sparse  docs/theory.md §1.1 tridiagonal generator, s = 0.1, mu = 1e-2, b_i ≠ 0, x⁰ = √d e_1

Timing: K = 16 rounds of sketches are drawn before the clock starts and cycled, so caches do
not see the same block every round; x carries over from round to round. The reported time
per round is the MEDIAN of individually timed rounds, over at least --min-time seconds of
rounds and at least 3 rounds (after one warm-up round).

Usage (always with Debian's /usr/bin/python3, which has numpy and scipy):
  /usr/bin/python3 bench/numpy_reference.py --selftest           # typical == vectorised, ~1 s
  /usr/bin/python3 bench/numpy_reference.py --time dense:256:16 sparse:4096:16
  /usr/bin/python3 bench/numpy_reference.py --time dense:64:4 --methods ist --json OUT.json
A --time row is KIND:D:N. Output: a table on stdout, and with --json a file holding the BLAS
in use and one record per (method, kind, d, n, style). Exit code 1 if --selftest fails.
"""

import argparse
import ctypes
import json
import math
import os
import re
import statistics
import sys
import time

import numpy as np
import scipy.sparse

METHODS = ("gd", "dcgd", "ist")
KINDS = ("dense", "sparse")
STYLES = ("typical", "vectorised")
SKETCH_ROUNDS = 16  # pre-drawn sketches cycled while timing
STEP_SIZE = 1e-3  # small and stable for every row (n·γ·λ_max(L_i) < 2)


# ----------------------------------------------------------------------------- problems

class DenseProblem:
    """n dense SPD quadratics; `matrices` is the C-contiguous (n, d, d) stack of L_i."""

    kind = "dense"

    def __init__(self, dim, num_workers, rng):
        self.dim, self.num_workers = dim, num_workers
        self.matrices = np.empty((num_workers, dim, dim))
        for worker in range(num_workers):  # one worker at a time: no second n·d² temporary
            gaussian = rng.standard_normal((dim, dim))
            matrix = self.matrices[worker]
            np.add(gaussian, gaussian.T, out=matrix)
            matrix *= 1.0 / (2.0 * math.sqrt(dim))
            matrix[np.diag_indices(dim)] += 3.0
        self.linear_terms = rng.standard_normal((num_workers, dim)) / math.sqrt(dim)
        self.start_point = rng.standard_normal(dim) / math.sqrt(dim)

    def worker_matrices(self):
        """L_i as the typical code holds them: one (d, d) array per worker (views of the stack)."""
        return list(self.matrices)

    def dense_matrix(self, worker):
        return self.matrices[worker]


class TridiagonalProblem:
    """docs/theory.md §1.1 tridiagonal generator: L_i = a_i T + σ I, b_i = β_i e_1, T = tridiag(−1, 2, −1)."""

    kind = "sparse"

    def __init__(self, dim, num_workers, rng, heterogeneity=0.1, mu=1e-2):
        self.dim, self.num_workers = dim, num_workers
        xi_scale, xi_linear = rng.standard_normal((2, num_workers))
        nu_scale = 1.0 + heterogeneity * xi_scale
        nu_linear = heterogeneity * xi_linear
        self.scales = nu_scale / 4.0  # a_i
        self.e1_coefficients = self.scales * (-1.0 + nu_linear)  # β_i
        # λ_min(T) = 4 sin²(π / (2(d+1))); shift so that λ_min(L̄) = mu.
        lambda_min_t = 4.0 * math.sin(math.pi / (2.0 * (dim + 1))) ** 2
        self.shift = mu - self.scales.mean() * lambda_min_t  # σ
        self.start_point = np.zeros(dim)
        self.start_point[0] = math.sqrt(dim)

    def worker_matrices(self):
        """L_i as the typical code holds them: one scipy.sparse CSR matrix per worker."""
        return [scipy.sparse.diags([-a * np.ones(self.dim - 1), (2 * a + self.shift) * np.ones(self.dim),
                                    -a * np.ones(self.dim - 1)], [-1, 0, 1], format="csr")
                for a in self.scales]

    @property
    def linear_terms(self):
        """b_i as dense vectors, (n, d): what the typical code holds."""
        terms = np.zeros((self.num_workers, self.dim))
        terms[:, 0] = self.e1_coefficients
        return terms

    def dense_matrix(self, worker):
        return self.worker_matrices()[worker].toarray()


def make_problem(kind, dim, num_workers, seed=1):
    rng = np.random.default_rng(seed)
    return DenseProblem(dim, num_workers, rng) if kind == "dense" else TridiagonalProblem(dim, num_workers, rng)


# ----------------------------------------------------------------------------- sketches

def draw_perm_sketches(dim, num_workers, rounds, rng):
    """`rounds` Perm sketches, each an (n, q) array of kept indices S_i (sorted within a block)."""
    if dim % num_workers:
        raise ValueError(f"Perm sketches here need n | d; got d = {dim}, n = {num_workers}")
    block = dim // num_workers
    return [np.sort(rng.permutation(dim).reshape(num_workers, block), axis=1) for _ in range(rounds)]


# ----------------------------------------------------------------------------- typical style

def typical_round(method, worker_matrices, linear_terms, x, kept, scale, step_size):
    """One round as a researcher writes it: loop over workers, dense masks, full products."""
    num_workers, dim = len(worker_matrices), x.shape[0]
    gradient_sum = np.zeros(dim)
    for worker in range(num_workers):
        matrix, linear = worker_matrices[worker], linear_terms[worker]
        if method == "gd":
            gradient_sum += matrix @ x - linear
            continue
        mask = np.zeros(dim)
        mask[kept[worker]] = scale
        if method == "dcgd":
            gradient_sum += mask * (matrix @ x - linear)
        else:  # ist
            submodel = mask * x
            gradient_sum += mask * (matrix @ submodel - linear)
    return x - step_size * (gradient_sum / num_workers)


# ----------------------------------------------------------------------------- vectorised style
# Perm blocks partition [d], so a scatter-add of the workers' kept coordinates is a plain
# assignment: every coordinate receives exactly one worker's contribution.

def vectorised_dense_round(method, problem, x, kept, scale, step_size, workspace):
    matrices, linear_terms = problem.matrices, problem.linear_terms
    num_workers, dim = linear_terms.shape
    if method == "gd":
        # One (n·d) × d matvec over the whole stack: a single multithreaded BLAS call.
        gradients = (matrices.reshape(num_workers * dim, dim) @ x).reshape(num_workers, dim)
        gradients -= linear_terms
        return x - step_size * (gradients.sum(axis=0) / num_workers)
    worker_ids = np.arange(num_workers)[:, None]
    kept_linear = linear_terms[worker_ids, kept]  # b_i[S_i], (n, q)
    # Row i·d + j of the (n·d, d) view is row j of L_i: two index arrays gather faster than three.
    kept_row_ids = worker_ids * dim + kept
    all_rows = matrices.reshape(num_workers * dim, dim)
    if method == "dcgd":
        kept_rows = all_rows[kept_row_ids]  # L_i[S_i, :], (n, q, d)
        kept_gradients = scale * (kept_rows @ x - kept_linear)
    else:  # ist: only the blocks L_i[S_i, S_i] and x[S_i] are touched
        kept_blocks = all_rows[kept_row_ids[:, :, None], kept[:, None, :]]  # L_i[S_i, S_i], (n, q, q)
        submodels = scale * x[kept]  # (C_i x)[S_i], (n, q)
        kept_gradients = scale * (np.matmul(kept_blocks, submodels[:, :, None])[:, :, 0] - kept_linear)
    gradient_sum = np.empty(dim)
    gradient_sum[kept] = kept_gradients
    return x - step_size * (gradient_sum / num_workers)


def tridiagonal_product(vector):
    """T v for T = tridiag(−1, 2, −1), by slicing."""
    product = 2.0 * vector
    product[1:] -= vector[:-1]
    product[:-1] -= vector[1:]
    return product


def vectorised_tridiagonal_round(method, problem, x, kept, scale, step_size, workspace):
    scales, shift, e1_coefficients = problem.scales, problem.shift, problem.e1_coefficients
    num_workers, dim = problem.num_workers, problem.dim
    if method == "gd":
        # Per-worker gradients a_i (T x) + σ x − β_i e_1 as an (n, d) array, T x computed once.
        # Summing a_i first would make the round O(d) instead of O(n·d): that is a different,
        # collapsed computation (n workers no longer each produce a gradient), not a faster round.
        # The (n, d) buffer is reused across rounds: a fresh one (134 MB at n = 256, d = 2^16)
        # costs page faults that made this row vary 35–170 ms from run to run.
        if "gradients" not in workspace:
            workspace["gradients"] = np.empty((num_workers, dim))
        gradients = np.multiply.outer(scales, tridiagonal_product(x), out=workspace["gradients"])
        gradients += shift * x
        gradients[:, 0] -= e1_coefficients
        return x - step_size * (gradients.sum(axis=0) / num_workers)
    worker_ids = np.broadcast_to(np.arange(num_workers)[:, None], kept.shape)
    if method == "dcgd":
        # Rows S_i of L_i x; the blocks cover [d], so (T x)[S_i] over all i is T x itself.
        kept_products = scales[:, None] * tridiagonal_product(x)[kept] + shift * x[kept]
    else:  # ist: (T C_i x)_j for j ∈ S_i sees a neighbour only if the neighbour is in S_i too
        owner = np.full(dim + 2, -1)  # owner[j + 1] = worker keeping j; −1 pads both ends
        owner[kept + 1] = worker_ids
        scaled_x = np.zeros(dim + 2)
        scaled_x[1:-1] = scale * x  # the union of the submodels C_i x (blocks are disjoint)
        submodels = scaled_x[kept + 1]
        left = np.where(owner[kept] == worker_ids, scaled_x[kept], 0.0)
        right = np.where(owner[kept + 2] == worker_ids, scaled_x[kept + 2], 0.0)
        kept_products = scales[:, None] * (2.0 * submodels - left - right) + shift * submodels
    e1_worker, e1_position = np.nonzero(kept == 0)  # the one worker keeping coordinate 0
    kept_products[e1_worker, e1_position] -= e1_coefficients[e1_worker]  # − b_i = −β_i e_1
    gradient_sum = np.empty(dim)
    gradient_sum[kept] = scale * kept_products
    return x - step_size * (gradient_sum / num_workers)


# ----------------------------------------------------------------------------- rounds

class RoundRunner:
    """Holds a problem in the form a style needs and runs its rounds; x carries over."""

    def __init__(self, problem, method, style, step_size=STEP_SIZE):
        self.problem, self.method, self.style, self.step_size = problem, method, style, step_size
        self.scale = 1.0 if method == "gd" else float(problem.num_workers)
        if style == "typical":
            self.worker_matrices = problem.worker_matrices()
            self.linear_terms = problem.linear_terms
        elif problem.kind == "dense":
            self.vectorised_round = vectorised_dense_round
        else:
            self.vectorised_round = vectorised_tridiagonal_round
        self.workspace = {}  # buffers a vectorised round keeps between rounds
        self.x = problem.start_point.copy()

    def run(self, kept):
        if self.style == "typical":
            self.x = typical_round(self.method, self.worker_matrices, self.linear_terms, self.x,
                                   kept, self.scale, self.step_size)
        else:
            self.x = self.vectorised_round(self.method, self.problem, self.x, kept, self.scale,
                                           self.step_size, self.workspace)
        return self.x


def direct_round(problem, method, x, kept, step_size):
    """x − γ·(1/n) Σ g_i with C_i as explicit d×d matrices: slow, obviously right (tests only)."""
    num_workers, dim = problem.num_workers, problem.dim
    gradient_sum = np.zeros(dim)
    for worker in range(num_workers):
        matrix, linear = problem.dense_matrix(worker), problem.linear_terms[worker]
        sketch = np.eye(dim)
        if method != "gd":
            sketch = np.zeros((dim, dim))
            sketch[kept[worker], kept[worker]] = num_workers
        inner = sketch if method == "ist" else np.eye(dim)
        gradient_sum += sketch @ (matrix @ (inner @ x) - linear)
    return x - step_size * gradient_sum / num_workers


# ----------------------------------------------------------------------------- self-test

def selftest(rounds=5):
    """typical == vectorised == direct for every method on small dense and sparse problems."""
    cases = [("dense", 64, 4), ("dense", 24, 8), ("sparse", 64, 8), ("sparse", 30, 3), ("sparse", 16, 16)]
    worst, failures = 0.0, []
    for kind, dim, num_workers in cases:
        problem = make_problem(kind, dim, num_workers, seed=7)
        sketches = draw_perm_sketches(dim, num_workers, rounds, np.random.default_rng(3))
        for method in METHODS:
            # A step large enough that every round moves x visibly; stability is irrelevant here.
            runners = {style: RoundRunner(problem, method, style, step_size=0.05) for style in STYLES}
            x_direct = problem.start_point.copy()
            case_worst = dict.fromkeys(STYLES, 0.0)
            for kept in sketches:
                x_direct = direct_round(problem, method, x_direct, kept, 0.05)
                for style, runner in runners.items():
                    error = np.linalg.norm(runner.run(kept) - x_direct) / np.linalg.norm(x_direct)
                    case_worst[style] = np.maximum(case_worst[style], error)  # keeps NaN: a failure
            for style, error in case_worst.items():
                worst = np.maximum(worst, error)
                if not error <= 1e-12:
                    failures.append(f"{method} {kind} d={dim} n={num_workers} {style}: rel. error {error:.2e}")
    for failure in failures:
        print("MISMATCH", failure, file=sys.stderr)
    print(f"selftest: {len(cases) * len(METHODS) * len(STYLES)} (method, problem, style) cases, "
          f"{rounds} rounds each, worst relative error vs direct {worst:.1e}: "
          f"{'FAIL' if failures else 'ok'}")
    return not failures


# ----------------------------------------------------------------------------- timing

def blas_info():
    """The BLAS numpy actually loaded (from the process maps) and, for OpenBLAS, its threads."""
    file_names = {line.split()[-1] for line in open("/proc/self/maps") if "/lib" in line}
    libraries = sorted(path for path in file_names if re.match(r"lib.*(blas|lapack)", os.path.basename(path)))
    info = {"libraries": libraries, "numpy": np.__version__, "scipy": scipy.__version__}
    for path in libraries:
        if "openblas" not in path.rsplit("/", 1)[-1]:
            continue
        library = ctypes.CDLL(path)
        library.openblas_get_config.restype = ctypes.c_char_p
        library.openblas_get_corename.restype = ctypes.c_char_p
        info.update(name="OpenBLAS", config=library.openblas_get_config().decode(),
                    core=library.openblas_get_corename().decode(),
                    threads=int(library.openblas_get_num_threads()))
        return info
    info.update(name="reference or unknown", threads=1)
    return info


def time_rounds(runner, sketches, min_time):
    """Median seconds per round over ≥ min_time seconds and ≥ 3 timed rounds, after a warm-up."""
    runner.run(sketches[0])
    samples, total, index = [], 0.0, 1
    while total < min_time or len(samples) < 3:
        kept = sketches[index % len(sketches)]
        start = time.perf_counter()
        runner.run(kept)
        elapsed = time.perf_counter() - start
        samples.append(elapsed)
        total += elapsed
        index += 1
    if not np.all(np.isfinite(runner.x)):
        raise RuntimeError(f"{runner.method} {runner.style}: iterate became non-finite while timing")
    return statistics.median(samples), len(samples)


def time_rows(rows, methods, styles, min_time, seed=1):
    """One record per (row, method, style); rows are (kind, d, n)."""
    records = []
    for kind, dim, num_workers in rows:
        problem = make_problem(kind, dim, num_workers, seed)
        sketches = draw_perm_sketches(dim, num_workers, SKETCH_ROUNDS, np.random.default_rng(seed + 1))
        for method in methods:
            for style in styles:
                seconds, rounds = time_rounds(RoundRunner(problem, method, style), sketches, min_time)
                records.append(dict(method=method, kind=kind, d=dim, n=num_workers,
                                    q=dim if method == "gd" else dim // num_workers, style=style,
                                    us_per_round=seconds * 1e6, rounds_timed=rounds))
                print(f"{method:5s} {kind:6s} d={dim:6d} n={num_workers:4d} {style:10s} "
                      f"{seconds * 1e6:12.1f} us/round ({rounds} rounds)", flush=True)
        del problem
    return records


def parse_row(text):
    kind, dim, num_workers = text.split(":")
    if kind not in KINDS:
        raise argparse.ArgumentTypeError(f"row '{text}': kind must be one of {', '.join(KINDS)}")
    return kind, int(dim), int(num_workers)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--selftest", action="store_true", help="check typical == vectorised == direct")
    parser.add_argument("--time", nargs="+", type=parse_row, metavar="KIND:D:N", help="rows to time")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=list(METHODS))
    parser.add_argument("--styles", nargs="+", choices=STYLES, default=list(STYLES))
    parser.add_argument("--min-time", type=float, default=0.2, help="seconds of rounds per timing (default 0.2)")
    parser.add_argument("--json", metavar="FILE", help="write BLAS info and timings here")
    args = parser.parse_args()
    if not args.selftest and not args.time:
        parser.error("give --selftest and/or --time")
    if args.selftest and not selftest():
        return 1
    if args.time:
        blas = blas_info()
        print(f"BLAS: {blas['name']} {blas.get('config', '')} threads={blas['threads']}", flush=True)
        records = time_rows(args.time, args.methods, args.styles, args.min_time)
        if args.json:
            with open(args.json, "w") as out:
                json.dump({"blas": blas, "step_size": STEP_SIZE, "sketch_rounds": SKETCH_ROUNDS,
                           "statistic": "median of individually timed rounds", "min_time_s": args.min_time,
                           "records": records}, out, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
