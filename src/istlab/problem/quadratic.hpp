#pragma once
// The distributed quadratic of docs/theory.md §1: worker i holds f_i(x) = ½ xᵀL_i x − b_iᵀx and
// f = (1/n) Σ f_i. Worker matrices are dense or sparse (CSR); everything a method needs
// is a row or block product that touches only the coordinates it names.
//
// Sparse workers are stored as L_i = a_i·A_k(i) + σ_i·I over a list of shared matrices A_k,
// and every b_i as β_i·c_m(i) over a list of shared vectors: n workers that are multiples
// of one matrix (the tridiagonal generator) then cost one matrix and O(n) numbers, which
// is what lets d = 2^20 with n = 1024 workers fit in memory. A problem built from separate
// per-worker matrices is the special case a_i = 1, σ_i = 0, one A_k per worker.

#include <limits>
#include <optional>
#include <span>
#include <vector>

#include "istlab/problem/spectrum.hpp"
#include "istlab/problem/types.hpp"

namespace istlab {

class Quadratic {
 public:
  // Both validate docs/theory.md §1's requirements (symmetric L_i with positive diagonal, L̄ ≻ 0)
  // and throw std::invalid_argument naming the worker and entry that fail.
  static Quadratic dense(std::vector<DenseMatrix> worker_matrices,
                         std::vector<Vector> worker_vectors, Vector start_point);
  static Quadratic sparse(std::vector<SparseMatrix> worker_matrices,
                          std::vector<Vector> worker_vectors, Vector start_point);
  // L_i = matrix_scales[i]·A + shift·I and b_i = vector_scales[i]·c: workers that differ
  // only by scalars share A and c.
  static Quadratic scaled_sparse(SparseMatrix shared_matrix, const Vector& matrix_scales,
                                 double shift, Vector shared_vector, const Vector& vector_scales,
                                 Vector start_point);

  int dim() const { return dim_; }
  int num_workers() const { return num_workers_; }
  bool is_sparse() const { return !sparse_matrices_.empty(); }

  const DenseMatrix& dense_matrix(int worker) const { return dense_matrices_[worker]; }
  // L_i assembled as one CSR matrix (a copy: for theory and tests, not for rounds).
  SparseMatrix sparse_matrix(int worker) const;
  // Stored non-zeros of L_i (sparse problems).
  Eigen::Index worker_nonzeros(int worker) const {
    return sparse_matrices_[matrix_of_[worker]].nonZeros();
  }

  // b_i, as a copy (for theory and tests) or one entry (for rounds).
  Vector worker_vector(int worker) const {
    return vector_scales_[worker] * vectors_[vector_of_[worker]];
  }
  double worker_vector_entry(int worker, int j) const {
    return vector_scales_[worker] * vectors_[vector_of_[worker]][j];
  }
  // out += factor · b_i, without a temporary.
  void add_worker_vector(int worker, double factor, Eigen::Ref<Vector> out) const {
    out += (factor * vector_scales_[worker]) * vectors_[vector_of_[worker]];
  }
  // Diag(L_i), as a copy or one entry.
  Vector worker_diagonal(int worker) const;
  double worker_diagonal_entry(int worker, int j) const {
    if (!is_sparse()) return dense_matrices_[worker](j, j);
    return matrix_scales_[worker] * shared_diagonals_[matrix_of_[worker]][j] +
           matrix_shifts_[worker];
  }

  // Sparse workers that are all multiples of one shared matrix A (plus shifts), as the
  // tridiagonal generator makes them: then A x serves every worker.
  bool workers_share_one_matrix() const { return sparse_matrices_.size() == 1; }
  // That matrix A, and worker i's a_i and σ_i in L_i = a_i·A + σ_i·I.
  const SparseMatrix& shared_matrix() const { return sparse_matrices_.front(); }
  double matrix_scale(int worker) const { return matrix_scales_[worker]; }
  double matrix_shift(int worker) const { return matrix_shifts_[worker]; }
  // (A x)_row for that shared matrix.
  double shared_row_product(int row, const Vector& x) const {
    return csr_row_dot(sparse_matrices_.front(), row, x);
  }
  // (∇f_i(x))_j given (A x)_j: a_i·(A x)_j + σ_i·x_j − β_i·c_j.
  double worker_gradient_entry(int worker, int j, double shared_product, double x_j) const {
    return (matrix_scales_[worker] * shared_product + matrix_shifts_[worker] * x_j) -
           vector_scales_[worker] * vectors_[vector_of_[worker]][j];
  }
  // Sparse problems, sketches that partition [d] (worker owner[j] keeps j), z = C x with z_j
  // from j's owner: row `row` of ∇f_i(C_i x) for i = owner[row], that is the submodel
  // gradient's entry, summed exactly as submodel_gradient sums it (the same bits).
  double partition_submodel_gradient(int row, const int* owner, const double* z) const {
    const int worker = owner[row];
    const SparseMatrix& matrix = sparse_matrices_[matrix_of_[worker]];
    const int* columns = matrix.innerIndexPtr();
    const double* values = matrix.valuePtr();
    double sum = 0.0;
    for (int e = matrix.outerIndexPtr()[row]; e < matrix.outerIndexPtr()[row + 1]; ++e)
      if (owner[columns[e]] == worker) sum += values[e] * z[columns[e]];
    return submodel_entry(worker, row, sum, z[row]);
  }
  // Sparse problems, sketches that partition [d]: (∇f_i(x))_row for i = owner[row], as the
  // worker-by-worker round forms it.
  double partition_row_gradient(int row, const int* owner, const Vector& x) const {
    return row_dot(owner[row], row, x) - worker_vector_entry(owner[row], row);
  }
  // ∇f_i(x) = L_i x − b_i, written to `out` (size d).
  void worker_gradient(int worker, const Vector& x, Eigen::Ref<Vector> out) const;
  // (L_i x)_row: one row of L_i against a full vector. Inline: rounds call it per kept row.
  double row_dot(int worker, int row, const Vector& x) const {
    // L_i is symmetric, so a dense row is the contiguous column.
    if (!is_sparse()) return dense_matrices_[worker].col(row).dot(x);
    // One shared matrix: skip the per-worker lookup, so a loop over rows keeps it in registers.
    const SparseMatrix& matrix = workers_share_one_matrix() ? sparse_matrices_.front()
                                                            : sparse_matrices_[matrix_of_[worker]];
    double sum = csr_row_dot(matrix, row, x);
    sum *= matrix_scales_[worker];
    if (matrix_shifts_[worker] != 0.0) sum += matrix_shifts_[worker] * x[row];
    return sum;
  }
  // out[t] = ∇f_i(z)[S_t] = Σ_u (L_i)[S_t, S_u]·z[u] − (b_i)[S_t] for z living on the sorted
  // index list S = `support`: the submodel's gradient, reading the block (L_i)[S, S] and
  // nothing outside it. Only positions t in [first, last) when given (last = −1: all).
  void submodel_gradient(int worker, std::span<const int> support, const double* z, double* out,
                         int first = 0, int last = -1) const;
  // out += Σ_u (L_i)[:, support[u]] · z[u]: L_i times a vector supported on `support`.
  void add_columns(int worker, std::span<const int> support, const double* z,
                   Eigen::Ref<Vector> out) const;

  // Global quantities of f.
  const Vector& mean_vector() const { return mean_vector_; }               // b̄
  const Vector& start_point() const { return start_point_; }               // x⁰
  const Vector& solution() const { return solution_; }                     // x* = L̄⁻¹ b̄
  double optimal_value() const { return optimal_value_; }                  // f*
  double lambda_min() const { return mean_spectrum_.min; }                 // λ_min(L̄)
  double lambda_max() const { return mean_spectrum_.max; }                 // λ_max(L̄)
  double max_worker_lambda_max() const { return max_worker_lambda_max_; }  // max_i λ_max(L_i)
  // The λ a family added to every L_i (least squares: the resolved regularization), for the
  // record; NaN where none was.
  double regularization() const { return regularization_; }
  void set_regularization(double lambda) { regularization_ = lambda; }

  // L̄ in the problem's storage (exactly one is non-empty).
  const DenseMatrix& dense_mean_matrix() const { return dense_mean_matrix_; }
  const SparseMatrix& sparse_mean_matrix() const { return sparse_mean_matrix_; }

  double objective(const Vector& x) const;  // f(x)
  // f(x) − f* = ½ (x − x*)ᵀ L̄ (x − x*): exact for a quadratic, no cancellation.
  double objective_gap(const Vector& x) const;
  Vector gradient(const Vector& x) const;           // ∇f(x) = L̄x − b̄
  Vector mean_matrix_times(const Vector& x) const;  // L̄x

 private:
  Quadratic() = default;
  void finish();  // validates, then computes L̄, b̄, x*, f*, spectra
  void compute_mean_vector();
  void check_matrices();
  std::vector<ExtremeEigenvalues> solve_sparse_mean();
  void solve_dense_mean();

  // Σ_e A[row, e]·x[e] over a CSR row, in storage order: every product of a sparse row
  // goes through here, so all paths sum it alike.
  static double csr_row_dot(const SparseMatrix& matrix, int row, const Vector& x) {
    const int* columns = matrix.innerIndexPtr();
    const double* values = matrix.valuePtr();
    double sum = 0.0;
    for (int e = matrix.outerIndexPtr()[row]; e < matrix.outerIndexPtr()[row + 1]; ++e)
      sum += values[e] * x[columns[e]];
    return sum;
  }
  // Entry of a sparse submodel gradient from its block sum: a_i·Σ + σ_i·z_row − (b_i)_row.
  double submodel_entry(int worker, int row, double block_sum, double z_row) const {
    return (matrix_scales_[worker] * block_sum + matrix_shifts_[worker] * z_row) -
           vector_scales_[worker] * vectors_[vector_of_[worker]][row];
  }

  void check_worker_diagonals() const;
  void dense_submodel_gradient(int worker, std::span<const int> support, const double* z,
                               double* out) const;
  void dense_submodel_rows(int worker, std::span<const int> support, const double* z, double* out,
                           int first, int last) const;
  void sparse_submodel_rows(int worker, std::span<const int> support, const double* z, double* out,
                            int first, int last) const;
  double worker_lambda_max(int worker, const std::vector<ExtremeEigenvalues>& shared_spectra) const;

  int dim_ = 0;
  int num_workers_ = 0;
  std::vector<DenseMatrix> dense_matrices_;  // dense: L_i

  // Sparse: L_i = matrix_scales_[i]·A + matrix_shifts_[i]·I with A =
  // sparse_matrices_[matrix_of_[i]].
  std::vector<SparseMatrix> sparse_matrices_;
  std::vector<Vector> shared_diagonals_;  // Diag(A) of each shared matrix
  std::vector<int> matrix_of_;
  Vector matrix_scales_;
  Vector matrix_shifts_;

  // b_i = vector_scales_[i]·vectors_[vector_of_[i]] (dense and sparse problems).
  std::vector<Vector> vectors_;
  std::vector<int> vector_of_;
  Vector vector_scales_;
  Vector start_point_;
  double regularization_ = std::numeric_limits<double>::quiet_NaN();

  DenseMatrix dense_mean_matrix_;
  SparseMatrix sparse_mean_matrix_;
  Vector mean_vector_;
  Vector solution_;
  double optimal_value_ = 0.0;
  ExtremeEigenvalues mean_spectrum_;
  double max_worker_lambda_max_ = 0.0;
};

}  // namespace istlab
