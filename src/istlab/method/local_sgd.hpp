#pragma once
// Local gradient descent (local SGD with exact gradients; the baseline federated learning
// uses, and IST's without sketches): every worker starts from x, takes τ local steps
//   z_i ← z_i − γ ∇f_i(z_i)
// on its own f_i, and the server averages: x ← (1/n) Σ_i z_i. τ = 1 is gd. Every worker
// receives and sends d floats per round.

#include "istlab/method/method.hpp"

namespace istlab {

class LocalGradientDescent final : public Method {
 public:
  LocalGradientDescent(const Quadratic& problem, const MethodSpec& spec);
  void step(const RoundSketch& sketch, double step_size, Vector& x) override;
  RoundCounts counts(const RoundSketch& sketch) const override;

 private:
  const Quadratic& problem_;
  int local_steps_;
  std::vector<Vector> models_;     // z_i
  std::vector<Vector> gradients_;  // ∇f_i(z_i)
  DenseMatrix final_models_;       // column i: z_i after τ steps, summed in worker order
  Vector sum_;
};

// The registry's hooks (method.cpp): the quadratic round; the network round (τ local steps
// on the full model, then the n models are averaged); the buffers' bytes.
std::unique_ptr<Method> make_local_sgd(const MethodSpec& spec, const Quadratic& problem,
                                       int max_support);
RoundCounts local_sgd_on_network(NetworkWorkers& workers, const MethodSpec& spec,
                                 std::uint64_t seed, std::int64_t round, NetworkModel& model);
double local_sgd_bytes(const MethodSpec& spec, double dim, double num_workers);

}  // namespace istlab
