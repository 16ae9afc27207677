#pragma once
// The distributed quadratic of SPEC §1: worker i holds f_i(x) = ½ xᵀL_i x − b_iᵀx and
// f = (1/n) Σ f_i. Worker matrices are dense or sparse (CSR); everything a method needs
// is a row or block product that touches only the coordinates it names.

#include <optional>
#include <span>
#include <vector>

#include "istlab/problem/spectrum.hpp"
#include "istlab/problem/types.hpp"

namespace istlab {

class Quadratic {
 public:
  // Both validate SPEC §1's requirements (symmetric L_i with positive diagonal, L̄ ≻ 0)
  // and throw std::invalid_argument naming the worker and entry that fail.
  static Quadratic dense(std::vector<DenseMatrix> worker_matrices, std::vector<Vector> worker_vectors,
                         Vector start_point);
  static Quadratic sparse(std::vector<SparseMatrix> worker_matrices,
                          std::vector<Vector> worker_vectors, Vector start_point);

  int dim() const { return dim_; }
  int num_workers() const { return num_workers_; }
  bool is_sparse() const { return !sparse_matrices_.empty(); }

  const DenseMatrix& dense_matrix(int worker) const { return dense_matrices_[worker]; }
  const SparseMatrix& sparse_matrix(int worker) const { return sparse_matrices_[worker]; }
  const Vector& worker_vector(int worker) const { return worker_vectors_[worker]; }
  // Diag(L_i) as a vector.
  const Vector& worker_diagonal(int worker) const { return worker_diagonals_[worker]; }

  // ∇f_i(x) = L_i x − b_i, written to `out` (size d).
  void worker_gradient(int worker, const Vector& x, Eigen::Ref<Vector> out) const;
  // (L_i x)_row: one row of L_i against a full vector.
  double row_dot(int worker, int row, const Vector& x) const;
  // Σ_u (L_i)[row, support[u]] · z[u] for a vector z living on the sorted index list
  // `support`: the block (L_i)[S, S] is read, nothing outside it.
  double block_row_dot(int worker, int row, std::span<const int> support, const double* z) const;
  // out += Σ_u (L_i)[:, support[u]] · z[u]: L_i times a vector supported on `support`.
  void add_columns(int worker, std::span<const int> support, const double* z,
                   Eigen::Ref<Vector> out) const;

  // Global quantities of f.
  const Vector& mean_vector() const { return mean_vector_; }  // b̄
  const Vector& start_point() const { return start_point_; }  // x⁰
  const Vector& solution() const { return solution_; }        // x* = L̄⁻¹ b̄
  double optimal_value() const { return optimal_value_; }     // f*
  double lambda_min() const { return mean_spectrum_.min; }    // λ_min(L̄)
  double lambda_max() const { return mean_spectrum_.max; }    // λ_max(L̄)
  double max_worker_lambda_max() const { return max_worker_lambda_max_; }  // max_i λ_max(L_i)

  // L̄ in the problem's storage (exactly one is non-empty).
  const DenseMatrix& dense_mean_matrix() const { return dense_mean_matrix_; }
  const SparseMatrix& sparse_mean_matrix() const { return sparse_mean_matrix_; }

  double objective(const Vector& x) const;      // f(x)
  // f(x) − f* = ½ (x − x*)ᵀ L̄ (x − x*): exact for a quadratic, no cancellation.
  double objective_gap(const Vector& x) const;
  Vector gradient(const Vector& x) const;       // ∇f(x) = L̄x − b̄
  Vector mean_matrix_times(const Vector& x) const;  // L̄x

 private:
  Quadratic() = default;
  void finish();  // validates, then computes L̄, b̄, x*, f*, spectra

  int dim_ = 0;
  int num_workers_ = 0;
  std::vector<DenseMatrix> dense_matrices_;
  std::vector<SparseMatrix> sparse_matrices_;
  std::vector<Vector> worker_vectors_;
  std::vector<Vector> worker_diagonals_;
  Vector start_point_;

  DenseMatrix dense_mean_matrix_;
  SparseMatrix sparse_mean_matrix_;
  Vector mean_vector_;
  Vector solution_;
  double optimal_value_ = 0.0;
  ExtremeEigenvalues mean_spectrum_;
  double max_worker_lambda_max_ = 0.0;
};

}  // namespace istlab
