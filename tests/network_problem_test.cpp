// The mlp family (problem/network_problem.hpp) and the run loop on networks: a held-out set
// scaled with its training set's statistics, the training-loss subsample, the test set's
// classes, the same bits with 1 or 2 threads, divergence as a status; and local_sgd on
// quadratics against its update rule by hand.

#include "istlab/problem/network_problem.hpp"

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <string>

#include "istlab/method/method.hpp"
#include "istlab/problem/least_squares.hpp"
#include "istlab/run/run.hpp"
#include "istlab/run/workload.hpp"
#include "temp_dir.hpp"

namespace istlab {
namespace {

// n_per_class samples of each of 3 classes, 4 features: class c's feature c is offset by
// `offset`, the rest follow a fixed pattern.
std::string write_classes(const std::filesystem::path& path, int per_class, double offset) {
  std::ofstream out(path);
  for (int i = 0; i < 3 * per_class; ++i) {
    const int label = i % 3;
    for (int j = 0; j < 4; ++j)
      out << (j == label ? offset : 0.0) + 0.1 * ((i * 7 + j * 3) % 11) << ',';
    out << label << '\n';
  }
  return path.string();
}

ProblemSpec csv_spec(const std::string& train, const std::string& test) {
  ProblemSpec spec;
  spec.generator = "mlp";
  spec.dataset_path = train;
  spec.dataset_format = "csv";
  spec.test_dataset_path = test;
  spec.num_workers = 2;
  spec.hidden = "6";
  spec.seed = 4;
  return spec;
}

TEST(NetworkProblem, TestSetIsScaledWithTheTrainingSetsStatistics) {
  const TempDir dir("network_problem_scaling");
  const std::string train = write_classes(dir.path() / "train.csv", 10, 5.0);
  const std::string test = write_classes(dir.path() / "test.csv", 4, 20.0);  // a wider range
  for (const std::string scale : {"unit", "standardize", "standardize_all"}) {
    SCOPED_TRACE(scale);
    ProblemSpec spec = csv_spec(train, test);
    spec.feature_scale = scale;
    DatasetCache cache;
    const auto scaled_train = cache.get(dataset_request(spec));
    const auto scaled_test = cache.get(test_dataset_request(spec));
    DatasetRequest raw_request = dataset_request(spec);
    raw_request.scale = "none";
    const auto raw_train = cache.get(raw_request);
    raw_request.path = test;
    const auto raw_test = cache.get(raw_request);
    // Feature j of the test set maps as the training set's feature j does: fit the affine
    // map a ↦ (a − shift)/width on two training samples that differ in j, apply it by hand.
    for (int j = 0; j < 4; ++j) {
      int a = 0, b = 1;
      while (raw_train->features(b, j) == raw_train->features(a, j)) ++b;
      const double width = (raw_train->features(b, j) - raw_train->features(a, j)) /
                           (scaled_train->features(b, j) - scaled_train->features(a, j));
      const double shift = raw_train->features(a, j) - width * scaled_train->features(a, j);
      for (int i = 0; i < raw_test->num_samples(); ++i)
        EXPECT_NEAR(scaled_test->features(i, j), (raw_test->features(i, j) - shift) / width, 1e-5)
            << "sample " << i << ", feature " << j;
    }
    // Scaled on its own statistics it would stay within [0, 1] (unit): with the training
    // set's, its offset of 20 lands well above.
    if (scale == "unit") {
      EXPECT_GT(scaled_test->features.maxCoeff(), 2.0f);
    }
  }
}

TEST(NetworkProblem, ClassesSubsampleAndInitialParameters) {
  const TempDir dir("network_problem_build");
  const std::string train = write_classes(dir.path() / "train.csv", 10, 5.0);
  const std::string test = write_classes(dir.path() / "test.csv", 4, 5.0);
  ProblemSpec spec = csv_spec(train, test);
  spec.eval_samples = 7;  // of 30: every 4th
  const NetworkProblem problem = make_network_problem(spec);
  EXPECT_EQ(problem.data.shape.inputs, 4);
  EXPECT_EQ(problem.data.shape.hidden, std::vector<int>{6});
  EXPECT_EQ(problem.data.shape.classes, 3);
  // 15 samples a worker: ⌈7·15/30⌉ = 4 each, every 3rd of its own
  ASSERT_EQ(problem.eval_samples_of_worker.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const auto& held = problem.data.samples_of_worker[i];
    EXPECT_EQ(problem.eval_samples_of_worker[i],
              (std::vector<std::int64_t>{held[0], held[3], held[6], held[9]}));
  }
  ASSERT_EQ(problem.test_class_of_sample.size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(problem.test_class_of_sample[i], i % 3);
  EXPECT_EQ(problem.data.samples_of_worker.size(), 2u);
  const auto initial = initial_parameters<float>(problem.data.shape, spec.seed);
  EXPECT_EQ(problem.initial.layers[0].weights, initial.layers[0].weights);
  EXPECT_EQ(problem.initial.layers[1].bias, initial.layers[1].bias);
  spec.eval_samples = 0;
  EXPECT_EQ(make_network_problem(spec).eval_samples_of_worker, problem.data.samples_of_worker);
}

TEST(NetworkProblem, EvalSubsampleSharesItsSamplesInProportionToTheWorkersSizes) {
  std::vector<std::vector<std::int64_t>> workers = {{}, {}};
  for (std::int64_t s = 0; s < 10; ++s) workers[0].push_back(100 + s);
  for (std::int64_t s = 0; s < 30; ++s) workers[1].push_back(200 + s);
  // m = 8 of 40: ⌈8·10/40⌉ = 2 (every 5th), ⌈8·30/40⌉ = 6 (every 5th)
  const auto chosen = eval_subsamples(workers, 8);
  EXPECT_EQ(chosen[0], (std::vector<std::int64_t>{100, 105}));
  EXPECT_EQ(chosen[1], (std::vector<std::int64_t>{200, 205, 210, 215, 220, 225}));
  // m = 1: every worker keeps one sample; m = 0 and m ≥ 40: all of them
  EXPECT_EQ(eval_subsamples(workers, 1)[0], (std::vector<std::int64_t>{100}));
  EXPECT_EQ(eval_subsamples(workers, 1)[1], (std::vector<std::int64_t>{200}));
  EXPECT_EQ(eval_subsamples(workers, 0), workers);
  EXPECT_EQ(eval_subsamples(workers, 40), workers);
}

TEST(NetworkProblem, TestSetMustMatchTheTrainingSet) {
  Dataset train;
  train.source = "train";
  train.features = FeatureMatrix::Zero(3, 2);
  train.labels = {0, 1, 2};
  Dataset test = train;
  test.source = "test";
  EXPECT_NO_THROW(check_test_set(train, test));
  test.labels = {0, 1, 5};
  EXPECT_THROW(check_test_set(train, test), DataError);
  test.labels = {0, 1, 2};
  test.features = FeatureMatrix::Zero(3, 3);
  EXPECT_THROW(check_test_set(train, test), DataError);
}

// Issue 21, item 10: 200 distinct real-valued labels (0.013, 0.027, ...) were trained as 200
// classes. A classifier needs integer class labels: the first other one is named.
TEST(NetworkProblem, RealValuedLabelsAreRefusedNamingTheFirstOne) {
  const TempDir dir("network_problem_real_labels");
  const std::string train = (dir.path() / "real.csv").string();
  {
    std::ofstream out(train);
    out << "1,2,3\n";  // an integer label first: the refusal names the first that is not
    for (int i = 1; i < 200; ++i) out << i % 7 << ',' << i % 5 << ',' << 0.013 * i << '\n';
  }
  ProblemSpec spec = csv_spec(train, "");
  try {
    make_network_problem(spec);
    ADD_FAILURE() << "real-valued labels were accepted";
  } catch (const ParameterError& error) {
    EXPECT_EQ(error.name, "generator");
    EXPECT_EQ(error.rule,
              "classifies: it needs integer class labels (or ±1), but in dataset " + train +
                  " the label 0.013 of sample 1 (counted from 0) is not an integer; use "
                  "least_squares for real-valued targets");
  }
  // Labels ±1 and class indices stay classes.
  const std::string signs = (dir.path() / "signs.csv").string();
  std::ofstream(signs) << "1,0,-1\n0,1,1\n1,1,-1\n0,0,1\n";
  spec = csv_spec(signs, "");
  EXPECT_EQ(make_network_problem(spec).label_values, (std::vector<double>{-1, 1}));
}

// Issue 21, item 4: the estimate took 10 classes whatever the data, and no per-worker model
// copies. Every gd worker holds the whole model and its gradient (H(d + 1 + C) + C floats
// each), so with C = 1000 the output layer outweighs the 64 inputs; ist's workers keep H/n
// units each.
TEST(NetworkMemory, RunBytesCountEveryWorkersModelWithTheDatasetsClassCount) {
  ProblemSpec spec;
  spec.generator = "mlp";
  spec.dim = 64;
  spec.hidden = "1024";
  spec.num_workers = 8;
  spec.num_samples = 2000;
  spec.eval_samples = 64;
  const WorkloadKind& kind = workload_kind(problem_family("mlp"));
  MethodSpec gd;
  gd.batch_size = 16;
  auto run_bytes = [&](int classes, const MethodSpec& method, const SketchSpec& sketch) {
    spec.num_classes = classes;
    return kind.run_bytes(spec, method, sketch);
  };
  const double model_1000 = (1024.0 * (64 + 1 + 1000) + 1000) * 4;
  const double gd_1000 = run_bytes(1000, gd, {});
  EXPECT_GE(gd_1000, 8 * 2 * model_1000);  // each worker's copy and gradient
  EXPECT_LE(gd_1000, 8 * 3 * model_1000);
  EXPECT_GT(gd_1000, 10 * run_bytes(10, gd, {}));
  MethodSpec ist = gd;
  ist.name = "ist";
  const double ist_1000 = run_bytes(1000, ist, {SketchType::kPerm});
  // 128 units a worker, and the model four times for the metrics: the full model's copy and
  // gradient, and the workers' gradients summed with equal weights and pooled
  EXPECT_LT(ist_1000, gd_1000 / 2.5);
  EXPECT_GT(ist_1000, 2 * model_1000);
  // The problem itself: C counts in its initial parameters, the test set in its classes.
  spec.num_classes = 1000;
  spec.num_test_samples = 0;
  const double without_test = problem_family("mlp").problem_bytes(spec);
  EXPECT_GE(without_test, model_1000);
  spec.num_test_samples = 100000;
  EXPECT_GE(problem_family("mlp").problem_bytes(spec), without_test + 100000 * 12);
}

RunResult run_with_threads(const NetworkProblem& problem, const MethodSpec& method,
                           const RunOptions& options, int threads) {
  tbb::task_arena arena(threads);
  return arena.execute(
      [&] { return run_network(problem, method, {SketchType::kPerm}, 0.2, /*seed=*/9, options); });
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST(RunNetwork, SameBitsWithOneOrTwoThreadsAndMetricsOnRecordedRounds) {
  const TempDir dir("network_problem_run");
  ProblemSpec spec = csv_spec(write_classes(dir.path() / "train.csv", 40, 2.0),
                              write_classes(dir.path() / "test.csv", 10, 2.0));
  spec.num_workers = 3;
  const NetworkProblem problem = make_network_problem(spec);
  RunOptions options;
  options.max_iters = 60;
  options.record_every = 20;
  for (const auto method : {"gd", "dcgd", "ist", "local_sgd"}) {
    SCOPED_TRACE(method);
    MethodSpec method_spec{.name = method, .local_steps = 2, .batch_size = 8};
    const RunResult one = run_with_threads(problem, method_spec, options, 1);
    const RunResult two = run_with_threads(problem, method_spec, options, 2);
    ASSERT_EQ(one.status, RunStatus::kMaxIters);
    ASSERT_EQ(one.trace.size(), 4u);  // rounds 0, 20, 40, 60
    ASSERT_EQ(two.trace.size(), 4u);
    for (std::size_t r = 0; r < one.trace.size(); ++r) {
      EXPECT_TRUE(same_bits(one.trace[r].train_loss, two.trace[r].train_loss)) << r;
      EXPECT_TRUE(same_bits(one.trace[r].test_accuracy, two.trace[r].test_accuracy)) << r;
      EXPECT_TRUE(same_bits(one.trace[r].grad_norm2, two.trace[r].grad_norm2)) << r;
      EXPECT_TRUE(std::isnan(one.trace[r].rel_err));
    }
    EXPECT_LT(one.trace.back().train_loss, one.trace.front().train_loss);  // it trained
    EXPECT_GT(one.trace.back().flops, 0.0);
    EXPECT_GT(one.trace.back().test_accuracy, 0.9);  // the classes are 2 apart in one feature
  }
}

TEST(RunNetwork, AnOverflowingStepIsTheStatusDivergedWithoutAnAccuracy) {
  const TempDir dir("network_problem_diverge");
  const NetworkProblem problem =
      make_network_problem(csv_spec(write_classes(dir.path() / "train.csv", 10, 2.0),
                                    write_classes(dir.path() / "test.csv", 4, 2.0)));
  RunOptions options;
  options.max_iters = 50;
  const RunResult run = run_network(problem, {.name = "gd"}, {}, 1e30, 1, options);
  EXPECT_EQ(run.status, RunStatus::kDiverged);
  EXPECT_LT(run.iterations, 50);
  EXPECT_FALSE(std::isnan(run.trace.front().test_accuracy));
  EXPECT_TRUE(std::isnan(run.trace.back().test_accuracy));  // not chance level
}

// A step too large for the network but not for float: the training loss climbs past
// divergence_factor times its start, which is judged at recorded rounds; the run ends at the
// first recorded round above it as diverged, its test_accuracy empty. Under the default factor
// the same run goes on to max_iters.
TEST(RunNetwork, ALossAboveTheDivergenceFactorIsTheStatusDivergedWithoutAnAccuracy) {
  const TempDir dir("network_problem_loss_diverge");
  const NetworkProblem problem =
      make_network_problem(csv_spec(write_classes(dir.path() / "train.csv", 10, 2.0),
                                    write_classes(dir.path() / "test.csv", 4, 2.0)));
  constexpr double kStep = 10;  // F: 1.15, 4.6, 36.7 at rounds 0, 1, 2, then back near 1.5
  RunOptions options;
  options.max_iters = 30;
  options.record_every = 1;
  options.divergence_factor = 10;
  const RunResult run = run_network(problem, {.name = "gd"}, {}, kStep, 1, options);
  ASSERT_EQ(run.status, RunStatus::kDiverged);
  const double start = run.trace.front().train_loss;
  EXPECT_TRUE(std::isfinite(run.trace.back().train_loss));
  EXPECT_GT(run.trace.back().train_loss, 10 * start);
  EXPECT_TRUE(std::isnan(run.trace.back().test_accuracy));
  for (std::size_t r = 0; r + 1 < run.trace.size(); ++r) {
    EXPECT_LE(run.trace[r].train_loss, 10 * start) << r;
    EXPECT_FALSE(std::isnan(run.trace[r].test_accuracy)) << r;
  }
  EXPECT_EQ(run.iterations, 2);
  options.divergence_factor = 1e6;
  const RunResult patient = run_network(problem, {.name = "gd"}, {}, kStep, 1, options);
  EXPECT_EQ(patient.status, RunStatus::kMaxIters);
  EXPECT_FALSE(std::isnan(patient.trace.back().test_accuracy));
  // Recorded at the start and the end only, the climb in between goes unseen.
  options.divergence_factor = 10;
  options.record_every = 0;
  EXPECT_EQ(run_network(problem, {.name = "gd"}, {}, kStep, 1, options).status,
            RunStatus::kMaxIters);
}

// local_sgd on a quadratic: z_i ← z_i − γ(L_i z_i − b_i) τ times from x, then the mean.
TEST(LocalGradientDescent, FollowsItsUpdateRuleOnAQuadratic) {
  const Quadratic problem = make_problem(
      {.generator = "dense", .dim = 6, .num_workers = 3, .heterogeneity = 0.5, .seed = 2});
  const double step = 0.3 / problem.lambda_max();
  const MethodSpec spec{.name = "local_sgd", .local_steps = 3};
  const Sketcher sketcher(SketchSpec{}, problem);
  const auto method = make_method(spec, problem, sketcher);
  RoundSketch round = sketcher.make_round();
  Vector x = problem.start_point();
  Vector expected = x;
  for (int k = 0; k < 4; ++k) {
    Vector sum = Vector::Zero(6);
    for (int i = 0; i < 3; ++i) {
      Vector z = expected;
      Vector gradient(6);
      for (int s = 0; s < 3; ++s) {
        problem.worker_gradient(i, z, gradient);
        z -= step * gradient;
      }
      sum += z;
    }
    expected = sum / 3.0;
    sketcher.draw(1, k, round);
    method->step(round, step, x);
    ASSERT_LE((x - expected).norm(), 1e-13 * expected.norm()) << "round " << k;
  }
  EXPECT_EQ(method->counts(round).floats_up, 6.0);
  EXPECT_EQ(method->counts(round).floats_down, 6.0);
}

}  // namespace
}  // namespace istlab
