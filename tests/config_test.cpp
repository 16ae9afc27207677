// Config decoding: one rule per test; every error names file:line:column, key and value.

#include "istlab/sweep/config.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

#include "istlab/sweep/grid.hpp"

namespace istlab {
namespace {

const std::string kValid = R"(experiment: demo
problem:
  generator: dense
  dim: [8, 16]
  num_workers: 4
  heterogeneity: [0.0, 0.5]
methods:
  - method: gd
  - method: [dcgd, ist]
    sketch: [perm, rand]
    scale: unbiased
step_size: {relative: [0.5, 1.0]}
seeds: [1, 2]
run:
  max_iters: 50
  record: {every: 10}
)";

// The message parse_config throws for `text`, or "" when it parses.
std::string error_of(const std::string& text) {
  try {
    const SweepConfig config = parse_config(text, "bad.yaml");
    expand_grid(config);
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(Config, ValidConfigExpandsToTheFullGrid) {
  const SweepConfig config = parse_config(kValid, "demo.yaml");
  EXPECT_EQ(config.experiment, "demo");
  EXPECT_EQ(config.run.max_iters, 50);
  EXPECT_EQ(config.run.record_every, 10);
  const auto cells = expand_grid(config);
  // problems: 2 dims × 2 h × 2 seeds = 8; per problem: gd 2 steps + 2 methods × 2 sketches × 2
  // steps.
  EXPECT_EQ(cells.size(), 8u * (2 + 8));
  for (std::size_t i = 0; i < cells.size(); ++i) EXPECT_EQ(cells[i].index, static_cast<int>(i));
}

TEST(Config, ExperimentNameDefaultsToTheFileStem) {
  const SweepConfig config =
      parse_config(replaced(kValid, "experiment: demo\n", ""), "dir/my_sweep.yaml");
  EXPECT_EQ(config.experiment, "my_sweep");
}

TEST(Config, CellKeysAreStableAndDistinct) {
  const auto first = expand_grid(parse_config(kValid, "a.yaml"));
  const auto second = expand_grid(parse_config(kValid, "b.yaml"));
  ASSERT_EQ(first.size(), second.size());
  std::set<std::string> keys;
  for (std::size_t i = 0; i < first.size(); ++i) {
    EXPECT_EQ(first[i].key, second[i].key);
    keys.insert(first[i].key);
  }
  EXPECT_EQ(keys.size(), first.size());
}

TEST(Config, GdIgnoresSketchAxesSoDuplicatesCollapse) {
  const std::string text =
      replaced(kValid, "  - method: gd\n", "  - method: gd\n    sketch: [perm, rand]\n");
  EXPECT_EQ(expand_grid(parse_config(text, "a.yaml")).size(), 8u * (2 + 8));
}

TEST(Config, UnknownTopLevelKeyNamesKeyAndLine) {
  const std::string message = error_of(kValid + "stepsize: 0.1\n");
  EXPECT_NE(message.find("bad.yaml:17:1"), std::string::npos) << message;
  EXPECT_NE(message.find("unknown key 'stepsize'"), std::string::npos) << message;
  EXPECT_NE(message.find("step_size"), std::string::npos) << message;  // lists what is allowed
}

TEST(Config, UnknownNestedKeyNamesItsPath) {
  const std::string message =
      error_of(replaced(kValid, "  num_workers: 4\n", "  num_workers: 4\n  workers: 4\n"));
  EXPECT_NE(message.find("bad.yaml:6:3: problem.workers"), std::string::npos) << message;
}

TEST(Config, WrongTypeNamesKeyValueAndLine) {
  const std::string message = error_of(replaced(kValid, "num_workers: 4", "num_workers: four"));
  EXPECT_NE(message.find("bad.yaml:5:16: problem.num_workers"), std::string::npos) << message;
  EXPECT_NE(message.find("value 'four' is not an integer"), std::string::npos) << message;
}

TEST(Config, NegativeStepSizeIsRejected) {
  const std::string message = error_of(replaced(kValid, "{relative: [0.5, 1.0]}", "[0.1, -0.5]"));
  EXPECT_NE(message.find("bad.yaml:12:18: step_size"), std::string::npos) << message;
  EXPECT_NE(message.find("'-0.5' must be positive"), std::string::npos) << message;
}

TEST(Config, UnknownMethodListsValidOnes) {
  const std::string message = error_of(replaced(kValid, "method: gd", "method: sgd"));
  EXPECT_NE(message.find("bad.yaml:8:13: methods[0].method"), std::string::npos) << message;
  EXPECT_NE(message.find("'sgd' is not a method (did you mean 'gd'?); valid: gd, dcgd, ist"),
            std::string::npos)
      << message;
}

TEST(Config, UnknownSketchAndScaleListValidOnes) {
  EXPECT_NE(error_of(replaced(kValid, "[perm, rand]", "[perm, block]"))
                .find("valid: identity, perm, rand"),
            std::string::npos);
  EXPECT_NE(error_of(replaced(kValid, "scale: unbiased", "scale: biased"))
                .find("unbiased, none, sqrt_n, diag_precond"),
            std::string::npos);
}

TEST(Config, MalformedYamlNamesLine) {
  const std::string message = error_of("methods:\n  - method: gd\nstep_size: [0.1\n");
  EXPECT_NE(message.find("bad.yaml:"), std::string::npos) << message;
  EXPECT_NE(message.find("malformed YAML"), std::string::npos) << message;
}

// Issue 22: a list of dataset maps (files and named datasets alike) is one axis, entry by
// entry; an entry's own list is refused, and `zip: [problem.dataset, ...]` takes the entries.
TEST(Config, AListOfDatasetMapsIsSweptEntryByEntry) {
  const std::string text =
      "problem:\n  generator: least_squares\n  num_workers: [2, 3]\n"
      "  dataset: [{path: a.svm, format: libsvm}, {path: b.csv, format: csv, header: true}, "
      "heart_scale]\nmethods: [{method: gd}]\nstep_size: 0.1\n";
  const SweepConfig config = parse_config(text, "d.yaml");
  auto values = [&](const std::string& name) {
    std::vector<std::string> texts;
    for (const auto& value : config.problem.at(name)) texts.push_back(format_value(value));
    return texts;
  };
  EXPECT_EQ(values("dataset.name"), (std::vector<std::string>{"", "", "heart_scale"}));
  EXPECT_EQ(values("dataset.path"), (std::vector<std::string>{"a.svm", "b.csv", ""}));
  EXPECT_EQ(values("dataset.format"), (std::vector<std::string>{"libsvm", "csv", ""}));
  EXPECT_EQ(values("dataset.header"), (std::vector<std::string>{"false", "true", "false"}));
  ASSERT_EQ(config.zip.size(), 1u);
  EXPECT_EQ(config.zip[0].front(), "problem.dataset.name");
  EXPECT_EQ(config.zip[0].size(), 6u);  // every key of the group moves together
  // Zipped with the workers: the entries pair with num_workers instead of multiplying.
  const SweepConfig zipped =
      parse_config(replaced(text, "num_workers: [2, 3]", "num_workers: [2, 3, 4]") +
                       "zip: [problem.dataset, problem.num_workers]\n",
                   "d.yaml");
  ASSERT_EQ(zipped.zip.size(), 1u);
  EXPECT_EQ(zipped.zip[0].size(), 7u);
  EXPECT_NE(error_of(replaced(text, "{path: a.svm, format: libsvm}",
                              "{path: [a.svm, c.svm], format: libsvm}"))
                .find("problem.dataset.path: inside a list of entries each key has one value"),
            std::string::npos);
  EXPECT_NE(error_of(replaced(text, "format: libsvm}", "format: libsvm, labls: x}"))
                .find("unknown key 'labls' (did you mean 'labels'?)"),
            std::string::npos);
}

TEST(Config, EmptyListIsRejected) {
  const std::string message = error_of(replaced(kValid, "seeds: [1, 2]", "seeds: []"));
  EXPECT_NE(message.find("bad.yaml:13:8: seeds: an empty list"), std::string::npos) << message;
}

TEST(Config, MissingMethodsAndStepSizeAreErrors) {
  EXPECT_NE(error_of("problem: {dim: 4}\nstep_size: 0.1\n").find("methods: missing"),
            std::string::npos);
  EXPECT_NE(error_of("methods:\n  - method: gd\n").find("no step_size"), std::string::npos);
}

TEST(Config, MethodEntryStepSizeOverridesTopLevel) {
  const std::string text =
      replaced(kValid, "  - method: gd\n", "  - method: gd\n    step_size: 0.01\n");
  const auto cells = expand_grid(parse_config(text, "a.yaml"));
  EXPECT_FALSE(cells[0].relative_step);
  EXPECT_DOUBLE_EQ(cells[0].step_value, 0.01);
  EXPECT_TRUE(cells.back().relative_step);
}

TEST(Config, GeneratorRangeErrorPointsAtTheKey) {
  // Dense needs h ≤ 1; the check needs the generator, so it runs at grid expansion.
  const std::string message = error_of(replaced(kValid, "[0.0, 0.5]", "[0.0, 1.5]"));
  EXPECT_NE(message.find("bad.yaml:6:18: problem.heterogeneity"), std::string::npos) << message;
  EXPECT_NE(message.find("value '1.5' must be in [0, 1] for the dense generator"),
            std::string::npos)
      << message;
}

TEST(Config, LocalStepsNeedTheOuterSketch) {
  const std::string text =
      replaced(kValid, "    scale: unbiased\n",
               "    scale: unbiased\n    local_steps: 3\n    outer_sketch: false\n");
  EXPECT_NE(error_of(text).find("methods[1].local_steps"), std::string::npos) << error_of(text);
}

TEST(Config, RunOptionsAreChecked) {
  EXPECT_NE(error_of(replaced(kValid, "max_iters: 50", "max_iters: 0")).find("run.max_iters"),
            std::string::npos);
  EXPECT_NE(error_of(replaced(kValid, "every: 10", "each: 10")).find("unknown key 'each'"),
            std::string::npos);
  EXPECT_NE(error_of(replaced(kValid, "max_iters: 50", "max_iters: 50\n  tolerance: -1"))
                .find("run.tolerance"),
            std::string::npos);
}

TEST(Config, SeedsMustBeNonNegativeIntegers) {
  EXPECT_NE(
      error_of(replaced(kValid, "seeds: [1, 2]", "seeds: [1, -2]")).find("must be at least 0"),
      std::string::npos);
  EXPECT_NE(error_of(replaced(kValid, "seeds: [1, 2]", "seeds: [1.5]")).find("is not an integer"),
            std::string::npos);
}

TEST(Config, QuickSectionOverridesKeysWhenAsked) {
  const std::string text =
      kValid + "quick:\n  problem: {dim: 4}\n  repeats: 1\n  run: {max_iters: 5}\n";
  const SweepConfig full = parse_config(text, "q.yaml");
  EXPECT_EQ(full.problem.at("dim"), (std::vector<Value>{std::int64_t{8}, std::int64_t{16}}));
  EXPECT_EQ(full.run.max_iters, 50);
  EXPECT_FALSE(full.quick);
  const SweepConfig quick = parse_config(text, "q.yaml", true);
  EXPECT_TRUE(quick.quick);
  EXPECT_EQ(quick.problem.at("dim"), (std::vector<Value>{std::int64_t{4}}));
  EXPECT_EQ(quick.problem.at("num_workers"),
            (std::vector<Value>{std::int64_t{4}}));  // merged, not replaced
  EXPECT_EQ(quick.problem.at("generator"), (std::vector<Value>{std::string("dense")}));
  EXPECT_EQ(quick.seeds, (std::vector<std::uint64_t>{0}));  // repeats replaced the seeds
  EXPECT_EQ(quick.run.max_iters, 5);
  EXPECT_EQ(quick.run.record_every, 10);
  EXPECT_NE(error_of(kValid + "quick: {problem: {dims: 4}}\n").find("bad.yaml:17:25: problem.dims"),
            std::string::npos)
      << error_of(kValid + "quick: {problem: {dims: 4}}\n");
  EXPECT_THROW(parse_config(kValid, "q.yaml", true), ConfigError);
}

TEST(Config, MissingFileIsAConfigError) {
  EXPECT_THROW(load_config("/nonexistent/istlab.yaml"), ConfigError);
}

}  // namespace
}  // namespace istlab
