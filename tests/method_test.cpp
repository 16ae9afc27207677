// One round of each method (docs/theory.md §3) against hand-written formulas with dense matrices,
// docs/theory.md §4 facts 1–2, communication counts, and bitwise independence of the thread count.

#include "istlab/method/method.hpp"

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "istlab/problem/generators.hpp"
#include "istlab/sketch/sketch.hpp"

namespace istlab {
namespace {

constexpr std::uint64_t kSeed = 31;

DenseMatrix dense_worker_matrix(const Quadratic& problem, int worker) {
  return problem.is_sparse() ? DenseMatrix(problem.sparse_matrix(worker))
                             : problem.dense_matrix(worker);
}

// C_i = Diag(c_i) rebuilt from the sketch's indices and scales.
DenseMatrix sketch_matrix(const WorkerSketch& sketch, int dim) {
  DenseMatrix matrix = DenseMatrix::Zero(dim, dim);
  for (std::size_t t = 0; t < sketch.indices.size(); ++t)
    matrix(sketch.indices[t], sketch.indices[t]) = sketch.scales[t];
  return matrix;
}

double relative_difference(const Vector& a, const Vector& b) { return (a - b).norm() / b.norm(); }

// The method's trajectory over `rounds` rounds from x⁰, with the sketches of (kSeed, k).
std::vector<Vector> trajectory(const Quadratic& problem, const SketchSpec& sketch_spec,
                               const MethodSpec& method_spec, double step_size, int rounds) {
  const Sketcher sketcher(sketch_spec, problem);
  const std::unique_ptr<Method> method = make_method(method_spec, problem, sketcher);
  RoundSketch round = sketcher.make_round();
  Vector x = problem.start_point();
  std::vector<Vector> iterates;
  for (int k = 0; k < rounds; ++k) {
    sketcher.draw(kSeed, k, round);
    method->step(round, step_size, x);
    iterates.push_back(x);
  }
  return iterates;
}

// Two trajectories agree to rounding: relative difference ≤ 1e-12 at every round (a stable
// step contracts rounding differences, ≈ 1e-16 per operation, so 1e-12 is generous).
void expect_same_trajectory(const std::vector<Vector>& actual,
                            const std::vector<Vector>& expected) {
  ASSERT_EQ(actual.size(), expected.size());
  for (std::size_t k = 0; k < actual.size(); ++k)
    ASSERT_LE(relative_difference(actual[k], expected[k]), 1e-12) << "round " << k + 1;
}

TEST(Method, Fact1DcgdWithPermIsGdOnHomogeneousProblems) {
  const std::vector<ProblemSpec> homogeneous = {
      {.generator = "dense", .dim = 12, .num_workers = 4, .heterogeneity = 0.0, .seed = 1},
      {.generator = "dense",
       .dim = 10,
       .num_workers = 3,
       .heterogeneity = 0.0,
       .seed = 2},  // n ∤ d
      {.generator = "dense", .dim = 3, .num_workers = 7, .heterogeneity = 0.0, .seed = 3},  // d < n
      {.generator = "tridiagonal",
       .dim = 20,
       .num_workers = 4,
       .heterogeneity = 0.0,
       .mu = 0.1,
       .seed = 4},
  };
  for (const ProblemSpec& spec : homogeneous) {
    SCOPED_TRACE(spec.key());
    const Quadratic problem = make_problem(spec);
    const double step = 1.0 / problem.lambda_max();
    const auto gd = trajectory(problem, {SketchType::kIdentity}, {.name = "gd"}, step, 50);
    const auto dcgd = trajectory(problem, {SketchType::kPerm, SketchScale::kUnbiased},
                                 {.name = "dcgd"}, step, 50);
    expect_same_trajectory(dcgd, gd);
    // The trajectory moved: the comparison is not between two copies of x⁰.
    EXPECT_GT(relative_difference(gd.back(), problem.start_point()), 1e-3);
  }
  // On a heterogeneous problem dcgd is not gd: the test above can fail.
  const Quadratic heterogeneous = make_problem(
      {.generator = "dense", .dim = 12, .num_workers = 4, .heterogeneity = 0.5, .seed = 1});
  const double step = 1.0 / heterogeneous.lambda_max();
  EXPECT_GT(relative_difference(
                trajectory(heterogeneous, {SketchType::kPerm}, {.name = "dcgd"}, step, 5).back(),
                trajectory(heterogeneous, {SketchType::kIdentity}, {.name = "gd"}, step, 5).back()),
            1e-6);
}

TEST(Method, Fact2IstWithIdentityIsGd) {
  const std::vector<ProblemSpec> specs = {
      {.generator = "dense", .dim = 12, .num_workers = 4, .heterogeneity = 0.5, .seed = 5},
      {.generator = "tridiagonal",
       .dim = 20,
       .num_workers = 4,
       .heterogeneity = 0.3,
       .mu = 0.1,
       .seed = 6},
  };
  for (const ProblemSpec& spec : specs) {
    SCOPED_TRACE(spec.key());
    const Quadratic problem = make_problem(spec);
    const double step = 1.0 / problem.lambda_max();
    const auto gd = trajectory(problem, {SketchType::kIdentity}, {.name = "gd"}, step, 50);
    expect_same_trajectory(trajectory(problem, {SketchType::kIdentity}, {.name = "ist"}, step, 50),
                           gd);
    // Also without the outer sketch (∇f_i(x) either way) and dcgd with the identity.
    expect_same_trajectory(trajectory(problem, {SketchType::kIdentity},
                                      {.name = "ist", .outer_sketch = false}, step, 50),
                           gd);
    expect_same_trajectory(trajectory(problem, {SketchType::kIdentity}, {.name = "dcgd"}, step, 50),
                           gd);
  }
}

// One round of every method against its formula written with dense matrices.
struct RoundCase {
  std::string label;
  ProblemSpec problem;
  SketchSpec sketch;
};

std::vector<RoundCase> round_cases() {
  const ProblemSpec dense{
      .generator = "dense", .dim = 10, .num_workers = 4, .heterogeneity = 0.5, .seed = 7};
  const ProblemSpec tridiagonal{.generator = "tridiagonal",
                                .dim = 10,
                                .num_workers = 4,
                                .heterogeneity = 0.3,
                                .mu = 0.1,
                                .seed = 8};
  const ProblemSpec few_coordinates{
      .generator = "dense", .dim = 3, .num_workers = 7, .heterogeneity = 0.5, .seed = 9};
  return {
      {"dense, perm unbiased", dense, {SketchType::kPerm, SketchScale::kUnbiased}},
      {"dense, perm diag_precond", dense, {SketchType::kPerm, SketchScale::kDiagPrecond}},
      {"dense, perm none", dense, {SketchType::kPerm, SketchScale::kNone}},
      {"dense, rand q=3", dense, {SketchType::kRand, SketchScale::kUnbiased, 3}},
      {"tridiagonal, perm unbiased", tridiagonal, {SketchType::kPerm, SketchScale::kUnbiased}},
      {"tridiagonal, rand q=4 sqrt_n", tridiagonal, {SketchType::kRand, SketchScale::kSqrtN, 4}},
      {"d<n, perm unbiased", few_coordinates, {SketchType::kPerm, SketchScale::kUnbiased}},
  };
}

// Runs one round (round index 3) of `method_spec` and returns (x¹, the C_i used).
std::pair<Vector, std::vector<DenseMatrix>> one_round(const Quadratic& problem,
                                                      const SketchSpec& sketch_spec,
                                                      const MethodSpec& method_spec, double step) {
  const Sketcher sketcher(sketch_spec, problem);
  const std::unique_ptr<Method> method = make_method(method_spec, problem, sketcher);
  RoundSketch round = sketcher.make_round();
  sketcher.draw(kSeed, 3, round);
  std::vector<DenseMatrix> sketches;
  for (const WorkerSketch& worker : round.workers)
    sketches.push_back(sketch_matrix(worker, problem.dim()));
  Vector x = problem.start_point();
  method->step(round, step, x);
  return {x, sketches};
}

// Hand-written formulas agree with the library to rounding of O(d) operations.
constexpr double kRoundTolerance = 1e-13;

TEST(Method, OneRoundMatchesHandWrittenFormulas) {
  for (const RoundCase& round_case : round_cases()) {
    SCOPED_TRACE(round_case.label);
    const Quadratic problem = make_problem(round_case.problem);
    const int n = problem.num_workers();
    const Vector& x = problem.start_point();
    const double step = 0.3 / problem.lambda_max();
    auto L = [&](int i) { return dense_worker_matrix(problem, i); };
    auto b = [&](int i) -> Vector { return problem.worker_vector(i); };

    {  // dcgd: x − γ (1/n) Σ C_i (L_i x − b_i)
      const auto [actual, C] = one_round(problem, round_case.sketch, {.name = "dcgd"}, step);
      Vector g = Vector::Zero(problem.dim());
      for (int i = 0; i < n; ++i) g += C[i] * (L(i) * x - b(i)) / n;
      EXPECT_LE(relative_difference(actual, x - step * g), kRoundTolerance) << "dcgd";
    }
    {  // ist: x − γ (1/n) Σ C_i (L_i C_i x − b_i)
      const auto [actual, C] = one_round(problem, round_case.sketch, {.name = "ist"}, step);
      Vector g = Vector::Zero(problem.dim());
      for (int i = 0; i < n; ++i) g += C[i] * (L(i) * C[i] * x - b(i)) / n;
      EXPECT_LE(relative_difference(actual, x - step * g), kRoundTolerance) << "ist";
    }
    {  // ist, outer_sketch false: x − γ (1/n) Σ (L_i C_i x − b_i)
      const auto [actual, C] =
          one_round(problem, round_case.sketch, {.name = "ist", .outer_sketch = false}, step);
      Vector g = Vector::Zero(problem.dim());
      for (int i = 0; i < n; ++i) g += (L(i) * C[i] * x - b(i)) / n;
      EXPECT_LE(relative_difference(actual, x - step * g), kRoundTolerance)
          << "ist, no outer sketch";
    }
    {  // ist, τ = 3: Algorithm 1 literally
      const auto [actual, C] =
          one_round(problem, round_case.sketch, {.name = "ist", .local_steps = 3}, step);
      Vector average = Vector::Zero(problem.dim());
      for (int i = 0; i < n; ++i) {
        Vector z = C[i] * x;
        for (int local = 0; local < 3; ++local) z -= step * C[i] * (L(i) * z - b(i));
        average += z / n;
      }
      EXPECT_LE(relative_difference(actual, average), kRoundTolerance) << "ist, τ = 3";
    }
    {  // gd: x − γ ∇f(x)
      const auto [actual, C] = one_round(problem, round_case.sketch, {.name = "gd"}, step);
      EXPECT_LE(relative_difference(actual, x - step * problem.gradient(x)), kRoundTolerance)
          << "gd";
    }
  }
}

TEST(Method, IstWithOneLocalStepIsAlgorithmOneForPerm) {
  // docs/theory.md §3: for τ = 1 and (1/n)Σ C_i = I the table row is Algorithm 1 with one local
  // step.
  const Quadratic problem = make_problem(
      {.generator = "dense", .dim = 10, .num_workers = 4, .heterogeneity = 0.5, .seed = 7});
  const double step = 0.3 / problem.lambda_max();
  const auto [actual, C] = one_round(problem, {SketchType::kPerm}, {.name = "ist"}, step);
  Vector average = Vector::Zero(10);
  for (int i = 0; i < 4; ++i) {
    const Vector z = C[i] * problem.start_point();
    average += (z - step * C[i] * (problem.dense_matrix(i) * z - problem.worker_vector(i))) / 4;
  }
  EXPECT_LE(relative_difference(actual, average), kRoundTolerance);
}

TEST(Method, FloatsAndFlopsPerWorker) {
  const Quadratic problem = make_problem(
      {.generator = "dense", .dim = 10, .num_workers = 4, .heterogeneity = 0.5, .seed = 7});
  const double d = 10;
  for (const SketchSpec& sketch_spec :
       {SketchSpec{SketchType::kPerm}, SketchSpec{SketchType::kRand, SketchScale::kUnbiased, 3},
        SketchSpec{SketchType::kIdentity}}) {
    SCOPED_TRACE(std::string(name(sketch_spec.type)));
    const Sketcher sketcher(sketch_spec, problem);
    RoundSketch round = sketcher.make_round();
    sketcher.draw(kSeed, 0, round);
    double mean_support = 0;
    for (const WorkerSketch& worker : round.workers)
      mean_support += static_cast<double>(worker.indices.size()) / 4;
    // perm d=10, n=4: blocks of 3, 3, 2, 2; rand: q = 3; identity: d.
    EXPECT_DOUBLE_EQ(mean_support, sketch_spec.type == SketchType::kPerm   ? 2.5
                                   : sketch_spec.type == SketchType::kRand ? 3.0
                                                                           : d);
    double largest = 0, mean_square = 0;
    for (const WorkerSketch& worker : round.workers) {
      const auto q = static_cast<double>(worker.indices.size());
      largest = std::max(largest, q);
      mean_square += q * q / 4;
    }
    const RoundCounts gd = make_method({.name = "gd"}, problem, sketcher)->counts(round);
    EXPECT_DOUBLE_EQ(gd.floats_down, d);
    EXPECT_DOUBLE_EQ(gd.floats_up, d);
    EXPECT_DOUBLE_EQ(gd.flops, 2 * d * d);  // L_i x: 2 flops per entry of the dense L_i
    EXPECT_DOUBLE_EQ(gd.max_flops, 2 * d * d);
    const RoundCounts dcgd = make_method({.name = "dcgd"}, problem, sketcher)->counts(round);
    EXPECT_DOUBLE_EQ(dcgd.floats_down, d);
    EXPECT_DOUBLE_EQ(dcgd.floats_up, mean_support);
    EXPECT_DOUBLE_EQ(dcgd.max_floats_up, largest);
    EXPECT_DOUBLE_EQ(dcgd.flops, 2 * mean_support * d);  // rows S_i of L_i
    EXPECT_DOUBLE_EQ(dcgd.max_flops, 2 * largest * d);
    const RoundCounts ist = make_method({.name = "ist"}, problem, sketcher)->counts(round);
    EXPECT_DOUBLE_EQ(ist.floats_down, mean_support);
    EXPECT_DOUBLE_EQ(ist.floats_up, mean_support);
    EXPECT_DOUBLE_EQ(ist.max_floats_down, largest);
    EXPECT_DOUBLE_EQ(ist.flops, 2 * mean_square);  // the block (L_i)[S_i, S_i]
    EXPECT_DOUBLE_EQ(ist.max_flops, 2 * largest * largest);
    const RoundCounts ist_steps =
        make_method({.name = "ist", .local_steps = 3}, problem, sketcher)->counts(round);
    EXPECT_DOUBLE_EQ(ist_steps.flops, 3 * 2 * mean_square);
    // Without the outer sketch a worker's gradient is a full vector: columns S_i of all rows.
    const RoundCounts ist_full =
        make_method({.name = "ist", .outer_sketch = false}, problem, sketcher)->counts(round);
    EXPECT_DOUBLE_EQ(ist_full.floats_down, mean_support);
    EXPECT_DOUBLE_EQ(ist_full.floats_up, d);
    EXPECT_DOUBLE_EQ(ist_full.flops, 2 * d * mean_support);
    const RoundCounts local =
        make_method({.name = "local_sgd", .local_steps = 2}, problem, sketcher)->counts(round);
    EXPECT_DOUBLE_EQ(local.floats_up, d);
    EXPECT_DOUBLE_EQ(local.flops, 2 * 2 * d * d);
  }
}

TEST(Method, SpecValidation) {
  const Quadratic problem =
      make_problem({.generator = "dense", .dim = 4, .num_workers = 2, .seed = 1});
  const Sketcher sketcher({SketchType::kPerm}, problem);
  EXPECT_THROW(make_method({.name = "sgd"}, problem, sketcher), std::invalid_argument);
  EXPECT_THROW(make_method({.name = "ist", .local_steps = 0}, problem, sketcher),
               std::invalid_argument);
  EXPECT_THROW(
      make_method({.name = "ist", .outer_sketch = false, .local_steps = 2}, problem, sketcher),
      std::invalid_argument);
  EXPECT_NO_THROW(make_method({.name = "ist", .local_steps = 2}, problem, sketcher));
}

// Runs `rounds` rounds inside an arena of `threads` threads.
std::string fmt_trace(int dim, int workers, const SketchSpec& sketch) {
  return "d = " + std::to_string(dim) + ", n = " + std::to_string(workers) + ", " +
         std::string(name(sketch.type)) + " " + std::string(name(sketch.scale));
}

Vector run_in_arena(int threads, const Quadratic& problem, const SketchSpec& sketch_spec,
                    const MethodSpec& method_spec, double step, int rounds) {
  tbb::task_arena arena(threads);
  return arena.execute(
      [&] { return trajectory(problem, sketch_spec, method_spec, step, rounds).back(); });
}

TEST(Method, ResultsAreBitwiseIndependentOfThreadCount) {
  // Sizes chosen so rounds cross the parallel threshold (n · flops per worker ≥ 1e5):
  // dense d=256: gd, dcgd and ist without the outer sketch; tridiagonal d=4096: gd and the
  // identity sketches.
  const std::vector<ProblemSpec> specs = {
      {.generator = "dense", .dim = 256, .num_workers = 16, .heterogeneity = 0.5, .seed = 10},
      {.generator = "tridiagonal",
       .dim = 4096,
       .num_workers = 16,
       .heterogeneity = 0.3,
       .mu = 0.01,
       .seed = 11},
  };
  const std::vector<std::pair<SketchSpec, MethodSpec>> runs = {
      {{SketchType::kIdentity}, {.name = "gd"}},
      {{SketchType::kPerm}, {.name = "dcgd"}},
      {{SketchType::kIdentity}, {.name = "dcgd"}},
      {{SketchType::kPerm}, {.name = "ist"}},
      {{SketchType::kPerm}, {.name = "ist", .outer_sketch = false}},
      {{SketchType::kIdentity}, {.name = "ist"}},
      {{SketchType::kRand, SketchScale::kUnbiased, 64}, {.name = "ist", .local_steps = 3}},
  };
  for (const ProblemSpec& spec : specs) {
    const Quadratic problem = make_problem(spec);
    const double step = 0.2 / problem.max_worker_lambda_max();
    for (const auto& [sketch_spec, method_spec] : runs) {
      SCOPED_TRACE(spec.key() + " " + method_spec.name + " " + std::string(name(sketch_spec.type)));
      const Vector serial = run_in_arena(1, problem, sketch_spec, method_spec, step, 10);
      const Vector parallel = run_in_arena(2, problem, sketch_spec, method_spec, step, 10);
      ASSERT_TRUE(serial.allFinite());
      EXPECT_TRUE(serial == parallel)
          << "max difference " << (serial - parallel).cwiseAbs().maxCoeff();
      EXPECT_NE(serial, problem.start_point());
    }
  }
}

// Σ_i scatter(g_i onto S_i) for one round, workers in order from zero: the plain
// worker-by-worker round that faster paths must reproduce bit for bit.
using PlainContributions =
    std::function<Vector(const Quadratic&, const RoundSketch&, const Vector& x)>;

// DCGD and IST on a sparse problem with a sketch that partitions [d] (perm, d ≥ n) run
// coordinate by coordinate; with rand sketches worker by worker over blocks of coordinates.
// Both must give exactly the bits of x − γ (Σ_i g_i)/n formed plainly.
void expect_plain_round_bits(const std::string& method_name,
                             const std::vector<SketchSpec>& sketches,
                             const PlainContributions& contributions) {
  const std::vector<std::pair<int, int>> sizes = {
      {37, 1}, {37, 5}, {37, 37}, {5000, 7}, {20000, 300}};
  for (const auto& [dim, workers] : sizes) {
    const Quadratic problem = make_problem({.generator = "tridiagonal",
                                            .dim = dim,
                                            .num_workers = workers,
                                            .heterogeneity = 0.3,
                                            .mu = 0.1,
                                            .seed = 5});
    for (const SketchSpec& sketch_spec : sketches) {
      SCOPED_TRACE(method_name + ", " + fmt_trace(dim, workers, sketch_spec));
      const Sketcher sketcher(sketch_spec, problem);
      auto method = make_method({.name = method_name}, problem, sketcher);
      RoundSketch round = sketcher.make_round();
      Vector x = problem.start_point() + Vector::LinSpaced(dim, -1.0, 1.0);
      const double step = 0.3 / (workers * problem.max_worker_lambda_max());
      for (int k = 0; k < 3; ++k) {
        sketcher.draw(9, k, round);
        const Vector sum = contributions(problem, round, x);
        Vector expected = x;
        for (int j = 0; j < dim; ++j) expected[j] -= step * (sum[j] / workers);
        method->step(round, step, x);
        ASSERT_TRUE(x == expected)
            << "round " << k << ", max difference " << (x - expected).cwiseAbs().maxCoeff();
      }
    }
  }
}

TEST(Method, SparseDcgdRoundsEqualThePlainWorkerRoundBitwise) {
  // g_i = C_i ∇f_i(x), row by row.
  expect_plain_round_bits(
      "dcgd",
      {{SketchType::kPerm, SketchScale::kUnbiased}, {SketchType::kRand, SketchScale::kUnbiased, 0}},
      [](const Quadratic& problem, const RoundSketch& round, const Vector& x) {
        Vector sum = Vector::Zero(problem.dim());
        for (int worker = 0; worker < problem.num_workers(); ++worker) {
          const WorkerSketch& kept = round.workers[worker];
          for (std::size_t t = 0; t < kept.indices.size(); ++t) {
            const int j = kept.indices[t];
            sum[j] += kept.scales[t] *
                      (problem.row_dot(worker, j, x) - problem.worker_vector_entry(worker, j));
          }
        }
        return sum;
      });
}

TEST(Method, SparseIstRoundsEqualThePlainWorkerRoundBitwise) {
  // z_i = C_i x, g_i = C_i ∇f_i(z_i) on S_i.
  expect_plain_round_bits("ist",
                          {{SketchType::kPerm, SketchScale::kUnbiased},
                           {SketchType::kPerm, SketchScale::kDiagPrecond},
                           {SketchType::kRand, SketchScale::kUnbiased, 0}},
                          [](const Quadratic& problem, const RoundSketch& round, const Vector& x) {
                            Vector sum = Vector::Zero(problem.dim());
                            for (int worker = 0; worker < problem.num_workers(); ++worker) {
                              const WorkerSketch& kept = round.workers[worker];
                              std::vector<double> z(kept.indices.size()), g(kept.indices.size());
                              for (std::size_t t = 0; t < z.size(); ++t)
                                z[t] = kept.scales[t] * x[kept.indices[t]];
                              problem.submodel_gradient(worker, kept.indices, z.data(), g.data());
                              for (std::size_t t = 0; t < z.size(); ++t)
                                sum[kept.indices[t]] += g[t] * kept.scales[t];
                            }
                            return sum;
                          });
}

}  // namespace
}  // namespace istlab
