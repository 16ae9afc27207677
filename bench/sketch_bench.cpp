// A sketch draw: perm (one permutation of [d] cut into n blocks) and rand (q = ⌈d/n⌉
// coordinates per worker) over d and n. items/s counts coordinates kept per second.

#include "bench_problems.hpp"

namespace istlab::bench {
namespace {

void BM_SketchDraw(benchmark::State& state, SketchType type) {
  const int dim = static_cast<int>(state.range(0));
  const int workers = static_cast<int>(state.range(1));
  // The sketch reads only d and n from the problem (and Diag(L_i) for diag_precond).
  const Quadratic& problem = cached_problem(Storage::kSparse, dim, workers);
  const Sketcher sketcher(SketchSpec{type, SketchScale::kUnbiased, 0}, problem);
  RoundSketch round = sketcher.make_round();
  std::int64_t round_index = 0;
  for (auto _ : state) {
    sketcher.draw(1, round_index++, round);
    benchmark::DoNotOptimize(round.workers[0].indices.data());
  }
  const double kept = round.mean_support() * workers;
  state.SetItemsProcessed(
      static_cast<std::int64_t>(static_cast<double>(state.iterations()) * kept));
  state.counters["coordinates_per_round"] = kept;
}

void draw_sizes(benchmark::internal::Benchmark* bench) {
  bench->ArgNames({"d", "n"});
  for (int dim : {1 << 8, 1 << 12, 1 << 16, 1 << 20})
    for (int workers : {1, 4, 16, 64, 256, 1024})
      if (workers <= dim) bench->Args({dim, workers});
  bench->Unit(benchmark::kMicrosecond);
}

BENCHMARK_CAPTURE(BM_SketchDraw, perm, SketchType::kPerm)->Apply(draw_sizes);
BENCHMARK_CAPTURE(BM_SketchDraw, rand, SketchType::kRand)->Apply(draw_sizes);

}  // namespace
}  // namespace istlab::bench
