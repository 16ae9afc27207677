// Independent Subnetwork Training (Shulgin & Richtárik, ICML 2024; docs/theory.md §3).
//   local_steps = 1, outer_sketch:  g_i = C_i ∇f_i(C_i x),  x ← x − γ (1/n) Σ g_i
//   local_steps = 1, no outer:      g_i = ∇f_i(C_i x)
//   local_steps = τ > 1 (Algorithm 1): z_i ← C_i x; τ times z_i ← z_i − γ C_i ∇f_i(z_i);
//                                      x ← (1/n) Σ z_i
// z_i = C_i x lives on S_i, so a worker reads only the block (L_i)[S_i, S_i] (plus all
// rows of the kept columns without the outer sketch).

#include "istlab/method/ist.hpp"

#include <array>

#include "istlab/method/worker_loops.hpp"

namespace istlab {

IndependentSubnetworkTraining::IndependentSubnetworkTraining(const Quadratic& problem,
                                                             const MethodSpec& spec,
                                                             int max_support)
    : problem_(problem),
      spec_(spec),
      submodels_(max_support, problem.num_workers()),
      contributions_(max_support, problem.num_workers()),
      sum_(Vector::Zero(problem.dim())),
      blocks_(problem.dim(), problem.num_workers()) {
  if (problem.is_sparse()) coordinate_submodel_.resize(problem.dim());
  if (!spec.outer_sketch) full_gradients_.resize(problem.dim(), problem.num_workers());
}

void IndependentSubnetworkTraining::step(const RoundSketch& sketch, double step_size, Vector& x) {
  const bool table_form = spec_.outer_sketch && spec_.local_steps == 1;
  if (problem_.is_sparse() && table_form && sketch.partition)
    return partition_step(sketch, step_size, x);
  if (problem_.is_sparse() && table_form) return sparse_step(sketch, step_size, x);
  const double support = static_cast<double>(sketch.workers[0].indices.size());
  // Work per worker in flop-equivalents, to decide whether the round is worth splitting:
  // each of the q(q+1)/2 dense block entries is a scattered read, costing about what 8
  // flops of streamed work do.
  const double flops =
      spec_.local_steps * (problem_.is_sparse() ? 6.0 * support : 4.0 * support * (support + 1)) +
      (spec_.outer_sketch ? 0.0 : 2.0 * problem_.dim() * support);
  for_each_worker(problem_.num_workers(), flops, [&](int worker) {
    const auto& kept = sketch.workers[worker];
    const std::span<const int> indices(kept.indices);
    const std::size_t size = indices.size();
    double* z = submodels_.col(worker).data();
    double* out = contributions_.col(worker).data();
    for (std::size_t t = 0; t < size; ++t) {  // z = C_i x, a gather from scattered coordinates
      if (t + kPrefetchDistance < size)
        __builtin_prefetch(x.data() + indices[t + kPrefetchDistance]);
      z[t] = kept.scales[t] * x[indices[t]];
    }

    if (spec_.local_steps > 1) {
      for (int local = 0; local < spec_.local_steps; ++local) {
        stop_->poll();
        problem_.submodel_gradient(worker, indices, z, out);
        for (std::size_t t = 0; t < size; ++t) z[t] -= step_size * kept.scales[t] * out[t];
      }
      return;
    }
    if (spec_.outer_sketch) {
      problem_.submodel_gradient(worker, indices, z, out);
      for (std::size_t t = 0; t < size; ++t) out[t] *= kept.scales[t];
      return;
    }
    auto gradient = full_gradients_.col(worker);
    gradient.setZero();
    problem_.add_worker_vector(worker, -1.0, gradient);
    problem_.add_columns(worker, indices, z, gradient);
  });

  const int workers = problem_.num_workers();
  if (spec_.local_steps > 1) {
    sum_sketched(sketch, submodels_, sum_);
    x = sum_ / static_cast<double>(workers);
    sum_.setZero();  // apply_sketched_mean_step expects zeros
  } else if (spec_.outer_sketch) {
    blocks_.locate(sketch);
    apply_sketched_mean_step(sketch, blocks_, contributions_, step_size, sum_, x);
  } else {
    sum_dense(full_gradients_, sum_);
    apply_mean_step(sum_, workers, step_size, x);
  }
}

// The table form on sparse problems, block by block over the coordinates (see
// CoordinateBlocks): first every block's z_i = C_i x, since a row's neighbours may sit in
// another block; then per block g_i = C_i ∇f_i(z_i) on its rows and the averaged step on
// its coordinates, which reads z_i only, so blocks can update x as they go.
void IndependentSubnetworkTraining::sparse_step(const RoundSketch& sketch, double step_size,
                                                Vector& x) {
  blocks_.locate(sketch);
  const int workers = problem_.num_workers();
  const double block = blocks_.size();
  for_each_block(blocks_, 2.0 * block, [&](int index) {
    for (int worker = 0; worker < workers; ++worker) {
      const auto [first, last] = blocks_.range(index, worker);
      const auto& kept = sketch.workers[worker];
      double* z = submodels_.col(worker).data();
      for (int t = first; t < last; ++t) z[t] = kept.scales[t] * x[kept.indices[t]];
    }
  });
  for_each_block(blocks_, 16.0 * block, [&](int index) {
    for (int worker = 0; worker < workers; ++worker) {
      const auto [first, last] = blocks_.range(index, worker);
      const auto& kept = sketch.workers[worker];
      double* out = contributions_.col(worker).data();
      problem_.submodel_gradient(worker, kept.indices, submodels_.col(worker).data(), out, first,
                                 last);
      for (int t = first; t < last; ++t) out[t] *= kept.scales[t];
    }
    apply_sketched_mean_step(sketch, blocks_, index, contributions_, step_size, sum_, x);
  });
}

// The table form on sparse problems with a sketch that partitions [d] (perm, d ≥ n): each
// coordinate has one owner, so the round runs coordinate by coordinate in order, streaming
// through x and L instead of gathering from scattered positions: first z = C x, then for
// each j g_j = c_j ∇f_i(z_i)_j with i = owner[j], and x_j ← x_j − γ (0 + g_j)/n. Each entry
// is summed exactly as in the worker-by-worker round, so both give the same bits.
void IndependentSubnetworkTraining::partition_step(const RoundSketch& sketch, double step_size,
                                                   Vector& x) {
  const int dim = problem_.dim();
  const double workers = problem_.num_workers();
  const double* scales = sketch.coordinate_scales.data();
  const int* owner = sketch.owner.data();
  double* z = coordinate_submodel_.data();
  for_each_range(dim, 2.0, [&](int begin, int end) {
    for (int j = begin; j < end; ++j) z[j] = scales[j] * x[j];
  });
  for_each_range(dim, 16.0, [&](int begin, int end) {
    for (int j = begin; j < end; ++j)
      apply_single_contribution(problem_.partition_submodel_gradient(j, owner, z) * scales[j],
                                step_size, workers, x[j]);
  });
}

// With the outer sketch a worker reads the block (L_i)[S_i, S_i] once per local step; without
// it, the columns S_i of every row, and it sends a full vector back.
RoundCounts IndependentSubnetworkTraining::counts(const RoundSketch& sketch) const {
  const auto d = static_cast<double>(problem_.dim());
  const double mean_kept = sketch.mean_support();
  const bool outer = spec_.outer_sketch;
  return worker_counts(sketch, mean_kept, outer ? mean_kept : d, [&](int worker, double kept) {
    const double flops = outer ? spec_.local_steps * product_flops(problem_, worker, kept, kept)
                               : product_flops(problem_, worker, d, kept);
    return std::array{kept, outer ? kept : d, flops};
  });
}

std::unique_ptr<Method> make_ist(const MethodSpec& spec, const Quadratic& problem,
                                 int max_support) {
  return std::make_unique<IndependentSubnetworkTraining>(problem, spec, max_support);
}

RoundCounts ist_on_network(NetworkWorkers& workers, const MethodSpec& spec, std::uint64_t seed,
                           std::int64_t round, NetworkModel& model) {
  const NetworkSketch& sketch = workers.draw_sketch(seed, round);
  workers.for_each_worker([&](int i) {
    workers.take_submodel(i, model, sketch);
    workers.local_steps(i, seed, round, spec.local_steps);
  });
  workers.write_back(&sketch, model);
  using Units = NetworkWorkers::Units;
  return workers.counts({.down = Units::kKept,
                         .up = Units::kKept,
                         .computed = Units::kKept,
                         .steps = spec.local_steps});
}

// Submodels and contributions on S_i; without the outer sketch a full gradient per worker.
double ist_bytes(const MethodSpec& spec, double dim, double num_workers) {
  const double support = perm_block(dim, num_workers);
  return sketch_bytes(support, dim, num_workers) +
         (spec.outer_sketch ? 3 * num_workers * support * 8 : num_workers * dim * 8);
}

// Without the outer sketch the mean step is L̄E[C]x − b̄ = ∇f for unbiased sketches, so GD's
// unit applies and there is no x^∞ to measure against; local steps keep IST's unit per step.
StepUnit ist_step_unit(const MethodSpec& spec) {
  return spec.outer_sketch ? StepUnit::kIst : StepUnit::kGradientDescent;
}
bool ist_has_fixed_point(const MethodSpec& spec) {
  return spec.outer_sketch && spec.local_steps == 1;
}

void check_ist(const MethodSpec& spec) {
  if (spec.local_steps > 1 && !spec.outer_sketch)
    throw ParameterError("local_steps", std::to_string(spec.local_steps),
                         "needs outer_sketch: true (Algorithm 1's local steps are sketched)",
                         {"outer_sketch"});
}

}  // namespace istlab
