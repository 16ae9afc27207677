#pragma once
// Distributed compressed gradient descent (docs/theory.md §3), the sketch as compressor:
//   g_i = C_i ∇f_i(x),   x ← x − γ (1/n) Σ_i g_i.
// A worker computes only the rows of L_i its sketch keeps, receives d floats and sends |S_i|.

#include "istlab/method/method.hpp"
#include "istlab/method/worker_loops.hpp"

namespace istlab {

class CompressedGradientDescent final : public Method {
 public:
  CompressedGradientDescent(const Quadratic& problem, int max_support);
  void step(const RoundSketch& sketch, double step_size, Vector& x) override;
  RoundCounts counts(const RoundSketch& sketch) const override;

 private:
  void partition_step(const RoundSketch& sketch, double step_size, Vector& x);

  const Quadratic& problem_;
  DenseMatrix contributions_;  // column i: C_i ∇f_i(x) on S_i
  Vector sum_;
  CoordinateBlocks blocks_;
  Vector coordinate_gradient_;  // g by coordinate, for sketches that partition [d]
};

// The registry's hooks (method.cpp): the quadratic round; the network round (every worker
// the full model's gradient, its unit blocks weighted by c_ij (kept) or 0 and the output
// bias sent whole; the mean step); the buffers' bytes.
std::unique_ptr<Method> make_dcgd(const MethodSpec& spec, const Quadratic& problem,
                                  int max_support);
RoundCounts dcgd_on_network(NetworkWorkers& workers, const MethodSpec& spec, std::uint64_t seed,
                            std::int64_t round, NetworkModel& model);
double dcgd_bytes(const MethodSpec& spec, double dim, double num_workers);

}  // namespace istlab
