// Distributed gradient descent (docs/theory.md §3): g_i = ∇f_i(x) = L_i x − b_i.

#include "istlab/method/gd.hpp"

#include <array>

#include "istlab/method/worker_loops.hpp"

namespace istlab {

GradientDescent::GradientDescent(const Quadratic& problem)
    : problem_(problem), sum_(problem.dim()) {
  if (!problem.workers_share_one_matrix()) gradients_.resize(problem.dim(), problem.num_workers());
}

void GradientDescent::step(const RoundSketch& /*sketch*/, double step_size, Vector& x) {
  if (problem_.workers_share_one_matrix()) return shared_matrix_step(step_size, x);
  const double flops = problem_.is_sparse() ? 2.0 * static_cast<double>(problem_.worker_nonzeros(0))
                                            : 2.0 * problem_.dim() * problem_.dim();
  for_each_worker(problem_.num_workers(), flops,
                  [&](int worker) { problem_.worker_gradient(worker, x, gradients_.col(worker)); });
  sum_dense(gradients_, sum_);
  apply_mean_step(sum_, problem_.num_workers(), step_size, x);
}

// Every L_i is a_i·A + σ_i·I: A x is one product for all workers, so compute it once and
// sum the workers' gradients a_i·(A x)_j + σ_i·x_j − β_i·c_j per coordinate, workers in
// order. Same bits as n separate products (the same formula on the same A x), in
// O(nnz + n·d) time and O(d) memory instead of O(n·nnz) and O(n·d).
void GradientDescent::shared_matrix_step(double step_size, Vector& x) {
  const int workers = problem_.num_workers();
  auto sum_range = [&](int begin, int end) {
    for (int j = begin; j < end; ++j) {
      const double product = problem_.shared_row_product(j, x);
      double sum = problem_.worker_gradient_entry(0, j, product, x[j]);
      for (int worker = 1; worker < workers; ++worker)
        sum += problem_.worker_gradient_entry(worker, j, product, x[j]);
      sum_[j] = sum;
    }
  };
  for_each_range(problem_.dim(), 6.0 + 4.0 * workers, sum_range);
  apply_mean_step(sum_, workers, step_size, x);
}

RoundCounts GradientDescent::counts(const RoundSketch& sketch) const {
  const auto d = static_cast<double>(problem_.dim());
  return worker_counts(sketch, d, d, [&](int worker, double) {
    return std::array{d, d, product_flops(problem_, worker, d, d)};
  });
}

std::unique_ptr<Method> make_gd(const MethodSpec&, const Quadratic& problem, int) {
  return std::make_unique<GradientDescent>(problem);
}

RoundCounts gd_on_network(NetworkWorkers& workers, const MethodSpec&, std::uint64_t seed,
                          std::int64_t round, NetworkModel& model) {
  workers.for_each_worker([&](int i) {
    workers.take_whole_model(i, model);
    workers.compute_gradient(i, seed, round);
  });
  workers.apply_mean_gradient(nullptr, model);
  return workers.counts({});
}

// A full gradient per worker.
double gd_bytes(const MethodSpec&, double dim, double num_workers) {
  return sketch_bytes(dim, dim, num_workers) + num_workers * dim * 8;
}

}  // namespace istlab
