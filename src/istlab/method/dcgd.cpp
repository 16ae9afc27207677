// Distributed compressed gradient descent (docs/theory.md §3): g_i = C_i ∇f_i(x). A worker computes
// only the rows of L_i its sketch keeps.

#include "istlab/method/dcgd.hpp"

#include <array>

#include "istlab/method/worker_loops.hpp"

namespace istlab {

CompressedGradientDescent::CompressedGradientDescent(const Quadratic& problem, int max_support)
    : problem_(problem),
      contributions_(max_support, problem.num_workers()),
      sum_(Vector::Zero(problem.dim())),
      blocks_(problem.dim(), problem.num_workers()) {
  if (problem.is_sparse()) coordinate_gradient_.resize(problem.dim());
}

void CompressedGradientDescent::step(const RoundSketch& sketch, double step_size, Vector& x) {
  if (problem_.is_sparse() && sketch.partition) return partition_step(sketch, step_size, x);
  blocks_.locate(sketch);
  // Positions [first, last) of worker i's g_i = C_i ∇f_i(x) on S_i.
  auto compute_rows = [&](int worker, int first, int last) {
    const auto& kept = sketch.workers[worker];
    double* out = contributions_.col(worker).data();
    for (int t = first; t < last; ++t) {
      const int row = kept.indices[t];
      out[t] = kept.scales[t] *
               (problem_.row_dot(worker, row, x) - problem_.worker_vector_entry(worker, row));
    }
  };
  if (problem_.is_sparse()) {
    // Short scattered rows: block by block over the coordinates (see CoordinateBlocks).
    for_each_block(blocks_, 8.0 * blocks_.size(), [&](int block) {
      for (int worker = 0; worker < problem_.num_workers(); ++worker) {
        const auto [first, last] = blocks_.range(block, worker);
        compute_rows(worker, first, last);
      }
    });
  } else {
    // Dense rows are long contiguous columns (L_i is symmetric): worker by worker.
    const double flops =
        2.0 * problem_.dim() * static_cast<double>(sketch.workers[0].indices.size());
    for_each_worker(problem_.num_workers(), flops, [&](int worker) {
      compute_rows(worker, 0, static_cast<int>(sketch.workers[worker].indices.size()));
    });
  }
  apply_sketched_mean_step(sketch, blocks_, contributions_, step_size, sum_, x);
}

// Sparse problems with a sketch that partitions [d] (perm, d ≥ n): each coordinate has one
// owner, so the round streams through x and L coordinate by coordinate: first every
// g_j = c_j ∇f_i(x)_j with i = owner[j] (rows read x, so all of them before any update),
// then x_j ← x_j − γ (0 + g_j)/n: the arithmetic of the worker-by-worker round, same bits.
void CompressedGradientDescent::partition_step(const RoundSketch& sketch, double step_size,
                                               Vector& x) {
  const int dim = problem_.dim();
  const double workers = problem_.num_workers();
  const double* scales = sketch.coordinate_scales.data();
  const int* owner = sketch.owner.data();
  double* gradient = coordinate_gradient_.data();
  for_each_range(dim, 8.0, [&](int begin, int end) {
    for (int j = begin; j < end; ++j)
      gradient[j] = scales[j] * problem_.partition_row_gradient(j, owner, x);
  });
  for_each_range(dim, 2.0, [&](int begin, int end) {
    for (int j = begin; j < end; ++j)
      apply_single_contribution(gradient[j], step_size, workers, x[j]);
  });
}

// A worker computes only the rows S_i of L_i x − b_i.
RoundCounts CompressedGradientDescent::counts(const RoundSketch& sketch) const {
  const auto d = static_cast<double>(problem_.dim());
  return worker_counts(sketch, d, sketch.mean_support(), [&](int worker, double kept) {
    return std::array{d, kept, product_flops(problem_, worker, kept, d)};
  });
}

std::unique_ptr<Method> make_dcgd(const MethodSpec&, const Quadratic& problem, int max_support) {
  return std::make_unique<CompressedGradientDescent>(problem, max_support);
}

RoundCounts dcgd_on_network(NetworkWorkers& workers, const MethodSpec&, std::uint64_t seed,
                            std::int64_t round, NetworkModel& model) {
  const NetworkSketch& sketch = workers.draw_sketch(seed, round);
  workers.for_each_worker([&](int i) {
    workers.take_whole_model(i, model);
    workers.compute_gradient(i, seed, round);
  });
  workers.apply_mean_gradient(&sketch, model);
  using Units = NetworkWorkers::Units;
  return workers.counts({.down = Units::kAll, .up = Units::kKept, .computed = Units::kAll});
}

// Per worker: its kept rows' contributions, plus scratch of the same size.
double dcgd_bytes(const MethodSpec&, double dim, double num_workers) {
  const double support = perm_block(dim, num_workers);
  return sketch_bytes(support, dim, num_workers) + 3 * num_workers * support * 8;
}

}  // namespace istlab
