// What every registered problem family must satisfy, run over family_names(): registering a
// family puts it through this suite, and it cannot pass without its row below (a small spec).
//   - its spec validates, and its cache key names every parameter it reads,
//   - it builds as its kind of workload, whose facts have a row per worker,
//   - a few rounds of gd on it give the same bits with 1 or 2 threads,
//   - its kind's rules: a quadratic has x* (rel_err recorded), a network refuses relative
//     steps and records its losses.

#include <gtest/gtest.h>
#include <tbb/task_arena.h>

#include <cmath>
#include <cstring>
#include <fstream>
#include <map>
#include <string>

#include "istlab/problem/generators.hpp"
#include "istlab/run/workload.hpp"
#include "temp_dir.hpp"

namespace istlab {
namespace {

// A LIBSVM file of 60 samples, 5 features, 3 classes (the data families' rows read it).
std::string write_small_dataset(const TempDir& dir) {
  const std::string path = (dir.path() / "small.svm").string();
  std::ofstream out(path);
  for (int sample = 0; sample < 60; ++sample) {
    out << sample % 3;
    for (int feature = 1; feature <= 5; ++feature)
      out << ' ' << feature << ':' << std::sin(0.7 * sample + 1.3 * feature) + 0.2 * (sample % 3);
    out << '\n';
  }
  return path;
}

// A small spec of each family; `data` is the path of write_small_dataset's file.
std::map<std::string, ProblemSpec> family_rows(const std::string& data) {
  ProblemSpec least_squares{.generator = "least_squares", .num_workers = 3, .seed = 4};
  least_squares.dataset_path = data;
  least_squares.dataset_format = "libsvm";
  least_squares.min_samples = 5;
  least_squares.relative_regularization = 1e-2;
  ProblemSpec mlp = least_squares;
  mlp.generator = "mlp";
  mlp.relative_regularization = 0.0;
  mlp.hidden = "6";
  mlp.eval_samples = 0;
  return {
      {"tridiagonal",
       {.generator = "tridiagonal",
        .dim = 40,
        .num_workers = 4,
        .heterogeneity = 0.3,
        .mu = 1e-2,
        .seed = 2}},
      {"dense",
       {.generator = "dense", .dim = 12, .num_workers = 3, .heterogeneity = 0.5, .seed = 3}},
      {"counterexample", {.generator = "counterexample", .dim = 2, .num_workers = 2, .seed = 1}},
      {"least_squares", least_squares},
      {"mlp", mlp},
  };
}

class FamilyConformance : public testing::TestWithParam<std::string> {
 protected:
  FamilyConformance() : dir_("family_conformance"), rows_(family_rows(write_small_dataset(dir_))) {}

  // The family's row, dim set from the data where the family reads a dataset; fails the
  // calling test when there is none.
  const ProblemSpec* row() {
    const auto found = rows_.find(GetParam());
    if (found == rows_.end()) {
      ADD_FAILURE() << "family '" << GetParam() << "' is registered but has no row: add a small "
                    << "spec of it to family_rows() in " << __FILE__;
      return nullptr;
    }
    ProblemSpec& spec = found->second;
    spec.reset_unread();
    return &spec;
  }

  // The workload the spec builds, its dataset read as a sweep reads it.
  static std::unique_ptr<Workload> build(const ProblemSpec& spec) {
    const ProblemFamily& family = problem_family(spec.generator);
    ProblemInputs inputs;
    if (family.dataset != nullptr)
      inputs.dataset = std::make_shared<const Dataset>(
          preprocess(read_raw_dataset(family.dataset(spec)), family.dataset(spec)));
    return make_workload(spec, inputs);
  }

  TempDir dir_;
  std::map<std::string, ProblemSpec> rows_;
};

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }

TEST_P(FamilyConformance, ValidatesAndKeysEveryParameterItReads) {
  const ProblemSpec* spec = row();
  if (spec == nullptr) return;
  EXPECT_NO_THROW(spec->validate());
  const ProblemFamily& family = problem_family(spec->generator);
  const std::string key = spec->key();
  for (const auto& [parameter, label] : family.parameters)
    EXPECT_NE(key.find("|" + std::string(label) + "="), std::string::npos)
        << parameter << " is read but not in the key " << key;
}

TEST_P(FamilyConformance, BuildsItsKindOfWorkloadAndRunsTheSameWithOneOrTwoThreads) {
  const ProblemSpec* spec = row();
  if (spec == nullptr) return;
  const std::unique_ptr<Workload> workload = build(*spec);
  ASSERT_EQ(workload->facts().workers.size(), static_cast<std::size_t>(spec->num_workers));
  const SketchSpec sketch{SketchType::kPerm};
  workload->prepare_theories({sketch, SketchSpec{}});
  RunOptions options;
  options.max_iters = 6;
  options.record_every = 3;
  auto run = [&](int threads) {
    tbb::task_arena arena(threads);
    return arena.execute([&] {
      return workload->run({.method = {.name = "ist"}, .sketch = sketch, .step_value = 0.01},
                           options);
    });
  };
  const Trajectory one = run(1);
  const Trajectory two = run(2);
  ASSERT_EQ(one.run.trace.size(), 3u);  // rounds 0, 3, 6
  ASSERT_EQ(two.run.trace.size(), 3u);
  for (std::size_t r = 0; r < one.run.trace.size(); ++r) {
    EXPECT_TRUE(same_bits(one.run.trace[r].grad_norm2, two.run.trace[r].grad_norm2)) << r;
    EXPECT_TRUE(same_bits(one.run.trace[r].rel_err, two.run.trace[r].rel_err)) << r;
    EXPECT_TRUE(same_bits(one.run.trace[r].train_loss, two.run.trace[r].train_loss)) << r;
  }
  const TraceRow& last = one.run.trace.back();
  const WorkloadKind& kind = workload_kind(problem_family(spec->generator));
  if (problem_family(spec->generator).has_theory()) {
    EXPECT_EQ(&kind, &quadratic_kind());
    EXPECT_TRUE(std::isfinite(last.rel_err));  // measured against x*
    EXPECT_NE(one.theory, nullptr);
  } else {
    EXPECT_TRUE(std::isnan(last.rel_err));  // no x*: a network's own losses instead
    EXPECT_TRUE(std::isfinite(last.train_loss));
    const auto refused = kind.check(*spec, options, /*relative_step=*/true);
    ASSERT_TRUE(refused.has_value());
    EXPECT_EQ(refused->key, "step_size");
  }
}

INSTANTIATE_TEST_SUITE_P(EveryRegisteredFamily, FamilyConformance,
                         testing::ValuesIn(family_names()),
                         [](const testing::TestParamInfo<std::string>& family) {
                           return family.param;
                         });

}  // namespace
}  // namespace istlab
