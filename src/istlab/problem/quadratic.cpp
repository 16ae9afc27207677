#include "istlab/problem/quadratic.hpp"

#include <fmt/core.h>

#include <Eigen/Cholesky>
#include <Eigen/SparseCholesky>
#include <algorithm>
#include <cstdint>
#include <numeric>
#include <stdexcept>

#include "istlab/io/memory.hpp"

namespace istlab {
namespace {

constexpr const char* kNotDefinite =
    "L̄ = (1/n) Σ L_i must be positive definite (docs/theory.md §1)";

constexpr double kSymmetryTolerance = 1e-12;
// How far ahead sparse block products prefetch scattered rows.
constexpr std::ptrdiff_t kPrefetchRows = 8;

void check_shapes(std::size_t matrices, std::size_t vectors, Eigen::Index dim,
                  const Vector& start_point) {
  if (matrices == 0) throw std::invalid_argument("a problem needs at least one worker");
  if (matrices != vectors)
    throw std::invalid_argument(
        fmt::format("{} worker matrices but {} worker vectors", matrices, vectors));
  if (start_point.size() != dim)
    throw std::invalid_argument(fmt::format("start point has size {}, the problem dimension is {}",
                                            start_point.size(), dim));
}

void check_square(const char* what, Eigen::Index rows, Eigen::Index cols, Eigen::Index dim) {
  if (rows != dim || cols != dim)
    throw std::invalid_argument(
        fmt::format("{} is {}x{}, expected {}x{}", what, rows, cols, dim, dim));
}

// IST reads scattered entries of large dense worker matrices; with 4 KiB pages nearly
// every such read also misses the TLB. Large matrices are therefore copied once into fresh
// memory advised for transparent huge pages (the advice must precede the first touch).
void prefer_huge_pages(DenseMatrix& matrix) {
  const std::size_t bytes = static_cast<std::size_t>(matrix.size()) * sizeof(double);
  if (bytes < 4 * kHugePageBytes) return;
  DenseMatrix fresh(matrix.rows(), matrix.cols());  // allocated, not yet touched
  if (!advise_huge_pages(fresh.data(), bytes)) return;
  fresh = matrix;
  matrix.swap(fresh);
}

std::vector<int> identity_map(std::size_t count) {
  std::vector<int> map(count);
  std::iota(map.begin(), map.end(), 0);
  return map;
}

// The worker's diagonal a·D + σ is monotone in D, so its smallest entry sits where D is
// smallest (a ≥ 0) or largest (a < 0): O(1) per worker instead of O(d).
Eigen::Index smallest_diagonal_index(const Vector& shared_diagonal, double scale) {
  Eigen::Index index = 0;
  if (scale >= 0.0)
    shared_diagonal.minCoeff(&index);
  else
    shared_diagonal.maxCoeff(&index);
  return index;
}

}  // namespace

Quadratic Quadratic::dense(std::vector<DenseMatrix> worker_matrices,
                           std::vector<Vector> worker_vectors, Vector start_point) {
  const Eigen::Index dim = worker_matrices.empty() ? 0 : worker_matrices[0].rows();
  check_shapes(worker_matrices.size(), worker_vectors.size(), dim, start_point);
  Quadratic problem;
  problem.dense_matrices_ = std::move(worker_matrices);
  for (auto& matrix : problem.dense_matrices_) prefer_huge_pages(matrix);
  problem.vector_of_ = identity_map(worker_vectors.size());
  problem.vector_scales_ = Vector::Ones(static_cast<Eigen::Index>(worker_vectors.size()));
  problem.vectors_ = std::move(worker_vectors);
  problem.start_point_ = std::move(start_point);
  problem.finish();
  return problem;
}

Quadratic Quadratic::sparse(std::vector<SparseMatrix> worker_matrices,
                            std::vector<Vector> worker_vectors, Vector start_point) {
  const Eigen::Index dim = worker_matrices.empty() ? 0 : worker_matrices[0].rows();
  check_shapes(worker_matrices.size(), worker_vectors.size(), dim, start_point);
  const auto workers = static_cast<Eigen::Index>(worker_matrices.size());
  Quadratic problem;
  problem.sparse_matrices_ = std::move(worker_matrices);
  problem.matrix_of_ = identity_map(problem.sparse_matrices_.size());
  problem.matrix_scales_ = Vector::Ones(workers);
  problem.matrix_shifts_ = Vector::Zero(workers);
  problem.vector_of_ = identity_map(worker_vectors.size());
  problem.vector_scales_ = Vector::Ones(workers);
  problem.vectors_ = std::move(worker_vectors);
  problem.start_point_ = std::move(start_point);
  problem.finish();
  return problem;
}

Quadratic Quadratic::scaled_sparse(SparseMatrix shared_matrix, const Vector& matrix_scales,
                                   double shift, Vector shared_vector, const Vector& vector_scales,
                                   Vector start_point) {
  check_shapes(static_cast<std::size_t>(matrix_scales.size()),
               static_cast<std::size_t>(vector_scales.size()), shared_matrix.rows(), start_point);
  const Eigen::Index workers = matrix_scales.size();
  Quadratic problem;
  problem.sparse_matrices_.push_back(std::move(shared_matrix));
  problem.matrix_of_.assign(static_cast<std::size_t>(workers), 0);
  problem.matrix_scales_ = matrix_scales;
  problem.matrix_shifts_ = Vector::Constant(workers, shift);
  problem.vectors_.push_back(std::move(shared_vector));
  problem.vector_of_.assign(static_cast<std::size_t>(workers), 0);
  problem.vector_scales_ = vector_scales;
  problem.start_point_ = std::move(start_point);
  problem.finish();
  return problem;
}

void Quadratic::finish() {
  dim_ = static_cast<int>(start_point_.size());
  num_workers_ = static_cast<int>(vector_of_.size());
  compute_mean_vector();
  check_matrices();
  check_worker_diagonals();
  std::vector<ExtremeEigenvalues> shared_spectra;
  if (is_sparse()) {
    shared_spectra = solve_sparse_mean();
  } else {
    solve_dense_mean();
  }
  if (!(mean_spectrum_.min > 0.0))
    throw std::invalid_argument(
        fmt::format("{}, but λ_min(L̄) = {}", kNotDefinite, mean_spectrum_.min));
  max_worker_lambda_max_ = -std::numeric_limits<double>::infinity();
  for (int worker = 0; worker < num_workers_; ++worker)
    max_worker_lambda_max_ =
        std::max(max_worker_lambda_max_, worker_lambda_max(worker, shared_spectra));
  optimal_value_ = objective(solution_);
}

void Quadratic::compute_mean_vector() {
  const double inverse_n = 1.0 / num_workers_;
  for (std::size_t k = 0; k < vectors_.size(); ++k)
    if (vectors_[k].size() != dim_)
      throw std::invalid_argument(
          fmt::format("worker {}: b_i has size {}, expected {}", k, vectors_[k].size(), dim_));
  // b̄ = Σ_m (Σ_{i: m(i) = m} β_i/n) c_m: each shared vector is added once.
  std::vector<double> vector_weights(vectors_.size(), 0.0);
  for (int worker = 0; worker < num_workers_; ++worker)
    vector_weights[vector_of_[worker]] += inverse_n * vector_scales_[worker];
  mean_vector_ = Vector::Zero(dim_);
  for (std::size_t k = 0; k < vectors_.size(); ++k) mean_vector_ += vector_weights[k] * vectors_[k];
}

// Every stored matrix is square and symmetric (docs/theory.md §1); sparse ones are compressed and
// their diagonals kept for the sketches' preconditioner.
void Quadratic::check_matrices() {
  for (std::size_t k = 0; k < std::max(dense_matrices_.size(), sparse_matrices_.size()); ++k) {
    double asymmetry = 0.0;
    double magnitude = 0.0;
    if (is_sparse()) {
      SparseMatrix& matrix = sparse_matrices_[k];
      check_square(fmt::format("worker {}: L_i", k).c_str(), matrix.rows(), matrix.cols(), dim_);
      matrix.makeCompressed();
      const SparseMatrix transpose = matrix.transpose();
      asymmetry = (matrix - transpose).norm();
      magnitude = matrix.norm();
      shared_diagonals_.push_back(matrix.diagonal());
    } else {
      const DenseMatrix& matrix = dense_matrices_[k];
      check_square(fmt::format("worker {}: L_i", k).c_str(), matrix.rows(), matrix.cols(), dim_);
      asymmetry = (matrix - matrix.transpose()).norm();
      magnitude = matrix.norm();
    }
    if (asymmetry > kSymmetryTolerance * magnitude)
      throw std::invalid_argument(fmt::format(
          "worker {}: L_i must be symmetric (docs/theory.md §1), but ‖L_i − L_iᵀ‖ = {:.3g}", k,
          asymmetry));
  }
}

// L̄ = Σ_k (Σ_{i: k(i) = k} a_i/n) A_k + (Σ_i σ_i/n) I, x* from its sparse factorisation;
// returns the spectra of the shared matrices A_k.
std::vector<ExtremeEigenvalues> Quadratic::solve_sparse_mean() {
  const double inverse_n = 1.0 / num_workers_;
  std::vector<double> matrix_weights(sparse_matrices_.size(), 0.0);
  double mean_shift = 0.0;
  for (int worker = 0; worker < num_workers_; ++worker) {
    matrix_weights[matrix_of_[worker]] += inverse_n * matrix_scales_[worker];
    mean_shift += inverse_n * matrix_shifts_[worker];
  }
  sparse_mean_matrix_ = SparseMatrix(dim_, dim_);
  for (std::size_t k = 0; k < sparse_matrices_.size(); ++k)
    sparse_mean_matrix_ += matrix_weights[k] * sparse_matrices_[k];
  if (mean_shift != 0.0) {
    SparseMatrix identity(dim_, dim_);
    identity.setIdentity();
    sparse_mean_matrix_ += mean_shift * identity;
  }
  sparse_mean_matrix_.makeCompressed();
  Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>> factorisation(sparse_mean_matrix_);
  if (factorisation.info() != Eigen::Success || factorisation.vectorD().minCoeff() <= 0.0)
    throw std::invalid_argument(
        fmt::format("{}, but its factorisation has a non-positive pivot", kNotDefinite));
  solution_ = factorisation.solve(mean_vector_);
  mean_spectrum_ = extreme_eigenvalues(sparse_mean_matrix_);
  std::vector<ExtremeEigenvalues> shared_spectra;
  for (const auto& matrix : sparse_matrices_) shared_spectra.push_back(extreme_eigenvalues(matrix));
  return shared_spectra;
}

void Quadratic::solve_dense_mean() {
  const double inverse_n = 1.0 / num_workers_;
  dense_mean_matrix_ = DenseMatrix::Zero(dim_, dim_);
  for (const auto& matrix : dense_matrices_) dense_mean_matrix_ += matrix;
  dense_mean_matrix_ *= inverse_n;
  Eigen::LLT<DenseMatrix> factorisation(dense_mean_matrix_);
  if (factorisation.info() != Eigen::Success)
    throw std::invalid_argument(
        fmt::format("{}, but its Cholesky factorisation fails", kNotDefinite));
  solution_ = factorisation.solve(mean_vector_);
  mean_spectrum_ = extreme_eigenvalues(dense_mean_matrix_);
}

void Quadratic::check_worker_diagonals() const {
  for (int worker = 0; worker < num_workers_; ++worker) {
    Eigen::Index j = 0;
    if (is_sparse())
      j = smallest_diagonal_index(shared_diagonals_[matrix_of_[worker]], matrix_scales_[worker]);
    else
      dense_matrices_[worker].diagonal().minCoeff(&j);
    const double smallest = worker_diagonal_entry(worker, static_cast<int>(j));
    if (!(smallest > 0.0))
      throw std::invalid_argument(fmt::format(
          "worker {}: L_i must have a positive diagonal (docs/theory.md §1), but L_i[{},{}] = {}",
          worker, j, j, smallest));
  }
}

double Quadratic::worker_lambda_max(int worker,
                                    const std::vector<ExtremeEigenvalues>& shared_spectra) const {
  if (!is_sparse()) return largest_eigenvalue(dense_matrices_[worker]);
  // λ_max(a·A + σI) = a·λ_max(A) + σ for a ≥ 0, a·λ_min(A) + σ for a < 0.
  const ExtremeEigenvalues& shared = shared_spectra[matrix_of_[worker]];
  const double scale = matrix_scales_[worker];
  return (scale >= 0.0 ? scale * shared.max : scale * shared.min) + matrix_shifts_[worker];
}

SparseMatrix Quadratic::sparse_matrix(int worker) const {
  SparseMatrix matrix = matrix_scales_[worker] * sparse_matrices_[matrix_of_[worker]];
  if (matrix_shifts_[worker] != 0.0) {
    SparseMatrix identity(dim_, dim_);
    identity.setIdentity();
    matrix += matrix_shifts_[worker] * identity;
  }
  matrix.makeCompressed();
  return matrix;
}

Vector Quadratic::worker_diagonal(int worker) const {
  if (!is_sparse()) return dense_matrices_[worker].diagonal();
  return (matrix_scales_[worker] * shared_diagonals_[matrix_of_[worker]]).array() +
         matrix_shifts_[worker];
}

void Quadratic::worker_gradient(int worker, const Vector& x, Eigen::Ref<Vector> out) const {
  if (is_sparse()) {
    // One pass: (L_i x − b_i)_j = a_i·(A x)_j + σ_i·x_j − β_i·c_j.
    const SparseMatrix& matrix = sparse_matrices_[matrix_of_[worker]];
    for (int row = 0; row < dim_; ++row)
      out[row] = worker_gradient_entry(worker, row, csr_row_dot(matrix, row, x), x[row]);
    return;
  }
  out.noalias() = dense_matrices_[worker] * x;
  add_worker_vector(worker, -1.0, out);
}

void Quadratic::submodel_gradient(int worker, std::span<const int> support, const double* z,
                                  double* out, int first, int last) const {
  if (last < 0) last = static_cast<int>(support.size());
  if (is_sparse()) return sparse_submodel_rows(worker, support, z, out, first, last);
  if (first == 0 && last == static_cast<int>(support.size()))
    return dense_submodel_gradient(worker, support, z, out);
  dense_submodel_rows(worker, support, z, out, first, last);
}

// Some rows of a dense block: each read whole (the symmetric shortcut needs them all).
void Quadratic::dense_submodel_rows(int worker, std::span<const int> support, const double* z,
                                    double* out, int first, int last) const {
  const Vector& shared_vector = vectors_[vector_of_[worker]];
  const double vector_scale = vector_scales_[worker];
  const std::size_t size = support.size();
  const DenseMatrix& matrix = dense_matrices_[worker];
  for (int t = first; t < last; ++t) {
    const double* column = matrix.col(support[t]).data();  // = row, by symmetry
    double sum = 0.0;
    for (std::size_t u = 0; u < size; ++u) sum += column[support[u]] * z[u];
    out[t] = sum - vector_scale * shared_vector[support[t]];
  }
}

// The whole dense block. By symmetry each off-diagonal pair is read once, from the upper
// triangle: q(q+1)/2 entries, at rising addresses within each column.
void Quadratic::dense_submodel_gradient(int worker, std::span<const int> support, const double* z,
                                        double* out) const {
  const Vector& shared_vector = vectors_[vector_of_[worker]];
  const double vector_scale = vector_scales_[worker];
  const std::size_t size = support.size();
  const DenseMatrix& matrix = dense_matrices_[worker];
  std::fill(out, out + size, 0.0);
  // Entries are scattered cache misses. Prefetching the column kPrefetchColumns ahead
  // while this one is summed keeps more misses in flight than the out-of-order window
  // would (prefetches retire at once); the first columns are prefetched up front.
  constexpr std::size_t kPrefetchColumns = 2;
  auto prefetch_column = [&](std::size_t u) {
    const double* column = matrix.col(support[u]).data();
    for (std::size_t t = 0; t <= u; ++t) __builtin_prefetch(column + support[t]);
  };
  for (std::size_t u = 0; u < std::min(size, kPrefetchColumns); ++u) prefetch_column(u);
  for (std::size_t u = 0; u < size; ++u) {
    const double* column = matrix.col(support[u]).data();
    const std::size_t ahead = u + kPrefetchColumns;
    const double* ahead_column = matrix.col(support[ahead < size ? ahead : u]).data();
    const double z_u = z[u];
    double column_sum = column[support[u]] * z_u;
    for (std::size_t t = 0; t < u; ++t) {
      if (ahead < size) __builtin_prefetch(ahead_column + support[t]);
      const double entry = column[support[t]];
      out[t] += entry * z_u;
      column_sum += entry * z[t];
    }
    if (ahead < size)
      for (std::size_t t = u; t <= ahead; ++t) __builtin_prefetch(ahead_column + support[t]);
    out[u] += column_sum;
  }
  for (std::size_t t = 0; t < size; ++t) out[t] -= vector_scale * shared_vector[support[t]];
}

// Rows [first, last) of a sparse block.
void Quadratic::sparse_submodel_rows(int worker, std::span<const int> support, const double* z,
                                     double* out, int first, int last) const {
  const Vector& shared_vector = vectors_[vector_of_[worker]];
  const std::size_t size = support.size();
  const SparseMatrix& matrix = sparse_matrices_[matrix_of_[worker]];
  const int* row_starts = matrix.outerIndexPtr();
  const int* columns = matrix.innerIndexPtr();
  const double* values = matrix.valuePtr();
  const int* kept = support.data();
  const auto end_row = static_cast<std::ptrdiff_t>(last);
  const auto last_position = static_cast<std::ptrdiff_t>(size);
  for (std::ptrdiff_t t = first; t < end_row; ++t) {
    // Kept rows are scattered over a matrix larger than the caches: fetch the row start of
    // a row further ahead, and the entries of a nearer row whose start has arrived.
    if (t + 2 * kPrefetchRows < end_row)
      __builtin_prefetch(row_starts + kept[t + 2 * kPrefetchRows]);
    if (t + kPrefetchRows < end_row) {
      const int ahead = row_starts[kept[t + kPrefetchRows]];
      __builtin_prefetch(values + ahead);
      __builtin_prefetch(columns + ahead);
      __builtin_prefetch(shared_vector.data() + kept[t + kPrefetchRows]);
    }
    const int row = kept[t];
    double sum = 0.0;
    const int begin = row_starts[row];
    const int end = row_starts[row + 1];
    // Find each column of the row in the sorted support. Support entries are distinct
    // integers, so column c can only sit within |c − row| places of the row's position t:
    // check the nearest place first (enough for a tridiagonal row), bisect otherwise.
    for (int e = begin; e < end; ++e) {
      const int col = columns[e];
      std::ptrdiff_t p = t;
      if (col < row) {
        p = t - 1;
        if (p < 0 || kept[p] < col) continue;
        if (kept[p] > col) {
          p = std::lower_bound(kept + std::max<std::ptrdiff_t>(0, t - (row - col)), kept + p, col) -
              kept;
          if (kept[p] != col) continue;
        }
      } else if (col > row) {
        p = t + 1;
        if (p == last_position || kept[p] > col) continue;
        if (kept[p] < col) {
          const std::ptrdiff_t reach = std::min<std::ptrdiff_t>(last_position, t + (col - row) + 1);
          p = std::lower_bound(kept + p + 1, kept + reach, col) - kept;
          if (p == reach || kept[p] != col) continue;
        }
      }
      sum += values[e] * z[p];
    }
    out[t] = submodel_entry(worker, row, sum, z[t]);
  }
}

void Quadratic::add_columns(int worker, std::span<const int> support, const double* z,
                            Eigen::Ref<Vector> out) const {
  for (std::size_t u = 0; u < support.size(); ++u) {
    if (is_sparse()) {
      // Column = row, by symmetry.
      const double weight = matrix_scales_[worker] * z[u];
      for (SparseMatrix::InnerIterator it(sparse_matrices_[matrix_of_[worker]], support[u]); it;
           ++it)
        out[it.col()] += it.value() * weight;
      out[support[u]] += matrix_shifts_[worker] * z[u];
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
