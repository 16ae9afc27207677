#pragma once
// The three methods of SPEC §3; see each .cpp for its update rule.

#include <span>

#include "istlab/method/method.hpp"
#include "istlab/method/worker_pool.hpp"

namespace istlab {

class GradientDescent final : public Method {
 public:
  explicit GradientDescent(const Quadratic& problem);
  void step(const RoundSketch& sketch, double step_size, Vector& x) override;
  Communication communication(const RoundSketch& sketch) const override;

 private:
  void shared_matrix_step(double step_size, Vector& x);

  const Quadratic& problem_;
  DenseMatrix gradients_;  // column i: ∇f_i(x) (workers with their own matrices)
  Vector sum_;
};

class CompressedGradientDescent final : public Method {
 public:
  CompressedGradientDescent(const Quadratic& problem, int max_support);
  void step(const RoundSketch& sketch, double step_size, Vector& x) override;
  Communication communication(const RoundSketch& sketch) const override;

 private:
  void partition_step(const RoundSketch& sketch, double step_size, Vector& x);

  const Quadratic& problem_;
  DenseMatrix contributions_;  // column i: C_i ∇f_i(x) on S_i
  Vector sum_;
  CoordinateBlocks blocks_;
  Vector coordinate_gradient_;  // g by coordinate, for sketches that partition [d]
};

class IndependentSubnetworkTraining final : public Method {
 public:
  IndependentSubnetworkTraining(const Quadratic& problem, const MethodSpec& spec, int max_support);
  void step(const RoundSketch& sketch, double step_size, Vector& x) override;
  Communication communication(const RoundSketch& sketch) const override;

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

}  // namespace istlab
