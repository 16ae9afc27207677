// A STREAM-like triad a = b + s·c, the reference for what this machine can move: the dense
// gd round's bytes/s is reported as a fraction of it. Bytes per element: 24 (read b and c,
// write a; STREAM's convention, which does not count the write-allocate read of a).
// Sizes: in cache, around the last-level cache, and well beyond it; 1 or 2 threads.

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>
#include <tbb/task_arena.h>

#include "bench_problems.hpp"

namespace istlab::bench {
namespace {

void BM_Triad(benchmark::State& state) {
  const auto elements = static_cast<Eigen::Index>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  Vector a = Vector::Zero(elements);
  const Vector b = Vector::Constant(elements, 1.0);
  const Vector c = Vector::Constant(elements, 2.0);
  constexpr double kScalar = 3.0;
  tbb::task_arena arena(threads);
  auto triad = [&] {
    // One contiguous chunk per thread, as each thread streams its own part.
    tbb::parallel_for(
        tbb::blocked_range<Eigen::Index>(0, elements,
                                         std::max<Eigen::Index>(1, elements / threads)),
        [&](const tbb::blocked_range<Eigen::Index>& range) {
          const auto begin = range.begin();
          const auto size = range.size();
          a.segment(begin, size) = b.segment(begin, size) + kScalar * c.segment(begin, size);
        },
        tbb::simple_partitioner());
    benchmark::ClobberMemory();
  };
  arena.execute([&] {
    // Untimed passes first: the first touches of fresh pages cost more than the streaming
    // (the hypervisor backs them lazily), and large sizes run only a few timed passes.
    for (int warm_up = 0; warm_up < 2; ++warm_up) triad();
    for (auto _ : state) triad();
  });
  benchmark::DoNotOptimize(a.data());
  const double bytes = 24.0 * static_cast<double>(elements);
  state.counters["bytes_per_round"] = bytes;
  state.counters["bytes_per_second"] = benchmark::Counter(
      bytes * static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

BENCHMARK(BM_Triad)
    ->ArgNames({"elements", "threads"})
    ->ArgsProduct({{1 << 16, 1 << 20, 1 << 23, 1 << 26, 1 << 27}, {1, 2}})
    ->UseRealTime()
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace istlab::bench
