#include "istlab/theory/theory.hpp"

#include <fmt/core.h>

#include <Eigen/Cholesky>
#include <Eigen/SparseCholesky>
#include <stdexcept>

#include "istlab/problem/spectrum.hpp"

namespace istlab {

// Moments are formed one worker at a time (3 d-vectors), never n at once.

DenseMatrix expected_b_bar_dense(const Quadratic& problem, const SketchSpec& sketch) {
  const int dim = problem.dim();
  DenseMatrix result = DenseMatrix::Zero(dim, dim);
  for (int worker = 0; worker < problem.num_workers(); ++worker) {
    const DenseMatrix& matrix = problem.dense_matrix(worker);
    const WorkerMoments m = worker_moments(sketch, problem, worker);
    for (int col = 0; col < dim; ++col)
      for (int row = 0; row < dim; ++row) result(row, col) += m.second(row, col) * matrix(row, col);
  }
  return result / problem.num_workers();
}

namespace {

// Workers L_i = a_i·A + σ_i·I sharing one A: M2_i ∘ L_i lives on the pattern of A + I, so
// the workers' weighted entries are summed in place there, in worker order (the same sums
// as adding n weighted matrices, with no matrix per worker).
SparseMatrix expected_b_bar_shared(const Quadratic& problem, const SketchSpec& sketch) {
  const SparseMatrix& shared = problem.shared_matrix();
  SparseMatrix identity(problem.dim(), problem.dim());
  identity.setIdentity();
  SparseMatrix result = shared + identity;  // the pattern; values are overwritten below
  result.makeCompressed();
  std::vector<double> shared_values(static_cast<std::size_t>(result.nonZeros()), 0.0);
  for (int row = 0; row < result.outerSize(); ++row) {
    SparseMatrix::InnerIterator it(shared, row);
    for (int k = result.outerIndexPtr()[row]; k < result.outerIndexPtr()[row + 1]; ++k) {
      while (it && it.col() < result.innerIndexPtr()[k]) ++it;
      if (it && it.col() == result.innerIndexPtr()[k]) shared_values[k] = it.value();
    }
  }
  std::vector<double> sums(shared_values.size(), 0.0);
  for (int worker = 0; worker < problem.num_workers(); ++worker) {
    const WorkerMoments m = worker_moments(sketch, problem, worker);
    const double scale = problem.matrix_scale(worker);
    const double shift = problem.matrix_shift(worker);
    for (int row = 0; row < result.outerSize(); ++row) {
      for (int k = result.outerIndexPtr()[row]; k < result.outerIndexPtr()[row + 1]; ++k) {
        const int col = result.innerIndexPtr()[k];
        double entry =
            scale * shared_values[k];  // (L_i)_{row, col}, as Quadratic::sparse_matrix forms it
        if (col == row && shift != 0.0) entry += shift;
        sums[k] += entry * m.second(row, col);
      }
    }
  }
  for (std::size_t k = 0; k < sums.size(); ++k)
    result.valuePtr()[k] = sums[k] / problem.num_workers();
  return result;
}

}  // namespace

SparseMatrix expected_b_bar_sparse(const Quadratic& problem, const SketchSpec& sketch) {
  if (problem.workers_share_one_matrix()) return expected_b_bar_shared(problem, sketch);
  // M2_i ∘ L_i has L_i's sparsity pattern.
  SparseMatrix result(problem.dim(), problem.dim());
  for (int worker = 0; worker < problem.num_workers(); ++worker) {
    const WorkerMoments m = worker_moments(sketch, problem, worker);
    SparseMatrix weighted = problem.sparse_matrix(worker);
    for (int row = 0; row < weighted.outerSize(); ++row)
      for (SparseMatrix::InnerIterator it(weighted, row); it; ++it)
        it.valueRef() *= m.second(row, static_cast<int>(it.col()));
    result += weighted;
  }
  result /= problem.num_workers();
  result.makeCompressed();
  return result;
}

Vector expected_c_bar(const Quadratic& problem, const SketchSpec& sketch) {
  Vector result = Vector::Zero(problem.dim());
  for (int worker = 0; worker < problem.num_workers(); ++worker)
    result +=
        worker_moments(sketch, problem, worker).first.cwiseProduct(problem.worker_vector(worker));
  return result / problem.num_workers();
}

std::string theory_unavailable_reason(const ProblemSpec& spec) {
  const ProblemFamily& family = problem_family(spec.generator);
  if (!family.has_theory())
    return fmt::format("the problems of family '{}' are not quadratics", family.name);
  if (family.storage == Storage::kDense && spec.dim > kMaxDenseTheoryDim)
    return fmt::format(
        "the theory of dense problems costs O(d³) and is computed up to dim {}, not {}",
        kMaxDenseTheoryDim, spec.dim);
  return "";
}

Theory compute_theory(const Quadratic& problem, const SketchSpec& sketch) {
  Theory theory;
  theory.lambda_min = problem.lambda_min();
  theory.lambda_max = problem.lambda_max();
  theory.gd_step = 1.0 / problem.lambda_max();
  const Vector c_bar = expected_c_bar(problem, sketch);
  const char* singular = "E[B̄] is singular, so IST's fixed point x^∞ is undefined for this sketch";

  if (problem.is_sparse()) {
    const SparseMatrix b_bar = expected_b_bar_sparse(problem, sketch);
    Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>> factorisation(b_bar);
    if (factorisation.info() != Eigen::Success) throw std::runtime_error(singular);
    theory.fixed_point = factorisation.solve(c_bar);
    theory.expected_b_lambda_max = extreme_eigenvalues(b_bar).max;
    const SparseMatrix product = problem.sparse_mean_matrix() * b_bar;
    const SparseMatrix w_bar = 0.5 * (product + SparseMatrix(product.transpose()));
    const DefinitenessCheck check = check_semidefinite(w_bar);
    theory.w_bar_psd = check.positive_semidefinite;
    theory.w_bar_min_eigenvalue = check.min_eigenvalue;
    theory.w_bar_max_eigenvalue = check.max_eigenvalue;
  } else {
    const DenseMatrix b_bar = expected_b_bar_dense(problem, sketch);
    Eigen::LDLT<DenseMatrix> factorisation(b_bar);
    if (factorisation.info() != Eigen::Success || !factorisation.isPositive() ||
        factorisation.vectorD().cwiseAbs().minCoeff() == 0.0)
      throw std::runtime_error(singular);
    theory.fixed_point = factorisation.solve(c_bar);
    theory.expected_b_lambda_max = extreme_eigenvalues(b_bar).max;
    const DenseMatrix product = problem.dense_mean_matrix() * b_bar;
    const DefinitenessCheck check =
        check_semidefinite(DenseMatrix(0.5 * (product + product.transpose())));
    theory.w_bar_psd = check.positive_semidefinite;
    theory.w_bar_min_eigenvalue = check.min_eigenvalue;
    theory.w_bar_max_eigenvalue = check.max_eigenvalue;
  }
  theory.ist_step = 1.0 / theory.expected_b_lambda_max;
  theory.ist_stability_limit = 2.0 / theory.expected_b_lambda_max;
  theory.bias = (theory.fixed_point - problem.solution()).squaredNorm();
  const double initial = (problem.start_point() - problem.solution()).squaredNorm();
  theory.relative_bias = initial > 0.0 ? theory.bias / initial : theory.bias;
  return theory;
}

}  // namespace istlab
