// What every registered method must satisfy, run over method_names(): registering a method
// puts it through this suite, and it cannot pass without its row of docs/theory.md §3 below.
//   - the same bits with 1 or 2 threads (docs/theory.md §5),
//   - with the identity sketch, gd's trajectory where docs/theory.md says so,
//   - per-round communication as in docs/theory.md §3's table,
//   - on a network (a method's rule on the other kind of workload): the same bits with 1 or 2
//     threads, and floats as the same table says with "a coordinate" read as "a hidden unit".
// Only default options: e.g. ist with local_steps > 1 is a different method (docs/theory.md §3).

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "istlab/method/method.hpp"
#include "istlab/problem/generators.hpp"
#include "istlab/run/run.hpp"
#include "istlab/sketch/sketch.hpp"

namespace istlab {
namespace {

// A method's facts from docs/theory.md, as data.
enum class Floats { kDim, kKept };  // d, or |S_i| (mean over workers)
struct SpecRow {
  Floats down;  // server → worker, per worker per round (docs/theory.md §3, communication table)
  Floats up;    // worker → server
  // Why the method with C_i = I is gd, or nullptr where docs/theory.md does not say it is.
  const char* identity_is_gd;
};

const std::map<std::string, SpecRow>& spec_table() {
  static const std::map<std::string, SpecRow> table = {
      {"gd", {Floats::kDim, Floats::kDim, "it is gd"}},
      {"dcgd",
       {Floats::kDim, Floats::kKept,
        "g_i = C_i ∇f_i(x) = ∇f_i(x) for C_i = I (docs/theory.md §3)"}},
      {"ist", {Floats::kKept, Floats::kKept, "docs/theory.md §4 fact 2"}},
      // local_sgd ignores the sketch; with its default τ = 1 the mean of the n local models
      // x − γ∇f_i(x) is gd's step, to rounding.
      {"local_sgd", {Floats::kDim, Floats::kDim, "τ = 1: (1/n) Σ (x − γ∇f_i(x)) is gd's step"}},
  };
  return table;
}

// The method's row; fails the calling test when there is none.
const SpecRow* spec_row(const std::string& method) {
  const auto found = spec_table().find(method);
  if (found == spec_table().end()) {
    ADD_FAILURE() << "method '" << method << "' is registered but has no expected counts: add "
                  << method << "'s row of docs/theory.md §3 to spec_table() in " << __FILE__;
    return nullptr;
  }
  return &found->second;
}

bool same_bits(const Vector& a, const Vector& b) {
  return a.size() == b.size() &&
         std::memcmp(a.data(), b.data(), static_cast<std::size_t>(a.size()) * sizeof(double)) == 0;
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof(double)) == 0; }

class MethodConformance : public testing::TestWithParam<std::string> {
 protected:
  MethodSpec method_spec() const { return {.name = GetParam()}; }
};

// docs/theory.md §5: results are bit-identical for any thread count. Sizes are chosen so every
// method's round crosses the parallel threshold (kParallelRoundFlops = 1e5, worker_loops.hpp):
// dense d=384, n=4 gives blocks of q=96 (n·4q(q+1) ≈ 1.5e5 for ist, n·2dq ≈ 3e5 for dcgd,
// n·2d² ≈ 1.2e6 for gd); tridiagonal d=16384 splits into 4096-coordinate ranges/blocks.
TEST_P(MethodConformance, SameBitsWithOneOrTwoThreads) {
  const std::vector<ProblemSpec> problems = {
      {.generator = "dense", .dim = 384, .num_workers = 4, .heterogeneity = 0.5, .seed = 21},
      {.generator = "tridiagonal",
       .dim = 16384,
       .num_workers = 4,
       .heterogeneity = 0.3,
       .mu = 0.01,
       .seed = 22},
  };
  const std::vector<SketchSpec> sketches = {{SketchType::kPerm}, {SketchType::kRand}};
  RunOptions options;
  options.max_iters = 30;
  options.record_every = 1;
  options.record_iterates = true;
  for (const ProblemSpec& problem_spec : problems) {
    const Quadratic problem = make_problem(problem_spec);
    // Small enough for every method's mean iteration to be stable (λ_max(E[B̄]) ≤ n·max λ_max(L_i)).
    const double step_size = 0.5 / (problem.num_workers() * problem.max_worker_lambda_max());
    for (const SketchSpec& sketch_spec : sketches) {
      SCOPED_TRACE(problem_spec.key() + ", " + std::string(name(sketch_spec.type)));
      const Sketcher sketcher(sketch_spec, problem);
      auto run_with_threads = [&](int threads) {
        tbb::task_arena arena(threads);
        return arena.execute([&] {
          const std::unique_ptr<Method> method = make_method(method_spec(), problem, sketcher);
          return run_method(problem, sketcher, *method, step_size, /*seed=*/5, options);
        });
      };
      const RunResult one = run_with_threads(1);
      const RunResult two = run_with_threads(2);
      ASSERT_EQ(one.status, RunStatus::kMaxIters);
      ASSERT_EQ(one.iterates.size(), 31u);  // x⁰ and 30 rounds
      ASSERT_EQ(two.iterates.size(), one.iterates.size());
      for (std::size_t k = 0; k < one.iterates.size(); ++k) {
        ASSERT_TRUE(same_bits(one.iterates[k], two.iterates[k]))
            << "round " << k << ", max difference "
            << (one.iterates[k] - two.iterates[k]).cwiseAbs().maxCoeff();
        // The metrics are computed from x, so they agree too (wall_s is a time: not compared).
        EXPECT_TRUE(same_bits(one.trace[k].rel_err, two.trace[k].rel_err)) << "round " << k;
        EXPECT_TRUE(same_bits(one.trace[k].f_gap, two.trace[k].f_gap)) << "round " << k;
        EXPECT_TRUE(same_bits(one.trace[k].grad_norm2, two.trace[k].grad_norm2)) << "round " << k;
      }
      // Not two copies of x⁰: the run moved.
      EXPECT_LT(one.trace.back().rel_err, 1.0);
    }
  }
}

// x¹ … x^rounds of `method_spec` with the identity sketch (SketchSpec's default).
std::vector<Vector> identity_trajectory(const Quadratic& problem, const MethodSpec& method_spec,
                                        double step_size, int rounds) {
  const Sketcher sketcher(SketchSpec{}, problem);
  const std::unique_ptr<Method> method = make_method(method_spec, problem, sketcher);
  RoundSketch round = sketcher.make_round();
  Vector x = problem.start_point();
  std::vector<Vector> iterates;
  for (int k = 0; k < rounds; ++k) {
    sketcher.draw(/*seed=*/3, k, round);
    method->step(round, step_size, x);
    iterates.push_back(x);
  }
  return iterates;
}

TEST_P(MethodConformance, IdentitySketchGivesGradientDescentsTrajectory) {
  const SpecRow* row = spec_row(GetParam());
  if (row == nullptr) return;
  if (row->identity_is_gd == nullptr)
    GTEST_SKIP() << "docs/theory.md does not say " << GetParam() << " with C_i = I is gd";
  SCOPED_TRACE(row->identity_is_gd);
  // Heterogeneous with b_i ≠ 0, so no term of the update vanishes; dense and sparse paths.
  const std::vector<ProblemSpec> problems = {
      {.generator = "dense", .dim = 12, .num_workers = 3, .heterogeneity = 0.5, .seed = 23},
      {.generator = "tridiagonal",
       .dim = 40,
       .num_workers = 4,
       .heterogeneity = 0.3,
       .mu = 0.1,
       .seed = 24},
  };
  for (const ProblemSpec& problem_spec : problems) {
    SCOPED_TRACE(problem_spec.key());
    const Quadratic problem = make_problem(problem_spec);
    const double step_size = 1.0 / problem.lambda_max();
    const int rounds = 40;
    const auto gd = identity_trajectory(problem, {.name = "gd"}, step_size, rounds);
    const auto actual = identity_trajectory(problem, method_spec(), step_size, rounds);
    // To rounding: a stable step contracts differences of ≈1e-16 per operation, so 1e-12
    // relative at every round is generous, while a wrong term moves x by far more.
    for (int k = 0; k < rounds; ++k)
      ASSERT_LE((actual[k] - gd[k]).norm(), 1e-12 * gd[k].norm()) << "round " << k + 1;
    EXPECT_GT((gd.back() - problem.start_point()).norm(),
              1e-3 * problem.start_point().norm());  // it moved
  }
}

// docs/theory.md §3's communication table on d = 12, n = 3: perm keeps |S_i| = d/n = 4 coordinates
// per worker, rand q = 5 keeps 5, the identity keeps all 12.
TEST_P(MethodConformance, CommunicationMatchesSpecTable) {
  const SpecRow* row = spec_row(GetParam());
  if (row == nullptr) return;
  const Quadratic problem = make_problem(
      {.generator = "dense", .dim = 12, .num_workers = 3, .heterogeneity = 0.5, .seed = 25});
  const double dim = 12;
  const std::vector<std::pair<SketchSpec, double>> sketches = {
      {{SketchType::kPerm}, 4.0},
      {{SketchType::kRand, SketchScale::kUnbiased, 5}, 5.0},
      {{SketchType::kIdentity}, 12.0},
  };
  for (const auto& [sketch_spec, kept] : sketches) {
    SCOPED_TRACE(std::string(name(sketch_spec.type)));
    const Sketcher sketcher(sketch_spec, problem);
    const std::unique_ptr<Method> method = make_method(method_spec(), problem, sketcher);
    RoundSketch round = sketcher.make_round();
    for (int k = 0; k < 3; ++k) {  // the counts hold every round, not only the first
      sketcher.draw(/*seed=*/4, k, round);
      for (const WorkerSketch& worker : round.workers)
        ASSERT_EQ(static_cast<double>(worker.indices.size()), kept);
      const RoundCounts sent = method->counts(round);
      EXPECT_EQ(sent.floats_down, row->down == Floats::kDim ? dim : kept) << "down, round " << k;
      EXPECT_EQ(sent.floats_up, row->up == Floats::kDim ? dim : kept) << "up, round " << k;
    }
  }
}

// A 6-8-3 network on 48 samples split among 3 workers: Perm keeps 3, 3 and 2 of the 8 hidden
// units. A unit is 6 + 1 + 3 = 10 floats (W1 row, b1 entry, W2 column), the model 8·10 + 3.
TEST_P(MethodConformance, NetworkRoundSameBitsWithOneOrTwoThreadsAndFloatsAsTheTable) {
  const SpecRow* row = spec_row(GetParam());
  if (row == nullptr) return;
  const MlpShape shape{6, {8}, 3};
  FeatureMatrix features(48, shape.inputs);
  std::mt19937 random(8);
  std::normal_distribution<float> normal;
  for (Eigen::Index k = 0; k < features.size(); ++k) features.data()[k] = normal(random);
  NetworkData data;
  data.features = &features;
  data.shape = shape;
  data.samples_of_worker.resize(3);
  for (int sample = 0; sample < 48; ++sample) {
    data.class_of_sample.push_back(sample % 3);
    data.samples_of_worker[static_cast<std::size_t>(sample / 16)].push_back(sample);
  }
  MethodSpec spec = method_spec();
  spec.batch_size = 4;
  const SketchSpec sketch{SketchType::kPerm};
  auto train = [&](int threads, RoundCounts& last) {
    NetworkModel model = initial_parameters<float>(shape, 5);
    NetworkRound round(data, spec, sketch, /*step_size=*/0.1);
    tbb::task_arena arena(threads);
    arena.execute([&] {
      for (int k = 0; k < 5; ++k) last = round.run(/*seed=*/3, k, model);
    });
    return model;
  };
  RoundCounts one_thread;
  RoundCounts two_threads;
  const NetworkModel one = train(1, one_thread);
  const NetworkModel two = train(2, two_threads);
  for (std::size_t l = 0; l < one.layers.size(); ++l) {
    EXPECT_EQ(one.layers[l].weights, two.layers[l].weights);
    EXPECT_EQ(one.layers[l].bias, two.layers[l].bias);
  }
  EXPECT_TRUE(all_finite(one));
  const double model_floats = 8 * 10 + 3;
  const double kept_floats = (3 * 10 + 3 + 3 * 10 + 3 + 2 * 10 + 3) / 3.0;  // mean over workers
  EXPECT_DOUBLE_EQ(one_thread.floats_down, row->down == Floats::kDim ? model_floats : kept_floats);
  EXPECT_DOUBLE_EQ(one_thread.floats_up, row->up == Floats::kDim ? model_floats : kept_floats);
}

INSTANTIATE_TEST_SUITE_P(EveryRegisteredMethod, MethodConformance,
                         testing::ValuesIn(method_names()),
                         [](const testing::TestParamInfo<std::string>& method) {
                           return method.param;
                         });

// The converse of spec_row's check: a row for a method that is no longer registered (or
// was renamed) is stale and must go.
TEST(MethodConformanceTable, EveryRowNamesARegisteredMethod) {
  const std::vector<std::string> registered = method_names();
  for (const auto& [method, row] : spec_table())
    EXPECT_NE(std::find(registered.begin(), registered.end(), method), registered.end())
        << "spec_table() has a row for '" << method << "', which is not a registered method";
}

}  // namespace
}  // namespace istlab
