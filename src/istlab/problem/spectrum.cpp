#include "istlab/problem/spectrum.hpp"

#include <Spectra/MatOp/DenseSymMatProd.h>
#include <Spectra/MatOp/SparseSymMatProd.h>
#include <Spectra/MatOp/SparseSymShiftSolve.h>
#include <Spectra/SymEigsShiftSolver.h>
#include <Spectra/SymEigsSolver.h>

#include <Eigen/SparseCholesky>
#include <cmath>
#include <limits>
#include <numbers>
#include <optional>
#include <stdexcept>

namespace istlab {
namespace {

// Matrices up to this size are decomposed densely: exact and fast enough.
constexpr Eigen::Index kDenseLimit = 600;
// Relative tolerance of the semidefiniteness test (against the largest |eigenvalue|).
constexpr double kSemidefiniteTolerance = 1e-12;

// Eigenvalues of tridiag(b, a, b) are a + 2b·cos(kπ/(d+1)), k = 1..d.
std::optional<ExtremeEigenvalues> toeplitz_tridiagonal(const SparseMatrix& matrix) {
  const Eigen::Index dim = matrix.rows();
  if (dim < 2) return std::nullopt;
  const double diagonal = matrix.coeff(0, 0);
  const double off_diagonal = matrix.coeff(0, 1);
  for (Eigen::Index row = 0; row < dim; ++row) {
    for (SparseMatrix::InnerIterator it(matrix, row); it; ++it) {
      const Eigen::Index distance = std::abs(it.col() - row);
      if (distance > 1) return std::nullopt;
      const double expected = distance == 0 ? diagonal : off_diagonal;
      if (it.value() != expected) return std::nullopt;
    }
    // A missing entry on a diagonal breaks the Toeplitz form unless that diagonal is zero.
    if (matrix.coeff(row, row) != diagonal) return std::nullopt;
    if (row + 1 < dim && matrix.coeff(row, row + 1) != off_diagonal) return std::nullopt;
  }
  const double spread =
      2.0 * std::abs(off_diagonal) * std::cos(std::numbers::pi / static_cast<double>(dim + 1));
  return ExtremeEigenvalues{diagonal - spread, diagonal + spread};
}

}  // namespace

ExtremeEigenvalues extreme_eigenvalues(const DenseMatrix& symmetric) {
  if (symmetric.rows() == 0) throw std::invalid_argument("eigenvalues of an empty matrix");
  Eigen::SelfAdjointEigenSolver<DenseMatrix> solver(symmetric, Eigen::EigenvaluesOnly);
  if (solver.info() != Eigen::Success) throw std::runtime_error("dense eigensolver failed");
  return {solver.eigenvalues().minCoeff(), solver.eigenvalues().maxCoeff()};
}

double largest_eigenvalue(const DenseMatrix& symmetric) {
  const Eigen::Index dim = symmetric.rows();
  if (dim <= kDenseLimit) return extreme_eigenvalues(symmetric).max;
  Spectra::DenseSymMatProd<double> product(symmetric);
  Spectra::SymEigsSolver<Spectra::DenseSymMatProd<double>> largest(product, 1,
                                                                   std::min<Eigen::Index>(dim, 40));
  largest.init();
  largest.compute(Spectra::SortRule::LargestAlge, 5000, 1e-12);
  if (largest.info() != Spectra::CompInfo::Successful)
    throw std::runtime_error("Lanczos did not converge for the largest eigenvalue");
  return largest.eigenvalues()[0];
}

ExtremeEigenvalues extreme_eigenvalues(const SparseMatrix& symmetric) {
  if (auto closed_form = toeplitz_tridiagonal(symmetric)) return *closed_form;
  const Eigen::Index dim = symmetric.rows();
  if (dim <= kDenseLimit) return extreme_eigenvalues(DenseMatrix(symmetric));

  const Eigen::SparseMatrix<double> column_major = symmetric;
  const Eigen::Index subspace = std::min<Eigen::Index>(dim, 40);
  Spectra::SparseSymMatProd<double> product(column_major);
  Spectra::SymEigsSolver<Spectra::SparseSymMatProd<double>> largest(product, 1, subspace);
  largest.init();
  largest.compute(Spectra::SortRule::LargestAlge, 5000, 1e-12);
  if (largest.info() != Spectra::CompInfo::Successful)
    throw std::runtime_error("Lanczos did not converge for the largest eigenvalue");

  Spectra::SparseSymShiftSolve<double> shift_solve(column_major);
  Spectra::SymEigsShiftSolver<Spectra::SparseSymShiftSolve<double>> smallest(shift_solve, 1,
                                                                             subspace, 0.0);
  smallest.init();
  smallest.compute(Spectra::SortRule::LargestMagn, 5000, 1e-12);
  if (smallest.info() != Spectra::CompInfo::Successful)
    throw std::runtime_error("shift-invert Lanczos did not converge for the smallest eigenvalue");
  return {smallest.eigenvalues()[0], largest.eigenvalues()[0]};
}

DefinitenessCheck check_semidefinite(const DenseMatrix& symmetric) {
  const ExtremeEigenvalues extremes = extreme_eigenvalues(symmetric);
  const double scale = std::max(std::abs(extremes.min), std::abs(extremes.max));
  return {extremes.min >= -kSemidefiniteTolerance * scale, extremes.min, extremes.max};
}

DefinitenessCheck check_semidefinite(const SparseMatrix& symmetric) {
  const Eigen::Index dim = symmetric.rows();
  if (dim <= kDenseLimit) return check_semidefinite(DenseMatrix(symmetric));
  // Sylvester's law of inertia: a slightly shifted LDLᵀ has a negative pivot exactly
  // when the matrix has an eigenvalue below −shift.
  const double scale = symmetric.cwiseAbs().sum() / static_cast<double>(dim);
  Eigen::SparseMatrix<double> shifted = symmetric;
  for (Eigen::Index i = 0; i < dim; ++i) shifted.coeffRef(i, i) += kSemidefiniteTolerance * scale;
  Eigen::SimplicialLDLT<Eigen::SparseMatrix<double>> ldlt(shifted);
  constexpr double kUnknown = std::numeric_limits<double>::quiet_NaN();
  if (ldlt.info() != Eigen::Success) return {false, kUnknown, kUnknown};
  return {ldlt.vectorD().minCoeff() > 0.0, kUnknown, kUnknown};
}

}  // namespace istlab
