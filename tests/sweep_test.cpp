// The sweep engine through its library API: grid language (zip, unions, relative steps,
// repeats), stop rules as statuses, resuming, dry runs and refusals.

#include "istlab/sweep/sweep.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "istlab/sweep/config.hpp"
#include "istlab/sweep/grid.hpp"

namespace istlab {
namespace {

std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::path(testing::TempDir()) / ("istlab_sweep_test_" + name);
  std::filesystem::remove_all(dir);
  return dir;
}

SweepOptions quiet_options(const std::filesystem::path& out) {
  SweepOptions options;
  options.out_dir = out;
  options.threads = 2;
  options.progress = ProgressMode::kQuiet;
  return options;
}

// cells.csv as one map per row, column name → field.
std::vector<std::map<std::string, std::string>> read_cells(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::string line;
  std::vector<std::string> header;
  std::vector<std::map<std::string, std::string>> rows;
  auto split = [](const std::string& text) {
    std::vector<std::string> fields;
    std::stringstream stream(text);
    std::string field;
    while (std::getline(stream, field, ',')) fields.push_back(field);
    if (!text.empty() && text.back() == ',') fields.emplace_back();
    return fields;
  };
  std::getline(in, line);
  header = split(line);
  while (std::getline(in, line)) {
    const auto fields = split(line);
    std::map<std::string, std::string> row;
    for (std::size_t i = 0; i < header.size(); ++i)
      row[header[i]] = i < fields.size() ? fields[i] : "";
    rows.push_back(row);
  }
  return rows;
}

std::string config_error(const std::string& text) {
  try {
    expand_grid(parse_config(text, "grid.yaml"));
  } catch (const ConfigError& error) {
    return error.what();
  }
  return "";
}

const std::string kSmall = R"(experiment: small
problem: {generator: tridiagonal, dim: 16, num_workers: 4, heterogeneity: 0.1, mu: 0.1}
methods:
  - method: gd
  - method: ist
    sketch: perm
step_size: {relative: [0.5, 1.0]}
seeds: [1, 2]
run: {max_iters: 50, record: {every: 10}}
)";

TEST(Grid, ZipAdvancesKeysTogether) {
  const auto cells =
      expand_grid(parse_config("problem: {dim: [4, 16, 64], num_workers: [4, 16, 64]}\nzip: "
                               "[problem.dim, problem.num_workers]\n"
                               "methods: [{method: gd}]\nstep_size: 0.1\n",
                               "zip.yaml"));
  ASSERT_EQ(cells.size(), 3u);  // not 9
  for (const auto& cell : cells) EXPECT_EQ(cell.problem.dim, cell.problem.num_workers);
}

TEST(Grid, SeveralZipGroupsAndSeeds) {
  const auto cells = expand_grid(parse_config(
      "problem: {generator: dense, dim: [4, 8], num_workers: [2, 4], heterogeneity: [0, 0.5], "
      "kappa: [10, 100]}\n"
      "zip: [[problem.dim, problem.num_workers], [problem.heterogeneity, problem.kappa]]\n"
      "methods: [{method: gd}]\nstep_size: 0.1\nseeds: [1, 2, 3]\n",
      "zip.yaml"));
  EXPECT_EQ(cells.size(), 2u * 2u * 3u);
  for (const auto& cell : cells)
    EXPECT_EQ(cell.problem.kappa, cell.problem.heterogeneity == 0 ? 10 : 100);
}

TEST(Grid, ZipOfUnequalLengthsNamesLineAndKey) {
  const std::string message = config_error(
      "problem: {dim: [4, 16, 64], num_workers: [4, 16]}\nzip: [problem.dim, problem.num_workers]\n"
      "methods: [{method: gd}]\nstep_size: 0.1\n");
  EXPECT_NE(message.find(
                "grid.yaml:2:20: zip: 'problem.num_workers' has 2 values but 'problem.dim' has 3"),
            std::string::npos)
      << message;
}

TEST(Grid, ZipOfUnknownKeyIsRejected) {
  const std::string message = config_error(
      "problem: {dim: [4, 16]}\nzip: [problem.dim, methods.sketch]\nmethods: [{method: "
      "gd}]\nstep_size: 0.1\n");
  EXPECT_NE(message.find("'methods.sketch' cannot be zipped"), std::string::npos) << message;
}

TEST(Grid, UnionOfMethodGridsKeepsEachEntrysOptions) {
  const auto cells = expand_grid(parse_config(
      "problem: {dim: 8, num_workers: 2}\nmethods:\n  - method: [gd, dcgd]\n    sketch: [perm, "
      "rand]\n"
      "  - method: ist\n    sketch: perm\n    local_steps: [1, 2, 4]\nstep_size: [0.01, 0.02]\n",
      "union.yaml"));
  // gd: 2 steps (the sketch axis collapses); dcgd: 2 sketches × 2 steps; ist: 3 τ × 2 steps.
  EXPECT_EQ(cells.size(), 2u + 4u + 6u);
  for (const auto& cell : cells) {
    if (cell.method.name != "ist") {
      EXPECT_EQ(cell.method.local_steps, 1);
    }
    if (cell.method.name == "gd") {
      EXPECT_EQ(cell.sketch.type, SketchType::kIdentity);
    }
  }
}

TEST(Grid, IdentityIgnoresTheScaleSoDuplicatesCollapse) {
  const auto cells =
      expand_grid(parse_config("methods: [{method: ist, sketch: identity, scale: [unbiased, none, "
                               "sqrt_n, diag_precond]}]\nstep_size: 0.1\n",
                               "i.yaml"));
  ASSERT_EQ(cells.size(), 1u);
  EXPECT_EQ(cells[0].sketch.scale, SketchScale::kUnbiased);
}

TEST(Grid, DuplicateAndNonScalarKeysAreRejected) {
  EXPECT_NE(config_error("problem: {dim: 8, dim: 50}\nmethods: [{method: gd}]\nstep_size: 0.1\n")
                .find("grid.yaml:1:19: problem.dim: key 'dim' appears twice"),
            std::string::npos);
  EXPECT_NE(config_error("problem: {{a: 1}: 2}\nmethods: [{method: gd}]\nstep_size: 0.1\n")
                .find("a plain name"),
            std::string::npos);
}

TEST(Grid, AbsurdGridsAreRefusedBeforeExpansion) {
  EXPECT_NE(config_error("methods: [{method: gd}]\nstep_size: 0.1\nrepeats: 2000000000\n")
                .find("at most"),
            std::string::npos);
  // Each axis is small, the product is not.
  EXPECT_NE(
      config_error("problem: {dim: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]}\nmethods: [{method: gd}]\n"
                   "step_size: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\nrepeats: 100000\n")
          .find("the grid has 1e+07 cells; a sweep takes at most 100000"),
      std::string::npos);
}

TEST(Grid, RepeatsAreSeedsZeroToNMinusOne) {
  const auto cells =
      expand_grid(parse_config("methods: [{method: gd}]\nstep_size: 0.1\nrepeats: 4\n", "r.yaml"));
  ASSERT_EQ(cells.size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(cells[i].seed, static_cast<std::uint64_t>(i));
  }
  EXPECT_NE(config_error("methods: [{method: gd}]\nstep_size: 0.1\nseeds: [1]\nrepeats: 4\n")
                .find("not both"),
            std::string::npos);
}

TEST(Grid, ProblemSeedHoldsTheProblemWhileSeedsReseedTheSketches) {
  const auto cells =
      expand_grid(parse_config("problem: {generator: dense, dim: 8, num_workers: 2, seed: "
                               "7}\nmethods: [{method: ist, sketch: perm}]\n"
                               "step_size: 0.01\nrepeats: 3\n",
                               "p.yaml"));
  ASSERT_EQ(cells.size(), 3u);
  for (const auto& cell : cells) {
    EXPECT_EQ(cell.problem.seed, 7u);
    EXPECT_EQ(cell.problem_key(), cells[0].problem_key());
  }
  EXPECT_NE(cells[0].key, cells[1].key);
  // Without problem.seed the problem follows the seed.
  const auto follow = expand_grid(
      parse_config("methods: [{method: gd}]\nstep_size: 0.1\nseeds: [4, 5]\n", "f.yaml"));
  EXPECT_EQ(follow[1].problem.seed, 5u);
  EXPECT_NE(config_error("problem: {seed: -1}\nmethods: [{method: gd}]\nstep_size: 0.1\n")
                .find("problem.seed"),
            std::string::npos);
}

TEST(Sweep, ProblemSeedRepeatsShareOneProblemButNotTheirTraces) {
  const std::string text =
      "experiment: ps\nproblem: {generator: dense, dim: 8, num_workers: 2, heterogeneity: 0.5, "
      "seed: 3}\n"
      "methods: [{method: ist, sketch: perm}]\nstep_size: {relative: [0.5]}\nrepeats: 2\nrun: "
      "{max_iters: 20}\n";
  const auto out = fresh_dir("problem_seed");
  run_sweep(parse_config(text, "ps.yaml"), quiet_options(out), std::cerr);
  const auto rows = read_cells(out / "ps" / "cells.csv");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].at("problem_seed"), "3");
  EXPECT_EQ(rows[1].at("problem_seed"), "3");
  EXPECT_NE(rows[0].at("seed"), rows[1].at("seed"));
  EXPECT_EQ(rows[0].at("ist_bias"), rows[1].at("ist_bias"));  // one problem, one theory
  EXPECT_NE(rows[0].at("rel_err"), rows[1].at("rel_err"));    // different sketch draws
}

TEST(Grid, UnknownKeysAtAnyDepth) {
  EXPECT_NE(config_error("methods: [{method: gd, sketches: perm}]\nstep_size: 0.1\n")
                .find("methods[0].sketches"),
            std::string::npos);
  EXPECT_NE(
      config_error("methods: [{method: gd}]\nstep_size: {relativ: 1}\n").find("step_size.relativ"),
      std::string::npos);
  EXPECT_NE(config_error("methods: [{method: gd}]\nstep_size: 0.1\nrun: {record: {evry: 2}}\n")
                .find("run.record.evry"),
            std::string::npos);
  EXPECT_NE(config_error("methods: [{method: gd}]\nstep_size: 0.1\nrun: {tolerance: {f_gapp: 1}}\n")
                .find("run.tolerance.f_gapp"),
            std::string::npos);
}

TEST(Sweep, RelativeStepsUseEachMethodsTheoreticalStep) {
  const auto out = fresh_dir("relative");
  run_sweep(parse_config(kSmall, "small.yaml"), quiet_options(out), std::cerr);
  const auto rows = read_cells(out / "small" / "cells.csv");
  ASSERT_EQ(rows.size(), 8u);
  for (const auto& row : rows) {
    const double relative = std::stod(row.at("relative_step"));
    const double unit = std::stod(row.at(row.at("method") == "ist" ? "ist_step" : "gd_step"));
    EXPECT_DOUBLE_EQ(std::stod(row.at("step_size")), relative * unit) << row.at("method");
  }
}

TEST(Sweep, EveryStopRuleIsAStatus) {
  const std::string base =
      R"(problem: {generator: dense, dim: 12, num_workers: 3, heterogeneity: 0.5, kappa: 10}
methods: [{method: gd}]
)";
  auto status_of = [&](const std::string& name, const std::string& rest) {
    const auto out = fresh_dir(name);
    run_sweep(parse_config("experiment: " + name + "\n" + base + rest, name + ".yaml"),
              quiet_options(out), std::cerr);
    const auto rows = read_cells(out / name / "cells.csv");
    return std::make_pair(rows.at(0).at("status"), rows.at(0).at("converged_on"));
  };
  EXPECT_EQ(status_of("max_iters", "step_size: {relative: 0.5}\nrun: {max_iters: 5}\n"),
            std::make_pair(std::string("max_iters"), std::string()));
  EXPECT_EQ(
      status_of("rel_err", "step_size: {relative: 1}\nrun: {max_iters: 100000, tolerance: 1e-8}\n"),
      std::make_pair(std::string("converged"), std::string("rel_err")));
  EXPECT_EQ(
      status_of("f_gap",
                "step_size: {relative: 1}\nrun: {max_iters: 100000, tolerance: {f_gap: 1e-9}}\n"),
      std::make_pair(std::string("converged"), std::string("f_gap")));
  EXPECT_EQ(
      status_of(
          "grad",
          "step_size: {relative: 1}\nrun: {max_iters: 100000, tolerance: {grad_norm2: 1e-9}}\n"),
      std::make_pair(std::string("converged"), std::string("grad_norm2")));
  EXPECT_EQ(
      status_of("budget", "step_size: {relative: 1}\nrun: {max_iters: 1000, floats_budget: 240}\n")
          .first,
      "budget");  // gd, d = 12: 24 floats per round
  EXPECT_EQ(status_of("time",
                      "step_size: {relative: 1}\nrun: {max_iters: 100000000, max_seconds: 1e-9}\n")
                .first,
            "time_limit");
  EXPECT_EQ(status_of("diverged", "step_size: {relative: 5}\nrun: {max_iters: 100000}\n").first,
            "diverged");
}

TEST(Sweep, ChangingOneAxisRunsOnlyTheNewCells) {
  const auto out = fresh_dir("resume");
  const SweepOptions options = quiet_options(out);
  const std::string one_step = kSmall.substr(0, kSmall.find("step_size")) +
                               "step_size: {relative: [0.5]}\n" +
                               kSmall.substr(kSmall.find("seeds"));
  const SweepSummary first = run_sweep(parse_config(one_step, "small.yaml"), options, std::cerr);
  EXPECT_EQ(first.ran, 4);
  const SweepSummary second = run_sweep(parse_config(kSmall, "small.yaml"), options, std::cerr);
  EXPECT_EQ(second.skipped, 4);
  EXPECT_EQ(second.ran, 4);
  SweepOptions force = options;
  force.force = true;
  EXPECT_EQ(run_sweep(parse_config(kSmall, "small.yaml"), force, std::cerr).ran, 8);
  std::ostringstream status;
  EXPECT_EQ(report_status(parse_config(kSmall, "small.yaml"), options, status), 0);
  EXPECT_NE(status.str().find("8 cells: 8 done, 0 missing, 0 failed"), std::string::npos)
      << status.str();
}

// A run option changes what a cell computes: its cells rerun. The order of the seeds does not
// (issue 22: reordering them reran everything): nothing reruns, and the outputs are the same
// bytes, since they are sorted by cell key.
TEST(Sweep, RunOptionsInvalidateStoredCellsButSeedOrderDoesNot) {
  const auto out = fresh_dir("stale");
  const SweepOptions options = quiet_options(out);
  run_sweep(parse_config(kSmall, "small.yaml"), options, std::cerr);
  std::string longer = kSmall;
  longer.replace(longer.find("max_iters: 50"), 13, "max_iters: 60");
  EXPECT_EQ(run_sweep(parse_config(longer, "small.yaml"), options, std::cerr).skipped, 0);
  std::ifstream before_file(out / "small" / "cells.csv");
  const std::string before{std::istreambuf_iterator<char>(before_file), {}};
  std::string reordered = longer;
  reordered.replace(reordered.find("seeds: [1, 2]"), 13, "seeds: [2, 1]");
  const SweepSummary summary = run_sweep(parse_config(reordered, "small.yaml"), options, std::cerr);
  EXPECT_EQ(summary.ran, 0);
  EXPECT_EQ(summary.skipped, 8);
  std::ifstream after_file(out / "small" / "cells.csv");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(after_file), {}), before);
  for (const auto& row : read_cells(out / "small" / "cells.csv"))
    EXPECT_EQ(row.at("iterations"), "60");
}

TEST(Sweep, AnUnbuildableProblemFailsOnlyItsCells) {
  // d = 1 with strong heterogeneity: some seed draws a worker with a negative diagonal.
  const std::string text =
      "experiment: unbuildable\nproblem: {generator: tridiagonal, dim: 1, num_workers: 3, "
      "heterogeneity: 0.5, mu: 0.1}\n"
      "methods: [{method: gd}]\nstep_size: 0.1\nrepeats: 20\nrun: {max_iters: 5}\n";
  const auto out = fresh_dir("unbuildable");
  const SweepSummary summary =
      run_sweep(parse_config(text, "u.yaml"), quiet_options(out), std::cerr);
  EXPECT_GT(summary.failed, 0);
  EXPECT_LT(summary.failed, 20);
  EXPECT_EQ(summary.by_status.at("max_iters"), 20 - summary.failed);
  // Every cell has its row in cells.csv, a failed one with its reason (issue 22).
  const auto rows = read_cells(out / "unbuildable" / "cells.csv");
  ASSERT_EQ(rows.size(), 20u);
  int failed_rows = 0;
  for (const auto& row : rows) {
    if (row.at("status") != "failed") {
      EXPECT_EQ(row.at("error"), "");
      continue;
    }
    ++failed_rows;
    EXPECT_NE(row.at("error").find("cannot build the problem: "), std::string::npos);
    EXPECT_NE(row.at("error").find("positive diagonal"), std::string::npos) << row.at("error");
    EXPECT_EQ(row.at("iterations"), "");
    EXPECT_EQ(row.at("step_size"), "0.1");
  }
  EXPECT_EQ(failed_rows, summary.failed);
  std::ostringstream status;
  report_status(parse_config(text, "u.yaml"), quiet_options(out), status);
  EXPECT_NE(status.str().find("positive diagonal"), std::string::npos) << status.str();
}

TEST(Sweep, RecordIteratesWritesEveryCoordinateOfEveryRecordedRound) {
  const std::string text = kSmall.substr(0, kSmall.find("run:")) +
                           "run: {max_iters: 50, record: {every: 10}, record_iterates: true}\n";
  const auto out = fresh_dir("iterates");
  run_sweep(parse_config(text, "small.yaml"), quiet_options(out), std::cerr);
  std::ifstream trace(out / "small" / "trace.csv");
  std::ifstream iterates(out / "small" / "iterates.csv");
  std::string line;
  int trace_rows = -1;
  while (std::getline(trace, line)) ++trace_rows;
  std::getline(iterates, line);
  EXPECT_EQ(line, "cell_key,iter,coordinate,value,x_star,x_fixed");
  int iterate_rows = 0;
  while (std::getline(iterates, line)) ++iterate_rows;
  EXPECT_EQ(iterate_rows, trace_rows * 16);  // d = 16 numbers per recorded round
  EXPECT_NE(config_error("problem: {dim: 5000}\nmethods: [{method: gd}]\nstep_size: 0.1\nrun: "
                         "{record_iterates: true}\n")
                .find("run.record_iterates"),
            std::string::npos);
}

TEST(Sweep, StatusListsMissingCells) {
  const auto out = fresh_dir("status");
  std::ostringstream status;
  // 8 missing cells, and the outputs are not assembled.
  EXPECT_EQ(report_status(parse_config(kSmall, "small.yaml"), quiet_options(out), status), 9);
  EXPECT_NE(status.str().find("0 done, 8 missing"), std::string::npos) << status.str();
  EXPECT_NE(status.str().find("not assembled: trace.csv, cells.csv"), std::string::npos)
      << status.str();
}

TEST(Sweep, DryRunCountsCellsProblemsAndDoneCells) {
  const auto out = fresh_dir("dry");
  std::ostringstream text;
  describe_sweep(parse_config(kSmall, "small.yaml"), quiet_options(out), text);
  EXPECT_NE(text.str().find("small: 8 cells, 2 distinct problems, 4 distinct theories"),
            std::string::npos)
      << text.str();
  EXPECT_NE(text.str().find("done: 0 of 8 cells"), std::string::npos) << text.str();
  EXPECT_FALSE(std::filesystem::exists(out));  // a dry run writes nothing
}

TEST(Sweep, ShardsPartitionTheGrid) {
  const auto cells = expand_grid(parse_config(kSmall, "small.yaml"));
  for (int count : {2, 3, 5}) {
    std::size_t total = 0;
    for (int index = 1; index <= count; ++index)
      for (const auto& cell : cells) total += Shard{index, count}.contains(cell) ? 1 : 0;
    EXPECT_EQ(total, cells.size());
  }
  EXPECT_THROW(Shard::parse("3/2"), std::invalid_argument);
  EXPECT_THROW(Shard::parse("1of2"), std::invalid_argument);
  EXPECT_EQ(Shard::parse("2/7").count, 7);
}

TEST(Sweep, RefusesAGridWhoseLargestCellCannotFit) {
  const SweepConfig config = parse_config(
      "problem: {generator: dense, dim: [10, 2000000], num_workers: 4}\nmethods: [{method: "
      "gd}]\nstep_size: 0.1\n",
      "huge.yaml");
  const auto out = fresh_dir("huge");
  std::ostringstream text;
  try {
    describe_sweep(config, quiet_options(out), text);
    FAIL() << "the dry run accepted a cell of tens of terabytes";
  } catch (const ConfigError& error) {
    EXPECT_NE(std::string(error.what()).find("huge.yaml:1:10: problem: the sweep needs about"),
              std::string::npos)
        << error.what();
    EXPECT_NE(std::string(error.what()).find("needs about"), std::string::npos);
  }
  EXPECT_THROW(run_sweep(config, quiet_options(out), std::cerr), ConfigError);
}

TEST(Sweep, RelativeStepNeedsComputableTheory) {
  const SweepConfig config = parse_config(
      "problem: {generator: dense, dim: 5000, num_workers: 2}\nmethods: [{method: gd}]\nstep_size: "
      "{relative: 1}\n",
      "big.yaml");
  try {
    run_sweep(config, quiet_options(fresh_dir("big")), std::cerr);
    FAIL() << "a relative step without theory was accepted";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("big.yaml:3:12: step_size: relative step sizes need the theory"),
              std::string::npos)
        << message;
  }
}

}  // namespace
}  // namespace istlab
