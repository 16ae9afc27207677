#include "istlab/sweep/sweep.hpp"

#include <fmt/core.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

#include "istlab/io/csv.hpp"
#include "istlab/io/files.hpp"
#include "istlab/run/run.hpp"
#include "istlab/sweep/manifest.hpp"
#include "istlab/sweep/record.hpp"
#include "istlab/sweep/store.hpp"
#include "istlab/theory/theory.hpp"

namespace istlab {
namespace {

using Clock = std::chrono::steady_clock;

std::vector<Cell> shard_cells(const SweepConfig& config, const Shard& shard) {
  std::vector<Cell> cells;
  for (auto& cell : expand_grid(config))
    if (shard.contains(cell)) cells.push_back(std::move(cell));
  return cells;
}

// Work done once per sweep and shared read-only by its cells: each distinct problem, then
// each distinct (problem, sketch) theory. A problem or theory that fails fails only its
// own cells.
class SharedWork {
 public:
  explicit SharedWork(const std::vector<const Cell*>& todo) {
    for (const Cell* cell : todo) {
      if (problem_index_.emplace(cell->problem_key(), static_cast<int>(problem_owner_.size()))
              .second)
        problem_owner_.push_back(cell);
      if (theory_index_.emplace(cell->theory_key(), static_cast<int>(theory_owner_.size())).second)
        theory_owner_.push_back(cell);
    }
    problems_.resize(problem_owner_.size());
    problem_errors_.resize(problem_owner_.size());
    theories_.resize(theory_owner_.size());
    theory_errors_.resize(theory_owner_.size());
  }

  int problem_count() const { return static_cast<int>(problems_.size()); }

  // Large problems are built in parallel across their workers too.
  template <class Stop>
  void build_problems(const Stop& stop) {
    const ParallelFor tbb_for = [](int count, const std::function<void(int)>& body) {
      tbb::parallel_for(0, count, [&](int i) { body(i); });
    };
    tbb::parallel_for(0, static_cast<int>(problems_.size()), [&](int p) {
      if (stop()) return;
      // A problem that fails SPEC §1's checks (e.g. a tridiagonal draw with a negative
      // diagonal at large s) fails its own cells; the rest of the grid still runs.
      try {
        problems_[p].emplace(make_problem(problem_owner_[p]->problem, tbb_for));
      } catch (const std::invalid_argument& error) {
        problem_errors_[p] = fmt::format("cannot build the problem '{}': {}",
                                         problem_owner_[p]->problem_key(), error.what());
      }
    });
  }

  template <class Stop>
  void build_theories(const Stop& stop) {
    tbb::parallel_for(0, static_cast<int>(theories_.size()), [&](int t) {
      const Cell& owner = *theory_owner_[t];
      const auto& problem = problems_[problem_index_.at(owner.problem_key())];
      if (stop() || !problem || !theory_unavailable_reason(owner.problem).empty()) return;
      try {
        theories_[t].emplace(compute_theory(*problem, owner.sketch));
      } catch (const std::exception& error) {
        theory_errors_[t] = error.what();
      }
    });
  }

  // The cell's problem; throws the reason it could not be built.
  const Quadratic& problem(const Cell& cell) const {
    const int p = problem_index_.at(cell.problem_key());
    if (!problems_[p]) throw std::runtime_error(problem_errors_[p]);
    return *problems_[p];
  }
  // The cell's theory, or null where it is not computed or failed.
  const Theory* theory(const Cell& cell) const {
    const auto& theory = theories_[theory_index_.at(cell.theory_key())];
    return theory ? &*theory : nullptr;
  }
  const std::string& theory_error(const Cell& cell) const {
    return theory_errors_[theory_index_.at(cell.theory_key())];
  }

 private:
  std::unordered_map<std::string, int> problem_index_;
  std::vector<const Cell*> problem_owner_;
  std::vector<std::optional<Quadratic>> problems_;
  std::vector<std::string> problem_errors_;
  std::unordered_map<std::string, int> theory_index_;
  std::vector<const Cell*> theory_owner_;
  std::vector<std::optional<Theory>> theories_;
  std::vector<std::string> theory_errors_;
};

// Runs one cell and stores its record, or its failure; returns its status, or nothing when
// the run was interrupted (an interrupted run is discarded).
std::optional<std::string> run_cell(const Cell& cell, const SharedWork& work,
                                    const SweepConfig& config, const SweepOptions& options,
                                    const CellStore& store) {
  try {
    const Quadratic& problem = work.problem(cell);
    const Theory* theory = work.theory(cell);
    if (cell.relative_step && theory == nullptr)
      throw std::runtime_error(fmt::format("its relative step needs the theory, which failed: {}",
                                           work.theory_error(cell)));
    const double step_size =
        theory ? cell.step_size(theory->gd_step, theory->ist_step) : cell.step_size(1.0, 1.0);
    const Sketcher sketcher(cell.sketch, problem);
    auto method = make_method(cell.method, problem, sketcher);
    RunOptions run_options = config.run;
    run_options.interrupt = options.interrupt;
    const Vector* fixed_point =
        has_fixed_point(cell.method) && theory ? &theory->fixed_point : nullptr;
    const RunResult run =
        run_method(problem, sketcher, *method, step_size, cell.seed, run_options, fixed_point);
    if (run.status == RunStatus::kInterrupted) return std::nullopt;
    const CellRecord record =
        make_record(cell, step_size, run, theory, problem.solution(), fixed_point);
    store.save(cell, record);
    return record.status;
  } catch (const std::exception& error) {
    store.save_failure(cell, error.what());
    return "failed";
  }
}

}  // namespace

int thread_count(const SweepOptions& options) {
  return std::max(1, options.threads > 0 ? options.threads
                                         : static_cast<int>(std::thread::hardware_concurrency()));
}

SweepSummary run_cells(const SweepConfig& config, const SweepOptions& options, std::ostream& log) {
  const auto start = Clock::now();
  const std::vector<Cell> cells = shard_cells(config, options.shard);
  check_feasible(config, cells);
  SweepSummary summary;
  summary.started_at = iso_time(std::chrono::system_clock::now());
  summary.directory = options.out_dir / config.experiment;
  summary.cells = static_cast<int>(cells.size());
  const CellStore store(summary.directory);

  std::vector<const Cell*> todo;
  for (const auto& cell : cells) {
    if (!options.force && store.has(cell)) {
      ++summary.skipped;
    } else {
      todo.push_back(&cell);
    }
  }
  SharedWork work(todo);
  summary.problems = work.problem_count();
  Progress progress(static_cast<int>(todo.size()), options.progress, log);
  std::mutex summary_mutex;
  auto interrupted = [&] { return options.interrupt != nullptr && options.interrupt->load(); };

  tbb::task_arena arena(thread_count(options));
  arena.execute([&] {
    work.build_problems(interrupted);
    work.build_theories(interrupted);
    tbb::parallel_for(0, static_cast<int>(todo.size()), [&](int c) {
      if (interrupted()) return;
      const std::optional<std::string> status = run_cell(*todo[c], work, config, options, store);
      if (!status) return;
      {
        std::lock_guard lock(summary_mutex);
        ++summary.ran;
        ++summary.by_status[*status];
        if (*status == "failed") ++summary.failed;
      }
      progress.cell_done(*status);
    });
  });
  summary.interrupted = interrupted();
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

std::vector<std::string> assemble_outputs(const SweepConfig& config, const SweepOptions& options,
                                          const SweepSummary& summary) {
  std::vector<Cell> cells = shard_cells(config, options.shard);
  std::sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) { return a.key < b.key; });
  const std::filesystem::path directory = options.out_dir / config.experiment;
  const CellStore store(directory);
  std::string trace = csv_row(trace_columns());
  std::string summary_csv = csv_row(summary_columns());
  std::string timing = csv_row(timing_columns());
  std::string iterates = csv_row(iterate_columns());
  std::vector<std::string> missing;
  std::map<std::string, int> by_status;
  for (const auto& cell : cells) {
    const auto record = store.load(cell);
    if (!record) {
      missing.push_back(cell.key);
      ++by_status[store.failure(cell) ? "failed" : "missing"];
      continue;
    }
    trace += record->trace_rows;
    summary_csv += record->summary_row;
    timing += record->timing_rows;
    iterates += record->iterate_rows;
    ++by_status[record->status];
  }
  std::filesystem::create_directories(directory);
  // Atomic but not fsynced: these files are assembled from the cell store, which is not
  // fsynced either, and any run (or `istlab merge`) rewrites them from it. Fsyncing cost
  // milliseconds per file, a few percent of a quick sweep.
  write_file_atomically(directory / "trace.csv", trace, /*durable=*/false);
  write_file_atomically(directory / "cells.csv", summary_csv, /*durable=*/false);
  write_file_atomically(directory / "timing.csv", timing, /*durable=*/false);
  if (config.run.record_iterates)
    write_file_atomically(directory / "iterates.csv", iterates, /*durable=*/false);

  std::set<std::string> problems;
  for (const auto& cell : cells) problems.insert(cell.problem_key());
  write_manifest(
      config, options, directory,
      {{"cells", cells.size()},
       {"distinct_problems", problems.size()},
       {"cells_by_status", by_status},
       {"started_at", summary.started_at.empty() ? iso_time(std::chrono::system_clock::now())
                                                 : summary.started_at},
       {"this_run",
        {{"ran", summary.ran}, {"skipped", summary.skipped}, {"seconds", summary.seconds}}}});
  return missing;
}

SweepSummary run_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& log) {
  SweepSummary summary = run_cells(config, options, log);
  if (!summary.interrupted) assemble_outputs(config, options, summary);
  return summary;
}

namespace {

std::string joined(const std::vector<Value>& values) {
  std::string text;
  for (const auto& value : values) text += (text.empty() ? "" : ", ") + format_value(value);
  return text;
}

// The axes --dry-run lists: every problem parameter, the seeds, each methods entry.
void describe_axes(const SweepConfig& config, std::ostream& out) {
  auto zipped = [&](const std::string& key) {
    for (const auto& group : config.zip)
      if (std::find(group.begin(), group.end(), key) != group.end())
        return std::string("  (zipped)");
    return std::string();
  };
  auto line = [&](const std::string& key, const std::string& values) {
    out << fmt::format("  {:<24} {}{}\n", key, values, zipped(key));
  };
  auto seeds = [](const std::vector<std::uint64_t>& list) {
    std::vector<Value> values;
    for (const auto seed : list) values.emplace_back(static_cast<std::int64_t>(seed));
    return values;
  };
  out << "axes:\n";
  for (const auto& parameter : problem_parameters())
    line("problem." + parameter.name, joined(SweepConfig::values_of(config.problem, parameter)));
  if (!config.problem_seed.empty()) line("problem.seed", joined(seeds(config.problem_seed)));
  line("seeds", joined(seeds(config.seeds)));
  for (const auto& entry : config.methods) {
    std::string text;
    for (const auto& parameter : method_parameters())
      text += fmt::format("{} {} | ", parameter.name,
                          joined(SweepConfig::values_of(entry.values, parameter)));
    for (const auto& parameter : sketch_parameters())
      text += fmt::format("{} {} | ", parameter.name,
                          joined(SweepConfig::values_of(entry.values, parameter)));
    const StepSizeAxis& steps = entry.step_size ? *entry.step_size : *config.step_size;
    std::vector<Value> step_values(steps.values.begin(), steps.values.end());
    line(entry.where,
         text + fmt::format("step_size {} {}", steps.relative ? "relative" : "absolute",
                            joined(step_values)));
  }
}

}  // namespace

void describe_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& out) {
  const std::vector<Cell> cells = shard_cells(config, options.shard);
  std::set<std::string> problems;
  std::set<std::string> theories;
  std::uint64_t largest = 0;
  int done = 0;
  const CellStore store(options.out_dir / config.experiment);
  for (const auto& cell : cells) {
    problems.insert(cell.problem_key());
    theories.insert(cell.theory_key());
    largest = std::max(largest, estimate_cell_bytes(cell));
    done += store.has(cell) ? 1 : 0;
  }
  out << fmt::format("{}: {} cells{}, {} distinct problems, {} distinct theories\n",
                     config.experiment, cells.size(),
                     options.shard.count > 1
                         ? fmt::format(" in shard {}/{}", options.shard.index, options.shard.count)
                         : "",
                     problems.size(), theories.size());
  describe_axes(config, out);
  out << fmt::format("memory: the largest cell needs about {}; {} available\n", gib(largest),
                     gib(available_memory_bytes()));
  out << fmt::format("done: {} of {} cells already stored in {}\n", done, cells.size(),
                     (options.out_dir / config.experiment).string());
  check_feasible(config, cells);
}

int report_status(const SweepConfig& config, const SweepOptions& options, std::ostream& out) {
  const std::vector<Cell> cells = shard_cells(config, options.shard);
  const CellStore store(options.out_dir / config.experiment);
  std::vector<const Cell*> missing;
  std::vector<std::pair<const Cell*, std::string>> failed;
  int done = 0;
  for (const auto& cell : cells) {
    if (store.has(cell)) {
      ++done;
    } else if (auto message = store.failure(cell)) {
      failed.emplace_back(&cell, *message);
    } else {
      missing.push_back(&cell);
    }
  }
  out << fmt::format("{}: {} cells: {} done, {} missing, {} failed ({})\n", config.experiment,
                     cells.size(), done, missing.size(), failed.size(),
                     (options.out_dir / config.experiment).string());
  auto describe = [](const Cell& cell) {
    return fmt::format("{} {} {} {} step {}{} seed {}", cell.key, cell.problem_key(),
                       cell.method.name, name(cell.sketch.type), cell.relative_step ? "x" : "",
                       cell.step_value, cell.seed);
  };
  for (const auto& [cell, message] : failed)
    out << "failed  " << describe(*cell) << ": " << message << '\n';
  for (const Cell* cell : missing) out << "missing " << describe(*cell) << '\n';
  return static_cast<int>(missing.size() + failed.size());
}

}  // namespace istlab
