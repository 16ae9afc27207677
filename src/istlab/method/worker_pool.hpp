#pragma once
// Helpers shared by the methods: running workers as TBB tasks and reducing their
// contributions in worker order, so results never depend on the thread count.

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <span>

#include "istlab/problem/quadratic.hpp"
#include "istlab/sketch/sketch.hpp"

namespace istlab {

// Below this many flops a round runs serially: spawning tasks would cost more than it saves.
inline constexpr double kParallelRoundFlops = 1e5;
// Loops over a sketch's scattered coordinates prefetch this many iterations ahead.
inline constexpr std::size_t kPrefetchDistance = 16;

// Calls work(i) for every worker i, as TBB tasks in the current task_arena when the round
// is large enough. Each worker writes only its own slot, so the split cannot change results.
template <class Work>
void for_each_worker(int num_workers, double flops_per_worker, Work&& work) {
  if (num_workers == 1 || num_workers * flops_per_worker < kParallelRoundFlops) {
    for (int worker = 0; worker < num_workers; ++worker) work(worker);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int>(0, num_workers), [&](const tbb::blocked_range<int>& range) {
    for (int worker = range.begin(); worker != range.end(); ++worker) work(worker);
  });
}

// sum = Σ_i scatter(contribution_i onto S_i), workers in order.
inline void sum_sketched(const RoundSketch& sketch, const DenseMatrix& contributions, Vector& sum) {
  sum.setZero();
  for (std::size_t worker = 0; worker < sketch.workers.size(); ++worker) {
    const auto& indices = sketch.workers[worker].indices;
    const double* values = contributions.col(static_cast<Eigen::Index>(worker)).data();
    for (std::size_t t = 0; t < indices.size(); ++t) sum[indices[t]] += values[t];
  }
}

// sum = Σ_i column i of `contributions`, workers in order for every coordinate.
inline void sum_dense(const DenseMatrix& contributions, Vector& sum) {
  const Eigen::Index dim = contributions.rows();
  const Eigen::Index workers = contributions.cols();
  if (static_cast<double>(dim * workers) < kParallelRoundFlops) {
    sum = contributions.col(0);
    for (Eigen::Index worker = 1; worker < workers; ++worker) sum += contributions.col(worker);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<Eigen::Index>(0, dim, 1024),
                    [&](const tbb::blocked_range<Eigen::Index>& range) {
                      auto block = sum.segment(range.begin(), range.size());
                      block = contributions.col(0).segment(range.begin(), range.size());
                      for (Eigen::Index worker = 1; worker < workers; ++worker)
                        block += contributions.col(worker).segment(range.begin(), range.size());
                    });
}

// x ← x − γ · (1/n) Σ_i scatter(contribution_i onto S_i), touching only kept coordinates:
// O(Σ|S_i|), not O(d), when sketches keep few coordinates. `sum` is all zeros on entry and
// is left all zeros. Per coordinate the arithmetic is that of apply_mean_step (workers in
// order, then x_j − γ·(sum_j/n)), so both give the same bits.
inline void apply_sketched_mean_step(const RoundSketch& sketch, const DenseMatrix& contributions,
                                     double step_size, Vector& sum, Vector& x) {
  const double workers = static_cast<double>(sketch.workers.size());
  for (std::size_t worker = 0; worker < sketch.workers.size(); ++worker) {
    const auto& indices = sketch.workers[worker].indices;
    const double* values = contributions.col(static_cast<Eigen::Index>(worker)).data();
    for (std::size_t t = 0; t < indices.size(); ++t) {
      if (t + kPrefetchDistance < indices.size()) __builtin_prefetch(sum.data() + indices[t + kPrefetchDistance], 1);
      sum[indices[t]] += values[t];
    }
  }
  for (const auto& kept : sketch.workers) {
    for (const int j : kept.indices) {
      x[j] -= step_size * (sum[j] / workers);
      sum[j] = 0.0;  // a coordinate kept by several workers is applied once
    }
  }
}

// x ← x − γ · (sum / n): the shared last line of every averaged method.
inline void apply_mean_step(const Vector& sum, int num_workers, double step_size, Vector& x) {
  x -= step_size * (sum / static_cast<double>(num_workers));
}

}  // namespace istlab
