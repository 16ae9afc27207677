// The least_squares problem family (problem/least_squares.hpp): L_i and b_i against a direct
// computation over each worker's samples, λ absolute and relative, planted targets, the
// blocked Gram, the class-set parser, the regularisation message, and docs/theory.md §4 fact 4 (the
// mean IST iterate goes to x^∞) on a real split of heart_scale.

#include "istlab/problem/least_squares.hpp"

#include <gtest/gtest.h>

#include <Eigen/Eigenvalues>
#include <Eigen/QR>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "istlab/method/method.hpp"
#include "istlab/sketch/sketch.hpp"
#include "istlab/theory/theory.hpp"

namespace istlab {
namespace {

using SamplesOfWorker = std::vector<std::vector<std::int64_t>>;

// A value in [−1, 1] on a grid of 1/1000, from the generator's raw output (the same on every
// standard library, unlike std::uniform_real_distribution).
float grid_value(std::mt19937& rng) { return static_cast<float>(rng() % 2001) / 1000.0f - 1.0f; }

// `samples` × `features` values from a fixed generator; labels 0, 1, 2, 0, 1, 2, ...
Dataset random_dataset(int samples, int features, std::uint32_t seed = 2024) {
  std::mt19937 rng(seed);
  Dataset data;
  data.source = "in-memory";
  data.features.resize(samples, features);
  for (int i = 0; i < samples; ++i)
    for (int j = 0; j < features; ++j) data.features(i, j) = grid_value(rng);
  for (int i = 0; i < samples; ++i) data.labels.push_back(i % 3);
  return data;
}

ProblemSpec spec_of(const std::string& split, const std::string& target, double regularization) {
  ProblemSpec spec;
  spec.generator = "least_squares";
  spec.num_workers = 3;
  spec.seed = 5;
  spec.split = split;
  spec.concentration = 0.5;
  spec.min_samples = 5;
  spec.classes_per_worker = 2;
  spec.target = target;
  spec.positive_classes = "0-1";
  spec.regularization = regularization;
  return spec;
}

// (1/m) Σ a aᵀ and (1/m) Σ a y over `rows`, one sample at a time.
struct Moments {
  DenseMatrix gram;
  Vector moment;
};
Moments direct_moments(const Dataset& data, const Vector& targets,
                       const std::vector<std::int64_t>& rows) {
  const auto dim = data.num_features();
  Moments out{DenseMatrix::Zero(dim, dim), Vector::Zero(dim)};
  for (const std::int64_t row : rows) {
    for (Eigen::Index j = 0; j < dim; ++j) {
      const double a_j = data.features(row, j);
      out.moment[j] += a_j * targets[row];
      for (Eigen::Index k = 0; k < dim; ++k)
        out.gram(j, k) += a_j * static_cast<double>(data.features(row, k));
    }
  }
  out.gram /= static_cast<double>(rows.size());
  out.moment /= static_cast<double>(rows.size());
  return out;
}

// max |actual − expected| over max |expected| (over 1 when expected is 0: a worker whose
// targets are all 0 has b_i = 0 exactly).
double relative_max_difference(const DenseMatrix& actual, const DenseMatrix& expected) {
  const double scale = expected.cwiseAbs().maxCoeff();
  return (actual - expected).cwiseAbs().maxCoeff() / (scale > 0.0 ? scale : 1.0);
}

constexpr double kRounding = 1e-12;
const std::vector<std::string> kSplits = {"iid", "dirichlet", "classes", "sorted"};

// ---------------------------------------------------------------------------------------
// The quadratic

TEST(LeastSquares, WorkerSamplesAreTheSplitOfTheSpecsKindAndSeed) {
  const Dataset data = random_dataset(40, 5);
  const LabelClasses classes = label_classes(data, kMaxClasses);
  for (const std::string& split : kSplits) {
    SCOPED_TRACE(split);
    const ProblemSpec spec = spec_of(split, "label", 0.1);
    SplitSpec direct;
    direct.kind = parse_split_kind(split);
    direct.concentration = 0.5;
    direct.min_samples = 5;
    direct.classes_per_worker = 2;
    const SamplesOfWorker expected = split_samples(classes.class_of_sample, 3, 3, direct, 5);
    EXPECT_EQ(worker_samples(spec, classes), expected);
    ProblemSpec other_seed = spec;
    other_seed.seed = 6;
    if (split != "sorted") {  // the only split without randomness
      EXPECT_NE(worker_samples(other_seed, classes), expected);
    }
  }
}

TEST(LeastSquares, WorkerMatricesAndVectorsEqualADirectSumOverTheWorkersSamples) {
  const Dataset data = random_dataset(40, 5);
  const LabelClasses classes = label_classes(data, kMaxClasses);
  constexpr double kLambda = 0.1;
  for (const std::string& split : kSplits) {
    for (const std::string target : {"label", "classes", "planted"}) {
      SCOPED_TRACE(split + ", target " + target);
      const ProblemSpec spec = spec_of(split, target, kLambda);
      Vector targets(40);
      if (target == "label")
        for (int i = 0; i < 40; ++i) targets[i] = data.labels[i];
      if (target == "classes")  // "0-1": labels 0 and 1 are +1, label 2 is −1
        for (int i = 0; i < 40; ++i) targets[i] = data.labels[i] <= 1.0 ? 1.0 : -1.0;
      if (target == "planted") targets = least_squares_targets(spec, data);
      if (target != "planted") {
        EXPECT_EQ(least_squares_targets(spec, data), targets);
      }
      const Quadratic problem = make_least_squares(spec, data, serial_for);
      ASSERT_EQ(problem.num_workers(), 3);
      ASSERT_EQ(problem.dim(), 5);
      EXPECT_EQ(problem.start_point(), Vector::Zero(5));
      const SamplesOfWorker samples = worker_samples(spec, classes);
      for (int i = 0; i < 3; ++i) {
        SCOPED_TRACE("worker " + std::to_string(i));
        ASSERT_FALSE(samples[i].empty());
        const Moments direct = direct_moments(data, targets, samples[i]);
        const DenseMatrix expected_matrix = direct.gram + kLambda * DenseMatrix::Identity(5, 5);
        EXPECT_LE(relative_max_difference(problem.dense_matrix(i), expected_matrix), kRounding);
        EXPECT_LE(relative_max_difference(problem.worker_vector(i), direct.moment), kRounding);
      }
    }
  }
}

TEST(LeastSquares, PlantedTargetsAreALinearFunctionOfTheFeatures) {
  const Dataset data = random_dataset(40, 5);
  const ProblemSpec spec = spec_of("iid", "planted", 0.0);
  const Vector targets = least_squares_targets(spec, data);
  const DenseMatrix features = data.features.cast<double>();
  const Vector x_true = features.colPivHouseholderQr().solve(targets);
  EXPECT_LE((features * x_true - targets).norm(), kRounding * targets.norm());
  EXPECT_GT(x_true.norm(), 0.1);  // x_true ~ N(0, I/5): ‖x_true‖ ≈ 1
  ProblemSpec other_seed = spec;
  other_seed.seed = 6;
  EXPECT_NE(least_squares_targets(other_seed, data), targets);
}

TEST(LeastSquares, RelativeRegularizationIsAMultipleOfTheDataTermsLambdaMax) {
  const Dataset data = random_dataset(40, 5);
  const LabelClasses classes = label_classes(data, kMaxClasses);
  constexpr double kRelative = 0.05;
  for (const std::string split : {"iid", "dirichlet"}) {
    SCOPED_TRACE(split);
    ProblemSpec spec = spec_of(split, "label", 0.0);
    spec.relative_regularization = kRelative;
    const Quadratic problem = make_least_squares(spec, data, serial_for);
    const Vector targets = least_squares_targets(spec, data);
    const SamplesOfWorker samples = worker_samples(spec, classes);
    std::vector<Moments> direct;
    DenseMatrix mean = DenseMatrix::Zero(5, 5);
    for (int i = 0; i < 3; ++i) {
      direct.push_back(direct_moments(data, targets, samples[i]));
      mean += direct.back().gram / 3.0;
    }
    const double lambda_max =
        Eigen::SelfAdjointEigenSolver<DenseMatrix>(mean).eigenvalues().maxCoeff();
    const double lambda = kRelative * lambda_max;
    ASSERT_GT(lambda, 1e-3);
    for (int i = 0; i < 3; ++i) {
      SCOPED_TRACE("worker " + std::to_string(i));
      const DenseMatrix expected = direct[i].gram + lambda * DenseMatrix::Identity(5, 5);
      EXPECT_LE(relative_max_difference(problem.dense_matrix(i), expected), kRounding);
      // λ itself, not only the matrix: the diagonal shift above the data term.
      EXPECT_NEAR((problem.dense_matrix(i) - direct[i].gram).diagonal().mean(), lambda,
                  kRounding * lambda_max);
    }
    // The λ resolved is what the record's regularization_used column shows (issue 22).
    EXPECT_NEAR(problem.regularization(), lambda, kRounding * lambda_max);
  }
}

TEST(LeastSquares, PlantedTargetsWithoutRegularizationMakeTheSolutionEveryWorkersOptimum) {
  // 20 samples per worker on average and at least 8 each, of 5 features: every A_iᵀA_i ≻ 0.
  const Dataset data = random_dataset(60, 5);
  const LabelClasses classes = label_classes(data, kMaxClasses);
  for (const std::string& split : kSplits) {
    SCOPED_TRACE(split);
    ProblemSpec spec = spec_of(split, "planted", 0.0);
    spec.min_samples = 8;
    for (const auto& samples : worker_samples(spec, classes)) ASSERT_GE(samples.size(), 8u);
    const Quadratic problem = make_least_squares(spec, data, serial_for);
    double zeta2 = 0.0;
    double mean_b2 = 0.0;
    Vector gradient(5);
    for (int i = 0; i < 3; ++i) {
      problem.worker_gradient(i, problem.solution(), gradient);
      const Vector b = problem.worker_vector(i);
      EXPECT_LE(gradient.norm(), 1e-10 * b.norm()) << "worker " << i;
      zeta2 += gradient.squaredNorm() / 3;
      mean_b2 += b.squaredNorm() / 3;
      // Worker i's own optimum L_i⁻¹ b_i is x*.
      const Vector optimum = problem.dense_matrix(i).ldlt().solve(b);
      EXPECT_LE((optimum - problem.solution()).norm(), 1e-10 * problem.solution().norm());
    }
    EXPECT_LE(zeta2, 1e-20 * mean_b2);
  }
}

TEST(LeastSquares, AFeatureZeroOnAllOfAWorkersSamplesNeedsRegularization) {
  // 45 samples labelled 0 (the first 15), 1, 2: the sorted split gives worker 0 exactly the
  // label-0 samples, on which feature 2 is zero.
  Dataset data = random_dataset(45, 4);
  for (int i = 0; i < 45; ++i) data.labels[i] = i / 15;
  for (int i = 0; i < 15; ++i) data.features(i, 2) = 0.0f;
  ProblemSpec spec = spec_of("sorted", "label", 0.0);
  const SamplesOfWorker samples = worker_samples(spec, label_classes(data, kMaxClasses));
  ASSERT_EQ(samples[0].size(), 15u);
  ASSERT_EQ(samples[0].back(), 14);
  try {
    make_least_squares(spec, data, serial_for);
    ADD_FAILURE() << "no error without regularization";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("regularization > 0"), std::string::npos)
        << error.what();
  }
  spec.regularization = 1e-3;
  const Quadratic problem = make_least_squares(spec, data, serial_for);
  EXPECT_DOUBLE_EQ(problem.dense_matrix(0)(2, 2), 1e-3);
}

// Real-valued targets (more than kMaxClasses distinct labels) need no classes for iid.
TEST(LeastSquares, RealValuedTargetsCanBeSplitIid) {
  Dataset data = random_dataset(kMaxClasses + 200, 4);
  for (std::size_t i = 0; i < data.labels.size(); ++i)
    data.labels[i] = 0.001 * static_cast<double>(i);
  const ProblemSpec spec = spec_of("iid", "label", 1e-3);
  const Quadratic problem = make_least_squares(spec, data, serial_for);
  EXPECT_EQ(problem.num_workers(), 3);
}

// A few distinct labels that are not integers are real-valued targets too: legal for an iid
// split, refused for a split by class, which would take each value for a class.
TEST(LeastSquares, FewRealValuedLabelsAreTargetsNotClasses) {
  Dataset data = random_dataset(60, 4);
  for (std::size_t i = 0; i < data.labels.size(); ++i)
    data.labels[i] = 0.25 * static_cast<double>(i % 8);  // 8 distinct values, 0 first
  data.source = "real.csv";
  EXPECT_EQ(make_least_squares(spec_of("iid", "label", 1e-3), data, serial_for).num_workers(), 3);
  const ProblemSpec dirichlet = spec_of("dirichlet", "label", 1e-3);
  try {
    check_least_squares_data(dirichlet, data, dataset_classes(data));
    ADD_FAILURE() << "a split by class of real-valued targets was accepted";
  } catch (const ParameterError& error) {
    EXPECT_EQ(error.name, "split");
    EXPECT_EQ(error.rule,
              "needs class labels, but dataset real.csv holds real-valued targets (the label 0.25 "
              "of sample 1 (counted from 0) is not an integer): use split: iid");
  }
}

TEST(LeastSquares, CheckRejectsADatasetNameTogetherWithAPath) {
  ProblemSpec spec = spec_of("iid", "label", 0.1);
  spec.dataset = "heart_scale";
  spec.dataset_path = "features.csv";
  spec.dataset_format = "csv";
  try {
    check_least_squares(spec);
    ADD_FAILURE() << "accepted";
  } catch (const ParameterError& error) {
    EXPECT_EQ(error.name, "dataset.name");
    EXPECT_NE(error.rule.find("exactly one of"), std::string::npos) << error.rule;
  }
  spec.dataset_path.clear();
  // A format beside a name means nothing: refused too, not dropped.
  EXPECT_THROW(check_least_squares(spec), ParameterError);
  spec.dataset_format.clear();
  EXPECT_NO_THROW(check_least_squares(spec));
}

TEST(LeastSquares, CheckRejectsRegularizationTogetherWithRelativeRegularization) {
  ProblemSpec spec = spec_of("iid", "label", 0.1);
  spec.dataset = "heart_scale";
  spec.relative_regularization = 0.01;
  try {
    check_least_squares(spec);
    ADD_FAILURE() << "accepted";
  } catch (const ParameterError& error) {
    EXPECT_EQ(error.name, "relative_regularization");
    EXPECT_EQ(error.related, std::vector<std::string>{"regularization"});
  }
}

// ---------------------------------------------------------------------------------------
// The blocked Gram

TEST(LeastSquares, AccumulatedGramIsExactlySymmetricAndEqualsTheNaiveSum) {
  constexpr int kSamples = 300;
  constexpr int kFeatures = 7;
  const Dataset data = random_dataset(kSamples, kFeatures, 99);
  std::mt19937 rng(7);
  Vector targets(kSamples);
  for (int i = 0; i < kSamples; ++i) targets[i] = grid_value(rng);
  std::vector<std::int64_t> order(kSamples);
  std::iota(order.begin(), order.end(), std::int64_t{0});
  std::shuffle(order.begin(), order.end(), rng);
  for (const int count : {1, kGramChunk - 1, kGramChunk, kGramChunk + 1, kSamples}) {
    SCOPED_TRACE(count);
    const std::vector<std::int64_t> rows(order.begin(), order.begin() + count);
    DenseMatrix gram;
    Vector moment;
    accumulate_gram(data.features, targets, rows, gram, moment);
    ASSERT_EQ(gram.rows(), kFeatures);
    ASSERT_EQ(gram.cols(), kFeatures);
    EXPECT_TRUE((gram.array() == gram.transpose().array()).all()) << "not bitwise symmetric";
    DenseMatrix naive = DenseMatrix::Zero(kFeatures, kFeatures);
    Vector naive_moment = Vector::Zero(kFeatures);
    for (const std::int64_t row : rows) {
      const Vector a = data.features.row(row).cast<double>().transpose();
      naive += a * a.transpose();
      naive_moment += a * targets[row];
    }
    EXPECT_LE(relative_max_difference(gram, naive), kRounding);
    EXPECT_LE(relative_max_difference(moment, naive_moment), kRounding);
  }
}

// ---------------------------------------------------------------------------------------
// parse_class_set

TEST(ParseClassSet, ARangeIsEveryIntegerInIt) {
  EXPECT_EQ(parse_class_set("0-4"), (std::vector<double>{0, 1, 2, 3, 4}));
}

TEST(ParseClassSet, AListWithSpacesIsItsIntegers) {
  EXPECT_EQ(parse_class_set("0,2, 4"), (std::vector<double>{0, 2, 4}));
}

TEST(ParseClassSet, ANegativeLabelIsOneClass) {
  EXPECT_EQ(parse_class_set("-1"), (std::vector<double>{-1}));
}

TEST(ParseClassSet, MalformedSetsThrowParameterErrorNamingPositiveClasses) {
  for (const std::string text : {"", "4-2", "a", "1,", "0-"}) {
    SCOPED_TRACE("'" + text + "'");
    try {
      parse_class_set(text);
      ADD_FAILURE() << "accepted";
    } catch (const ParameterError& error) {
      EXPECT_EQ(error.name, "positive_classes");
      EXPECT_EQ(error.value, text);
    }
  }
}

// Labels beyond 2^53 would merge as doubles, and a wide range must not overflow.
TEST(ParseClassSet, LabelsBeyondTwoToThe53AreRefused) {
  EXPECT_THROW(parse_class_set("-9000000000000000000-9000000000000000000"), ParameterError);
  EXPECT_THROW(parse_class_set("9000000000000000000-9000000000000000001"), ParameterError);
  EXPECT_EQ(parse_class_set("9007199254740991").size(), 1u);
}

// ---------------------------------------------------------------------------------------
// docs/theory.md §4 fact 4 on real data

TEST(LeastSquares, MeanIstIterateOnADirichletSplitOfHeartScaleApproachesTheFixedPoint) {
  const char* const heart_scale = "/usr/share/doc/liblinear-tools/examples/heart_scale";
  if (!std::filesystem::exists(heart_scale))
    GTEST_SKIP() << heart_scale << " is absent: apt-get install liblinear-tools";
  ProblemSpec spec;
  spec.generator = "least_squares";
  spec.dataset = "heart_scale";
  spec.num_workers = 4;
  spec.seed = 3;
  spec.split = "dirichlet";
  spec.concentration = 0.3;
  spec.min_samples = 5;
  spec.regularization = 1e-2;
  const Quadratic problem = make_problem(spec);
  ASSERT_EQ(problem.dim(), 13);
  const SketchSpec perm{SketchType::kPerm};
  const Theory theory = compute_theory(problem, perm);
  const double bias_distance = (theory.fixed_point - problem.solution()).norm();
  ASSERT_GT(bias_distance, 1e-2 * problem.solution().norm());  // a clearly biased problem

  // The mean iterate contracts towards x^∞ by 1 − γ λ_min(E[B̄]) per round: after kRounds
  // what is left of x⁰ − x^∞ must be negligible next to the bias.
  const double step = 0.5 * theory.ist_step;
  constexpr int kSeeds = 400;
  constexpr int kRounds = 400;
  const double b_bar_lambda_min =
      Eigen::SelfAdjointEigenSolver<DenseMatrix>(expected_b_bar_dense(problem, perm))
          .eigenvalues()
          .minCoeff();
  ASSERT_LE(std::pow(1.0 - step * b_bar_lambda_min, kRounds) *
                (problem.start_point() - theory.fixed_point).norm(),
            1e-3 * bias_distance);

  const Sketcher sketcher(perm, problem);
  const std::unique_ptr<Method> ist = make_method({.name = "ist"}, problem, sketcher);
  RoundSketch round = sketcher.make_round();
  Vector mean = Vector::Zero(problem.dim());
  double spread = 0.0;  // E‖x − x^∞‖² over seeds, for the Monte-Carlo standard error
  for (int seed = 0; seed < kSeeds; ++seed) {
    Vector x = problem.start_point();
    for (int k = 0; k < kRounds; ++k) {
      sketcher.draw(static_cast<std::uint64_t>(seed), k, round);
      ist->step(round, step, x);
    }
    ASSERT_TRUE(x.allFinite());
    mean += x / kSeeds;
    spread += (x - theory.fixed_point).squaredNorm() / kSeeds;
  }
  // ‖mean − E[x^K]‖ has standard error at most √(spread / seeds); allow 5 of them, which must
  // themselves be small next to the bias for the test to tell x^∞ from x*.
  const double standard_error = std::sqrt(spread / kSeeds);
  EXPECT_LE((mean - theory.fixed_point).norm(), 5 * standard_error);
  EXPECT_LE((mean - theory.fixed_point).norm(), 0.1 * bias_distance);
  EXPECT_GT((mean - problem.solution()).norm(), 0.9 * bias_distance);
}

}  // namespace
}  // namespace istlab
