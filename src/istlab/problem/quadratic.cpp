#include "istlab/problem/quadratic.hpp"

#include <fmt/core.h>

#include <Eigen/Cholesky>
#include <Eigen/SparseCholesky>
#include <algorithm>
#include <stdexcept>

namespace istlab {
namespace {

constexpr double kSymmetryTolerance = 1e-12;

void check_shapes(std::size_t matrices, std::size_t vectors, Eigen::Index dim,
                  const Vector& start_point) {
  if (matrices == 0) throw std::invalid_argument("a problem needs at least one worker");
  if (matrices != vectors)
    throw std::invalid_argument(fmt::format("{} worker matrices but {} worker vectors", matrices, vectors));
  if (start_point.size() != dim)
    throw std::invalid_argument(
        fmt::format("start point has size {}, the problem dimension is {}", start_point.size(), dim));
}

void check_diagonal(int worker, const Vector& diagonal) {
  for (Eigen::Index j = 0; j < diagonal.size(); ++j) {
    if (!(diagonal[j] > 0.0))
      throw std::invalid_argument(fmt::format(
          "worker {}: L_i must have a positive diagonal (SPEC §1), but L_i[{},{}] = {}", worker, j,
          j, diagonal[j]));
  }
}

}  // namespace

Quadratic Quadratic::dense(std::vector<DenseMatrix> worker_matrices,
                           std::vector<Vector> worker_vectors, Vector start_point) {
  const Eigen::Index dim = worker_matrices.empty() ? 0 : worker_matrices[0].rows();
  check_shapes(worker_matrices.size(), worker_vectors.size(), dim, start_point);
  Quadratic problem;
  problem.dense_matrices_ = std::move(worker_matrices);
  problem.worker_vectors_ = std::move(worker_vectors);
  problem.start_point_ = std::move(start_point);
  problem.finish();
  return problem;
}

Quadratic Quadratic::sparse(std::vector<SparseMatrix> worker_matrices,
                            std::vector<Vector> worker_vectors, Vector start_point) {
  const Eigen::Index dim = worker_matrices.empty() ? 0 : worker_matrices[0].rows();
  check_shapes(worker_matrices.size(), worker_vectors.size(), dim, start_point);
  Quadratic problem;
  problem.sparse_matrices_ = std::move(worker_matrices);
  for (auto& matrix : problem.sparse_matrices_) matrix.makeCompressed();
  problem.worker_vectors_ = std::move(worker_vectors);
  problem.start_point_ = std::move(start_point);
  problem.finish();
  return problem;
}

void Quadratic::finish() {
  dim_ = static_cast<int>(start_point_.size());
  num_workers_ = static_cast<int>(worker_vectors_.size());
  const double inverse_n = 1.0 / num_workers_;
  mean_vector_ = Vector::Zero(dim_);
  worker_diagonals_.resize(num_workers_);

  for (int worker = 0; worker < num_workers_; ++worker) {
    const Vector& vector = worker_vectors_[worker];
    if (vector.size() != dim_)
      throw std::invalid_argument(
          fmt::format("worker {}: b_i has size {}, expected {}", worker, vector.size(), dim_));
    mean_vector_ += inverse_n * vector;
    double asymmetry = 0.0;
    double magnitude = 0.0;
    if (is_sparse()) {
      const SparseMatrix& matrix = sparse_matrices_[worker];
      if (matrix.rows() != dim_ || matrix.cols() != dim_)
        throw std::invalid_argument(fmt::format("worker {}: L_i is {}x{}, expected {}x{}", worker,
                                                matrix.rows(), matrix.cols(), dim_, dim_));
      const SparseMatrix transpose = matrix.transpose();
      asymmetry = (matrix - transpose).norm();
      magnitude = matrix.norm();
      worker_diagonals_[worker] = matrix.diagonal();
    } else {
      const DenseMatrix& matrix = dense_matrices_[worker];
      if (matrix.rows() != dim_ || matrix.cols() != dim_)
        throw std::invalid_argument(fmt::format("worker {}: L_i is {}x{}, expected {}x{}", worker,
                                                matrix.rows(), matrix.cols(), dim_, dim_));
      asymmetry = (matrix - matrix.transpose()).norm();
      magnitude = matrix.norm();
      worker_diagonals_[worker] = matrix.diagonal();
    }
    if (asymmetry > kSymmetryTolerance * magnitude)
      throw std::invalid_argument(fmt::format(
          "worker {}: L_i must be symmetric (SPEC §1), but ‖L_i − L_iᵀ‖ = {:.3g}", worker, asymmetry));
    check_diagonal(worker, worker_diagonals_[worker]);
  }

  const char* not_definite = "L̄ = (1/n) Σ L_i must be positive definite (SPEC §1)";
  max_worker_lambda_max_ = -std::numeric_limits<double>::infinity();
  if (is_sparse()) {
    sparse_mean_matrix_ = SparseMatrix(dim_, dim_);
    for (const auto& matrix : sparse_matrices_) sparse_mean_matrix_ += matrix;
    sparse_mean_matrix_ *= inverse_n;
    sparse_mean_matrix_.makeCompressed();
    Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>> factorisation(sparse_mean_matrix_);
    if (factorisation.info() != Eigen::Success || factorisation.vectorD().minCoeff() <= 0.0)
      throw std::invalid_argument(fmt::format("{}, but its factorisation has a non-positive pivot", not_definite));
    solution_ = factorisation.solve(mean_vector_);
    mean_spectrum_ = extreme_eigenvalues(sparse_mean_matrix_);
    for (const auto& matrix : sparse_matrices_)
      max_worker_lambda_max_ = std::max(max_worker_lambda_max_, extreme_eigenvalues(matrix).max);
  } else {
    dense_mean_matrix_ = DenseMatrix::Zero(dim_, dim_);
    for (const auto& matrix : dense_matrices_) dense_mean_matrix_ += matrix;
    dense_mean_matrix_ *= inverse_n;
    Eigen::LLT<DenseMatrix> factorisation(dense_mean_matrix_);
    if (factorisation.info() != Eigen::Success)
      throw std::invalid_argument(fmt::format("{}, but its Cholesky factorisation fails", not_definite));
    solution_ = factorisation.solve(mean_vector_);
    mean_spectrum_ = extreme_eigenvalues(dense_mean_matrix_);
    for (const auto& matrix : dense_matrices_)
      max_worker_lambda_max_ = std::max(max_worker_lambda_max_, extreme_eigenvalues(matrix).max);
  }
  if (!(mean_spectrum_.min > 0.0))
    throw std::invalid_argument(fmt::format("{}, but λ_min(L̄) = {}", not_definite, mean_spectrum_.min));
  optimal_value_ = objective(solution_);
}

void Quadratic::worker_gradient(int worker, const Vector& x, Eigen::Ref<Vector> out) const {
  if (is_sparse()) {
    out.noalias() = sparse_matrices_[worker] * x;
  } else {
    out.noalias() = dense_matrices_[worker] * x;
  }
  out -= worker_vectors_[worker];
}

double Quadratic::row_dot(int worker, int row, const Vector& x) const {
  if (is_sparse()) {
    double sum = 0.0;
    for (SparseMatrix::InnerIterator it(sparse_matrices_[worker], row); it; ++it)
      sum += it.value() * x[it.col()];
    return sum;
  }
  // L_i is symmetric, so its row is the contiguous column.
  return dense_matrices_[worker].col(row).dot(x);
}

double Quadratic::block_row_dot(int worker, int row, std::span<const int> support,
                                const double* z) const {
  double sum = 0.0;
  if (is_sparse()) {
    // Both the row's columns and the support are sorted: search only the part of the
    // support after the last match, so a banded row costs O(log q) in all.
    auto from = support.begin();
    for (SparseMatrix::InnerIterator it(sparse_matrices_[worker], row); it; ++it) {
      from = std::lower_bound(from, support.end(), static_cast<int>(it.col()));
      if (from == support.end()) break;
      if (*from == it.col()) sum += it.value() * z[from - support.begin()];
    }
    return sum;
  }
  const double* column = dense_matrices_[worker].col(row).data();  // = row, by symmetry
  for (std::size_t u = 0; u < support.size(); ++u) sum += column[support[u]] * z[u];
  return sum;
}

void Quadratic::add_columns(int worker, std::span<const int> support, const double* z,
                            Eigen::Ref<Vector> out) const {
  for (std::size_t u = 0; u < support.size(); ++u) {
    if (is_sparse()) {
      // Column = row, by symmetry.
      for (SparseMatrix::InnerIterator it(sparse_matrices_[worker], support[u]); it; ++it)
        out[it.col()] += it.value() * z[u];
    } else {
      out += z[u] * dense_matrices_[worker].col(support[u]);
    }
  }
}

Vector Quadratic::mean_matrix_times(const Vector& x) const {
  if (is_sparse()) return sparse_mean_matrix_ * x;
  return dense_mean_matrix_ * x;
}

double Quadratic::objective(const Vector& x) const {
  return 0.5 * x.dot(mean_matrix_times(x)) - mean_vector_.dot(x);
}

double Quadratic::objective_gap(const Vector& x) const {
  const Vector error = x - solution_;
  return 0.5 * error.dot(mean_matrix_times(error));
}

Vector Quadratic::gradient(const Vector& x) const { return mean_matrix_times(x) - mean_vector_; }

}  // namespace istlab
