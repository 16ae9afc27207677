// docs/theory.md §4: E[B̄], E[c̄], IST's fixed point x^∞ and the facts 3–6 the harness relies on.

#include "istlab/theory/theory.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "istlab/method/method.hpp"
#include "istlab/problem/generators.hpp"
#include "istlab/run/run.hpp"
#include "istlab/sketch/sketch.hpp"

namespace istlab {
namespace {

DenseMatrix dense_worker_matrix(const Quadratic& problem, int worker) {
  return problem.is_sparse() ? DenseMatrix(problem.sparse_matrix(worker))
                             : problem.dense_matrix(worker);
}

DenseMatrix expected_b_bar(const Quadratic& problem, const SketchSpec& sketch) {
  return problem.is_sparse() ? DenseMatrix(expected_b_bar_sparse(problem, sketch))
                             : expected_b_bar_dense(problem, sketch);
}

// The heterogeneous problem with b_i ≠ 0 of facts 4 and 6: small, so many seeds are cheap,
// and kappa = 10 so IST mixes within a few hundred rounds.
Quadratic biased_problem() {
  return make_problem({.generator = "dense",
                       .dim = 6,
                       .num_workers = 3,
                       .heterogeneity = 0.5,
                       .kappa = 10.0,
                       .seed = 12});
}

// Mean over seeds and over the last `tail` of `rounds` rounds of ‖x − x*‖².
double mean_squared_error(const Quadratic& problem, const SketchSpec& sketch_spec,
                          const MethodSpec& method_spec, double step, int seeds, int rounds,
                          int tail) {
  const Sketcher sketcher(sketch_spec, problem);
  const std::unique_ptr<Method> method = make_method(method_spec, problem, sketcher);
  RoundSketch round = sketcher.make_round();
  double sum = 0.0;
  for (int seed = 0; seed < seeds; ++seed) {
    Vector x = problem.start_point();
    for (int k = 0; k < rounds; ++k) {
      sketcher.draw(static_cast<std::uint64_t>(seed), k, round);
      method->step(round, step, x);
      if (k >= rounds - tail) sum += (x - problem.solution()).squaredNorm();
    }
  }
  return sum / (static_cast<double>(seeds) * tail);
}

// Known answers with rounding only: entries O(1..10), a few dozen operations each.
constexpr double kExact = 1e-12;

TEST(Theory, IdentitySketchHasNoBias) {
  for (const ProblemSpec& spec :
       {ProblemSpec{
            .generator = "dense", .dim = 8, .num_workers = 3, .heterogeneity = 0.5, .seed = 1},
        ProblemSpec{.generator = "tridiagonal",
        .dim = 12,
        .num_workers = 3,
        .heterogeneity = 0.3,
        .mu = 0.1,
        .seed = 2}}) {
    SCOPED_TRACE(spec.key());
    const Quadratic problem = make_problem(spec);
    const SketchSpec identity{SketchType::kIdentity};
    const DenseMatrix mean_matrix = problem.is_sparse() ? DenseMatrix(problem.sparse_mean_matrix())
                                                        : problem.dense_mean_matrix();
    // E[B̄] = L̄, E[c̄] = b̄, so x^∞ = x*.
    EXPECT_LE((expected_b_bar(problem, identity) - mean_matrix).cwiseAbs().maxCoeff(), kExact);
    EXPECT_LE((expected_c_bar(problem, identity) - problem.mean_vector()).norm(), kExact);
    const Theory theory = compute_theory(problem, identity);
    EXPECT_LE((theory.fixed_point - problem.solution()).norm(),
              kExact * (1 + problem.solution().norm()));
    EXPECT_LE(theory.bias, kExact * kExact * (1 + problem.solution().squaredNorm()));
    EXPECT_TRUE(theory.w_bar_psd);  // W̄ = L̄² ⪰ 0
    // E[B̄] = (1/n) Σ 1·L_i is summed in another order than L̄, so equal to rounding.
    const double lambda_max = problem.lambda_max();
    EXPECT_NEAR(theory.expected_b_lambda_max, lambda_max, 1e-13 * lambda_max);
    EXPECT_DOUBLE_EQ(theory.gd_step, 1.0 / lambda_max);
    EXPECT_NEAR(theory.ist_step, theory.gd_step, 1e-13 * theory.gd_step);
    EXPECT_NEAR(theory.ist_stability_limit, 2.0 / lambda_max, 2e-13 / lambda_max);
    EXPECT_DOUBLE_EQ(theory.lambda_min, problem.lambda_min());
  }
}

TEST(Theory, ExpectedBBarIsTheElementwiseFormula) {
  // E[B̄] = (1/n) Σ M2_i ∘ L_i and E[c̄] = (1/n) Σ m1_i ∘ b_i, written out by hand.
  const Quadratic problem = biased_problem();
  for (const SketchSpec& sketch : {SketchSpec{SketchType::kPerm, SketchScale::kDiagPrecond},
                                   SketchSpec{SketchType::kRand, SketchScale::kUnbiased, 2}}) {
    const auto moments = sketch_moments(sketch, problem);
    DenseMatrix b_bar = DenseMatrix::Zero(6, 6);
    Vector c_bar = Vector::Zero(6);
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 6; ++j) {
        c_bar[j] += moments[i].first[j] * problem.worker_vector(i)[j] / 3;
        for (int k = 0; k < 6; ++k)
          b_bar(j, k) += moments[i].second(j, k) * problem.dense_matrix(i)(j, k) / 3;
      }
    }
    EXPECT_LE((expected_b_bar_dense(problem, sketch) - b_bar).cwiseAbs().maxCoeff(), kExact);
    EXPECT_LE((expected_c_bar(problem, sketch) - c_bar).cwiseAbs().maxCoeff(), kExact);
    const Theory theory = compute_theory(problem, sketch);
    EXPECT_LE((b_bar * theory.fixed_point - c_bar).norm(), kExact * (1 + c_bar.norm()));
    Eigen::SelfAdjointEigenSolver<DenseMatrix> solver(b_bar);
    EXPECT_NEAR(theory.expected_b_lambda_max, solver.eigenvalues().maxCoeff(), kExact);
    EXPECT_NEAR(theory.bias, (theory.fixed_point - problem.solution()).squaredNorm(), kExact);
    EXPECT_NEAR(theory.relative_bias,
                theory.bias / (problem.start_point() - problem.solution()).squaredNorm(), kExact);
  }
}

TEST(Theory, Fact3DiagPrecondPermOneRecoversTheSolutionInOneStep) {
  // Interpolation, heterogeneous, Perm-1 (n = d), diag_precond: E[B̄] = I and, since each
  // worker's C_i L_i C_i = n·e_j e_jᵀ on its own coordinate, x¹ = x⁰ − B̄x⁰ = 0 in every round.
  for (const ProblemSpec& spec : {ProblemSpec{.generator = "tridiagonal",
                                 .dim = 8,
                                 .num_workers = 8,
                                 .heterogeneity = 0.3,
                                 .interpolation = true,
                                 .mu = 0.1,
                                 .seed = 3},
                                  ProblemSpec{.generator = "dense",
                                  .dim = 6,
                                  .num_workers = 6,
                                  .heterogeneity = 0.5,
                                  .interpolation = true,
                                  .seed = 4}}) {
    SCOPED_TRACE(spec.key());
    const Quadratic problem = make_problem(spec);
    const int dim = problem.dim();
    ASSERT_NE(dense_worker_matrix(problem, 0), dense_worker_matrix(problem, 1));  // heterogeneous
    const SketchSpec sketch{SketchType::kPerm, SketchScale::kDiagPrecond};
    EXPECT_LE(
        (expected_b_bar(problem, sketch) - DenseMatrix::Identity(dim, dim)).cwiseAbs().maxCoeff(),
        kExact);
    const Theory theory = compute_theory(problem, sketch);
    EXPECT_LE(theory.fixed_point.norm(), kExact);
    EXPECT_NEAR(theory.ist_step, 1.0, kExact);

    const Sketcher sketcher(sketch, problem);
    const std::unique_ptr<Method> ist = make_method({.name = "ist"}, problem, sketcher);
    RoundSketch round = sketcher.make_round();
    for (int k = 0; k < 20; ++k) {  // whatever permutation the round draws
      sketcher.draw(5, k, round);
      Vector x = problem.start_point();
      ist->step(round, 1.0, x);
      EXPECT_LE(x.norm(), kExact * problem.start_point().norm()) << "round " << k;
    }
    // The same with the unbiased scale is not a one-step method: the test can fail.
    const Sketcher unbiased_sketcher({SketchType::kPerm, SketchScale::kUnbiased}, problem);
    const std::unique_ptr<Method> unbiased_ist =
        make_method({.name = "ist"}, problem, unbiased_sketcher);
    RoundSketch unbiased_round = unbiased_sketcher.make_round();
    unbiased_sketcher.draw(5, 0, unbiased_round);
    Vector x = problem.start_point();
    unbiased_ist->step(unbiased_round, 1.0, x);
    EXPECT_GT(x.norm(), 1e-3 * problem.start_point().norm());
  }
}

TEST(Theory, ExpectedBBarAndCBarMatchMonteCarlo) {
  // B̄ = (1/n)Σ C_i L_i C_i and c̄ = (1/n)Σ C_i b_i averaged over rounds; 6 standard errors
  // per entry (estimated from the samples) plus rounding.
  constexpr int kRounds = 20000;
  const Quadratic problem = biased_problem();
  const int dim = problem.dim();
  const int n = problem.num_workers();
  for (const SketchSpec& sketch :
       {SketchSpec{SketchType::kPerm}, SketchSpec{SketchType::kPerm, SketchScale::kDiagPrecond},
        SketchSpec{SketchType::kRand, SketchScale::kUnbiased, 2}}) {
    SCOPED_TRACE(std::string(name(sketch.type)) + " " + std::string(name(sketch.scale)));
    const Sketcher sketcher(sketch, problem);
    RoundSketch round = sketcher.make_round();
    DenseMatrix sum = DenseMatrix::Zero(dim, dim);
    DenseMatrix sum_squares = DenseMatrix::Zero(dim, dim);
    Vector c_sum = Vector::Zero(dim);
    Vector c_sum_squares = Vector::Zero(dim);
    for (int k = 0; k < kRounds; ++k) {
      sketcher.draw(8, k, round);
      DenseMatrix b_bar = DenseMatrix::Zero(dim, dim);
      Vector c_bar = Vector::Zero(dim);
      for (int i = 0; i < n; ++i) {
        Vector c = Vector::Zero(dim);
        const WorkerSketch& worker = round.workers[i];
        for (std::size_t t = 0; t < worker.indices.size(); ++t)
          c[worker.indices[t]] = worker.scales[t];
        b_bar += c.asDiagonal() * problem.dense_matrix(i) * c.asDiagonal();
        c_bar += c.cwiseProduct(problem.worker_vector(i));
      }
      b_bar /= n;
      c_bar /= n;
      sum += b_bar;
      sum_squares += b_bar.cwiseAbs2();
      c_sum += c_bar;
      c_sum_squares += c_bar.cwiseAbs2();
    }
    const DenseMatrix mean = sum / kRounds;
    const DenseMatrix error =
        ((sum_squares / kRounds - mean.cwiseAbs2()).cwiseMax(0.0) / kRounds).cwiseSqrt();
    const DenseMatrix exact = expected_b_bar(problem, sketch);
    for (int j = 0; j < dim; ++j)
      for (int k = 0; k < dim; ++k)
        EXPECT_NEAR(mean(j, k), exact(j, k), 6 * error(j, k) + kExact)
            << "(" << j << ", " << k << ")";
    const Vector c_mean = c_sum / kRounds;
    const Vector c_error =
        ((c_sum_squares / kRounds - c_mean.cwiseAbs2()).cwiseMax(0.0) / kRounds).cwiseSqrt();
    const Vector c_exact = expected_c_bar(problem, sketch);
    for (int j = 0; j < dim; ++j) EXPECT_NEAR(c_mean[j], c_exact[j], 6 * c_error[j] + kExact) << j;
  }
}

TEST(Theory, Fact4MeanIstIterateApproachesFixedPointNotSolution) {
  const Quadratic problem = biased_problem();
  const SketchSpec perm{SketchType::kPerm};
  const Theory theory = compute_theory(problem, perm);
  const double bias_distance = std::sqrt(theory.bias);
  ASSERT_GT(theory.relative_bias, 1e-3);  // a clearly biased problem
  const Sketcher sketcher(perm, problem);
  const std::unique_ptr<Method> ist = make_method({.name = "ist"}, problem, sketcher);
  constexpr int kSeeds = 2000;
  RunOptions options;
  // The mean iterate contracts by ≤ 1 − γλ_min(E[B̄]) ≈ 1 − 0.25·9/15.5 per round at the
  // smallest γ: 300 rounds leave ≈ 1e-19 of x⁰ − x^∞.
  options.max_iters = 300;
  for (const double factor : {0.25, 0.5, 1.0}) {
    SCOPED_TRACE(factor);
    const double step = factor * theory.ist_step;
    Vector mean = Vector::Zero(problem.dim());
    double spread = 0.0;  // E‖x − x^∞‖² over seeds, for the Monte-Carlo standard error
    for (int seed = 0; seed < kSeeds; ++seed) {
      const RunResult result =
          run_method(problem, sketcher, *ist, step, static_cast<std::uint64_t>(seed), options,
                     &theory.fixed_point);
      ASSERT_EQ(result.status, RunStatus::kMaxIters);
      mean += result.final_point / kSeeds;
      spread += (result.final_point - theory.fixed_point).squaredNorm() / kSeeds;
    }
    // ‖mean − E[x^K]‖ has standard error √(tr Cov / seeds) ≤ √(spread / seeds); allow 5 of
    // them. That is ≈ 0.005·‖x^∞ − x*‖ here, so x* is excluded by a factor of about 200.
    const double standard_error = std::sqrt(spread / kSeeds);
    EXPECT_LE((mean - theory.fixed_point).norm(), 5 * standard_error);
    EXPECT_LT(5 * standard_error, 0.05 * bias_distance);
    EXPECT_GT((mean - problem.solution()).norm(), 0.95 * bias_distance);
  }
}

TEST(Theory, Fact5CounterexampleIncreasesFButConverges) {
  const Quadratic problem =
      make_problem({.generator = "counterexample", .dim = 2, .num_workers = 2});
  const SketchSpec perm{SketchType::kPerm};
  const Theory theory = compute_theory(problem, perm);
  EXPECT_FALSE(theory.w_bar_psd);
  // W̄ = ½(L·E[B̄] + E[B̄]·L) = [[2, 505], [505, 20000]]: eigenvalues 10001 ∓ √(9999² + 505²).
  const double half_gap = std::sqrt(9999.0 * 9999.0 + 505.0 * 505.0);
  EXPECT_NEAR(theory.w_bar_min_eigenvalue, 10001.0 - half_gap, 1e-9);
  EXPECT_NEAR(theory.w_bar_max_eigenvalue, 10001.0 + half_gap, 1e-9);
  // Perm-1 with d = n = 2: E[B̄] = 2·Diag(L) = Diag(2, 200).
  DenseMatrix b_bar_expected = DenseMatrix::Zero(2, 2);
  b_bar_expected.diagonal() << 2.0, 200.0;
  EXPECT_LE((expected_b_bar(problem, perm) - b_bar_expected).cwiseAbs().maxCoeff(), kExact);

  // Exact expectation over the two equally likely draws (worker 0 keeps coordinate 0 or 1),
  // each C = 2·e_j e_jᵀ: with b = 0 both give g = 2·Diag(L)x, so E[f(x − γg)] = f(x − γ·2Diag(L)x).
  const Vector& x = problem.start_point();
  const DenseMatrix& L = problem.dense_matrix(0);
  // Small enough that the second-order term γ²/2·gᵀL̄g (≈ 1.2e3·γ² here) is < 0.2% of the first.
  const double gamma = 1e-5;
  double expected_f_after = 0.0;
  for (int first_coordinate = 0; first_coordinate < 2; ++first_coordinate) {
    Vector g = Vector::Zero(2);
    for (int worker = 0; worker < 2; ++worker) {
      const int j = (first_coordinate + worker) % 2;
      DenseMatrix C = DenseMatrix::Zero(2, 2);
      C(j, j) = 2.0;
      g += C * L * C * x / 2;
    }
    expected_f_after += problem.objective(x - gamma * g) / 2;
  }
  EXPECT_GT(expected_f_after, problem.objective(x));
  // First order: E[f(x − γg)] − f(x) ≈ −γ xᵀW̄x = −γ λ_min(W̄) for the unit eigenvector x⁰.
  EXPECT_NEAR((expected_f_after - problem.objective(x)) / gamma, -theory.w_bar_min_eigenvalue,
              0.01 * std::abs(theory.w_bar_min_eigenvalue));

  // The library's rounds agree: f grows on average over many rounds at the start point.
  const Sketcher sketcher(perm, problem);
  const std::unique_ptr<Method> ist = make_method({.name = "ist"}, problem, sketcher);
  RoundSketch round = sketcher.make_round();
  double mean_f_after = 0.0;
  constexpr int kRounds = 1000;
  for (int k = 0; k < kRounds; ++k) {
    sketcher.draw(1, k, round);
    Vector y = x;
    ist->step(round, gamma, y);
    mean_f_after += problem.objective(y) / kRounds;
  }
  EXPECT_NEAR(mean_f_after, expected_f_after, 1e-12);  // every draw gives the same g here
  EXPECT_GT(mean_f_after, problem.objective(x));

  // Yet the iterates contract: γ < 1/(n·100) = 1/200 keeps I − γ·2Diag(L) a contraction.
  RunOptions options;
  options.max_iters = 5000;
  options.tolerance = 1e-20;
  const RunResult result = run_method(problem, sketcher, *ist, 0.004, 1, options);
  EXPECT_EQ(result.status, RunStatus::kConverged);
  EXPECT_LE(result.trace.back().rel_err, 1e-20);
}

TEST(Theory, Fact6SmallerStepShrinksDcgdErrorButNotIstBias) {
  const Quadratic problem = biased_problem();
  const SketchSpec perm{SketchType::kPerm};
  const Theory theory = compute_theory(problem, perm);
  const double large = theory.ist_step;
  const double small = large / 10;
  // 20 seeds, averaged over the last half of 200 rounds at the large step and 2000 at the
  // small one: enough to forget x⁰ (contraction ≈ γλ_min ≥ 0.016 per round for 1000 rounds)
  // and to average the noise.
  auto error = [&](const std::string& method, double step) {
    const int rounds = static_cast<int>(std::lround(20.0 * large / step)) * 10;
    return mean_squared_error(problem, perm, {.name = method}, step, 20, rounds, rounds / 2);
  };
  const double dcgd_large = error("dcgd", large);
  const double dcgd_small = error("dcgd", small);
  const double ist_large = error("ist", large);
  const double ist_small = error("ist", small);
  // DCGD is unbiased with variance ∝ γ: 10× smaller γ gives ≈ 10× smaller error (at least 5×).
  EXPECT_LT(dcgd_small, dcgd_large / 5);
  EXPECT_LT(dcgd_small, 0.1 * theory.bias);  // and it ends far below IST's bias
  // IST's error is dominated by its bias ‖x^∞ − x*‖² at both steps.
  EXPECT_NEAR(ist_large, theory.bias, 0.1 * theory.bias);
  EXPECT_NEAR(ist_small, theory.bias, 0.1 * theory.bias);
  EXPECT_GT(ist_small, 0.9 * ist_large);
}

TEST(Theory, SparseAndDenseTheoryAgree) {
  const Quadratic sparse = make_problem({.generator = "tridiagonal",
                                         .dim = 12,
                                         .num_workers = 4,
                                         .heterogeneity = 0.3,
                                         .mu = 0.1,
                                         .seed = 6});
  std::vector<DenseMatrix> matrices;
  std::vector<Vector> vectors;
  for (int i = 0; i < sparse.num_workers(); ++i) {
    matrices.emplace_back(sparse.sparse_matrix(i));
    vectors.push_back(sparse.worker_vector(i));
  }
  const Quadratic dense = Quadratic::dense(matrices, vectors, sparse.start_point());
  // The same workers as separate sparse matrices: E[B̄] is then summed matrix by matrix
  // instead of in place on the shared pattern, with the same sums.
  std::vector<SparseMatrix> separate_matrices;
  for (int i = 0; i < sparse.num_workers(); ++i)
    separate_matrices.push_back(sparse.sparse_matrix(i));
  const Quadratic separate = Quadratic::sparse(separate_matrices, vectors, sparse.start_point());
  ASSERT_TRUE(sparse.workers_share_one_matrix());
  ASSERT_FALSE(separate.workers_share_one_matrix());
  EXPECT_LE((sparse.solution() - dense.solution()).norm(), kExact * (1 + dense.solution().norm()));
  EXPECT_NEAR(sparse.lambda_min(), dense.lambda_min(), kExact);
  EXPECT_NEAR(sparse.lambda_max(), dense.lambda_max(), kExact);
  for (const SketchSpec& sketch :
       {SketchSpec{SketchType::kPerm}, SketchSpec{SketchType::kPerm, SketchScale::kDiagPrecond},
        SketchSpec{SketchType::kRand, SketchScale::kUnbiased, 5},
        SketchSpec{SketchType::kIdentity}}) {
    SCOPED_TRACE(std::string(name(sketch.type)) + " " + std::string(name(sketch.scale)));
    EXPECT_LE(
        (expected_b_bar(sparse, sketch) - expected_b_bar(dense, sketch)).cwiseAbs().maxCoeff(),
        kExact);
    EXPECT_TRUE(expected_b_bar(sparse, sketch) == expected_b_bar(separate, sketch));
    EXPECT_TRUE(expected_c_bar(sparse, sketch) == expected_c_bar(separate, sketch));
    const Theory a = compute_theory(sparse, sketch);
    const Theory b = compute_theory(dense, sketch);
    EXPECT_LE((a.fixed_point - b.fixed_point).norm(), kExact * (1 + b.fixed_point.norm()));
    EXPECT_NEAR(a.bias, b.bias, kExact);
    EXPECT_NEAR(a.expected_b_lambda_max, b.expected_b_lambda_max, kExact);
    EXPECT_NEAR(a.ist_step, b.ist_step, kExact);
    EXPECT_EQ(a.w_bar_psd, b.w_bar_psd);
    EXPECT_NEAR(a.w_bar_min_eigenvalue, b.w_bar_min_eigenvalue, kExact);
  }
}

}  // namespace
}  // namespace istlab
