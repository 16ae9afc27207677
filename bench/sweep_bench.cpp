// A whole small sweep (experiments/quickstart.yaml, 72 cells) end to end, and the same
// cells' mathematics alone, so the engine's own cost per cell (grid expansion, the cell
// store, assembling CSV and the manifest) is the difference of the two:
//   BM_Sweep/quickstart/<threads>:        istlab::run_sweep with --force, output to a temp folder
//   BM_SweepCompute/quickstart/<threads>: the same problems, theories and runs, nothing stored
//   BM_Sweep/engine_overhead/1:           1005 one-round cells on tiny problems, whose time
//                                         is nearly all the engine's: its cost per cell
// All report cells per second.

#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <optional>
#include <sstream>

#include "bench_problems.hpp"
#include "istlab/run/run.hpp"
#include "istlab/sweep/config.hpp"
#include "istlab/sweep/grid.hpp"
#include "istlab/sweep/sweep.hpp"
#include "istlab/theory/theory.hpp"

namespace istlab::bench {
namespace {

const SweepConfig& quickstart_config() {
  static const SweepConfig config = load_config(ISTLAB_SOURCE_DIR "/experiments/quickstart.yaml");
  return config;
}

// 1005 cells of one round on tiny problems: nearly all of their time is the engine's.
const SweepConfig& engine_overhead_config() {
  static const SweepConfig config =
      load_config(ISTLAB_SOURCE_DIR "/experiments/engine_overhead.yaml");
  return config;
}

void BM_Sweep(benchmark::State& state, const SweepConfig& (*config_of)()) {
  const SweepConfig& config = config_of();
  SweepOptions options;
  options.out_dir =
      std::filesystem::temp_directory_path() / ("istlab_bench_sweep_" + std::to_string(::getpid()));
  options.threads = static_cast<int>(state.range(0));
  options.progress = ProgressMode::kQuiet;
  options.force = true;
  int cells = 0;
  for (auto _ : state) {
    std::ostringstream log;
    cells = run_sweep(config, options, log).ran;
  }
  std::filesystem::remove_all(options.out_dir);
  state.counters["cells"] = cells;
  state.counters["cells_per_second"] =
      benchmark::Counter(static_cast<double>(cells) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

// What run_cells computes, minus the engine: build each distinct problem and theory once,
// then run every cell with the step the sweep would use.
int compute_cells(const SweepConfig& config) {
  const std::vector<Cell> cells = expand_grid(config);
  std::map<std::string, std::optional<Quadratic>> problems;
  std::map<std::string, std::optional<Theory>> theories;
  for (const Cell& cell : cells) {
    problems.try_emplace(cell.problem_key());
    theories.try_emplace(cell.theory_key());
  }
  std::vector<std::pair<const Cell*, std::optional<Quadratic>*>> problem_jobs;
  for (const Cell& cell : cells) {
    auto& slot = problems[cell.problem_key()];
    if (!slot.has_value() && std::none_of(problem_jobs.begin(), problem_jobs.end(),
                                          [&](auto& job) { return job.second == &slot; }))
      problem_jobs.emplace_back(&cell, &slot);
  }
  tbb::parallel_for(0, static_cast<int>(problem_jobs.size()), [&](int j) {
    problem_jobs[j].second->emplace(make_problem(problem_jobs[j].first->problem));
  });
  std::vector<std::pair<const Cell*, std::optional<Theory>*>> theory_jobs;
  for (const Cell& cell : cells) {
    auto& slot = theories[cell.theory_key()];
    if (std::none_of(theory_jobs.begin(), theory_jobs.end(),
                     [&](auto& job) { return job.second == &slot; }))
      theory_jobs.emplace_back(&cell, &slot);
  }
  tbb::parallel_for(0, static_cast<int>(theory_jobs.size()), [&](int j) {
    const Cell& owner = *theory_jobs[j].first;
    theory_jobs[j].second->emplace(compute_theory(*problems[owner.problem_key()], owner.sketch));
  });
  tbb::parallel_for(0, static_cast<int>(cells.size()), [&](int c) {
    const Cell& cell = cells[c];
    const Quadratic& problem = *problems[cell.problem_key()];
    const Theory& theory = *theories[cell.theory_key()];
    const bool ist = cell.method.name == "ist";
    const double unit = cell.relative_step ? (ist ? theory.ist_step : theory.gd_step) : 1.0;
    const Sketcher sketcher(cell.sketch, problem);
    auto method = make_method(cell.method, problem, sketcher);
    const RunResult run = run_method(problem, sketcher, *method, cell.step_value * unit, cell.seed,
                                     config.run, ist ? &theory.fixed_point : nullptr);
    benchmark::DoNotOptimize(run.iterations);
  });
  return static_cast<int>(cells.size());
}

void BM_SweepCompute(benchmark::State& state) {
  const SweepConfig& config = quickstart_config();
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  int cells = 0;
  arena.execute([&] {
    for (auto _ : state) cells = compute_cells(config);
  });
  state.counters["cells"] = cells;
  state.counters["cells_per_second"] =
      benchmark::Counter(static_cast<double>(cells) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
}

BENCHMARK_CAPTURE(BM_Sweep, quickstart, quickstart_config)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Sweep, engine_overhead, engine_overhead_config)
    ->ArgName("threads")
    ->Arg(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SweepCompute)
    ->Name("BM_SweepCompute/quickstart")
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace istlab::bench
