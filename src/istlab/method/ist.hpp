#pragma once
// Independent Subnetwork Training (Shulgin & Richtárik, ICML 2024, eq. (4) and Algorithm 1;
// docs/theory.md §3):
//   local_steps = 1, outer_sketch:  g_i = C_i ∇f_i(C_i x),  x ← x − γ (1/n) Σ_i g_i
//   local_steps = 1, no outer:      g_i = ∇f_i(C_i x)
//   local_steps = τ > 1:            z_i ← C_i x; τ times z_i ← z_i − γ C_i ∇f_i(z_i);
//                                   x ← (1/n) Σ_i z_i
// A worker receives and sends only its submodel: |S_i| floats each way.

#include "istlab/method/method.hpp"
#include "istlab/method/worker_loops.hpp"

namespace istlab {

class IndependentSubnetworkTraining final : public Method {
 public:
  IndependentSubnetworkTraining(const Quadratic& problem, const MethodSpec& spec, int max_support);
  void step(const RoundSketch& sketch, double step_size, Vector& x) override;
  RoundCounts counts(const RoundSketch& sketch) const override;

 private:
  void sparse_step(const RoundSketch& sketch, double step_size, Vector& x);
  void partition_step(const RoundSketch& sketch, double step_size, Vector& x);

  const Quadratic& problem_;
  MethodSpec spec_;
  DenseMatrix submodels_;       // column i: z_i = C_i x on S_i
  DenseMatrix contributions_;   // column i: g_i on S_i
  DenseMatrix full_gradients_;  // column i: ∇f_i(C_i x), only without the outer sketch
  Vector sum_;
  CoordinateBlocks blocks_;
  Vector coordinate_submodel_;  // z = C x by coordinate, for sketches that partition [d]
};

// The registry's hooks (method.cpp). On a network worker i copies its submodel (units S_i,
// activations scaled by c_ij) and takes τ local steps z ← z − γ ∇f_i(z) on its batches (the
// paper's Algorithm 1; Yuan et al.'s IST); the server writes the blocks back: unit j ← the
// mean of the blocks of the workers that held it (unchanged when none did), b2 ← the mean.
std::unique_ptr<Method> make_ist(const MethodSpec& spec, const Quadratic& problem, int max_support);
RoundCounts ist_on_network(NetworkWorkers& workers, const MethodSpec& spec, std::uint64_t seed,
                           std::int64_t round, NetworkModel& model);
double ist_bytes(const MethodSpec& spec, double dim, double num_workers);
// x^∞ and 1/λ_max(E[B̄]) describe the table form (outer sketch, one local step).
StepUnit ist_step_unit(const MethodSpec& spec);
bool ist_has_fixed_point(const MethodSpec& spec);
void check_ist(const MethodSpec& spec);  // local steps need the outer sketch

}  // namespace istlab
