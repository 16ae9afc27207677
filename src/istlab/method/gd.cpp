// Distributed gradient descent (SPEC §3): g_i = ∇f_i(x) = L_i x − b_i.

#include "istlab/method/methods.hpp"
#include "istlab/method/worker_pool.hpp"

namespace istlab {

GradientDescent::GradientDescent(const Quadratic& problem)
    : problem_(problem),
      gradients_(problem.dim(), problem.num_workers()),
      sum_(problem.dim()) {}

void GradientDescent::step(const RoundSketch& /*sketch*/, double step_size, Vector& x) {
  const double flops = problem_.is_sparse() ? 2.0 * static_cast<double>(problem_.worker_nonzeros(0))
                                            : 2.0 * problem_.dim() * problem_.dim();
  for_each_worker(problem_.num_workers(), flops,
                  [&](int worker) { problem_.worker_gradient(worker, x, gradients_.col(worker)); });
  sum_dense(gradients_, sum_);
  apply_mean_step(sum_, problem_.num_workers(), step_size, x);
}

Communication GradientDescent::communication(const RoundSketch& /*sketch*/) const {
  return {static_cast<double>(problem_.dim()), static_cast<double>(problem_.dim())};
}

}  // namespace istlab
