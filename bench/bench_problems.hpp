#pragma once
// Problems and sketches shared by the benchmarks: each problem is built once per size and
// kept, since Google Benchmark calls a benchmark function several times per argument set.

#include <benchmark/benchmark.h>

#include <vector>

#include "istlab/problem/quadratic.hpp"
#include "istlab/sketch/sketch.hpp"

namespace istlab::bench {

enum class Storage { kDense, kSparse };

// dense:  L_i = 3·I + (G_i + G_iᵀ)/(2√d), G_i Gaussian (SPD, eigenvalues ≈ [1.6, 4.4]),
//         b_i ~ N(0, I/d). Built in O(n·d²), unlike the dense generator's QR, so d = 2048
//         with 64 workers takes seconds; a round's time does not depend on the values.
//         bench/numpy_reference.py builds the same problems.
// sparse: the tridiagonal generator (s = 0.1, mu = 1e-2, b_i ≠ 0), stored as one shared T.
const Quadratic& cached_problem(Storage storage, int dim, int num_workers);

// `count` consecutive rounds of sketches, cycled by a benchmark: a run draws new sketches
// every round, so a benchmark that reused one sketch would find its blocks in cache.
std::vector<RoundSketch> draw_rounds(const Sketcher& sketcher, int count);

// Sets bytes_per_round and flops_per_round (docs/theory.md §3's cost model) and the matching rates.
void set_round_counters(benchmark::State& state, double bytes_per_round, double flops_per_round);

}  // namespace istlab::bench
