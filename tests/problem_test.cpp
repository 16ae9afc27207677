// The quadratic of docs/theory.md §1 and its generators (§1.1): gradients, x*, f*, validation,
// determinism, and the row/block products methods rely on.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "istlab/problem/generators.hpp"
#include "istlab/problem/quadratic.hpp"
#include "istlab/random/random_stream.hpp"

namespace istlab {
namespace {

// L_i as a dense matrix whatever the storage.
DenseMatrix dense_worker_matrix(const Quadratic& problem, int worker) {
  return problem.is_sparse() ? DenseMatrix(problem.sparse_matrix(worker))
                             : problem.dense_matrix(worker);
}

DenseMatrix dense_mean_matrix(const Quadratic& problem) {
  return problem.is_sparse() ? DenseMatrix(problem.sparse_mean_matrix())
                             : problem.dense_mean_matrix();
}

Vector random_vector(int dim, std::uint64_t seed) {
  RandomStream stream(seed, StreamPurpose::kWorker, 99, 0);
  Vector v(dim);
  for (int j = 0; j < dim; ++j) v[j] = stream.normal();
  return v;
}

std::vector<ProblemSpec> generator_cases() {
  return {
      {.generator = "tridiagonal",
       .dim = 9,
       .num_workers = 4,
       .heterogeneity = 0.0,
       .mu = 0.1,
       .seed = 1},
      {.generator = "tridiagonal",
       .dim = 9,
       .num_workers = 4,
       .heterogeneity = 0.3,
       .mu = 0.1,
       .seed = 2},
      {.generator = "dense", .dim = 7, .num_workers = 3, .heterogeneity = 0.0, .seed = 3},
      {.generator = "dense", .dim = 7, .num_workers = 3, .heterogeneity = 0.5, .seed = 4},
      {.generator = "counterexample", .dim = 2, .num_workers = 2},
  };
}

// Central differences are exact for a quadratic up to rounding, ≈ ε·|f|/h ≈ 1e-16·1e2/1e-3;
// 1e-8 relative leaves ample room yet catches any wrong term.
constexpr double kDifferenceStep = 1e-3;
constexpr double kDifferenceTolerance = 1e-8;

template <class Function>
Vector central_difference(const Function& function, const Vector& x) {
  Vector gradient(x.size());
  for (Eigen::Index j = 0; j < x.size(); ++j) {
    Vector plus = x;
    Vector minus = x;
    plus[j] += kDifferenceStep;
    minus[j] -= kDifferenceStep;
    gradient[j] = (function(plus) - function(minus)) / (2 * kDifferenceStep);
  }
  return gradient;
}

TEST(Problem, GradientsMatchFiniteDifferencesForEveryGenerator) {
  for (const ProblemSpec& spec : generator_cases()) {
    SCOPED_TRACE(spec.key());
    const Quadratic problem = make_problem(spec);
    ASSERT_EQ(problem.is_sparse(), spec.generator == "tridiagonal");
    const Vector x = random_vector(problem.dim(), 11);
    Vector gradient(problem.dim());
    for (int worker = 0; worker < problem.num_workers(); ++worker) {
      const DenseMatrix matrix = dense_worker_matrix(problem, worker);
      const Vector& b = problem.worker_vector(worker);
      // f_i from the public matrices, independent of the library's own arithmetic.
      auto f_i = [&](const Vector& y) { return 0.5 * y.dot(matrix * y) - b.dot(y); };
      problem.worker_gradient(worker, x, gradient);
      const Vector expected = central_difference(f_i, x);
      EXPECT_LE((gradient - expected).norm(), kDifferenceTolerance * (1 + expected.norm()))
          << "worker " << worker;
      EXPECT_EQ(problem.worker_diagonal(worker), Vector(matrix.diagonal()));
    }
    auto f = [&](const Vector& y) { return problem.objective(y); };
    const Vector expected = central_difference(f, x);
    EXPECT_LE((problem.gradient(x) - expected).norm(),
              kDifferenceTolerance * (1 + expected.norm()));

    // f is the mean of the f_i.
    double mean_f = 0.0;
    for (int worker = 0; worker < problem.num_workers(); ++worker) {
      const DenseMatrix matrix = dense_worker_matrix(problem, worker);
      mean_f +=
          (0.5 * x.dot(matrix * x) - problem.worker_vector(worker).dot(x)) / problem.num_workers();
    }
    EXPECT_NEAR(problem.objective(x), mean_f, 1e-12 * (1 + std::abs(mean_f)));
  }
}

TEST(Problem, SolutionOptimalValueAndGap) {
  for (const ProblemSpec& spec : generator_cases()) {
    SCOPED_TRACE(spec.key());
    const Quadratic problem = make_problem(spec);
    const DenseMatrix mean_matrix = dense_mean_matrix(problem);
    Vector mean_vector = Vector::Zero(problem.dim());
    for (int worker = 0; worker < problem.num_workers(); ++worker)
      mean_vector += problem.worker_vector(worker) / problem.num_workers();
    EXPECT_LE((problem.mean_vector() - mean_vector).norm(), 1e-15 * (1 + mean_vector.norm()));

    // x* solves L̄x = b̄: a backward-stable solve leaves a residual of order ε·κ·‖b̄‖.
    const Vector& solution = problem.solution();
    const double residual = (mean_matrix * solution - mean_vector).norm();
    EXPECT_LE(residual, 1e-12 * (mean_matrix.norm() * solution.norm() + mean_vector.norm()));
    EXPECT_DOUBLE_EQ(problem.optimal_value(), problem.objective(solution));

    // f − f* = ½(x−x*)ᵀL̄(x−x*) ≥ 0, with equality only at x*.
    const Vector x = random_vector(problem.dim(), 12);
    const double gap = problem.objective(x) - problem.optimal_value();
    EXPECT_NEAR(problem.objective_gap(x), gap, 1e-12 * (1 + std::abs(problem.objective(x))));
    EXPECT_GT(problem.objective_gap(x), 0.0);
    EXPECT_LE(problem.objective_gap(solution), 1e-25 + 1e-15 * std::abs(problem.optimal_value()));

    // Spectra against a dense eigen-decomposition.
    Eigen::SelfAdjointEigenSolver<DenseMatrix> solver(mean_matrix);
    EXPECT_NEAR(problem.lambda_min(), solver.eigenvalues().minCoeff(),
                1e-12 * solver.eigenvalues().maxCoeff());
    EXPECT_NEAR(problem.lambda_max(), solver.eigenvalues().maxCoeff(),
                1e-12 * solver.eigenvalues().maxCoeff());
    double max_worker = 0.0;
    for (int worker = 0; worker < problem.num_workers(); ++worker) {
      Eigen::SelfAdjointEigenSolver<DenseMatrix> worker_solver(
          dense_worker_matrix(problem, worker));
      max_worker = std::max(max_worker, worker_solver.eigenvalues().maxCoeff());
    }
    EXPECT_NEAR(problem.max_worker_lambda_max(), max_worker, 1e-12 * max_worker);
  }
}

TEST(Problem, TridiagonalShiftGivesLambdaMinMu) {
  for (const double s : {0.0, 0.3}) {
    for (const double mu : {1e-6, 0.1}) {
      const ProblemSpec spec{.generator = "tridiagonal",
                             .dim = 20,
                             .num_workers = 5,
                             .heterogeneity = s,
                             .mu = mu,
                             .seed = 21};
      SCOPED_TRACE(spec.key());
      const Quadratic problem = make_problem(spec);
      Eigen::SelfAdjointEigenSolver<DenseMatrix> solver(dense_mean_matrix(problem));
      // Eigenvalues of a matrix with entries O(1) are exact to ≈ 1e-15 absolute.
      EXPECT_NEAR(solver.eigenvalues().minCoeff(), mu, 1e-13);
      EXPECT_NEAR(problem.lambda_min(), mu, 1e-13);
      // Tridiagonal structure and the start point of docs/theory.md §1.1, √d·e_1.
      for (int worker = 0; worker < problem.num_workers(); ++worker)
        EXPECT_EQ(problem.sparse_matrix(worker).nonZeros(), 3 * 20 - 2);
      Vector start = Vector::Zero(20);
      start[0] = std::sqrt(20.0);
      EXPECT_EQ(problem.start_point(), start);
    }
  }
}

TEST(Problem, TridiagonalMatchesSzlendakFormulaPlusCommonShift) {
  // L_i = (ν_s/4)·T + shift·I with shift = mu − (ν̄_s/4)·λ_min(T), b_i on e_1 only.
  constexpr int kDim = 6;
  constexpr double kMu = 0.1;
  const Quadratic problem = make_problem({.generator = "tridiagonal",
                                          .dim = kDim,
                                          .num_workers = 3,
                                          .heterogeneity = 0.3,
                                          .mu = kMu,
                                          .seed = 5});
  DenseMatrix tridiag = DenseMatrix::Zero(kDim, kDim);
  for (int j = 0; j < kDim; ++j) {
    tridiag(j, j) = 2;
    if (j + 1 < kDim) tridiag(j, j + 1) = tridiag(j + 1, j) = -1;
  }
  const double t_min = 2 - 2 * std::cos(std::acos(-1.0) / (kDim + 1));
  double mean_quarter_nu = 0.0;
  for (int worker = 0; worker < 3; ++worker)
    mean_quarter_nu += -problem.sparse_matrix(worker).coeff(0, 1) / 3;
  const double shift = kMu - mean_quarter_nu * t_min;
  for (int worker = 0; worker < 3; ++worker) {
    const DenseMatrix matrix = dense_worker_matrix(problem, worker);
    const double quarter_nu = -matrix(0, 1);  // ν_s/4
    EXPECT_NE(quarter_nu, 0.25);              // s = 0.3 perturbs ν_s away from 1
    EXPECT_LE((matrix - quarter_nu * tridiag - shift * DenseMatrix::Identity(kDim, kDim)).norm(),
              1e-14);
    const Vector& b = problem.worker_vector(worker);
    EXPECT_EQ(b.tail(kDim - 1).norm(), 0.0);
    EXPECT_NE(b[0], 0.0);
  }
}

TEST(Problem, HomogeneousAndInterpolationCases) {
  auto expect_homogeneous = [](const Quadratic& problem) {
    for (int worker = 1; worker < problem.num_workers(); ++worker) {
      EXPECT_EQ(dense_worker_matrix(problem, worker), dense_worker_matrix(problem, 0));
      EXPECT_EQ(problem.worker_vector(worker), problem.worker_vector(0));
    }
  };
  expect_homogeneous(make_problem({.generator = "tridiagonal",
                                   .dim = 10,
                                   .num_workers = 4,
                                   .heterogeneity = 0.0,
                                   .mu = 0.1,
                                   .seed = 3}));
  expect_homogeneous(make_problem(
      {.generator = "dense", .dim = 8, .num_workers = 4, .heterogeneity = 0.0, .seed = 3}));

  // Heterogeneous problems are not homogeneous.
  const Quadratic heterogeneous = make_problem(
      {.generator = "dense", .dim = 8, .num_workers = 4, .heterogeneity = 0.5, .seed = 3});
  EXPECT_NE(dense_worker_matrix(heterogeneous, 0), dense_worker_matrix(heterogeneous, 1));
  EXPECT_NE(heterogeneous.worker_vector(0), heterogeneous.worker_vector(1));

  for (const std::string generator : {"tridiagonal", "dense"}) {
    const Quadratic problem = make_problem({.generator = generator,
                                            .dim = 10,
                                            .num_workers = 4,
                                            .heterogeneity = 0.3,
                                            .interpolation = true,
                                            .mu = 0.1,
                                            .seed = 8});
    for (int worker = 0; worker < problem.num_workers(); ++worker)
      EXPECT_EQ(problem.worker_vector(worker), Vector::Zero(10)) << generator;
    EXPECT_EQ(problem.solution(), Vector::Zero(10)) << generator;
    EXPECT_EQ(problem.optimal_value(), 0.0) << generator;
  }
}

TEST(Problem, CounterexampleIsThePaperMatrix) {
  const Quadratic problem =
      make_problem({.generator = "counterexample", .dim = 2, .num_workers = 2});
  DenseMatrix expected(2, 2);
  expected << 1, 5, 5, 100;
  for (int worker = 0; worker < 2; ++worker) {
    EXPECT_EQ(problem.dense_matrix(worker), expected);
    EXPECT_EQ(problem.worker_vector(worker), Vector::Zero(2));
  }
  EXPECT_NEAR(problem.start_point().norm(), 1.0, 1e-15);
}

TEST(Problem, SameSeedSameProblemDifferentSeedDifferent) {
  for (ProblemSpec spec : generator_cases()) {
    if (spec.generator == "counterexample" || spec.heterogeneity == 0.0) continue;
    SCOPED_TRACE(spec.key());
    const Quadratic first = make_problem(spec);
    const Quadratic again = make_problem(spec);
    spec.seed += 1;
    const Quadratic other = make_problem(spec);
    bool any_difference = false;
    for (int worker = 0; worker < first.num_workers(); ++worker) {
      EXPECT_EQ(dense_worker_matrix(first, worker), dense_worker_matrix(again, worker));
      EXPECT_EQ(first.worker_vector(worker), again.worker_vector(worker));
      any_difference = any_difference ||
                       dense_worker_matrix(first, worker) != dense_worker_matrix(other, worker) ||
                       first.worker_vector(worker) != other.worker_vector(worker);
    }
    EXPECT_EQ(first.start_point(), again.start_point());
    EXPECT_EQ(first.solution(), again.solution());
    EXPECT_TRUE(any_difference);
  }
  // The dense start point also comes from the seed.
  const Quadratic a = make_problem({.generator = "dense", .dim = 5, .num_workers = 2, .seed = 1});
  const Quadratic b = make_problem({.generator = "dense", .dim = 5, .num_workers = 2, .seed = 2});
  EXPECT_NE(a.start_point(), b.start_point());
}

// Runs `make` and checks it throws std::invalid_argument whose message contains `phrase`.
template <class Make>
void expect_invalid(const Make& make, const std::string& phrase) {
  try {
    make();
    ADD_FAILURE() << "expected std::invalid_argument mentioning '" << phrase << "'";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find(phrase), std::string::npos) << error.what();
  }
}

TEST(Problem, ConstructionRejectsInvalidMatrices) {
  DenseMatrix good(2, 2);
  good << 2, 1, 1, 2;
  DenseMatrix asymmetric(2, 2);
  asymmetric << 2, 1, 0.5, 2;
  DenseMatrix bad_diagonal(2, 2);
  bad_diagonal << 2, 0, 0, 0;
  DenseMatrix indefinite(2, 2);  // positive diagonal, eigenvalues 3 and −1
  indefinite << 1, 2, 2, 1;
  const std::vector<Vector> vectors(2, Vector::Zero(2));
  const Vector start = Vector::Ones(2);

  auto dense = [&](const DenseMatrix& second) {
    return [&, second] { Quadratic::dense({good, second}, vectors, start); };
  };
  auto sparse = [&](const DenseMatrix& second) {
    return [&, second] {
      Quadratic::sparse({good.sparseView(), second.sparseView()}, vectors, start);
    };
  };
  EXPECT_NO_THROW(dense(good)());
  EXPECT_NO_THROW(sparse(good)());
  expect_invalid(dense(asymmetric), "symmetric");
  expect_invalid(sparse(asymmetric), "symmetric");
  expect_invalid(dense(bad_diagonal), "positive diagonal");
  expect_invalid(sparse(bad_diagonal), "positive diagonal");
  // The failing worker is named.
  expect_invalid(dense(bad_diagonal), "worker 1");
  // Each L_i can be fine while L̄ is not: both workers indefinite.
  expect_invalid(
      [&] {
        Quadratic::dense({indefinite, indefinite}, vectors, start);
      },
      "positive definite");
  expect_invalid(
      [&] {
        Quadratic::sparse({indefinite.sparseView(), indefinite.sparseView()}, vectors, start);
      },
      "positive definite");
  // Shapes.
  expect_invalid([&] { Quadratic::dense({good, good}, vectors, Vector::Ones(3)); }, "start point");
  expect_invalid([&] { Quadratic::dense({good}, vectors, start); }, "worker vectors");
}

TEST(Problem, SpecValidationNamesTheField) {
  expect_invalid(
      [] { ProblemSpec{.generator = "dense", .dim = 4, .heterogeneity = 1.5}.validate(); },
      "heterogeneity");
  expect_invalid(
      [] { ProblemSpec{.generator = "dense", .dim = 4, .heterogeneity = -0.1}.validate(); },
      "heterogeneity");
  expect_invalid([] { ProblemSpec{.generator = "counterexample", .dim = 3}.validate(); }, "dim");
  expect_invalid([] { ProblemSpec{.generator = "tridiagonal", .heterogeneity = -1.0}.validate(); },
                 "heterogeneity");
  expect_invalid([] { ProblemSpec{.generator = "tridiagonal", .mu = 0.0}.validate(); }, "mu");
  expect_invalid([] { ProblemSpec{.generator = "dense", .kappa = 0.5}.validate(); }, "kappa");
  expect_invalid([] { ProblemSpec{.generator = "dense", .num_workers = 0}.validate(); },
                 "num_workers");
  expect_invalid([] { ProblemSpec{.generator = "dense", .dim = 0}.validate(); }, "dim");
  expect_invalid([] { ProblemSpec{.generator = "banana"}.validate(); }, "generator");
  // make_problem validates before generating.
  expect_invalid([] { make_problem({.generator = "counterexample", .dim = 3}); }, "dim");
  EXPECT_NO_THROW((ProblemSpec{.generator = "dense", .dim = 4, .heterogeneity = 1.0}.validate()));
  EXPECT_NO_THROW((ProblemSpec{.generator = "counterexample", .dim = 2}.validate()));
}

TEST(Problem, RowAndBlockProductsMatchDenseProducts) {
  const std::vector<ProblemSpec> specs = {
      {.generator = "dense", .dim = 15, .num_workers = 3, .heterogeneity = 0.5, .seed = 9},
      {.generator = "tridiagonal",
       .dim = 15,
       .num_workers = 3,
       .heterogeneity = 0.3,
       .mu = 0.1,
       .seed = 9},
  };
  RandomStream stream(17, StreamPurpose::kWorker, 5, 5);
  for (const ProblemSpec& spec : specs) {
    SCOPED_TRACE(spec.key());
    const Quadratic problem = make_problem(spec);
    const int dim = problem.dim();
    const Vector x = random_vector(dim, 13);
    for (int trial = 0; trial < 20; ++trial) {
      // A random sorted support; include adjacent indices so tridiagonal blocks are not empty.
      std::vector<int> support;
      for (int j = 0; j < dim; ++j)
        if (stream.uniform() < 0.5) support.push_back(j);
      if (support.empty())
        support.push_back(static_cast<int>(stream.below(static_cast<std::uint64_t>(dim))));
      std::vector<double> z(support.size());
      Vector embedded = Vector::Zero(dim);  // z placed on the support
      for (std::size_t u = 0; u < support.size(); ++u) {
        z[u] = stream.normal();
        embedded[support[u]] = z[u];
      }
      for (int worker = 0; worker < problem.num_workers(); ++worker) {
        const DenseMatrix matrix = dense_worker_matrix(problem, worker);
        const Vector product = matrix * embedded;
        const Vector full_product = matrix * x;
        // The submodel's gradient ∇f_i(z) on S, z supported on S.
        const Vector b = problem.worker_vector(worker);
        std::vector<double> gradient(support.size());
        problem.submodel_gradient(worker, support, z.data(), gradient.data());
        for (std::size_t t = 0; t < support.size(); ++t)
          EXPECT_NEAR(gradient[t], product[support[t]] - b[support[t]],
                      1e-13 * (1 + product.cwiseAbs().maxCoeff()));
        for (int row = 0; row < dim; ++row)
          EXPECT_NEAR(problem.row_dot(worker, row, x), full_product[row],
                      1e-13 * (1 + full_product.cwiseAbs().maxCoeff()));
        Vector out = x;  // add_columns accumulates
        problem.add_columns(worker, support, z.data(), out);
        EXPECT_LE((out - x - product).norm(), 1e-13 * (1 + product.norm()));
      }
    }
  }
}

}  // namespace
}  // namespace istlab
