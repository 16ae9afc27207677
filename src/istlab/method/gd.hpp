#pragma once
// Distributed gradient descent (SPEC §3; the baseline of Shulgin & Richtárik, ICML 2024):
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

}  // namespace istlab
