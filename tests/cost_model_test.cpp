// The network and compute model (run/cost_model.hpp) on rounds computed by hand, its
// monotonicity, its presets and its rules; a sparse problem's flops by hand.

#include "istlab/run/cost_model.hpp"

#include <gtest/gtest.h>

#include <cmath>

#include "istlab/method/method.hpp"
#include "istlab/problem/generators.hpp"
#include "istlab/run/run.hpp"

namespace istlab {
namespace {

RoundCounts counts(double down, double up, double flops) {
  RoundCounts round;
  round.floats_down = round.max_floats_down = down;
  round.floats_up = round.max_floats_up = up;
  round.flops = round.max_flops = flops;
  return round;
}

TEST(CostModel, ServerRoundByHand) {
  CostModel model;
  model.network = "ethernet";  // 50 µs, 1 Gbit/s
  model.flops_per_second = 1e9;
  // 1e6 flops: 1 ms; 1000 floats down + 250 up of 4 bytes: 40,000 bits = 40 µs; 2 latencies.
  EXPECT_DOUBLE_EQ(model.round_seconds(counts(1000, 250, 1e6), 4), 1e-3 + 40e-6 + 2 * 50e-6);
  model.bytes_per_float = 8;
  EXPECT_DOUBLE_EQ(model.round_seconds(counts(1000, 250, 1e6), 4), 1e-3 + 80e-6 + 2 * 50e-6);
}

TEST(CostModel, RingAllReduceByHand) {
  CostModel model;
  model.network = "custom";
  model.latency_s = 1e-3;
  model.bandwidth_bits_per_s = 32e6;  // a 4-byte float in 1 µs
  model.flops_per_second = 1e9;
  model.topology = "allreduce";
  // n = 4: 2·3 = 6 latencies and 2·3/4 of the 1000-float payload: 1.5 ms; plus 2 ms compute.
  EXPECT_DOUBLE_EQ(model.round_seconds(counts(1000, 1000, 2e6), 4), 2e-3 + 6e-3 + 1.5e-3);
  // One worker has nothing to exchange.
  EXPECT_DOUBLE_EQ(model.round_seconds(counts(1000, 1000, 2e6), 1), 2e-3);
}

TEST(CostModel, TheSlowestWorkerSetsTheRound) {
  CostModel model;
  model.network = "wan";
  RoundCounts round = counts(100, 100, 1e5);
  const double even = model.round_seconds(round, 2);
  round.max_flops = 1e9;  // one worker computes far more than the mean
  round.max_floats_up = 1e4;
  EXPECT_DOUBLE_EQ(model.round_seconds(round, 2), 1e9 / 1e11 + 2 * 20e-3 + (100 + 1e4) * 32 / 10e6);
  EXPECT_GT(model.round_seconds(round, 2), even);
}

TEST(CostModel, MonotoneInBandwidthAndLatency) {
  for (const std::string topology : {"server", "allreduce"}) {
    CostModel model;
    model.network = "custom";
    model.topology = topology;
    model.latency_s = 1e-4;
    double previous = INFINITY;
    for (const double bandwidth : {1e6, 1e7, 1e8, 1e9, 1e10, 1e11}) {
      model.bandwidth_bits_per_s = bandwidth;
      const double seconds = model.round_seconds(counts(5000, 5000, 1e7), 8);
      EXPECT_LT(seconds, previous) << topology << " at " << bandwidth;
      previous = seconds;
    }
    previous = 0.0;
    for (const double latency : {1e-6, 1e-5, 1e-4, 1e-3}) {
      model.latency_s = latency;
      const double seconds = model.round_seconds(counts(5000, 5000, 1e7), 8);
      EXPECT_GT(seconds, previous) << topology << " at latency " << latency;
      previous = seconds;
    }
  }
}

TEST(CostModel, PresetsAndRules) {
  CostModel model;
  EXPECT_FALSE(model.enabled());
  for (const auto& [name, latency, bandwidth] :
       {std::tuple{"datacenter", 5e-6, 100e9}, std::tuple{"ethernet", 50e-6, 1e9},
        std::tuple{"wan", 20e-3, 10e6}}) {
    model.network = name;
    EXPECT_TRUE(model.enabled());
    EXPECT_DOUBLE_EQ(model.latency(), latency) << name;
    EXPECT_DOUBLE_EQ(model.bandwidth(), bandwidth) << name;
  }
  model.bandwidth_bits_per_s = 5e6;  // an explicit value overrides the preset's
  EXPECT_DOUBLE_EQ(model.bandwidth(), 5e6);
  CostModel custom;
  custom.network = "custom";
  EXPECT_THROW(custom.validate(), ParameterError);  // latency and bandwidth are needed
  custom.latency_s = 1e-3;
  custom.bandwidth_bits_per_s = 1e9;
  EXPECT_NO_THROW(custom.validate());
  custom.bytes_per_float = 2;
  EXPECT_THROW(custom.validate(), ParameterError);
}

// A tridiagonal L_i has about 3 entries a row: gd's worker reads nnz(L_i), dcgd's rows S_i.
TEST(CostModel, SparseFlopsCountTheEntriesRead) {
  const Quadratic problem = make_problem(
      {.generator = "tridiagonal", .dim = 64, .num_workers = 4, .heterogeneity = 0.2, .seed = 3});
  const Sketcher sketcher(SketchSpec{SketchType::kPerm}, problem);
  RoundSketch round = sketcher.make_round();
  sketcher.draw(1, 0, round);
  const double nnz = static_cast<double>(problem.worker_nonzeros(0));
  EXPECT_DOUBLE_EQ(make_method({.name = "gd"}, problem, sketcher)->counts(round).max_flops,
                   2 * nnz);
  EXPECT_DOUBLE_EQ(make_method({.name = "dcgd"}, problem, sketcher)->counts(round).max_flops,
                   2 * 16 * nnz / 64);
}

// The run loop accumulates modelled seconds per round: gd on a dense problem, server.
TEST(CostModel, RunLoopAccumulatesModelledTime) {
  const Quadratic problem = make_problem(
      {.generator = "dense", .dim = 20, .num_workers = 4, .heterogeneity = 0.3, .seed = 5});
  const Sketcher sketcher(SketchSpec{}, problem);
  const auto method = make_method({.name = "gd"}, problem, sketcher);
  RunOptions options;
  options.max_iters = 10;
  options.record_every = 5;
  options.cost.network = "ethernet";
  const RunResult run = run_method(problem, sketcher, *method, 0.01, 1, options);
  const double round = 2.0 * 20 * 20 / 1e11 + 2 * 50e-6 + (20 + 20) * 32 / 1e9;
  ASSERT_EQ(run.trace.size(), 3u);
  EXPECT_DOUBLE_EQ(run.trace[0].model_time_s, 0.0);
  EXPECT_NEAR(run.trace[2].model_time_s, 10 * round, 1e-15);
  EXPECT_DOUBLE_EQ(run.trace[2].flops, 10 * 2.0 * 20 * 20);
  // A budget of modelled time stops the run.
  options.time_budget = 3.5 * round;
  const RunResult stopped = run_method(problem, sketcher, *method, 0.01, 1, options);
  EXPECT_EQ(stopped.status, RunStatus::kBudget);
  EXPECT_EQ(stopped.iterations, 4);
  options.cost.network = "none";
  options.time_budget = 0.0;
  EXPECT_TRUE(std::isnan(
      run_method(problem, sketcher, *method, 0.01, 1, options).trace.back().model_time_s));
}

// A run priced afterwards on another network gives the bits a run under that network gives:
// how a sweep shares one run among cells that differ only in `network:`.
TEST(CostModel, RetimingARunEqualsRunningOnThatNetwork) {
  const Quadratic problem = make_problem(
      {.generator = "dense", .dim = 30, .num_workers = 5, .heterogeneity = 0.4, .seed = 8});
  const Sketcher sketcher(SketchSpec{SketchType::kPerm}, problem);
  RunOptions options;
  options.max_iters = 40;
  options.record_log_points = 8;
  CostModel lan;
  lan.network = "ethernet";
  CostModel ring;
  ring.network = "custom";
  ring.latency_s = 3e-3;
  ring.bandwidth_bits_per_s = 2e8;
  ring.topology = "allreduce";  // (ist uses the server: the topology only matters for gd)
  for (const auto name : {"gd", "ist"}) {
    SCOPED_TRACE(name);
    const auto method = make_method({.name = name}, problem, sketcher);
    options.cost = ring;
    const RunResult direct = run_method(problem, sketcher, *method, 0.01, 2, options);
    options.cost = lan;
    options.keep_round_counts = true;
    RunResult shared = run_method(problem, sketcher, *method, 0.01, 2, options);
    options.keep_round_counts = false;
    ASSERT_EQ(shared.round_counts.size(), 40u);
    retime(shared, ring);
    ASSERT_EQ(shared.trace.size(), direct.trace.size());
    for (std::size_t r = 0; r < direct.trace.size(); ++r)
      EXPECT_EQ(shared.trace[r].model_time_s, direct.trace[r].model_time_s) << "row " << r;
    EXPECT_GT(direct.trace.back().model_time_s, 0.0);
  }
}

}  // namespace
}  // namespace istlab
