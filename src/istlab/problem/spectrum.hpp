#pragma once
// Extreme eigenvalues of symmetric matrices, chosen by structure so that theory never
// blocks a large run: constant-diagonal tridiagonal matrices in closed form, small ones
// densely, large sparse ones by Lanczos (Spectra).

#include "istlab/problem/types.hpp"

namespace istlab {

struct ExtremeEigenvalues {
  double min = 0.0;
  double max = 0.0;
};

ExtremeEigenvalues extreme_eigenvalues(const DenseMatrix& symmetric);
// λ_max alone: by Lanczos above the dense limit, so n large workers do not each cost a full
// O(d³) eigendecomposition.
double largest_eigenvalue(const DenseMatrix& symmetric);
// For sparse matrices the minimum is found by shift-invert at 0, which assumes the matrix
// is positive definite (callers check definiteness with a factorisation first).
ExtremeEigenvalues extreme_eigenvalues(const SparseMatrix& symmetric);

// Whether a symmetric matrix is positive semidefinite up to a relative tolerance, and
// its smallest eigenvalue where that is cheap to know (NaN otherwise).
struct DefinitenessCheck {
  bool positive_semidefinite = false;
  double min_eigenvalue = 0.0;  // NaN when only the sign was computed (large sparse)
  double max_eigenvalue = 0.0;  // NaN when only the sign was computed (large sparse)
};
DefinitenessCheck check_semidefinite(const DenseMatrix& symmetric);
DefinitenessCheck check_semidefinite(const SparseMatrix& symmetric);

}  // namespace istlab
