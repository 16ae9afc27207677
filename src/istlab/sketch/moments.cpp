// Exact first and second moments of each sketch (docs/theory.md §2), in closed form.

#include <cmath>

#include "istlab/sketch/sketch.hpp"

namespace istlab {
namespace {

// A sketch that keeps each coordinate with probability `keep` at the fixed scale
// scale_value(unbiased), and each pair with probability `pair`.
WorkerMoments fixed_scale_moments(SketchScale scale, const Vector& diagonal, double unbiased,
                                  double keep, double pair) {
  const auto dim = diagonal.size();
  WorkerMoments moments;
  moments.pair_scale.resize(dim);
  for (Eigen::Index j = 0; j < dim; ++j)
    moments.pair_scale[j] = scale_value(scale, unbiased, diagonal[j]);
  moments.first = keep * moments.pair_scale;
  moments.second_diagonal = keep * moments.pair_scale.cwiseAbs2();
  moments.pair_probability = pair;
  return moments;
}

}  // namespace

DenseMatrix WorkerMoments::second_matrix() const {
  DenseMatrix matrix = pair_probability * pair_scale * pair_scale.transpose();
  matrix.diagonal() = second_diagonal;
  return matrix;
}

WorkerMoments worker_moments(const SketchSpec& spec, const Quadratic& problem, int worker) {
  const int dim = problem.dim();
  const int workers = problem.num_workers();
  const double d = dim;
  const double n = workers;
  const Vector diagonal = problem.worker_diagonal(worker);
  switch (spec.type) {
    case SketchType::kIdentity:
      return fixed_scale_moments(spec.scale, diagonal, 1.0, 1.0, 1.0);
    case SketchType::kRand: {
      const double q = spec.resolved_rand_q(dim, workers);
      const double pair = dim > 1 ? q * (q - 1) / (d * (d - 1)) : 0.0;
      return fixed_scale_moments(spec.scale, diagonal, d / q, q / d, pair);
    }
    case SketchType::kPerm:
      break;
  }
  if (dim >= workers) {
    // Block size is base+1 with probability (d mod n)/n, else base; given its size
    // the block is a uniform subset, so P(j,k ∈ S_i) = E[size(size−1)] / (d(d−1)).
    const double base = dim / workers;
    const double larger_share = static_cast<double>(dim % workers) / n;
    const double size_pairs =
        larger_share * (base + 1) * base + (1 - larger_share) * base * (base - 1);
    const double pair = dim > 1 ? size_pairs / (d * (d - 1)) : 0.0;
    return fixed_scale_moments(spec.scale, diagonal, n, 1.0 / n, pair);
  }
  // d < n: one coordinate per worker, held by m = base or base+1 workers with
  // P(j ∈ S_i, m_j = base+1) = r(base+1)/(nd) and P(j ∈ S_i, m_j = base) = (d−r)base/(nd).
  const int base = workers / dim;
  const int larger = workers % dim;
  const double p_larger = larger * (base + 1.0) / (n * d);
  const double p_base = (dim - larger) * static_cast<double>(base) / (n * d);
  WorkerMoments moments;
  moments.first.resize(dim);
  moments.second_diagonal.resize(dim);
  moments.pair_scale = Vector::Zero(dim);
  moments.pair_probability = 0.0;  // a worker never keeps two coordinates
  for (int j = 0; j < dim; ++j) {
    const double c_larger = scale_value(spec.scale, n / (base + 1), diagonal[j]);
    const double c_base = scale_value(spec.scale, n / base, diagonal[j]);
    moments.first[j] = p_larger * c_larger + p_base * c_base;
    moments.second_diagonal[j] = p_larger * c_larger * c_larger + p_base * c_base * c_base;
  }
  return moments;
}

std::vector<WorkerMoments> sketch_moments(const SketchSpec& spec, const Quadratic& problem) {
  std::vector<WorkerMoments> moments;
  moments.reserve(problem.num_workers());
  for (int worker = 0; worker < problem.num_workers(); ++worker)
    moments.push_back(worker_moments(spec, problem, worker));
  return moments;
}

}  // namespace istlab
