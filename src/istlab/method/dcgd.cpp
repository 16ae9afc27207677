// Distributed compressed gradient descent (SPEC §3): g_i = C_i ∇f_i(x). A worker computes
// only the rows of L_i its sketch keeps.

#include "istlab/method/methods.hpp"
#include "istlab/method/worker_pool.hpp"

namespace istlab {

CompressedGradientDescent::CompressedGradientDescent(const Quadratic& problem, int max_support)
    : problem_(problem),
      contributions_(max_support, problem.num_workers()),
      sum_(Vector::Zero(problem.dim())) {}

void CompressedGradientDescent::step(const RoundSketch& sketch, double step_size, Vector& x) {
  const double row_flops = problem_.is_sparse() ? 6.0 : 2.0 * problem_.dim();
  for_each_worker(problem_.num_workers(), row_flops * static_cast<double>(sketch.workers[0].indices.size()), [&](int worker) {
    const auto& kept = sketch.workers[worker];
    double* out = contributions_.col(worker).data();
    for (std::size_t t = 0; t < kept.indices.size(); ++t) {
      const int row = kept.indices[t];
      out[t] = kept.scales[t] * (problem_.row_dot(worker, row, x) - problem_.worker_vector_entry(worker, row));
    }
  });
  apply_sketched_mean_step(sketch, contributions_, step_size, sum_, x);
}

Communication CompressedGradientDescent::communication(const RoundSketch& sketch) const {
  return {static_cast<double>(problem_.dim()), sketch.mean_support()};
}

}  // namespace istlab
