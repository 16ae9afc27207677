// Microbenchmarks of the operations a sweep repeats: a sketch draw and one round of each
// method, dense and sparse, over d and n. Counters: items (coordinates kept) and bytes of
// worker-matrix data a round reads, so time can be read against SPEC §3's cost model.

#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>

#include "istlab/method/method.hpp"
#include "istlab/problem/generators.hpp"

namespace istlab {
namespace {

Quadratic bench_problem(bool dense, int dim, int workers) {
  ProblemSpec spec;
  spec.generator = dense ? "dense" : "tridiagonal";
  spec.dim = dim;
  spec.num_workers = workers;
  spec.heterogeneity = dense ? 0.5 : 0.1;
  spec.mu = 1e-2;
  spec.seed = 1;
  return make_problem(spec);
}

void BM_SketchDraw(benchmark::State& state, SketchType type) {
  const int dim = static_cast<int>(state.range(0));
  const int workers = static_cast<int>(state.range(1));
  const Quadratic problem = bench_problem(false, dim, workers);
  const Sketcher sketcher(SketchSpec{type, SketchScale::kUnbiased, 0}, problem);
  RoundSketch round = sketcher.make_round();
  std::int64_t index = 0;
  for (auto _ : state) {
    sketcher.draw(1, index++, round);
    benchmark::DoNotOptimize(round.workers[0].indices.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(round.mean_support() * workers));
}
BENCHMARK_CAPTURE(BM_SketchDraw, perm, SketchType::kPerm)->ArgsProduct({{1 << 8, 1 << 12, 1 << 16}, {1, 16, 64}});
BENCHMARK_CAPTURE(BM_SketchDraw, rand, SketchType::kRand)->ArgsProduct({{1 << 8, 1 << 12, 1 << 16}, {1, 16, 64}});

// Sizes stay modest: every worker holds its own copy of its matrix (see issue 5).

// One round of `method` with perm sketches; range(2) = threads.
void BM_Round(benchmark::State& state, const char* method_name, bool dense) {
  const int dim = static_cast<int>(state.range(0));
  const int workers = static_cast<int>(state.range(1));
  const int threads = static_cast<int>(state.range(2));
  const Quadratic problem = bench_problem(dense, dim, workers);
  const SketchType sketch = std::string(method_name) == "gd" ? SketchType::kIdentity : SketchType::kPerm;
  const Sketcher sketcher(SketchSpec{sketch, SketchScale::kUnbiased, 0}, problem);
  auto method = make_method({.name = method_name}, problem, sketcher);
  RoundSketch round = sketcher.make_round();
  sketcher.draw(1, 0, round);
  Vector x = problem.start_point();
  const double step = 1e-3 / problem.max_worker_lambda_max();
  tbb::task_arena arena(threads);
  for (auto _ : state) arena.execute([&] { method->step(round, step, x); });

  // Worker-matrix bytes read per round (SPEC §3): gd all of L_i, dcgd rows S_i, ist block S_i×S_i.
  const double d = dim;
  const double q = round.mean_support();
  const double per_entry = dense ? 8.0 : 12.0;  // value, plus a column index when sparse
  const double entries = std::string(method_name) == "gd"   ? (dense ? d * d : 3 * d)
                         : std::string(method_name) == "dcgd" ? (dense ? q * d : 3 * q)
                                                              : (dense ? q * q : 3 * q);
  state.counters["bytes_per_round"] = entries * per_entry * workers;
  state.SetBytesProcessed(static_cast<std::int64_t>(static_cast<double>(state.iterations()) * entries * per_entry * workers));
}

void dense_args(benchmark::internal::Benchmark* bench) {
  bench->ArgsProduct({{256, 1024}, {4, 16}, {1, 2}})->UseRealTime()->Unit(benchmark::kMicrosecond);
}
void sparse_args(benchmark::internal::Benchmark* bench) {
  bench->ArgsProduct({{1 << 12, 1 << 16}, {16, 256}, {1, 2}})->UseRealTime()->Unit(benchmark::kMicrosecond);
}
BENCHMARK_CAPTURE(BM_Round, gd_dense, "gd", true)->Apply(dense_args);
BENCHMARK_CAPTURE(BM_Round, dcgd_dense, "dcgd", true)->Apply(dense_args);
BENCHMARK_CAPTURE(BM_Round, ist_dense, "ist", true)->Apply(dense_args);
BENCHMARK_CAPTURE(BM_Round, gd_sparse, "gd", false)->Apply(sparse_args);
BENCHMARK_CAPTURE(BM_Round, dcgd_sparse, "dcgd", false)->Apply(sparse_args);
BENCHMARK_CAPTURE(BM_Round, ist_sparse, "ist", false)->Apply(sparse_args);

}  // namespace
}  // namespace istlab
