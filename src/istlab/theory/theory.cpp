#include "istlab/theory/theory.hpp"

#include <fmt/core.h>

#include <Eigen/Cholesky>
#include <Eigen/SparseCholesky>
#include <stdexcept>

#include "istlab/problem/spectrum.hpp"

namespace istlab {

DenseMatrix expected_b_bar_dense(const Quadratic& problem, const std::vector<WorkerMoments>& moments) {
  const int dim = problem.dim();
  DenseMatrix result = DenseMatrix::Zero(dim, dim);
  for (int worker = 0; worker < problem.num_workers(); ++worker) {
    const DenseMatrix& matrix = problem.dense_matrix(worker);
    const WorkerMoments& m = moments[worker];
    for (int col = 0; col < dim; ++col)
      for (int row = 0; row < dim; ++row) result(row, col) += m.second(row, col) * matrix(row, col);
  }
  return result / problem.num_workers();
}

SparseMatrix expected_b_bar_sparse(const Quadratic& problem, const std::vector<WorkerMoments>& moments) {
  // M2_i ∘ L_i has L_i's sparsity pattern.
  SparseMatrix result(problem.dim(), problem.dim());
  for (int worker = 0; worker < problem.num_workers(); ++worker) {
    SparseMatrix weighted = problem.sparse_matrix(worker);
    for (int row = 0; row < weighted.outerSize(); ++row)
      for (SparseMatrix::InnerIterator it(weighted, row); it; ++it)
        it.valueRef() *= moments[worker].second(row, static_cast<int>(it.col()));
    result += weighted;
  }
  result /= problem.num_workers();
  result.makeCompressed();
  return result;
}

Vector expected_c_bar(const Quadratic& problem, const std::vector<WorkerMoments>& moments) {
  Vector result = Vector::Zero(problem.dim());
  for (int worker = 0; worker < problem.num_workers(); ++worker)
    result += moments[worker].first.cwiseProduct(problem.worker_vector(worker));
  return result / problem.num_workers();
}

std::string theory_unavailable_reason(const ProblemSpec& spec) {
  if (spec.generator == "dense" && spec.dim > kMaxDenseTheoryDim)
    return fmt::format("the theory of dense problems costs O(d³) and is computed up to dim {}, not {}",
                       kMaxDenseTheoryDim, spec.dim);
  return "";
}

Theory compute_theory(const Quadratic& problem, const SketchSpec& sketch) {
  const std::vector<WorkerMoments> moments = sketch_moments(sketch, problem);
  Theory theory;
  theory.lambda_min = problem.lambda_min();
  theory.lambda_max = problem.lambda_max();
  theory.gd_step = 1.0 / problem.lambda_max();
  const Vector c_bar = expected_c_bar(problem, moments);
  const char* singular = "E[B̄] is singular, so IST's fixed point x^∞ is undefined for this sketch";

  if (problem.is_sparse()) {
    const SparseMatrix b_bar = expected_b_bar_sparse(problem, moments);
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
    const DenseMatrix b_bar = expected_b_bar_dense(problem, moments);
    Eigen::LDLT<DenseMatrix> factorisation(b_bar);
    if (factorisation.info() != Eigen::Success || !factorisation.isPositive() ||
        factorisation.vectorD().cwiseAbs().minCoeff() == 0.0)
      throw std::runtime_error(singular);
    theory.fixed_point = factorisation.solve(c_bar);
    theory.expected_b_lambda_max = extreme_eigenvalues(b_bar).max;
    const DenseMatrix product = problem.dense_mean_matrix() * b_bar;
    const DefinitenessCheck check = check_semidefinite(DenseMatrix(0.5 * (product + product.transpose())));
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
