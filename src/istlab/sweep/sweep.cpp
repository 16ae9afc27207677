#include "istlab/sweep/sweep.hpp"

#include <fmt/core.h>
#include <sched.h>
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
#include "istlab/run/workload.hpp"
#include "istlab/sweep/manifest.hpp"
#include "istlab/sweep/record.hpp"
#include "istlab/sweep/store.hpp"

namespace istlab {
namespace {

using Clock = std::chrono::steady_clock;

// The cells that share one problem, in grid order.
std::vector<std::vector<const Cell*>> group_by_problem(const std::vector<const Cell*>& todo) {
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::vector<const Cell*>> groups;
  for (const Cell* cell : todo) {
    const auto [found, added] = index.emplace(cell->problem_key(), groups.size());
    if (added) groups.emplace_back();
    groups[found->second].push_back(cell);
  }
  return groups;
}

// One problem, built as its kind of workload when the first of its cells runs, with the
// theories its cells need, shared read-only by its cells. A problem that fails docs/theory.md §1's
// checks (e.g. a tridiagonal draw with a negative diagonal at large s) fails only its own
// cells; the rest of the grid still runs.
class ProblemWork {
 public:
  ProblemWork(const std::vector<const Cell*>& cells, DatasetCache& datasets) {
    // Large problems are built in parallel across their workers too.
    const ParallelFor tbb_for = [](int count, const std::function<void(int)>& body) {
      tbb::parallel_for(0, count, [&](int i) { body(i); });
    };
    const ProblemSpec& spec = cells.front()->problem;
    const ProblemFamily& family = problem_family(spec.generator);
    try {
      const auto data = family.dataset ? datasets.get(family.dataset(spec)) : nullptr;
      const DatasetRequest test =
          family.test_dataset ? family.test_dataset(spec) : DatasetRequest{};
      workload_ = make_workload(
          spec, {tbb_for, data, test.names_a_dataset() ? datasets.get(test) : nullptr});
    } catch (const std::exception& error) {
      // (the cell's parameters say which problem: the reason alone groups the failures)
      error_ = fmt::format("cannot build the problem: {}", error.what());
      return;
    }
    std::vector<SketchSpec> sketches;
    for (const Cell* cell : cells) sketches.push_back(cell->sketch);
    workload_->prepare_theories(sketches);
  }

  // The workload; throws the reason it could not be built.
  const Workload& workload() const {
    if (!workload_) throw std::runtime_error(error_);
    return *workload_;
  }

 private:
  std::unique_ptr<Workload> workload_;
  std::string error_;
};

// How a cell that ran ended: its status, and for a failed one the reason it stored.
struct Outcome {
  const Cell* cell;
  std::string status;
  std::string failure;
  bool continued = false;  // it went on from a stored shorter run
};

// The stored run a run of `cell` under `options` goes on from, or nullopt: none stored, or
// one it cannot continue (cannot_continue: then the cell runs from round 0).
std::optional<RunResult> run_to_continue(const Cell& cell, const CellStore& store,
                                         const RunOptions& options) {
  auto stored = store.checkpoint(cell);
  if (stored && cannot_continue(*stored, options)) stored.reset();
  return stored;
}

// Runs cells that share one trajectory (they differ only in their network model) once, and
// stores each one's record, priced on its own network, or the failure they share; returns
// their outcomes, or nothing when the run was interrupted (an interrupted run is discarded).
// A store that cannot be written (disk full, file-size limit) ends the sweep.
std::optional<std::vector<Outcome>> run_cells_of_trajectory(
    const std::vector<const Cell*>& cells, const ProblemWork& work, const SweepConfig& config,
    const SweepOptions& options, const CellStore& store, Progress& progress) {
  std::optional<Trajectory> trajectory;
  std::optional<RunResult> stored;  // a shorter run of the first cell, to go on from
  std::string failure;
  // (reported while it runs: its rounds, for a cell that takes long)
  struct Running {
    Progress& progress;
    RunningCell& cell;
    ~Running() { progress.cell_ended(cell); }
  } running{progress, progress.cell_started(describe_cell(*cells.front()), config.run.max_iters)};
  try {
    RunOptions run_options = config.run;
    run_options.interrupt = options.interrupt;
    run_options.rounds_done = &running.cell.rounds;
    run_options.cost = cells.front()->network;
    run_options.keep_round_counts = cells.size() > 1;
    const Cell& cell = *cells.front();
    if (!options.force) stored = run_to_continue(cell, store, run_options);
    run_options.continue_from = stored ? &*stored : nullptr;
    trajectory.emplace(work.workload().run(
        {cell.method, cell.sketch, cell.relative_step, cell.step_value, cell.seed}, run_options));
    if (trajectory->run.status == RunStatus::kInterrupted) return std::nullopt;
  } catch (const std::exception& error) {
    trajectory.reset();
    failure = error.what();
  }
  std::vector<Outcome> outcomes;
  for (const Cell* cell : cells) {
    if (!trajectory) {
      store.save_failure(*cell, failure);
      outcomes.push_back({cell, "failed", CellStore::failure_text(failure)});
      continue;
    }
    if (cells.size() > 1) retime(trajectory->run, cell->network);
    const CellRecord record =
        make_record(*cell, trajectory->step_size, trajectory->run, trajectory->theory,
                    trajectory->solution, trajectory->fixed_point, work.workload().facts());
    store.save(*cell, record, &trajectory->run);
    outcomes.push_back({cell, record.status, "", stored.has_value()});
  }
  return outcomes;
}

// A problem's cells grouped by trajectory, in grid order. With run.time_budget a cell's
// network decides when it stops, so every cell runs on its own.
std::vector<std::vector<const Cell*>> group_by_trajectory(const std::vector<const Cell*>& cells,
                                                          const SweepConfig& config) {
  std::vector<std::vector<const Cell*>> groups;
  std::unordered_map<std::string, std::size_t> index;
  for (const Cell* cell : cells) {
    const std::string key = config.run.time_budget > 0.0 ? cell->key : cell->trajectory;
    const auto [found, added] = index.emplace(key, groups.size());
    if (added) groups.emplace_back();
    groups[found->second].push_back(cell);
  }
  return groups;
}

}  // namespace

namespace {

// The lock SweepOptions::lock asks for, or none.
std::shared_ptr<FolderLock> lock_folder(const SweepConfig& config, const SweepOptions& options) {
  if (options.lock == SweepOptions::Lock::kNone) return nullptr;
  // One lock for every writer, shards included: shards once locked a lock of their own, so
  // two shards (or a shard and a whole sweep) could share a folder, each assembling its own
  // slice over the other's outputs.
  return std::make_shared<FolderLock>(options.out_dir / config.experiment, ".lock");
}

// The cells without an intact stored record (all of them with --force); a corrupt record
// is named on `log` and its cell rerun.
std::vector<const Cell*> cells_to_run(const std::vector<Cell>& cells, const CellStore& store,
                                      bool force, std::ostream& log) {
  std::vector<const Cell*> todo;
  for (const auto& cell : cells) {
    const RecordLookup found = force ? RecordLookup{} : store.lookup(cell);
    if (found.state == RecordState::kStored) continue;
    // Refused before any cell runs: the sweep would fail at this cell's first save.
    if (const auto slot = store.blocked_slot(cell); !slot.empty())
      throw ConfigError(slot.string(), {}, "", std::nullopt,
                        "a folder stands where a cell's record belongs, so the cell could never "
                        "be stored; remove it (rm -r) and rerun");
    if (found.state == RecordState::kCorrupt)
      log << fmt::format("istlab: corrupt record {}: {}; it will be rerun\n",
                         store.record_path(cell).string(), found.corruption);
    todo.push_back(&cell);
  }
  return todo;
}

}  // namespace

std::vector<Cell> shard_cells(const SweepConfig& config, const SweepOptions& options) {
  const Shard& shard = options.shard;
  std::vector<Cell> cells;
  for (auto& cell : expand_grid(config, options.datasets.get(), options.stored_datasets.get()))
    if (shard.contains(cell)) cells.push_back(std::move(cell));
  return cells;
}

int thread_count(const SweepOptions& options) {
  if (options.threads > 0) return options.threads;
  // The cores this process may run on: under mpirun or taskset that is fewer than the
  // machine's, and more threads than cores only contend.
  cpu_set_t cores;
  if (::sched_getaffinity(0, sizeof cores, &cores) == 0) return std::max(1, CPU_COUNT(&cores));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

SweepSummary run_cells(const SweepConfig& config, const SweepOptions& options, std::ostream& log) {
  const auto start = Clock::now();
  const std::vector<Cell> cells = shard_cells(config, options);
  check_feasible(config, cells, thread_count(options), options.datasets->bytes());
  SweepSummary summary;
  summary.lock = lock_folder(config, options);
  summary.started_at = iso_time(std::chrono::system_clock::now());
  summary.directory = options.out_dir / config.experiment;
  summary.cells = static_cast<int>(cells.size());
  const CellStore store(summary.directory);
  // Files a killed or failed process was writing: it will never rename them into place.
  remove_stale_temporaries(summary.directory);
  remove_stale_temporaries(summary.directory / "cells");

  const std::vector<const Cell*> todo = cells_to_run(cells, store, options.force, log);
  summary.skipped = static_cast<int>(cells.size() - todo.size());
  const auto groups = group_by_problem(todo);
  summary.problems = static_cast<int>(groups.size());
  Progress progress(static_cast<int>(todo.size()), options.progress, log, summary.directory);
  std::mutex summary_mutex;
  auto interrupted = [&] { return options.interrupt != nullptr && options.interrupt->load(); };
  std::vector<std::pair<const Cell*, std::string>> failures;  // grouped once all have run
  auto count = [&](const Outcome& outcome) {
    {
      std::lock_guard lock(summary_mutex);
      ++summary.ran;
      summary.continued += outcome.continued ? 1 : 0;
      ++summary.by_status[outcome.status];
      if (outcome.status == "failed") {
        ++summary.failed;
        failures.emplace_back(outcome.cell, outcome.failure);
      }
    }
    progress.cell_done(outcome.status);
  };

  // Problems are built when their first cell runs and released after their last, one
  // group per thread at a time: isolation keeps a thread waiting inside its group from
  // starting another group, so at most `threads` problems are held at once.
  if (options.cells_running) options.cells_running->store(true);
  tbb::task_arena arena(thread_count(options));
  arena.execute([&] {
    tbb::parallel_for(std::size_t{0}, groups.size(), [&](std::size_t g) {
      if (interrupted()) return;
      tbb::this_task_arena::isolate([&] {
        const ProblemWork work(groups[g], *options.datasets);
        const auto trajectories = group_by_trajectory(groups[g], config);
        tbb::parallel_for(std::size_t{0}, trajectories.size(), [&](std::size_t t) {
          if (interrupted()) return;
          if (const auto outcomes =
                  run_cells_of_trajectory(trajectories[t], work, config, options, store, progress))
            for (const auto& outcome : *outcomes) count(outcome);
        });
      });
    });
  });
  if (options.cells_running) options.cells_running->store(false);
  summary.interrupted = interrupted();
  // In grid order, whatever order the threads finished in: the same example cells every run.
  std::sort(failures.begin(), failures.end(),
            [](const auto& a, const auto& b) { return a.first->index < b.first->index; });
  for (const auto& [cell, reason] : failures) add_to_groups(summary.failures, reason, *cell);
  summary.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return summary;
}

std::vector<std::string> assemble_outputs(const SweepConfig& config, const SweepOptions& options,
                                          const SweepSummary& summary) {
  std::vector<Cell> cells = shard_cells(config, options);
  std::sort(cells.begin(), cells.end(), [](const Cell& a, const Cell& b) { return a.key < b.key; });
  const std::filesystem::path directory = options.out_dir / config.experiment;
  const CellStore store(directory);
  std::string trace = csv_row(trace_columns());
  std::string summary_csv = csv_row(summary_columns());
  std::string timing = csv_row(timing_columns());
  std::string iterates = csv_row(iterate_columns());
  std::string problems_csv = csv_row(problem_columns());
  std::set<std::string> described;  // problems whose rows are in problems_csv
  std::vector<std::string> missing;
  std::map<std::string, int> by_status;
  for (const auto& cell : cells) {
    const RecordLookup found = store.lookup(cell);
    const auto& record = found.record;
    if (!record) {
      // Every cell has its row: one without a result says why (a failed run's reason).
      missing.push_back(cell.key);
      const auto failure = store.failure(cell);
      const char* status = found.state == RecordState::kCorrupt ? "corrupt"
                           : failure                            ? "failed"
                                                                : "missing";
      ++by_status[status];
      summary_csv += unfinished_row(cell, status, failure ? *failure : found.corruption);
      continue;
    }
    trace += record->trace_rows;
    summary_csv += record->summary_row;
    timing += record->timing_rows;
    iterates += record->iterate_rows;
    if (described.insert(cell.problem_key()).second) problems_csv += record->problem_rows;
    ++by_status[record->status];
  }
  std::filesystem::create_directories(directory);
  // Atomic but not fsynced: these files are assembled from the cell store, which is not
  // fsynced either, and any run (or `istlab merge`) rewrites them from it. Fsyncing cost
  // milliseconds per file, a few percent of a quick sweep.
  write_file_atomically(directory / "trace.csv", trace, /*durable=*/false);
  write_file_atomically(directory / "cells.csv", summary_csv, /*durable=*/false);
  write_file_atomically(directory / "timing.csv", timing, /*durable=*/false);
  write_file_atomically(directory / "problems.csv", problems_csv, /*durable=*/false);
  if (config.run.record_iterates)
    write_file_atomically(directory / "iterates.csv", iterates, /*durable=*/false);

  std::set<std::string> problems;
  for (const auto& cell : cells) problems.insert(cell.problem_key());
  const bool partial = !missing.empty() || summary.interrupted;
  write_manifest(
      config, options, directory,
      {{"cells", cells.size()},
       {"distinct_problems", problems.size()},
       {"cells_by_status", by_status},
       // true while some cell has no result (interrupted, failed, or not run): a later
       // sweep completes the outputs to the bytes of one uninterrupted run
       {"partial", partial},
       {"datasets", datasets_json(cells, *options.datasets, options.stored_datasets.get())},
       {"started_at", summary.started_at.empty() ? iso_time(std::chrono::system_clock::now())
                                                 : summary.started_at},
       {"this_run",
        {{"ran", summary.ran},
         {"skipped", summary.skipped},
         {"continued", summary.continued},
         {"seconds", summary.seconds},
         {"interrupted", summary.interrupted}}}});
  return missing;
}

SweepSummary run_sweep(const SweepConfig& config, const SweepOptions& options, std::ostream& log) {
  SweepSummary summary = run_cells(config, options, log);
  // Interrupted too: what is stored can be looked at now (the manifest says the outputs are
  // partial, and the cells not run yet have rows of status missing).
  assemble_outputs(config, options, summary);
  summary.lock.reset();  // the folder is another process's to write now
  return summary;
}

}  // namespace istlab
