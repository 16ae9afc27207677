// One round of gd, dcgd and ist (perm sketches, unbiased scale; gd uses all coordinates) on
// dense and sparse (tridiagonal) problems, over d, n and 1 or 2 worker threads.
// Name: BM_Round/<method>_<storage>/<d>/<n>/<threads>/real_time; one iteration is one round.
// Counters follow docs/theory.md §3's cost model: the worker-matrix bytes a round must read
// (gd: all of every L_i; dcgd: rows S_i; ist: the block S_i×S_i, each symmetric pair once)
// and its flops, so time can be read against bandwidth (bench/bandwidth_bench.cpp).

#include <tbb/task_arena.h>

#include <algorithm>
#include <string_view>

#include "bench_problems.hpp"
#include "istlab/method/method.hpp"

namespace istlab::bench {
namespace {

// Distinct sketch rounds cycled per benchmark (see draw_rounds).
constexpr int kSketchRounds = 16;

struct RoundCost {
  double bytes = 0.0;
  double flops = 0.0;
};

RoundCost round_cost(std::string_view method, Storage storage, double d, double n, double q) {
  constexpr double kDenseEntry = 8.0;
  constexpr double kSparseEntry = 12.0;  // value and column index
  const bool dense = storage == Storage::kDense;
  if (method == "gd")
    return dense ? RoundCost{n * d * d * kDenseEntry, 2 * n * d * d}
                 : RoundCost{n * 3 * d * kSparseEntry, 6 * n * d};
  if (method == "dcgd")
    return dense ? RoundCost{n * q * d * kDenseEntry, 2 * n * q * d}
                 : RoundCost{n * 3 * q * kSparseEntry, 6 * n * q};
  return dense ? RoundCost{n * q * (q + 1) / 2 * kDenseEntry, 2 * n * q * q}
               : RoundCost{n * 3 * q * kSparseEntry, 6 * n * q};
}

void BM_Round(benchmark::State& state, std::string_view method_name, Storage storage) {
  const int dim = static_cast<int>(state.range(0));
  const int workers = static_cast<int>(state.range(1));
  const int threads = static_cast<int>(state.range(2));
  const Quadratic& problem = cached_problem(storage, dim, workers);
  const bool is_gd = method_name == "gd";
  const Sketcher sketcher(
      SketchSpec{is_gd ? SketchType::kIdentity : SketchType::kPerm, SketchScale::kUnbiased, 0},
      problem);
  auto method = make_method({.name = std::string(method_name)}, problem, sketcher);
  // Fewer rounds of sketches at the largest d, where 16 would take gigabytes.
  const int sketch_rounds = is_gd ? 1 : std::clamp((1 << 24) / dim, 2, kSketchRounds);
  const std::vector<RoundSketch> rounds = draw_rounds(sketcher, sketch_rounds);
  Vector x = problem.start_point();
  // Small enough to stay stable for every method and n, so no run drifts into overflow.
  const double step_size = 1e-4 / (workers * problem.max_worker_lambda_max());

  tbb::task_arena arena(threads);
  arena.execute([&] {
    // An untimed round first: the method's buffers are touched for the first time there.
    method->step(rounds[0], step_size, x);
    std::size_t round = 0;
    for (auto _ : state) {
      method->step(rounds[round], step_size, x);
      round = round + 1 == rounds.size() ? 0 : round + 1;
    }
  });
  benchmark::DoNotOptimize(x.data());
  const RoundCost cost = round_cost(method_name, storage, dim, workers, rounds[0].mean_support());
  set_round_counters(state, cost.bytes, cost.flops);
}

void dense_sizes(benchmark::internal::Benchmark* bench) {
  for (int dim : {64, 256, 1024, 2048})
    for (int workers : {4, 16, 64})
      for (int threads : {1, 2}) bench->Args({dim, workers, threads});
  bench->UseRealTime()->Unit(benchmark::kMicrosecond);
}

// gd's identity sketch lists all d coordinates for every worker, so its sparse rows stop
// at n·d = 2^24; dcgd and ist go to d = 2^22 (beyond 2^20, to show growth past the caches).
void sparse_sizes(benchmark::internal::Benchmark* bench, bool full_vectors_per_worker) {
  for (int dim : {1 << 12, 1 << 14, 1 << 16, 1 << 18, 1 << 20, 1 << 22})
    for (int workers : {16, 256, 1024})
      for (int threads : {1, 2})
        if (!full_vectors_per_worker || static_cast<double>(dim) * workers <= (1 << 24))
          bench->Args({dim, workers, threads});
  bench->UseRealTime()->Unit(benchmark::kMicrosecond);
}

BENCHMARK_CAPTURE(BM_Round, gd_dense, "gd", Storage::kDense)->Apply(dense_sizes);
BENCHMARK_CAPTURE(BM_Round, dcgd_dense, "dcgd", Storage::kDense)->Apply(dense_sizes);
BENCHMARK_CAPTURE(BM_Round, ist_dense, "ist", Storage::kDense)->Apply(dense_sizes);
BENCHMARK_CAPTURE(BM_Round, gd_sparse, "gd", Storage::kSparse)->Apply([](auto* bench) {
  sparse_sizes(bench, true);
});
BENCHMARK_CAPTURE(BM_Round, dcgd_sparse, "dcgd", Storage::kSparse)->Apply([](auto* bench) {
  sparse_sizes(bench, false);
});
BENCHMARK_CAPTURE(BM_Round, ist_sparse, "ist", Storage::kSparse)->Apply([](auto* bench) {
  sparse_sizes(bench, false);
});

}  // namespace
}  // namespace istlab::bench
