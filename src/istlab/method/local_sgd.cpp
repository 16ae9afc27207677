#include "istlab/method/local_sgd.hpp"

#include <array>

#include "istlab/method/worker_loops.hpp"

namespace istlab {

LocalGradientDescent::LocalGradientDescent(const Quadratic& problem, const MethodSpec& spec)
    : problem_(problem),
      local_steps_(spec.local_steps),
      models_(static_cast<std::size_t>(problem.num_workers()), Vector(problem.dim())),
      gradients_(static_cast<std::size_t>(problem.num_workers()), Vector(problem.dim())),
      final_models_(problem.dim(), problem.num_workers()),
      sum_(problem.dim()) {}

void LocalGradientDescent::step(const RoundSketch& /*sketch*/, double step_size, Vector& x) {
  const double flops_per_step = problem_.is_sparse()
                                    ? 2.0 * static_cast<double>(problem_.worker_nonzeros(0))
                                    : 2.0 * problem_.dim() * problem_.dim();
  for_each_worker(problem_.num_workers(), local_steps_ * flops_per_step, [&](int worker) {
    Vector& z = models_[static_cast<std::size_t>(worker)];
    Vector& gradient = gradients_[static_cast<std::size_t>(worker)];
    z = x;
    for (int local = 0; local < local_steps_; ++local) {
      stop_->poll();
      problem_.worker_gradient(worker, z, gradient);
      z -= step_size * gradient;
    }
    final_models_.col(worker) = z;
  });
  sum_dense(final_models_, sum_);
  x = sum_ / static_cast<double>(problem_.num_workers());
}

RoundCounts LocalGradientDescent::counts(const RoundSketch& sketch) const {
  const auto d = static_cast<double>(problem_.dim());
  return worker_counts(sketch, d, d, [&](int worker, double) {
    return std::array{d, d, local_steps_ * product_flops(problem_, worker, d, d)};
  });
}

std::unique_ptr<Method> make_local_sgd(const MethodSpec& spec, const Quadratic& problem, int) {
  return std::make_unique<LocalGradientDescent>(problem, spec);
}

RoundCounts local_sgd_on_network(NetworkWorkers& workers, const MethodSpec& spec,
                                 std::uint64_t seed, std::int64_t round, NetworkModel& model) {
  workers.for_each_worker([&](int i) {
    workers.take_whole_model(i, model);
    workers.local_steps(i, seed, round, spec.local_steps);
  });
  workers.write_back(nullptr, model);
  return workers.counts({.steps = spec.local_steps});
}

// A model and a gradient per worker, and their sum.
double local_sgd_bytes(const MethodSpec&, double dim, double num_workers) {
  return sketch_bytes(dim, dim, num_workers) + 3 * num_workers * dim * 8 + dim * 8;
}

}  // namespace istlab
