// The run loop: stop rules, the record schedule, communication accounting.

#include "istlab/run/run.hpp"

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <thread>

#include "istlab/method/method.hpp"
#include "istlab/problem/generators.hpp"
#include "istlab/theory/theory.hpp"

namespace istlab {
namespace {

struct Fixture {
  Quadratic problem;
  Sketcher sketcher;
  std::unique_ptr<Method> method;

  Fixture(const std::string& method_name, SketchType sketch_type, bool interpolation = false)
      : problem(make_problem({.generator = "dense",
                              .dim = 20,
                              .num_workers = 4,
                              .heterogeneity = 0.5,
                              .interpolation = interpolation,
                              .kappa = 10.0,
                              .seed = 7})),
        sketcher(SketchSpec{sketch_type, SketchScale::kUnbiased, 0}, problem),
        method(make_method({.name = method_name}, problem, sketcher)) {}

  RunResult run(double step_size, const RunOptions& options, const Vector* fixed_point = nullptr) {
    return run_method(problem, sketcher, *method, step_size, 3, options, fixed_point);
  }
};

TEST(Run, MaxItersRecordsStartScheduleAndLast) {
  Fixture fixture("gd", SketchType::kIdentity);
  RunOptions options;
  options.max_iters = 95;
  options.record_every = 20;
  const RunResult result = fixture.run(0.5 / fixture.problem.lambda_max(), options);
  EXPECT_EQ(result.status, RunStatus::kMaxIters);
  EXPECT_EQ(result.iterations, 95);
  std::vector<std::int64_t> iters;
  for (const auto& row : result.trace) iters.push_back(row.iter);
  EXPECT_EQ(iters, (std::vector<std::int64_t>{0, 20, 40, 60, 80, 95}));
  EXPECT_DOUBLE_EQ(result.trace[0].rel_err, 1.0);
  EXPECT_EQ(result.trace[0].floats_up, 0.0);
  // GD: d floats each way per round.
  EXPECT_DOUBLE_EQ(result.trace.back().floats_up, 95.0 * 20);
  EXPECT_DOUBLE_EQ(result.trace.back().floats_down, 95.0 * 20);
  for (std::size_t i = 1; i < result.trace.size(); ++i) {
    EXPECT_LT(result.trace[i].rel_err, result.trace[i - 1].rel_err);  // GD with γ < 2/L descends
    EXPECT_GE(result.trace[i].wall_s, result.trace[i - 1].wall_s);
    EXPECT_TRUE(std::isnan(result.trace[i].dist_fixed));  // no fixed point given
  }
}

TEST(Run, LogPointsAreLogSpacedAndIncludeEnds) {
  Fixture fixture("gd", SketchType::kIdentity);
  RunOptions options;
  options.max_iters = 1000;
  options.record_log_points = 4;  // 1, 10, 100, 1000
  const RunResult result = fixture.run(0.5 / fixture.problem.lambda_max(), options);
  std::vector<std::int64_t> iters;
  for (const auto& row : result.trace) iters.push_back(row.iter);
  EXPECT_EQ(iters, (std::vector<std::int64_t>{0, 1, 10, 100, 1000}));
}

TEST(Run, ToleranceStopsWithConverged) {
  Fixture fixture("gd", SketchType::kIdentity);
  RunOptions options;
  options.max_iters = 100000;
  options.tolerance = 1e-10;
  const RunResult result = fixture.run(1.0 / fixture.problem.lambda_max(), options);
  EXPECT_EQ(result.status, RunStatus::kConverged);
  EXPECT_LE(result.trace.back().rel_err, 1e-10);
  EXPECT_LT(result.iterations, 100000);
  EXPECT_EQ(result.trace.back().iter, result.iterations);
}

TEST(Run, FloatsBudgetStopsWithBudget) {
  Fixture fixture("ist", SketchType::kPerm);
  RunOptions options;
  options.max_iters = 1000;
  options.floats_budget = 100.0;  // ist with perm, d = 20, n = 4: 5 floats each way per round
  const RunResult result = fixture.run(0.1 / fixture.problem.lambda_max(), options);
  EXPECT_EQ(result.status, RunStatus::kBudget);
  EXPECT_EQ(result.iterations, 10);
  EXPECT_DOUBLE_EQ(result.trace.back().floats_up + result.trace.back().floats_down, 100.0);
}

TEST(Run, DivergenceIsAStatusNotACrash) {
  Fixture fixture("gd", SketchType::kIdentity);
  RunOptions options;
  options.max_iters = 100000;
  const RunResult result = fixture.run(3.0 / fixture.problem.lambda_max(), options);
  EXPECT_EQ(result.status, RunStatus::kDiverged);
  EXPECT_GT(result.trace.back().rel_err, options.divergence_factor);
  EXPECT_LT(result.iterations, 100000);
}

TEST(Run, NonFiniteIteratesAreDiverged) {
  Fixture fixture("gd", SketchType::kIdentity);
  RunOptions options;
  options.max_iters = 100;
  options.divergence_factor = std::numeric_limits<double>::infinity();
  const RunResult result = fixture.run(1e200, options);
  EXPECT_EQ(result.status, RunStatus::kDiverged);
}

TEST(Run, DistFixedIsReportedWhenGiven) {
  Fixture fixture("ist", SketchType::kPerm);
  const Theory theory = compute_theory(fixture.problem, fixture.sketcher.spec());
  RunOptions options;
  options.max_iters = 10;
  const RunResult result = fixture.run(theory.ist_step, options, &theory.fixed_point);
  EXPECT_DOUBLE_EQ(result.trace[0].dist_fixed,
                   (fixture.problem.start_point() - theory.fixed_point).squaredNorm());
}

TEST(Run, BadOptionsAndStepSizesThrow) {
  Fixture fixture("gd", SketchType::kIdentity);
  RunOptions options;
  EXPECT_THROW(fixture.run(-0.1, options), std::invalid_argument);
  EXPECT_THROW(fixture.run(std::nan(""), options), std::invalid_argument);
  options.divergence_factor = 0.5;
  EXPECT_THROW(fixture.run(0.1, options), std::invalid_argument);
}

TEST(Run, SameSeedSameTrajectoryWithOneOrTwoThreads) {
  Fixture fixture("ist", SketchType::kRand);
  RunOptions options;
  options.max_iters = 50;
  options.record_every = 1;
  // Workers run in the caller's task_arena: the sweep's one thread knob sizes it.
  auto run_in_arena = [&](int threads) {
    tbb::task_arena arena(threads);
    return arena.execute([&] { return fixture.run(0.5 / fixture.problem.lambda_max(), options); });
  };
  const RunResult one = run_in_arena(1);
  const RunResult two = run_in_arena(2);
  ASSERT_EQ(one.trace.size(), two.trace.size());
  for (std::size_t i = 0; i < one.trace.size(); ++i)
    EXPECT_EQ(one.trace[i].rel_err, two.trace[i].rel_err);
  EXPECT_EQ(one.final_point, two.final_point);
}

bool same_rows(const TraceRow& a, const TraceRow& b) {
  // (wall_s is the machine's; every other field is the run's)
  auto bits = [](double x) { return std::bit_cast<std::uint64_t>(x); };
  return a.iter == b.iter && bits(a.rel_err) == bits(b.rel_err) && bits(a.f_gap) == bits(b.f_gap) &&
         bits(a.grad_norm2) == bits(b.grad_norm2) && bits(a.dist_fixed) == bits(b.dist_fixed) &&
         bits(a.floats_up) == bits(b.floats_up) && bits(a.floats_down) == bits(b.floats_down) &&
         bits(a.flops) == bits(b.flops) && bits(a.model_time_s) == bits(b.model_time_s);
}

// A longer max_iters goes on from a stored shorter run: only the extra rounds run, and the
// rows are those of a fresh run of the longer length, bit for bit (the row at the shorter
// run's end dropped when the longer schedule skips it).
TEST(Run, ALongerRunGoesOnFromAShorterOneBitForBit) {
  for (const char* method : {"ist", "dcgd", "local_sgd"}) {
    SCOPED_TRACE(method);
    Fixture fixture(method, SketchType::kPerm);
    const double step = 0.3 / fixture.problem.lambda_max();
    RunOptions options;
    options.record_every = 10;
    options.record_iterates = true;
    options.max_iters = 45;
    const RunResult whole = fixture.run(step, options);
    options.max_iters = 17;
    const RunResult shorter = fixture.run(step, options);
    options.max_iters = 45;
    EXPECT_EQ(cannot_continue(shorter, options), std::nullopt);
    options.continue_from = &shorter;
    const RunResult longer = fixture.run(step, options);
    ASSERT_EQ(longer.trace.size(), whole.trace.size());  // 0, 10, …, 40, 45: no row at 17
    for (std::size_t r = 0; r < whole.trace.size(); ++r)
      EXPECT_TRUE(same_rows(longer.trace[r], whole.trace[r])) << "row " << r;
    EXPECT_EQ(longer.iterates, whole.iterates);
    EXPECT_EQ(longer.final_point, whole.final_point);
    EXPECT_EQ(longer.status, RunStatus::kMaxIters);
    EXPECT_EQ(longer.iterations, 45);
  }
}

TEST(Run, WhatARunCannotGoOnFrom) {
  Fixture fixture("ist", SketchType::kPerm);
  const double step = 0.3 / fixture.problem.lambda_max();
  RunOptions options;
  options.max_iters = 20;
  options.record_log_points = 5;
  const RunResult stored = fixture.run(step, options);
  options.max_iters = 200;  // the log-spaced rounds move with max_iters
  EXPECT_NE(cannot_continue(stored, options), std::nullopt);
  options.record_log_points = 0;
  options.record_every = 1;
  EXPECT_NE(cannot_continue(stored, options), std::nullopt);  // it skipped rounds now recorded
  options.record_every = 0;
  options.max_iters = 10;  // shorter
  EXPECT_NE(cannot_continue(stored, options), std::nullopt);
  options.max_iters = 20;  // as long: nothing to run
  EXPECT_NE(cannot_continue(stored, options), std::nullopt);

  // A run that converged within the longer limit is the longer run too.
  options = RunOptions{};
  options.max_iters = 5000;
  options.tolerance = 1e-3;
  Fixture gd("gd", SketchType::kIdentity);
  const RunResult converged = gd.run(0.5 / gd.problem.lambda_max(), options);
  ASSERT_EQ(converged.status, RunStatus::kConverged);
  options.max_iters = 9000;
  EXPECT_EQ(cannot_continue(converged, options), std::nullopt);
  options.continue_from = &converged;
  const RunResult again = gd.run(0.5 / gd.problem.lambda_max(), options);
  EXPECT_EQ(again.iterations, converged.iterations);
  EXPECT_EQ(again.status, RunStatus::kConverged);
}

// Issue 21, item 2: a round of 10^6 local steps (seconds of work on this problem) ends within
// a step at the time limit or on an interrupt, instead of after the round. The model is then
// still round 0's, so the run reports 0 rounds; a stop checked only between rounds reports 1.
struct LongRounds {
  Quadratic problem = make_problem({.generator = "dense",
                                    .dim = 400,
                                    .num_workers = 4,
                                    .heterogeneity = 0.5,
                                    .kappa = 10.0,
                                    .seed = 7});
  Sketcher sketcher{SketchSpec{SketchType::kPerm, SketchScale::kUnbiased, 0}, problem};
  std::unique_ptr<Method> method =
      make_method({.name = "ist", .local_steps = kMaxLocalSteps}, problem, sketcher);

  RunResult run(const RunOptions& options) {
    return run_method(problem, sketcher, *method, 0.01 / problem.lambda_max(), 3, options);
  }
};

TEST(Run, TimeLimitEndsARoundOfManyLocalStepsMidway) {
  LongRounds long_rounds;
  RunOptions options;
  options.max_iters = 3;
  options.max_seconds = 0.05;
  const RunResult result = long_rounds.run(options);
  EXPECT_EQ(result.status, RunStatus::kTimeLimit);
  EXPECT_EQ(result.iterations, 0);
  ASSERT_EQ(result.trace.size(), 1u);  // round 0's row, recorded once
  EXPECT_EQ(result.trace.back().iter, 0);
}

TEST(Run, InterruptEndsARoundOfManyLocalStepsMidway) {
  LongRounds long_rounds;
  std::atomic<bool> interrupt{false};
  RunOptions options;
  options.max_iters = 3;
  options.interrupt = &interrupt;
  std::thread signal([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    interrupt.store(true);
  });
  const RunResult result = long_rounds.run(options);
  signal.join();
  EXPECT_EQ(result.status, RunStatus::kInterrupted);
  EXPECT_EQ(result.iterations, 0);
}

}  // namespace
}  // namespace istlab
