#pragma once
// What docs/theory.md §4 predicts for IST on a problem with a given sketch, reported next to every
// run. With B̄ = (1/n) Σ C_i L_i C_i and c̄ = (1/n) Σ C_i b_i, the mean IST iterate follows
// E[x^{k+1}] = E[x^k] − γ (E[B̄] E[x^k] − E[c̄]) and converges to x^∞ = E[B̄]⁻¹ E[c̄].

#include <string>

#include "istlab/problem/generators.hpp"
#include "istlab/problem/quadratic.hpp"
#include "istlab/sketch/sketch.hpp"

namespace istlab {

struct Theory {
  double lambda_min = 0.0;             // λ_min(L̄)
  double lambda_max = 0.0;             // λ_max(L̄)
  double gd_step = 0.0;                // 1/λ_max(L̄)
  double expected_b_lambda_max = 0.0;  // λ_max(E[B̄])
  double ist_step = 0.0;               // 1/λ_max(E[B̄]): the relative-step unit of ist
  double ist_stability_limit = 0.0;    // 2/λ_max(E[B̄]): the mean iteration's limit
  Vector fixed_point;                  // x^∞
  double bias = 0.0;                   // ‖x^∞ − x*‖²
  double relative_bias = 0.0;          // ‖x^∞ − x*‖² / ‖x⁰ − x*‖²
  bool w_bar_psd = false;              // W̄ = ½(L̄ E[B̄] + E[B̄] L̄) ⪰ 0
  double w_bar_min_eigenvalue = 0.0;   // NaN where only the sign was computed (large sparse)
  double w_bar_max_eigenvalue = 0.0;   // NaN likewise
};

// E[B̄] and E[c̄] in the problem's storage, from each worker's exact sketch moments.
DenseMatrix expected_b_bar_dense(const Quadratic& problem, const SketchSpec& sketch);
SparseMatrix expected_b_bar_sparse(const Quadratic& problem, const SketchSpec& sketch);
Vector expected_c_bar(const Quadratic& problem, const SketchSpec& sketch);

// Dense theory costs O(d³) (eigen-decompositions, factorisations): above this dimension
// it is not computed, and steps relative to it cannot be resolved.
inline constexpr int kMaxDenseTheoryDim = 4096;

// Why the theory of problems built from `spec` is not computed, or "" when it is.
std::string theory_unavailable_reason(const ProblemSpec& spec);

// Throws std::runtime_error when E[B̄] cannot be factorised (singular).
Theory compute_theory(const Quadratic& problem, const SketchSpec& sketch);

}  // namespace istlab
