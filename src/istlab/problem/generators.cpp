#include "istlab/problem/generators.hpp"

#include <fmt/core.h>

#include <Eigen/QR>
#include <array>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "istlab/random/random_stream.hpp"

namespace istlab {
namespace {

// Sub-streams of the problem stream, so adding a draw to one part never shifts another.
enum ProblemPart : std::uint64_t {
  kWorkerScalars = 0,
  kSharedMatrix = 1,
  kWorkerMatrix = 2,
  kSharedVector = 3,
  kWorkerVector = 4,
  kStartPoint = 5,
};

RandomStream part_stream(const ProblemSpec& spec, ProblemPart part, int worker = 0) {
  return RandomStream(spec.seed, StreamPurpose::kProblem, part, static_cast<std::uint64_t>(worker));
}

// Szlendak, Tyurin, Richtárik (ICLR 2022): L_i = (ν_s/4)·tridiag(−1, 2, −1),
// b_i = (ν_s/4)(−1 + ν_b)e_1, then a common shift so that λ_min(L̄) = mu.
Quadratic make_tridiagonal(const ProblemSpec& spec, const ParallelFor& /*parallel_for*/) {
  const int dim = spec.dim;
  const int workers = spec.num_workers;
  std::vector<double> nu_s(workers);
  std::vector<double> nu_b(workers);
  double mean_nu_s = 0.0;
  for (int worker = 0; worker < workers; ++worker) {
    RandomStream stream = part_stream(spec, kWorkerScalars, worker);
    nu_s[worker] = 1.0 + spec.heterogeneity * stream.normal();
    nu_b[worker] = spec.heterogeneity * stream.normal();
    mean_nu_s += nu_s[worker] / workers;
  }
  // λ(T) = 2 − 2cos(kπ/(d+1)); the smallest eigenvalue of (ν̄/4)T depends on ν̄'s sign.
  const double angle = std::numbers::pi / (dim + 1);
  const double t_min = 2.0 - 2.0 * std::cos(angle);
  const double t_max = 2.0 + 2.0 * std::cos(angle);
  const double mean_lambda_min = mean_nu_s >= 0.0 ? mean_nu_s / 4 * t_min : mean_nu_s / 4 * t_max;
  const double shift = spec.mu - mean_lambda_min;

  // Every worker is a multiple of T plus the common shift: store T once (Quadratic's
  // scaled form), so memory is O(d + n), not O(n·d).
  std::vector<Eigen::Triplet<double>> entries;
  entries.reserve(3 * static_cast<std::size_t>(dim));
  for (int j = 0; j < dim; ++j) {
    entries.emplace_back(j, j, 2.0);
    if (j + 1 < dim) {
      entries.emplace_back(j, j + 1, -1.0);
      entries.emplace_back(j + 1, j, -1.0);
    }
  }
  SparseMatrix tridiagonal(dim, dim);
  tridiagonal.setFromTriplets(entries.begin(), entries.end());
  Vector matrix_scales(workers);
  Vector vector_scales(workers);
  for (int worker = 0; worker < workers; ++worker) {
    matrix_scales[worker] = nu_s[worker] / 4.0;
    vector_scales[worker] =
        spec.interpolation ? 0.0 : matrix_scales[worker] * (-1.0 + nu_b[worker]);
  }
  Vector first_unit = Vector::Zero(dim);
  first_unit[0] = 1.0;
  Vector start = first_unit * std::sqrt(static_cast<double>(dim));
  return Quadratic::scaled_sparse(std::move(tridiagonal), matrix_scales, shift,
                                  std::move(first_unit), vector_scales, std::move(start));
}

Vector gaussian_vector(RandomStream& stream, int dim, double std_dev) {
  Vector vector(dim);
  for (int j = 0; j < dim; ++j) vector[j] = std_dev * stream.normal();
  return vector;
}

// Q Λ Qᵀ with Q from the QR of a Gaussian matrix and Λ log-uniform in [1, kappa].
DenseMatrix random_spd(RandomStream& stream, int dim, double kappa) {
  DenseMatrix gaussian(dim, dim);
  for (int col = 0; col < dim; ++col)
    for (int row = 0; row < dim; ++row) gaussian(row, col) = stream.normal();
  const DenseMatrix orthogonal = Eigen::HouseholderQR<DenseMatrix>(gaussian).householderQ();
  Vector eigenvalues(dim);
  for (int j = 0; j < dim; ++j) eigenvalues[j] = std::pow(kappa, stream.uniform());
  DenseMatrix spd = orthogonal * eigenvalues.asDiagonal() * orthogonal.transpose();
  return 0.5 * (spd + spd.transpose());  // exact symmetry despite rounding
}

// L_i = (1−h)·S + h·P_i, b_i = (1−h)·c + h·ξ_i.
Quadratic make_dense(const ProblemSpec& spec, const ParallelFor& parallel_for) {
  const int dim = spec.dim;
  const double h = spec.heterogeneity;
  const double vector_std = 1.0 / std::sqrt(static_cast<double>(dim));
  RandomStream shared_matrix_stream = part_stream(spec, kSharedMatrix);
  const DenseMatrix shared = random_spd(shared_matrix_stream, dim, spec.kappa);
  RandomStream shared_vector_stream = part_stream(spec, kSharedVector);
  const Vector shared_vector = gaussian_vector(shared_vector_stream, dim, vector_std);

  std::vector<DenseMatrix> matrices(spec.num_workers);
  std::vector<Vector> vectors(spec.num_workers);
  parallel_for(spec.num_workers, [&](int worker) {
    if (h == 0.0) {
      matrices[worker] = shared;
    } else {
      RandomStream stream = part_stream(spec, kWorkerMatrix, worker);
      matrices[worker] = (1.0 - h) * shared + h * random_spd(stream, dim, spec.kappa);
    }
    if (spec.interpolation) {
      vectors[worker] = Vector::Zero(dim);
    } else {
      RandomStream stream = part_stream(spec, kWorkerVector, worker);
      vectors[worker] = (1.0 - h) * shared_vector + h * gaussian_vector(stream, dim, vector_std);
    }
  });
  RandomStream start_stream = part_stream(spec, kStartPoint);
  Vector start = gaussian_vector(start_stream, dim, vector_std);
  return Quadratic::dense(std::move(matrices), std::move(vectors), std::move(start));
}

// The paper's 2×2 example: L = [[1, 5], [5, 100]] on every worker, b = 0. The start point
// is the unit eigenvector of W̄'s negative eigenvalue for Perm-1 (where E[B̄] = 2·Diag(L)),
// so f grows along IST's mean step from the first round.
Quadratic make_counterexample(const ProblemSpec& spec, const ParallelFor& /*parallel_for*/) {
  DenseMatrix matrix(2, 2);
  matrix << 1.0, 5.0, 5.0, 100.0;
  const DenseMatrix expected_b = 2.0 * DenseMatrix(matrix.diagonal().asDiagonal());
  const DenseMatrix w_bar = 0.5 * (matrix * expected_b + expected_b * matrix);
  Eigen::SelfAdjointEigenSolver<DenseMatrix> solver(w_bar);
  Vector start = solver.eigenvectors().col(0);
  if (start[0] < 0) start = -start;
  std::vector<DenseMatrix> matrices(spec.num_workers, matrix);
  std::vector<Vector> vectors(spec.num_workers, Vector::Zero(2));
  return Quadratic::dense(std::move(matrices), std::move(vectors), std::move(start));
}

struct Generator {
  std::string_view name;
  Quadratic (*make)(const ProblemSpec&, const ParallelFor&);
};

constexpr std::array kGenerators = {
    Generator{"tridiagonal", make_tridiagonal},
    Generator{"dense", make_dense},
    Generator{"counterexample", make_counterexample},
};

const Generator* find_generator(std::string_view name) {
  for (const auto& generator : kGenerators)
    if (generator.name == name) return &generator;
  return nullptr;
}

}  // namespace

std::string generator_names() {
  std::string names;
  for (const auto& generator : kGenerators) {
    if (!names.empty()) names += ", ";
    names += generator.name;
  }
  return names;
}

bool is_generator(std::string_view name) { return find_generator(name) != nullptr; }

void ProblemSpec::validate() const {
  auto fail = [](std::string_view field, const auto& value, std::string_view rule) {
    throw std::invalid_argument(fmt::format("{} = {}: {}", field, value, rule));
  };
  if (!is_generator(generator))
    fail("generator", generator, fmt::format("unknown generator; valid: {}", generator_names()));
  if (dim < 1) fail("dim", dim, "must be at least 1");
  if (num_workers < 1) fail("num_workers", num_workers, "must be at least 1");
  if (generator == "counterexample" && dim != 2) fail("dim", dim, "the counterexample has dim 2");
  if (generator == "tridiagonal") {
    if (!(heterogeneity >= 0.0) || !std::isfinite(heterogeneity))
      fail("heterogeneity", heterogeneity, "tridiagonal needs s >= 0");
    if (!(mu > 0.0) || !std::isfinite(mu)) fail("mu", mu, "must be positive");
  }
  if (generator == "dense") {
    if (!(heterogeneity >= 0.0 && heterogeneity <= 1.0))
      fail("heterogeneity", heterogeneity, "dense needs h in [0, 1]");
    if (!(kappa >= 1.0) || !std::isfinite(kappa)) fail("kappa", kappa, "must be at least 1");
  }
}

std::string ProblemSpec::key() const {
  // Only the fields this generator reads, so e.g. kappa does not split tridiagonal problems.
  std::string key = fmt::format("{}|dim={}|n={}|seed={}|interp={}", generator, dim, num_workers,
                                seed, interpolation);
  if (generator == "tridiagonal") key += fmt::format("|s={}|mu={}", heterogeneity, mu);
  if (generator == "dense") key += fmt::format("|h={}|kappa={}", heterogeneity, kappa);
  return key;
}

void serial_for(int count, const std::function<void(int)>& body) {
  for (int i = 0; i < count; ++i) body(i);
}

Quadratic make_problem(const ProblemSpec& spec, const ParallelFor& parallel_for) {
  spec.validate();
  return find_generator(spec.generator)->make(spec, parallel_for);
}

}  // namespace istlab
