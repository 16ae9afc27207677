#pragma once
// Loops over workers and over blocks of coordinates, and sums of workers' contributions
// in worker order: what the methods share, so results never depend on the thread count.

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <span>
#include <utility>
#include <vector>

#include "istlab/method/counts.hpp"
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
  tbb::parallel_for(tbb::blocked_range<int>(0, num_workers),
                    [&](const tbb::blocked_range<int>& range) {
                      for (int worker = range.begin(); worker != range.end(); ++worker)
                        work(worker);
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

// Sparse rounds run block by block over the coordinates: a block's entries of x, of L_i
// and of the sums stay in cache while every worker's kept coordinates in it are processed,
// where a worker-by-worker round strides each worker over all of x and L (n times the
// memory traffic once d outgrows the caches). Blocks also split a round across threads
// when workers are few. Within a block workers run in order, so results do not change.
class CoordinateBlocks {
 public:
  // Blocks of at least 4096 coordinates, and at least 32 per worker on average, so the
  // per-(block, worker) bookkeeping stays small next to the work.
  CoordinateBlocks(int dim, int num_workers)
      : block_size_(std::max(4096, 32 * num_workers)),
        count_((dim + block_size_ - 1) / block_size_),
        num_workers_(num_workers),
        starts_(static_cast<std::size_t>(count_ + 1) * num_workers) {}

  // Finds where each block starts in every worker's sorted S_i: O(Σ|S_i| + n·blocks).
  void locate(const RoundSketch& sketch) {
    for_each_worker(num_workers_, sketch.mean_support(), [&](int worker) {
      const auto& indices = sketch.workers[worker].indices;
      std::size_t t = 0;
      for (int block = 0; block < count_; ++block) {
        start(block, worker) = static_cast<int>(t);
        const int end = (block + 1) * block_size_;
        while (t < indices.size() && indices[t] < end) ++t;
      }
      start(count_, worker) = static_cast<int>(t);
    });
  }
  int count() const { return count_; }
  int size() const { return block_size_; }
  // Positions [first, second) of `worker`'s S_i whose coordinates lie in `block`.
  std::pair<int, int> range(int block, int worker) const {
    return {starts_[index(block, worker)], starts_[index(block + 1, worker)]};
  }

 private:
  // Block-major: a block's loop over workers reads consecutive entries.
  std::size_t index(int block, int worker) const {
    return static_cast<std::size_t>(block) * num_workers_ + worker;
  }
  int& start(int block, int worker) { return starts_[index(block, worker)]; }

  int block_size_;
  int count_;
  int num_workers_;
  std::vector<int> starts_;
};

// Calls work(begin, end) on consecutive ranges of [0, dim), as TBB tasks when the work
// (flops per coordinate × dim) is large enough.
template <class Work>
void for_each_range(int dim, double flops_per_coordinate, Work&& work) {
  constexpr int kRange = 4096;
  if (dim <= kRange || dim * flops_per_coordinate < kParallelRoundFlops) {
    work(0, dim);
    return;
  }
  tbb::parallel_for(
      tbb::blocked_range<int>(0, dim, kRange),
      [&](const tbb::blocked_range<int>& range) { work(range.begin(), range.end()); });
}

// Calls work(block) for every block, as TBB tasks when the round is large enough.
template <class Work>
void for_each_block(const CoordinateBlocks& blocks, double flops_per_block, Work&& work) {
  if (blocks.count() == 1 || blocks.count() * flops_per_block < kParallelRoundFlops) {
    for (int block = 0; block < blocks.count(); ++block) work(block);
    return;
  }
  tbb::parallel_for(tbb::blocked_range<int>(0, blocks.count()),
                    [&](const tbb::blocked_range<int>& range) {
                      for (int block = range.begin(); block != range.end(); ++block) work(block);
                    });
}

// x ← x − γ · (1/n) Σ_i scatter(contribution_i onto S_i) on the coordinates of one block,
// touching only kept coordinates: O(Σ|S_i|), not O(d), when sketches keep few of them.
// `sum` is all zeros on entry and is left all zeros. Per coordinate the arithmetic is that
// of apply_mean_step (workers in order, then x_j − γ·(sum_j/n)), so both give the same bits.
inline void apply_sketched_mean_step(const RoundSketch& sketch, const CoordinateBlocks& blocks,
                                     int block, const DenseMatrix& contributions, double step_size,
                                     Vector& sum, Vector& x) {
  const int workers = static_cast<int>(sketch.workers.size());
  for (int worker = 0; worker < workers; ++worker) {
    const auto [first, last] = blocks.range(block, worker);
    const int* indices = sketch.workers[worker].indices.data();
    const double* values = contributions.col(worker).data();
    for (int t = first; t < last; ++t) sum[indices[t]] += values[t];
  }
  for (int worker = 0; worker < workers; ++worker) {
    const auto [first, last] = blocks.range(block, worker);
    const int* indices = sketch.workers[worker].indices.data();
    for (int t = first; t < last; ++t) {
      const int j = indices[t];
      x[j] -= step_size * (sum[j] / workers);
      sum[j] = 0.0;  // a coordinate kept by several workers is applied once
    }
  }
}

// x_j ← x_j − γ·(0 + g_j)/n for a coordinate only one worker keeps: apply_sketched_mean_step's
// arithmetic for it (the sum starts at zero), so rounds that run coordinate by coordinate
// give the same bits as the worker-by-worker round.
inline void apply_single_contribution(double contribution, double step_size, double num_workers,
                                      double& x_j) {
  double sum = 0.0;
  sum += contribution;
  x_j -= step_size * (sum / num_workers);
}

// The same step on every block. `blocks` must be located for this round.
inline void apply_sketched_mean_step(const RoundSketch& sketch, const CoordinateBlocks& blocks,
                                     const DenseMatrix& contributions, double step_size,
                                     Vector& sum, Vector& x) {
  for_each_block(blocks, 4.0 * blocks.size(), [&](int block) {
    apply_sketched_mean_step(sketch, blocks, block, contributions, step_size, sum, x);
  });
}

// x ← x − γ · (sum / n): the shared last line of every averaged method.
inline void apply_mean_step(const Vector& sum, int num_workers, double step_size, Vector& x) {
  x -= step_size * (sum / static_cast<double>(num_workers));
}

// Flops of multiplying `rows` rows of worker i's L_i, restricted to `columns` columns, by a
// vector: 2 per entry read (a sparse row's entries whatever the columns kept).
inline double product_flops(const Quadratic& problem, int worker, double rows, double columns) {
  if (!problem.is_sparse()) return 2.0 * rows * columns;
  return 2.0 * rows * static_cast<double>(problem.worker_nonzeros(worker)) /
         static_cast<double>(problem.dim());
}

// A round's counts: docs/theory.md §3's mean floats as the methods have always reported them, and
// per worker i (floats down, floats up, flops) = per_worker(i, |S_i|) for the maxima and the mean
// flops.
template <class PerWorker>
RoundCounts worker_counts(const RoundSketch& sketch, double mean_down, double mean_up,
                          PerWorker per_worker) {
  RoundCounts counts;
  const auto workers = static_cast<double>(sketch.workers.size());
  for (std::size_t i = 0; i < sketch.workers.size(); ++i) {
    const auto [down, up, flops] =
        per_worker(static_cast<int>(i), static_cast<double>(sketch.workers[i].indices.size()));
    counts.add_worker(down, up, flops, workers);
  }
  counts.floats_down = mean_down;
  counts.floats_up = mean_up;
  return counts;
}

}  // namespace istlab
