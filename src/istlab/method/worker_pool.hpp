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
  tbb::parallel_for(tbb::blocked_range<Eigen::Index>(0, dim, 1024),
                    [&](const tbb::blocked_range<Eigen::Index>& range) {
                      auto block = sum.segment(range.begin(), range.size());
                      block = contributions.col(0).segment(range.begin(), range.size());
                      for (Eigen::Index worker = 1; worker < workers; ++worker)
                        block += contributions.col(worker).segment(range.begin(), range.size());
                    });
}

// x ← x − γ · (sum / n): the shared last line of every averaged method.
inline void apply_mean_step(const Vector& sum, int num_workers, double step_size, Vector& x) {
  x -= step_size * (sum / static_cast<double>(num_workers));
}

}  // namespace istlab
