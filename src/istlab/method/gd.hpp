#pragma once
// Distributed gradient descent (docs/theory.md §3; the baseline of Shulgin & Richtárik, ICML 2024):
//   g_i = ∇f_i(x) = L_i x − b_i,   x ← x − γ (1/n) Σ_i g_i.
// Every worker sends and receives d floats per round.

#include "istlab/method/method.hpp"

namespace istlab {

class GradientDescent final : public Method {
 public:
  explicit GradientDescent(const Quadratic& problem);
  void step(const RoundSketch& sketch, double step_size, Vector& x) override;
  RoundCounts counts(const RoundSketch& sketch) const override;

 private:
  void shared_matrix_step(double step_size, Vector& x);

  const Quadratic& problem_;
  DenseMatrix gradients_;  // column i: ∇f_i(x) (workers with their own matrices)
  Vector sum_;
};

// The registry's hooks (method.cpp): the quadratic round, the network round (every worker
// the full model's gradient on its batch, the mean step), and the buffers' bytes.
std::unique_ptr<Method> make_gd(const MethodSpec& spec, const Quadratic& problem, int max_support);
RoundCounts gd_on_network(NetworkWorkers& workers, const MethodSpec& spec, std::uint64_t seed,
                          std::int64_t round, NetworkModel& model);
double gd_bytes(const MethodSpec& spec, double dim, double num_workers);

}  // namespace istlab
