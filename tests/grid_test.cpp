// The sweep grid (expand_grid): products, zips and unions of axes, collapsing of parameters
// a cell does not read, cell keys, shared problems and theories, relative step sizes, and
// the errors only the grid can find. One rule per test; counts are worked out by hand.
// (Config decoding errors are config_test's; sweeps that run cells are sweep_test's.)

#include "istlab/sweep/grid.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "istlab/sweep/config.hpp"

namespace istlab {
namespace {

std::vector<Cell> expand(const std::string& text) {
  return expand_grid(parse_config(text, "grid.yaml"));
}

// The ConfigError expanding `text` throws; fails the test when there is none.
ConfigError expansion_error(const std::string& text) {
  try {
    expand(text);
  } catch (const ConfigError& error) {
    return error;
  }
  ADD_FAILURE() << "no ConfigError for:\n" << text;
  return ConfigError("", {}, "", std::nullopt, "");
}

TEST(Grid, SizeIsTheProductOfTheAxes) {
  const auto cells = expand(
      "problem: {generator: dense, dim: [8, 16], num_workers: [2, 4, 8]}\nseeds: [1, 2]\n"
      "methods: [{method: ist, sketch: [perm, rand], local_steps: [1, 2]}]\nstep_size: [0.1, 0.2, "
      "0.3]\n");
  // 2 dims × 3 worker counts × 2 seeds × 2 sketches × 2 τ × 3 steps.
  ASSERT_EQ(cells.size(), 2u * 3 * 2 * 2 * 2 * 3);
  std::set<std::tuple<int, int, std::uint64_t, SketchType, int, double>> combinations;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    const Cell& cell = cells[i];
    EXPECT_EQ(cell.index, static_cast<int>(i));
    combinations.insert({cell.problem.dim, cell.problem.num_workers, cell.seed, cell.sketch.type,
                         cell.method.local_steps, cell.step_value});
  }
  EXPECT_EQ(combinations.size(), cells.size());  // each combination exactly once
}

TEST(Grid, FirstAxisVariesSlowestAndTheStepFastest) {
  // Grid order is the order of the output files: problem axes in table order, then the
  // method entry's axes, the step last.
  const auto cells = expand(
      "problem: {generator: dense, dim: [8, 16], num_workers: 2}\n"
      "methods: [{method: ist, sketch: [perm, rand]}]\nstep_size: [0.1, 0.2]\n");
  ASSERT_EQ(cells.size(), 8u);
  const std::vector<int> dims = {8, 8, 8, 8, 16, 16, 16, 16};
  const std::vector<SketchType> sketches = {SketchType::kPerm, SketchType::kPerm, SketchType::kRand,
                                            SketchType::kRand, SketchType::kPerm, SketchType::kPerm,
                                            SketchType::kRand, SketchType::kRand};
  const std::vector<double> steps = {0.1, 0.2, 0.1, 0.2, 0.1, 0.2, 0.1, 0.2};
  for (std::size_t i = 0; i < cells.size(); ++i) {
    EXPECT_EQ(cells[i].problem.dim, dims[i]) << i;
    EXPECT_EQ(cells[i].sketch.type, sketches[i]) << i;
    EXPECT_EQ(cells[i].step_value, steps[i]) << i;
  }
}

TEST(Grid, ZippedKeysPairUpAndTheZipIsOneAxisOfTheProduct) {
  const auto cells = expand(
      "problem: {generator: dense, dim: [8, 16, 32], num_workers: [2, 4, 8], heterogeneity: [0, "
      "0.5]}\n"
      "zip: [problem.dim, problem.num_workers]\nmethods: [{method: gd}]\nstep_size: 0.1\n");
  // 3 (dim, n) pairs × 2 heterogeneities, not 3 × 3 × 2.
  ASSERT_EQ(cells.size(), 6u);
  std::map<std::pair<int, int>, int> pairs;
  for (const Cell& cell : cells) ++pairs[{cell.problem.dim, cell.problem.num_workers}];
  const std::map<std::pair<int, int>, int> expected = {{{8, 2}, 2}, {{16, 4}, 2}, {{32, 8}, 2}};
  EXPECT_EQ(pairs, expected);
}

TEST(Grid, SeedsCanBeZippedWithAProblemAxis) {
  // One seed per heterogeneity instead of every seed for every heterogeneity.
  const auto cells = expand(
      "problem: {generator: dense, dim: 8, num_workers: 2, heterogeneity: [0, 0.25, 0.5]}\nseeds: "
      "[10, 11, 12]\n"
      "zip: [problem.heterogeneity, seeds]\nmethods: [{method: gd}]\nstep_size: 0.1\n");
  ASSERT_EQ(cells.size(), 3u);
  for (const Cell& cell : cells)
    EXPECT_EQ(cell.seed, 10u + static_cast<std::uint64_t>(cell.problem.heterogeneity * 4));
}

TEST(Grid, MethodEntriesFormAUnionInEntryOrderPerProblem) {
  const auto cells = expand(
      "problem: {generator: dense, dim: [8, 16], num_workers: 2}\n"
      "methods:\n  - method: gd\n    step_size: 0.05\n  - method: ist\n    sketch: [perm, rand]\n"
      "step_size: [0.1, 0.2]\n");
  // Per problem: gd with its own single step, then ist 2 sketches × the 2 top-level steps.
  ASSERT_EQ(cells.size(), 2u * (1 + 4));
  const std::vector<std::string> methods = {"gd", "ist", "ist", "ist", "ist",
                                            "gd", "ist", "ist", "ist", "ist"};
  for (std::size_t i = 0; i < cells.size(); ++i) {
    EXPECT_EQ(cells[i].method.name, methods[i]) << i;
    EXPECT_EQ(cells[i].problem.dim, i < 5 ? 8 : 16) << i;
    EXPECT_EQ(cells[i].step_value,
              methods[i] == "gd" ? 0.05 : (i % 5 == 1 || i % 5 == 3 ? 0.1 : 0.2))
        << i;
  }
}

TEST(Grid, ACellTwoEntriesBothProduceAppearsOnce) {
  // A union of sets: gd in both entries is one cell per step.
  const auto cells =
      expand("methods:\n  - method: [gd, ist]\n  - method: [gd, dcgd]\nstep_size: 0.1\n");
  ASSERT_EQ(cells.size(), 3u);
  EXPECT_EQ(cells[0].method.name, "gd");
  EXPECT_EQ(cells[1].method.name, "ist");
  EXPECT_EQ(cells[2].method.name, "dcgd");
}

TEST(Grid, CellsDifferingOnlyInAnUnreadParameterCollapse) {
  struct Case {
    std::string label;
    std::string config;
  };
  const std::vector<Case> cases = {
      {"kappa, tridiagonal",
       "problem: {generator: tridiagonal, kappa: [10, 100, 1000]}\nmethods: [{method: gd}]\n"},
      {"mu, dense", "problem: {generator: dense, mu: [0.1, 0.01]}\nmethods: [{method: gd}]\n"},
      {"heterogeneity, counterexample",
       "problem: {generator: counterexample, dim: 2, num_workers: 2, heterogeneity: [0, 0.5]}\n"
       "methods: [{method: gd}]\n"},
      {"sketch and scale, gd",
       "methods: [{method: gd, sketch: [identity, perm, rand], scale: [none, sqrt_n]}]\n"},
      {"options of ist, gd",
       "methods: [{method: gd, outer_sketch: [true, false], local_steps: [1, 2]}]\n"},
      {"outer_sketch, dcgd",
       "methods: [{method: dcgd, sketch: perm, outer_sketch: [true, false]}]\n"},
      {"scale, identity",
       "methods: [{method: ist, sketch: identity, scale: [unbiased, none, sqrt_n]}]\n"},
      {"rand_q, perm", "methods: [{method: ist, sketch: perm, rand_q: [0, 3, 5]}]\n"},
      // 0 means ⌈d/n⌉ = ⌈100/10⌉ = 10 for the default problem: two spellings of one sketch.
      {"rand_q 0 and 10, rand", "methods: [{method: ist, sketch: rand, rand_q: [0, 10]}]\n"},
  };
  for (const Case& test_case : cases) {
    SCOPED_TRACE(test_case.label);
    EXPECT_EQ(expand(test_case.config + "step_size: 0.1\n").size(), 1u);
  }
}

TEST(Grid, CollapsedParametersTakeOneCanonicalValue) {
  // What the surviving cell holds: the default for unread options, the identity for an
  // ignored sketch, the resolved q for rand.
  const Cell gd = expand(
      "methods: [{method: gd, sketch: perm, scale: none, local_steps: 3}]\nstep_size: 0.1\n")[0];
  EXPECT_EQ(gd.sketch.type, SketchType::kIdentity);
  EXPECT_EQ(gd.sketch.scale, SketchScale::kUnbiased);
  EXPECT_EQ(gd.method.local_steps, 1);
  const Cell dcgd =
      expand("methods: [{method: dcgd, sketch: perm, outer_sketch: false}]\nstep_size: 0.1\n")[0];
  EXPECT_TRUE(dcgd.method.outer_sketch);
  const Cell rand = expand(
      "problem: {dim: 10, num_workers: 4}\nmethods: [{method: ist, sketch: rand}]\nstep_size: "
      "0.1\n")[0];
  EXPECT_EQ(rand.sketch.rand_q, 3);  // ⌈10/4⌉
  const Cell perm =
      expand("methods: [{method: ist, sketch: perm, rand_q: 7}]\nstep_size: 0.1\n")[0];
  EXPECT_EQ(perm.sketch.rand_q, 0);
}

TEST(Grid, UnreadRealParametersAreNaN) {
  // NaN prints as an empty CSV field: "not applicable", not a value someone chose.
  const Cell tridiagonal = expand(
      "problem: {generator: tridiagonal, kappa: 50}\nmethods: [{method: gd}]\nstep_size: 0.1\n")[0];
  EXPECT_TRUE(std::isnan(tridiagonal.problem.kappa));
  EXPECT_EQ(tridiagonal.problem.mu, 1e-6);  // read: the default stays
  const Cell dense = expand(
      "problem: {generator: dense, mu: 0.5, heterogeneity: 0.25}\nmethods: [{method: "
      "gd}]\nstep_size: 0.1\n")[0];
  EXPECT_TRUE(std::isnan(dense.problem.mu));
  EXPECT_EQ(dense.problem.heterogeneity, 0.25);
  EXPECT_EQ(dense.problem.kappa, 100.0);
  const Cell counterexample = expand(
      "problem: {generator: counterexample, dim: 2, num_workers: 3}\nmethods: [{method: "
      "gd}]\nstep_size: 0.1\n")[0];
  EXPECT_TRUE(std::isnan(counterexample.problem.heterogeneity));
  EXPECT_TRUE(std::isnan(counterexample.problem.mu));
  EXPECT_TRUE(std::isnan(counterexample.problem.kappa));
}

TEST(Grid, CellKeysAreStableAcrossExpansionsAndDistinct) {
  const std::string text =
      "problem: {generator: dense, dim: [8, 16], num_workers: 2}\nseeds: [1, 2]\n"
      "methods: [{method: [gd, dcgd, ist], sketch: [perm, rand]}]\nstep_size: {relative: [0.5, "
      "1]}\n";
  const auto first = expand(text);
  const auto second = expand_grid(parse_config(text, "elsewhere/other_name.yaml"));
  ASSERT_EQ(first.size(), second.size());
  std::set<std::string> keys;
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].key, second[i].key) << i;
    keys.insert(first[i].key);
  }
  EXPECT_EQ(keys.size(), first.size());
}

// Stored results stay valid as istlab grows: these keys were written by the version before
// networks, batch sizes and network models (d39f7df). A parameter added since enters a key
// only away from its default (keyed_when_set), so the same cells keep their keys.
TEST(Grid, CellKeysOfOldCellsDoNotChangeWhenParametersAreAdded) {
  const auto cells = expand(
      "problem: {generator: dense, dim: 8, num_workers: 2, heterogeneity: 0.5}\n"
      "methods: [{method: gd}, {method: ist, sketch: perm}]\nstep_size: 0.1\n"
      "run: {max_iters: 3}\n");
  ASSERT_EQ(cells.size(), 2u);
  // (pinned anew when the seed's place in its list left the keys, and again when the run's
  // length did, issue 22)
  EXPECT_EQ(cells[0].key, "80335c14075b2ec3");
  EXPECT_EQ(cells[1].key, "97abdd3c6660515a");
}

// One spelling throughout (standardize); the older one (standardise) still runs, as the
// same cells.
TEST(Grid, AnOldSpellingOfAValueGivesTheSameCells) {
  auto config = [](const std::string& scale) {
    return "problem: {generator: least_squares, dataset: heart_scale, num_workers: 2, "
           "preprocess: {scale: " +
           scale + "}}\nmethods: [{method: gd}]\nstep_size: 0.1\n";
  };
  const auto current = expand(config("standardize"));
  const auto old = expand(config("standardise"));
  ASSERT_EQ(current.size(), 1u);
  ASSERT_EQ(old.size(), 1u);
  EXPECT_EQ(old[0].problem.feature_scale, "standardize");
  EXPECT_EQ(old[0].key, current[0].key);
}

// A run's length is the store's to compare, not the key's: a longer run goes on from the
// stored shorter one of the same cell.
TEST(Grid, CellKeyLeavesOutTheRunsLength) {
  const std::string cells = "methods: [{method: gd}]\nstep_size: 0.1\nseeds: [1, 2]\n";
  const auto short_run = expand(cells + "run: {max_iters: 10}\n");
  const auto long_run = expand(cells + "run: {max_iters: 900, max_seconds: 5}\n");
  const auto recorded = expand(cells + "run: {max_iters: 10, record: {every: 2}}\n");
  ASSERT_EQ(short_run.size(), 2u);
  for (std::size_t i = 0; i < short_run.size(); ++i) {
    EXPECT_EQ(short_run[i].key, long_run[i].key);
    EXPECT_NE(short_run[i].key, recorded[i].key);  // what is recorded is in it
    EXPECT_EQ(long_run[i].length, (RunLength{900, 5.0}));
  }
}

TEST(Grid, CellKeyHoldsTheSeedNotItsPlaceInTheList) {
  const auto forward = expand("methods: [{method: gd}]\nstep_size: 0.1\nseeds: [1, 2, 3]\n");
  const auto backward = expand("methods: [{method: gd}]\nstep_size: 0.1\nseeds: [3, 1, 2]\n");
  std::set<std::string> forward_keys, backward_keys;
  for (const auto& cell : forward) forward_keys.insert(cell.key);
  for (const auto& cell : backward) backward_keys.insert(cell.key);
  EXPECT_EQ(forward_keys.size(), 3u);
  EXPECT_EQ(forward_keys, backward_keys);
}

TEST(Grid, CellKeyDoesNotDependOnThePositionInTheGrid) {
  // Adding a step size shifts every later cell's index, but a stored cell is found by its
  // key: the cells that were there before keep their keys.
  const auto before = expand("methods: [{method: ist, sketch: perm}]\nstep_size: [0.1, 0.2]\n");
  const auto after =
      expand("methods: [{method: ist, sketch: perm}]\nstep_size: [0.05, 0.1, 0.2]\n");
  ASSERT_EQ(before.size(), 2u);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[1].key, before[0].key);
  EXPECT_EQ(after[2].key, before[1].key);
  EXPECT_NE(after[1].index, before[0].index);
}

TEST(Grid, ProblemSeedListSharesEachProblemAcrossTheSeeds) {
  const auto cells = expand(
      "problem: {generator: dense, dim: 8, num_workers: 2, heterogeneity: 0.5, seed: [7, "
      "8]}\nseeds: [1, 2, 3]\n"
      "methods: [{method: ist, sketch: perm}]\nstep_size: 0.1\n");
  ASSERT_EQ(cells.size(), 6u);                                  // 3 seeds × 2 problem seeds
  std::map<std::uint64_t, std::set<std::string>> problem_keys;  // problem.seed → problem keys
  std::map<std::uint64_t, std::set<std::uint64_t>> seeds;       // problem.seed → seeds
  for (const Cell& cell : cells) {
    ASSERT_TRUE(cell.problem_seed.has_value());
    EXPECT_EQ(cell.problem.seed, *cell.problem_seed);  // the problem is drawn from problem.seed
    problem_keys[*cell.problem_seed].insert(cell.problem_key());
    seeds[*cell.problem_seed].insert(cell.seed);
  }
  ASSERT_EQ(problem_keys.size(), 2u);
  for (const std::uint64_t problem_seed : {7u, 8u}) {
    EXPECT_EQ(problem_keys[problem_seed].size(), 1u);  // one problem for its three seeds …
    EXPECT_EQ(seeds[problem_seed], (std::set<std::uint64_t>{1, 2, 3}));  // … whose sketches differ
  }
  EXPECT_NE(*problem_keys[7].begin(), *problem_keys[8].begin());
}

TEST(Grid, TheoryKeyFollowsTheSketchNotTheMethodOrStep) {
  // E[B̄] and x^∞ depend on the problem and the sketch's moments only (docs/theory.md §4).
  const auto cells = expand(
      "problem: {generator: dense, dim: 8, num_workers: 2, heterogeneity: 0.5}\n"
      "methods: [{method: [dcgd, ist], sketch: [perm, rand], scale: [unbiased, sqrt_n]}]\n"
      "step_size: [0.1, 0.2]\n");
  ASSERT_EQ(cells.size(), 2u * 2 * 2 * 2);
  std::map<std::pair<SketchType, SketchScale>, std::set<std::string>> theory_keys;
  std::set<std::string> all;
  for (const Cell& cell : cells) {
    theory_keys[{cell.sketch.type, cell.sketch.scale}].insert(cell.theory_key());
    all.insert(cell.theory_key());
  }
  ASSERT_EQ(theory_keys.size(), 4u);
  for (const auto& [sketch, keys] : theory_keys)
    EXPECT_EQ(keys.size(), 1u);  // shared by methods and steps
  EXPECT_EQ(all.size(), 4u);     // one per sketch
}

TEST(Grid, TheoryKeyFollowsTheProblem) {
  const auto cells = expand(
      "problem: {generator: dense, dim: 8, num_workers: 2, heterogeneity: [0, 0.5]}\n"
      "methods: [{method: ist, sketch: perm}]\nstep_size: 0.1\n");
  ASSERT_EQ(cells.size(), 2u);
  EXPECT_NE(cells[0].theory_key(), cells[1].theory_key());
}

TEST(Grid, RelativeStepMultipliesEachMethodsTheoreticalUnit) {
  // γ = relative × 1/λ_max(E[B̄]) for ist's table form, × 1/λ_max(L̄) otherwise: gd, dcgd and
  // ist without the outer sketch (whose mean step is ∇f for unbiased sketches).
  const auto cells = expand(
      "problem: {generator: dense, dim: 8, num_workers: 2}\n"
      "methods:\n  - method: ist\n    sketch: perm\n    outer_sketch: [true, false]\n"
      "  - method: ist\n    sketch: perm\n    local_steps: 2\n"
      "  - method: [gd, dcgd]\n    sketch: perm\n"
      "step_size: {relative: 0.5}\n");
  ASSERT_EQ(cells.size(), 5u);
  const double gradient_descent_unit = 0.25;
  const double ist_unit = 0.125;
  const std::vector<std::pair<std::string, double>> expected = {
      {"ist outer", 0.5 * 0.125}, {"ist no outer", 0.5 * 0.25}, {"ist τ=2", 0.5 * 0.125},
      {"gd", 0.5 * 0.25},         {"dcgd", 0.5 * 0.25},
  };
  for (std::size_t i = 0; i < cells.size(); ++i) {
    EXPECT_TRUE(cells[i].relative_step);
    EXPECT_EQ(resolve_step(cells[i].method, cells[i].relative_step, cells[i].step_value,
                           gradient_descent_unit, ist_unit),
              expected[i].second)
        << expected[i].first;
  }
}

TEST(Grid, AbsoluteStepIgnoresTheUnits) {
  const auto cells = expand("methods: [{method: [gd, ist], sketch: perm}]\nstep_size: 0.5\n");
  ASSERT_EQ(cells.size(), 2u);
  for (const Cell& cell : cells) {
    EXPECT_FALSE(cell.relative_step);
    EXPECT_EQ(resolve_step(cell.method, cell.relative_step, cell.step_value, 0.25, 0.125), 0.5);
  }
}

TEST(Grid, CrossParameterErrorOnADefaultPointsAtTheKeyThatMadeItWrong) {
  // dim is left at its default 100, which only the counterexample (d = 2) rejects: the
  // user wrote `generator`, so that is where the error points.
  const std::string text =
      "problem:\n  generator: counterexample\nmethods: [{method: gd}]\nstep_size: 0.1\n";
  const ConfigError error = expansion_error(text);
  EXPECT_EQ(error.file, "grid.yaml");
  EXPECT_EQ(error.key, "problem.dim");
  EXPECT_EQ(error.value, "100");
  EXPECT_TRUE(error.is_default);
  EXPECT_NE(error.rule.find("counterexample"), std::string::npos)
      << error.rule;  // names the reason
  // Line 2, column 14: the value of `generator:` ("  generator: " is 13 characters).
  EXPECT_EQ(error.at.line, 2);
  EXPECT_EQ(error.at.column, 14);
  const SweepConfig config = parse_config(text, "grid.yaml");
  EXPECT_EQ(error.at.line, config.locations.at("problem.generator").line);
  EXPECT_EQ(error.at.column, config.locations.at("problem.generator").column);
}

TEST(Grid, CrossParameterErrorOnAWrittenValuePointsAtThatValue) {
  const ConfigError error = expansion_error(
      "problem:\n  generator: counterexample\n  dim: 3\nmethods: [{method: gd}]\nstep_size: 0.1\n");
  EXPECT_EQ(error.key, "problem.dim");
  EXPECT_EQ(error.value, "3");
  EXPECT_FALSE(error.is_default);
  EXPECT_EQ(error.at.line, 3);
  EXPECT_EQ(error.at.column, 8);  // "  dim: " is 7 characters
}

TEST(Grid, MoreCellsThanTheLimitAreRefused) {
  // 1000 seeds × (50 + 51 steps) = 101000 > 100000. Each entry alone would be about 5e4 cells:
  // the limit is on the union. Refused before any cell is built (this test stays fast).
  std::string steps_50 = "[";
  for (int i = 1; i <= 50; ++i) steps_50 += std::to_string(i) + (i < 50 ? ", " : "]");
  const std::string steps_51 = steps_50.substr(0, steps_50.size() - 1) + ", 51]";
  const ConfigError error =
      expansion_error("methods:\n  - method: gd\n    step_size: " + steps_50 +
                      "\n  - method: gd\n    step_size: " + steps_51 + "\nrepeats: 1000\n");
  EXPECT_EQ(error.key, "methods");
  EXPECT_FALSE(error.value.has_value());
  // The rule states the count and the limit.
  EXPECT_NE(error.rule.find("1.01e+05"), std::string::npos) << error.rule;
  EXPECT_NE(error.rule.find(std::to_string(kMaxGridCells)), std::string::npos) << error.rule;
  // Where the `methods:` list stands: its first entry, line 2, column 3.
  EXPECT_EQ(error.at.line, 2);
  EXPECT_EQ(error.at.column, 3);
}

}  // namespace
}  // namespace istlab
